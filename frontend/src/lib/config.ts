// Runtime configuration: /config.json next to index.html (written at deploy time, served by
// `framefleet up` locally), plus the API key a user may paste into Settings (localStorage).

export interface RuntimeConfig {
  /** Base URL of the REST API; "" = same origin. */
  apiUrl: string
  /** Default API key (sent as X-Api-Key); a key saved in Settings wins. */
  apiKey: string
  /** Largest upload the API accepts (FRAMEFLEET_MAX_UPLOAD_BYTES). */
  maxUploadBytes: number
}

export const DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 ** 3
export const DEFAULT_CONFIG: RuntimeConfig = { apiUrl: '', apiKey: '', maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES }

const API_KEY_STORAGE = 'framefleet.apiKey'

/** A valid config from whatever /config.json held (missing or wrong fields fall back to defaults). */
export function parseConfig(raw: unknown): RuntimeConfig {
  const obj = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {}
  const text = (value: unknown, fallback: string): string => (typeof value === 'string' ? value.trim() : fallback)
  const max = obj.maxUploadBytes
  return {
    apiUrl: text(obj.apiUrl, DEFAULT_CONFIG.apiUrl).replace(/\/+$/, ''),
    apiKey: text(obj.apiKey, DEFAULT_CONFIG.apiKey),
    maxUploadBytes: typeof max === 'number' && Number.isFinite(max) && max > 0 ? max : DEFAULT_MAX_UPLOAD_BYTES,
  }
}

/** Fetch /config.json; a missing file (plain static hosting without one) means the defaults. */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  try {
    const resp = await fetchImpl('config.json', { cache: 'no-store' })
    return resp.ok ? parseConfig(await resp.json()) : DEFAULT_CONFIG
  } catch {
    return DEFAULT_CONFIG
  }
}

export function storedApiKey(storage: Pick<Storage, 'getItem'> = localStorage): string {
  return storage.getItem(API_KEY_STORAGE) ?? ''
}

export function storeApiKey(key: string, storage: Pick<Storage, 'setItem' | 'removeItem'> = localStorage): void {
  if (key.trim()) storage.setItem(API_KEY_STORAGE, key.trim())
  else storage.removeItem(API_KEY_STORAGE)
}
