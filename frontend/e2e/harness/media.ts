// Input files of the tests: the shared corpus, a generated clip bigger than several parts, junk.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ARTIFACTS, MEDIA, PYTHON, ROOT } from './paths'

export function corpus(name: string): string {
  const path = join(MEDIA, name)
  if (!existsSync(path)) throw new Error(`shared media corpus file missing: ${path}`)
  return path
}

/** $FFMPEG_BINARY, else the static ffmpeg of imageio-ffmpeg in the project's virtualenv. */
function ffmpeg(): string {
  if (process.env.FFMPEG_BINARY) return process.env.FFMPEG_BINARY
  return execFileSync(PYTHON, ['-c', 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())'], { cwd: ROOT })
    .toString().trim()
}

/** A grainy 640x360 clip of ~25 MB (5 parts of 5 MiB), rendered once and kept between runs. */
export function bigClip(minBytes: number): string {
  const dir = join(ARTIFACTS, 'cache')
  const path = join(dir, 'grainy-8s.mp4')
  if (!existsSync(path) || statSync(path).size < minBytes) {
    mkdirSync(dir, { recursive: true })
    // The project's synthetic source (a moving test pattern with temporal grain and a tone),
    // 2 s keyframes like a camera file; called directly so it does not depend on a module path.
    execFileSync(ffmpeg(), [
      '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=8',
      '-f', 'lavfi', '-i', 'sine=frequency=440:beep_factor=4:sample_rate=48000:duration=8',
      '-vf', 'noise=alls=40:allf=t', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-g', '60',
      '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '192k', '-ac', '2', '-movflags', '+faststart', path,
    ], { stdio: 'inherit' })
  }
  const size = statSync(path).size
  if (size < minBytes) throw new Error(`generated clip is ${size} bytes; the test needs more than ${minBytes}`)
  return path
}

/**
 * A short clip for the stream tests: ``seconds`` of 640x360 at 30 fps with a tone, keyframes
 * every 2 s (the segment length), small (a few hundred KB); rendered once and kept between runs.
 */
export function streamClip(seconds = 12, name = `stream-${seconds}s.mp4`): string {
  const dir = join(ARTIFACTS, 'cache')
  const path = join(dir, name)
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true })
    execFileSync(ffmpeg(), [
      '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=30:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=48000:duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-g', '60', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '96k', '-ac', '2', '-movflags', '+faststart', path,
    ], { stdio: 'inherit' })
  }
  return path
}

/** The cues of each subtitle track of ``tracksClip`` ([start, end, text], seconds), by language. */
export const TRACK_CUES: Readonly<Record<'deu' | 'spa', ReadonlyArray<readonly [number, number, string]>>> = {
  deu: [[0, 3, 'Guten Tag'], [3, 6, 'Auf Wiedersehen']],
  spa: [[0, 3, 'Buenos días'], [3, 6, 'Hasta luego']],
}

function srtTime(seconds: number): string {
  const ms = Math.round(seconds * 1000)
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0')
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)},${pad(ms % 1000, 3)}`
}

/**
 * A 6 s 640x360 Matroska clip with two audio tracks, English (440 Hz, the default) and French
 * (880 Hz), and two SRT subtitle tracks, German and Spanish (``TRACK_CUES``); keyframes every 2 s;
 * rendered once and kept between runs.
 */
export function tracksClip(name = 'tracks-6s.mkv'): string {
  const dir = join(ARTIFACTS, 'cache')
  const path = join(dir, name)
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true })
    const srt = (language: 'deu' | 'spa'): string => {
      const file = join(dir, `tracks-${language}.srt`)
      writeFileSync(file, TRACK_CUES[language].map(([a, b, text], i) => `${i + 1}\n${srtTime(a)} --> ${srtTime(b)}\n${text}\n`).join('\n'))
      return file
    }
    execFileSync(ffmpeg(), [
      '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=6',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=6',
      '-f', 'lavfi', '-i', 'sine=frequency=880:sample_rate=48000:duration=6',
      '-i', srt('deu'), '-i', srt('spa'),
      '-map', '0:v', '-map', '1:a', '-map', '2:a', '-map', '3:s', '-map', '4:s',
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-g', '60', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '96k', '-ac', '2', '-c:s', 'srt',
      '-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=fra',
      '-metadata:s:s:0', 'language=deu', '-metadata:s:s:1', 'language=spa',
      '-disposition:a:0', 'default', '-disposition:a:1', '0', '-disposition:s:0', '0', '-disposition:s:1', '0',
      path,
    ], { stdio: 'inherit' })
  }
  return path
}

/** A text file: must be refused before anything is uploaded. */
export function notAVideo(): string {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, 'notes.txt')
  writeFileSync(path, 'not a video\n')
  return path
}

/** An .mp4 that is not a video at all (bytes no demuxer knows): passes the browser, fails the probe. */
export function brokenVideo(): string {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, 'broken.mp4')
  const bytes = Buffer.alloc(64 * 1024)
  let x = 0x2545f491
  for (let i = 0; i < bytes.length; i += 1) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    bytes[i] = x & 0xff
  }
  writeFileSync(path, bytes)
  return path
}
