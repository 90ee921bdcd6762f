import { describe, expect, it } from 'vitest'
import { DEFAULT_QUERY } from '../lib/query'
import { homeHref, jobHref, parseRoute, playHref } from './useHashRoute'

describe('hash routes', () => {
  it('maps #/jobs/<id> to the job view and anything else home', () => {
    expect(parseRoute(jobHref('4141cd02'))).toEqual({ name: 'job', jobId: '4141cd02' })
    expect(parseRoute('')).toEqual({ name: 'home', query: DEFAULT_QUERY })
    expect(parseRoute('#/jobs/')).toEqual({ name: 'home', query: DEFAULT_QUERY })
    expect(parseRoute('#/jobs/a/b')).toEqual({ name: 'home', query: DEFAULT_QUERY })
  })

  it('maps #/jobs/<id>/play to the job view that starts its stream', () => {
    expect(playHref('4141cd02')).toBe('#/jobs/4141cd02/play')
    expect(parseRoute(playHref('4141cd02'))).toEqual({ name: 'job', jobId: '4141cd02', play: true })
    expect(parseRoute('#/jobs/4141cd02/pause')).toEqual({ name: 'home', query: DEFAULT_QUERY })
  })

  it('keeps the search, filter and order in the hash', () => {
    const query = { q: 'cat', states: ['done' as const, 'failed' as const], order: 'oldest' as const }
    expect(homeHref(query)).toBe('#/?q=cat&state=done%2Cfailed&order=oldest')
    expect(parseRoute(homeHref(query))).toEqual({ name: 'home', query })
    expect(homeHref(DEFAULT_QUERY)).toBe('#/')
    expect(parseRoute('#/?state=bogus,done&order=sideways')).toEqual({ name: 'home', query: { q: '', states: ['done'], order: 'newest' } })
  })
})
