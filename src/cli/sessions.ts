import type { AttemptRow } from '../../registry/types.js';
import type { Project } from '../config/project.js';
import { InvalidStateError } from '../errors.js';
import { runnersOf } from '../runners/runners.js';
import type { Runner } from '../runners/runner.js';
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

/** The runner a session's task runs on. */
export function sessionRunner(project: Project, session: AttemptRow): Runner {
  return runnersOf(project).for(getTask(project, session.task_id));
}

/** Prints the transcript; with follow, keeps printing until the session exits. */
export async function streamLogs(runner: Runner, session: AttemptRow, write: (chunk: Buffer) => void, options: { follow: boolean; signal?: AbortSignal }): Promise<void> {
  let offset = 0;
  for (;;) {
    let ended = false;
    // Everything there is, in pieces of 1 MB; whether the session had ended is read before the last piece.
    for (;;) {
      const piece = await runner.read(session.session_dir, offset, 1 << 20);
      ended = piece.ended;
      if (piece.data.length === 0) break;
      offset += piece.data.length;
      write(piece.data);
    }
    if (!options.follow || ended || options.signal?.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const DETACH_KEY = '\x1d'; // Ctrl-]

/** Takes over the live terminal: replays the recent screen, then forwards keys. Ctrl-] detaches; the agent keeps running. */
export async function attach(runner: Runner, session: AttemptRow, io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream; err: (text: string) => void }): Promise<'detached' | 'exited'> {
  const live = (await runner.look(session.session_dir, 0)).live;
  if (live.kind !== 'running') throw new InvalidStateError(`Session ${session.session_id} is not running (${live.kind}). Use \`swarm logs ${session.task_id}\` to read what it printed.`);
  let result: 'detached' | 'exited' = 'detached';
  // Output follows the screen it belongs to: nothing is drawn before the replay.
  let screenShown = false;
  const connection = await runner.connect(session.session_dir, {
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
