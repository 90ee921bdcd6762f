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

/** Output vs source size → "38 % smaller" / "12 % larger" / "same size". */
export function formatSaving(outputBytes: number, sourceBytes: number | null | undefined): string {
  if (!sourceBytes || sourceBytes <= 0 || !Number.isFinite(outputBytes)) return '–'
  const change = Math.round((1 - outputBytes / sourceBytes) * 100)
  if (change === 0) return 'same size'
  return change > 0 ? `${change} % smaller` : `${-change} % larger`
}

export function formatResolution(width: number | null | undefined, height: number | null | undefined): string {
  return width && height ? `${width}×${height}` : '–'
}

export const STATE_LABELS: Readonly<Record<string, string>> = {
  awaiting_upload: 'uploading',
  queued: 'queued',
  probing: 'probing',
  encoding: 'encoding',
  assembling: 'assembling',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
}
