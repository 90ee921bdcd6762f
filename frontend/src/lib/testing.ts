// Test fixtures shared by the unit tests (not bundled: only *.test.ts import it).
import type { Job, JobState } from './types'

export function makeJob(id: string, state: JobState, extra: Partial<Job> = {}): Job {
  return {
    job_id: id,
    state,
    filename: `${id}.mp4`,
    size: 1000,
    options: { preset: 'web', crf: 23, max_height: 1080 },
    created_at: 1_700_000_000,
    updated_at: 1_700_000_001,
    progress: { chunks_done: 0, chunks_total: 0, audio: null, percent: 0 },
    timings: {},
    probe: null,
    error: null,
    output: null,
    ...extra,
  }
}

/**
 * GET /jobs/{id} as the API answers it, long polls included: ``?wait=S&since=V`` is held until
 * the job's version is newer than V (``change()``), or S seconds passed, or the caller aborts;
 * a final job answers at once; 429 past ``limit`` waiting requests; 400 on a bad wait.
 */
export class FakeJobs {
  readonly jobs = new Map<string, Job>()
  readonly requests: string[] = []
  limit = 10
  waiting = 0
  /** Most requests waiting at once. */
  peakWaiting = 0
  aborted = 0
  /** Answer every request with this status instead (a broken API), while set. */
  failWith: number | null = null
  readonly #wakers = new Map<string, Set<() => void>>()

  put(job: Job): void {
    this.jobs.set(job.job_id, { version: 0, ...job })
  }

  /** Change a job (its version goes up) and answer the requests waiting for it. */
  change(jobId: string, patch: Partial<Job>): void {
    const old = this.jobs.get(jobId)
    if (!old) throw new Error(`no job ${jobId}`)
    this.jobs.set(jobId, { ...old, ...patch, version: (old.version ?? 0) + 1 })
    for (const wake of this.#wakers.get(jobId) ?? []) wake()
  }

  remove(jobId: string): void {
    this.jobs.delete(jobId)
    for (const wake of this.#wakers.get(jobId) ?? []) wake()
  }

  /** The answer to GET /jobs/{id}{search}, or null when the path is not a job's. */
  async get(url: URL, signal: AbortSignal | null | undefined): Promise<Response | null> {
    const id = /^\/jobs\/([^/]+)$/.exec(url.pathname)?.[1]
    if (!id) return null
    this.requests.push(`GET ${url.pathname}${url.search}`)
    if (this.failWith !== null) return Response.json({ error: 'broken' }, { status: this.failWith })
    const wait = url.searchParams.get('wait')
    const since = Number(url.searchParams.get('since') ?? -1)
    const answer = (): Response => {
      const job = this.jobs.get(id)
      return job ? Response.json({ ...job, parts: job.parts ?? {} }) : Response.json({ error: 'job not found' }, { status: 404 })
    }
    const job = this.jobs.get(id)
    if (!job || wait === null) return answer()
    const seconds = Number(wait)
    if (!(seconds >= 0 && seconds <= 25)) return Response.json({ error: "'wait' must be between 0 and 25 seconds" }, { status: 400 })
    if ((job.version ?? 0) > since || ['done', 'failed', 'cancelled'].includes(job.state)) return answer()
    if (this.waiting >= this.limit) return Response.json({ error: 'too many waiting requests' }, { status: 429 })
    this.waiting += 1
    this.peakWaiting = Math.max(this.peakWaiting, this.waiting)
    try {
      await new Promise<void>((resolve, reject) => {
        const wakers = this.#wakers.get(id) ?? new Set()
        this.#wakers.set(id, wakers)
        const done = (): void => {
          clearTimeout(timer)
          wakers.delete(wake)
          signal?.removeEventListener('abort', onAbort)
        }
        const wake = (): void => { done(); resolve() }
        const onAbort = (): void => {
          done()
          this.aborted += 1
          reject(new DOMException('The user aborted a request.', 'AbortError'))
        }
        const timer = setTimeout(wake, seconds * 1000)
        wakers.add(wake)
        signal?.addEventListener('abort', onAbort)
      })
    } finally {
      this.waiting -= 1
    }
    return answer()
  }

  fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const found = await this.get(new URL(String(input), 'http://api.test'), init?.signal)
    return found ?? Response.json({ error: 'no such route' }, { status: 404 })
  }) as typeof fetch
}
