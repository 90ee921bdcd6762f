// Checks made before anything is uploaded (the API repeats them; the probe is the real gate).
import { formatBytes } from './format'

/** The upload extensions the API accepts (chalicelib/storage.py VIDEO_EXTENSIONS). */
export const VIDEO_EXTENSIONS: readonly string[] = [
  'mp4', 'm4v', 'mov', 'mkv', 'webm', 'avi', 'ts', 'mts', 'm2ts', 'mpg', 'mpeg', 'flv', '3gp', 'ogv',
]

/** For the file picker's `accept`. */
export const ACCEPT = ['video/*', ...VIDEO_EXTENSIONS.map((ext) => `.${ext}`)].join(',')

export interface FileFacts {
  name: string
  size: number
  /** The browser's MIME type guess ("" when it has none). */
  type: string
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.')
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : ''
}

/** Why this file cannot be uploaded, in plain words; null when it may be. */
export function rejectionReason(file: FileFacts, maxBytes: number): string | null {
  const ext = extensionOf(file.name)
  const type = file.type.toLowerCase()
  if (!VIDEO_EXTENSIONS.includes(ext)) {
    return `${file.name} is not a video file we accept (${VIDEO_EXTENSIONS.map((e) => `.${e}`).join(', ')}).`
  }
  if (type && !type.startsWith('video/') && type !== 'application/octet-stream' && !isAmbiguousType(ext, type)) {
    return `${file.name} is not a video (its type is ${type}).`
  }
  if (file.size <= 0) return `${file.name} is empty.`
  if (file.size > maxBytes) {
    return `${file.name} is ${formatBytes(file.size)}; the largest upload accepted is ${formatBytes(maxBytes)}.`
  }
  if (file.name.length > 255) return `${file.name.slice(0, 40)}…: the file name is longer than 255 characters.`
  return null
}

// Browsers guess some video extensions as something else (.ts as TypeScript source, .mts as MPEG-TS
// or TypeScript, .3gp as audio); the probe decides what they really are.
const AMBIGUOUS: Readonly<Record<string, readonly string[]>> = {
  ts: ['text/vnd.trolltech.linguist', 'application/typescript', 'text/typescript', 'video/mp2t'],
  mts: ['application/typescript', 'text/typescript'],
  '3gp': ['audio/3gpp'],
  ogv: ['application/ogg'],
}

function isAmbiguousType(ext: string, type: string): boolean {
  return AMBIGUOUS[ext]?.includes(type) ?? false
}

/** The content type sent to the API: the browser's video type, or a neutral one. */
export function uploadContentType(type: string): string {
  const lower = type.toLowerCase()
  return lower.startsWith('video/') ? lower : 'application/octet-stream'
}
