import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findBwrap } from '../../src/sandbox/bwrap.js';
import { readTranscriptTail } from '../../src/sessions/sessions.js';
import { AGENTS, agentCommand, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

interface Probe {
  task: string;
  home: string;
  readable: string[];
  toolchain: string;
  nvm_node: string;
  own: Record<'bashrc' | 'profile' | 'settings' | 'credentials' | 'gitconfig', string | null>;
}

const USER_SETTINGS = JSON.stringify({ model: 'the-users-model', env: { ANTHROPIC_BASE_URL: 'https://proxy.example' } });

/** A user's home outside /tmp (the sandbox's /tmp is its own, which would hide things for the wrong reason). */
function userHome(box: Sandbox): string {
  const home = mkdtempSync('/var/tmp/swarm-userhome-');
  box.extraCleanup.push(home);
  const files: Record<string, string> = {
    '.codex/auth.json': '{"OPENAI_API_KEY":"sk-codex-login"}',
    '.gemini/oauth_creds.json': '{"refresh_token":"gemini-login"}',
    '.local/share/opencode/auth.json': '{"anthropic":{"key":"opencode-login"}}',
    '.claude/.credentials.json': '{"token":"the-users-login"}',
    '.claude/settings.json': USER_SETTINGS,
    '.config/google-chrome/Default/Cookies': 'browser cookies',
    '.bashrc': 'export OPENAI_API_KEY=sk-from-bashrc\n',
    '.ssh/id_ed25519': 'a key',
    '.npmrc': '//registry.npmjs.org/:_authToken=npm-token',
    '.local/bin/hello-from-toolchain': '#!/bin/sh\necho hello from the toolchain\n',
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(home, path, '..'), { recursive: true });
    writeFileSync(join(home, path), content);
  }
  chmodSync(join(home, '.local/bin/hello-from-toolchain'), 0o755);
  // A node from a version manager's folder in the home.
  mkdirSync(join(home, '.nvm', 'versions', 'node', 'v0', 'bin'), { recursive: true });
  symlinkSync(process.execPath, join(home, '.nvm', 'versions', 'node', 'v0', 'bin', 'node'));
  return home;
}

/** The probing stand-in, installed as `claude` (so claude's login and settings files are its template). */
function standInClaude(box: Sandbox, home: string): { type: 'claude'; command: string[]; env: Record<string, string> } {
  const bin = join(box.dir, 'bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync(join(AGENTS, 'home-cli.mjs'), join(bin, 'claude'));
  chmodSync(join(bin, 'claude'), 0o755);
  return { type: 'claude', command: [join(bin, 'claude')], env: { PROBE_HOME: home } };
}

function probes(box: Sandbox, id: number): Probe[] {
  const registry = openRegistry(box);
  try {
    return registry.attempts(id).flatMap((a) => {
      const line = /HOME_PROBE (\{[^\r\n]*\})/.exec(readTranscriptTail(a.session_dir, 256 * 1024))?.[1];
      return line ? [JSON.parse(line) as Probe] : [];
    });
  } finally {
    registry.close();
  }
}

describe.runIf(findBwrap() !== null)("the sandbox hides the user's home whole; each task's agent gets a fresh home", () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  beforeEach(() => {
    box = sandbox('sandbox-home');
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it("nothing of the home is readable but the allowlist, by the agent or its CI; toolchains from it work; a second task's agent finds nothing the first planted, and the refreshed login", async () => {
    const home = userHome(box);
    writeConfig(box, {
      sandbox: 'bwrap',
      agents: { claude: standInClaude(box, home) },
      default_agent: 'claude',
      ci: { command: [process.execPath, join(AGENTS, 'home-cli.mjs'), 'ci', ...SAMPLE_CI], env: { PROBE_HOME: home } },
    });
    const env = { HOME: home, PATH: `${join(home, '.local', 'bin')}:${process.env.PATH ?? ''}` };
    daemon = await runDaemon(box, env);

    const first = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'], env)).stdout) as { id: number };
    const one = await waitForState(box, first.id, ['ready', 'needs_help'], 120_000);
    // CI ran confined and read nothing (it fails the run otherwise).
    expect(one.state, one.reason ?? '').toBe('ready');
    const [p1] = probes(box, first.id);
    expect(p1!.readable).toEqual([]);
    expect(p1!.toolchain).toBe('hello from the toolchain');
    expect(p1!.nvm_node).toBe('node ok');
    expect(p1!.home).not.toBe(home);
    // Its CLI's login and settings were copied in, so the user's provider and model apply.
    expect(p1!.own.credentials).toBe('{"token":"the-users-login"}');
    expect(p1!.own.settings).toBe(USER_SETTINGS);
    expect(p1!.own.bashrc).toBeNull();

    const second = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers again'], env)).stdout) as { id: number };
    const two = await waitForState(box, second.id, ['ready', 'needs_help'], 120_000);
    expect(two.state, two.reason ?? '').toBe('ready');
    const [p2] = probes(box, second.id);
    expect(p2!.home).not.toBe(p1!.home);
    // Nothing the first task's agent planted reached the second.
    expect(p2!.own.bashrc).toBeNull();
    expect(p2!.own.profile).toBeNull();
    expect(p2!.own.gitconfig ?? '').not.toContain('planted');
    expect(p2!.own.settings).toBe(USER_SETTINGS);
    // The login the first one refreshed came back, and only that.
    expect(p2!.own.credentials).toBe(`{"token":"refreshed-by-task-${first.id}"}`);
    // The user's own files were never touched.
    expect(readFileSync(join(home, '.claude', '.credentials.json'), 'utf8')).toBe('{"token":"the-users-login"}');
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).toBe('export OPENAI_API_KEY=sk-from-bashrc\n');
    // Merged, the task's checkout goes, and the home made for it with it; the other task's stays.
    expect(existsSync(p1!.home)).toBe(true);
    // (The CLI and the daemon share swarm's data folder, as they do outside the tests.)
    expect((await swarm(box.repo, ['merge', String(first.id)], { ...env, XDG_DATA_HOME: join(box.dir, 'data') })).code).toBe(0);
    await waitForState(box, first.id, 'done');
    expect(existsSync(p1!.home)).toBe(false);
    expect(existsSync(p2!.home)).toBe(true);
  });

  it("the user's newer login wins over an older carried-back one", async () => {
    const home = userHome(box);
    writeConfig(box, { sandbox: 'bwrap', agents: { claude: standInClaude(box, home) }, default_agent: 'claude' });
    const env = { HOME: home, PATH: `${join(home, '.local', 'bin')}:${process.env.PATH ?? ''}` };
    daemon = await runDaemon(box, env);
    const first = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'one'], env)).stdout) as { id: number };
    await waitForState(box, first.id, ['ready', 'needs_help'], 120_000);
    // The user logs in again after that task: their file is newer than anything swarm carried back.
    writeFileSync(join(home, '.claude', '.credentials.json'), '{"token":"logged-in-again"}');
    const later = (Date.now() + 60_000) / 1000;
    utimesSync(join(home, '.claude', '.credentials.json'), later, later);
    const second = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'two'], env)).stdout) as { id: number };
    await waitForState(box, second.id, ['ready', 'needs_help'], 120_000);
    expect(probes(box, second.id)[0]!.own.credentials).toBe('{"token":"logged-in-again"}');
  });

  it('a checkout armed with a never-returning fsmonitor, a hanging clean filter and hooks costs the task nothing: none of it runs when swarm reads the checkout', async () => {
    writeConfig(box, { sandbox: 'bwrap', agents: { planter: { command: agentCommand('planter.mjs') } }, default_agent: 'planter', ci: { command: SAMPLE_CI } });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help'], 60_000);
    expect(task.state, task.reason ?? '').toBe('ready');
    expect(existsSync(join(task.worktree, '.git', 'planted-ran'))).toBe(false);
    // swarm merge reads the checkout again (what is uncommitted): it answers, and still nothing ran.
    const merged = await swarm(box.repo, ['merge', String(id)]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout + merged.stderr).toContain('NOTES.md');
    expect(existsSync(join(task.worktree, '.git', 'planted-ran'))).toBe(false);
  });

  it('with no "sandbox" key, agents are sandboxed where bubblewrap works, and doctor says so (daemon start prints the same line); where bwrap cannot run, it says why and the fix', async () => {
    const config = { base: 'main', stagger_ms: 0, monitor: { schedule: '*/1 * * * * *' }, cleanup: { schedule: null }, notify: { desktop: false }, memory: { agent_mb: 64, reserve_mb: 256 }, worktree: { dir: box.worktrees }, agents: { dev: { command: agentCommand('fixer-right.mjs') } }, default_agent: 'dev' };
    writeFileSync(join(box.repo, 'swarm.config.json'), JSON.stringify(config));
    expect((await swarm(box.repo, ['doctor'])).stdout).toContain('sandbox: bubblewrap (the default where it works; "sandbox": "none" turns it off)');
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    expect((await waitForState(box, id, ['ready', 'needs_help'], 60_000)).state).toBe('ready');
    const registry = openRegistry(box);
    const started = registry.events(id).find((e) => e.kind === 'agent_started')!;
    registry.close();
    expect(JSON.parse(started.data ?? '{}')).toMatchObject({ sandbox: 'bwrap' });

    // A machine where bwrap cannot make a namespace (a stand-in that fails as bwrap does there).
    const fake = join(box.dir, 'fakebin');
    mkdirSync(fake);
    writeFileSync(join(fake, 'bwrap'), '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n');
    chmodSync(join(fake, 'bwrap'), 0o755);
    const doctor = await swarm(box.repo, ['doctor'], { PATH: `${fake}:${process.env.PATH ?? ''}` });
    expect(doctor.stdout).toContain('sandbox: NONE, because bubblewrap could not start a sandbox here: bwrap: setting up uid map: Permission denied');
    expect(doctor.stdout).toContain('Fix: run `bwrap --ro-bind / / true` to see why');
  });
});
