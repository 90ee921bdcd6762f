import { formatTimestamp } from '../lib/format'
import { forecastOf } from '../lib/forecast'
import type { Job } from '../lib/types'
import { MUTED } from './ui'

/** The API's estimate (once the video was probed) and, when done, the actual figures next to it. */
export function Forecast({ job, now }: { job: Job; now: number }) {
  const view = forecastOf(job)
  if (!view) return null
  return (
    <section aria-labelledby="forecast-title" data-testid="forecast">
      <h3 id="forecast-title" className="mb-2 text-sm font-semibold">Estimate</h3>
      <p className="text-sm" title={view.summary ?? undefined} data-testid="forecast-estimate">
        <span className={MUTED}>Estimated: </span>
        <span className="font-medium" data-testid="forecast-ready">{view.ready}</span>
        {view.readyAt !== null && <span className={MUTED}> (by {formatTimestamp(view.readyAt, now / 1000, { seconds: true })})</span>}
        <span className={MUTED}> · cost </span><span className="font-medium tabular-nums" data-testid="forecast-cost">{view.cost}</span>
      </p>
      {view.actual && (
        <p className="text-sm" data-testid="forecast-actual">
          <span className={MUTED}>Actual: </span>
          <span className="font-medium">{view.actual.ready}</span>
          {view.actual.cost && <><span className={MUTED}> · cost </span><span className="font-medium tabular-nums">{view.actual.cost}</span></>}
          {view.actual.verdict && <span className={MUTED}> ({view.actual.verdict})</span>}
        </p>
      )}
      <p className={`mt-1 text-xs ${MUTED}`} data-testid="forecast-basis">
        Made when the video was read, counted from then.{view.summary ? ` Based on ${view.summary}.` : ''}
      </p>
      {view.facts.length > 0 && (
        <details className="mt-1 text-xs">
          <summary className={`cursor-pointer ${MUTED}`}>What it was computed from</summary>
          <dl className="mt-1 grid grid-cols-[auto_minmax(0,1fr)] gap-x-3 gap-y-0.5" data-testid="forecast-facts">
            {view.facts.map(([term, value]) => (
              <div key={term} className="contents">
                <dt className={MUTED}>{term}</dt>
                <dd className="break-words">{value}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </section>
  )
}
