// The API's estimate of a job (made once the video was probed: when it will be ready and what its
// workers' time costs, README "Estimate"), and the actual figures next to it once done, in words.
import { formatSpan, formatUsd } from './format'
import type { EstimateBasis, Job } from './types'

export interface ForecastView {
  /** "ready in 3.4 s", or why there is no time yet. */
  ready: string
  /** Epoch seconds when the estimate expects the job done (null: unknown). */
  readyAt: number | null
  cost: string
  /** What it was computed from, in the API's words. */
  summary: string | null
  /** The figures behind it (workers, backlog, work, price…). */
  facts: Array<[term: string, value: string]>
  actual: { ready: string; cost: string | null; verdict: string | null } | null
}

/** How the actual time compares: "44 % longer than estimated", "as estimated" (within 5 %). */
export function verdict(estimated: number | null, actual: number): string | null {
  if (estimated === null || !(estimated > 0) || !Number.isFinite(actual)) return null
  const percent = Math.round(((actual - estimated) / estimated) * 100)
  if (Math.abs(percent) < 5) return 'as estimated'
  return percent > 0 ? `${percent} % longer than estimated` : `${-percent} % quicker than estimated`
}

function basisFacts(basis: EstimateBasis | undefined): Array<[string, string]> {
  if (!basis) return []
  const facts: Array<[string, string]> = []
  if (typeof basis.workers === 'number') {
    const running = typeof basis.workers_running === 'number' && basis.workers_running !== basis.workers ? ` (${basis.workers_running} running)` : ''
    const cores = typeof basis.cores === 'number' ? ` on ${basis.cores} core${basis.cores === 1 ? '' : 's'}` : ''
    facts.push(['Workers', `${basis.workers} processor${basis.workers === 1 ? '' : 's'}${running}${cores}${basis.fleet ? `, ${basis.fleet}` : ''}`])
  }
  const backlog = basis.backlog
  if (backlog && typeof backlog.tasks === 'number') {
    facts.push(['Queued ahead', backlog.tasks === 0 ? 'nothing' : `${backlog.tasks} task${backlog.tasks === 1 ? '' : 's'}${typeof backlog.seconds === 'number' ? ` (${formatSpan(backlog.seconds)} of work)` : ''}`])
  }
  const work = basis.work
  if (work && typeof work.tasks === 'number') {
    facts.push(['This job', `${work.tasks} task${work.tasks === 1 ? '' : 's'}${typeof work.cpu_seconds === 'number' ? `, ${formatSpan(work.cpu_seconds)} of CPU` : ''}`])
  }
  if (typeof basis.worker_seconds === 'number') facts.push(['Worker time', formatSpan(basis.worker_seconds)])
  if (typeof basis.price === 'string' && basis.price) facts.push(['Price', basis.price])
  if (typeof basis.calibration === 'string' && basis.calibration) facts.push(['Calibration', basis.calibration])
  return facts
}

/** The estimate and the actual figures of ``job`` in words; null before the estimate exists. */
export function forecastOf(job: Pick<Job, 'estimate' | 'actual' | 'state'>): ForecastView | null {
  const estimate = job.estimate
  if (!estimate) return null
  const seconds = estimate.ready_in_seconds
  const actual = job.state === 'done' && job.actual ? job.actual : null
  return {
    ready: seconds === null ? 'no time yet: no worker is running to do it' : `ready in ${formatSpan(seconds)}`,
    readyAt: seconds !== null && typeof estimate.made_at === 'number' ? estimate.made_at + seconds : null,
    cost: formatUsd(estimate.cost_usd),
    summary: typeof estimate.basis?.summary === 'string' ? estimate.basis.summary : null,
    facts: basisFacts(estimate.basis),
    actual: actual ? {
      ready: `took ${formatSpan(actual.ready_in_seconds)}`,
      cost: actual.cost_usd === null ? null : formatUsd(actual.cost_usd),
      verdict: verdict(seconds, actual.ready_in_seconds),
    } : null,
  }
}
