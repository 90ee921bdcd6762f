// The page as a user sees it: locators and waits in the app's own terms.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Locator, Page } from 'playwright-core'
import { ARTIFACTS } from './paths'

export class AppPage {
  readonly page: Page
  readonly apiUrl: string

  constructor(page: Page, apiUrl: string) {
    this.page = page
    this.apiUrl = apiUrl
  }

  async open(path = '/'): Promise<void> {
    await this.page.goto(`${this.apiUrl}${path}`)
    await this.page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor()
  }

  async addFiles(...paths: string[]): Promise<void> {
    await this.page.locator('[data-testid=file-input]').setInputFiles(paths)
  }

  /** Every card (one per video). */
  cards(): Locator {
    return this.page.locator('[data-testid=job-card]')
  }

  /** The cards of a file, by its exact name (newest first). */
  cardsOf(name: string): Locator {
    return this.cards().filter({ has: this.page.locator(`[data-testid=job-name][title=${JSON.stringify(name)}]`) })
  }

  /** The upload part of the card of ``name`` that this browser is uploading (gone once its job is over). */
  upload(name: string): Locator {
    return this.cardsOf(name).locator('[data-testid=upload-item]').first()
  }

  /** The job id the upload of ``name`` got from POST /jobs. */
  async jobIdOf(name: string): Promise<string> {
    const row = this.upload(name)
    await row.and(this.page.locator('[data-job-id]:not([data-job-id=""])')).waitFor()
    return (await row.getAttribute('data-job-id')) ?? ''
  }

  async uploadStatus(name: string, status: string, timeout = 60_000): Promise<void> {
    await this.upload(name).and(this.page.locator(`[data-status="${status}"]`)).waitFor({ timeout })
  }

  async partsDone(name: string, atLeast: number, timeout = 60_000): Promise<void> {
    const row = this.upload(name)
    await until(async () => Number(await row.getAttribute('data-parts-done')) >= atLeast, `${atLeast} parts of ${name}`, timeout)
  }

  card(jobId: string): Locator {
    return this.page.locator(`[data-testid=job-card][data-job-id="${jobId}"]`)
  }

  /** Wait for the job's card to show the API state ``state``. */
  async jobState(jobId: string, state: string, timeout = 90_000): Promise<void> {
    await this.page.locator(`[data-testid=job-card][data-job-id="${jobId}"][data-state="${state}"]`).waitFor({ timeout })
  }

  /** The key the stack hands the browser app in /config.json (the local owner's). */
  async apiKey(): Promise<string> {
    const config = (await (await fetch(`${this.apiUrl}/config.json`)).json()) as { apiKey?: string }
    return config.apiKey ?? ''
  }

  /** Call an API path from the test (not through the page), as the local owner. */
  async api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { 'X-Api-Key': await this.apiKey() }
    if (init.body !== undefined) headers['Content-Type'] = 'application/json'
    const resp = await fetch(`${this.apiUrl}${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? null : JSON.stringify(init.body),
    })
    return { status: resp.status, body: (await resp.json().catch(() => null)) as T }
  }

  /** Every job of ``query`` (e.g. "state=done"), paging through GET /jobs as the API says. */
  async allJobs<T extends { job_id: string }>(query = ''): Promise<T[]> {
    const jobs: T[] = []
    let before: string | null = null
    for (let page = 0; page < 100; page += 1) {
      const params = new URLSearchParams(query)
      params.set('limit', '100')
      if (before) params.set('before', before)
      const { status, body } = await this.api<{ jobs: T[]; next: string | null }>(`/jobs?${params.toString()}`)
      if (status !== 200) throw new Error(`GET /jobs?${params.toString()} answered ${status}`)
      jobs.push(...body.jobs)
      if (!body.next) return jobs
      before = body.next
    }
    throw new Error('more than 100 pages of jobs')
  }

  /** The job ids of the cards, in order. */
  async cardIds(): Promise<string[]> {
    return this.cards().evaluateAll((cards) => cards.map((c) => c.getAttribute('data-job-id') ?? ''))
  }

  /** Scroll to the end of the list, again and again (each scroll may load one older page), until
   *  ``count`` cards are shown: how long that takes depends on the machine, not on a scroll count. */
  async scrollUntilCards(count: number, timeout = 90_000): Promise<void> {
    await until(async () => {
      if ((await this.cards().count()) === count) return true
      await this.page.mouse.wheel(0, 20_000)
      return false
    }, `${count} cards`, timeout)
  }

  async screenshot(name: string, { fullPage = true }: { fullPage?: boolean } = {}): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true })
    const path = join(ARTIFACTS, `${name}.png`)
    await this.page.screenshot({ path, fullPage })
    return path
  }
}

/** Poll ``check`` every 100 ms until it is true. */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
