import { useOnline } from '../hooks/useOnline'
import { FOCUS } from './ui'

interface HeaderProps {
  settingsOpen: boolean
  onToggleSettings: () => void
  live: boolean
}

const STATUS = {
  offline: { dot: 'bg-amber-500', text: 'offline' },
  live: { dot: 'ff-running bg-emerald-500', text: 'live' },
  idle: { dot: 'bg-slate-400', text: 'idle' },
} as const

export function Header({ settingsOpen, onToggleSettings, live }: HeaderProps) {
  const status = STATUS[useOnline() ? (live ? 'live' : 'idle') : 'offline']
  return (
    <header className="border-b border-slate-200 bg-white dark:border-slate-700 dark:bg-slate-900">
      <div className="mx-auto flex max-w-6xl items-center justify-between gap-3 px-3 py-3 sm:px-4">
        <a href="#/" className={`flex items-center gap-2 rounded text-lg font-semibold tracking-tight ${FOCUS}`}>
          <img src="favicon.svg" alt="" className="h-7 w-7" />
          framefleet
        </a>
        <div className="flex items-center gap-3 text-sm">
          <span className="flex items-center gap-1.5 text-slate-600 dark:text-slate-400" data-testid="live-indicator" data-live={live} title="Status updates">
            <span aria-hidden="true" className={`h-2 w-2 rounded-full ${status.dot}`} />
            {status.text}
          </span>
          <button
            type="button"
            onClick={onToggleSettings}
            aria-expanded={settingsOpen}
            aria-controls="settings"
            className={`rounded-md border border-slate-300 px-3 py-1.5 font-medium hover:bg-slate-50 dark:border-slate-600 dark:hover:bg-slate-800 ${FOCUS}`}
          >
            Settings
          </button>
        </div>
      </div>
    </header>
  )
}
