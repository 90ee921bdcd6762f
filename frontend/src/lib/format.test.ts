import { describe, expect, it } from 'vitest'
import { formatBitrate, formatBytes, formatClock, formatDuration, formatEta, formatResolution, formatSaving, formatSpeed } from './format'

describe('formatBytes', () => {
  it.each([
    [0, '0 B'], [1023, '1023 B'], [1024, '1.0 KB'], [1536, '1.5 KB'], [5 * 1024 ** 2, '5.0 MB'],
    [150 * 1024 ** 2, '150 MB'], [5 * 1024 ** 3, '5.0 GB'], [3 * 1024 ** 4, '3.0 TB'], [-1, '–'], [Number.NaN, '–'],
  ])('%s → %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text))
})

describe('rates and durations', () => {
  it('formats speed and bitrate', () => {
    expect(formatSpeed(2.5 * 1024 ** 2)).toBe('2.5 MB/s')
    expect(formatSpeed(null)).toBe('–')
    expect(formatBitrate(889_368)).toBe('889 kb/s')
    expect(formatBitrate(4_200_000)).toBe('4.2 Mb/s')
    expect(formatBitrate(512)).toBe('512 b/s')
    expect(formatBitrate(undefined)).toBe('–')
  })

  it('formats clocks', () => {
    expect(formatClock(7.9)).toBe('0:07')
    expect(formatClock(725)).toBe('12:05')
    expect(formatClock(3723)).toBe('1:02:03')
    expect(formatClock(null)).toBe('–')
    expect(formatClock(-3)).toBe('–')
  })

  it('formats media durations with decimals under a minute', () => {
    expect(formatDuration(17.063311)).toBe('17.06 s')
    expect(formatDuration(125.4)).toBe('2:05')
    expect(formatDuration(undefined)).toBe('–')
  })

  it('formats time left', () => {
    expect(formatEta(null)).toBe('–')
    expect(formatEta(0.3)).toBe('less than a second')
    expect(formatEta(4.2)).toBe('about 5 s')
    expect(formatEta(150)).toBe('about 3 min')
    expect(formatEta(5400)).toBe('about 1.5 h')
  })
})

describe('formatSaving', () => {
  it('says how much smaller or larger the output is', () => {
    expect(formatSaving(1_896_947, 3_034_079)).toBe('37 % smaller')
    expect(formatSaving(1200, 1000)).toBe('20 % larger')
    expect(formatSaving(1001, 1000)).toBe('same size')
    expect(formatSaving(1000, 0)).toBe('–')
    expect(formatSaving(1000, null)).toBe('–')
  })

  it('formats resolutions', () => {
    expect(formatResolution(640, 360)).toBe('640×360')
    expect(formatResolution(0, 360)).toBe('–')
  })
})
