import { describe, expect, it } from 'vitest'
import { addSample, chunkStrip, countByState, encodePercent, timeLeft, transferRate } from './progress'
import type { JobProgress } from './types'

const progress = (chunks_done: number, chunks_total: number, audio: string | null = null): JobProgress =>
  ({ chunks_done, chunks_total, audio, percent: 0 })

describe('encodePercent', () => {
  it('counts video chunks and the audio track as parts', () => {
    expect(encodePercent(progress(0, 0))).toBe(0)
    expect(encodePercent(progress(1, 4))).toBe(25)
    expect(encodePercent(progress(2, 2, 'running'))).toBe(66.7)
    expect(encodePercent(progress(2, 2, 'done'))).toBe(100)
    expect(encodePercent(progress(0, 3, 'done'))).toBe(25)
  })
})

describe('chunkStrip', () => {
  it('lists every planned chunk in order, then audio', () => {
    const cells = chunkStrip({
      v00001: { state: 'running', attempt: 1 },
      v00000: { state: 'done', attempt: 1 },
      v00002: { state: 'retried', attempt: 2 },
      audio: { state: 'done', attempt: 1 },
      assembly: { state: 'running', attempt: 1 },
    }, 4)
    expect(cells.map((c) => `${c.id}:${c.state}`)).toEqual(['v00000:done', 'v00001:running', 'v00002:retried', 'v00003:queued', 'audio:done'])
    expect(cells[2]).toMatchObject({ label: 'chunk 3', attempt: 2 })
    expect(countByState(cells)).toEqual({ queued: 1, running: 1, done: 2, retried: 1 })
  })

  it('lists the audio parts in their order after the chunks', () => {
    const cells = chunkStrip({
      a00002: { state: 'queued', attempt: 0 },
      audio: { state: 'done', attempt: 1 },
      a00001: { state: 'running', attempt: 1 },
      assembly: { state: 'queued', attempt: 0 },
    }, 1)
    expect(cells.map((c) => c.id)).toEqual(['v00000', 'audio', 'a00001', 'a00002'])
    expect(cells.slice(1).map((c) => c.label)).toEqual(['audio part 1', 'audio part 2', 'audio part 3'])
  })

  it('is empty before the plan', () => {
    expect(chunkStrip(undefined, 0)).toEqual([])
    expect(chunkStrip({}, 0)).toEqual([])
  })
})

describe('speed and time left', () => {
  it('measures bytes per second over the recent window', () => {
    const samples = [{ at: 0, bytes: 0 }, { at: 1000, bytes: 1_000_000 }, { at: 2000, bytes: 3_000_000 }]
    expect(transferRate(samples, 2000)).toBe(1_500_000)
    expect(transferRate(samples, 4500)).toBe(2_000_000) // the first sample fell out of the window
    expect(transferRate(samples, 9000)).toBeNull() // stalled: no recent samples
    expect(transferRate(samples.slice(0, 1), 0)).toBeNull()
    expect(transferRate([{ at: 0, bytes: 0 }, { at: 100, bytes: 10 }], 100)).toBeNull() // too short to tell
  })

  it('estimates time left', () => {
    expect(timeLeft(5, 10, 1)).toBe(5)
    expect(timeLeft(10, 10, null)).toBe(0)
    expect(timeLeft(5, 10, null)).toBeNull()
    expect(timeLeft(5, 10, 0)).toBeNull()
  })

  it('keeps a bounded window and restarts when the count goes back', () => {
    let samples = addSample([], { at: 0, bytes: 0 })
    samples = addSample(samples, { at: 3000, bytes: 10 })
    samples = addSample(samples, { at: 6000, bytes: 20 })
    expect(samples.map((s) => s.at)).toEqual([3000, 6000])
    expect(addSample(samples, { at: 6100, bytes: 5 })).toEqual([{ at: 6100, bytes: 5 }])
  })
})
