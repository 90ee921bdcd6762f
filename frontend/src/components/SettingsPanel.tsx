import { useId, useState, type FormEvent } from 'react'
import { Button, FIELD, MUTED } from './ui'

interface SettingsProps {
  apiKey: string
  defaultKey: string
  onSave: (key: string) => void
  onClose: () => void
}

/** The API key sent as X-Api-Key (kept in this browser's localStorage). */
export function SettingsPanel({ apiKey, defaultKey, onSave, onClose }: SettingsProps) {
  const [draft, setDraft] = useState(apiKey === defaultKey ? '' : apiKey)
  const inputId = useId()
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    onSave(draft)
    onClose()
  }
  return (
    <div id="settings" className="border-b border-slate-200 bg-white dark:border-slate-700 dark:bg-slate-900">
      <form onSubmit={submit} className="mx-auto flex max-w-6xl flex-wrap items-end gap-3 px-3 py-3 sm:px-4">
        <div className="flex min-w-0 flex-1 flex-col gap-1">
          <label htmlFor={inputId} className="text-sm font-medium">API key</label>
          <input
            id={inputId}
            type="password"
            autoComplete="off"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            placeholder={defaultKey ? 'using the key from config.json' : 'not needed while the API has no authentication'}
            className={`w-full ${FIELD}`}
          />
          <p className={`text-xs ${MUTED}`}>Sent as <code>X-Api-Key</code> with every API call; stored only in this browser.</p>
        </div>
        <div className="flex gap-2">
          <Button type="submit" variant="primary">Save</Button>
          <Button onClick={() => { setDraft(''); onSave(''); onClose() }}>Clear</Button>
        </div>
      </form>
    </div>
  )
}
