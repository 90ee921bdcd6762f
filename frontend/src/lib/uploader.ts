// Uploads straight from the browser to S3 with Uppy: @uppy/aws-s3 does the multipart work
// (parts in parallel, retries, pause/resume, waiting for the network) and asks our API for
// every signature. Each file first gets a job (POST /jobs) in an Uppy pre-processor.
import AwsS3, { type AwsS3Part } from '@uppy/aws-s3'
import Uppy, { type UppyFile } from '@uppy/core'
import { ApiError, type Api } from './api'
import { describeError, type Problem } from './errors'
import { audioOnlyReason } from './mediaHeader'
import { addSample, type Sample } from './progress'
import { ResumeStore, type FileIdentity } from './resume'
import { withRetry } from './retry'
import { jobOptionsOf, type EncodeChoice } from './streamOptions'
import { rejectionReason, uploadContentType } from './validate'
import { readVideoFacts } from './videoFacts'
import { toUploadView, type PartProgress, type UploadView } from './uploadView'

export type { EncodeChoice } from './streamOptions'

export interface UploadMeta {
  [key: string]: unknown
  choice: EncodeChoice
  jobId?: string
  /** Why the job could not be created (the upload then fails with this reason). */
  jobError?: string
  jobProblem?: Problem
  /** Continue this job's upload (a file picked again on an interrupted job's card). */
  resumeJobId?: string
}

type UploadBody = Record<string, never>
export type UploadFile = UppyFile<UploadMeta, UploadBody>

export interface UploaderHooks {
  /** A job exists (created or resumed): the dashboard should look. */
  onJob: (jobId: string) => void
}

const FALLBACK_PART_SIZE = 64 * 1024 ** 2
/** Requests in flight per browser (parts and signatures); S3 takes each part separately. */
const PARALLEL_REQUESTS = 4

export class Uploader {
  readonly uppy: Uppy<UploadMeta, UploadBody>
  readonly #api: Api
  readonly #resume: ResumeStore
  readonly #hooks: UploaderHooks
  readonly #listeners = new Set<() => void>()
  readonly #samples = new Map<string, Sample[]>()
  readonly #parts = new Map<string, PartProgress>()
  readonly #partSizes = new WeakMap<object, number>()
  /** End of each job's upload window (ms): the resume record expires with it. */
  readonly #expiry = new Map<string, number>()
  #snapshot: UploadView[] = []
  /** The part size the API last recommended. */
  #partSize: number | null = null
  #online = typeof navigator === 'undefined' ? true : navigator.onLine

  constructor(api: Api, resume: ResumeStore, hooks: UploaderHooks) {
    this.#api = api
    this.#resume = resume
    this.#hooks = hooks
    this.uppy = new Uppy<UploadMeta, UploadBody>({ autoProceed: true, allowMultipleUploadBatches: true })
    this.uppy.addPreProcessor(this.#prepare)
    this.uppy.use(AwsS3<UploadMeta, UploadBody>, {
      shouldUseMultipart: true, // every size: one resumable path (a small file is a one-part upload)
      limit: PARALLEL_REQUESTS,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      allowedMetaFields: false,
      getChunkSize: (data) => this.#partSizes.get(data) ?? FALLBACK_PART_SIZE,
      createMultipartUpload: this.#createMultipart,
      signPart: async (file, { uploadId, partNumber, signal }) => {
        const { url } = await withRetry(() => this.#api.signPart(jobIdOf(file), uploadId, partNumber, signal), { signal })
        return { method: 'PUT', url }
      },
      listParts: this.#listParts,
      completeMultipartUpload: this.#complete,
      abortMultipartUpload: async (file, { uploadId }) => {
        this.#resume.forget(identityOf(file))
        if (uploadId) await this.#api.abortMultipart(jobIdOf(file), uploadId)
      },
    })
    this.uppy.on('state-update', this.#refresh)
    this.uppy.on('upload-progress', (file, progress) => {
      if (!file) return
      this.#samples.set(file.id, addSample(this.#samples.get(file.id) ?? [], { at: Date.now(), bytes: progress.bytesUploaded }))
    })
    this.uppy.on('s3-multipart:part-uploaded', (file, part) => this.#markParts(file.id, [part.PartNumber]))
    window.addEventListener('online', this.#onNetwork)
    window.addEventListener('offline', this.#onNetwork)
  }

  destroy(): void {
    window.removeEventListener('online', this.#onNetwork)
    window.removeEventListener('offline', this.#onNetwork)
    this.uppy.destroy()
  }

  // -- what React reads ------------------------------------------------------------------
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  getSnapshot = (): UploadView[] => this.#snapshot

  /** The upload of this job running in this browser, if any. */
  uploadOf(jobId: string): UploadView | null {
    return this.#snapshot.find((u) => u.jobId === jobId) ?? null
  }

  /** Job ids this browser uploads or has uploaded (their rows are still there). */
  jobIds(): Set<string> {
    return new Set(this.#snapshot.flatMap((u) => (u.jobId && u.status !== 'error' ? [u.jobId] : [])))
  }

  // -- actions ---------------------------------------------------------------------------
  /**
   * Add files (each becomes a job). Refused before upload, with the reason: what is not a
   * video, too large, already in the list, or audio only by its header.
   */
  async add(files: readonly File[], choice: EncodeChoice, maxBytes: number, resumeJobId?: string): Promise<{ refused: string[]; added: string[] }> {
    const checks = await Promise.all(files.map(async (file) =>
      rejectionReason(file, maxBytes) ?? this.#duplicate(file) ?? (await audioOnlyReason(file))))
    const refused: string[] = []
    const added: string[] = []
    files.forEach((file, i) => {
      const reason = checks[i]
      if (reason) {
        refused.push(reason)
        return
      }
      try {
        const meta: UploadMeta = resumeJobId ? { choice, resumeJobId } : { choice }
        added.push(this.uppy.addFile({ name: file.name, type: file.type, data: file, meta, source: 'local' }))
      } catch {
        refused.push(`${file.name} is already in the upload list.`)
      }
    })
    return { refused, added }
  }

  pause(id: string): void {
    if (!this.uppy.getFile(id)?.isPaused) this.uppy.pauseResume(id)
  }

  resume(id: string): void {
    if (this.uppy.getFile(id)?.isPaused) this.uppy.pauseResume(id)
  }

  retry(id: string): void {
    void this.uppy.retryUpload(id)
  }

  /** Stop the upload, cancel its job, then abort the upload in S3 and drop the row. */
  async cancel(id: string): Promise<void> {
    const file = this.uppy.getFile(id)
    if (!file) return
    this.pause(id)
    const jobId = file.meta.jobId
    if (jobId) {
      try {
        await this.#api.cancelJob(jobId)
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 409)) throw err // 409: the job ended meanwhile
      }
    }
    this.#resume.forget(identityOf(file))
    this.dismiss(id)
  }

  /** Forget a finished (or failed) upload row. */
  dismiss(id: string): void {
    this.#samples.delete(id)
    this.#parts.delete(id)
    if (this.uppy.getFile(id)) this.uppy.removeFile(id)
    else this.#refresh()
  }

  /** Stop this browser's upload of a job that is being deleted (no cancel call: it goes anyway). */
  drop(jobId: string): void {
    const view = this.uploadOf(jobId)
    const file = view && this.uppy.getFile(view.id)
    if (!view || !file) return
    this.pause(view.id)
    this.#resume.forget(identityOf(file))
    this.dismiss(view.id)
  }

  /** Drop rows of uploads whose jobs are over (the dashboard has them). */
  dismissJobs(jobIds: ReadonlySet<string>): void {
    for (const view of this.#snapshot) if (view.jobId && view.status === 'uploaded' && jobIds.has(view.jobId)) this.dismiss(view.id)
  }

  // -- Uppy plumbing -----------------------------------------------------------------------
  #prepare = async (fileIDs: string[]): Promise<void> => {
    await Promise.all(fileIDs.map(async (id) => {
      const file = this.uppy.getFile(id)
      if (!file || file.meta.jobId) return
      try {
        await this.#attachJob(file)
      } catch (err) {
        this.uppy.setFileMeta(id, {
          ...file.meta,
          jobError: err instanceof Error ? err.message : String(err),
          jobProblem: describeError(err, 'create a job for this file'),
        })
      }
    }))
  }

  /** Continue a remembered upload of this very file, or create a job for it. */
  async #attachJob(file: UploadFile): Promise<void> {
    const identity = identityOf(file)
    const known = this.#resume.get(identity)
    if (known) {
      const job = await this.#api.getJob(known.jobId).catch(() => null)
      const open = !job?.upload_expires_at || Date.now() / 1000 < job.upload_expires_at
      if (job?.state === 'awaiting_upload' && open) {
        this.#partSizes.set(file.data as object, known.partSize)
        this.uppy.setFileMeta(file.id, { ...file.meta, jobError: undefined, jobProblem: undefined, jobId: known.jobId })
        this.uppy.setFileState(file.id, { s3Multipart: { uploadId: known.uploadId, key: known.key } } as Partial<UploadFile>)
        this.#hooks.onJob(known.jobId)
        return
      }
      this.#resume.forget(identity)
    }
    if (file.meta.resumeJobId) {
      // Picked again on the card of a job whose upload this browser has no record of (another
      // browser, cleared storage): a new multipart upload of the same job.
      const job = await this.#api.getJob(file.meta.resumeJobId).catch(() => null)
      if (job?.state === 'awaiting_upload' && (!job.upload_expires_at || Date.now() / 1000 < job.upload_expires_at)) {
        this.#partSizes.set(file.data as object, this.#partSize ?? FALLBACK_PART_SIZE)
        if (job.upload_expires_at) this.#expiry.set(job.job_id, job.upload_expires_at * 1000)
        this.uppy.setFileMeta(file.id, { ...file.meta, jobError: undefined, jobProblem: undefined, jobId: job.job_id })
        this.#hooks.onJob(job.job_id)
        return
      }
    }
    const { choice } = file.meta
    const created = await this.#api.createJob({
      filename: file.name ?? 'video',
      size: file.size ?? 0,
      content_type: uploadContentType(file.type),
      options: jobOptionsOf(choice),
      ...(await readVideoFacts(file.data as Blob)),
    })
    if (!this.uppy.getFile(file.id)) {
      await this.#api.cancelJob(created.job_id) // the upload was cancelled while its job was being made
      return
    }
    this.#partSizes.set(file.data as object, created.multipart.part_size)
    this.#partSize = created.multipart.part_size
    const expires = created.upload_expires_at ?? (await this.#api.getJob(created.job_id).catch(() => null))?.upload_expires_at
    if (expires) this.#expiry.set(created.job_id, expires * 1000)
    this.uppy.setFileMeta(file.id, { ...file.meta, jobError: undefined, jobProblem: undefined, jobId: created.job_id })
    this.#hooks.onJob(created.job_id)
  }

  #createMultipart = async (file: UploadFile): Promise<{ uploadId: string; key: string }> => {
    const jobId = jobIdOf(file)
    const created = await withRetry(() => this.#api.createMultipart(jobId))
    const expiresAt = this.#expiry.get(jobId)
    this.#resume.save(identityOf(file), {
      jobId, uploadId: created.upload_id, key: created.key, partSize: this.#partSizes.get(file.data as object) ?? created.part_size,
      ...(expiresAt ? { expiresAt } : {}),
    })
    return { uploadId: created.upload_id, key: created.key }
  }

  #listParts = async (file: UploadFile, { uploadId, signal }: { uploadId?: string; signal?: AbortSignal }): Promise<AwsS3Part[]> => {
    if (!uploadId) return []
    const parts = await withRetry(() => this.#api.listParts(jobIdOf(file), uploadId, signal), { signal })
    this.#markParts(file.id, parts.map((p) => p.PartNumber), true)
    return parts
  }

  #complete = async (file: UploadFile, { uploadId, parts, signal }: { uploadId: string; parts: AwsS3Part[]; signal: AbortSignal }): Promise<{ location?: string }> => {
    const jobId = jobIdOf(file)
    const done = parts.map((p) => ({ PartNumber: Number(p.PartNumber), ETag: String(p.ETag) }))
    try {
      await withRetry(() => this.#api.completeMultipart(jobId, uploadId, done, signal), { signal })
    } catch (err) {
      // A retry after a lost response finds the job past awaiting_upload (409): it did complete.
      const job = err instanceof ApiError && err.status === 409 ? await this.#api.getJob(jobId) : null
      if (!job || job.state === 'awaiting_upload') throw err
    }
    this.#resume.forget(identityOf(file))
    this.#hooks.onJob(jobId)
    return {}
  }

  #markParts(id: string, numbers: readonly number[], resumed = false): void {
    const known = this.#parts.get(id) ?? { done: new Set<number>(), resumed: new Set<number>() }
    for (const n of numbers) {
      known.done.add(n)
      if (resumed) known.resumed.add(n)
    }
    this.#parts.set(id, known)
    this.#refresh()
  }

  #duplicate(file: File): string | null {
    const same = this.uppy.getFiles().some((f) => f.name === file.name && f.size === file.size
      && (f.data as File | undefined)?.lastModified === file.lastModified)
    return same ? `${file.name} is already in the upload list.` : null
  }

  #onNetwork = (): void => {
    this.#online = navigator.onLine
    this.#refresh()
  }

  #refresh = (): void => {
    const now = Date.now()
    this.#snapshot = this.uppy.getFiles().map((file) => toUploadView(file, {
      samples: this.#samples.get(file.id) ?? [],
      parts: this.#parts.get(file.id),
      partSize: this.#partSizes.get(file.data as object) ?? null,
      online: this.#online,
      now,
    }))
    for (const listener of this.#listeners) listener()
  }
}

function jobIdOf(file: UploadFile): string {
  const jobId = file.meta.jobId
  if (!jobId) throw new Error(file.meta.jobError ?? 'the job for this upload could not be created')
  return jobId
}

function identityOf(file: UploadFile): FileIdentity {
  const data = file.data as Partial<File> | undefined
  return { name: file.name ?? '', size: file.size ?? 0, lastModified: data?.lastModified ?? 0 }
}
