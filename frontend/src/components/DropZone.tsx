import { useRef, useState, type DragEvent } from 'react'
import { formatBytes } from '../lib/format'
import { ACCEPT } from '../lib/validate'
import { Button } from './ui'

/** Drag-and-drop target and a file picker (the button keeps it keyboard-accessible). */
export function DropZone({ onFiles, maxBytes }: { onFiles: (files: File[]) => void; maxBytes: number }) {
  const input = useRef<HTMLInputElement>(null)
  const [over, setOver] = useState(false)
  const drop = (event: DragEvent): void => {
    event.preventDefault()
    setOver(false)
    onFiles([...event.dataTransfer.files])
  }
  return (
    <div
      onDragOver={(e) => { e.preventDefault(); setOver(true) }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
      data-testid="dropzone"
      className={`flex flex-col items-center gap-2 rounded-lg border-2 border-dashed px-4 py-6 text-center transition-colors ${over ? 'border-indigo-500 bg-indigo-50' : 'border-slate-300 bg-slate-50'}`}
    >
      <p className="text-sm text-slate-600">Drop videos here, or</p>
      <Button variant="primary" onClick={() => input.current?.click()}>Choose videos…</Button>
      <input
        ref={input}
        type="file"
        multiple
        accept={ACCEPT}
        className="sr-only"
        tabIndex={-1}
        aria-label="Choose videos to upload"
        data-testid="file-input"
        onChange={(e) => {
          onFiles([...(e.target.files ?? [])])
          e.target.value = ''
        }}
      />
      <p className="text-xs text-slate-500">MP4, MOV, MKV, WebM, AVI, MPEG-TS… up to {formatBytes(maxBytes)} each. Uploads resume after a dropped connection or a reload (pick the same file again).</p>
    </div>
  )
}
