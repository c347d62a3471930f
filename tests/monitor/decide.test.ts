import { describe, expect, it } from 'vitest';
import { decide, hostVerdict, podLostVerdict, type Action, type Snapshot } from '../../monitor/decide.js';
import type { TaskState } from '../../registry/types.js';

const MIN = 60_000;
const NOW = 1_000 * MIN;

function snap(state: TaskState, over: Partial<Snapshot> = {}, retries = 0): Snapshot {
  return {
    now: NOW,
    task: { id: 7, state, retries, max_retries: 3 },
    limits: { stuck_ms: 10 * MIN, agent_timeout_ms: 60 * MIN, ci_timeout_ms: 30 * MIN, has_ci: true },
    agent: { kind: 'none' },
    ci: { kind: 'none' },
    conflicts: null,
    pr: null,
    ...over,
  };
}

const exited = (exit_code: number | null, signal: string | null = null) => ({ kind: 'exited' as const, exit_code, signal, log_tail: 'tail' });
const failure = { runner: 'node:test', failed: 1, tests: [{ name: 'adds', location: 'test/add.test.ts:6', message: ['AssertionError: 6 !== 5'] }], problems: [], log_tail: 'log' };

function shape(action: Action): string {
  switch (action.type) {
    case 'respawn':
      return `${action.type}:${action.evidence.reason}${action.delay_ms ? `+${action.delay_ms / 1000}s` : ''}`;
    case 'wait':
      return `wait:${action.delay_ms / 1000}s`;
    case 'needs_help':
      return `${action.type}:${action.evidence.reason}`;
    case 'kill_agent':
    case 'kill_ci':
    case 'mark_agent_exited':
      return `${action.type}>${shape(action.then)}`;
    default:
      return action.type;
  }
}

const fault = { class: 'fault' as const, cause: 'refuses to run as root', line: '--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons' };
const transient = { class: 'transient' as const, cause: 'rate limited (HTTP 429)', line: 'API Error: Request rejected (429) · Rate limited' };
const task = { class: 'task' as const, cause: 'exit code 1', line: 'TypeError: x is undefined' };
const withReview = (s: Snapshot): Snapshot => ({ ...s, limits: { ...s.limits, review: { required: 'all', block_on: ['critical', 'major'], reviewers: 1 } } });
/** In review: a round open on head `aaa`, and the branch still there unless `head` says otherwise. */
const inRound = (over: Partial<Snapshot>, retries = 0): Snapshot => withReview(snap('reviewing', { round: { id: 4, head: 'aaa' }, head: 'aaa', ...over }, retries));
const withTask = (s: Snapshot, over: Partial<Snapshot['task']>): Snapshot => ({ ...s, task: { ...s.task, ...over } });

const table: [string, Snapshot, string][] = [
  ['CI did not finish (cancelled twice): a human, no respawn', snap('ci_running', { ci: { kind: 'unfinished', why: 'check "test" was cancelled again after a re-run' } }), 'needs_help:infra'],
  ['agent fault (root): needs help at once, no retry spent', snap('running', { agent: { ...exited(1), failure: fault } }), 'mark_agent_exited>needs_help:agent_fault'],
  ['transient trouble, first time: wait 30 s, no retry', snap('running', { agent: { ...exited(1), failure: transient } }), 'mark_agent_exited>wait:30s'],
  ['transient trouble, third time: wait doubles twice', withTask(snap('running', { agent: { ...exited(1), failure: transient } }), { transient_waits: 2, waited_ms: 90_000 }), 'mark_agent_exited>wait:120s'],
  ['transient trouble past the give-up time: needs help', withTask(snap('running', { agent: { ...exited(1), failure: transient } }), { transient_waits: 9, waited_ms: 59 * MIN }), 'mark_agent_exited>needs_help:transient'],
  ['transient trouble does not look at retries', snap('running', { agent: { ...exited(1), failure: transient } }, 3), 'mark_agent_exited>wait:30s'],
  ['task failure: respawn after the crash backoff', snap('running', { agent: { ...exited(1), failure: task } }), 'mark_agent_exited>respawn:crash+5s'],
  ['task failure, second retry: the backoff doubles', snap('running', { agent: { ...exited(1), failure: task } }, 2), 'mark_agent_exited>respawn:crash+20s'],
  ['only reconnect lines for 6 minutes: killed, waited out', snap('running', { agent: { kind: 'reconnecting', started_at: NOW - 10 * MIN, for_ms: 6 * MIN, line: 'Reconnecting... 2/5' } }), 'kill_agent>wait:30s'],
  ['only reconnect lines for a minute: left alone', snap('running', { agent: { kind: 'reconnecting', started_at: NOW - 10 * MIN, for_ms: MIN, line: 'Reconnecting... 2/5' } }), 'none'],
  ['running agent, recent output', snap('running', { agent: { kind: 'running', started_at: NOW - 5 * MIN, last_output_at: NOW - MIN } }), 'none'],
  ['running agent, quiet past stuck limit', snap('running', { agent: { kind: 'running', started_at: NOW - 30 * MIN, last_output_at: NOW - 11 * MIN } }), 'kill_agent>respawn:stuck'],
  ['running agent, never printed, past stuck limit', snap('running', { agent: { kind: 'running', started_at: NOW - 10 * MIN, last_output_at: null } }), 'kill_agent>respawn:stuck'],
  ['running agent past its time limit', snap('running', { agent: { kind: 'running', started_at: NOW - 61 * MIN, last_output_at: NOW } }), 'kill_agent>respawn:timeout'],
  ['stuck on the last retry -> needs help', snap('running', { agent: { kind: 'running', started_at: NOW - 30 * MIN, last_output_at: NOW - 11 * MIN } }, 3), 'kill_agent>needs_help:stuck'],
  ['agent crashed', snap('running', { agent: exited(2) }), 'mark_agent_exited>respawn:crash+5s'],
  ['agent killed by a signal', snap('running', { agent: exited(null, 'SIGKILL') }), 'mark_agent_exited>respawn:crash+5s'],
  ['agent crashed on the last retry', snap('running', { agent: exited(1) }, 3), 'mark_agent_exited>needs_help:crash'],
  ['agent exited 0 without commits', snap('running', { agent: exited(0), work: { commits_ahead: 0, uncommitted: [] } }), 'mark_agent_exited>respawn:no_commits'],
  ['agent exited 0 with commits', snap('running', { agent: exited(0), work: { commits_ahead: 2, uncommitted: [] } }), 'mark_agent_exited>open_pr'],
  ['session vanished', snap('running', { agent: { kind: 'lost', log_tail: '' } }), 'respawn:session_lost'],
  ['agent_exited after a restart, commits', snap('agent_exited', { agent: exited(0), work: { commits_ahead: 1, uncommitted: [] } }), 'open_pr'],
  ['pr open with CI configured', snap('pr_open'), 'start_ci'],
  ['pr open, no CI, clean', snap('pr_open', { limits: { stuck_ms: MIN, agent_timeout_ms: MIN, ci_timeout_ms: MIN, has_ci: false }, conflicts: [] }), 'ready'],
  ['pr open, no CI, conflict', snap('pr_open', { limits: { stuck_ms: MIN, agent_timeout_ms: MIN, ci_timeout_ms: MIN, has_ci: false }, conflicts: ['a.ts'] }), 'respawn:conflict'],
  ['CI running', snap('ci_running', { ci: { kind: 'running', started_at: NOW - MIN } }), 'none'],
  ['CI past its time limit', snap('ci_running', { ci: { kind: 'running', started_at: NOW - 31 * MIN } }), 'kill_ci>respawn:ci_failed'],
  ['CI red', snap('ci_running', { ci: { kind: 'failed', exit_code: 1, failure } }), 'respawn:ci_failed'],
  ['CI red on the last retry', snap('ci_running', { ci: { kind: 'failed', exit_code: 1, failure } }, 3), 'needs_help:ci_failed'],
  ['CI green, synced', snap('ci_running', { ci: { kind: 'passed' }, conflicts: [] }), 'ready'],
  ['CI green, conflicts with base', snap('ci_running', { ci: { kind: 'passed' }, conflicts: ['src/add.ts'] }), 'respawn:conflict'],
  ['CI green, mergeability unknown', snap('ci_running', { ci: { kind: 'passed' }, conflicts: null }), 'none'],
  ['CI green, changes requested', snap('ci_running', { ci: { kind: 'passed' }, conflicts: [], review: { decision: 'changes_requested', comments: ['rename x'] } }), 'respawn:changes_requested'],
  ['CI green, review required', snap('ci_running', { ci: { kind: 'passed' }, conflicts: [], review: { decision: 'review_required', comments: [] } }), 'none'],
  ['CI session lost: run it again, no retry spent', snap('ci_running', { ci: { kind: 'lost' } }), 'start_ci'],
  ['forge unreachable is never red', snap('ci_running', { ci: { kind: 'unknown', why: 'HTTP 502' } }), 'none'],
  ['ready and still clean', snap('ready', { conflicts: [] }), 'none'],
  ['ready, base moved and now conflicts', snap('ready', { conflicts: ['src/add.ts'] }), 'respawn:conflict'],
  ['PR merged elsewhere', snap('ready', { pr: { state: 'merged' } }), 'done'],
  ['PR closed unmerged', snap('ci_running', { pr: { state: 'closed' } }), 'cancel'],
  ['queued tasks are the scheduler’s', snap('queued'), 'none'],
  ['needs_help waits for a human', snap('needs_help'), 'none'],
  // Screenshots for UI changes: after green and mergeable, before the review and ready.
  ['green, UI changed, no screenshots, a command configured: take them', snap('ci_running', { ci: { kind: 'passed' }, conflicts: [], screenshots: { ui: ['web/a.tsx'], files: [], can_take: true, dir: 'shots' } }), 'take_screenshots'],
  ['green, UI changed, no screenshots: back to the agent saying so', snap('ci_running', { ci: { kind: 'passed' }, conflicts: [], screenshots: { ui: ['web/a.tsx'], files: [], can_take: false, dir: 'shots' } }), 'respawn:screenshots_missing'],
  ['green, UI changed, the command ran and wrote none: back to the agent with its output', snap('ci_running', { ci: { kind: 'passed' }, conflicts: [], screenshots: { ui: ['web/a.tsx'], files: [], can_take: false, dir: 'shots', failed_output: 'Error: page crashed' } }), 'respawn:screenshots_missing'],
  ['green, UI changed, screenshots there: ready', snap('ci_running', { ci: { kind: 'passed' }, conflicts: [], screenshots: { ui: ['web/a.tsx'], files: ['shots/a.png'], can_take: false, dir: 'shots' } }), 'ready'],
  ['green, no UI change: ready without screenshots', snap('ci_running', { ci: { kind: 'passed' }, conflicts: [], screenshots: { ui: [], files: [], can_take: true, dir: 'shots' } }), 'ready'],
  // The AI review gate (reviewers configured): after green and mergeable, before ready.
  ['green and mergeable, reviewers configured: the review starts', withReview(snap('ci_running', { ci: { kind: 'passed' }, conflicts: [] })), 'start_review'],
  ['reviewing, nobody started: start the reviewers', inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [] }] }), 'start_reviewers'],
  ['reviewing, one still at it', inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'running' }] }] }), 'none'],
  ['reviewing, all approve: ready', inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'usable', review: { verdict: 'approve', summary: '', findings: [] } }] }] }), 'ready'],
  ['reviewing, a blocking finding: respawn with it', inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'usable', review: { verdict: 'request_changes', summary: '', findings: [{ severity: 'major', file: 'a.ts', line: 1, title: 't', body: '' }] } }] }] }), 'respawn:review_findings'],
  ['reviewing, a blocking finding, retries spent: a human', inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'usable', review: { verdict: 'request_changes', summary: '', findings: [{ severity: 'critical', file: 'a.ts', line: 1, title: 't', body: '' }] } }] }] }, 3), 'needs_help:review_findings'],
  ['reviewing, an unusable answer: asked again', inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'unusable', why: 'no JSON' }] }] }), 'ask_reviewer_again'],
  ['reviewing, unusable twice: the review failed, a human', inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'unusable', why: 'no JSON' }, { state: 'unusable', why: 'no JSON' }] }] }), 'needs_help:review_failed'],
  ['reviewing, base moved and now conflicts: back to the agent', inRound({ conflicts: ['src/a.ts'], reviews: [] }), 'respawn:conflict'],
  ['reviewing, the branch moved off the round\'s head: the round ends before any answer is read', inRound({ head: 'bbb', conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'usable', review: { verdict: 'approve', summary: '', findings: [] } }] }] }), 'branch_moved'],
  ['reviewing, the branch moved while a reviewer is still at it', inRound({ head: 'bbb', conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'running' }] }] }), 'branch_moved'],
  ['reviewing, the branch moved and base conflicts: the move is dealt with first', inRound({ head: 'bbb', conflicts: ['src/a.ts'] }), 'branch_moved'],
  ['reviewing with no open round (an older daemon): CI and a new round', withReview(snap('reviewing', { round: null, head: 'aaa', conflicts: [] })), 'reverify'],
  ['reviewing, the forge did not say the head: the round goes on', inRound({ head: null, conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'running' }] }] }), 'none'],
  ['reviewing, a reviewer timed out: no second wait by default, a human', inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'timed_out', why: 'stopped after 20 min' }] }] }), 'needs_help:review_failed'],
  ['reviewing, a reviewer timed out with timeout_retries 1: asked again', { ...inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'timed_out', why: 'stopped' }] }] }), limits: { ...inRound({}).limits, review: { required: 'all', block_on: ['major'], reviewers: 1, timeout_retries: 1 } } }, 'ask_reviewer_again'],
  ['reviewing, a reviewer changed its checkout: its review failed at once, a human', inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'tampered', why: 'wrote src/a.ts' }] }] }), 'needs_help:review_failed'],
  ["reviewing, a human's changes-requested wins over the bots", inRound({ conflicts: [], review: { decision: 'changes_requested', comments: ['no'] }, reviews: [{ name: 'logic', tries: [{ state: 'usable', review: { verdict: 'approve', summary: '', findings: [] } }] }] }), 'respawn:changes_requested'],
];

describe('decide', () => {
  it.each(table)('%s', (_name, snapshot, expected) => {
    expect(shape(decide(snapshot))).toBe(expected);
  });

  it('ready names the round that approved it; a moved head names both commits', () => {
    expect(decide(inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'usable', review: { verdict: 'approve', summary: '', findings: [] } }] }] }))).toMatchObject({ type: 'ready', round: 4, reviews: { approvals: 1, of: 1 } });
    expect(decide(inRound({ head: 'bbb', conflicts: [] }))).toEqual({ type: 'branch_moved', from: 'aaa', to: 'bbb' });
  });

  it('a failed review points at the reviewer\'s terminal, not at swarm show', () => {
    const action = decide(inRound({ conflicts: [], reviews: [{ name: 'logic', tries: [{ state: 'timed_out', why: 'stopped after review.timeout_minutes (20 min) without an answer' }] }] }));
    expect(action.type === 'needs_help' && action.evidence.summary).toContain('reviewer logic timed out (stopped after review.timeout_minutes (20 min)');
    expect(action.type === 'needs_help' && action.evidence.summary).toContain('`swarm logs 7 --review logic`');
  });

  it('puts the failing tests and assertions of a red CI into the evidence', () => {
    const action = decide(snap('ci_running', { ci: { kind: 'failed', exit_code: 1, failure, step: 'npm test' } }));
    expect(action).toMatchObject({ type: 'respawn', evidence: { reason: 'ci_failed', failing_tests: ['adds'], failed_count: 1, tests: [{ name: 'adds', location: 'test/add.test.ts:6', message: ['AssertionError: 6 !== 5'] }] } });
    expect(action.type === 'respawn' && action.evidence.summary).toBe('CI failed in step "npm test" (exit code 1): 1 failing test.');
  });

  it.each([
    ['the count the runner gave', { ...failure, failed: 12 }, ': 12 failing tests.'],
    ['a crash before any test ran', { ...failure, failed: 0, tests: [], problems: ['test/a.test.js could not run: Error: Cannot find module'] }, ': the tests crashed before any of them ran.'],
    ['compiler errors: the errors are the evidence', { ...failure, failed: 0, tests: [], problems: ['src/a.ts:4: error TS2322: …'] }, ' (exit code 1).'],
  ])('says what CI found: %s', (_name, found, ending) => {
    const action = decide(snap('ci_running', { ci: { kind: 'failed', exit_code: 1, failure: found } }));
    expect(action.type === 'respawn' && action.evidence.summary.endsWith(ending)).toBe(true);
  });

  it('a fault leads with the decisive line (the notification title shows it)', () => {
    const action = decide(snap('running', { agent: { ...exited(1), failure: fault } }));
    expect(action.type === 'mark_agent_exited' && action.then.type === 'needs_help' && action.then.evidence.summary).toMatch(/^--dangerously-skip-permissions cannot be used with root\/sudo privileges/);
  });

  it('names uncommitted files when an agent exits without committing', () => {
    const action = decide(snap('running', { agent: exited(0), work: { commits_ahead: 0, uncommitted: ['src/add.ts'] } }));
    expect(action.type === 'mark_agent_exited' && action.then.type === 'respawn' && action.then.evidence.summary).toContain('uncommitted changes in: src/add.ts');
  });
});

describe('a task whose host does not answer', () => {
  it.each([
    ['running, silent a minute of 30', 'running', 60_000, 30 * 60_000, 'wait'],
    ['running, silent past gone_minutes', 'running', 31 * 60_000, 30 * 60_000, 'place_again'],
    ['running, exactly at the limit', 'running', 30 * 60_000, 30 * 60_000, 'place_again'],
    ['agent exited there: its branch is there, wait for it', 'agent_exited', 60 * 60_000, 30 * 60_000, 'wait'],
    ['in CI there: wait', 'ci_running', 60 * 60_000, 30 * 60_000, 'wait'],
  ] as const)('%s', (_what, state, silent, gone, want) => expect(hostVerdict(state, silent, gone)).toBe(want));

  it.each([
    ['the first loss', ['pod_lost'], 'place_again'],
    ['a second in a row', ['crashed', 'pod_lost', 'pod_lost'], 'place_again'],
    ['a third in a row', ['pod_lost', 'pod_lost', 'pod_lost'], 'needs_help'],
    ['three, but not in a row', ['pod_lost', 'pod_lost', 'exited', 'pod_lost'], 'place_again'],
    ['no attempts recorded', [], 'place_again'],
  ] as const)('a pod lost: %s', (_what, outcomes, want) => expect(podLostVerdict(outcomes)).toBe(want));
});
