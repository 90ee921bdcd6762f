import { describe, expect, it } from 'vitest'
import { forecastOf, verdict } from './forecast'
import { makeJob } from './testing'
import type { JobEstimate } from './types'

/** The estimate the local stack made for a 12 s 360p clip (GET /jobs/{id}). */
const ESTIMATE: JobEstimate = {
  ready_in_seconds: 3.4,
  cost_usd: 7.3e-05,
  made_at: 1_796_159_051.7,
  basis: {
    summary: "2 processor(s) running on 2 core(s); 3 task(s) of this job, 0 queued ahead; cost: the Fargate price of the same worker-seconds (a local run costs nothing)",
    calibration: 'bench.calibrate + bench.estimate, Intel Xeon 2 cores, 2026-12-01',
    fleet: 'local', workers: 2, workers_running: 2, cores: 2.0,
    backlog: { tasks: 0, seconds: 0.0 },
    work: { tasks: 3, cpu_seconds: 3.456 },
    worker_seconds: 3.85,
    price: 'Fargate: processor 2 vCPU + 4 GB $0.0987/h',
  },
}

describe('forecastOf', () => {
  it('is null before the probe made an estimate', () => {
    expect(forecastOf(makeJob('a', 'probing', { estimate: null }))).toBeNull()
    expect(forecastOf(makeJob('a', 'queued'))).toBeNull()
  })

  it('says when it will be ready and what it costs, with the basis in words and figures', () => {
    const view = forecastOf(makeJob('a', 'encoding', { estimate: ESTIMATE, actual: null }))
    expect(view).toMatchObject({ ready: 'ready in 3.4 s', cost: '$0.000073', actual: null })
    expect(view?.readyAt).toBeCloseTo(1_796_159_055.1)
    expect(view?.summary).toMatch(/^2 processor\(s\) running on 2 core\(s\)/)
    expect(view?.facts).toEqual([
      ['Workers', '2 processors on 2 cores, local'],
      ['Queued ahead', 'nothing'],
      ['This job', '3 tasks, 3.5 s of CPU'],
      ['Worker time', '3.9 s'],
      ['Price', 'Fargate: processor 2 vCPU + 4 GB $0.0987/h'],
      ['Calibration', 'bench.calibrate + bench.estimate, Intel Xeon 2 cores, 2026-12-01'],
    ])
  })

  it('puts the actual figures next to it once done, with how far off it was', () => {
    const view = forecastOf(makeJob('a', 'done', { estimate: ESTIMATE, actual: { ready_in_seconds: 4.9, cost_usd: 0.000109 } }))
    expect(view?.actual).toEqual({ ready: 'took 4.9 s', cost: '$0.00011', verdict: '44 % longer than estimated' })
    // The listing carries no actual cost.
    expect(forecastOf(makeJob('a', 'done', { estimate: ESTIMATE, actual: { ready_in_seconds: 3.3, cost_usd: null } }))?.actual)
      .toEqual({ ready: 'took 3.3 s', cost: null, verdict: 'as estimated' })
  })

  it('says why there is no time when no worker runs, and backlog and fleet as they are', () => {
    const view = forecastOf(makeJob('a', 'queued', {
      estimate: { ready_in_seconds: null, cost_usd: 0.0021, basis: { workers: 4, workers_running: 0, fleet: 'aws', backlog: { tasks: 12, seconds: 95 } } },
    }))
    expect(view).toMatchObject({ ready: 'no time yet: no worker is running to do it', readyAt: null, cost: '$0.0021', summary: null })
    expect(view?.facts).toEqual([['Workers', '4 processors (0 running), aws'], ['Queued ahead', '12 tasks (1 min 35 s of work)']])
  })

  it('compares actual with estimated time', () => {
    expect(verdict(10, 7)).toBe('30 % quicker than estimated')
    expect(verdict(10, 10.4)).toBe('as estimated')
    expect(verdict(null, 3)).toBeNull()
    expect(verdict(0, 3)).toBeNull()
  })
})
