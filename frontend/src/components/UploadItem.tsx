import { useState } from 'react'
import { formatBytes, formatEta, formatSpeed } from '../lib/format'
import type { Uploader } from '../lib/uploader'
import type { UploadStatus, UploadView } from '../lib/uploadView'
import { Button, ProgressBar, type BarColor } from './ui'

const STATUS: Record<UploadStatus, { text: string; color: BarColor }> = {
  preparing: { text: 'creating the job…', color: 'slate' },
  uploading: { text: 'uploading', color: 'indigo' },
  paused: { text: 'paused', color: 'amber' },
  offline: { text: 'offline: waiting for the network', color: 'amber' },
  uploaded: { text: 'uploaded', color: 'emerald' },
  error: { text: 'upload failed', color: 'red' },
}

export function UploadItem({ upload, uploader }: { upload: UploadView; uploader: Uploader }) {
  const [cancelError, setCancelError] = useState<string | null>(null)
  const { text, color } = STATUS[upload.status]
  const cancel = (): void => {
    uploader.cancel(upload.id).catch((err: unknown) => setCancelError(err instanceof Error ? err.message : String(err)))
  }
  const active = upload.status === 'uploading' || upload.status === 'offline' || upload.status === 'preparing'
  return (
    <li
      className="rounded-lg border border-slate-200 p-3"
      data-testid="upload-item"
      data-status={upload.status}
      data-job-id={upload.jobId ?? ''}
      data-parts-done={upload.partsDone}
      data-parts-total={upload.partsTotal}
      data-parts-resumed={upload.partsResumed}
    >
      <div className="mb-2 flex items-baseline justify-between gap-2">
        <span className="truncate font-medium" title={upload.name}>{upload.name}</span>
        <span className="shrink-0 text-xs text-slate-500">{upload.choice.preset} · ≤{upload.choice.max_height}p · CRF {upload.choice.crf}</span>
      </div>
      <ProgressBar percent={upload.percent} label={`Upload of ${upload.name}`} color={color} testId="upload-progress" />
      <p className="mt-2 flex flex-wrap gap-x-3 gap-y-1 text-xs text-slate-600 tabular-nums" aria-live="off">
        <span className="font-medium" data-testid="upload-status">{text}</span>
        <span data-testid="upload-bytes">{formatBytes(upload.bytesSent)} of {formatBytes(upload.size)} ({upload.percent} %)</span>
        {upload.status === 'uploading' && <span data-testid="upload-speed">{formatSpeed(upload.speed)}</span>}
        {upload.status === 'uploading' && <span data-testid="upload-eta">{formatEta(upload.eta)} left</span>}
        {upload.partsTotal > 1 && <span>part {upload.partsDone} of {upload.partsTotal}{upload.partsResumed > 0 ? ` (${upload.partsResumed} already there)` : ''}</span>}
      </p>
      {(upload.error ?? cancelError) && <p role="alert" className="mt-2 text-sm text-red-700">{upload.error ?? cancelError}</p>}
      <div className="mt-2 flex flex-wrap gap-2">
        {active && upload.status !== 'preparing' && <Button onClick={() => uploader.pause(upload.id)}>Pause</Button>}
        {upload.status === 'paused' && <Button variant="primary" onClick={() => uploader.resume(upload.id)}>Resume</Button>}
        {upload.status === 'error' && <Button variant="primary" onClick={() => uploader.retry(upload.id)}>Retry</Button>}
        {upload.status !== 'uploaded' && <Button variant="danger" onClick={cancel}>Cancel upload</Button>}
        {(upload.status === 'uploaded' || upload.status === 'error') && <Button variant="ghost" onClick={() => uploader.dismiss(upload.id)}>Dismiss</Button>}
      </div>
    </li>
  )
}
