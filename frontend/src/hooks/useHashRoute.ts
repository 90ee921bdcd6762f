import { useEffect, useState } from 'react'
import { queryFromSearch, queryToSearch, type JobQuery } from '../lib/query'

export type Route = { name: 'home'; query: JobQuery } | { name: 'job'; jobId: string; play?: true }

/**
 * "#/jobs/<id>" → the detail view of that job ("#/jobs/<id>/play": and start its stream);
 * "#/?q=…&state=…&order=…" → the dashboard with
 * that search (kept across a reload); anything else → the dashboard (works on static hosting).
 */
export function parseRoute(hash: string): Route {
  const match = /^#\/jobs\/([A-Za-z0-9_-]+)(\/play)?$/.exec(hash)
  if (match?.[1]) return match[2] ? { name: 'job', jobId: match[1], play: true } : { name: 'job', jobId: match[1] }
  const search = /^#\/?(\?.*)$/.exec(hash)?.[1] ?? ''
  return { name: 'home', query: queryFromSearch(search) }
}

export function jobHref(jobId: string): string {
  return `#/jobs/${jobId}`
}

/** The detail view of the job, its stream started. */
export function playHref(jobId: string): string {
  return `#/jobs/${jobId}/play`
}

export function homeHref(query: JobQuery): string {
  return `#/${queryToSearch(query)}`
}

export function useHashRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash)
  useEffect(() => {
    const onChange = (): void => setHash(window.location.hash)
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return parseRoute(hash)
}

/** Show ``query`` in the address bar without a new history entry per keystroke. */
export function replaceHomeQuery(query: JobQuery): void {
  const href = homeHref(query)
  if (window.location.hash === href || (href === '#/' && window.location.hash === '')) return
  window.history.replaceState(null, '', href)
}
