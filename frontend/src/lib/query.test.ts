import { describe, expect, it } from 'vitest'
import { compareJobs, DEFAULT_QUERY, filterIdOf, isFiltered, jobsPath, matchesQuery, sameQuery, statesOf } from './query'

describe('GET /jobs paths', () => {
  it('asks for the first page with only what differs from the defaults', () => {
    expect(jobsPath(DEFAULT_QUERY, 50)).toBe('/jobs?limit=50')
    expect(jobsPath({ q: '  Holiday Clip ', states: [], order: 'newest' }, 50)).toBe('/jobs?limit=50&q=Holiday+Clip')
  })

  it('carries the cursor with the same filters and order', () => {
    const query = { q: 'a&b', states: ['awaiting_upload', 'queued'] as const, order: 'oldest' as const }
    expect(jobsPath({ ...query, states: [...query.states] }, 50, '1712345678.25'))
      .toBe('/jobs?limit=50&before=1712345678.25&state=awaiting_upload%2Cqueued&q=a%26b&order=oldest')
  })

  it('keeps the limit within what the API allows', () => {
    expect(jobsPath(DEFAULT_QUERY, 500)).toBe('/jobs?limit=100')
    expect(jobsPath(DEFAULT_QUERY, 0)).toBe('/jobs?limit=1')
  })
})

describe('matching and ordering locally', () => {
  const job = (filename: string | null, state: 'done' | 'failed' | 'encoding' = 'done') => ({ filename, state })

  it('matches a case-insensitive part of the name and the states', () => {
    expect(matchesQuery(job('Holiday.MP4'), { ...DEFAULT_QUERY, q: 'day.mp' })).toBe(true)
    expect(matchesQuery(job('holiday.mp4'), { ...DEFAULT_QUERY, q: 'beach' })).toBe(false)
    expect(matchesQuery(job(null), { ...DEFAULT_QUERY, q: 'x' })).toBe(false)
    expect(matchesQuery(job('a.mp4', 'failed'), { ...DEFAULT_QUERY, states: ['done'] })).toBe(false)
    expect(matchesQuery(job('a.mp4', 'failed'), { ...DEFAULT_QUERY, states: ['done', 'failed'] })).toBe(true)
  })

  it('orders newest or oldest first', () => {
    const older = { created_at: 100 }
    const newer = { created_at: 200 }
    expect(compareJobs(newer, older, 'newest')).toBeLessThan(0)
    expect(compareJobs(newer, older, 'oldest')).toBeGreaterThan(0)
  })

  it('maps state filters both ways and compares queries', () => {
    expect(filterIdOf(statesOf('active'))).toBe('active')
    expect(filterIdOf(['failed'])).toBe('failed')
    expect(filterIdOf(['failed', 'done'])).toBe('all') // not one of the offered filters
    expect(statesOf('nonsense')).toEqual([])
    expect(sameQuery({ q: 'a ', states: ['done', 'failed'], order: 'newest' }, { q: 'a', states: ['failed', 'done'], order: 'newest' })).toBe(true)
    expect(sameQuery(DEFAULT_QUERY, { ...DEFAULT_QUERY, order: 'oldest' })).toBe(false)
    expect(isFiltered(DEFAULT_QUERY)).toBe(false)
    expect(isFiltered({ ...DEFAULT_QUERY, order: 'oldest' })).toBe(false)
    expect(isFiltered({ ...DEFAULT_QUERY, q: 'x' })).toBe(true)
  })
})
