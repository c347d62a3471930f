import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { SwarmConfig } from '../config/schema.js';
import { ConfigError, GitError } from '../errors.js';
import { branchExists, git, listWorktrees, runGit, uncommittedFiles } from './git.js';
import { POOL_DIR, type WorktreePool } from './pool.js';
import { cloneUncommitted, createClone, fetchBack, isClone } from './clones.js';
import { removeTaskHomes } from '../sandbox/homes.js';
import { swarmDataDir } from '../sandbox/data-dir.js';

export function slugify(title: string, max = 40): string {
  const slug = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/g, '');
  return slug || 'task';
}

/** Task worktrees live outside the repository so test runners and file watchers in the main checkout never see them. */
export function worktreesRoot(config: SwarmConfig, repoRoot: string): string {
  if (config.worktree.dir) {
    const dir = isAbsolute(config.worktree.dir) ? config.worktree.dir : resolve(repoRoot, config.worktree.dir);
    const rel = relative(repoRoot, dir);
    // Inside the repository, `git add -A` in the main checkout would add every task's worktree as an embedded repo.
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
      throw new ConfigError(`worktree.dir (${config.worktree.dir}) is inside the repository; task worktrees must live outside it (git would see them as embedded repositories). Remove the key (swarm picks a folder outside) or point it elsewhere.`);
    }
    return dir;
  }
  const hash = createHash('sha256').update(repoRoot).digest('hex').slice(0, 8);
  return join(swarmDataDir(), 'worktrees', `${repoRoot.split('/').pop() ?? 'repo'}-${hash}`);
}

export type WorkspaceKind = 'worktree' | 'clone';

/** The folder of warm worktrees (pool.ts), beside the tasks' own. */
export function poolRoot(config: SwarmConfig, repoRoot: string): string {
  return join(worktreesRoot(config, repoRoot), POOL_DIR);
}

/**
 * Creates the task's checkout on a new branch from base, or reuses it on a respawn (the branch keeps earlier
 * commits). A sandboxed task gets a clone (its own refs: see clones.ts), any other a worktree.
 */
export async function ensureWorktree(repoRoot: string, path: string, branch: string, start: string, kind: WorkspaceKind = 'worktree', base = start, pool?: Pick<WorktreePool, 'take'>): Promise<'created' | 'reused'> {
  if (isClone(path)) return 'reused';
  let existing = (await listWorktrees(repoRoot)).find((entry) => entry.path === path);
  if (existing && !existsSync(path)) {
    // Deleted under the task (rm -rf): git still lists it. Prune the stale entry and check the branch out again.
    await git(repoRoot, ['worktree', 'prune']);
    existing = undefined;
  }
  if (existing) {
    if (existing.branch !== branch) throw new GitError('SWARM_WORKTREE_MISMATCH', `${path} is a worktree of ${existing.branch ?? 'a detached HEAD'}, not ${branch}. Remove it with \`git worktree remove\`.`);
    if (kind === 'worktree') return 'reused';
    // Sandboxed now, a worktree before: it becomes a clone of the same branch (a worktree would share main's refs).
    const dirty = await uncommittedFiles(path);
    if (dirty.length > 0) throw new GitError('SWARM_WORKTREE_DIRTY', `${path} has uncommitted changes (${dirty.slice(0, 5).join(', ')}) and must become a sandboxed clone: commit or discard them, then \`swarm retry\`.`);
    await git(repoRoot, ['worktree', 'remove', path]);
  } else if (existsSync(path)) {
    throw new GitError('SWARM_WORKTREE_PATH_TAKEN', `${path} exists and is not a worktree of this repository. Move it away or set worktree.dir in swarm.config.json.`);
  }
  mkdirSync(dirname(path), { recursive: true });
  if (kind === 'clone') await createClone(repoRoot, path, branch, start, base);
  else if (pool && (await pool.take(path, branch, start))) return existing ? 'reused' : 'created';
  else if (await branchExists(repoRoot, branch)) await git(repoRoot, ['worktree', 'add', path, branch]);
  else await git(repoRoot, ['worktree', 'add', '-b', branch, path, start]);
  return existing ? 'reused' : 'created';
}

/** Files not committed in a task's checkout; in a clone, read confined. */
export function checkoutUncommitted(repoRoot: string, path: string): Promise<string[]> {
  return isClone(path) ? cloneUncommitted(repoRoot, path) : uncommittedFiles(path);
}

/** Deletes a task's branch from the repository, unless a worktree (the user's included) has it checked out. */
export async function deleteBranchUnlessCheckedOut(repoRoot: string, branch: string): Promise<void> {
  const checkedOut = (await listWorktrees(repoRoot)).some((e) => e.branch === branch);
  if (!checkedOut && (await branchExists(repoRoot, branch))) await runGit(repoRoot, ['branch', '-D', branch]);
}

export interface RemoveResult {
  removed: boolean;
  why?: string;
}

/**
 * Removes a task's worktree and (optionally) its branch. Never touches the main checkout, and refuses a
 * worktree with uncommitted work unless forced.
 */
export async function removeWorktree(repoRoot: string, path: string, branch: string | null, options: { force?: boolean; deleteBranch?: boolean } = {}): Promise<RemoveResult> {
  if (resolve(path) === resolve(repoRoot)) return { removed: false, why: 'that is the main checkout' };
  const entries = await listWorktrees(repoRoot);
  const entry = entries.find((e) => e.path === path);
  if (isClone(path)) {
    if (!options.force) {
      const dirty = await cloneUncommitted(repoRoot, path).catch((err: unknown) => [`(could not read: ${err instanceof Error ? err.message : String(err)})`]);
      if (dirty.length > 0) return { removed: false, why: `uncommitted changes in ${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? ', ...' : ''} (use --force to discard)` };
    }
    // Commits the daemon has not fetched yet (a task stopped while running) are kept on the branch.
    if (branch && !options.deleteBranch) await fetchBack(repoRoot, path, branch).catch(() => undefined);
    rmSync(path, { recursive: true, force: true });
  } else if (entry) {
    if (entries[0]?.path === path) return { removed: false, why: 'that is the main checkout' };
    // Another process (the daemon seeing the PR merged, a `swarm merge`) may remove it meanwhile: gone is removed.
    if (!options.force && existsSync(path)) {
      const dirty = await uncommittedFiles(path).catch((err: unknown) => {
        if (existsSync(path)) throw err;
        return [];
      });
      if (dirty.length > 0) return { removed: false, why: `uncommitted changes in ${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? ', ...' : ''} (use --force to discard)` };
    }
    const result = await runGit(repoRoot, ['worktree', 'remove', ...(options.force ? ['--force'] : []), path]);
    if (result.code !== 0 && existsSync(path)) return { removed: false, why: result.stderr.trim() };
  } else if (existsSync(path)) {
    return { removed: false, why: `${path} is not a worktree of this repository; left alone` };
  }
  await runGit(repoRoot, ['worktree', 'prune']);
  if (branch && options.deleteBranch) await deleteBranchUnlessCheckedOut(repoRoot, branch);
  // The homes made for the task's agent, reviewers and CI go with its checkout.
  removeTaskHomes(path);
  return { removed: true };
}
