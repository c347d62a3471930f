import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/wait.js';
import { agentCommand, git, openRegistry, readRecords, receiver, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Receiver, type Sandbox } from '../helpers/sample.js';

describe('the seed example, end to end', () => {
  let box: Sandbox;
  let hook: Receiver;
  let daemon: DaemonProcess | null = null;

  beforeEach(async () => {
    box = sandbox('seed');
    hook = await receiver();
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await hook.close();
    box.cleanup();
  });

  it('fixes addNumbers: wrong fix, red CI, respawn with the assertion, green CI, one ready notification, merge, done', async () => {
    writeConfig(box, {
      agents: { fixer: { command: agentCommand('fixer.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      default_agent: 'fixer',
      ci: { command: SAMPLE_CI },
      notify: { desktop: false, webhook: { url: `${hook.url}/hook` }, ntfy: { server: hook.url, topic: 'swarm-test' } },
    });
    daemon = await runDaemon(box);

    const spawned = await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers: it subtracts']);
    expect(spawned.stderr).toBe('');
    expect(spawned.code).toBe(0);
    const task = JSON.parse(spawned.stdout) as { id: number; branch: string; worktree: string };
    expect(task.branch).toBe(`swarm/${task.id}-fix-addnumbers-it-subtracts`);

    const ready = await waitForState(box, task.id, ['ready', 'needs_help']);
    expect(ready.state).toBe('ready');
    expect(ready.retries).toBe(1);

    // The first agent never saw an assertion; the respawned one did, and only then wrote the right fix.
    expect(readRecords(box, 'fixer.jsonl')).toEqual([
      { attempt: '1', sawAssertion: false },
      { attempt: '2', sawAssertion: true },
    ]);
    const registry = openRegistry(box);
    const attempts = registry.attempts(task.id);
    const secondPrompt = attempts.find((a) => a.kind === 'agent' && a.n === 2)?.prompt ?? '';
    expect(secondPrompt).toContain('## What went wrong last time');
    expect(secondPrompt).toContain('addNumbers adds two numbers');
    expect(attempts.filter((a) => a.kind === 'ci').map((a) => a.outcome)).toEqual(['failed', 'passed']);

    // Exactly one ready notification per channel, with the words the human reads.
    await waitFor(() => (hook.received.length >= 2 ? true : undefined), { timeoutMs: 10_000, what: 'both channels' });
    const readyHooks = hook.received.filter((r) => r.body.event === 'ready' || r.body.tags);
    expect(readyHooks.map((r) => r.body.title)).toEqual([`Task ${task.id} ready: PR #1, CI green`, `Task ${task.id} ready: PR #1, CI green`]);

    const merged = await swarm(box.repo, ['merge', String(task.id)]);
    expect(merged.stderr).toBe('');
    expect(merged.code).toBe(0);
    expect(readFileSync(join(box.repo, 'src', 'add.ts'), 'utf8')).toContain('a + b');
    expect(git(box.repo, ['log', '--oneline', 'main'])).toContain(`Merge task ${task.id}`);
    const done = registry.getTask(task.id);
    expect(done?.state).toBe('done');
    expect(existsSync(task.worktree)).toBe(false);
    expect(git(box.repo, ['branch', '--list', task.branch]).trim()).toBe('');
    const kinds = registry.events(task.id).map((e) => e.kind);
    expect(kinds).toEqual(['created', 'preparing', 'agent_started', 'agent_exited', 'pr_opened', 'ci_started', 'respawn', 'preparing', 'agent_started', 'agent_exited', 'pr_opened', 'ci_started', 'ready', 'merged', 'cleaned_up']);
    registry.close();
    expect(hook.received.map((r) => `${r.method} ${r.path}`)).toHaveLength(2);
  });
});
