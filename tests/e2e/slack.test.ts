import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/wait.js';
import { startFakeSlack, type FakeSlack, type SlackMessage } from '../../scripts/fake-slack.js';
import { fakeOllama, type FakeOllama } from '../helpers/ollama.js';
import { agentCommand, git, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

/**
 * Slack as a remote control, against a loopback Slack (Web API, Socket Mode over a WebSocket, incoming
 * webhooks) pointed at by notify.slack.api_url: the official SDKs in the daemon dial out, post each
 * notification with buttons, and obey only the configured channel and people.
 */
describe('Slack, two-way over Socket Mode', () => {
  const CHANNEL = 'C0SWARM';
  const OTHER = 'C0OTHER';
  let box: Sandbox;
  let slack: FakeSlack;
  let ollama: FakeOllama;
  let daemon: DaemonProcess | null = null;

  beforeAll(async () => {
    ollama = await fakeOllama([{ name: 'planner', capabilities: ['completion', 'tools'] }]);
  });
  afterAll(() => ollama.close());
  beforeEach(async () => {
    box = sandbox('slack');
    slack = await startFakeSlack();
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await slack.close();
    box.cleanup();
  });

  const configure = (extra: Record<string, unknown> = {}): void =>
    writeConfig(box, {
      agents: { right: { command: agentCommand('fixer-right.mjs'), env: { AGENT_RECORD_DIR: box.records } }, broken: { command: agentCommand('always-fail.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      default_agent: 'right',
      ci: { command: SAMPLE_CI },
      max_retries: 0,
      notify: { desktop: false, slack: { channels: [CHANNEL], users: ['U0ANA', 'U0BOB'], api_url: slack.apiUrl } },
      ...extra,
    });
  const start = async (): Promise<void> => {
    daemon = await runDaemon(box, { SLACK_BOT_TOKEN: slack.botToken, SLACK_APP_TOKEN: slack.appToken });
    await waitFor(() => (daemon!.output().includes('slack: connected') ? true : undefined), { timeoutMs: 20_000, what: 'the Socket Mode connection' });
  };
  const messageFor = (id: number, prefix: string): Promise<SlackMessage> =>
    waitFor(() => slack.messages.find((m) => m.channel === CHANNEL && m.thread_ts === null && m.text.startsWith(`Task ${id} ${prefix}`)), { timeoutMs: 30_000, what: `the "${prefix}" message of task ${id}` });
  const ephemeralFor = (user: string, after: number) => waitFor(() => slack.ephemerals.slice(after).find((e) => e.user === user), { timeoutMs: 20_000, what: `the answer shown to ${user}` });
  /** The app handles envelopes in order: once /swarm status is answered, everything before it was handled. */
  const settled = async (): Promise<void> => {
    const before = slack.messages.length;
    slack.command(CHANNEL, 'U0ANA', 'status');
    await waitFor(() => (slack.messages.slice(before).some((m) => /open|No open tasks/.test(m.text)) ? true : undefined), { timeoutMs: 20_000, what: 'the status answer' });
  };

  it('ready: one message with buttons; merge merges exactly the verified head, once; a stale button refuses and says why; another channel and a stranger are ignored', async () => {
    configure();
    await start();
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    const ready = await waitForState(box, id, 'ready');
    const message = await messageFor(id, 'ready');
    expect(slack.messages.filter((m) => m.text.startsWith(`Task ${id} `))).toHaveLength(1);
    const sha = ready.verified_sha!;
    expect(message.buttons[0]).toEqual([{ text: `Merge ${sha.slice(0, 7)}`, value: `m:${id}:${sha}`, style: 'primary' }]);
    expect(message.buttons[1]!.map((b) => b.text)).toEqual(['Show', 'Retry', 'Kill']);

    // Someone not on the list, and someone on it but in another channel: acknowledged (Slack wants that), not obeyed.
    const eve = slack.press(message, `m:${id}:${sha}`, { user: 'U0EVE' });
    const elsewhere = slack.press(message, `m:${id}:${sha}`, { user: 'U0ANA', channel: OTHER });
    await settled();
    expect(slack.acks.has(eve) && slack.acks.has(elsewhere)).toBe(true);
    expect(slack.ephemerals).toEqual([]);
    expect(openRegistry(box).getTask(id)!.state).toBe('ready');
    expect(daemon!.output()).toContain('slack: a button from a channel or person not in notify.slack ignored');

    // A button from another head refuses, and says why, to the one who pressed it.
    const base = git(box.repo, ['rev-parse', 'main']).trim();
    let seen = slack.ephemerals.length;
    slack.press(message, `m:${id}:${base}`, { user: 'U0ANA' });
    expect((await ephemeralFor('U0ANA', seen)).text).toMatch(new RegExp(`^Nothing done: Task ${id} moved since this message: it was ready at ${base.slice(0, 10)}`));

    // Show: the detail in the message's thread.
    slack.press(message, `s:${id}`, { user: 'U0BOB' });
    const detail = await waitFor(() => slack.messages.find((m) => m.thread_ts === message.ts && m.text.startsWith(`Task ${id}: Fix addNumbers`)), { timeoutMs: 20_000, what: 'the Show answer in the thread' });
    expect(detail.text).toMatch(/diff {6}1 file changed/);

    seen = slack.ephemerals.length;
    slack.press(message, `m:${id}:${sha}`, { user: 'U0ANA' });
    expect((await ephemeralFor('U0ANA', seen)).text).toBe(`Merged ${sha.slice(0, 7)} into main.`);
    expect(git(box.repo, ['show', 'main:src/add.ts'])).toContain('a + b');
    expect(message.text).toMatch(new RegExp(`^Task ${id} merged into main \\(\\w{10}\\) by @ana`));
    expect(message.buttons).toEqual([]);
    const registry = openRegistry(box);
    expect(JSON.parse(registry.events(id).find((e) => e.kind === 'merged')!.data!)).toMatchObject({ by: 'slack:@ana' });

    seen = slack.ephemerals.length;
    slack.press(message, `m:${id}:${sha}`, { user: 'U0BOB' });
    expect((await ephemeralFor('U0BOB', seen)).text).toMatch(new RegExp(`Nothing done: Task ${id} is done, not ready`));
    registry.close();
  });

  it('/swarm spawn queues a task; "retry: <note>" in its needs-help thread retries it with the note (talk in the thread does nothing); kill from the button; Slack recycling the connection loses nothing', async () => {
    configure();
    await start();
    slack.command(CHANNEL, 'U0EVE', 'spawn Delete everything');
    slack.command(CHANNEL, 'U0ANA', 'spawn --agent broken Fix addNumbers');
    const queued = await waitFor(() => slack.messages.find((m) => /^Task \d+ queued \(broken\)/.test(m.text)), { timeoutMs: 20_000, what: 'the spawn answer' });
    const id = Number(/^Task (\d+)/.exec(queued.text)![1]);
    const registry = openRegistry(box);
    expect(registry.listTasks().map((t) => t.prompt)).toEqual(['Fix addNumbers']);
    expect(registry.events(id).some((e) => e.kind === 'spawned_remotely' && e.data!.includes('slack:@ana'))).toBe(true);

    const help = await messageFor(id, 'needs help');
    expect(help.buttons[0]!.map((b) => b.text)).toEqual(['Retry', 'Show', 'Kill']);
    // Slack recycles the connection: the app reconnects, and what is sent meanwhile waits for it.
    const before = slack.connections();
    slack.recycle();
    // People talking in the thread is not an order; "retry: ..." is.
    slack.reply(help, 'U0BOB', 'Looks like it multiplies, no?');
    slack.reply(help, 'U0ANA', 'retry: Try adding instead of multiplying');
    await waitFor(() => slack.messages.find((m) => m.thread_ts === help.ts && m.text === `Task ${id} queued again with your note.`), { timeoutMs: 30_000, what: 'the retry answer in the thread' });
    expect(slack.connections()).toBeGreaterThan(before);
    expect(JSON.parse(registry.events(id).find((e) => e.kind === 'retry')!.data!)).toMatchObject({ note: 'Try adding instead of multiplying', by: 'slack:U0ANA' });
    expect(registry.events(id).filter((e) => e.kind === 'retry')).toHaveLength(1);
    expect(slack.messages.filter((m) => m.thread_ts === help.ts).map((m) => m.text)).toEqual([`Task ${id} queued again with your note.`]);

    const second = await waitFor(() => slack.messages.find((m) => m.ts !== help.ts && m.thread_ts === null && m.text.startsWith(`Task ${id} needs help`)), { timeoutMs: 30_000, what: 'the second needs-help message' });
    expect(help.text).toBe(`Task ${id}: moved on (see the newer message).`);
    const seen = slack.ephemerals.length;
    slack.press(second, `k:${id}`, { user: 'U0BOB' });
    expect((await ephemeralFor('U0BOB', seen)).text).toBe(`Task ${id} cancelled.`);
    expect(registry.getTask(id)!.reason).toBe('cancelled through slack by @bob');
    registry.close();
  });

  it('/swarm plan proposes tasks from the orchestrator; Approve queues them all, once; another plan is discarded', async () => {
    configure({ orchestrator: { model: 'planner', host: ollama.url } });
    const task = (id: string, title: string, depends: string[] = []) => ({ id, title, prompt: `${title}.`, kind: '', depends_on: depends, files: [], acceptance: [], agent: '' });
    ollama.script([{ text: JSON.stringify({ summary: 'two steps', tasks: [task('a', 'Record refund approvals'), task('b', 'Email the receipts', ['a'])] }) }, { text: JSON.stringify({ summary: 'one', tasks: [task('c', 'Rename the billing page')] }) }]);
    await start();
    slack.command(CHANNEL, 'U0ANA', 'plan Add refunds, then email receipts');
    const proposed = await waitFor(() => slack.messages.find((m) => m.text.startsWith('Proposed 2 task(s)')), { timeoutMs: 30_000, what: 'the proposed plan' });
    expect(proposed.text).toContain('Record refund approvals');
    expect(proposed.buttons[0]!.map((b) => b.text)).toEqual(['Approve all 2', 'Discard']);
    const registry = openRegistry(box);
    expect(registry.listTasks().map((t) => t.state)).toEqual(['proposed', 'proposed']);

    let seen = slack.ephemerals.length;
    slack.press(proposed, proposed.buttons[0]![0]!.value, { user: 'U0ANA' });
    expect((await ephemeralFor('U0ANA', seen)).text).toBe('2 task(s) queued.');
    expect(proposed.text).toMatch(/^Approved by @ana: #1 Record refund approvals; #2 Email the receipts/);
    expect(registry.listTasks().every((t) => t.state !== 'proposed')).toBe(true);
    expect(JSON.parse(registry.events(1).find((e) => e.kind === 'approved')!.data!)).toMatchObject({ by: 'slack:@ana' });
    seen = slack.ephemerals.length;
    slack.press(proposed, proposed.buttons.length ? proposed.buttons[0]![0]!.value : 'pa:1', { user: 'U0ANA' });
    expect((await ephemeralFor('U0ANA', seen)).text).toMatch(/^Nothing done: The plan of task 1 was answered already/);

    slack.command(CHANNEL, 'U0BOB', 'plan Rename the billing page');
    const other = await waitFor(() => slack.messages.find((m) => m.text.startsWith('Proposed 1 task(s)')), { timeoutMs: 30_000, what: 'the second plan' });
    seen = slack.ephemerals.length;
    slack.press(other, other.buttons[0]![1]!.value, { user: 'U0BOB' });
    expect((await ephemeralFor('U0BOB', seen)).text).toBe('1 proposed task(s) discarded.');
    expect(registry.getTask(3)!.state).toBe('cancelled');
    registry.close();
  });

  it('Slack away, then rate-limiting: the ready message is delayed, not lost, sent once, and the app reconnects; missing tokens stop the daemon with the fix; a refused app token is said once, never logged', async () => {
    configure();
    const missing = await swarm(box.repo, ['daemon', 'run'], { SLACK_BOT_TOKEN: slack.botToken, SLACK_APP_TOKEN: '' });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('notify.slack needs the app-level token (xapp-…, scope connections:write) in the environment variable SLACK_APP_TOKEN');

    await start();
    await slack.down();
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    await waitForState(box, id, 'ready');
    const registry = openRegistry(box);
    await waitFor(() => (registry.notifications(id).some((n) => n.channel === 'slack' && n.attempts >= 1) ? true : undefined), { timeoutMs: 30_000, what: 'a failed delivery while Slack is away' });
    slack.failNext('chat.postMessage', 1, { retryAfter: 1 });
    const before = slack.connections();
    await slack.up();
    await messageFor(id, 'ready');
    await waitFor(() => (registry.notifications(id).find((n) => n.channel === 'slack')?.status === 'sent' ? true : undefined), { timeoutMs: 30_000, what: 'the notification marked sent' });
    expect(slack.messages.filter((m) => m.text.startsWith(`Task ${id} `))).toHaveLength(1);
    expect(slack.calls.get('chat.postMessage')).toBeGreaterThanOrEqual(2);
    await waitFor(() => (slack.connections() > before ? true : undefined), { timeoutMs: 90_000, what: 'the Socket Mode reconnection' });
    registry.close();
    // A graceful stop closes the Socket Mode connection and ends the daemon.
    expect((await swarm(box.repo, ['daemon', 'stop'])).stdout).toContain('Daemon stopped.');
    expect(await daemon!.exited).toBe(0);

    daemon = await runDaemon(box, { SLACK_BOT_TOKEN: slack.botToken, SLACK_APP_TOKEN: 'xapp-1-revoked-secret' });
    await waitFor(() => (daemon!.output().includes('was refused') ? true : undefined), { timeoutMs: 20_000, what: 'the refused app token' });
    expect(daemon.output()).toContain('slack: the app token in SLACK_APP_TOKEN was refused');
    expect(daemon.output()).not.toContain('revoked-secret');
    expect(daemon.output()).not.toContain(slack.botToken);
    expect(slack.calls.get('apps.connections.open')).toBeLessThanOrEqual(before + 3);
  });
});

describe('Slack, one-way through an incoming webhook', () => {
  let box: Sandbox;
  let slack: FakeSlack;
  let daemon: DaemonProcess | null = null;
  beforeEach(async () => {
    box = sandbox('slackhook');
    slack = await startFakeSlack();
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await slack.close();
    box.cleanup();
  });

  it('each notification is posted with its link; a webhook that is gone is retried without its URL in any error; a config with both kinds is refused', async () => {
    writeConfig(box, {
      agents: { right: { command: agentCommand('fixer-right.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      default_agent: 'right',
      ci: { command: SAMPLE_CI },
      dashboard: { public_url: 'https://swarm.example.com/' },
      notify: { desktop: false, slack: { webhook_url_env: 'SWARM_SLACK_HOOK' } },
    });
    const gone = slack.webhookUrl.replace('hooksecret', 'othersecret');
    daemon = await runDaemon(box, { SWARM_SLACK_HOOK: gone });
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    await waitForState(box, id, 'ready');
    const registry = openRegistry(box);
    const failed = await waitFor(() => registry.notifications(id).find((n) => n.channel === 'slack' && n.attempts >= 1), { timeoutMs: 20_000, what: 'the failed webhook post' });
    expect(failed.last_error).toContain('Slack\'s incoming webhook answered 404: no_service');
    expect(`${failed.last_error}${daemon.output()}`).not.toContain('othersecret');
    daemon.child.kill('SIGKILL');
    registry.close();

    daemon = await runDaemon(box, { SWARM_SLACK_HOOK: slack.webhookUrl });
    const post = await waitFor(() => slack.webhookPosts.find((p) => p.text.startsWith(`Task ${id} ready`)), { timeoutMs: 30_000, what: 'the webhook post' });
    expect(JSON.stringify(post.blocks)).toContain(`<https://swarm.example.com/tasks/${id}|Open in the dashboard>`);
    expect(slack.webhookPosts.filter((p) => p.text.startsWith(`Task ${id} ready`))).toHaveLength(1);

    writeConfig(box, { notify: { desktop: false, slack: { webhook_url_env: 'SWARM_SLACK_HOOK', channels: ['C0SWARM'] } } });
    const both = await swarm(box.repo, ['ls']);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('notify.slack is either one-way (webhook_url_env) or a two-way app');
  });
});
