import { describe, expect, it } from 'vitest'
import { DEFAULT_QUERY } from '../lib/query'
import { homeHref, jobHref, parseRoute } from './useHashRoute'

describe('hash routes', () => {
  it('maps #/jobs/<id> to the job view and anything else home', () => {
    expect(parseRoute(jobHref('4141cd02'))).toEqual({ name: 'job', jobId: '4141cd02' })
    expect(parseRoute('')).toEqual({ name: 'home', query: DEFAULT_QUERY })
    expect(parseRoute('#/jobs/')).toEqual({ name: 'home', query: DEFAULT_QUERY })
    expect(parseRoute('#/jobs/a/b')).toEqual({ name: 'home', query: DEFAULT_QUERY })
  })

  it('keeps the search, filter and order in the hash', () => {
    const query = { q: 'cat', states: ['done' as const, 'failed' as const], order: 'oldest' as const }
    expect(homeHref(query)).toBe('#/?q=cat&state=done%2Cfailed&order=oldest')
    expect(parseRoute(homeHref(query))).toEqual({ name: 'home', query })
    expect(homeHref(DEFAULT_QUERY)).toBe('#/')
    expect(parseRoute('#/?state=bogus,done&order=sideways')).toEqual({ name: 'home', query: { q: '', states: ['done'], order: 'newest' } })
  })
})
