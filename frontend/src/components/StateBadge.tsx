import { STATUS_LABELS, STATUS_TONES, type CardStatus, type Tone } from '../lib/cards'

const TONES: Record<Tone, string> = {
  neutral: 'bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-200',
  info: 'bg-sky-100 text-sky-900 dark:bg-sky-950 dark:text-sky-200',
  progress: 'bg-indigo-100 text-indigo-900 dark:bg-indigo-950 dark:text-indigo-200',
  warning: 'bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200',
  success: 'bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200',
  danger: 'bg-red-100 text-red-900 dark:bg-red-950 dark:text-red-200',
}

/** The card's one status: upload states and job states in the same words everywhere. */
export function StateBadge({ status }: { status: CardStatus }) {
  return (
    <span data-testid="job-state" data-state={status} className={`shrink-0 rounded-full px-2 py-0.5 text-xs font-semibold whitespace-nowrap ${TONES[STATUS_TONES[status]]}`}>
      {STATUS_LABELS[status]}
    </span>
  )
}
