/**
 * The sessions half of a runner whose sessions live elsewhere (another machine over ssh, a pod on a cluster):
 * the same session holder runs there, driven by `swarm host <op>` (ssh/on-host.ts), and this class speaks
 * those ops over a `Transport`: how one command reaches the place, and how a long-lived one is streamed. The
 * SSH runner and the Kubernetes runner differ in their transport and in how code moves (a mirror pushed over
 * ssh, or the forge), not here.
 */
import { basename } from 'node:path';
import * as z from 'zod';
import { GitError, SwarmError } from '../errors.js';
import { HolderMessage, jsonLines, SessionExit, SessionState, type ClientMessage } from '../sessions/protocol.js';
import type { ReportAsk } from '../forge/ci-reports.js';
import type { Liveness, SessionConnection, SessionStart, SessionView } from './runner.js';
import { SetupAnswer, type HostStart } from './ssh/on-host.js';
import type { DepsOutcome } from '../workspace/deps.js';
import type { SetupPlan } from '../workspace/setup.js';

export interface TransportResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A long-lived command's streams (`swarm host connect`): stdin written, stdout read, its end. */
export interface Stream {
  write(text: string): void;
  /** Closes stdin, and ends the command. */
  close(): void;
  /** Resolves with the exit code (null: the connection broke) once it ended. */
  readonly ended: Promise<number | null>;
}

export interface Transport {
  /** One command there, with optional stdin; throws a transient error when the place cannot be reached. */
  run(argv: readonly string[], options?: { input?: string; timeoutMs?: number }): Promise<TransportResult>;
  /** A command there whose stdout is handed on as it comes (its stderr is not read). */
  open(argv: readonly string[], onStdout: (chunk: string) => void): Promise<Stream>;
}

/** `sh -s -- DIR`: a session folder nobody used (made there, so two daemons never pick one name). */
export const FRESH_SCRIPT = `dir=$1; n=1; try=$dir
mkdir -p "$(dirname "$dir")"
until mkdir "$try" 2>/dev/null; do n=$((n + 1)); try="$dir-$n"; [ $n -gt 1000 ] && exit 1; done
echo "$try"
`;

/** How long a look read ahead stands in for a fresh one (a monitor pass). */
const LOOK_AHEAD_MS = 5_000;

/** Always the place's own, whatever this machine's value. */
const LOCAL_ONLY = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_RUNTIME_DIR']);

const Live = z.union([
  z.object({ kind: z.literal('running'), state: SessionState }),
  z.object({ kind: z.literal('exited'), exit: SessionExit }),
  z.object({ kind: z.enum(['lost', 'starting']) }),
]);
const View = z.object({ live: Live, last_output_at: z.number().nullable(), tail: z.string() });
const Piece = z.object({ data: z.string(), ended: z.boolean() });

export class HostedSessions {
  /** `swarm`: how swarm is run there (`['swarm']`, or node and a path). */
  constructor(readonly name: string, private readonly transport: Transport, private readonly swarm: readonly string[]) {}

  /** A `swarm host` op there; its one JSON answer. */
  async op(op: string, args: readonly string[], input?: string, timeoutMs?: number): Promise<unknown> {
    const result = await this.transport.run([...this.swarm, 'host', op, ...args], { ...(input !== undefined ? { input } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
    const line = result.stdout.trim().split('\n').at(-1) ?? '';
    if (result.code !== 0 || !line) throw new SwarmError('SWARM_HOST_FAILED', `swarm host ${op} failed on ${this.name}: ${result.stderr.trim().split('\n').at(-1) ?? `exit ${result.code}`}`);
    return JSON.parse(line);
  }

  /** A fresh session folder under `sessionsDir` there. */
  async fresh(sessionsDir: string, base: string): Promise<{ sessionId: string; dir: string }> {
    const made = await this.transport.run(['sh', '-s', '--', `${sessionsDir}/${base}`], { input: FRESH_SCRIPT });
    const dir = made.stdout.trim();
    if (made.code !== 0 || !dir.startsWith('/')) throw new SwarmError('SWARM_HOST_FAILED', `could not make a session folder on ${this.name}: ${made.stderr.trim()}`);
    return { sessionId: basename(dir), dir };
  }

  /**
   * What swarm and the config set travels (the task id, the agent's configured env); what is only this
   * machine's own environment (PATH, HOME, a provider key) does not: it is named, and the place's value is used.
   */
  async start(dir: string, spec: SessionStart, files: Record<string, string>, place: HostStart['place']): Promise<SessionState> {
    const env: Record<string, string> = {};
    const hostEnv: string[] = [];
    for (const [key, value] of Object.entries(spec.env)) {
      if (process.env[key] === value || LOCAL_ONLY.has(key)) hostEnv.push(key);
      else env[key] = value;
    }
    const { argv, cwd, cols, rows, scrollback_bytes, transcript_max_bytes, confine } = spec;
    const input: HostStart = { spec: { argv, cwd, env, cols, rows, scrollback_bytes, ...(transcript_max_bytes ? { transcript_max_bytes } : {}) }, host_env: hostEnv, files, ...(confine ? { confine, ...(place ? { place } : {}) } : {}) };
    return SessionState.parse(await this.op('start', [dir], JSON.stringify(input)));
  }

  /** Looks read ahead by `lookAll`: each answers one later `look` asking no more bytes, within a short time. */
  private readonly ahead = new Map<string, { view: SessionView; bytes: number; at: number }>();

  async look(dir: string, tailBytes: number): Promise<SessionView> {
    const early = this.ahead.get(dir);
    this.ahead.delete(dir);
    if (early && early.bytes >= tailBytes && Date.now() - early.at < LOOK_AHEAD_MS) return { ...early.view, tail: tailBytes > 0 ? early.view.tail.slice(-tailBytes) : '' };
    const view = View.parse(await this.op('look', [dir, String(tailBytes)]));
    return { live: view.live as Liveness, last_output_at: view.last_output_at, tail: view.tail };
  }

  async lookAll(dirs: readonly string[], tailBytes: number): Promise<Map<string, SessionView>> {
    if (!dirs.length) return new Map();
    const views = z.array(View).parse(await this.op('look-many', ['-'], JSON.stringify({ dirs, bytes: tailBytes })));
    const now = Date.now();
    const all = new Map<string, SessionView>();
    dirs.forEach((dir, i) => {
      const view = { live: views[i]!.live as Liveness, last_output_at: views[i]!.last_output_at, tail: views[i]!.tail };
      all.set(dir, view);
      this.ahead.set(dir, { view, bytes: tailBytes, at: now });
    });
    return all;
  }

  async kill(dir: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
    return z.boolean().parse(await this.op('kill', [dir, signal]));
  }

  async stop(dir: string): Promise<number[] | null> {
    return z.array(z.number()).nullable().parse(await this.op('stop', [dir]));
  }

  async leftovers(dir: string): Promise<number[]> {
    return z.array(z.number()).parse(await this.op('leftovers', [dir]));
  }

  async read(dir: string, offset: number, maxBytes: number): Promise<{ data: Buffer; ended: boolean }> {
    const piece = Piece.parse(await this.op('read', [dir, String(offset), String(maxBytes)]));
    return { data: Buffer.from(piece.data, 'base64'), ended: piece.ended };
  }

  /** The dependency installs and setup commands of `plan`, run there in the checkout `path` by its swarm; `where` names the place in an error. */
  async setup(path: string, plan: SetupPlan, where: string): Promise<DepsOutcome[]> {
    if (!plan.deps.length && !plan.setup.length) return [];
    const steps = plan.deps.length + plan.setup.length;
    const answer = SetupAnswer.parse(await this.op('setup', [path], JSON.stringify(plan), steps * plan.timeout_minutes * 60_000 + 60_000));
    if (!answer.ok) throw new GitError('SWARM_SETUP_FAILED', `On ${where}: ${answer.error}`);
    return answer.installs;
  }

  async ciReports(checkout: string, dir: string, ask: ReportAsk): Promise<string[]> {
    return z.array(z.string()).parse(await this.op('reports', [dir, checkout], JSON.stringify(ask)));
  }

  /** The holder's socket, relayed by `swarm host connect` over the transport (JSON lines both ways). */
  async connect(dir: string, handlers: { onMessage: (message: HolderMessage) => void }): Promise<SessionConnection> {
    const stream = await this.transport.open([...this.swarm, 'host', 'connect', dir], jsonLines(HolderMessage, handlers.onMessage));
    return {
      send: (message: ClientMessage) => stream.write(`${JSON.stringify(message)}\n`),
      close: () => stream.close(),
      closed: stream.ended.then(() => undefined),
    };
  }
}
