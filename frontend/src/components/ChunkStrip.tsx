import { chunkStrip, countByState, isAudioPart, type StripCell } from '../lib/progress'
import type { PartState, PartStatus } from '../lib/types'

const CELL: Record<PartState, string> = {
  queued: 'bg-slate-300 dark:bg-slate-600',
  running: 'bg-indigo-500 ff-running dark:bg-indigo-400',
  done: 'bg-emerald-500 dark:bg-emerald-400',
  retried: 'bg-amber-500 dark:bg-amber-400',
}

const MEANING: Record<PartState, string> = {
  queued: 'waiting',
  running: 'encoding now',
  done: 'done',
  retried: 'retried after a failure',
}

const ORDER: readonly PartState[] = ['done', 'running', 'queued', 'retried']

function describe(cell: StripCell): string {
  return `${cell.label}: ${MEANING[cell.state]}${cell.attempt > 1 ? ` (attempt ${cell.attempt})` : ''}`
}

/** One cell per chunk (and per audio part): queued, running, done or retried; with its legend. */
export function ChunkStrip({ parts, chunksTotal, fullLegend = false }: {
  parts: Record<string, PartStatus> | undefined
  chunksTotal: number
  /** Every colour in the legend; by default the ones in the strip (and all of them while it runs). */
  fullLegend?: boolean
}) {
  const cells = chunkStrip(parts, chunksTotal)
  if (cells.length === 0) return null
  const counts = countByState(cells)
  const summary = ORDER.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${MEANING[s]}`).join(', ')
  const settled = counts.queued === 0 && counts.running === 0
  const legend = fullLegend || !settled ? ORDER : ORDER.filter((s) => counts[s] > 0)
  return (
    <div className="flex flex-col gap-1">
      <ol className="flex flex-wrap gap-0.5" aria-label={`Chunks: ${summary}`} data-testid="chunk-strip">
        {cells.map((cell) => (
          <li
            key={cell.id}
            title={describe(cell)}
            aria-label={describe(cell)}
            data-state={cell.state}
            className={`h-3 ${isAudioPart(cell.id) ? 'w-6' : 'w-3'} rounded-sm ${CELL[cell.state]}`}
          />
        ))}
      </ol>
      <ul className="flex flex-wrap gap-x-3 gap-y-0.5 text-xs text-slate-600 dark:text-slate-400" aria-label="Chunk colours" data-testid="chunk-legend">
        {legend.map((state) => (
          <li key={state} className="flex items-center gap-1" data-state={state}>
            <span aria-hidden="true" className={`inline-block h-2.5 w-2.5 rounded-sm ${CELL[state].replace(' ff-running', '')}`} />
            {MEANING[state]} <span className="tabular-nums">({counts[state]})</span>
          </li>
        ))}
        {cells.some((c) => isAudioPart(c.id)) && <li className="flex items-center gap-1"><span aria-hidden="true" className="inline-block h-2.5 w-4 rounded-sm border border-slate-400" />wide cell = audio track</li>}
      </ul>
    </div>
  )
}
