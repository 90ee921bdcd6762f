import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react'
import { useHashRoute } from '../hooks/useHashRoute'
import { useUploads } from '../hooks/useUploads'
import { storeApiKey, storedApiKey, type RuntimeConfig } from '../lib/config'
import { createServices } from '../lib/services'
import { isFinal } from '../lib/types'
import { Header } from './Header'
import { JobList } from './JobList'
import { ResultView } from './ResultView'
import { SettingsPanel } from './SettingsPanel'
import { UploadPanel } from './UploadPanel'

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

  useEffect(() => jobs.kick(), [jobs])

  // Upload rows whose jobs are over have done their part: the dashboard shows the rest.
  useEffect(() => {
    uploader.dismissJobs(new Set(snapshot.jobs.filter((j) => isFinal(j.state)).map((j) => j.job_id)))
  }, [snapshot.jobs, uploader])

  const saveKey = useCallback((key: string) => {
    storeApiKey(key)
    setApiKey(key.trim() || config.apiKey)
    keyRef.current = key.trim() || config.apiKey
    jobs.kick()
  }, [config.apiKey, jobs])

  return (
    <div className="min-h-screen">
      <Header settingsOpen={settingsOpen} onToggleSettings={() => setSettingsOpen((open) => !open)} live={snapshot.polling} />
      {settingsOpen && <SettingsPanel apiKey={apiKey} defaultKey={config.apiKey} onSave={saveKey} onClose={() => setSettingsOpen(false)} />}
      <main className="mx-auto grid max-w-6xl gap-4 p-3 sm:p-4 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
        {route.name === 'job' ? (
          <ResultView jobId={route.jobId} store={jobs} snapshot={snapshot} />
        ) : (
          <>
            <UploadPanel uploader={uploader} uploads={uploads} maxBytes={config.maxUploadBytes} />
            <JobList snapshot={snapshot} store={jobs} uploader={uploader} uploads={uploads} />
          </>
        )}
      </main>
    </div>
  )
}
