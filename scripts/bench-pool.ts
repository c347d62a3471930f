/**
 * Spawn -> agent running with and without warm worktrees (issue: speed), against a bare `git worktree add`
 * of the same repository measured in the same run, on repositories of 5,000 and 50,000 files. Prints figures;
 * asserts nothing. Run: npm run bench:pool
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from '../registry/registry.js';
import { makeSampleRepo } from '../src/cli/sample-repo.js';
import { stopLiveSessions } from '../src/sessions/sessions.js';
import { waitFor } from '../src/wait.js';

const BIN = fileURLToPath(new URL('../../bin/swarm.js', import.meta.url));
const work = realpathSync(mkdtempSync(join(tmpdir(), 'swarm-bench-pool-')));
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

function warm(poolDir: string): number {
  return existsSync(poolDir) ? readdirSync(poolDir).filter((d) => existsSync(join(poolDir, d, '.git'))).length : 0;
}

async function runMode(repo: string, label: string, pool: number, bare: number[]): Promise<number[]> {
  const marks = join(work, `marks-${label}`);
  mkdirSync(marks);
  const wts = join(work, `wts-${label}`);
  writeFileSync(join(repo, 'swarm.config.json'), JSON.stringify({ agents: { bench: { command: [process.execPath, join(work, 'agent.mjs')], env: { MARK_DIR: marks } } }, concurrency: 20, stagger_ms: 0, notify: { desktop: false }, cleanup: { schedule: null }, worktree: { dir: wts, pool } }));
  const daemon: ChildProcess = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: repo, stdio: 'ignore' });
  const times: number[] = [];
  try {
    await waitFor(() => (existsSync(join(repo, '.swarm', 'daemon.json')) ? true : undefined), { timeoutMs: 20_000, what: 'daemon' });
    for (let i = 0; i < RUNS; i++) {
      // A spawn that finds the pool warm (refilled since the last one), as when tasks come minutes apart.
      if (pool) await waitFor(() => (warm(join(wts, '.pool')) >= pool ? true : undefined), { timeoutMs: 300_000, intervalMs: 20, what: 'the pool' });
      const t0 = performance.now();
      execFileSync('git', ['worktree', 'add', '-q', '-b', `bare-${label}-${i}`, join(work, `bare-${label}-${i}`), 'main'], { cwd: repo });
      bare.push(performance.now() - t0);
      const began = Date.now();
      const { id } = JSON.parse(swarm(repo, ['spawn', '--json', `Bench ${label} ${i}`])) as { id: number };
      const started = await waitFor(() => (existsSync(join(marks, `${id}.start`)) ? Number(readFileSync(join(marks, `${id}.start`), 'utf8')) || undefined : undefined), { timeoutMs: 120_000, intervalMs: 2, what: 'agent start' });
      times.push(started - began);
    }
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    const registry = new Registry(join(repo, '.swarm', 'swarm.db'));
    await stopLiveSessions(registry.openSessions().map((a) => a.session_dir));
    registry.close();
  }
  return times;
}

for (const files of [5_000, 50_000]) {
  const repo = join(work, `repo-${files}`);
  mkdirSync(repo);
  makeSampleRepo(repo, { extraFiles: files });
  writeFileSync(join(work, 'agent.mjs'), AGENT);
  const bare: number[] = [];
  const cold = await runMode(repo, `${files}-cold`, 0, bare);
  const hot = await runMode(repo, `${files}-warm`, 2, bare);
  const base = median(bare);
  console.log(`\n## ${files.toLocaleString('en')} files: spawn -> agent running (median of ${RUNS})`);
  console.log(`bare git worktree add        ${base.toFixed(0)} ms`);
  console.log(`swarm, no pool (pool: 0)     ${median(cold).toFixed(0)} ms = ${(median(cold) / base).toFixed(2)}x   (runs: ${cold.join(', ')})`);
  console.log(`swarm, warm pool (pool: 2)   ${median(hot).toFixed(0)} ms = ${(median(hot) / base).toFixed(2)}x   (runs: ${hot.join(', ')})`);
}
rmSync(work, { recursive: true, force: true });
