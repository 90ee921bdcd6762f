import { useState } from 'react'
import { jobHref } from '../hooks/useHashRoute'
import { formatBytes, formatClock } from '../lib/format'
import { jobBar, type Phase } from '../lib/progress'
import { isFinal, type Job } from '../lib/types'
import { ChunkStrip } from './ChunkStrip'
import { StateBadge } from './StateBadge'
import { Button, FOCUS, ProgressBar, type BarColor } from './ui'

const BAR: Record<Phase, BarColor> = {
  upload: 'indigo', prepare: 'slate', encode: 'indigo', assemble: 'indigo', done: 'emerald', failed: 'red', cancelled: 'amber',
}

export interface JobActions {
  cancel: (jobId: string) => Promise<void>
  remove: (jobId: string) => Promise<void>
}

/** Seconds since the job was created (running) or its total time (final). */
export function elapsedSeconds(job: Job, nowMs: number): number | null {
  if (isFinal(job.state)) return job.timings.total ?? null
  return job.created_at ? Math.max(0, nowMs / 1000 - job.created_at) : null
}

interface JobCardProps {
  job: Job
  uploadFraction: number | null
  now: number
  actions: JobActions
}

export function JobCard({ job, uploadFraction, now, actions }: JobCardProps) {
  const bar = jobBar(job, uploadFraction)
  const name = job.filename ?? job.job_id
  return (
    <li className="rounded-lg border border-slate-200 p-3" data-testid="job-card" data-job-id={job.job_id} data-state={job.state}>
      <div className="mb-2 flex items-start justify-between gap-2">
        <div className="min-w-0">
          <a href={jobHref(job.job_id)} className={`block truncate rounded font-medium text-indigo-700 hover:underline ${FOCUS}`} title={name}>{name}</a>
          <p className="text-xs text-slate-500 tabular-nums">
            {job.size ? formatBytes(job.size) : ''} · elapsed <span data-testid="job-elapsed">{formatClock(elapsedSeconds(job, now))}</span>
          </p>
        </div>
        <StateBadge state={job.state} />
      </div>
      <ProgressBar percent={bar.percent} label={`${name}: ${bar.label}`} color={BAR[bar.phase]} testId="job-progress" />
      <p className="mt-1 text-xs text-slate-600" data-testid="job-progress-label">{bar.label}</p>
      {job.parts && <div className="mt-2"><ChunkStrip parts={job.parts} chunksTotal={job.progress.chunks_total} /></div>}
      {job.state === 'failed' && job.error && (
        <p role="alert" className="mt-2 rounded-md bg-red-50 p-2 text-sm text-red-800" data-testid="job-error">Why it failed: {job.error}</p>
      )}
      <JobCardActions job={job} actions={actions} />
    </li>
  )
}

function JobCardActions({ job, actions }: { job: Job; actions: JobActions }) {
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const run = (action: () => Promise<void>): void => {
    setBusy(true)
    setError(null)
    action().catch((err: unknown) => setError(err instanceof Error ? err.message : String(err))).finally(() => setBusy(false))
  }
  return (
    <div className="mt-2 flex flex-wrap items-center gap-2">
      {job.state === 'done' && <a href={jobHref(job.job_id)} className={`rounded-md bg-emerald-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-emerald-700 ${FOCUS}`}>View result</a>}
      {!isFinal(job.state) && <Button variant="danger" disabled={busy} onClick={() => run(() => actions.cancel(job.job_id))}>Cancel</Button>}
      {confirming ? (
        <>
          <Button variant="danger" disabled={busy} onClick={() => run(() => actions.remove(job.job_id))}>Delete for good</Button>
          <Button variant="ghost" onClick={() => setConfirming(false)}>Keep</Button>
        </>
      ) : (
        <Button variant="ghost" disabled={busy} onClick={() => setConfirming(true)}>Delete…</Button>
      )}
      {error && <span role="alert" className="text-sm text-red-700">{error}</span>}
    </div>
  )
}
