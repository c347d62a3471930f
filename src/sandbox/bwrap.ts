/**
 * swarm's sandbox on Linux: bubblewrap. The agent sees the machine read-only, its own worktree and the git
 * directories a commit writes read-write, a private /tmp, and neither `.swarm/` (the daemon's token, other
 * sessions) nor the other tasks' worktrees nor the usual home secrets. Network stays on: agents call their
 * model APIs. The argument vector is built by a pure function; only `findBwrap` looks at the machine.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveExecutable } from '../agents/adapter.js';

export type SandboxMode = 'none' | 'bwrap';

export interface SandboxPlan {
  worktree: string;
  /** Writable: the worktree's own git dir and the repository's common one. */
  gitDirs: readonly string[];
  repoRoot: string;
  /** `.swarm/` of the repository: hidden. */
  stateDir: string;
  /** The prompt file, shown read-only although `.swarm/` is hidden. */
  promptFile: string;
  /** The user's home, writable (CLIs keep their logins and settings there) with the secrets below hidden. */
  home: string | null;
  /** Folders under /tmp the agent's own program lives in: shown read-only through the private /tmp. */
  programDirs?: readonly string[];
  /** Paths that exist and must be hidden (home secrets). */
  hidden: readonly { path: string; file: boolean }[];
}

/** Home entries no agent needs: keys, cloud and forge credentials. */
export const HOME_SECRETS = ['.ssh', '.gnupg', '.aws', '.azure', '.config/gcloud', '.config/gh', '.docker', '.kube', '.netrc', '.git-credentials', '.npmrc', '.pypirc'];

export function homeSecrets(home: string): { path: string; file: boolean }[] {
  return HOME_SECRETS.map((entry) => join(home, entry))
    .filter((path) => existsSync(path))
    .map((path) => ({ path, file: !statSync(path).isDirectory() }));
}

/** Pure: the bubblewrap command that runs `argv` confined as described by `plan`. */
export function bwrapArgv(bwrap: string, argv: readonly string[], plan: SandboxPlan): string[] {
  const args = [bwrap, '--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
  for (const dir of plan.programDirs ?? []) args.push('--ro-bind', dir, dir);
  if (plan.home) args.push('--bind', plan.home, plan.home);
  for (const { path, file } of plan.hidden) args.push(...(file ? ['--ro-bind', '/dev/null', path] : ['--tmpfs', path]));
  // The main checkout is the human's: read-only, whatever HOME allows.
  args.push('--ro-bind', plan.repoRoot, plan.repoRoot);
  // Other tasks' worktrees live beside this one: hide them all, then show this one.
  const siblings = dirname(plan.worktree);
  if (siblings !== '/' && !plan.repoRoot.startsWith(`${siblings}/`)) args.push('--tmpfs', siblings);
  args.push('--bind', plan.worktree, plan.worktree);
  // The common git dir before the worktree's own (nested inside it).
  for (const dir of [...plan.gitDirs].sort((a, b) => a.length - b.length)) args.push('--bind', dir, dir);
  args.push('--tmpfs', plan.stateDir, '--ro-bind', plan.promptFile, plan.promptFile);
  args.push('--chdir', plan.worktree, '--', ...argv);
  return args;
}

/** The top folder under /tmp that holds the program (a private /tmp would hide it), if it is there. */
export function programDirsUnderTmp(executable: string): string[] {
  let real = executable;
  try {
    real = realpathSync(executable);
  } catch {
    // as given
  }
  const match = /^\/tmp\/[^/]+/.exec(real);
  return match ? [match[0]] : [];
}

export function findBwrap(path = process.env.PATH ?? ''): string | null {
  return resolveExecutable('bwrap', '/', path);
}

export const BWRAP_MISSING = 'The bubblewrap sandbox needs `bwrap`, which is not on PATH. Install it (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install bubblewrap`), or set "sandbox": "none".';
