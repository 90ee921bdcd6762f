import { useCallback, useEffect, useId, useState, type FormEvent } from 'react'
import type { Api } from '../lib/api'
import type { Problem } from '../lib/errors'
import { formatTimestamp } from '../lib/format'
import { WEBHOOK_EVENTS, type WebhookDelivery, type WebhookEndpoint } from '../lib/types'
import { canRedeliver, deliveryLine, describeWebhookError, endpointState, eventsText } from '../lib/webhooks'
import { Button, CopyButton, FIELD, MUTED, Notice, ProblemText } from './ui'

const TONES = {
  success: 'text-emerald-800 dark:text-emerald-300',
  warning: 'text-amber-800 dark:text-amber-300',
  danger: 'text-red-700 dark:text-red-300',
  progress: 'text-indigo-700 dark:text-indigo-300',
} as const

const nowSeconds = (): number => Date.now() / 1000

/** Webhook endpoints of this API key: list, add (the secret shown once), delete, deliveries. */
export function Webhooks({ api }: { api: Api }) {
  const [endpoints, setEndpoints] = useState<WebhookEndpoint[] | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const [created, setCreated] = useState<WebhookEndpoint | null>(null)

  const reload = useCallback(() => {
    api.listWebhooks().then((list) => { setEndpoints(list); setProblem(null) }, (err: unknown) => setProblem(describeWebhookError(err, 'list your webhooks')))
  }, [api])
  useEffect(reload, [reload])

  return (
    <section aria-labelledby="webhooks-title" className="flex flex-col gap-3" data-testid="webhooks">
      <div>
        <h2 id="webhooks-title" className="text-sm font-medium">Webhooks</h2>
        <p className={`text-xs ${MUTED}`}>framefleet POSTs signed job events (Standard Webhooks) to these URLs, retrying for a day until they answer 2xx.</p>
      </div>
      {problem && <Notice alert><ProblemText problem={problem} /></Notice>}
      {created?.secret && (
        <Notice tone="success" testId="webhook-secret" actions={<CopyButton text={created.secret} label="signing secret" />}>
          <p className="font-medium">Added. Its signing secret is shown only now:</p>
          <code className="break-all" data-testid="webhook-secret-value">{created.secret}</code>
          <p className="text-xs">Keep it with your receiver to verify the webhook-signature header.</p>
        </Notice>
      )}
      {endpoints === null && !problem && <p className={`text-sm ${MUTED}`}>Loading…</p>}
      {endpoints?.length === 0 && <p className={`text-sm ${MUTED}`} data-testid="webhooks-empty">No endpoints yet.</p>}
      {endpoints && endpoints.length > 0 && (
        <ul className="flex flex-col gap-2">
          {endpoints.map((e) => <EndpointRow key={e.id} api={api} endpoint={e} onGone={reload} />)}
        </ul>
      )}
      <AddEndpoint api={api} onAdded={(e) => { setCreated(e); reload() }} />
    </section>
  )
}

function AddEndpoint({ api, onAdded }: { api: Api; onAdded: (endpoint: WebhookEndpoint) => void }) {
  const id = useId()
  const [url, setUrl] = useState('')
  const [events, setEvents] = useState<ReadonlySet<string>>(new Set())
  const [busy, setBusy] = useState(false)
  const [problem, setProblem] = useState<Problem | null>(null)
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setBusy(true)
    setProblem(null)
    api.createWebhook(url.trim(), [...events]).then((endpoint) => {
      setUrl('')
      setEvents(new Set())
      onAdded(endpoint)
    }, (err: unknown) => setProblem(describeWebhookError(err, 'add the endpoint'))).finally(() => setBusy(false))
  }
  const toggle = (type: string, on: boolean): void => {
    const next = new Set(events)
    if (on) next.add(type)
    else next.delete(type)
    setEvents(next)
  }
  return (
    <form onSubmit={submit} className="flex flex-col gap-2" aria-label="Add a webhook endpoint">
      <div className="flex flex-wrap items-end gap-2">
        <div className="flex min-w-0 flex-1 flex-col gap-1">
          <label htmlFor={`${id}-url`} className="text-xs font-medium">Receiver URL</label>
          <input id={`${id}-url`} type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/framefleet-events" className={`w-full ${FIELD}`} />
        </div>
        <Button type="submit" variant="primary" disabled={busy || !url.trim()}>Add endpoint</Button>
      </div>
      <fieldset className="flex flex-wrap gap-x-3 gap-y-1 text-xs">
        <legend className={`mb-1 ${MUTED}`}>Events (none ticked: all of them)</legend>
        {WEBHOOK_EVENTS.map((type) => (
          <label key={type} className="inline-flex items-center gap-1">
            <input type="checkbox" className="accent-indigo-600" checked={events.has(type)} onChange={(e) => toggle(type, e.target.checked)} />
            <code>{type}</code>
          </label>
        ))}
      </fieldset>
      {problem && <Notice alert testId="webhook-add-error"><ProblemText problem={problem} /></Notice>}
    </form>
  )
}

function EndpointRow({ api, endpoint, onGone }: { api: Api; endpoint: WebhookEndpoint; onGone: () => void }) {
  const [open, setOpen] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const [problem, setProblem] = useState<Problem | null>(null)
  const state = endpointState(endpoint, nowSeconds())
  const remove = (): void => {
    setProblem(null)
    api.deleteWebhook(endpoint.id).then(onGone, (err: unknown) => setProblem(describeWebhookError(err, 'delete the endpoint')))
  }
  const panelId = `deliveries-${endpoint.id}`
  return (
    <li className="rounded-md border border-slate-200 p-2 text-sm dark:border-slate-700" data-testid="webhook" data-endpoint-id={endpoint.id}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <p className="font-medium break-all" data-testid="webhook-url">{endpoint.url}</p>
          <p className={`text-xs ${MUTED}`}><span className={TONES[state.tone]} data-testid="webhook-state">{state.label}</span> · {eventsText(endpoint.events)}</p>
        </div>
        <div className="flex flex-wrap gap-2">
          <Button aria-expanded={open} aria-controls={panelId} onClick={() => setOpen((o) => !o)}>{open ? 'Hide deliveries' : 'Deliveries'}</Button>
          {confirming
            ? <><Button variant="danger" onClick={remove}>Delete for good</Button><Button variant="ghost" onClick={() => setConfirming(false)}>Keep</Button></>
            : <Button variant="ghost" onClick={() => setConfirming(true)} aria-label={`Delete the endpoint ${endpoint.url}…`}>Delete…</Button>}
        </div>
      </div>
      {problem && <div className="mt-2"><Notice alert><ProblemText problem={problem} /></Notice></div>}
      {open && <Deliveries api={api} endpointId={endpoint.id} id={panelId} />}
    </li>
  )
}

function Deliveries({ api, endpointId, id }: { api: Api; endpointId: string; id: string }) {
  const [deliveries, setDeliveries] = useState<WebhookDelivery[] | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const load = useCallback(() => {
    api.listDeliveries(endpointId).then((list) => { setDeliveries(list); setProblem(null) }, (err: unknown) => setProblem(describeWebhookError(err, 'list the deliveries')))
  }, [api, endpointId])
  useEffect(load, [load])
  const redeliver = (delivery: WebhookDelivery): void => {
    api.redeliver(endpointId, delivery.id).then((fresh) => {
      setDeliveries((list) => list?.map((d) => (d.id === fresh.id ? fresh : d)) ?? null)
    }, (err: unknown) => setProblem(describeWebhookError(err, 'send it again')))
  }
  const now = nowSeconds()
  return (
    <div id={id} className="mt-2 flex flex-col gap-2" data-testid="deliveries">
      <div className="flex items-center justify-between gap-2">
        <h3 className="text-xs font-semibold uppercase tracking-wide">Latest deliveries</h3>
        <Button variant="ghost" onClick={load}>Refresh deliveries</Button>
      </div>
      {problem && <Notice alert><ProblemText problem={problem} /></Notice>}
      {deliveries?.length === 0 && <p className={`text-xs ${MUTED}`}>Nothing sent yet: events come as jobs change.</p>}
      {deliveries && deliveries.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-xs">
            <thead>
              <tr className={`border-b border-slate-200 dark:border-slate-700 ${MUTED}`}>
                <th scope="col" className="py-1 pr-2 font-medium">Event</th>
                <th scope="col" className="py-1 pr-2 font-medium">Status</th>
                <th scope="col" className="py-1 pr-2 font-medium">Sent</th>
                <th scope="col" className="py-1 font-medium"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => {
                const line = deliveryLine(d, now)
                return (
                  <tr key={d.id} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800" data-testid="delivery" data-status={d.status} data-attempts={d.attempts} data-redeliveries={d.redeliveries ?? 0} data-type={d.type}>
                    <th scope="row" className="py-1 pr-2 font-normal"><code>{d.type}</code>{d.job_id && <span className={`block ${MUTED}`}>job {d.job_id.slice(0, 8)}…</span>}</th>
                    <td className="py-1 pr-2"><span className={`font-medium ${TONES[line.tone]}`}>{line.label}</span><span className={`block ${MUTED}`}>{line.detail}</span></td>
                    <td className="py-1 pr-2 tabular-nums">{formatTimestamp(d.created_at, now, { seconds: true })}</td>
                    <td className="py-1 text-right">
                      {canRedeliver(d) && <Button onClick={() => redeliver(d)} aria-label={`Redeliver ${d.type}`}>Redeliver</Button>}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}
