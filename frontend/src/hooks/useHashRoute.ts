import { useEffect, useState } from 'react'

export type Route = { name: 'home' } | { name: 'job'; jobId: string }

/** "#/jobs/<id>" → the result view of that job; anything else → home (works on static hosting). */
export function parseRoute(hash: string): Route {
  const match = /^#\/jobs\/([A-Za-z0-9_-]+)$/.exec(hash)
  return match?.[1] ? { name: 'job', jobId: match[1] } : { name: 'home' }
}

export function jobHref(jobId: string): string {
  return `#/jobs/${jobId}`
}

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash))
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(window.location.hash))
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}
