import { describe, expect, it } from 'vitest'
import { compareFacts } from './jobFacts'
import { makeJob } from './testing'
import {
  audioChoices, audioKey, languageName, languagesText, noteText, outputNotes, textChoices, trackRows, withAudio, withTrackRows,
  type AudioTrackInfo, type TextTrackInfo,
} from './tracks'
import type { JobOutput, ProbeSummary } from './types'

describe('languageName', () => {
  it('names a language in its own words, whichever code form the container or Shaka uses', () => {
    expect(languageName('eng')).toBe('English')
    expect(languageName('fra')).toBe('Français')
    expect(languageName('fre')).toBe('Français') // ISO 639-2/B
    expect(languageName('fr')).toBe('Français') // as Shaka normalizes it
    expect(languageName('de-AT')).toBe('Deutsch')
    expect(languageName('GER')).toBe('Deutsch')
    expect(languageName('spa')).toBe('Español')
  })

  it('is null for an untagged track, the browser\'s name or the code for the rest', () => {
    expect(languageName('')).toBeNull()
    expect(languageName('und')).toBeNull()
    expect(languageName(null)).toBeNull()
    expect(languageName('is')).toBe('Íslenska') // not in the table: Intl's own name, capitalized
    expect(languageName('qaa')).toBe('QAA') // reserved for local use: nobody names it
  })
})

describe('the Audio menu', () => {
  const audio = (language: string, label: string | null, active = false, roles: string[] = []): AudioTrackInfo => ({ language, label, roles, active })

  it('lists one entry per language and label, the stream\'s order, the playing one active', () => {
    const choices = audioChoices([
      audio('en', 'English', true, ['main']), audio('fr', 'Français', false, ['alternate']),
      audio('fr', 'Français'), // the same track with other channels or another codec: one entry
      audio('fr', 'Commentaire'),
    ])
    expect(choices.map((c) => [c.key, c.text, c.active])).toEqual([
      ['en|English', 'English', true], ['fr|Français', 'Français', false], ['fr|Commentaire', 'Commentaire (Français)', false],
    ])
    expect(choices[1]?.roles).toEqual(['alternate'])
  })

  it('names untagged and unlabelled tracks, and never shows two equal entries', () => {
    expect(audioChoices([audio('und', null, true), audio('und', 'Main'), audio('en', null)]).map((c) => c.text)).toEqual(['Audio 1', 'Main', 'English'])
    expect(audioChoices([audio('en', 'English'), audio('en', null)]).map((c) => c.text)).toEqual(['English', 'English 2'])
    // An active duplicate makes its entry active.
    expect(audioChoices([audio('en', null), audio('en', null, true)])).toEqual([expect.objectContaining({ key: 'en|', active: true })])
  })

  it('keeps the quality menu to the variants of the audio playing', () => {
    const variants = [
      { id: 1, language: 'en', label: 'English' }, { id: 2, language: 'fr', label: 'Français' },
      { id: 3, language: 'en', label: 'English' }, { id: 4, language: 'fr', label: 'Français' },
    ]
    expect(withAudio(variants, audioKey({ language: 'fr', label: 'Français' })).map((v) => v.id)).toEqual([2, 4])
    expect(withAudio(variants, null)).toHaveLength(4)
    expect(withAudio(variants, 'de|Deutsch')).toHaveLength(4) // nothing matches: all rather than none
  })
})

describe('the Subtitles menu', () => {
  const text = (id: number, language: string, label: string | null, forced = false, active = false): TextTrackInfo => ({ id, language, label, forced, active })

  it('lists every text track by its label, forced ones said so', () => {
    const choices = textChoices([text(7, 'de', 'Deutsch'), text(8, 'es', null, false, true), text(9, 'en', 'English', true), text(10, 'und', null)])
    expect(choices.map((c) => [c.id, c.text, c.active])).toEqual([
      [7, 'Deutsch', false], [8, 'Español', true], [9, 'English (forced)', false], [10, 'Subtitles 4', false],
    ])
    expect(textChoices([])).toEqual([])
  })
})

describe('the job\'s tracks', () => {
  const probe: ProbeSummary = {
    format_name: 'matroska,webm', duration: 6,
    audio: { codec: 'aac', channels: 2, sample_rate: 48000 },
    tracks: [
      { index: 1, kind: 'audio', codec: 'aac', language: 'eng', default: true },
      { index: 2, kind: 'audio', codec: 'aac', language: 'fra', title: 'Commentaire' },
      { index: 3, kind: 'subtitle', codec: 'subrip', language: 'deu' },
      { index: 4, kind: 'subtitle', codec: 'subrip', language: 'spa', forced: true },
      { index: 5, kind: 'subtitle', codec: 'hdmv_pgs_subtitle', language: 'eng' },
    ],
  }
  const output: JobOutput = {
    size: 1, duration: 6, width: 640, height: 360, bitrate: 1,
    audio_tracks: [{ language: 'eng', duration: 6 }, { language: 'fra', duration: 6 }],
    subtitles: [{ language: 'deu' }, { language: 'spa' }],
    notes: ['subtitle track 5 (hdmv_pgs_subtitle, eng) left out: picture-based subtitles cannot be converted to text'],
  }

  it('lists the source\'s and the output\'s audio and subtitle tracks by language', () => {
    const rows = Object.fromEntries(trackRows(makeJob('j', 'done', { probe, output })).map((r) => [r.key, [r.label, r.input, r.output]]))
    expect(rows.audio_tracks).toEqual(['Audio tracks', 'English, Français (Commentaire)', 'English, Français'])
    expect(rows.subtitles).toEqual(['Subtitles', 'Deutsch (SRT), Español (SRT, forced), English (PGS)', 'Deutsch, Español'])
    expect(languagesText(['eng', '', 'und'])).toBe('English, untagged, untagged')
  })

  it('says "–" before the output and where the output does not say (no MP4), "none" when it has none', () => {
    const before = Object.fromEntries(trackRows(makeJob('j', 'encoding', { probe })).map((r) => [r.key, r.output]))
    expect(before).toEqual({ audio_tracks: '–', subtitles: '–' })
    const { audio_tracks: _a, subtitles: _s, ...streamOnly } = output
    expect(trackRows(makeJob('j', 'done', { probe, output: streamOnly })).map((r) => r.output)).toEqual(['–', '–'])
    const dropped = trackRows(makeJob('j', 'done', { probe, output: { ...output, subtitles: [] } }))
    expect(dropped.find((r) => r.key === 'subtitles')?.output).toBe('none')
  })

  it('adds no row for one untagged audio track and no subtitles (the "Audio" row says it all)', () => {
    const plain: ProbeSummary = { ...probe, tracks: [{ index: 1, kind: 'audio', codec: 'aac', language: '' }] }
    expect(trackRows(makeJob('j', 'done', { probe: plain, output: { ...output, audio_tracks: [{ language: 'und' }], subtitles: [] } }))).toEqual([])
    expect(trackRows(makeJob('j', 'done', { probe: { ...probe, tracks: undefined }, output: null }))).toEqual([])
  })

  it('puts the rows right after the "Audio" row of the table', () => {
    const job = makeJob('j', 'done', { probe, output })
    const keys = withTrackRows(compareFacts(job), job).map((r) => r.key)
    expect(keys.slice(keys.indexOf('audio'), keys.indexOf('audio') + 4)).toEqual(['audio', 'audio_tracks', 'subtitles', 'size'])
    expect(withTrackRows([], job).map((r) => r.key)).toEqual(['audio_tracks', 'subtitles'])
  })

  it('says what was left out in plain words', () => {
    expect(outputNotes(output)).toEqual(['Subtitle track 5 (English, PGS) was left out: picture-based subtitles cannot be converted to text.'])
    expect(noteText('subtitle track 9 (dvd_subtitle) left out: picture-based subtitles cannot be converted to text')).toBe(
      'Subtitle track 9 (VobSub) was left out: picture-based subtitles cannot be converted to text.')
    expect(noteText('audio track 11 left out: at most 8 audio tracks are kept')).toBe('Audio track 11 was left out: at most 8 audio tracks are kept.')
    expect(noteText('the ASS styling was dropped')).toBe('The ASS styling was dropped.') // another form: as written
    expect(noteText('  ')).toBe('')
    expect(outputNotes(null)).toEqual([])
    expect(outputNotes({ ...output, notes: undefined })).toEqual([])
  })
})
