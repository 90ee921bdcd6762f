// Live status of one job without polling lag: GET /jobs/{id}?wait=20&since={version} in a loop,
// answered by the API as soon as the job changes. When the owner's waiting requests are all
// taken (429), or the API does not wait, it falls back to plain polls with backoff.
import { ApiError, type Api } from './api'
import { nextDelay, type BackoffPolicy, type Timers } from './polling'
import { isFinal, type Job } from './types'

/** Seconds one request waits for a change (the API allows 25). */
export const WAIT_SECONDS = 20
/** Plain polls after a 429 or a failure: from 1 s, growing to 8 s. */
export const FALLBACK_POLICY: BackoffPolicy = { min: 1000, max: 8000, factor: 1.6 }

export type WatchEnd = 'final' | 'missing' | 'stopped'

export interface WatcherOptions {
  waitSeconds?: number
  policy?: BackoffPolicy
  timers?: Timers
  now?: () => number
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** Follows one job until it is final, gone or ``stop()``ped; ``onJob`` gets every answer. */
export class JobWatcher {
  readonly jobId: string
  readonly #api: Api
  readonly #onJob: (job: Job) => void
  readonly #onEnd: (end: WatchEnd) => void
  readonly #wait: number
  readonly #policy: BackoffPolicy
  readonly #timers: Timers
  readonly #now: () => number
  #since: number
  #controller: AbortController | null = null
  #sleep: { handle: unknown; wake: () => void } | null = null
  #stopped = false
  /** Current backoff (ms); 0 while the long poll works. */
  #delay = 0
  /** The next request is a plain GET (after a 429: the job may have changed meanwhile). */
  #plainNext = false

  constructor(api: Api, jobId: string, since: number, onJob: (job: Job) => void, onEnd: (end: WatchEnd) => void = () => undefined, options: WatcherOptions = {}) {
    this.#api = api
    this.jobId = jobId
    this.#since = since
    this.#onJob = onJob
    this.#onEnd = onEnd
    this.#wait = options.waitSeconds ?? WAIT_SECONDS
    this.#policy = options.policy ?? FALLBACK_POLICY
    this.#timers = options.timers ?? realTimers
    this.#now = options.now ?? (() => Date.now())
    void this.#run()
  }

  /** The version last seen. */
  get since(): number {
    return this.#since
  }

  /** Backing off (plain polls) rather than waiting on the API. */
  get backingOff(): boolean {
    return this.#delay > 0
  }

  /** End a backoff pause now (back online, a new API key). */
  wake(): void {
    this.#delay = this.#delay > 0 ? this.#policy.min : 0
    this.#sleep?.wake()
  }

  /** Abort the waiting request; nothing more is asked. */
  stop(): void {
    this.#end('stopped')
  }

  #end(end: WatchEnd): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#controller?.abort()
    this.#controller = null
    this.#sleep?.wake() // the loop sees it stopped
    this.#onEnd(end)
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const plain = this.#plainNext
      this.#plainNext = false
      const controller = new AbortController()
      this.#controller = controller
      const started = this.#now()
      let job: Job
      try {
        job = await this.#api.getJob(this.jobId, controller.signal, plain ? undefined : { seconds: this.#wait, since: this.#since })
      } catch (err) {
        if (this.#stopped) return
        if (err instanceof ApiError && err.status === 404) {
          this.#end('missing')
          return
        }
        // 429: every waiting slot of the owner is taken; anything else: network or server trouble.
        this.#plainNext = err instanceof ApiError && err.status === 429
        await this.#backOff()
        continue
      }
      if (this.#stopped) return
      const version = job.version
      const changed = version === undefined || version > this.#since
      if (version !== undefined && version > this.#since) this.#since = version
      this.#onJob(job)
      if (isFinal(job.state)) {
        this.#end('final')
        return
      }
      // An unchanged answer long before the wait was up: this API (or a proxy) does not wait.
      const early = !plain && !changed && this.#now() - started < (this.#wait * 1000) / 2
      if (early || version === undefined) {
        this.#plainNext = version === undefined
        await this.#backOff()
      } else if (!plain) {
        this.#delay = 0 // waiting works (again)
      }
    }
  }

  #backOff(): Promise<void> {
    this.#delay = this.#delay === 0 ? this.#policy.min : nextDelay(this.#delay, false, this.#policy)
    return new Promise((resolve) => {
      const wake = (): void => {
        if (this.#sleep) this.#timers.clear(this.#sleep.handle)
        this.#sleep = null
        resolve()
      }
      this.#sleep = { handle: this.#timers.set(wake, this.#delay), wake }
    })
  }
}
