import { describe, expect, it } from 'vitest';
import { TASK_STATES, type AttemptHead, type TaskState } from '../../registry/types.js';
import { ciBadge, columnOf, lastLine, liveSession, reviewBadge } from '../../src/api/views.js';
import { COLUMNS } from '../../src/api/schemas.js';

type A = Pick<AttemptHead, 'kind' | 'n' | 'ended_at' | 'outcome' | 'agent' | 'session_id'>;
const attempt = (over: Partial<A>): A => ({ kind: 'agent', n: 1, ended_at: 1, outcome: 'exited', agent: 'claude', session_id: 's', ...over });

describe('columns', () => {
  it.each([
    ['proposed', 'queued'],
    ['queued', 'queued'],
    ['preparing', 'running'],
    ['running', 'running'],
    ['agent_exited', 'running'],
    ['pr_open', 'ci'],
    ['ci_running', 'ci'],
    ['reviewing', 'review'],
    ['ready', 'ready'],
    ['needs_help', 'needs_help'],
    ['blocked', 'needs_help'],
    ['done', 'done'],
    ['cancelled', 'done'],
  ] as const)('%s -> %s', (state, column) => {
    expect(columnOf(state)).toBe(column);
  });
  it('every state has a column on the board', () => {
    for (const state of TASK_STATES) expect(COLUMNS).toContain(columnOf(state as TaskState));
  });
});

describe('CI badge', () => {
  const task = (state: TaskState, evidence: string | null = null) => ({ state, attempt: 2, evidence });
  it.each([
    ['local CI of this attempt running', task('ci_running'), [attempt({ kind: 'ci', n: 2, ended_at: null, outcome: null })], 'running'],
    ['local CI passed', task('ready'), [attempt({ kind: 'ci', n: 2, outcome: 'passed' })], 'passed'],
    ['local CI failed', task('queued'), [attempt({ kind: 'ci', n: 2, outcome: 'failed' })], 'failed'],
    ["an earlier attempt's CI does not count", task('running'), [attempt({ kind: 'ci', n: 1, outcome: 'passed' })], null],
    ["forge CI running (GitHub: no local run)", task('ci_running'), [], 'running'],
    ['forge CI green: reviewing', task('reviewing'), [], 'passed'],
    ['respawned after red CI', task('queued', JSON.stringify({ reason: 'ci_failed', summary: '1 test failed' })), [], 'failed'],
    ['nothing yet', task('running'), [], null],
  ] as const)('%s', (_name, t, attempts, badge) => {
    expect(ciBadge(t, attempts)).toBe(badge);
  });
});

describe('review badge', () => {
  it('counts this round only, out of the configured reviewers', () => {
    const attempts = [
      attempt({ kind: 'review', n: 1, agent: 'logic', outcome: 'request_changes' }),
      attempt({ kind: 'review', n: 2, agent: 'logic', outcome: 'approve' }),
      attempt({ kind: 'review', n: 2, agent: 'security', ended_at: null, outcome: null }),
    ];
    expect(reviewBadge({ attempt: 2 }, attempts, 2)).toEqual({ approvals: 1, blocking: 0, running: 1, of: 2 });
    expect(reviewBadge({ attempt: 1 }, attempts, 2)).toEqual({ approvals: 0, blocking: 1, running: 0, of: 2 });
    expect(reviewBadge({ attempt: 1 }, [], 0)).toBeNull();
    // The head moved: a cancelled round's approval does not count next to the new round's.
    const rounds = [
      { kind: 'review' as const, n: 1, ended_at: 5, outcome: 'approve', agent: 'logic', round_id: 1 },
      { kind: 'review' as const, n: 1, ended_at: 6, outcome: 'stopped', agent: 'security', round_id: 1 },
      { kind: 'review' as const, n: 1, ended_at: null, outcome: null, agent: 'logic', round_id: 2 },
    ];
    expect(reviewBadge({ attempt: 1 }, rounds, 2)).toEqual({ approvals: 0, blocking: 0, running: 1, of: 2 });
  });
});

describe('last line', () => {
  it.each([
    ['plain\nlast\n', 'last'],
    ['\x1b[32mgreen\x1b[0m\r\n\r\n', 'green'],
    ['progress 1\rprogress 2\rprogress 3', 'progress 3'],
    ['\x1b[2K\x1b[1Gspinner ⠋ thinking', 'spinner ⠋ thinking'],
    ['\n\n   \n', null],
    ['\x1b[?25l', null],
    [`${'x'.repeat(500)}\n`, `${'x'.repeat(199)}…`],
  ] as const)('%j -> %j', (chunk, line) => {
    expect(lastLine(chunk)).toBe(line);
  });
});

describe('live session', () => {
  it('prefers the agent, then CI, then a reviewer; none when all ended', () => {
    expect(liveSession([attempt({ kind: 'ci', ended_at: null, session_id: 'c' }), attempt({ kind: 'agent', ended_at: null, session_id: 'a' })])).toEqual({ id: 'a', kind: 'agent', name: 'agent' });
    expect(liveSession([attempt({ kind: 'review', ended_at: null, session_id: 'r', agent: 'logic' }), attempt({ kind: 'ci', ended_at: null, session_id: 'c' })])?.id).toBe('c');
    expect(liveSession([attempt({ kind: 'review', ended_at: null, session_id: 'r', agent: 'logic' })])).toEqual({ id: 'r', kind: 'review', name: 'logic' });
    expect(liveSession([attempt({})])).toBeNull();
  });
});
