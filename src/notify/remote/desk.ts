/**
 * The phone's desk: what Telegram and Slack share. It sends notifications as messages with choices (one
 * message per task and chat, edited in place; a new one when the task asks for the human again, so the
 * phone buzzes), and it runs what comes back (a pressed choice, a reply, a command) through the actions the
 * CLI and the API run (cli/tasks.ts, cli/orchestrate.ts), with their checks; each event names who acted and
 * through what. A chat service is a `Surface`: how to post, edit and attach there, and nothing else.
 */
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { ACTIVE_STATES, type TaskRow } from '../../../registry/types.js';
import type { Project } from '../../config/project.js';
import { errorMessage } from '../../errors.js';
import { getTask, killTask, mergeTask, retryTask, spawnTask, type Actor } from '../../cli/tasks.js';
import { renderTaskDetail, taskDetail } from '../../cli/show.js';
import { runGit } from '../../workspace/git.js';
import type { Notification, NotifyChannel } from '../channel.js';
import type { Book } from './book.js';
import { choicesFor, helpText, parseAsk, parseCommand, planChoices, type Ask, type Choice } from './asks.js';

export interface Surface {
  readonly name: 'telegram' | 'slack';
  /** Posts a message (in reply to, or in the thread of, `replyTo`); its id. */
  post(chat: string, text: string, choices?: Choice[][], replyTo?: string): Promise<string>;
  /** Replaces a message's text and choices (none: the choices go). */
  edit(chat: string, messageId: string, text: string, choices?: Choice[][]): Promise<void>;
  /** Attaches a file (a screenshot) under a message. */
  attach(chat: string, file: string, caption: string, replyTo: string): Promise<void>;
}

/** How commands are typed there: `/status` on Telegram, `/swarm status` on Slack. */
export interface DeskOptions {
  chats: readonly string[];
  /** When set, only these people are obeyed (Slack user ids); chats alone otherwise. */
  users?: readonly string[];
  prefix: string;
  replies: string;
}

/** The orchestrator's half (a plan proposed, approved, discarded), loaded only when the phone asks for it. */
const orchestrate = (): Promise<typeof import('../../cli/orchestrate.js')> => import('../../cli/orchestrate.js');

/** Events that ask for the human: a new message (a buzz) rather than an edit. */
const ASKS = new Set(['ready', 'needs_help']);

export interface Outcome {
  ok: boolean;
  said: string;
}

export class Desk {
  constructor(
    private readonly project: Project,
    private readonly surface: Surface,
    private readonly book: Book,
    private readonly options: DeskOptions,
    private readonly log: Logger,
    private readonly kick: () => void,
  ) {}

  channel(): NotifyChannel {
    return { name: this.surface.name, send: (n) => this.send(n) };
  }

  private async send(n: Notification): Promise<void> {
    const task = this.project.registry.getTask(n.task_id);
    // A ready message offers merge only while the task is still ready at the head it was verified at.
    const stillReady = n.event !== 'ready' || task?.state === 'ready';
    const choices = task && stillReady ? choicesFor(n.event, n.task_id, task.verified_sha) : [];
    const text = `${n.title}\n\n${n.body}`;
    for (const chat of this.options.chats) {
      const mine = this.book.shown(n.task_id, chat);
      if (mine?.key === n.key) continue; // sent already (a resend after a crash)
      if (mine && !ASKS.has(n.event)) {
        await this.surface.edit(chat, mine.message_id, text, choices);
        this.book.remember(n.task_id, { chat, message_id: mine.message_id, key: n.key, event: n.event });
        continue;
      }
      // Asking again: the old message says it moved on, without choices that no longer apply.
      if (mine) await this.surface.edit(chat, mine.message_id, `Task ${n.task_id}: moved on (see the newer message).`).catch((err: unknown) => this.log.warn({ error: errorMessage(err) }, `${this.surface.name}: could not retire an old message`));
      const sent = await this.surface.post(chat, text, choices);
      this.book.remember(n.task_id, { chat, message_id: sent, key: n.key, event: n.event });
      for (const file of n.attachments ?? []) {
        if (existsSync(file)) await this.surface.attach(chat, file, `Task ${n.task_id}: ${file.split('/').pop() ?? ''}`, sent);
      }
    }
  }

  /** Whether a chat (and person) may steer swarm; the rest is ignored, and logged by the caller. */
  allowed(chat: string | undefined, user?: string): chat is string {
    if (chat === undefined || !this.options.chats.includes(chat)) return false;
    return !this.options.users || (user !== undefined && this.options.users.includes(user));
  }

  /** A pressed choice on `messageId`: the action, the message edited to say what happened. */
  async choose(chat: string, messageId: string | undefined, who: string, data: string | undefined): Promise<Outcome> {
    const ask = parseAsk(data);
    if (!ask) return { ok: false, said: 'That button is not one of swarm\'s (or from an older version).' };
    return this.act(ask, who, chat, messageId);
  }

  /** A reply to a task's message: that task is retried with the reply as the agent's note. */
  async reply(chat: string, repliedTo: string, who: string, text: string, answerTo: string): Promise<void> {
    const command = parseCommand(text, this.options.prefix);
    if (command) return this.command(chat, who, text, answerTo);
    const task = this.book.taskOf(chat, repliedTo);
    if (task === null) return void (await this.surface.post(chat, `That message is not about a task swarm knows; ${this.options.replies} to retry it with a note.`, [], answerTo));
    const outcome = await this.act({ kind: 'retry', task }, who, chat, undefined, text);
    await this.surface.post(chat, outcome.said, [], answerTo);
  }

  /** A typed command (`/status`, `/spawn`, `/plan`); anything else gets the help. */
  async command(chat: string, who: string, text: string, answerTo?: string): Promise<void> {
    const command = parseCommand(text, this.options.prefix);
    const actor = this.actor(who);
    if (!command || command.kind === 'help') return void (await this.surface.post(chat, command?.why ?? helpText(this.options.prefix, this.options.replies), [], answerTo));
    if (command.kind === 'status') return void (await this.surface.post(chat, statusText(this.project.registry.listTasks(), this.options.prefix), [], answerTo));
    try {
      if (command.kind === 'plan') {
        const { proposePlan, renderPlan } = await orchestrate();
        const { plan, tasks } = await proposePlan(this.project, command.request);
        for (const t of tasks) this.project.registry.recordEvent(t.id, 'proposed_remotely', { by: `${actor.via}:${who}` });
        const ids = tasks.map((t) => `#${t.id}`).join(', ');
        await this.surface.post(chat, `Proposed ${tasks.length} task(s) (${ids}):\n\n${renderPlan(plan.plan)}`, planChoices(tasks[0]!.id, tasks.length), answerTo);
        return;
      }
      const task = await spawnTask(this.project, { prompt: command.prompt, ...(command.agent ? { agent: command.agent } : {}) });
      this.project.registry.recordEvent(task.id, 'spawned_remotely', { by: `${actor.via}:${who}` });
      this.kick();
      await this.surface.post(chat, `Task ${task.id} queued (${task.agent}${task.host ? ` on ${task.host}` : ''}): ${task.title}`, [[{ label: 'Show', data: `s:${task.id}` }]], answerTo);
    } catch (err) {
      await this.surface.post(chat, `${command.kind === 'plan' ? 'No plan' : 'Not queued'}: ${errorMessage(err)}`, [], answerTo);
    }
  }

  private actor(who: string): Actor {
    return { via: this.surface.name, who };
  }

  /** Runs one action through the shared functions; says what happened, or why nothing did. */
  private async act(ask: Ask, who: string, chat: string, messageId: string | undefined, note?: string): Promise<Outcome> {
    const actor = this.actor(who);
    const say = async (text: string): Promise<void> => {
      if (messageId) await this.surface.edit(chat, messageId, text);
    };
    try {
      switch (ask.kind) {
        case 'merge': {
          const { task, commit } = await mergeTask(this.project, ask.task, { actor, expectSha: ask.sha });
          await say(`Task ${task.id} merged into ${task.base} (${commit.slice(0, 10)}) by ${who}: ${task.title}`);
          this.kick();
          return { ok: true, said: `Merged ${ask.sha.slice(0, 7)} into ${task.base}.` };
        }
        case 'retry': {
          const task = await retryTask(this.project, ask.task, note, actor);
          this.kick();
          await say(`Task ${task.id} queued again by ${who}: ${task.title}`);
          return { ok: true, said: `Task ${task.id} queued again${note ? ' with your note' : ''}.` };
        }
        case 'kill': {
          const { task } = await killTask(this.project, ask.task, actor);
          this.kick();
          await say(`Task ${task.id} cancelled by ${who}: ${task.title}`);
          return { ok: true, said: `Task ${task.id} cancelled.` };
        }
        case 'approve': {
          const { approvePlan } = await orchestrate();
          const tasks = approvePlan(this.project, ask.task, actor);
          this.kick();
          await say(`Approved by ${who}: ${tasks.map((t) => `#${t.id} ${t.title}`).join('; ')}`);
          return { ok: true, said: `${tasks.length} task(s) queued.` };
        }
        case 'discard': {
          const { discardPlan } = await orchestrate();
          const tasks = await discardPlan(this.project, ask.task, actor);
          await say(`Discarded by ${who}: ${tasks.map((t) => `#${t.id}`).join(', ')}`);
          return { ok: true, said: `${tasks.length} proposed task(s) discarded.` };
        }
        case 'show': {
          const task = getTask(this.project, ask.task);
          // The diff's size, from the branch as brought back here (base...branch: what a merge would bring).
          const stat = await runGit(this.project.repo.root, ['diff', '--shortstat', `${task.base}...${task.branch}`]);
          const diff = stat.code === 0 && stat.stdout.trim() ? `\n  diff      ${stat.stdout.trim()}` : '';
          await this.surface.post(chat, `${renderTaskDetail(await taskDetail(this.project, task))}${diff}`, [], messageId);
          return { ok: true, said: `Task ${ask.task}` };
        }
      }
    } catch (err) {
      this.log.info({ ask, by: `${actor.via}:${who}`, error: errorMessage(err) }, `${this.surface.name}: action refused`);
      return { ok: false, said: errorMessage(err) };
    }
  }
}

/** `/status`: the unfinished tasks, a line each. Pure. */
export function statusText(tasks: readonly TaskRow[], prefix = '/'): string {
  const open = tasks.filter((t) => t.state !== 'done' && t.state !== 'cancelled');
  if (!open.length) return `No open tasks. ${prefix}spawn queues one.`;
  const active = open.filter((t) => ACTIVE_STATES.includes(t.state)).length;
  return [`${open.length} open (${active} working):`, ...open.map((t) => `#${t.id} ${t.state.replace('_', ' ')}, ${t.agent}${t.host ? ` on ${t.host}` : ''}: ${t.title.slice(0, 80)}`)].join('\n');
}
