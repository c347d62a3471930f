import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/wait.js';
import { startFakeTelegram, type FakeTelegram, type SentMessage } from '../../scripts/fake-telegram.js';
import { agentCommand, git, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

/**
 * The phone as a remote control, against a loopback Bot API pointed at by notify.telegram.api_url: the
 * daemon long-polls it (no inbound port), sends each notification with buttons, and obeys only its chats.
 */
describe('Telegram, two-way', () => {
  const OWNER = 4242;
  const STRANGER = 999;
  let box: Sandbox;
  let tg: FakeTelegram;
  let daemon: DaemonProcess | null = null;

  beforeEach(async () => {
    box = sandbox('telegram');
    tg = await startFakeTelegram();
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await tg.close();
    box.cleanup();
  });

  const configure = (): void =>
    writeConfig(box, {
      agents: { right: { command: agentCommand('fixer-right.mjs'), env: { AGENT_RECORD_DIR: box.records } }, broken: { command: agentCommand('always-fail.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      default_agent: 'right',
      ci: { command: SAMPLE_CI },
      max_retries: 0,
      notify: { desktop: false, telegram: { chats: [OWNER], api_url: tg.url, poll_seconds: 1 } },
    });
  const start = async (): Promise<void> => {
    daemon = await runDaemon(box, { TELEGRAM_BOT_TOKEN: tg.token });
  };
  const messageFor = (id: number, prefix: string): Promise<SentMessage> =>
    waitFor(() => tg.messages.find((m) => m.chat_id === OWNER && m.text.startsWith(`Task ${id} ${prefix}`)), { timeoutMs: 30_000, what: `the "${prefix}" message of task ${id}` });
  const answerTo = (query: string) => waitFor(() => tg.answers.find((a) => a.callback_query_id === query), { timeoutMs: 20_000, what: `the answer to button press ${query}` });
  /** The bot handles updates in order: once it answered this, it has handled everything pushed before. */
  const settled = async (): Promise<void> => {
    const before = tg.messages.length;
    tg.say(OWNER, '/status');
    await waitFor(() => (tg.messages.slice(before).some((m) => m.chat_id === OWNER && /open|No open tasks/.test(m.text)) ? true : undefined), { timeoutMs: 20_000, what: 'the /status answer' });
  };

  it('ready: one message with buttons; merge merges exactly the verified head, once; a stale button refuses and says why; a stranger is ignored', async () => {
    configure();
    await start();
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    const ready = await waitForState(box, id, 'ready');
    const message = await messageFor(id, 'ready');
    expect(tg.messages.filter((m) => m.chat_id === OWNER && m.text.startsWith(`Task ${id} `))).toHaveLength(1);
    const sha = ready.verified_sha!;
    expect(message.buttons[0]).toEqual([{ text: `Merge ${sha.slice(0, 7)}`, callback_data: `m:${id}:${sha}` }]);
    expect(message.buttons[1]!.map((b) => b.text)).toEqual(['Show', 'Retry', 'Kill']);

    // A chat not on the list presses merge: nothing happens, nothing is answered.
    const strangers = tg.press(message, `m:${id}:${sha}`, { chat: STRANGER });
    await settled();
    expect(tg.answers.find((a) => a.callback_query_id === strangers)).toBeUndefined();
    expect(tg.messages.some((m) => m.chat_id === STRANGER)).toBe(false);
    expect(daemon!.output()).toContain('a button from a chat not in notify.telegram.chats ignored');

    // A button from before the branch moved (another head) refuses, and says why.
    const base = git(box.repo, ['rev-parse', 'main']).trim();
    const stale = await answerTo(tg.press(message, `m:${id}:${base}`, { username: 'ana' }));
    expect(stale.show_alert).toBe(true);
    expect(stale.text).toMatch(new RegExp(`Task ${id} moved since this message: it was ready at ${base.slice(0, 10)}, its verified head is now ${sha.slice(0, 10)}`));
    expect(git(box.repo, ['show', 'main:src/add.ts'])).not.toContain('a + b');

    // Show: the task's state, and what a merge would bring.
    const shown = await answerTo(tg.press(message, `s:${id}`, { username: 'ana' }));
    expect(shown.text).toBe(`Task ${id}`);
    const detail = await waitFor(() => tg.messages.find((m) => m.reply_to === message.message_id && m.text.startsWith(`Task ${id}: Fix addNumbers`)), { timeoutMs: 20_000, what: 'the Show answer' });
    expect(detail.text).toMatch(/state {5}ready/);
    expect(detail.text).toMatch(/diff {6}1 file changed, 1 insertion\(\+\), 1 deletion\(-\)/);

    const merged = await answerTo(tg.press(message, `m:${id}:${sha}`, { username: 'ana' }));
    expect(merged).toMatchObject({ show_alert: false, text: `Merged ${sha.slice(0, 7)} into main.` });
    expect(git(box.repo, ['show', 'main:src/add.ts'])).toContain('a + b');
    expect(message.text).toMatch(new RegExp(`^Task ${id} merged into main \\(\\w{10}\\) by @ana`));
    expect(message.buttons).toEqual([]);
    const registry = openRegistry(box);
    expect(JSON.parse(registry.events(id).find((e) => e.kind === 'merged')!.data!)).toMatchObject({ by: 'telegram:@ana' });

    // Pressed again: nothing is merged twice, and it says why.
    const again = await answerTo(tg.press(message, `m:${id}:${sha}`, { username: 'ana' }));
    expect(again).toMatchObject({ show_alert: true });
    expect(again.text).toMatch(new RegExp(`Task ${id} is done, not ready`));
    registry.close();
  });

  it('/spawn queues a task; a reply to its needs-help message retries it with the reply as a note; kill from the button; a stranger cannot spawn', async () => {
    configure();
    await start();
    tg.say(STRANGER, '/spawn Delete everything');
    tg.say(OWNER, '/spawn --agent broken Fix addNumbers', { username: 'ana' });
    const queued = await waitFor(() => tg.messages.find((m) => m.chat_id === OWNER && /^Task \d+ queued \(broken\)/.test(m.text)), { timeoutMs: 20_000, what: 'the /spawn answer' });
    const id = Number(/^Task (\d+)/.exec(queued.text)![1]);
    const registry = openRegistry(box);
    expect(registry.listTasks().map((t) => t.prompt)).toEqual(['Fix addNumbers']);
    expect(registry.events(id).some((e) => e.kind === 'spawned_remotely' && e.data!.includes('telegram:@ana'))).toBe(true);

    await waitForState(box, id, 'needs_help');
    const help = await messageFor(id, 'needs help');
    expect(help.buttons[0]!.map((b) => b.text)).toEqual(['Retry', 'Show', 'Kill']);
    tg.say(OWNER, 'Try adding instead of multiplying', { replyTo: help.message_id, username: 'ana' });
    await waitFor(() => tg.messages.find((m) => m.chat_id === OWNER && m.text === `Task ${id} queued again with your note.`), { timeoutMs: 20_000, what: 'the retry answer' });
    const retry = registry.events(id).find((e) => e.kind === 'retry')!;
    expect(JSON.parse(retry.data!)).toMatchObject({ note: 'Try adding instead of multiplying', by: 'telegram:@ana' });

    // Needs help again (a new message, so the phone buzzes): kill it from there.
    const second = await waitFor(() => tg.messages.find((m) => m.chat_id === OWNER && m.message_id !== help.message_id && m.text.startsWith(`Task ${id} needs help`)), { timeoutMs: 30_000, what: 'the second needs-help message' });
    expect(help.text).toBe(`Task ${id}: moved on (see the newer message).`);
    expect(help.buttons).toEqual([]);
    const killed = await answerTo(tg.press(second, `k:${id}`, { username: 'ana' }));
    expect(killed.text).toBe(`Task ${id} cancelled.`);
    expect(registry.getTask(id)!.state).toBe('cancelled');
    expect(registry.getTask(id)!.reason).toBe('cancelled through telegram by @ana');
    registry.close();
  });

  it('the bot server away for a while, then rate-limiting: the ready message is delayed, not lost, and sent once', async () => {
    configure();
    await start();
    await tg.down();
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    await waitForState(box, id, 'ready');
    const registry = openRegistry(box);
    await waitFor(() => (registry.notifications(id).some((n) => n.channel === 'telegram' && n.attempts >= 1) ? true : undefined), { timeoutMs: 20_000, what: 'a failed delivery while the server is away' });
    // Back, but the first send is rate-limited (429 with retry_after): waited out, as the Bot API asks.
    tg.failNext('sendMessage', 1, { code: 429, description: 'Too Many Requests: retry after 1', retry_after: 1 });
    await tg.up();
    await messageFor(id, 'ready');
    await waitFor(() => (registry.notifications(id).find((n) => n.channel === 'telegram')?.status === 'sent' ? true : undefined), { timeoutMs: 20_000, what: 'the notification marked sent' });
    expect(tg.messages.filter((m) => m.text.startsWith(`Task ${id} `))).toHaveLength(1);
    expect(tg.calls.get('sendMessage')).toBeGreaterThanOrEqual(2);
    const row = registry.notifications(id).find((n) => n.channel === 'telegram')!;
    // The token is in the Bot API's URLs: never in what swarm records or logs.
    expect(row.last_error ?? '').not.toContain(tg.token);
    expect(daemon!.output()).not.toContain(tg.token);
    registry.close();
  });

  it('without its token the daemon does not start, and says where the token goes; a wrong token is refused by the API and not logged', async () => {
    configure();
    const missing = await swarm(box.repo, ['daemon', 'run'], { TELEGRAM_BOT_TOKEN: '' });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('notify.telegram needs the bot\'s token in the environment variable TELEGRAM_BOT_TOKEN (from @BotFather');
    daemon = await runDaemon(box, { TELEGRAM_BOT_TOKEN: '999:wrong-secret' });
    await waitFor(() => (daemon!.output().includes('telegram: polling failed') ? true : undefined), { timeoutMs: 20_000, what: 'the poll refused' });
    expect(daemon.output()).toContain('Telegram answered 401: Unauthorized');
    expect(daemon.output()).not.toContain('wrong-secret');
  });
});

