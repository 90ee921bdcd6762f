// The app's long-lived objects, built once from the runtime config.
import { Api } from './api'
import type { RuntimeConfig } from './config'
import { JobsStore } from './jobsStore'
import { ResumeStore, MemoryStorage } from './resume'
import { Uploader } from './uploader'

export interface Services {
  api: Api
  uploader: Uploader
  jobs: JobsStore
}

function browserStorage(): Pick<Storage, 'getItem' | 'setItem'> {
  try {
    return window.localStorage
  } catch {
    return new MemoryStorage() // storage disabled (privacy settings)
  }
}

export function createServices(config: RuntimeConfig, apiKey: () => string): Services {
  const api = new Api({ baseUrl: config.apiUrl, apiKey })
  let jobs: JobsStore | null = null
  const uploader = new Uploader(api, new ResumeStore(browserStorage()), { onJob: () => jobs?.kick() })
  jobs = new JobsStore(api, {
    uploading: () => uploader.getSnapshot().some((u) => u.status !== 'uploaded' && u.status !== 'error'),
    uploadedHere: () => uploader.jobIds(),
  })
  return { api, uploader, jobs }
}
