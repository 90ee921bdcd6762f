import { useEffect, useRef, useState } from 'react'
import { jobHref, playHref } from '../hooks/useHashRoute'
import { cardBar, cardStatus, stageSteps, type BarTone, type CardStatus, type VideoItem } from '../lib/cards'
import { describeError, describeFailure, type Problem } from '../lib/errors'
import type { EncodeEstimate } from '../lib/estimate'
import { canPlayNow, playbackOf } from '../lib/playback'
import { choiceSummary } from '../lib/streamOptions'
import { displayName, formatBytes, formatClock, formatDuration, formatEta, formatRelative, formatResolution, formatSpeed, formatTimestamp } from '../lib/format'
import { isFinal, isProcessing, type Job } from '../lib/types'
import type { UploadView } from '../lib/uploadView'
import { ACCEPT } from '../lib/validate'
import { ChunkStrip } from './ChunkStrip'
import { Poster } from './Poster'
import { StageSteps } from './StageSteps'
import { StateBadge } from './StateBadge'
import { Button, LINK, MUTED, Notice, ProblemText, ProgressBar, SUCCESS_LINK, type BarColor } from './ui'

export interface CardActions {
  pause: (uploadId: string) => void
  resume: (uploadId: string) => void
  retry: (uploadId: string) => void
  cancelUpload: (uploadId: string) => Promise<void>
  cancel: (jobId: string) => Promise<void>
  remove: (jobId: string) => Promise<void>
  /** Continue an interrupted upload with the file picked again; the reason when it is not that file. */
  pickAgain: (job: Job, file: File) => Promise<string | null>
}

const BAR: Record<BarTone, BarColor> = { progress: 'progress', paused: 'paused', waiting: 'waiting', success: 'success', danger: 'danger' }

/** Seconds since the job was created (running) or its total time (final). */
export function elapsedSeconds(job: Job, nowMs: number): number | null {
  if (isFinal(job.state)) return job.timings.total ?? null
  return job.created_at ? Math.max(0, nowMs / 1000 - job.created_at) : null
}

interface VideoCardProps {
  item: VideoItem
  now: number
  estimate: EncodeEstimate | null
  selected: boolean
  onSelect: (jobId: string, selected: boolean) => void
  actions: CardActions
  /** Bring it into view once (just added from this browser). */
  reveal: boolean
}

/** One video: its upload from this browser and its job, upload → probe → encode → done. */
export function VideoCard({ item, now, estimate, selected, onSelect, actions, reveal }: VideoCardProps) {
  const { job, upload } = item
  const ref = useRef<HTMLLIElement>(null)
  useEffect(() => {
    if (reveal) ref.current?.scrollIntoView({ block: 'nearest' })
  }, [reveal])
  const status = cardStatus(job, upload, now / 1000)
  const bar = cardBar(status, job, upload)
  const name = job ? displayName(job.filename, job.job_id) : upload?.name ?? 'video'
  const jobId = job?.job_id ?? upload?.jobId ?? ''
  return (
    <li
      ref={ref}
      className={`min-w-0 rounded-lg border bg-white p-3 dark:bg-slate-900 ${selected ? 'border-indigo-400 ring-1 ring-indigo-400 dark:border-indigo-400' : 'border-slate-200 dark:border-slate-700'}`}
      data-testid="job-card"
      data-job-id={jobId}
      data-state={job?.state ?? ''}
      data-status={status}
    >
      <div className="flex gap-3">
        {jobId && (
          <input
            type="checkbox"
            className="mt-1 h-4 w-4 shrink-0 accent-indigo-600"
            checked={selected}
            onChange={(e) => onSelect(jobId, e.target.checked)}
            aria-label={`Select ${name}`}
            data-testid="job-select"
          />
        )}
        <Poster url={job?.poster_url} className="w-20 sm:w-28" />
        <div className="min-w-0 flex-1">
          <div className="flex items-start justify-between gap-2">
            <h3 className="min-w-0 text-sm font-medium sm:text-base">
              {jobId
                ? <a href={jobHref(jobId)} className={`block truncate ${LINK}`} title={name} data-testid="job-name">{name}</a>
                : <span className="block truncate" title={name} data-testid="job-name">{name}</span>}
            </h3>
            <StateBadge status={status} />
          </div>
          <CardFacts job={job} upload={upload} now={now} />
          <div className="mt-1"><StageSteps steps={stageSteps(status, job)} /></div>
        </div>
      </div>
      <div className="mt-2">
        <ProgressBar percent={bar.percent} label={`${name}: ${bar.label}`} color={BAR[bar.tone]} testId="job-progress" />
        <p className={`mt-1 flex flex-wrap gap-x-3 text-xs ${MUTED}`}>
          <span data-testid="job-progress-label">{bar.label}</span>
          {status === 'encoding' && <EstimateText estimate={estimate} />}
        </p>
      </div>
      {upload && <UploadDetails upload={upload} sent={upload.status === 'uploaded' || (job !== null && job.state !== 'awaiting_upload')} />}
      {job?.parts && job.progress.chunks_total > 0 && (
        <div className="mt-2"><ChunkStrip parts={job.parts} chunksTotal={job.progress.chunks_total} /></div>
      )}
      <CardNotices status={status} job={job} upload={upload} now={now} actions={actions} />
      <CardButtons status={status} job={job} upload={upload} actions={actions} playable={job !== null && canPlayNow(playbackOf(job, now / 1000))} />
    </li>
  )
}

function CardFacts({ job, upload, now }: { job: Job | null; upload: UploadView | null; now: number }) {
  const size = job?.size ?? upload?.size
  const video = job?.probe?.video
  const width = video?.display_width ?? video?.width
  const height = video?.display_height ?? video?.height
  const duration = job?.probe?.duration ?? video?.duration
  const facts: Array<[string, string]> = []
  if (size) facts.push(['size', formatBytes(size)])
  if (duration) facts.push(['duration', formatDuration(duration)])
  if (width && height) facts.push(['resolution', formatResolution(width, height)])
  if (job?.created_at) facts.push(['created', `created ${formatTimestamp(job.created_at, now / 1000)}`])
  return (
    <p className={`mt-0.5 flex flex-wrap gap-x-2 text-xs tabular-nums ${MUTED}`} data-testid="job-facts">
      {facts.map(([key, text], i) => <span key={key}>{i > 0 && <span aria-hidden="true">· </span>}<span data-fact={key}>{text}</span></span>)}
      {job && (isProcessing(job.state) || isFinal(job.state)) && (
        <span>{facts.length > 0 && <span aria-hidden="true">· </span>}{isFinal(job.state) ? 'took' : 'elapsed'} <span data-testid="job-elapsed">{formatClock(elapsedSeconds(job, now))}</span></span>
      )}
    </p>
  )
}

function EstimateText({ estimate }: { estimate: EncodeEstimate | null }) {
  if (!estimate || estimate.etaSeconds === null) {
    return <span data-testid="job-estimate" data-eta="">estimate: measuring…</span>
  }
  const parts = [`${formatEta(estimate.etaSeconds)} left`]
  if (estimate.chunksPerMinute !== null) parts.push(`${estimate.chunksPerMinute.toFixed(1)} chunks/min`)
  if (estimate.framesPerSecond !== null) parts.push(`${Math.round(estimate.framesPerSecond)} frames/s`)
  return (
    <span data-testid="job-estimate" data-eta={Math.round(estimate.etaSeconds)} title={estimate.basis === 'polls' ? 'Measured across the last status updates' : 'Measured since the encode started'}>
      estimate: {parts.join(' · ')}
    </span>
  )
}

/** This browser's upload: bytes, speed, time left and parts while it runs; one line once sent. */
function UploadDetails({ upload, sent }: { upload: UploadView; sent: boolean }) {
  return (
    <div
      className={`mt-1 flex flex-wrap gap-x-3 gap-y-0.5 text-xs tabular-nums ${MUTED}`}
      data-testid="upload-item"
      data-status={upload.status}
      data-job-id={upload.jobId ?? ''}
      data-parts-done={upload.partsDone}
      data-parts-total={upload.partsTotal}
      data-parts-resumed={upload.partsResumed}
    >
      {sent ? (
        <span data-testid="upload-bytes">uploaded from this browser: {formatBytes(upload.size)} ({upload.percent} %){upload.partsTotal > 1 ? ` in ${upload.partsTotal} parts` : ''}</span>
      ) : (
        <>
          <span data-testid="upload-bytes">{formatBytes(upload.bytesSent)} of {formatBytes(upload.size)} sent ({upload.percent} %)</span>
          {upload.status === 'uploading' && <span data-testid="upload-speed">{formatSpeed(upload.speed)}</span>}
          {upload.status === 'uploading' && <span data-testid="upload-eta">{formatEta(upload.eta)} left</span>}
          {upload.partsTotal > 1 && <span>part {upload.partsDone} of {upload.partsTotal}{upload.partsResumed > 0 ? ` (${upload.partsResumed} already there)` : ''}</span>}
        </>
      )}
      <span>{choiceSummary(upload.choice)}</span>
    </div>
  )
}

interface PartProps {
  status: CardStatus
  job: Job | null
  upload: UploadView | null
  actions: CardActions
}

function CardNotices({ status, job, upload, now, actions }: PartProps & { now: number }) {
  if (status === 'upload_failed' && upload?.problem) {
    return <div className="mt-2"><Notice alert testId="upload-error"><ProblemText problem={upload.problem} /></Notice></div>
  }
  if (status === 'failed' && job) {
    const problem = describeFailure(job.error)
    return (
      <div className="mt-2">
        <Notice testId="job-error"><span className="font-medium">Why it failed: {problem.message}</span> <span>{problem.next}</span></Notice>
      </div>
    )
  }
  if (status === 'interrupted' && job) return <div className="mt-2"><ResumeHint job={job} now={now} actions={actions} /></div>
  if (status === 'expired' && job) {
    return (
      <div className="mt-2">
        <Notice tone="danger" testId="upload-expired">
          The upload was never finished and its window closed {job.upload_expires_at ? formatRelative(job.upload_expires_at - now / 1000) : ''}. Delete this job and upload the file again.
        </Notice>
      </div>
    )
  }
  if (status === 'offline') {
    return <div className="mt-2"><Notice tone="warning">You are offline. The upload continues by itself when the network is back.</Notice></div>
  }
  return null
}

/** An upload this browser is not sending (reloaded, closed, another device): how to resume it. */
function ResumeHint({ job, now, actions }: { job: Job; now: number; actions: CardActions }) {
  const input = useRef<HTMLInputElement>(null)
  const [refusal, setRefusal] = useState<string | null>(null)
  const name = displayName(job.filename, job.job_id)
  const until = job.upload_expires_at
  return (
    <Notice
      tone="warning"
      testId="resume-hint"
      actions={(
        <>
          <Button onClick={() => input.current?.click()}>Pick the file again…</Button>
          <input
            ref={input}
            type="file"
            accept={ACCEPT}
            className="sr-only"
            tabIndex={-1}
            aria-label={`Pick ${name} again to resume its upload`}
            data-testid="resume-input"
            onChange={(e) => {
              const file = e.target.files?.[0]
              e.target.value = ''
              if (file) void actions.pickAgain(job, file).then(setRefusal)
            }}
          />
        </>
      )}
    >
      <p>
        <span className="font-medium">Waiting for its file.</span> If its upload was cut off (a reload, a closed tab), pick the same file again to resume: <span className="font-medium break-all">{name}</span>{job.size ? ` (${formatBytes(job.size)})` : ''}.
        {until && <> You can resume until {formatTimestamp(until, now / 1000)} ({formatRelative(until - now / 1000)}).</>}
      </p>
      {refusal && <p role="alert" className="mt-1 font-medium">{refusal}</p>}
    </Notice>
  )
}

function CardButtons({ status, job, upload, actions, playable }: PartProps & { playable: boolean }) {
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [problem, setProblem] = useState<Problem | null>(null)
  const run = (action: () => Promise<void>, doing: string): void => {
    setBusy(true)
    setProblem(null)
    action().catch((err: unknown) => setProblem(describeError(err, doing))).finally(() => setBusy(false))
  }
  const uploading = upload !== null && upload.status !== 'uploaded'
  return (
    <>
      <div className="mt-2 flex flex-wrap items-center gap-2">
        {job?.state === 'done' && <a href={jobHref(job.job_id)} className={SUCCESS_LINK}>View result</a>}
        {job && job.state !== 'done' && playable && (
          <a href={playHref(job.job_id)} className={SUCCESS_LINK} data-testid="play-now" title="The first chunks are out: watch it while the rest encodes">▶ Play now</a>
        )}
        {upload && (status === 'uploading' || status === 'offline') && <Button onClick={() => actions.pause(upload.id)}>Pause</Button>}
        {upload && status === 'paused' && <Button variant="primary" onClick={() => actions.resume(upload.id)}>Resume</Button>}
        {upload && status === 'upload_failed' && <Button variant="primary" onClick={() => actions.retry(upload.id)}>Retry</Button>}
        {upload && uploading && <Button variant="danger" disabled={busy} onClick={() => run(() => actions.cancelUpload(upload.id), 'cancel the upload')}>Cancel upload</Button>}
        {job && !uploading && !isFinal(job.state) && <Button variant="danger" disabled={busy} onClick={() => run(() => actions.cancel(job.job_id), 'cancel the job')}>Cancel</Button>}
        {job && (confirming ? (
          <>
            <Button variant="danger" disabled={busy} onClick={() => run(() => actions.remove(job.job_id), 'delete the job')}>Delete for good</Button>
            <Button variant="ghost" onClick={() => setConfirming(false)}>Keep</Button>
          </>
        ) : (
          <Button variant="ghost" disabled={busy} onClick={() => setConfirming(true)}>Delete…</Button>
        ))}
      </div>
      {problem && <div className="mt-2"><Notice alert><ProblemText problem={problem} /></Notice></div>}
    </>
  )
}
