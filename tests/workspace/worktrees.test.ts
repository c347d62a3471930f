import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mergeConflicts } from '../../src/workspace/git.js';
import { cleanupFinished } from '../../src/workspace/cleanup.js';
import { ensureWorktree, removeWorktree, slugify } from '../../src/workspace/worktrees.js';
import { setupWorktree } from '../../src/workspace/setup.js';
import { parseConfig } from '../../src/config/load.js';
import { Registry } from '../../registry/registry.js';
import { git, makeSampleRepo, tempDir } from '../helpers/sample.js';

describe('worktrees', () => {
  let dir: string;
  let repo: string;
  beforeEach(() => {
    dir = tempDir('wt');
    repo = join(dir, 'repo');
    mkdirSync(repo);
    makeSampleRepo(repo);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['Fix addNumbers: it subtracts', 'fix-addnumbers-it-subtracts'],
    ['  ***  ', 'task'],
    ['Ünïcödé — and $(shell)', 'unicode-and-shell'],
    ['x'.repeat(100), 'x'.repeat(40)],
  ])('slugify(%j) = %j', (title, slug) => expect(slugify(title)).toBe(slug));

  it('creates a worktree on a new branch, reuses it on a respawn, copies listed files and runs setup', async () => {
    writeFileSync(join(repo, '.env'), 'SECRET=1\n');
    const path = join(dir, 'wt', '1-fix');
    expect(await ensureWorktree(repo, path, 'swarm/1-fix', 'main')).toBe('created');
    expect(await ensureWorktree(repo, path, 'swarm/1-fix', 'main')).toBe('reused');
    const config = parseConfig('c', { worktree: { copy: ['.env', 'missing.txt'], setup: [[process.execPath, '-e', "require('fs').writeFileSync('setup-ran', 'yes')"]] } });
    await setupWorktree(config, repo, path);
    expect(readFileSync(join(path, '.env'), 'utf8')).toBe('SECRET=1\n');
    expect(existsSync(join(path, 'setup-ran'))).toBe(true);
    expect(git(path, ['branch', '--show-current']).trim()).toBe('swarm/1-fix');
  });

  it('never removes the main checkout, nor a worktree with uncommitted work unless forced', async () => {
    expect(await removeWorktree(repo, repo, 'main', { force: true, deleteBranch: true })).toEqual({ removed: false, why: 'that is the main checkout' });
    expect(git(repo, ['branch', '--list', 'main']).trim()).toBe('* main');

    const path = join(dir, 'wt', '2-x');
    await ensureWorktree(repo, path, 'swarm/2-x', 'main');
    writeFileSync(join(path, 'work.txt'), 'precious');
    const kept = await removeWorktree(repo, path, 'swarm/2-x', { deleteBranch: true });
    expect(kept.removed).toBe(false);
    expect(kept.why).toContain('uncommitted changes in work.txt');
    expect(readFileSync(join(path, 'work.txt'), 'utf8')).toBe('precious');
    expect((await removeWorktree(repo, path, 'swarm/2-x', { force: true, deleteBranch: true })).removed).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(git(repo, ['branch', '--list', 'swarm/2-x']).trim()).toBe('');
  });

  it('a worktree another process removed meanwhile counts as removed (the daemon and swarm merge both clean up)', async () => {
    const path = join(dir, 'wt', '9-gone');
    await ensureWorktree(repo, path, 'swarm/9-gone', 'main');
    rmSync(path, { recursive: true, force: true });
    expect(await removeWorktree(repo, path, 'swarm/9-gone', { deleteBranch: true })).toEqual({ removed: true });
    expect(git(repo, ['worktree', 'list']).trim().split('\n')).toHaveLength(1);
    expect(git(repo, ['branch', '--list', 'swarm/9-gone']).trim()).toBe('');
  });

  it('cleanup removes done and cancelled tasks only, and reports what it kept', async () => {
    const registry = new Registry(join(dir, 'swarm.db'));
    const make = (title: string) => registry.createTask({ title, prompt: 'p', agent: 'a', base: 'main', branch: `swarm/{id}-${title}`, worktree: join(dir, 'wt', `{id}-${title}`), max_retries: 3 });
    const [done, cancelled, running] = [make('done'), make('cancelled'), make('running')];
    for (const t of [done, cancelled, running]) await ensureWorktree(repo, t.worktree, t.branch, 'main');
    registry.transition(done.id, 'queued', 'done', { event: 'merged' });
    registry.transition(cancelled.id, 'queued', 'cancelled', { event: 'cancelled' });
    registry.transition(running.id, 'queued', 'running', { event: 'agent_started' });
    writeFileSync(join(cancelled.worktree, 'half.txt'), 'half-done work');
    const report = await cleanupFinished(repo, registry);
    expect(report.removed.map((r) => r.task)).toEqual([done.id]);
    expect(report.kept).toEqual([{ task: cancelled.id, path: cancelled.worktree, why: expect.stringContaining('uncommitted changes in half.txt') }]);
    expect(existsSync(running.worktree)).toBe(true);
    expect((await cleanupFinished(repo, registry, { force: true })).removed.map((r) => r.task)).toEqual([cancelled.id]);
    registry.close();
  });

  it('merge-tree finds the conflicting files, and nothing when the branch merges cleanly', async () => {
    const path = join(dir, 'wt', '3-c');
    await ensureWorktree(repo, path, 'swarm/3-c', 'main');
    writeFileSync(join(path, 'src', 'add.ts'), 'export const x = 1;\n');
    git(path, ['commit', '-qam', 'branch change']);
    expect(await mergeConflicts(repo, 'main', 'swarm/3-c')).toEqual([]);
    writeFileSync(join(repo, 'src', 'add.ts'), 'export const x = 2;\n');
    git(repo, ['commit', '-qam', 'main change']);
    expect(await mergeConflicts(repo, 'main', 'swarm/3-c')).toEqual(['src/add.ts']);
  });
});
