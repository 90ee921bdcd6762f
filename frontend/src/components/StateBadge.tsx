import { STATE_LABELS } from '../lib/format'
import type { JobState } from '../lib/types'

const COLORS: Record<JobState, string> = {
  awaiting_upload: 'bg-sky-100 text-sky-800',
  queued: 'bg-slate-100 text-slate-700',
  probing: 'bg-slate-100 text-slate-700',
  encoding: 'bg-indigo-100 text-indigo-800',
  assembling: 'bg-violet-100 text-violet-800',
  done: 'bg-emerald-100 text-emerald-800',
  failed: 'bg-red-100 text-red-800',
  cancelled: 'bg-amber-100 text-amber-800',
}

export function StateBadge({ state }: { state: JobState }) {
  return (
    <span data-testid="job-state" data-state={state} className={`shrink-0 rounded-full px-2 py-0.5 text-xs font-semibold ${COLORS[state]}`}>
      {STATE_LABELS[state] ?? state}
    </span>
  )
}
