import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import { homeHref, replaceHomeQuery, useHashRoute } from '../hooks/useHashRoute'
import { useUploads } from '../hooks/useUploads'
import { storeApiKey, storedApiKey, type RuntimeConfig } from '../lib/config'
import { formatBytes } from '../lib/format'
import { queryToSearch, type JobQuery } from '../lib/query'
import { createServices } from '../lib/services'
import { choiceFromOptions } from '../lib/streamOptions'
import { isFinal } from '../lib/types'
import type { EncodeChoice } from '../lib/streamOptions'
import { Header } from './Header'
import { JobDetail } from './JobDetail'
import { JobList } from './JobList'
import { SettingsPanel } from './SettingsPanel'
import { UploadBar } from './UploadBar'
import type { CardActions } from './VideoCard'

export function App({ config }: { config: RuntimeConfig }) {
  const [apiKey, setApiKey] = useState(() => storedApiKey() || config.apiKey)
  const keyRef = useRef(apiKey)
  keyRef.current = apiKey
  const [services] = useState(() => createServices(config, () => keyRef.current))
  const { uploader, jobs } = services
  const snapshot = useSyncExternalStore(jobs.subscribe, jobs.getSnapshot)
  const uploads = useUploads(uploader)
  const route = useHashRoute()
  const [settingsOpen, setSettingsOpen] = useState(false)
  /** Upload ids just added: their cards scroll into view (on a phone the list is below). */
  const [revealed, setRevealed] = useState<ReadonlySet<string>>(new Set())

  // The search in the URL (a reload, a link, Back) is the list's query.
  const routeSearch = route.name === 'home' ? queryToSearch(route.query) : null
  const routeQuery = route.name === 'home' ? route.query : null
  const routeQueryRef = useRef(routeQuery)
  routeQueryRef.current = routeQuery
  useEffect(() => {
    if (routeQueryRef.current) jobs.setQuery(routeQueryRef.current)
    jobs.kick()
  }, [jobs, routeSearch])

  // Upload rows whose jobs are over have done their part: the job's card shows the rest.
  useEffect(() => {
    uploader.dismissJobs(new Set([...snapshot.jobs, ...uploads.flatMap((u) => (u.jobId ? jobs.job(u.jobId) ?? [] : []))]
      .filter((j) => isFinal(j.state)).map((j) => j.job_id)))
  }, [snapshot.jobs, uploads, uploader, jobs])

  const setQuery = useCallback((query: JobQuery) => {
    jobs.setQuery(query)
    replaceHomeQuery(query)
  }, [jobs])

  const saveKey = useCallback((key: string) => {
    storeApiKey(key)
    setApiKey(key.trim() || config.apiKey)
    keyRef.current = key.trim() || config.apiKey
    jobs.kick()
  }, [config.apiKey, jobs])

  const addFiles = useCallback(async (files: File[], choice: EncodeChoice, resumeJobId?: string): Promise<string[]> => {
    const { refused, added } = await uploader.add(files, choice, config.maxUploadBytes, resumeJobId)
    if (added.length > 0) setRevealed(new Set(added))
    return refused
  }, [uploader, config.maxUploadBytes])

  const actions: CardActions = useMemo(() => ({
    pause: (id) => uploader.pause(id),
    resume: (id) => uploader.resume(id),
    retry: (id) => uploader.retry(id),
    cancelUpload: async (id) => {
      await uploader.cancel(id) // stops the upload and cancels its job
      jobs.kick()
    },
    cancel: async (jobId) => {
      const upload = uploader.uploadOf(jobId)
      if (upload) await uploader.cancel(upload.id)
      else await jobs.cancel(jobId)
      jobs.kick()
    },
    remove: async (jobId) => {
      uploader.drop(jobId)
      await jobs.remove(jobId)
    },
    pickAgain: async (job, file) => {
      if ((job.filename && file.name !== job.filename) || (job.size && file.size !== job.size)) {
        return `That is not the same file: this job is waiting for ${job.filename ?? 'its file'}${job.size ? ` (${formatBytes(job.size)})` : ''}. To upload a different file, use "Choose videos…" above.`
      }
      const choice = choiceFromOptions(job.options)
      const refused = await addFiles([file], choice, job.job_id)
      return refused[0] ?? null
    },
  }), [uploader, jobs, addFiles])

  const dropUploads = useCallback((jobIds: readonly string[]) => {
    for (const id of jobIds) uploader.drop(id)
  }, [uploader])

  return (
    <div className="min-h-screen">
      <Header settingsOpen={settingsOpen} onToggleSettings={() => setSettingsOpen((open) => !open)} live={snapshot.polling} />
      {settingsOpen && <SettingsPanel apiKey={apiKey} defaultKey={config.apiKey} onSave={saveKey} onClose={() => setSettingsOpen(false)} api={services.api} />}
      <main className="mx-auto flex max-w-6xl flex-col gap-4 p-3 sm:p-4">
        {route.name === 'job' ? (
          <JobDetail
            jobId={route.jobId}
            store={jobs}
            snapshot={snapshot}
            uploads={uploads}
            actions={actions}
            apiUrl={config.apiUrl}
            backHref={homeHref(snapshot.query)}
            autoPlay={route.play === true}
          />
        ) : (
          <>
            <UploadBar maxBytes={config.maxUploadBytes} onAdd={(files, choice) => addFiles(files, choice)} />
            <JobList
              snapshot={snapshot}
              store={jobs}
              uploads={uploads}
              actions={actions}
              onQuery={setQuery}
              revealed={revealed}
              dropUploads={dropUploads}
            />
          </>
        )}
      </main>
    </div>
  )
}
