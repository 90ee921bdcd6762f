import { afterEach, describe, expect, it } from 'vitest'
import { Api } from './api'
import type { Timers } from './polling'
import { FakeJobs, makeJob } from './testing'
import type { Job } from './types'
import { FALLBACK_POLICY, JobWatcher, type WatchEnd, type WatcherOptions } from './watcher'

/** Timers that note each pause and end it at once (the backoff is asserted, not waited for). */
function quickTimers(): Timers & { delays: number[] } {
  const delays: number[] = []
  return {
    delays,
    set: (fn, ms) => { delays.push(ms); return setTimeout(fn, 1) },
    clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !check(); i += 1) await new Promise((r) => setTimeout(r, 5))
  if (!check()) throw new Error(`never: ${what}`)
}

let watcher: JobWatcher | null = null
afterEach(() => watcher?.stop())

function follow(fetchImpl: typeof fetch, since: number, options: WatcherOptions = {}) {
  const seen: Job[] = []
  const ends: WatchEnd[] = []
  const api = new Api({ baseUrl: '', apiKey: () => 'k', fetchImpl })
  watcher = new JobWatcher(api, 'job1', since, (job) => seen.push(job), (end) => ends.push(end), { waitSeconds: 2, ...options })
  return { seen, ends, watcher }
}

describe('JobWatcher', () => {
  it('waits on the API with the version it has and gets each change as it happens', async () => {
    const fake = new FakeJobs()
    fake.put(makeJob('job1', 'encoding', { version: 7 }))
    const { seen } = follow(fake.fetch, 7)
    await until(() => fake.waiting === 1, 'the long poll to wait')
    expect(fake.requests).toEqual(['GET /jobs/job1?wait=2&since=7'])
    fake.change('job1', { progress: { chunks_done: 1, chunks_total: 4, audio: null, percent: 25 } })
    await until(() => seen.length === 1, 'the change')
    expect(seen[0]?.version).toBe(8)
    await until(() => fake.waiting === 1, 'the next long poll')
    expect(fake.requests.at(-1)).toBe('GET /jobs/job1?wait=2&since=8')
  })

  it('ends at a final state: nothing more is asked', async () => {
    const fake = new FakeJobs()
    fake.put(makeJob('job1', 'assembling', { version: 3 }))
    const { seen, ends } = follow(fake.fetch, 3)
    await until(() => fake.waiting === 1, 'the long poll')
    fake.change('job1', { state: 'done' })
    await until(() => ends.length === 1, 'the end')
    expect(ends).toEqual(['final'])
    expect(seen.map((j) => j.state)).toEqual(['done'])
    await new Promise((r) => setTimeout(r, 30))
    expect(fake.requests).toHaveLength(1)
  })

  it('aborts its waiting request when stopped', async () => {
    const fake = new FakeJobs()
    fake.put(makeJob('job1', 'encoding', { version: 1 }))
    const { ends, watcher: w } = follow(fake.fetch, 1)
    await until(() => fake.waiting === 1, 'the long poll')
    w.stop()
    await until(() => fake.waiting === 0, 'the request to be aborted')
    expect(fake.aborted).toBe(1)
    expect(ends).toEqual(['stopped'])
    await new Promise((r) => setTimeout(r, 30))
    expect(fake.requests).toHaveLength(1)
  })

  it('asks again right away after a wait that ran out unchanged', async () => {
    const fake = new FakeJobs()
    fake.put(makeJob('job1', 'encoding', { version: 1 }))
    const timers = quickTimers()
    const { seen } = follow(fake.fetch, 1, { waitSeconds: 0.05, timers, now: () => performance.now() })
    await until(() => fake.requests.length >= 3, 'three long polls')
    expect(fake.requests.slice(0, 3)).toEqual(Array(3).fill('GET /jobs/job1?wait=0.05&since=1'))
    expect(timers.delays).toEqual([]) // no pause between them
    expect(seen.every((j) => j.version === 1)).toBe(true)
  })

  it('after a 429 polls plainly with growing pauses, and waits on the API again once a slot is free', async () => {
    const fake = new FakeJobs()
    fake.put(makeJob('job1', 'encoding', { version: 2 }))
    fake.limit = 0
    const timers = quickTimers()
    const w = follow(fake.fetch, 2, { timers }).watcher
    await until(() => fake.requests.length >= 6, 'six requests')
    expect(fake.requests.slice(0, 6).map((r) => (r.includes('wait=') ? 'long' : 'plain'))).toEqual(['long', 'plain', 'long', 'plain', 'long', 'plain'])
    expect(timers.delays.slice(0, 3)).toEqual([FALLBACK_POLICY.min, 1600, 2560])
    expect(w.backingOff).toBe(true)
    fake.limit = 10
    await until(() => fake.waiting === 1, 'a long poll that waits')
    fake.change('job1', { state: 'assembling' })
    await until(() => !w.backingOff, 'the backoff to reset after a long poll worked')
  })

  it('backs off when the API answers at once without a change (it does not wait)', async () => {
    const job = makeJob('job1', 'encoding', { version: 4 })
    const requests: string[] = []
    const impatient = (async (input: string | URL | Request) => {
      requests.push(String(input))
      return Response.json(job)
    }) as typeof fetch
    const timers = quickTimers()
    follow(impatient, 4, { waitSeconds: 20, timers })
    await until(() => timers.delays.length >= 4, 'four pauses')
    expect(timers.delays.slice(0, 4)).toEqual([1000, 1600, 2560, 4096])
  })

  it('polls plainly, with backoff, an API whose jobs carry no version', async () => {
    const { version: _v, ...old } = makeJob('job1', 'encoding')
    const requests: string[] = []
    const legacy = (async (input: string | URL | Request) => {
      requests.push(String(input))
      return Response.json(old)
    }) as typeof fetch
    const timers = quickTimers()
    follow(legacy, -1, { timers })
    await until(() => requests.length >= 3, 'three requests')
    expect(requests.slice(0, 3)).toEqual(['/jobs/job1?wait=2&since=-1', '/jobs/job1', '/jobs/job1'])
    expect(timers.delays.slice(0, 2)).toEqual([1000, 1600])
  })

  it('keeps trying through network trouble, and a wake() ends the pause', async () => {
    let down = true
    const fake = new FakeJobs()
    fake.put(makeJob('job1', 'encoding', { version: 1 }))
    const flaky = (async (input: string | URL | Request, init?: RequestInit) => {
      if (down) throw new TypeError('Failed to fetch')
      return fake.fetch(input, init)
    }) as typeof fetch
    const pauses: Array<() => void> = []
    const timers: Timers = { set: (fn) => { pauses.push(fn); return pauses.length }, clear: () => undefined }
    const { seen, watcher: w } = follow(flaky, 0, { timers })
    await until(() => pauses.length === 1, 'a pause after the failure')
    down = false
    w.wake() // back online
    await until(() => seen.length === 1, 'the job after the network came back')
    expect(seen[0]?.version).toBe(1)
  })

  it('ends when the job is gone (404)', async () => {
    const fake = new FakeJobs()
    fake.put(makeJob('job1', 'encoding', { version: 1 }))
    const { ends } = follow(fake.fetch, 1)
    await until(() => fake.waiting === 1, 'the long poll')
    fake.remove('job1')
    await until(() => ends.length === 1, 'the end')
    expect(ends).toEqual(['missing'])
  })
})
