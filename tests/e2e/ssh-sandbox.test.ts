import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostConfigInput } from '../../src/config/schema.js';
import { findBwrap } from '../../src/sandbox/bwrap.js';
import { AGENTS, agentCommand, BIN, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';
import { endHostTest, startSshd, type Sshd } from '../helpers/sshd.js';

interface Probe {
  task: string;
  home: string;
  readable: string[];
  seen: string[];
  own: Record<'bashrc' | 'profile' | 'settings' | 'credentials' | 'gitconfig', string | null>;
}

/** A home outside /tmp (the sandbox's /tmp is its own, which would hide things for the wrong reason), with logins in it. */
function homeWith(box: Sandbox, prefix: string, login: string): string {
  const home = mkdtempSync(`/var/tmp/${prefix}-`);
  box.extraCleanup.push(home);
  const files: Record<string, string> = {
    '.claude/.credentials.json': JSON.stringify({ token: login }),
    '.claude/settings.json': JSON.stringify({ model: `${login}-model` }),
    '.codex/auth.json': `{"OPENAI_API_KEY":"sk-${login}"}`,
    '.gemini/oauth_creds.json': `{"refresh_token":"${login}"}`,
    '.local/share/opencode/auth.json': `{"anthropic":{"key":"${login}"}}`,
    '.config/google-chrome/Default/Cookies': 'browser cookies',
    '.bashrc': `export OPENAI_API_KEY=sk-${login}-bashrc\n`,
    '.ssh/id_ed25519': 'a key',
    '.npmrc': `//registry.npmjs.org/:_authToken=${login}`,
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(home, path, '..'), { recursive: true });
    writeFileSync(join(home, path), content);
  }
  return home;
}

/**
 * Sandboxed agents on a host: the sandbox is built there by the host's swarm, around the host's own home and
 * logins, with the host's other checkouts and sessions hidden; CI there runs confined too.
 */
describe.runIf(findBwrap() !== null)('the sandbox on a host', () => {
  let box: Sandbox;
  let sshd: Sshd;
  let daemon: DaemonProcess | null = null;
  let host: HostConfigInput & { ssh_config: string };
  let userHome: string;
  let hostHome: string;
  const remote = (): string => join(box.dir, 'remote');

  beforeEach(async () => {
    box = sandbox('ssh-sandbox');
    userHome = homeWith(box, 'swarm-userhome', 'the-users-login');
    hostHome = homeWith(box, 'swarm-hosthome', 'the-hosts-login');
    // The host's logins see their own home; the user's home and repository are not there at all.
    sshd = await startSshd({ hide: [box.repo, userHome], env: { HOME: hostHome } });
    host = { ssh: 'box', dir: remote(), slots: 2, swarm: [process.execPath, BIN], ssh_config: sshd.clientConfig };
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await endHostTest(box, sshd, host, [remote()]);
  });

  /** The stand-in CLI (probing, planting, refreshing its login), installed as `claude` by path. */
  function standInClaude(): { type: 'claude'; command: string[]; env: Record<string, string> } {
    const bin = join(box.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    copyFileSync(join(AGENTS, 'home-cli.mjs'), join(bin, 'claude'));
    chmodSync(join(bin, 'claude'), 0o755);
    return { type: 'claude', command: [join(bin, 'claude')], env: { PROBE_HOME: hostHome, PROBE_WALK: remote() } };
  }

  async function probeOf(id: number): Promise<Probe> {
    const logs = await swarm(box.repo, ['logs', String(id)]);
    const line = /HOME_PROBE (\{[^\r\n]*\})/.exec(logs.stdout)?.[1];
    if (!line) throw new Error(`no probe in the transcript of task ${id}:\n${logs.stdout.slice(-2000)}${logs.stderr}`);
    return JSON.parse(line) as Probe;
  }

  it("an agent there gets a fresh home from the host's own login, reads none of the host's secrets, other checkouts or sessions; CI there is confined; a task placed there for want of room is sandboxed too", async () => {
    const gate = join(box.dir, 'never');
    writeConfig(box, {
      sandbox: 'bwrap',
      concurrency: 1,
      agents: { claude: standInClaude(), gated: { command: agentCommand('gated.mjs'), sandbox: 'none', env: { AGENT_RECORD_DIR: box.records, AGENT_GATE: gate } } },
      default_agent: 'claude',
      ci: { command: [process.execPath, join(AGENTS, 'home-cli.mjs'), 'ci', ...SAMPLE_CI], env: { PROBE_HOME: hostHome } },
      hosts: { box: host },
    });
    const env = { HOME: userHome };
    daemon = await runDaemon(box, env);

    const first = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--host', 'box', 'Fix addNumbers'], env)).stdout) as { id: number };
    const one = await waitForState(box, first.id, ['ready', 'needs_help'], 120_000);
    // CI ran on the host, confined: it fails the run when any of the host's secrets is readable.
    expect(one.state, one.reason ?? '').toBe('ready');
    expect(one.retries).toBe(0);
    const registry = openRegistry(box);
    expect(JSON.parse(registry.events(first.id).find((e) => e.kind === 'agent_started')!.data ?? '{}')).toMatchObject({ sandbox: 'bwrap' });
    const p1 = await probeOf(first.id);
    expect(p1.readable).toEqual([]);
    // Its home was made on the host, in the host's swarm data folder, from the host's own login and settings.
    expect(p1.home.startsWith(join(hostHome, '.local', 'share', 'worktree-swarm', 'homes', 'claude'))).toBe(true);
    expect(p1.own.credentials).toBe('{"token":"the-hosts-login"}');
    expect(p1.own.settings).toBe('{"model":"the-hosts-login-model"}');
    expect(p1.own.bashrc).toBeNull();
    // Of the host's swarm folder: the mirror (read-only) and its own checkout; of the sessions, only its prompt.
    const repoDir = readdirSync(remote())[0]!;
    const checkout1 = join(remote(), repoDir, 'checkouts', basename(one.worktree));
    expect(p1.seen).toContain(join(remote(), repoDir, 'mirror.git'));
    expect(p1.seen).toContain(checkout1);
    const sessions1 = p1.seen.filter((path) => path.startsWith(join(remote(), repoDir, 'sessions')));
    expect(sessions1.every((path) => path.includes(`t${first.id}-a1`) || path === join(remote(), repoDir, 'sessions'))).toBe(true);

    // This machine's one slot is taken by a local agent: the next task has no room here and goes to the host,
    // which has bubblewrap and memory for it.
    const local = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--agent', 'gated', 'Wait here'], env)).stdout) as { id: number };
    await waitForState(box, local.id, 'running');
    const second = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers again'], env)).stdout) as { id: number };
    const two = await waitForState(box, second.id, ['ready', 'needs_help'], 120_000);
    expect(two.state, two.reason ?? '').toBe('ready');
    expect(two.host).toBe('box');
    expect(registry.events(second.id).some((e) => e.kind === 'placed' && (e.data ?? '').includes('"box"'))).toBe(true);
    const p2 = await probeOf(second.id);
    expect(p2.readable).toEqual([]);
    expect(p2.home).not.toBe(p1.home);
    // Nothing the first agent planted in its home reached the second; the login it refreshed did (on the host).
    expect(p2.own.bashrc).toBeNull();
    expect(p2.own.profile).toBeNull();
    expect(p2.own.gitconfig ?? '').not.toContain('planted');
    expect(p2.own.credentials).toBe(`{"token":"refreshed-by-task-${first.id}"}`);
    // The first task's checkout and sessions are still on the host, and hidden from the second agent.
    expect(existsSync(checkout1)).toBe(true);
    expect(p2.seen).not.toContain(checkout1);
    expect(p2.seen.filter((path) => path.includes(`t${first.id}-a1`))).toEqual([]);
    registry.close();
    // The host's own files and the user's were never touched.
    expect(readFileSync(join(hostHome, '.claude', '.credentials.json'), 'utf8')).toBe('{"token":"the-hosts-login"}');
    expect(readFileSync(join(hostHome, '.bashrc'), 'utf8')).toBe('export OPENAI_API_KEY=sk-the-hosts-login-bashrc\n');
    expect(readFileSync(join(userHome, '.claude', '.credentials.json'), 'utf8')).toBe('{"token":"the-users-login"}');
  });
});
