import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

/** The repository root (frontend/e2e/harness → ../../..). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
/** The shared media corpus: ../shared/media from the repo root. */
export const MEDIA = join(ROOT, '..', 'shared', 'media')
/** Screenshots, logs and generated files of a run (gitignored). */
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e')
export const PYTHON = process.env.FRAMEFLEET_PYTHON ?? join(ROOT, '.venv', 'bin', 'python')
/** The `framefleet` console script of the project's virtualenv. */
export const FRAMEFLEET_BIN = process.env.FRAMEFLEET_BIN ?? join(ROOT, '.venv', 'bin', 'framefleet')
