/**
 * The monitor's brain: a pure function from observed facts to the next action. No I/O, no clock, no LLM.
 * Every branch here has a row in tests/monitor/decide.test.ts.
 */
import type { Evidence, TaskState } from '../registry/types.js';
import { backoffMs, type ExitFailure } from './classify.js';
import type { FailureEvidence } from './evidence.js';
import { reviewGate, type GatePolicy, type ReviewerFacts } from '../src/review/gate.js';
import type { ScreenshotFacts } from '../src/review/screenshots.js';

export type SessionFacts =
  | { kind: 'none' }
  | { kind: 'starting'; started_at: number }
  | { kind: 'running'; started_at: number; last_output_at: number | null }
  | { kind: 'exited'; exit_code: number | null; signal: string | null; error?: string; log_tail: string; duration_ms?: number; failure?: ExitFailure }
  | { kind: 'lost'; log_tail: string }
  /** Alive, but for `for_ms` it has printed only reconnect/retry lines: no model reply. */
  | { kind: 'reconnecting'; started_at: number; for_ms: number; line: string };

export type CiFacts =
  | { kind: 'none' }
  | { kind: 'pending' }
  | { kind: 'running'; started_at: number }
  /** `head`: the commit CI ran on, when known. */
  | { kind: 'passed'; head?: string | null }
  | { kind: 'failed'; exit_code: number | null; failure: FailureEvidence; step?: string }
  | { kind: 'lost' }
  /** The forge could not be asked (API error, rate limit): wait, never read it as red. */
  | { kind: 'unknown'; why: string }
  /** CI did not finish (a check cancelled, stale, failed to start) even after one re-run: nothing the agent did. */
  | { kind: 'unfinished'; why: string };

export interface Snapshot {
  now: number;
  task: { id: number; state: TaskState; retries: number; max_retries: number; transient_waits?: number; waited_ms?: number };
  limits: { stuck_ms: number; agent_timeout_ms: number; ci_timeout_ms: number; has_ci: boolean; backoff?: BackoffLimits; review?: GatePolicy & { reviewers: number } };
  /** The open review round (state `reviewing`): the one head it reviews. null: none is open. */
  round?: { id: number; head: string } | null;
  /** The AI reviewers' tries in that round (absent when the head moved: those answers are about another commit). */
  reviews?: ReviewerFacts[];
  /** With UI paths configured, once CI is green: which UI files changed, which screenshots exist. */
  screenshots?: ScreenshotFacts & { dir: string; failed_output?: string };
  agent: SessionFacts;
  /** Known once the agent has exited. */
  work?: { commits_ahead: number; uncommitted: string[] };
  ci: CiFacts;
  /** null: not checked, or the forge is still computing it. */
  conflicts: string[] | null;
  pr: { state: 'open' | 'merged' | 'closed' } | null;
  review?: { decision: 'approved' | 'changes_requested' | 'review_required' | 'addressed' | 'none'; comments: string[]; reviewers?: string[] };
  /** The branch tip now, and the commit that was verified when the task became ready. */
  head?: string | null;
  verified_sha?: string | null;
}

export interface BackoffLimits {
  crash_ms: number;
  transient_ms: number;
  max_ms: number;
  transient_give_up_ms: number;
  reconnect_ms: number;
}

export const DEFAULT_BACKOFF: BackoffLimits = { crash_ms: 5_000, transient_ms: 30_000, max_ms: 600_000, transient_give_up_ms: 3_600_000, reconnect_ms: 300_000 };

export type Action =
  | { type: 'none'; why?: string }
  | { type: 'open_pr' }
  | { type: 'start_ci' }
  | { type: 'kill_agent'; then: Action }
  | { type: 'kill_ci'; then: Action }
  | { type: 'respawn'; evidence: Evidence; delay_ms?: number }
  /** Transient trouble: queue the task again after `delay_ms`, counting no retry. */
  | { type: 'wait'; evidence: Evidence; delay_ms: number }
  | { type: 'needs_help'; evidence: Evidence }
  /** `reviews`: the AI reviewers' verdicts, for the notification. */
  | { type: 'ready'; reviews?: { approvals: number; of: number }; screenshots?: string[]; round?: number }
  /** UI files changed and a screenshot command is configured: take them in the checkout. */
  | { type: 'take_screenshots' }
  /** CI green and mergeable: the AI reviewers take over. */
  | { type: 'start_review' }
  | { type: 'start_reviewers'; reviewers: string[] }
  /** A reviewer's answer could not be used (asked once more, saying why), or it timed out and a retry is configured. */
  | { type: 'ask_reviewer_again'; reviewer: string; why: string; timed_out?: boolean }
  /** The branch moved away from the head under review: the round ends (or a reviewer that moved it fails). */
  | { type: 'branch_moved'; from: string; to: string }
  /** Changes requested earlier were answered by a new head: wait for the reviewer (said in `swarm show`). */
  | { type: 'await_review'; why: string }
  /** The branch moved after it was verified: back to CI (no retry: the agent did nothing wrong). */
  | { type: 'reverify'; why: string }
  | { type: 'done' }
  | { type: 'cancel'; why: string }
  | { type: 'mark_agent_exited'; then: Action };

/** A failed attempt becomes a respawn while retries remain (after `delay_ms`, if given), else needs_help. */
export function failAttempt(snapshot: Snapshot, evidence: Evidence, delay_ms = 0): Action {
  if (snapshot.task.retries < snapshot.task.max_retries) return delay_ms > 0 ? { type: 'respawn', evidence, delay_ms } : { type: 'respawn', evidence };
  return { type: 'needs_help', evidence };
}

/** Transient trouble: wait with capped exponential backoff, no retry counted; past the give-up time, a human. */
function waitOut(s: Snapshot, evidence: Evidence): Action {
  const limits = s.limits.backoff ?? DEFAULT_BACKOFF;
  const waits = s.task.transient_waits ?? 0;
  const waited = s.task.waited_ms ?? 0;
  const delay = backoffMs(waits, limits.transient_ms, limits.max_ms);
  if (waited + delay > limits.transient_give_up_ms) {
    return { type: 'needs_help', evidence: { ...evidence, summary: `${evidence.summary} Still failing after ${minutes(waited)} of waiting (${waits} tries).` } };
  }
  return { type: 'wait', evidence, delay_ms: delay };
}

function minutes(ms: number): string {
  const m = ms / 60_000;
  return m >= 1 ? `${Math.round(m * 10) / 10} minutes` : `${Math.round(ms / 1000)} seconds`;
}

function afterAgentExit(s: Snapshot, agent: Extract<SessionFacts, { kind: 'exited' }>): Action {
  if (agent.exit_code !== 0) {
    const how = agent.signal ? `was killed by ${agent.signal}` : `exited with code ${String(agent.exit_code)}`;
    const failure = agent.failure;
    const line = failure?.line ? failure.line.slice(0, 300) : '';
    const base: Evidence = { reason: 'crash', summary: '', exit_code: agent.exit_code, log_tail: agent.log_tail, ...(line ? { decisive_line: line } : {}), ...(agent.duration_ms !== undefined ? { duration_ms: agent.duration_ms } : {}) };
    if (failure?.class === 'fault') {
      // The decisive line leads: it is what the notification's title shows.
      return { type: 'needs_help', evidence: { ...base, reason: 'agent_fault', summary: `${line || `The agent ${how}`} (the agent cannot work here: ${failure.cause}; fix that, then \`swarm retry ${s.task.id}\`)` } };
    }
    if (failure?.class === 'transient') {
      return waitOut(s, { ...base, reason: 'transient', summary: `Transient trouble (${failure.cause}): ${line || how}.` });
    }
    const limits = s.limits.backoff ?? DEFAULT_BACKOFF;
    return failAttempt(s, { ...base, summary: `The agent ${how}${agent.error ? ` (${agent.error})` : ''} before finishing${line ? `: ${line}` : '.'}` }, backoffMs(s.task.retries, limits.crash_ms, limits.max_ms));
  }
  if (!s.work) return { type: 'none', why: 'waiting for git facts' };
  if (s.work.commits_ahead === 0) {
    const dirty = s.work.uncommitted.length > 0 ? ` It left uncommitted changes in: ${s.work.uncommitted.slice(0, 20).join(', ')}. Commit your work.` : '';
    return failAttempt(s, { reason: 'no_commits', summary: `The agent exited (code 0) without committing anything on the task branch.${dirty}`, exit_code: 0, files: s.work.uncommitted.slice(0, 20) });
  }
  return { type: 'open_pr' };
}

function afterGreen(s: Snapshot): Action {
  if (s.conflicts === null) return { type: 'none', why: 'mergeability not known yet' };
  if (s.conflicts.length > 0) {
    return failAttempt(s, { reason: 'conflict', summary: `The branch conflicts with base. Merge or rebase onto base and resolve: ${s.conflicts.join(', ')}.`, files: s.conflicts });
  }
  if (s.review?.decision === 'changes_requested') {
    return failAttempt(s, { reason: 'changes_requested', summary: 'A reviewer requested changes.', assertions: s.review.comments });
  }
  if (s.review?.decision === 'review_required') return { type: 'none', why: 'waiting for a review' };
  if (s.review?.decision === 'addressed') {
    return { type: 'await_review', why: `changes requested by ${(s.review.reviewers ?? []).join(', ') || 'a reviewer'} on an earlier commit were answered; waiting for a re-review` };
  }
  const shots = s.screenshots;
  if (shots && shots.ui.length > 0 && shots.files.length === 0) {
    if (shots.can_take) return { type: 'take_screenshots' };
    const ui = shots.ui.slice(0, 5).join(', ');
    const how = shots.failed_output !== undefined ? `The screenshot command wrote none to ${shots.dir}/: ${shots.failed_output.trim().split('\n').slice(-5).join(' | ') || 'no output'}` : `Take screenshots of the changed UI (e.g. with Playwright) and commit them under ${shots.dir}/.`;
    return failAttempt(s, { reason: 'screenshots_missing', summary: `The change touches UI files (${ui}) but comes with no screenshots. ${how}`, files: shots.ui.slice(0, 20) });
  }
  if ((s.limits.review?.reviewers ?? 0) > 0 && s.task.state !== 'reviewing') return { type: 'start_review' };
  return { type: 'ready', ...(shots?.ui.length ? { screenshots: shots.files } : {}) };
}

/**
 * The AI reviewers' gate, on one head: once CI is green on it and the branch merges cleanly (a human's
 * changes-requested still wins). A round whose head is no longer the branch's ends before anything is read.
 */
function afterReview(s: Snapshot): Action {
  if (!s.round) return { type: 'reverify', why: 'no review round is open for this task (a daemon from before review rounds); CI and the reviewers run again' };
  if (s.head && s.head !== s.round.head) return { type: 'branch_moved', from: s.round.head, to: s.head };
  if ((s.conflicts && s.conflicts.length > 0) || s.review?.decision === 'changes_requested') return afterGreen(s);
  const policy = s.limits.review ?? { required: 'all', block_on: ['critical', 'major'], reviewers: 0 };
  const gate = reviewGate(s.reviews ?? [], policy);
  switch (gate.kind) {
    case 'start':
      return { type: 'start_reviewers', reviewers: gate.reviewers };
    case 'ask_again':
      return { type: 'ask_reviewer_again', reviewer: gate.reviewer, why: gate.why, ...(gate.timed_out ? { timed_out: true } : {}) };
    case 'waiting':
      return { type: 'none', why: 'reviewers at work' };
    case 'approved':
      return { type: 'ready', round: s.round.id, reviews: { approvals: gate.approvals, of: gate.of }, ...(s.screenshots?.ui.length ? { screenshots: s.screenshots.files } : {}) };
    case 'changes':
      return failAttempt(s, { reason: 'review_findings', summary: gate.summary, findings: gate.findings.map((f) => ({ reviewer: f.reviewer, severity: f.severity, file: f.file, line: f.line ?? null, title: f.title, body: f.body })) });
    case 'failed':
      return { type: 'needs_help', evidence: { reason: 'review_failed', summary: `The AI review could not be completed: ${gate.why}. Nothing was wrong with the agent's work as far as anyone could tell; fix the reviewer (\`swarm logs ${s.task.id} --review ${gate.reviewers[0] ?? '<name>'}\` shows its terminal), then \`swarm retry ${s.task.id}\`.` } };
  }
}

/**
 * A task whose host does not answer: wait (transient trouble, no retry spent) until it has been silent for the
 * host's \`gone_minutes\`; then place it again on this machine. Only a task whose agent runs or waits to start
 * is moved: later states live on the forge and this machine already. Pure.
 */
export function hostVerdict(state: TaskState, silentMs: number, goneMs: number): 'wait' | 'place_again' {
  return state === 'running' && silentMs >= goneMs ? 'place_again' : 'wait';
}

/** Pods lost in a row (evicted, ended, deleted) after which it is the task, not the cluster: it needs you. */
export const POD_LOSSES_IN_A_ROW = 3;

/**
 * A task whose pod is gone: placed again on its cluster (no retry spent), unless its agent attempts' last
 * outcomes (oldest first, this loss included) are that many pod losses in a row: a pod killed for its memory
 * every time would otherwise be placed again for ever. Pure.
 */
export function podLostVerdict(outcomes: readonly (string | null)[]): 'place_again' | 'needs_help' {
  let run = 0;
  for (let i = outcomes.length - 1; i >= 0 && outcomes[i] === 'pod_lost'; i--) run++;
  return run >= POD_LOSSES_IN_A_ROW ? 'needs_help' : 'place_again';
}

export function decide(s: Snapshot): Action {
  if (s.pr?.state === 'merged' && s.task.state !== 'done') return { type: 'done' };
  if (s.pr?.state === 'closed' && s.task.state !== 'cancelled') return { type: 'cancel', why: 'the pull request was closed without merging' };

  switch (s.task.state) {
    case 'running': {
      const agent = s.agent;
      if (agent.kind === 'exited') return { type: 'mark_agent_exited', then: afterAgentExit(s, agent) };
      if (agent.kind === 'lost' || agent.kind === 'none') {
        return failAttempt(s, { reason: 'session_lost', summary: 'The agent session vanished without an exit code (its holder process died, e.g. the machine rebooted).', log_tail: agent.kind === 'lost' ? agent.log_tail : undefined });
      }
      if (agent.kind === 'reconnecting' && agent.for_ms >= (s.limits.backoff ?? DEFAULT_BACKOFF).reconnect_ms) {
        return { type: 'kill_agent', then: waitOut(s, { reason: 'transient', summary: `The agent printed only reconnect messages for ${minutes(agent.for_ms)}, with no reply from its model: ${agent.line}`, decisive_line: agent.line }) };
      }
      if (agent.kind === 'running' || agent.kind === 'reconnecting') {
        const quietFor = agent.kind === 'running' ? s.now - (agent.last_output_at ?? agent.started_at) : 0;
        if (quietFor >= s.limits.stuck_ms) {
          return { type: 'kill_agent', then: failAttempt(s, { reason: 'stuck', summary: `The agent printed nothing for ${minutes(quietFor)} and was killed for it. Avoid commands that wait for input or never end; run long commands with a timeout.` }) };
        }
        if (s.now - agent.started_at >= s.limits.agent_timeout_ms) {
          return { type: 'kill_agent', then: failAttempt(s, { reason: 'timeout', summary: `The agent ran for ${minutes(s.now - agent.started_at)}, past its time limit, and was killed. Narrow the change and finish sooner.` }) };
        }
      }
      return { type: 'none' };
    }
    case 'agent_exited':
      return s.agent.kind === 'exited' ? afterAgentExit(s, s.agent) : { type: 'none', why: 'agent exit not readable' };
    case 'pr_open':
      if (!s.limits.has_ci) return afterGreen(s);
      return s.ci.kind === 'unknown' ? { type: 'none', why: s.ci.why } : { type: 'start_ci' };
    case 'ci_running': {
      const ci = s.ci;
      switch (ci.kind) {
        case 'none':
        case 'lost':
          return { type: 'start_ci' };
        case 'pending':
          return { type: 'none', why: 'CI pending' };
        case 'unknown':
          return { type: 'none', why: ci.why };
        case 'unfinished':
          return { type: 'needs_help', evidence: { reason: 'infra', summary: `CI did not finish: ${ci.why}. That is not the agent's doing, so no agent was respawned: re-run the check, then \`swarm retry ${s.task.id}\`.` } };
        case 'running':
          if (s.now - ci.started_at >= s.limits.ci_timeout_ms) {
            return { type: 'kill_ci', then: failAttempt(s, { reason: 'ci_failed', summary: `CI ran for ${minutes(s.now - ci.started_at)}, past its time limit, and was killed. A test probably hangs.` }) };
          }
          return { type: 'none' };
        case 'failed': {
          const { failed, tests, problems, log_tail } = ci.failure;
          return failAttempt(s, {
            reason: 'ci_failed',
            summary: `CI failed${ci.step ? ` in step "${ci.step}"` : ''}${ci.exit_code !== null ? ` (exit code ${ci.exit_code})` : ''}${ciWhat(ci.failure)}.`,
            exit_code: ci.exit_code,
            ...(tests.length ? { failing_tests: tests.map((t) => t.name), tests, failed_count: failed } : {}),
            ...(problems.length ? { assertions: problems } : {}),
            log_tail,
          });
        }
        case 'passed':
          // A commit landed after CI started (an agent that outlived its attempt): what passed is not the tip.
          if (ci.head && s.head && ci.head !== s.head) return { type: 'start_ci' };
          return afterGreen(s);
      }
      return { type: 'none' };
    }
    case 'reviewing':
      return afterReview(s);
    case 'ready':
      if (s.head && s.verified_sha && s.head !== s.verified_sha) return { type: 'reverify', why: `the branch moved from the verified ${s.verified_sha.slice(0, 10)} to ${s.head.slice(0, 10)}` };
      // Base may have moved on: a ready PR that now conflicts goes back to an agent.
      if (s.conflicts && s.conflicts.length > 0) return afterGreen(s);
      if (s.review?.decision === 'changes_requested') return afterGreen(s);
      return { type: 'none' };
    default:
      return { type: 'none' };
  }
}

/** ": 1 failing test", ": 2 errors" or ": the tests could not run", from what the log said. */
export function ciWhat(failure: FailureEvidence): string {
  if (failure.failed > 0) return `: ${failure.failed} failing test${failure.failed === 1 ? '' : 's'}`;
  if (failure.problems.some((p) => /could not (run|be collected)/.test(p))) return ': the tests crashed before any of them ran';
  return '';
}
