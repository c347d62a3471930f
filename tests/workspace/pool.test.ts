import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { WorktreePool } from '../../src/workspace/pool.js';
import { ensureWorktree } from '../../src/workspace/worktrees.js';
import { git, makeSampleRepo, tempDir } from '../helpers/sample.js';
import { rmSync, mkdirSync } from 'node:fs';

describe('warm worktree pool (real git)', () => {
  let dir: string;
  let repo: string;
  let root: string;
  beforeEach(() => {
    dir = tempDir('pool');
    repo = join(dir, 'repo');
    mkdirSync(repo);
    makeSampleRepo(repo);
    root = join(dir, 'wt', '.pool');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const worktrees = (): string[] => git(repo, ['worktree', 'list', '--porcelain']).split('\n').filter((l) => l.startsWith('worktree ')).map((l) => l.slice(9));

  it('keeps N detached checkouts at base; a take moves one into place on a new branch; refilled after', async () => {
    const pool = new WorktreePool(repo, root, 'main', 2, silentLogger());
    pool.refill();
    await pool.idle();
    expect(pool.entries()).toHaveLength(2);
    const tip = git(repo, ['rev-parse', 'main']).trim();
    for (const entry of pool.entries()) expect(git(entry, ['rev-parse', 'HEAD']).trim()).toBe(tip);

    const path = join(dir, 'wt', '1-task');
    expect(await ensureWorktree(repo, path, 'swarm/1-task', 'main', 'worktree', 'main', pool)).toBe('created');
    expect(git(path, ['rev-parse', '--abbrev-ref', 'HEAD']).trim()).toBe('swarm/1-task');
    expect(git(repo, ['rev-parse', 'swarm/1-task']).trim()).toBe(tip);
    expect(git(path, ['status', '--porcelain']).trim()).toBe('');
    // Made without a checkout (update-ref + symbolic-ref), it reads as a branch made the usual way.
    expect(git(repo, ['reflog', 'show', '--format=%gs', 'swarm/1-task']).trim()).toBe('branch: Created from main');
    writeFileSync(join(path, 'src', 'add.ts'), 'changed\n');
    git(path, ['commit', '-qam', 'work']);
    expect(git(repo, ['rev-parse', 'swarm/1-task~1']).trim()).toBe(tip);
    expect(git(repo, ['rev-parse', 'main']).trim()).toBe(tip);
    expect(pool.entries()).toHaveLength(1);
    expect(worktrees()).toContain(path);
    pool.refill();
    await pool.idle();
    expect(pool.entries()).toHaveLength(2);
    // Never a task's branch: the pool's checkouts are detached.
    expect(git(repo, ['branch', '--list']).split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('launches side by side each get a warm checkout of their own; with one left, the second is told to make its own', async () => {
    const pool = new WorktreePool(repo, root, 'main', 2, silentLogger());
    pool.refill();
    await pool.idle();
    const paths = ['a', 'b'].map((n) => join(dir, 'wt', `side-${n}`));
    expect(await Promise.all(paths.map((path, i) => pool.take(path, `swarm/side-${i}`, 'main')))).toEqual([true, true]);
    for (const [i, path] of paths.entries()) expect(git(path, ['rev-parse', '--abbrev-ref', 'HEAD']).trim()).toBe(`swarm/side-${i}`);
    expect(pool.entries()).toEqual([]);

    const single = new WorktreePool(repo, join(dir, 'wt2', '.pool'), 'main', 1, silentLogger());
    single.refill();
    await single.idle();
    const more = ['c', 'd'].map((n) => join(dir, 'wt2', `side-${n}`));
    expect((await Promise.all(more.map((path, i) => single.take(path, `swarm/more-${i}`, 'main')))).sort()).toEqual([false, true]);
    expect(worktrees().filter((w) => w.includes('side-'))).toHaveLength(3);
  });

  it('never offers a checkout git is still writing (a take would grab half the files)', async () => {
    const pool = new WorktreePool(repo, root, 'main', 3, silentLogger());
    let done = false;
    pool.refill();
    void pool.idle().then(() => (done = true));
    let offered = 0;
    while (!done) {
      for (const entry of pool.entries()) {
        offered++;
        // git locks a worktree ("initializing") until every file is written.
        expect(existsSync(join(repo, '.git', 'worktrees', entry.split('/').pop()!, 'locked'))).toBe(false);
        expect(existsSync(join(entry, 'src', 'add.ts'))).toBe(true);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(offered).toBeGreaterThan(0);
    expect(pool.entries()).toHaveLength(3);
  });

  it('brings warm checkouts to the new tip when base moves, and a take starts from where the task says', async () => {
    const pool = new WorktreePool(repo, root, 'main', 1, silentLogger());
    pool.refill();
    await pool.idle();
    writeFileSync(join(repo, 'NEW.md'), 'new on main\n');
    git(repo, ['add', 'NEW.md']);
    git(repo, ['commit', '-qm', 'move main']);
    pool.refill();
    await pool.idle();
    const [entry] = pool.entries();
    expect(existsSync(join(entry!, 'NEW.md'))).toBe(true);
    // A dependent task starts from another commit: the warm checkout is switched there.
    const path = join(dir, 'wt', '2-dep');
    expect(await pool.take(path, 'swarm/2-dep', 'main~1')).toBe(true);
    expect(existsSync(join(path, 'NEW.md'))).toBe(false);
  });

  it('a take that cannot work leaves nothing behind and the ordinary way says why', async () => {
    const pool = new WorktreePool(repo, root, 'main', 1, silentLogger());
    pool.refill();
    await pool.idle();
    // main is checked out in the repository itself: no second worktree may hold it.
    const path = join(dir, 'wt', '3-main');
    await expect(ensureWorktree(repo, path, 'main', 'main', 'worktree', 'main', pool)).rejects.toThrow(/already (checked out|used by worktree)/);
    expect(pool.entries()).toHaveLength(0);
    expect(worktrees()).toEqual([repo]);
    expect(existsSync(path)).toBe(false);
  });

  it('an empty or turned-off pool declines; clear removes every warm checkout', async () => {
    expect(await new WorktreePool(repo, root, 'main', 0, silentLogger()).take(join(dir, 'x'), 'b', 'main')).toBe(false);
    const pool = new WorktreePool(repo, root, 'main', 3, silentLogger());
    expect(await pool.take(join(dir, 'y'), 'b', 'main')).toBe(false);
    pool.refill();
    await pool.idle();
    expect(await pool.clear()).toBe(3);
    expect(worktrees()).toEqual([repo]);
  });
});
