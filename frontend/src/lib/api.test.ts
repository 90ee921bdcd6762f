import { describe, expect, it } from 'vitest'
import { Api, ApiError, errorMessage } from './api'

interface Call { url: string; init: RequestInit }

function fakeFetch(status: number, body: unknown, calls: Call[]): typeof fetch {
  return (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} })
    return new Response(body === undefined ? null : JSON.stringify(body), { status })
  }) as typeof fetch
}

describe('Api', () => {
  it('sends X-Api-Key when a key is set, and JSON bodies', async () => {
    const calls: Call[] = []
    let key = 'k1'
    const api = new Api({ baseUrl: 'https://api.test/', apiKey: () => key, fetchImpl: fakeFetch(201, { job_id: 'j' }, calls) })
    await api.createJob({ filename: 'a.mp4', size: 1, content_type: 'video/mp4', options: { crf: 20 } })
    expect(calls[0]?.url).toBe('https://api.test/jobs')
    expect(calls[0]?.init.method).toBe('POST')
    expect(calls[0]?.init.headers).toMatchObject({ 'X-Api-Key': 'k1', 'Content-Type': 'application/json' })
    expect(JSON.parse(String(calls[0]?.init.body))).toMatchObject({ filename: 'a.mp4', options: { crf: 20 } })
    key = ''
    await api.getJob('j')
    expect(calls[1]?.init.headers).not.toHaveProperty('X-Api-Key')
  })

  it('builds the multipart routes', async () => {
    const calls: Call[] = []
    const api = new Api({ baseUrl: '', apiKey: () => '', fetchImpl: fakeFetch(200, { parts: [], url: 'u' }, calls) })
    await api.signPart('j', 'up/1', 3)
    await api.listParts('j', 'up/1')
    await api.completeMultipart('j', 'up/1', [{ PartNumber: 1, ETag: '"e"' }])
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      'GET /jobs/j/multipart/up%2F1/parts/3', 'GET /jobs/j/multipart/up%2F1', 'POST /jobs/j/multipart/up%2F1/complete',
    ])
  })

  it('turns error responses into ApiError with the API message', async () => {
    const api = new Api({ baseUrl: '', apiKey: () => '', fetchImpl: fakeFetch(409, { error: 'job is done' }, []) })
    const err = await api.cancelJob('j').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 409, message: 'job is done', unauthorized: false })
  })

  it('accepts 204 without a body (delete)', async () => {
    const api = new Api({ baseUrl: '', apiKey: () => '', fetchImpl: fakeFetch(204, undefined, []) })
    await expect(api.deleteJob('j')).resolves.toBeUndefined()
  })

  it('keeps the API message of a refusal (the UI maps it to plain words)', () => {
    expect(errorMessage(401, { message: 'Unauthorized' })).toBe('Unauthorized')
    expect(errorMessage(400, { error: 'size must be positive' })).toBe('size must be positive')
    expect(errorMessage(403, 'Forbidden')).toBe('HTTP 403')
    expect(errorMessage(502, null)).toBe('HTTP 502')
    expect(new ApiError(401, 'x').unauthorized).toBe(true)
  })

  it('lists pages with the query and deletes in bulk', async () => {
    const calls: Call[] = []
    const api = new Api({ baseUrl: '', apiKey: () => '', fetchImpl: fakeFetch(200, { jobs: [], next: null, deleted: [], not_found: [] }, calls) })
    await api.listJobs({ q: ' cat ', states: ['done', 'failed'], order: 'oldest' }, 50, '1700000000.5')
    await api.deleteJobs(['a', 'b'])
    expect(calls[0]?.url).toBe('/jobs?limit=50&before=1700000000.5&state=done%2Cfailed&q=cat&order=oldest')
    expect(`${calls[1]?.init.method} ${calls[1]?.url}`).toBe('POST /jobs/delete')
    expect(JSON.parse(String(calls[1]?.init.body))).toEqual({ job_ids: ['a', 'b'] })
  })
})
