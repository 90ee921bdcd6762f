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
    await this.page.getByRole('heading', { name: 'Jobs' }).waitFor()
  }

  async addFiles(...paths: string[]): Promise<void> {
    await this.page.locator('[data-testid=file-input]').setInputFiles(paths)
  }

  /** The newest upload row of a file. */
  upload(name: string): Locator {
    return this.page.locator('[data-testid=upload-item]').filter({ hasText: name }).last()
  }

  /** The job id the upload row of ``name`` got from POST /jobs. */
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

  async jobState(jobId: string, state: string, timeout = 90_000): Promise<void> {
    await this.page.locator(`[data-testid=job-card][data-job-id="${jobId}"][data-state="${state}"]`).waitFor({ timeout })
  }

  /** The key the stack hands the browser app in /config.json (the local owner's). */
  async apiKey(): Promise<string> {
    const config = (await (await fetch(`${this.apiUrl}/config.json`)).json()) as { apiKey?: string }
    return config.apiKey ?? ''
  }

  /** GET an API path from the test (not through the page), as the local owner. */
  async api<T>(path: string): Promise<{ status: number; body: T }> {
    const resp = await fetch(`${this.apiUrl}${path}`, { headers: { 'X-Api-Key': await this.apiKey() } })
    return { status: resp.status, body: (await resp.json().catch(() => null)) as T }
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true })
    const path = join(ARTIFACTS, `${name}.png`)
    await this.page.screenshot({ path, fullPage: true })
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
