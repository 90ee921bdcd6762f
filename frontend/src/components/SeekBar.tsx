import { useEffect, useRef, useState, type KeyboardEvent, type PointerEvent, type RefObject } from 'react'
import { formatClock } from '../lib/format'
import { parseStoryboard, tileAt, tileLeft, tileStyle, timeAtPointer, type StoryboardTile } from '../lib/storyboard'

/** The playhead and the duration of ``video``, kept current. */
function useVideoTime(video: RefObject<HTMLVideoElement | null>): { time: number; duration: number } {
  const [state, setState] = useState({ time: 0, duration: Number.NaN })
  useEffect(() => {
    const element = video.current
    if (!element) return undefined
    const update = (): void => setState({ time: element.currentTime, duration: element.duration })
    const events = ['timeupdate', 'durationchange', 'loadedmetadata', 'seeking', 'seeked', 'emptied']
    for (const type of events) element.addEventListener(type, update)
    update()
    return () => { for (const type of events) element.removeEventListener(type, update) }
  }, [video])
  return state
}

/** The storyboard's tiles (none until its WebVTT arrived, or when it cannot be read). */
function useStoryboard(url: string | null): StoryboardTile[] {
  const [tiles, setTiles] = useState<StoryboardTile[]>([])
  useEffect(() => {
    setTiles([])
    if (!url) return undefined
    const controller = new AbortController()
    fetch(url, { signal: controller.signal })
      .then((resp) => (resp.ok ? resp.text() : ''))
      .then((text) => setTiles(parseStoryboard(text, url)))
      .catch(() => undefined) // no previews; seeking still works
    return () => controller.abort()
  }, [url])
  return tiles
}

const KEY_STEP_SECONDS = 5

/**
 * A seek bar under the player that previews the video: hovering it shows the storyboard tile of
 * the time under the pointer. The arrow keys move 5 s, Page Up/Down a tenth, Home/End to the ends.
 */
export function SeekBar({ video, storyboardUrl }: { video: RefObject<HTMLVideoElement | null>; storyboardUrl: string | null }) {
  const { time, duration } = useVideoTime(video)
  const tiles = useStoryboard(storyboardUrl)
  const bar = useRef<HTMLDivElement>(null)
  const [hover, setHover] = useState<{ x: number; time: number; width: number } | null>(null)
  const known = Number.isFinite(duration) && duration > 0

  const seek = (seconds: number): void => {
    const element = video.current
    if (element && known) element.currentTime = Math.min(duration, Math.max(0, seconds))
  }
  const onPointer = (event: PointerEvent<HTMLInputElement>): void => {
    const rect = bar.current?.getBoundingClientRect()
    if (!rect || !known) return
    setHover({ x: event.clientX - rect.left, time: timeAtPointer(event.clientX, rect.left, rect.width, duration), width: rect.width })
  }
  const onKey = (event: KeyboardEvent<HTMLInputElement>): void => {
    const moves: Record<string, number> = {
      ArrowLeft: time - KEY_STEP_SECONDS, ArrowDown: time - KEY_STEP_SECONDS,
      ArrowRight: time + KEY_STEP_SECONDS, ArrowUp: time + KEY_STEP_SECONDS,
      PageDown: time - duration / 10, PageUp: time + duration / 10, Home: 0, End: duration,
    }
    const target = moves[event.key]
    if (target === undefined || !known) return
    event.preventDefault()
    seek(target)
  }

  const tile = hover ? tileAt(tiles, hover.time) : null
  const style = tile ? tileStyle(tile) : null
  const tileWidth = tile?.width ?? 160
  return (
    <div ref={bar} className="relative" data-testid="seek-bar" data-tiles={tiles.length}>
      {hover && tile && style && (
        <div
          aria-hidden="true"
          data-testid="storyboard-tile"
          data-time={hover.time.toFixed(2)}
          className="pointer-events-none absolute bottom-full z-10 mb-2 overflow-hidden rounded bg-slate-800 bg-no-repeat shadow-lg ring-2 ring-white dark:ring-slate-300"
          style={{ ...style, left: `${tileLeft(hover.x, tileWidth, hover.width)}px`, ...(tile.width === null ? { width: '160px', height: '90px', backgroundSize: 'cover' } : {}) }}
        >
          <span className="absolute bottom-1 left-1/2 -translate-x-1/2 rounded bg-black/75 px-1.5 text-xs font-medium text-white tabular-nums">{formatClock(hover.time)}</span>
        </div>
      )}
      <input
        type="range"
        aria-label="Seek (hover for previews)"
        aria-valuetext={known ? `${formatClock(time)} of ${formatClock(duration)}` : 'not loaded yet'}
        min={0}
        max={known ? duration : 0}
        step="any"
        value={known ? Math.min(time, duration) : 0}
        disabled={!known}
        onChange={(e) => seek(Number(e.target.value))}
        onKeyDown={onKey}
        onPointerMove={onPointer}
        onPointerEnter={onPointer}
        onPointerLeave={() => setHover(null)}
        className="block h-6 w-full cursor-pointer accent-indigo-600 disabled:cursor-default dark:accent-indigo-400"
        data-testid="seek"
      />
    </div>
  )
}
