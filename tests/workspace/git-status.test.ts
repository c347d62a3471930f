import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { porcelainPaths, uncommittedFiles } from '../../src/workspace/git.js';
import { git, makeSampleRepo, tempDir } from '../helpers/sample.js';

describe('porcelainPaths', () => {
  it.each([
    ['nothing', '', []],
    ['modified and untracked', ' M src/add.ts\0?? notes.md\0', ['src/add.ts', 'notes.md']],
    ['a rename names the new path once', 'R  new.ts\0old.ts\0 M a.ts\0', ['new.ts', 'a.ts']],
    ['a copy too', 'C  copy.ts\0orig.ts\0', ['copy.ts']],
    ['spaces and quotes kept as they are', '?? my "file".md\0', ['my "file".md']],
    ['deleted, staged and worktree both', 'D  gone.ts\0MM both.ts\0', ['gone.ts', 'both.ts']],
  ])('%s', (_name, output, paths) => {
    expect(porcelainPaths(output)).toEqual(paths);
  });
});

describe('uncommittedFiles (real git)', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists changed, staged, renamed, deleted and untracked files (each untracked file in a new folder), not ignored ones', async () => {
    dir = tempDir('status');
    makeSampleRepo(dir);
    expect(await uncommittedFiles(dir)).toEqual([]);
    writeFileSync(join(dir, '.gitignore'), 'build/\n');
    git(dir, ['add', '.gitignore']);
    git(dir, ['commit', '-qm', 'ignore build']);
    writeFileSync(join(dir, 'src', 'add.ts'), 'changed\n');
    git(dir, ['mv', 'package.json', 'package2.json']);
    unlinkSync(join(dir, 'test', 'add.test.ts'));
    mkdirSync(join(dir, 'new dir'));
    writeFileSync(join(dir, 'new dir', 'a b.txt'), 'x\n');
    mkdirSync(join(dir, 'build'));
    writeFileSync(join(dir, 'build', 'out.js'), 'x\n');
    expect((await uncommittedFiles(dir)).sort()).toEqual(['test/add.test.ts', 'new dir/a b.txt', 'package2.json', 'src/add.ts'].sort());
  });
});

describe('git in a checkout the agent armed', () => {
  it('runs with its fsmonitor, hooks and filters switched off: status answers, nothing planted runs', async () => {
    const dir = tempDir('armed');
    try {
      const repo = join(dir, 'repo');
      mkdirSync(repo);
      execFileSync('git', ['init', '-q', repo]);
      writeFileSync(join(repo, 'a.txt'), 'one\n');
      execFileSync('git', ['-C', repo, 'add', '.']);
      execFileSync('git', ['-C', repo, '-c', 'user.name=a', '-c', 'user.email=a@b', 'commit', '-qm', 'x']);
      writeFileSync(join(repo, '.git', 'hang.sh'), `#!/bin/sh\ntouch ${join(dir, 'ran')}\nexec sleep 100000\n`);
      chmodSync(join(repo, '.git', 'hang.sh'), 0o755);
      for (const [key, value] of [['core.fsmonitor', join(repo, '.git', 'hang.sh')], ['filter.evil.clean', join(repo, '.git', 'hang.sh')], ['filter.evil.required', 'true'], ['core.hooksPath', join(repo, '.git')]]) execFileSync('git', ['-C', repo, 'config', key!, value!]);
      writeFileSync(join(repo, '.git', 'info', 'attributes'), '* filter=evil\n');
      writeFileSync(join(repo, 'a.txt'), 'two\n');
      expect(await uncommittedFiles(repo)).toEqual(['a.txt']);
      expect(existsSync(join(dir, 'ran'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
