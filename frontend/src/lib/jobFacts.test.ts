import { describe, expect, it } from 'vitest'
import { compareFacts, optionFacts, renditionsText, stageTimeline } from './jobFacts'
import { makeJob } from './testing'

const probe = {
  format_name: 'mov,mp4,m4a,3gp,3g2,mj2', size: 2_540_705, duration: 4.97,
  video: { codec: 'h264', profile: 'High', width: 1280, height: 720, rotation: 90, display_width: 720, display_height: 1280, pix_fmt: 'yuv420p', bit_depth: 8, avg_fps: 29.97, frame_count: 149, color_transfer: 'bt709' },
  audio: { codec: 'aac', channels: 2, sample_rate: 44100 },
}
const output = {
  url: 'https://s3/out.mp4', filename: 'clip.mp4', size: 1_000_000, duration: 4.97, width: 720, height: 1280, bitrate: 1_600_000, frames: 149,
  video_codec: 'h264', profile: 'High', pix_fmt: 'yuv420p', fps: 29.97, audio: { codec: 'aac', channels: 2, sample_rate: 48000 }, source_size: 2_540_705,
}

describe('compareFacts', () => {
  it('puts input and output side by side', () => {
    const rows = Object.fromEntries(compareFacts(makeJob('j', 'done', { probe, output, size: 2_540_705 })).map((r) => [r.key, [r.input, r.output]]))
    expect(rows.container).toEqual(['MP4 / MOV', 'MP4'])
    expect(rows.video).toEqual(['H.264 High', 'H.264 High'])
    expect(rows.resolution).toEqual(['1280×720 (shown 720×1280)', '720×1280'])
    expect(rows.rotation).toEqual(['90°', 'none (applied to the picture)'])
    expect(rows.fps).toEqual(['29.97 fps', '29.97 fps'])
    expect(rows.frames).toEqual(['149', '149'])
    expect(rows.range).toEqual(['SDR', 'SDR (8-bit)'])
    expect(rows.audio).toEqual(['AAC · stereo · 44.1 kHz', 'AAC · stereo · 48 kHz'])
    expect(rows.size).toEqual(['2.4 MB', '977 KB (61 % smaller)'])
  })

  it('lists the stream\'s renditions under the output, tallest first', () => {
    const renditions = [
      { id: 'h264-360', codec: 'h264', codecs: 'avc1.64001e', width: 640, height: 360, bandwidth: 900_000, average_bandwidth: 700_000, frame_rate: 30 },
      { id: 'h264-720', codec: 'h264', codecs: 'avc1.64001f', width: 1280, height: 720, bandwidth: 2_500_000, frame_rate: 30 },
      { id: 'hevc-720', codec: 'hevc', codecs: 'hvc1.1.6.L93.B0', width: 1280, height: 720, bandwidth: 1_800_000, frame_rate: 30 },
      { id: 'audio', kind: 'audio', codecs: 'mp4a.40.2', bandwidth: 125_000, average_bandwidth: 107_000 },
    ]
    expect(renditionsText(renditions)).toBe('720p H.264 2.5 Mb/s · 720p HEVC 1.8 Mb/s · 360p H.264 700 kb/s')
    const rows = Object.fromEntries(compareFacts(makeJob('j', 'done', { probe, output: { ...output, renditions } })).map((r) => [r.key, [r.input, r.output]]))
    expect(rows.renditions).toEqual(['–', renditionsText(renditions)])
    expect(compareFacts(makeJob('j', 'done', { probe, output })).some((r) => r.key === 'renditions')).toBe(false)
  })

  it('says "none" for a missing track and "–" for what is not known yet', () => {
    const rows = Object.fromEntries(compareFacts(makeJob('j', 'failed', { probe: { ...probe, audio: null } })).map((r) => [r.key, [r.input, r.output]]))
    expect(rows.audio).toEqual(['none', '–'])
    expect(rows.frames).toEqual(['149', '–'])
    expect(compareFacts(makeJob('j', 'queued')).every((r) => r.output === '–')).toBe(true)
  })
})

describe('stageTimeline', () => {
  it('dates each stage from the creation time', () => {
    const job = makeJob('j', 'done', { created_at: 1000, timings: { upload: 2, queue: 0.5, probe: 1, encode: 10, assemble: 1.5, total: 15 } })
    expect(stageTimeline(job).map((r) => [r.key, r.startedAt, r.seconds])).toEqual([
      ['upload', 1000, 2], ['queue', 1002, 0.5], ['probe', 1002.5, 1], ['encode', 1003.5, 10], ['assemble', 1013.5, 1.5],
    ])
  })

  it('shows the stage running now, and nothing after where a final job stopped', () => {
    const running = makeJob('j', 'encoding', { created_at: 1000, timings: { upload: 2, queue: 1, probe: 1 } })
    expect(stageTimeline(running).at(-1)).toEqual({ key: 'encode', label: 'Encode', startedAt: 1004, seconds: null })
    const failed = makeJob('j', 'failed', { created_at: 1000, timings: { upload: 2, queue: 1, total: 4 } })
    expect(stageTimeline(failed).map((r) => r.key)).toEqual(['upload', 'queue'])
  })

  it('lists the options used', () => {
    expect(optionFacts({ preset: 'web', max_height: 720, crf: 26, x264_preset: 'veryfast', chunk_seconds: 10 })).toEqual([
      ['Preset', 'web'], ['Max height', '720p'], ['Quality (CRF)', '26'], ['x264 preset', 'veryfast'], ['Chunk length', '10 s'],
    ])
    expect(optionFacts(null)).toEqual([])
    expect(optionFacts({ preset: 'web', max_height: 720, crf: 26, loudness: -16 }).slice(3)).toEqual([['Loudness', '-16 LUFS']])
    expect(optionFacts({ preset: 'web', max_height: 720, crf: 26, loudness: 'off' })).toHaveLength(3)
    expect(optionFacts({ preset: 'web', max_height: 720, crf: 26, outputs: ['hls', 'dash', 'mp4'], codecs: ['h264'], ladder: 'auto', segment_seconds: 2 }).slice(3)).toEqual([
      ['Outputs', 'HLS, DASH, MP4'], ['Codecs', 'H.264'], ['Ladder', 'auto'], ['Segment length', '2 s'],
    ])
  })
})
