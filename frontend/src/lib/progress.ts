// Progress of a job: encode % from the parts done, the chunk strip, upload speed and time left
// (the card's bar and status are in cards.ts).
import type { JobProgress, PartState, PartStatus } from './types'

const clampPercent = (value: number): number => Math.round(Math.min(100, Math.max(0, value)) * 10) / 10

/** Parts finished / parts planned: every video chunk plus the audio track (when there is one). */
export function encodePercent(progress: JobProgress): number {
  const audio = progress.audio === null || progress.audio === undefined ? 0 : 1
  const total = progress.chunks_total + audio
  if (total <= 0) return 0
  const done = progress.chunks_done + (progress.audio === 'done' ? 1 : 0)
  return clampPercent((100 * done) / total)
}

export interface StripCell {
  id: string
  label: string
  state: PartState
  attempt: number
}

/** One cell per planned video chunk (v00000…) in order, then the audio part. */
export function chunkStrip(parts: Record<string, PartStatus> | undefined, chunksTotal: number): StripCell[] {
  const cells: StripCell[] = []
  const known = parts ?? {}
  for (let i = 0; i < chunksTotal; i += 1) {
    const id = `v${String(i).padStart(5, '0')}`
    cells.push(cell(id, `chunk ${i + 1}`, known[id]))
  }
  // The audio's parallel parts: `audio`, then `a00001`… (one part: the whole track).
  const audio = Object.keys(known).filter(isAudioPart).sort((a, b) => audioIndex(a) - audioIndex(b))
  audio.forEach((id, n) => cells.push(cell(id, audio.length > 1 ? `audio part ${n + 1}` : 'audio', known[id])))
  return cells
}

function audioIndex(id: string): number {
  return id === 'audio' ? 0 : Number(id.slice(1))
}

/** Whether a part name is one of the audio's (`audio`, `a00001`…). */
export function isAudioPart(id: string): boolean {
  return id === 'audio' || /^a\d{5}$/.test(id)
}

function cell(id: string, label: string, status: PartStatus | undefined): StripCell {
  return { id, label, state: status?.state ?? 'queued', attempt: status?.attempt ?? 0 }
}

export function countByState(cells: readonly StripCell[]): Record<PartState, number> {
  const counts: Record<PartState, number> = { queued: 0, running: 0, done: 0, retried: 0 }
  for (const c of cells) counts[c.state] += 1
  return counts
}

// -- upload speed and time left --------------------------------------------------------

export interface Sample {
  /** milliseconds */
  at: number
  bytes: number
}

/** Bytes per second over the samples of the last ``windowMs``; null until it can tell. */
export function transferRate(samples: readonly Sample[], now: number, windowMs = 4000): number | null {
  const recent = samples.filter((s) => now - s.at <= windowMs)
  if (recent.length < 2) return null
  const first = recent[0]!
  const last = recent[recent.length - 1]!
  const elapsed = (last.at - first.at) / 1000
  if (elapsed < 0.2) return null
  return Math.max(0, (last.bytes - first.bytes) / elapsed)
}

/** Seconds left at ``rate``; null when unknown or stalled. */
export function timeLeft(bytesSent: number, bytesTotal: number, rate: number | null): number | null {
  if (bytesSent >= bytesTotal) return 0
  if (rate === null || rate <= 0) return null
  return (bytesTotal - bytesSent) / rate
}

/** Keep the samples a rate needs (bounded memory); a restart (fewer bytes) starts over. */
export function addSample(samples: readonly Sample[], sample: Sample, windowMs = 4000): Sample[] {
  const last = samples[samples.length - 1]
  const kept = last && sample.bytes < last.bytes ? [] : samples.filter((s) => sample.at - s.at <= windowMs)
  return [...kept, sample]
}
