import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/wait.js';
import { agentCommand, openRegistry, readRecords, receiver, runDaemon, SAMPLE_CI, sandbox, swarm, waitForPasses, waitForState, writeConfig, type DaemonProcess, type Receiver, type Sandbox } from '../helpers/sample.js';

describe('agents that fail', () => {
  let box: Sandbox;
  let hook: Receiver;
  let daemon: DaemonProcess | null = null;

  beforeEach(async () => {
    box = sandbox('fail');
    hook = await receiver();
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await hook.close();
    box.cleanup();
  });

  it('an agent that always crashes is respawned exactly 3 times, then one needs-help notification', async () => {
    writeConfig(box, {
      agents: { broken: { command: agentCommand('always-fail.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      ci: { command: SAMPLE_CI },
      notify: { desktop: false, webhook: { url: hook.url } },
    });
    daemon = await runDaemon(box);
    const spawned = await swarm(box.repo, ['spawn', '--json', '--agent', 'broken', 'Do something impossible']);
    expect(spawned.code).toBe(0);
    const { id } = JSON.parse(spawned.stdout) as { id: number };

    const task = await waitForState(box, id, 'needs_help');
    expect(task.retries).toBe(3);
    expect(task.reason).toContain('exited with code 3');
    expect(readRecords(box, 'fail.jsonl').map((r) => r.attempt)).toEqual(['1', '2', '3', '4']);

    await waitFor(() => (hook.received.length >= 1 ? true : undefined), { timeoutMs: 10_000, what: 'the needs-help webhook' });
    // The daemon keeps ticking every second: nothing more may happen or arrive.
    const registry = openRegistry(box);
    const eventsBefore = registry.events(id).length;
    await waitForPasses(box, 3);
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]!.body.title).toBe(`Task ${id} needs help after 3 retries: The agent exited with code 3 before finishing.`);
    expect(registry.events(id).filter((e) => e.kind === 'respawn')).toHaveLength(3);
    expect(registry.events(id).length).toBe(eventsBefore);
    expect(registry.notifications(id).map((n) => n.status)).toEqual(['sent']);
    // The last attempt's evidence carries the crash output.
    const last = registry.attempts(id).filter((a) => a.kind === 'agent').at(-1);
    expect(last?.evidence).toContain('something went badly wrong');
    registry.close();
  });

  it('a stuck agent (no output for the configured time) is killed and respawned with that evidence', async () => {
    writeConfig(box, {
      agents: { sleepy: { command: agentCommand('hang.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      ci: { command: SAMPLE_CI },
      stuck_minutes: 0.03, // ~2 seconds
    });
    daemon = await runDaemon(box);
    const spawned = await swarm(box.repo, ['spawn', '--json', '--agent', 'sleepy', 'Fix addNumbers']);
    const { id } = JSON.parse(spawned.stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help']);
    expect(task.state).toBe('ready');
    expect(task.retries).toBe(1);
    expect(readRecords(box, 'hang.jsonl')).toEqual([
      { attempt: '1', toldStuck: false },
      { attempt: '2', toldStuck: true },
    ]);
    const registry = openRegistry(box);
    const first = registry.attempts(id).find((a) => a.kind === 'agent' && a.n === 1);
    expect(first?.outcome).toBe('killed');
    expect(registry.events(id).find((e) => e.kind === 'respawn')?.data).toContain('"reason":"stuck"');
    registry.close();
  });
});
