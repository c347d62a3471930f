/**
 * A sandboxed task works in a clone, not a worktree. A worktree shares the repository's refs and config: an
 * agent that can commit there can also move `main`, delete other branches, or plant a hook that runs as the
 * user. A clone has its own refs, config and hooks and borrows the repository's objects (read-only, through
 * `objects/info/alternates`), so it costs no more disk than a worktree. The daemon fetches the task's branch
 * back into the repository when the agent exits: `git fetch` from a repository is the one git operation git
 * itself deems safe against an untrusted source (gitsecurityboundary(7)); every other git command in the
 * clone runs inside the sandbox.
 */
import { lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GitError } from '../errors.js';
import { cleanEnv } from '../agents/adapter.js';
import { gitPlan, runSandboxed } from '../sandbox/plan.js';
import { branchExists, disarmedGit, git, GIT_UNATTENDED, revParse, runGit } from './git.js';

/** A task checkout of the clone kind: `.git` is a folder (a worktree has a `.git` file). */
export function isClone(path: string): boolean {
  try {
    return lstatSync(join(path, '.git')).isDirectory();
  } catch {
    return false;
  }
}

/** The identity and settings the user gave the repository that a commit in the clone needs. */
const COPIED_CONFIG = ['user.name', 'user.email', 'commit.gpgsign', 'core.autocrlf', 'core.eol', 'init.defaultbranch'];

/** Creates the clone at `path` on `branch` (from the repository's branch if it exists, else from `start`), with `base` beside it. */
export async function createClone(repoRoot: string, path: string, branch: string, start: string, base: string): Promise<void> {
  const from = (await branchExists(repoRoot, branch)) ? await revParse(repoRoot, branch) : await revParse(repoRoot, start);
  const objects = resolve(repoRoot, (await git(repoRoot, ['rev-parse', '--git-common-dir'])).trim(), 'objects');
  mkdirSync(dirname(path), { recursive: true });
  try {
    await git(dirname(path), ['init', '--quiet', path]);
    writeFileSync(join(path, '.git', 'objects', 'info', 'alternates'), `${objects}\n`);
    // Written straight into the new clone's config file: nothing of the clone is read to do it.
    for (const key of COPIED_CONFIG) {
      const value = await runGit(repoRoot, ['config', '--get', key]);
      if (value.code === 0) await git(repoRoot, ['config', '--file', join(path, '.git', 'config'), key, value.stdout.trim()]);
    }
    await git(path, ['update-ref', `refs/heads/${branch}`, from]);
    if (base !== branch && (await branchExists(repoRoot, base))) await git(path, ['update-ref', `refs/heads/${base}`, await revParse(repoRoot, base)]);
    await git(path, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
    await git(path, ['reset', '--quiet', '--hard']);
  } catch (err) {
    // No half-made checkout left behind: the next attempt starts clean.
    rmSync(path, { recursive: true, force: true });
    throw err;
  }
}

export type FetchBack = 'updated' | 'unchanged' | 'missing';

/**
 * Brings the task's branch from its clone into the repository (forced: the clone is where the branch lives).
 * `path` may be a git URL (a checkout on a host); `config` adds `-c` settings (the ssh command for one).
 */
export async function fetchBack(repoRoot: string, path: string, branch: string, config: readonly string[] = []): Promise<FetchBack> {
  const ref = `refs/heads/${branch}`;
  const before = (await runGit(repoRoot, ['rev-parse', '--verify', '--quiet', ref])).stdout.trim();
  const result = await runGit(repoRoot, [...config, '-c', 'fetch.writeCommitGraph=false', 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', '--no-auto-gc', path, `+${ref}:${ref}`]);
  if (result.code !== 0) {
    if (/couldn't find remote ref|not our ref|does not appear to be a git repository/i.test(result.stderr)) return 'missing';
    throw new GitError('SWARM_FETCH_BACK', `Could not bring ${branch} back from the task's checkout ${path}: ${result.stderr.trim()}`);
  }
  const after = (await runGit(repoRoot, ['rev-parse', '--verify', '--quiet', ref])).stdout.trim();
  return after === before ? 'unchanged' : 'updated';
}

/** How long a git command in a task's checkout may take: a checkout whose own config makes git hang costs this. */
export const CHECKOUT_GIT_TIMEOUT_MS = 20_000;

/**
 * Git in the clone: confined (its config and hooks are the agent's), with that config's executable parts
 * switched off (disarmedGit), and a short time limit; a checkout that still makes git hang is the agent's
 * doing, said in words.
 */
export async function gitInClone(repoRoot: string, path: string, args: readonly string[], timeoutMs = CHECKOUT_GIT_TIMEOUT_MS): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...cleanEnv(), ...GIT_UNATTENDED, GIT_OPTIONAL_LOCKS: '0' };
  const result = await runSandboxed(gitPlan(repoRoot, path), ['git', ...(await disarmedGit(path)), ...args], env, timeoutMs);
  if (result.timedOut) throw new GitError('SWARM_CHECKOUT_HANGS', `git ${args[0] ?? ''} in the task's checkout ${path} did not finish within ${Math.round(timeoutMs / 1000)} s, even with the checkout's hooks, fsmonitor and filters switched off: something the agent left in its checkout makes git hang. Look at ${path}/.git/config, then \`swarm retry\` the task.`);
  return result;
}

/** Uncommitted files in the clone (read confined). */
export async function cloneUncommitted(repoRoot: string, path: string): Promise<string[]> {
  const result = await gitInClone(repoRoot, path, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames']);
  if (result.code !== 0) throw new GitError('SWARM_GIT_FAILED', `git status in ${path} failed: ${result.stderr.trim()}`);
  return result.stdout
    .split('\0')
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
}

/** Moves the clone's copy of base to the repository's (so "merge main" means today's main); confined. */
export async function refreshBase(repoRoot: string, path: string, base: string): Promise<void> {
  if (!(await branchExists(repoRoot, base))) return;
  await gitInClone(repoRoot, path, ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', repoRoot, `+refs/heads/${base}:refs/heads/${base}`]);
}
