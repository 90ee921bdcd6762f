// The adaptive stream of a job (HLS, and DASH once done): when it can be played, how its
// renditions are named, what an embed of it looks like, and its player's failures in plain words.
import type { Problem } from './errors'
import { formatBitrate, formatRelative, formatTimestamp } from './format'
import type { Job } from './types'

export type StreamFormat = 'hls' | 'dash'

export type Playback =
  /** No stream to play (not asked for, not published yet, or the job stopped). */
  | { kind: 'none' }
  /** Playable while the job still encodes: an EVENT playlist that grows until the job is done. */
  | { kind: 'growing'; hls: string; dash: null; since: number; expiresAt: number | null }
  /** The finished stream (a VOD playlist). */
  | { kind: 'ready'; hls: string; dash: string | null; since: number; expiresAt: number | null }
  /** The links the page has are past their expiry: the API hands out fresh ones. */
  | { kind: 'expired'; expiresAt: number }

/** Epoch seconds from the API (a number; a numeric string is taken too), else null. */
export function epoch(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null
}

/** The job's stream as of ``nowSeconds``. */
export function playbackOf(job: Pick<Job, 'state' | 'playable_at' | 'playback_url' | 'dash_url' | 'playback_expires_at'>, nowSeconds: number): Playback {
  const hls = job.playback_url
  const since = epoch(job.playable_at)
  if (since === null || !hls) return { kind: 'none' }
  if (job.state !== 'encoding' && job.state !== 'assembling' && job.state !== 'done') return { kind: 'none' }
  // The token's own expiry is what the server checks; the API's field says the same when present.
  const expiresAt = tokenExpiry(hls) ?? epoch(job.playback_expires_at)
  if (expiresAt !== null && expiresAt <= nowSeconds) return { kind: 'expired', expiresAt }
  if (job.state === 'done') return { kind: 'ready', hls, dash: job.dash_url ?? null, since, expiresAt }
  return { kind: 'growing', hls, dash: null, since, expiresAt }
}

/** Whether the card and the detail page offer "Play now". */
export function canPlayNow(playback: Playback): boolean {
  return playback.kind === 'growing' || playback.kind === 'ready'
}

/** The expiry (epoch seconds) in a playback URL's token, ``…/{expires}.{signature}/{job_id}/…``. */
export function tokenExpiry(url: string): number | null {
  let path: string
  try {
    path = new URL(url).pathname
  } catch {
    return null
  }
  const token = /\/(\d{9,12})\.[A-Za-z0-9_-]{10,}\/[A-Za-z0-9_-]+\/[^/]+(?:\/[^/]+)?$/.exec(path)
  return token ? Number(token[1]) : null
}

/**
 * What identifies a stream whatever its token: the URL without its token. The API signs fresh
 * links on every answer, so the player reloads only when this changes, not on every poll.
 */
export function streamIdentity(url: string): string {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname.replace(/\/\d{9,12}\.[A-Za-z0-9_-]+\//, '/~/')}`
  } catch {
    return url
  }
}

/** "hls" or "dash" from a URL's file name (.m3u8 / .mpd); null when it says neither. */
export function formatOfUrl(url: string): StreamFormat | null {
  let path = url
  try {
    path = new URL(url).pathname
  } catch {
    // a relative URL: its text
  }
  if (/\.m3u8$/i.test(path)) return 'hls'
  if (/\.mpd$/i.test(path)) return 'dash'
  return null
}

export const MIME_TYPES: Readonly<Record<StreamFormat, string>> = { hls: 'application/x-mpegurl', dash: 'application/dash+xml' }

// -- renditions ----------------------------------------------------------------------------

/** "avc1.64001f" / "h264" → "H.264", "hvc1…" → "HEVC", "av01…" → "AV1", "vp09…" → "VP9". */
export function codecName(codec: string | null | undefined): string {
  if (!codec) return '–'
  const c = codec.trim().toLowerCase().split(',')[0] ?? ''
  if (/^(avc[13]|h264|h\.264)/.test(c)) return 'H.264'
  if (/^(hvc1|hev1|hevc|h265|h\.265)/.test(c)) return 'HEVC'
  if (/^(av01|av1)/.test(c)) return 'AV1'
  if (/^(vp09|vp9)/.test(c)) return 'VP9'
  return codec
}

/** A video rendition as the player sees it (a Shaka variant track, reduced). */
export interface TrackInfo {
  id: number
  width: number | null
  height: number | null
  /** The video codec string (RFC 6381). */
  videoCodec: string | null
  /** The video's own bits per second, when the manifest says. */
  videoBandwidth: number | null
  /** The variant's bits per second (video and audio). */
  bandwidth: number
  active: boolean
}

/** "720p · H.264 · 1.2 Mb/s" (a rendition in the quality menu and the indicator). */
export function renditionLabel(track: Pick<TrackInfo, 'height' | 'videoCodec' | 'videoBandwidth' | 'bandwidth'>): string {
  const parts = [track.height ? `${track.height}p` : 'audio only', codecName(track.videoCodec)]
  const bits = track.videoBandwidth || track.bandwidth
  if (bits) parts.push(formatBitrate(bits))
  return parts.filter((p) => p !== '–').join(' · ')
}

/** Tracks for the quality menu: one per rendition (same height, codec and rate once), tallest first. */
export function renditionChoices(tracks: readonly TrackInfo[]): TrackInfo[] {
  const seen = new Map<string, TrackInfo>()
  for (const track of tracks) {
    const key = `${track.height ?? 0}|${codecName(track.videoCodec)}|${track.videoBandwidth ?? track.bandwidth}`
    const known = seen.get(key)
    if (!known || (track.active && !known.active)) seen.set(key, track)
  }
  const codecRank = (t: TrackInfo): number => ['H.264', 'HEVC', 'AV1', 'VP9'].indexOf(codecName(t.videoCodec))
  return [...seen.values()].sort((a, b) => (b.height ?? 0) - (a.height ?? 0) || codecRank(a) - codecRank(b) || b.bandwidth - a.bandwidth)
}

// -- embedding ----------------------------------------------------------------------------

/** The app's small player page (dist/embed.html) for ``streamUrl``; the URL travels in the #hash. */
export function embedPageUrl(appHref: string, streamUrl: string): string {
  const page = new URL('embed.html', appHref)
  page.search = ''
  page.hash = `url=${encodeURIComponent(streamUrl)}`
  return page.toString()
}

export interface EmbedRequest {
  url: string
  format: StreamFormat
}

/** What embed.html was asked to play: ``#url=<encoded stream URL>`` (http or https only). */
export function parseEmbedHash(hash: string): EmbedRequest | { error: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const raw = params.get('url')
  if (!raw) return { error: 'No video was given to this player (the link is incomplete).' }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { error: 'The link to the video is not a valid address.' }
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { error: 'This player only plays http and https links.' }
  const given = params.get('format')
  const format = given === 'hls' || given === 'dash' ? given : formatOfUrl(url.toString())
  if (!format) return { error: 'The link is neither an HLS playlist (.m3u8) nor a DASH manifest (.mpd).' }
  return { url: url.toString(), format }
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** The HTML to paste into a page: an <iframe> of embed.html, sized to the video's shape. */
export function embedSnippet(pageUrl: string, { title, width, height }: { title: string; width?: number | null; height?: number | null }): string {
  const w = 640
  const h = width && height && width > 0 && height > 0 ? Math.round((w * height) / width) : 360
  return `<iframe src="${escapeAttribute(pageUrl)}" width="${w}" height="${h}" title="${escapeAttribute(title)}" `
    + `style="border:0;max-width:100%;height:auto;aspect-ratio:${w}/${h}" `
    + 'allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>'
}

// -- failures -----------------------------------------------------------------------------

/** A player failure reduced to what we read of it (a Shaka error: category, code, data). */
export interface PlayerFailure {
  code: number
  category?: number
  severity?: number
  data?: readonly unknown[]
}

export type PlaybackProblemKind = 'expired' | 'refused' | 'missing' | 'network' | 'unsupported' | 'decode' | 'other'

export interface PlaybackProblem extends Problem {
  kind: PlaybackProblemKind
}

/** Shaka's codes this app tells apart (shaka.util.Error.Code). */
export const SHAKA = {
  BAD_HTTP_STATUS: 1001, HTTP_ERROR: 1002, TIMEOUT: 1003, ATTEMPTS_EXHAUSTED: 1010, SEGMENT_MISSING: 1011,
  MEDIA_SOURCE_OPERATION_FAILED: 3014, MEDIA_SOURCE_OPERATION_THREW: 3015, VIDEO_ERROR: 3016, QUOTA_EXCEEDED_ERROR: 3017,
  CONTENT_UNSUPPORTED_BY_BROWSER: 4032, NO_VARIANTS: 4036, RESTRICTIONS_CANNOT_BE_MET: 4012,
  LOAD_INTERRUPTED: 7000, OPERATION_ABORTED: 7001, OBJECT_DESTROYED: 7003,
} as const

/** Failures that are not failures: a load replaced by another one, a player torn down. */
export function isInterruption(failure: PlayerFailure): boolean {
  return failure.code === SHAKA.LOAD_INTERRUPTED || failure.code === SHAKA.OPERATION_ABORTED || failure.code === SHAKA.OBJECT_DESTROYED
}

/**
 * A player failure in plain words. ``url`` is the link being played: a 403 on a link whose token
 * has passed its expiry is "expired", on any other link "refused" (changed or cut short).
 */
export function describePlaybackError(failure: PlayerFailure, url: string, nowSeconds: number): PlaybackProblem {
  const fresh = 'Reload this page for a fresh link.'
  if (failure.code === SHAKA.BAD_HTTP_STATUS) {
    const status = Number(failure.data?.[1])
    const expires = tokenExpiry(url)
    if ((status === 403 || status === 401 || status === 410) && expires !== null && expires <= nowSeconds) {
      return { kind: 'expired', message: `This playback link expired at ${formatTimestamp(expires, nowSeconds)}.`, next: fresh }
    }
    if (status === 403 || status === 401) {
      return { kind: 'refused', message: 'The server refused this playback link: it has expired or it is not complete (changed or cut short).', next: fresh }
    }
    if (status === 404 || status === 410) {
      return { kind: 'missing', message: 'Part of this video is not on the server (it may have been deleted).', next: 'Reload this page; if it keeps failing, download the MP4 instead.' }
    }
    if (status >= 500) {
      return { kind: 'network', message: `The video server had a problem (error ${status}).`, next: 'Try again in a minute.' }
    }
    return { kind: 'network', message: `The video server answered with an error (${Number.isFinite(status) ? status : 'unknown'}).`, next: 'Try again; if it keeps failing, reload the page.' }
  }
  if (failure.code === SHAKA.HTTP_ERROR || failure.code === SHAKA.TIMEOUT || failure.code === SHAKA.ATTEMPTS_EXHAUSTED || failure.code === SHAKA.SEGMENT_MISSING) {
    return { kind: 'network', message: 'The video could not be loaded: the connection to the video server failed.', next: 'Check your connection, then press Try again.' }
  }
  if (failure.code === SHAKA.CONTENT_UNSUPPORTED_BY_BROWSER || failure.code === SHAKA.NO_VARIANTS || failure.code === SHAKA.RESTRICTIONS_CANNOT_BE_MET) {
    return { kind: 'unsupported', message: 'This browser cannot play any version of this stream (its codec is not supported here).', next: 'Pick another quality or format, try another browser, or download the MP4.' }
  }
  if (failure.code === SHAKA.VIDEO_ERROR || failure.code === SHAKA.MEDIA_SOURCE_OPERATION_FAILED || failure.code === SHAKA.MEDIA_SOURCE_OPERATION_THREW) {
    return { kind: 'decode', message: 'The browser could not decode this video.', next: 'Press Try again, pick another quality, or download the MP4.' }
  }
  if (failure.code === SHAKA.QUOTA_EXCEEDED_ERROR) {
    return { kind: 'other', message: 'The browser ran out of room for the video.', next: 'Close other tabs, then press Try again.' }
  }
  if (failure.category === 4) {
    return { kind: 'other', message: 'The stream\'s playlist could not be read.', next: 'Reload this page; if it keeps failing, download the MP4.' }
  }
  return { kind: 'other', message: 'The video stopped because of a player error.', next: 'Press Try again, or reload the page.' }
}

/** Under a stream link: until when it works (no API key needed), or what to do once it has expired. */
export function linkExpiryNote(expiresAt: number | null, nowSeconds: number): string {
  if (expiresAt === null) return 'Works without an API key (a token in the link) for a while; reload this page for a fresh link after that.'
  if (expiresAt <= nowSeconds) return 'This link has expired: reload the page for a fresh one.'
  return `Works without an API key until ${formatTimestamp(expiresAt, nowSeconds)} (${formatRelative(expiresAt - nowSeconds)}); reload this page for a fresh link after that.`
}
