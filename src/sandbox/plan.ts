/**
 * Where a sandboxed run may look, worked out from the machine (what exists, where homes and checkouts live),
 * and how to run a command there: an agent in its pty, CI, setup commands, and git in a task's checkout.
 * Anything the daemon runs in a checkout an agent controls runs confined: a repository's own config and hooks
 * can run commands (core.fsmonitor, filters, hooks), and the agent wrote them.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { SWARM_ROOT } from '../install.js';
import { SandboxError } from '../errors.js';
import { BWRAP_MISSING, bwrapArgv, findBwrap, type SandboxPlan } from './bwrap.js';
import { knownStateDirs } from './known-repos.js';
import { swarmDataDir } from './data-dir.js';
import { homeView, programView } from './home-view.js';

function realPathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function existing(paths: readonly string[]): string[] {
  return [...new Set(paths)].filter((path) => {
    try {
      return lstatSync(path).isDirectory();
    } catch {
      return false;
    }
  });
}

/** /etc/resolv.conf pointing into /run (systemd-resolved): that folder shown again through the private /run. */
function dnsUnderRun(): string[] {
  try {
    if (!lstatSync('/etc/resolv.conf').isSymbolicLink()) return [];
    const target = resolve('/etc', readlinkSync('/etc/resolv.conf'));
    return target.startsWith('/run/') && existsSync(target) ? [dirname(target)] : [];
  } catch {
    return [];
  }
}

export interface PlanInput {
  repoRoot: string;
  worktree: string;
  /** `.swarm/` of the repository. */
  stateDir: string;
  /** HOME inside; null for a git command that needs none. */
  home: string | null;
  promptFile?: string;
  /** Programs that must stay reachable (the agent's executable). */
  programs?: readonly string[];
  network?: 'host' | 'none';
  netDir?: string | null;
  /** The checkout is shown read-only (a reviewer's). */
  readOnly?: boolean;
  /** More of the user's home shown read-only (`sandbox_home_read`), relative to it. */
  homeRead?: readonly string[];
  /** Another home the agent's files were copied from (an agent's configured HOME): hidden too. */
  sourceHome?: string | null;
}

export function sandboxPlan(input: PlanInput): SandboxPlan {
  const realHome = homedir();
  const siblings = dirname(input.worktree);
  const ancestorOfRepo = (dir: string): boolean => input.repoRoot === dir || input.repoRoot.startsWith(`${dir}/`);
  const uid = process.getuid?.() ?? 0;
  const hiddenDirs = existing([
    // Other tasks' checkouts, and swarm's data of every repository (other checkouts, agents' homes).
    ...[siblings, swarmDataDir()].filter((dir) => dir !== '/' && !ancestorOfRepo(dir)),
    input.stateDir,
    // Every other repository's `.swarm/` this machine has run a daemon for (their tokens).
    ...knownStateDirs(),
    // Holders' sockets when their paths are long (a socket on a read-only mount still answers).
    join(tmpdir(), `swarm-${uid}`),
    `/var/run/user/${uid}`,
  ]);
  // The user's home hidden whole (and every other home), with the toolchains in it shown back read-only.
  const isDir = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  const machine = homeView({ home: realHome, extraRead: input.homeRead ?? [], exists: existsSync, isDir, listDir: (path) => readdirSync(path) });
  const hiddenHomes = [...machine.hide, ...(input.sourceHome && input.sourceHome !== realHome && !input.sourceHome.startsWith('/tmp/') ? [input.sourceHome] : [])];
  const secrets = machine.secrets;
  const homeFiles: [string, string][] = [];
  if (input.home && input.home !== realHome) {
    for (const file of ['.gitconfig', '.config/git/config', '.config/git/ignore']) {
      const from = join(realHome, file);
      if (existsSync(from) && statSync(from).isFile()) homeFiles.push([from, join(input.home, file)]);
    }
  }
  // swarm itself, node and the agent's program, where they live in a hidden place (/tmp is private, homes hidden).
  const hiddenRoots = ['/tmp', ...hiddenHomes];
  const programs = [SWARM_ROOT, process.execPath, ...(input.programs ?? [])].flatMap((program) => {
    const view = program === SWARM_ROOT ? (hiddenRoots.some((root) => SWARM_ROOT.startsWith(`${root}/`)) ? SWARM_ROOT : null) : programView(realPathOf(program), hiddenRoots);
    return view && existsSync(view) ? [view] : [];
  });
  const views = [...new Set([...machine.show, ...programs, ...dnsUnderRun()])];
  return { worktree: input.worktree, ...(input.readOnly ? { worktreeReadOnly: true } : {}), repoRoot: input.repoRoot, hiddenHomes, views, hiddenDirs, shown: input.promptFile ? [input.promptFile] : [], home: input.home, homeFiles, secrets, network: input.network ?? 'host', netDir: input.netDir ?? null };
}

/** The argument vector running `argv` confined by `plan`; an error saying how to install bubblewrap when it is missing. */
export function sandboxCommand(plan: SandboxPlan, argv: readonly string[]): string[] {
  const bwrap = findBwrap();
  if (!bwrap) throw new SandboxError(BWRAP_MISSING);
  if (plan.home) for (const [, to] of plan.homeFiles) mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
  return bwrapArgv(bwrap, argv, plan);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Killed at the time limit. */
  timedOut?: boolean;
}

/** Runs a command confined, with only `env`; never a shell. */
export function runSandboxed(plan: SandboxPlan, argv: readonly string[], env: Record<string, string>, timeoutMs = 120_000): Promise<RunResult> {
  const command = sandboxCommand(plan, argv);
  return new Promise((done) => {
    execFile(command[0]!, command.slice(1), { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 127) : 0, stdout, stderr: `${stderr}${err && typeof err.code !== 'number' ? err.message : ''}`, ...(err?.killed ? { timedOut: true } : {}) });
    });
  });
}

/** The plan for a git command the daemon runs in a task's checkout: no home but the user's git identity. */
export function gitPlan(repoRoot: string, worktree: string): SandboxPlan {
  if (!isAbsolute(worktree)) throw new SandboxError(`${worktree} is not an absolute path`);
  return sandboxPlan({ repoRoot, worktree, stateDir: join(repoRoot, '.swarm'), home: null });
}
