import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSameProcessAlive } from '../../src/sessions/process.js';
import { readSessionExit } from '../../src/sessions/sessions.js';
import { waitFor } from '../../src/wait.js';
import { agentCommand, openRegistry, readRecords, receiver, runDaemon, SAMPLE_CI, sandbox, swarm, waitForPasses, waitForState, writeConfig, type DaemonProcess, type Receiver, type Sandbox } from '../helpers/sample.js';

/** Spare session holders the daemon started (their command line says --spare). */
function spareHolders(daemonPid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === daemonPid && readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes('--spare')) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('daemon killed with kill -9', () => {
  let box: Sandbox;
  let hook: Receiver;
  let daemon: DaemonProcess | null = null;

  beforeEach(async () => {
    box = sandbox('restart');
    hook = await receiver();
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await hook.close();
    box.cleanup();
  });

  it('agents keep running; the restarted daemon carries both to ready; no event lost or repeated, no notification twice', async () => {
    const gate = join(box.dir, 'release');
    writeConfig(box, {
      agents: { gated: { command: agentCommand('gated.mjs'), env: { AGENT_RECORD_DIR: box.records, AGENT_GATE: gate } } },
      ci: { command: SAMPLE_CI },
      notify: { desktop: false, webhook: { url: hook.url } },
    });
    daemon = await runDaemon(box);
    // A spare holder waits for the first launch (sessions/spare.ts): the first agent runs in it.
    const spare = await waitFor(() => spareHolders(daemon!.child.pid!)[0], { timeoutMs: 10_000, what: 'a spare holder' });
    const ids: number[] = [];
    for (const title of ['First task', 'Second task']) {
      const spawned = await swarm(box.repo, ['spawn', '--json', title]);
      ids.push((JSON.parse(spawned.stdout) as { id: number }).id);
    }
    for (const id of ids) await waitForState(box, id, 'running');
    await waitFor(() => (readRecords(box, 'gated.jsonl').length === 2 ? true : undefined), { timeoutMs: 10_000, what: 'both agents to start' });

    const registry = openRegistry(box);
    const sessions = ids.map((id) => registry.latestAttempt(id, 'agent')!);
    const waiting = await waitFor(() => spareHolders(daemon!.child.pid!).find((pid) => !sessions.some((s) => s.holder_pid === pid)), { timeoutMs: 10_000, what: 'the next spare holder' });
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    daemon = null;

    expect(sessions[0]!.holder_pid).toBe(spare);
    for (const s of sessions) expect(isSameProcessAlive(s.child_pid, s.child_start)).toBe(true);
    // The spare nobody took goes with its daemon (its pipe closed); the ones holding agents stay.
    await waitFor(() => (existsSync(`/proc/${waiting}`) ? undefined : true), { timeoutMs: 10_000, what: 'the unused spare to exit' });

    // While no daemon runs, the agents finish; their exits are written down by their holders.
    writeFileSync(gate, 'go');
    for (const s of sessions) await waitFor(() => readSessionExit(s.session_dir) ?? undefined, { timeoutMs: 20_000, what: 'agent exit' });
    expect(registry.listTasks().map((t) => t.state)).toEqual(['running', 'running']);

    // A second daemon start while one runs is refused; the restart picks everything up.
    daemon = await runDaemon(box);
    const second = await swarm(box.repo, ['daemon', 'run']);
    expect(second.code).toBe(6);
    expect(second.stderr).toContain('already running');

    for (const id of ids) await waitForState(box, id, 'ready');
    await waitFor(() => (hook.received.length >= 2 ? true : undefined), { timeoutMs: 10_000, what: 'two ready notifications' });
    await waitForPasses(box, 2);

    for (const id of ids) {
      expect(registry.events(id).map((e) => e.kind)).toEqual(['created', 'preparing', 'agent_started', 'agent_exited', 'pr_opened', 'ci_started', 'ready']);
      const exits = registry.events(id).find((e) => e.kind === 'agent_exited');
      expect(exits?.data).toContain('"exit_code":0');
    }
    expect(hook.received.map((r) => r.body.key).sort()).toEqual(ids.map((id) => `${id}:ready:1:webhook`).sort());
    // The gate means each agent ran exactly once.
    expect(readRecords(box, 'gated.jsonl')).toHaveLength(2);

    // Kill it again once everything is ready and its notifications are marked sent (delivery runs in its own
    // lane, not in the monitor's passes): a third start sends nothing again.
    await waitFor(() => (registry.notifications().every((n) => n.status !== 'pending') ? true : undefined), { timeoutMs: 10_000, what: 'notifications marked sent' });
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    daemon = await runDaemon(box);
    await waitForPasses(box, 2);
    expect(hook.received.map((r) => r.body.key).sort()).toEqual(ids.map((id) => `${id}:ready:1:webhook`).sort());
    expect(existsSync(join(box.repo, '.swarm', 'daemon.json'))).toBe(true);
    registry.close();
  });
});
