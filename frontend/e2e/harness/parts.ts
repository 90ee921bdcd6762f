// Watching and holding the browser's S3 part uploads (PUT …?partNumber=N&uploadId=…).
import type { Page, Request, Route } from 'playwright-core'

export const PART_URL = /\/uploads\/[0-9a-f]+\/source\.[a-z0-9]+\?.*partNumber=/

function partNumber(request: Request): number {
  return Number(new URL(request.url()).searchParams.get('partNumber'))
}

function partKey(request: Request): string {
  const job = /\/uploads\/([0-9a-f]+)\//.exec(request.url())?.[1] ?? '?'
  return `${job}/${partNumber(request)}`
}

/** Counts, per job and part number, every part PUT the page starts and every one S3 stores. */
export class PartLog {
  readonly #started = new Map<string, number>()
  readonly #stored = new Map<string, number>()

  constructor(page: Page) {
    const isPart = (request: Request): boolean => request.method() === 'PUT' && PART_URL.test(request.url())
    page.on('request', (request) => {
      if (isPart(request)) bump(this.#started, partKey(request))
    })
    page.on('requestfinished', (request) => {
      void request.response().then((response) => {
        if (isPart(request) && response && response.status() < 300) bump(this.#stored, partKey(request))
      })
    })
  }

  started(jobId: string, part: number): number {
    return this.#started.get(`${jobId}/${part}`) ?? 0
  }

  stored(jobId: string, part: number): number {
    return this.#stored.get(`${jobId}/${part}`) ?? 0
  }

  /** Part PUTs started for this job so far. */
  startedTotal(jobId: string): number {
    return [...this.#started].filter(([key]) => key.startsWith(`${jobId}/`)).reduce((sum, [, n]) => sum + n, 0)
  }
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

/** Hold every part PUT numbered ``from`` or more until ``release()`` (the interruption window). */
export async function holdParts(page: Page, from: number): Promise<{ release: () => Promise<void> }> {
  let open!: () => void
  const gate = new Promise<void>((resolve) => { open = resolve })
  const handler = async (route: Route): Promise<void> => {
    if (route.request().method() === 'PUT' && partNumber(route.request()) >= from) await gate
    // The page may have aborted the request meanwhile (pause, reload): nothing to continue then.
    await route.continue().catch(() => undefined)
  }
  await page.route(PART_URL, handler)
  return {
    release: async () => {
      open()
      await page.unroute(PART_URL, handler)
    },
  }
}
