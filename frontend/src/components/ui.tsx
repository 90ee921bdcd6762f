// Small shared building blocks (one look for every button, panel and bar).
import type { ButtonHTMLAttributes, ReactNode } from 'react'

type Variant = 'primary' | 'secondary' | 'danger' | 'ghost'

const VARIANTS: Record<Variant, string> = {
  primary: 'bg-indigo-600 text-white hover:bg-indigo-700 border-transparent',
  secondary: 'bg-white text-slate-800 hover:bg-slate-50 border-slate-300',
  danger: 'bg-white text-red-700 hover:bg-red-50 border-red-300',
  ghost: 'bg-transparent text-slate-600 hover:bg-slate-100 border-transparent',
}

export const FOCUS = 'focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-1'

export function Button({ variant = 'secondary', className = '', ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  return (
    <button
      type="button"
      {...rest}
      className={`inline-flex min-h-9 items-center justify-center gap-1 rounded-md border px-3 py-1.5 text-sm font-medium disabled:cursor-not-allowed disabled:opacity-50 ${VARIANTS[variant]} ${FOCUS} ${className}`}
    />
  )
}

export function Panel({ title, actions, children, labelId }: { title: string; actions?: ReactNode; children: ReactNode; labelId: string }) {
  return (
    <section aria-labelledby={labelId} className="min-w-0 rounded-xl border border-slate-200 bg-white p-3 shadow-sm sm:p-4">
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 id={labelId} className="text-base font-semibold">{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  )
}

const BAR_COLORS = {
  indigo: 'bg-indigo-500',
  emerald: 'bg-emerald-500',
  red: 'bg-red-400',
  slate: 'bg-slate-400',
  amber: 'bg-amber-400',
} as const
export type BarColor = keyof typeof BAR_COLORS

export function ProgressBar({ percent, label, color = 'indigo', testId }: { percent: number; label: string; color?: BarColor; testId?: string }) {
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
      className="h-2.5 w-full overflow-hidden rounded-full bg-slate-200"
    >
      <div className={`h-full rounded-full transition-[width] duration-300 ${BAR_COLORS[color]}`} style={{ width: `${value}%` }} />
    </div>
  )
}

/** A term/value list (result facts, upload numbers). */
export function Facts({ items, testId, columns = 3 }: { items: ReadonlyArray<readonly [string, ReactNode]>; testId?: string; columns?: 2 | 3 }) {
  return (
    <dl className={`grid grid-cols-2 gap-x-4 gap-y-2 text-sm ${columns === 3 ? 'sm:grid-cols-3' : ''}`} data-testid={testId}>
      {items.map(([term, value]) => (
        <div key={term} className="min-w-0">
          <dt className="text-xs uppercase tracking-wide text-slate-500">{term}</dt>
          <dd className="truncate font-medium tabular-nums" data-fact={term}>{value}</dd>
        </div>
      ))}
    </dl>
  )
}
