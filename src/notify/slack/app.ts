/**
 * swarm as a Slack app: the desk (remote/desk.ts) on Slack. Notifications are posted with buttons through the
 * Web API (the bot token); buttons, `/swarm` commands and "retry: <note>" in a task's thread come back over Socket
 * Mode (the app token): the daemon dials out to a WebSocket, so no public URL is needed. Official SDKs do the
 * wire (@slack/web-api, @slack/socket-mode); this file decides, and reconnects on its own terms: Slack away
 * is waited out with backoff, a revoked token is said once and not hammered.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { SocketModeClient } from '@slack/socket-mode';
import { WebClient } from '@slack/web-api';
import type { Project } from '../../config/project.js';
import type { SlackConfig } from '../../config/schema.js';
import { errorMessage } from '../../errors.js';
import type { NotifyChannel } from '../channel.js';
import { Book } from '../remote/book.js';
import { Desk, type Surface } from '../remote/desk.js';
import type { SlackTokens } from '../remote/remotes.js';
import { BlockActions, blocksOf, MessageEvent, SlashCommand, whoOf } from './blocks.js';

type SlackLogger = NonNullable<NonNullable<ConstructorParameters<typeof SocketModeClient>[0]>['logger']>;
type Ack = (response?: Record<string, unknown>) => Promise<void>;

/** Slack's SDK logs through ours: its debug chatter (which quotes connection URLs) is dropped. */
function slackLogger(log: Logger): SlackLogger {
  const text = (msg: unknown[]): string => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ');
  let level = 'info';
  return {
    debug: () => {},
    info: () => {},
    warn: (...msg: unknown[]) => log.warn({ slack: text(msg) }, 'slack sdk'),
    error: (...msg: unknown[]) => log.warn({ slack: text(msg) }, 'slack sdk'),
    setLevel: (l) => void (level = l),
    getLevel: () => level as ReturnType<SlackLogger['getLevel']>,
    setName: () => {},
  };
}

/** Platform errors that no retry fixes: the token is wrong or revoked. */
const FATAL = /not_authed|invalid_auth|account_inactive|token_revoked|team_disabled|user_removed_from_team/;

export class SlackApp {
  readonly web: WebClient;
  private readonly socket: SocketModeClient;
  private readonly desk: Desk;
  private running = false;
  private connecting = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private readonly seen = new Set<string>();

  constructor(project: Project, private readonly config: SlackConfig, private readonly log: Logger, kick: () => void, tokens: SlackTokens) {
    const { bot, app } = tokens;
    const logger = slackLogger(log);
    // Few retries in a call: a failed notification is the outbox's to retry, with its own backoff.
    this.web = new WebClient(bot, { slackApiUrl: config.api_url, logger, retryConfig: { retries: 2, minTimeout: 500, maxTimeout: 5_000 }, timeout: 30_000 });
    this.socket = new SocketModeClient({ appToken: app, logger, autoReconnectEnabled: false, clientOptions: { slackApiUrl: config.api_url, retryConfig: { retries: 0 }, timeout: 30_000 } });
    const web = this.web;
    const surface: Surface = {
      name: 'slack',
      post: async (channel, text, choices, replyTo) => {
        const sent = await web.chat.postMessage({ channel, text: fallback(text), blocks: blocksOf(text, choices), ...(replyTo ? { thread_ts: replyTo } : {}) });
        if (!sent.ts) throw new Error('Slack chat.postMessage answered without the message\'s ts');
        return sent.ts;
      },
      edit: async (channel, ts, text, choices) => void (await web.chat.update({ channel, ts, text: fallback(text), blocks: blocksOf(text, choices) })),
      attach: async (channel, file, caption, replyTo) => void (await web.files.uploadV2({ channel_id: channel, thread_ts: replyTo, file: readFileSync(file), filename: basename(file), title: caption })),
    };
    this.desk = new Desk(project, surface, new Book(join(project.paths.dir, 'slack.json'), log), { chats: config.channels, ...(config.users ? { users: config.users } : {}), prefix: '/swarm ', replies: 'write "retry: <note>" in a task\'s thread' }, log, kick);

    const safely = (what: string, work: () => Promise<void>): void => void work().catch((err: unknown) => this.log.error({ error: errorMessage(err) }, `slack: ${what} failed`));
    this.socket.on('interactive', ({ ack, body }: { ack: Ack; body: unknown }) => safely('a button', () => this.onButton(ack, body)));
    this.socket.on('slash_commands', ({ ack, body }: { ack: Ack; body: unknown }) => safely('a command', () => this.onCommand(ack, body)));
    this.socket.on('message', ({ ack, event }: { ack: Ack; event: unknown }) => safely('a message', () => this.onMessage(ack, event)));
    this.socket.on('connected', () => {
      this.failures = 0;
      this.log.info('slack: connected (Socket Mode)');
    });
    this.socket.on('disconnected', () => {
      if (this.running && !this.connecting) this.later('the connection closed');
    });
  }

  channel(): NotifyChannel {
    return this.desk.channel();
  }

  /** Connects, and keeps connecting while the daemon runs. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (!this.running || this.connecting) return;
    this.connecting = true;
    try {
      await this.socket.start();
    } catch (err) {
      const why = errorMessage(err);
      if (FATAL.test(why)) {
        this.log.error({ error: why }, `slack: the app token in ${this.config.app_token_env} was refused; two-way Slack is off until the daemon restarts with a good one`);
        return;
      }
      this.later(why);
    } finally {
      this.connecting = false;
    }
  }

  private later(why: string): void {
    if (!this.running || this.timer) return;
    this.failures++;
    const waitMs = Math.min(60_000, 1_000 * 2 ** Math.min(this.failures - 1, 6));
    this.log.warn({ error: why, wait_ms: waitMs }, 'slack: not connected; trying again');
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, waitMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // A connection half gone may never say it closed: a stop waits for it a few seconds at most.
    await Promise.race([this.socket.disconnect().catch(() => {}), new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref())]);
  }

  private refused(what: string, channel: string | undefined, user: string | undefined): void {
    this.log.warn({ channel: channel ?? null, user: user ?? null }, `slack: ${what} from a channel or person not in notify.slack ignored`);
  }

  private async onButton(ack: Ack, body: unknown): Promise<void> {
    await ack();
    const parsed = BlockActions.safeParse(body);
    if (!parsed.success) return;
    const { user, actions } = parsed.data;
    const channel = parsed.data.channel?.id ?? parsed.data.container?.channel_id;
    const ts = parsed.data.message?.ts ?? parsed.data.container?.message_ts;
    if (!this.desk.allowed(channel, user.id)) return this.refused('a button', channel, user.id);
    for (const action of actions) {
      const outcome = await this.desk.choose(channel, ts, whoOf(user), action.value);
      // Slack's answer to a press is a note only the presser sees (Telegram's toast).
      await this.web.chat.postEphemeral({ channel, user: user.id, text: outcome.ok ? outcome.said : `Nothing done: ${outcome.said}` });
    }
  }

  private async onCommand(ack: Ack, body: unknown): Promise<void> {
    await ack();
    const parsed = SlashCommand.safeParse(body);
    if (!parsed.success) return;
    const { channel_id: channel, user_id: user, text } = parsed.data;
    if (!this.desk.allowed(channel, user)) return this.refused('a command', channel, user);
    await this.desk.command(channel, parsed.data.user_name ? `@${parsed.data.user_name}` : user, `/${text.trim() || 'help'}`);
  }

  /** "retry: <note>" in a task's thread retries it with the note; other talk in the channel or thread is not swarm's. */
  private async onMessage(ack: Ack, raw: unknown): Promise<void> {
    await ack();
    const parsed = MessageEvent.safeParse(raw);
    if (!parsed.success) return;
    const event = parsed.data;
    if (event.bot_id || event.subtype || !event.user || !event.text || !event.thread_ts || event.thread_ts === event.ts) return;
    // Slack redelivers an event it thinks was missed: once is enough.
    const key = `${event.channel}:${event.ts}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.seen.size > 1000) this.seen.delete(this.seen.values().next().value!);
    // A task's thread is where people talk about it: only "retry: <note>" is for swarm.
    const asked = /^retry\b[\s:,-]*/i.exec(event.text.trim());
    if (!asked) return;
    if (!this.desk.allowed(event.channel, event.user)) return this.refused('a reply', event.channel, event.user);
    await this.desk.reply(event.channel, event.thread_ts, event.user, event.text.trim().slice(asked[0].length), event.thread_ts);
  }
}

/** The plain text Slack shows in a notification (the blocks show the rest). */
function fallback(text: string): string {
  return text.length <= 3000 ? text : `${text.slice(0, 2990)}…`;
}
