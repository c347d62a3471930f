import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * A process's start time as an opaque string, so a reused PID is never mistaken for our process.
 * Linux: field 22 of /proc/<pid>/stat (clock ticks since boot). Elsewhere: `ps -o lstart=`.
 */
/**
 * Linux: the fields of /proc/<pid>/stat after the command name (state first, then the parent PID, ...), or null
 * for a process that is gone or a zombie.
 */
export function procStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parens: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[0] === 'Z' || rest[0] === 'X' ? null : rest;
  } catch {
    return null;
  }
}

export function processStartTime(pid: number): string | null {
  if (process.platform === 'linux') return procStat(pid)?.[19] ?? null;
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim() || null;
  } catch {
    return null;
  }
}

/** Alive means: a process with this PID exists and it started when ours did. */
export function isSameProcessAlive(pid: number | null, startTime: string | null): boolean {
  if (pid === null || startTime === null) return false;
  return processStartTime(pid) === startTime;
}

export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
