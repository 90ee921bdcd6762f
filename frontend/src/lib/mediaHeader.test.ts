import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { audioOnlyReason, blobReader, containerTracks, ebmlTracks, moovTracks } from './mediaHeader'

// -- ISO boxes ----------------------------------------------------------------------------
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0))
const be32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]
function box(type: string, ...children: number[][]): number[] {
  const body = children.flat()
  return [...be32(8 + body.length), ...ascii(type), ...body]
}
const hdlr = (handler: string): number[] => box('hdlr', [0, 0, 0, 0], [0, 0, 0, 0], ascii(handler), new Array(12).fill(0), [0])
const trak = (handler: string): number[] => box('trak', box('tkhd', new Array(84).fill(0)), box('mdia', box('mdhd', new Array(24).fill(0)), hdlr(handler)))

function mp4(handlers: string[], moovLast = false): Blob {
  const ftyp = box('ftyp', ascii('isom'), [0, 0, 2, 0], ascii('isommp41'))
  const moov = box('moov', box('mvhd', new Array(100).fill(0)), ...handlers.map(trak))
  const mdat = box('mdat', new Array(5000).fill(7))
  return new Blob([new Uint8Array(moovLast ? [...ftyp, ...mdat, ...moov] : [...ftyp, ...moov, ...mdat])])
}

// -- EBML elements --------------------------------------------------------------------------
function el(id: number[], ...children: number[][]): number[] {
  const body = children.flat()
  if (body.length > 0x3fff) throw new Error('test element too big')
  return [...id, 0x40 | (body.length >> 8), body.length & 255, ...body]
}
const EBML = [0x1a, 0x45, 0xdf, 0xa3]
const SEGMENT = [0x18, 0x53, 0x80, 0x67]
const entry = (type: number): number[] => el([0xae], el([0xd7], [1]), el([0x83], [type]))
function mkv(types: number[], unknownSegmentSize = true): Uint8Array<ArrayBuffer> {
  const header = el(EBML, el([0x42, 0x82], ascii('webm')))
  const info = el([0x15, 0x49, 0xa9, 0x66], el([0x2a, 0xd7, 0xb1], [0x0f, 0x42, 0x40]))
  const tracks = el([0x16, 0x54, 0xae, 0x6b], ...types.map(entry))
  const cluster = el([0x1f, 0x43, 0xb6, 0x75], new Array(50).fill(0))
  const body = [...info, ...tracks, ...cluster]
  const segment = unknownSegmentSize ? [...SEGMENT, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...body] : el(SEGMENT, body)
  return new Uint8Array([...header, ...segment])
}

describe('MP4 / MOV headers', () => {
  it('lists the tracks from trak → mdia → hdlr', () => {
    const moov = new Uint8Array(box('moov', trak('vide'), trak('soun'), trak('text')).slice(8))
    expect(moovTracks(moov)).toEqual(['video', 'audio', 'other'])
  })

  it('finds the moov at the start or after the media data', async () => {
    for (const moovLast of [false, true]) {
      const file = mp4(['soun'], moovLast)
      expect(await containerTracks(blobReader(file), file.size)).toEqual(['audio'])
    }
  })

  it('knows nothing of files it cannot read', async () => {
    const junk = new Blob([new Uint8Array(4096).map((_, i) => (i * 37) & 255)])
    expect(await containerTracks(blobReader(junk), junk.size)).toBeNull()
    const tiny = new Blob([new Uint8Array([1, 2, 3])])
    expect(await containerTracks(blobReader(tiny), tiny.size)).toBeNull()
  })
})

describe('Matroska / WebM headers', () => {
  it('lists the track types of the Tracks element', () => {
    expect(ebmlTracks(mkv([1, 2]))).toEqual(['video', 'audio'])
    expect(ebmlTracks(mkv([2], false))).toEqual(['audio'])
    expect(ebmlTracks(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0x80]))).toBeNull()
  })
})

describe('audioOnlyReason', () => {
  const named = (blob: Blob, name: string) => Object.assign(blob, { name })

  it('refuses sound without a picture, and only that', async () => {
    expect(await audioOnlyReason(named(mp4(['soun']), 'voice.m4v'))).toMatch(/^voice\.m4v has sound but no picture/)
    expect(await audioOnlyReason(named(mp4(['vide', 'soun']), 'clip.mp4'))).toBeNull()
    expect(await audioOnlyReason(named(mp4(['vide']), 'silent.mp4'))).toBeNull()
    expect(await audioOnlyReason(named(new Blob([mkv([2])]), 'song.webm'))).toMatch(/no picture/)
    expect(await audioOnlyReason(named(new Blob([mkv([1])]), 'clip.webm'))).toBeNull()
    expect(await audioOnlyReason(named(new Blob(['not media at all']), 'x.mp4'))).toBeNull() // the probe decides
  })

  // The shared corpus (../shared/media), when this checkout has it next to it.
  const media = fileURLToPath(new URL('../../../../shared/media/', import.meta.url))
  const real = (name: string) => named(new Blob([readFileSync(media + name)]), name)
  it.skipIf(!existsSync(media))('reads the real corpus files right', async () => {
    expect(await audioOnlyReason(real('sample_audio_only.mp4'))).toMatch(/no picture/)
    for (const name of ['sample.mp4', 'sample_video_only.mp4', 'sowt-with-video.mov', 'bbb_1920x1080_60fps_vp8.webm', 'long_1080p_lowbitrate.mp4']) {
      expect(await audioOnlyReason(real(name)), name).toBeNull()
    }
    const webm = real('bbb_1920x1080_60fps_vp8.webm')
    expect(await containerTracks(blobReader(webm), webm.size)).toEqual(expect.arrayContaining(['video', 'audio']))
    const mov = real('sowt-with-video.mov')
    expect(await containerTracks(blobReader(mov), mov.size)).toEqual(expect.arrayContaining(['video', 'audio']))
  })
})
