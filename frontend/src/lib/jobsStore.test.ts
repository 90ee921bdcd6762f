import { afterEach, describe, expect, it } from 'vitest'
import { Api } from './api'
import { JobsStore, MAX_WATCHED, PAGE, type WatcherFactory } from './jobsStore'
import { FakeJobs, makeJob } from './testing'
import type { Job, JobState } from './types'
import { JobWatcher } from './watcher'

/** GET /jobs, GET /jobs/{id} and POST /jobs/delete over an in-memory list, as the API contract says. */
class FakeServer {
  /** GET /jobs/{id}, long polls included. */
  readonly one = new FakeJobs()
  requests: string[] = []

  get jobs(): Job[] {
    return [...this.one.jobs.values()]
  }

  set jobs(list: Job[]) {
    this.one.jobs.clear()
    for (const job of list) this.one.put(job)
  }

  add(count: number, state: JobState = 'done', name = (i: number) => `clip-${i}.mp4`): void {
    const start = this.jobs.length
    for (let i = 0; i < count; i += 1) {
      const n = start + i
      this.one.put(makeJob(`j${String(n).padStart(3, '0')}`, state, { filename: name(n), created_at: 1_700_000_000 + n }))
    }
  }

  fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input), 'http://api.test')
    this.requests.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`)
    if (url.pathname === '/jobs' && init?.method === 'GET') {
      const p = url.searchParams
      const limit = Number(p.get('limit'))
      const states = p.get('state')?.split(',') ?? []
      const q = (p.get('q') ?? '').toLowerCase()
      const oldest = p.get('order') === 'oldest'
      const before = p.get('before')
      let list = this.jobs.filter((j) => (!states.length || states.includes(j.state)) && (j.filename ?? '').toLowerCase().includes(q))
      list.sort((a, b) => (oldest ? 1 : -1) * ((a.created_at ?? 0) - (b.created_at ?? 0)))
      if (before) list = list.filter((j) => (oldest ? (j.created_at ?? 0) > Number(before) : (j.created_at ?? 0) < Number(before)))
      const page = list.slice(0, limit).map(({ parts: _parts, ...rest }) => rest)
      return Response.json({ jobs: page, next: list.length > limit ? String(page[page.length - 1]?.created_at) : null })
    }
    if (url.pathname === '/jobs/delete') {
      const ids = (JSON.parse(String(init?.body)) as { job_ids: string[] }).job_ids
      const deleted = ids.filter((id) => this.jobs.some((j) => j.job_id === id))
      this.jobs = this.jobs.filter((j) => !ids.includes(j.job_id))
      return Response.json({ deleted, not_found: ids.filter((id) => !deleted.includes(id)) })
    }
    return (await this.one.get(url, init?.signal)) ?? Response.json({ error: 'no such route' }, { status: 404 })
  }) as typeof fetch
}

let store: JobsStore | null = null
afterEach(() => store?.stop())

function setup(server: FakeServer, uploadedHere: string[] = [], watcher?: WatcherFactory): JobsStore {
  store = new JobsStore(new Api({ baseUrl: '', apiKey: () => '', fetchImpl: server.fetch }), {
    uploading: () => false, uploadedHere: () => new Set(uploadedHere),
  }, watcher)
  return store
}

/** Long polls of ``seconds`` (the real ones wait 20 s), plain polls from 50 ms after a 429. */
const waitingFor = (seconds: number): WatcherFactory => (api, id, since, onJob, onEnd) =>
  new JobWatcher(api, id, since, onJob, onEnd, { waitSeconds: seconds, policy: { min: 50, max: 200, factor: 2 } })

async function until(check: () => boolean, what: string, tries = 200): Promise<void> {
  for (let i = 0; i < tries && !check(); i += 1) await new Promise((r) => setTimeout(r, 5))
  if (!check()) throw new Error(`never: ${what}`)
}

describe('JobsStore pages', () => {
  it('shows the first page, then older pages on demand, without losing any job past the 50th', async () => {
    const server = new FakeServer()
    server.add(120)
    const s = setup(server)
    s.kick()
    await until(() => s.getSnapshot().loaded, 'the first page')
    expect(s.getSnapshot().jobs).toHaveLength(PAGE)
    expect(s.getSnapshot().jobs[0]?.job_id).toBe('j119')
    expect(s.getSnapshot().hasMore).toBe(true)
    await s.loadMore()
    await s.loadMore()
    const ids = s.getSnapshot().jobs.map((j) => j.job_id)
    expect(ids).toHaveLength(120)
    expect(new Set(ids).size).toBe(120)
    expect(ids.at(-1)).toBe('j000')
    expect(s.getSnapshot().hasMore).toBe(false)
    expect(server.requests.filter((r) => r.includes('before='))).toHaveLength(2)
  })

  it('keeps the loaded pages when the first is polled again and a new job arrives', async () => {
    const server = new FakeServer()
    server.add(60)
    const s = setup(server)
    s.kick()
    await until(() => s.getSnapshot().loaded, 'the first page')
    await s.loadMore()
    expect(s.getSnapshot().jobs).toHaveLength(60)
    server.add(1)
    s.kick()
    await until(() => s.getSnapshot().jobs.length === 61, 'the new job on top')
    expect(s.getSnapshot().jobs[0]?.job_id).toBe('j060')
    expect(s.getSnapshot().jobs.at(-1)?.job_id).toBe('j000')
  })

  it('asks the API for the search, filter and order, and drops a job that leaves the filter', async () => {
    const server = new FakeServer()
    server.add(3, 'done', (i) => `beach-${i}.mp4`)
    server.add(2, 'encoding', (i) => `city-${i}.mp4`)
    const s = setup(server)
    s.setQuery({ q: 'CITY', states: ['encoding'], order: 'oldest' })
    await until(() => s.getSnapshot().loaded, 'the filtered page')
    expect(s.getSnapshot().jobs.map((j) => j.filename)).toEqual(['city-3.mp4', 'city-4.mp4'])
    expect(server.requests).toContain('GET /jobs?limit=50&state=encoding&q=CITY&order=oldest')
    // One finishes: it no longer belongs to "encoding".
    server.jobs = server.jobs.map((j) => (j.filename === 'city-3.mp4' ? { ...j, state: 'done' } : j))
    s.kick()
    await until(() => s.getSnapshot().jobs.length === 1, 'the finished job to leave the list')
    expect(s.getSnapshot().jobs[0]?.filename).toBe('city-4.mp4')
  })

  it('stops polling when only interrupted uploads are left, not while one is sent from here', async () => {
    const server = new FakeServer()
    server.add(2, 'awaiting_upload')
    const s = setup(server)
    s.kick()
    await until(() => s.getSnapshot().loaded && !s.getSnapshot().polling, 'polling to stop')
    s.stop()
    const mine = setup(server, ['j000'])
    mine.kick()
    await until(() => mine.getSnapshot().loaded, 'the first page')
    expect(mine.getSnapshot().polling).toBe(true)
  })

  it('deletes in bulk and forgets what is gone', async () => {
    const server = new FakeServer()
    server.add(5)
    const s = setup(server)
    s.kick()
    await until(() => s.getSnapshot().loaded, 'the first page')
    const outcome = await s.removeMany(['j001', 'j003', 'nope'])
    expect(outcome).toEqual({ deleted: ['j001', 'j003'], notFound: ['nope'], problem: null })
    expect(s.getSnapshot().jobs.map((j) => j.job_id)).toEqual(['j004', 'j002', 'j000'])
    expect(server.requests).toContain('POST /jobs/delete')
  })
})

describe('JobsStore live follow (long polls)', () => {
  it('shows a change of the job on screen as soon as the API has it, without a poll tick', async () => {
    const server = new FakeServer()
    server.add(1, 'encoding')
    const s = setup(server, [], waitingFor(5))
    await s.load('j000')
    const unwatch = s.watch('j000')
    await until(() => server.one.waiting === 1, 'the long poll to wait')
    const version = server.one.jobs.get('j000')?.version
    expect(server.one.requests.at(-1)).toBe(`GET /jobs/j000?wait=5&since=${version}`)
    const asked = server.requests.length
    const changedAt = performance.now()
    server.one.change('j000', { state: 'assembling' })
    await until(() => s.job('j000')?.state === 'assembling', 'the new state')
    expect(performance.now() - changedAt).toBeLessThan(100)
    // The long poll's own answer brought it (besides the next long poll, maybe a list poll the new state asked for).
    expect(server.requests.slice(asked).filter((r) => r.startsWith('GET /jobs/j000') && !r.includes('wait='))).toEqual([])
    unwatch()
  })

  it('opens at most MAX_WATCHED long polls however many jobs run, and hands a slot on when one ends', async () => {
    const server = new FakeServer()
    server.add(6, 'encoding')
    const s = setup(server, [], waitingFor(5))
    s.kick()
    await until(() => s.getSnapshot().loaded && server.one.waiting === MAX_WATCHED, 'the long polls')
    expect(s.watched()).toEqual(['j005', 'j004']) // the newest listed first
    await new Promise((r) => setTimeout(r, 50))
    expect(server.one.peakWaiting).toBe(MAX_WATCHED)
    server.one.change('j005', { state: 'done' })
    await until(() => s.watched().sort().join() === 'j003,j004', 'the next running job to be followed')
    expect(server.one.peakWaiting).toBe(MAX_WATCHED)
    expect(s.getSnapshot().jobs.find((j) => j.job_id === 'j005')?.state).toBe('done')
  })

  it('follows the job on screen before the listed ones, and aborts its long poll when the view closes', async () => {
    const server = new FakeServer()
    server.add(3, 'encoding')
    server.add(1, 'awaiting_upload') // j003: an interrupted upload, not followed unless on screen
    const s = setup(server, [], waitingFor(5))
    s.kick()
    await until(() => s.getSnapshot().loaded && s.watched().length === MAX_WATCHED, 'the listed jobs followed')
    expect(s.watched()).toEqual(['j002', 'j001'])
    const unwatch = s.watch('j003')
    expect(s.watched().sort()).toEqual(['j002', 'j003'])
    await until(() => server.one.aborted === 1, 'the dropped long poll to be aborted')
    unwatch()
    await until(() => server.one.aborted === 2, 'the closed view\'s long poll to be aborted')
    expect(s.watched().sort()).toEqual(['j001', 'j002'])
    s.stop()
    await until(() => server.one.waiting === 0, 'every long poll to end')
  })

  it('does not ask for the details of a followed job in the list poll', async () => {
    const server = new FakeServer()
    server.add(1, 'encoding')
    const s = setup(server, [], waitingFor(5))
    s.kick()
    await until(() => server.one.waiting === 1, 'the long poll')
    const before = server.requests.length
    s.kick()
    await until(() => server.requests.slice(before).some((r) => r.startsWith('GET /jobs?')), 'another list poll')
    await new Promise((r) => setTimeout(r, 20))
    expect(server.requests.slice(before).filter((r) => r === 'GET /jobs/j000')).toEqual([])
  })

  it('falls back to plain polls when the owner has no waiting slot left (429)', async () => {
    const server = new FakeServer()
    server.add(1, 'encoding')
    server.one.limit = 0
    const s = setup(server, [], waitingFor(5))
    await s.load('j000')
    const unwatch = s.watch('j000')
    await until(() => server.one.requests.filter((r) => r === 'GET /jobs/j000').length >= 3, 'plain polls after the 429s')
    const mine = server.one.requests.filter((r) => r.startsWith('GET /jobs/j000'))
    // load(), then: long poll (429), plain poll, long poll (429), plain poll…
    expect(mine.slice(0, 5).map((r) => (r.includes('wait=') ? 'long' : 'plain'))).toEqual(['plain', 'long', 'plain', 'long', 'plain'])
    server.one.change('j000', { state: 'assembling' })
    await until(() => s.job('j000')?.state === 'assembling', 'the change through a plain poll')
    server.one.limit = 10 // a slot frees: it waits on the API again
    await until(() => server.one.waiting === 1, 'a long poll again')
    unwatch()
  })
})
