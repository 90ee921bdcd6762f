// Debian's Chromium, headless, driven by playwright-core (no browser download).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]

export interface ConsoleEntry {
  at: number
  text: string
}

export interface Browser {
  context: BrowserContext
  page: Page
  /** console.error messages and uncaught exceptions of the page. */
  errors: ConsoleEntry[]
  close: () => Promise<void>
}

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'framefleet-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const errors: ConsoleEntry[] = []
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error') errors.push({ at: Date.now(), text: `${msg.text()} (${msg.location().url})` })
  })
  page.on('pageerror', (err) => errors.push({ at: Date.now(), text: `uncaught: ${err.message}` }))
  const close = async (): Promise<void> => {
    await context.close()
    rmSync(profile, { recursive: true, force: true })
  }
  return { context, page, errors, close }
}

/** Pace the page's uploads at ``bytesPerSecond`` (Chromium's network emulation); returns the undo. */
export async function throttleUploads(browser: Browser, bytesPerSecond: number): Promise<() => Promise<void>> {
  const cdp = await browser.context.newCDPSession(browser.page)
  const conditions = (upload: number) => ({ offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: upload })
  await cdp.send('Network.emulateNetworkConditions', conditions(bytesPerSecond))
  return async () => {
    await cdp.send('Network.emulateNetworkConditions', conditions(-1))
    await cdp.detach()
  }
}
