/**
 * What the bubblewrap sandbox costs (issue: sandbox). Prints figures as ratios against the unsandboxed run
 * measured in the same process; asserts nothing. Run: npm run bench:sandbox
 *  1. spawn latency: `swarm spawn` -> agent running, sandboxed (a clone, bwrap) vs not (a worktree), 5,000-file repo
 *  2. CI time: the sample's test command confined vs not, in the same checkout
 *  3. memory: what the bwrap processes add to one running agent (PSS)
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSampleRepo, sampleCiCommand } from '../src/cli/sample-repo.js';
import { findBwrap } from '../src/sandbox/bwrap.js';
import { runSandboxed, sandboxPlan } from '../src/sandbox/plan.js';
import { waitFor } from '../src/wait.js';
import { memoryKb } from './proc-memory.js';
import { cleanEnv } from '../src/agents/adapter.js';

const BIN = fileURLToPath(new URL('../../bin/swarm.js', import.meta.url));
const work = realpathSync(mkdtempSync(join(tmpdir(), 'swarm-bench-sandbox-')));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;

const pssKb = (pid: number): number => memoryKb(pid).pss;

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function swarm(cwd: string, args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
}

// Marks its start inside its own checkout (the only place a sandboxed agent may write), then waits to be released.
const AGENT = `import { existsSync, writeFileSync } from 'node:fs';
writeFileSync('started.mark', String(Date.now()));
const t = setInterval(() => { if (existsSync('release.mark')) { clearInterval(t); } }, 20);
`;

async function startDaemon(repo: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: repo, stdio: 'ignore', env: { ...process.env, XDG_DATA_HOME: join(work, 'data') } });
  await waitFor(() => (existsSync(join(repo, '.swarm', 'daemon.json')) ? true : undefined), { timeoutMs: 20_000, what: 'daemon' });
  return child;
}

async function benchSpawn(): Promise<{ pss: number; bwrapPss: number }> {
  const repo = join(work, 'big');
  mkdirSync(repo);
  makeSampleRepo(repo, { extraFiles: 5_000 });
  const agentFile = join(work, 'agent.mjs');
  writeFileSync(agentFile, AGENT);
  const worktrees = join(work, 'wt');
  const config = { base: 'main', agents: { open: { command: [process.execPath, agentFile], sandbox: 'none' }, boxed: { command: [process.execPath, agentFile], sandbox: 'bwrap' } }, worktree: { dir: worktrees }, stagger_ms: 0, concurrency: 8 };
  writeFileSync(join(repo, 'swarm.config.json'), JSON.stringify(config));
  const daemon = await startDaemon(repo);
  const times: Record<'open' | 'boxed', number[]> = { open: [], boxed: [] };
  let bwrapPss = 0;
  let agentPss = 0;
  try {
    for (let i = 0; i < 5; i++) {
      for (const agent of ['open', 'boxed'] as const) {
        const t0 = performance.now();
        const { id } = JSON.parse(swarm(repo, ['spawn', '--json', '--agent', agent, `bench ${agent} ${i}`])) as { id: number };
        const mark = await waitFor(() => readdirSync(existsSync(worktrees) ? worktrees : work).find((d) => d.startsWith(`${id}-`) && existsSync(join(worktrees, d, 'started.mark'))), { timeoutMs: 60_000, what: `task ${id} started` });
        times[agent].push(performance.now() - t0);
        if (agent === 'boxed' && i === 0) {
          // The session's child is the outer bwrap; under it bwrap's init, under that the agent.
          const sessions = join(repo, '.swarm', 'sessions');
          const dir = readdirSync(sessions).find((d) => d.startsWith(`t${id}-a1`))!;
          const state = JSON.parse(readFileSync(join(sessions, dir, 'state.json'), 'utf8')) as { child_pid: number };
          const outer = state.child_pid;
          const inner = children(outer)[0];
          const agentPid = inner ? children(inner)[0] : undefined;
          bwrapPss = pssKb(outer) + (inner ? pssKb(inner) : 0);
          agentPss = agentPid ? pssKb(agentPid) : 0;
        }
        writeFileSync(join(worktrees, mark, 'release.mark'), '');
      }
    }
  } finally {
    daemon.kill('SIGTERM');
  }
  const open = median(times.open);
  const boxed = median(times.boxed);
  console.log(`1. spawn -> agent running, 5,000-file repo (median of 5, interleaved):`);
  console.log(`   worktree, no sandbox  ${fmt(open)}   (baseline)`);
  console.log(`   clone + bwrap         ${fmt(boxed)}   ${(boxed / open).toFixed(2)}x`);
  return { pss: agentPss, bwrapPss };
}

function run(argv: string[], cwd: string): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    execFile(argv[0]!, argv.slice(1), { cwd, env: { ...cleanEnv(), CI: 'true' } }, () => resolve(performance.now() - t0));
  });
}

async function benchCi(): Promise<void> {
  const repo = join(work, 'ci');
  mkdirSync(repo);
  makeSampleRepo(repo);
  const command = sampleCiCommand();
  const plan = sandboxPlan({ repoRoot: repo, worktree: repo, stateDir: join(repo, '.swarm'), home: null });
  const open: number[] = [];
  const boxed: number[] = [];
  for (let i = 0; i < 5; i++) {
    open.push(await run(command, repo));
    const t0 = performance.now();
    await runSandboxed(plan, command, { ...cleanEnv(), CI: 'true' });
    boxed.push(performance.now() - t0);
  }
  console.log(`2. CI (the sample's node --test through tsx; median of 5, interleaved):`);
  console.log(`   unconfined  ${fmt(median(open))}   (baseline)`);
  console.log(`   bwrap       ${fmt(median(boxed))}   ${(median(boxed) / median(open)).toFixed(2)}x`);
}

async function main(): Promise<void> {
  if (!findBwrap()) throw new Error('bubblewrap (bwrap) is not installed: sudo apt-get install bubblewrap');
  try {
    const { pss, bwrapPss } = await benchSpawn();
    await benchCi();
    console.log(`3. memory of one running agent (PSS): the agent ${(pss / 1024).toFixed(1)} MB; bwrap's two processes add ${(bwrapPss / 1024).toFixed(2)} MB (${pss ? ((bwrapPss / pss) * 100).toFixed(1) : '?'}% of the agent)`);
  } finally {
    if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
  }
}

await main();
