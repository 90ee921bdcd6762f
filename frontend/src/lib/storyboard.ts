// A job's storyboard: the WebVTT of GET /jobs/{id}'s storyboard_url, one cue per tile, pointing at
// its place in a sprite sheet with a media fragment (``storyboard/v00001-0.jpg#xywh=256,0,256,144``,
// relative to the VTT). The player's seek bar shows the tile of the time under the pointer.

export interface StoryboardTile {
  /** Seconds. */
  start: number
  end: number
  /** The sprite sheet (absolute). */
  url: string
  /** The tile's place in the sheet (pixels); width/height null: the whole image. */
  x: number
  y: number
  width: number | null
  height: number | null
}

const TIMING = /^((?:\d+:)?\d{1,2}:\d{2}(?:\.\d{1,3})?)\s+-->\s+((?:\d+:)?\d{1,2}:\d{2}(?:\.\d{1,3})?)/
const XYWH = /#xywh=(?:pixel:)?(\d+),(\d+),(\d+),(\d+)$/

/** "01:02:03.500" or "02:03.5" → seconds. */
export function vttSeconds(stamp: string): number {
  const parts = stamp.split(':').map(Number)
  return parts.reduce((total, part) => total * 60 + part, 0)
}

/** The tiles of a storyboard WebVTT, by start time; cues that are not tiles are skipped. */
export function parseStoryboard(vtt: string, baseUrl: string): StoryboardTile[] {
  const text = vtt.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
  if (!text.startsWith('WEBVTT')) return []
  const tiles: StoryboardTile[] = []
  for (const block of text.split(/\n{2,}/)) {
    const lines = block.split('\n').map((l) => l.trim()).filter(Boolean)
    const at = lines.findIndex((l) => TIMING.test(l))
    const timing = at >= 0 ? TIMING.exec(lines[at] ?? '') : null
    const payload = lines[at + 1]
    if (!timing || !payload) continue
    const fragment = XYWH.exec(payload)
    let url: string
    try {
      url = new URL(fragment ? payload.slice(0, fragment.index) : payload.replace(/#.*$/, ''), baseUrl).href
    } catch {
      continue
    }
    tiles.push({
      start: vttSeconds(timing[1] ?? ''),
      end: vttSeconds(timing[2] ?? ''),
      url,
      x: fragment ? Number(fragment[1]) : 0,
      y: fragment ? Number(fragment[2]) : 0,
      width: fragment ? Number(fragment[3]) : null,
      height: fragment ? Number(fragment[4]) : null,
    })
  }
  return tiles.sort((a, b) => a.start - b.start)
}

/** The tile shown at ``seconds``: the last one starting at or before it (the first before any). */
export function tileAt(tiles: readonly StoryboardTile[], seconds: number): StoryboardTile | null {
  if (tiles.length === 0 || !Number.isFinite(seconds)) return null
  let lo = 0
  let hi = tiles.length - 1
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if ((tiles[mid]?.start ?? 0) <= seconds) lo = mid
    else hi = mid - 1
  }
  return tiles[lo] ?? null
}

/** The time under the pointer at ``clientX`` over a bar from ``left`` of ``width`` pixels. */
export function timeAtPointer(clientX: number, left: number, width: number, duration: number): number {
  if (!(width > 0) || !Number.isFinite(duration) || duration <= 0) return 0
  return Math.min(duration, Math.max(0, ((clientX - left) / width) * duration))
}

/** Where the tile box goes over the bar: centred on the pointer, never past either end. */
export function tileLeft(pointerX: number, tileWidth: number, barWidth: number): number {
  return Math.max(0, Math.min(barWidth - tileWidth, pointerX - tileWidth / 2))
}

/** The CSS of a box showing ``tile`` (its sheet as the background, moved to the tile). */
export function tileStyle(tile: StoryboardTile): { backgroundImage: string; backgroundPosition: string; width?: string; height?: string } {
  return {
    backgroundImage: `url(${JSON.stringify(tile.url)})`,
    backgroundPosition: `${-tile.x}px ${-tile.y}px`,
    ...(tile.width !== null ? { width: `${tile.width}px` } : {}),
    ...(tile.height !== null ? { height: `${tile.height}px` } : {}),
  }
}
