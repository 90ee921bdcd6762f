// Test fixtures shared by the unit tests (not bundled: only *.test.ts import it).
import type { Job, JobState } from './types'

export function makeJob(id: string, state: JobState, extra: Partial<Job> = {}): Job {
  return {
    job_id: id,
    state,
    filename: `${id}.mp4`,
    size: 1000,
    options: { preset: 'web', crf: 23, max_height: 1080 },
    created_at: 1_700_000_000,
    updated_at: 1_700_000_001,
    progress: { chunks_done: 0, chunks_total: 0, audio: null, percent: 0 },
    timings: {},
    probe: null,
    error: null,
    output: null,
    ...extra,
  }
}
