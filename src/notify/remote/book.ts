/**
 * What a chat service's messages show, kept across restarts in `.swarm/<service>.json`: for each task, the
 * message each chat has about it (edited in place as the task moves) and the notification it shows; and,
 * for Telegram, the long poll's offset. Written whole and renamed, so a crash leaves the old or the new.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import * as z from 'zod';
import { errorMessage } from '../../errors.js';

const Shown = z.object({ chat: z.coerce.string(), message_id: z.coerce.string(), key: z.string(), event: z.string() });
export type Shown = z.infer<typeof Shown>;

const State = z.object({
  offset: z.number().default(0),
  messages: z.record(z.string(), z.array(Shown)).default({}),
});
type State = z.infer<typeof State>;

export class Book {
  private state: State;

  constructor(private readonly file: string, log: Logger) {
    try {
      this.state = existsSync(file) ? State.parse(JSON.parse(readFileSync(file, 'utf8'))) : State.parse({});
    } catch (err) {
      log.warn({ file, error: errorMessage(err) }, 'remote: state unreadable; starting afresh');
      this.state = State.parse({});
    }
  }

  get offset(): number {
    return this.state.offset;
  }

  set offset(next: number) {
    this.state.offset = next;
    this.save();
  }

  /** The message `chat` shows about `task`, if any. */
  shown(task: number, chat: string): Shown | undefined {
    return this.state.messages[String(task)]?.find((m) => m.chat === chat);
  }

  remember(task: number, shown: Shown): void {
    const others = (this.state.messages[String(task)] ?? []).filter((m) => m.chat !== shown.chat);
    this.state.messages[String(task)] = [...others, shown];
    this.save();
  }

  /** The task a message is about (a reply to it retries that task). */
  taskOf(chat: string, messageId: string): number | null {
    for (const [task, list] of Object.entries(this.state.messages)) if (list.some((m) => m.chat === chat && m.message_id === messageId)) return Number(task);
    return null;
  }

  private save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
