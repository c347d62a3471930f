/** What the dashboard shows, computed from the registry. The decisions (column, badges, last line) are pure. */
import { stripVTControlCharacters } from 'node:util';
import { dependsOn, Evidence, type AttemptHead, type AttemptRow, type PrRow, type TaskRow, type TaskState } from '../../registry/types.js';
import { ReviewAnswer } from '../review/findings.js';
import type { Card, Column } from './schemas.js';

const COLUMN_OF: Record<TaskState, Column> = {
  proposed: 'queued',
  queued: 'queued',
  fanout: 'running',
  preparing: 'running',
  running: 'running',
  agent_exited: 'running',
  pr_open: 'ci',
  ci_running: 'ci',
  reviewing: 'review',
  ready: 'ready',
  needs_help: 'needs_help',
  blocked: 'needs_help',
  done: 'done',
  cancelled: 'done',
};

export function columnOf(state: TaskState): Column {
  return COLUMN_OF[state];
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function evidenceOf(text: string | null): Evidence | null {
  return Evidence.safeParse(parseJson(text)).data ?? null;
}

export function reviewOf(attempt: Pick<AttemptRow, 'report'>): ReviewAnswer | null {
  return ReviewAnswer.safeParse(parseJson(attempt.report)).data ?? null;
}

/** The CI badge: the current attempt's local CI run if there is one, else what the state says (a forge's CI). */
export function ciBadge(task: Pick<TaskRow, 'state' | 'attempt' | 'evidence'>, attempts: readonly Pick<AttemptRow, 'kind' | 'n' | 'ended_at' | 'outcome'>[]): Card['ci'] {
  const ci = attempts.filter((a) => a.kind === 'ci' && a.n === task.attempt).at(-1);
  if (ci) return ci.ended_at === null ? 'running' : ci.outcome === 'passed' ? 'passed' : 'failed';
  if (task.state === 'ci_running') return 'running';
  if (task.state === 'reviewing' || task.state === 'ready') return 'passed';
  return evidenceOf(task.evidence)?.reason === 'ci_failed' ? 'failed' : null;
}

/** The review badge for the latest round: approvals, blocking answers and reviewers still at it, out of the configured ones. */
export function reviewBadge(task: Pick<TaskRow, 'attempt'>, attempts: readonly (Pick<AttemptRow, 'kind' | 'n' | 'ended_at' | 'outcome' | 'agent'> & { round_id?: number | null })[], reviewers: number): Card['review'] {
  const ofAttempt = attempts.filter((a) => a.kind === 'review' && a.n === task.attempt);
  // A cancelled round (the head moved) is history: only the latest round's answers count.
  const latest = Math.max(-1, ...ofAttempt.map((a) => a.round_id ?? -1));
  const round = ofAttempt.filter((a) => (a.round_id ?? -1) === latest);
  if (reviewers === 0 && round.length === 0) return null;
  return {
    approvals: round.filter((a) => a.outcome === 'approve').length,
    blocking: round.filter((a) => a.outcome === 'request_changes').length,
    running: round.filter((a) => a.ended_at === null).length,
    of: Math.max(reviewers, new Set(round.map((a) => a.agent)).size),
  };
}

/** The last line a person would read on the terminal, from a chunk of raw output (codes stripped, bounded). */
export function lastLine(chunk: string): string | null {
  const lines = stripVTControlCharacters(chunk).split(/\r\n|\r|\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.replace(/[\u0000-\u001f\u007f]/g, '').trim();
    if (line) return line.length > 200 ? `${line.slice(0, 199)}…` : line;
  }
  return null;
}

/** The session a terminal shows for a task: its live agent first, else its CI, else a reviewer. */
export function liveSession(attempts: readonly Pick<AttemptRow, 'kind' | 'ended_at' | 'session_id' | 'agent'>[]): Card['session'] {
  const open = attempts.filter((a) => a.ended_at === null);
  const pick = open.find((a) => a.kind === 'agent') ?? open.find((a) => a.kind === 'ci') ?? open.find((a) => a.kind === 'review');
  return pick ? { id: pick.session_id, kind: pick.kind, name: pick.kind === 'agent' ? 'agent' : pick.kind === 'ci' ? 'CI' : pick.agent } : null;
}

export function cardOf(task: TaskRow, attempts: readonly AttemptHead[], pr: PrRow | null, line: string | null, reviewers: number): Card {
  const ended = task.state === 'ready' ? task.ready_at : task.state === 'done' || task.state === 'cancelled' ? (task.done_at ?? task.updated_at) : null;
  return {
    id: task.id,
    title: task.title,
    state: task.state,
    column: columnOf(task.state),
    agent: task.agent,
    model: task.model,
    kind: task.kind,
    host: task.host,
    attempt: task.attempt,
    retries: task.retries,
    max_retries: task.max_retries,
    reason: task.reason,
    created_at: task.created_at,
    started_at: task.started_at,
    ended_at: ended,
    ci: ciBadge(task, attempts),
    review: reviewBadge(task, attempts, reviewers),
    pr: pr ? { number: pr.number, url: pr.url, state: pr.state } : null,
    session: liveSession(attempts),
    last_line: line,
    depends_on: dependsOn(task),
  };
}
