/**
 * Core-loop benchmarks (issue 2). Prints figures; asserts nothing. Run: npm run bench
 *  1. spawn latency (spawn -> agent process running) vs a bare `git worktree add`, on a ~5,000-file repo
 *  2. agent exit -> local PR opened and CI started
 *  3. monitor pass CPU and wall time with 200 tasks in the registry
 *  4. daemon and session-holder memory with 0 and 20 live sessions, vs an idle node process
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Monitor } from '../monitor/monitor.js';
import { Registry } from '../registry/registry.js';
import { makeSampleRepo, sampleCiCommand } from '../src/cli/sample-repo.js';
import { parseConfig } from '../src/config/load.js';
import { LocalForge } from '../src/forge/local.js';
import { silentLogger } from '../src/log.js';
import { processStartTime } from '../src/sessions/process.js';
import { readSessionExit } from '../src/sessions/sessions.js';
import { waitFor } from '../src/wait.js';
import { memoryKb } from './proc-memory.js';
import { ensureWorktree } from '../src/workspace/worktrees.js';

const BIN = fileURLToPath(new URL('../../bin/swarm.js', import.meta.url));
const work = realpathSync(mkdtempSync(join(tmpdir(), 'swarm-bench-')));
// Daemons started here keep their records (repositories, cached installs) in the benchmark's folder, not the real home.
process.env.XDG_DATA_HOME = join(work, 'data');

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

const pssKb = (pid: number): number => memoryKb(pid).pss;

function swarm(cwd: string, args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
}

const AGENT = `import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const dir = process.env.MARK_DIR, id = process.env.SWARM_TASK_ID;
writeFileSync(dir + '/' + id + '.tmp', String(Date.now()));
renameSync(dir + '/' + id + '.tmp', dir + '/' + id + '.start');
const t = setInterval(() => {
  if (!existsSync(dir + '/' + id + '.go') && !existsSync(dir + '/all.go')) return;
  clearInterval(t);
  writeFileSync('src/add.ts', 'export function addNumbers(a: number, b: number): number {\\n  return a + b;\\n}\\n');
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qam', 'fix']);
}, 5);
`;

async function startDaemon(repo: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: repo, stdio: 'ignore' });
  await waitFor(() => (existsSync(join(repo, '.swarm', 'daemon.json')) ? true : undefined), { timeoutMs: 20_000, what: 'daemon' });
  return child;
}

async function benchSpawnAndExit(): Promise<void> {
  const repo = join(work, 'big');
  mkdirSync(repo);
  makeSampleRepo(repo, { extraFiles: 5_000 });
  const files = execFileSync('git', ['ls-files'], { cwd: repo, encoding: 'utf8' }).split('\n').length - 1;

  // Baseline: a bare worktree add of the same repository, in this run.
  // Interleaved with the swarm spawns below (filesystem speed drifts during a run), and nothing removed meanwhile.
  const bare: number[] = [];
  const bareAdd = (i: number): void => {
    const t0 = performance.now();
    execFileSync('git', ['worktree', 'add', '-q', '-b', `bare-${i}`, join(work, `bare-${i}`), 'main'], { cwd: repo });
    bare.push(performance.now() - t0);
  };

  const marks = join(work, 'marks');
  mkdirSync(marks);
  writeFileSync(join(work, 'agent.mjs'), AGENT);
  writeFileSync(
    join(repo, 'swarm.config.json'),
    JSON.stringify({
      agents: { bench: { command: [process.execPath, join(work, 'agent.mjs')], env: { MARK_DIR: marks } } },
      ci: { command: sampleCiCommand() },
      concurrency: 25,
      stagger_ms: 0,
      notify: { desktop: false },
      cleanup: { schedule: null },
      worktree: { dir: join(work, 'wts') },
    }),
  );
  const daemon = await startDaemon(repo);
  await new Promise((r) => setTimeout(r, 500)); // let the idle daemon settle before reading its memory
  const daemonIdleKb = rssKb(daemon.pid!);

  // Spawn latency, one at a time, measured from the moment the user runs `swarm spawn`.
  const spawnMs: number[] = [];
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) {
    bareAdd(i);
    const t0 = Date.now();
    const { id } = JSON.parse(swarm(repo, ['spawn', '--json', `Bench task ${i}`])) as { id: number };
    ids.push(id);
    const started = await waitFor(() => (existsSync(join(marks, `${id}.start`)) ? Number(readFileSync(join(marks, `${id}.start`), 'utf8')) || undefined : undefined), { timeoutMs: 30_000, intervalMs: 2, what: 'agent start' });
    spawnMs.push(started - t0);
  }

  // 15 more, so 20 sessions are live at once.
  for (let i = 5; i < 20; i++) ids.push((JSON.parse(swarm(repo, ['spawn', '--json', `Bench task ${i}`])) as { id: number }).id);
  await waitFor(() => (ids.every((id) => existsSync(join(marks, `${id}.start`))) ? true : undefined), { timeoutMs: 120_000, what: '20 agents' });
  const registry = new Registry(join(repo, '.swarm', 'swarm.db'));
  await waitFor(() => (registry.listTasks(['running']).length === 20 ? true : undefined), { timeoutMs: 30_000, what: '20 running' });
  const holders = ids.map((id) => registry.latestAttempt(id, 'agent')!.holder_pid!);
  const holderKb = holders.map(rssKb);
  const holderPssKb = holders.map(pssKb);
  const daemonBusyKb = rssKb(daemon.pid!);

  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  const idleKb = rssKb(idle.pid!);
  idle.kill();

  // Agent exit -> PR opened and CI started: one agent alone, then the other 19 at once.
  const exitToCiOf = (id: number): number => {
    const agent = registry.attempts(id).find((a) => a.kind === 'agent')!;
    return registry.events(id).find((e) => e.kind === 'ci_started')!.at - readSessionExit(agent.session_dir)!.ended_at;
  };
  writeFileSync(join(marks, `${ids[0]!}.go`), '');
  await waitFor(() => (registry.events(ids[0]!).some((e) => e.kind === 'ci_started') ? true : undefined), { timeoutMs: 60_000, intervalMs: 5, what: 'first CI' });
  const aloneMs = exitToCiOf(ids[0]!);
  writeFileSync(join(marks, 'all.go'), '');
  await waitFor(() => (registry.listTasks(['ready', 'needs_help']).length === 20 ? true : undefined), { timeoutMs: 300_000, intervalMs: 100, what: 'all ready' });
  const exitToCi = ids.slice(1).map(exitToCiOf);
  const created = ids.slice(0, 5).map((id) => {
    const events = registry.events(id);
    return events.find((e) => e.kind === 'agent_started')!.at - events[0]!.at;
  });

  console.log(`\n## Spawn latency (repository of ${files} files)`);
  console.log(`bare git worktree add:             median ${fmt(median(bare))} (runs: ${bare.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`swarm spawn -> agent running:      median ${fmt(median(spawnMs))} (runs: ${spawnMs.join(', ')})  ratio ${(median(spawnMs) / median(bare)).toFixed(2)}x`);
  console.log(`  of which task row -> agent_started (daemon side): median ${fmt(median(created))}  ratio ${(median(created) / median(bare)).toFixed(2)}x`);
  console.log(`\n## Agent exit -> local PR opened and CI started`);
  console.log(`one agent alone:                   ${fmt(aloneMs)}`);
  console.log(`19 agents exiting together:        median ${fmt(median(exitToCi))}, max ${fmt(Math.max(...exitToCi))}`);
  console.log(`\n## Memory (RSS)`);
  console.log(`idle node process (baseline):      ${(idleKb / 1024).toFixed(1)} MB`);
  console.log(`daemon, 0 sessions:                ${(daemonIdleKb / 1024).toFixed(1)} MB  (${(daemonIdleKb / idleKb).toFixed(2)}x baseline)`);
  console.log(`daemon, 20 live sessions:          ${(daemonBusyKb / 1024).toFixed(1)} MB  (${(daemonBusyKb / idleKb).toFixed(2)}x baseline)`);
  console.log(`session holder, each (20 live):    mean ${(mean(holderKb) / 1024).toFixed(1)} MB, max ${(Math.max(...holderKb) / 1024).toFixed(1)} MB  (${(mean(holderKb) / idleKb).toFixed(2)}x baseline)`);
  console.log(`session holder, each, PSS:         mean ${(mean(holderPssKb) / 1024).toFixed(1)} MB (shared code pages divided among the 20)`);
  registry.close();
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
}

async function benchMonitorTick(): Promise<void> {
  const repo = join(work, 'tick');
  mkdirSync(repo);
  makeSampleRepo(repo);
  const sessions = join(work, 'tick-sessions');
  const registry = new Registry(join(work, 'tick.db'));
  const config = parseConfig('bench', { agents: { a: { command: ['true'] } }, ci: { command: ['true'] }, stuck_minutes: 600 });
  const me = { holder_pid: process.pid, holder_start: processStartTime(process.pid)!, child_pid: process.pid, child_start: processStartTime(process.pid) };
  // 200 tasks: 100 finished, 40 queued, 40 running agents (live), 20 ready (real branches, merge-tree checked).
  for (let i = 0; i < 200; i++) {
    const task = registry.createTask({ title: `t${i}`, prompt: 'p', agent: 'a', base: 'main', branch: `swarm/{id}-t`, worktree: join(work, 'tick-wt', `{id}`), max_retries: 3 });
    if (i < 100) registry.transition(task.id, 'queued', 'done', { event: 'merged' });
    else if (i < 140) continue;
    else if (i < 180) {
      const dir = join(sessions, `t${task.id}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'state.json'), JSON.stringify({ ...me, socket: '/nonexistent', started_at: Date.now() }));
      writeFileSync(join(dir, 'transcript.log'), 'working...\n');
      registry.transition(task.id, 'queued', 'running', { event: 'agent_started', patch: { attempt: 1 } });
      const row = registry.insertAttempt({ task_id: task.id, n: 1, kind: 'agent', agent: 'a', session_id: `t${task.id}`, session_dir: dir, prompt: 'p' });
      registry.updateAttempt(row.id, me);
    } else {
      await ensureWorktree(repo, task.worktree, task.branch, 'main');
      registry.transition(task.id, 'queued', 'ready', { event: 'ready', patch: { attempt: 1 } });
    }
  }
  const forge = new LocalForge({ repoRoot: repo, config, registry, sessionsDir: sessions });
  const monitor = new Monitor({ repoRoot: repo, config, registry, forge, channels: [], log: silentLogger(), agentTimeoutMinutes: () => 600 });
  const passes: { cpu: number; wall: number }[] = [];
  for (let i = 0; i < 21; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await monitor.tick();
    const cpu = process.cpuUsage(cpu0);
    passes.push({ cpu: (cpu.user + cpu.system) / 1000, wall: performance.now() - t0 });
  }
  const git0 = performance.now();
  for (let i = 0; i < 10; i++) execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo });
  const gitMs = (performance.now() - git0) / 10;
  const steady = passes.slice(1);
  console.log(`\n## Monitor pass with 200 tasks (100 done, 40 queued, 40 running, 20 ready)`);
  console.log(`baseline, one \`git rev-parse\`:    ${fmt(gitMs)} wall`);
  console.log(`first pass (20 merge-tree checks): ${fmt(passes[0]!.cpu)} CPU, ${fmt(passes[0]!.wall)} wall`);
  console.log(`steady pass (cached mergeability): median ${fmt(median(steady.map((p) => p.cpu)))} CPU, ${fmt(median(steady.map((p) => p.wall)))} wall  (${(median(steady.map((p) => p.wall)) / gitMs).toFixed(2)}x one git call)`);
  registry.close();
}

try {
  await benchMonitorTick();
  await benchSpawnAndExit();
} finally {
  try {
    execFileSync('pkill', ['-f', join(work, 'agent.mjs')]);
  } catch {
    // nothing left
  }
  rmSync(work, { recursive: true, force: true });
}
