import { describe, expect, it } from 'vitest'
import {
  choiceFromOptions, choiceProblem, choiceSummary, clampSegmentSeconds, DEFAULT_CHOICE, formatLadder, jobOptionsOf, ladderRungs,
  parseLadder, streamOptionFacts, type EncodeChoice,
} from './streamOptions'

const choice = (extra: Partial<EncodeChoice> = {}): EncodeChoice => ({ ...DEFAULT_CHOICE, ...extra })

describe('jobOptionsOf', () => {
  it('sends only the preset, height and CRF for the defaults (the API fills in the rest)', () => {
    expect(jobOptionsOf(DEFAULT_CHOICE)).toEqual({ preset: 'web', max_height: 1080, crf: 23 })
    // The defaults in another order are still the defaults.
    expect(jobOptionsOf(choice({ outputs: ['mp4', 'dash', 'hls'] }))).toEqual({ preset: 'web', max_height: 1080, crf: 23 })
  })

  it('sends the stream options that differ, in the canonical order', () => {
    expect(jobOptionsOf(choice({ outputs: ['mp4', 'hls'], codecs: ['hevc', 'h264'], segment_seconds: 4 }))).toEqual({
      preset: 'web', max_height: 1080, crf: 23, outputs: ['hls', 'mp4'], codecs: ['h264', 'hevc'], segment_seconds: 4,
    })
  })

  it('sends an explicit ladder as one rung per height and codec, tallest first', () => {
    expect(jobOptionsOf(choice({ max_height: 720, ladder: [360, 720], codecs: ['h264', 'av1'] }))).toEqual({
      preset: 'web', max_height: 720, crf: 23, codecs: ['h264', 'av1'],
      ladder: [{ height: 720, codec: 'h264' }, { height: 720, codec: 'av1' }, { height: 360, codec: 'h264' }, { height: 360, codec: 'av1' }],
    })
  })

  it('sends the loudness only when it is on, for any output', () => {
    expect(jobOptionsOf(choice({ loudness: 'off' }))).toEqual({ preset: 'web', max_height: 1080, crf: 23 })
    expect(jobOptionsOf(choice({ loudness: -16 }))).toEqual({ preset: 'web', max_height: 1080, crf: 23, loudness: -16 })
    expect(jobOptionsOf(choice({ outputs: ['mp4'], loudness: -23 }))).toEqual({
      preset: 'web', max_height: 1080, crf: 23, outputs: ['mp4'], loudness: -23,
    })
    // A choice saved before the option existed.
    const saved = { ...DEFAULT_CHOICE } as Partial<EncodeChoice>
    delete saved.loudness
    expect(jobOptionsOf(saved as EncodeChoice)).toEqual({ preset: 'web', max_height: 1080, crf: 23 })
  })

  it('leaves the stream options out of an MP4-only job', () => {
    expect(jobOptionsOf(choice({ outputs: ['mp4'], codecs: ['h264', 'hevc'], ladder: [720], segment_seconds: 6 }))).toEqual({
      preset: 'web', max_height: 1080, crf: 23, outputs: ['mp4'],
    })
  })

  it('round-trips through the options a job reports', () => {
    const picked = choice({ max_height: 720, outputs: ['hls', 'dash'], codecs: ['h264', 'hevc'], ladder: [720, 480], segment_seconds: 3 })
    expect(choiceFromOptions(jobOptionsOf(picked))).toEqual(picked)
    expect(choiceFromOptions(jobOptionsOf(choice({ loudness: -14 })))).toEqual(choice({ loudness: -14 }))
    expect(choiceFromOptions({ preset: 'web', crf: 23, max_height: 1080, loudness: 'off' })).toEqual(DEFAULT_CHOICE)
    // What the API answers: every option spelled out.
    expect(choiceFromOptions({ preset: 'web', crf: 23, max_height: 1080, outputs: ['hls', 'dash', 'mp4'], codecs: ['h264'], ladder: 'auto', segment_seconds: 2 })).toEqual(DEFAULT_CHOICE)
    expect(choiceFromOptions({ preset: 'web', crf: 26, max_height: 360 })).toEqual(choice({ crf: 26, max_height: 360 }))
    expect(choiceFromOptions(null)).toEqual(DEFAULT_CHOICE)
  })
})

describe('parseLadder', () => {
  it('reads auto, or heights separated by commas or spaces', () => {
    expect(parseLadder('', 1080)).toEqual({ ok: true, ladder: 'auto' })
    expect(parseLadder(' Auto ', 1080)).toEqual({ ok: true, ladder: 'auto' })
    expect(parseLadder('360, 720 480p', 1080)).toEqual({ ok: true, ladder: [720, 480, 360] })
    expect(parseLadder('720,720', 1080)).toEqual({ ok: true, ladder: [720] })
    expect(formatLadder([720, 480, 360])).toBe('720, 480, 360')
    expect(formatLadder('auto')).toBe('auto')
  })

  it('says what is wrong with a height', () => {
    expect(parseLadder('720, big', 1080)).toEqual({ ok: false, problem: '"big" is not a height: write auto, or heights like 720, 480, 360.' })
    expect(parseLadder('100', 1080)).toEqual({ ok: false, problem: '100p is outside 120–2160p.' })
    expect(parseLadder('1080', 720)).toEqual({ ok: false, problem: '1080p is above the max height (720p).' })
    expect(parseLadder('361', 1080)).toEqual({ ok: false, problem: '361p is odd: video heights are even.' })
    expect(parseLadder('120 140 160 180 200 240 360 480 720', 1080)).toEqual({ ok: false, problem: 'At most 8 heights.' })
  })
})

describe('choiceProblem', () => {
  it('needs an output, H.264 in a stream, and at most 8 renditions', () => {
    expect(choiceProblem(DEFAULT_CHOICE)).toBeNull()
    expect(choiceProblem(choice({ outputs: [] }))).toMatch(/at least one output/)
    expect(choiceProblem(choice({ codecs: ['hevc'] }))).toMatch(/always has H\.264/)
    expect(choiceProblem(choice({ outputs: ['mp4'], codecs: [] }))).toBeNull() // no stream: no codec question
    expect(choiceProblem(choice({ ladder: [1080, 720, 480], codecs: ['h264', 'hevc', 'av1'] }))).toBe('At most 8 renditions: 3 heights × 3 codecs make 9.')
    expect(choiceProblem(choice({ ladder: [1080, 720, 480, 360], codecs: ['h264', 'hevc'] }))).toBeNull()
  })

  it('keeps segment lengths within 1–10 whole seconds', () => {
    expect(clampSegmentSeconds(4.4)).toBe(4)
    expect(clampSegmentSeconds(0)).toBe(1)
    expect(clampSegmentSeconds(60)).toBe(10)
    expect(clampSegmentSeconds(Number.NaN)).toBe(2)
  })
})

describe('labels', () => {
  it('summarises a choice on one line', () => {
    expect(choiceSummary(DEFAULT_CHOICE)).toBe('web · up to 1080p · CRF 23 · HLS, DASH, MP4 · H.264')
    expect(choiceSummary(choice({ codecs: ['hevc', 'h264'], ladder: [720, 360] }))).toBe('web · up to 1080p · CRF 23 · HLS, DASH, MP4 · H.264, HEVC · 720p/360p')
    expect(choiceSummary(choice({ outputs: ['mp4'] }))).toBe('web · up to 1080p · CRF 23 · MP4')
    expect(choiceSummary(choice({ outputs: ['mp4'], loudness: -23 }))).toBe('web · up to 1080p · CRF 23 · MP4 · -23 LUFS')
  })

  it('lists the stream options a job ran with', () => {
    expect(streamOptionFacts({
      preset: 'web', crf: 23, max_height: 720, outputs: ['mp4', 'hls'], codecs: ['hevc', 'h264'],
      ladder: ladderRungs([360, 720], ['h264', 'hevc']), segment_seconds: 2,
    })).toEqual([['Outputs', 'HLS, MP4'], ['Codecs', 'H.264, HEVC'], ['Ladder', '720p, 360p'], ['Segment length', '2 s']])
    expect(streamOptionFacts({ preset: 'web', crf: 23, max_height: 720, outputs: ['mp4'], codecs: ['h264'], ladder: 'auto' })).toEqual([['Outputs', 'MP4']])
    expect(streamOptionFacts({ preset: 'web', crf: 23, max_height: 720 })).toEqual([]) // a job from before streaming
  })
})
