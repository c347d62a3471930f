import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/wait.js';
import { fakeOllama, FIX_ADD_NUMBERS } from '../helpers/ollama.js';
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

  it('an agent that always crashes is respawned exactly 3 times, spaced by the backoff, then one needs-help notification', async () => {
    writeConfig(box, {
      agents: { broken: { command: agentCommand('always-fail.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      ci: { command: SAMPLE_CI },
      notify: { desktop: false, webhook: { url: hook.url } },
      backoff: { crash_seconds: 0.3 },
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
    expect(hook.received[0]!.body.title).toBe(`Task ${id} needs help after 3 retries: The agent exited with code 3 before finishing: always-fail: something went badly wrong on attempt 4`);
    const respawns = registry.events(id).filter((e) => e.kind === 'respawn');
    expect(respawns).toHaveLength(3);
    // Crash respawns are spaced: 0.3 s, 0.6 s, 1.2 s, and no attempt started before its time.
    expect(respawns.map((e) => (JSON.parse(e.data!) as { delay_ms: number }).delay_ms)).toEqual([300, 600, 1200]);
    const starts = registry.events(id).filter((e) => e.kind === 'agent_started').map((e) => e.at);
    respawns.forEach((r, i) => expect(starts[i + 1]! - r.at).toBeGreaterThanOrEqual((JSON.parse(r.data!) as { delay_ms: number }).delay_ms));
    expect(registry.events(id).length).toBe(eventsBefore);
    expect(registry.notifications(id).map((n) => n.status)).toEqual(['sent']);
    // The last attempt's evidence carries the crash output.
    const last = registry.attempts(id).filter((a) => a.kind === 'agent').at(-1);
    expect(last?.evidence).toContain('something went badly wrong');
    registry.close();
  });

  it('an agent that fails identically and fast twice needs help at once: retries not burnt, the line in the notification', async () => {
    writeConfig(box, {
      agents: { misconfigured: { command: agentCommand('same-fail.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      ci: { command: SAMPLE_CI },
      notify: { desktop: false, webhook: { url: hook.url } },
      backoff: { crash_seconds: 0.2 },
    });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--agent', 'misconfigured', 'Fix addNumbers'])).stdout) as { id: number };
    const task = await waitForState(box, id, 'needs_help');
    expect(task.retries).toBe(1);
    expect(readRecords(box, 'same-fail.jsonl')).toHaveLength(2);
    await waitFor(() => (hook.received.length >= 1 ? true : undefined), { timeoutMs: 10_000, what: 'the needs-help webhook' });
    expect(hook.received[0]!.body.title).toBe(`Task ${id} needs help: fatal: cannot read ~/.agent/config.toml: the file is missing`);
    expect(hook.received[0]!.body.body).toContain('the agent cannot work here: the same fast failure twice');
  });

  it('an agent whose provider answers 429 then succeeds is started again after the backoff, no retry spent', async () => {
    const ollama = await fakeOllama([{ name: 'coder:7b', capabilities: ['completion', 'tools'] }]);
    try {
      ollama.script([{ http_error: 429, message: 'too many requests, slow down' }, ...FIX_ADD_NUMBERS]);
      writeConfig(box, { agents: { local: { type: 'builtin', model: 'coder:7b', host: ollama.url } }, ci: { command: SAMPLE_CI }, backoff: { transient_seconds: 0.5 } });
      daemon = await runDaemon(box);
      const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
      const task = await waitForState(box, id, ['ready', 'needs_help']);
      expect(task.state).toBe('ready');
      expect(task.retries).toBe(0);
      const registry = openRegistry(box);
      const wait = registry.events(id).find((e) => e.kind === 'transient_wait');
      expect(JSON.parse(wait!.data!)).toMatchObject({ delay_ms: 500, wait: 1 });
      expect(wait!.data).toContain('rate limited');
      const second = registry.events(id).filter((e) => e.kind === 'agent_started')[1]!;
      expect(second.at - wait!.at).toBeGreaterThanOrEqual(500);
      // The rate limit is nothing the agent can act on: its next prompt has no "what went wrong" section.
      expect(registry.latestAttempt(id, 'agent')!.prompt).not.toContain('What went wrong');
      registry.close();
    } finally {
      await ollama.close();
    }
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
