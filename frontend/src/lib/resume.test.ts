import { describe, expect, it } from 'vitest'
import { fingerprint, MemoryStorage, RESUME_MAX_AGE_MS, ResumeStore } from './resume'

const file = { name: 'big.mov', size: 30_000_000, lastModified: 1234 }
const record = { jobId: 'j1', uploadId: 'u1', key: 'uploads/j1/source.mov', partSize: 5 * 1024 ** 2 }

describe('ResumeStore', () => {
  it('remembers an upload per file until it is forgotten', () => {
    const store = new ResumeStore(new MemoryStorage(), () => 1000)
    expect(store.get(file)).toBeNull()
    store.save(file, record)
    expect(store.get(file)).toEqual({ ...record, savedAt: 1000 })
    expect(store.get({ ...file, lastModified: 99 })).toBeNull() // another file with the same name
    store.forget(file)
    expect(store.get(file)).toBeNull()
  })

  it('survives a reload (a new store on the same storage) and expires old records', () => {
    const storage = new MemoryStorage()
    let now = 0
    new ResumeStore(storage, () => now).save(file, record)
    expect(new ResumeStore(storage, () => now).get(file)?.jobId).toBe('j1')
    now = RESUME_MAX_AGE_MS
    expect(new ResumeStore(storage, () => now).get(file)).toBeNull()
  })

  it('expires a record with its job\'s upload window when it is known', () => {
    const storage = new MemoryStorage()
    let now = 0
    new ResumeStore(storage, () => now).save(file, { ...record, expiresAt: 5000 })
    now = 4999
    expect(new ResumeStore(storage, () => now).get(file)?.jobId).toBe('j1')
    now = 5000
    expect(new ResumeStore(storage, () => now).get(file)).toBeNull()
    // A window longer than the default day is honoured too.
    now = 0
    new ResumeStore(storage, () => now).save(file, { ...record, expiresAt: RESUME_MAX_AGE_MS * 2 })
    now = RESUME_MAX_AGE_MS + 1
    expect(new ResumeStore(storage, () => now).get(file)?.jobId).toBe('j1')
  })

  it('shrugs off corrupt storage', () => {
    const storage = new MemoryStorage()
    storage.setItem('framefleet.uploads', '{not json')
    const store = new ResumeStore(storage)
    expect(store.get(file)).toBeNull()
    store.save(file, record)
    expect(store.get(file)?.uploadId).toBe('u1')
  })

  it('fingerprints name, size and modification time', () => {
    expect(fingerprint(file)).toBe('big.mov|30000000|1234')
    expect(fingerprint({ name: 'x', size: 1 })).toBe('x|1|0')
  })
})
