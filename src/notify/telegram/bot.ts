/**
 * swarm's Telegram bot: a notification channel whose messages carry buttons, and a long poll (`getUpdates`,
 * so no inbound port: it works behind NAT) that takes the buttons and commands back. Every action is the one
 * the CLI and the API run (cli/tasks.ts), with the same checks, and its event names who pressed it. One
 * message per task and chat, edited in place as the task moves; a task that asks for the human again (ready,
 * needs help) gets a new message, so the phone buzzes. State (the poll's offset, the messages) lives in
 * `.swarm/telegram.json`.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import * as z from 'zod';
import { ACTIVE_STATES, type TaskRow } from '../../../registry/types.js';
import type { Project } from '../../config/project.js';
import type { TelegramConfig } from '../../config/schema.js';
import { ConfigError, errorMessage } from '../../errors.js';
import type { Notification, NotifyChannel } from '../channel.js';
import { getTask, killTask, mergeTask, retryTask, spawnTask } from '../../cli/tasks.js';
import { renderTaskDetail, taskDetail } from '../../cli/show.js';
import { runGit } from '../../workspace/git.js';
import { BotApi, type Update } from './api.js';
import { buttonsFor, HELP, parseButton, parseCommand, type Ask } from './decide.js';

const State = z.object({
  offset: z.number().default(0),
  /** By task id: the message each chat shows for it, and the notification it shows. */
  messages: z.record(z.string(), z.array(z.object({ chat: z.number(), message_id: z.number(), key: z.string(), event: z.string() }))).default({}),
});
type State = z.infer<typeof State>;

/** Events that ask for the human: a new message (a buzz) rather than an edit. */
const ASKS = new Set(['ready', 'needs_help']);

export class TelegramBot {
  readonly api: BotApi;
  private state: State;
  private readonly file: string;
  private polling: AbortController | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly project: Project, private readonly config: TelegramConfig, private readonly log: Logger, private readonly kick: () => void, env: NodeJS.ProcessEnv = process.env) {
    const token = env[config.token_env];
    if (!token) throw new ConfigError(`notify.telegram needs the bot's token in the environment variable ${config.token_env} (from @BotFather: /newbot). Set it where the daemon starts, or remove notify.telegram.`);
    this.api = new BotApi(config.api_url, token);
    this.file = join(project.paths.dir, 'telegram.json');
    this.state = this.load();
  }

  private load(): State {
    try {
      return existsSync(this.file) ? State.parse(JSON.parse(readFileSync(this.file, 'utf8'))) : State.parse({});
    } catch (err) {
      this.log.warn({ error: errorMessage(err) }, 'telegram state unreadable; starting afresh');
      return State.parse({});
    }
  }

  private save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state), { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  /** The notification channel: each allowlisted chat gets the message (new, or the task's edited in place). */
  channel(): NotifyChannel {
    return { name: 'telegram', send: (n) => this.send(n) };
  }

  private async send(n: Notification): Promise<void> {
    const task = this.project.registry.getTask(n.task_id);
    // A ready message offers merge only while the task is still ready at the head it was verified at.
    const stillReady = n.event !== 'ready' || task?.state === 'ready';
    const buttons = task && stillReady ? buttonsFor(n.event, n.task_id, task.verified_sha) : [];
    const text = `${n.title}\n\n${n.body}`;
    const shown = this.state.messages[String(n.task_id)] ?? [];
    for (const chat of this.config.chats) {
      const mine = shown.find((m) => m.chat === chat);
      if (mine?.key === n.key) continue; // sent already (a resend after a crash)
      if (mine && !ASKS.has(n.event)) {
        await this.api.editMessageText(chat, mine.message_id, text, buttons);
        this.remember(n.task_id, { chat, message_id: mine.message_id, key: n.key, event: n.event });
        continue;
      }
      // Asking again: the old message says it moved on, without buttons that no longer apply.
      if (mine) await this.api.editMessageText(chat, mine.message_id, `Task ${n.task_id}: moved on (see the newer message).`).catch((err: unknown) => this.log.warn({ error: errorMessage(err) }, 'telegram: could not retire an old message'));
      const sent = await this.api.sendMessage(chat, text, buttons);
      this.remember(n.task_id, { chat, message_id: sent.message_id, key: n.key, event: n.event });
      for (const photo of n.attachments ?? []) {
        if (existsSync(photo)) await this.api.sendPhoto(chat, photo, `Task ${n.task_id}: ${photo.split('/').pop() ?? ''}`, sent.message_id);
      }
    }
  }

  private remember(task: number, message: State['messages'][string][number]): void {
    const list = (this.state.messages[String(task)] ?? []).filter((m) => m.chat !== message.chat);
    this.state.messages[String(task)] = [...list, message];
    this.save();
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
            const { updates, next } = await this.api.getUpdates(this.state.offset, this.config.poll_seconds, signal);
          failures = 0;
          for (const update of updates) await this.handle(update).catch((err: unknown) => this.log.error({ error: errorMessage(err) }, 'telegram: an update failed'));
          if (next !== null) {
            this.state.offset = next;
            this.save();
          }
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

  private allowed(chat: number | undefined): chat is number {
    return chat !== undefined && this.config.chats.includes(chat);
  }

  private async handle(update: Update): Promise<void> {
    const query = update.callback_query;
    if (query) {
      const chat = query.message?.chat.id;
      if (!this.allowed(chat)) {
        this.log.warn({ chat: chat ?? null, user: query.from.id }, 'telegram: a button from a chat not in notify.telegram.chats ignored');
        return;
      }
      const who = query.from.username ? `@${query.from.username}` : String(query.from.id);
      const ask = parseButton(query.data);
      if (!ask) return this.api.answerCallbackQuery(query.id, 'That button is not one of swarm\'s (or from an older version).', true);
      const outcome = await this.act(ask, who, chat, query.message?.message_id);
      await this.api.answerCallbackQuery(query.id, outcome.said, !outcome.ok);
      return;
    }
    const message = update.message;
    if (!message?.text) return;
    if (!this.allowed(message.chat.id)) {
      this.log.warn({ chat: message.chat.id, user: message.from?.id ?? null }, 'telegram: a message from a chat not in notify.telegram.chats ignored');
      return;
    }
    const chat = message.chat.id;
    const who = message.from?.username ? `@${message.from.username}` : String(message.from?.id ?? chat);
    const command = parseCommand(message.text);
    if (!command && message.reply_to_message) {
      // A reply to a task's message: retry it with the reply as the agent's note.
      const task = this.taskOfMessage(chat, message.reply_to_message.message_id);
      if (task === null) return void (await this.api.sendMessage(chat, 'That message is not about a task swarm knows; reply to a task\'s message to retry it with a note.', [], message.message_id));
      const outcome = await this.act({ kind: 'retry', task }, who, chat, undefined, message.text);
      return void (await this.api.sendMessage(chat, outcome.said, [], message.message_id));
    }
    if (!command || command.kind === 'help') return void (await this.api.sendMessage(chat, command?.why ?? HELP, [], message.message_id));
    if (command.kind === 'status') return void (await this.api.sendMessage(chat, statusText(this.project.registry.listTasks()), [], message.message_id));
    try {
      const task = await spawnTask(this.project, { prompt: command.prompt, ...(command.agent ? { agent: command.agent } : {}) });
      this.project.registry.recordEvent(task.id, 'spawned_remotely', { by: `telegram:${who}` });
      this.kick();
      await this.api.sendMessage(chat, `Task ${task.id} queued (${task.agent}${task.host ? ` on ${task.host}` : ''}): ${task.title}`, [[{ text: 'Show', callback_data: `s:${task.id}` }]], message.message_id);
    } catch (err) {
      await this.api.sendMessage(chat, `Not queued: ${errorMessage(err)}`, [], message.message_id);
    }
  }

  private taskOfMessage(chat: number, messageId: number): number | null {
    for (const [task, list] of Object.entries(this.state.messages)) if (list.some((m) => m.chat === chat && m.message_id === messageId)) return Number(task);
    return null;
  }

  /** Runs one action through the shared functions; says what happened, or why nothing did. */
  private async act(ask: Ask, who: string, chat: number, messageId: number | undefined, note?: string): Promise<{ ok: boolean; said: string }> {
    const actor = { via: 'telegram' as const, who };
    try {
      switch (ask.kind) {
        case 'merge': {
          const { task, commit } = await mergeTask(this.project, ask.task, { actor, expectSha: ask.sha });
          if (messageId) await this.api.editMessageText(chat, messageId, `Task ${task.id} merged into ${task.base} (${commit.slice(0, 10)}) by ${who}: ${task.title}`);
          this.kick();
          return { ok: true, said: `Merged ${ask.sha.slice(0, 7)} into ${task.base}.` };
        }
        case 'retry': {
          const task = await retryTask(this.project, ask.task, note, actor);
          this.kick();
          if (messageId) await this.api.editMessageText(chat, messageId, `Task ${task.id} queued again by ${who}: ${task.title}`);
          return { ok: true, said: `Task ${task.id} queued again${note ? ' with your note' : ''}.` };
        }
        case 'kill': {
          const { task } = await killTask(this.project, ask.task, actor);
          this.kick();
          if (messageId) await this.api.editMessageText(chat, messageId, `Task ${task.id} cancelled by ${who}: ${task.title}`);
          return { ok: true, said: `Task ${task.id} cancelled.` };
        }
        case 'show': {
          const task = getTask(this.project, ask.task);
          // The diff's size, from the branch as brought back here (base...branch: what a merge would bring).
          const stat = await runGit(this.project.repo.root, ['diff', '--shortstat', `${task.base}...${task.branch}`]);
          const diff = stat.code === 0 && stat.stdout.trim() ? `\n  diff      ${stat.stdout.trim()}` : '';
          await this.api.sendMessage(chat, `${renderTaskDetail(await taskDetail(this.project, task))}${diff}`, [], messageId);
          return { ok: true, said: `Task ${ask.task}` };
        }
      }
    } catch (err) {
      this.log.info({ ask, by: who, error: errorMessage(err) }, 'telegram: action refused');
      return { ok: false, said: errorMessage(err) };
    }
  }
}

/** `/status`: the unfinished tasks, a line each. Pure. */
export function statusText(tasks: readonly TaskRow[]): string {
  const open = tasks.filter((t) => t.state !== 'done' && t.state !== 'cancelled');
  if (!open.length) return 'No open tasks. /spawn queues one.';
  const active = open.filter((t) => ACTIVE_STATES.includes(t.state)).length;
  return [`${open.length} open (${active} working):`, ...open.map((t) => `#${t.id} ${t.state.replace('_', ' ')}, ${t.agent}${t.host ? ` on ${t.host}` : ''}: ${t.title.slice(0, 80)}`)].join('\n');
}
