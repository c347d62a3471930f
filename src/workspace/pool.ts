/**
 * Warm worktrees: a few detached checkouts of base kept ready under `<worktrees>/.pool/`, so a spawn moves
 * one into place and creates its branch there instead of checking out every file. Refilled in the
 * background after each take, brought to base's new tip when base moves, never a task's (no branch, no
 * row in the registry), removed by `swarm cleanup`. Only the daemon takes from it; launches side by side never
 * get the same one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { branchExists, git, runGit } from './git.js';

export const POOL_DIR = '.pool';

export class WorktreePool {
  private refilling: Promise<void> | null = null;
  /** Checkouts being made now: git writes their .git before their files, so they are not offered yet. */
  private readonly building = new Set<string>();
  /** Checkouts a launch is taking now: never offered to a second launch running beside it. */
  private readonly taking = new Set<string>();
  private again = false;
  private stopped = false;

  constructor(
    private readonly repoRoot: string,
    private readonly root: string,
    private readonly base: string,
    private readonly size: number,
    private readonly log: Logger,
  ) {}

  /** Ready entries: a folder git knows as a worktree, not being made now (one a crashed daemon left half made is locked by git: its take fails and drops it). */
  entries(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root)
      .map((name) => join(this.root, name))
      .filter((path) => !this.building.has(path) && !this.taking.has(path) && existsSync(join(path, '.git')));
  }

  /**
   * Moves a warm checkout to `path` and puts `branch` there (created at `start` when new). False when the
   * pool is empty or anything fails: the caller then creates the worktree the ordinary way.
   */
  async take(path: string, branch: string, start: string): Promise<boolean> {
    if (this.size === 0) return false;
    const entry = this.entries()[0];
    if (!entry) return false;
    this.taking.add(entry);
    try {
      mkdirSync(dirname(path), { recursive: true });
      await git(this.repoRoot, ['worktree', 'move', entry, path]);
    } catch (err) {
      this.log.warn({ entry, error: errorMessage(err) }, 'a warm worktree could not be moved; dropping it');
      await this.drop(entry);
      return false;
    } finally {
      this.taking.delete(entry);
    }
    // A new branch at the commit the checkout already has needs no checkout at all (with 50,000 files
    // `checkout -b` re-read and re-checked the whole index): the branch is made there and HEAD pointed at it.
    const [head, at] = (await runGit(path, ['rev-parse', 'HEAD', `${start}^{commit}`])).stdout.trim().split('\n');
    if (head && head === at && (await runGit(path, ['update-ref', '-m', `branch: Created from ${start}`, `refs/heads/${branch}`, head, ''])).code === 0) {
      const pointed = await runGit(path, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
      if (pointed.code === 0) return true;
      this.log.warn({ path, error: pointed.stderr.trim() }, 'a warm worktree could not take the branch; making it the ordinary way');
      await this.drop(path);
      return false;
    }
    const exists = await branchExists(this.repoRoot, branch);
    const switched = await runGit(path, exists ? ['checkout', '-q', branch] : ['checkout', '-q', '-b', branch, start]);
    if (switched.code !== 0) {
      this.log.warn({ path, error: switched.stderr.trim() }, 'a warm worktree could not take the branch; making it the ordinary way');
      await this.drop(path);
      return false;
    }
    return true;
  }

  /** Tops the pool up to its size at base's current tip, in the background; a call while one runs runs once more after. */
  refill(): void {
    if (this.size === 0 || this.stopped) return;
    if (this.refilling) {
      this.again = true;
      return;
    }
    this.refilling = (async () => {
      do {
        this.again = false;
        await this.refillOnce().catch((err: unknown) => this.log.warn({ error: errorMessage(err) }, 'refilling the worktree pool failed; spawns make their worktrees meanwhile'));
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.refilling = null;
    });
  }

  /** Waits for a background refill to finish (daemon stop, tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.refilling) await this.refilling;
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.idle();
  }

  private async refillOnce(): Promise<void> {
    const tip = (await git(this.repoRoot, ['rev-parse', '--verify', `${this.base}^{commit}`])).trim();
    for (const entry of this.entries()) {
      if (this.stopped) return;
      const head = await runGit(entry, ['rev-parse', 'HEAD']);
      if (head.code === 0 && head.stdout.trim() === tip) continue;
      // Base moved: only the files that changed are written.
      const moved = await runGit(entry, ['checkout', '-q', '--detach', tip], 'background');
      if (moved.code !== 0) await this.drop(entry);
    }
    mkdirSync(this.root, { recursive: true });
    while (!this.stopped && this.entries().length + this.building.size < this.size) {
      const path = join(this.root, randomBytes(4).toString('hex'));
      this.building.add(path);
      try {
        const made = await runGit(this.repoRoot, ['worktree', 'add', '-q', '--detach', path, tip], 'background');
        if (made.code !== 0) throw new Error(`git worktree add failed: ${made.stderr.trim()}`);
      } finally {
        this.building.delete(path);
      }
    }
  }

  private async drop(path: string): Promise<void> {
    await runGit(this.repoRoot, ['worktree', 'remove', '--force', path]);
    await runGit(this.repoRoot, ['worktree', 'prune']);
  }

  /** Removes every warm worktree (swarm cleanup); the daemon makes new ones when it next needs them. */
  async clear(): Promise<number> {
    await this.idle();
    const entries = this.entries();
    for (const entry of entries) await this.drop(entry);
    if (existsSync(this.root) && readdirSync(this.root).length === 0) rmSync(this.root, { recursive: true, force: true });
    return entries.length;
  }
}
