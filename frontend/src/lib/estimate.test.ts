import { describe, expect, it } from 'vitest'
import { addEncodeSample, encodeEstimate, encodeStartedAt, framesDone } from './estimate'
import { makeJob } from './testing'

const encoding = (done: number, total: number, extra = {}) =>
  makeJob('a', 'encoding', { progress: { chunks_done: done, chunks_total: total, audio: 'done', percent: 0 }, ...extra })

describe('framesDone', () => {
  it('adds up the frames of the finished video chunks only', () => {
    expect(framesDone({
      v00000: { state: 'done', frames: 300 }, v00001: { state: 'done', frames: 300 }, v00002: { state: 'running' },
      audio: { state: 'done', frames: 999 }, assembly: { state: 'queued' },
    })).toBe(600)
    expect(framesDone({ v00000: { state: 'done' } })).toBeNull()
    expect(framesDone(undefined)).toBeNull()
  })
})

describe('encodeEstimate from successive polls', () => {
  it('measures chunks per minute and frames per second, and the time left', () => {
    const samples = [{ at: 0, chunks: 2, frames: 600 }, { at: 5000, chunks: 4, frames: 1200 }]
    const job = encoding(4, 10)
    const estimate = encodeEstimate(job, samples, 10_000)
    expect(estimate).toEqual({ chunksPerMinute: 12, framesPerSecond: 60, etaSeconds: 30, basis: 'polls' })
  })

  it('measures frames from the first look that had frame counts', () => {
    const samples = [{ at: 0, chunks: 1, frames: null }, { at: 2000, chunks: 2, frames: 300 }, { at: 6000, chunks: 4, frames: 900 }]
    expect(encodeEstimate(encoding(4, 10), samples, 8000)).toMatchObject({ chunksPerMinute: 22.5, framesPerSecond: 100 })
  })

    it('falls back to the time since the encode began with a single look', () => {
    const job = encoding(3, 9, { created_at: 1000, timings: { upload: 4, queue: 1, probe: 5 } })
    expect(encodeStartedAt(job)).toBe(1010)
    const estimate = encodeEstimate({ ...job, parts: { v00000: { state: 'done', frames: 450 } } }, [{ at: 1_030_000, chunks: 3, frames: null }], 1_040_000)
    expect(estimate).toMatchObject({ basis: 'elapsed', chunksPerMinute: 6, etaSeconds: 60, framesPerSecond: 15 })
  })

  it('says nothing it cannot know', () => {
    expect(encodeEstimate(encoding(0, 9), [{ at: 0, chunks: 0, frames: null }], 5000)).toMatchObject({ etaSeconds: null, chunksPerMinute: null, framesPerSecond: null })
    expect(encodeEstimate(encoding(9, 9), [], 5000)?.etaSeconds).toBe(0)
    expect(encodeEstimate(makeJob('a', 'done'), [], 0)).toBeNull()
    expect(encodeStartedAt(makeJob('a', 'queued', { timings: { upload: 3 } }))).toBeNull()
  })

  it('starts over when a retry takes a chunk back', () => {
    let samples = addEncodeSample([], { at: 0, chunks: 1, frames: null })
    samples = addEncodeSample(samples, { at: 1000, chunks: 3, frames: null })
    expect(samples).toHaveLength(2)
    expect(addEncodeSample(samples, { at: 2000, chunks: 2, frames: null })).toEqual([{ at: 2000, chunks: 2, frames: null }])
  })
})
