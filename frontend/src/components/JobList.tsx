import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { useNow } from '../hooks/useNow'
import { videoItems } from '../lib/cards'
import type { Problem } from '../lib/errors'
import type { BulkDeleteOutcome, JobsSnapshot, JobsStore } from '../lib/jobsStore'
import { DEFAULT_QUERY, isFiltered, type JobQuery } from '../lib/query'
import { isProcessing } from '../lib/types'
import type { UploadView } from '../lib/uploadView'
import { JobToolbar } from './JobToolbar'
import { VideoCard, type CardActions } from './VideoCard'
import { Button, MUTED, Notice, Panel, ProblemText } from './ui'

interface JobListProps {
  snapshot: JobsSnapshot
  store: JobsStore
  uploads: UploadView[]
  actions: CardActions
  onQuery: (query: JobQuery) => void
  /** Upload ids just added: their cards scroll into view. */
  revealed: ReadonlySet<string>
  /** Stop this browser's uploads of jobs about to be deleted. */
  dropUploads: (jobIds: readonly string[]) => void
}

export function JobList({ snapshot, store, uploads, actions, onQuery, revealed, dropUploads }: JobListProps) {
  const items = useMemo(() => videoItems(snapshot.jobs, uploads, store.job), [snapshot.jobs, uploads, store])
  // The clock ticks (elapsed times, estimates) only while something moves.
  const anyActive = items.some((i) => (i.upload && i.upload.status !== 'error') || (i.job && isProcessing(i.job.state)))
  const now = useNow(anyActive)
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set())
  const shownIds = useMemo(() => items.flatMap((i) => (i.job ? [i.job.job_id] : [])), [items])
  // Selection only ever holds jobs that are shown (a filter change or a delete drops the rest).
  const chosen = useMemo(() => shownIds.filter((id) => selected.has(id)), [shownIds, selected])
  const select = useCallback((jobId: string, on: boolean) => {
    setSelected((old) => {
      const next = new Set(old)
      if (on) next.add(jobId)
      else next.delete(jobId)
      return next
    })
  }, [])
  const filtered = isFiltered(snapshot.query)
  return (
    <Panel title="Jobs" labelId="jobs-title" actions={<Button variant="ghost" onClick={store.kick}>Refresh</Button>}>
      <div className="mb-3 flex flex-col gap-3">
        <JobToolbar query={snapshot.query} onChange={onQuery} />
        <BulkBar
          shown={shownIds}
          chosen={chosen}
          onSelectAll={(on) => setSelected(on ? new Set(shownIds) : new Set())}
          onDelete={async (ids) => {
            dropUploads(ids)
            const outcome = await store.removeMany(ids)
            setSelected((old) => new Set([...old].filter((id) => !outcome.deleted.includes(id) && !outcome.notFound.includes(id))))
            return outcome
          }}
        />
      </div>
      {snapshot.error && <div className="mb-3"><Notice alert tone="warning" testId="list-error"><ProblemText problem={snapshot.error} /></Notice></div>}
      {!snapshot.loaded && !snapshot.error && items.length === 0 && <p className={`text-sm ${MUTED}`}>Loading…</p>}
      {snapshot.loaded && items.length === 0 && (filtered ? <NoMatch onClear={() => onQuery(DEFAULT_QUERY)} /> : <Empty />)}
      <ul className="grid gap-3 lg:grid-cols-2" data-testid="jobs" aria-label="Jobs">
        {items.map((item) => (
          <VideoCard
            key={item.key}
            item={item}
            now={now}
            estimate={item.job?.state === 'encoding' ? store.estimate(item.job.job_id, now) : null}
            selected={item.job ? selected.has(item.job.job_id) : false}
            onSelect={select}
            actions={actions}
            reveal={item.upload ? revealed.has(item.upload.id) : false}
          />
        ))}
      </ul>
      <MoreJobs snapshot={snapshot} store={store} count={snapshot.jobs.length} />
    </Panel>
  )
}

function Empty() {
  return (
    <div className="flex flex-col items-center gap-1 rounded-lg border border-dashed border-slate-300 px-4 py-8 text-center dark:border-slate-600" data-testid="empty">
      <p className="font-medium">No videos yet</p>
      <p className={`text-sm ${MUTED}`}>Drop a video above (or choose one) to convert it into an MP4 that plays everywhere. Its progress shows here.</p>
    </div>
  )
}

function NoMatch({ onClear }: { onClear: () => void }) {
  return (
    <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center dark:border-slate-600" data-testid="no-match">
      <p className={`text-sm ${MUTED}`}>No jobs match this search and filter.</p>
      <Button onClick={onClear}>Show all jobs</Button>
    </div>
  )
}

/** Older pages: loaded when the end of the list scrolls into view, or with the button. */
function MoreJobs({ snapshot, store, count }: { snapshot: JobsSnapshot; store: JobsStore; count: number }) {
  const sentinel = useRef<HTMLDivElement>(null)
  const { hasMore, loadingMore, moreError } = snapshot
  useEffect(() => {
    const node = sentinel.current
    if (!node || !hasMore || moreError || typeof IntersectionObserver === 'undefined') return undefined
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void store.loadMore()
    }, { rootMargin: '400px 0px' })
    observer.observe(node)
    return () => observer.disconnect()
  }, [hasMore, moreError, store, count])
  if (!snapshot.loaded || (!hasMore && count === 0)) return null
  return (
    <div ref={sentinel} className="mt-3 flex flex-col items-center gap-2" data-testid="more-jobs" data-has-more={hasMore}>
      {moreError && <Notice alert><ProblemText problem={moreError} /></Notice>}
      {hasMore ? (
        <Button onClick={() => void store.loadMore()} disabled={loadingMore}>{loadingMore ? 'Loading more…' : 'Load more jobs'}</Button>
      ) : (
        <p className={`text-xs ${MUTED}`} data-testid="list-end">{count === 1 ? 'That is the only job' : `All ${count} jobs shown`}{isFiltered(snapshot.query) ? ' for this search and filter' : ''}.</p>
      )}
    </div>
  )
}

interface BulkBarProps {
  shown: readonly string[]
  chosen: readonly string[]
  onSelectAll: (on: boolean) => void
  onDelete: (ids: readonly string[]) => Promise<BulkDeleteOutcome>
}

/** Select all shown, and delete the selected jobs in one go (after a confirmation). */
function BulkBar({ shown, chosen, onSelectAll, onDelete }: BulkBarProps) {
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<{ text: string; problem: Problem | null } | null>(null)
  const all = shown.length > 0 && chosen.length === shown.length
  const box = useRef<HTMLInputElement>(null)
  useEffect(() => {
    if (box.current) box.current.indeterminate = chosen.length > 0 && !all
  }, [chosen.length, all])
  useEffect(() => {
    if (chosen.length === 0) setConfirming(false)
  }, [chosen.length])
  if (shown.length === 0 && !result) return null
  const remove = (): void => {
    setBusy(true)
    setResult(null)
    const ids = [...chosen]
    onDelete(ids).then((outcome) => {
      const gone = outcome.deleted.length + outcome.notFound.length
      setResult({ text: `Deleted ${gone} job${gone === 1 ? '' : 's'}.`, problem: outcome.problem })
    }).finally(() => {
      setBusy(false)
      setConfirming(false)
    })
  }
  return (
    <div className="flex flex-wrap items-center gap-2 text-sm" data-testid="bulk-bar">
      {shown.length > 0 && (
        <label className="flex items-center gap-2">
          <input ref={box} type="checkbox" className="h-4 w-4 accent-indigo-600" checked={all} onChange={(e) => onSelectAll(e.target.checked)} data-testid="select-all" />
          Select all shown ({shown.length})
        </label>
      )}
      {chosen.length > 0 && !confirming && (
        <Button variant="danger" onClick={() => setConfirming(true)}>Delete selected ({chosen.length})…</Button>
      )}
      {confirming && (
        <>
          <span className="font-medium">Delete {chosen.length} job{chosen.length === 1 ? '' : 's'} and their files for good?</span>
          <Button variant="danger" disabled={busy} onClick={remove}>{busy ? 'Deleting…' : `Delete ${chosen.length} for good`}</Button>
          <Button variant="ghost" disabled={busy} onClick={() => setConfirming(false)}>Keep them</Button>
        </>
      )}
      <span role="status" className="min-w-0" data-testid="bulk-result">
        {result && !result.problem && result.text}
        {result?.problem && <><span>{result.text} </span><ProblemText problem={result.problem} /></>}
      </span>
    </div>
  )
}
