import { describe, expect, it } from 'vitest'
import { ACCEPT, extensionOf, rejectionReason, uploadContentType } from './validate'

const MAX = 100 * 1024 ** 2
const file = (name: string, size = 1000, type = 'video/mp4') => ({ name, size, type })

describe('rejectionReason', () => {
  it('accepts videos by extension and type', () => {
    expect(rejectionReason(file('clip.mp4'), MAX)).toBeNull()
    expect(rejectionReason(file('CLIP.MOV', 10, 'video/quicktime'), MAX)).toBeNull()
    expect(rejectionReason(file('a.mkv', 10, ''), MAX)).toBeNull()
    expect(rejectionReason(file('a.webm', 10, 'application/octet-stream'), MAX)).toBeNull()
  })

  it('accepts extensions browsers guess wrong', () => {
    expect(rejectionReason(file('cam.ts', 10, 'text/vnd.trolltech.linguist'), MAX)).toBeNull()
    expect(rejectionReason(file('cam.mts', 10, 'application/typescript'), MAX)).toBeNull()
    expect(rejectionReason(file('phone.3gp', 10, 'audio/3gpp'), MAX)).toBeNull()
  })

  it('refuses what is not a video, with the reason', () => {
    expect(rejectionReason(file('notes.txt', 10, 'text/plain'), MAX)).toMatch(/^notes\.txt is not a video file we accept \(\.mp4, /)
    expect(rejectionReason(file('noext', 10, ''), MAX)).toMatch(/not a video file/)
    expect(rejectionReason(file('fake.mp4', 10, 'image/png'), MAX)).toBe('fake.mp4 is not a video (its type is image/png).')
  })

  it('refuses empty and oversized files', () => {
    expect(rejectionReason(file('empty.mp4', 0), MAX)).toBe('empty.mp4 is empty.')
    expect(rejectionReason(file('huge.mp4', MAX + 1), MAX)).toBe('huge.mp4 is 100 MB; the largest upload accepted is 100 MB.')
    expect(rejectionReason(file('edge.mp4', MAX), MAX)).toBeNull()
  })

  it('refuses names over 255 characters', () => {
    expect(rejectionReason(file(`${'a'.repeat(252)}.mp4`), MAX)).toMatch(/longer than 255/)
  })
})

describe('helpers', () => {
  it('finds extensions', () => {
    expect(extensionOf('a.b.MP4')).toBe('mp4')
    expect(extensionOf('.hidden')).toBe('')
    expect(extensionOf('plain')).toBe('')
  })

  it('sends a video type or a neutral one', () => {
    expect(uploadContentType('video/MP4')).toBe('video/mp4')
    expect(uploadContentType('')).toBe('application/octet-stream')
    expect(uploadContentType('text/vnd.trolltech.linguist')).toBe('application/octet-stream')
  })

  it('lets the picker offer videos and our extensions', () => {
    expect(ACCEPT.split(',')).toEqual(expect.arrayContaining(['video/*', '.mp4', '.mts', '.ogv']))
  })
})
