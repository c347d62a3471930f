import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSameProcessAlive, processStartTime } from '../../src/sessions/process.js';
import { readSessionState } from '../../src/sessions/sessions.js';
import { waitFor } from '../../src/wait.js';
import { agentCommand, git, openRegistry, readRecords, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

const alive = (pid: number): boolean => processStartTime(pid) !== null;

describe('no orphan agents, only verified commits merged', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  beforeEach(() => {
    box = sandbox('orphans');
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it('a holder killed under a deaf agent: the agent is stopped before the respawn, and merge takes the verified head only', async () => {
    writeConfig(box, { agents: { stubborn: { command: agentCommand('stubborn.mjs'), env: { AGENT_RECORD_DIR: box.records } } }, ci: { command: SAMPLE_CI }, backoff: { crash_seconds: 0 } });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    await waitForState(box, id, 'running');
    const registry = openRegistry(box);
    const first = await waitFor(() => readRecords(box, 'stubborn.jsonl')[0] as { pid: number } | undefined, { timeoutMs: 10_000, what: 'attempt 1 to start' });
    const firstSession = registry.latestAttempt(id, 'agent')!;
    await waitFor(() => (git(box.repo, ['log', '--format=%s', `swarm/${id}-fix-addnumbers`]).includes('stubborn') ? true : undefined), { timeoutMs: 10_000, what: 'the first commit' });
    // The holder dies without a word (OOM killer, kill -9); the agent, deaf to SIGHUP, lives on.
    process.kill(readSessionState(firstSession.session_dir)!.holder_pid, 'SIGKILL');

    const ready = await waitForState(box, id, ['ready', 'needs_help']);
    expect(ready.state).toBe('ready');
    expect(alive(first.pid)).toBe(false);
    const events = registry.events(id);
    const stopped = events.findIndex((e) => e.kind === 'earlier_agent_stopped');
    const secondStart = events.findIndex((e, i) => e.kind === 'agent_started' && i > events.findIndex((x) => x.kind === 'respawn'));
    expect(stopped).toBeGreaterThan(-1);
    expect(stopped).toBeLessThan(secondStart);
    expect(ready.verified_sha).toBe(git(box.repo, ['rev-parse', ready.branch]).trim());

    // A commit nobody verified lands on the branch while the daemon is down: merge refuses it.
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    daemon = null;
    git(ready.worktree, ['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '--allow-empty', '-qm', 'unverified']);
    const refused = await swarm(box.repo, ['merge', String(id)]);
    expect(refused.code).toBe(5); // not ready to merge: one exit code, whoever saw the move first
    expect(refused.stderr).toContain('not verified');
    expect(git(box.repo, ['log', '--format=%s', 'main'])).not.toContain('unverified');

    // The daemon notices the moved branch, runs CI on the new tip, and only then is it ready (and mergeable) again.
    daemon = await runDaemon(box);
    await waitFor(() => (registry.events(id).some((e) => e.kind === 'head_moved') ? true : undefined), { timeoutMs: 20_000, what: 'the moved head to be noticed' });
    const again = await waitForState(box, id, 'ready');
    expect(again.verified_sha).toBe(git(box.repo, ['rev-parse', ready.branch]).trim());
    const merged = await swarm(box.repo, ['merge', String(id)]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(git(box.repo, ['log', '--format=%s', 'main'])).toContain('unverified');
    registry.close();
  });

  it('a grandchild in its own session (setsid) dies with the agent: after a normal exit, and on swarm kill', async () => {
    writeConfig(box, {
      agents: {
        quick: { command: agentCommand('spawner.mjs'), env: { AGENT_RECORD_DIR: box.records } },
        slow: { command: agentCommand('spawner.mjs'), env: { AGENT_RECORD_DIR: box.records, AGENT_WAIT: '1' } },
      },
      ci: { command: SAMPLE_CI },
    });
    daemon = await runDaemon(box);
    const quick = JSON.parse((await swarm(box.repo, ['spawn', '--json', '-a', 'quick', 'Fix addNumbers'])).stdout) as { id: number };
    await waitForState(box, quick.id, ['ready', 'needs_help']);
    const exited = readRecords(box, 'spawner.jsonl')[0] as { escaped: number };
    await waitFor(() => (alive(exited.escaped) ? undefined : true), { timeoutMs: 10_000, what: 'the escaped grandchild to be killed after the agent exited' });

    const slow = JSON.parse((await swarm(box.repo, ['spawn', '--json', '-a', 'slow', 'Fix addNumbers again'])).stdout) as { id: number };
    const record = await waitFor(() => readRecords(box, 'spawner.jsonl')[1] as { escaped: number; agent: number } | undefined, { timeoutMs: 10_000, what: 'the slow agent to start' });
    const start = processStartTime(record.escaped);
    expect(isSameProcessAlive(record.escaped, start)).toBe(true);
    expect((await swarm(box.repo, ['kill', String(slow.id)])).code).toBe(0);
    await waitFor(() => (isSameProcessAlive(record.escaped, start) || alive(record.agent) ? undefined : true), { timeoutMs: 15_000, what: 'agent and grandchild gone after swarm kill' });
    const shown = await swarm(box.repo, ['show', String(slow.id)]);
    expect(shown.stdout).not.toContain('leftover');
  });

  it('killed while its checkout is being set up: cancelled at once, and no agent is started for it when the setup ends', async () => {
    const seen = join(box.dir, 'setup-started');
    const gate = join(box.dir, 'setup-release');
    const wait = `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(seen)}, ''); while (!fs.existsSync(${JSON.stringify(gate)})) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);`;
    writeConfig(box, { agents: { talk: { command: agentCommand('interactive.mjs') } }, worktree: { setup: [[process.execPath, '-e', wait]] } });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    await waitFor(() => (existsSync(seen) ? true : undefined), { timeoutMs: 20_000, what: 'the setup command to start' });
    const killed = await swarm(box.repo, ['kill', String(id)]);
    expect(killed.code, killed.stderr).toBe(0);
    writeFileSync(gate, '');
    await waitFor(() => (daemon!.output().includes('task left preparing before its agent started') ? true : undefined), { timeoutMs: 20_000, what: 'the launcher to notice the kill' });
    const registry = openRegistry(box);
    expect(registry.getTask(id)!.state).toBe('cancelled');
    expect(registry.attempts(id).filter((a) => a.kind === 'agent')).toHaveLength(0);
    registry.close();
  });
});
