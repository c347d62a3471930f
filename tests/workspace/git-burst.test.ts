import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWorktree } from '../../src/workspace/worktrees.js';
import { GIT_PROCESSES } from '../../src/workspace/git-exec.js';
import { runGit } from '../../src/workspace/git.js';
import { git, makeSampleRepo, tempDir } from '../helpers/sample.js';

/**
 * Twenty tasks spawned at once each make a checkout (several git commands apiece). A `git` on PATH that notes
 * how many of its kind are alive when it starts shows the most swarm ever ran together. This file's module
 * state is its own (vitest isolates test files), so PATH is set before swarm's git layer first loads.
 */
describe('git layer under a burst', () => {
  let dir: string;
  let repo: string;
  let counts: string;
  const savedPath = process.env.PATH;
  beforeAll(() => {
    dir = tempDir('git-burst');
    repo = join(dir, 'repo');
    mkdirSync(repo);
    makeSampleRepo(repo);
    const realGit = execFileSync('which', ['git'], { encoding: 'utf8' }).trim();
    const bin = join(dir, 'bin');
    counts = join(dir, 'counts');
    mkdirSync(join(counts, 'live'), { recursive: true });
    mkdirSync(bin);
    writeFileSync(join(bin, 'git'), [
      '#!/bin/bash',
      `live=${JSON.stringify(join(counts, 'live'))}`,
      ': > "$live/$$"',
      `ls "$live" | wc -l >> ${JSON.stringify(join(counts, 'seen'))}`,
      `${JSON.stringify(realGit)} "$@"`,
      'rc=$?',
      'rm -f "$live/$$"',
      'exit $rc',
      '',
    ].join('\n'));
    chmodSync(join(bin, 'git'), 0o755);
    process.env.PATH = `${bin}${delimiter}${savedPath ?? ''}`;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  it(`twenty spawns at once never run more than ${GIT_PROCESSES} git processes together, and every checkout is made`, async () => {
    const made = await Promise.all(Array.from({ length: 20 }, (_, i) => ensureWorktree(repo, join(dir, 'wt', `${i}-burst`), `swarm/${i}-burst`, 'main')));
    expect(made).toEqual(Array(20).fill('created'));
    const seen = readFileSync(join(counts, 'seen'), 'utf8').trim().split('\n').map(Number);
    expect(seen.length).toBeGreaterThanOrEqual(40); // the wrapper really stood in for git
    expect(Math.max(...seen)).toBeLessThanOrEqual(GIT_PROCESSES);
    expect(Math.max(...seen)).toBeGreaterThan(1); // bounded, not serialised
    for (let i = 0; i < 20; i++) expect(git(join(dir, 'wt', `${i}-burst`), ['branch', '--show-current']).trim()).toBe(`swarm/${i}-burst`);
  });

  it('keeps the exit code and git own words, and refuses an option that could run a program', async () => {
    const missing = await runGit(repo, ['rev-parse', '--verify', '--quiet', 'no-such-branch^{commit}']);
    expect(missing.code).toBe(1);
    const bad = await runGit(repo, ['log', 'no-such-branch']);
    expect(bad.code).toBe(128);
    expect(bad.stderr).toContain('no-such-branch');
    await expect(runGit(repo, ['-c', 'core.editor=touch planted', 'commit', '--amend'])).rejects.toThrow(/core\.editor/);
    expect(existsSync(join(repo, 'planted'))).toBe(false);
  });
});
