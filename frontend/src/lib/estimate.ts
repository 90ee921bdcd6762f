// Encode throughput and time left, estimated in the browser from successive polls (chunks done
// per second, frames per second from the parts' frame counts), or, with a single look, from the
// time since encoding started. Always shown as an estimate.
import type { Job, PartStatus } from './types'

export interface EncodeSample {
  /** ms */
  at: number
  chunks: number
  /** Frames of the finished video chunks, when the parts report them. */
  frames: number | null
}

export interface EncodeEstimate {
  /** Video chunks finished per minute. */
  chunksPerMinute: number | null
  /** Output frames encoded per second (from the parts' frame counts). */
  framesPerSecond: number | null
  /** Seconds until the last video chunk is done. */
  etaSeconds: number | null
  /** How it was measured: across polls, or since the encode started (one look). */
  basis: 'polls' | 'elapsed'
}

/** Frames of the video chunks that are done; null when none of them says. */
export function framesDone(parts: Record<string, PartStatus> | undefined): number | null {
  if (!parts) return null
  let total = 0
  let known = false
  for (const [id, part] of Object.entries(parts)) {
    if (!id.startsWith('v') || part.state !== 'done' || typeof part.frames !== 'number') continue
    total += part.frames
    known = true
  }
  return known ? total : null
}

const MAX_SAMPLES = 240

/** Keep the samples an estimate needs; a count going back (a retry wiped a chunk) starts over. */
export function addEncodeSample(samples: readonly EncodeSample[], sample: EncodeSample): EncodeSample[] {
  const last = samples[samples.length - 1]
  if (last && sample.chunks < last.chunks) return [sample]
  return [...samples, sample].slice(-MAX_SAMPLES)
}

/** Epoch seconds when the job started encoding (creation plus the stages before), if known. */
export function encodeStartedAt(job: Pick<Job, 'created_at' | 'timings'>): number | null {
  if (!job.created_at) return null
  const before = ['upload', 'queue', 'probe'] as const
  if (job.timings.probe === undefined) return null
  return job.created_at + before.reduce((sum, stage) => sum + (job.timings[stage] ?? 0), 0)
}

/** The estimate for a job that is encoding; null in any other state. */
export function encodeEstimate(
  job: Pick<Job, 'state' | 'progress' | 'created_at' | 'timings' | 'parts'>,
  samples: readonly EncodeSample[],
  nowMs: number,
): EncodeEstimate | null {
  if (job.state !== 'encoding') return null
  const { chunks_done: done, chunks_total: total } = job.progress
  const frames = framesDone(job.parts)
  const remaining = Math.max(0, total - done)

  let basis: EncodeEstimate['basis'] = 'polls'
  let chunkRate: number | null = null // per second
  let frameRate: number | null = null
  const first = samples[0]
  const last = samples[samples.length - 1]
  const span = first ? (nowMs - first.at) / 1000 : 0
  if (first && last && last.chunks > first.chunks && span >= 1) {
    chunkRate = (last.chunks - first.chunks) / span
    // Frame counts may appear only after the first look (parts report them once planned).
    const counted = samples.find((x) => x.frames !== null)
    const since = counted ? (nowMs - counted.at) / 1000 : 0
    if (counted?.frames != null && last.frames !== null && last.frames > counted.frames && since >= 1) {
      frameRate = (last.frames - counted.frames) / since
    }
  } else {
    basis = 'elapsed'
    const started = encodeStartedAt(job)
    const elapsed = started === null ? 0 : nowMs / 1000 - started
    if (elapsed >= 1 && done > 0) {
      chunkRate = done / elapsed
      if (frames !== null && frames > 0) frameRate = frames / elapsed
    }
  }
  return {
    chunksPerMinute: chunkRate === null ? null : chunkRate * 60,
    framesPerSecond: frameRate,
    etaSeconds: remaining === 0 ? 0 : chunkRate ? remaining / chunkRate : null,
    basis,
  }
}
