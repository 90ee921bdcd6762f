import { describe, expect, it, vi } from 'vitest'
import { ApiError } from './api'
import { isTransient, withRetry } from './retry'

const instant = { wait: async () => undefined, online: async () => undefined }

describe('withRetry', () => {
  it('retries network failures and 5xx, then succeeds', async () => {
    const call = vi.fn()
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockRejectedValueOnce(new ApiError(503, 'busy'))
      .mockResolvedValue('ok')
    await expect(withRetry(call, instant)).resolves.toBe('ok')
    expect(call).toHaveBeenCalledTimes(3)
  })

  it('does not retry what another try cannot fix', async () => {
    const call = vi.fn().mockRejectedValue(new ApiError(409, 'job is cancelled'))
    await expect(withRetry(call, instant)).rejects.toMatchObject({ status: 409 })
    expect(call).toHaveBeenCalledTimes(1)
  })

  it('gives up after the last delay', async () => {
    const waits: number[] = []
    const call = vi.fn().mockRejectedValue(new TypeError('Failed to fetch'))
    await expect(withRetry(call, { ...instant, delays: [1, 2], wait: async (ms) => { waits.push(ms) } })).rejects.toThrow('Failed to fetch')
    expect(call).toHaveBeenCalledTimes(3)
    expect(waits).toEqual([1, 2])
  })

  it('stops when aborted', async () => {
    const controller = new AbortController()
    const call = vi.fn(async () => {
      controller.abort()
      throw new TypeError('Failed to fetch')
    })
    await expect(withRetry(call, { ...instant, signal: controller.signal })).rejects.toThrow()
    expect(call).toHaveBeenCalledTimes(1)
  })

  it('waits for the network before each try', async () => {
    const order: string[] = []
    await withRetry(async () => { order.push('call') }, { online: async () => { order.push('online?') } })
    expect(order).toEqual(['online?', 'call'])
  })

  it('classifies errors', () => {
    expect(isTransient(new TypeError('x'))).toBe(true)
    expect(isTransient(new ApiError(429, 'x'))).toBe(true)
    expect(isTransient(new ApiError(404, 'x'))).toBe(false)
    expect(isTransient(new DOMException('aborted', 'AbortError'))).toBe(false)
  })
})
