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
