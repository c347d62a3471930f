import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { SwarmConfig } from '../config/schema.js';
import { ConfigError, GitError } from '../errors.js';
import { branchExists, git, listWorktrees, runGit, uncommittedFiles } from './git.js';

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
  const dataHome = process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share');
  const hash = createHash('sha256').update(repoRoot).digest('hex').slice(0, 8);
  return join(dataHome, 'worktree-swarm', 'worktrees', `${repoRoot.split('/').pop() ?? 'repo'}-${hash}`);
}

/** Creates the task's worktree on a new branch from base, or reuses it on a respawn (the branch keeps earlier commits). */
export async function ensureWorktree(repoRoot: string, path: string, branch: string, base: string): Promise<'created' | 'reused'> {
  let existing = (await listWorktrees(repoRoot)).find((entry) => entry.path === path);
  if (existing && !existsSync(path)) {
    // Deleted under the task (rm -rf): git still lists it. Prune the stale entry and check the branch out again.
    await git(repoRoot, ['worktree', 'prune']);
    existing = undefined;
  }
  if (existing) {
    if (existing.branch !== branch) throw new GitError('SWARM_WORKTREE_MISMATCH', `${path} is a worktree of ${existing.branch ?? 'a detached HEAD'}, not ${branch}. Remove it with \`git worktree remove\`.`);
    return 'reused';
  }
  if (existsSync(path)) throw new GitError('SWARM_WORKTREE_PATH_TAKEN', `${path} exists and is not a worktree of this repository. Move it away or set worktree.dir in swarm.config.json.`);
  mkdirSync(dirname(path), { recursive: true });
  if (await branchExists(repoRoot, branch)) await git(repoRoot, ['worktree', 'add', path, branch]);
  else await git(repoRoot, ['worktree', 'add', '-b', branch, path, base]);
  return 'created';
}

function run(argv: readonly string[], cwd: string, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    execFile(argv[0]!, argv.slice(1), { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (!err) resolvePromise({ code: 0, output });
      else resolvePromise({ code: typeof err.code === 'number' ? err.code : 127, output: `${output}${err.killed ? '\n(killed: timed out)' : ''}${typeof err.code === 'string' ? `\n${err.message}` : ''}` });
    });
  });
}

/** Copies listed untracked files (.env, ...) from the main checkout, then runs the setup commands. */
export async function setupWorktree(config: SwarmConfig, repoRoot: string, path: string): Promise<void> {
  for (const file of config.worktree.copy) {
    const from = resolve(repoRoot, file);
    const rel = relative(repoRoot, from);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new GitError('SWARM_SETUP_FAILED', `worktree.copy entry "${file}" points outside the repository.`);
    if (!existsSync(from) || !statSync(from).isFile()) continue; // optional: a missing .env is not an error
    const to = join(path, rel);
    if (existsSync(to)) continue;
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
  for (const argv of config.worktree.setup) {
    const result = await run(argv, path, config.worktree.setup_timeout_minutes * 60_000);
    if (result.code !== 0) {
      throw new GitError('SWARM_SETUP_FAILED', `Worktree setup command \`${argv.join(' ')}\` failed (exit ${result.code}) in ${path}:\n${result.output.slice(-2000)}\nFix worktree.setup in swarm.config.json.`);
    }
  }
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
  if (entry) {
    if (entries[0]?.path === path) return { removed: false, why: 'that is the main checkout' };
    if (!options.force && existsSync(path)) {
      const dirty = await uncommittedFiles(path);
      if (dirty.length > 0) return { removed: false, why: `uncommitted changes in ${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? ', ...' : ''} (use --force to discard)` };
    }
    const result = await runGit(repoRoot, ['worktree', 'remove', ...(options.force ? ['--force'] : []), path]);
    if (result.code !== 0) return { removed: false, why: result.stderr.trim() };
  } else if (existsSync(path)) {
    return { removed: false, why: `${path} is not a worktree of this repository; left alone` };
  }
  await runGit(repoRoot, ['worktree', 'prune']);
  if (branch && options.deleteBranch) {
    const checkedOut = (await listWorktrees(repoRoot)).some((e) => e.branch === branch);
    if (!checkedOut && (await branchExists(repoRoot, branch))) await runGit(repoRoot, ['branch', '-D', branch]);
  }
  return { removed: true };
}
