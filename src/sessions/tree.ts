/**
 * Every process a session started, even one that left with `setsid` and was reparented to PID 1: each
 * session's processes inherit a marker in their environment (SWARM_SESSION_KEY), and on Linux /proc shows
 * it. A process that scrubs its own environment is still found while its parent chain leads to the agent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isSameProcessAlive, procStat, processStartTime, signalProcess } from './process.js';

export const SESSION_KEY_VAR = 'SWARM_SESSION_KEY';

function parentOf(pid: number): number | null {
  const fields = procStat(pid);
  return fields ? Number(fields[1]) : null;
}

function hasMarker(pid: number, needle: Buffer): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`).includes(needle);
  } catch {
    return false;
  }
}

/** Pure: the pids whose parent chain (in `parents`) reaches one of `roots`. */
export function descendants(parents: ReadonlyMap<number, number>, roots: readonly number[]): number[] {
  const wanted = new Set(roots);
  const out: number[] = [];
  for (const pid of parents.keys()) {
    let cursor: number | undefined = pid;
    for (let hops = 0; cursor !== undefined && cursor > 1 && hops < 64; hops++) {
      if (wanted.has(cursor)) {
        if (!wanted.has(pid)) out.push(pid);
        break;
      }
      cursor = parents.get(cursor);
    }
  }
  return out;
}

/** The live processes of a session: marked with its key, or descended from `roots`. Linux only; elsewhere []. */
export function sessionProcesses(key: string, roots: readonly number[] = []): number[] {
  if (process.platform !== 'linux') return [];
  const needle = Buffer.from(`${SESSION_KEY_VAR}=${key}\0`);
  const parents = new Map<number, number>();
  const marked: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const parent = parentOf(pid);
    if (parent === null) continue;
    parents.set(pid, parent);
    if (hasMarker(pid, needle)) marked.push(pid);
  }
  return [...new Set([...marked, ...descendants(parents, [...roots, ...marked])])].filter((pid) => pid !== process.pid);
}

/** Signals every process of the session; returns those it signalled. */
export function signalSession(key: string, signal: NodeJS.Signals, roots: readonly number[] = []): number[] {
  const pids = sessionProcesses(key, roots);
  for (const pid of pids) signalProcess(pid, signal);
  return pids;
}

/** TERM, a grace period, then KILL; resolves with what is still alive after that (normally nothing). */
export async function killSessionTree(key: string, roots: readonly number[] = [], graceMs = 3_000): Promise<number[]> {
  const first = signalSession(key, 'SIGTERM', roots);
  if (first.length === 0) return [];
  const starts = new Map(first.map((pid) => [pid, processStartTime(pid)]));
  const deadline = Date.now() + graceMs;
  const alive = (): number[] => [...starts].filter(([pid, start]) => isSameProcessAlive(pid, start)).map(([pid]) => pid);
  while (Date.now() < deadline && alive().length > 0) await new Promise((r) => setTimeout(r, 50));
  for (const pid of alive()) signalProcess(pid, 'SIGKILL');
  signalSession(key, 'SIGKILL', roots);
  const killDeadline = Date.now() + 2_000;
  while (Date.now() < killDeadline && alive().length > 0) await new Promise((r) => setTimeout(r, 50));
  return alive();
}
