/**
 * The phone (issue 27). Prints figures as ratios against a baseline measured in the same run; asserts nothing.
 * Loopback stand-ins for Telegram and Slack (scripts/fake-telegram.ts, fake-slack.ts), the real daemon.
 * Run: npm run bench:phone
 *  1. ready -> message on the phone: Telegram and Slack against a plain webhook to a loopback server
 *  2. idle cost of listening (Telegram's long poll, Slack's Socket Mode): requests an hour, and the daemon's
 *     CPU against the same daemon idle with neither
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSampleRepo, sampleCiCommand } from '../src/cli/sample-repo.js';
import { openProject } from '../src/config/project.js';
import { waitFor } from '../src/wait.js';
import { startFakeSlack } from './fake-slack.js';
import { startFakeTelegram } from './fake-telegram.js';
import { listenLoopback } from './loopback.js';

const BIN = fileURLToPath(new URL('../../bin/swarm.js', import.meta.url));
const work = realpathSync(mkdtempSync(join(tmpdir(), 'swarm-bench-phone-')));
process.env.XDG_DATA_HOME = join(work, 'data');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const swarm = (cwd: string, args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
const TASKS = 6;
const IDLE_MS = 60_000;

const AGENT = `import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
writeFileSync('src/add.ts', 'export function addNumbers(a: number, b: number): number {\\n  return a + b;\\n}\\n');
execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qam', 'fix']);
`;

/** CPU seconds the process has used (user + system), from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks (USER_HZ 100)
}

async function main(): Promise<void> {
  const hook: number[] = [];
  const hookServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hook.push(Date.now());
      res.end('ok');
    });
  });
  const hookUrl = await listenLoopback(hookServer);
  const tg = await startFakeTelegram();
  const slack = await startFakeSlack();
  const repo = join(work, 'repo');
  mkdirSync(repo);
  makeSampleRepo(repo);
  writeFileSync(join(work, 'agent.mjs'), AGENT);
  const config = (notify: Record<string, unknown>): void =>
    writeFileSync(
      join(repo, 'swarm.config.json'),
      JSON.stringify({ base: 'main', stagger_ms: 0, concurrency: 4, sandbox: 'none', memory: { agent_mb: 16, reserve_mb: 0 }, monitor: { schedule: '*/1 * * * * *' }, cleanup: { schedule: null }, ci: { command: sampleCiCommand() }, notify: { desktop: false, ...notify }, worktree: { dir: join(work, 'worktrees'), pool: 0 }, agents: { quick: { command: [process.execPath, join(work, 'agent.mjs')], sandbox: 'none' } } }),
    );
  const env = { ...process.env, TELEGRAM_BOT_TOKEN: tg.token, SLACK_BOT_TOKEN: slack.botToken, SLACK_APP_TOKEN: slack.appToken };
  const children: ChildProcess[] = [];
  const startDaemon = async (): Promise<ChildProcess> => {
    rmSync(join(repo, '.swarm', 'daemon.json'), { force: true });
    const child = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: repo, stdio: 'ignore', env });
    children.push(child);
    await waitFor(() => (existsSync(join(repo, '.swarm', 'daemon.json')) ? true : undefined), { timeoutMs: 20_000, what: 'daemon' });
    return child;
  };
  const stopDaemon = async (child: ChildProcess): Promise<void> => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  const all = { webhook: { url: hookUrl }, telegram: { chats: [1], api_url: tg.url }, slack: { channels: ['C0SWARM'], api_url: slack.apiUrl } };

  try {
    // 1. ready -> message, each channel, same tasks.
    config(all);
    const daemon = await startDaemon();
    const latency = { webhook: [] as number[], telegram: [] as number[], slack: [] as number[] };
    const project = await openProject(repo);
    for (let i = 0; i < TASKS; i++) {
      const { id } = JSON.parse(swarm(repo, ['spawn', '--json', '--agent', 'quick', `Fix addNumbers ${i}`])) as { id: number };
      const readyAt = await waitFor(() => project.registry.events(id).find((e) => e.to_state === 'ready')?.at, { timeoutMs: 60_000, what: `task ${id} ready` });
      const arrived = await waitFor(
        () => {
          const t = tg.messages.find((m) => m.text.startsWith(`Task ${id} ready`))?.at;
          const s = slack.messages.find((m) => m.text.startsWith(`Task ${id} ready`))?.at;
          const w = hook[i];
          return t && s && w ? { t, s, w } : undefined;
        },
        { timeoutMs: 30_000, what: `task ${id}'s messages` },
      );
      latency.telegram.push(arrived.t - readyAt);
      latency.slack.push(arrived.s - readyAt);
      latency.webhook.push(arrived.w - readyAt);
      swarm(repo, ['kill', String(id)]);
    }
    project.registry.close();
    const base = Math.max(1, median(latency.webhook));
    console.log(`1. ready -> message (median of ${TASKS}): webhook ${median(latency.webhook)} ms (baseline); Telegram ${median(latency.telegram)} ms (${(median(latency.telegram) / base).toFixed(2)}x); Slack ${median(latency.slack)} ms (${(median(latency.slack) / base).toFixed(2)}x)`);

    // 2. idle: the same daemon with the phone listening, and without.
    const idle = async (): Promise<{ cpu: number; telegram: number; slack: number }> => {
      const d = await startDaemon();
      await new Promise((resolve) => setTimeout(resolve, 5_000)); // past start-up
      const polls = tg.calls.get('getUpdates') ?? 0;
      const opens = slack.calls.get('apps.connections.open') ?? 0;
      const before = cpuMs(d.pid!);
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      const cpu = cpuMs(d.pid!) - before;
      const out = { cpu, telegram: (tg.calls.get('getUpdates') ?? 0) - polls, slack: (slack.calls.get('apps.connections.open') ?? 0) - opens };
      await stopDaemon(d);
      return out;
    };
    await stopDaemon(daemon);
    config({});
    const quiet = await idle();
    config({ telegram: { chats: [1], api_url: tg.url }, slack: { channels: ['C0SWARM'], api_url: slack.apiUrl } });
    const listening = await idle();
    const perHour = (n: number): number => Math.round((n * 3_600_000) / IDLE_MS);
    console.log(`2. idle for ${IDLE_MS / 1000} s: daemon CPU ${quiet.cpu.toFixed(0)} ms without the phone (baseline), ${listening.cpu.toFixed(0)} ms listening (${(listening.cpu / Math.max(1, quiet.cpu)).toFixed(2)}x); Telegram getUpdates ${perHour(listening.telegram)}/hour (poll_seconds 25); Slack: one WebSocket, ${perHour(listening.slack)} connection opens/hour, pings only`);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await tg.close();
    await slack.close();
    hookServer.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
