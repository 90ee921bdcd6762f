import { useEffect, useId, useState } from 'react'
import { filterIdOf, statesOf, STATE_FILTERS, type JobQuery, type Order } from '../lib/query'
import { FIELD, MUTED } from './ui'

interface JobToolbarProps {
  query: JobQuery
  onChange: (query: JobQuery) => void
}

const SEARCH_DELAY_MS = 300

/** Search by name, filter by state, sort. */
export function JobToolbar({ query, onChange }: JobToolbarProps) {
  const id = useId()
  const [text, setText] = useState(query.q)
  // Typing waits a moment before asking the API; a query from elsewhere (the URL) resets the box.
  useEffect(() => setText(query.q), [query.q])
  useEffect(() => {
    if (text === query.q) return undefined
    const timer = setTimeout(() => onChange({ ...query, q: text }), SEARCH_DELAY_MS)
    return () => clearTimeout(timer)
  }, [text, query, onChange])
  return (
    <div className="flex flex-wrap items-end gap-2" role="search" aria-label="Find jobs" data-testid="job-toolbar">
      <label className={`flex min-w-40 flex-1 flex-col gap-1 text-xs ${MUTED}`} htmlFor={`${id}-q`}>
        Search by name
        <input
          id={`${id}-q`}
          type="search"
          className={`w-full ${FIELD}`}
          value={text}
          placeholder="file name contains…"
          maxLength={200}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => { if (e.key === 'Enter') onChange({ ...query, q: text }) }}
        />
      </label>
      <label className={`flex flex-col gap-1 text-xs ${MUTED}`} htmlFor={`${id}-state`}>
        State
        <select id={`${id}-state`} className={FIELD} value={filterIdOf(query.states)} onChange={(e) => onChange({ ...query, states: statesOf(e.target.value) })}>
          {STATE_FILTERS.map((f) => <option key={f.id} value={f.id}>{f.label}</option>)}
        </select>
      </label>
      <label className={`flex flex-col gap-1 text-xs ${MUTED}`} htmlFor={`${id}-order`}>
        Sort
        <select id={`${id}-order`} className={FIELD} value={query.order} onChange={(e) => onChange({ ...query, order: e.target.value as Order })}>
          <option value="newest">Newest first</option>
          <option value="oldest">Oldest first</option>
        </select>
      </label>
    </div>
  )
}
