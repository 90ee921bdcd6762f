import { useId, useState, type FormEvent } from 'react'
import type { Api } from '../lib/api'
import { Button, FIELD, MUTED } from './ui'
import { Webhooks } from './Webhooks'

interface SettingsProps {
  apiKey: string
  defaultKey: string
  onSave: (key: string) => void
  onClose: () => void
  /** For the webhooks of this key. */
  api: Api
}

/** The API key sent as X-Api-Key (kept in this browser's localStorage), and the key's webhooks. */
export function SettingsPanel({ apiKey, defaultKey, onSave, onClose, api }: SettingsProps) {
  const [draft, setDraft] = useState(apiKey === defaultKey ? '' : apiKey)
  const inputId = useId()
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    onSave(draft)
    onClose()
  }
  return (
    <div id="settings" className="border-b border-slate-200 bg-white dark:border-slate-700 dark:bg-slate-900">
      <div className="mx-auto flex max-w-6xl flex-col gap-4 px-3 py-3 sm:px-4">
        <form onSubmit={submit} className="flex flex-wrap items-end gap-3">
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
        <Webhooks key={apiKey} api={api} />
      </div>
    </div>
  )
}
