import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from '../../registry/registry.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { desktopChannel } from '../../src/notify/desktop.js';
import { channelsFromConfig, deliverDue, NotificationWorker } from '../../src/notify/outbox.js';
import { waitFor } from '../../src/wait.js';
import { receiver, tempDir, type Receiver } from '../helpers/sample.js';

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

describe('notification outbox', () => {
  let dir: string;
  let hook: Receiver;
  let registry: Registry;
  let now = 1_000_000;

  beforeEach(async () => {
    dir = tempDir('notify');
    hook = await receiver();
    registry = new Registry(join(dir, 'swarm.db'), { now: () => now });
  });
  afterEach(async () => {
    registry.close();
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function readyTask(channels: string[]): number {
    const task = registry.createTask({ title: 'T', prompt: 'p', agent: 'a', base: 'main', branch: 'swarm/{id}-t', worktree: '/w/{id}', max_retries: 3 });
    registry.transition(task.id, 'queued', 'ready', { event: 'ready', notify: { dedupe: `${task.id}:ready:1`, channels, message: { event: 'ready', title: `Task ${task.id} ready: PR #1, CI green`, body: 'b' } } });
    // The same state change replayed (e.g. after a crash) enqueues nothing new.
    registry.transition(task.id, 'ready', 'ready', { event: 'ready', notify: { dedupe: `${task.id}:ready:1`, channels, message: { event: 'ready', title: 'dup', body: 'b' } } });
    return task.id;
  }

  it('sends ntfy (with token and click URL) and webhook once each; a failing channel is retried with backoff, never fatal, and no token is logged', async () => {
    const config = parseConfig('c', {
      notify: { desktop: false, ntfy: { server: hook.url, topic: 'phone', token_env: 'NTFY_TEST_TOKEN', click_url: 'https://example.com/pr' }, webhook: { url: `${hook.url}/hook` } },
    });
    const channels = channelsFromConfig(config, { NTFY_TEST_TOKEN: 'tk_secret_value' });
    const log = capture();
    const id = readyTask(channels.map((c) => c.name));
    expect(registry.notifications(id)).toHaveLength(2);

    hook.failNext(1, 503); // ntfy goes first and fails once
    expect(await deliverDue(registry, channels, 5, createLogger(log.stream))).toBe(1);
    expect(hook.received.map((r) => r.path)).toEqual(['/hook']);
    // Not due yet: backoff.
    expect(await deliverDue(registry, channels, 5, createLogger(log.stream))).toBe(0);
    now += 60_000;
    expect(await deliverDue(registry, channels, 5, createLogger(log.stream))).toBe(1);
    expect(await deliverDue(registry, channels, 5, createLogger(log.stream))).toBe(0);

    const ntfy = hook.received.find((r) => r.path === '/')!;
    expect(ntfy.body).toMatchObject({ topic: 'phone', title: `Task ${id} ready: PR #1, CI green`, click: 'https://example.com/pr' });
    expect(ntfy.headers.authorization).toBe('Bearer tk_secret_value');
    const webhook = hook.received.find((r) => r.path === '/hook')!;
    expect(webhook.body).toMatchObject({ key: `${id}:ready:1:webhook`, event: 'ready', task_id: id });
    expect(registry.notifications(id).map((n) => [n.channel, n.status, n.attempts])).toEqual([
      ['ntfy', 'sent', 2],
      ['webhook', 'sent', 1],
    ]);
    expect(log.text()).toContain('HTTP 503');
    expect(log.text()).not.toContain('tk_secret_value');
  });

  it('gives up after max attempts and marks the row failed', async () => {
    const config = parseConfig('c', { notify: { desktop: false, webhook: { url: 'http://127.0.0.1:9/unreachable' } } });
    const channels = channelsFromConfig(config, {});
    const id = readyTask(['webhook']);
    for (let i = 0; i < 3; i++) {
      await deliverDue(registry, channels, 3, createLogger(capture().stream));
      now += 3_600_000;
    }
    expect(registry.notifications(id).map((n) => [n.status, n.attempts])).toEqual([['failed', 3]]);
  });

  it('desktop: notify-send gets title and body as arguments, never through a shell', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const record = join(dir, 'argv.json');
    writeFileSync(join(bin, 'notify-send'), `#!${process.execPath}\nrequire('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(2)));\n`);
    chmodSync(join(bin, 'notify-send'), 0o755);
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath ?? ''}`;
    try {
      await desktopChannel('linux').send({ key: 'k', task_id: 1, event: 'ready', title: 'Task 1 ready: $(rm -rf ~)', body: '`whoami`; echo hi', click_url: null });
    } finally {
      process.env.PATH = oldPath;
    }
    expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual(['--app-name=worktree-swarm', 'Task 1 ready: $(rm -rf ~)', '`whoami`; echo hi']);
  });

  it('each channel is its own lane: while a hung channel is still sending, a healthy one delivers what comes later', async () => {
    const delivered: string[] = [];
    let hungSends = 0;
    const hung = { name: 'webhook', send: () => ((hungSends++), new Promise<void>(() => undefined)) };
    const healthy = { name: 'ntfy', send: async (n: { title: string }) => void delivered.push(n.title) };
    const worker = new NotificationWorker(registry, [hung, healthy], 5, createLogger(capture().stream));
    const first = readyTask(['webhook', 'ntfy']);
    worker.kick();
    await waitFor(() => (delivered.length === 1 && hungSends === 1 ? true : undefined), { timeoutMs: 5_000, what: 'the first delivery' });
    // A later notification, while the webhook's first send still hangs.
    const second = readyTask(['webhook', 'ntfy']);
    worker.kick();
    await waitFor(() => (delivered.length === 2 ? true : undefined), { timeoutMs: 5_000, what: 'the second delivery past the hung lane' });
    expect(delivered).toEqual([`Task ${first} ready: PR #1, CI green`, `Task ${second} ready: PR #1, CI green`]);
    expect(hungSends).toBe(1);
    expect(registry.notifications().filter((n) => n.channel === 'webhook' && n.status === 'sent')).toHaveLength(0);
  });
});
