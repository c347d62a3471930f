import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { homeView, insideHome, programView } from '../../src/sandbox/home-view.js';
import { prepareHome, removeTaskHomes, type HomeTemplate } from '../../src/sandbox/homes.js';
import { tempDir } from '../helpers/sample.js';

describe('homeView: the home hidden whole, an allowlist shown back', () => {
  const present = new Set(['/home', '/root', '/home/u/.nvm', '/home/u/.cargo/bin', '/home/u/.local/bin', '/home/u/work/data', '/etc/shadow', '/etc/ssh', '/etc/ssh/ssh_host_ed25519_key', '/etc/ssl/private']);
  const view = (extraRead: string[] = []) => homeView({ home: '/home/u', extraRead, exists: (p) => present.has(p), isDir: (p) => ['/etc/ssh', '/etc/ssl/private', '/home', '/root'].includes(p), listDir: () => ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub', 'sshd_config'] });

  it.each([
    ['every home hidden, the user\'s too', (v: ReturnType<typeof view>) => v.hide, ['/home', '/root', '/home/u']],
    ['toolchains present are shown back, absent ones are not', (v: ReturnType<typeof view>) => v.show, ['/home/u/.nvm', '/home/u/.cargo/bin', '/home/u/.local/bin']],
    ['root-only files masked (a host key, not its .pub)', (v: ReturnType<typeof view>) => v.secrets.map((s) => s.path), ['/etc/shadow', '/etc/ssh/ssh_host_ed25519_key', '/etc/ssl/private']],
  ])('%s', (_name, pick, expected) => {
    expect(pick(view())).toEqual(expected);
  });

  it('sandbox_home_read adds paths inside the home only; ".." and absolute paths are refused', () => {
    expect(view(['work/data', '../etc', '/etc/passwd', '~/work/data/']).show).toEqual(['/home/u/.nvm', '/home/u/.cargo/bin', '/home/u/.local/bin', '/home/u/work/data']);
    expect(insideHome('/home/u', '../x')).toBeNull();
  });

  it.each([
    ['a CLI in an npm prefix in the home: its whole node_modules (platform packages are siblings)', '/home/u/.npm-global/lib/node_modules/@openai/codex/bin/codex.js', '/home/u/.npm-global/lib/node_modules'],
    ['a binary in a hidden home: its folder', '/home/u/bin/agent', '/home/u/bin'],
    ['a script under /tmp', '/tmp/x/agent.mjs', '/tmp/x'],
    ['a program in /usr: already visible', '/usr/bin/git', null],
  ])('programView: %s', (_name, path, expected) => {
    expect(programView(path, ['/tmp', '/home'])).toBe(expected);
  });
});

describe('prepareHome: a fresh home per task from a template', () => {
  let dir: string;
  let user: string;
  const saved = process.env.XDG_DATA_HOME;
  beforeEach(() => {
    dir = tempDir('homes');
    user = join(dir, 'user');
    process.env.XDG_DATA_HOME = join(dir, 'data');
    for (const [path, content] of Object.entries({ '.codex/auth.json': 'login-1', '.codex/config.toml': 'model = "mine"', 'codexhome/auth.json': 'env-login', 'codexhome/config.toml': 'provider = "x"', 'codexhome/history.jsonl': 'old chats', '.npmrc': 'registry=x' })) {
      mkdirSync(join(user, path, '..'), { recursive: true });
      writeFileSync(join(user, path), content);
    }
  });
  afterEach(() => {
    process.env.XDG_DATA_HOME = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  const template = (over: Partial<HomeTemplate> = {}): HomeTemplate => ({ agent: 'codex', key: '1-fix', source: user, seed: ['.codex/auth.json', '.codex/config.toml'], logins: ['.codex/auth.json'], copy: [], cliHomes: [], env: {}, fresh: true, ...over });

  it('copies the login and settings files and what the user opted into, nothing else', () => {
    const { home } = prepareHome(template({ copy: ['.npmrc'] }));
    expect(readFileSync(join(home, '.codex', 'auth.json'), 'utf8')).toBe('login-1');
    expect(readFileSync(join(home, '.codex', 'config.toml'), 'utf8')).toBe('model = "mine"');
    expect(readFileSync(join(home, '.npmrc'), 'utf8')).toBe('registry=x');
    expect(existsSync(join(home, 'codexhome'))).toBe(false);
  });

  it('a CLI home named by CODEX_HOME gets a private, writable copy of its files, and the variable points at it; XDG homes inside the user home move with it', () => {
    const { home, env } = prepareHome(template({ cliHomes: [{ name: 'CODEX_HOME', files: ['auth.json', 'config.toml'], logins: ['auth.json'] }], env: { CODEX_HOME: join(user, 'codexhome'), XDG_CONFIG_HOME: join(user, '.config'), XDG_CACHE_HOME: '/var/cache/x' } }));
    expect(env.CODEX_HOME).toBe(join(home, '.cli-homes', 'CODEX_HOME'));
    expect(readFileSync(join(env.CODEX_HOME!, 'config.toml'), 'utf8')).toBe('provider = "x"');
    expect(existsSync(join(env.CODEX_HOME!, 'history.jsonl'))).toBe(false);
    expect(env.XDG_CONFIG_HOME).toBe(join(home, '.config'));
    expect(env.XDG_CACHE_HOME).toBeUndefined();
  });

  it('a respawn keeps the task\'s home (the CLI resumes its session); a new task starts fresh; a refreshed login is carried back and nothing else', () => {
    const { home } = prepareHome(template());
    writeFileSync(join(home, '.bashrc'), 'planted');
    writeFileSync(join(home, '.codex', 'config.toml'), 'planted = true');
    writeFileSync(join(home, '.codex', 'auth.json'), 'refreshed');
    const future = (Date.now() + 10_000) / 1000;
    utimesSync(join(home, '.codex', 'auth.json'), future, future);
    expect(prepareHome(template({ fresh: false })).home).toBe(home);
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).toBe('planted');
    const next = prepareHome(template({ key: '2-other' })).home;
    expect(existsSync(join(next, '.bashrc'))).toBe(false);
    expect(readFileSync(join(next, '.codex', 'config.toml'), 'utf8')).toBe('model = "mine"');
    expect(readFileSync(join(next, '.codex', 'auth.json'), 'utf8')).toBe('refreshed');
    removeTaskHomes(join(dir, 'worktrees', '1-fix'));
    expect(existsSync(home)).toBe(false);
    expect(existsSync(next)).toBe(true);
  });
});
