// Human-readable numbers: sizes, rates, durations, savings.

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const

/** 1536 → "1.5 KB" (binary multiples, the way file managers show sizes). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–'
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit += 1
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1
  return `${value.toFixed(digits)} ${UNITS[unit]}`
}

/** Bytes per second → "2.4 MB/s". */
export function formatSpeed(bytesPerSecond: number | null): string {
  return bytesPerSecond === null || !Number.isFinite(bytesPerSecond) ? '–' : `${formatBytes(bytesPerSecond)}/s`
}

/** Bits per second → "1.2 Mb/s". */
export function formatBitrate(bitsPerSecond: number | null | undefined): string {
  if (bitsPerSecond === null || bitsPerSecond === undefined || !Number.isFinite(bitsPerSecond)) return '–'
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(1)} Mb/s`
  if (bitsPerSecond >= 1e3) return `${Math.round(bitsPerSecond / 1e3)} kb/s`
  return `${Math.round(bitsPerSecond)} b/s`
}

/** Seconds → "0:07", "12:05", "1:02:03" (clock style, for media and elapsed time). */
export function formatClock(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–'
  const total = Math.floor(seconds)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const pad = (n: number): string => String(n).padStart(2, '0')
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`
}

/** Media duration with a decimal: 17.063 → "17.06 s", 125.4 → "2:05". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–'
  return seconds < 60 ? `${seconds.toFixed(2)} s` : formatClock(seconds)
}

/** Time left → "about 5 s", "about 3 min", or "–" when unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '–'
  if (seconds < 1) return 'less than a second'
  if (seconds < 60) return `about ${Math.ceil(seconds)} s`
  if (seconds < 3600) return `about ${Math.ceil(seconds / 60)} min`
  return `about ${(seconds / 3600).toFixed(1)} h`
}

export interface SizeChange {
  kind: 'smaller' | 'larger' | 'same'
  /** Whole percent of the source size (always ≥ 0). */
  percent: number
}

/** How the output's size compares with the source's; null when the source size is unknown. */
export function sizeChange(outputBytes: number, sourceBytes: number | null | undefined): SizeChange | null {
  if (!sourceBytes || sourceBytes <= 0 || !Number.isFinite(outputBytes) || outputBytes < 0) return null
  const change = Math.round((1 - outputBytes / sourceBytes) * 100)
  if (change === 0) return { kind: 'same', percent: 0 }
  return change > 0 ? { kind: 'smaller', percent: change } : { kind: 'larger', percent: -change }
}

/** "37 % smaller" / "66 % larger" / "same size": shown under a neutral term ("vs. source"), never "Saving". */
export function formatSizeChange(outputBytes: number, sourceBytes: number | null | undefined): string {
  const change = sizeChange(outputBytes, sourceBytes)
  if (!change) return '–'
  return change.kind === 'same' ? 'same size' : `${change.percent} % ${change.kind}`
}

export function formatResolution(width: number | null | undefined, height: number | null | undefined): string {
  return width && height ? `${width}×${height}` : '–'
}

export interface TimeFormat {
  locale?: string
  timeZone?: string
  /** "14:05:09" rather than "14:05". */
  seconds?: boolean
}

/** Epoch seconds → "14:05" today, "3 Mar, 14:05" this year, "3 Mar 2024, 14:05" before. */
export function formatTimestamp(epochSeconds: number | null | undefined, nowSeconds: number, fmt: TimeFormat = {}): string {
  if (epochSeconds === null || epochSeconds === undefined || !Number.isFinite(epochSeconds) || epochSeconds <= 0) return '–'
  const at = new Date(epochSeconds * 1000)
  const now = new Date(nowSeconds * 1000)
  const base: Intl.DateTimeFormatOptions = {
    hour: '2-digit', minute: '2-digit', ...(fmt.seconds ? { second: '2-digit' } : {}), hour12: false, ...(fmt.timeZone ? { timeZone: fmt.timeZone } : {}),
  }
  const day = (d: Date): string => d.toLocaleDateString('en-CA', fmt.timeZone ? { timeZone: fmt.timeZone } : {})
  const locale = fmt.locale ?? 'en-GB'
  if (day(at) === day(now)) return at.toLocaleTimeString(locale, base)
  const sameYear = day(at).slice(0, 4) === day(now).slice(0, 4)
  return at.toLocaleString(locale, { ...base, day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) })
}

/** Seconds from now → "in 58 min", "in 3 h", "2 min ago", "just now". */
export function formatRelative(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–'
  const abs = Math.abs(seconds)
  const text = abs < 60 ? `${Math.max(1, Math.round(abs))} s`
    : abs < 3600 ? `${Math.round(abs / 60)} min`
      : abs < 48 * 3600 ? `${Math.round(abs / 3600)} h`
        : `${Math.round(abs / 86400)} days`
  if (abs < 5) return 'just now'
  return seconds > 0 ? `in ${text}` : `${text} ago`
}

/** 29.97 → "29.97 fps", 30 → "30 fps". */
export function formatFps(fps: number | null | undefined): string {
  if (fps === null || fps === undefined || !Number.isFinite(fps) || fps <= 0) return '–'
  return `${Number(fps.toFixed(2))} fps`
}

export function formatChannels(channels: number | null | undefined): string {
  if (!channels || channels <= 0) return '–'
  return ({ 1: 'mono', 2: 'stereo', 6: '5.1', 8: '7.1' } as Record<number, string>)[channels] ?? `${channels} channels`
}

/** 48000 → "48 kHz", 44100 → "44.1 kHz". */
export function formatSampleRate(hz: number | null | undefined): string {
  if (!hz || hz <= 0) return '–'
  return `${Number((hz / 1000).toFixed(1))} kHz`
}

const CODECS: Readonly<Record<string, string>> = {
  h264: 'H.264', hevc: 'H.265 (HEVC)', vp8: 'VP8', vp9: 'VP9', av1: 'AV1', mpeg4: 'MPEG-4 Part 2', mpeg2video: 'MPEG-2',
  mpeg1video: 'MPEG-1', prores: 'ProRes', mjpeg: 'Motion JPEG', aac: 'AAC', mp3: 'MP3', mp2: 'MP2', opus: 'Opus',
  vorbis: 'Vorbis', ac3: 'AC-3', eac3: 'E-AC-3', flac: 'FLAC', pcm_s16le: 'PCM 16-bit', pcm_s24le: 'PCM 24-bit',
}

/** "h264" + "High" → "H.264 High". */
export function formatCodec(codec: string | null | undefined, profile?: string | null): string {
  if (!codec) return '–'
  const name = CODECS[codec.toLowerCase()] ?? codec
  return profile ? `${name} ${profile}` : name
}

/** ffprobe's format_name ("mov,mp4,m4a,3gp,3g2,mj2") → "MP4 / MOV". */
export function formatContainer(formatName: string | null | undefined): string {
  if (!formatName) return '–'
  const names = formatName.toLowerCase().split(',')
  if (names.includes('mp4') || names.includes('mov')) return 'MP4 / MOV'
  if (names.includes('matroska') || names.includes('webm')) return 'Matroska / WebM'
  const known: Record<string, string> = { avi: 'AVI', mpegts: 'MPEG-TS', flv: 'FLV', mpeg: 'MPEG-PS', ogg: 'Ogg' }
  return known[names[0] ?? ''] ?? formatName
}

/** Bits per sample from a pixel format: "yuv420p10le" → 10, "yuv420p" → 8. */
export function bitDepthOf(pixFmt: string | null | undefined): number | null {
  if (!pixFmt) return null
  const match = /p(\d{2})(le|be)?$/.exec(pixFmt)
  return match ? Number(match[1]) : 8
}

/** "HDR (PQ)", "HDR (HLG)", "SDR"; the bit depth when the transfer is unknown. */
export function dynamicRange(video: { color_transfer?: string; bit_depth?: number; pix_fmt?: string } | null | undefined): string {
  if (!video) return '–'
  const transfer = video.color_transfer?.toLowerCase()
  if (transfer === 'smpte2084') return 'HDR (PQ)'
  if (transfer === 'arib-std-b67') return 'HDR (HLG)'
  if (transfer && transfer !== 'unknown') return 'SDR'
  const depth = video.bit_depth ?? bitDepthOf(video.pix_fmt)
  if (!depth) return '–'
  return depth <= 8 ? 'SDR (8-bit)' : `${depth}-bit (transfer not tagged)`
}

export function formatRotation(degrees: number | null | undefined): string {
  if (!degrees) return 'none'
  const d = ((Math.round(degrees) % 360) + 360) % 360
  return d === 0 ? 'none' : `${d}°`
}

/** The name shown for a job: its file name, else a short id. */
export function displayName(filename: string | null | undefined, jobId: string): string {
  return filename && filename.trim() ? filename : `job ${jobId.slice(0, 8)}`
}

/** US dollars, two significant digits below a dollar (a job's worker-seconds cost fractions of a cent):
 *  0.000073 → "$0.000073", 0.0123 → "$0.012", 12.5 → "$12.50". */
export function formatUsd(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd) || usd < 0) return '–'
  if (usd === 0) return '$0'
  if (usd < 0.000001) return 'under $0.000001'
  if (usd >= 1) return `$${usd.toFixed(2)}`
  const digits = Math.max(2, 1 - Math.floor(Math.log10(usd)))
  return `$${usd.toFixed(digits).replace(/(\.\d{2}\d*?)0+$/, '$1')}`
}

/** A span of seconds: 3.44 → "3.4 s", 75 → "1 min 15 s", 3725 → "1 h 2 min". */
export function formatSpan(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–'
  if (seconds < 10) return `${seconds.toFixed(1)} s`
  if (seconds < 60) return `${Math.round(seconds)} s`
  const total = Math.round(seconds)
  if (total < 3600) return total % 60 ? `${Math.floor(total / 60)} min ${total % 60} s` : `${total / 60} min`
  const minutes = Math.round(total / 60)
  return minutes % 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes / 60} h`
}
