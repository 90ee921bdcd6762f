import { useRef, useState, type DragEvent } from 'react'
import { formatBytes } from '../lib/format'
import { ACCEPT } from '../lib/validate'
import { Button, MUTED } from './ui'

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
      className={`flex flex-col items-center justify-center gap-2 rounded-lg border-2 border-dashed px-4 py-4 text-center transition-colors sm:flex-row sm:flex-wrap sm:gap-3 ${over
        ? 'border-indigo-500 bg-indigo-50 dark:bg-indigo-950'
        : 'border-slate-300 bg-slate-50 dark:border-slate-600 dark:bg-slate-800/60'}`}
    >
      <Button variant="primary" onClick={() => input.current?.click()}>Choose videos…</Button>
      <p className="text-sm text-slate-700 dark:text-slate-300">or drop them here</p>
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
      <p className={`w-full text-xs ${MUTED}`}>MP4, MOV, MKV, WebM, AVI, MPEG-TS… up to {formatBytes(maxBytes)} each. An interrupted upload resumes when you pick the same file again.</p>
    </div>
  )
}
