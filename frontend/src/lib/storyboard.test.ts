import { describe, expect, it } from 'vitest'
import { parseStoryboard, tileAt, tileLeft, tileStyle, timeAtPointer, vttSeconds } from './storyboard'

const BASE = 'http://127.0.0.1:8000/play/1796181000.abcdefghijklmnop/job1/storyboard.vtt'
// As the assembler writes it (workers/media/images.py storyboard_vtt), with a CRLF and a NOTE.
const VTT = [
  'WEBVTT', '',
  'NOTE tiles every second', '',
  '00:00:00.000 --> 00:00:01.000', 'storyboard/v00000-0.jpg#xywh=0,0,256,144', '',
  '00:00:01.000 --> 00:00:02.000', 'storyboard/v00000-0.jpg#xywh=256,0,256,144', '',
  'tile-3', '00:00:02.000 --> 00:00:03.500 align:start', 'storyboard/v00001-0.jpg#xywh=pixel:0,144,256,144', '',
  '01:03.5 --> 01:04.000', 'https://cdn.example/whole.jpg', '',
].join('\r\n')

describe('storyboard WebVTT', () => {
  it('reads every tile: times, sheet URL resolved against the VTT, and its #xywh', () => {
    const tiles = parseStoryboard(VTT, BASE)
    expect(tiles).toEqual([
      { start: 0, end: 1, url: 'http://127.0.0.1:8000/play/1796181000.abcdefghijklmnop/job1/storyboard/v00000-0.jpg', x: 0, y: 0, width: 256, height: 144 },
      { start: 1, end: 2, url: 'http://127.0.0.1:8000/play/1796181000.abcdefghijklmnop/job1/storyboard/v00000-0.jpg', x: 256, y: 0, width: 256, height: 144 },
      { start: 2, end: 3.5, url: 'http://127.0.0.1:8000/play/1796181000.abcdefghijklmnop/job1/storyboard/v00001-0.jpg', x: 0, y: 144, width: 256, height: 144 },
      { start: 63.5, end: 64, url: 'https://cdn.example/whole.jpg', x: 0, y: 0, width: null, height: null },
    ])
  })

  it('is empty for anything that is not a WebVTT', () => {
    expect(parseStoryboard('<html>not found</html>', BASE)).toEqual([])
    expect(parseStoryboard('WEBVTT\n\nno timing here\n', BASE)).toEqual([])
  })

  it('converts cue stamps with and without hours', () => {
    expect(vttSeconds('01:02:03.250')).toBeCloseTo(3723.25)
    expect(vttSeconds('02:03.5')).toBeCloseTo(123.5)
  })

  it('finds the tile of any time (the last one starting at or before it)', () => {
    const tiles = parseStoryboard(VTT, BASE)
    expect(tileAt(tiles, 0)?.x).toBe(0)
    expect(tileAt(tiles, 1.5)?.x).toBe(256)
    expect(tileAt(tiles, 2)?.y).toBe(144)
    expect(tileAt(tiles, 40)?.y).toBe(144) // a gap: the previous tile
    expect(tileAt(tiles, 999)?.url).toBe('https://cdn.example/whole.jpg')
    expect(tileAt(tiles, -1)?.start).toBe(0)
    expect(tileAt([], 3)).toBeNull()
    expect(tileAt(tiles, Number.NaN)).toBeNull()
  })

  it('maps the pointer to a time, and keeps the tile box over the bar', () => {
    expect(timeAtPointer(150, 100, 400, 12)).toBeCloseTo(1.5)
    expect(timeAtPointer(50, 100, 400, 12)).toBe(0)
    expect(timeAtPointer(900, 100, 400, 12)).toBe(12)
    expect(timeAtPointer(150, 100, 0, 12)).toBe(0)
    expect(timeAtPointer(150, 100, 400, Number.NaN)).toBe(0)
    expect(tileLeft(200, 256, 800)).toBe(72)
    expect(tileLeft(10, 256, 800)).toBe(0)
    expect(tileLeft(790, 256, 800)).toBe(544)
  })

  it('styles a box as the tile: the sheet moved to the tile, at its size', () => {
    const [first, second] = parseStoryboard(VTT, BASE)
    expect(second && tileStyle(second)).toEqual({
      backgroundImage: 'url("http://127.0.0.1:8000/play/1796181000.abcdefghijklmnop/job1/storyboard/v00000-0.jpg")',
      backgroundPosition: '-256px 0px', width: '256px', height: '144px',
    })
    expect(first && tileStyle(first).backgroundPosition).toBe('0px 0px')
  })
})
