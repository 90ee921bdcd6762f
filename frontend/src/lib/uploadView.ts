// One row of the upload list, derived from Uppy's file state (pure: unit-tested).
import { describeUploadError, type Problem } from './errors'
import { timeLeft, transferRate, type Sample } from './progress'
import type { EncodeChoice } from './streamOptions'

export type UploadStatus = 'preparing' | 'uploading' | 'paused' | 'offline' | 'uploaded' | 'error'

export interface UploadView {
  id: string
  name: string
  size: number
  /** The file's modification time (ms), part of its identity when resuming. */
  lastModified: number
  jobId: string | null
  choice: EncodeChoice
  bytesSent: number
  /** 0–100, one decimal. */
  percent: number
  /** bytes per second, null while unknown. */
  speed: number | null
  /** seconds, null while unknown. */
  eta: number | null
  status: UploadStatus
  /** What stopped the upload, in plain words (never Uppy's or S3's raw text). */
  problem: Problem | null
  partsDone: number
  partsTotal: number
  /** Parts S3 already had when the upload was resumed (not sent again). */
  partsResumed: number
}

export interface PartProgress {
  done: Set<number>
  resumed: Set<number>
}

/** The parts of the Uppy file this needs (its full type is generic and large). */
export interface UppyFileLike {
  id: string
  name?: string
  size: number | null
  data?: unknown
  isPaused?: boolean
  error?: string | null
  meta: { choice: UploadView['choice']; jobId?: string; jobProblem?: Problem }
  progress: { bytesUploaded: number | false | null; bytesTotal: number | null; uploadComplete?: boolean; uploadStarted: number | null }
}

export interface ViewContext {
  samples: readonly Sample[]
  parts: PartProgress | undefined
  partSize: number | null
  online: boolean
  now: number
}

export function partsTotal(size: number, partSize: number | null): number {
  if (!partSize || partSize <= 0 || size <= 0) return 1
  return Math.max(1, Math.ceil(size / partSize))
}

export function uploadStatus(file: UppyFileLike, online: boolean): UploadStatus {
  if (file.progress.uploadComplete) return 'uploaded'
  if (file.error) return 'error'
  if (file.isPaused) return 'paused'
  if (!file.meta.jobId || !file.progress.uploadStarted) return 'preparing'
  return online ? 'uploading' : 'offline'
}

export function toUploadView(file: UppyFileLike, ctx: ViewContext): UploadView {
  const size = file.size ?? 0
  const total = file.progress.bytesTotal ?? size
  const sent = file.progress.uploadComplete ? total : Number(file.progress.bytesUploaded || 0)
  const status = uploadStatus(file, ctx.online)
  const moving = status === 'uploading'
  const speed = moving ? transferRate(ctx.samples, ctx.now) : null
  return {
    id: file.id,
    name: file.name ?? 'video',
    size,
    lastModified: (file.data as { lastModified?: number } | undefined)?.lastModified ?? 0,
    jobId: file.meta.jobId ?? null,
    choice: file.meta.choice,
    bytesSent: sent,
    percent: total > 0 ? Math.round((1000 * sent) / total) / 10 : 0,
    speed,
    eta: status === 'uploaded' ? 0 : moving ? timeLeft(sent, total, speed) : null,
    status,
    problem: status === 'error' ? (file.meta.jobProblem ?? describeUploadError(file.error)) : null,
    partsDone: file.progress.uploadComplete ? partsTotal(size, ctx.partSize) : (ctx.parts?.done.size ?? 0),
    partsTotal: partsTotal(size, ctx.partSize),
    partsResumed: ctx.parts?.resumed.size ?? 0,
  }
}
