// A stream's audio languages and subtitles: the player's menus (from Shaka's tracks), and the
// job's audio and subtitle tracks and notes in words (from the probe and the output).
import type { FactRow } from './jobFacts'
import type { Job, SourceTrack } from './types'

const DASH = '–'

/** Names of the commonest languages in their own language, as the server names them (by ISO 639-1). */
const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  en: 'English', fr: 'Français', de: 'Deutsch', es: 'Español', it: 'Italiano', pt: 'Português', nl: 'Nederlands',
  ru: 'Русский', ja: '日本語', zh: '中文', ko: '한국어', ar: 'العربية', hi: 'हिन्दी', pl: 'Polski', tr: 'Türkçe',
  sv: 'Svenska', no: 'Norsk', nb: 'Norsk', da: 'Dansk', fi: 'Suomi', cs: 'Čeština', el: 'Ελληνικά', he: 'עברית',
  uk: 'Українська',
}

/** ISO 639-2 (B and T forms, as containers tag tracks) → ISO 639-1 (as Shaka reports them). */
const ISO_639_1: Readonly<Record<string, string>> = {
  eng: 'en', fra: 'fr', fre: 'fr', deu: 'de', ger: 'de', spa: 'es', ita: 'it', por: 'pt', nld: 'nl', dut: 'nl',
  rus: 'ru', jpn: 'ja', zho: 'zh', chi: 'zh', kor: 'ko', ara: 'ar', hin: 'hi', pol: 'pl', tur: 'tr', swe: 'sv',
  nor: 'no', nob: 'nb', dan: 'da', fin: 'fi', ces: 'cs', cze: 'cs', ell: 'el', gre: 'el', heb: 'he', ukr: 'uk',
}

/**
 * A language code ("fra", "fr", "fr-CA") by its own name ("Français"); null when untagged ("",
 * "und"). Codes outside the table: the browser's name for them, else the code in capitals.
 */
export function languageName(code: string | null | undefined): string | null {
  const tag = (code ?? '').trim()
  const primary = tag.split(/[-_]/)[0]?.toLowerCase() ?? ''
  if (!primary || primary === 'und' || primary === 'zxx' || primary === 'mis' || primary === 'mul') return null
  const short = ISO_639_1[primary] ?? primary
  const known = LANGUAGE_NAMES[short]
  if (known) return known
  try {
    const name = new Intl.DisplayNames([short], { type: 'language', fallback: 'none' }).of(short)
    if (name && name.toLowerCase() !== short) return name.charAt(0).toLocaleUpperCase(short) + name.slice(1)
  } catch {
    // not a code the browser knows
  }
  return tag.toUpperCase()
}

/** "Commentaire (Français)" when the label says more than the language, else the one that is there. */
function trackText(language: string, label: string | null | undefined, fallback: string): string {
  const name = languageName(language)
  const own = label?.trim() || null
  if (own && name && own.toLowerCase() !== name.toLowerCase()) return `${own} (${name})`
  return own ?? name ?? fallback
}

/** Menu texts made unique ("English", "English 2"): a menu of two equal entries helps nobody. */
function distinct<T extends { text: string }>(choices: T[]): T[] {
  const seen = new Map<string, number>()
  return choices.map((choice) => {
    const n = (seen.get(choice.text) ?? 0) + 1
    seen.set(choice.text, n)
    return n === 1 ? choice : { ...choice, text: `${choice.text} ${n}` }
  })
}

// -- the player's menus ---------------------------------------------------------------------

/** An audio track as the player sees it (a Shaka AudioTrack or variant track, reduced). */
export interface AudioTrackInfo {
  /** As Shaka normalizes it: ISO 639-1 ("fr"), "und" when untagged. */
  language: string
  label: string | null
  roles?: readonly string[] | null
  active: boolean
}

/** One entry of the Audio menu: a language (and label), whatever its channels or codec. */
export interface AudioChoice {
  key: string
  language: string
  label: string | null
  roles: string[]
  active: boolean
  text: string
}

/** What tells one audio choice from another: its language and its label. */
export function audioKey(track: Pick<AudioTrackInfo, 'language' | 'label'>): string {
  return `${track.language}|${track.label ?? ''}`
}

/** The Audio menu: one entry per language and label, in the stream's order (the main one first). */
export function audioChoices(tracks: readonly AudioTrackInfo[]): AudioChoice[] {
  const byKey = new Map<string, AudioChoice>()
  for (const track of tracks) {
    const key = audioKey(track)
    const known = byKey.get(key)
    if (known) {
      if (track.active) known.active = true
      continue
    }
    byKey.set(key, {
      key, language: track.language, label: track.label, roles: [...(track.roles ?? [])], active: track.active,
      text: trackText(track.language, track.label, `Audio ${byKey.size + 1}`),
    })
  }
  return distinct([...byKey.values()])
}

/** The variants that carry the audio ``key`` (the quality menu lists those of the audio playing). */
export function withAudio<T extends Pick<AudioTrackInfo, 'language' | 'label'>>(variants: readonly T[], key: string | null): T[] {
  if (key === null) return [...variants]
  const same = variants.filter((v) => audioKey(v) === key)
  return same.length ? same : [...variants]
}

/** A text track as the player sees it (a Shaka TextTrack, reduced). */
export interface TextTrackInfo {
  id: number
  language: string
  label: string | null
  forced: boolean
  active: boolean
}

/** One entry of the Subtitles menu. */
export interface TextChoice {
  id: number
  language: string
  label: string | null
  forced: boolean
  active: boolean
  text: string
}

/** The Subtitles menu (besides "Off"): every text track, forced ones said so. */
export function textChoices(tracks: readonly TextTrackInfo[]): TextChoice[] {
  return distinct(tracks.map((t, i) => ({
    id: t.id, language: t.language, label: t.label, forced: t.forced, active: t.active,
    text: `${trackText(t.language, t.label, `Subtitles ${i + 1}`)}${t.forced ? ' (forced)' : ''}`,
  })))
}

// -- the job's tracks in words --------------------------------------------------------------

/** "English, Français"; "untagged" for a track without a language. */
export function languagesText(languages: ReadonlyArray<string | null | undefined>): string {
  return languages.map((l) => languageName(l) ?? 'untagged').join(', ')
}

const SUBTITLE_CODECS: Readonly<Record<string, string>> = {
  subrip: 'SRT', srt: 'SRT', ass: 'ASS', ssa: 'SSA', mov_text: 'MP4 text', webvtt: 'WebVTT', text: 'text',
  hdmv_pgs_subtitle: 'PGS', dvd_subtitle: 'VobSub', dvb_subtitle: 'DVB', dvb_teletext: 'Teletext', xsub: 'XSUB',
}

function sourceTrackText(track: SourceTrack): string {
  const name = languageName(track.language) ?? 'untagged'
  const title = track.title?.trim()
  const details = [title && title.toLowerCase() !== name.toLowerCase() ? title : '',
    track.kind === 'subtitle' && track.codec ? SUBTITLE_CODECS[track.codec] ?? track.codec : '',
    track.forced ? 'forced' : ''].filter(Boolean)
  return details.length ? `${name} (${details.join(', ')})` : name
}

/**
 * The rows "Audio tracks" and "Subtitles" of the input/output table: the source's tracks as tagged,
 * the output's (the MP4's) by language. Audio tracks show when there are several or one has a
 * language; subtitles when either side has any.
 */
export function trackRows(job: Pick<Job, 'probe' | 'output'>): FactRow[] {
  const source = job.probe?.tracks ?? []
  const out = job.output
  const sourceAudio = source.filter((t) => t.kind === 'audio')
  const sourceText = source.filter((t) => t.kind === 'subtitle')
  const outAudio = out?.audio_tracks
  const outText = out?.subtitles
  const rows: FactRow[] = []
  const tagged = [...sourceAudio.map((t) => t.language), ...(outAudio ?? []).map((t) => t.language)].some((l) => languageName(l) !== null)
  if (sourceAudio.length > 1 || (outAudio?.length ?? 0) > 1 || tagged) {
    rows.push({
      key: 'audio_tracks', label: 'Audio tracks',
      input: sourceAudio.length ? sourceAudio.map(sourceTrackText).join(', ') : job.probe ? 'none' : DASH,
      output: !out || !outAudio ? DASH : outAudio.length ? languagesText(outAudio.map((t) => t.language)) : 'none',
    })
  }
  if (sourceText.length || outText?.length) {
    rows.push({
      key: 'subtitles', label: 'Subtitles',
      input: sourceText.length ? sourceText.map(sourceTrackText).join(', ') : job.probe ? 'none' : DASH,
      output: !out || !outText ? DASH : outText.length ? languagesText(outText.map((t) => t.language)) : 'none',
    })
  }
  return rows
}

/** The table's rows with the track rows right after the "Audio" row (at the end without one). */
export function withTrackRows(rows: readonly FactRow[], job: Pick<Job, 'probe' | 'output'>): FactRow[] {
  const extra = trackRows(job)
  const at = rows.findIndex((r) => r.key === 'audio')
  return at < 0 ? [...rows, ...extra] : [...rows.slice(0, at + 1), ...extra, ...rows.slice(at + 1)]
}

const NOTE = /^(audio|subtitle) track (\d+)(?: \(([^,)]+)(?:, ([^)]+))?\))? left out: (.+?)\.?$/

/**
 * A note of the output in plain words: "subtitle track 3 (hdmv_pgs_subtitle, eng) left out: …"
 * → "Subtitle track 3 (English, PGS) was left out: …". Notes of another form: as written.
 */
export function noteText(note: string): string {
  const text = note.trim()
  const m = NOTE.exec(text)
  if (!m) return text ? `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}` : ''
  const [, kind = '', index = '', codec, language, reason = ''] = m
  const details = [language ? languageName(language) : null, codec ? SUBTITLE_CODECS[codec] ?? codec : null].filter(Boolean)
  return `${kind === 'audio' ? 'Audio' : 'Subtitle'} track ${index}${details.length ? ` (${details.join(', ')})` : ''} was left out: ${reason}.`
}

/** The output's notes in plain words (none: an empty list). */
export function outputNotes(output: Job['output']): string[] {
  return (output?.notes ?? []).map(noteText).filter(Boolean)
}
