import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SandboxPlan } from '../../src/sandbox/bwrap.js';
import { seatbeltArgv, seatbeltProfile } from '../../src/sandbox/seatbelt.js';

const plan: SandboxPlan = {
  worktree: '/Users/u/.local/share/worktree-swarm/worktrees/repo-1/3-fix',
  repoRoot: '/Users/u/code/repo',
  hiddenHomes: ['/Users', '/var/root', '/Users/u'],
  views: ['/Users/u/.nvm', '/Users/u/.cargo/bin'],
  hiddenDirs: ['/Users/u/.local/share/worktree-swarm/worktrees/repo-1', '/Users/u/.local/share/worktree-swarm', '/Users/u/code/repo/.swarm'],
  shown: ['/Users/u/code/repo/.swarm/sessions/t3-a1/prompt.md'],
  home: '/Users/u/.local/share/worktree-swarm/homes/claude/3-fix',
  homeFiles: [],
  secrets: [{ path: '/etc/master.passwd', file: true }],
  network: 'none',
  netDir: '/tmp/swarm-501/net-abc',
};

/** The profile's rules, one a line, the order being the contract (a later rule overrides an earlier one). */
const rules = (p: SandboxPlan): string[] => seatbeltProfile(p, '/private/tmp/swarm-t3').trim().split('\n');

describe('seatbeltProfile: the bubblewrap plan as a Seatbelt profile', () => {
  it('denies by default, hides the homes, shows back the allowlist, hides .swarm and other checkouts but the prompt, then the checkout and home writable, secrets last, the network only through the bridge', () => {
    expect(rules(plan)).toEqual([
      '(version 1)',
      '(deny default)',
      '(allow process-exec process-fork)',
      '(allow signal (target same-sandbox))',
      '(allow sysctl-read mach-lookup ipc-posix-shm iokit-open pseudo-tty file-ioctl)',
      '(allow file-read*)',
      '(deny file-read* (subpath "/Users") (subpath "/var/root") (subpath "/Users/u"))',
      '(allow file-read* (subpath "/Users/u/code/repo") (subpath "/Users/u/.nvm") (subpath "/Users/u/.cargo/bin"))',
      '(deny file-read* file-write* (subpath "/Users/u/.local/share/worktree-swarm/worktrees/repo-1") (subpath "/Users/u/.local/share/worktree-swarm") (subpath "/Users/u/code/repo/.swarm"))',
      '(allow file-read* (literal "/Users/u/code/repo/.swarm/sessions/t3-a1/prompt.md"))',
      '(allow file-read* (subpath "/Users/u/.local/share/worktree-swarm/worktrees/repo-1/3-fix") (subpath "/Users/u/.local/share/worktree-swarm/homes/claude/3-fix") (subpath "/private/tmp/swarm-t3"))',
      '(allow file-write* (subpath "/Users/u/.local/share/worktree-swarm/worktrees/repo-1/3-fix") (subpath "/Users/u/.local/share/worktree-swarm/homes/claude/3-fix") (subpath "/private/tmp/swarm-t3") (literal "/dev/null") (literal "/dev/tty") (regex #"^/dev/ttys[0-9]+$"))',
      '(deny file-read* file-write* (literal "/etc/master.passwd"))',
      '(allow network-outbound (remote unix-socket (subpath "/tmp/swarm-501/net-abc")))',
      '(allow file-read* file-write* (subpath "/tmp/swarm-501/net-abc"))',
    ]);
  });

  it.each([
    ['open network: all of it', { network: 'host' as const }, '(allow network*)', true],
    ['a reviewer: its checkout readable, never writable', { worktreeReadOnly: true }, '(allow file-write* (subpath "/Users/u/.local/share/worktree-swarm/homes/claude/3-fix")', true],
    ['no network of its own without a bridge', { network: 'none' as const, netDir: null }, 'network', false],
  ])('%s', (_name, over, text, present) => {
    expect(rules({ ...plan, ...over }).some((r) => r.includes(text))).toBe(present);
  });

  it('quotes paths so a folder name cannot end a string and add a rule', () => {
    const profile = seatbeltProfile({ ...plan, views: ['/Users/u/we"ird) (allow file-write* (subpath "/")'] }, '/tmp/t');
    expect(profile).toContain('(subpath "/Users/u/we\\"ird) (allow file-write* (subpath \\"/\\")")');
  });

  it.runIf(process.platform === 'darwin')('on macOS, sandbox-exec with the profile: the home unreadable, the allowlist readable, the checkout writable, the home not', () => {
    const base = mkdtempSync(join(tmpdir(), 'swarm-seatbelt-'));
    try {
      const home = join(base, 'home');
      const checkout = join(base, 'wt');
      const tools = join(home, '.local', 'bin');
      mkdirSync(tools, { recursive: true });
      mkdirSync(checkout);
      writeFileSync(join(home, 'secret'), 'x');
      writeFileSync(join(tools, 'tool'), 'y');
      const p: SandboxPlan = { ...plan, worktree: checkout, repoRoot: checkout, hiddenHomes: [home], views: [tools], hiddenDirs: [], shown: [], home: null, secrets: [], network: 'host' };
      const sh = (script: string): string => execFileSync(seatbeltArgv(p, join(base, 'tmp'), ['/bin/sh', '-c', script])[0]!, seatbeltArgv(p, join(base, 'tmp'), ['/bin/sh', '-c', script]).slice(1), { encoding: 'utf8' });
      expect(sh(`cat ${join(home, 'secret')} 2>/dev/null || echo denied`)).toContain('denied');
      expect(sh(`cat ${join(tools, 'tool')}`)).toBe('y');
      expect(sh(`echo ok > ${join(checkout, 'f')} && echo wrote`)).toContain('wrote');
      expect(sh(`echo no > ${join(home, 'planted')} 2>/dev/null || echo denied`)).toContain('denied');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
