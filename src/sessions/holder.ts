/**
 * The session holder: one small process per session, detached from the daemon, that owns the
 * pseudo-terminal. A daemon crash or upgrade leaves it (and the agent) running; the daemon re-attaches
 * through the unix socket and learns the exit code from exit.json.
 *
 * Usage: node holder.js <sessionDir>
 *        node holder.js --spare    (started ahead of need: the session folder arrives on stdin; see spare.ts)
 */
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import pty from 'node-pty';
import { startHostBridge } from '../sandbox/netbridge.js';
import { renderScreen } from './screen.js';
import { processStartTime } from './process.js';
import { signalSession } from './tree.js';
import { checkSocketDir, ClientMessage, jsonLines, SESSION_FILES, SessionSpec, socketPathFor, type HolderMessage, type SessionExit, type SessionState } from './protocol.js';

const KILL_GRACE_MS = 5_000;

function writeAtomic(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
  renameSync(tmp, file);
}

/** A spare's session folder: the first line on stdin. Its stdin closing first means the daemon went away: null. */
function handedSessionDir(): Promise<string | null> {
  return new Promise((resolve) => {
    let buffered = '';
    const done = (dir: string | null): void => {
      process.stdin.removeAllListeners();
      process.stdin.destroy(); // the daemon's end of the pipe is no business of a session's
      resolve(dir);
    };
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end >= 0) done(buffered.slice(0, end));
    });
    process.stdin.on('end', () => done(null));
    process.stdin.on('error', () => done(null));
  });
}

/**
 * node-pty closes a terminal 200 ms after its child exits, whatever is still unread (waiting for the
 * terminal to report its end is no answer: here it often did not within seconds). On a busy machine the
 * holder can go without CPU for longer than that; the timer then runs before the read, and the agent's
 * last lines (its summary, its report) would be missing from the transcript. So the close waits until a
 * pass over pending I/O reads nothing more (the agent is gone: nothing new is written); 5 s at most.
 */
function letOutputDrain(child: pty.IPty): void {
  const socket = (child as unknown as { _socket?: unknown })._socket;
  if (!(socket instanceof Socket)) return;
  let received = 0;
  socket.on('data', () => received++);
  const destroy = socket.destroy.bind(socket);
  socket.destroy = (error?: Error): Socket => {
    if (socket.destroyed) return destroy(error);
    const deadline = Date.now() + 5_000;
    let seen = -1;
    // setImmediate runs after the loop's I/O phase: unchanged count = a pass that found nothing to read. While
    // output still comes, look again 10 ms later rather than spinning from one loop turn to the next.
    const check = (): void => {
      if (received === seen || Date.now() > deadline) destroy(error);
      else {
        seen = received;
        setTimeout(() => setImmediate(check), 10);
      }
    };
    setImmediate(check);
    return socket;
  };
}

async function main(): Promise<void> {
  const spare = process.argv[2] === '--spare';
  const sessionDir = spare ? await handedSessionDir() : process.argv[2];
  if (!sessionDir) {
    if (spare) process.exit(0);
    process.stderr.write('usage: holder <sessionDir> | holder --spare\n');
    process.exit(2);
  }
  if (spare) process.chdir(sessionDir);
  const log = (line: string): void => appendFileSync(join(sessionDir, SESSION_FILES.holderLog), `${new Date().toISOString()} ${line}\n`);
  const spec = SessionSpec.parse(JSON.parse(readFileSync(join(sessionDir, SESSION_FILES.spec), 'utf8')));
  const transcriptFile = join(sessionDir, SESSION_FILES.transcript);
  let transcript = createWriteStream(transcriptFile, { flags: 'a' });
  let written = existsSync(transcriptFile) ? statSync(transcriptFile).size : 0;
  // Past the cap, the transcript moves to transcript.log.1 (replacing an older one) and starts again:
  // at most twice the cap on disk, whatever the agent prints.
  const record = (data: string): void => {
    const bytes = Buffer.byteLength(data);
    if (written + bytes > spec.transcript_max_bytes && written > 0) {
      const full = transcript;
      full.end();
      renameSync(transcriptFile, `${transcriptFile}.1`);
      transcript = createWriteStream(transcriptFile, { flags: 'a' });
      transcript.write(`[swarm: the transcript passed ${Math.round(spec.transcript_max_bytes / 1024 / 1024)} MB; the earlier part is in ${SESSION_FILES.transcript}.1]\n`);
      written = 0;
    }
    transcript.write(data);
    written += bytes;
  };
  const exitFile = join(sessionDir, SESSION_FILES.exit);

  let scrollback = '';
  let size = { cols: spec.cols, rows: spec.rows };
  const clients = new Set<Socket>();
  /** Clients waiting for their replay: what happens meanwhile is kept for them, in order. */
  const pending = new Map<Socket, string[]>();
  const broadcast = (message: HolderMessage): void => {
    const line = `${JSON.stringify(message)}\n`;
    for (const client of clients) client.write(line);
    for (const queue of pending.values()) queue.push(line);
  };

  let child: pty.IPty;
  try {
    // A sandbox limited to its endpoints reaches them through this process: it lives as long as the agent.
    if (spec.net) await startHostBridge(spec.net, log);
    child = pty.spawn(spec.argv[0]!, spec.argv.slice(1), {
      name: 'xterm-256color',
      cols: spec.cols,
      rows: spec.rows,
      cwd: spec.cwd,
      env: { ...spec.env, TERM: 'xterm-256color' },
    });
    letOutputDrain(child);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`spawn failed: ${message}`);
    transcript.end(`swarm: could not start ${spec.argv[0]}: ${message}\n`, () => {
      const exit: SessionExit = { exit_code: 127, signal: null, ended_at: Date.now(), error: message };
      writeAtomic(exitFile, exit);
      process.exit(0);
    });
    return;
  }

  child.onData((data) => {
    record(data);
    scrollback += data;
    if (scrollback.length > spec.scrollback_bytes) scrollback = scrollback.slice(scrollback.length - spec.scrollback_bytes);
    broadcast({ t: 'output', data });
  });

  const killGroup = (signal: NodeJS.Signals): void => {
    // The pty child leads its own process group: signal the group so the agent's children go too.
    try {
      process.kill(-child.pid, signal);
    } catch {
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
    }
  };
  let killTimer: NodeJS.Timeout | null = null;
  const terminate = (signal: NodeJS.Signals): void => {
    killGroup(signal);
    if (signal !== 'SIGKILL' && !killTimer) killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
  };

  const socketPath = socketPathFor(sessionDir);
  if (dirname(socketPath) === sessionDir) mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
  else checkSocketDir(dirname(socketPath));
  rmSync(socketPath, { force: true });
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    clients.add(socket);
    /** The screen as it is now; what the agent prints meanwhile follows it, in order. */
    const sendScreen = (): void => {
      const output = scrollback;
      const queue: string[] = [];
      clients.delete(socket);
      pending.set(socket, queue);
      void renderScreen(output, size.cols, size.rows)
        .catch(() => output) // the raw bytes rather than nothing
        .then((screen) => {
          pending.delete(socket);
          if (socket.destroyed) return;
          socket.write(`${JSON.stringify({ t: 'replay', data: screen } satisfies HolderMessage)}\n`);
          for (const line of queue) socket.write(line);
          clients.add(socket);
        });
    };
    socket.on(
      'data',
      jsonLines(ClientMessage, (message) => {
        if (message.t === 'input') child.write(message.data);
        else if (message.t === 'screen') sendScreen();
        else if (message.t === 'resize') {
          child.resize(message.cols, message.rows);
          size = { cols: message.cols, rows: message.rows };
        }
        else terminate(message.signal);
      }),
    );
    const forget = (): void => {
      clients.delete(socket);
      pending.delete(socket);
    };
    socket.on('close', forget);
    socket.on('error', forget);
  });
  server.listen(socketPath, () => {
    const state: SessionState = {
      holder_pid: process.pid,
      holder_start: processStartTime(process.pid) ?? '',
      child_pid: child.pid,
      child_start: processStartTime(child.pid),
      socket: socketPath,
      started_at: Date.now(),
    };
    writeAtomic(join(sessionDir, SESSION_FILES.state), state);
  });

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => terminate('SIGTERM'));

  child.onExit(({ exitCode, signal }) => {
    if (killTimer) clearTimeout(killTimer);
    killGroup('SIGKILL'); // leave no stray grandchildren behind
    // ... nor any that left the group (setsid): they carry the session's marker.
    if (spec.key) {
      const strays = signalSession(spec.key, 'SIGKILL');
      if (strays.length) log(`killed ${strays.length} leftover process(es) of the session: ${strays.join(', ')}`);
    }
    const exit: SessionExit = {
      exit_code: signal ? null : exitCode,
      signal: signal ? signalName(signal) : null,
      ended_at: Date.now(),
    };
    transcript.end(() => {
      writeAtomic(exitFile, exit);
      broadcast({ t: 'exit', exit_code: exit.exit_code, signal: exit.signal });
      for (const client of clients) client.end();
      server.close();
      rmSync(socketPath, { force: true });
      if (spec.net) rmSync(spec.net.dir, { recursive: true, force: true });
      log(`child exited code=${String(exit.exit_code)} signal=${String(exit.signal)}`);
      setTimeout(() => process.exit(0), 50).unref();
    });
  });
}

function signalName(signal: number): string {
  const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 9: 'SIGKILL', 15: 'SIGTERM', 6: 'SIGABRT', 11: 'SIGSEGV' };
  return names[signal] ?? `signal ${signal}`;
}

void main();
