import { useEffect, useState } from 'react'
import { formatBitrate, formatBytes, formatDuration, formatResolution, formatSaving } from '../lib/format'
import type { JobsSnapshot, JobsStore } from '../lib/jobsStore'
import { jobBar } from '../lib/progress'
import type { Job, JobOutput } from '../lib/types'
import { ChunkStrip } from './ChunkStrip'
import { StateBadge } from './StateBadge'
import { Facts, FOCUS, Panel, ProgressBar } from './ui'

interface ResultViewProps {
  jobId: string
  store: JobsStore
  /** Re-render when the store changes. */
  snapshot: JobsSnapshot
}

/** One job: the player and the numbers when it is done, its progress otherwise. */
export function ResultView({ jobId, store, snapshot }: ResultViewProps) {
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    store.load(jobId).catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)))
  }, [jobId, store])
  const job = snapshot.jobs.find((j) => j.job_id === jobId) ?? store.job(jobId)
  return (
    <div className="lg:col-span-2">
      <a href="#/" className={`mb-3 inline-block rounded text-sm font-medium text-indigo-700 hover:underline ${FOCUS}`}>← All jobs</a>
      <Panel title={job?.filename ?? 'Job'} labelId="result-title" actions={job && <StateBadge state={job.state} />}>
        {error && <p role="alert" className="text-sm text-red-700">{error}</p>}
        {!job && !error && <p className="text-sm text-slate-500">Loading…</p>}
        {job && <JobDetails job={job} />}
      </Panel>
    </div>
  )
}

function JobDetails({ job }: { job: Job }) {
  const bar = jobBar(job)
  return (
    <div className="grid gap-4 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]" data-testid="result" data-state={job.state}>
      <div className="flex min-w-0 flex-col gap-3">
        {job.output ? <Player output={job.output} /> : <ProgressBar percent={bar.percent} label={bar.label} />}
        {job.state === 'failed' && job.error && <p role="alert" className="rounded-md bg-red-50 p-3 text-sm text-red-800">Why it failed: {job.error}</p>}
        {job.state === 'cancelled' && <p className="text-sm text-amber-800">This job was cancelled.</p>}
      </div>
      <div className="flex min-w-0 flex-col gap-4">
        {job.output && <OutputFacts output={job.output} sourceSize={job.output.source_size ?? job.size} />}
        {job.parts && (
          <div>
            <h3 className="mb-2 text-sm font-semibold">Chunks</h3>
            <ChunkStrip parts={job.parts} chunksTotal={job.progress.chunks_total} />
          </div>
        )}
        <Timings timings={job.timings} />
      </div>
    </div>
  )
}

function Player({ output }: { output: JobOutput }) {
  return (
    <video
      controls
      preload="auto"
      playsInline
      src={output.url}
      data-testid="player"
      className="aspect-video max-h-[70vh] w-full rounded-lg bg-black"
    >
      Your browser cannot play this video; use the download button.
    </video>
  )
}

function OutputFacts({ output, sourceSize }: { output: JobOutput; sourceSize: number | null | undefined }) {
  return (
    <>
      <Facts
        testId="output-facts"
        columns={2}
        items={[
          ['Size', formatBytes(output.size)],
          ['Duration', formatDuration(output.duration)],
          ['Resolution', formatResolution(output.width, output.height)],
          ['Bitrate', formatBitrate(output.bitrate)],
          ['Source', sourceSize ? formatBytes(sourceSize) : '–'],
          ['Saving', formatSaving(output.size, sourceSize)],
        ]}
      />
      <a
        href={output.url}
        download={output.filename ?? true}
        data-testid="download"
        className={`self-start rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700 ${FOCUS}`}
      >
        Download MP4 ({formatBytes(output.size)})
      </a>
    </>
  )
}

const STAGES = ['upload', 'queue', 'probe', 'encode', 'assemble', 'total'] as const

function Timings({ timings }: { timings: Record<string, number> }) {
  const items = STAGES.filter((s) => timings[s] !== undefined).map((s) => [s, `${(timings[s] ?? 0).toFixed(1)} s`] as const)
  if (items.length === 0) return null
  return (
    <div>
      <h3 className="mb-2 text-sm font-semibold">Time per stage</h3>
      <Facts items={items} columns={2} />
    </div>
  )
}
