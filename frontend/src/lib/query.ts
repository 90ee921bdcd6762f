// What the job list shows: search, state filter and order, as GET /jobs parameters and as the
// part of the URL hash that keeps them across a reload.
import { JOB_STATES, type Job, type JobState } from './types'

export type Order = 'newest' | 'oldest'

export interface JobQuery {
  /** Case-insensitive part of the file name ("" = any). */
  q: string
  /** Only jobs in one of these states ([] = any). */
  states: readonly JobState[]
  order: Order
}

export const DEFAULT_QUERY: JobQuery = { q: '', states: [], order: 'newest' }

/** The state filters the toolbar offers (each a set of API states). */
export const STATE_FILTERS = [
  { id: 'all', label: 'All states', states: [] },
  { id: 'active', label: 'In progress', states: ['awaiting_upload', 'queued', 'probing', 'encoding', 'assembling'] },
  { id: 'uploading', label: 'Waiting for upload', states: ['awaiting_upload'] },
  { id: 'done', label: 'Done', states: ['done'] },
  { id: 'failed', label: 'Failed', states: ['failed'] },
  { id: 'cancelled', label: 'Cancelled', states: ['cancelled'] },
] as const satisfies ReadonlyArray<{ id: string; label: string; states: readonly JobState[] }>

export type StateFilterId = (typeof STATE_FILTERS)[number]['id']

export function filterIdOf(states: readonly JobState[]): StateFilterId {
  const key = [...states].sort().join(',')
  return STATE_FILTERS.find((f) => [...f.states].sort().join(',') === key)?.id ?? 'all'
}

export function statesOf(id: string): JobState[] {
  return [...(STATE_FILTERS.find((f) => f.id === id)?.states ?? [])]
}

export const MAX_PAGE = 100

/** GET /jobs path for one page of ``query`` (``before``: the previous page's ``next``). */
export function jobsPath(query: JobQuery, limit: number, before: string | null = null): string {
  const params = new URLSearchParams()
  params.set('limit', String(Math.min(MAX_PAGE, Math.max(1, Math.round(limit)))))
  if (before) params.set('before', before)
  if (query.states.length > 0) params.set('state', query.states.join(','))
  const q = query.q.trim()
  if (q) params.set('q', q)
  if (query.order !== 'newest') params.set('order', query.order)
  return `/jobs?${params.toString()}`
}

/** Whether a job belongs in the list of ``query`` (what the API filters, done again locally). */
export function matchesQuery(job: Pick<Job, 'filename' | 'state'>, query: JobQuery): boolean {
  if (query.states.length > 0 && !query.states.includes(job.state)) return false
  const q = query.q.trim().toLowerCase()
  return !q || (job.filename ?? '').toLowerCase().includes(q)
}

/** Order of two jobs in the list of ``order``. */
export function compareJobs(a: Pick<Job, 'created_at'>, b: Pick<Job, 'created_at'>, order: Order): number {
  const diff = (a.created_at ?? 0) - (b.created_at ?? 0)
  return order === 'newest' ? -diff : diff
}

export function sameQuery(a: JobQuery, b: JobQuery): boolean {
  return a.q.trim() === b.q.trim() && a.order === b.order && [...a.states].sort().join() === [...b.states].sort().join()
}

export function isFiltered(query: JobQuery): boolean {
  return query.q.trim() !== '' || query.states.length > 0
}

// -- in the URL hash: #/?q=cat&state=done,failed&order=oldest -----------------------------

export function queryToSearch(query: JobQuery): string {
  const params = new URLSearchParams()
  if (query.q.trim()) params.set('q', query.q.trim())
  if (query.states.length > 0) params.set('state', query.states.join(','))
  if (query.order !== 'newest') params.set('order', query.order)
  const text = params.toString()
  return text ? `?${text}` : ''
}

export function queryFromSearch(search: string): JobQuery {
  const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search)
  const states = (params.get('state') ?? '').split(',').filter((s): s is JobState => (JOB_STATES as readonly string[]).includes(s))
  const order: Order = params.get('order') === 'oldest' ? 'oldest' : 'newest'
  return { q: (params.get('q') ?? '').slice(0, 200), states: [...new Set(states)], order }
}
