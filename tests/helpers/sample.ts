import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from '../../registry/registry.js';
import type { TaskRow, TaskState } from '../../registry/types.js';
import type { SwarmConfigInput } from '../../src/config/schema.js';
import { readSessionState } from '../../src/sessions/sessions.js';
import { isSameProcessAlive } from '../../src/sessions/process.js';
import { waitFor } from '../../src/wait.js';
import { makeSampleRepo, sampleCiCommand } from '../../src/cli/sample-repo.js';
import { listenLoopback } from '../../scripts/loopback.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'swarm.js');
export const AGENTS = join(ROOT, 'tests', 'fixtures', 'agents');

export function tempDir(prefix: string): string {
  return realpathSync(mkdtempSync(join(tmpdir(), `swarm-${prefix}-`)));
}

export function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export { makeSampleRepo };

/** CI for the sample: node's test runner through tsx, so TypeScript runs without a build. */
export const SAMPLE_CI = sampleCiCommand();

export function agentCommand(script: string, ...extra: string[]): string[] {
  return [process.execPath, join(AGENTS, script), ...extra];
}

export interface Sandbox {
  dir: string;
  repo: string;
  worktrees: string;
  records: string;
  /** More folders to remove on cleanup (made outside the sandbox dir). */
  extraCleanup: string[];
  cleanup: () => void;
}

export function sandbox(prefix: string): Sandbox {
  const dir = tempDir(prefix);
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  makeSampleRepo(repo);
  const records = join(dir, 'records');
  mkdirSync(records);
  const extraCleanup: string[] = [];
  return {
    dir,
    repo,
    worktrees: join(dir, 'worktrees'),
    records,
    extraCleanup,
    cleanup: () => {
      killAllSessions(repo);
      // A git the killed daemon had started (a fetch, an auto gc) may still be writing in .git for a moment:
      // rmSync retries what such a race leaves (ENOTEMPTY, EBUSY) rather than failing the test's teardown.
      for (const path of [dir, ...extraCleanup]) rmSync(path, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/** Tests never leave holders or agents behind, whatever happened. */
export function killAllSessions(repo: string, sessions = join(repo, '.swarm', 'sessions')): void {
  if (!existsSync(sessions)) return;
  for (const name of readdirSync(sessions)) {
    const state = readSessionState(join(sessions, name));
    if (!state) continue;
    for (const [pid, start] of [[state.holder_pid, state.holder_start], [state.child_pid, state.child_start]] as const) {
      if (isSameProcessAlive(pid, start)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  }
}

export function writeConfig(box: Sandbox, config: SwarmConfigInput): void {
  const full: SwarmConfigInput = {
    base: 'main',
    stagger_ms: 0,
    monitor: { schedule: '*/1 * * * * *' },
    cleanup: { schedule: null },
    notify: { desktop: false },
    // Scripted agents need megabytes, not the 3 GB budgeted for a real one: admission by memory is tested on its own.
    memory: { agent_mb: 64, reserve_mb: 256 },
    // Unconfined unless a test asks otherwise: most tests record what their scripted agents did in folders a
    // sandbox would hide. The default itself (bubblewrap wherever it works) is tested with no key written.
    sandbox: 'none',
    ...config,
    worktree: { dir: box.worktrees, ...(config.worktree ?? {}) },
  };
  writeFileSync(join(box.repo, 'swarm.config.json'), JSON.stringify(full, null, 2));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function swarm(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolvePromise({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

export interface DaemonProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `swarm daemon run` as a child of the test, so the test can kill -9 it. Resolves once it answers. */
export async function runDaemon(box: Sandbox, env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  const infoFile = join(box.repo, '.swarm', 'daemon.json');
  let output = '';
  // Sandboxed agents' homes go under the box, not the real home (tests leave nothing behind).
  const child = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: box.repo, env: { ...process.env, XDG_DATA_HOME: join(box.dir, 'data'), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`daemon exited: ${output}`);
      if (!existsSync(infoFile)) return undefined;
      const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { pid: number };
      return info.pid === child.pid ? true : undefined;
    },
    { timeoutMs: 20_000, what: 'daemon.json' },
  );
  return { child, output: () => output, exited };
}

export function openRegistry(box: Sandbox): Registry {
  return new Registry(join(box.repo, '.swarm', 'swarm.db'));
}

export async function waitForState(box: Sandbox, id: number, states: TaskState | TaskState[], timeoutMs = 60_000): Promise<TaskRow> {
  const wanted = typeof states === 'string' ? [states] : states;
  const registry = openRegistry(box);
  try {
    let last: TaskRow | null = null;
    return await waitFor(
      () => {
        last = registry.getTask(id);
        return last && wanted.includes(last.state) ? last : undefined;
      },
      { timeoutMs, intervalMs: 50, what: `task ${id} to reach ${wanted.join('|')}` },
    ).catch((err: unknown) => {
      const events = registry.events(id).map((e) => `${e.kind}:${e.from_state}->${e.to_state} ${e.data ?? ''}`);
      throw new Error(`${String(err)}; last state ${last?.state ?? 'none'}; events:\n${events.join('\n')}`);
    });
  } finally {
    registry.close();
  }
}

export function readRecords(box: Sandbox, name: string): Record<string, unknown>[] {
  const file = join(box.records, name);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface Receiver {
  url: string;
  received: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: Record<string, unknown>; raw: Buffer }[];
  /** Answer the next n requests with this status (for retry tests). */
  failNext: (n: number, status?: number) => void;
  close: () => Promise<void>;
}

/** A loopback HTTP server standing in for ntfy and webhooks: records every request (JSON bodies parsed, raw bytes kept). */
export async function receiver(): Promise<Receiver> {
  const received: Receiver['received'] = [];
  let failures = 0;
  let failStatus = 500;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failures > 0) {
        failures--;
        res.writeHead(failStatus).end('nope');
        return;
      }
      const raw = Buffer.concat(chunks);
      const json = (req.headers['content-type'] ?? '').includes('json') || raw.length === 0;
      received.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: json ? (JSON.parse(raw.toString() || '{}') as Record<string, unknown>) : {}, raw });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"x"}');
    });
  });
  const url = await listenLoopback(server);
  return {
    url,
    received,
    failNext: (n, status = 500) => {
      failures = n;
      failStatus = status;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Waits until the daemon has finished `passes` more full passes: a signal, not a sleep. */
export async function waitForPasses(box: Sandbox, passes: number): Promise<void> {
  const ticks = async (): Promise<number> => {
    const result = await swarm(box.repo, ['daemon', 'status', '--json']);
    return (JSON.parse(result.stdout) as { ticks?: number }).ticks ?? -1;
  };
  const start = await ticks();
  await waitFor(async () => ((await ticks()) >= start + passes ? true : undefined), { timeoutMs: 20_000, intervalMs: 200, what: `${passes} daemon passes` });
}
