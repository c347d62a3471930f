import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BotApi, TelegramError } from '../../src/notify/telegram/api.js';
import { startFakeTelegram, type FakeTelegram } from '../../scripts/fake-telegram.js';

describe('the Bot API client against the stand-in', () => {
  let tg: FakeTelegram;
  let dir: string;
  beforeEach(async () => {
    tg = await startFakeTelegram();
    dir = mkdtempSync(join(tmpdir(), 'swarm-tgapi-'));
  });
  afterEach(async () => {
    await tg.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a screenshot as a photo (multipart), as a reply to the task message', async () => {
    const api = new BotApi(tg.url, tg.token);
    const message = await api.sendMessage(1, 'Task 1 ready');
    const file = join(dir, 'desktop.png');
    writeFileSync(file, Buffer.alloc(2048, 7));
    await api.sendPhoto(1, file, 'Task 1: desktop.png', message.message_id);
    expect(tg.photos).toEqual([{ chat_id: 1, caption: 'Task 1: desktop.png', bytes: 2048 }]);
  });

  it('a 429 with a long retry_after is not waited out in the call: it is an error that says how long', async () => {
    const api = new BotApi(tg.url, tg.token);
    tg.failNext('sendMessage', 1, { code: 429, description: 'Too Many Requests: retry after 120', retry_after: 120 });
    const err = await api.sendMessage(1, 'hi').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TelegramError);
    expect((err as TelegramError).retryAfter).toBe(120);
    expect(tg.messages).toHaveLength(0);
  });

  it('editing to the same text again is not an error (a resend after a crash)', async () => {
    const api = new BotApi(tg.url, tg.token);
    const message = await api.sendMessage(1, 'Task 1 ready');
    await api.editMessageText(1, message.message_id, 'Task 1 merged');
    await expect(api.editMessageText(1, message.message_id, 'Task 1 merged')).resolves.toBeUndefined();
    await expect(api.editMessageText(1, 999, 'x')).rejects.toThrow('message to edit not found');
  });

  it('a server that is not there: an error naming its origin, never the token', async () => {
    await tg.down();
    const err = (await new BotApi(tg.url, tg.token).sendMessage(1, 'hi').catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/Telegram sendMessage did not answer \(ECONNREFUSED\) at http:\/\/127\.0\.0\.1:\d+/);
    expect(err.message).not.toContain(tg.token);
  });
});
