/**
 * The review gate: a pure function from what each reviewer answered this round (one head) to the next step. A
 * reviewer whose answer cannot be used is asked again once; after that its review has failed, which is never an
 * approval. A reviewer that timed out is not asked again unless `retry_timeouts` says so (a timeout is a
 * timeout: asking again doubles the wait); one that changed what it reviewed has failed at once.
 */
import { where, type Finding, type ReviewAnswer, type Severity } from './findings.js';

export type ReviewTry =
  | { state: 'running' }
  | { state: 'usable'; review: ReviewAnswer }
  | { state: 'unusable'; why: string }
  | { state: 'timed_out'; why: string }
  /** It changed its checkout, or moved the task's branch: its review fails, never asked again. */
  | { state: 'tampered'; why: string };

type Failed = Extract<ReviewTry, { why: string }>;

export interface ReviewerFacts {
  name: string;
  /** This round's tries, oldest first. */
  tries: ReviewTry[];
}

export interface GatePolicy {
  required: 'all' | number;
  block_on: readonly Severity[];
  /** How many times a reviewer that timed out is started again (review.timeout_retries, default 0). */
  timeout_retries?: number;
}

export interface BlockingFinding extends Finding {
  reviewer: string;
}

export type GateDecision =
  | { kind: 'start'; reviewers: string[] }
  | { kind: 'ask_again'; reviewer: string; why: string; timed_out?: boolean }
  | { kind: 'waiting' }
  | { kind: 'approved'; approvals: number; of: number }
  | { kind: 'changes'; findings: BlockingFinding[]; summary: string }
  /** `reviewers`: those whose review failed, first the one to look at. */
  | { kind: 'failed'; why: string; reviewers: string[] };

export function reviewGate(reviewers: readonly ReviewerFacts[], policy: GatePolicy): GateDecision {
  const unstarted = reviewers.filter((r) => r.tries.length === 0).map((r) => r.name);
  if (unstarted.length) return { kind: 'start', reviewers: unstarted };
  for (const r of reviewers) {
    const last = r.tries.at(-1)!;
    if (last.state === 'unusable' && r.tries.filter((t) => t.state === 'unusable').length === 1) return { kind: 'ask_again', reviewer: r.name, why: last.why };
    if (last.state === 'timed_out' && r.tries.filter((t) => t.state === 'timed_out').length <= (policy.timeout_retries ?? 0)) return { kind: 'ask_again', reviewer: r.name, why: last.why, timed_out: true };
  }
  if (reviewers.some((r) => r.tries.at(-1)!.state === 'running')) return { kind: 'waiting' };
  const usable = reviewers.flatMap((r) => {
    const last = r.tries.at(-1)!;
    return last.state === 'usable' ? [{ name: r.name, review: last.review }] : [];
  });
  const failed = reviewers.flatMap((r) => {
    const last = r.tries.at(-1)!;
    return last.state === 'unusable' || last.state === 'timed_out' || last.state === 'tampered' ? [{ name: r.name, last }] : [];
  });
  const blocking = usable.flatMap(({ name, review }) => review.findings.filter((f) => policy.block_on.includes(f.severity)).map((f) => ({ ...f, reviewer: name })));
  if (blocking.length) return { kind: 'changes', findings: blocking, summary: `${blocking.length} blocking review finding${blocking.length === 1 ? '' : 's'} (${[...new Set(blocking.map((f) => f.reviewer))].join(', ')}): ${blocking.slice(0, 3).map((f) => `${where(f)} ${f.title}`).join('; ')}.` };
  const approvals = usable.filter((u) => u.review.verdict === 'approve').length;
  const needed = policy.required === 'all' ? reviewers.length : Math.min(policy.required, reviewers.length);
  if (approvals >= needed) return { kind: 'approved', approvals, of: reviewers.length };
  if (failed.length) {
    return { kind: 'failed', why: `${approvals}/${reviewers.length} reviewers approve, ${needed} needed; ${failed.map(failedWhy).join(', ')}`, reviewers: failed.map((f) => f.name) };
  }
  // Changes asked without a blocking finding: the agent gets every finding of those reviewers.
  const asking = usable.filter((u) => u.review.verdict === 'request_changes');
  const findings = asking.flatMap(({ name, review }) => review.findings.map((f) => ({ ...f, reviewer: name })));
  const said = asking.map((u) => `${u.name}: ${u.review.summary || 'changes requested'}`).join('; ');
  return { kind: 'changes', findings, summary: `Reviewers requested changes (${said}).` };
}

function failedWhy({ name, last }: { name: string; last: Failed }): string {
  if (last.state === 'timed_out') return `reviewer ${name} timed out (${last.why})`;
  if (last.state === 'tampered') return `reviewer ${name} changed what it reviewed (${last.why})`;
  return `the review of ${name} failed (${last.why})`;
}
