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

export const STREAM_OUTPUTS = ['hls', 'dash', 'mp4'] as const
export type StreamOutput = (typeof STREAM_OUTPUTS)[number]
export const VIDEO_CODECS = ['h264', 'hevc', 'av1'] as const
export type VideoCodec = (typeof VIDEO_CODECS)[number]

/** One rung of an explicit adaptive ladder. */
export interface LadderRung {
  height: number
  codec: VideoCodec
  crf?: number
  /** Bits per second. */
  maxrate?: number
}

export interface JobOptions {
  preset: string
  crf: number
  max_height: number
  x264_preset?: string
  chunk_seconds?: number
  /** What the job produces (default all three). */
  outputs?: StreamOutput[]
  /** Video codecs of the adaptive stream (default H.264 only). */
  codecs?: VideoCodec[]
  /** "auto" (the server picks the rungs) or the rungs themselves. */
  ladder?: 'auto' | LadderRung[]
  /** Length of a stream segment (1–10 s, default 2). */
  segment_seconds?: number
  /** "off" (the default) or the audio's target integrated loudness in LUFS (−36 to −10). */
  loudness?: 'off' | number
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

/** One rendition of the adaptive stream (at done): a video rung, or the audio. */
export interface Rendition {
  id: string
  /** "video" or "audio" (absent: video). */
  kind?: string
  /** Our codec name ("h264", "hevc", "av1"); absent for the audio. */
  codec?: string
  /** RFC 6381 codecs string ("avc1.64001f", "mp4a.40.2"). */
  codecs?: string
  width?: number
  height?: number
  /** Peak bits per second. */
  bandwidth: number
  average_bandwidth?: number
  frame_rate?: number
  segments?: number
}

export interface JobOutput {
  /** The MP4 (absent when the job was asked for no MP4). */
  url?: string
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
  /** The adaptive stream's renditions (video rungs and the audio). */
  renditions?: Rendition[]
  /** Every audio track of the MP4 (the main one first); with the MP4 only. */
  audio_tracks?: OutputAudioTrack[]
  /** Every text subtitle track of the MP4; with the MP4 only. */
  subtitles?: OutputSubtitle[]
  /** What of the source the output leaves out, and why (e.g. picture-based subtitles). */
  notes?: string[]
}

/** An audio track of the output: its ISO 639-2 language ("" when untagged) and seconds. */
export interface OutputAudioTrack {
  language: string
  duration?: number
}

/** A text subtitle track of the output (ISO 639-2 language, "" when untagged). */
export interface OutputSubtitle {
  language: string
}

/** An audio or subtitle stream of the source, as tagged (the probe's ``tracks``). */
export interface SourceTrack {
  index?: number
  /** "audio" or "subtitle". */
  kind: string
  codec?: string
  /** ISO 639-2 ("" when untagged). */
  language?: string
  title?: string
  default?: boolean
  forced?: boolean
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
  /** Every audio and subtitle stream, in stream order. */
  tracks?: SourceTrack[]
}

/** The API's forecast, made once the video was probed (README "Estimate"). */
export interface JobEstimate {
  /** Seconds from ``made_at`` to done; null: no worker runs to do it. */
  ready_in_seconds: number | null
  /** The Fargate price of the workers' seconds (locally too: what it would cost there). */
  cost_usd: number
  /** Epoch seconds (the end of probing). */
  made_at?: number
  /** What it was computed from: ``summary`` in words, and the figures (calibration, fleet, work…). */
  basis?: EstimateBasis
}

export interface EstimateBasis {
  summary?: string
  calibration?: string
  fleet?: string
  workers?: number
  workers_running?: number
  cores?: number
  backlog?: { tasks?: number; seconds?: number | null }
  work?: { tasks?: number; cpu_seconds?: number }
  worker_seconds?: number
  price?: string
  [key: string]: unknown
}

/** What a done job took, next to its estimate (the listing has no cost: null). */
export interface JobActual {
  ready_in_seconds: number
  cost_usd: number | null
}

export interface Job {
  job_id: string
  state: JobState
  /** Bumped on every change of the job (GET /jobs/{id}?wait=S&since=V answers once it is newer). */
  version?: number
  filename: string | null
  size: number | null
  content_type?: string | null
  options: JobOptions | null
  /** Epoch seconds. */
  created_at: number | null
  updated_at: number | null
  /** While awaiting_upload: epoch seconds after which the job no longer accepts its upload. */
  upload_expires_at?: number | null
  /** A still frame of the video (a token URL of a JPEG), once the workers made it. */
  poster_url?: string | null
  /** WebVTT of the storyboard (cues → sprite-sheet tiles with #xywh), once done. */
  storyboard_url?: string | null
  /** The forecast made after probing (null before). */
  estimate?: JobEstimate | null
  /** The figures next to it once done. */
  actual?: JobActual | null
  progress: JobProgress
  timings: Record<string, number>
  probe: ProbeSummary | null
  error: string | null
  output: JobOutput | null
  /** Epoch seconds when the adaptive stream became playable (first chunks published), or null. */
  playable_at?: number | null
  /** HLS master playlist (a token in the path: no API key needed until it expires). */
  playback_url?: string | null
  /** DASH MPD of the same segments (once done). */
  dash_url?: string | null
  /** Epoch seconds when ``playback_url`` and ``dash_url`` stop working. */
  playback_expires_at?: number | null
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

export const WEBHOOK_EVENTS = ['job.uploaded', 'job.encoding', 'job.playable', 'job.done', 'job.failed', 'job.cancelled', 'webhook.disabled'] as const
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]

/** A receiver of the owner's events (GET /webhooks). */
export interface WebhookEndpoint {
  id: string
  url: string
  /** The event types sent (empty: all). */
  events: string[]
  description?: string | null
  state: 'enabled' | 'disabled'
  created_at: number
  updated_at?: number | null
  /** Epoch seconds since when every delivery failed (null: the last one went through). */
  failing_since?: number | null
  disabled_at?: number | null
  disabled_reason?: string | null
  /** The signing secret (whsec_…): only in the answer that made or rotated it. */
  secret?: string
}

export type DeliveryStatus = 'pending' | 'sending' | 'succeeded' | 'failed'

/** One event sent to one endpoint (GET /webhooks/{id}/deliveries). */
export interface WebhookDelivery {
  id: string
  type: string
  status: DeliveryStatus
  attempts: number
  redeliveries?: number
  created_at: number
  last_attempt_at?: number | null
  next_attempt_at?: number | null
  succeeded_at?: number | null
  /** The receiver's last HTTP status (null: no answer). */
  last_status?: number | null
  last_error?: string | null
  /** The webhook-id header it is sent with (the same on every attempt). */
  event_id?: string
  job_id?: string | null
}

export function isFinal(state: JobState): state is FinalState {
  return (FINAL_STATES as readonly string[]).includes(state)
}

/** States in which workers are busy with the job (its parts move). */
export function isProcessing(state: JobState): boolean {
  return state === 'queued' || state === 'probing' || state === 'encoding' || state === 'assembling'
}
