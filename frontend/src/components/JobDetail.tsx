import { useEffect, useRef, useState } from 'react'
import { useNow } from '../hooks/useNow'
import { ApiError } from '../lib/api'
import { cardBar, cardStatus, stageSteps } from '../lib/cards'
import { describeError, describeFailure, type Problem } from '../lib/errors'
import { displayName, formatBytes, formatEta, formatRelative, formatTimestamp } from '../lib/format'
import { compareFacts, optionFacts, stageTimeline } from '../lib/jobFacts'
import type { JobsSnapshot, JobsStore } from '../lib/jobsStore'
import { canPlayNow, embedPageUrl, embedSnippet, linkExpiryNote, playbackOf, type Playback } from '../lib/playback'
import { outputNotes, withTrackRows } from '../lib/tracks'
import { isFinal, type Job } from '../lib/types'
import type { UploadView } from '../lib/uploadView'
import { ChunkStrip } from './ChunkStrip'
import { Forecast } from './Forecast'
import { PlayerVideo } from './PlayerVideo'
import { StageSteps } from './StageSteps'
import { StateBadge } from './StateBadge'
import { StreamPlayer } from './StreamPlayer'
import type { CardActions } from './VideoCard'
import { Button, CopyButton, Facts, FIELD, LINK, MUTED, Notice, Panel, PRIMARY_LINK, ProblemText, ProgressBar } from './ui'

interface JobDetailProps {
  jobId: string
  store: JobsStore
  /** Re-render when the store changes. */
  snapshot: JobsSnapshot
  uploads: readonly UploadView[]
  actions: CardActions
  /** Where the API is (for the status URL); "" = this origin. */
  apiUrl: string
  backHref: string
  /** Start the stream right away (opened with "Play now" from a card). */
  autoPlay?: boolean
}

type LoadState = { kind: 'loading' } | { kind: 'ok' } | { kind: 'missing' } | { kind: 'error'; problem: Problem }

/** One job: the player and every fact when it is done; its progress, or why it stopped, otherwise. */
export function JobDetail({ jobId, store, snapshot, uploads, actions, apiUrl, backHref, autoPlay = false }: JobDetailProps) {
  const [load, setLoad] = useState<LoadState>({ kind: 'loading' })
  const [attempt, setAttempt] = useState(0)
  useEffect(() => {
    setLoad({ kind: 'loading' })
    store.load(jobId).then(() => setLoad({ kind: 'ok' }), (err: unknown) => {
      setLoad(err instanceof ApiError && err.status === 404 ? { kind: 'missing' } : { kind: 'error', problem: describeError(err, 'load this job') })
    })
  }, [jobId, store, attempt])
  // Followed live while shown: a change appears as soon as the API has it; left when closed.
  useEffect(() => store.watch(jobId), [jobId, store])
  const job = snapshot.jobs.find((j) => j.job_id === jobId) ?? store.job(jobId)
  const upload = uploads.find((u) => u.jobId === jobId) ?? null
  const now = useNow(job ? !isFinal(job.state) : false)
  const back = <a href={backHref} className={`mb-3 inline-block text-sm ${LINK}`}>← All jobs</a>

  if (load.kind === 'missing' || (load.kind === 'ok' && !job)) {
    return (
      <div>
        {back}
        <Panel title="Job not found" labelId="result-title">
          <div data-testid="job-missing" className="flex flex-col gap-3 text-sm">
            <p>There is no job <code className="rounded bg-slate-100 px-1 break-all dark:bg-slate-800">{jobId}</code> for your API key. It may have been deleted, it may belong to another key, or the link may be incomplete.</p>
            <p><a href={backHref} className={PRIMARY_LINK}>See all your jobs</a></p>
          </div>
        </Panel>
      </div>
    )
  }
  if (!job) {
    return (
      <div>
        {back}
        <Panel title="Job" labelId="result-title">
          {load.kind === 'error'
            ? <Notice alert actions={<Button onClick={() => setAttempt((n) => n + 1)}>Try again</Button>}><ProblemText problem={load.problem} /></Notice>
            : <p className={`text-sm ${MUTED}`}>Loading…</p>}
        </Panel>
      </div>
    )
  }
  const status = cardStatus(job, upload, now / 1000)
  const name = displayName(job.filename, job.job_id)
  return (
    <div>
      {back}
      <Panel title={<span className="break-all">{name}</span>} labelId="result-title" actions={<StateBadge status={status} />}>
        <div className="flex flex-col gap-4" data-testid="result" data-state={job.state}>
          <div className="flex flex-wrap items-center gap-x-4 gap-y-1 text-sm">
            <StageSteps steps={stageSteps(status, job)} />
            <span className={MUTED}>created {formatTimestamp(job.created_at, now / 1000)}</span>
          </div>
          <Outcome job={job} upload={upload} now={now} store={store} actions={actions} autoPlay={autoPlay} />
          <div className="grid gap-4 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
            {job.probe || job.output ? <FactsTable job={job} /> : <NoFacts job={job} />}
            <div className="flex min-w-0 flex-col gap-4">
              <section aria-labelledby="options-title">
                <h3 id="options-title" className="mb-2 text-sm font-semibold">Options used</h3>
                <Facts items={optionFacts(job.options)} columns={2} testId="options-used" />
              </section>
              <Forecast job={job} now={now} />
              <StageTimes job={job} now={now} />
              {job.parts && job.progress.chunks_total > 0 && (
                <section aria-labelledby="chunks-title">
                  <h3 id="chunks-title" className="mb-2 text-sm font-semibold">Chunks</h3>
                  <ChunkStrip parts={job.parts} chunksTotal={job.progress.chunks_total} fullLegend />
                </section>
              )}
            </div>
          </div>
          <Links job={job} apiUrl={apiUrl} now={now} />
        </div>
      </Panel>
    </div>
  )
}

interface OutcomeProps {
  job: Job
  upload: UploadView | null
  now: number
  store: JobsStore
  actions: CardActions
  autoPlay: boolean
}

/**
 * What the job came to: the player, or the progress (with "Play now" once the first chunks of
 * its stream are out), or why it stopped. The stream player keeps its place from "encoding" to
 * "done", so playback goes on when the job finishes.
 */
function Outcome({ job, upload, now, store, actions, autoPlay }: OutcomeProps) {
  const playback = playbackOf(job, now / 1000)
  const [playing, setPlaying] = useState(autoPlay)
  const streaming = (playback.kind === 'ready' || playback.kind === 'growing') && (job.state === 'done' || playing)
  const stream = streaming && (playback.kind === 'ready' || playback.kind === 'growing') ? (
    <StreamPlayer
      key={job.job_id}
      hls={playback.hls}
      dash={playback.dash}
      poster={job.poster_url}
      storyboard={job.storyboard_url}
      autoPlay={playing}
      onRefresh={() => store.load(job.job_id, { freshLinks: true })}
    />
  ) : null
  return (
    <div className="flex flex-col gap-3">
      {stream}
      <OutcomeBody job={job} upload={upload} now={now} store={store} actions={actions} playback={playback} streaming={stream !== null} onPlay={() => setPlaying(true)} />
      {stream && (playback.kind === 'ready' || playback.kind === 'growing') && <ShareStream job={job} playback={playback} now={now} />}
    </div>
  )
}

function OutcomeBody({ job, upload, now, store, actions, playback, streaming, onPlay }: Omit<OutcomeProps, 'autoPlay'> & { playback: Playback; streaming: boolean; onPlay: () => void }) {
  const [problem, setProblem] = useState<Problem | null>(null)
  const remove = (): void => {
    setProblem(null)
    actions.remove(job.job_id).then(() => { window.location.hash = '#/' }, (err: unknown) => setProblem(describeError(err, 'delete the job')))
  }
  const deleteButton = <Button variant="danger" onClick={remove}>Delete this job</Button>
  const problemNote = problem && <Notice alert><ProblemText problem={problem} /></Notice>
  const expired = playback.kind === 'expired' && (
    <Notice tone="warning" testId="playback-expired" actions={<Button onClick={() => { void store.load(job.job_id, { freshLinks: true }) }}>Get fresh links</Button>}>
      <span className="font-medium">The stream links of this page expired at {formatTimestamp(playback.expiresAt, Date.now() / 1000)}.</span> Get fresh ones to play the stream{job.output?.url ? '; the MP4 below plays meanwhile' : ''}.
    </Notice>
  )
  if (job.state === 'done' && job.output) {
    const mp4 = job.output.url
    return (
      <div className="flex flex-col gap-3">
        {expired}
        {!streaming && mp4 && <Mp4Player url={mp4} poster={job.poster_url} storyboard={job.storyboard_url} />}
        {!streaming && !mp4 && !expired && <p className={`text-sm ${MUTED}`}>This job made no MP4 and its stream cannot be played here.</p>}
        {mp4 && (
          <div className="flex flex-wrap gap-2">
            <a href={mp4} download={job.output.filename ?? true} data-testid="download" className={PRIMARY_LINK}>
              Download MP4 ({formatBytes(job.output.size)})
            </a>
          </div>
        )}
      </div>
    )
  }
  if (job.state === 'failed') {
    const failure = describeFailure(job.error)
    return (
      <section aria-labelledby="failed-title" className="flex flex-col gap-3 rounded-lg border border-red-200 bg-red-50 p-4 text-red-950 dark:border-red-900 dark:bg-red-950 dark:text-red-100" data-testid="failed-page">
        <h3 id="failed-title" className="text-base font-semibold">This video could not be converted</h3>
        <p data-testid="failure-reason">{failure.message}</p>
        <p><span className="font-medium">What to do: </span>{failure.next}</p>
        <div className="flex flex-wrap gap-2">{deleteButton}<a href="#/" className={PRIMARY_LINK}>Upload another video</a></div>
        {problemNote}
      </section>
    )
  }
  if (job.state === 'cancelled') {
    return (
      <div className="flex flex-col gap-2">
        <Notice tone="warning" testId="cancelled-note" actions={deleteButton}>This job was cancelled{job.error ? `: ${describeFailure(job.error).message}` : '.'} Nothing more will happen to it.</Notice>
        {problemNote}
      </div>
    )
  }
  const status = cardStatus(job, upload, now / 1000)
  const bar = cardBar(status, job, upload)
  const estimate = job.state === 'encoding' ? store.estimate(job.job_id, now) : null
  return (
    <div className="flex flex-col gap-2">
      {expired}
      {!streaming && canPlayNow(playback) && (
        <div className="flex flex-wrap items-center gap-x-3 gap-y-2 rounded-md border border-emerald-200 bg-emerald-50 p-2.5 text-sm text-emerald-950 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-100" data-testid="playable">
          <Button variant="primary" onClick={onPlay} data-testid="play-now">▶ Play now</Button>
          <span>The first chunks are out: watch it while the rest encodes.</span>
        </div>
      )}
      <ProgressBar percent={bar.percent} label={bar.label} color={bar.tone === 'success' ? 'success' : bar.tone === 'paused' ? 'paused' : bar.tone === 'danger' ? 'danger' : 'progress'} testId="job-progress" />
      <p className={`text-sm ${MUTED}`}>
        {bar.label}
        {estimate?.etaSeconds != null && ` · estimate: ${formatEta(estimate.etaSeconds)} left`}
      </p>
      {status === 'interrupted' && (
        <Notice tone="warning">The upload of this file stopped before it finished. Go back to all jobs and pick the same file again to resume it{job.upload_expires_at ? ` (until ${formatTimestamp(job.upload_expires_at, now / 1000)})` : ''}.</Notice>
      )}
      {status === 'expired' && <Notice tone="danger" actions={deleteButton}>The upload window of this job closed before the file arrived. Delete it and upload the file again.</Notice>}
      {problemNote}
    </div>
  )
}

/** The MP4 itself (a job without a stream, or a browser without MSE). */
function Mp4Player({ url, poster, storyboard }: { url: string; poster: string | null | undefined; storyboard: string | null | undefined }) {
  const video = useRef<HTMLVideoElement>(null)
  return (
    <div className="flex flex-col gap-2">
      <PlayerVideo video={video} src={url} poster={poster} storyboard={storyboard} />
    </div>
  )
}

function FactsTable({ job }: { job: Job }) {
  const rows = withTrackRows(compareFacts(job), job)
  const notes = outputNotes(job.output)
  return (
    <section aria-labelledby="facts-title" className="min-w-0">
      <h3 id="facts-title" className="mb-2 text-sm font-semibold">Input and output</h3>
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm" data-testid="facts-table">
          <thead>
            <tr className={`border-b border-slate-200 text-xs uppercase tracking-wide dark:border-slate-700 ${MUTED}`}>
              <th scope="col" className="py-1.5 pr-3 font-medium">Fact</th>
              <th scope="col" className="py-1.5 pr-3 font-medium">Input</th>
              <th scope="col" className="py-1.5 font-medium">Output</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800" data-row={row.key}>
                <th scope="row" className={`py-1.5 pr-3 font-normal ${MUTED}`}>{row.label}</th>
                <td className="py-1.5 pr-3 font-medium tabular-nums break-words" data-side="input">{row.input}</td>
                <td className="py-1.5 font-medium tabular-nums break-words" data-side="output">{row.output}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {notes.length > 0 && (
        <div className="mt-3 text-sm" data-testid="output-notes">
          <h4 className="mb-1 font-medium">Left out of the output</h4>
          <ul className={`list-disc pl-5 ${MUTED}`}>
            {notes.map((note, i) => <li key={i}>{note}</li>)}
          </ul>
        </div>
      )}
    </section>
  )
}

/** Before the probe (or when it could not read the file) there is nothing to compare yet. */
function NoFacts({ job }: { job: Job }) {
  return (
    <section aria-labelledby="facts-title" className="min-w-0" data-testid="no-facts">
      <h3 id="facts-title" className="mb-2 text-sm font-semibold">Input and output</h3>
      <p className={`text-sm ${MUTED}`}>
        {job.size ? `The upload is ${formatBytes(job.size)}. ` : ''}
        {isFinal(job.state) ? 'The video was never read, so there are no facts about it.' : 'Its facts appear here once the video has been read.'}
      </p>
    </section>
  )
}

function StageTimes({ job, now }: { job: Job; now: number }) {
  const rows = stageTimeline(job)
  if (rows.length === 0) return null
  return (
    <section aria-labelledby="stages-title">
      <h3 id="stages-title" className="mb-2 text-sm font-semibold">Time per stage</h3>
      <table className="w-full text-left text-sm" data-testid="stage-times">
        <thead>
          <tr className={`border-b border-slate-200 text-xs uppercase tracking-wide dark:border-slate-700 ${MUTED}`}>
            <th scope="col" className="py-1 pr-3 font-medium">Stage</th>
            <th scope="col" className="py-1 pr-3 font-medium">Started</th>
            <th scope="col" className="py-1 font-medium">Took</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key} className="border-b border-slate-100 last:border-0 dark:border-slate-800" data-stage={row.key}>
              <th scope="row" className="py-1 pr-3 font-normal">{row.label}</th>
              <td className="py-1 pr-3 tabular-nums">{formatTimestamp(row.startedAt, now / 1000, { seconds: true })}</td>
              <td className="py-1 tabular-nums">{row.seconds === null ? 'running…' : `${row.seconds.toFixed(1)} s`}</td>
            </tr>
          ))}
          {job.timings.total !== undefined && isFinal(job.state) && (
            <tr data-stage="total">
              <th scope="row" className="py-1 pr-3 font-semibold">Total</th>
              <td className="py-1 pr-3" />
              <td className="py-1 font-semibold tabular-nums">{job.timings.total.toFixed(1)} s</td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  )
}

function CopyField({ label, value, note, testId }: { label: string; value: string; note?: string; testId: string }) {
  return (
    <div className="flex min-w-0 flex-col gap-1" data-testid={testId}>
      <span className={`text-xs uppercase tracking-wide ${MUTED}`} id={`${testId}-label`}>{label}</span>
      <div className="flex min-w-0 gap-2">
        <input readOnly value={value} aria-labelledby={`${testId}-label`} className={`min-w-0 flex-1 font-mono text-xs ${FIELD}`} onFocus={(e) => e.target.select()} />
        <CopyButton text={value} label={label} />
      </div>
      {note && <span className={`text-xs ${MUTED}`} data-testid={`${testId}-note`}>{note}</span>}
    </div>
  )
}

function Links({ job, apiUrl, now }: { job: Job; apiUrl: string; now: number }) {
  const base = apiUrl || window.location.origin
  const expires = job.output?.url_expires_at
  const expiry = expires
    ? expires * 1000 > now
      ? `Works until ${formatTimestamp(expires, now / 1000)} (${formatRelative(expires - now / 1000)}); reload this page for a fresh link after that.`
      : 'This link has expired: reload the page for a fresh one.'
    : 'A signed link: it stops working after a while; reload this page for a fresh one.'
  return (
    <section aria-labelledby="links-title" className="flex flex-col gap-3">
      <h3 id="links-title" className="text-sm font-semibold">Links</h3>
      {job.output?.url && <CopyField label="MP4 download URL" value={job.output.url} note={expiry} testId="output-url" />}
      <div className="grid gap-3 sm:grid-cols-2">
        <CopyField label="Job ID" value={job.job_id} testId="job-id" />
        <CopyField label="Status in the API" value={`${base}/jobs/${job.job_id}`} note="Needs your API key (X-Api-Key)." testId="status-url" />
      </div>
    </section>
  )
}

/** The stream's links, and the embed code of the app's player page. */
function ShareStream({ job, playback, now }: { job: Job; playback: Extract<Playback, { kind: 'ready' | 'growing' }>; now: number }) {
  const page = embedPageUrl(window.location.href, playback.hls)
  const video = job.probe?.video
  const width = job.output?.width ?? video?.display_width ?? video?.width
  const height = job.output?.height ?? video?.display_height ?? video?.height
  const snippet = embedSnippet(page, { title: displayName(job.filename, job.job_id), width, height })
  const note = linkExpiryNote(playback.expiresAt, now / 1000)
  return (
    <section aria-labelledby="share-title" className="flex flex-col gap-3" data-testid="share-stream">
      <h3 id="share-title" className="text-sm font-semibold">Share the stream</h3>
      <div className="grid gap-3 md:grid-cols-2">
        <CopyField label="HLS playback URL" value={playback.hls} note={note} testId="playback-url" />
        {playback.dash
          ? <CopyField label="DASH manifest URL" value={playback.dash} note="The same video as DASH (e.g. for dash.js or Shaka Player)." testId="dash-url" />
          : <p className={`self-center text-xs ${MUTED}`}>A DASH manifest comes with the finished video.</p>}
      </div>
      <CopyField
        label="Embed code"
        value={snippet}
        note={`An <iframe> of this app's player page (embed.html) for any web page; it plays as long as the link works${playback.expiresAt ? ` (until ${formatTimestamp(playback.expiresAt, now / 1000)})` : ''}.`}
        testId="embed-code"
      />
      <p className="text-sm"><a href={page} target="_blank" rel="noopener" className={LINK} data-testid="embed-page">Open the player page</a></p>
    </section>
  )
}
