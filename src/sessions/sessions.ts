import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { DIST } from '../install.js';
import { waitFor } from '../wait.js';
import { isSameProcessAlive, signalProcess } from './process.js';
import { killSessionTree, SESSION_KEY_VAR, sessionProcesses, signalSession } from './tree.js';
import type { SpareHolder } from './spare.js';
import { HolderMessage, jsonLines, SESSION_FILES, SessionExit, SessionSpec, SessionState, type ClientMessage } from './protocol.js';

/**
 * The holder as one bundled CommonJS file (`npm run build:holder`): one process per live agent, so what it
 * loads is paid twenty times over. The bundle carries only the zod it uses (zod/mini) and starts without
 * resolving modules: 11.3 MB PSS per holder with 20 live instead of 18.6, started in 81 ms instead of 177.
 */
const BUNDLED_HOLDER = join(DIST, 'holder', 'holder.cjs');
export const HOLDER_SCRIPT = existsSync(BUNDLED_HOLDER) ? BUNDLED_HOLDER : join(DIST, 'src', 'sessions', 'holder.js');

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A session folder nobody used before: a name taken (by a task of a lost database) gets a random suffix, so a stale exit.json is never read as ours. */
export function freshSessionDir(sessionsDir: string, base: string): { sessionId: string; dir: string } {
  let sessionId = base;
  while (existsSync(join(sessionsDir, sessionId))) sessionId = `${base}-${randomBytes(3).toString('hex')}`;
  return { sessionId, dir: join(sessionsDir, sessionId) };
}

export function readSessionState(dir: string): SessionState | null {
  const parsed = SessionState.safeParse(readJson(join(dir, SESSION_FILES.state)));
  return parsed.success ? parsed.data : null;
}

export function readSessionExit(dir: string): SessionExit | null {
  const parsed = SessionExit.safeParse(readJson(join(dir, SESSION_FILES.exit)));
  return parsed.success ? parsed.data : null;
}

function spawnHolder(dir: string): void {
  const logFd = openSync(join(dir, SESSION_FILES.holderLog), 'a');
  try {
    const holder = spawn(process.execPath, [HOLDER_SCRIPT, dir], { detached: true, stdio: ['ignore', logFd, logFd], cwd: dir });
    holder.unref();
  } finally {
    closeSync(logFd);
  }
}

/**
 * Starts a detached holder process that owns the pseudo-terminal, and returns once the child runs.
 * The holder is in its own process group and session, so killing the daemon does not touch it.
 * With a spare holder (spare.ts) waiting, it is handed the session instead of a new one being started.
 */
export async function startSession(dir: string, input: Omit<SessionSpec, 'key' | 'transcript_max_bytes'> & { transcript_max_bytes?: number }, spares?: SpareHolder): Promise<SessionState> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Unique across database resets and machines: a session's processes are found by it, never another's.
  const key = `${basename(dir)}-${randomBytes(8).toString('hex')}`;
  const spec: SessionSpec = { transcript_max_bytes: 64 * 1024 * 1024, ...input, key, env: { ...input.env, [SESSION_KEY_VAR]: key } };
  writeFileSync(join(dir, SESSION_FILES.spec), JSON.stringify(spec), { mode: 0o600 });
  let handed = spares?.handOver(dir) ?? null;
  if (!handed) spawnHolder(dir);
  return waitFor(
    () => {
      const state = readSessionState(dir);
      if (state) return state;
      const exit = readSessionExit(dir);
      if (exit) throw new Error(`session could not start: ${exit.error ?? `exit code ${String(exit.exit_code)}`}`);
      // A spare that died before it started anything (no process carries the session's key): a holder of our own.
      if (handed && (handed.child.exitCode !== null || handed.child.signalCode !== null) && sessionProcesses(key).length === 0) {
        handed = null;
        spawnHolder(dir);
      }
      return undefined;
    },
    // Polled: a read of a missing file is a few microseconds, and a ready session is not kept waiting 20 ms.
    { timeoutMs: 15_000, intervalMs: 5, what: `session holder in ${dir}` },
  );
}

export type Liveness = { kind: 'running'; state: SessionState } | { kind: 'exited'; exit: SessionExit } | { kind: 'lost' } | { kind: 'starting' };

/** Exited (exit.json), running (holder PID alive with the same start time), or lost (holder died without a word). */
export function sessionLiveness(dir: string): Liveness {
  const exit = readSessionExit(dir);
  if (exit) return { kind: 'exited', exit };
  const state = readSessionState(dir);
  if (!state) return existsSync(join(dir, SESSION_FILES.spec)) ? { kind: 'starting' } : { kind: 'lost' };
  if (isSameProcessAlive(state.holder_pid, state.holder_start)) return { kind: 'running', state };
  // The holder may have written exit.json between our two reads.
  const late = readSessionExit(dir);
  return late ? { kind: 'exited', exit: late } : { kind: 'lost' };
}

export function readSessionSpec(dir: string): SessionSpec | null {
  const parsed = SessionSpec.safeParse(readJson(join(dir, SESSION_FILES.spec)));
  return parsed.success ? parsed.data : null;
}

/** Asks the holder to end its child (TERM, then KILL after a grace period); kills the child directly if the holder is gone. */
export function killSession(dir: string, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  const state = readSessionState(dir);
  if (!state) return false;
  if (isSameProcessAlive(state.holder_pid, state.holder_start)) return signalProcess(state.holder_pid, signal === 'SIGKILL' ? 'SIGTERM' : signal);
  const key = readSessionSpec(dir)?.key;
  const marked = key ? signalSession(key, 'SIGKILL', [state.child_pid]) : [];
  if (isSameProcessAlive(state.child_pid, state.child_start)) return signalProcess(-state.child_pid, 'SIGKILL') || signalProcess(state.child_pid, 'SIGKILL');
  return marked.length > 0;
}

/** Processes a session left behind (its agent's children that outlived it): PIDs, normally none. */
export function sessionLeftovers(dir: string): number[] {
  const key = readSessionSpec(dir)?.key;
  if (!key) return [];
  const state = readSessionState(dir);
  const holderAlive = state ? isSameProcessAlive(state.holder_pid, state.holder_start) : false;
  return sessionProcesses(key).filter((pid) => !(holderAlive && pid === state?.holder_pid));
}

/**
 * Stops each of these sessions that still has a live process (holder, agent, or something it left behind),
 * after giving one that is still starting the time a start takes. Returns the sessions it stopped, each with
 * the PIDs that survived (normally none).
 */
export async function stopLiveSessions(dirs: readonly string[]): Promise<{ dir: string; survivors: number[] }[]> {
  const stopped: { dir: string; survivors: number[] }[] = [];
  for (const dir of dirs) {
    if (sessionLiveness(dir).kind === 'starting') {
      await waitFor(() => (sessionLiveness(dir).kind === 'starting' ? undefined : true), { timeoutMs: 15_000, intervalMs: 50, what: 'a session to finish starting' }).catch(() => undefined);
    }
    const state = readSessionState(dir);
    const live = sessionLiveness(dir).kind === 'running' || (state !== null && isSameProcessAlive(state.child_pid, state.child_start)) || sessionLeftovers(dir).length > 0;
    if (live) stopped.push({ dir, survivors: await stopSessionTree(dir) });
  }
  return stopped;
}

/**
 * Stops a session for good: the holder, the agent and everything it started (setsid escapes included), by
 * PID and start time and by the session's marker. Resolves with what survived (normally nothing).
 */
export async function stopSessionTree(dir: string): Promise<number[]> {
  const state = readSessionState(dir);
  const key = readSessionSpec(dir)?.key ?? '';
  if (state && isSameProcessAlive(state.holder_pid, state.holder_start)) signalProcess(state.holder_pid, 'SIGKILL');
  const roots = state && isSameProcessAlive(state.child_pid, state.child_start) ? [state.child_pid] : [];
  for (const pid of roots) signalProcess(-pid, 'SIGKILL');
  return key ? killSessionTree(key, roots, 1_000) : roots.filter((pid) => isSameProcessAlive(pid, state?.child_start ?? null));
}

export function transcriptPath(dir: string): string {
  return join(dir, SESSION_FILES.transcript);
}

/** Last output time: the transcript's mtime (the holder appends every byte the agent prints). */
export function lastOutputAt(dir: string): number | null {
  try {
    return statSync(transcriptPath(dir)).mtimeMs;
  } catch {
    return null;
  }
}

/** The last `maxBytes` of the transcript, read from the end: memory stays flat however much an agent printed. */
export function readTranscriptTail(dir: string, maxBytes: number): string {
  let fd: number | null = null;
  try {
    fd = openSync(transcriptPath(dir), 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export interface SessionConnection {
  send(message: ClientMessage): void;
  close(): void;
  readonly closed: Promise<void>;
}

/** Connects to a live holder: replay first, then live output, then exit. */
export function connectSession(state: SessionState, handlers: { onMessage: (message: HolderMessage) => void }): Promise<SessionConnection> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(state.socket);
    socket.setEncoding('utf8');
    let closedResolve: () => void = () => undefined;
    const closed = new Promise<void>((r) => (closedResolve = r));
    socket.on('data', jsonLines(HolderMessage, handlers.onMessage));
    socket.once('connect', () =>
      resolve({
        send: (message) => {
          if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
        },
        close: () => socket.end(),
        closed,
      }),
    );
    socket.once('error', (err) => {
      reject(err);
      closedResolve();
    });
    socket.once('close', () => closedResolve());
  });
}
