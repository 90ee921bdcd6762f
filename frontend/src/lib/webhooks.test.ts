import { describe, expect, it } from 'vitest'
import { ApiError } from './api'
import type { WebhookDelivery, WebhookEndpoint } from './types'
import { canRedeliver, deliveryLine, describeWebhookError, endpointState, eventsText } from './webhooks'

const NOW = 1_800_000_000
const delivery = (extra: Partial<WebhookDelivery>): WebhookDelivery => ({ id: 'd1', type: 'job.done', status: 'pending', attempts: 0, created_at: NOW - 60, ...extra })
const endpoint = (extra: Partial<WebhookEndpoint>): WebhookEndpoint => ({ id: 'e1', url: 'https://hooks.example/in', events: [], state: 'enabled', created_at: NOW - 3600, ...extra })

describe('deliveryLine', () => {
  it('says how each delivery stands: attempts, the last answer, the next try', () => {
    expect(deliveryLine(delivery({ status: 'succeeded', attempts: 1, last_status: 200 }), NOW)).toEqual({ label: 'delivered', tone: 'success', detail: '1 attempt · answered 200' })
    expect(deliveryLine(delivery({ status: 'pending', attempts: 3, last_status: 500, next_attempt_at: NOW + 40 }), NOW)).toEqual({ label: 'retrying', tone: 'warning', detail: '3 attempts · last answer 500 · next try in 40 s' })
    expect(deliveryLine(delivery({ status: 'pending', attempts: 2, last_error: 'connection refused', next_attempt_at: NOW + 10 }), NOW).detail).toBe('2 attempts · last try: connection refused · next try in 10 s')
    expect(deliveryLine(delivery({ status: 'pending' }), NOW)).toEqual({ label: 'waiting', tone: 'progress', detail: '0 attempts' })
    expect(deliveryLine(delivery({ status: 'sending', attempts: 1 }), NOW).label).toBe('sending')
    expect(deliveryLine(delivery({ status: 'failed', attempts: 12, redeliveries: 1, last_status: 503 }), NOW)).toEqual({ label: 'gave up', tone: 'danger', detail: '12 attempts, 1 redelivered · last answer 503' })
    expect(deliveryLine(delivery({ status: 'failed', attempts: 4, last_error: '<html>' }), NOW).detail).toBe('4 attempts · no answer')
  })

  it('lets only finished deliveries be sent again', () => {
    expect(canRedeliver(delivery({ status: 'succeeded' }))).toBe(true)
    expect(canRedeliver(delivery({ status: 'failed' }))).toBe(true)
    expect(canRedeliver(delivery({ status: 'pending' }))).toBe(false)
    expect(canRedeliver(delivery({ status: 'sending' }))).toBe(false)
  })
})

describe('endpoints', () => {
  it('says whether an endpoint is on, failing or switched off', () => {
    expect(endpointState(endpoint({}), NOW)).toEqual({ label: 'on', tone: 'success' })
    expect(endpointState(endpoint({ failing_since: NOW - 7200 }), NOW)).toEqual({ label: 'failing since 2 h ago', tone: 'warning' })
    expect(endpointState(endpoint({ state: 'disabled', disabled_reason: 'failing for 5 days' }), NOW)).toEqual({ label: 'off: failing for 5 days', tone: 'danger' })
    expect(eventsText([])).toBe('all events')
    expect(eventsText(['job.done', 'job.failed'])).toBe('job.done, job.failed')
  })

  it('explains a refused URL with the API\'s sentence, a gone endpoint, and the rest as usual', () => {
    expect(describeWebhookError(new ApiError(400, "'url' points at a loopback address; webhooks only go to public addresses"), 'add the endpoint'))
      .toEqual({ message: "'url' points at a loopback address; webhooks only go to public addresses.", next: 'Give the public http(s) URL of your receiver.' })
    expect(describeWebhookError(new ApiError(404, 'not found'), 'delete it').message).toBe('This webhook endpoint no longer exists.')
    expect(describeWebhookError(new ApiError(401, 'no key'), 'list webhooks').next).toBe('Save a valid API key above.')
    expect(describeWebhookError(new ApiError(500, 'boom'), 'list your webhooks').message).toBe('The server had a problem and could not list your webhooks (error 500).')
  })
})
