// The dashboard's jobs: the newest page of GET /jobs plus GET /jobs/{id} (per-part status) for the
// jobs that are still running, polled with backoff until every job is final.
import { ApiError, type Api } from './api'
import { jobFingerprint, mergeJob, needsPolling, Poller, type PollOutcome } from './polling'
import { isFinal, type Job } from './types'

export interface JobsSnapshot {
  jobs: Job[]
  /** Set once the first page arrived. */
  loaded: boolean
  /** The last poll's failure, in plain words. */
  error: string | null
  /** Polling is scheduled (false: every job is final). */
  polling: boolean
}

const PAGE = 50
/** Final jobs whose chunk strip we have not seen yet, fetched a few per poll. */
const BACKFILL_PER_POLL = 4

export class JobsStore {
  readonly #api: Api
  readonly #uploading: () => boolean
  readonly #poller: Poller
  readonly #listeners = new Set<() => void>()
  /** Jobs opened by id (a link to an older job): kept even when not on the first page. */
  readonly #pinned = new Set<string>()
  /** Jobs whose details were asked for once already. */
  readonly #detailed = new Set<string>()
  #jobs = new Map<string, Job>()
  #snapshot: JobsSnapshot = { jobs: [], loaded: false, error: null, polling: false }

  constructor(api: Api, uploading: () => boolean) {
    this.#api = api
    this.#uploading = uploading
    this.#poller = new Poller(() => this.#poll())
    if (typeof window !== 'undefined') window.addEventListener('online', this.kick)
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  getSnapshot = (): JobsSnapshot => this.#snapshot

  /** Poll now and fast again (after an upload, a cancel, a new key…). */
  kick = (): void => {
    this.#poller.kick()
    this.#publish()
  }

  stop(): void {
    this.#poller.stop()
  }

  job(jobId: string): Job | undefined {
    return this.#jobs.get(jobId)
  }

  /** Fetch one job with its parts (the result view of a job that may not be on the first page). */
  async load(jobId: string): Promise<Job> {
    this.#pinned.add(jobId)
    const job = await this.#api.getJob(jobId)
    this.#jobs.set(jobId, mergeJob(this.#jobs.get(jobId), job))
    if (!isFinal(job.state)) this.#poller.kick()
    this.#publish()
    return job
  }

  async cancel(jobId: string): Promise<void> {
    try {
      const job = await this.#api.cancelJob(jobId)
      this.#jobs.set(jobId, mergeJob(this.#jobs.get(jobId), job))
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err // 409: it ended meanwhile
    }
    this.kick()
  }

  async remove(jobId: string): Promise<void> {
    try {
      await this.#api.deleteJob(jobId)
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err // already gone
    }
    this.#jobs.delete(jobId)
    this.#pinned.delete(jobId)
    this.kick()
  }

  async #poll(): Promise<PollOutcome> {
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      return { changed: false, active: false } // the 'online' event polls again
    }
    const before = this.#jobs
    try {
      const page = await this.#api.listJobs(PAGE)
      const next = new Map<string, Job>()
      for (const job of page.jobs) next.set(job.job_id, mergeJob(before.get(job.job_id), job))
      for (const id of this.#pinned) {
        const pinned = before.get(id)
        if (pinned && !next.has(id)) next.set(id, pinned)
      }
      // Per-part status of every job still running, a last look at the ones that just ended,
      // and a few final jobs never seen in detail (after a reload).
      const jobs = [...next.values()]
      const running = jobs.filter((j) => !isFinal(j.state) || !isFinal(before.get(j.job_id)?.state ?? 'done'))
      const backfill = jobs.filter((j) => !j.parts && !this.#detailed.has(j.job_id) && !running.includes(j)).slice(0, BACKFILL_PER_POLL)
      const details = await Promise.all([...running, ...backfill].map((j) => {
        this.#detailed.add(j.job_id)
        return this.#api.getJob(j.job_id).catch(() => null)
      }))
      for (const detail of details) if (detail) next.set(detail.job_id, mergeJob(next.get(detail.job_id), detail))
      this.#jobs = next
      this.#snapshot = { ...this.#snapshot, error: null, loaded: true }
      const changed = next.size !== before.size
        || [...next.values()].some((j) => { const old = before.get(j.job_id); return !old || jobFingerprint(old) !== jobFingerprint(j) })
      const pending = [...next.values()].some((j) => !j.parts && !this.#detailed.has(j.job_id))
      const active = pending || needsPolling(next.values(), this.#uploading())
      this.#publish(active)
      return { changed: changed || backfill.length > 0, active }
    } catch (err) {
      this.#snapshot = { ...this.#snapshot, error: pollError(err) }
      this.#publish(true)
      throw err
    }
  }

  #publish(polling: boolean = this.#poller.active): void {
    this.#snapshot = { ...this.#snapshot, jobs: [...this.#jobs.values()], polling }
    for (const listener of this.#listeners) listener()
  }
}

/** What went wrong with a poll, in words that say what to do. */
export function pollError(err: unknown): string {
  if (err instanceof ApiError && err.unauthorized) return `The API refused the key (${err.message}). Set a valid API key in Settings.`
  if (err instanceof ApiError) return `The API answered with an error: ${err.message}`
  return `Could not reach the API: ${err instanceof Error ? err.message : String(err)}`
}
