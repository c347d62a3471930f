import { describe, expect, it } from 'vitest';
import { buttonsFor, parseButton, parseCommand } from '../../src/notify/telegram/decide.js';
import { statusText } from '../../src/notify/telegram/bot.js';
import type { TaskRow } from '../../registry/types.js';

const SHA = 'a'.repeat(40);

describe("a Telegram message's buttons", () => {
  it.each([
    ['ready with its verified head: merge that head, then show/retry/kill', 'ready', SHA, [[`Merge aaaaaaa`], ['Show', 'Retry', 'Kill']]],
    ['ready without a verified head: no merge', 'ready', null, [['Show']]],
    ['needs help: retry first', 'needs_help', null, [['Retry', 'Show', 'Kill']]],
    ['anything else: show', 'host_silent', SHA, [['Show']]],
  ] as [string, string, string | null, string[][]][])('%s', (_what, event, sha, want) => {
    const buttons = buttonsFor(event, 7, sha);
    expect(buttons.map((row) => row.map((b) => b.text))).toEqual(want);
    for (const b of buttons.flat()) expect(Buffer.byteLength(b.callback_data)).toBeLessThanOrEqual(64);
    for (const b of buttons.flat()) expect(parseButton(b.callback_data)).not.toBeNull();
  });
});

describe('what a button asks', () => {
  it.each([
    [`m:7:${SHA}`, { kind: 'merge', task: 7, sha: SHA }],
    ['r:12', { kind: 'retry', task: 12 }],
    ['k:3', { kind: 'kill', task: 3 }],
    ['s:3', { kind: 'show', task: 3 }],
    ['m:7', null],
    [`k:3:${SHA}`, null],
    ['m:7:nothex', null],
    ['x:1', null],
    ['k:-1', null],
    ['', null],
    [undefined, null],
  ] as [string | undefined, unknown][])('%s', (data, want) => expect(parseButton(data)).toEqual(want));
});

describe('what a message asks', () => {
  it.each([
    ['/status', { kind: 'status' }],
    ['/status@swarm_bot', { kind: 'status' }],
    ['/spawn Fix the login test', { kind: 'spawn', prompt: 'Fix the login test' }],
    ['/spawn --agent codex Fix it', { kind: 'spawn', prompt: 'Fix it', agent: 'codex' }],
    ['/spawn --agent=codex Fix it\nand test it', { kind: 'spawn', prompt: 'Fix it\nand test it', agent: 'codex' }],
    ['/spawn', { kind: 'help', why: 'Say what to do: /spawn Fix the flaky login test' }],
    ['/start', { kind: 'help' }],
    ['hello', null],
  ] as [string, unknown][])('%s', (text, want) => expect(parseCommand(text)).toEqual(want));
});

describe('/status', () => {
  const task = (id: number, state: string, host: string | null = null) => ({ id, state, agent: 'claude', host, title: `Task number ${id}` }) as unknown as TaskRow;
  it('lists the open tasks, with where they run', () => {
    expect(statusText([task(1, 'running'), task(2, 'ready', 'box'), task(3, 'done')])).toBe('2 open (1 working):\n#1 running, claude: Task number 1\n#2 ready, claude on box: Task number 2');
  });
  it('says when there is none', () => expect(statusText([task(3, 'cancelled')])).toBe('No open tasks. /spawn queues one.'));
});
