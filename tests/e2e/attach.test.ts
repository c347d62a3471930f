import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSameProcessAlive } from '../../src/sessions/process.js';
import { waitFor } from '../../src/wait.js';
import { attachInPty } from '../helpers/attach.js';
import { agentCommand, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

describe('logs and attach', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;

  beforeEach(() => {
    box = sandbox('attach');
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it('attach shows the screen as it is (serialized), not the bytes that drew it: one progress line, bounded scrollback', async () => {
    writeConfig(box, { agents: { tui: { command: agentCommand('progress.mjs') } } });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Draw'])).stdout) as { id: number };
    await waitForState(box, id, 'running');
    const registry = openRegistry(box);
    const transcript = join(registry.latestAttempt(id, 'agent')!.session_dir, 'transcript.log');
    registry.close();
    await waitFor(() => (existsSync(transcript) && readFileSync(transcript, 'utf8').includes('READY-FOR-ATTACH') ? true : undefined), { timeoutMs: 15_000, what: 'the agent to draw' });
    const attached = attachInPty(box, id);
    await waitFor(() => (attached.output().includes('READY-FOR-ATTACH') ? true : undefined), { timeoutMs: 10_000, what: 'the replayed screen' });
    const replay = attached.output();
    expect(replay).toContain('progress 12000');
    expect(replay).not.toContain('progress 11999');
    expect(replay).not.toContain('FIRST-LINE'); // older than the scrollback kept (1000 lines)
    expect(replay).toContain('filler 1500');
    expect(Buffer.byteLength(replay)).toBeLessThan(64 * 1024);
    expect(readFileSync(transcript).length).toBeGreaterThan(150 * 1024); // what the raw bytes would have been
    attached.write('q');
    expect(await attached.exited).toBe(0);
  });

  it('attach replays the screen, sends keys, detaches with Ctrl-] leaving the agent running; logs -f follows to the end', async () => {
    writeConfig(box, { agents: { talk: { command: agentCommand('interactive.mjs') } }, ci: { command: SAMPLE_CI } });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Talk to me'])).stdout) as { id: number };
    await waitForState(box, id, 'running');

    const first = attachInPty(box, id);
    await waitFor(() => (first.output().includes('interactive: ready for input') ? true : undefined), { timeoutMs: 10_000, what: 'the replayed screen' });
    first.write('hello\r');
    await waitFor(() => (first.output().includes('interactive: got hello') ? true : undefined), { timeoutMs: 10_000, what: 'the agent to answer' });
    first.write('\x1d');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('detached; the agent keeps running');

    const registry = openRegistry(box);
    const session = registry.latestAttempt(id, 'agent')!;
    expect(isSameProcessAlive(session.child_pid, session.child_start)).toBe(true);
    expect((await swarm(box.repo, ['ls', '--json'])).stdout).toContain('"state": "running"');

    // logs -f follows the live session and returns when it ends.
    const follow = swarm(box.repo, ['logs', String(id), '-f']);
    const second = attachInPty(box, id);
    await waitFor(() => (second.output().includes('interactive: got hello') ? true : undefined), { timeoutMs: 10_000, what: 'replay on the second attach' });
    second.write('finish\r');
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('agent exited (code 0)');
    const logs = await follow;
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('interactive: got hello');
    expect(logs.stdout).toContain('interactive: got finish');

    await waitForState(box, id, 'ready');
    const ciLogs = await swarm(box.repo, ['logs', String(id), '--ci']);
    expect(ciLogs.stdout).toContain('pass 1');
    const notLive = await swarm(box.repo, ['attach', String(id)]);
    expect(notLive.code).toBe(5);
    expect(notLive.stderr).toContain('is not running (exited)');
    registry.close();
  });
});
