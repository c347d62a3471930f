/**
 * The few Bot API methods swarm uses, over its documented HTTPS interface (`<api_url>/bot<token>/<method>`,
 * JSON in, `{ ok, result }` or `{ ok: false, error_code, description, parameters }` out). The token is in the
 * URL, so no error here ever quotes a URL.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as z from 'zod';

const Failure = z.object({ ok: z.literal(false), error_code: z.number(), description: z.string().default(''), parameters: z.object({ retry_after: z.number().optional() }).optional() });

export class TelegramError extends Error {
  constructor(readonly code: number, description: string, readonly retryAfter: number | null) {
    super(`Telegram answered ${code}: ${description}`);
  }
}

const User = z.object({ id: z.number(), username: z.string().optional(), first_name: z.string().optional() });
const Chat = z.object({ id: z.number() });
export const Message = z.object({
  message_id: z.number(),
  chat: Chat,
  from: User.optional(),
  text: z.string().optional(),
  reply_to_message: z.object({ message_id: z.number() }).optional(),
});
export type Message = z.infer<typeof Message>;
export const Update = z.object({
  update_id: z.number(),
  message: Message.optional(),
  callback_query: z.object({ id: z.string(), from: User, message: z.object({ message_id: z.number(), chat: Chat }).optional(), data: z.string().optional() }).optional(),
});
export type Update = z.infer<typeof Update>;

export interface Button {
  text: string;
  callback_data: string;
}

/** A retry_after longer than this is left to the outbox's own backoff rather than waited for in a call. */
const MAX_INLINE_WAIT_S = 30;

export class BotApi {
  constructor(private readonly base: string, private readonly token: string) {}

  private url(method: string): string {
    return `${this.base.replace(/\/+$/, '')}/bot${this.token}/${method}`;
  }

  /** One call; a 429 with a short retry_after is waited out once, as the Bot API asks. */
  async call<T>(method: string, params: Record<string, unknown> | FormData, result: z.ZodType<T>, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    for (let tries = 0; ; tries++) {
      const signals = [AbortSignal.timeout(options.timeoutMs ?? 30_000), ...(options.signal ? [options.signal] : [])];
      let response: Response;
      try {
        response = await fetch(this.url(method), {
          method: 'POST',
          ...(params instanceof FormData ? { body: params } : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) }),
          signal: AbortSignal.any(signals),
        });
      } catch (err) {
        // fetch's own error may carry the URL (and so the token): only its kind is kept.
        const cause = err instanceof Error ? (err.name === 'TimeoutError' || err.name === 'AbortError' ? err.name : ((err.cause as { code?: string } | undefined)?.code ?? err.name)) : 'error';
        throw new Error(`Telegram ${method} did not answer (${cause}) at ${new URL(this.base).origin}`);
      }
      const body: unknown = await response.json().catch(() => ({ ok: false, error_code: response.status, description: `not JSON (HTTP ${response.status})` }));
      const failed = Failure.safeParse(body);
      if (failed.success) {
        const retryAfter = failed.data.parameters?.retry_after ?? null;
        if (failed.data.error_code === 429 && retryAfter !== null && retryAfter <= MAX_INLINE_WAIT_S && tries === 0) {
          await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
          continue;
        }
        throw new TelegramError(failed.data.error_code, failed.data.description, retryAfter);
      }
      return z.object({ ok: z.literal(true), result }).parse(body).result;
    }
  }

  sendMessage(chat: number, text: string, buttons: Button[][] = [], replyTo?: number): Promise<Message> {
    return this.call('sendMessage', { chat_id: chat, text: clip(text), ...(buttons.length ? { reply_markup: { inline_keyboard: buttons } } : {}), ...(replyTo ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}) }, Message);
  }

  async editMessageText(chat: number, messageId: number, text: string, buttons: Button[][] = []): Promise<void> {
    try {
      await this.call('editMessageText', { chat_id: chat, message_id: messageId, text: clip(text), reply_markup: { inline_keyboard: buttons } }, z.unknown());
    } catch (err) {
      // The same text again (a resend after a crash) is already what the message says.
      if (!(err instanceof TelegramError && err.code === 400 && /message is not modified/.test(err.message))) throw err;
    }
  }

  sendPhoto(chat: number, file: string, caption: string, replyTo?: number): Promise<Message> {
    const form = new FormData();
    form.set('chat_id', String(chat));
    form.set('caption', caption.slice(0, 1024));
    if (replyTo) form.set('reply_parameters', JSON.stringify({ message_id: replyTo, allow_sending_without_reply: true }));
    form.set('photo', new Blob([readFileSync(file)]), basename(file));
    return this.call('sendPhoto', form, Message, { timeoutMs: 60_000 });
  }

  async answerCallbackQuery(id: string, text: string, alert = false): Promise<void> {
    await this.call('answerCallbackQuery', { callback_query_id: id, text: text.slice(0, 200), show_alert: alert }, z.unknown());
  }

  /** News since `offset`, and the offset that acknowledges all of it (null: none came). */
  async getUpdates(offset: number, timeoutS: number, signal?: AbortSignal): Promise<{ updates: Update[]; next: number | null }> {
    const raw = await this.call('getUpdates', { offset, timeout: timeoutS, allowed_updates: ['message', 'callback_query'] }, z.array(z.looseObject({ update_id: z.number() })), { timeoutMs: (timeoutS + 15) * 1000, ...(signal ? { signal } : {}) });
    // One odd update (a kind swarm does not read) is skipped, not the whole batch, and acknowledged all the same.
    const updates = raw.flatMap((u) => {
      const parsed = Update.safeParse(u);
      return parsed.success ? [parsed.data] : [];
    });
    return { updates, next: raw.length ? Math.max(...raw.map((u) => u.update_id)) + 1 : null };
  }
}

/** Telegram's limit for a message's text is 4096 characters. */
function clip(text: string): string {
  return text.length <= 4096 ? text : `${text.slice(0, 4080)}\n…`;
}
