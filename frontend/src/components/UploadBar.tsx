import { useState } from 'react'
import type { EncodeChoice } from '../lib/streamOptions'
import { DropZone } from './DropZone'
import { DEFAULT_CHOICE, OptionsForm } from './OptionsForm'
import { Button, Notice } from './ui'

interface UploadBarProps {
  maxBytes: number
  /** Add the files with these options; resolves to the reasons of the files refused. */
  onAdd: (files: File[], choice: EncodeChoice) => Promise<string[]>
}

/** Pick or drop videos, with the options for the next ones; refusals with their reasons. */
export function UploadBar({ maxBytes, onAdd }: UploadBarProps) {
  const [choice, setChoice] = useState<EncodeChoice>(DEFAULT_CHOICE)
  /** Why the options cannot be used as they are (nothing is uploaded until they are fixed). */
  const [problem, setProblem] = useState<string | null>(null)
  const [refused, setRefused] = useState<string[]>([])
  const add = (files: File[]): void => {
    if (files.length === 0) return
    if (problem) {
      setRefused([`Nothing was uploaded: fix the options first. ${problem}`])
      return
    }
    void onAdd(files, choice).then(setRefused)
  }
  return (
    <section aria-labelledby="upload-title" className="rounded-xl border border-slate-200 bg-white p-3 shadow-sm sm:p-4 dark:border-slate-700 dark:bg-slate-900">
      <h2 id="upload-title" className="sr-only">Upload</h2>
      <div className="flex flex-col gap-3 md:flex-row md:items-stretch">
        <div className="md:flex-1"><DropZone onFiles={add} maxBytes={maxBytes} /></div>
        <div className="md:w-96"><OptionsForm value={choice} onChange={(next, why) => { setChoice(next); setProblem(why) }} /></div>
      </div>
      <div aria-live="polite" data-testid="rejections">
        {refused.length > 0 && (
          <div className="mt-3">
            <Notice alert actions={<Button variant="ghost" onClick={() => setRefused([])} aria-label="Dismiss these messages">✕</Button>}>
              <ul className="list-disc pl-4">
                {refused.map((reason) => <li key={reason}>{reason}</li>)}
              </ul>
            </Notice>
          </div>
        )}
      </div>
    </section>
  )
}
