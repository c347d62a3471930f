/**
 * A loopback Telegram Bot API for the tests and the benchmark: `/bot<token>/<method>` with the real shapes of
 * what swarm uses (getUpdates long polling with offsets, sendMessage, editMessageText, sendPhoto as multipart,
 * answerCallbackQuery) and the real error shapes (`{ ok: false, error_code, description, parameters }`, 401 for
 * a wrong token, 400 "message is not modified", 429 with `retry_after`). The test plays the human by pushing
 * updates (a message, a button press) and reads what the bot sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentMessage {
  chat_id: number;
  message_id: number;
  text: string;
  buttons: { text: string; callback_data: string }[][];
  reply_to: number | null;
  edits: string[];
  /** When it arrived (ms since the epoch). */
  at: number;
}

export interface FakeTelegram {
  url: string;
  token: string;
  messages: SentMessage[];
  photos: { chat_id: number; caption: string; bytes: number }[];
  answers: { callback_query_id: string; text: string; show_alert: boolean }[];
  /** Every request, by method (the idle-cost benchmark counts them). */
  calls: Map<string, number>;
  /** The human writes in a chat (optionally as a reply to one of the bot's messages). */
  say(chat: number, text: string, options?: { replyTo?: number; username?: string }): void;
  /** The human presses a button of a message. */
  press(message: SentMessage, callbackData: string, options?: { username?: string; chat?: number }): string;
  /** The next `n` calls of `method` fail with this error. */
  failNext(method: string, n: number, error: { code: number; description: string; retry_after?: number }): void;
  /** Stops answering (connections refused) until `up`. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

interface Update {
  update_id: number;
  [key: string]: unknown;
}

export async function startFakeTelegram(token = '123456:TEST-token'): Promise<FakeTelegram> {
  const messages: SentMessage[] = [];
  const photos: FakeTelegram['photos'] = [];
  const answers: FakeTelegram['answers'] = [];
  const calls = new Map<string, number>();
  const updates: Update[] = [];
  const failures = new Map<string, { n: number; error: { code: number; description: string; retry_after?: number } }>();
  let nextUpdate = 1;
  let nextMessage = 100;
  let nextQuery = 1;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };

  const reply = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, code: number, description: string, retryAfter?: number): void =>
    reply(res, code, { ok: false, error_code: code, description, ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}) });
  const asMessage = (m: SentMessage) => ({ message_id: m.message_id, date: Math.floor(Date.now() / 1000), chat: { id: m.chat_id, type: 'private' }, text: m.text, ...(m.buttons.length ? { reply_markup: { inline_keyboard: m.buttons } } : {}) });

  const readBody = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': type }, body: raw }).formData();
      const out: Record<string, unknown> = {};
      for (const [key, value] of form as unknown as Iterable<[string, string | Blob]>) out[key] = typeof value === 'string' ? value : { bytes: (await value.arrayBuffer()).byteLength };
      return out;
    }
    return raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    if (!match) return fail(res, 404, 'Not Found');
    if (match[1] !== token) return fail(res, 401, 'Unauthorized');
    const method = match[2]!;
    calls.set(method, (calls.get(method) ?? 0) + 1);
    const body = await readBody(req);
    const failure = failures.get(method);
    if (failure && failure.n > 0) {
      failure.n--;
      return fail(res, failure.error.code, failure.error.description, failure.error.retry_after);
    }
    switch (method) {
      case 'getUpdates': {
        const offset = Number(body.offset ?? 0);
        // Confirmed updates are forgotten, as Telegram does.
        while (updates.length && updates[0]!.update_id < offset) updates.shift();
        const pending = (): Update[] => updates.filter((u) => u.update_id >= offset);
        if (!pending().length && Number(body.timeout ?? 0) > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, Number(body.timeout) * 1000);
            function done(): void {
              clearTimeout(timer);
              waiters.delete(done);
              resolve();
            }
            waiters.add(done);
            req.on('close', done);
          });
        }
        return reply(res, 200, { ok: true, result: pending() });
      }
      case 'sendMessage': {
        const markup = body.reply_markup as { inline_keyboard?: SentMessage['buttons'] } | undefined;
        const replyTo = (body.reply_parameters as { message_id?: number } | undefined)?.message_id ?? null;
        const message: SentMessage = { chat_id: Number(body.chat_id), message_id: nextMessage++, text: String(body.text ?? ''), buttons: markup?.inline_keyboard ?? [], reply_to: replyTo, edits: [], at: Date.now() };
        if (!message.text) return fail(res, 400, 'Bad Request: message text is empty');
        messages.push(message);
        return reply(res, 200, { ok: true, result: asMessage(message) });
      }
      case 'editMessageText': {
        const message = messages.find((m) => m.chat_id === Number(body.chat_id) && m.message_id === Number(body.message_id));
        if (!message) return fail(res, 400, 'Bad Request: message to edit not found');
        const buttons = (body.reply_markup as { inline_keyboard?: SentMessage['buttons'] } | undefined)?.inline_keyboard ?? [];
        if (message.text === body.text && JSON.stringify(message.buttons) === JSON.stringify(buttons)) {
          return fail(res, 400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
        }
        message.text = String(body.text);
        message.buttons = buttons;
        message.edits.push(message.text);
        return reply(res, 200, { ok: true, result: asMessage(message) });
      }
      case 'sendPhoto': {
        const photo = body.photo as { bytes?: number } | undefined;
        if (!photo?.bytes) return fail(res, 400, 'Bad Request: there is no photo in the request');
        photos.push({ chat_id: Number(body.chat_id), caption: String(body.caption ?? ''), bytes: photo.bytes });
        return reply(res, 200, { ok: true, result: { message_id: nextMessage++, date: 0, chat: { id: Number(body.chat_id), type: 'private' }, photo: [] } });
      }
      case 'answerCallbackQuery':
        answers.push({ callback_query_id: String(body.callback_query_id), text: String(body.text ?? ''), show_alert: Boolean(body.show_alert) });
        return reply(res, 200, { ok: true, result: true });
      default:
        return fail(res, 404, 'Not Found: method not found');
    }
  };

  const sockets = new Set<import('node:net').Socket>();
  let server: Server = createServer((req, res) => void handle(req, res).catch((err: unknown) => fail(res, 500, String(err))));
  const listen = async (port: number): Promise<number> => {
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    return (server.address() as AddressInfo).port;
  };
  const port = await listen(0);
  const stop = async (): Promise<void> => {
    wake();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    messages,
    photos,
    answers,
    calls,
    say(chat, text, options = {}) {
      updates.push({ update_id: nextUpdate++, message: { message_id: nextMessage++, date: Math.floor(Date.now() / 1000), chat: { id: chat, type: 'private' }, from: { id: chat, is_bot: false, first_name: 'Ana', ...(options.username ? { username: options.username } : {}) }, text, ...(options.replyTo ? { reply_to_message: { message_id: options.replyTo, chat: { id: chat, type: 'private' }, date: 0 } } : {}) } });
      wake();
    },
    press(message, callbackData, options = {}) {
      const id = String(nextQuery++);
      const chat = options.chat ?? message.chat_id;
      updates.push({ update_id: nextUpdate++, callback_query: { id, from: { id: chat, is_bot: false, first_name: 'Ana', ...(options.username ? { username: options.username } : {}) }, message: { ...asMessage(message), chat: { id: chat, type: 'private' } }, chat_instance: '1', data: callbackData } });
      wake();
      return id;
    },
    failNext(method, n, error) {
      failures.set(method, { n, error });
    },
    down: stop,
    async up() {
      server = createServer((req, res) => void handle(req, res).catch((err: unknown) => fail(res, 500, String(err))));
      await listen(port);
    },
    close: stop,
  };
}
