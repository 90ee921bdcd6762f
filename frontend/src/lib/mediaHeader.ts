// Which tracks a file's header declares (MP4/MOV/3GP boxes, Matroska/WebM elements), read from a
// few small slices of the file: an audio-only file is refused before anything is uploaded.

export type TrackKind = 'video' | 'audio' | 'other'

/** Bytes ``[offset, offset + length)`` of the file (fewer at its end). */
export type Reader = (offset: number, length: number) => Promise<Uint8Array>

export function blobReader(blob: Blob): Reader {
  return async (offset, length) => new Uint8Array(await blob.slice(offset, Math.min(blob.size, offset + length)).arrayBuffer())
}

const text4 = (b: Uint8Array, at: number): string => String.fromCharCode(b[at] ?? 0, b[at + 1] ?? 0, b[at + 2] ?? 0, b[at + 3] ?? 0)
const u32 = (b: Uint8Array, at: number): number => (((b[at] ?? 0) << 24) >>> 0) + ((b[at + 1] ?? 0) << 16) + ((b[at + 2] ?? 0) << 8) + (b[at + 3] ?? 0)

// -- ISO BMFF (MP4, MOV, M4V, 3GP) ---------------------------------------------------------

const TOP_LEVEL = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'uuid', 'styp', 'sidx', 'moof', 'meta', 'pdin'])
const MAX_MOOV = 64 * 1024 * 1024

interface Box { type: string; start: number; headerSize: number; size: number }

/** The boxes in ``bytes[from, to)`` (stops at the first one that does not fit). */
export function childBoxes(bytes: Uint8Array, from = 0, to = bytes.length): Box[] {
  const boxes: Box[] = []
  let at = from
  while (at + 8 <= to) {
    let size = u32(bytes, at)
    let headerSize = 8
    if (size === 1) {
      if (at + 16 > to) break
      size = u32(bytes, at + 8) * 2 ** 32 + u32(bytes, at + 12)
      headerSize = 16
    } else if (size === 0) {
      size = to - at
    }
    if (size < headerSize || at + size > to) break
    boxes.push({ type: text4(bytes, at + 4), start: at, headerSize, size })
    at += size
  }
  return boxes
}

/** Track kinds of a ``moov`` box's payload: trak → mdia → hdlr handler type. */
export function moovTracks(moov: Uint8Array): TrackKind[] {
  const kinds: TrackKind[] = []
  const inside = (box: Box): [number, number] => [box.start + box.headerSize, box.start + box.size]
  for (const trak of childBoxes(moov).filter((b) => b.type === 'trak')) {
    const mdia = childBoxes(moov, ...inside(trak)).find((b) => b.type === 'mdia')
    const hdlr = mdia && childBoxes(moov, ...inside(mdia)).find((b) => b.type === 'hdlr')
    if (!hdlr) continue
    const handler = text4(moov, hdlr.start + hdlr.headerSize + 8) // version+flags, pre_defined, handler_type
    kinds.push(handler === 'vide' ? 'video' : handler === 'soun' ? 'audio' : 'other')
  }
  return kinds
}

async function mp4Tracks(read: Reader, size: number): Promise<TrackKind[] | null> {
  let at = 0
  for (let n = 0; at + 8 <= size && n < 1000; n += 1) {
    const head = await read(at, 16)
    const type = text4(head, 4)
    if (!TOP_LEVEL.has(type)) return null // not (or no longer) an ISO file we understand
    let boxSize = u32(head, 0)
    let headerSize = 8
    if (boxSize === 1) {
      boxSize = u32(head, 8) * 2 ** 32 + u32(head, 12)
      headerSize = 16
    } else if (boxSize === 0) {
      boxSize = size - at
    }
    if (boxSize < headerSize) return null
    if (type === 'moov') {
      if (boxSize > MAX_MOOV) return null
      const moov = await read(at + headerSize, boxSize - headerSize)
      return moovTracks(moov)
    }
    at += boxSize
  }
  return null
}

// -- EBML (Matroska, WebM) -----------------------------------------------------------------

const EBML_MAGIC = 0x1a45dfa3
const SEGMENT = 0x18538067
const TRACKS = 0x1654ae6b
const TRACK_ENTRY = 0xae
const TRACK_TYPE = 0x83
const CLUSTER = 0x1f43b675
const EBML_WINDOW = 4 * 1024 * 1024

/** An EBML variable-length integer at ``at``: its value (marker kept for IDs) and length. */
function vint(b: Uint8Array, at: number, keepMarker: boolean): { value: number; length: number; unknown: boolean } | null {
  const first = b[at]
  if (first === undefined || first === 0) return null
  let length = 1
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length += 1
  if (length > 8 || at + length > b.length) return null
  let value = keepMarker ? first : first & (0xff >> length)
  let allOnes = value === (0xff >> length)
  for (let i = 1; i < length; i += 1) {
    const byte = b[at + i] ?? 0
    value = value * 256 + byte
    if (byte !== 0xff) allOnes = false
  }
  return { value, length, unknown: !keepMarker && allOnes }
}

interface Element { id: number; dataStart: number; dataEnd: number }

function element(b: Uint8Array, at: number, limit: number): Element | null {
  const id = vint(b, at, true)
  if (!id) return null
  const size = vint(b, at + id.length, false)
  if (!size) return null
  const dataStart = at + id.length + size.length
  const dataEnd = size.unknown ? limit : Math.min(limit, dataStart + size.value)
  return { id: id.value, dataStart, dataEnd }
}

/** Track kinds from the first bytes of a Matroska/WebM file; null when the Tracks are not there. */
export function ebmlTracks(b: Uint8Array): TrackKind[] | null {
  const header = element(b, 0, b.length)
  if (!header || header.id !== EBML_MAGIC) return null
  const segment = element(b, header.dataEnd, b.length)
  if (!segment || segment.id !== SEGMENT) return null
  let at = segment.dataStart
  while (at < segment.dataEnd) {
    const child = element(b, at, segment.dataEnd)
    if (!child || child.id === CLUSTER) return null
    if (child.id === TRACKS) {
      const kinds: TrackKind[] = []
      for (let t = child.dataStart; t < child.dataEnd;) {
        const entry = element(b, t, child.dataEnd)
        if (!entry) break
        if (entry.id === TRACK_ENTRY) {
          let kind: TrackKind = 'other'
          for (let f = entry.dataStart; f < entry.dataEnd;) {
            const field = element(b, f, entry.dataEnd)
            if (!field) break
            if (field.id === TRACK_TYPE) kind = b[field.dataEnd - 1] === 1 ? 'video' : b[field.dataEnd - 1] === 2 ? 'audio' : 'other'
            f = field.dataEnd
          }
          kinds.push(kind)
        }
        t = entry.dataEnd
      }
      return kinds
    }
    if (child.dataEnd <= at) return null
    at = child.dataEnd
  }
  return null
}

/** The tracks the header declares; null when the container is not one we read (the probe decides). */
export async function containerTracks(read: Reader, size: number): Promise<TrackKind[] | null> {
  if (size < 8) return null
  const head = await read(0, 16)
  if (u32(head, 0) === EBML_MAGIC) return ebmlTracks(await read(0, EBML_WINDOW))
  if (TOP_LEVEL.has(text4(head, 4))) return mp4Tracks(read, size)
  return null
}

/** Why a file is refused because its header shows sound but no picture; null otherwise. */
export async function audioOnlyReason(file: Blob & { name: string }): Promise<string | null> {
  const tracks = await containerTracks(blobReader(file), file.size).catch(() => null)
  if (!tracks || tracks.includes('video') || !tracks.includes('audio')) return null
  return `${file.name} has sound but no picture (its header lists no video track), so there is nothing to convert. Pick a video file.`
}
