/**
 * A reviewer's checkout: its own detached clone of the round's head, beside the task's checkout. It borrows the
 * repository's objects read-only (`objects/info/alternates`) and has no branch, no remote and no hook, so a
 * reviewer that commits, moves a ref or pushes from it changes only its own clone; sandboxed, it is mounted
 * read-only. After the reviewer exits, swarm checks the clone is as it was made, without running git in it
 * (its config may be the reviewer's): every entry's change time against the time the reviewer started.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TaskRow } from '../../registry/types.js';
import { git } from '../workspace/git.js';

/** `<task checkout>.review-<reviewer>`: in the checkouts' folder, so a sandbox hides the task's own checkout from it. */
export function reviewCheckout(task: Pick<TaskRow, 'worktree'>, reviewer: string): string {
  return `${task.worktree}.review-${reviewer}`;
}

/** Makes a fresh detached clone of `head` at `path` (whatever was there is removed first). */
export async function createReviewCheckout(repoRoot: string, path: string, head: string): Promise<void> {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(dirname(path), { recursive: true });
  const objects = resolve(repoRoot, (await git(repoRoot, ['rev-parse', '--git-common-dir'])).trim(), 'objects');
  try {
    await git(dirname(path), ['init', '--quiet', path]);
    writeFileSync(join(path, '.git', 'objects', 'info', 'alternates'), `${objects}\n`);
    await git(path, ['update-ref', '--no-deref', 'HEAD', head]);
    await git(path, ['reset', '--quiet', '--hard']);
  } catch (err) {
    rmSync(path, { recursive: true, force: true });
    throw err;
  }
}

export function removeReviewCheckouts(task: Pick<TaskRow, 'worktree'>, reviewers: readonly string[]): void {
  if (!task.worktree) return;
  for (const name of reviewers) rmSync(reviewCheckout(task, name), { recursive: true, force: true });
}

/** What git itself keeps at the top of a `.git` folder; another file there (opencode's `.git/opencode` id) is a tool's note, not git state. */
const GIT_OWN = new Set(['HEAD', 'config', 'packed-refs', 'shallow', 'commondir', 'gitdir', 'ORIG_HEAD', 'MERGE_HEAD', 'CHERRY_PICK_HEAD', 'REVERT_HEAD', 'FETCH_HEAD', 'description', 'modules', 'worktrees', 'info', 'hooks', 'objects', 'refs', 'logs']);

/**
 * What changed in the clone since `since` (ms): entries whose change time is later. A written file, a new or
 * removed entry (its folder's change time), a commit (objects/, HEAD), a moved ref: all show. The index and the
 * `.git` folder itself are left out, since a read-only `git status` may rewrite the index, and so are plain
 * files a tool leaves at the top of `.git` that git does not read.
 */
export function checkoutChanges(path: string, since: number, limit = 10): string[] {
  const changed: string[] = [];
  const walk = (dir: string, rel: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      if (changed.length >= limit) return;
      const relPath = rel ? `${rel}/${name}` : name;
      if (relPath === '.git/index' || relPath.endsWith('.lock')) continue;
      const full = join(dir, name);
      const stat = lstatSync(full, { throwIfNoEntry: false });
      if (!stat || (rel === '.git' && !GIT_OWN.has(name) && stat.isFile())) continue;
      // Whole milliseconds: what the checkout wrote before the reviewer's start (`since`) is never counted.
      if (Math.floor(stat.ctimeMs) > since && relPath !== '.git') changed.push(stat.isDirectory() ? `${relPath}/` : relPath);
      if (stat.isDirectory()) walk(full, relPath);
    }
  };
  if (!existsSync(path)) return ['(the checkout is gone)'];
  walk(path, '');
  return changed;
}

/** Whether `sha` was written into the clone's own object store (a loose object): the reviewer made that commit. */
export function madeInCheckout(path: string, sha: string): boolean {
  return existsSync(join(path, '.git', 'objects', sha.slice(0, 2), sha.slice(2)));
}

/** The reason a reviewer's review fails when it changed its checkout. */
export function tamperWhy(changes: readonly string[]): string {
  const commit = changes.some((c) => c.startsWith('.git/'));
  const files = changes.filter((c) => !c.startsWith('.git/'));
  const parts = [commit ? 'wrote into its git folder (a commit, a ref or a hook)' : '', files.length ? `changed ${files.slice(0, 5).join(', ')}${files.length > 5 ? ', ...' : ''}` : ''].filter(Boolean);
  return `the reviewer changed the checkout it was given to review: ${parts.join('; ')}. A reviewer reads; it never writes the code it reviews`;
}
