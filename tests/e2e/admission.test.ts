import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/wait.js';
import { agentCommand, openRegistry, runDaemon, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

describe('admission watches the memory actually free', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  beforeEach(() => {
    box = sandbox('admission');
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it('holds a start while memory is short (one agent may always run), says why in daemon status, starts it when room comes back', async () => {
    // No machine has 100 TB free: with one agent running there is never room for another.
    writeConfig(box, { agents: { talk: { command: agentCommand('interactive.mjs') } }, concurrency: 4, memory: { agent_mb: 1, reserve_mb: 100_000_000 } });
    daemon = await runDaemon(box);
    const first = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--agent', 'talk', 'First'])).stdout) as { id: number };
    await waitForState(box, first.id, 'running');
    const second = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--agent', 'talk', 'Second'])).stdout) as { id: number };
    const status = await waitFor(
      async () => {
        const s = JSON.parse((await swarm(box.repo, ['daemon', 'status', '--json'])).stdout) as { admission?: { held: string | null; waiting: number } };
        return s.admission?.held === 'memory' ? s : undefined;
      },
      { timeoutMs: 20_000, what: 'admission to hold for memory' },
    );
    expect(status.admission?.waiting).toBe(1);
    expect(openRegistry(box).getTask(second.id)?.state).toBe('queued');
    const text = await swarm(box.repo, ['daemon', 'status']);
    expect(text.stdout).toMatch(/Queue: 1 task waits for memory: [\d.]+ GB free, and a new agent needs 0\.0 GB plus [\d.]+ GB kept free \(memory\.agent_mb, memory\.reserve_mb/);

    expect((await swarm(box.repo, ['kill', String(first.id)])).code).toBe(0);
    await waitForState(box, second.id, 'running');
    const after = JSON.parse((await swarm(box.repo, ['daemon', 'status', '--json'])).stdout) as { admission?: { held: string | null } };
    expect(after.admission?.held).toBeNull();
  });
});
