// The dashboard's jobs: pages of GET /jobs for the current search, filter and order (the first
// page re-polled, older pages loaded on demand), plus GET /jobs/{id} (per-part status) for the
// jobs the workers are on, polled with backoff until nothing can change. The job on screen and a
// few running ones are followed live instead (long polls: a change shows as soon as it is made).
import { ApiError, type Api } from './api'
import { describeError, type Problem } from './errors'
import { addEncodeSample, encodeEstimate, framesDone, type EncodeEstimate, type EncodeSample } from './estimate'
import { jobFingerprint, mergeJob, needsPolling, Poller, withoutLinks, type PollOutcome } from './polling'
import { compareJobs, DEFAULT_QUERY, matchesQuery, sameQuery, type JobQuery } from './query'
import { isFinal, isProcessing, type DeleteResult, type Job } from './types'
import { JobWatcher, type WatchEnd } from './watcher'

export interface JobsSnapshot {
  /** The listed jobs (matching the query), in its order. */
  jobs: Job[]
  query: JobQuery
  /** Set once the first page of this query arrived. */
  loaded: boolean
  /** The last poll's failure, in plain words. */
  error: Problem | null
  /** Polling is scheduled (false: nothing can change). */
  polling: boolean
  /** More pages may follow the loaded ones. */
  hasMore: boolean
  loadingMore: boolean
  moreError: Problem | null
}

export interface BulkDeleteOutcome {
  deleted: string[]
  notFound: string[]
  /** Why the rest could not be deleted (a batch failed). */
  problem: Problem | null
}

export interface StoreHooks {
  /** Something in this browser is uploading (keep polling). */
  uploading: () => boolean
  /** Jobs uploaded from this browser whose rows are still shown. */
  uploadedHere: () => ReadonlySet<string>
}

/** Starts the live follow of one job (a JobWatcher; tests pass their own options). */
export type WatcherFactory = (api: Api, jobId: string, since: number, onJob: (job: Job) => void, onEnd: (end: WatchEnd) => void) => JobWatcher

const defaultWatcher: WatcherFactory = (api, jobId, since, onJob, onEnd) => new JobWatcher(api, jobId, since, onJob, onEnd)

/**
 * Long polls open at once: each holds a connection (a browser opens 6 per host over HTTP/1.1)
 * and one of the owner's 10 waiting slots (shared with the CLI and other tabs).
 */
export const MAX_WATCHED = 2

export const PAGE = 50
const DELETE_BATCH = 100
/** Final jobs whose chunk strip we have not seen yet, fetched a few per poll. */
const BACKFILL_PER_POLL = 4

export class JobsStore {
  readonly #api: Api
  readonly #hooks: StoreHooks
  readonly #poller: Poller
  readonly #listeners = new Set<() => void>()
  /** Jobs opened by id (a link to an older job): polled even when not listed. */
  readonly #pinned = new Set<string>()
  /** Jobs whose details were asked for once already. */
  readonly #detailed = new Set<string>()
  readonly #samples = new Map<string, EncodeSample[]>()
  readonly #newWatcher: WatcherFactory
  /** Live follows by job id. */
  readonly #watchers = new Map<string, JobWatcher>()
  /** Jobs a view shows (the detail page), with how many views: followed first. */
  readonly #focus = new Map<string, number>()
  /** Every job we know, listed or not. */
  #known = new Map<string, Job>()
  /** Listed job ids in order. */
  #order: string[] = []
  /** ``before`` for the page after the loaded ones; null: nothing more. */
  #cursor: string | null = null
  /** Bumped by every new query: answers to an older one are dropped. */
  #generation = 0
  #snapshot: JobsSnapshot = {
    jobs: [], query: DEFAULT_QUERY, loaded: false, error: null, polling: false, hasMore: false, loadingMore: false, moreError: null,
  }

  constructor(api: Api, hooks: StoreHooks, newWatcher: WatcherFactory = defaultWatcher) {
    this.#api = api
    this.#hooks = hooks
    this.#newWatcher = newWatcher
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
    for (const watcher of this.#watchers.values()) watcher.wake()
    this.#publish()
  }

  stop(): void {
    this.#poller.stop()
    for (const watcher of [...this.#watchers.values()]) watcher.stop()
    this.#focus.clear()
  }

  /**
   * Follow ``jobId`` live while a view shows it (the detail page): it is long-polled before any
   * other job. Returns the undo (its waiting request is aborted when nothing else needs it).
   */
  watch = (jobId: string): (() => void) => {
    this.#focus.set(jobId, (this.#focus.get(jobId) ?? 0) + 1)
    this.#syncWatchers()
    let done = false
    return () => {
      if (done) return
      done = true
      const views = (this.#focus.get(jobId) ?? 1) - 1
      if (views > 0) this.#focus.set(jobId, views)
      else this.#focus.delete(jobId)
      this.#syncWatchers()
    }
  }

  /** Job ids followed live now (for tests and diagnosis). */
  watched(): string[] {
    return [...this.#watchers.keys()]
  }

  job = (jobId: string): Job | undefined => this.#known.get(jobId)

  /** Encode throughput and time left of a job that is encoding (an estimate). */
  estimate(jobId: string, nowMs: number = Date.now()): EncodeEstimate | null {
    const job = this.#known.get(jobId)
    return job ? encodeEstimate(job, this.#samples.get(jobId) ?? [], nowMs) : null
  }

  /** Show the jobs of another search, filter or order (from its first page). */
  setQuery(query: JobQuery): void {
    if (sameQuery(query, this.#snapshot.query)) return
    this.#generation += 1
    this.#order = []
    this.#cursor = null
    this.#snapshot = { ...this.#snapshot, query, loaded: false, hasMore: false, loadingMore: false, moreError: null }
    this.kick()
  }

  /** Append the next page of the list (infinite scroll and the "Load more" button). */
  async loadMore(): Promise<void> {
    const cursor = this.#cursor
    if (!cursor || this.#snapshot.loadingMore) return
    const generation = this.#generation
    const { query } = this.#snapshot
    this.#snapshot = { ...this.#snapshot, loadingMore: true, moreError: null }
    this.#publish()
    try {
      const page = await this.#api.listJobs(query, PAGE, cursor)
      if (generation !== this.#generation) return
      const listed = new Set(this.#order)
      for (const job of page.jobs) {
        this.#remember(job)
        if (!listed.has(job.job_id) && matchesQuery(job, query)) this.#order.push(job.job_id)
      }
      this.#cursor = page.next
      this.#snapshot = { ...this.#snapshot, loadingMore: false }
      if (page.jobs.some((j) => !j.parts && isFinal(j.state))) this.#poller.kick() // their chunk strips
    } catch (err) {
      if (generation !== this.#generation) return
      this.#snapshot = { ...this.#snapshot, loadingMore: false, moreError: describeError(err, 'load more jobs') }
    }
    this.#publish()
  }

  /**
   * Fetch one job with its parts (the detail view of a job that may not be listed).
   * ``freshLinks``: take the signed links of this answer even if the known ones look valid (a
   * player was refused them).
   */
  async load(jobId: string, { freshLinks = false }: { freshLinks?: boolean } = {}): Promise<Job> {
    this.#pinned.add(jobId)
    let job: Job
    try {
      job = await this.#api.getJob(jobId)
    } catch (err) {
      if (!this.#known.has(jobId)) this.#pinned.delete(jobId) // a job we cannot see is not polled either
      throw err
    }
    this.#detailed.add(jobId)
    const known = this.#known.get(jobId)
    if (freshLinks && known) this.#known.set(jobId, withoutLinks(known))
    this.#remember(job)
    if (!isFinal(job.state)) this.#poller.kick()
    this.#syncWatchers()
    this.#publish()
    return job
  }

  async cancel(jobId: string): Promise<void> {
    try {
      this.#remember(await this.#api.cancelJob(jobId))
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
    this.#forget([jobId])
    this.kick()
  }

  /** Delete many jobs (POST /jobs/delete, 100 per request). */
  async removeMany(jobIds: readonly string[]): Promise<BulkDeleteOutcome> {
    const outcome: BulkDeleteOutcome = { deleted: [], notFound: [], problem: null }
    for (let i = 0; i < jobIds.length; i += DELETE_BATCH) {
      let result: DeleteResult
      try {
        result = await this.#api.deleteJobs(jobIds.slice(i, i + DELETE_BATCH))
      } catch (err) {
        outcome.problem = describeError(err, 'delete these jobs')
        break
      }
      outcome.deleted.push(...result.deleted)
      outcome.notFound.push(...result.not_found)
      this.#forget([...result.deleted, ...result.not_found])
    }
    this.kick()
    return outcome
  }

  #forget(jobIds: readonly string[]): void {
    const gone = new Set(jobIds)
    for (const id of gone) {
      this.#known.delete(id)
      this.#pinned.delete(id)
      this.#samples.delete(id)
      this.#watchers.get(id)?.stop()
    }
    this.#order = this.#order.filter((id) => !gone.has(id))
  }

  #remember(fresh: Job): Job {
    const merged = mergeJob(this.#known.get(fresh.job_id), fresh)
    this.#known.set(fresh.job_id, merged)
    if (merged.state === 'encoding') {
      const sample = { at: Date.now(), chunks: merged.progress.chunks_done, frames: framesDone(merged.parts) }
      this.#samples.set(merged.job_id, addEncodeSample(this.#samples.get(merged.job_id) ?? [], sample))
    } else {
      this.#samples.delete(merged.job_id)
    }
    return merged
  }

  async #poll(): Promise<PollOutcome> {
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      return { changed: false, active: false } // the 'online' event polls again
    }
    const generation = this.#generation
    const { query } = this.#snapshot
    const before = new Map([...this.#known].map(([id, job]) => [id, jobFingerprint(job)]))
    const stateBefore = new Map([...this.#known].map(([id, job]) => [id, job.state]))
    const beforeOrder = this.#order.join()
    try {
      const page = await this.#api.listJobs(query, PAGE)
      if (generation !== this.#generation) return { changed: true, active: true } // the query changed meanwhile
      const head = page.jobs.map((job) => this.#remember(job))
      this.#order = this.#withTail(head, page.next, query)
      if (this.#order.length <= head.length) this.#cursor = page.next

      // Per-part status of every job the workers are on (listed, opened, uploaded here), a
      // last look at the ones that just ended, and a few final ones never seen in detail.
      const uploadedHere = this.#hooks.uploadedHere()
      const watched = new Set([...this.#order, ...this.#pinned, ...uploadedHere])
      const jobs = [...watched].flatMap((id) => this.#known.get(id) ?? [])
      const justEnded = (j: Job): boolean => { const was = stateBefore.get(j.job_id); return isFinal(j.state) && was !== undefined && !isFinal(was) }
      const running = jobs.filter((j) => isProcessing(j.state) || justEnded(j))
      const unknown = [...watched].filter((id) => !this.#known.has(id) || (uploadedHere.has(id) && !this.#order.includes(id)))
      const backfill = head.filter((j) => isFinal(j.state) && !j.parts && !this.#detailed.has(j.job_id)).slice(0, BACKFILL_PER_POLL)
      // Followed jobs are not asked again: their long poll brings every change.
      const ids = [...new Set([...running.map((j) => j.job_id), ...unknown, ...backfill.map((j) => j.job_id)])]
        .filter((id) => !this.#watchers.has(id))
      const details = await Promise.all(ids.map((id) => this.#api.getJob(id).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) this.#forget([id])
        return null
      })))
      if (generation !== this.#generation) return { changed: true, active: true }
      for (const detail of details) {
        if (!detail) continue
        this.#detailed.add(detail.job_id)
        this.#remember(detail)
      }
      // A job that left the filter (e.g. it finished while "In progress" is shown) leaves the list.
      this.#order = this.#order.filter((id) => { const j = this.#known.get(id); return j !== undefined && matchesQuery(j, query) })

      this.#snapshot = { ...this.#snapshot, error: null, loaded: true }
      const changed = this.#order.join() !== beforeOrder
        || [...this.#known].some(([id, job]) => before.get(id) !== jobFingerprint(job))
      const pending = head.some((j) => isFinal(j.state) && !j.parts && !this.#detailed.has(j.job_id))
      const visible = [...new Set([...this.#order, ...this.#pinned, ...uploadedHere])].flatMap((id) => this.#known.get(id) ?? [])
      const active = pending || needsPolling(visible, this.#hooks.uploading(), uploadedHere)
      this.#syncWatchers()
      this.#publish(active)
      return { changed: changed || backfill.length > 0, active }
    } catch (err) {
      if (generation === this.#generation) {
        this.#snapshot = { ...this.#snapshot, error: describeError(err, 'load your jobs') }
        this.#publish(true)
      }
      throw err
    }
  }

  /**
   * The first page, then the already loaded jobs that come after its last one (older pages stay
   * as they are while the first is refreshed). Nothing after it when the API says it was all.
   */
  #withTail(head: readonly Job[], next: string | null, query: JobQuery): string[] {
    const ids = head.map((j) => j.job_id)
    const last = head[head.length - 1]
    if (next === null || !last) return ids
    const inHead = new Set(ids)
    const tail = this.#order.filter((id) => {
      const job = this.#known.get(id)
      return job && !inHead.has(id) && compareJobs(last, job, query.order) < 0 && matchesQuery(job, query)
    })
    return [...ids, ...tail]
  }

  /**
   * Follow live the jobs that can still change, the ones on screen first, then this browser's
   * uploads, then the listed running ones, at most MAX_WATCHED; stop following the rest.
   */
  #syncWatchers(): void {
    const uploadedHere = this.#hooks.uploadedHere()
    const open = (id: string, any: boolean): boolean => {
      const job = this.#known.get(id)
      return job !== undefined && !isFinal(job.state) && (any || isProcessing(job.state) || uploadedHere.has(id))
    }
    const wanted = [...new Set([
      ...[...this.#focus.keys()].filter((id) => open(id, true)),
      ...[...uploadedHere].filter((id) => open(id, false)),
      ...this.#order.filter((id) => open(id, false)),
    ])].slice(0, MAX_WATCHED)
    for (const [id, watcher] of this.#watchers) if (!wanted.includes(id)) watcher.stop()
    for (const id of wanted) {
      if (this.#watchers.has(id)) continue
      const since = this.#known.get(id)?.version ?? -1
      let watcher: JobWatcher | null = null
      watcher = this.#newWatcher(this.#api, id, since, (job) => this.#watched(job), (end) => {
        if (watcher && this.#watchers.get(id) === watcher) this.#watchers.delete(id)
        if (end === 'missing') this.#forget([id])
        if (end !== 'stopped') {
          this.#syncWatchers() // another job may take its place
          this.#publish()
        }
      })
      this.#watchers.set(id, watcher)
    }
  }

  /** A followed job's answer: shown at once; a new state also refreshes the list (its filter). */
  #watched(job: Job): void {
    const before = this.#known.get(job.job_id)
    this.#detailed.add(job.job_id)
    const merged = this.#remember(job)
    if (before && before.state !== merged.state) this.#poller.kick()
    this.#publish()
  }

  #publish(polling: boolean = this.#poller.active): void {
    const jobs = this.#order.flatMap((id) => this.#known.get(id) ?? [])
    this.#snapshot = { ...this.#snapshot, jobs, polling: polling || this.#watchers.size > 0, hasMore: this.#cursor !== null }
    for (const listener of this.#listeners) listener()
  }
}
