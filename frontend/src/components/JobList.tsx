import { useMemo } from 'react'
import { useNow } from '../hooks/useNow'
import type { JobsSnapshot, JobsStore } from '../lib/jobsStore'
import { isFinal } from '../lib/types'
import type { Uploader } from '../lib/uploader'
import type { UploadView } from '../lib/uploadView'
import { JobCard, type JobActions } from './JobCard'
import { Button, Panel } from './ui'

interface JobListProps {
  snapshot: JobsSnapshot
  store: JobsStore
  uploader: Uploader
  /** Only to re-render when upload progress moves. */
  uploads: UploadView[]
}

export function JobList({ snapshot, store, uploader, uploads }: JobListProps) {
  const anyActive = snapshot.jobs.some((j) => !isFinal(j.state))
  const now = useNow(anyActive)
  const actions: JobActions = useMemo(() => ({
    cancel: async (jobId) => {
      const upload = uploads.find((u) => u.jobId === jobId)
      if (upload) await uploader.cancel(upload.id) // also stops the upload; it cancels the job
      else await store.cancel(jobId)
      store.kick()
    },
    remove: (jobId) => store.remove(jobId),
  }), [store, uploader, uploads])
  return (
    <Panel title="Jobs" labelId="jobs-title" actions={<Button variant="ghost" onClick={store.kick}>Refresh</Button>}>
      {snapshot.error && <p role="alert" className="mb-3 rounded-md bg-amber-50 p-2 text-sm text-amber-900">{snapshot.error}</p>}
      {snapshot.loaded && snapshot.jobs.length === 0 && <p className="text-sm text-slate-500">No jobs yet: upload a video to start one.</p>}
      {!snapshot.loaded && !snapshot.error && <p className="text-sm text-slate-500">Loading…</p>}
      <ul className="flex flex-col gap-3" data-testid="jobs" aria-label="Jobs">
        {snapshot.jobs.map((job) => (
          <JobCard key={job.job_id} job={job} uploadFraction={uploader.uploadFraction(job.job_id)} now={now} actions={actions} />
        ))}
      </ul>
    </Panel>
  )
}
