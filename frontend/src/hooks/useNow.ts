import { useEffect, useState } from 'react'

/** The current time in ms, refreshed every ``intervalMs`` while ``ticking``. */
export function useNow(ticking: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!ticking) return undefined
    setNow(Date.now())
    const handle = setInterval(() => setNow(Date.now()), intervalMs)
    return () => clearInterval(handle)
  }, [ticking, intervalMs])
  return now
}
