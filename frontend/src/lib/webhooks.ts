// The Settings panel's webhooks in words: an endpoint's state, a delivery's status and what
// happens next, and the API's refusals (README "Webhooks").
import { ApiError } from './api'
import { describeError, isPlainSentence, type Problem } from './errors'
import { formatRelative } from './format'
import type { WebhookDelivery, WebhookEndpoint } from './types'

export interface DeliveryLine {
  /** "delivered", "retrying", "sending", "gave up". */
  label: string
  tone: 'success' | 'warning' | 'danger' | 'progress'
  /** Attempts, the receiver's last answer and the next try. */
  detail: string
}

function answer(delivery: WebhookDelivery): string | null {
  if (typeof delivery.last_status === 'number') return `last answer ${delivery.last_status}`
  if (delivery.last_error && isPlainSentence(delivery.last_error)) return `last try: ${delivery.last_error}`
  return delivery.attempts > 0 ? 'no answer' : null
}

/** How a delivery stands, for its row. */
export function deliveryLine(delivery: WebhookDelivery, nowSeconds: number): DeliveryLine {
  const attempts = `${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'}`
  const redelivered = delivery.redeliveries ? `, ${delivery.redeliveries} redelivered` : ''
  const parts = [`${attempts}${redelivered}`]
  switch (delivery.status) {
    case 'succeeded':
      if (typeof delivery.last_status === 'number') parts.push(`answered ${delivery.last_status}`)
      return { label: 'delivered', tone: 'success', detail: parts.join(' · ') }
    case 'sending':
      return { label: 'sending', tone: 'progress', detail: parts.join(' · ') }
    case 'failed': {
      const last = answer(delivery)
      if (last) parts.push(last)
      return { label: 'gave up', tone: 'danger', detail: parts.join(' · ') }
    }
    default: {
      const last = answer(delivery)
      if (last) parts.push(last)
      if (delivery.next_attempt_at) parts.push(`next try ${formatRelative(delivery.next_attempt_at - nowSeconds)}`)
      return { label: delivery.attempts > 0 ? 'retrying' : 'waiting', tone: delivery.attempts > 0 ? 'warning' : 'progress', detail: parts.join(' · ') }
    }
  }
}

/** A delivery can be sent again once it has finished (delivered or given up). */
export function canRedeliver(delivery: WebhookDelivery): boolean {
  return delivery.status === 'succeeded' || delivery.status === 'failed'
}

/** An endpoint's state in words: on, failing since when, or switched off and why. */
export function endpointState(endpoint: WebhookEndpoint, nowSeconds: number): { label: string; tone: 'success' | 'warning' | 'danger' } {
  if (endpoint.state === 'disabled') {
    return { label: `off${endpoint.disabled_reason && isPlainSentence(endpoint.disabled_reason) ? `: ${endpoint.disabled_reason}` : ''}`, tone: 'danger' }
  }
  if (endpoint.failing_since) return { label: `failing since ${formatRelative(endpoint.failing_since - nowSeconds)}`, tone: 'warning' }
  return { label: 'on', tone: 'success' }
}

/** The events an endpoint gets, in a few words. */
export function eventsText(events: readonly string[]): string {
  return events.length === 0 ? 'all events' : events.join(', ')
}

/** A refused webhook call in plain words (a 400 says what is wrong with the URL). */
export function describeWebhookError(err: unknown, doing: string): Problem {
  if (err instanceof ApiError && (err.status === 400 || err.status === 422)) {
    const text = isPlainSentence(err.message) ? err.message.trim().replace(/^./, (c) => c.toUpperCase()).replace(/([^.!?])$/, '$1.') : `The server could not ${doing} with that URL.`
    return { message: text, next: 'Give the public http(s) URL of your receiver.' }
  }
  if (err instanceof ApiError && err.unauthorized) {
    return { message: 'The server refused this API key, so its webhooks cannot be shown.', next: 'Save a valid API key above.' }
  }
  if (err instanceof ApiError && err.status === 404) {
    return { message: 'This webhook endpoint no longer exists.', next: 'Reload the list.' }
  }
  return describeError(err, doing)
}
