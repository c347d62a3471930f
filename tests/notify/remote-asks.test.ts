import { describe, expect, it } from 'vitest';
import { choicesFor, helpText, parseAsk, parseCommand, planChoices } from '../../src/notify/remote/asks.js';
import { statusText } from '../../src/notify/remote/desk.js';
import type { TaskRow } from '../../registry/types.js';

const SHA = 'a'.repeat(40);

describe("a task message's choices (Telegram buttons, Slack buttons)", () => {
  it.each([
    ['ready with its verified head: merge that head, then show/retry/kill', 'ready', SHA, [[`Merge aaaaaaa`], ['Show', 'Retry', 'Kill']]],
    ['ready without a verified head: no merge', 'ready', null, [['Show']]],
    ['needs help: retry first', 'needs_help', null, [['Retry', 'Show', 'Kill']]],
    ['anything else: show', 'host_silent', SHA, [['Show']]],
  ] as [string, string, string | null, string[][]][])('%s', (_what, event, sha, want) => {
    const choices = choicesFor(event, 7, sha);
    expect(choices.map((row) => row.map((b) => b.label))).toEqual(want);
    // Telegram's callback_data is at most 64 bytes; every choice must come back as what it offered.
    for (const b of choices.flat()) expect(Buffer.byteLength(b.data)).toBeLessThanOrEqual(64);
    for (const b of choices.flat()) expect(parseAsk(b.data)).not.toBeNull();
  });
  it('a proposed plan: approve all of it, or discard it', () => {
    expect(planChoices(12, 3).flat().map((c) => [c.label, parseAsk(c.data)])).toEqual([
      ['Approve all 3', { kind: 'approve', task: 12 }],
      ['Discard', { kind: 'discard', task: 12 }],
    ]);
    expect(planChoices(12, 1)[0]![0]!.label).toBe('Approve it');
  });
});

describe('what a choice asks', () => {
  it.each([
    [`m:7:${SHA}`, { kind: 'merge', task: 7, sha: SHA }],
    ['r:12', { kind: 'retry', task: 12 }],
    ['k:3', { kind: 'kill', task: 3 }],
    ['s:3', { kind: 'show', task: 3 }],
    ['pa:4', { kind: 'approve', task: 4 }],
    ['pd:4', { kind: 'discard', task: 4 }],
    ['m:7', null],
    [`k:3:${SHA}`, null],
    [`pa:3:${SHA}`, null],
    ['m:7:nothex', null],
    ['x:1', null],
    ['k:-1', null],
    ['', null],
    [undefined, null],
  ] as [string | undefined, unknown][])('%s', (data, want) => expect(parseAsk(data)).toEqual(want));
});

describe('what a message asks', () => {
  it.each([
    ['/status', { kind: 'status' }],
    ['/status@swarm_bot', { kind: 'status' }],
    ['/spawn Fix the login test', { kind: 'spawn', prompt: 'Fix the login test' }],
    ['/spawn --agent codex Fix it', { kind: 'spawn', prompt: 'Fix it', agent: 'codex' }],
    ['/spawn --agent=codex Fix it\nand test it', { kind: 'spawn', prompt: 'Fix it\nand test it', agent: 'codex' }],
    ['/spawn', { kind: 'help', why: 'Say what to do: /spawn Fix the flaky login test' }],
    ['/plan Add refunds, then email receipts', { kind: 'plan', request: 'Add refunds, then email receipts' }],
    ['/plan', { kind: 'help', why: 'Say what you want done: /plan Add refunds to the billing page' }],
    ['/start', { kind: 'help' }],
    ['hello', null],
  ] as [string, unknown][])('%s', (text, want) => expect(parseCommand(text)).toEqual(want));

  it('says commands the way they are typed there (Slack has one slash command)', () => {
    expect(parseCommand('/spawn', '/swarm ')).toEqual({ kind: 'help', why: 'Say what to do: /swarm spawn Fix the flaky login test' });
    expect(helpText('/swarm ', 'reply in a task\'s thread')).toContain('/swarm plan what you want');
    expect(helpText('/swarm ', 'reply in a task\'s thread')).toContain('reply in a task\'s thread to retry it');
  });
});

describe('/status', () => {
  const task = (id: number, state: string, host: string | null = null) => ({ id, state, agent: 'claude', host, title: `Task number ${id}` }) as unknown as TaskRow;
  it('lists the open tasks, with where they run', () => {
    expect(statusText([task(1, 'running'), task(2, 'ready', 'box'), task(3, 'done')])).toBe('2 open (1 working):\n#1 running, claude: Task number 1\n#2 ready, claude on box: Task number 2');
  });
  it('says when there is none', () => expect(statusText([task(3, 'cancelled')])).toBe('No open tasks. /spawn queues one.'));
});
