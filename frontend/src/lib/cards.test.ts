import { describe, expect, it } from 'vitest'
import { cardBar, cardStatus, stageSteps, videoItems } from './cards'
import { makeJob } from './testing'
import type { UploadStatus, UploadView } from './uploadView'
import { DEFAULT_CHOICE } from './streamOptions'

function upload(status: UploadStatus, jobId: string | null = 'j1', percent = 40, id = `u-${jobId}`): UploadView {
  return {
    id, name: `${jobId}.mp4`, size: 1000, lastModified: 1, jobId, choice: DEFAULT_CHOICE,
    bytesSent: 400, percent, speed: null, eta: null, status, problem: null, partsDone: 1, partsTotal: 3, partsResumed: 0,
  }
}

const now = 1_700_000_100

describe('cardStatus', () => {
  it('lets this browser\'s upload speak while the job awaits it', () => {
    const job = makeJob('j1', 'awaiting_upload')
    expect(cardStatus(null, upload('preparing', null), now)).toBe('starting')
    expect(cardStatus(job, upload('uploading'), now)).toBe('uploading')
    expect(cardStatus(job, upload('paused'), now)).toBe('paused')
    expect(cardStatus(job, upload('offline'), now)).toBe('offline')
    expect(cardStatus(job, upload('error'), now)).toBe('upload_failed')
    expect(cardStatus(job, upload('uploaded'), now)).toBe('uploaded')
  })

  it('says an upload nobody sends is interrupted, then expired after its window', () => {
    expect(cardStatus(makeJob('j1', 'awaiting_upload', { upload_expires_at: now + 60 }), null, now)).toBe('interrupted')
    expect(cardStatus(makeJob('j1', 'awaiting_upload', { upload_expires_at: now }), null, now)).toBe('expired')
    expect(cardStatus(makeJob('j1', 'awaiting_upload'), null, now)).toBe('interrupted')
  })

  it('follows the job once the server has the file', () => {
    expect(cardStatus(makeJob('j1', 'encoding'), upload('uploaded'), now)).toBe('encoding')
    expect(cardStatus(makeJob('j1', 'done'), null, now)).toBe('done')
    expect(cardStatus(makeJob('j1', 'cancelled'), upload('paused'), now)).toBe('cancelled')
  })
})

describe('stageSteps', () => {
  const states = (steps: ReturnType<typeof stageSteps>) => steps.map((s) => `${s.stage}:${s.state}`).join(' ')

  it('walks upload → probe → encode → done', () => {
    expect(states(stageSteps('uploading', null))).toBe('upload:current probe:todo encode:todo done:todo')
    expect(states(stageSteps('probing', makeJob('j', 'probing')))).toBe('upload:done probe:current encode:todo done:todo')
    expect(states(stageSteps('assembling', makeJob('j', 'assembling')))).toBe('upload:done probe:done encode:current done:todo')
    expect(states(stageSteps('done', makeJob('j', 'done')))).toBe('upload:done probe:done encode:done done:done')
  })

  it('marks where a job stopped', () => {
    const failed = (timings: Record<string, number>) => stageSteps('failed', makeJob('j', 'failed', { timings }))
    expect(states(failed({ upload: 1, queue: 1, probe: 0.4, total: 2.4 }))).toBe('upload:done probe:stopped encode:todo done:todo')
    expect(states(failed({ upload: 1, queue: 1, total: 2 }))).toBe('upload:done probe:stopped encode:todo done:todo')
    expect(states(failed({ upload: 1, queue: 1, probe: 1, encode: 9, total: 12 }))).toBe('upload:done probe:done encode:stopped done:todo')
    expect(states(failed({ upload: 1, queue: 1, probe: 1, encode: 9, assemble: 1 }))).toBe('upload:done probe:done encode:stopped done:todo')
    // Cancelled while uploading: the upload stage ended there.
    expect(states(stageSteps('cancelled', makeJob('j', 'cancelled', { timings: { upload: 5, total: 5 } })))).toBe('upload:stopped probe:todo encode:todo done:todo')
    expect(states(stageSteps('cancelled', makeJob('j', 'cancelled')))).toBe('upload:stopped probe:todo encode:todo done:todo')
    expect(states(stageSteps('expired', makeJob('j', 'awaiting_upload')))).toBe('upload:stopped probe:todo encode:todo done:todo')
  })
})

describe('cardBar', () => {
  it('shows the upload, then the encode', () => {
    expect(cardBar('uploading', null, upload('uploading'))).toEqual({ percent: 40, label: 'uploading 40 %', tone: 'progress' })
    expect(cardBar('paused', null, upload('paused'))).toMatchObject({ percent: 40, tone: 'paused', label: 'upload paused at 40 %' })
    const job = makeJob('j', 'encoding', { progress: { chunks_done: 3, chunks_total: 4, audio: 'done', percent: 80 } })
    expect(cardBar('encoding', job, null)).toEqual({ percent: 80, label: 'encoding 80 %', tone: 'progress' })
    expect(cardBar('done', makeJob('j', 'done'), null)).toMatchObject({ percent: 100, tone: 'success' })
    expect(cardBar('interrupted', makeJob('j', 'awaiting_upload'), null).label).toBe('waiting for the upload')
  })
})

describe('videoItems', () => {
  it('is one card per video: uploads first, then the listed jobs with their uploads', () => {
    const listed = [makeJob('j2', 'encoding'), makeJob('j1', 'awaiting_upload')]
    const uploads = [upload('uploading', 'j1'), upload('preparing', null, 0, 'u-new'), upload('uploading', 'j3')]
    const items = videoItems(listed, uploads, (id) => (id === 'j3' ? makeJob('j3', 'awaiting_upload') : undefined))
    expect(items.map((i) => `${i.key}:${i.job?.job_id ?? '-'}:${i.upload?.id ?? '-'}`)).toEqual([
      'u-j3:j3:u-j3', 'u-new:-:u-new', 'j2:j2:-', 'u-j1:j1:u-j1',
    ])
  })

  it('drops a finished upload whose job the filter hides', () => {
    const items = videoItems([], [upload('uploaded', 'j9')], () => makeJob('j9', 'done'))
    expect(items).toEqual([])
  })
})
