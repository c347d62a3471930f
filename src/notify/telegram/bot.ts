/**
 * swarm's Telegram bot: the desk (remote/desk.ts) on Telegram. Notifications go out as messages with inline
 * buttons; a long poll (`getUpdates`, so no inbound port: it works behind NAT) takes the buttons, replies and
 * commands back, from allowlisted chats only. The poll's offset and the messages live in `.swarm/telegram.json`.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Project } from '../../config/project.js';
import type { TelegramConfig } from '../../config/schema.js';
import { ConfigError, errorMessage } from '../../errors.js';
import type { NotifyChannel } from '../channel.js';
import { Book } from '../remote/book.js';
import { Desk, type Surface } from '../remote/desk.js';
import type { Choice } from '../remote/asks.js';
import { BotApi, type Button, type Update } from './api.js';

const keyboard = (choices: Choice[][] = []): Button[][] => choices.map((row) => row.map((c) => ({ text: c.label, callback_data: c.data })));

export class TelegramBot {
  readonly api: BotApi;
  private readonly desk: Desk;
  private readonly book: Book;
  private polling: AbortController | null = null;
  private loop: Promise<void> | null = null;

  constructor(project: Project, private readonly config: TelegramConfig, private readonly log: Logger, kick: () => void, env: NodeJS.ProcessEnv = process.env) {
    const token = env[config.token_env];
    if (!token) throw new ConfigError(`notify.telegram needs the bot's token in the environment variable ${config.token_env} (from @BotFather: /newbot). Set it where the daemon starts, or remove notify.telegram.`);
    const api = new BotApi(config.api_url, token);
    this.api = api;
    const surface: Surface = {
      name: 'telegram',
      post: async (chat, text, choices, replyTo) => String((await api.sendMessage(Number(chat), text, keyboard(choices), replyTo ? Number(replyTo) : undefined)).message_id),
      edit: (chat, id, text, choices) => api.editMessageText(Number(chat), Number(id), text, keyboard(choices)),
      attach: async (chat, file, caption, replyTo) => void (await api.sendPhoto(Number(chat), file, caption, Number(replyTo))),
    };
    this.book = new Book(join(project.paths.dir, 'telegram.json'), log);
    this.desk = new Desk(project, surface, this.book, { chats: config.chats.map(String), prefix: '/', replies: 'reply to a task\'s message' }, log, kick);
  }

  channel(): NotifyChannel {
    return this.desk.channel();
  }

  /** Starts the long poll (until stop). */
  start(): void {
    if (this.loop) return;
    this.polling = new AbortController();
    const signal = this.polling.signal;
    this.loop = (async () => {
      let failures = 0;
      while (!signal.aborted) {
        try {
          const { updates, next } = await this.api.getUpdates(this.book.offset, this.config.poll_seconds, signal);
          failures = 0;
          for (const update of updates) await this.handle(update).catch((err: unknown) => this.log.error({ error: errorMessage(err) }, 'telegram: an update failed'));
          if (next !== null) this.book.offset = next;
        } catch (err) {
          if (signal.aborted) break;
          failures++;
          const retryAfter = (err as { retryAfter?: number | null }).retryAfter;
          const waitMs = retryAfter ? retryAfter * 1000 : Math.min(60_000, 1_000 * 2 ** Math.min(failures, 6));
          this.log.warn({ error: errorMessage(err), wait_ms: waitMs }, 'telegram: polling failed; trying again');
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, waitMs);
            signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
          });
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.polling?.abort();
    await this.loop;
    this.loop = null;
  }

  private async handle(update: Update): Promise<void> {
    const query = update.callback_query;
    if (query) {
      const chat = query.message ? String(query.message.chat.id) : undefined;
      if (!this.desk.allowed(chat)) {
        this.log.warn({ chat: chat ?? null, user: query.from.id }, 'telegram: a button from a chat not in notify.telegram.chats ignored');
        return;
      }
      const outcome = await this.desk.choose(chat, query.message ? String(query.message.message_id) : undefined, whoOf(query.from), query.data);
      await this.api.answerCallbackQuery(query.id, outcome.said, !outcome.ok);
      return;
    }
    const message = update.message;
    if (!message?.text) return;
    const chat = String(message.chat.id);
    if (!this.desk.allowed(chat)) {
      this.log.warn({ chat: message.chat.id, user: message.from?.id ?? null }, 'telegram: a message from a chat not in notify.telegram.chats ignored');
      return;
    }
    const who = message.from ? whoOf(message.from) : chat;
    const id = String(message.message_id);
    if (message.reply_to_message) return this.desk.reply(chat, String(message.reply_to_message.message_id), who, message.text, id);
    return this.desk.command(chat, who, message.text, id);
  }
}

function whoOf(user: { id: number; username?: string | undefined }): string {
  return user.username ? `@${user.username}` : String(user.id);
}
