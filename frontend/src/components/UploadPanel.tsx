import { useState } from 'react'
import type { EncodeChoice, Uploader } from '../lib/uploader'
import type { UploadView } from '../lib/uploadView'
import { DropZone } from './DropZone'
import { DEFAULT_CHOICE, OptionsForm } from './OptionsForm'
import { UploadItem } from './UploadItem'
import { Button, Panel } from './ui'

interface UploadPanelProps {
  uploader: Uploader
  uploads: UploadView[]
  maxBytes: number
}

export function UploadPanel({ uploader, uploads, maxBytes }: UploadPanelProps) {
  const [choice, setChoice] = useState<EncodeChoice>(DEFAULT_CHOICE)
  const [refused, setRefused] = useState<string[]>([])
  const add = (files: File[]): void => setRefused(uploader.add(files, choice, maxBytes))
  return (
    <Panel title="Upload" labelId="upload-title">
      <div className="flex flex-col gap-4">
        <OptionsForm value={choice} onChange={setChoice} />
        <DropZone onFiles={add} maxBytes={maxBytes} />
        <div aria-live="polite" data-testid="rejections">
          {refused.length > 0 && (
            <div role="alert" className="flex items-start justify-between gap-2 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-800">
              <ul className="list-disc pl-4">
                {refused.map((reason) => <li key={reason}>{reason}</li>)}
              </ul>
              <Button variant="ghost" onClick={() => setRefused([])} aria-label="Dismiss these messages">✕</Button>
            </div>
          )}
        </div>
        {uploads.length > 0 && (
          <ul className="flex flex-col gap-3" aria-label="Uploads" data-testid="uploads">
            {uploads.map((u) => <UploadItem key={u.id} upload={u} uploader={uploader} />)}
          </ul>
        )}
      </div>
    </Panel>
  )
}
