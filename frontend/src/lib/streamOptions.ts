// The encode options a user picks in the options form, and how they travel to the API as the
// ``options`` object of POST /jobs: what the job produces (HLS, DASH, MP4), the stream's codecs,
// its ladder (auto or a list of heights) and its segment length.
import { STREAM_OUTPUTS, VIDEO_CODECS, type JobOptions, type LadderRung, type StreamOutput, type VideoCodec } from './types'

/** What the user picked in the options form when the file was added. */
export interface EncodeChoice {
  preset: string
  max_height: number
  crf: number
  outputs: StreamOutput[]
  codecs: VideoCodec[]
  /** "auto", or the heights of the rungs (each encoded in every codec of ``codecs``). */
  ladder: 'auto' | number[]
  segment_seconds: number
  /** "off" (the audio as it is), or its target integrated loudness in LUFS (EBU R128). */
  loudness: 'off' | number
}

/** The API's defaults (README "REST API"): what a job gets when it is not told otherwise. */
export const DEFAULT_OUTPUTS: readonly StreamOutput[] = ['hls', 'dash', 'mp4']
export const DEFAULT_CODECS: readonly VideoCodec[] = ['h264']
export const DEFAULT_SEGMENT_SECONDS = 2
export const SEGMENT_SECONDS_RANGE = [1, 10] as const
export const LADDER_HEIGHT_RANGE = [120, 2160] as const
/** Renditions of an explicit ladder (heights × codecs) the API takes at most. */
export const MAX_RUNGS = 8
/** Always in the stream: the codec every player can play (and the MP4's). */
export const REQUIRED_CODEC: VideoCodec = 'h264'
/** The loudness targets the form offers (the API takes any number from −36 to −10 LUFS). */
export const LOUDNESS_TARGETS: ReadonlyArray<readonly [number, string]> = [
  [-14, 'streaming'], [-16, 'podcasts'], [-23, 'EBU R128'], [-24, 'ATSC A/85'],
]

export const DEFAULT_CHOICE: EncodeChoice = {
  preset: 'web', max_height: 1080, crf: 23,
  outputs: [...DEFAULT_OUTPUTS], codecs: [...DEFAULT_CODECS], ladder: 'auto', segment_seconds: DEFAULT_SEGMENT_SECONDS,
  loudness: 'off',
}

export const OUTPUT_LABELS: Readonly<Record<StreamOutput, string>> = { hls: 'HLS', dash: 'DASH', mp4: 'MP4' }
export const CODEC_LABELS: Readonly<Record<VideoCodec, string>> = { h264: 'H.264', hevc: 'HEVC', av1: 'AV1' }

/** Whether the job makes an adaptive stream at all (the codec, ladder and segment options apply). */
export function makesStream(outputs: readonly StreamOutput[]): boolean {
  return outputs.includes('hls') || outputs.includes('dash')
}

/** ``values`` in the canonical order of ``order``, each once. */
function ordered<T extends string>(values: readonly T[], order: readonly T[]): T[] {
  return order.filter((v) => values.includes(v))
}

function sameSet<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((v) => b.includes(v))
}

export type LadderParse = { ok: true; ladder: 'auto' | number[] } | { ok: false; problem: string }

/**
 * The ladder field: "auto" (or empty), or heights separated by commas or spaces ("720, 480, 360";
 * a trailing "p" is fine). Heights are sorted from the top, each once; each must be even, within
 * 120–2160 and not above the max height (the API would fold it into the top rung).
 */
export function parseLadder(text: string, maxHeight: number): LadderParse {
  const t = text.trim().toLowerCase()
  if (t === '' || t === 'auto') return { ok: true, ladder: 'auto' }
  const pieces = t.split(/[\s,;]+/).filter(Boolean)
  const heights: number[] = []
  for (const piece of pieces) {
    const match = /^(\d{2,4})p?$/.exec(piece)
    if (!match) return { ok: false, problem: `"${piece}" is not a height: write auto, or heights like 720, 480, 360.` }
    const height = Number(match[1])
    const [low, high] = LADDER_HEIGHT_RANGE
    if (height < low || height > high) return { ok: false, problem: `${height}p is outside ${low}–${high}p.` }
    if (height > maxHeight) return { ok: false, problem: `${height}p is above the max height (${maxHeight}p).` }
    if (height % 2 !== 0) return { ok: false, problem: `${height}p is odd: video heights are even.` }
    if (!heights.includes(height)) heights.push(height)
  }
  if (heights.length > MAX_RUNGS) return { ok: false, problem: `At most ${MAX_RUNGS} heights.` }
  return { ok: true, ladder: heights.sort((a, b) => b - a) }
}

/** The ladder as the form shows it: "auto" or "720, 480, 360". */
export function formatLadder(ladder: EncodeChoice['ladder']): string {
  return ladder === 'auto' ? 'auto' : ladder.join(', ')
}

/** 1–10 s, whole seconds; anything else falls back to the default. */
export function clampSegmentSeconds(value: number): number {
  if (!Number.isFinite(value)) return DEFAULT_SEGMENT_SECONDS
  const [low, high] = SEGMENT_SECONDS_RANGE
  return Math.min(high, Math.max(low, Math.round(value)))
}

/** Why these choices cannot be sent (nothing to produce, no H.264, too many renditions), or null. */
export function choiceProblem(choice: Pick<EncodeChoice, 'outputs' | 'codecs' | 'ladder'>): string | null {
  if (choice.outputs.length === 0) return 'Pick at least one output (HLS, DASH or MP4).'
  if (!makesStream(choice.outputs)) return null
  if (!choice.codecs.includes(REQUIRED_CODEC)) return 'The stream always has H.264 (the codec every player can play).'
  if (choice.ladder !== 'auto' && choice.ladder.length * choice.codecs.length > MAX_RUNGS) {
    return `At most ${MAX_RUNGS} renditions: ${choice.ladder.length} heights × ${choice.codecs.length} codecs make ${choice.ladder.length * choice.codecs.length}.`
  }
  return null
}

/** The rungs an explicit ladder sends: every height in every codec, tallest first. */
export function ladderRungs(heights: readonly number[], codecs: readonly VideoCodec[]): LadderRung[] {
  const inOrder = ordered(codecs, VIDEO_CODECS)
  return [...heights].sort((a, b) => b - a).flatMap((height) => inOrder.map((codec) => ({ height, codec })))
}

/**
 * The ``options`` object of POST /jobs. The stream options are sent only where they differ from
 * the API's defaults (a job without them gets exactly those), and only when a stream is made.
 */
export function jobOptionsOf(choice: EncodeChoice): JobOptions {
  const options: JobOptions = { preset: choice.preset, max_height: choice.max_height, crf: choice.crf }
  // A choice saved before the option existed has none: off.
  if (typeof choice.loudness === 'number') options.loudness = choice.loudness
  const outputs = ordered(choice.outputs, STREAM_OUTPUTS)
  if (!sameSet(outputs, DEFAULT_OUTPUTS)) options.outputs = outputs
  if (!makesStream(outputs)) return options
  const codecs = ordered(choice.codecs, VIDEO_CODECS)
  if (!sameSet(codecs, DEFAULT_CODECS)) options.codecs = codecs
  if (choice.ladder !== 'auto') options.ladder = ladderRungs(choice.ladder, codecs)
  const segment = clampSegmentSeconds(choice.segment_seconds)
  if (segment !== DEFAULT_SEGMENT_SECONDS) options.segment_seconds = segment
  return options
}

/** The choice a job was made with (to resume its upload with the same options). */
export function choiceFromOptions(options: JobOptions | null | undefined): EncodeChoice {
  if (!options) return DEFAULT_CHOICE
  const ladder = options.ladder && options.ladder !== 'auto'
    ? [...new Set(options.ladder.map((r) => r.height))].sort((a, b) => b - a)
    : 'auto'
  return {
    preset: options.preset,
    max_height: options.max_height,
    crf: options.crf,
    outputs: options.outputs ? ordered(options.outputs, STREAM_OUTPUTS) : [...DEFAULT_OUTPUTS],
    codecs: options.codecs ? ordered(options.codecs, VIDEO_CODECS) : [...DEFAULT_CODECS],
    ladder,
    segment_seconds: options.segment_seconds ?? DEFAULT_SEGMENT_SECONDS,
    loudness: options.loudness ?? 'off',
  }
}

/** One line for an upload row: "web · up to 1080p · CRF 23 · HLS, DASH, MP4 · H.264". */
export function choiceSummary(choice: EncodeChoice): string {
  const parts = [choice.preset, `up to ${choice.max_height}p`, `CRF ${choice.crf}`, ordered(choice.outputs, STREAM_OUTPUTS).map((o) => OUTPUT_LABELS[o]).join(', ')]
  if (makesStream(choice.outputs)) {
    parts.push(ordered(choice.codecs, VIDEO_CODECS).map((c) => CODEC_LABELS[c]).join(', '))
    if (choice.ladder !== 'auto') parts.push(choice.ladder.map((h) => `${h}p`).join('/'))
  }
  if (typeof choice.loudness === 'number') parts.push(`${choice.loudness} LUFS`)
  return parts.join(' · ')
}

/** The stream options a job ran with, as label/value pairs (the detail page's "Options used"). */
export function streamOptionFacts(options: JobOptions): Array<[string, string]> {
  const outputs = options.outputs ? ordered(options.outputs, STREAM_OUTPUTS) : null
  const facts: Array<[string, string]> = []
  if (outputs) facts.push(['Outputs', outputs.map((o) => OUTPUT_LABELS[o]).join(', ') || '–'])
  if (outputs && !makesStream(outputs)) return facts
  if (options.codecs) facts.push(['Codecs', ordered(options.codecs, VIDEO_CODECS).map((c) => CODEC_LABELS[c]).join(', ') || '–'])
  if (options.ladder) {
    facts.push(['Ladder', options.ladder === 'auto'
      ? 'auto'
      : [...new Set(options.ladder.map((r) => r.height))].sort((a, b) => b - a).map((h) => `${h}p`).join(', ')])
  }
  if (options.segment_seconds) facts.push(['Segment length', `${options.segment_seconds} s`])
  return facts
}
