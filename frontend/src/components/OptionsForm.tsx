import { useId, useState } from 'react'
import {
  choiceProblem, clampSegmentSeconds, CODEC_LABELS, DEFAULT_CHOICE, formatLadder, LOUDNESS_TARGETS, makesStream, OUTPUT_LABELS,
  parseLadder, REQUIRED_CODEC, SEGMENT_SECONDS_RANGE, type EncodeChoice,
} from '../lib/streamOptions'
import { STREAM_OUTPUTS, VIDEO_CODECS } from '../lib/types'
import { FIELD as BASE_FIELD, MUTED } from './ui'

export { DEFAULT_CHOICE } from '../lib/streamOptions'
const HEIGHTS = [2160, 1440, 1080, 720, 480, 360] as const
const FIELD = `w-full ${BASE_FIELD}`
const CHECK = 'h-4 w-4 accent-indigo-600'

interface OptionsFormProps {
  value: EncodeChoice
  /** The new choice, and why it cannot be used as it is (null: it can). */
  onChange: (choice: EncodeChoice, problem: string | null) => void
}

function toggle<T>(list: readonly T[], item: T, on: boolean): T[] {
  return on ? [...list.filter((x) => x !== item), item] : list.filter((x) => x !== item)
}

/** Encoding options applied to the files added next. */
export function OptionsForm({ value, onChange }: OptionsFormProps) {
  const id = useId()
  const [ladderText, setLadderText] = useState(() => formatLadder(value.ladder))
  const [ladderProblem, setLadderProblem] = useState<string | null>(null)
  const stream = makesStream(value.outputs)

  /** Report ``next`` with the ladder as typed (re-read: it depends on the max height). */
  const update = (next: EncodeChoice, text: string = ladderText): void => {
    const parsed = parseLadder(text, next.max_height)
    const problem = parsed.ok ? null : parsed.problem
    setLadderProblem(problem)
    const choice = parsed.ok ? { ...next, ladder: parsed.ladder } : next
    onChange(choice, choiceProblem(choice) ?? (makesStream(choice.outputs) ? problem : null))
  }
  const problem = choiceProblem(value) ?? (stream ? ladderProblem : null)
  const hevc = value.codecs.includes('hevc') && stream

  return (
    <fieldset className="grid grid-cols-3 gap-2" data-testid="options">
      <legend className="mb-1 text-sm font-medium">Options for the next uploads</legend>
      <label className={`flex flex-col gap-1 text-xs ${MUTED}`} htmlFor={`${id}-preset`}>
        Preset
        <select id={`${id}-preset`} className={FIELD} value={value.preset} onChange={(e) => update({ ...value, preset: e.target.value })}>
          <option value="web">web</option>
        </select>
      </label>
      <label className={`flex flex-col gap-1 text-xs ${MUTED}`} htmlFor={`${id}-height`}>
        Max height
        <select id={`${id}-height`} className={FIELD} value={value.max_height} onChange={(e) => update({ ...value, max_height: Number(e.target.value) })}>
          {HEIGHTS.map((h) => <option key={h} value={h}>{h}p</option>)}
        </select>
      </label>
      <label className={`flex flex-col gap-1 text-xs ${MUTED}`} htmlFor={`${id}-crf`}>
        Quality (CRF)
        <input
          id={`${id}-crf`}
          type="number"
          min={0}
          max={51}
          step={1}
          className={FIELD}
          value={value.crf}
          onChange={(e) => update({ ...value, crf: clampCrf(e.target.valueAsNumber) })}
        />
      </label>

      <div role="group" aria-labelledby={`${id}-outputs`} className="col-span-3 flex flex-wrap items-center gap-x-3 gap-y-1 text-sm" data-testid="outputs">
        <span id={`${id}-outputs`} className={`w-full text-xs ${MUTED} sm:w-auto`}>Outputs</span>
        {STREAM_OUTPUTS.map((output) => (
          <label key={output} className="inline-flex items-center gap-1.5">
            <input
              type="checkbox"
              className={CHECK}
              checked={value.outputs.includes(output)}
              onChange={(e) => update({ ...value, outputs: toggle(value.outputs, output, e.target.checked) })}
              data-output={output}
            />
            {OUTPUT_LABELS[output]}
          </label>
        ))}
      </div>

      <div role="group" aria-labelledby={`${id}-codecs`} aria-describedby={`${id}-codec-note`} className="col-span-3 flex flex-wrap items-center gap-x-3 gap-y-1 text-sm" data-testid="codecs">
        <span id={`${id}-codecs`} className={`w-full text-xs ${MUTED} sm:w-auto`}>Stream codecs</span>
        {VIDEO_CODECS.map((codec) => (
          <label key={codec} className={`inline-flex items-center gap-1.5 ${stream ? '' : 'opacity-60'}`}>
            <input
              type="checkbox"
              className={CHECK}
              checked={value.codecs.includes(codec) || codec === REQUIRED_CODEC}
              disabled={!stream || codec === REQUIRED_CODEC}
              onChange={(e) => update({ ...value, codecs: toggle(value.codecs, codec, e.target.checked) })}
              data-codec={codec}
            />
            {CODEC_LABELS[codec]}{codec === REQUIRED_CODEC && <span className="sr-only"> (always included)</span>}
          </label>
        ))}
        <p id={`${id}-codec-note`} className={`w-full text-xs ${hevc ? 'font-medium text-amber-800 dark:text-amber-300' : MUTED}`} data-testid="codec-note">
          H.264 is always in and plays everywhere. HEVC may not play in every browser (it needs the device's hardware decoder); AV1 needs a recent browser.
        </p>
      </div>

      <label className={`flex flex-col gap-1 text-xs ${MUTED}`} htmlFor={`${id}-segment`}>
        Segment length (s)
        <input
          id={`${id}-segment`}
          type="number"
          min={SEGMENT_SECONDS_RANGE[0]}
          max={SEGMENT_SECONDS_RANGE[1]}
          step={1}
          className={FIELD}
          disabled={!stream}
          value={value.segment_seconds}
          onChange={(e) => update({ ...value, segment_seconds: clampSegmentSeconds(e.target.valueAsNumber) })}
        />
      </label>
      <label className={`col-span-2 flex flex-col gap-1 text-xs ${MUTED}`} htmlFor={`${id}-ladder`}>
        Ladder (auto, or heights)
        <input
          id={`${id}-ladder`}
          type="text"
          inputMode="text"
          autoComplete="off"
          spellCheck={false}
          placeholder="auto, or e.g. 720, 480, 360"
          className={FIELD}
          disabled={!stream}
          value={ladderText}
          aria-invalid={stream && ladderProblem !== null}
          aria-describedby={problem ? `${id}-problem` : undefined}
          onChange={(e) => {
            setLadderText(e.target.value)
            update(value, e.target.value)
          }}
        />
      </label>
      <label className={`flex flex-col gap-1 text-xs ${MUTED}`} htmlFor={`${id}-loudness`}>
        Loudness
        <select
          id={`${id}-loudness`}
          className={FIELD}
          value={String(value.loudness ?? 'off')}
          onChange={(e) => update({ ...value, loudness: e.target.value === 'off' ? 'off' : Number(e.target.value) })}
        >
          <option value="off">as the source</option>
          {LOUDNESS_TARGETS.map(([lufs, use]) => <option key={lufs} value={lufs}>{lufs} LUFS ({use})</option>)}
        </select>
      </label>
      {problem && <p id={`${id}-problem`} role="alert" className="col-span-3 text-xs font-medium text-red-700 dark:text-red-300" data-testid="options-problem">{problem}</p>}
      <p className={`col-span-3 hidden text-xs sm:block ${MUTED}`}>web: an MP4 (H.264 + AAC) and an adaptive stream with one rendition per ladder height and codec. Lower CRF = better quality, bigger file (18–28 is typical).</p>
    </fieldset>
  )
}

export function clampCrf(value: number): number {
  return Number.isFinite(value) ? Math.min(51, Math.max(0, Math.round(value))) : DEFAULT_CHOICE.crf
}
