import { describe, expect, it } from 'vitest'
import { jobHref, parseRoute } from './useHashRoute'

describe('hash routes', () => {
  it('maps #/jobs/<id> to the result view and anything else home', () => {
    expect(parseRoute(jobHref('4141cd02'))).toEqual({ name: 'job', jobId: '4141cd02' })
    expect(parseRoute('')).toEqual({ name: 'home' })
    expect(parseRoute('#/jobs/')).toEqual({ name: 'home' })
    expect(parseRoute('#/jobs/a/b')).toEqual({ name: 'home' })
  })
})
