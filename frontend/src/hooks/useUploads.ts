import { useSyncExternalStore } from 'react'
import type { Uploader } from '../lib/uploader'
import type { UploadView } from '../lib/uploadView'

/** The upload rows, re-rendered on every Uppy state change. */
export function useUploads(uploader: Uploader): UploadView[] {
  return useSyncExternalStore(uploader.subscribe, uploader.getSnapshot)
}
