// One card per video: this browser's upload of it (if any) and its job, as one status, one bar
// and one row of stages (upload → probe → encode → done).
import { encodePercent } from './progress'
import type { Job, JobState } from './types'
import type { UploadView } from './uploadView'

export type CardStatus =
  | 'starting' // this browser is creating the job
  | 'uploading'
  | 'paused'
  | 'offline'
  | 'upload_failed'
  | 'uploaded' // sent; the server has not picked it up yet
  | 'interrupted' // awaiting its upload, which is not running in this browser (a reload, another tab)
  | 'expired' // awaiting its upload past the upload window
  | 'queued'
  | 'probing'
  | 'encoding'
  | 'assembling'
  | 'done'
  | 'failed'
  | 'cancelled'

export const STATUS_LABELS: Readonly<Record<CardStatus, string>> = {
  starting: 'starting',
  uploading: 'uploading',
  paused: 'paused',
  offline: 'offline',
  upload_failed: 'upload stopped',
  uploaded: 'uploaded',
  interrupted: 'upload interrupted',
  expired: 'upload expired',
  queued: 'queued',
  probing: 'reading the video',
  encoding: 'encoding',
  assembling: 'finishing',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
}

export type Tone = 'neutral' | 'info' | 'progress' | 'warning' | 'success' | 'danger'

export const STATUS_TONES: Readonly<Record<CardStatus, Tone>> = {
  starting: 'neutral',
  uploading: 'progress',
  paused: 'warning',
  offline: 'warning',
  upload_failed: 'danger',
  uploaded: 'info',
  interrupted: 'warning',
  expired: 'danger',
  queued: 'neutral',
  probing: 'info',
  encoding: 'progress',
  assembling: 'progress',
  done: 'success',
  failed: 'danger',
  cancelled: 'warning',
}

/** The one status of a card from the job (when known) and this browser's upload (when any). */
export function cardStatus(job: Pick<Job, 'state' | 'upload_expires_at'> | null, upload: Pick<UploadView, 'status'> | null, nowSeconds: number): CardStatus {
  const state: JobState | null = job?.state ?? null
  if (upload && (state === null || state === 'awaiting_upload')) {
    switch (upload.status) {
      case 'preparing': return 'starting'
      case 'uploading': return 'uploading'
      case 'paused': return 'paused'
      case 'offline': return 'offline'
      case 'error': return 'upload_failed'
      case 'uploaded': return 'uploaded'
    }
  }
  if (state === null) return 'starting'
  if (state === 'awaiting_upload') {
    return job?.upload_expires_at && nowSeconds >= job.upload_expires_at ? 'expired' : 'interrupted'
  }
  return state
}

export type Stage = 'upload' | 'probe' | 'encode' | 'done'
export const STAGES: readonly Stage[] = ['upload', 'probe', 'encode', 'done']
export const STAGE_LABELS: Readonly<Record<Stage, string>> = { upload: 'Upload', probe: 'Probe', encode: 'Encode', done: 'Done' }

export function stageOf(status: CardStatus): Stage {
  switch (status) {
    case 'queued':
    case 'probing':
      return 'probe'
    case 'encoding':
    case 'assembling':
      return 'encode'
    case 'done':
      return 'done'
    default:
      return 'upload'
  }
}

export type StepState = 'done' | 'current' | 'todo' | 'stopped'

/**
 * Where a failed or cancelled job stopped: the last stage it left (the API times every stage a
 * job leaves, and the failure or cancel is what ended that one). Waiting for a worker counts as
 * part of the probe, assembling as part of the encode.
 */
export function stoppedAt(job: Pick<Job, 'timings'>): Stage {
  const { timings } = job
  if (timings.encode !== undefined || timings.assemble !== undefined) return 'encode'
  if (timings.probe !== undefined || timings.queue !== undefined) return 'probe'
  return 'upload'
}

export interface Step {
  stage: Stage
  label: string
  state: StepState
}

/**
 * The four stages with where the video is. A failed or cancelled job stopped at the stage it
 * had reached (from its progress: chunks done mean it was encoding).
 */
export function stageSteps(status: CardStatus, job: Pick<Job, 'progress' | 'probe' | 'timings'> | null): Step[] {
  let current: Stage = stageOf(status)
  const stopped = status === 'failed' || status === 'cancelled' || status === 'expired' || status === 'upload_failed'
  if ((status === 'failed' || status === 'cancelled') && job) current = stoppedAt(job)
  const index = STAGES.indexOf(current)
  return STAGES.map((stage, i) => ({
    stage,
    label: STAGE_LABELS[stage],
    state: status === 'done' || i < index ? 'done' : i === index ? (stopped ? 'stopped' : 'current') : 'todo',
  }))
}

export type BarTone = 'progress' | 'paused' | 'waiting' | 'success' | 'danger'

export interface CardBar {
  /** 0–100, one decimal. */
  percent: number
  label: string
  tone: BarTone
}

const pct = (v: number): number => Math.round(Math.min(100, Math.max(0, v)) * 10) / 10

/** The bar: the upload's bytes while uploading, then the encode's parts. */
export function cardBar(status: CardStatus, job: Pick<Job, 'progress'> | null, upload: Pick<UploadView, 'percent'> | null): CardBar {
  const sent = pct(upload?.percent ?? 0)
  const encoded = job ? encodePercent(job.progress) : 0
  switch (status) {
    case 'starting': return { percent: 0, label: 'creating the job', tone: 'waiting' }
    case 'uploading': return { percent: sent, label: `uploading ${sent} %`, tone: 'progress' }
    case 'paused': return { percent: sent, label: `upload paused at ${sent} %`, tone: 'paused' }
    case 'offline': return { percent: sent, label: `offline at ${sent} %: waiting for the network`, tone: 'paused' }
    case 'upload_failed': return { percent: sent, label: `upload stopped at ${sent} %`, tone: 'danger' }
    case 'uploaded': return { percent: 100, label: 'uploaded, waiting for the server', tone: 'waiting' }
    case 'interrupted': return { percent: 0, label: 'waiting for the upload', tone: 'paused' }
    case 'expired': return { percent: 0, label: 'the upload window closed', tone: 'danger' }
    case 'queued': return { percent: 0, label: 'queued', tone: 'waiting' }
    case 'probing': return { percent: 0, label: 'reading the video', tone: 'waiting' }
    case 'encoding': return { percent: encoded, label: `encoding ${encoded} %`, tone: 'progress' }
    case 'assembling': return { percent: 100, label: 'putting the chunks together', tone: 'progress' }
    case 'done': return { percent: 100, label: 'done', tone: 'success' }
    case 'failed': return { percent: encoded, label: 'failed', tone: 'danger' }
    case 'cancelled': return { percent: encoded, label: 'cancelled', tone: 'paused' }
  }
}

export interface VideoItem {
  /** Stable React key: the upload's id while this browser uploads it, else the job id. */
  key: string
  job: Job | null
  upload: UploadView | null
}

/**
 * The cards in order: this browser's uploads still going (always shown, whatever the filter:
 * progress never disappears after picking a file), then the listed jobs, one card per video.
 */
export function videoItems(listed: readonly Job[], uploads: readonly UploadView[], known: (jobId: string) => Job | undefined): VideoItem[] {
  const byJob = new Map(uploads.filter((u) => u.jobId).map((u) => [u.jobId as string, u]))
  const listedIds = new Set(listed.map((j) => j.job_id))
  const pinned: VideoItem[] = []
  for (const upload of [...uploads].reverse()) {
    if (upload.jobId && listedIds.has(upload.jobId)) continue
    const job = upload.jobId ? known(upload.jobId) ?? null : null
    if (job && job.state !== 'awaiting_upload' && upload.status === 'uploaded') continue // it is past its upload: the list has it (or filters it)
    pinned.push({ key: upload.id, job, upload })
  }
  return [...pinned, ...listed.map((job) => {
    const upload = byJob.get(job.job_id) ?? null
    return { key: upload?.id ?? job.job_id, job, upload }
  })]
}
