/**
 * swarm's sandbox on Linux: bubblewrap. The agent sees the machine read-only; its own task checkout (a clone
 * whose refs are its own) and its own home read-write; a private /tmp and /run; and neither `.swarm/` (the
 * daemon's token, other sessions), nor the other tasks' checkouts, nor the user's home (hidden whole: toolchains
 * are shown back read-only), nor other homes or root-only files. It runs with
 * no capabilities, even as root. The argument vector is built by a pure function; `plan.ts` looks at the machine.
 */
import { resolveExecutable } from '../agents/adapter.js';

export type SandboxMode = 'none' | 'bwrap';

export interface SandboxPlan {
  /** The task's checkout, read-write (its `.git` is inside: a clone, not a worktree on the shared refs). */
  worktree: string;
  /** A reviewer's checkout: shown read-only (a reviewer reads what it reviews, never writes it). */
  worktreeReadOnly?: boolean;
  /** The human's repository: read-only (the clone borrows its objects). */
  repoRoot: string;
  /** Homes hidden whole first (the user's, every other): what is shown of them comes back through `views`. */
  hiddenHomes?: readonly string[];
  /** Folders hidden whole before the task's own are bound: other tasks' checkouts, other agents' homes, `.swarm/`. */
  hiddenDirs: readonly string[];
  /** Root-only files of the machine (/etc/shadow, host keys) masked last: folders and files. */
  secrets: readonly { path: string; file: boolean }[];
  /** Read-only views put back after the homes are hidden (toolchains, a program under /tmp or a home, DNS under /run). */
  views: readonly string[];
  /** Read-only views inside hidden folders, put back after the hiding (the prompt file inside `.swarm/`). */
  shown: readonly string[];
  /** The agent's own home (HOME inside), read-write; null: none. */
  home: string | null;
  /** Read-only files put into that home (the user's git identity): [from, to]. */
  homeFiles: readonly (readonly [string, string])[];
  /** "host": the machine's network (agents call their model APIs); "none": loopback only. */
  network: 'host' | 'none';
  /** With network "none": the folder of the bridge's unix sockets, seen inside as /run/swarm-net. */
  netDir?: string | null;
}

/** Pure: the bubblewrap command that runs `argv` confined as described by `plan`. Later mounts cover earlier ones. */
export function bwrapArgv(bwrap: string, argv: readonly string[], plan: SandboxPlan): string[] {
  const args = [bwrap, '--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--cap-drop', 'ALL'];
  if (plan.network === 'none') args.push('--unshare-net');
  args.push('--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--tmpfs', '/run');
  if (plan.network === 'none' && plan.netDir) args.push('--bind', plan.netDir, '/run/swarm-net');
  for (const dir of plan.hiddenHomes ?? []) args.push('--tmpfs', dir);
  // The main checkout is the human's: read-only, even when it lies under /tmp or a hidden home.
  args.push('--ro-bind', plan.repoRoot, plan.repoRoot);
  for (const path of plan.views) args.push('--ro-bind', path, path);
  for (const dir of plan.hiddenDirs) args.push('--tmpfs', dir);
  for (const path of plan.shown) args.push('--ro-bind', path, path);
  if (plan.home) {
    args.push('--bind', plan.home, plan.home);
    for (const [from, to] of plan.homeFiles) args.push('--ro-bind', from, to);
  }
  args.push(plan.worktreeReadOnly ? '--ro-bind' : '--bind', plan.worktree, plan.worktree);
  for (const { path, file } of plan.secrets) args.push(...(file ? ['--ro-bind', '/dev/null', path] : ['--tmpfs', path]));
  // The hidden homes read-only last (what was bound inside them keeps its own mode): nothing written there
  // could look, to the agent, like it landed in the user's home.
  for (const dir of plan.hiddenHomes ?? []) args.push('--remount-ro', dir);
  args.push('--chdir', plan.worktree, '--', ...argv);
  return args;
}

export function findBwrap(path = process.env.PATH ?? ''): string | null {
  return resolveExecutable('bwrap', '/', path);
}

export const BWRAP_MISSING = 'The bubblewrap sandbox needs `bwrap`, which is not on PATH. Install it (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install bubblewrap`), or set "sandbox": "none".';
