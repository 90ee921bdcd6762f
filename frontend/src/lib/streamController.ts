// Shaka Player on a <video>: loads an HLS or DASH stream, lists its renditions, switches between
// automatic and a forced rendition, picks the audio language and the subtitles (Shaka's defaults
// otherwise, forced subtitles included), and reports what plays and what failed. Shaka is loaded
// on first use (its own chunk: the dashboard never downloads it). Used by the result view's player
// and by embed.html.
import {
  describePlaybackError, isInterruption, MIME_TYPES, renditionChoices,
  type PlaybackProblem, type PlayerFailure, type StreamFormat, type TrackInfo,
} from './playback'
import { audioChoices, audioKey, textChoices, withAudio, type AudioChoice, type TextChoice } from './tracks'

type ShakaModule = typeof import('shaka-player/dist/shaka-player.compiled-es2021.js').default
type ShakaPlayer = InstanceType<ShakaModule['Player']>

let shakaPromise: Promise<ShakaModule> | null = null

/** Shaka, imported once (with its polyfills installed). */
export function loadShaka(): Promise<ShakaModule> {
  if (!shakaPromise) {
    trackMediaSources() // before Shaka's module runs: it keeps its own reference to createObjectURL
    shakaPromise = import('shaka-player/dist/shaka-player.compiled-es2021.js').then((mod) => {
      const shaka = mod.default
      shaka.polyfill.installAll()
      return shaka
    })
  }
  return shakaPromise
}

/**
 * The MediaSource behind each object URL Shaka puts in a <video>'s src. When an HLS EVENT
 * playlist ends (the job is done), Shaka 5 makes its timeline VOD with the full duration but leaves
 * the MediaSource's duration where it was when playback started (on purpose: shaka-player #9054,
 * for live streams whose MSE duration is Infinity). A growing stream's is finite, so the element
 * would show a short duration until the very end; ``syncDuration`` sets the real one.
 */
const mediaSources = new Map<string, WeakRef<MediaSource>>()

function trackMediaSources(): void {
  if (typeof URL === 'undefined' || typeof MediaSource === 'undefined') return
  const create = URL.createObjectURL.bind(URL)
  URL.createObjectURL = (object: Blob | MediaSource): string => {
    const url = create(object)
    if (object instanceof MediaSource) {
      // Kept past revokeObjectURL (Shaka revokes it once the source is open; the element keeps
      // it as its src); dropped once the MediaSource itself is gone.
      for (const [known, ref] of mediaSources) if (!ref.deref()) mediaSources.delete(known)
      mediaSources.set(url, new WeakRef(object))
    }
    return url
  }
}

/** Extend the MediaSource of ``video`` to ``duration`` (only ever longer, never Infinity). */
function syncDuration(video: HTMLVideoElement, duration: number, attempts = 20): void {
  const source = mediaSources.get(video.currentSrc || video.src)?.deref()
  if (!source || !Number.isFinite(duration) || !Number.isFinite(source.duration) || source.duration >= duration - 0.05) return
  if (source.readyState !== 'open') return
  const busy = [...source.sourceBuffers].find((b) => b.updating)
  if (busy) {
    // Not while Shaka appends: once that buffer is done.
    if (attempts > 0) busy.addEventListener('updateend', () => setTimeout(() => syncDuration(video, duration, attempts - 1), 0), { once: true })
    return
  }
  try {
    source.duration = duration
  } catch {
    // Closed or busy meanwhile: it becomes right at the end of the stream anyway.
  }
}

export type StreamStatus = 'loading' | 'ready' | 'error'

export interface StreamView {
  status: StreamStatus
  format: StreamFormat
  /** The renditions to choose from, tallest first. */
  tracks: TrackInfo[]
  /** The rendition being fetched now. */
  active: TrackInfo | null
  /** The audio languages to choose from (the stream's order: the main one first). */
  audios: AudioChoice[]
  /** The audio playing. */
  audio: AudioChoice | null
  /** The subtitle tracks to choose from. */
  texts: TextChoice[]
  /** The subtitles shown; null: off. */
  text: TextChoice | null
  /** Automatic selection (ABR) on; off once a rendition was forced. */
  auto: boolean
  /** The stream still grows (an EVENT playlist without its end yet: the job encodes). */
  live: boolean
  buffering: boolean
  problem: PlaybackProblem | null
  /** Every Shaka error code seen, recoverable ones too (for diagnosis and tests). */
  errorCodes: number[]
}

export const INITIAL_VIEW: StreamView = {
  status: 'loading', format: 'hls', tracks: [], active: null, audios: [], audio: null, texts: [], text: null, auto: true, live: false, buffering: false, problem: null, errorCodes: [],
}

type ShakaTrack = ReturnType<ShakaPlayer['getVariantTracks']>[number]

function trackInfo(t: ShakaTrack): TrackInfo {
  return { id: t.id, width: t.width, height: t.height, videoCodec: t.videoCodec, videoBandwidth: t.videoBandwidth, bandwidth: t.bandwidth, active: t.active }
}

function failureOf(err: unknown): PlayerFailure {
  const e = err as { code?: unknown; category?: unknown; severity?: unknown; data?: unknown }
  return {
    code: typeof e?.code === 'number' ? e.code : -1,
    ...(typeof e?.category === 'number' ? { category: e.category } : {}),
    ...(typeof e?.severity === 'number' ? { severity: e.severity } : {}),
    ...(Array.isArray(e?.data) ? { data: e.data as unknown[] } : {}),
  }
}

const CRITICAL = 2

/** How long the first subtitles may wait for a video segment before one is fetched for them. */
const TEXT_CUE_WAIT_MS = 1000

/**
 * How much of the buffer to keep on a switch (two segments, 2–10 s): what is buffered past it is
 * dropped so the switch shows soon, without emptying the buffer under the playhead (no stall).
 */
function safeMargin(player: ShakaPlayer): number {
  const segment = player.getStats().maxSegmentDuration
  return Math.min(10, Math.max(2, 2 * (Number.isFinite(segment) && segment > 0 ? segment : 2)))
}

export class StreamController {
  readonly #video: HTMLVideoElement
  readonly #onChange: (view: StreamView) => void
  #player: ShakaPlayer | null = null
  #view: StreamView = INITIAL_VIEW
  #url = ''
  #destroyed = false
  /** Bumped by every load(): an older load that finishes late is ignored. */
  #generation = 0
  /** Whether this load has streamed subtitles yet (see #onSegmentAppended). */
  #textStarted = false
  /** A video segment came after the first subtitles (their cues are out). */
  #videoAfterText = false

  constructor(video: HTMLVideoElement, onChange: (view: StreamView) => void) {
    this.#video = video
    this.#onChange = onChange
  }

  get view(): StreamView {
    return this.#view
  }

  /** Play ``url`` (from ``startTime`` seconds, else from the start). */
  async load(url: string, format: StreamFormat, startTime: number | null = null): Promise<void> {
    const generation = ++this.#generation
    this.#url = url
    this.#textStarted = false
    this.#videoAfterText = false
    // A new load (another format, a retry) starts in automatic selection.
    this.#set({ status: 'loading', format, problem: null, tracks: [], active: null, audios: [], audio: null, texts: [], text: null, buffering: false, auto: true })
    let player: ShakaPlayer
    try {
      player = await this.#ensurePlayer()
    } catch (err) {
      if (generation === this.#generation) this.#fail(err)
      return
    }
    if (this.#destroyed || generation !== this.#generation) return
    try {
      // A stream still growing (an EVENT playlist) starts from its beginning, not its live edge.
      await player.load(url, startTime ?? 0, MIME_TYPES[format])
    } catch (err) {
      if (generation === this.#generation && !isInterruption(failureOf(err))) this.#fail(err)
      return
    }
    if (this.#destroyed || generation !== this.#generation) return
    player.configure({ abr: { enabled: true } })
    this.#set({ status: 'ready' })
    this.#refresh()
  }

  /** Force the rendition ``trackId``, or go back to automatic selection ("auto"). */
  select(choice: number | 'auto'): void {
    const player = this.#player
    if (!player) return
    if (choice === 'auto') {
      player.configure({ abr: { enabled: true } })
      this.#set({ auto: true })
      this.#refresh()
      return
    }
    const track = player.getVariantTracks().find((t) => t.id === choice)
    if (!track) return
    player.configure({ abr: { enabled: false } })
    player.selectVariantTrack(track, true, safeMargin(player))
    this.#set({ auto: false })
    this.#refresh()
  }

  /** Play the audio ``key`` (an AudioChoice's), keeping the rendition (forced or automatic). */
  selectAudio(key: string): void {
    const player = this.#player
    if (!player) return
    const candidates = player.getAudioTracks().filter((t) => audioKey(t) === key)
    // Of the same language and label, the one closest to what plays (channels, codec).
    const playing = player.getAudioTracks().find((t) => t.active)
    const track = candidates.find((t) => t.channelsCount === playing?.channelsCount && t.codecs === playing?.codecs) ?? candidates[0]
    if (!track || track.active) return
    // As Shaka's own UI does: the whole audio buffer goes (behind the playhead too, so going back
    // does not bring the old language back), and the new language is heard at once.
    player.selectAudioTrack(track)
    this.#refresh()
  }

  /** Show the subtitles ``trackId``, or none ("off"). */
  selectText(choice: number | 'off'): void {
    const player = this.#player
    if (!player) return
    if (choice === 'off') {
      player.selectTextTrack(null)
    } else {
      const track = player.getTextTracks().find((t) => t.id === choice)
      if (!track) return
      player.selectTextTrack(track)
    }
    this.#refresh()
  }

  async destroy(): Promise<void> {
    this.#destroyed = true
    this.#generation += 1
    const player = this.#player
    this.#player = null
    if (player) await player.destroy().catch(() => undefined)
  }

  async #ensurePlayer(): Promise<ShakaPlayer> {
    if (this.#player) return this.#player
    const shaka = await loadShaka()
    if (!shaka.Player.isBrowserSupported()) {
      throw Object.assign(new Error('unsupported'), { code: 4032, category: 4, severity: CRITICAL })
    }
    const player = new shaka.Player()
    await player.attach(this.#video)
    if (this.#destroyed) {
      await player.destroy()
      throw Object.assign(new Error('destroyed'), { code: 7003 })
    }
    player.configure({
      streaming: {
        // Give up on a dead link soon (a 403 is not going to heal), keep trying a flaky network.
        retryParameters: { maxAttempts: 3, baseDelay: 500, backoffFactor: 2, timeout: 15_000 },
      },
      manifest: { retryParameters: { maxAttempts: 2, baseDelay: 500, backoffFactor: 2, timeout: 15_000 } },
    })
    const refresh = (): void => this.#refresh()
    for (const type of ['trackschanged', 'variantchanged', 'adaptation', 'manifestupdated', 'loaded', 'abrstatuschanged', 'audiotrackschanged', 'textchanged']) {
      player.addEventListener(type, refresh)
    }
    player.addEventListener('segmentappended', (event) => {
      this.#onSegmentAppended((event as unknown as { contentType?: string }).contentType)
    })
    player.addEventListener('buffering', (event) => {
      this.#set({ buffering: Boolean((event as unknown as { buffering?: boolean }).buffering) })
    })
    player.addEventListener('error', (event) => {
      const detail = (event as unknown as { detail?: unknown }).detail
      const failure = failureOf(detail)
      if (isInterruption(failure)) return
      this.#set({ errorCodes: [...this.#view.errorCodes, failure.code] })
      if (failure.severity === CRITICAL) this.#fail(detail, false)
    })
    this.#player = player
    return player
  }

  /**
   * Shaka 5 makes its text engine with the first subtitles of a load and, for HLS, holds their
   * cues until the next video segment tells it the timeline's offset: with the video buffered to
   * the end (a short clip, or a paused one) none comes, and no cue would ever show. So when no
   * video segment follows the first subtitle segment soon, the video past a margin is fetched
   * again (the same audio and rendition).
   */
  #onSegmentAppended(contentType: string | undefined): void {
    if (contentType === 'video') this.#videoAfterText = this.#textStarted
    if (contentType !== 'text' || this.#textStarted || this.#view.format !== 'hls') return
    this.#textStarted = true
    const generation = this.#generation
    setTimeout(() => {
      const player = this.#player
      if (!player || this.#destroyed || generation !== this.#generation || this.#videoAfterText) return
      const variant = player.getVariantTracks().find((t) => t.active)
      if (!variant) return
      const buffered = player.getBufferedInfo().video.at(-1)?.end ?? 0
      // The usual margin, less near the end: past the end there is nothing to fetch again.
      const margin = Math.max(0, Math.min(safeMargin(player), buffered - this.#video.currentTime - 1))
      // The variant playing, again (re-selecting its audio is a no-op for Shaka); under ABR, off
      // for that call only (Shaka warns of a selection ABR would override).
      const auto = this.#view.auto
      if (auto) player.configure({ abr: { enabled: false } })
      player.selectVariantTrack(variant, true, margin)
      if (auto) player.configure({ abr: { enabled: true } })
    }, TEXT_CUE_WAIT_MS)
  }

  #fail(err: unknown, count = true): void {
    const failure = failureOf(err)
    if (isInterruption(failure)) return
    this.#set({
      status: 'error',
      buffering: false,
      problem: describePlaybackError(failure, this.#url, Date.now() / 1000),
      ...(count ? { errorCodes: [...this.#view.errorCodes, failure.code] } : {}),
    })
  }

  #refresh(): void {
    const player = this.#player
    if (!player || this.#destroyed) return
    const variants = player.getVariantTracks().filter((t) => t.type === 'variant')
    const playing = variants.find((t) => t.active)
    // The quality menu lists the renditions of the audio playing: forcing one keeps the language.
    const all = withAudio(variants, playing ? audioKey(playing) : null).map(trackInfo)
    const active = all.find((t) => t.active) ?? null
    const audios = audioChoices(player.getAudioTracks())
    const texts = textChoices(player.getTextTracks())
    // An EVENT playlist is "in progress" for Shaka (finite, not yet static); a LIVE one is live.
    const live = player.isLive() || player.isInProgress()
    if (this.#view.live && !live && this.#view.status === 'ready') syncDuration(this.#video, player.seekRange().end)
    this.#set({
      tracks: renditionChoices(all), active, live,
      audios, audio: audios.find((a) => a.active) ?? null, texts, text: texts.find((t) => t.active) ?? null,
    })
  }

  #set(patch: Partial<StreamView>): void {
    if (this.#destroyed) return
    this.#view = { ...this.#view, ...patch }
    this.#onChange(this.#view)
  }
}
