import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, unlinkSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutChanges, createReviewCheckout, madeInCheckout, tamperWhy } from '../../src/review/checkout.js';
import { waitFor } from '../../src/wait.js';
import { makeSampleRepo, tempDir } from '../helpers/sample.js';

const gitIn = (cwd: string, ...args: string[]): string => execFileSync('git', ['-c', 'user.name=R', '-c', 'user.email=r@x', ...args], { cwd, encoding: 'utf8' }).trim();

describe('a reviewer checkout: its own clone, and what the reviewer changed in it', () => {
  let dir: string;
  let repo: string;
  let head: string;
  beforeAll(() => {
    dir = tempDir('review-checkout');
    repo = join(dir, 'repo');
    mkdirSync(repo);
    makeSampleRepo(repo);
    head = gitIn(repo, 'rev-parse', 'HEAD');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh checkout and the time the reviewer "starts": once the file system's clock has passed it. */
  async function fresh(name: string): Promise<{ path: string; since: number }> {
    const path = join(dir, `task.review-${name}`);
    await createReviewCheckout(repo, path, head);
    const since = Date.now();
    const probe = join(dir, `probe-${name}`);
    await waitFor(
      () => {
        writeFileSync(probe, '');
        return Math.floor(statSync(probe).ctimeMs) > since ? true : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 1, what: 'the file system clock to pass the start' },
    );
    return { path, since };
  }

  it.each<[string, (path: string) => void, string[]]>([
    ['untouched', () => undefined, []],
    ['a read-only git status (it may rewrite the index)', (p) => gitIn(p, 'status', '--porcelain'), []],
    ["a tool's note at the top of .git (opencode)", (p) => writeFileSync(join(p, '.git', 'opencode'), 'id'), []],
    ['a new file', (p) => writeFileSync(join(p, 'NOTES.md'), 'x'), ['NOTES.md']],
    ['a tracked file changed', (p) => writeFileSync(join(p, 'src', 'add.ts'), 'export {}\n'), ['src/add.ts']],
    ['a tracked file removed', (p) => unlinkSync(join(p, 'src', 'add.ts')), ['src/']],
    ['a hook planted', (p) => writeFileSync(join(p, '.git', 'hooks', 'post-checkout'), '#!/bin/sh\n'), ['.git/hooks/', '.git/hooks/post-checkout']],
    ['the config changed', (p) => gitIn(p, 'config', 'core.fsmonitor', 'evil'), ['.git/config']],
  ])('%s', async (name, act, expected) => {
    const { path, since } = await fresh(name.replace(/\W+/g, '-'));
    act(path);
    expect(checkoutChanges(path, since).sort()).toEqual(expected.sort());
  });

  it('a commit made in the checkout is seen, and its object is the reviewer\'s own', async () => {
    const { path, since } = await fresh('commit');
    writeFileSync(join(path, 'src', 'add.ts'), 'export const x = 1;\n');
    gitIn(path, 'commit', '-qam', 'reviewer commit');
    const sha = gitIn(path, 'rev-parse', 'HEAD');
    const changes = checkoutChanges(path, since, 50);
    expect(changes).toEqual(expect.arrayContaining(['src/add.ts', '.git/HEAD', '.git/objects/']));
    expect(tamperWhy(changes)).toContain('wrote into its git folder (a commit, a ref or a hook); changed src/add.ts');
    expect(madeInCheckout(path, sha)).toBe(true);
    expect(madeInCheckout(path, head)).toBe(false);
    // The repository itself never got it.
    expect(() => gitIn(repo, 'cat-file', '-e', sha)).toThrow();
  });
});
