// Retrying the API calls of an upload through a dropped connection (Uppy retries the part
// PUTs itself; the calls to our API are ours to retry).
import { ApiError } from './api'

/** Delays (ms) before the 2nd, 3rd… attempt. */
export const RETRY_DELAYS: readonly number[] = [500, 1000, 2000, 4000, 8000]

/** A network failure (fetch's TypeError), a 5xx or a 429: worth another try. */
export function isTransient(err: unknown): boolean {
  if (err instanceof ApiError) return err.status >= 500 || err.status === 429 || err.status === 408
  return err instanceof TypeError
}

const abortError = (): DOMException => new DOMException('aborted', 'AbortError')

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError())
    const done = (): void => {
      signal?.removeEventListener('abort', stop)
      resolve()
    }
    const handle = setTimeout(done, ms)
    const stop = (): void => {
      clearTimeout(handle)
      reject(abortError())
    }
    signal?.addEventListener('abort', stop, { once: true })
  })
}

/** Resolves when the browser says it is online (at once if it is, or outside a browser). */
export function waitForOnline(signal?: AbortSignal): Promise<void> {
  if (typeof navigator === 'undefined' || navigator.onLine !== false) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const online = (): void => {
      signal?.removeEventListener('abort', stop)
      resolve()
    }
    const stop = (): void => {
      window.removeEventListener('online', online)
      reject(abortError())
    }
    window.addEventListener('online', online, { once: true })
    signal?.addEventListener('abort', stop, { once: true })
  })
}

export interface RetryOptions {
  delays?: readonly number[]
  signal?: AbortSignal | undefined
  /** Injected in tests. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>
  online?: (signal?: AbortSignal) => Promise<void>
}

/** ``call()``, again after each delay while it fails transiently; offline time does not count. */
export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { delays = RETRY_DELAYS, signal, wait = sleep, online = waitForOnline } = options
  for (let attempt = 0; ; attempt += 1) {
    try {
      await online(signal)
      return await call()
    } catch (err) {
      if (signal?.aborted || !isTransient(err) || attempt >= delays.length) throw err
      await wait(delays[attempt] ?? 0, signal)
    }
  }
}
