import { useState } from 'react'

/** The video's still frame when the API has one, else a neutral frame icon. */
export function Poster({ url, className = '' }: { url: string | null | undefined; className?: string }) {
  const [broken, setBroken] = useState(false)
  const box = `aspect-video shrink-0 overflow-hidden rounded-md bg-slate-200 dark:bg-slate-800 ${className}`
  if (url && !broken) {
    return (
      <div className={box} data-testid="job-poster" data-poster="image">
        <img src={url} alt="" loading="lazy" className="h-full w-full object-cover" onError={() => setBroken(true)} />
      </div>
    )
  }
  return (
    <div className={`${box} flex items-center justify-center text-slate-500 dark:text-slate-400`} data-testid="job-poster" data-poster="placeholder">
      <svg aria-hidden="true" viewBox="0 0 24 24" className="h-7 w-7" fill="none" stroke="currentColor" strokeWidth="1.5">
        <rect x="3" y="5" width="18" height="14" rx="2" />
        <path d="M7 5v14M17 5v14M3 9h4M3 15h4M17 9h4M17 15h4" />
      </svg>
    </div>
  )
}
