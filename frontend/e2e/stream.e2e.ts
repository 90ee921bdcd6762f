// The adaptive stream end to end: real headless Chromium playing the HLS and DASH a real local
// stack publishes, through Shaka Player in the result view and in the embed page of the built app.
import { createServer } from 'node:http'
import { basename, join } from 'node:path'
import type { Route } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seriousViolations } from './harness/a11y'
import { AppPage, until } from './harness/app'
import { launchBrowser, type Browser } from './harness/browser'
import { streamClip } from './harness/media'
import { ARTIFACTS } from './harness/paths'
import { playbackLog, playerState, playheadAt, signToken, tampered, watchPlayback, withToken } from './harness/playback'
import { MIB, startStack, type RunningStack } from './harness/stack'

/** The stack signs playback tokens with this, so the test can sign an expired one itself. */
const SECRET = 'e2e-playback-secret-0123456789abcdef'
/** Long enough for four chunks: its stream is playable for a few seconds before the job is done. */
const GROWING_SECONDS = 40
/** Short: played to the end, as HLS and as DASH. */
const SHORT_SECONDS = 12

interface StreamJob {
  job_id: string
  state: string
  options: Record<string, unknown>
  playable_at: number | null
  playback_url: string | null
  dash_url: string | null
  playback_expires_at: number | null
  output: { url?: string; renditions?: Array<{ kind?: string; height?: number; codec?: string }> } | null
}

let stack: RunningStack
let browser: Browser
let app: AppPage
/** The short clip's job, done (the HLS, DASH, share and token tests play it). */
let shortJob: StreamJob
/** 403s are expected while a test plays a tampered or expired link. */
const refusedWindows: Array<[number, number]> = []

beforeAll(async () => {
  stack = await startStack(5 * MIB, { FRAMEFLEET_PLAYBACK_SECRET: SECRET })
  browser = await launchBrowser()
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url })
  app = new AppPage(browser.page, stack.url)
  await app.open()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

const player = () => app.page.locator('[data-testid=stream-player]')

async function job(jobId: string): Promise<StreamJob> {
  const { status, body } = await app.api<StreamJob>(`/jobs/${jobId}`)
  if (status !== 200) throw new Error(`GET /jobs/${jobId} answered ${status}`)
  return body
}

/** Wait for the stream player to have loaded (or failed) its stream. */
async function playerStatus(status: 'ready' | 'error', timeout = 30_000): Promise<void> {
  await app.page.locator(`[data-testid=stream-player][data-status=${status}]`).waitFor({ timeout })
}

async function clipboard(): Promise<string> {
  return app.page.evaluate(() => navigator.clipboard.readText())
}

describe('the adaptive stream in headless Chromium', () => {
  it('offers "Play now" while a job still encodes and plays its growing stream on into the finished one', async () => {
    const clip = streamClip(GROWING_SECONDS)
    const name = basename(clip)
    const created = app.page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/jobs')
    await app.addFiles(clip)
    // The default outputs (HLS, DASH, MP4; H.264; auto ladder; 2 s segments) need no stream options.
    expect(((await created).postDataJSON() as { options: unknown }).options).toEqual({ preset: 'web', max_height: 1080, crf: 23 })
    const jobId = await app.jobIdOf(name)
    const card = app.card(jobId)
    await card.locator('[data-testid=play-now]').waitFor({ timeout: 60_000 })
    // Hold the assembler while the player starts, so the job cannot finish first on a busy
    // machine (the remaining chunks take about as long as the player needs to start and play a
    // second); the processors carry on, so the stream keeps growing and playback never waits.
    const resume = stack.pause('assembler')
    try {
      const early = await job(jobId)
      expect(['encoding', 'assembling']).toContain(early.state)
      expect(Number(early.playable_at)).toBeGreaterThan(0)
      expect(early.playback_url).toMatch(/\/play\/\d+\.[A-Za-z0-9_-]+\/[0-9a-f]+\/master\.m3u8$/)
      expect(early.dash_url).toBeNull() // DASH comes with the finished video
      await app.screenshot('stream-play-now')
      await card.locator('[data-testid=play-now]').click()
      await playerStatus('ready')
      await watchPlayback(app.page)
      await playheadAt(app.page, 1)
      // It plays while the job is still encoding: an EVENT playlist that grows.
      expect(['encoding', 'assembling']).toContain((await job(jobId)).state)
      expect(await player().getAttribute('data-live')).toBe('true')
      expect(await app.page.locator('[data-testid=stream-growing]').textContent()).toMatch(/grows as chunks finish/)
      expect(await app.page.locator('[data-testid=format-toggle]').count()).toBe(0) // HLS only until done
      await app.screenshot('stream-growing')
    } finally {
      resume()
    }
    // The job finishes meanwhile: the same playback carries on into the complete (VOD) stream.
    await app.page.locator('[data-testid=result][data-state=done]').waitFor({ timeout: 60_000 })
    await app.page.locator('[data-testid=stream-player][data-live=false]').waitFor({ timeout: 30_000 })
    const before = (await playbackLog(app.page)).currentTime
    await playheadAt(app.page, before + 1)
    const log = await playbackLog(app.page)
    expect(log.error).toBeNull()
    expect(log.longestStallMs, JSON.stringify(log.stalls)).toBeLessThanOrEqual(1000)
    expect(Math.abs(log.duration - GROWING_SECONDS), `duration ${log.duration}`).toBeLessThan(0.2)
    expect(await player().getAttribute('data-error-codes')).toBe('')
    expect(await app.page.locator('[data-testid=format-toggle]').count()).toBe(1) // DASH now too
    await app.page.evaluate(() => document.querySelector('video')?.pause())
  }, 120_000)

  it('plays the finished HLS stream to the end, through a forced rendition switch and a seek', async () => {
    const clip = streamClip(SHORT_SECONDS)
    await app.open()
    await app.addFiles(clip)
    const jobId = await app.jobIdOf(basename(clip))
    await app.jobState(jobId, 'done')
    shortJob = await job(jobId)
    const heights = (shortJob.output?.renditions ?? []).filter((r) => r.kind !== 'audio').map((r) => r.height)
    expect(heights).toEqual([360, 240]) // the auto ladder of a 360p source
    // At done the card says "View result"; the result view loads the stream right away.
    await app.card(jobId).getByRole('link', { name: 'View result' }).click()
    await playerStatus('ready')
    expect(await playerState(player())).toMatchObject({ format: 'hls', abr: 'auto', live: 'false' })
    const options = await app.page.locator('[data-testid=quality] option').evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, text: o.textContent ?? '' })))
    expect(options.map((o) => o.text.replace(/\d[\d.]* [kM]b\/s/, 'N'))).toEqual([expect.stringMatching(/^Auto \(now \d+p\)$/), '360p · H.264 · N', '240p · H.264 · N'])
    expect(await app.page.locator('[data-testid=rendition]').textContent()).toMatch(/^Now: \d+p · H\.264 · [\d.]+ [kM]b\/s \(auto\)( · buffering…)?$/) // the label says while it buffers
    await expectAccessible('stream-result')

    await watchPlayback(app.page)
    await app.page.evaluate(() => document.querySelector('video')?.play())
    await playheadAt(app.page, 1.5)
    // Force the rendition that is not playing, mid-play.
    const playing = Number(await player().getAttribute('data-height'))
    const target = playing === 360 ? 240 : 360
    const now = await app.page.locator('[data-testid=quality] option').evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, text: o.textContent ?? '' })))
    const choice = now.find((o) => o.text.startsWith(`${target}p`))
    expect(choice, `${target}p among ${JSON.stringify(now)} (playing ${playing})`).toBeDefined()
    await app.page.locator('[data-testid=quality]').selectOption(choice?.value ?? '')
    await app.page.locator(`[data-testid=stream-player][data-abr=manual][data-height="${target}"]`).waitFor()
    expect(await app.page.locator('[data-testid=rendition]').textContent()).toMatch(new RegExp(`^Now: ${target}p · H\\.264 · [\\d.]+ [kM]b/s( · buffering…)?$`))
    await app.page.waitForFunction((h) => document.querySelector('video')?.videoHeight === h, target, { timeout: 15_000 })
    await app.screenshot('stream-switched', { fullPage: false })
    await app.page.locator('video').evaluate((v) => new Promise((resolve) => {
      const video = v as HTMLVideoElement
      if (video.ended) resolve(null)
      else video.addEventListener('ended', () => resolve(null), { once: true })
    }))
    const log = await playbackLog(app.page)
    expect(log.ended).toBe(true)
    expect(log.error).toBeNull()
    expect(log.longestStallMs, JSON.stringify(log.stalls)).toBeLessThanOrEqual(1000)
    expect(log.quality.corrupted).toBe(0)
    expect(log.quality.total).toBeGreaterThan(SHORT_SECONDS * 30 * 0.8)
    expect(log.currentTime).toBeCloseTo(SHORT_SECONDS, 0)
    expect(await player().getAttribute('data-error-codes')).toBe('')

    // Seek to the middle: playback resumes within 2 s.
    await app.page.evaluate(() => {
      const video = document.querySelector('video')
      if (!video) return
      video.currentTime = video.duration / 2
      void video.play()
    })
    await playheadAt(app.page, SHORT_SECONDS / 2 + 0.5)
    const seek = await playbackLog(app.page)
    expect(seek.seekResumeMs.length).toBeGreaterThanOrEqual(1)
    expect(Math.max(...seek.seekResumeMs)).toBeLessThanOrEqual(2000)
    // Back to automatic selection.
    await app.page.locator('[data-testid=quality]').selectOption('auto')
    await app.page.locator('[data-testid=stream-player][data-abr=auto]').waitFor()
    await app.page.evaluate(() => document.querySelector('video')?.pause())
  }, 120_000)

  it('plays the same video as DASH, seeks to its middle and plays it to the end', async () => {
    await app.page.locator('[data-testid=format-toggle]').getByRole('button', { name: 'DASH', exact: true }).click()
    await app.page.locator('[data-testid=stream-player][data-format=dash][data-status=ready]').waitFor({ timeout: 30_000 })
    expect(await app.page.locator('[data-testid=format-toggle]').getByRole('button', { name: 'DASH', exact: true }).getAttribute('aria-pressed')).toBe('true')
    await watchPlayback(app.page)
    await app.page.evaluate(() => {
      const video = document.querySelector('video')
      if (!video) return
      video.currentTime = video.duration / 2
      void video.play()
    })
    await playheadAt(app.page, SHORT_SECONDS / 2 + 0.5)
    expect(Math.max(...(await playbackLog(app.page)).seekResumeMs)).toBeLessThanOrEqual(2000)
    expect(Number(await player().getAttribute('data-height'))).toBeGreaterThan(0)
    await app.page.waitForFunction(() => document.querySelector('video')?.ended === true, null, { timeout: 30_000 })
    const log = await playbackLog(app.page)
    expect(log.error).toBeNull()
    expect(log.longestStallMs, JSON.stringify(log.stalls)).toBeLessThanOrEqual(1000)
    expect(log.quality.corrupted).toBe(0)
    expect(await player().getAttribute('data-error-codes')).toBe('')
    // Back to HLS.
    await app.page.locator('[data-testid=format-toggle]').getByRole('button', { name: 'HLS', exact: true }).click()
    await app.page.locator('[data-testid=stream-player][data-format=hls][data-status=ready]').waitFor({ timeout: 30_000 })
  })

  it('copies the playback URL and an embed code whose page (from the built app) plays without the API key', async () => {
    const share = app.page.locator('[data-testid=share-stream]')
    const hls = await share.locator('[data-testid=playback-url] input').inputValue()
    expect(new URL(hls).pathname).toBe(new URL(shortJob.playback_url ?? '').pathname.replace(/\/\d+\.[^/]+\//, new URL(hls).pathname.match(/\/\d+\.[^/]+\//)?.[0] ?? ''))
    expect(await share.locator('[data-testid=playback-url-note]').textContent()).toMatch(/^Works without an API key until (\d+ \w+, )?\d\d:\d\d \(in \d+ h\)/)
    await share.getByRole('button', { name: 'Copy HLS playback URL' }).click()
    await until(async () => (await clipboard()) === hls, 'the HLS URL on the clipboard', 5000)
    expect(await share.locator('[data-testid=dash-url] input').inputValue()).toMatch(/\/manifest\.mpd$/)
    await share.getByRole('button', { name: 'Copy Embed code' }).click()
    await until(async () => (await clipboard()).startsWith('<iframe '), 'the embed code on the clipboard', 5000)
    const snippet = await clipboard()
    expect(snippet).toMatch(/^<iframe src="[^"]+" width="640" height="360" title="stream-12s\.mp4" style="[^"]+" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen><\/iframe>$/)
    const src = (/src="([^"]+)"/.exec(snippet)?.[1] ?? '').replace(/&amp;/g, '&')
    expect(src.startsWith(`${stack.url}/embed.html#url=`)).toBe(true)
    expect(decodeURIComponent(new URL(src).hash.slice('#url='.length))).toBe(hls)

    // A stranger's page: the stream plays from the token alone (no API key anywhere).
    const plain = await fetch(hls)
    expect(plain.status).toBe(200)
    expect(await plain.text()).toMatch(/^#EXTM3U[\s\S]*#EXT-X-VERSION:7/)
    // The snippet itself, pasted into a page of another origin (the iframe loads the built
    // dist/embed.html). That page is served from another port of this machine: Chromium keeps a
    // public page from framing a local address, which a deployed app (on a public host) is not.
    const site = await serveHtml(`<!doctype html><html lang="en"><title>Someone else's page</title><h1>A page with a video</h1>${snippet}</html>`)
    const other = await browser.context.newPage()
    try {
      await other.goto(site.url)
      const frame = other.frameLocator('iframe')
      await frame.locator('video[data-status=ready]').waitFor({ timeout: 30_000 })
      await frame.locator('video').evaluate((v) => { const video = v as HTMLVideoElement; video.muted = true; return video.play() })
      await frame.locator('video').evaluate((v) => new Promise((resolve, reject) => {
        const video = v as HTMLVideoElement
        const start = video.currentTime
        const timer = setTimeout(() => reject(new Error('the embedded video does not advance')), 10_000)
        video.addEventListener('timeupdate', () => { if (video.currentTime > start + 1) { clearTimeout(timer); resolve(null) } })
      }))
      expect(await frame.locator('[data-testid=player-error]').isHidden()).toBe(true)
    } finally {
      await other.close()
      await site.close()
    }
  })

  it('refuses a tampered or expired link, and says so in plain words', async () => {
    const hls = shortJob.playback_url ?? ''
    const expiredAt = Math.floor(Date.now() / 1000) - 120
    const expired = withToken(hls, signToken(SECRET, shortJob.job_id, expiredAt))
    const bad = tampered(hls)
    expect(bad).not.toBe(hls)
    // The stack itself: 403 for both, whatever is asked for.
    for (const url of [bad, expired, withToken(hls, signToken('another secret', shortJob.job_id, expiredAt + 7200))]) {
      expect((await fetch(url)).status, url).toBe(403)
    }
    expect((await fetch(withToken(hls, signToken(SECRET, shortJob.job_id, expiredAt + 7200)))).status).toBe(200) // the test signs like the stack

    const window: [number, number] = [Date.now(), Number.POSITIVE_INFINITY]
    refusedWindows.push(window)
    try {
      // The embed page with each link.
      const embed = await browser.context.newPage()
      try {
        for (const [url, kind, text] of [
          [expired, 'expired', /^This playback link expired at \d\d:\d\d\. Reload the page that shows this video to get a fresh link\.$/],
          [bad, 'refused', /^The server refused this playback link: it has expired or it is not complete/],
        ] as const) {
          await embed.goto(`${stack.url}/embed.html#url=${encodeURIComponent(url)}`)
          await embed.locator(`[data-testid=player-error][data-kind=${kind}]:not([hidden])`).waitFor({ timeout: 30_000 })
          expect(await embed.locator('[data-testid=player-error]').textContent()).toMatch(text)
        }
        await embed.screenshot({ path: join(ARTIFACTS, 'stream-embed-refused.png') })
      } finally {
        await embed.close()
      }

      // The result view, its links swapped by the routes below for ``links(job)`` (in the list
      // and in the job itself, and a fresh page: the app has never seen the good ones).
      const swap = async (links: (j: StreamJob) => Partial<StreamJob>): Promise<() => Promise<void>> => {
        const one = async (r: Route): Promise<void> => {
          const response = await r.fetch()
          const body = (await response.json()) as StreamJob
          await r.fulfill({ response, json: { ...body, ...links(body) } })
        }
        const list = async (r: Route): Promise<void> => {
          const response = await r.fetch()
          const body = (await response.json()) as { jobs: StreamJob[] }
          await r.fulfill({ response, json: { ...body, jobs: body.jobs.map((j) => (j.job_id === shortJob.job_id ? { ...j, ...links(j) } : j)) } })
        }
        const isOne = (url: URL): boolean => url.pathname === `/jobs/${shortJob.job_id}`
        const isList = (url: URL): boolean => url.pathname === '/jobs'
        await app.page.route(isOne, one)
        await app.page.route(isList, list)
        await app.page.goto('about:blank')
        await app.page.goto(`${stack.url}/#/jobs/${shortJob.job_id}`)
        return async () => {
          await app.page.unroute(isOne, one)
          await app.page.unroute(isList, list)
        }
      }
      const signed = (url: string | null, token: (u: string) => string): string | null => (url ? token(url) : null)

      // A changed link (its token looks valid): the player is refused it and says so.
      let restore = await swap((j) => ({ playback_url: signed(j.playback_url, tampered), dash_url: signed(j.dash_url, tampered) }))
      await playerStatus('error')
      const error = app.page.locator('[data-testid=player-error]')
      expect(await error.getAttribute('role')).toBe('alert')
      expect(await error.locator('[data-testid=player-error-text]').getAttribute('data-kind')).toBe('refused')
      expect(await error.textContent()).toBe('The server refused this playback link: it has expired or it is not complete (changed or cut short). Reload this page for a fresh link.Get a fresh link')
      await app.screenshot('stream-refused')
      await expectAccessible('stream-refused')
      // A fresh link from the API, and it plays again.
      await restore()
      await error.getByRole('button', { name: 'Get a fresh link' }).click()
      await playerStatus('ready')
      await error.waitFor({ state: 'detached' })
      expect(await app.page.locator('[data-testid=playback-url] input').inputValue()).toBe((await job(shortJob.job_id)).playback_url)

      // Links past their expiry (a page left open for hours): said before anything is tried; the
      // MP4 plays meanwhile, and fresh links bring the stream back.
      const expiredToken = signToken(SECRET, shortJob.job_id, expiredAt)
      restore = await swap((j) => ({
        playback_url: signed(j.playback_url, (u) => withToken(u, expiredToken)), dash_url: signed(j.dash_url, (u) => withToken(u, expiredToken)), playback_expires_at: expiredAt,
      }))
      const notice = app.page.locator('[data-testid=playback-expired]')
      await notice.waitFor()
      expect(await notice.textContent()).toMatch(/^The stream links of this page expired at \d\d:\d\d\. Get fresh ones to play the stream; the MP4 below plays meanwhile\.Get fresh links$/)
      expect(await app.page.locator('[data-testid=stream-player]').count()).toBe(0)
      await app.page.locator('video[data-testid=player]').waitFor() // the MP4
      await app.screenshot('stream-expired')
      await expectAccessible('stream-expired')
      await restore()
      await notice.getByRole('button', { name: 'Get fresh links' }).click()
      await playerStatus('ready')
      await notice.waitFor({ state: 'detached' })
      window[1] = Date.now()
    } finally {
      if (window[1] === Number.POSITIVE_INFINITY) window[1] = Date.now()
    }
  })

  it('sends the stream options picked in the form, and the job follows them', async () => {
    await app.open()
    const options = app.page.locator('[data-testid=options]')
    await options.getByRole('checkbox', { name: 'DASH' }).uncheck()
    // HEVC: a warning that it may not play everywhere.
    await options.getByRole('checkbox', { name: 'HEVC' }).check()
    expect(await app.page.locator('[data-testid=codec-note]').textContent()).toMatch(/HEVC may not play in every browser/)
    await options.getByRole('checkbox', { name: 'HEVC' }).uncheck()
    expect(await options.getByRole('checkbox', { name: /H\.264/ }).isDisabled()).toBe(true) // always in
    await app.page.getByLabel('Segment length (s)').fill('4')
    // A ladder that cannot be: said at once, and nothing is uploaded.
    await app.page.getByLabel('Ladder (auto, or heights)').fill('360, 241')
    expect(await app.page.locator('[data-testid=options-problem]').textContent()).toBe('241p is odd: video heights are even.')
    await app.addFiles(streamClip(SHORT_SECONDS))
    await app.page.locator('[data-testid=rejections] [role=alert]', { hasText: 'fix the options first' }).waitFor()
    await app.page.getByRole('button', { name: 'Dismiss these messages' }).click()
    await app.page.getByLabel('Ladder (auto, or heights)').fill('360')
    expect(await app.page.locator('[data-testid=options-problem]').count()).toBe(0)
    await app.screenshot('stream-options')
    await expectAccessible('stream-options')

    const clip = streamClip(6, 'stream-options-6s.mp4')
    const created = app.page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/jobs')
    await app.addFiles(clip)
    expect(((await created).postDataJSON() as { options: unknown }).options).toEqual({
      preset: 'web', max_height: 1080, crf: 23, outputs: ['hls', 'mp4'], ladder: [{ height: 360, codec: 'h264' }], segment_seconds: 4,
    })
    const jobId = await app.jobIdOf(basename(clip))
    await app.page.locator(`[data-testid=job-card][data-job-id="${jobId}"]:is([data-state=done],[data-state=failed])`).waitFor({ timeout: 90_000 })
    const done = await job(jobId)
    expect(done.state, JSON.stringify(done)).toBe('done')
    expect(done.options).toMatchObject({ outputs: ['hls', 'mp4'], codecs: ['h264'], segment_seconds: 4 })
    expect(done.dash_url).toBeNull()
    expect(done.playback_url).toMatch(/master\.m3u8$/)
    expect((done.output?.renditions ?? []).filter((r) => r.kind !== 'audio').map((r) => r.height)).toEqual([360])
    await app.card(jobId).getByRole('link', { name: 'View result' }).click()
    await playerStatus('ready')
    expect(await app.page.locator('[data-testid=format-toggle]').count()).toBe(0) // no DASH asked for
    expect(await app.page.locator('[data-testid=quality] option').count()).toBe(2) // auto + the one rung
    const used = app.page.locator('[data-testid=options-used]')
    expect(await used.locator('[data-fact=Outputs]').textContent()).toBe('HLS, MP4')
    expect(await used.locator('[data-fact=Ladder]').textContent()).toBe('360p')
    expect(await used.locator('[data-fact="Segment length"]').textContent()).toBe('4 s')
  }, 120_000)

  it('logged no console errors but the refused links\' 403s', () => {
    const within = (at: number): boolean => refusedWindows.some(([from, to]) => at >= from && at <= to)
    expect(browser.errors.filter((e) => !(within(e.at) && e.text.includes('status of 403')))).toEqual([])
  })
})

/** A page of its own on another port of this machine (another origin than the stack's). */
async function serveHtml(html: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
    res.end(html)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections() // the browser's kept-alive connection would hold close() for a minute
    }),
  }
}

async function expectAccessible(name: string): Promise<void> {
  expect(await seriousViolations(app.page, name), `axe: ${name}`).toEqual([])
}
