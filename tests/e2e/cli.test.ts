import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSameProcessAlive } from '../../src/sessions/process.js';
import { waitFor } from '../../src/wait.js';
import { AGENTS, agentCommand, openRegistry, sandbox, swarm, waitForState, writeConfig, type Sandbox } from '../helpers/sample.js';

describe('init, schema and the background daemon', () => {
  let box: Sandbox;
  beforeEach(() => {
    box = sandbox('cli');
  });
  afterEach(async () => {
    await swarm(box.repo, ['daemon', 'stop']);
    box.cleanup();
  });

  it('init writes a config from the repository (base = current branch, CI = npm test), refuses to overwrite, --force does', async () => {
    const first = await swarm(box.repo, ['init']);
    expect(first.code).toBe(0);
    const config = JSON.parse(readFileSync(join(box.repo, 'swarm.config.json'), 'utf8')) as { base: string; ci: { command: string[] }; agents: Record<string, unknown> };
    expect(config.base).toBe('main');
    expect(config.agents).toEqual({ claude: { type: 'claude' } }); // no CLI on this machine: an entry to edit
    expect(config.ci.command).toEqual(['npm', 'test']);
    expect(readFileSync(join(box.repo, '.git', 'info', 'exclude'), 'utf8')).toContain('/.swarm/');
    const again = await swarm(box.repo, ['init']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect((await swarm(box.repo, ['init', '--force', '--base', 'develop'])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(box.repo, 'swarm.config.json'), 'utf8'))).toMatchObject({ base: 'develop' });
    const schema = JSON.parse((await swarm(box.repo, ['schema'])).stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['base', 'agents', 'ci', 'notify', 'github', 'orchestrator']));
  });

  it('init with claude, codex and gemini on PATH: claude codes, the other two review with a focus each, and it says so', async () => {
    const bin = join(box.dir, 'bin');
    mkdirSync(bin);
    for (const name of ['claude', 'codex', 'gemini']) {
      copyFileSync(join(AGENTS, 'fake-cli.mjs'), join(bin, name));
      chmodSync(join(bin, name), 0o755);
    }
    const init = await swarm(box.repo, ['init'], { PATH: `${bin}:${process.env.PATH ?? ''}` });
    expect(init.code, init.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(box.repo, 'swarm.config.json'), 'utf8')) as { default_agent: string; review: { reviewers: { agent: string; focus: string }[] } };
    expect(config.default_agent).toBe('claude');
    expect(config.review.reviewers.map((r) => [r.agent, r.focus])).toEqual([['codex', 'logic'], ['gemini', 'security']]);
    expect(init.stdout).toContain('Reviewers: codex (logic), gemini (security) review what claude writes');
  });

  it('daemon start runs it in the background (0600 token file), status reports it, stop leaves a running agent alone', async () => {
    writeConfig(box, { agents: { slow: { command: agentCommand('gated.mjs'), env: { AGENT_RECORD_DIR: box.records, AGENT_GATE: join(box.dir, 'never') } } } });
    expect((await swarm(box.repo, ['daemon', 'status'])).code).toBe(6);
    const started = await swarm(box.repo, ['daemon', 'start']);
    expect(started.stdout).toContain('Daemon started');
    expect(statSync(join(box.repo, '.swarm', 'daemon.json')).mode & 0o777).toBe(0o600);
    expect((await swarm(box.repo, ['daemon', 'start'])).stdout).toContain('already running');
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'wait'])).stdout) as { id: number; daemon_running: boolean };
    await waitForState(box, id, 'running');
    const status = JSON.parse((await swarm(box.repo, ['daemon', 'status', '--json'])).stdout) as { running: boolean; forge: string; dashboard: { url: string; public_url: string | null } };
    expect(status).toMatchObject({ running: true, forge: 'local', dashboard: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/), public_url: null } });
    // The address answers (the dashboard asks for a sign-in there, it does not just refuse the connection).
    expect((await fetch(status.dashboard.url)).status).toBeLessThan(500);
    await waitFor(async () => ((JSON.parse((await swarm(box.repo, ['daemon', 'status', '--json'])).stdout) as { sessions_watched: number }).sessions_watched === 1 ? true : undefined), { timeoutMs: 10_000, what: 'the session to be watched' });
    expect((await swarm(box.repo, ['daemon', 'stop'])).stdout).toContain('Daemon stopped');
    expect(existsSync(join(box.repo, '.swarm', 'daemon.json'))).toBe(false);
    const registry = openRegistry(box);
    const attempt = registry.latestAttempt(id, 'agent')!;
    expect(isSameProcessAlive(attempt.child_pid, attempt.child_start)).toBe(true);
    expect((await swarm(box.repo, ['kill', String(id)])).stdout).toContain('stopped 1 session');
    await waitFor(() => (isSameProcessAlive(attempt.child_pid, attempt.child_start) ? undefined : true), { timeoutMs: 10_000, what: 'the agent to be killed' });
    registry.close();
    expect(readFileSync(join(box.repo, '.swarm', 'daemon.log'), 'utf8')).toContain('daemon started');
  });
});
