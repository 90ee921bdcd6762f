import { useEffect, useId, useRef, useState } from 'react'
import { renditionLabel, streamIdentity, type StreamFormat } from '../lib/playback'
import { INITIAL_VIEW, StreamController, type StreamView } from '../lib/streamController'
import { PlayerVideo } from './PlayerVideo'
import { Button, FIELD, MUTED, Notice, ProblemText } from './ui'

interface StreamPlayerProps {
  /** HLS master playlist. */
  hls: string
  /** DASH MPD of the same segments, once the job is done. */
  dash: string | null
  /** The video's still frame, shown until it plays. */
  poster?: string | null | undefined
  /** WebVTT of the storyboard: a seek bar with previews on hover (once the job is done). */
  storyboard?: string | null | undefined
  /** Start playing once loaded (the user pressed "Play now"). */
  autoPlay?: boolean
  /** Fetch fresh links (before a retry: a link may have expired). */
  onRefresh?: () => Promise<unknown>
}

const FORMAT_LABELS: Record<StreamFormat, string> = { hls: 'HLS', dash: 'DASH' }

/** A menu entry's lang attribute (a screen reader says "Français" in French); none when untagged. */
function langAttribute(language: string): string | undefined {
  return language && language !== 'und' ? language : undefined
}

/**
 * The adaptive stream in Shaka Player: HLS by default, DASH on request, automatic or forced
 * rendition, the audio language and the subtitles (when the stream has a choice), and what plays
 * now. The links are re-signed on every poll: the player reloads only
 * when the stream itself (the URL without its token) or the format changes.
 */
export function StreamPlayer({ hls, dash, poster, storyboard, autoPlay = false, onRefresh }: StreamPlayerProps) {
  const id = useId()
  const video = useRef<HTMLVideoElement>(null)
  const controller = useRef<StreamController | null>(null)
  const [view, setView] = useState<StreamView>(INITIAL_VIEW)
  const [format, setFormat] = useState<StreamFormat>('hls')
  const [attempt, setAttempt] = useState(0)
  const urls = useRef({ hls, dash })
  urls.current = { hls, dash }
  const shouldPlay = useRef(autoPlay)
  /** Where to continue after a format switch or a retry (null: from the start). */
  const resumeAt = useRef<number | null>(null)
  const activeFormat = format === 'dash' && !dash ? 'hls' : format
  const identity = streamIdentity(activeFormat === 'dash' ? dash ?? hls : hls)

  useEffect(() => {
    const element = video.current
    if (!element) return undefined
    const c = new StreamController(element, setView)
    controller.current = c
    return () => {
      controller.current = null
      void c.destroy()
    }
  }, [])

  useEffect(() => {
    const c = controller.current
    const element = video.current
    if (!c || !element) return
    const url = activeFormat === 'dash' ? urls.current.dash ?? urls.current.hls : urls.current.hls
    const start = resumeAt.current
    resumeAt.current = null
    void c.load(url, activeFormat, start).then(() => {
      if (shouldPlay.current && c.view.status === 'ready') {
        shouldPlay.current = false
        element.play().catch(() => undefined) // refused autoplay: the controls are there
      }
    })
  }, [activeFormat, identity, attempt])

  const switchFormat = (next: StreamFormat): void => {
    if (next === activeFormat) return
    const element = video.current
    resumeAt.current = element && element.currentTime > 0 ? element.currentTime : null
    shouldPlay.current = element ? !element.paused : false
    setFormat(next)
  }

  const retry = (): void => {
    const element = video.current
    resumeAt.current = element && element.currentTime > 0 ? element.currentTime : null
    shouldPlay.current = true
    const again = (): void => setAttempt((n) => n + 1)
    if (onRefresh) void onRefresh().then(again, again)
    else again()
  }

  const active = view.active
  const nowText = active ? `${renditionLabel(active)}${view.auto ? ' (auto)' : ''}` : view.status === 'error' ? 'not playing' : 'loading…'
  return (
    <section
      aria-label="Adaptive stream player"
      className="flex flex-col gap-2"
      data-testid="stream-player"
      data-format={activeFormat}
      data-status={view.status}
      data-live={view.live}
      data-abr={view.auto ? 'auto' : 'manual'}
      data-height={active?.height ?? ''}
      data-codec={active?.videoCodec ?? ''}
      data-bandwidth={active ? active.videoBandwidth || active.bandwidth : ''}
      data-error-codes={view.errorCodes.join(',')}
      data-audio-language={view.audio?.language ?? ''}
      data-text-language={view.text?.language ?? ''}
    >
      <PlayerVideo video={video} poster={poster} storyboard={storyboard} />
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2 text-sm">
        {dash && (
          <div role="group" aria-label="Stream format" className="inline-flex rounded-md" data-testid="format-toggle">
            {(['hls', 'dash'] as const).map((f, i) => (
              <Button
                key={f}
                variant={f === activeFormat ? 'primary' : 'secondary'}
                aria-pressed={f === activeFormat}
                onClick={() => switchFormat(f)}
                className={i === 0 ? 'rounded-r-none' : '-ml-px rounded-l-none'}
              >
                {FORMAT_LABELS[f]}
              </Button>
            ))}
          </div>
        )}
        <label className={`flex items-center gap-2 ${MUTED}`} htmlFor={`${id}-quality`}>
          Quality
          <select
            id={`${id}-quality`}
            className={FIELD}
            value={view.auto ? 'auto' : String(active?.id ?? 'auto')}
            disabled={view.status !== 'ready' || view.tracks.length === 0}
            onChange={(e) => controller.current?.select(e.target.value === 'auto' ? 'auto' : Number(e.target.value))}
            data-testid="quality"
          >
            <option value="auto">Auto{view.auto && active ? ` (now ${active.height ?? '?'}p)` : ''}</option>
            {view.tracks.map((t) => <option key={t.id} value={t.id}>{renditionLabel(t)}</option>)}
          </select>
        </label>
        {view.audios.length >= 2 && (
          <label className={`flex items-center gap-2 ${MUTED}`} htmlFor={`${id}-audio`}>
            Audio
            <select
              id={`${id}-audio`}
              className={FIELD}
              value={view.audio?.key ?? view.audios[0]?.key}
              disabled={view.status !== 'ready'}
              onChange={(e) => controller.current?.selectAudio(e.target.value)}
              data-testid="audio-language"
            >
              {view.audios.map((a) => <option key={a.key} value={a.key} lang={langAttribute(a.language)}>{a.text}</option>)}
            </select>
          </label>
        )}
        {view.texts.length > 0 && (
          <label className={`flex items-center gap-2 ${MUTED}`} htmlFor={`${id}-subtitles`}>
            Subtitles
            <select
              id={`${id}-subtitles`}
              className={FIELD}
              value={view.text ? String(view.text.id) : 'off'}
              disabled={view.status !== 'ready'}
              onChange={(e) => controller.current?.selectText(e.target.value === 'off' ? 'off' : Number(e.target.value))}
              data-testid="subtitles"
            >
              <option value="off">Off</option>
              {view.texts.map((t) => <option key={t.id} value={t.id} lang={langAttribute(t.language)}>{t.text}</option>)}
            </select>
          </label>
        )}
        <span className="tabular-nums" data-testid="rendition">
          <span className={MUTED}>Now: </span><span className="font-medium">{nowText}</span>
          {view.buffering && view.status === 'ready' && <span className={MUTED}> · buffering…</span>}
        </span>
      </div>
      {view.live && view.status !== 'error' && (
        <p className={`text-xs ${MUTED}`} data-testid="stream-growing">Playing while it encodes: the stream grows as chunks finish, and becomes the whole video once the job is done.</p>
      )}
      {view.problem && (
        <Notice alert testId="player-error" actions={<Button onClick={retry}>{view.problem.kind === 'expired' || view.problem.kind === 'refused' ? 'Get a fresh link' : 'Try again'}</Button>}>
          <span data-kind={view.problem.kind} data-testid="player-error-text"><ProblemText problem={view.problem} /></span>
        </Notice>
      )}
    </section>
  )
}
