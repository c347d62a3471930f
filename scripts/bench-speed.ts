/**
 * Speed (issue: speed). Prints figures as ratios against baselines measured in the same run; asserts nothing.
 * Run: npm run bench:speed
 *  1. spawn -> agent running with and without warm worktrees, against a bare `git worktree add` of the same
 *     repository, on repositories of 5,000 and 50,000 files
 *  2. 20 tasks spawned at once (concurrency 20, 2 cores): time until all 20 agents run
 *  3. session holder PSS and RSS with 1 and with 20 live sessions, against an idle node process; daemon memory
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from '../registry/registry.js';
import { makeSampleRepo } from '../src/cli/sample-repo.js';
import { stopLiveSessions } from '../src/sessions/sessions.js';
import { waitFor } from '../src/wait.js';
import { memoryKb } from './proc-memory.js';

const BIN = fileURLToPath(new URL('../../bin/swarm.js', import.meta.url));
const work = realpathSync(mkdtempSync(join(tmpdir(), 'swarm-bench-pool-')));
// Daemons started here keep their records (repositories, cached installs) in the benchmark's folder, not the real home.
process.env.XDG_DATA_HOME = join(work, 'data');
const RUNS = 5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Marks the moment it runs, then idles until the bench ends.
const AGENT = `import { renameSync, writeFileSync } from 'node:fs';
const dir = process.env.MARK_DIR, id = process.env.SWARM_TASK_ID;
writeFileSync(dir + '/' + id + '.tmp', String(Date.now()));
renameSync(dir + '/' + id + '.tmp', dir + '/' + id + '.start');
setInterval(() => {}, 1 << 30);
`;

function swarm(cwd: string, args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
}

/** Warm worktrees fully made: git locks a worktree ("initializing") until its files are all written. */
function warm(poolDir: string, repo: string): number {
  if (!existsSync(poolDir)) return 0;
  return readdirSync(poolDir).filter((d) => existsSync(join(poolDir, d, '.git')) && existsSync(join(repo, '.git', 'worktrees', d)) && !existsSync(join(repo, '.git', 'worktrees', d, 'locked'))).length;
}

/** Every task of a run cancelled (sessions ended), the daemon stopped: the next run starts with nothing live. */
async function finish(repo: string, daemon: ChildProcess, ids: number[]): Promise<void> {
  for (const id of ids) {
    try {
      swarm(repo, ['kill', String(id)]);
    } catch {
      // already ended
    }
  }
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  const registry = new Registry(join(repo, '.swarm', 'swarm.db'));
  await stopLiveSessions(registry.openSessions().map((a) => a.session_dir));
  registry.close();
}

async function runMode(repo: string, label: string, pool: number, bare: number[]): Promise<number[]> {
  const marks = join(work, `marks-${label}`);
  mkdirSync(marks);
  const wts = join(work, `wts-${label}`);
  writeFileSync(join(repo, 'swarm.config.json'), JSON.stringify({ agents: { bench: { command: [process.execPath, join(work, 'agent.mjs')], env: { MARK_DIR: marks } } }, concurrency: 20, stagger_ms: 0, notify: { desktop: false }, cleanup: { schedule: null }, worktree: { dir: wts, pool } }));
  const daemon: ChildProcess = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: repo, stdio: 'ignore' });
  const times: number[] = [];
  const ids: number[] = [];
  try {
    await waitFor(() => (existsSync(join(repo, '.swarm', 'daemon.json')) ? true : undefined), { timeoutMs: 20_000, what: 'daemon' });
    for (let i = 0; i < RUNS; i++) {
      // A spawn that finds the pool warm (refilled since the last one), as when tasks come minutes apart.
      if (pool) await waitFor(() => (warm(join(wts, '.pool'), repo) >= pool ? true : undefined), { timeoutMs: 300_000, intervalMs: 20, what: 'the pool' });
      const t0 = performance.now();
      execFileSync('git', ['worktree', 'add', '-q', '-b', `bare-${label}-${i}`, join(work, `bare-${label}-${i}`), 'main'], { cwd: repo });
      bare.push(performance.now() - t0);
      const began = Date.now();
      const { id } = JSON.parse(swarm(repo, ['spawn', '--json', `Bench ${label} ${i}`])) as { id: number };
      ids.push(id);
      const started = await waitFor(() => (existsSync(join(marks, `${id}.start`)) ? Number(readFileSync(join(marks, `${id}.start`), 'utf8')) || undefined : undefined), { timeoutMs: 120_000, intervalMs: 2, what: 'agent start' });
      times.push(started - began);
    }
  } finally {
    await finish(repo, daemon, ids);
  }
  return times;
}

/** In MB. */
function mem(pid: number): { pss: number; rss: number } {
  const kb = memoryKb(pid);
  return { pss: kb.pss / 1024, rss: kb.rss / 1024 };
}
const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** 20 spawns at once, then the memory of what runs: holders (1 live, then 20) and the daemon. */
async function burst(repo: string, pool: number): Promise<{ allMs: number; one?: { pss: number; rss: number }; twenty?: { pss: number; rss: number }; daemon?: { pss: number; rss: number } }> {
  const label = `burst-${pool}`;
  const marks = join(work, `marks-${label}`);
  mkdirSync(marks);
  const wts = join(work, `wts-${label}`);
  writeFileSync(join(repo, 'swarm.config.json'), JSON.stringify({ agents: { bench: { command: [process.execPath, join(work, 'agent.mjs')], env: { MARK_DIR: marks } } }, concurrency: 20, stagger_ms: 0, notify: { desktop: false }, cleanup: { schedule: null }, memory: { agent_mb: 64, reserve_mb: 512 }, worktree: { dir: wts, pool } }));
  const daemon: ChildProcess = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: repo, stdio: 'ignore' });
  const ids: number[] = [];
  try {
    await waitFor(() => (existsSync(join(repo, '.swarm', 'daemon.json')) ? true : undefined), { timeoutMs: 20_000, what: 'daemon' });
    if (pool) await waitFor(() => (warm(join(wts, '.pool'), repo) >= pool ? true : undefined), { timeoutMs: 300_000, intervalMs: 20, what: 'the pool' });
    const registry = new Registry(join(repo, '.swarm', 'swarm.db'));
    let one: { pss: number; rss: number } | undefined;
    const began = Date.now();
    // One first (its holder measured alone), then the other 19 spawned together, as a script would.
    ids.push((JSON.parse(swarm(repo, ['spawn', '--json', 'Burst 0'])) as { id: number }).id);
    if (pool === 0) {
      await waitFor(() => (existsSync(join(marks, `${ids[0]!}.start`)) ? true : undefined), { timeoutMs: 60_000, what: 'first agent' });
      one = mem(registry.latestAttempt(ids[0]!, 'agent')!.holder_pid!);
    }
    const spawned = await Promise.all(
      Array.from({ length: 19 }, (_, i) => new Promise<number>((resolve, reject) => execFile(process.execPath, [BIN, 'spawn', '--json', `Burst ${i + 1}`], { cwd: repo }, (err, stdout) => (err ? reject(err) : resolve((JSON.parse(stdout) as { id: number }).id))))),
    );
    ids.push(...spawned);
    await waitFor(() => (ids.every((id) => existsSync(join(marks, `${id}.start`))) ? true : undefined), { timeoutMs: 300_000, intervalMs: 10, what: '20 agents' });
    const allMs = Math.max(...ids.map((id) => Number(readFileSync(join(marks, `${id}.start`), 'utf8')))) - began;
    const holders = ids.map((id) => mem(registry.latestAttempt(id, 'agent')!.holder_pid!));
    registry.close();
    return { allMs, one, twenty: { pss: avg(holders.map((h) => h.pss)), rss: avg(holders.map((h) => h.rss)) }, daemon: mem(daemon.pid!) };
  } finally {
    await finish(repo, daemon, ids);
  }
}

/** Median wall time of a command, in ms: what any process start costs on this machine. */
function startMs(argv: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    times.push(performance.now() - t0);
  }
  return median(times);
}
const nodeStart = startMs([process.execPath, '-e', '0']);
const cliStart = startMs([process.execPath, BIN, '--version']);
console.log(`## Floors on this machine (median of 7)`);
console.log(`node -e 0 (any Node process)  ${nodeStart.toFixed(0)} ms`);
console.log(`swarm --version               ${cliStart.toFixed(0)} ms = ${(cliStart / nodeStart).toFixed(2)}x a bare Node start`);
console.log('spawn -> agent running holds at least two Node starts (the swarm CLI, and this benchmark\'s agent, a Node script)');

for (const files of (process.env.BENCH_FILES ?? '5000,50000').split(',').map(Number)) {
  const repo = join(work, `repo-${files}`);
  mkdirSync(repo);
  makeSampleRepo(repo, { extraFiles: files });
  writeFileSync(join(work, 'agent.mjs'), AGENT);
  const bare: number[] = [];
  const cold = await runMode(repo, `${files}-cold`, 0, bare);
  const hot = await runMode(repo, `${files}-warm`, 2, bare);
  const base = median(bare);
  console.log(`\n## ${files.toLocaleString('en')} files: spawn -> agent running (median of ${RUNS})`);
  console.log(`bare git worktree add        ${base.toFixed(0)} ms (runs: ${bare.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`swarm, no pool (pool: 0)     ${median(cold).toFixed(0)} ms = ${(median(cold) / base).toFixed(2)}x   (runs: ${cold.join(', ')})`);
  console.log(`swarm, warm pool (pool: 2)   ${median(hot).toFixed(0)} ms = ${(median(hot) / base).toFixed(2)}x   (runs: ${hot.join(', ')})`);
  console.log(`floor: two bare Node starts  ${(2 * nodeStart).toFixed(0)} ms = ${((2 * nodeStart) / base).toFixed(2)}x`);
  if (files !== 5_000) continue;
  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  const cold20 = await burst(repo, 0);
  const warm20 = await burst(repo, 2);
  const idleMem = mem(idle.pid!);
  idle.kill();
  console.log(`\n## 20 tasks spawned at once (1, then 19 together) (concurrency 20, ${files.toLocaleString('en')} files, 2 cores)`);
  console.log(`until all 20 agents run      no pool ${(cold20.allMs / 1000).toFixed(1)} s | pool of 2 ${(warm20.allMs / 1000).toFixed(1)} s = ${(warm20.allMs / cold20.allMs).toFixed(2)}x`);
  console.log(`\n## Memory`);
  console.log(`idle node process (baseline) PSS ${idleMem.pss.toFixed(1)} MB, RSS ${idleMem.rss.toFixed(1)} MB`);
  console.log(`session holder, 1 live       PSS ${cold20.one!.pss.toFixed(1)} MB, RSS ${cold20.one!.rss.toFixed(1)} MB (${(cold20.one!.pss / idleMem.pss).toFixed(2)}x baseline PSS)`);
  console.log(`session holder, 20 live      PSS ${cold20.twenty!.pss.toFixed(1)} MB each, RSS ${cold20.twenty!.rss.toFixed(1)} MB (${(cold20.twenty!.pss / idleMem.pss).toFixed(2)}x baseline PSS)`);
  console.log(`daemon with 20 live          PSS ${cold20.daemon!.pss.toFixed(1)} MB, RSS ${cold20.daemon!.rss.toFixed(1)} MB`);
}
rmSync(work, { recursive: true, force: true });
