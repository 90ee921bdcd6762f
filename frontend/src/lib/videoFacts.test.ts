import { describe, expect, it } from 'vitest'
import { declaredFacts, readVideoFacts } from './videoFacts'

describe('declaredFacts', () => {
  it('keeps plausible numbers only', () => {
    expect(declaredFacts(17.0633111, 640, 360)).toEqual({ duration: 17.063, width: 640, height: 360 })
    expect(declaredFacts(Number.POSITIVE_INFINITY, 0, 0)).toEqual({})
    expect(declaredFacts(Number.NaN, 640, 0)).toEqual({})
    expect(declaredFacts(4.5, 0, 0)).toEqual({ duration: 4.5 }) // audio only
  })

  it('declares nothing outside a browser', async () => {
    expect(await readVideoFacts(new Blob(['x']))).toEqual({})
  })
})
