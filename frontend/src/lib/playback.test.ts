import { describe, expect, it } from 'vitest'
import {
  canPlayNow, codecName, describePlaybackError, embedPageUrl, embedSnippet, formatOfUrl, isInterruption, linkExpiryNote,
  parseEmbedHash, playbackOf, renditionChoices, renditionLabel, streamIdentity, tokenExpiry, type TrackInfo,
} from './playback'
import { makeJob } from './testing'

const EXPIRES = 1_700_021_600
const SIG = 'bB4oZdRYmTaNri1-lp4MJw7zxZbwuQYr7yCdHEs0mR8'
const JOB = '4141cd02aa'
const HLS = `http://127.0.0.1:8000/play/${EXPIRES}.${SIG}/${JOB}/master.m3u8`
const DASH = `http://127.0.0.1:8000/play/${EXPIRES}.${SIG}/${JOB}/manifest.mpd`
const NOW = 1_700_000_000

describe('playbackOf', () => {
  const stream = { playable_at: NOW - 30, playback_url: HLS, playback_expires_at: EXPIRES }

  it('is nothing until the first chunks are published', () => {
    expect(playbackOf(makeJob('j', 'encoding'), NOW)).toEqual({ kind: 'none' })
    expect(playbackOf(makeJob('j', 'encoding', { playable_at: null, playback_url: HLS }), NOW)).toEqual({ kind: 'none' })
    expect(playbackOf(makeJob('j', 'done', { playable_at: NOW, playback_url: null }), NOW)).toEqual({ kind: 'none' }) // an MP4-only job
  })

  it('grows while the job encodes and assembles, and is the whole video once done', () => {
    expect(playbackOf(makeJob('j', 'encoding', stream), NOW)).toEqual({ kind: 'growing', hls: HLS, dash: null, since: NOW - 30, expiresAt: EXPIRES })
    expect(playbackOf(makeJob('j', 'assembling', { ...stream, dash_url: DASH }), NOW).kind).toBe('growing')
    expect(playbackOf(makeJob('j', 'done', { ...stream, dash_url: DASH }), NOW)).toEqual({ kind: 'ready', hls: HLS, dash: DASH, since: NOW - 30, expiresAt: EXPIRES })
    expect(canPlayNow(playbackOf(makeJob('j', 'encoding', stream), NOW))).toBe(true)
    // A time sent as a numeric string is still a time.
    expect(playbackOf(makeJob('j', 'encoding', { ...stream, playable_at: String(NOW - 30) as unknown as number }), NOW)).toMatchObject({ kind: 'growing', since: NOW - 30 })
  })

  it('is nothing for a job that stopped, and expired past the links\' expiry', () => {
    expect(playbackOf(makeJob('j', 'failed', stream), NOW)).toEqual({ kind: 'none' })
    expect(playbackOf(makeJob('j', 'cancelled', stream), NOW)).toEqual({ kind: 'none' })
    expect(playbackOf(makeJob('j', 'done', stream), EXPIRES)).toEqual({ kind: 'expired', expiresAt: EXPIRES })
    expect(canPlayNow(playbackOf(makeJob('j', 'done', stream), EXPIRES + 1))).toBe(false)
    // Without playback_expires_at the token in the URL says.
    expect(playbackOf(makeJob('j', 'done', { playable_at: NOW, playback_url: HLS }), EXPIRES + 1).kind).toBe('expired')
  })
})

describe('stream URLs', () => {
  it('reads the expiry of a token and names the stream without it', () => {
    expect(tokenExpiry(HLS)).toBe(EXPIRES)
    expect(tokenExpiry(DASH)).toBe(EXPIRES)
    expect(tokenExpiry('https://cdn.example/abc/master.m3u8')).toBeNull()
    expect(tokenExpiry('not a url')).toBeNull()
    const later = HLS.replace(`${EXPIRES}.${SIG}`, `${EXPIRES + 600}.AnotherSignatureAAAAAAAAAAAAAAAAAAAAAAAAAAA`)
    expect(streamIdentity(later)).toBe(streamIdentity(HLS))
    expect(streamIdentity(DASH)).not.toBe(streamIdentity(HLS))
  })

  it('tells HLS from DASH by the file name', () => {
    expect(formatOfUrl(HLS)).toBe('hls')
    expect(formatOfUrl(DASH)).toBe('dash')
    expect(formatOfUrl('https://x/video.mp4')).toBeNull()
  })
})

describe('renditions', () => {
  const track = (id: number, height: number, codec: string, bandwidth: number, active = false): TrackInfo => ({
    id, width: Math.round((height * 16) / 9), height, videoCodec: codec, videoBandwidth: null, bandwidth, active,
  })

  it('names codecs the way people know them', () => {
    expect(codecName('avc1.64001f')).toBe('H.264')
    expect(codecName('hvc1.1.6.L93.B0')).toBe('HEVC')
    expect(codecName('hev1.1.6.L93.B0')).toBe('HEVC')
    expect(codecName('av01.0.05M.08')).toBe('AV1')
    expect(codecName('h264')).toBe('H.264')
    expect(codecName('avc1.64001f,mp4a.40.2')).toBe('H.264')
    expect(codecName(null)).toBe('–')
  })

  it('labels a rendition by height, codec and rate', () => {
    expect(renditionLabel(track(1, 720, 'avc1.64001f', 2_100_000))).toBe('720p · H.264 · 2.1 Mb/s')
    expect(renditionLabel({ height: 360, videoCodec: 'hvc1.1.6.L90.B0', videoBandwidth: 480_000, bandwidth: 610_000 })).toBe('360p · HEVC · 480 kb/s')
    expect(renditionLabel({ height: null, videoCodec: null, videoBandwidth: null, bandwidth: 128_000 })).toBe('audio only · 128 kb/s')
  })

  it('lists each rendition once, tallest first, H.264 before the others', () => {
    const tracks = [
      track(1, 360, 'avc1.64001e', 900_000), track(2, 720, 'hvc1.1.6.L93.B0', 1_500_000), track(3, 720, 'avc1.64001f', 2_500_000),
      track(4, 360, 'avc1.64001e', 900_000, true), // the same rendition with another audio: one entry, the active one
    ]
    expect(renditionChoices(tracks).map((t) => t.id)).toEqual([3, 2, 4])
  })
})

describe('embedding', () => {
  it('points the app\'s player page at the stream, the URL in the hash', () => {
    const page = embedPageUrl('https://app.example/framefleet/index.html#/jobs/abc', HLS)
    expect(page).toBe(`https://app.example/framefleet/embed.html#url=${encodeURIComponent(HLS)}`)
    expect(embedPageUrl('http://127.0.0.1:8000/#/jobs/abc', HLS)).toMatch(/^http:\/\/127\.0\.0\.1:8000\/embed\.html#url=/)
    expect(parseEmbedHash(new URL(page).hash)).toEqual({ url: HLS, format: 'hls' })
  })

  it('reads what embed.html is asked to play, and refuses what it cannot', () => {
    expect(parseEmbedHash(`#url=${encodeURIComponent(DASH)}`)).toEqual({ url: DASH, format: 'dash' })
    expect(parseEmbedHash(`#url=${encodeURIComponent('https://x/stream')}&format=hls`)).toEqual({ url: 'https://x/stream', format: 'hls' })
    expect(parseEmbedHash('')).toEqual({ error: 'No video was given to this player (the link is incomplete).' })
    expect(parseEmbedHash('#url=nonsense')).toEqual({ error: 'The link to the video is not a valid address.' })
    expect(parseEmbedHash(`#url=${encodeURIComponent('javascript:alert(1)//x.m3u8')}`)).toEqual({ error: 'This player only plays http and https links.' })
    expect(parseEmbedHash(`#url=${encodeURIComponent('https://x/video.mp4')}`)).toHaveProperty('error')
  })

  it('makes an <iframe> snippet of the video\'s shape, its attributes escaped', () => {
    const page = 'https://app.example/embed.html#url=a&b'
    expect(embedSnippet(page, { title: 'My "best" <clip>', width: 1280, height: 720 })).toBe(
      '<iframe src="https://app.example/embed.html#url=a&amp;b" width="640" height="360" title="My &quot;best&quot; &lt;clip&gt;" '
      + 'style="border:0;max-width:100%;height:auto;aspect-ratio:640/360" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>',
    )
    expect(embedSnippet(page, { title: 't', width: 720, height: 1280 })).toContain('width="640" height="1138"') // portrait
    expect(embedSnippet(page, { title: 't' })).toContain('height="360"')
  })
})

describe('describePlaybackError', () => {
  const http = (status: number) => ({ code: 1001, category: 1, severity: 2, data: [HLS, status, 'this playback link is invalid or has expired'] })

  it('calls a 403 on a link past its expiry "expired", on any other link "refused"', () => {
    const expired = describePlaybackError(http(403), HLS, EXPIRES + 60)
    expect(expired.kind).toBe('expired')
    expect(expired.message).toMatch(/^This playback link expired at \d\d:\d\d\.$/)
    expect(expired.next).toBe('Reload this page for a fresh link.')
    const refused = describePlaybackError(http(403), HLS, NOW)
    expect(refused.kind).toBe('refused')
    expect(refused.message).toMatch(/refused this playback link: it has expired or it is not complete/)
  })

  it('has plain words for a missing file, a server error, the network, codecs and decoding', () => {
    expect(describePlaybackError(http(404), HLS, NOW).kind).toBe('missing')
    expect(describePlaybackError(http(503), HLS, NOW).message).toBe('The video server had a problem (error 503).')
    expect(describePlaybackError({ code: 1002, category: 1, severity: 2 }, HLS, NOW).kind).toBe('network')
    expect(describePlaybackError({ code: 1003 }, HLS, NOW).kind).toBe('network')
    expect(describePlaybackError({ code: 4032, category: 4 }, HLS, NOW).message).toMatch(/cannot play any version/)
    expect(describePlaybackError({ code: 3016, category: 3 }, HLS, NOW).kind).toBe('decode')
    expect(describePlaybackError({ code: 4001, category: 4 }, HLS, NOW).message).toMatch(/playlist could not be read/)
    const unknown = describePlaybackError({ code: 9999 }, HLS, NOW)
    for (const problem of [unknown, describePlaybackError(http(500), HLS, NOW)]) {
      expect(`${problem.message} ${problem.next}`).not.toMatch(/\b(1001|1002|3016|9999)\b|shaka|undefined/i)
    }
  })

  it('knows an interrupted load from a failure', () => {
    expect(isInterruption({ code: 7000 })).toBe(true)
    expect(isInterruption({ code: 1001 })).toBe(false)
  })

  it('says until when a link works without the API key', () => {
    expect(linkExpiryNote(NOW + 6 * 3600, NOW)).toMatch(/^Works without an API key until .+ \(in 6 h\); reload this page for a fresh link after that\.$/)
    expect(linkExpiryNote(NOW - 1, NOW)).toBe('This link has expired: reload the page for a fresh one.')
    expect(linkExpiryNote(null, NOW)).toMatch(/token in the link/)
  })
})
