// The browser app end to end: real headless Chromium, the real local stack, real videos.
import { basename } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppPage, until } from './harness/app'
import { launchBrowser, throttleUploads, type Browser } from './harness/browser'
import { bigClip, corpus, notAVideo } from './harness/media'
import { holdParts, PartLog } from './harness/parts'
import { MIB, startStack, type RunningStack } from './harness/stack'

const PART_SIZE = 5 * MIB
const SOURCE = 'sample_with_increasing_timestamps_360p.mp4'
const LONG = 'long_1080p_lowbitrate.mp4'
const AUDIO_ONLY = 'sample_audio_only.mp4'

interface ApiJob {
  state: string
  options: { max_height: number; crf: number }
  probe: { duration: number } | null
  output: { duration: number; width: number; height: number } | null
  error: string | null
}

let stack: RunningStack
let browser: Browser
let app: AppPage
let parts: PartLog
let big: string
/** Browser network errors are expected while the test itself has the browser offline… */
const offlineWindows: Array<[number, number]> = []
/** …and 401s while it has set a wrong API key. */
const refusedWindows: Array<[number, number]> = []

beforeAll(async () => {
  big = bigClip(3 * PART_SIZE + 1) // at least 4 parts
  stack = await startStack(PART_SIZE)
  browser = await launchBrowser()
  app = new AppPage(browser.page, stack.url)
  parts = new PartLog(browser.page)
  await app.open()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

describe('framefleet in headless Chromium', () => {
  it('refuses a non-video file before uploading anything', async () => {
    const posts: string[] = []
    const onRequest = (r: { method: () => string; url: () => string }): void => {
      if (r.method() === 'POST') posts.push(r.url())
    }
    app.page.on('request', onRequest)
    await app.addFiles(notAVideo())
    const alert = app.page.locator('[data-testid=rejections] [role=alert]')
    await expect(alert.textContent()).resolves.toContain('notes.txt is not a video file we accept')
    await app.page.waitForTimeout(300)
    app.page.off('request', onRequest)
    expect(posts).toEqual([])
    expect(await app.page.locator('[data-testid=upload-item]').count()).toBe(0)
    await app.page.getByRole('button', { name: 'Dismiss these messages' }).click()
  })

  it('uploads a real video with options, follows it to done and plays the output', async () => {
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
    expect(await app.upload(SOURCE).locator('[data-testid=upload-progress]').getAttribute('aria-valuenow')).toBe('100')
    await app.jobState(jobId, 'done')
    const card = app.card(jobId)
    expect(await card.locator('[data-testid=job-progress]').getAttribute('aria-valuenow')).toBe('100')
    expect(await card.locator('[data-testid=chunk-strip] li').count()).toBeGreaterThan(1)
    expect(await card.locator('[data-testid=chunk-strip] li:not([data-state=done])').count()).toBe(0)
    const { body: job } = await app.api<ApiJob>(`/jobs/${jobId}`)
    expect(job.options).toMatchObject({ max_height: 360, crf: 26 })

    await card.getByRole('link', { name: 'View result' }).click()
    const player = app.page.locator('[data-testid=player]')
    await player.waitFor()
    await app.page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 2, null, { timeout: 30_000 })
    const duration = await player.evaluate((v) => (v as HTMLVideoElement).duration)
    expect(Math.abs(duration - (job.probe?.duration ?? 0))).toBeLessThan(0.1)
    const facts = app.page.locator('[data-testid=output-facts]')
    await expect(facts.locator('[data-fact=Resolution]').textContent()).resolves.toBe('640×360')
    await expect(facts.locator('[data-fact=Saving]').textContent()).resolves.toMatch(/% (smaller|larger)|same size/)
    const download = app.page.waitForEvent('download')
    await app.page.locator('[data-testid=download]').click()
    expect((await download).suggestedFilename()).toBe(SOURCE) // the output MP4, named after the upload
    await app.page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 4, null, { timeout: 5000 }).catch(() => undefined)
    await app.screenshot('03-result')
    await app.page.getByRole('link', { name: '← All jobs' }).click()
  })

  it('pauses a multipart upload and resumes it without re-sending finished parts', async () => {
    const unthrottle = await throttleUploads(browser, 4 * MIB)
    const { name, jobId, hold } = await startHeldUpload(3)
    // Bytes sent, speed and time left while it moves.
    const row = app.upload(name)
    const speed = row.locator('[data-testid=upload-speed]')
    await until(async () => /MB\/s/.test((await speed.textContent({ timeout: 500 }).catch(() => null)) ?? ''), 'a speed')
    expect(await row.locator('[data-testid=upload-eta]').textContent()).toMatch(/^(about \d+ s|less than a second) left$/)
    expect(await row.locator('[data-testid=upload-bytes]').textContent()).toMatch(/^[\d.]+ (KB|MB) of [\d.]+ MB \([\d.]+ %\)$/)
    await app.screenshot('01-upload')
    await app.partsDone(name, 2)
    await unthrottle()
    await row.getByRole('button', { name: 'Pause' }).click()
    await app.uploadStatus(name, 'paused')
    await hold.release()
    const before = parts.startedTotal(jobId)
    await app.page.waitForTimeout(1000)
    expect(parts.startedTotal(jobId)).toBe(before) // paused means paused
    await app.screenshot('01-upload-paused')
    await app.upload(name).getByRole('button', { name: 'Resume' }).click()
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
    await app.page.waitForTimeout(1500)
    await app.screenshot('01-upload-offline')
    await browser.context.setOffline(false)
    window[1] = Date.now() + 500
    await expectUploadedOnce(jobId, name, [1], 'kept by Uppy')
  })

  it('continues an upload after a page reload when the same file is picked again', async () => {
    const { name, jobId, hold } = await startHeldUpload(3)
    await app.partsDone(name, 2)
    await app.page.reload()
    await hold.release()
    await app.page.getByRole('heading', { name: 'Jobs' }).waitFor()
    await app.jobState(jobId, 'awaiting_upload')
    expect(await app.page.locator('[data-testid=upload-item]').count()).toBe(0)
    await app.addFiles(big)
    expect(await app.jobIdOf(name)).toBe(jobId) // the same job, not a new one
    await expectUploadedOnce(jobId, name, [1, 2], 'listed by S3')
  })

  it('cancels an upload in progress: the row goes, the job is cancelled', async () => {
    const { name, jobId, hold } = await startHeldUpload(2)
    await app.partsDone(name, 1)
    await app.upload(name).getByRole('button', { name: 'Cancel upload' }).click()
    await app.upload(name).waitFor({ state: 'detached' })
    await hold.release()
    await app.jobState(jobId, 'cancelled')
    expect((await app.api<ApiJob>(`/jobs/${jobId}`)).body.state).toBe('cancelled')
  })

  it('shows why a job failed', async () => {
    await app.addFiles(corpus(AUDIO_ONLY))
    const jobId = await app.jobIdOf(AUDIO_ONLY)
    await app.jobState(jobId, 'failed')
    const reason = await app.card(jobId).locator('[data-testid=job-error]').textContent()
    expect(reason).toMatch(/^Why it failed: .{10,}/)
  })

  it('cancels a running job, then deletes it', async () => {
    await app.addFiles(corpus(LONG))
    const jobId = await app.jobIdOf(LONG)
    await app.jobState(jobId, 'encoding')
    const card = app.card(jobId)
    await until(async () => (await card.locator('[data-testid=chunk-strip] li[data-state=done]').count()) >= 2, 'two chunks done', 60_000)
    await app.screenshot('02-dashboard')
    await card.getByRole('button', { name: 'Cancel' }).click()
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

  it('sends the API key from Settings with every API call, and says so when it is refused', async () => {
    const configKey = await app.apiKey()
    expect(configKey).not.toBe('') // the local stack's /config.json carries the local owner's key
    const wrong = [Date.now(), Number.POSITIVE_INFINITY] as [number, number]
    refusedWindows.push(wrong)
    await app.page.getByRole('button', { name: 'Settings' }).click()
    await app.page.getByLabel('API key').fill('ffk_wrong_key')
    const request = app.page.waitForRequest((r) => new URL(r.url()).pathname === '/jobs')
    await app.page.getByRole('button', { name: 'Save' }).click()
    expect((await request).headers()['x-api-key']).toBe('ffk_wrong_key')
    await expect(app.page.getByRole('alert').filter({ hasText: 'Set a valid API key in Settings' }).textContent()).resolves.toContain('refused')
    await app.page.getByRole('button', { name: 'Settings' }).click()
    const plain = app.page.waitForRequest((r) => new URL(r.url()).pathname === '/jobs')
    await app.page.getByRole('button', { name: 'Clear' }).click()
    expect((await plain).headers()['x-api-key']).toBe(configKey) // back to the key from config.json
    wrong[1] = Date.now()
    await app.page.getByRole('alert').filter({ hasText: 'Set a valid API key' }).waitFor({ state: 'detached' })
  })

  it('fits a phone screen and works from the keyboard', async () => {
    await app.page.setViewportSize({ width: 390, height: 844 })
    await app.open()
    const overflow = await app.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await app.screenshot('04-dashboard-phone')
    // Tab to the first "View result" link and open it with Enter.
    await app.page.locator('body').focus()
    for (let i = 0; i < 40; i += 1) {
      await app.page.keyboard.press('Tab')
      if ((await app.page.evaluate(() => document.activeElement?.textContent)) === 'View result') break
    }
    expect(await app.page.evaluate(() => document.activeElement?.textContent)).toBe('View result')
    await app.page.keyboard.press('Enter')
    await app.page.locator('[data-testid=player]').waitFor()
    await app.page.setViewportSize({ width: 1280, height: 860 })
  })

  it('logged no console errors', () => {
    const within = (windows: Array<[number, number]>, at: number): boolean => windows.some(([from, to]) => at >= from && at <= to)
    const expected = (e: { at: number; text: string }): boolean =>
      (within(offlineWindows, e.at) && e.text.includes('net::ERR_INTERNET_DISCONNECTED'))
      || (within(refusedWindows, e.at) && e.text.includes('status of 401'))
    expect(browser.errors.filter((e) => !expected(e))).toEqual([])
  })
})

/** Upload the generated clip with the parts from ``holdFrom`` on held back; returns once its job exists. */
async function startHeldUpload(holdFrom: number): Promise<{ name: string; jobId: string; hold: { release: () => Promise<void> } }> {
  const name = basename(big)
  const hold = await holdParts(app.page, holdFrom)
  await app.addFiles(big)
  return { name, jobId: await app.jobIdOf(name), hold }
}

/**
 * The upload finished, every part reached S3 exactly once, the parts finished before the
 * interruption (``sentOnce``) were sent only once, and the job was transcoded (its row then goes).
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
