/**
 * Hosts over SSH (issue 25). Prints figures as ratios against this machine measured in the same run; asserts
 * nothing. A real sshd on a loopback port stands in for the other machine (same CPU: the ratios show what SSH
 * and git add, not a faster box). Run: npm run bench:hosts
 *  1. spawn -> agent running, on the host vs here
 *  2. bytes the host holds per task (its mirror and checkout) against the repository's size
 *  3. one monitor pass over 20 running tasks on the host vs 20 here: wall time, CPU, ssh processes
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Monitor } from '../monitor/monitor.js';
import { makeSampleRepo } from '../src/cli/sample-repo.js';
import { openProject } from '../src/config/project.js';
import { LocalForge } from '../src/forge/local.js';
import { silentLogger } from '../src/log.js';
import { runnersOf } from '../src/runners/runners.js';
import { closeHost } from '../src/runners/ssh/ssh.js';
import { waitFor } from '../src/wait.js';
import { startSshd } from './sshd.js';

const BIN = fileURLToPath(new URL('../../bin/swarm.js', import.meta.url));
const work = realpathSync(mkdtempSync(join(tmpdir(), 'swarm-bench-hosts-')));
process.env.XDG_DATA_HOME = join(work, 'data');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const swarm = (cwd: string, args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
const duBytes = (path: string): number => Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);

const AGENT = `import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const dir = process.env.MARK_DIR, id = process.env.SWARM_TASK_ID;
writeFileSync(dir + '/' + id + '.tmp', String(Date.now()));
renameSync(dir + '/' + id + '.tmp', dir + '/' + id + '.start');
const t = setInterval(() => {
  if (!existsSync(dir + '/all.go')) return;
  clearInterval(t);
  writeFileSync('src/add.ts', 'export function addNumbers(a: number, b: number): number {\\n  return a + b;\\n}\\n');
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qam', 'fix']);
}, 20);
`;

async function main(): Promise<void> {
  const sshd = await startSshd();
  const repo = join(work, 'repo');
  mkdirSync(repo);
  makeSampleRepo(repo);
  const marks = join(work, 'marks');
  mkdirSync(marks);
  writeFileSync(join(work, 'agent.mjs'), AGENT);
  const host = { ssh: 'box', dir: join(work, 'remote'), slots: 40, swarm: [process.execPath, BIN], ssh_config: sshd.clientConfig };
  writeFileSync(
    join(repo, 'swarm.config.json'),
    JSON.stringify({ base: 'main', stagger_ms: 0, concurrency: 40, sandbox: 'none', memory: { agent_mb: 16, reserve_mb: 0 }, monitor: { schedule: '*/1 * * * * *' }, cleanup: { schedule: null }, notify: { desktop: false }, worktree: { dir: join(work, 'worktrees'), pool: 0 }, agents: { quick: { command: [process.execPath, join(work, 'agent.mjs')], sandbox: 'none', env: { MARK_DIR: marks } } }, hosts: { box: host } }),
  );
  let daemon: ChildProcess | null = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: repo, stdio: 'ignore', env: process.env });
  await waitFor(() => (existsSync(join(repo, '.swarm', 'daemon.json')) ? true : undefined), { timeoutMs: 20_000, what: 'daemon' });
  try {
    const spawnToRunning = async (where: string[]): Promise<number> => {
      const began = Date.now();
      const id = (JSON.parse(swarm(repo, ['spawn', '--json', ...where, 'Fix addNumbers'])) as { id: number }).id;
      const mark = join(marks, `${id}.start`);
      await waitFor(() => (existsSync(mark) ? true : undefined), { timeoutMs: 60_000, intervalMs: 5, what: `task ${id} to run` });
      return Number(readFileSync(mark, 'utf8')) - began;
    };
    const here: number[] = [];
    const there: number[] = [];
    for (let i = 0; i < 5; i++) {
      here.push(await spawnToRunning([]));
      there.push(await spawnToRunning(['--host', 'box']));
    }
    console.log(`1. spawn -> agent running: here ${median(here)} ms, on the host ${median(there)} ms (median of 5): ${(median(there) / median(here)).toFixed(2)}x`);

    const repoGit = duBytes(join(repo, '.git'));
    const hostRepo = join(host.dir, readdirSync(host.dir)[0]!);
    const mirror = duBytes(join(hostRepo, 'mirror.git'));
    const checkouts = readdirSync(join(hostRepo, 'checkouts'));
    const checkoutGit = median(checkouts.map((c) => duBytes(join(hostRepo, 'checkouts', c, '.git'))));
    console.log(`2. bytes on the host: the mirror ${mirror} B once (${(mirror / repoGit).toFixed(2)}x the repository's .git, ${repoGit} B); each task's checkout .git ${checkoutGit} B (${(checkoutGit / repoGit).toFixed(2)}x)`);

    // 20 running on each side: 5 + 5 already; 15 more of each.
    for (let i = 0; i < 15; i++) {
      swarm(repo, ['spawn', '--json', 'Fix addNumbers']);
      swarm(repo, ['spawn', '--json', '--host', 'box', 'Fix addNumbers']);
    }
    await waitFor(() => (readdirSync(marks).filter((f) => f.endsWith('.start')).length === 40 ? true : undefined), { timeoutMs: 180_000, what: '40 agents running' });
    daemon.kill('SIGKILL');
    daemon = null;

    // One pass, in this process, with a counting `ssh` first on PATH.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    const count = join(work, 'ssh-count');
    const realSsh = execFileSync('which', ['ssh'], { encoding: 'utf8' }).trim();
    writeFileSync(join(bin, 'ssh'), `#!/bin/sh\necho >> '${count}'\nexec '${realSsh}' "$@"\n`);
    chmodSync(join(bin, 'ssh'), 0o755);
    process.env.PATH = `${bin}${delimiter}${process.env.PATH ?? ''}`;
    const project = await openProject(repo);
    const runners = runnersOf(project);
    const forge = new LocalForge({ repoRoot: repo, config: project.config, registry: project.registry, sessionsDir: project.paths.sessions, runners });
    const monitor = new Monitor({ repoRoot: repo, config: project.config, registry: project.registry, forge, channels: [], log: silentLogger(), agentTimeoutMinutes: () => 600, sessionsDir: project.paths.sessions, runners });
    await monitor.tick(); // the shared connection is made once
    const pass = async (): Promise<{ ms: number; cpu: number; ssh: number }> => {
      writeFileSync(count, '');
      const cpu = process.cpuUsage();
      const began = performance.now();
      await monitor.tick();
      const used = process.cpuUsage(cpu);
      return { ms: performance.now() - began, cpu: (used.user + used.system) / 1000, ssh: readFileSync(count, 'utf8').split('\n').filter((l) => l === '').length - 1 };
    };
    const passes = [await pass(), await pass(), await pass()];
    const best = passes.sort((a, b) => a.ms - b.ms)[0]!;
    // The same pass with only the 20 local tasks in view: the host's tasks set aside for the measurement.
    const remote = project.registry.listTasks(['running']).filter((t) => t.host !== null);
    for (const t of remote) project.registry.transition(t.id, 'running', 'needs_help', { event: 'bench_parked' });
    const local = [await pass(), await pass(), await pass()].sort((a, b) => a.ms - b.ms)[0]!;
    console.log(`3. one monitor pass, 20 running tasks here: ${local.ms.toFixed(1)} ms, ${local.cpu.toFixed(1)} ms CPU; plus 20 on the host: ${best.ms.toFixed(1)} ms (${(best.ms / local.ms).toFixed(1)}x), ${best.cpu.toFixed(1)} ms CPU in the daemon, ${best.ssh} ssh processes (all 20 sessions read in one round trip, over the shared connection)`);
    writeFileSync(join(marks, 'all.go'), 'go');
    await closeHost(host, project.paths.dir);
    project.registry.close();
  } finally {
    daemon?.kill('SIGKILL');
    // Every agent and holder, here and on the host, goes with the benchmark.
    for (const sessions of [join(repo, '.swarm', 'sessions'), ...(existsSync(host.dir) ? readdirSync(host.dir).map((d) => join(host.dir, d, 'sessions')) : [])]) {
      if (!existsSync(sessions)) continue;
      for (const name of readdirSync(sessions)) {
        try {
          const state = JSON.parse(readFileSync(join(sessions, name, 'state.json'), 'utf8')) as { holder_pid: number; child_pid: number };
          for (const pid of [state.child_pid, state.holder_pid]) process.kill(pid, 'SIGKILL');
        } catch {
          // not started, or gone
        }
      }
    }
    sshd.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
