import { afterEach, describe, expect, it } from 'vitest'
import { Api } from './api'
import { JobsStore, PAGE } from './jobsStore'
import { makeJob } from './testing'
import type { Job, JobState } from './types'

/** GET /jobs, GET /jobs/{id} and POST /jobs/delete over an in-memory list, as the API contract says. */
class FakeServer {
  jobs: Job[] = []
  requests: string[] = []

  add(count: number, state: JobState = 'done', name = (i: number) => `clip-${i}.mp4`): void {
    const start = this.jobs.length
    for (let i = 0; i < count; i += 1) {
      const n = start + i
      this.jobs.push(makeJob(`j${String(n).padStart(3, '0')}`, state, { filename: name(n), created_at: 1_700_000_000 + n }))
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
    const id = /^\/jobs\/([^/]+)$/.exec(url.pathname)?.[1]
    const job = this.jobs.find((j) => j.job_id === id)
    return job ? Response.json({ ...job, parts: job.parts ?? {} }) : Response.json({ error: 'job not found' }, { status: 404 })
  }) as typeof fetch
}

let store: JobsStore | null = null
afterEach(() => store?.stop())

function setup(server: FakeServer, uploadedHere: string[] = []): JobsStore {
  store = new JobsStore(new Api({ baseUrl: '', apiKey: () => '', fetchImpl: server.fetch }), {
    uploading: () => false, uploadedHere: () => new Set(uploadedHere),
  })
  return store
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 5))
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
