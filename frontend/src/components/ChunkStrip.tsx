import { chunkStrip, countByState, type StripCell } from '../lib/progress'
import type { PartState, PartStatus } from '../lib/types'

const CELL: Record<PartState, string> = {
  queued: 'bg-slate-200',
  running: 'bg-indigo-500 ff-running',
  done: 'bg-emerald-500',
  retried: 'bg-amber-500',
}

function describe(cell: StripCell): string {
  return `${cell.label}: ${cell.state}${cell.attempt > 1 ? ` (attempt ${cell.attempt})` : ''}`
}

/** One cell per chunk (and the audio track): queued, running, done or retried. */
export function ChunkStrip({ parts, chunksTotal }: { parts: Record<string, PartStatus> | undefined; chunksTotal: number }) {
  const cells = chunkStrip(parts, chunksTotal)
  if (cells.length === 0) return null
  const counts = countByState(cells)
  const summary = (Object.keys(counts) as PartState[]).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`).join(', ')
  return (
    <div className="flex flex-col gap-1">
      <ol className="flex flex-wrap gap-0.5" aria-label={`Chunks: ${summary}`} data-testid="chunk-strip">
        {cells.map((cell) => (
          <li
            key={cell.id}
            title={describe(cell)}
            aria-label={describe(cell)}
            data-state={cell.state}
            className={`h-3 ${cell.id === 'audio' ? 'w-6' : 'w-3'} rounded-sm ${CELL[cell.state]}`}
          />
        ))}
      </ol>
      <p className="text-xs text-slate-500">{summary}</p>
    </div>
  )
}
