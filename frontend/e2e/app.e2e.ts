// The browser app end to end: real headless Chromium, the real local stack, real videos.
import { statSync } from 'node:fs'
import { basename } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seriousViolations } from './harness/a11y'
import { AppPage, until } from './harness/app'
import { launchBrowser, throttleUploads, type Browser } from './harness/browser'
import { bigClip, brokenVideo, corpus, notAVideo } from './harness/media'
import { holdParts, PartLog } from './harness/parts'
import { MIB, startStack, type RunningStack } from './harness/stack'

const PART_SIZE = 5 * MIB
const SOURCE = 'sample_with_increasing_timestamps_360p.mp4'
const LONG = 'long_1080p_lowbitrate.mp4'
const AUDIO_ONLY = 'sample_audio_only.mp4'
/** Created through the API for the many-jobs tests (more than a page of 50). */
const BATCH = 55
const BATCH_CANCELLED = 20

/**
 * Five distinct corpus files and what their outputs must be. max_height 1080 downscales none of
 * them; the output keeps the display aspect in square pixels (the bbb clip stores 800x640 with a
 * 64:45 sample aspect: it is shown 16:9, so 1138x640), rotation applied (180°: same size).
 */
const FIVE = [
  { name: 'sample.mp4', width: 1080, height: 720, out: [1080, 720], frames: 30, audio: true },
  { name: 'sample_video_only.mp4', width: 1080, height: 720, out: [1080, 720], frames: 30, audio: false },
  { name: 'bbb_800x640_768kbps_30fps_avc_pyramid_3b.mp4', width: 800, height: 640, out: [1138, 640], frames: 120, audio: false },
  { name: 'sample_with_increasing_timestamps_320w_240h.mp4', width: 320, height: 240, out: [320, 240], frames: 932, audio: true },
  { name: 'internal_emulator_transformer_output_180_rotated.mp4', width: 1280, height: 720, out: [1280, 720], frames: 149, audio: true },
] as const

interface ApiJob {
  job_id: string
  state: string
  filename: string
  size: number
  created_at: number
  options: { max_height: number; crf: number }
  probe: { duration: number; video: { width: number; height: number; display_width?: number; display_height?: number; frame_count?: number } | null } | null
  output: {
    url: string
    url_expires_at?: number
    duration: number
    width: number
    height: number
    frames?: number
    audio?: { codec?: string } | null
  } | null
  error: string | null
}

let stack: RunningStack
let browser: Browser
let app: AppPage
let parts: PartLog
let big: string
/** Browser network errors are expected while the test itself has the browser offline… */
const offlineWindows: Array<[number, number]> = []
/** …401s while it has set a wrong API key… */
const refusedWindows: Array<[number, number]> = []
/** …and the 404 of a job that does not exist, opened on purpose. */
const missingWindows: Array<[number, number]> = []

beforeAll(async () => {
  big = bigClip(3 * PART_SIZE + 1) // at least 4 parts
  // Room for the batch of jobs awaiting their upload (they count as active until their window ends).
  stack = await startStack(PART_SIZE, { FRAMEFLEET_MAX_ACTIVE_JOBS: '200' })
  browser = await launchBrowser()
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url })
  app = new AppPage(browser.page, stack.url)
  parts = new PartLog(browser.page)
  await app.open()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

async function expectAccessible(name: string): Promise<void> {
  expect(await seriousViolations(app.page, name), `axe: ${name}`).toEqual([])
}

describe('framefleet in headless Chromium', () => {
  it('starts with an empty dashboard that says what to do', async () => {
    await app.page.locator('[data-testid=empty]').waitFor()
    expect(await app.page.locator('[data-testid=empty]').textContent()).toMatch(/No videos yet.*Drop a video/)
    expect(await app.cards().count()).toBe(0)
    await app.screenshot('empty')
    await expectAccessible('empty')
  })

  it('refuses a non-video file and an audio-only file before uploading anything', async () => {
    const posts: string[] = []
    const onRequest = (r: { method: () => string; url: () => string }): void => {
      if (r.method() === 'POST') posts.push(r.url())
    }
    app.page.on('request', onRequest)
    await app.addFiles(notAVideo(), corpus(AUDIO_ONLY))
    const alert = app.page.locator('[data-testid=rejections] [role=alert]')
    await alert.filter({ hasText: AUDIO_ONLY }).waitFor()
    const text = await alert.textContent()
    expect(text).toContain('notes.txt is not a video file we accept')
    expect(text).toContain(`${AUDIO_ONLY} has sound but no picture (its header lists no video track)`)
    await app.page.waitForTimeout(300)
    app.page.off('request', onRequest)
    expect(posts).toEqual([])
    expect(await app.cards().count()).toBe(0)
    await app.page.getByRole('button', { name: 'Dismiss these messages' }).click()
  })

  it('uploads a real video with options, follows it to done, shows every fact and plays the output', async () => {
    await app.page.getByLabel('Max height').selectOption('360')
    await app.page.getByLabel('Quality (CRF)').fill('26')
    const created = app.page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/jobs')
    await app.addFiles(corpus(SOURCE))
    // The browser declares what it read from the header, for the API's limits before any upload.
    expect((await created).postDataJSON()).toMatchObject({
      filename: SOURCE, content_type: 'video/mp4', width: 640, height: 360, options: { max_height: 360, crf: 26 },
    })
    expect(Math.abs(((await created).postDataJSON() as { duration: number }).duration - 17.06)).toBeLessThan(0.05)
    const jobId = await app.jobIdOf(SOURCE)
    await app.uploadStatus(SOURCE, 'uploaded')
    expect(await app.upload(SOURCE).locator('[data-testid=upload-bytes]').textContent()).toMatch(/^uploaded from this browser: 2\.9 MB \(100 %\)$/)
    await app.jobState(jobId, 'done')
    const card = app.card(jobId)
    expect(await card.locator('[data-testid=job-progress]').getAttribute('aria-valuenow')).toBe('100')
    expect(await card.locator('[data-testid=job-state]').textContent()).toBe('done')
    expect(await card.locator('[data-testid=job-stages] [data-step=done]').count()).toBe(4)
    await card.locator('[data-testid=chunk-strip]').waitFor()
    expect(await card.locator('[data-testid=chunk-strip] li').count()).toBeGreaterThan(1)
    expect(await card.locator('[data-testid=chunk-strip] li:not([data-state=done])').count()).toBe(0)
    expect(await card.locator('[data-testid=chunk-legend]').textContent()).toMatch(/^done \(\d+\)/)
    // The card's facts: duration and resolution of the source, the full name on hover.
    await card.locator('[data-fact=resolution]').waitFor()
    expect(await card.locator('[data-fact=resolution]').textContent()).toBe('640×360')
    expect(await card.locator('[data-fact=duration]').textContent()).toBe('17.06 s')
    expect(await card.locator('[data-fact=created]').textContent()).toMatch(/^created \d\d:\d\d$/)
    expect(await card.locator('[data-testid=job-name]').getAttribute('title')).toBe(SOURCE)
    expect(await card.locator('[data-testid=job-poster]').getAttribute('data-poster')).toMatch(/^(image|placeholder)$/)
    const { body: job } = await app.api<ApiJob>(`/jobs/${jobId}`)
    expect(job.options).toMatchObject({ max_height: 360, crf: 26 })
    await app.screenshot('done')

    await card.getByRole('link', { name: 'View result' }).click()
    const player = app.page.locator('[data-testid=player]')
    await player.waitFor()
    await app.page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 2, null, { timeout: 30_000 })
    const duration = await player.evaluate((v) => (v as HTMLVideoElement).duration)
    expect(Math.abs(duration - (job.probe?.duration ?? 0))).toBeLessThan(0.1)
    // Input and output side by side.
    const facts = app.page.locator('[data-testid=facts-table]')
    const cell = (row: string, side: 'input' | 'output') => facts.locator(`[data-row=${row}] [data-side=${side}]`).textContent()
    expect(await cell('resolution', 'input')).toBe('640×360')
    expect(await cell('resolution', 'output')).toBe(`${job.output?.width}×${job.output?.height}`)
    expect(await cell('video', 'input')).toMatch(/^H\.264/)
    expect(await cell('container', 'input')).toBe('MP4 / MOV')
    expect(await cell('frames', 'output')).toBe(String(job.output?.frames))
    expect(await cell('size', 'output')).toMatch(/\((\d+ % (smaller|larger)|same size)\)$/)
    expect(await cell('audio', 'input')).toMatch(/^AAC · stereo · 48 kHz$/)
    expect(await cell('range', 'input')).toMatch(/^(SDR|HDR)/)
    const options = app.page.locator('[data-testid=options-used]')
    expect(await options.locator('[data-fact="Max height"]').textContent()).toBe('360p')
    expect(await options.locator('[data-fact="Quality (CRF)"]').textContent()).toBe('26')
    expect(await app.page.locator('[data-testid=chunk-legend]').textContent()).toMatch(/done.*encoding now.*waiting.*retried after a failure/)
    const stages = await app.page.locator('[data-testid=stage-times] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-stage')))
    expect(stages).toEqual(['upload', 'queue', 'probe', 'encode', 'assemble', 'total'])
    // The playback/download URL with its expiry, and copy buttons that copy it.
    const url = await app.page.locator('[data-testid=output-url] input').inputValue()
    expect(new URL(url).pathname).toBe(new URL(job.output?.url ?? '').pathname)
    const note = await app.page.locator('[data-testid=output-url-note]').textContent()
    expect(job.output?.url_expires_at).toBeGreaterThan(Date.now() / 1000)
    // Past midnight the app names the day too ("2 Dec, 00:07").
    expect(note).toMatch(/^Works until (\d{1,2} [A-Z][a-z]{2}, )?\d\d:\d\d \(in (\d+ min|\d+ h)\)/)
    await app.page.locator('[data-testid=output-url]').getByRole('button', { name: 'Copy MP4 download URL' }).click()
    await until(async () => (await app.page.evaluate(() => navigator.clipboard.readText())) === url, 'the URL on the clipboard', 5000)
    await app.page.locator('[data-testid=job-id]').getByRole('button', { name: 'Copy Job ID' }).click()
    await until(async () => (await app.page.evaluate(() => navigator.clipboard.readText())) === jobId, 'the job id on the clipboard', 5000)
    const download = app.page.waitForEvent('download')
    await app.page.locator('[data-testid=download]').click()
    expect((await download).suggestedFilename()).toBe(SOURCE) // the output MP4, named after the upload
    await app.page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 4, null, { timeout: 5000 }).catch(() => undefined)
    await app.screenshot('result')
    await expectAccessible('result')
    await app.page.getByRole('link', { name: '← All jobs' }).click()
  })

  it('uploads five files picked at once into five correct jobs with the right outputs', async () => {
    await app.page.getByLabel('Max height').selectOption('1080')
    await app.page.getByLabel('Quality (CRF)').fill('23')
    await app.addFiles(...FIVE.map((f) => corpus(f.name)))
    const ids = await Promise.all(FIVE.map((f) => app.jobIdOf(f.name)))
    expect(new Set(ids).size).toBe(5)
    for (const id of ids) await app.jobState(id, 'done', 120_000)
    for (const [i, file] of FIVE.entries()) {
      const id = ids[i] ?? ''
      // The card of this job is the card of this file…
      expect(await app.card(id).locator('[data-testid=job-name]').getAttribute('title')).toBe(file.name)
      // …and the job holds this file, transcoded into this video.
      const { body: job } = await app.api<ApiJob>(`/jobs/${id}`)
      expect(job, file.name).toMatchObject({ filename: file.name, size: statSync(corpus(file.name)).size, state: 'done' })
      expect(job.probe?.video, file.name).toMatchObject({ width: file.width, height: file.height })
      expect(job.output, file.name).toMatchObject({ frames: file.frames, width: file.out[0], height: file.out[1] })
      const shown = job.probe?.video
      if (shown?.display_width && shown.display_height) {
        // Same shape as the source is shown (within a pixel of even rounding).
        expect(Math.abs(file.out[0] / file.out[1] - shown.display_width / shown.display_height), file.name).toBeLessThan(2 / file.out[1])
      }
      expect(Math.abs((job.output?.duration ?? 0) - (job.probe?.duration ?? 0)), file.name).toBeLessThan(0.1)
      expect(job.output?.audio, `${file.name} audio`).toBeDefined()
      expect(job.output?.audio !== null, `${file.name} has audio`).toBe(file.audio)
    }
  }, 180_000)

  it('pauses a multipart upload and resumes it without re-sending finished parts', async () => {
    const unthrottle = await throttleUploads(browser, 4 * MIB)
    const { name, jobId, hold } = await startHeldUpload(3)
    // Bytes sent, speed and time left while it moves, in the job's one card.
    const row = app.upload(name)
    const speed = row.locator('[data-testid=upload-speed]')
    await until(async () => /MB\/s/.test((await speed.textContent({ timeout: 500 }).catch(() => null)) ?? ''), 'a speed')
    expect(await row.locator('[data-testid=upload-eta]').textContent()).toMatch(/^(about \d+ s|less than a second) left$/)
    expect(await row.locator('[data-testid=upload-bytes]').textContent()).toMatch(/^[\d.]+ (KB|MB) of [\d.]+ MB sent \([\d.]+ %\)$/)
    const card = app.card(jobId)
    expect(await card.locator('[data-testid=job-state]').textContent()).toBe('uploading')
    expect(await card.locator('[data-testid=job-stages] [data-step=current]').getAttribute('data-stage')).toBe('upload')
    await app.screenshot('uploading')
    await app.partsDone(name, 2)
    await unthrottle()
    await card.getByRole('button', { name: 'Pause' }).click()
    await app.uploadStatus(name, 'paused')
    expect(await card.getAttribute('data-status')).toBe('paused')
    expect(await card.locator('[data-testid=job-state]').textContent()).toBe('paused')
    expect(await card.locator('[data-testid=job-progress]').getAttribute('data-tone')).toBe('paused')
    await hold.release()
    const before = parts.startedTotal(jobId)
    await app.page.waitForTimeout(1000)
    expect(parts.startedTotal(jobId)).toBe(before) // paused means paused
    await app.screenshot('paused')
    await expectAccessible('paused')
    await card.getByRole('button', { name: 'Resume' }).click()
    await expectUploadedOnce(jobId, name, [1, 2], 'listed by S3')
  })

  it('rides out a dropped network mid-upload', async () => {
    const { name, jobId, hold } = await startHeldUpload(2)
    await app.partsDone(name, 1)
    const window: [number, number] = [Date.now(), Number.POSITIVE_INFINITY]
    offlineWindows.push(window)
    await browser.context.setOffline(true)
    await hold.release() // the held parts now meet a dead network
    await app.uploadStatus(name, 'offline')
    expect(await app.card(jobId).locator('[data-testid=job-state]').textContent()).toBe('offline')
    await app.page.waitForTimeout(1500)
    await app.screenshot('offline')
    await browser.context.setOffline(false)
    window[1] = Date.now() + 500
    await expectUploadedOnce(jobId, name, [1], 'kept by Uppy')
  })

  it('says how to resume an upload cut by a page reload, and continues it when the same file is picked again', async () => {
    const { name, jobId, hold } = await startHeldUpload(3)
    await app.partsDone(name, 2)
    await app.page.reload()
    await hold.release()
    await app.page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor()
    await app.jobState(jobId, 'awaiting_upload')
    expect(await app.page.locator('[data-testid=upload-item]').count()).toBe(0)
    const card = app.card(jobId)
    expect(await card.getAttribute('data-status')).toBe('interrupted')
    const hint = await card.locator('[data-testid=resume-hint]').textContent()
    expect(hint).toContain(`pick the same file again to resume: ${name}`)
    const { body: job } = await app.api<ApiJob & { upload_expires_at?: number }>(`/jobs/${jobId}`)
    expect(job.upload_expires_at).toBeGreaterThan(Date.now() / 1000)
    expect(hint).toMatch(/You can resume until .+ \(in \d+ (h|min)\)/) // it ends with the job's upload window
    await app.screenshot('interrupted')
    await app.addFiles(big)
    expect(await app.jobIdOf(name)).toBe(jobId) // the same job, not a new one
    await expectUploadedOnce(jobId, name, [1, 2], 'listed by S3')
  })

  it('cancels an upload in progress: the upload stops, the job is cancelled', async () => {
    const { name, jobId, hold } = await startHeldUpload(2)
    await app.partsDone(name, 1)
    await app.card(jobId).getByRole('button', { name: 'Cancel upload' }).click()
    await app.upload(name).waitFor({ state: 'detached' })
    await hold.release()
    await app.jobState(jobId, 'cancelled')
    expect((await app.api<ApiJob>(`/jobs/${jobId}`)).body.state).toBe('cancelled')
  })

  it('shows why a job failed, on its card and on a page of its own', async () => {
    const broken = brokenVideo()
    await app.addFiles(broken)
    const jobId = await app.jobIdOf(basename(broken))
    await app.jobState(jobId, 'failed')
    const card = app.card(jobId)
    const reason = await card.locator('[data-testid=job-error]').textContent()
    expect(reason).toMatch(/^Why it failed: .{10,}/)
    expect(reason).not.toMatch(/[<>{}]|Traceback/)
    expect(await card.locator('[data-testid=job-stages] [data-step=stopped]').getAttribute('data-stage')).toBe('probe')
    await app.screenshot('failed')
    await expectAccessible('dashboard')
    await card.locator('[data-testid=job-name]').click()
    const page = app.page.locator('[data-testid=failed-page]')
    await page.waitFor()
    expect(await page.getByRole('heading').textContent()).toBe('This video could not be converted')
    expect(await page.locator('[data-testid=failure-reason]').textContent()).toMatch(/.{10,}/)
    expect(await page.textContent()).toMatch(/What to do: .{10,}/)
    await app.screenshot('failed-detail')
    await expectAccessible('failed-detail')
  })

  it('has a clean page for a job that does not exist', async () => {
    const window: [number, number] = [Date.now(), Number.POSITIVE_INFINITY]
    missingWindows.push(window)
    await app.page.goto(`${stack.url}/#/jobs/${'0'.repeat(32)}`)
    await app.page.locator('[data-testid=job-missing]').waitFor()
    window[1] = Date.now() + 500
    expect(await app.page.getByRole('heading', { name: 'Job not found' }).count()).toBe(1)
    expect(await app.page.locator('[data-testid=job-missing]').textContent()).toMatch(/may have been deleted/)
    await app.screenshot('not-found')
    await expectAccessible('not-found')
    await app.page.getByRole('link', { name: 'See all your jobs' }).click()
    await app.page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor()
  })

  it('shows a running encode with its chunk strip and an estimate, cancels it, then deletes it', async () => {
    await app.addFiles(corpus(LONG))
    const jobId = await app.jobIdOf(LONG)
    await app.jobState(jobId, 'encoding')
    const card = app.card(jobId)
    await until(async () => (await card.locator('[data-testid=chunk-strip] li[data-state=done]').count()) >= 2, 'two chunks done', 60_000)
    const estimate = card.locator('[data-testid=job-estimate]')
    await until(async () => ((await estimate.getAttribute('data-eta', { timeout: 500 }).catch(() => '')) ?? '') !== '', 'an encode estimate', 30_000)
    expect(Number(await estimate.getAttribute('data-eta'))).toBeGreaterThan(0)
    expect(await estimate.textContent()).toMatch(/^estimate: (about .+|less than a second) left · [\d.]+ chunks\/min/)
    // Frames per second from the chunks' frame counts, once chunks planned with a count are done.
    await until(async () => / · \d+ frames\/s$/.test((await estimate.textContent({ timeout: 500 }).catch(() => '')) ?? ''), 'frames per second', 30_000)
    expect(await card.locator('[data-testid=job-stages] [data-step=current]').getAttribute('data-stage')).toBe('encode')
    expect(await card.locator('[data-testid=chunk-legend]').textContent()).toMatch(/done \(\d+\).*encoding now \(\d+\).*waiting \(\d+\).*retried after a failure \(\d+\)/)
    await app.screenshot('encoding')
    await expectAccessible('encoding')
    await card.getByRole('button', { name: 'Cancel', exact: true }).click()
    await app.jobState(jobId, 'cancelled')
    expect((await app.api<ApiJob>(`/jobs/${jobId}`)).body.state).toBe('cancelled')
    await card.getByRole('button', { name: 'Delete…' }).click()
    await card.getByRole('button', { name: 'Delete for good' }).click()
    await card.waitFor({ state: 'detached' })
    expect((await app.api(`/jobs/${jobId}`)).status).toBe(404)
  })

  it('stops polling once every job is final', async () => {
    await app.page.locator('[data-testid=live-indicator][data-live=false]').waitFor({ timeout: 30_000 })
    let polls = 0
    const count = (r: { url: () => string }): void => {
      if (new URL(r.url()).pathname.startsWith('/jobs')) polls += 1
    }
    app.page.on('request', count)
    await app.page.waitForTimeout(3000)
    app.page.off('request', count)
    expect(polls).toBe(0)
  })

  describe('many jobs', () => {
    const batchIds: string[] = []

    beforeAll(async () => {
      for (let i = 0; i < BATCH; i += 1) {
        const name = `batch-${String(i).padStart(3, '0')}.mp4`
        const { status, body } = await app.api<{ job_id: string }>('/jobs', { method: 'POST', body: { filename: name, size: 1000 + i, content_type: 'video/mp4' } })
        if (status !== 201) throw new Error(`POST /jobs answered ${status}: ${JSON.stringify(body)}`)
        batchIds.push(body.job_id)
      }
      for (const id of batchIds.slice(0, BATCH_CANCELLED)) {
        const { status } = await app.api(`/jobs/${id}/cancel`, { method: 'POST' })
        if (status !== 200) throw new Error(`cancel answered ${status}`)
      }
    }, 60_000)

    it('pages past the first 50 jobs by scrolling (nothing vanishes)', async () => {
      const pages: string[] = []
      const onRequest = (r: { url: () => string }): void => {
        const url = new URL(r.url())
        if (url.pathname === '/jobs' && url.searchParams.has('before')) pages.push(url.search)
      }
      app.page.on('request', onRequest)
      await app.open()
      await until(async () => (await app.cards().count()) === 50, 'the first page of 50')
      expect(await app.page.locator('[data-testid=more-jobs]').getAttribute('data-has-more')).toBe('true')
      await app.screenshot('many-jobs', { fullPage: false })
      await expectAccessible('many-jobs')
      const all = await app.allJobs<ApiJob>()
      expect(all.length).toBeGreaterThan(BATCH)
      // Scrolling to the end loads the older pages (no button pressed).
      await app.scrollUntilCards(all.length)
      app.page.off('request', onRequest)
      expect(pages.length).toBeGreaterThanOrEqual(1)
      expect(await app.cardIds()).toEqual(all.map((j) => j.job_id)) // every job once, newest first
      expect(await app.page.locator('[data-testid=list-end]').textContent()).toBe(`All ${all.length} jobs shown.`)
      await app.screenshot('many-jobs-end', { fullPage: false })
    })

    it('searches by name', async () => {
      const asked = app.page.waitForRequest((r) => new URL(r.url()).searchParams.get('q') === 'batch-01')
      await app.page.getByLabel('Search by name').fill('batch-01')
      await asked
      await until(async () => (await app.cards().count()) === 10, 'the 10 jobs named batch-01x')
      const names = await app.page.locator('[data-testid=job-name]').evaluateAll((links) => links.map((l) => l.getAttribute('title')))
      expect(names).toEqual(Array.from({ length: 10 }, (_, i) => `batch-01${9 - i}.mp4`))
      expect(app.page.url()).toContain('q=batch-01') // kept in the address across a reload
      await app.page.getByLabel('Search by name').fill('no such name')
      await app.page.locator('[data-testid=no-match]').waitFor()
      await app.page.getByLabel('Search by name').fill('')
      await until(async () => (await app.cards().count()) === 50, 'the whole list again')
    })

    it('filters by state', async () => {
      const asked = app.page.waitForRequest((r) => new URL(r.url()).searchParams.get('state') === 'cancelled')
      await app.page.getByLabel('State').selectOption({ label: 'Cancelled' })
      await asked
      const cancelled = await app.allJobs<ApiJob>('state=cancelled')
      expect(cancelled.length).toBeGreaterThanOrEqual(BATCH_CANCELLED)
      await until(async () => (await app.cardIds()).join() === cancelled.map((j) => j.job_id).join(), 'the cancelled jobs')
      const states = await app.cards().evaluateAll((cards) => [...new Set(cards.map((c) => c.getAttribute('data-state')))])
      expect(states).toEqual(['cancelled'])
      await app.page.getByLabel('State').selectOption({ label: 'Done' })
      const done = await app.allJobs<ApiJob>('state=done')
      await until(async () => (await app.cardIds()).join() === done.map((j) => j.job_id).join(), 'the done jobs')
      await app.page.getByLabel('State').selectOption({ label: 'All states' })
      await until(async () => (await app.cards().count()) === 50, 'the whole list again')
    })

    it('sorts oldest first, and keeps the order across a reload', async () => {
      await app.page.getByLabel('Sort').selectOption('oldest')
      const oldest = (await app.allJobs<ApiJob>('order=oldest')).slice(0, 50).map((j) => j.job_id)
      await until(async () => (await app.cardIds()).join() === oldest.join(), 'the oldest 50 first')
      const created = (await app.allJobs<ApiJob>()).map((j) => j.created_at)
      expect(created).toEqual([...created].sort((a, b) => b - a))
      expect(app.page.url()).toContain('order=oldest')
      await app.page.reload()
      await until(async () => (await app.cardIds()).join() === oldest.join(), 'the oldest first after a reload')
      expect(await app.page.getByLabel('Sort').inputValue()).toBe('oldest')
      await app.page.getByLabel('Sort').selectOption('newest')
      await until(async () => (await app.cardIds())[0] === batchIds[BATCH - 1], 'the newest first again')
    })

    it('deletes the selected jobs in bulk', async () => {
      await app.page.getByLabel('Search by name').fill('batch-')
      await until(async () => (await app.cards().count()) === 50, 'the first 50 of the batch')
      await app.scrollUntilCards(BATCH)
      // Two picked by hand, then all shown.
      await app.card(batchIds[0] ?? '').getByLabel('Select batch-000.mp4').check()
      await app.card(batchIds[1] ?? '').getByLabel('Select batch-001.mp4').check()
      await app.page.getByRole('button', { name: 'Delete selected (2)…' }).waitFor()
      await app.page.getByTestId('select-all').check()
      const deleting = app.page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/jobs/delete')
      await app.page.getByRole('button', { name: `Delete selected (${BATCH})…` }).click()
      await app.page.getByRole('button', { name: `Delete ${BATCH} for good` }).click()
      expect(((await deleting).postDataJSON() as { job_ids: string[] }).job_ids.sort()).toEqual([...batchIds].sort())
      await app.page.locator('[data-testid=bulk-result]', { hasText: `Deleted ${BATCH} jobs.` }).waitFor()
      await app.page.locator('[data-testid=no-match]').waitFor()
      expect(await app.allJobs('q=batch-')).toEqual([])
      for (const id of [batchIds[0], batchIds[BATCH - 1]]) expect((await app.api(`/jobs/${id}`)).status).toBe(404)
      await app.page.getByLabel('Search by name').fill('')
    })
  })

  it('sends the API key from Settings with every API call, and says so when it is refused', async () => {
    await app.open()
    const configKey = await app.apiKey()
    expect(configKey).not.toBe('') // the local stack's /config.json carries the local owner's key
    // Until the reloaded list has looked at its jobs' details it polls: one of those, sent just
    // before Save, would carry the old key.
    await app.page.locator('[data-testid=live-indicator][data-live=false]').waitFor({ timeout: 30_000 })
    const wrong = [Date.now(), Number.POSITIVE_INFINITY] as [number, number]
    refusedWindows.push(wrong)
    await app.page.getByRole('button', { name: 'Settings' }).click()
    await app.page.getByLabel('API key').fill('ffk_wrong_key')
    const request = app.page.waitForRequest((r) => new URL(r.url()).pathname === '/jobs')
    await app.page.getByRole('button', { name: 'Save' }).click()
    expect((await request).headers()['x-api-key']).toBe('ffk_wrong_key')
    const refusal = app.page.getByRole('alert').filter({ hasText: 'Open Settings and paste a valid API key' })
    await expect(refusal.textContent()).resolves.toBe('The server refused your API key. Open Settings and paste a valid API key.')
    await app.page.getByRole('button', { name: 'Settings' }).click()
    const plain = app.page.waitForRequest((r) => new URL(r.url()).pathname === '/jobs')
    await app.page.getByRole('button', { name: 'Clear' }).click()
    expect((await plain).headers()['x-api-key']).toBe(configKey) // back to the key from config.json
    wrong[1] = Date.now()
    await refusal.waitFor({ state: 'detached' })
  })

  it('fits a phone screen, keeps a new upload\'s progress in view, and works from the keyboard', async () => {
    await app.page.setViewportSize({ width: 390, height: 844 })
    await app.open()
    await app.cards().first().waitFor()
    const overflow = await app.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await app.screenshot('phone')
    await expectAccessible('phone')
    // Start an upload: its card's progress is on screen right away, without scrolling.
    await app.addFiles(corpus('sample.mp4'))
    const jobId = await app.jobIdOf('sample.mp4')
    const bar = app.card(jobId).locator('[data-testid=job-progress]')
    const box = await bar.boundingBox()
    const height = await app.page.evaluate(() => window.innerHeight)
    expect(box && box.y >= 0 && box.y + box.height <= height, `progress bar at ${JSON.stringify(box)} in a ${height} px screen`).toBe(true)
    await app.screenshot('phone-uploading', { fullPage: false })
    await app.jobState(jobId, 'done')
    // Tab to the first "View result" link and open it with Enter.
    await app.page.evaluate(() => window.scrollTo(0, 0))
    await app.page.locator('body').focus()
    for (let i = 0; i < 80; i += 1) {
      await app.page.keyboard.press('Tab')
      if ((await app.page.evaluate(() => document.activeElement?.textContent)) === 'View result') break
    }
    expect(await app.page.evaluate(() => document.activeElement?.textContent)).toBe('View result')
    await app.page.keyboard.press('Enter')
    await app.page.locator('[data-testid=player]').waitFor()
    const detailOverflow = await app.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(detailOverflow).toBeLessThanOrEqual(0)
    await app.screenshot('phone-result')
    await app.page.setViewportSize({ width: 1280, height: 860 })
  })

  it('follows a dark color scheme', async () => {
    await app.page.emulateMedia({ colorScheme: 'dark' })
    try {
      await app.open()
      await app.cards().first().waitFor()
      const background = await app.page.evaluate(() => getComputedStyle(document.body).backgroundColor)
      const card = await app.cards().first().evaluate((el) => getComputedStyle(el).backgroundColor)
      expect(lightness(background), background).toBeLessThan(0.25)
      expect(lightness(card), card).toBeLessThan(0.3)
      await app.screenshot('dark')
      await expectAccessible('dark')
      await app.cards().filter({ has: app.page.getByRole('link', { name: 'View result' }) }).first().getByRole('link', { name: 'View result' }).click()
      await app.page.locator('[data-testid=player]').waitFor()
      await app.screenshot('dark-result')
      await expectAccessible('dark-result')
    } finally {
      await app.page.emulateMedia({ colorScheme: 'light' })
    }
    const light = await app.page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    expect(lightness(light), light).toBeGreaterThan(0.8)
  })

  it('logged no console errors', () => {
    const within = (windows: Array<[number, number]>, at: number): boolean => windows.some(([from, to]) => at >= from && at <= to)
    const expected = (e: { at: number; text: string }): boolean =>
      (within(offlineWindows, e.at) && e.text.includes('net::ERR_INTERNET_DISCONNECTED'))
      || (within(refusedWindows, e.at) && e.text.includes('status of 401'))
      || (within(missingWindows, e.at) && e.text.includes('status of 404'))
    expect(browser.errors.filter((e) => !expected(e))).toEqual([])
  })
})

/** 0 (black) to 1 (white) from a computed CSS colour (rgb(), lab() or oklch()). */
function lightness(color: string): number {
  const oklch = /^oklch\(([\d.]+)(%?)/.exec(color)
  if (oklch) return Number(oklch[1]) / (oklch[2] ? 100 : 1)
  const lab = /^lab\(([\d.]+)/.exec(color) // CIE L* 0–100
  if (lab) return Number(lab[1]) / 100
  const rgb = /^rgba?\(([\d.]+),?\s*([\d.]+),?\s*([\d.]+)/.exec(color)
  if (!rgb) throw new Error(`unknown colour ${color}`)
  const [r, g, b] = [rgb[1], rgb[2], rgb[3]].map((v) => Number(v) / 255) as [number, number, number]
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

/** Upload the generated clip with the parts from ``holdFrom`` on held back; returns once its job exists. */
async function startHeldUpload(holdFrom: number): Promise<{ name: string; jobId: string; hold: { release: () => Promise<void> } }> {
  const name = basename(big)
  const hold = await holdParts(app.page, holdFrom)
  await app.addFiles(big)
  return { name, jobId: await app.jobIdOf(name), hold }
}

/**
 * The upload finished, every part reached S3 exactly once, the parts finished before the
 * interruption (``sentOnce``) were sent only once, and the job was transcoded (its upload part
 * of the card then goes).
 * ``how``: whether the finished parts were learned again from S3 (listParts) or kept in memory.
 */
async function expectUploadedOnce(jobId: string, name: string, sentOnce: number[], how: 'listed by S3' | 'kept by Uppy'): Promise<void> {
  await app.uploadStatus(name, 'uploaded')
  if (how === 'listed by S3') {
    expect(Number(await app.upload(name).getAttribute('data-parts-resumed'))).toBeGreaterThanOrEqual(sentOnce.length)
  }
  await expectEachPartStoredOnce(jobId, name, sentOnce)
  await app.jobState(jobId, 'done')
  await app.upload(name).waitFor({ state: 'detached' })
}

/** Every part of the job reached S3 exactly once; the parts done before the interruption were sent once. */
async function expectEachPartStoredOnce(jobId: string, name: string, sentOnce: number[]): Promise<void> {
  const total = Number(await app.upload(name).getAttribute('data-parts-total'))
  expect(total).toBeGreaterThanOrEqual(4)
  for (let n = 1; n <= total; n += 1) expect(parts.stored(jobId, n), `part ${n} stored`).toBe(1)
  for (const n of sentOnce) expect(parts.started(jobId, n), `part ${n} started`).toBe(1)
}
