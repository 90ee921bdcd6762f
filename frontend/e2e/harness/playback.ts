// Watching a <video> the way a viewer would notice trouble: stalls (a `waiting` not followed by
// `playing` soon, or a playhead that stops moving while it should play), seeks and how long they
// take to resume, decode errors, and the frames the browser dropped or found corrupted.
import { createHmac } from 'node:crypto'
import type { Locator, Page } from 'playwright-core'

export interface PlaybackLog {
  /** Longest stall while playing (ms): `waiting` → `playing`, or the playhead stuck while not paused. */
  longestStallMs: number
  stalls: Array<{ at: number; ms: number; how: 'waiting' | 'stuck' }>
  /** Per seek: ms from `seeking` until the playhead moved on again. */
  seekResumeMs: number[]
  events: Array<[string, number, number]>
  error: string | null
  ended: boolean
  currentTime: number
  duration: number
  videoHeight: number
  quality: { total: number; dropped: number; corrupted: number }
}

declare global {
  interface Window {
    __watch?: { log: () => PlaybackLog; reset: () => void }
  }
}

/** Start watching the page's first <video> (again from zero when called again). */
export async function watchPlayback(page: Page, selector = 'video'): Promise<void> {
  await page.evaluate((sel) => {
    const video = document.querySelector(sel) as HTMLVideoElement | null
    if (!video) throw new Error(`no ${sel}`)
    const old = (window as Window & { __watchStop?: () => void }).__watchStop
    old?.()
    const events: Array<[string, number, number]> = []
    const stalls: Array<{ at: number; ms: number; how: 'waiting' | 'stuck' }> = []
    const seekResumeMs: number[] = []
    let waitingSince: number | null = null
    let seekingSince: number | null = null
    let seekFrom = 0
    let lastTime = video.currentTime
    let lastMove = performance.now()
    let playedOnce = false
    const onEvent = (e: Event): void => {
      const now = performance.now()
      events.push([e.type, Math.round(now), Number(video.currentTime.toFixed(3))])
      if (e.type === 'playing') {
        playedOnce = true
        if (waitingSince !== null && seekingSince === null) stalls.push({ at: video.currentTime, ms: now - waitingSince, how: 'waiting' })
        waitingSince = null
      }
      if (e.type === 'waiting' && playedOnce && seekingSince === null) waitingSince ??= now
      if (e.type === 'seeking') {
        seekingSince = now
        seekFrom = video.currentTime
        waitingSince = null
      }
    }
    const types = ['waiting', 'playing', 'seeking', 'seeked', 'pause', 'ended', 'error', 'stalled']
    for (const t of types) video.addEventListener(t, onEvent)
    const timer = setInterval(() => {
      const now = performance.now()
      if (video.currentTime !== lastTime) {
        if (seekingSince !== null && !video.seeking && Math.abs(video.currentTime - seekFrom) > 0) {
          seekResumeMs.push(now - seekingSince)
          seekingSince = null
        }
        lastTime = video.currentTime
        lastMove = now
        return
      }
      const shouldMove = playedOnce && !video.paused && !video.ended && !video.seeking && seekingSince === null
      if (!shouldMove) {
        lastMove = now
      } else if (now - lastMove > 250) {
        const open = stalls.find((s) => s.how === 'stuck' && s.at === video.currentTime)
        if (open) open.ms = now - lastMove
        else stalls.push({ at: video.currentTime, ms: now - lastMove, how: 'stuck' })
      }
    }, 50)
    const w = window as Window & { __watchStop?: () => void }
    w.__watchStop = () => {
      clearInterval(timer)
      for (const t of types) video.removeEventListener(t, onEvent)
    }
    w.__watch = {
      reset: () => { events.length = 0; stalls.length = 0; seekResumeMs.length = 0 },
      log: () => {
        const q = video.getVideoPlaybackQuality()
        return {
          longestStallMs: Math.round(Math.max(0, ...stalls.map((s) => s.ms))),
          stalls: stalls.map((s) => ({ ...s, ms: Math.round(s.ms) })),
          seekResumeMs: seekResumeMs.map(Math.round),
          events: [...events],
          error: video.error ? `${video.error.code}: ${video.error.message}` : null,
          ended: video.ended,
          currentTime: video.currentTime,
          duration: video.duration,
          videoHeight: video.videoHeight,
          quality: { total: q.totalVideoFrames, dropped: q.droppedVideoFrames, corrupted: q.corruptedVideoFrames },
        }
      },
    }
  }, selector)
}

export async function playbackLog(page: Page): Promise<PlaybackLog> {
  return page.evaluate(() => {
    if (!window.__watch) throw new Error('watchPlayback() first')
    return window.__watch.log()
  })
}

/** Wait until the video's playhead is at ``seconds`` or later. */
export async function playheadAt(page: Page, seconds: number, timeout = 30_000): Promise<void> {
  try {
    await page.waitForFunction((s) => (document.querySelector('video')?.currentTime ?? 0) >= s, seconds, { timeout, polling: 50 })
  } catch (exc) {
    // Say where the playhead stopped and why: a stall, the end, a pause or an error.
    const state = await page.evaluate(() => {
      const v = document.querySelector('video')
      if (!v) return 'no video element'
      const ranges = Array.from({ length: v.buffered.length }, (_, i) => `${v.buffered.start(i).toFixed(2)}-${v.buffered.end(i).toFixed(2)}`)
      return `currentTime ${v.currentTime.toFixed(2)} of ${v.duration}, paused ${v.paused}, ended ${v.ended}, readyState ${v.readyState}, buffered [${ranges.join(', ')}], error ${v.error?.code ?? null}`
    })
    throw new Error(`the playhead did not reach ${seconds.toFixed(2)} s within ${timeout} ms: ${state}`, { cause: exc })
  }
}

/** The player's state attributes (data-status, data-height, data-abr, …). */
export async function playerState(player: Locator): Promise<Record<string, string>> {
  return player.evaluate((el) => ({ ...(el as HTMLElement).dataset }) as Record<string, string>)
}

/** A playback token the way the stack signs one: ``{expires}.{base64url(HMAC-SHA256(secret, "{job}/{expires}"))}``. */
export function signToken(secret: string, jobId: string, expires: number): string {
  const sig = createHmac('sha256', secret).update(`${jobId}/${expires}`).digest('base64url')
  return `${expires}.${sig}`
}

/** ``url`` with its token replaced. */
export function withToken(url: string, token: string): string {
  return url.replace(/\/\d{9,12}\.[A-Za-z0-9_-]+\//, `/${token}/`)
}

/** ``url`` with one character of its signature changed. */
export function tampered(url: string): string {
  return url.replace(/\/(\d{9,12})\.([A-Za-z0-9_-])/, (_m, expires: string, c: string) => `/${expires}.${c === 'A' ? 'B' : 'A'}`)
}
