/**
 * What the dashboard costs (issue: dashboard). 200 tasks on the board, 20 agents streaming output; prints
 * figures as ratios against baselines measured in the same run; asserts nothing. Run: npm run bench:dashboard
 *  1. time to first paint and to a full board (200 cards) on loopback, vs the first paint of a bare page
 *     served by the same daemon
 *  2. daemon CPU and memory with the board and the 20-terminal grid open, vs the same daemon with no browser
 *  3. bytes per second per terminal sent to the browser, vs the bytes the agent printed
 *  4. the UI bundle, vs xterm.js alone
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { Registry } from '../registry/registry.js';
import { makeSampleRepo } from '../src/cli/sample-repo.js';
import { waitFor } from '../src/wait.js';
import { memoryKb } from './proc-memory.js';
import { stopLiveSessions } from '../src/sessions/sessions.js';

const BIN = fileURLToPath(new URL('../../bin/swarm.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = realpathSync(mkdtempSync(join(tmpdir(), 'swarm-bench-dashboard-')));
const AGENTS = 20;
const OTHERS = 180;
const WINDOW_MS = 10_000;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// An agent at work: a coloured progress line redrawn, and a log line, every 50 ms (like a CLI thinking aloud).
const AGENT = `let n = 0;
setInterval(() => {
  n++;
  process.stdout.write('\\r\\x1b[2K\\x1b[36m⠋\\x1b[0m thinking… step ' + n);
  if (n % 4 === 0) process.stdout.write('\\r\\x1b[2Kread src/file' + (n % 97) + '.ts: ' + 'ok '.repeat(15) + '\\n');
}, 50);
`;

function swarm(cwd: string, args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

interface Status {
  active: number;
  web: { terminals: number; terminal_bytes: number; stream_bytes: number; terminal_screens: number };
}

async function status(repo: string): Promise<Status> {
  const info = JSON.parse(readFileSync(join(repo, '.swarm', 'daemon.json'), 'utf8')) as { port: number; token: string };
  const response = await fetch(`http://127.0.0.1:${info.port}/api/v1/status`, { headers: { authorization: `Bearer ${info.token}` } });
  return (await response.json()) as Status;
}

/** Daemon CPU (% of one core) and memory over a window. */
async function sample(pid: number): Promise<{ cpu: number; rss: number; pss: number }> {
  const t0 = cpuTicks(pid);
  const began = performance.now();
  const mems: { rss: number; pss: number }[] = [];
  await waitFor(
    () => {
      mems.push(memoryKb(pid));
      return performance.now() - began >= WINDOW_MS ? true : undefined;
    },
    { timeoutMs: WINDOW_MS * 2, intervalMs: 1000, what: 'the sampling window' },
  );
  const seconds = (performance.now() - began) / 1000;
  return { cpu: ((cpuTicks(pid) - t0) / 100 / seconds) * 100, rss: Math.max(...mems.map((m) => m.rss)) / 1024, pss: Math.max(...mems.map((m) => m.pss)) / 1024 };
}

function transcriptBytes(repo: string): number {
  const registry = new Registry(join(repo, '.swarm', 'swarm.db'));
  try {
    return registry.openSessions().reduce((sum, a) => sum + (existsSync(join(a.session_dir, 'transcript.log')) ? statSync(join(a.session_dir, 'transcript.log')).size : 0), 0);
  } finally {
    registry.close();
  }
}

async function main(): Promise<void> {
  const repo = join(work, 'repo');
  mkdirSync(repo);
  makeSampleRepo(repo);
  const agentFile = join(work, 'agent.mjs');
  writeFileSync(agentFile, AGENT);
  writeFileSync(join(repo, 'swarm.config.json'), JSON.stringify({ base: 'main', agents: { stream: { command: [process.execPath, agentFile] } }, worktree: { dir: join(work, 'wt') }, stagger_ms: 0, concurrency: AGENTS, notify: { desktop: false }, cleanup: { schedule: null } }));
  // 180 finished, ready and stuck tasks on the board (written as the daemon would leave them).
  execFileSync(process.execPath, [BIN, 'ls'], { cwd: repo });
  const registry = new Registry(join(repo, '.swarm', 'swarm.db'));
  const ends = ['done', 'ready', 'needs_help', 'cancelled'] as const;
  for (let i = 0; i < OTHERS; i++) {
    const task = registry.createTask({ title: `Earlier task ${i}: tidy module ${i % 17}`, prompt: 'p', agent: 'stream', base: 'main', branch: `swarm/{id}-old`, worktree: join(work, 'wt', '{id}'), max_retries: 3 });
    const to = ends[i % ends.length]!;
    registry.transition(task.id, 'queued', to, { event: 'bench', patch: to === 'ready' ? { ready_at: Date.now() } : to === 'done' ? { done_at: Date.now() } : { reason: 'CI failed 3 times' } });
  }
  registry.close();
  const daemon: ChildProcess = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: repo, stdio: 'ignore', env: { ...process.env, XDG_DATA_HOME: join(work, 'data') } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  try {
    await waitFor(() => (existsSync(join(repo, '.swarm', 'daemon.json')) ? true : undefined), { timeoutMs: 20_000, what: 'daemon' });
    for (let i = 0; i < AGENTS; i++) swarm(repo, ['spawn', '--agent', 'stream', `Streaming agent ${i}`]);
    await waitFor(async () => ((await status(repo)).active >= AGENTS ? true : undefined), { timeoutMs: 120_000, intervalMs: 200, what: '20 agents running' });
    const pid = daemon.pid!;

    const idle = await sample(pid);

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const bare = await context.newPage();
    const { url } = JSON.parse(swarm(repo, ['dashboard', '--json'])) as { url: string };
    const origin = new URL(url).origin;
    await bare.goto(`${origin}/not-signed-in-yet`);
    const barePaint = await bare.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
    await bare.close();
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction((n) => document.querySelectorAll('.card').length >= n, AGENTS + OTHERS, { timeout: 60_000 });
    const paint = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      board: performance.now() - (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).startTime,
    }));
    const boardOpen = await sample(pid);

    const grid = await context.newPage();
    await grid.goto(`${origin}/grid`);
    // Open and drawn: each terminal has had its screen (rendered by its holder) before the window starts.
    await waitFor(async () => ((await status(repo)).web.terminal_screens >= AGENTS ? true : undefined), { timeoutMs: 60_000, intervalMs: 200, what: '20 terminals open' });
    const before = await status(repo);
    const printedBefore = transcriptBytes(repo);
    const began = performance.now();
    const gridOpen = await sample(pid);
    const after = await status(repo);
    const seconds = (performance.now() - began) / 1000;
    const perTerminal = (after.web.terminal_bytes - before.web.terminal_bytes) / seconds / AGENTS;
    const printed = (transcriptBytes(repo) - printedBefore) / seconds / AGENTS;
    const streamRate = (after.web.stream_bytes - before.web.stream_bytes) / seconds;

    const js = readFileSync(join(ROOT, 'dist', 'web', 'main.js'));
    const css = readFileSync(join(ROOT, 'dist', 'web', 'main.css'));
    const xterm = readFileSync(join(ROOT, 'node_modules', '@xterm', 'xterm', 'lib', 'xterm.mjs'));
    const kb = (n: number): string => `${(n / 1024).toFixed(0)} KB`;

    console.log(`dashboard bench: ${AGENTS + OTHERS} tasks on the board, ${AGENTS} agents printing (a redrawn progress line + a log line every 50 ms each), 2 cores`);
    console.log(`first paint            ${paint.fcp.toFixed(0)} ms (bare page from the same daemon: ${barePaint.toFixed(0)} ms) = ${(paint.fcp / barePaint).toFixed(2)}x`);
    console.log(`full board (220 cards) ${paint.board.toFixed(0)} ms from navigation`);
    console.log(`daemon CPU             no browser ${idle.cpu.toFixed(1)}% | board open ${boardOpen.cpu.toFixed(1)}% | board + 20-terminal grid ${gridOpen.cpu.toFixed(1)}% of one core (${(gridOpen.cpu / Math.max(idle.cpu, 0.1)).toFixed(2)}x no browser)`);
    console.log(`daemon memory (PSS)    no browser ${idle.pss.toFixed(1)} MB | board ${boardOpen.pss.toFixed(1)} MB | grid ${gridOpen.pss.toFixed(1)} MB = ${(gridOpen.pss / idle.pss).toFixed(2)}x (RSS ${idle.rss.toFixed(0)} -> ${gridOpen.rss.toFixed(0)} MB)`);
    console.log(`per terminal           ${(perTerminal / 1024).toFixed(2)} KB/s sent vs ${(printed / 1024).toFixed(2)} KB/s printed by its agent = ${(perTerminal / printed).toFixed(2)}x (${after.web.terminals} terminals open, ${after.web.terminal_screens - before.web.terminal_screens} reconnects in the window)`);
    console.log(`board event stream     ${kb(streamRate)}/s for the whole board (cards + last lines, at most 2 per second per task)`);
    console.log(`UI bundle              ${kb(js.length)} JS + ${kb(css.length)} CSS, ${kb(gzipSync(js).length + gzipSync(css).length)} gzipped; xterm.js alone ${kb(xterm.length)} = ${((js.length + css.length) / xterm.length).toFixed(2)}x`);
    await context.close();
  } finally {
    await browser.close();
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
    const left = new Registry(join(repo, '.swarm', 'swarm.db'));
    await stopLiveSessions(left.openSessions().map((a) => a.session_dir));
    left.close();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
