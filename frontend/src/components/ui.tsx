// Small shared building blocks (one look for every button, panel, bar and notice; light and dark).
import { useState, type ButtonHTMLAttributes, type ReactNode } from 'react'
import type { Problem } from '../lib/errors'

type Variant = 'primary' | 'secondary' | 'danger' | 'ghost'

const VARIANTS: Record<Variant, string> = {
  // White on indigo-600 is 6.3:1, on a light or a dark page alike.
  primary: 'bg-indigo-600 text-white hover:bg-indigo-700 border-transparent',
  secondary: 'bg-white text-slate-800 hover:bg-slate-50 border-slate-300 dark:bg-slate-800 dark:text-slate-100 dark:border-slate-600 dark:hover:bg-slate-700',
  danger: 'bg-white text-red-700 hover:bg-red-50 border-red-300 dark:bg-slate-800 dark:text-red-300 dark:border-red-800 dark:hover:bg-red-950',
  ghost: 'bg-transparent text-slate-700 hover:bg-slate-100 border-transparent dark:text-slate-300 dark:hover:bg-slate-800',
}

export const FOCUS = 'focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-1 dark:focus-visible:ring-indigo-300 dark:ring-offset-slate-900'
export const LINK = `rounded font-medium text-indigo-700 hover:underline dark:text-indigo-300 ${FOCUS}`
export const MUTED = 'text-slate-600 dark:text-slate-400'
export const FIELD = `rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm text-slate-900 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100 ${FOCUS}`

export function Button({ variant = 'secondary', className = '', ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  return (
    <button
      type="button"
      {...rest}
      className={`inline-flex min-h-9 items-center justify-center gap-1 rounded-md border px-3 py-1.5 text-sm font-medium disabled:cursor-not-allowed disabled:opacity-60 ${VARIANTS[variant]} ${FOCUS} ${className}`}
    />
  )
}

export const PRIMARY_LINK = `inline-flex min-h-9 items-center rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-700 ${FOCUS}`
export const SUCCESS_LINK = `inline-flex min-h-9 items-center rounded-md bg-emerald-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-emerald-800 dark:bg-emerald-400 dark:text-slate-950 dark:hover:bg-emerald-300 ${FOCUS}`

export function Panel({ title, actions, children, labelId, className = '' }: { title: ReactNode; actions?: ReactNode; children: ReactNode; labelId: string; className?: string }) {
  return (
    <section aria-labelledby={labelId} className={`min-w-0 rounded-xl border border-slate-200 bg-white p-3 shadow-sm sm:p-4 dark:border-slate-700 dark:bg-slate-900 ${className}`}>
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 id={labelId} className="min-w-0 text-base font-semibold break-words">{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  )
}

const BAR_COLORS = {
  progress: 'bg-indigo-500 dark:bg-indigo-400',
  success: 'bg-emerald-500 dark:bg-emerald-400',
  danger: 'bg-red-500 dark:bg-red-400',
  waiting: 'bg-slate-400 dark:bg-slate-500',
  paused: 'bg-amber-400 dark:bg-amber-300',
} as const
export type BarColor = keyof typeof BAR_COLORS

export function ProgressBar({ percent, label, color = 'progress', testId }: { percent: number; label: string; color?: BarColor; testId?: string }) {
  const value = Math.min(100, Math.max(0, percent))
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value}
      aria-valuetext={`${label}: ${value} %`}
      data-testid={testId}
      data-tone={color}
      className="h-2.5 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
    >
      <div className={`h-full rounded-full transition-[width] duration-300 ${BAR_COLORS[color]}`} style={{ width: `${value}%` }} />
    </div>
  )
}

export type Fact = readonly [term: string, value: ReactNode, key?: string]

/** A term/value list (job facts, options). ``key`` names the fact for tests (defaults to the term). */
export function Facts({ items, testId, columns = 3 }: { items: ReadonlyArray<Fact>; testId?: string; columns?: 2 | 3 }) {
  return (
    <dl className={`grid grid-cols-2 gap-x-4 gap-y-2 text-sm ${columns === 3 ? 'sm:grid-cols-3' : ''}`} data-testid={testId}>
      {items.map(([term, value, key]) => (
        <div key={key ?? term} className="min-w-0">
          <dt className={`text-xs uppercase tracking-wide ${MUTED}`}>{term}</dt>
          <dd className="truncate font-medium tabular-nums" data-fact={key ?? term}>{value}</dd>
        </div>
      ))}
    </dl>
  )
}

const NOTICE_TONES = {
  danger: 'border-red-200 bg-red-50 text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-100',
  warning: 'border-amber-200 bg-amber-50 text-amber-950 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-100',
  info: 'border-sky-200 bg-sky-50 text-sky-950 dark:border-sky-900 dark:bg-sky-950 dark:text-sky-100',
  success: 'border-emerald-200 bg-emerald-50 text-emerald-950 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-100',
} as const

/** A message in a box: what happened, what to do next, and optional actions. */
export function Notice({ tone = 'danger', children, actions, testId, alert = false }: {
  tone?: keyof typeof NOTICE_TONES
  children: ReactNode
  actions?: ReactNode
  testId?: string
  /** Announce it (role=alert): a problem that just happened. */
  alert?: boolean
}) {
  return (
    <div role={alert ? 'alert' : undefined} data-testid={testId} className={`flex flex-wrap items-start justify-between gap-2 rounded-md border p-2.5 text-sm ${NOTICE_TONES[tone]}`}>
      <div className="min-w-0 flex-1 break-words">{children}</div>
      {actions && <div className="flex shrink-0 flex-wrap gap-2">{actions}</div>}
    </div>
  )
}

/** A problem as two parts: what went wrong (bold) and what to do. */
export function ProblemText({ problem, prefix }: { problem: Problem; prefix?: string }) {
  return (
    <>
      <span className="font-medium">{prefix}{problem.message}</span> <span>{problem.next}</span>
    </>
  )
}

/** Copy ``text`` to the clipboard (the async API, else a selected textarea). */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text)
    return
  } catch {
    // no permission or not a secure context: the old way
  }
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.opacity = '0'
  document.body.appendChild(area)
  area.select()
  const ok = document.execCommand('copy')
  area.remove()
  if (!ok) throw new Error('copy refused')
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle')
  const copy = (): void => {
    copyText(text).then(() => setState('copied'), () => setState('failed'))
    setTimeout(() => setState('idle'), 2000)
  }
  return (
    <Button onClick={copy} aria-label={`Copy ${label}`} data-testid="copy" className="shrink-0">
      <span aria-live="polite">{state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy' : 'Copy'}</span>
    </Button>
  )
}
