import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../wait.js';
import { isSameProcessAlive, signalProcess } from './process.js';
import { HolderMessage, jsonLines, SESSION_FILES, SessionExit, SessionState, type ClientMessage, type SessionSpec } from './protocol.js';

const HOLDER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'holder.js');

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function readSessionState(dir: string): SessionState | null {
  const parsed = SessionState.safeParse(readJson(join(dir, SESSION_FILES.state)));
  return parsed.success ? parsed.data : null;
}

export function readSessionExit(dir: string): SessionExit | null {
  const parsed = SessionExit.safeParse(readJson(join(dir, SESSION_FILES.exit)));
  return parsed.success ? parsed.data : null;
}

/**
 * Starts a detached holder process that owns the pseudo-terminal, and returns once the child runs.
 * The holder is in its own process group and session, so killing the daemon does not touch it.
 */
export async function startSession(dir: string, spec: SessionSpec): Promise<SessionState> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, SESSION_FILES.spec), JSON.stringify(spec), { mode: 0o600 });
  const logFd = openSync(join(dir, SESSION_FILES.holderLog), 'a');
  try {
    const holder = spawn(process.execPath, [HOLDER_SCRIPT, dir], { detached: true, stdio: ['ignore', logFd, logFd], cwd: dir });
    holder.unref();
  } finally {
    closeSync(logFd);
  }
  return waitFor(
    () => {
      const state = readSessionState(dir);
      if (state) return state;
      const exit = readSessionExit(dir);
      if (exit) throw new Error(`session could not start: ${exit.error ?? `exit code ${String(exit.exit_code)}`}`);
      return undefined;
    },
    { timeoutMs: 15_000, intervalMs: 20, what: `session holder in ${dir}` },
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

/** Asks the holder to end its child (TERM, then KILL after a grace period); kills the child directly if the holder is gone. */
export function killSession(dir: string, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  const state = readSessionState(dir);
  if (!state) return false;
  if (isSameProcessAlive(state.holder_pid, state.holder_start)) return signalProcess(state.holder_pid, signal === 'SIGKILL' ? 'SIGTERM' : signal);
  if (isSameProcessAlive(state.child_pid, state.child_start)) return signalProcess(-state.child_pid, 'SIGKILL') || signalProcess(state.child_pid, 'SIGKILL');
  return false;
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

export function readTranscriptTail(dir: string, maxBytes: number): string {
  try {
    const buffer = readFileSync(transcriptPath(dir));
    return buffer.subarray(Math.max(0, buffer.length - maxBytes)).toString('utf8');
  } catch {
    return '';
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
