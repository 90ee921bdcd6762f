// Live status, posters, storyboards, the estimate and webhooks end to end: real headless Chromium,
// the real local stack (its long polls, the posters and storyboards its workers make, its estimate,
// its webhook sender) and a real HTTP receiver.
import { createHmac } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seriousViolations } from './harness/a11y'
import { AppPage, until } from './harness/app'
import { launchBrowser, type Browser } from './harness/browser'
import { countLongPolls, longPollPeak, LongPolls, recordShown, shownLog } from './harness/live'
import { streamClip } from './harness/media'
import { ARTIFACTS } from './harness/paths'
import { MIB, startStack, type RunningStack } from './harness/stack'

/** The old status polls came every 0.5 s at best (8 s when idle): a live view must beat that. */
const OLD_POLL_MS = 500
/** Long polls the app keeps open at most (MAX_WATCHED in src/lib/jobsStore.ts). */
const MAX_WATCHED = 2

interface LiveJob {
  job_id: string
  state: string
  version: number
  created_at: number
  updated_at: number
  timings: Record<string, number>
  poster_url: string | null
  storyboard_url: string | null
  estimate: { ready_in_seconds: number | null; cost_usd: number; made_at: number } | null
  actual: { ready_in_seconds: number; cost_usd: number | null } | null
  output: { duration: number } | null
}

let stack: RunningStack
let browser: Browser
let app: AppPage
let polls: LongPolls
/** The 12 s clip's job, done (the poster, storyboard and estimate tests look at it). */
let done: LiveJob

beforeAll(async () => {
  // The receiver of the webhooks test listens on this machine: loopback allowed (local development).
  stack = await startStack(5 * MIB, { FRAMEFLEET_WEBHOOK_ALLOW_LOOPBACK: '1' })
  browser = await launchBrowser()
  app = new AppPage(browser.page, stack.url)
  polls = new LongPolls(browser.page)
  await countLongPolls(browser.context)
  await app.open()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

async function job(jobId: string): Promise<LiveJob> {
  const { status, body } = await app.api<LiveJob>(`/jobs/${jobId}`)
  if (status !== 200) throw new Error(`GET /jobs/${jobId} answered ${status}`)
  return body
}

async function openJob(jobId: string): Promise<void> {
  await app.page.evaluate((id) => { window.location.hash = `#/jobs/${id}` }, jobId)
  await app.page.locator('[data-testid=result]').waitFor()
}

/** A playback link without its token (the app keeps a link while valid; the API signs anew). */
function untokened(url: string | null | undefined): string {
  return (url ?? '').replace(/\/\d{9,12}\.[A-Za-z0-9_-]+\//, '/{token}/')
}

/** Epoch seconds the job entered each state, from its creation and the seconds of each stage. */
function enteredAt(j: LiveJob): Record<string, number> {
  const stages: Array<[string, string]> = [['upload', 'queued'], ['queue', 'probing'], ['probe', 'encoding'], ['encode', 'assembling']]
  const at: Record<string, number> = { awaiting_upload: j.created_at }
  let t = j.created_at
  for (const [stage, next] of stages) {
    if (j.timings[stage] === undefined) break
    t += j.timings[stage]
    at[next] = t
  }
  at[j.state] = j.updated_at // the final state's own mark (the last change of a final job)
  return at
}

async function expectAccessible(name: string): Promise<void> {
  expect(await seriousViolations(app.page, name), `axe: ${name}`).toEqual([])
}

describe('live status, posters, storyboards and the estimate in headless Chromium', () => {
  it('shows each state of the job on screen as soon as the API has it, and the estimate once probed', async () => {
    const clip = streamClip(12)
    await recordShown(app.page)
    await app.addFiles(clip)
    const jobId = await app.jobIdOf(basename(clip))
    await openJob(jobId)
    await app.page.locator('[data-testid=result][data-state=done]').waitFor({ timeout: 90_000 })
    const shown = await shownLog(app.page)
    done = await job(jobId)
    expect(done.state).toBe('done')
    const entered = enteredAt(done)
    // Every state the view showed after its first look (which shows whatever the job was in).
    const seen = Object.entries(shown.states).sort(([, a], [, b]) => a - b).slice(1)
    const lag = Object.fromEntries(seen.map(([state, at]) => [state, Math.round(at - (entered[state] ?? Number.NaN) * 1000)]))
    mkdirSync(ARTIFACTS, { recursive: true })
    writeFileSync(join(ARTIFACTS, 'live-latency.json'), `${JSON.stringify({ lag_ms: lag, shown, entered }, null, 2)}\n`)
    console.log(`state change → shown (ms): ${JSON.stringify(lag)}`)
    expect(Object.keys(lag)).toContain('done')
    for (const [state, ms] of Object.entries(lag)) {
      expect(ms, `${state} shown ${ms} ms after the API had it`).toBeGreaterThanOrEqual(-50) // the same clock: never before
      expect(ms, `${state} shown ${ms} ms after the API had it`).toBeLessThan(state === 'done' ? OLD_POLL_MS : 2 * OLD_POLL_MS)
    }
    // It was a long poll's answer that brought it, not a poll that happened to come along.
    await until(() => polls.answered.some((a) => a.url.includes(`/jobs/${jobId}?`) && a.state === 'done'), 'the long poll that answered done', 5000)

    // The estimate appeared once the video was probed (before done), and the actual next to it at done.
    expect(shown.forecast, 'the estimate on screen').not.toBeNull()
    expect(shown.forecast ?? Infinity).toBeLessThan(shown.states.done ?? 0)
    const estimate = done.estimate
    expect(estimate?.ready_in_seconds).toBeGreaterThan(0)
    const ready = estimate?.ready_in_seconds ?? 0
    expect(await app.page.getByTestId('forecast-ready').textContent()).toBe(`ready in ${ready < 10 ? ready.toFixed(1) : Math.round(ready)} s`)
    const cost = Number((await app.page.getByTestId('forecast-cost').textContent())?.replace('$', ''))
    expect(Math.abs(cost - (estimate?.cost_usd ?? 0)) / (estimate?.cost_usd ?? 1), `shown $${cost}, estimated $${estimate?.cost_usd}`).toBeLessThan(0.05)
    const actual = done.actual?.ready_in_seconds ?? 0
    await expect(app.page.getByTestId('forecast-actual').textContent()).resolves.toMatch(new RegExp(`^Actual: took ${actual < 10 ? actual.toFixed(1) : Math.round(actual)} s · cost \\$[\\d.]+`))
    expect(await app.page.getByTestId('forecast-basis').textContent()).toMatch(/processor\(s\) running on \d+ core\(s\)/)
    await app.page.getByText('What it was computed from').click()
    expect(await app.page.getByTestId('forecast-facts').textContent()).toMatch(/Workers2 processors on 2 cores, local/)
    await app.screenshot('live-estimate')
    await expectAccessible('live-estimate')
  }, 120_000)

  it('shows the poster on the job card and as the player\'s poster', async () => {
    expect(done.poster_url).toMatch(/\/poster\.jpg$/)
    const image = await fetch(done.poster_url ?? '')
    expect(image.headers.get('content-type')).toBe('image/jpeg')
    await app.open()
    const poster = app.card(done.job_id).locator('[data-testid=job-poster][data-poster=image] img')
    await poster.waitFor()
    expect(untokened(await poster.getAttribute('src'))).toBe(untokened(done.poster_url))
    await until(async () => poster.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0), 'the poster to load')
    await openJob(done.job_id)
    const video = app.page.locator('[data-testid=stream-player] video')
    await video.waitFor()
    expect(untokened(await video.getAttribute('poster'))).toBe(untokened(done.poster_url))
  })

  it('previews the storyboard tile of the time under the pointer on the seek bar', async () => {
    expect(done.storyboard_url).toMatch(/\/storyboard\.vtt$/)
    await app.page.locator('[data-testid=stream-player][data-status=ready]').waitFor({ timeout: 30_000 })
    const vttUrl = done.storyboard_url ?? ''
    const cues = [...(await (await fetch(vttUrl)).text()).matchAll(/(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)/g)]
      .map((m) => {
        const s = (i: number): number => Number(m[i]) * 3600 + Number(m[i + 1]) * 60 + Number(m[i + 2]) + Number(m[i + 3]) / 1000
        return { start: s(1), end: s(5), sheet: new URL(m[9] ?? '', vttUrl).href, x: Number(m[10]), y: Number(m[11]), w: Number(m[12]), h: Number(m[13]) }
      })
    expect(cues.length).toBeGreaterThanOrEqual(6)
    const bar = app.page.getByTestId('seek')
    await app.page.locator('[data-testid=seek-bar]:not([data-tiles="0"])').waitFor()
    const duration = await app.page.evaluate(() => document.querySelector('video')?.duration ?? Number.NaN)
    expect(duration).toBeCloseTo(12, 0)
    const box = await bar.boundingBox()
    if (!box) throw new Error('no seek bar on screen')
    const tile = app.page.getByTestId('storyboard-tile')
    const sheets = new Set<string>()
    for (const t of [1.5, 5.5, 10.5]) {
      await app.page.mouse.move(box.x + (box.width * t) / duration, box.y + box.height / 2)
      await until(async () => Math.abs(Number(await tile.getAttribute('data-time').catch(() => 'NaN')) - t) < 0.1, `the tile of ${t} s`, 5000)
      const cue = cues.find((c) => c.start <= t && t < c.end)
      if (!cue) throw new Error(`no cue at ${t} s`)
      const style = await tile.evaluate((el) => { const s = getComputedStyle(el); return { image: s.backgroundImage, position: s.backgroundPosition, width: s.width, height: s.height } })
      const sprite = /^url\("(.+)"\)$/.exec(style.image)?.[1] ?? ''
      expect(untokened(sprite), `the sheet at ${t} s`).toBe(untokened(cue.sheet))
      expect(style.position).toBe(`${-cue.x}px ${-cue.y}px`)
      expect([style.width, style.height]).toEqual([`${cue.w}px`, `${cue.h}px`])
      // The sheet is there and holds the tile.
      const [width, height] = await app.page.evaluate(async (url) => {
        const img = new Image()
        img.src = url
        await img.decode()
        return [img.naturalWidth, img.naturalHeight]
      }, sprite)
      expect(width).toBeGreaterThanOrEqual(cue.x + cue.w)
      expect(height).toBeGreaterThanOrEqual(cue.y + cue.h)
      sheets.add(`${sprite}#${style.position}`)
    }
    expect(sheets.size).toBe(3) // three places, three different tiles
    await app.screenshot('live-storyboard', { fullPage: false })
    await expectAccessible('live-storyboard')
    // Leaving the bar hides the tile; a click seeks to the time under the pointer.
    await app.page.mouse.move(box.x + box.width / 2, box.y - 200)
    await tile.waitFor({ state: 'detached' })
    await app.page.mouse.click(box.x + (box.width * 8.5) / duration, box.y + box.height / 2)
    await until(async () => Math.abs((await app.page.evaluate(() => document.querySelector('video')?.currentTime ?? 0)) - 8.5) < 0.5, 'the playhead at 8.5 s', 5000)
  })

  it('keeps at most two long polls open for many running jobs, and aborts the one of a view that closes', async () => {
    await app.open()
    await longPollPeak(app.page, true)
    polls.resetPeak()
    const clips = [0, 1, 2, 3].map((i) => streamClip(6, `live-${i}.mp4`))
    await app.addFiles(...clips)
    const ids = await Promise.all(clips.map((c) => app.jobIdOf(basename(c))))
    for (const id of ids) await app.jobState(id, 'done', 90_000)
    const peak = await longPollPeak(app.page)
    console.log(`long polls open at once: at most ${peak} (network view: ${polls.peak}, aborted ones counted until torn down)`)
    expect(peak, 'long polls open at once').toBeLessThanOrEqual(MAX_WATCHED)
    expect(peak).toBeGreaterThan(0)
    expect(polls.answered.filter((a) => ids.some((id) => a.url.includes(id))).length, 'long polls answered for these jobs').toBeGreaterThan(0)

    // A job nobody uploads to is followed only while its view is open.
    const { body: waiting } = await app.api<{ job_id: string }>('/jobs', { method: 'POST', body: { filename: 'nobody.mp4', size: 1000, content_type: 'video/mp4' } })
    await openJob(waiting.job_id)
    await until(() => polls.open().includes(waiting.job_id), 'its long poll', 5000)
    await app.page.evaluate(() => { window.location.hash = '#/' })
    await until(() => polls.aborted.some((url) => url.includes(waiting.job_id)), 'its long poll to be aborted', 2000)
    expect(polls.open()).not.toContain(waiting.job_id)
    await app.api(`/jobs/${waiting.job_id}/cancel`, { method: 'POST' })
  }, 120_000)

  it('manages webhooks in Settings: adds an endpoint (its secret once), shows its deliveries, redelivers one', async () => {
    const receiver = await startReceiver()
    try {
      await app.open()
      await app.page.getByRole('button', { name: 'Settings' }).click()
      await app.page.getByTestId('webhooks-empty').waitFor()
      await app.page.getByLabel('Receiver URL').fill(receiver.url)
      await app.page.getByLabel('job.done').check()
      await app.page.getByRole('button', { name: 'Add endpoint' }).click()
      const secret = (await app.page.getByTestId('webhook-secret-value').textContent()) ?? ''
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/)
      const { body: listed } = await app.api<{ webhooks: Array<{ id: string; url: string; events: string[]; secret?: string }> }>('/webhooks')
      expect(listed.webhooks.map(({ url, events, secret: s }) => ({ url, events, s }))).toEqual([{ url: receiver.url, events: ['job.done'], s: undefined }])
      await expect(app.page.getByTestId('webhook-url').textContent()).resolves.toBe(receiver.url)
      await expectAccessible('live-webhooks')

      // A job finishes: the receiver gets job.done, signed with the secret the panel showed.
      const clip = streamClip(6, 'live-hook.mp4')
      await app.addFiles(clip)
      const jobId = await app.jobIdOf(basename(clip))
      await until(() => receiver.got.length === 1, 'the job.done delivery', 90_000)
      const first = receiver.got[0]
      if (!first) throw new Error('no delivery')
      expect(JSON.parse(first.body)).toMatchObject({ type: 'job.done', data: { job_id: jobId } })
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
      const signed = createHmac('sha256', key).update(`${first.id}.${first.timestamp}.${first.body}`).digest('base64')
      expect(first.signature.split(' ')).toContain(`v1,${signed}`)

      // Its delivery in the panel, then sent again: the same webhook-id.
      await app.page.getByRole('button', { name: 'Deliveries' }).click()
      const row = app.page.locator('[data-testid=delivery][data-type="job.done"]')
      await row.and(app.page.locator('[data-status=succeeded]')).waitFor()
      expect(await row.textContent()).toMatch(/delivered1 attempt · answered 200/)
      await row.getByRole('button', { name: 'Redeliver job.done' }).click()
      await until(() => receiver.got.length === 2, 'the redelivery', 30_000)
      expect(receiver.got[1]?.id).toBe(first.id)
      await until(async () => {
        await app.page.getByRole('button', { name: 'Refresh deliveries' }).click()
        return (await row.getAttribute('data-status')) === 'succeeded' && Number(await row.getAttribute('data-redeliveries')) === 1
      }, 'the redelivery in the list', 10_000)
      await app.screenshot('live-webhooks')
      await expectAccessible('live-webhook-deliveries')

      await app.page.getByRole('button', { name: /^Delete the endpoint/ }).click()
      await app.page.getByRole('button', { name: 'Delete for good' }).click()
      await app.page.getByTestId('webhooks-empty').waitFor()
      expect((await app.api<{ webhooks: unknown[] }>('/webhooks')).body.webhooks).toEqual([])
      await app.page.getByRole('button', { name: 'Settings' }).click()
    } finally {
      await receiver.close()
    }
  }, 120_000)

  it('logged no console errors', () => {
    expect(browser.errors).toEqual([])
  })
})

interface Received {
  id: string
  timestamp: string
  signature: string
  body: string
}

/** A webhook receiver on this machine: notes every delivery (headers and body), answers 200. */
async function startReceiver(): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => { body += chunk.toString() })
    req.on('end', () => {
      got.push({ id: String(req.headers['webhook-id']), timestamp: String(req.headers['webhook-timestamp']), signature: String(req.headers['webhook-signature']), body })
      res.writeHead(200, { 'Content-Type': 'text/plain' })
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    close: () => new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
}
