// Multipart uploads in progress, remembered across page reloads: re-adding the same file
// continues its job's upload (Uppy asks the API which parts S3 already has and skips them).

export interface ResumeRecord {
  jobId: string
  uploadId: string
  key: string
  partSize: number
  savedAt: number
  /** End of the job's upload window (ms): the record is useless after it. */
  expiresAt?: number
}

export interface FileIdentity {
  name: string
  size: number
  lastModified?: number
}

const STORAGE_KEY = 'framefleet.uploads'
/** Without a known upload window: presigned part URLs and S3's unfinished uploads do not live forever. */
export const RESUME_MAX_AGE_MS = 24 * 3600 * 1000

export function fingerprint(file: FileIdentity): string {
  return `${file.name}|${file.size}|${file.lastModified ?? 0}`
}

type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem'>

export class ResumeStore {
  readonly #storage: KeyValueStorage
  readonly #now: () => number

  constructor(storage: KeyValueStorage, now: () => number = Date.now) {
    this.#storage = storage
    this.#now = now
  }

  #read(): Record<string, ResumeRecord> {
    try {
      const parsed: unknown = JSON.parse(this.#storage.getItem(STORAGE_KEY) ?? '{}')
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, ResumeRecord>) : {}
    } catch {
      return {}
    }
  }

  #write(records: Record<string, ResumeRecord>): void {
    const fresh = Object.entries(records).filter(([, r]) => this.#live(r))
    try {
      this.#storage.setItem(STORAGE_KEY, JSON.stringify(Object.fromEntries(fresh)))
    } catch {
      // storage full or disabled: resuming after a reload is a convenience, not a requirement
    }
  }

  /** Still worth resuming: within the job's upload window (or a day when it is not known). */
  #live(record: ResumeRecord): boolean {
    if (record.expiresAt) return this.#now() < record.expiresAt
    return this.#now() - record.savedAt < RESUME_MAX_AGE_MS
  }

  get(file: FileIdentity): ResumeRecord | null {
    const record = this.#read()[fingerprint(file)]
    return record && this.#live(record) ? record : null
  }

  save(file: FileIdentity, record: Omit<ResumeRecord, 'savedAt'>): void {
    this.#write({ ...this.#read(), [fingerprint(file)]: { ...record, savedAt: this.#now() } })
  }

  forget(file: FileIdentity): void {
    const records = this.#read()
    delete records[fingerprint(file)]
    this.#write(records)
  }
}

/** In-memory storage for tests and for browsers without localStorage. */
export class MemoryStorage implements KeyValueStorage {
  readonly #items = new Map<string, string>()

  getItem(key: string): string | null {
    return this.#items.get(key) ?? null
  }

  setItem(key: string, value: string): void {
    this.#items.set(key, value)
  }
}
