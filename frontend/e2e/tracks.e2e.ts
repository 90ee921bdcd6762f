// Every audio track and every text subtitle track end to end: a Matroska source with two audio
// languages and two SRT subtitle tracks through the real local stack, then the result view's
// Audio and Subtitles menus in headless Chromium (Shaka Player), and the job's facts.
import { mkdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seriousViolations } from './harness/a11y'
import { AppPage } from './harness/app'
import { launchBrowser, type Browser } from './harness/browser'
import { TRACK_CUES, tracksClip } from './harness/media'
import { ARTIFACTS } from './harness/paths'
import { playbackLog, playheadAt, watchPlayback } from './harness/playback'
import { MIB, startStack, type RunningStack } from './harness/stack'

interface TracksJob {
  job_id: string
  state: string
  playback_url: string | null
  output: { audio_tracks?: Array<{ language: string; duration: number }>; subtitles?: Array<{ language: string }>; notes?: string[] } | null
}

interface Option {
  text: string
  selected: boolean
}

declare global {
  interface Window {
    /** The loudest frequency (Hz) of what the <video> plays now. */
    __tone?: () => number
  }
}

let stack: RunningStack
let browser: Browser
let app: AppPage

beforeAll(async () => {
  stack = await startStack(5 * MIB)
  browser = await launchBrowser()
  app = new AppPage(browser.page, stack.url)
  await app.open()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

const player = () => app.page.locator('[data-testid=stream-player]')

async function options(testId: string): Promise<Option[]> {
  return app.page.locator(`[data-testid=${testId}] option`).evaluateAll((os) => os.map((o) => ({ text: o.textContent ?? '', selected: (o as HTMLOptionElement).selected })))
}

/** The text of the cues the <video> shows now (its showing text tracks' active cues). */
async function shownCues(): Promise<string[]> {
  return app.page.evaluate(() => {
    const video = document.querySelector('video')
    if (!video) return []
    return Array.from(video.textTracks).filter((t) => t.mode === 'showing')
      .flatMap((t) => Array.from(t.activeCues ?? []).map((c) => (c as VTTCue).text))
  })
}

/** The <video>'s text tracks as the browser has them (for a failure's message). */
async function textTrackState(): Promise<unknown> {
  return app.page.evaluate(() => {
    const video = document.querySelector('video')
    return {
      time: video?.currentTime,
      tracks: Array.from(video?.textTracks ?? []).map((t) => ({
        kind: t.kind, label: t.label, language: t.language, mode: t.mode,
        cues: Array.from(t.cues ?? []).map((c) => [c.startTime, c.endTime, (c as VTTCue).text]),
        active: Array.from(t.activeCues ?? []).map((c) => (c as VTTCue).text),
      })),
    }
  })
}

/** Route the <video>'s sound through an analyser: ``window.__tone()`` says its loudest frequency. */
async function listen(): Promise<void> {
  await app.page.evaluate(async () => {
    const video = document.querySelector('video')
    if (!video) throw new Error('no video')
    const context = new AudioContext()
    await context.resume()
    const analyser = context.createAnalyser()
    analyser.fftSize = 8192
    context.createMediaElementSource(video).connect(analyser)
    analyser.connect(context.destination)
    const bins = new Float32Array(analyser.frequencyBinCount)
    window.__tone = () => {
      analyser.getFloatFrequencyData(bins)
      let loudest = 0
      for (let i = 1; i < bins.length; i += 1) if ((bins[i] ?? -Infinity) > (bins[loudest] ?? -Infinity)) loudest = i
      return (loudest * context.sampleRate) / analyser.fftSize
    }
  })
}

async function tone(): Promise<number> {
  return app.page.evaluate(() => window.__tone?.() ?? 0)
}

/** Wait until what plays is a tone near ``hz`` (within 5 %); the ms it took. */
async function hearTone(hz: number, timeout = 8_000): Promise<number> {
  const start = Date.now()
  await app.page.waitForFunction((want) => Math.abs((window.__tone?.() ?? 0) - want) < want * 0.05, hz, { timeout, polling: 50 })
  return Date.now() - start
}

describe('audio languages and subtitles in headless Chromium', () => {
  it('offers every audio language and subtitle track of the source, switches them, and lists them in the job', async () => {
    const clip = tracksClip()
    await app.addFiles(clip)
    const jobId = await app.jobIdOf(basename(clip))
    const uploaded = Date.now()
    await app.jobState(jobId, 'done')
    const uploadToDoneMs = Date.now() - uploaded
    const { body: done } = await app.api<TracksJob>(`/jobs/${jobId}`)
    expect(done.output?.audio_tracks?.map((t) => t.language)).toEqual(['eng', 'fra'])
    expect(done.output?.subtitles?.map((t) => t.language)).toEqual(['deu', 'spa'])
    expect(done.output?.notes).toEqual([])
    // The French rendition's folder, from the master playlist (what the player must fetch once French is picked).
    const master = await (await fetch(done.playback_url ?? '')).text()
    const french = /#EXT-X-MEDIA:TYPE=AUDIO,[^\n]*LANGUAGE="fra"[^\n]*URI="([^"/]+)\//.exec(master)?.[1]
    expect(french, master).toBeTruthy()

    await app.card(jobId).getByRole('link', { name: 'View result' }).click()
    await player().and(app.page.locator('[data-status=ready]')).waitFor({ timeout: 30_000 })
    // Both menus, named for assistive technology, the main audio and "Off" chosen.
    const audioMenu = app.page.getByRole('combobox', { name: /^Audio/ })
    const subtitlesMenu = app.page.getByRole('combobox', { name: /^Subtitles/ })
    expect(await audioMenu.getAttribute('data-testid')).toBe('audio-language')
    expect(await subtitlesMenu.getAttribute('data-testid')).toBe('subtitles')
    expect(await options('audio-language')).toEqual([{ text: 'English', selected: true }, { text: 'Français', selected: false }])
    expect(await options('subtitles')).toEqual([{ text: 'Off', selected: true }, { text: 'Deutsch', selected: false }, { text: 'Español', selected: false }])
    expect(await player().getAttribute('data-audio-language')).toBe('en')
    expect(await player().getAttribute('data-text-language')).toBe('')
    // The quality menu lists each rendition once (not once per audio language).
    const qualities = (await options('quality')).map((o) => o.text)
    expect(new Set(qualities).size, JSON.stringify(qualities)).toBe(qualities.length)
    expect(qualities.filter((q) => /^\d+p/.test(q)).map((q) => q.split(' ')[0])).toEqual(['360p', '240p'])

    await listen()
    await watchPlayback(app.page)
    await app.page.evaluate(() => document.querySelector('video')?.play())
    await playheadAt(app.page, 0.5)
    const englishMs = await hearTone(440)

    // French, by keyboard: the menu focused, one step down.
    const frenchFetched = app.page.waitForResponse((r) => r.url().includes(`/${french}/`) && !r.url().endsWith('.m3u8'), { timeout: 10_000 })
    const switchedAt = Date.now()
    const switchedAtTime = await app.page.evaluate(() => document.querySelector('video')?.currentTime ?? 0)
    await audioMenu.focus()
    await app.page.keyboard.press('ArrowDown')
    await player().and(app.page.locator('[data-audio-language=fr]')).waitFor({ timeout: 10_000 })
    await frenchFetched
    await hearTone(880)
    const frenchMs = Date.now() - switchedAt
    expect(await options('audio-language')).toEqual([{ text: 'English', selected: false }, { text: 'Français', selected: true }])
    // Forcing a rendition keeps the language.
    const smaller = (await app.page.locator('[data-testid=quality] option').evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, text: o.textContent ?? '' })))).find((o) => o.text.startsWith('240p'))
    await app.page.locator('[data-testid=quality]').selectOption(smaller?.value ?? '')
    await player().and(app.page.locator('[data-abr=manual][data-height="240"]')).waitFor({ timeout: 10_000 })
    expect(await player().getAttribute('data-audio-language')).toBe('fr')

    // German subtitles, from the start, once the whole video is buffered (no video segment is
    // fetched any more: Shaka 5 would hold HLS cues until one came): a German cue is shown.
    await app.page.waitForFunction(() => {
      const v = document.querySelector('video')
      return Boolean(v && v.buffered.length && v.buffered.end(v.buffered.length - 1) >= v.duration - 0.1)
    }, undefined, { timeout: 10_000, polling: 100 })
    await app.page.evaluate(() => { const v = document.querySelector('video'); if (v) v.currentTime = 0.2 })
    const subtitledAt = Date.now()
    const textFetches: string[] = []
    app.page.on('response', (r) => { if (r.url().includes('/text-')) textFetches.push(`${r.status()} ${new URL(r.url()).pathname.split('/').slice(-2).join('/')}`) })
    await subtitlesMenu.selectOption({ label: 'Deutsch' })
    await player().and(app.page.locator('[data-text-language=de]')).waitFor({ timeout: 10_000 })
    const german = TRACK_CUES.deu.map(([, , text]) => text)
    await app.page.waitForFunction((texts) => Array.from(document.querySelector('video')?.textTracks ?? [])
      .some((t) => t.mode === 'showing' && Array.from(t.activeCues ?? []).some((c) => texts.includes((c as VTTCue).text))), german, { timeout: 10_000, polling: 50 })
      .catch(async (err: unknown) => {
        const state = { video: await textTrackState(), fetched: textFetches, errorCodes: await player().getAttribute('data-error-codes'), console: browser.errors.map((e) => e.text) }
        throw new Error(`no German cue shown: ${JSON.stringify(state)}`, { cause: err })
      })
    const cueMs = Date.now() - subtitledAt
    const cues = await shownCues()
    expect(cues.some((c) => german.includes(c)), JSON.stringify(cues)).toBe(true)
    expect(await tone()).toBeGreaterThan(800) // still French after the seek
    await app.screenshot('tracks-subtitles')
    await expectAccessible('tracks-player')
    // Off again: no cue shown, "Off" chosen.
    await subtitlesMenu.selectOption({ label: 'Off' })
    await player().and(app.page.locator('[data-text-language=""]')).waitFor({ timeout: 5_000 })
    expect(await shownCues()).toEqual([])
    expect((await options('subtitles'))[0]).toEqual({ text: 'Off', selected: true })
    const log = await playbackLog(app.page)
    await app.page.evaluate(() => document.querySelector('video')?.pause())
    expect(log.error).toBeNull()
    expect(await player().getAttribute('data-error-codes')).toBe('')

    // The job's facts: both sides of the table list the tracks by language.
    const row = (key: string) => app.page.locator(`[data-testid=facts-table] tr[data-row=${key}]`)
    expect(await row('audio_tracks').locator('[data-side=input]').textContent()).toBe('English, Français')
    expect(await row('audio_tracks').locator('[data-side=output]').textContent()).toBe('English, Français')
    expect(await row('subtitles').locator('[data-side=input]').textContent()).toBe('Deutsch (SRT), Español (SRT)')
    expect(await row('subtitles').locator('[data-side=output]').textContent()).toBe('Deutsch, Español')
    expect(await app.page.locator('[data-testid=output-notes]').count()).toBe(0)

    // The same menus with the DASH manifest (an adaptation set per track), and its subtitles show.
    await app.page.locator('[data-testid=format-toggle]').getByRole('button', { name: 'DASH' }).click()
    await player().and(app.page.locator('[data-format=dash][data-status=ready]')).waitFor({ timeout: 30_000 })
    await app.page.locator('[data-testid=subtitles]').waitFor({ timeout: 10_000 })
    expect((await options('audio-language')).map((o) => o.text)).toEqual(['English', 'Français'])
    expect((await options('subtitles')).map((o) => o.text)).toEqual(['Off', 'Deutsch', 'Español'])
    const dashAt = Date.now()
    await subtitlesMenu.selectOption({ label: 'Español' })
    await app.page.evaluate(() => { const v = document.querySelector('video'); if (v) v.currentTime = 3.5 })
    await player().and(app.page.locator('[data-text-language=es]')).waitFor({ timeout: 10_000 })
    await app.page.waitForFunction(() => Array.from(document.querySelector('video')?.textTracks ?? [])
      .some((t) => t.mode === 'showing' && Array.from(t.activeCues ?? []).some((c) => (c as VTTCue).text === 'Hasta luego')), undefined, { timeout: 10_000, polling: 50 })
    const dashCueMs = Date.now() - dashAt
    expect(await player().getAttribute('data-error-codes')).toBe('')

    const measured = {
      upload_to_done_ms: uploadToDoneMs, english_heard_ms: englishMs, french_at_s: Number(switchedAtTime.toFixed(2)),
      french_heard_ms: frenchMs, cue_shown_ms: cueMs,
      dash_cue_shown_ms: dashCueMs, longest_stall_ms: log.longestStallMs, stalls: log.stalls,
    }
    mkdirSync(ARTIFACTS, { recursive: true })
    writeFileSync(join(ARTIFACTS, 'tracks.json'), `${JSON.stringify(measured, null, 2)}\n`)
    console.log(`tracks: ${JSON.stringify(measured)}`)
  }, 90_000)
})

async function expectAccessible(name: string): Promise<void> {
  expect(await seriousViolations(app.page, name), `axe: ${name}`).toEqual([])
}
