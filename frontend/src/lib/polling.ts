// Status polling: fast while something changes, backing off while idle, stopped when every job
// is final and nothing is uploading.
import { epoch, tokenExpiry } from './playback'
import { isProcessing, type Job } from './types'

export interface BackoffPolicy {
  /** First and post-change delay (ms). */
  min: number
  /** Longest delay while idle (ms). */
  max: number
  /** Growth per poll that saw no change. */
  factor: number
}

export const POLL_POLICY: BackoffPolicy = { min: 500, max: 8000, factor: 1.6 }

export function nextDelay(previous: number, changed: boolean, policy: BackoffPolicy = POLL_POLICY): number {
  if (changed) return policy.min
  return Math.min(policy.max, Math.max(policy.min, Math.round(previous * policy.factor)))
}

/**
 * Whether another poll can change anything the dashboard shows: an upload in this browser, a job
 * the workers are on, or a job this browser uploaded that the server has not picked up yet. A job
 * merely awaiting an upload nobody is sending (an interrupted one) does not keep polling alive.
 */
export function needsPolling(jobs: Iterable<Pick<Job, 'state' | 'job_id'>>, uploading: boolean, uploadedHere: ReadonlySet<string> = new Set()): boolean {
  if (uploading) return true
  for (const job of jobs) {
    if (isProcessing(job.state)) return true
    if (job.state === 'awaiting_upload' && uploadedHere.has(job.job_id)) return true
  }
  return false
}

/** What a poll compares to tell "changed" from "idle". */
export function jobFingerprint(job: Job): string {
  const parts = job.parts ? Object.entries(job.parts).map(([k, p]) => `${k}:${p.state}:${p.attempt ?? 0}`).join(',') : ''
  return `${job.state}|${job.progress.chunks_done}/${job.progress.chunks_total}|${job.progress.audio}|${job.playable_at ?? ''}|${job.dash_url ? 'dash' : ''}|${parts}`
}

/** Keep an output URL this long before its expiry; after that the fresh one is taken. */
export const URL_MARGIN_SECONDS = 120

/**
 * A fresh job record over the one we have: keeps the parts (the list view has none), the output
 * URL and the stream links (all re-signed on every response: replacing them would reload what
 * plays them) while they are valid for a while yet.
 */
export function mergeJob(old: Job | undefined, fresh: Job, nowSeconds: number = Date.now() / 1000): Job {
  if (!old) return fresh
  const parts = fresh.parts ? keepPlannedFrames(old.parts, fresh.parts) : old.parts
  const keepUrl = old.output?.url && (!old.output.url_expires_at || old.output.url_expires_at - nowSeconds > URL_MARGIN_SECONDS)
  const output = fresh.output?.url && old.output?.url && keepUrl
    ? { ...fresh.output, url: old.output.url, ...(old.output.url_expires_at ? { url_expires_at: old.output.url_expires_at } : {}) }
    : fresh.output
  const merged: Job = { ...fresh, output, ...keptStreamLinks(old, fresh, nowSeconds), ...keptImageLinks(old, fresh, nowSeconds) }
  if (parts) merged.parts = parts
  // The listing has no actual cost (it reads no part records): the one GET /jobs/{id} gave stays.
  if (fresh.actual && fresh.actual.cost_usd === null && typeof old.actual?.cost_usd === 'number') {
    merged.actual = { ...fresh.actual, cost_usd: old.actual.cost_usd }
  }
  return merged
}

/** The stream links to keep from ``old``: all of them while valid; the fresh ones once they near
 *  their expiry, or when the DASH link arrives (at done: one token for both). */
function keptStreamLinks(old: Job, fresh: Job, nowSeconds: number): Partial<Job> {
  if (!old.playback_url || !fresh.playback_url) return {}
  const expires = tokenExpiry(old.playback_url) ?? epoch(old.playback_expires_at)
  if (expires !== null && expires - nowSeconds <= URL_MARGIN_SECONDS) return {}
  if (fresh.dash_url && !old.dash_url) return {}
  return { playback_url: old.playback_url, dash_url: fresh.dash_url ? old.dash_url : fresh.dash_url, playback_expires_at: old.playback_expires_at ?? null }
}

/** The poster and storyboard links to keep from ``old`` while valid (a new token would load the
 *  same images again). */
function keptImageLinks(old: Job, fresh: Job, nowSeconds: number): Partial<Job> {
  const kept: Partial<Job> = {}
  for (const key of ['poster_url', 'storyboard_url'] as const) {
    const before = old[key]
    const expires = before ? tokenExpiry(before) : null
    if (before && fresh[key] && expires !== null && expires - nowSeconds > URL_MARGIN_SECONDS) kept[key] = before
  }
  return kept
}

/** ``job`` without its signed links: the next record's links are taken whatever their expiry
 *  (after a player was refused its link, or a link turned out expired). */
export function withoutLinks(job: Job): Job {
  const output = job.output ? { ...job.output } : null
  if (output) delete output.url
  return { ...job, output, playback_url: null, dash_url: null, playback_expires_at: null, poster_url: null, storyboard_url: null }
}

/** A part's planned frame count, once seen, stays (a status update may not repeat it). */
function keepPlannedFrames(old: Job['parts'], fresh: NonNullable<Job['parts']>): NonNullable<Job['parts']> {
  if (!old) return fresh
  let merged: NonNullable<Job['parts']> | null = null
  for (const [id, part] of Object.entries(fresh)) {
    const frames = old[id]?.frames
    if (part.frames === undefined && frames !== undefined) {
      merged ??= { ...fresh }
      merged[id] = { ...part, frames }
    }
  }
  return merged ?? fresh
}

/** Merge a page of the job list (newest first) into what we know. */
export function mergeJobs(known: ReadonlyMap<string, Job>, fresh: readonly Job[]): Map<string, Job> {
  const next = new Map(known)
  for (const job of fresh) next.set(job.job_id, mergeJob(known.get(job.job_id), job))
  return next
}

export interface Timers {
  set: (fn: () => void, ms: number) => unknown
  clear: (handle: unknown) => void
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** The result of one poll. */
export interface PollOutcome {
  changed: boolean
  /** false: stop until ``kick()``. */
  active: boolean
}

/** Calls ``poll`` with backoff; ``kick()`` polls now and resets the delay (after a user action). */
export class Poller {
  readonly #poll: () => Promise<PollOutcome>
  readonly #policy: BackoffPolicy
  readonly #timers: Timers
  #delay: number
  #handle: unknown = null
  #running = false
  #stopped = true
  #again = false

  constructor(poll: () => Promise<PollOutcome>, policy: BackoffPolicy = POLL_POLICY, timers: Timers = realTimers) {
    this.#poll = poll
    this.#policy = policy
    this.#timers = timers
    this.#delay = policy.min
  }

  get delay(): number {
    return this.#delay
  }

  /** Polling is scheduled or in progress. */
  get active(): boolean {
    return !this.#stopped
  }

  kick(): void {
    this.#stopped = false
    this.#delay = this.#policy.min
    if (this.#handle !== null) this.#timers.clear(this.#handle)
    this.#handle = null
    if (this.#running) {
      this.#again = true
      return
    }
    void this.#run()
  }

  stop(): void {
    this.#stopped = true
    if (this.#handle !== null) this.#timers.clear(this.#handle)
    this.#handle = null
  }

  async #run(): Promise<void> {
    this.#running = true
    let outcome: PollOutcome
    try {
      outcome = await this.#poll()
    } catch {
      outcome = { changed: false, active: true } // network trouble: keep trying, backing off
    }
    this.#running = false
    if (this.#again) {
      this.#again = false
      void this.#run()
      return
    }
    if (this.#stopped) return
    if (!outcome.active) {
      this.#stopped = true
      return
    }
    this.#delay = nextDelay(this.#delay, outcome.changed, this.#policy)
    this.#handle = this.#timers.set(() => {
      this.#handle = null
      void this.#run()
    }, this.#delay)
  }
}
