// Watching the app follow jobs live: when the page first showed each state of the job view, and
// the long polls (GET /jobs/{id}?wait=…) it has open.
import type { BrowserContext, Page, Request } from 'playwright-core'

export interface ShownLog {
  /** Epoch ms when the job view first showed each state (data-state of [data-testid=result]). */
  states: Record<string, number>
  /** Epoch ms when the estimate first showed. */
  forecast: number | null
}

declare global {
  interface Window {
    __shown?: ShownLog
    __longPolls?: { open: number; peak: number }
  }
}

/**
 * Count, in every page of ``context`` from its next load on, the long polls the app has open: a
 * fetch of /jobs/{id}?wait=… from its call until its answer comes or it is aborted. The network
 * events would count an aborted request until the browser has torn it down.
 */
export async function countLongPolls(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const counts = { open: 0, peak: 0 }
    window.__longPolls = counts
    const original = window.fetch.bind(window)
    window.fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const url = new URL(input instanceof Request ? input.url : String(input), window.location.href)
      if (!/^\/jobs\/[0-9a-f]+$/.test(url.pathname) || !url.searchParams.has('wait')) return original(input, init)
      counts.open += 1
      counts.peak = Math.max(counts.peak, counts.open)
      let done = false
      const settled = (): void => {
        if (!done) counts.open -= 1
        done = true
      }
      // An aborted poll is closed when abort() returns (its 'abort' event fires synchronously),
      // not when its rejection comes round: the app may open the next one in the same tick.
      init?.signal?.addEventListener('abort', settled, { once: true })
      const answer = original(input, init)
      // Its answer comes whole once the wait is over (headers and the job at once).
      answer.then(settled, settled)
      return answer
    }
  })
}

/** The most long polls open at once since the last ``reset``. */
export async function longPollPeak(page: Page, reset = false): Promise<number> {
  return page.evaluate((again) => {
    const counts = window.__longPolls
    if (!counts) throw new Error('countLongPolls() before the page loaded')
    const peak = counts.peak
    if (again) counts.peak = counts.open
    return peak
  }, reset)
}

/** Note from now on when the job view shows each state (the page's own clock, Date.now()). */
export async function recordShown(page: Page): Promise<void> {
  await page.evaluate(() => {
    const log: ShownLog = { states: {}, forecast: null }
    window.__shown = log
    const look = (): void => {
      const state = document.querySelector('[data-testid=result]')?.getAttribute('data-state')
      if (state && log.states[state] === undefined) log.states[state] = Date.now()
      if (log.forecast === null && document.querySelector('[data-testid=forecast]')) log.forecast = Date.now()
    }
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] })
    look()
  })
}

export async function shownLog(page: Page): Promise<ShownLog> {
  return page.evaluate(() => {
    if (!window.__shown) throw new Error('recordShown() first')
    return window.__shown
  })
}

export const isLongPoll = (request: Request): boolean => /^\/jobs\/[0-9a-f]+$/.test(new URL(request.url()).pathname) && new URL(request.url()).searchParams.has('wait')

/** The page's long polls: how many are open now, the most at once, which were aborted. */
export class LongPolls {
  readonly #open = new Set<Request>()
  peak = 0
  readonly aborted: string[] = []
  readonly answered: Array<{ url: string; at: number; state: string | null }> = []

  constructor(page: Page) {
    page.on('request', (request) => {
      if (!isLongPoll(request)) return
      this.#open.add(request)
      this.peak = Math.max(this.peak, this.#open.size)
    })
    page.on('requestfinished', (request) => {
      if (!this.#open.delete(request)) return
      void request.response().then((response) => response?.json()).then(
        (job: { state?: string } | undefined) => this.answered.push({ url: request.url(), at: Date.now(), state: job?.state ?? null }),
        () => undefined,
      )
    })
    page.on('requestfailed', (request) => {
      if (!this.#open.delete(request)) return
      if (request.failure()?.errorText.includes('ERR_ABORTED')) this.aborted.push(request.url())
    })
  }

  /** Long polls open now, by job id. */
  open(): string[] {
    return [...this.#open].map((r) => new URL(r.url()).pathname.split('/')[2] ?? '')
  }

  /** Start counting the peak again from what is open now. */
  resetPeak(): void {
    this.peak = this.#open.size
  }
}
