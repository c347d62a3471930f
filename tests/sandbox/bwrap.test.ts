import { describe, expect, it } from 'vitest';
import { bwrapArgv } from '../../src/sandbox/bwrap.js';

const plan = {
  worktree: '/data/wt/repo-1/3-fix',
  gitDirs: ['/home/u/repo/.git/worktrees/3-fix', '/home/u/repo/.git'],
  repoRoot: '/home/u/repo',
  stateDir: '/home/u/repo/.swarm',
  promptFile: '/home/u/repo/.swarm/sessions/t3-a1/prompt.md',
  home: '/home/u',
  hidden: [
    { path: '/home/u/.ssh', file: false },
    { path: '/home/u/.netrc', file: true },
  ],
};

/** Each mount as "flag src [dest]" in order: later mounts cover earlier ones, so order is the contract. */
function mounts(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--bind' || a === '--ro-bind') out.push(`${a} ${argv[++i]!} ${argv[++i]!}`);
    else if (a === '--tmpfs' || a === '--dev' || a === '--proc' || a === '--chdir') out.push(`${a} ${argv[++i]!}`);
  }
  return out;
}

describe('bwrapArgv', () => {
  it('read-only machine, private /tmp, home with secrets hidden, main checkout read-only, other worktrees hidden, .swarm hidden but the prompt', () => {
    const argv = bwrapArgv('/usr/bin/bwrap', ['claude', '-p', 'hi'], plan);
    expect(argv.slice(0, 5)).toEqual(['/usr/bin/bwrap', '--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts']);
    expect(argv.slice(-4)).toEqual(['--', 'claude', '-p', 'hi']);
    expect(mounts(argv)).toEqual([
      '--ro-bind / /',
      '--dev /dev',
      '--proc /proc',
      '--tmpfs /tmp',
      '--bind /home/u /home/u',
      '--tmpfs /home/u/.ssh',
      '--ro-bind /dev/null /home/u/.netrc',
      '--ro-bind /home/u/repo /home/u/repo',
      '--tmpfs /data/wt/repo-1',
      '--bind /data/wt/repo-1/3-fix /data/wt/repo-1/3-fix',
      '--bind /home/u/repo/.git /home/u/repo/.git',
      '--bind /home/u/repo/.git/worktrees/3-fix /home/u/repo/.git/worktrees/3-fix',
      '--tmpfs /home/u/repo/.swarm',
      '--ro-bind /home/u/repo/.swarm/sessions/t3-a1/prompt.md /home/u/repo/.swarm/sessions/t3-a1/prompt.md',
      '--chdir /data/wt/repo-1/3-fix',
    ]);
    expect(argv).not.toContain('--unshare-net');
  });

  it('a program under /tmp is shown read-only through the private /tmp', () => {
    expect(mounts(bwrapArgv('/usr/bin/bwrap', ['x'], { ...plan, programDirs: ['/tmp/clis'] }))).toContain('--ro-bind /tmp/clis /tmp/clis');
  });
});
