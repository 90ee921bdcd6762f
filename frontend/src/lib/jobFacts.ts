// The job detail's tables: input next to output, the options used, when each stage ran.
import {
  dynamicRange, formatBitrate, formatBytes, formatChannels, formatCodec, formatContainer, formatDuration, formatFps,
  formatResolution, formatRotation, formatSampleRate, formatSizeChange,
} from './format'
import { codecName } from './playback'
import { streamOptionFacts } from './streamOptions'
import { isFinal, type AudioFacts, type Job, type Rendition } from './types'

export interface FactRow {
  key: string
  label: string
  input: string
  output: string
}

const DASH = '–'

function audioText(audio: AudioFacts | null | undefined): string {
  if (audio === undefined) return DASH
  if (audio === null) return 'none'
  return [formatCodec(audio.codec), formatChannels(audio.channels), formatSampleRate(audio.sample_rate)].filter((t) => t !== DASH).join(' · ') || DASH
}

function count(n: number | null | undefined): string {
  return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : DASH
}

function extension(filename: string | null | undefined): string {
  const dot = filename?.lastIndexOf('.') ?? -1
  return dot > 0 && filename ? filename.slice(dot + 1).toUpperCase() : ''
}

/** Input (the probe) and output facts, row by row; "–" where a side does not say. */
export function compareFacts(job: Pick<Job, 'probe' | 'output' | 'size' | 'filename'>): FactRow[] {
  const probe = job.probe
  const v = probe?.video ?? null
  const out = job.output
  const turned = v?.rotation ? Math.abs(v.rotation) % 180 === 90 : false
  const inputSize = job.size ?? probe?.size ?? null
  const inputBitrate = inputSize && probe?.duration ? (inputSize * 8) / probe.duration : null
  const resolution = (): string => {
    if (!v) return DASH
    const stored = formatResolution(v.width, v.height)
    return turned && v.display_width && v.display_height ? `${stored} (shown ${formatResolution(v.display_width, v.display_height)})` : stored
  }
  const row = (key: string, label: string, input: string, output: string): FactRow => ({ key, label, input, output: out ? output : DASH })
  return [
    row('container', 'Container', probe ? formatContainer(probe.format_name) : DASH, extension(out?.filename) || 'MP4'),
    row('video', 'Video codec', v ? formatCodec(v.codec, v.profile) : DASH, formatCodec(out?.video_codec, out?.profile)),
    row('resolution', 'Resolution', resolution(), formatResolution(out?.width, out?.height)),
    row('rotation', 'Rotation', v ? formatRotation(v.rotation) : DASH, v?.rotation ? 'none (applied to the picture)' : 'none'),
    row('fps', 'Frame rate', formatFps(v?.avg_fps), formatFps(out?.fps)),
    row('frames', 'Frames', count(v?.frame_count), count(out?.frames)),
    row('pix_fmt', 'Pixel format', v?.pix_fmt ?? DASH, out?.pix_fmt ?? DASH),
    row('range', 'Dynamic range', v ? dynamicRange(v) : DASH, out?.pix_fmt ? dynamicRange({ pix_fmt: out.pix_fmt }) : DASH),
    row('duration', 'Duration', formatDuration(probe?.duration ?? v?.duration), formatDuration(out?.duration)),
    row('audio', 'Audio', probe ? audioText(probe.audio) : DASH, audioText(out?.audio)),
    row('size', 'Size', inputSize ? formatBytes(inputSize) : DASH, out ? `${formatBytes(out.size)} (${formatSizeChange(out.size, out.source_size ?? inputSize)})` : DASH),
    row('bitrate', 'Bitrate', formatBitrate(inputBitrate), formatBitrate(out?.bitrate)),
    ...(out?.renditions?.some(isVideo) ? [row('renditions', 'Stream renditions', DASH, renditionsText(out.renditions))] : []),
  ]
}

function isVideo(r: Rendition): r is Rendition & { height: number } {
  return r.kind !== 'audio' && typeof r.height === 'number' && r.height > 0
}

/** The video rungs: "720p H.264 2.1 Mb/s · 360p H.264 800 kb/s", tallest first (average rates). */
export function renditionsText(renditions: readonly Rendition[]): string {
  return renditions.filter(isVideo)
    .sort((a, b) => b.height - a.height || (a.codec ?? '').localeCompare(b.codec ?? ''))
    .map((r) => `${r.height}p ${codecName(r.codecs ?? r.codec)} ${formatBitrate(r.average_bandwidth ?? r.bandwidth)}`)
    .join(' · ')
}

export const STAGE_NAMES = [
  ['upload', 'Upload'], ['queue', 'Waiting for a worker'], ['probe', 'Probe'], ['encode', 'Encode'], ['assemble', 'Assemble'],
] as const

export interface StageRow {
  key: string
  label: string
  /** Epoch seconds when the stage began. */
  startedAt: number | null
  /** Seconds it took (null while it runs). */
  seconds: number | null
}

/** When each stage began and how long it took, from the creation time and the stage timings. */
export function stageTimeline(job: Pick<Job, 'created_at' | 'timings' | 'state'>): StageRow[] {
  const rows: StageRow[] = []
  let at = job.created_at
  for (const [key, label] of STAGE_NAMES) {
    const seconds = job.timings[key]
    if (seconds === undefined) {
      // The stage running now (it started where the last one ended); a final job ran no further.
      if (!isFinal(job.state)) rows.push({ key, label, startedAt: at, seconds: null })
      break
    }
    rows.push({ key, label, startedAt: at, seconds })
    at = at === null ? null : at + seconds
  }
  return rows
}

/** The options the job ran with, as label/value pairs. */
export function optionFacts(options: Job['options']): Array<[string, string]> {
  if (!options) return []
  const facts: Array<[string, string]> = [
    ['Preset', options.preset],
    ['Max height', `${options.max_height}p`],
    ['Quality (CRF)', String(options.crf)],
  ]
  if (options.x264_preset) facts.push(['x264 preset', options.x264_preset])
  if (options.chunk_seconds) facts.push(['Chunk length', `${options.chunk_seconds} s`])
  if (typeof options.loudness === 'number') facts.push(['Loudness', `${options.loudness} LUFS`])
  return [...facts, ...streamOptionFacts(options)]
}
