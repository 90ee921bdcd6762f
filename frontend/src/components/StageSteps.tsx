import type { Step, StepState } from '../lib/cards'

const STYLE: Record<StepState, string> = {
  done: 'text-emerald-800 dark:text-emerald-300',
  current: 'font-semibold text-indigo-800 dark:text-indigo-200',
  todo: 'text-slate-600 dark:text-slate-400',
  stopped: 'font-semibold text-red-800 dark:text-red-300',
}

const MARK: Record<StepState, string> = { done: '✓', current: '●', todo: '○', stopped: '✕' }
const SAY: Record<StepState, string> = { done: 'done', current: 'now', todo: 'to do', stopped: 'stopped here' }

/** Upload → Probe → Encode → Done, with where the video is. */
export function StageSteps({ steps }: { steps: readonly Step[] }) {
  return (
    <ol className="flex flex-wrap items-center gap-x-1.5 gap-y-0.5 text-xs" aria-label="Stages" data-testid="job-stages">
      {steps.map((step, i) => (
        <li key={step.stage} className={`flex items-center gap-1 ${STYLE[step.state]}`} data-stage={step.stage} data-step={step.state}
          aria-current={step.state === 'current' ? 'step' : undefined}>
          {i > 0 && <span aria-hidden="true" className="text-slate-400 dark:text-slate-500">→</span>}
          <span aria-hidden="true">{MARK[step.state]}</span>
          <span>{step.label}<span className="sr-only"> ({SAY[step.state]})</span></span>
        </li>
      ))}
    </ol>
  )
}
