import { afterEach, describe, expect, it, vi } from 'vitest'
import { jobFingerprint, mergeJob, mergeJobs, needsPolling, nextDelay, Poller, POLL_POLICY, withoutLinks, type PollOutcome } from './polling'
import { makeJob } from './testing'

describe('nextDelay', () => {
  it('backs off while idle up to the maximum, and snaps back on change', () => {
    const delays: number[] = []
    let delay = POLL_POLICY.min
    for (let i = 0; i < 8; i += 1) {
      delay = nextDelay(delay, false)
      delays.push(delay)
    }
    expect(delays).toEqual([800, 1280, 2048, 3277, 5243, 8000, 8000, 8000])
    expect(nextDelay(8000, true)).toBe(POLL_POLICY.min)
    expect(nextDelay(10, false)).toBe(POLL_POLICY.min) // never below the minimum
  })
})

describe('needsPolling', () => {
  it('stops when every job is final and nothing uploads', () => {
    expect(needsPolling([makeJob('a', 'done'), makeJob('b', 'failed'), makeJob('c', 'cancelled')], false)).toBe(false)
    expect(needsPolling([makeJob('a', 'done'), makeJob('b', 'encoding')], false)).toBe(true)
    expect(needsPolling([makeJob('q', 'queued')], false)).toBe(true)
    expect(needsPolling([makeJob('a', 'done')], true)).toBe(true)
    expect(needsPolling([], false)).toBe(false)
  })

  it('does not poll for an upload nobody is sending, but does for one sent from here', () => {
    expect(needsPolling([makeJob('a', 'awaiting_upload')], false)).toBe(false)
    expect(needsPolling([makeJob('a', 'awaiting_upload')], false, new Set(['a']))).toBe(true)
    expect(needsPolling([makeJob('a', 'awaiting_upload')], false, new Set(['b']))).toBe(false)
  })
})

describe('merging fresh job records', () => {
  const done = (url: string) => makeJob('a', 'done', {
    output: { url, size: 1, duration: 1, width: 2, height: 2, bitrate: 8 },
  })

  it('keeps the first output URL (a new signature would reload the player) and known parts', () => {
    const old = { ...done('https://s3/first'), parts: { v00000: { state: 'done' as const } } }
    const merged = mergeJob(old, done('https://s3/second'))
    expect(merged.output?.url).toBe('https://s3/first')
    expect(merged.parts).toEqual(old.parts)
    expect(mergeJob(undefined, done('https://s3/x')).output?.url).toBe('https://s3/x')
  })

  it('takes the fresh URL once the kept one is about to expire', () => {
    const signed = (url: string, expires: number) => makeJob('a', 'done', {
      output: { url, url_expires_at: expires, size: 1, duration: 1, width: 2, height: 2, bitrate: 8 },
    })
    const now = 1_700_000_000
    expect(mergeJob(signed('first', now + 3600), signed('second', now + 7200), now).output).toMatchObject({ url: 'first', url_expires_at: now + 3600 })
    expect(mergeJob(signed('first', now + 60), signed('second', now + 3660), now).output).toMatchObject({ url: 'second', url_expires_at: now + 3660 })
  })

  it('keeps the stream links while they are valid, and takes the fresh pair when DASH arrives or they near expiry', () => {
    const now = 1_700_000_000
    const links = (state: 'encoding' | 'done', tag: string, expires: number, dash = false) => makeJob('a', state, {
      playable_at: now - 10, playback_url: `https://p/${expires}.${tag}/a/master.m3u8`, playback_expires_at: expires,
      dash_url: dash ? `https://p/${expires}.${tag}/a/manifest.mpd` : null,
    })
    const kept = mergeJob(links('encoding', 'one', now + 3600), links('encoding', 'two', now + 4200), now)
    expect(kept).toMatchObject({ playback_url: `https://p/${now + 3600}.one/a/master.m3u8`, playback_expires_at: now + 3600, dash_url: null })
    // At done the DASH link comes: both links of the fresh token (one expiry for the pair).
    const done = mergeJob(kept, links('done', 'three', now + 4800, true), now)
    expect(done).toMatchObject({ playback_url: `https://p/${now + 4800}.three/a/master.m3u8`, dash_url: `https://p/${now + 4800}.three/a/manifest.mpd`, playback_expires_at: now + 4800 })
    expect(mergeJob(done, links('done', 'four', now + 5400, true), now).playback_url).toBe(done.playback_url)
    // Near the expiry: the fresh ones.
    expect(mergeJob(links('done', 'old', now + 60, true), links('done', 'new', now + 3660, true), now).playback_url).toBe(`https://p/${now + 3660}.new/a/master.m3u8`)
    expect(jobFingerprint(links('encoding', 'x', now))).not.toBe(jobFingerprint(makeJob('a', 'encoding')))
  })

  it('believes the token in a link over the expiry field, and forgets links when asked', () => {
    const now = 1_700_000_000
    const url = (expires: number, tag: string) => `https://p/play/${expires}.${tag}AAAAAAAAAAAAAAAA/a/master.m3u8`
    const job = (expires: number, tag: string, field: number) => makeJob('a', 'done', {
      playable_at: now - 10, playback_url: url(expires, tag), playback_expires_at: field,
      output: { url: `https://s3/${tag}.mp4`, url_expires_at: now + 3600, size: 1, duration: 1, width: 2, height: 2, bitrate: 8 },
    })
    // A link whose token has expired is replaced even though its field says it is good for hours.
    expect(mergeJob(job(now - 5, 'stale', now + 9000), job(now + 3600, 'fresh', now + 3600), now).playback_url).toBe(url(now + 3600, 'fresh'))
    // A link the player was refused (a valid-looking token): forgotten, so the fresh one is taken.
    const refused = withoutLinks(job(now + 3600, 'bad', now + 3600))
    expect(refused).toMatchObject({ playback_url: null, dash_url: null, playback_expires_at: null })
    expect(refused.output?.url).toBeUndefined()
    const merged = mergeJob(refused, job(now + 4200, 'good', now + 4200), now)
    expect(merged.playback_url).toBe(url(now + 4200, 'good'))
    expect(merged.output?.url).toBe('https://s3/good.mp4')
  })

  it('keeps the poster and storyboard links while their token is valid (no reload of the same images)', () => {
    const now = 1_700_000_000
    const link = (expires: number, tag: string, file: string) => `https://p/play/${expires}.${tag}AAAAAAAAAAAAAAAA/a/${file}`
    const images = (expires: number, tag: string) => makeJob('a', 'done', {
      poster_url: link(expires, tag, 'poster.jpg'), storyboard_url: link(expires, tag, 'storyboard.vtt'),
    })
    const kept = mergeJob(images(now + 3600, 'one'), images(now + 4200, 'two'), now)
    expect(kept).toMatchObject({ poster_url: link(now + 3600, 'one', 'poster.jpg'), storyboard_url: link(now + 3600, 'one', 'storyboard.vtt') })
    expect(mergeJob(images(now + 60, 'old'), images(now + 3660, 'new'), now).poster_url).toBe(link(now + 3660, 'new', 'poster.jpg'))
    // Gone from the fresh record (the job failed): gone here too.
    expect(mergeJob(images(now + 3600, 'one'), makeJob('a', 'failed', { poster_url: null }), now).poster_url).toBeNull()
    expect(withoutLinks(images(now + 3600, 'one'))).toMatchObject({ poster_url: null, storyboard_url: null })
  })

  it('keeps the actual cost of the detail record when the listing (which has none) comes', () => {
    const detail = makeJob('a', 'done', { actual: { ready_in_seconds: 4.9, cost_usd: 0.000109 } })
    const listed = makeJob('a', 'done', { actual: { ready_in_seconds: 4.9, cost_usd: null } })
    expect(mergeJob(detail, listed).actual).toEqual({ ready_in_seconds: 4.9, cost_usd: 0.000109 })
    expect(mergeJob(undefined, listed).actual).toEqual({ ready_in_seconds: 4.9, cost_usd: null })
  })

  it('takes fresh parts when there are some', () => {
    const old = { ...makeJob('a', 'encoding'), parts: { v00000: { state: 'running' as const } } }
    const fresh = { ...makeJob('a', 'encoding'), parts: { v00000: { state: 'done' as const } } }
    expect(mergeJob(old, fresh).parts?.v00000?.state).toBe('done')
  })

  it('keeps a chunk\'s planned frame count when a later status leaves it out', () => {
    const old = { ...makeJob('a', 'encoding'), parts: { v00000: { state: 'queued' as const, frames: 300 }, v00001: { state: 'queued' as const, frames: 12 } } }
    const fresh = { ...makeJob('a', 'encoding'), parts: { v00000: { state: 'done' as const, attempt: 1 }, v00001: { state: 'running' as const, frames: 13 } } }
    expect(mergeJob(old, fresh).parts).toEqual({ v00000: { state: 'done', attempt: 1, frames: 300 }, v00001: { state: 'running', frames: 13 } })
  })

  it('merges a page in its order', () => {
    const known = new Map([['b', makeJob('b', 'encoding')]])
    const merged = mergeJobs(known, [makeJob('c', 'queued'), makeJob('b', 'done')])
    expect([...merged.keys()]).toEqual(['b', 'c'])
    expect(merged.get('b')?.state).toBe('done')
  })

  it('fingerprints what the dashboard shows', () => {
    const a = makeJob('a', 'encoding')
    expect(jobFingerprint(a)).toBe(jobFingerprint({ ...a, updated_at: 5 }))
    expect(jobFingerprint(a)).not.toBe(jobFingerprint({ ...a, progress: { ...a.progress, chunks_done: 1 } }))
    expect(jobFingerprint(a)).not.toBe(jobFingerprint({ ...a, parts: { v00000: { state: 'retried', attempt: 2 } } }))
  })
})

describe('Poller', () => {
  afterEach(() => { vi.useRealTimers() })

  async function flush(): Promise<void> {
    for (let i = 0; i < 5; i += 1) await Promise.resolve()
  }

  it('polls with backoff, resets on change and stops when told', async () => {
    vi.useFakeTimers()
    const outcomes: PollOutcome[] = [
      { changed: true, active: true }, { changed: false, active: true }, { changed: false, active: true },
      { changed: true, active: true }, { changed: false, active: false },
    ]
    const poll = vi.fn(async () => outcomes.shift() ?? { changed: false, active: false })
    const poller = new Poller(poll)
    poller.kick()
    await flush()
    expect(poll).toHaveBeenCalledTimes(1)
    expect(poller.delay).toBe(500)
    await vi.advanceTimersByTimeAsync(500)
    expect(poll).toHaveBeenCalledTimes(2)
    expect(poller.delay).toBe(800)
    await vi.advanceTimersByTimeAsync(800)
    expect(poller.delay).toBe(1280)
    await vi.advanceTimersByTimeAsync(1280)
    expect(poller.delay).toBe(500) // a change: fast again
    await vi.advanceTimersByTimeAsync(500)
    expect(poll).toHaveBeenCalledTimes(5)
    expect(poller.active).toBe(false) // every job final: no more polls
    await vi.advanceTimersByTimeAsync(60_000)
    expect(poll).toHaveBeenCalledTimes(5)
  })

  it('keeps trying (backing off) when a poll throws', async () => {
    vi.useFakeTimers()
    const poll = vi.fn(async (): Promise<PollOutcome> => { throw new TypeError('Failed to fetch') })
    const poller = new Poller(poll)
    poller.kick()
    await flush()
    await vi.advanceTimersByTimeAsync(800)
    expect(poll).toHaveBeenCalledTimes(2)
    expect(poller.active).toBe(true)
    poller.stop()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(poll).toHaveBeenCalledTimes(2)
  })

  it('a kick during a poll polls again right after it', async () => {
    vi.useFakeTimers()
    let release!: () => void
    const poll = vi.fn(() => new Promise<PollOutcome>((resolve) => { release = () => resolve({ changed: false, active: false }) }))
    const poller = new Poller(poll)
    poller.kick()
    poller.kick()
    expect(poll).toHaveBeenCalledTimes(1)
    release()
    await flush()
    expect(poll).toHaveBeenCalledTimes(2)
  })
})
