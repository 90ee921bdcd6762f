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

/** A grainy 640x360 clip of ~25 MB (5 parts of 5 MiB), rendered once and kept between runs. */
export function bigClip(minBytes: number): string {
  const dir = join(ARTIFACTS, 'cache')
  const path = join(dir, 'grainy-8s.mp4')
  if (!existsSync(path) || statSync(path).size < minBytes) {
    mkdirSync(dir, { recursive: true })
    execFileSync(PYTHON, ['-c',
      'import sys; from chalicelib.testsrc import make_synthetic_clip as m; m(sys.argv[1], 8, width=640, height=360, grain=40)',
      path], { cwd: ROOT, stdio: 'inherit' })
  }
  const size = statSync(path).size
  if (size < minBytes) throw new Error(`generated clip is ${size} bytes; the test needs more than ${minBytes}`)
  return path
}

/** A text file: must be refused before anything is uploaded. */
export function notAVideo(): string {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, 'notes.txt')
  writeFileSync(path, 'not a video\n')
  return path
}
