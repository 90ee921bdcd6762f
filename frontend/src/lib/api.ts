// The framefleet REST API (README "REST API"). Every call sends X-Api-Key when a key is set.
import { jobsPath, type JobQuery } from './query'
import type {
  CreatedJob,
  CreatedMultipart,
  DeleteResult,
  Job,
  JobOptions,
  JobPage,
  UploadedPart,
  WebhookDelivery,
  WebhookEndpoint,
} from './types'

export class ApiError extends Error {
  readonly status: number

  constructor(status: number, message: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
  }

  /** The API refused the key (authentication is switched on and the key is missing or wrong). */
  get unauthorized(): boolean {
    return this.status === 401 || this.status === 403
  }
}

/**
 * The message of a failed response: the API's {"error": "…"} (a plain sentence), else the
 * status. Only for logs and the error mapping (lib/errors.ts): the UI never shows it raw.
 */
export function errorMessage(status: number, body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const { error, message } = body as { error?: unknown; message?: unknown }
    if (typeof error === 'string' && error) return error
    if (typeof message === 'string' && message) return message
  }
  return `HTTP ${status}`
}

export interface ApiOptions {
  baseUrl: string
  apiKey: () => string
  fetchImpl?: typeof fetch
}

export interface NewJob {
  filename: string
  size: number
  content_type: string
  options: Partial<JobOptions>
  /** Read by the browser from the file; the API checks them against the owner's limits. */
  duration?: number
  width?: number
  height?: number
}

/** The long poll of GET /jobs/{id}: at most 25 s (API Gateway ends a request at 29). */
export interface LongPoll {
  seconds: number
  /** The job's ``version`` the caller has. */
  since: number
}

export class Api {
  readonly #baseUrl: string
  readonly #apiKey: () => string
  readonly #fetch: typeof fetch

  constructor({ baseUrl, apiKey, fetchImpl }: ApiOptions) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '')
    this.#apiKey = apiKey
    this.#fetch = fetchImpl ?? ((input, init) => fetch(input, init))
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    const key = this.#apiKey()
    if (key) headers['X-Api-Key'] = key
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const resp = await this.#fetch(`${this.#baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: signal ?? null,
    })
    const text = await resp.text()
    let parsed: unknown = null
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      parsed = text
    }
    if (!resp.ok) throw new ApiError(resp.status, errorMessage(resp.status, parsed))
    return parsed as T
  }

  createJob(job: NewJob): Promise<CreatedJob> {
    return this.request('POST', '/jobs', job)
  }

  /**
   * GET /jobs/{id}; with ``wait``: a long poll, answered as soon as the job's version is newer
   * than ``since`` (or after ``seconds`` with the job unchanged; a final job answers at once).
   */
  getJob(jobId: string, signal?: AbortSignal, wait?: LongPoll): Promise<Job> {
    const query = wait ? `?wait=${wait.seconds}&since=${wait.since}` : ''
    return this.request('GET', `/jobs/${enc(jobId)}${query}`, undefined, signal)
  }

  /** One page of the caller's jobs matching ``query``; ``before`` is the previous page's ``next``. */
  listJobs(query: JobQuery, limit = 50, before: string | null = null, signal?: AbortSignal): Promise<JobPage> {
    return this.request('GET', jobsPath(query, limit, before), undefined, signal)
  }

  cancelJob(jobId: string): Promise<Job> {
    return this.request('POST', `/jobs/${enc(jobId)}/cancel`)
  }

  /** DELETE /jobs/{id}: 204, the job and its files are gone (a running job is cancelled first). */
  async deleteJob(jobId: string): Promise<void> {
    await this.request('DELETE', `/jobs/${enc(jobId)}`)
  }

  /** POST /jobs/delete: up to 100 jobs at once (running ones are cancelled first). */
  deleteJobs(jobIds: readonly string[]): Promise<DeleteResult> {
    return this.request('POST', '/jobs/delete', { job_ids: jobIds })
  }

  createMultipart(jobId: string, signal?: AbortSignal): Promise<CreatedMultipart> {
    return this.request('POST', `/jobs/${enc(jobId)}/multipart`, undefined, signal)
  }

  signPart(jobId: string, uploadId: string, partNumber: number, signal?: AbortSignal): Promise<{ url: string }> {
    return this.request('GET', `/jobs/${enc(jobId)}/multipart/${enc(uploadId)}/parts/${partNumber}`, undefined, signal)
  }

  async listParts(jobId: string, uploadId: string, signal?: AbortSignal): Promise<UploadedPart[]> {
    const { parts } = await this.request<{ parts: UploadedPart[] }>(
      'GET', `/jobs/${enc(jobId)}/multipart/${enc(uploadId)}`, undefined, signal)
    return parts
  }

  completeMultipart(jobId: string, uploadId: string, parts: UploadedPart[], signal?: AbortSignal): Promise<unknown> {
    return this.request('POST', `/jobs/${enc(jobId)}/multipart/${enc(uploadId)}/complete`, { parts }, signal)
  }

  async abortMultipart(jobId: string, uploadId: string): Promise<void> {
    await this.request('DELETE', `/jobs/${enc(jobId)}/multipart/${enc(uploadId)}`)
  }

  async listWebhooks(): Promise<WebhookEndpoint[]> {
    return (await this.request<{ webhooks: WebhookEndpoint[] }>('GET', '/webhooks')).webhooks
  }

  /** POST /webhooks: the new endpoint with its signing secret (the only time the API shows it). */
  createWebhook(url: string, events: readonly string[] = []): Promise<WebhookEndpoint> {
    return this.request('POST', '/webhooks', events.length ? { url, events } : { url })
  }

  async deleteWebhook(endpointId: string): Promise<void> {
    await this.request('DELETE', `/webhooks/${enc(endpointId)}`)
  }

  async listDeliveries(endpointId: string, limit = 20): Promise<WebhookDelivery[]> {
    return (await this.request<{ deliveries: WebhookDelivery[] }>('GET', `/webhooks/${enc(endpointId)}/deliveries?limit=${limit}`)).deliveries
  }

  /** Send a delivery again now (the same webhook-id: receivers dedupe). */
  redeliver(endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.request('POST', `/webhooks/${enc(endpointId)}/deliveries/${enc(deliveryId)}/redeliver`)
  }
}

const enc = encodeURIComponent
