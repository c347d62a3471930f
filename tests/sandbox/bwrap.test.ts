import { describe, expect, it } from 'vitest';
import { bwrapArgv, type SandboxPlan } from '../../src/sandbox/bwrap.js';

const plan: SandboxPlan = {
  worktree: '/data/wt/repo-1/3-fix',
  repoRoot: '/home/u/repo',
  hiddenDirs: ['/data/wt/repo-1', '/home/u/.local/share/worktree-swarm', '/home/u/repo/.swarm'],
  secrets: [
    { path: '/home/u/.ssh', file: false },
    { path: '/home/u/.netrc', file: true },
  ],
  views: ['/tmp/clis/node_modules/@x/cli'],
  shown: ['/home/u/repo/.swarm/sessions/t3-a1/prompt.md'],
  home: '/home/u/.local/share/worktree-swarm/homes/claude',
  homeFiles: [['/home/u/.gitconfig', '/home/u/.local/share/worktree-swarm/homes/claude/.gitconfig']],
  network: 'host',
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
  it('no capabilities; read-only machine; private /tmp and /run; the human\'s checkout and a program under /tmp read-only; then other checkouts, homes and .swarm hidden but the prompt; own home and checkout writable; secrets hidden last', () => {
    const argv = bwrapArgv('/usr/bin/bwrap', ['claude', '-p', 'hi'], plan);
    expect(argv.slice(0, 7)).toEqual(['/usr/bin/bwrap', '--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--cap-drop', 'ALL']);
    expect(argv.slice(-4)).toEqual(['--', 'claude', '-p', 'hi']);
    expect(mounts(argv)).toEqual([
      '--ro-bind / /',
      '--dev /dev',
      '--proc /proc',
      '--tmpfs /tmp',
      '--tmpfs /run',
      '--ro-bind /home/u/repo /home/u/repo',
      '--ro-bind /tmp/clis/node_modules/@x/cli /tmp/clis/node_modules/@x/cli',
      '--tmpfs /data/wt/repo-1',
      '--tmpfs /home/u/.local/share/worktree-swarm',
      '--tmpfs /home/u/repo/.swarm',
      '--ro-bind /home/u/repo/.swarm/sessions/t3-a1/prompt.md /home/u/repo/.swarm/sessions/t3-a1/prompt.md',
      '--bind /home/u/.local/share/worktree-swarm/homes/claude /home/u/.local/share/worktree-swarm/homes/claude',
      '--ro-bind /home/u/.gitconfig /home/u/.local/share/worktree-swarm/homes/claude/.gitconfig',
      '--bind /data/wt/repo-1/3-fix /data/wt/repo-1/3-fix',
      '--tmpfs /home/u/.ssh',
      '--ro-bind /dev/null /home/u/.netrc',
      '--chdir /data/wt/repo-1/3-fix',
    ]);
    expect(argv).not.toContain('--unshare-net');
  });

  it("a reviewer's checkout is mounted read-only, in the same place, with the task's own checkout hidden by its folder", () => {
    const review = mounts(bwrapArgv('/usr/bin/bwrap', ['x'], { ...plan, worktree: '/data/wt/repo-1/3-fix.review-logic', worktreeReadOnly: true }));
    expect(review).toContain('--ro-bind /data/wt/repo-1/3-fix.review-logic /data/wt/repo-1/3-fix.review-logic');
    expect(review).not.toContain('--bind /data/wt/repo-1/3-fix.review-logic /data/wt/repo-1/3-fix.review-logic');
    expect(review.indexOf('--tmpfs /data/wt/repo-1')).toBeLessThan(review.indexOf('--ro-bind /data/wt/repo-1/3-fix.review-logic /data/wt/repo-1/3-fix.review-logic'));
  });

  it('network "none" leaves the agent loopback only', () => {
    expect(bwrapArgv('/usr/bin/bwrap', ['x'], { ...plan, network: 'none' })).toContain('--unshare-net');
  });
});
