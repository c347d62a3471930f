import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { AttemptRow } from '../../registry/types.js';
import type { Project } from '../config/project.js';
import { InvalidStateError } from '../errors.js';
import { connectSession, readSessionExit, sessionLiveness, transcriptPath } from '../sessions/sessions.js';
import { getTask } from './tasks.js';

export function pickSession(project: Project, taskId: number, options: { ci?: boolean; attempt?: number; review?: string }): AttemptRow {
  const task = getTask(project, taskId);
  const kind = options.review ? 'review' : options.ci ? 'ci' : 'agent';
  const sessions = project.registry.attempts(taskId).filter((a) => a.kind === kind && (options.attempt === undefined || a.n === options.attempt) && (!options.review || a.agent === options.review));
  const session = sessions.at(-1);
  const what = options.review ? `review by ${options.review}` : kind === 'ci' ? 'CI run' : 'agent session';
  if (!session) throw new InvalidStateError(`Task ${taskId} (${task.state}) has no ${what}${options.attempt ? ` for attempt ${options.attempt}` : ''} yet.`);
  return session;
}

/** Prints the transcript; with follow, keeps printing until the session exits. */
export async function streamLogs(session: AttemptRow, write: (chunk: Buffer) => void, options: { follow: boolean; signal?: AbortSignal }): Promise<void> {
  const file = transcriptPath(session.session_dir);
  let offset = 0;
  const drain = (): void => {
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    if (size <= offset) return;
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(size - offset, 1 << 20));
      const read = readSync(fd, buffer, 0, buffer.length, offset);
      offset += read;
      write(buffer.subarray(0, read));
    } finally {
      closeSync(fd);
    }
  };
  for (;;) {
    const exited = readSessionExit(session.session_dir) !== null || sessionLiveness(session.session_dir).kind === 'lost';
    let before: number;
    do {
      before = offset;
      drain();
    } while (offset !== before);
    if (!options.follow || exited || options.signal?.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const DETACH_KEY = '\x1d'; // Ctrl-]

/** Takes over the live terminal: replays the recent screen, then forwards keys. Ctrl-] detaches; the agent keeps running. */
export async function attach(session: AttemptRow, io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream; err: (text: string) => void }): Promise<'detached' | 'exited'> {
  const live = sessionLiveness(session.session_dir);
  if (live.kind !== 'running') throw new InvalidStateError(`Session ${session.session_id} is not running (${live.kind}). Use \`swarm logs ${session.task_id}\` to read what it printed.`);
  let result: 'detached' | 'exited' = 'detached';
  // Output follows the screen it belongs to: nothing is drawn before the replay.
  let screenShown = false;
  const connection = await connectSession(live.state, {
    onMessage: (message) => {
      if (message.t === 'replay') {
        // A whole screen: drawn on a cleared one.
        io.stdout.write(`\x1b[H\x1b[2J${message.data}`);
        screenShown = true;
      } else if (message.t === 'output') {
        if (screenShown) io.stdout.write(message.data);
      }
      else {
        result = 'exited';
        io.err(`\r\n[swarm] agent exited (${message.signal ?? `code ${String(message.exit_code)}`})`);
      }
    },
  });
  // The screen as it is, rendered at the size the agent drew it (asked before any resize).
  connection.send({ t: 'screen' });
  io.err(`[swarm] attached to task ${session.task_id} (${session.session_id}); press Ctrl-] to detach\r`);
  const raw = io.stdin.isTTY === true;
  if (raw) io.stdin.setRawMode(true);
  io.stdin.resume();
  io.stdin.setEncoding('utf8');
  const resize = (): void => {
    if (io.stdout.columns && io.stdout.rows) connection.send({ t: 'resize', cols: io.stdout.columns, rows: io.stdout.rows });
  };
  const onData = (data: string): void => {
    const index = data.indexOf(DETACH_KEY);
    if (index !== -1) {
      if (index > 0) connection.send({ t: 'input', data: data.slice(0, index) });
      connection.close();
      return;
    }
    connection.send({ t: 'input', data });
  };
  io.stdin.on('data', onData);
  if (io.stdout.isTTY) {
    resize();
    io.stdout.on('resize', resize);
  }
  await connection.closed;
  io.stdin.off('data', onData);
  io.stdout.off('resize', resize);
  if (raw) io.stdin.setRawMode(false);
  io.stdin.pause();
  if (result === 'detached') io.err('\r\n[swarm] detached; the agent keeps running');
  return result;
}
