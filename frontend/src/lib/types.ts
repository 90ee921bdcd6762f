// The REST API's JSON shapes (README "REST API"); only the fields the app reads.

export const FINAL_STATES = ['done', 'failed', 'cancelled'] as const
export type FinalState = (typeof FINAL_STATES)[number]
export const JOB_STATES = ['awaiting_upload', 'queued', 'probing', 'encoding', 'assembling', ...FINAL_STATES] as const
export type JobState = (typeof JOB_STATES)[number]

export type PartState = 'queued' | 'running' | 'done' | 'retried'

export interface PartStatus {
  state: PartState
  attempt?: number
  worker?: string
  /** Frames this chunk produced (once done). */
  frames?: number
  /** Seconds its encode took. */
  seconds?: number
}

export interface JobOptions {
  preset: string
  crf: number
  max_height: number
  x264_preset?: string
  chunk_seconds?: number
}

export interface JobProgress {
  chunks_done: number
  chunks_total: number
  audio: string | null
  percent: number
}

export interface AudioFacts {
  codec?: string
  channels?: number
  sample_rate?: number
  start?: number
  duration?: number
}

export interface JobOutput {
  url: string
  /** Epoch seconds when ``url`` stops working. */
  url_expires_at?: number
  filename?: string
  size: number
  duration: number
  width: number
  height: number
  bitrate: number
  frames?: number
  source_size?: number | null
  video_codec?: string
  profile?: string
  pix_fmt?: string
  fps?: number
  audio?: AudioFacts | null
}

export interface VideoFacts {
  codec?: string
  width?: number
  height?: number
  rotation?: number
  display_width?: number
  display_height?: number
  pix_fmt?: string
  bit_depth?: number
  avg_fps?: number
  frame_count?: number
  duration?: number
  profile?: string
  keyframe_interval?: number
  color_transfer?: string
  color_primaries?: string
}

export interface ProbeSummary {
  format_name?: string
  size?: number
  duration?: number | null
  start_time?: number
  video?: VideoFacts | null
  audio?: AudioFacts | null
}

export interface Job {
  job_id: string
  state: JobState
  filename: string | null
  size: number | null
  content_type?: string | null
  options: JobOptions | null
  /** Epoch seconds. */
  created_at: number | null
  updated_at: number | null
  /** While awaiting_upload: epoch seconds after which the job no longer accepts its upload. */
  upload_expires_at?: number | null
  /** A still frame of the video, once the API makes one. */
  poster_url?: string | null
  progress: JobProgress
  timings: Record<string, number>
  probe: ProbeSummary | null
  error: string | null
  output: JobOutput | null
  /** Only in GET /jobs/{id}, not in the list. */
  parts?: Record<string, PartStatus>
}

export interface JobPage {
  jobs: Job[]
  next: string | null
}

export interface DeleteResult {
  deleted: string[]
  not_found: string[]
}

export interface CreatedJob {
  job_id: string
  state: JobState
  key: string
  multipart: { part_size: number; max_parts: number }
  options: JobOptions
  upload_expires_at?: number
}

export interface CreatedMultipart {
  upload_id: string
  key: string
  part_size: number
}

export interface UploadedPart {
  PartNumber: number
  ETag: string
  Size?: number
}

export function isFinal(state: JobState): state is FinalState {
  return (FINAL_STATES as readonly string[]).includes(state)
}

/** States in which workers are busy with the job (its parts move). */
export function isProcessing(state: JobState): boolean {
  return state === 'queued' || state === 'probing' || state === 'encoding' || state === 'assembling'
}
