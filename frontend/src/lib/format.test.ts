import { describe, expect, it } from 'vitest'
import {
  bitDepthOf, displayName, dynamicRange, formatBitrate, formatBytes, formatChannels, formatClock, formatCodec, formatContainer,
  formatDuration, formatEta, formatFps, formatRelative, formatResolution, formatRotation, formatSampleRate, formatSizeChange,
  formatSpan, formatSpeed, formatTimestamp, formatUsd, sizeChange,
} from './format'

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

describe('size change', () => {
  it('says how much smaller or larger the output is, never a negative "saving"', () => {
    expect(formatSizeChange(1_896_947, 3_034_079)).toBe('37 % smaller')
    expect(formatSizeChange(1200, 1000)).toBe('20 % larger')
    expect(formatSizeChange(1660, 1000)).toBe('66 % larger')
    expect(formatSizeChange(1001, 1000)).toBe('same size')
    expect(formatSizeChange(1000, 0)).toBe('–')
    expect(formatSizeChange(1000, null)).toBe('–')
    expect(sizeChange(1660, 1000)).toEqual({ kind: 'larger', percent: 66 })
    expect(sizeChange(500, 1000)).toEqual({ kind: 'smaller', percent: 50 })
    expect(sizeChange(-1, 1000)).toBeNull()
  })

  it('formats resolutions', () => {
    expect(formatResolution(640, 360)).toBe('640×360')
    expect(formatResolution(0, 360)).toBe('–')
  })
})

describe('times', () => {
  const now = Date.UTC(2025, 5, 10, 12, 0, 0) / 1000
  const utc = { timeZone: 'UTC', locale: 'en-GB' }

  it('shows the time today, the day this year, the year before', () => {
    expect(formatTimestamp(now - 3600, now, utc)).toBe('11:00')
    expect(formatTimestamp(now - 3591, now, { ...utc, seconds: true })).toBe('11:00:09')
    expect(formatTimestamp(Date.UTC(2025, 2, 3, 14, 5) / 1000, now, utc)).toBe('3 Mar, 14:05')
    expect(formatTimestamp(Date.UTC(2024, 2, 3, 14, 5) / 1000, now, utc)).toBe('3 Mar 2024, 14:05')
    expect(formatTimestamp(null, now)).toBe('–')
    expect(formatTimestamp(0, now)).toBe('–')
  })

  it('says how far away a moment is', () => {
    expect(formatRelative(3480)).toBe('in 58 min')
    expect(formatRelative(23 * 3600 + 1000)).toBe('in 23 h')
    expect(formatRelative(-120)).toBe('2 min ago')
    expect(formatRelative(2)).toBe('just now')
    expect(formatRelative(30)).toBe('in 30 s')
    expect(formatRelative(5 * 86400)).toBe('in 5 days')
  })
})

describe('media facts', () => {
  it('formats frame rates, channels and sample rates', () => {
    expect(formatFps(29.97002997)).toBe('29.97 fps')
    expect(formatFps(30)).toBe('30 fps')
    expect(formatFps(0)).toBe('–')
    expect(formatChannels(1)).toBe('mono')
    expect(formatChannels(2)).toBe('stereo')
    expect(formatChannels(6)).toBe('5.1')
    expect(formatChannels(3)).toBe('3 channels')
    expect(formatSampleRate(48000)).toBe('48 kHz')
    expect(formatSampleRate(44100)).toBe('44.1 kHz')
  })

  it('names codecs and containers', () => {
    expect(formatCodec('h264', 'High')).toBe('H.264 High')
    expect(formatCodec('vp8')).toBe('VP8')
    expect(formatCodec('weird')).toBe('weird')
    expect(formatCodec(undefined)).toBe('–')
    expect(formatContainer('mov,mp4,m4a,3gp,3g2,mj2')).toBe('MP4 / MOV')
    expect(formatContainer('matroska,webm')).toBe('Matroska / WebM')
    expect(formatContainer('mpegts')).toBe('MPEG-TS')
  })

  it('tells HDR from SDR, or the bit depth when the transfer is not tagged', () => {
    expect(dynamicRange({ color_transfer: 'smpte2084', bit_depth: 10 })).toBe('HDR (PQ)')
    expect(dynamicRange({ color_transfer: 'arib-std-b67' })).toBe('HDR (HLG)')
    expect(dynamicRange({ color_transfer: 'bt709', bit_depth: 8 })).toBe('SDR')
    expect(dynamicRange({ bit_depth: 8 })).toBe('SDR (8-bit)')
    expect(dynamicRange({ pix_fmt: 'yuv420p10le' })).toBe('10-bit (transfer not tagged)')
    expect(dynamicRange({})).toBe('–')
    expect(bitDepthOf('yuv420p')).toBe(8)
    expect(bitDepthOf('yuv422p12be')).toBe(12)
  })

  it('formats rotations and names', () => {
    expect(formatRotation(undefined)).toBe('none')
    expect(formatRotation(-90)).toBe('270°')
    expect(formatRotation(180)).toBe('180°')
    expect(displayName('a.mp4', 'abcdef0123')).toBe('a.mp4')
    expect(displayName(null, 'abcdef0123')).toBe('job abcdef01')
  })
})

describe('formatUsd', () => {
  it('shows fractions of a cent with two significant digits, dollars with cents', () => {
    expect(formatUsd(7.3e-05)).toBe('$0.000073')
    expect(formatUsd(0.000109)).toBe('$0.00011')
    expect(formatUsd(0.0123)).toBe('$0.012')
    expect(formatUsd(0.1)).toBe('$0.10')
    expect(formatUsd(0.0999)).toBe('$0.10')
    expect(formatUsd(12.5)).toBe('$12.50')
    expect(formatUsd(0)).toBe('$0')
    expect(formatUsd(1e-9)).toBe('under $0.000001')
    expect(formatUsd(null)).toBe('–')
    expect(formatUsd(Number.NaN)).toBe('–')
  })
})

describe('formatSpan', () => {
  it('keeps a decimal below 10 s, then whole seconds, minutes and hours', () => {
    expect(formatSpan(3.44)).toBe('3.4 s')
    expect(formatSpan(42.4)).toBe('42 s')
    expect(formatSpan(75)).toBe('1 min 15 s')
    expect(formatSpan(120)).toBe('2 min')
    expect(formatSpan(3725)).toBe('1 h 2 min')
    expect(formatSpan(7200)).toBe('2 h')
    expect(formatSpan(-1)).toBe('–')
  })
})
