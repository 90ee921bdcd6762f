// The REST API's JSON shapes (README "REST API"); only the fields the app reads.

export const FINAL_STATES = ['done', 'failed', 'cancelled'] as const
export type FinalState = (typeof FINAL_STATES)[number]
export type JobState = 'awaiting_upload' | 'queued' | 'probing' | 'encoding' | 'assembling' | FinalState

export type PartState = 'queued' | 'running' | 'done' | 'retried'

export interface PartStatus {
  state: PartState
  attempt?: number
  worker?: string
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

export interface JobOutput {
  url: string
  filename?: string
  size: number
  duration: number
  width: number
  height: number
  bitrate: number
  frames?: number
  source_size?: number | null
}

export interface ProbeSummary {
  duration?: number | null
  video?: { width?: number; height?: number; codec?: string } | null
}

export interface Job {
  job_id: string
  state: JobState
  filename: string | null
  size: number | null
  options: JobOptions | null
  created_at: number | null
  updated_at: number | null
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

export interface CreatedJob {
  job_id: string
  state: JobState
  key: string
  multipart: { part_size: number; max_parts: number }
  options: JobOptions
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
