import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/wait.js';
import { agentCommand, openRegistry, receiver, ROOT, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Receiver, type Sandbox } from '../helpers/sample.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

describe('screenshots for UI changes before ready', () => {
  let box: Sandbox;
  let ntfy: Receiver;
  let daemon: DaemonProcess | null = null;
  beforeEach(async () => {
    box = sandbox('screenshots');
    ntfy = await receiver();
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await ntfy.close();
    box.cleanup();
  });

  it('a UI change without screenshots is sent back saying so; with one committed it is ready and the phone notification carries it', async () => {
    writeConfig(box, {
      agents: { ui: { command: agentCommand('ui-agent.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      dod: { screenshots: { paths: ['src/**/*.ts'] } },
      ci: { command: SAMPLE_CI },
      notify: { desktop: false, ntfy: { server: ntfy.url, topic: 'swarm-test' }, max_attempts: 2 },
    });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers on the page'])).stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help'], 90_000);
    expect(task.state, task.reason ?? '').toBe('ready');
    expect(task.attempt).toBe(2);
    const second = readFileSync(join(box.records, 'prompt-2.md'), 'utf8');
    expect(second).toContain('The change touches UI files (src/add.ts) but comes with no screenshots.');
    expect(second).toContain('commit them under screenshots/');

    await waitFor(() => (ntfy.received.some((r) => r.method === 'PUT') ? true : undefined), { timeoutMs: 30_000, what: 'the ntfy attachment' });
    const put = ntfy.received.find((r) => r.method === 'PUT')!;
    expect(put.raw.equals(PNG)).toBe(true);
    const query = new URL(put.path, 'http://x').searchParams;
    expect(put.path.startsWith('/swarm-test?')).toBe(true);
    expect(query.get('filename')).toBe('add-page.png');
    expect(query.get('title')).toContain(`Task ${id} ready`);
    expect(query.get('message')).toContain('Screenshots: add-page.png.');
    expect((await swarm(box.repo, ['show', String(id)])).stdout).toContain(join(task.worktree, 'screenshots', 'add-page.png'));
  });

  it('a configured screenshot command takes them in the checkout: ready at the first attempt, with the image', async () => {
    writeConfig(box, {
      agents: { right: { command: agentCommand('fixer-right.mjs') } },
      dod: { screenshots: { paths: ['src/**'], command: [process.execPath, join(ROOT, 'tests', 'fixtures', 'take-screenshot.mjs')] } },
      ci: { command: SAMPLE_CI },
      notify: { desktop: false, ntfy: { server: ntfy.url, topic: 'swarm-test' }, max_attempts: 2 },
    });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers on the page'])).stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help'], 90_000);
    expect(task.state, task.reason ?? '').toBe('ready');
    expect(task.attempt).toBe(1);
    const registry = openRegistry(box);
    const taken = registry.events(id).find((e) => e.kind === 'screenshots_taken')!;
    registry.close();
    expect(JSON.parse(taken.data ?? '{}')).toMatchObject({ exit_code: 0 });
    await waitFor(() => (ntfy.received.some((r) => r.method === 'PUT') ? true : undefined), { timeoutMs: 30_000, what: 'the ntfy attachment' });
    expect(ntfy.received.find((r) => r.method === 'PUT')!.raw.equals(PNG)).toBe(true);
  });

  it('a change outside the UI paths needs no screenshots', async () => {
    writeConfig(box, { agents: { right: { command: agentCommand('fixer-right.mjs') } }, dod: { screenshots: { paths: ['web/**'] } }, ci: { command: SAMPLE_CI }, notify: { desktop: false } });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    expect((await waitForState(box, id, ['ready', 'needs_help'], 90_000)).state).toBe('ready');
  });
});
