// The real local stack, started exactly as a user does: `framefleet up` (Valkey, moto S3+SQS,
// the Chalice API serving frontend/dist, the event pump, 2 processors, 1 assembler).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { ARTIFACTS, FRAMEFLEET_BIN, ROOT } from './paths'

export interface RunningStack {
  url: string
  home: string
  stop: () => Promise<void>
  /** SIGSTOP this stack's workers of ``role``; the returned function resumes them (SIGCONT). */
  pause: (role: 'processor' | 'assembler') => () => void
}

export const MIB = 1024 * 1024

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** Start `framefleet up` with a small multipart part size; resolves once the API answers. */
export async function startStack(partSize = 5 * MIB, settings: Record<string, string> = {}): Promise<RunningStack> {
  const home = join(ARTIFACTS, 'stack')
  rmSync(home, { recursive: true, force: true }) // a fresh Valkey (its AOF would keep old jobs)
  mkdirSync(home, { recursive: true })
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FRAMEFLEET_PART_SIZE: String(partSize),
    FRAMEFLEET_LEASE_SECONDS: '10',
    LOG_LEVEL: 'WARNING',
    POWERTOOLS_LOG_LEVEL: 'WARNING',
    ...settings,
  }
  delete env.REDIS_URL
  // The console script (not a module path): it stays valid however the Python packages are laid out.
  const child = spawn(FRAMEFLEET_BIN, ['up', '--workers', '2', '--port', String(port), '--home', home], {
    cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`framefleet up exited ${child.exitCode}:\n${output}`)
    if (output.includes('framefleet is up')) break
    if (Date.now() > deadline) throw new Error(`framefleet up did not start in 60 s:\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  const stop = async (): Promise<void> => {
    if (child.pid === undefined) return
    try {
      process.kill(-child.pid, 'SIGTERM') // its own process group: `up` stops its children in order
    } catch {
      return
    }
    if (!(await exited(child, 20_000))) process.kill(-child.pid, 'SIGKILL')
  }
  const pause = (role: 'processor' | 'assembler'): (() => void) => {
    // `up`'s own children (each in its own session, so not in the group above).
    const listing = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)]).toString()
    const pids = listing.split('\n').filter((line) => line.includes(`--role ${role}`)).map((line) => Number(line.trim().split(/\s+/)[0]))
    if (pids.length === 0) throw new Error(`no ${role} among the stack's processes:\n${listing}`)
    for (const pid of pids) process.kill(pid, 'SIGSTOP')
    return () => { for (const pid of pids) process.kill(pid, 'SIGCONT') }
  }
  return { url, home, stop, pause }
}
