import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findBwrap } from '../../src/sandbox/bwrap.js';
import { readTranscriptTail } from '../../src/sessions/sessions.js';
import { agentCommand, git, makeSampleRepo, openRegistry, ROOT, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';
import { fakeOllama, FIX_ADD_NUMBERS, type Turn } from '../helpers/ollama.js';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY----- planted-test-key';
const GITHUB_TOKEN = 'ghp_plantedTokenThatMustNeverReachAnAgent';
const NTFY_TOKEN = 'tk_plantedNotificationToken';

interface Prizes {
  home: string;
  other: string;
  marker: string;
  mainBefore: string;
  otherBranchBefore: string;
  env: NodeJS.ProcessEnv;
}

/**
 * What an attacker would be after, outside /tmp (the sandbox's /tmp is private, which would hide prizes there
 * for the wrong reason): a home with a key and a .bashrc, another task's checkout, another task's branch.
 */
function plantPrizes(box: Sandbox): Prizes {
  const home = mkdtempSync('/var/tmp/swarm-home-');
  const worktrees = mkdtempSync('/var/tmp/swarm-wt-');
  box.extraCleanup.push(home, worktrees);
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  writeFileSync(join(home, '.ssh', 'id_ed25519'), KEY, { mode: 0o600 });
  writeFileSync(join(home, '.bashrc'), '# the user\'s own\n');
  const other = join(worktrees, '9-other-task');
  mkdirSync(other);
  writeFileSync(join(other, 'secret.txt'), 'another task');
  git(box.repo, ['branch', 'swarm/other']);
  box.worktrees = worktrees;
  return {
    home,
    other,
    marker: join(box.dir, 'daemon-ran-agent-code'),
    mainBefore: git(box.repo, ['rev-parse', 'main']).trim(),
    otherBranchBefore: git(box.repo, ['rev-parse', 'swarm/other']).trim(),
    // The daemon's environment: the user's home and tokens an agent must never get.
    env: { HOME: home, XDG_DATA_HOME: join(box.dir, 'data'), GITHUB_TOKEN, NTFY_TOKEN },
  };
}

function expectNothingMoved(box: Sandbox, prizes: Prizes): void {
  expect(git(box.repo, ['rev-parse', 'main']).trim()).toBe(prizes.mainBefore);
  expect(git(box.repo, ['rev-parse', 'swarm/other']).trim()).toBe(prizes.otherBranchBefore);
  expect(existsSync(join(box.repo, 'PWNED'))).toBe(false);
  expect(existsSync(join(prizes.home, 'PWNED'))).toBe(false);
  expect(readFileSync(join(prizes.home, '.bashrc'), 'utf8')).toBe("# the user's own\n");
  expect(existsSync(join(box.repo, '.git', 'hooks', 'post-checkout'))).toBe(false);
  expect(existsSync(prizes.marker)).toBe(false);
}

describe.runIf(findBwrap() !== null)('the bubblewrap sandbox holds against a hostile agent', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  beforeEach(() => {
    box = sandbox('sandbox');
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it('a scripted attacker reaches nothing past its checkout; its task still commits, passes confined CI and is ready', async () => {
    const prizes = plantPrizes(box);
    // Another repository on the machine with its own daemon (and token), outside /tmp.
    const otherRepo = mkdtempSync('/var/tmp/swarm-other-repo-');
    box.extraCleanup.push(otherRepo);
    makeSampleRepo(otherRepo);
    writeFileSync(join(otherRepo, 'swarm.config.json'), JSON.stringify({ agents: { a: { command: agentCommand('fixer-right.mjs') } } }));
    const otherDaemon = await runDaemon({ ...box, repo: otherRepo }, prizes.env);
    const attackEnv = { ATTACK_HOME: prizes.home, ATTACK_REPO: box.repo, ATTACK_OTHER: prizes.other, ATTACK_MARKER: prizes.marker, ATTACK_OTHER_REPO: otherRepo };
    writeConfig(box, {
      sandbox: 'bwrap',
      agents: { attacker: { command: agentCommand('attacker.mjs'), env: attackEnv } },
      ci: { command: [process.execPath, join(ROOT, 'tests', 'fixtures', 'ci-probe.mjs'), ...SAMPLE_CI], env: { ATTACK_HOME: prizes.home, ATTACK_REPO: box.repo } },
      worktree: { dir: box.worktrees },
    });
    daemon = await runDaemon(box, prizes.env);
    const token = (JSON.parse(readFileSync(join(box.repo, '.swarm', 'daemon.json'), 'utf8')) as { token: string }).token;
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'], prizes.env)).stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help'], 120_000);
    expect(task.state, task.reason ?? '').toBe('ready');

    const report = JSON.parse(readFileSync(join(task.worktree, '.git', 'attack-report.json'), 'utf8')) as { name: string; escaped: boolean; detail: string }[];
    otherDaemon.child.kill('SIGTERM');
    await otherDaemon.exited;
    expect(report.map((r) => r.name)).toEqual(expect.arrayContaining(['read ~/.ssh/id_ed25519', 'read .swarm/daemon.json', "read another repository's daemon.json", 'call the daemon API', 'write through a committed symlink', "read another task's checkout", 'git update-ref refs/heads/main in the repository', 'git push . HEAD:main (its own clone)', "delete another task's branch", 'print GITHUB_TOKEN']));
    for (const attempt of report) {
      if (attempt.name.startsWith('plant')) continue; // judged below: the marker must not appear
      expect(attempt, `${attempt.name}: ${attempt.detail}`).toMatchObject({ escaped: false });
    }
    expectNothingMoved(box, prizes);
    // The task's own work came back to its branch; the agent's transcript never held a token.
    expect(git(box.repo, ['show', `${task.branch}:src/add.ts`])).toContain('a + b');
    const registry = openRegistry(box);
    const agentRun = registry.latestAttempt(id, 'agent')!;
    const transcript = readTranscriptTail(agentRun.session_dir, 1024 * 1024);
    for (const secret of [GITHUB_TOKEN, NTFY_TOKEN, token, KEY]) expect(transcript).not.toContain(secret);
    expect(registry.events(id).some((e) => e.kind === 'agent_started' && e.data?.includes('bwrap'))).toBe(true);
    registry.close();
    // CI ran confined too (ci-probe fails the run otherwise), and its checkout is the task's clone.
    expect(existsSync(join(task.worktree, '.git', 'objects', 'info', 'alternates'))).toBe(true);
  });

  it("the built-in agent's tools against a loopback model: the same attempts fail, the fix lands", async () => {
    const prizes = plantPrizes(box);
    const ollama = await fakeOllama([{ name: 'coder:7b', capabilities: ['completion', 'tools'] }]);
    try {
      const bash = (command: string): Turn => ({ tool_calls: [{ name: 'bash', arguments: { command } }] });
      ollama.script([
        { tool_calls: [{ name: 'read', arguments: { path: join(prizes.home, '.ssh', 'id_ed25519') } }] },
        bash(`cat ${join(prizes.home, '.ssh', 'id_ed25519')}`),
        bash(`cat ${join(box.repo, '.swarm', 'daemon.json')}`),
        bash(`ln -s ${prizes.home} escape`),
        { tool_calls: [{ name: 'write', arguments: { path: 'escape/PWNED', content: 'x' } }] },
        bash('echo x > escape/PWNED; rm escape'),
        bash(`cat ${join(prizes.other, 'secret.txt')}`),
        bash(`git --git-dir ${join(box.repo, '.git')} update-ref refs/heads/main HEAD`),
        bash(`git push ${box.repo} HEAD:main`),
        bash(`git --git-dir ${join(box.repo, '.git')} branch -D swarm/other`),
        bash('echo "token=$GITHUB_TOKEN ntfy=$NTFY_TOKEN"'),
        bash(`echo x >> ${join(prizes.home, '.bashrc')}`),
        ...FIX_ADD_NUMBERS,
      ]);
      writeConfig(box, { sandbox: 'bwrap', agents: { local: { type: 'builtin', model: 'coder:7b', host: ollama.url } }, ci: { command: SAMPLE_CI }, worktree: { dir: box.worktrees } });
      daemon = await runDaemon(box, prizes.env);
      const token = (JSON.parse(readFileSync(join(box.repo, '.swarm', 'daemon.json'), 'utf8')) as { token: string }).token;
      const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'], prizes.env)).stdout) as { id: number };
      const task = await waitForState(box, id, ['ready', 'needs_help'], 120_000);
      expect(task.state, task.reason ?? '').toBe('ready');
      // What the model saw of its tools' results: never a prize.
      const seen = ollama.chats.flatMap((chat) => chat.messages.filter((m) => m.role === 'tool').map((m) => m.content)).join('\n');
      for (const secret of [KEY, token, GITHUB_TOKEN, NTFY_TOKEN, 'another task']) expect(seen).not.toContain(secret);
      expect(seen).toMatch(/Read-only file system|No such file|Permission denied/);
      expectNothingMoved(box, prizes);
      expect(git(box.repo, ['show', `${task.branch}:src/add.ts`])).toContain('a + b');
    } finally {
      await ollama.close();
    }
  });

  it('without bubblewrap, a sandboxed agent is refused at spawn with how to install it; nothing is queued', async () => {
    writeConfig(box, { sandbox: 'bwrap', agents: { a: { command: agentCommand('fixer-right.mjs') } } });
    const bin = join(box.dir, 'bin');
    mkdirSync(bin);
    symlinkSync(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), join(bin, 'git'));
    const result = await swarm(box.repo, ['spawn', 'Fix addNumbers'], { PATH: bin });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('apt-get install bubblewrap');
    expect(openRegistry(box).listTasks()).toHaveLength(0);
    expect(readdirSync(box.dir)).not.toContain('worktrees');
  });
});

describe.runIf(findBwrap() !== null)('a sandboxed agent limited to its endpoints', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  const servers: Server[] = [];
  beforeEach(() => {
    box = sandbox('sandbox-net');
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    for (const server of servers.splice(0)) await new Promise((r) => server.close(r));
    box.cleanup();
  });

  async function loopbackServer(): Promise<{ port: number; hits: () => number }> {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('model api');
    });
    server.on('connection', () => hits++);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, hits: () => hits };
  }

  it('by default (no network key) reaches its allowed endpoint; not another loopback port, not the internet, and neither does its CI; the proxy refuses other hosts in words; the task is ready', async () => {
    const api = await loopbackServer();
    const exfil = await loopbackServer();
    writeConfig(box, {
      sandbox: 'bwrap',
      agents: { probe: { command: agentCommand('net-probe.mjs'), network_allow: [`http://127.0.0.1:${api.port}`], env: { ALLOWED_URL: `http://127.0.0.1:${api.port}/v1/models`, EXFIL_PORT: String(exfil.port) } } },
      ci: { command: [process.execPath, join(ROOT, 'tests', 'fixtures', 'ci-net-probe.mjs'), ...SAMPLE_CI], env: { EXFIL_PORT: String(exfil.port) } },
    });
    daemon = await runDaemon(box, { XDG_DATA_HOME: join(box.dir, 'data') });
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help'], 120_000);
    expect(task.state, task.reason ?? '').toBe('ready');
    const report = JSON.parse(readFileSync(join(task.worktree, '.git', 'net-report.json'), 'utf8')) as Record<string, unknown>;
    expect(report.allowed, JSON.stringify(report)).toEqual({ status: 200, body: "model api" });
    expect(report.exfil).toBe('ECONNREFUSED');
    expect(report.internet).toMatch(/ENETUNREACH|EHOSTUNREACH|ECONNREFUSED/);
    expect(report.proxy_evil).toMatchObject({ status: 403 });
    expect(JSON.stringify(report), JSON.stringify(report)).toContain("evil.example:443 is not among this agent's allowed endpoints");
    expect(exfil.hits()).toBe(0);
    expect(api.hits()).toBeGreaterThan(0);
  });
});
