import { useId } from 'react'
import type { EncodeChoice } from '../lib/uploader'
import { FIELD as BASE_FIELD, MUTED } from './ui'

export const DEFAULT_CHOICE: EncodeChoice = { preset: 'web', max_height: 1080, crf: 23 }
const HEIGHTS = [2160, 1440, 1080, 720, 480, 360] as const
const FIELD = `w-full ${BASE_FIELD}`

/** Encoding options applied to the files added next. */
export function OptionsForm({ value, onChange }: { value: EncodeChoice; onChange: (choice: EncodeChoice) => void }) {
  const id = useId()
  return (
    <fieldset className="grid grid-cols-3 gap-2" data-testid="options">
      <legend className="mb-1 text-sm font-medium">Options for the next uploads</legend>
      <label className={`flex flex-col gap-1 text-xs ${MUTED}`} htmlFor={`${id}-preset`}>
        Preset
        <select id={`${id}-preset`} className={FIELD} value={value.preset} onChange={(e) => onChange({ ...value, preset: e.target.value })}>
          <option value="web">web</option>
        </select>
      </label>
      <label className={`flex flex-col gap-1 text-xs ${MUTED}`} htmlFor={`${id}-height`}>
        Max height
        <select id={`${id}-height`} className={FIELD} value={value.max_height} onChange={(e) => onChange({ ...value, max_height: Number(e.target.value) })}>
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
          onChange={(e) => onChange({ ...value, crf: clampCrf(e.target.valueAsNumber) })}
        />
      </label>
      <p className={`col-span-3 hidden text-xs sm:block ${MUTED}`}>web: H.264 + AAC in an MP4 that plays everywhere. Lower CRF = better quality, bigger file (18–28 is typical).</p>
    </fieldset>
  )
}

export function clampCrf(value: number): number {
  return Number.isFinite(value) ? Math.min(51, Math.max(0, Math.round(value))) : DEFAULT_CHOICE.crf
}
