import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import type { HostConfigInput } from '../../src/config/schema.js';
import { isSameProcessAlive } from '../../src/sessions/process.js';
import { waitFor } from '../../src/wait.js';
import { attachInPty } from '../helpers/attach.js';
import { agentCommand, BIN, git, openRegistry, readRecords, receiver, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';
import { endHostTest, startSshd, type Sshd } from '../helpers/sshd.js';

/**
 * A task on another machine, through a real sshd whose logins cannot see the daemon's repository (hidden in
 * their mount namespace): code can only move through git over SSH, sessions only through `swarm host`.
 */
describe('a task on a host over SSH', () => {
  let box: Sandbox;
  let sshd: Sshd;
  let daemon: DaemonProcess | null = null;
  let host: HostConfigInput & { ssh_config: string };
  const remote = (): string => join(box.dir, 'remote');

  beforeEach(async () => {
    box = sandbox('ssh-runner');
    sshd = await startSshd({ hide: [box.repo] });
    host = { ssh: 'box', dir: remote(), slots: 2, swarm: [process.execPath, BIN], ssh_config: sshd.clientConfig };
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await endHostTest(box, sshd, host, [remote(), join(box.dir, 'remote2')]);
  });

  it('reaches ready on the host (agent and CI there), survives the daemon killed with -9, its logs read from here, and merges here', async () => {
    const gate = join(box.dir, 'release');
    writeConfig(box, {
      agents: { gated: { command: agentCommand('gated.mjs'), sandbox: 'none', env: { AGENT_RECORD_DIR: box.records, AGENT_GATE: gate } } },
      ci: { command: SAMPLE_CI },
      hosts: { box: host },
    });
    daemon = await runDaemon(box);
    const spawned = await swarm(box.repo, ['spawn', '--json', '--host', 'box', 'Fix addNumbers']);
    expect(spawned.code).toBe(0);
    const id = (JSON.parse(spawned.stdout) as { id: number }).id;
    const running = await waitForState(box, id, 'running');
    expect(running.host).toBe('box');
    expect(running.worktree.startsWith(remote())).toBe(true);
    const ls = await swarm(box.repo, ['ls']);
    expect(ls.stdout).toMatch(new RegExp(`^${id}\\s+running\\s+gated\\s+box\\s`, 'm'));
    const status = JSON.parse((await swarm(box.repo, ['daemon', 'status', '--json'])).stdout) as { hosts: unknown[] };
    expect(status.hosts).toEqual([{ name: 'box', ssh: 'box', active: 1, queued: 0, slots: 2, unreachable_since: null }]);
    await waitFor(() => (readRecords(box, 'gated.jsonl').length === 1 ? true : undefined), { timeoutMs: 20_000, what: 'the agent to start on the host' });

    // The daemon dies; the agent on the host does not.
    const registry = openRegistry(box);
    const session = registry.latestAttempt(id, 'agent')!;
    expect(session.session_dir.startsWith(remote())).toBe(true);
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    daemon = null;
    expect(isSameProcessAlive(session.child_pid, session.child_start)).toBe(true);

    // Its transcript, read from here through `swarm host read`.
    const logs = await swarm(box.repo, ['logs', String(id)]);
    expect(logs.stdout).toContain(`gated: task ${id} waiting for`);

    daemon = await runDaemon(box);
    // The host stops answering (its ssh server goes away; the agent there goes on): the task waits, no retry spent.
    sshd.stop();
    await waitFor(() => (registry.events(id).some((e) => e.kind === 'host_unreachable') ? true : undefined), { timeoutMs: 30_000, what: 'the task to wait for its host' });
    expect(registry.events(id).find((e) => e.kind === 'host_unreachable')!.data).toMatch(/host box \(box\) cannot be reached/);
    expect(registry.getTask(id)).toMatchObject({ state: 'running', retries: 0 });
    expect(isSameProcessAlive(session.child_pid, session.child_start)).toBe(true);
    await sshd.restart();
    await waitFor(() => (registry.events(id).some((e) => e.kind === 'host_back') ? true : undefined), { timeoutMs: 30_000, what: 'the host to be back' });
    writeFileSync(gate, 'go');
    const ready = await waitForState(box, id, 'ready', 90_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\ndaemon said:\n${daemon?.output().split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-5).join('\n') ?? ''}`);
    });
    const kinds = registry.events(id).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['agent_started', 'agent_exited', 'pr_opened', 'ci_started', 'ready']));
    expect(registry.attempts(id).filter((a) => a.kind === 'agent')).toHaveLength(1);
    expect(ready.retries).toBe(0);
    const ci = registry.attempts(id).find((a) => a.kind === 'ci')!;
    expect(ci.session_dir.startsWith(remote())).toBe(true);
    expect(ci.outcome).toBe('passed');
    // The branch came back by fetch: the verified commit is here, with the agent's change.
    expect(git(box.repo, ['show', `${ready.verified_sha!}:src/add.ts`])).toContain('a + b');

    const merged = await swarm(box.repo, ['merge', String(id)]);
    expect(merged.code).toBe(0);
    expect(git(box.repo, ['show', 'main:src/add.ts'])).toContain('a + b');
    expect(existsSync(ready.worktree)).toBe(false);
    expect(git(box.repo, ['branch', '--list', ready.branch]).trim()).toBe('');
    registry.close();
  });

  it('a hostile checkout on the host (hooks, fsmonitor, filters, an upload-pack hook) runs nothing when its branch comes back, is checked, reviewed and merged', async () => {
    writeConfig(box, {
      agents: { hostile: { command: agentCommand('hostile-checkout.mjs'), sandbox: 'none', env: { AGENT_RECORD_DIR: box.records } }, reviewer: { command: agentCommand('reviewer.mjs'), sandbox: 'none', env: { AGENT_RECORD_DIR: box.records, REVIEWER_NAME: 'here', REVIEWER_MODE: 'approve' } } },
      ci: { command: SAMPLE_CI },
      review: { reviewers: [{ name: 'here', agent: 'reviewer', focus: 'logic' }] },
      hosts: { box: host },
    });
    daemon = await runDaemon(box);
    const spawned = await swarm(box.repo, ['spawn', '--json', '--host', 'box', '--agent', 'hostile', 'Fix addNumbers']);
    const id = (JSON.parse(spawned.stdout) as { id: number }).id;
    const ready = await waitForState(box, id, 'ready', 60_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\ndaemon said:\n${daemon?.output().split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-5).join('\n') ?? ''}`);
    });
    const shown = await swarm(box.repo, ['show', String(id)]);
    expect(shown.stdout).toContain(`(on host box)`);
    const merged = await swarm(box.repo, ['merge', String(id)]);
    expect(merged.code).toBe(0);
    expect(git(box.repo, ['show', 'main:src/add.ts'])).toContain('a + b');
    expect(ready.verified_sha).toBe(git(box.repo, ['rev-parse', 'main^2']).trim());
    // Nothing the agent armed ran: not its hooks, not its config's programs, on either machine.
    expect(readdirSync(box.records).filter((f) => f.startsWith('ran-'))).toEqual([]);
  });

  it('attach and the dashboard terminal take over an agent on the host; logs -f follows it to the end', async () => {
    writeConfig(box, { agents: { talk: { command: agentCommand('interactive.mjs'), sandbox: 'none' } }, hosts: { box: host } });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--host', 'box', 'Talk to me'])).stdout) as { id: number };
    await waitForState(box, id, 'running');
    const first = attachInPty(box, id);
    await waitFor(() => (first.output().includes('interactive: ready for input') ? true : undefined), { timeoutMs: 20_000, what: 'the replayed screen from the host' }).catch((err: unknown) => {
      throw new Error(`${String(err)}; attach printed: ${JSON.stringify(first.output())}`);
    });
    first.write('hello\r');
    await waitFor(() => (first.output().includes('interactive: got hello') ? true : undefined), { timeoutMs: 20_000, what: 'the agent on the host to answer' });
    first.write('\x1d');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('detached; the agent keeps running');

    // The dashboard's terminal (its WebSocket, as the browser opens it) reaches the same agent on the host.
    const { port, token } = JSON.parse(readFileSync(join(box.repo, '.swarm', 'daemon.json'), 'utf8')) as { port: number; token: string };
    const reader = openRegistry(box);
    const session = reader.latestAttempt(id, 'agent')!.session_id;
    reader.close();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/sessions/${session}/terminal`, { headers: { authorization: `Bearer ${token}` } });
    let screen = '';
    ws.on('message', (data, binary) => {
      if (binary) screen += String(data);
      else {
        const message = JSON.parse(String(data)) as { t: string; data?: string };
        if (message.t === 'replay') screen += message.data ?? '';
      }
    });
    await waitFor(() => (screen.includes('interactive: got hello') ? true : undefined), { timeoutMs: 20_000, what: 'the screen in the dashboard terminal' });
    ws.send(JSON.stringify({ t: 'input', data: 'from the browser\r' }));
    await waitFor(() => (screen.includes('interactive: got from the browser') ? true : undefined), { timeoutMs: 20_000, what: 'the agent on the host to answer the browser' });
    ws.close();

    const follow = swarm(box.repo, ['logs', String(id), '-f']);
    const second = attachInPty(box, id);
    await waitFor(() => (second.output().includes('interactive: got hello') ? true : undefined), { timeoutMs: 20_000, what: 'the screen again on a second attach' });
    second.write('finish\r');
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('agent exited (code 0)');
    const logs = await follow;
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('interactive: got finish');
    await waitForState(box, id, 'ready', 60_000);
  });

  it('kill stops the agent on the host; cleanup removes its checkout there', async () => {
    writeConfig(box, { agents: { gated: { command: agentCommand('gated.mjs'), sandbox: 'none', env: { AGENT_RECORD_DIR: box.records, AGENT_GATE: join(box.dir, 'never') } } }, hosts: { box: host } });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--host', 'box', 'Never finishes'])).stdout) as { id: number };
    const running = await waitForState(box, id, 'running');
    await waitFor(() => (readRecords(box, 'gated.jsonl').length === 1 ? true : undefined), { timeoutMs: 20_000, what: 'the agent to start on the host' });
    const registry = openRegistry(box);
    const session = registry.latestAttempt(id, 'agent')!;
    const killed = await swarm(box.repo, ['kill', '--json', String(id)]);
    expect(JSON.parse(killed.stdout)).toMatchObject({ sessionsKilled: 1 });
    await waitFor(() => (isSameProcessAlive(session.child_pid, session.child_start) ? undefined : true), { timeoutMs: 20_000, what: 'the agent on the host to stop' });
    expect(existsSync(running.worktree)).toBe(true);
    const cleaned = await swarm(box.repo, ['cleanup', '--json']);
    expect(JSON.parse(cleaned.stdout)).toMatchObject({ removed: [{ task: id, path: running.worktree }] });
    expect(existsSync(running.worktree)).toBe(false);
    registry.close();
  });

  it('a host gone past gone_minutes: its running task is placed again here (no retry), goes to ready, and the agent left there is stopped when it answers, by a daemon restarted meanwhile', async () => {
    const hook = await receiver();
    onTestFinished(() => hook.close());
    const gate = join(box.dir, 'release');
    writeConfig(box, {
      agents: { gated: { command: agentCommand('gated.mjs'), sandbox: 'none', env: { AGENT_RECORD_DIR: box.records, AGENT_GATE: gate } } },
      ci: { command: SAMPLE_CI },
      hosts: { box: { ...host, gone_minutes: 0.05 } },
      notify: { desktop: false, webhook: { url: hook.url } },
    });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--host', 'box', 'Fix addNumbers'])).stdout) as { id: number };
    await waitForState(box, id, 'running');
    await waitFor(() => (readRecords(box, 'gated.jsonl').length === 1 ? true : undefined), { timeoutMs: 20_000, what: 'the agent to start on the host' });
    const registry = openRegistry(box);
    const onHost = registry.latestAttempt(id, 'agent')!;
    sshd.stop();
    await waitFor(() => (registry.events(id).some((e) => e.kind === 'placed_again') ? true : undefined), { timeoutMs: 30_000, what: 'the task to be placed again' });
    const here = await waitForState(box, id, 'running');
    expect(here.host).toBeNull();
    expect(here.worktree.startsWith(box.worktrees)).toBe(true);
    expect(registry.attempts(id).find((a) => a.id === onHost.id)!.outcome).toBe('host_lost');
    // One notification, naming the host.
    await waitFor(() => (hook.received.some((r) => String(r.body.title).startsWith(`Task ${id} moved here: host box unreachable for`)) ? true : undefined), { timeoutMs: 20_000, what: 'the placed-again notification' });
    // Before it moved: one word that the host is away, with the tasks waiting for it.
    expect(hook.received.map((r) => String(r.body.title))).toContainEqual(expect.stringMatching(/^Host box unreachable for \d+ s: 1 task waiting$/));
    // The daemon is restarted while the host is still away: the new one knows of the agent left there too.
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    daemon = await runDaemon(box);
    // The host comes back: the agent left there, still waiting, is stopped (never two agents on one task).
    expect(isSameProcessAlive(onHost.child_pid, onHost.child_start)).toBe(true);
    await sshd.restart();
    await waitFor(() => (registry.events(id).some((e) => e.kind === 'left_behind_stopped') ? true : undefined), { timeoutMs: 30_000, what: 'the agent left on the host to be stopped' });
    expect(isSameProcessAlive(onHost.child_pid, onHost.child_start)).toBe(false);
    writeFileSync(gate, 'go');
    const ready = await waitForState(box, id, 'ready', 60_000);
    expect(ready.retries).toBe(0);
    expect(git(box.repo, ['show', `${ready.verified_sha!}:src/add.ts`])).toContain('a + b');
    registry.close();
  });

  it('CI red on the host: the agent is respawned there with the failing assertion, then ready; the board says where it runs; POST /tasks and a kind with a host place it on a host too', async () => {
    const fixer = { command: agentCommand('fixer.mjs'), sandbox: 'none', env: { AGENT_RECORD_DIR: box.records } } as const;
    writeConfig(box, { default_agent: 'fixer', agents: { fixer, boxed: { ...fixer, runs_on: 'box' }, lost: { ...fixer, runs_on: 'nowhere' } }, ci: { command: SAMPLE_CI }, hosts: { box: host }, kinds: { far: { host: 'box' } } });
    daemon = await runDaemon(box);
    const { port, token } = JSON.parse(readFileSync(join(box.repo, '.swarm', 'daemon.json'), 'utf8')) as { port: number; token: string };
    const api = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    const created = (await (await api('/api/v1/tasks', { method: 'POST', body: JSON.stringify({ prompt: 'Fix addNumbers', host: 'box' }) })).json()) as { id: number; host: string | null };
    expect(created.host, JSON.stringify(created)).toBe('box');
    const ready = await waitForState(box, created.id, 'ready', 90_000);
    expect(readRecords(box, 'fixer.jsonl')).toEqual([{ attempt: '1', sawAssertion: false }, { attempt: '2', sawAssertion: true }]);
    const registry = openRegistry(box);
    const sessions = registry.attempts(created.id).filter((a) => a.kind === 'agent' || a.kind === 'ci');
    expect(sessions.map((a) => [a.kind, a.outcome])).toEqual([['agent', 'exited'], ['ci', 'failed'], ['agent', 'exited'], ['ci', 'passed']]);
    for (const a of sessions) expect(a.session_dir.startsWith(remote())).toBe(true);
    expect(ready.retries).toBe(1);
    const cards = (await (await api('/api/v1/tasks')).json()) as { id: number; host: string | null }[];
    expect(cards.find((c) => c.id === created.id)!.host).toBe('box');
    // A kind's host places its tasks there without --host.
    const byKind = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--kind', 'far', 'Docs for addNumbers'])).stdout) as { id: number; host: string | null };
    expect(byKind.host).toBe('box');
    expect((await swarm(box.repo, ['kill', String(byKind.id)])).code).toBe(0);
    // So does an agent's runs_on; --host local keeps one task here; an agent pinned to a host not in the config is refused.
    const byAgent = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--agent', 'boxed', 'Tests for addNumbers'])).stdout) as { id: number; host: string | null };
    expect(byAgent.host).toBe('box');
    const here = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--agent', 'boxed', '--host', 'local', 'Types for addNumbers'])).stdout) as { id: number; host: string | null };
    expect(here.host).toBeNull();
    for (const id of [byAgent.id, here.id]) expect((await swarm(box.repo, ['kill', String(id)])).code).toBe(0);
    const lost = await swarm(box.repo, ['spawn', '--agent', 'lost', 'Lint addNumbers']);
    expect(lost.code).not.toBe(0);
    expect(lost.stderr).toMatch(/Unknown host "nowhere"\. The hosts in swarm\.config\.json are: box/);
    const unknown = await api('/api/v1/tasks', { method: 'POST', body: JSON.stringify({ prompt: 'x', host: 'nowhere' }) });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/Unknown host "nowhere"\. The hosts in swarm\.config\.json are: box/);
    registry.close();
  });

  it('two hosts and this machine: tasks with no room here go where there are free slots, and swarm ls says where each runs', async () => {
    const gate = join(box.dir, 'release');
    writeConfig(box, {
      concurrency: 1,
      agents: { gated: { command: agentCommand('gated.mjs'), sandbox: 'none', env: { AGENT_RECORD_DIR: box.records, AGENT_GATE: gate } } },
      hosts: { box: { ...host, slots: 1 }, box2: { ...host, dir: join(box.dir, 'remote2'), slots: 1 } },
    });
    daemon = await runDaemon(box);
    const ids: number[] = [];
    for (let i = 1; i <= 4; i++) ids.push((JSON.parse((await swarm(box.repo, ['spawn', '--json', `Task ${i}`])).stdout) as { id: number }).id);
    await waitFor(() => (readRecords(box, 'gated.jsonl').length === 3 ? true : undefined), { timeoutMs: 40_000, what: 'three agents running (one here, one on each host)' });
    const registry = openRegistry(box);
    // An agent writes its record as it starts; its task is marked running once the start is confirmed, a moment later.
    await waitFor(() => (ids.filter((id) => registry.getTask(id)!.state === 'running').length === 3 ? true : undefined), { timeoutMs: 20_000, what: 'three tasks marked running' });
    const where = ids.map((id) => registry.getTask(id)!);
    expect(where.filter((t) => t.state === 'running').map((t) => t.host ?? 'local').sort()).toEqual(['box', 'box2', 'local']);
    // The fourth finds no room anywhere: it waits here, unplaced.
    expect(where.filter((t) => t.state === 'queued').map((t) => t.host)).toEqual([null]);
    const ls = (await swarm(box.repo, ['ls'])).stdout;
    for (const t of where.filter((x) => x.state === 'running')) expect(ls).toMatch(new RegExp(`^${t.id}\\s+running\\s+gated\\s+${t.host ?? 'local'}\\s`, 'm'));
    writeFileSync(gate, 'go');
    for (const id of ids) await waitForState(box, id, 'ready', 60_000);
    expect(registry.events(where.find((t) => t.host === 'box')!.id).map((e) => e.kind)).toContain('placed');
    registry.close();
  });
});
