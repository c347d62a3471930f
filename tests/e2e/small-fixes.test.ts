import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync, openSync, writeSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Toolbox } from '../../src/agents/builtin/tools.js';
import { ensureWorktree } from '../../src/workspace/worktrees.js';
import { BIN, git, sandbox, swarm, tempDir, writeConfig, type Sandbox } from '../helpers/sample.js';

describe('the smaller edges', () => {
  let box: Sandbox;
  beforeEach(() => {
    box = sandbox('edges');
  });
  afterEach(() => box.cleanup());

  it('a worktree deleted under a task is checked out again, with the branch as it was', async () => {
    const path = join(box.dir, 'wt', '1-x');
    expect(await ensureWorktree(box.repo, path, 'feature/x', 'main')).toBe('created');
    git(path, ['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '--allow-empty', '-qm', 'work of attempt 1']);
    rmSync(path, { recursive: true, force: true });
    expect(await ensureWorktree(box.repo, path, 'feature/x', 'main')).toBe('created');
    expect(git(path, ['log', '--format=%s', '-1'])).toContain('work of attempt 1');
  });

  it('worktree.dir inside the repository is refused with why', async () => {
    writeConfig(box, { agents: { a: { command: ['true'] } }, worktree: { dir: join(box.repo, 'trees') } });
    const result = await swarm(box.repo, ['spawn', 'do it']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('is inside the repository');
  });

  it('an existing .swarm is closed to others (0700); a reader that goes away is no EPIPE stack trace', async () => {
    writeConfig(box, { agents: { a: { command: ['true'] } } });
    mkdirSync(join(box.repo, '.swarm'), { recursive: true });
    chmodSync(join(box.repo, '.swarm'), 0o755);
    expect((await swarm(box.repo, ['ls'])).code).toBe(0);
    expect(statSync(join(box.repo, '.swarm')).mode & 0o777).toBe(0o700);
    // `swarm schema | head -c 10`: the pipe closes after the first bytes.
    const stderr = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'schema'], { cwd: box.repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', () => resolve(err));
    });
    expect(stderr).not.toContain('EPIPE');
  });
});

describe('the built-in agent reads big files in bounded memory, and never through a symlink out', () => {
  it('a 200 MB file: the window asked for, memory flat', async () => {
    const root = tempDir('bigread');
    try {
      const fd = openSync(join(root, 'big.log'), 'w');
      const block = `${'y'.repeat(199)}\n`.repeat(5_000);
      for (let i = 0; i < 200; i++) writeSync(fd, block);
      closeSync(fd);
      const box = new Toolbox(root, 10);
      const before = process.memoryUsage().rss;
      const result = await box.call('read', { path: 'big.log', start_line: 999_998, end_line: 1_000_000 });
      const grown = (process.memoryUsage().rss - before) / 1024 / 1024;
      expect(result.ok).toBe(true);
      expect(result.output).toContain('1000000  yyy');
      expect(result.output.split('\n')).toHaveLength(3);
      // Reading the whole file into a string costs several hundred MB; streaming costs the window.
      expect(grown).toBeLessThan(100);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a committed symlink pointing outside cannot be written or read through', async () => {
    const root = tempDir('symlink');
    const outside = tempDir('outside');
    try {
      writeFileSync(join(outside, 'secret.txt'), 'secret');
      symlinkSync(outside, join(root, 'escape'));
      const box = new Toolbox(root, 10);
      const write = await box.call('write', { path: 'escape/planted.txt', content: 'x' });
      expect(write.ok).toBe(false);
      expect(write.output).toContain('outside the repository (through a symlink)');
      expect((await box.call('read', { path: 'escape/secret.txt' })).ok).toBe(false);
      expect(() => readFileSync(join(outside, 'planted.txt'))).toThrow();
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
