import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG, loadConfig, parseConfig, storeApiKey, storedApiKey } from './config'
import { MemoryStorage } from './resume'

describe('runtime config', () => {
  it('parses what config.json holds, falling back per field', () => {
    expect(parseConfig({ apiUrl: 'https://api.example.com/api/ ', apiKey: ' k ', maxUploadBytes: 1000 }))
      .toEqual({ apiUrl: 'https://api.example.com/api', apiKey: 'k', maxUploadBytes: 1000 })
    expect(parseConfig({ apiUrl: 5, maxUploadBytes: -1 })).toEqual(DEFAULT_CONFIG)
    expect(parseConfig(null)).toEqual(DEFAULT_CONFIG)
  })

  it('uses the defaults when there is no config.json', async () => {
    const missing = (async () => new Response('nope', { status: 404 })) as typeof fetch
    expect(await loadConfig(missing)).toEqual(DEFAULT_CONFIG)
    const broken = (async () => { throw new TypeError('offline') }) as typeof fetch
    expect(await loadConfig(broken)).toEqual(DEFAULT_CONFIG)
    const ok = (async () => Response.json({ apiUrl: '/api' })) as typeof fetch
    expect((await loadConfig(ok)).apiUrl).toBe('/api')
  })

  it('keeps the pasted API key in storage', () => {
    const storage = Object.assign(new MemoryStorage(), { removeItem(this: MemoryStorage, key: string) { this.setItem(key, '') } })
    storeApiKey('  secret ', storage)
    expect(storedApiKey(storage)).toBe('secret')
    storeApiKey('', storage)
    expect(storedApiKey(storage)).toBe('')
  })
})
