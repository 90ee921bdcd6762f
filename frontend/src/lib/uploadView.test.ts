import { describe, expect, it } from 'vitest'
import { partsTotal, toUploadView, uploadStatus, type UppyFileLike, type ViewContext } from './uploadView'
import { DEFAULT_CHOICE } from './streamOptions'

const MIB = 1024 ** 2

function file(extra: Partial<UppyFileLike> = {}, progress: Partial<UppyFileLike['progress']> = {}): UppyFileLike {
  return {
    id: 'f1',
    name: 'big.mp4',
    size: 12 * MIB,
    meta: { choice: { ...DEFAULT_CHOICE, max_height: 720, crf: 26 }, jobId: 'j1' },
    ...extra,
    progress: { bytesUploaded: 6 * MIB, bytesTotal: 12 * MIB, uploadStarted: 1, uploadComplete: false, ...progress },
  }
}

const ctx = (extra: Partial<ViewContext> = {}): ViewContext => ({
  samples: [{ at: 0, bytes: 0 }, { at: 2000, bytes: 6 * MIB }],
  parts: { done: new Set([1]), resumed: new Set() },
  partSize: 5 * MIB,
  online: true,
  now: 2000,
  ...extra,
})

describe('toUploadView', () => {
  it('shows bytes sent, speed, time left and parts', () => {
    const view = toUploadView(file(), ctx())
    expect(view).toMatchObject({
      status: 'uploading', bytesSent: 6 * MIB, percent: 50, speed: 3 * MIB, eta: 2, partsDone: 1, partsTotal: 3, jobId: 'j1',
    })
  })

  it('has no speed or time left unless it is moving', () => {
    expect(toUploadView(file({ isPaused: true }), ctx())).toMatchObject({ status: 'paused', speed: null, eta: null })
    expect(toUploadView(file(), ctx({ online: false }))).toMatchObject({ status: 'offline', speed: null })
  })

  it('is complete when Uppy says so', () => {
    const view = toUploadView(file({}, { uploadComplete: true, bytesUploaded: 12 * MIB }), ctx())
    expect(view).toMatchObject({ status: 'uploaded', percent: 100, eta: 0, partsDone: 3 })
  })

  it('counts resumed parts', () => {
    expect(toUploadView(file(), ctx({ parts: { done: new Set([1, 2]), resumed: new Set([1, 2]) } })).partsResumed).toBe(2)
  })
})

describe('uploadStatus', () => {
  it('orders the states', () => {
    expect(uploadStatus(file({ meta: { choice: { ...DEFAULT_CHOICE, max_height: 1, crf: 1 } } }), true)).toBe('preparing')
    expect(uploadStatus(file({}, { uploadStarted: null }), true)).toBe('preparing')
    expect(uploadStatus(file({ error: 'boom' }), true)).toBe('error')
    expect(uploadStatus(file({ error: 'boom', isPaused: true }), true)).toBe('error')
  })

  it('explains a stopped upload in plain words, never the raw S3 answer', () => {
    const view = toUploadView(file({ error: '<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>' }), ctx())
    expect(view.problem?.message).toBe('The storage refused part of the upload.')
    expect(view.problem?.next).toMatch(/Retry/)
    const refused = { message: 'Video is 21000 s long, over your 14400 s limit.', next: 'Check the file and the options, then try again.' }
    const job = toUploadView(file({ error: 'x', meta: { choice: { ...DEFAULT_CHOICE, max_height: 1, crf: 1 }, jobProblem: refused } }), ctx())
    expect(job.problem).toEqual(refused)
    expect(toUploadView(file(), ctx()).problem).toBeNull()
  })

  it('counts parts like Uppy cuts them', () => {
    expect(partsTotal(12 * MIB, 5 * MIB)).toBe(3)
    expect(partsTotal(10 * MIB, 5 * MIB)).toBe(2)
    expect(partsTotal(100, 5 * MIB)).toBe(1)
    expect(partsTotal(100, null)).toBe(1)
  })
})
