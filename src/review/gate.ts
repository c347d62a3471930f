/**
 * The review gate: a pure function from what each reviewer answered this round to the next step. A reviewer
 * whose answer cannot be used is asked again once; after that its review has failed, which is never an approval.
 */
import { where, type Finding, type ReviewAnswer, type Severity } from './findings.js';

export type ReviewTry = { state: 'running' } | { state: 'usable'; review: ReviewAnswer } | { state: 'unusable'; why: string };

export interface ReviewerFacts {
  name: string;
  /** This round's tries, oldest first. */
  tries: ReviewTry[];
}

export interface GatePolicy {
  required: 'all' | number;
  block_on: readonly Severity[];
}

export interface BlockingFinding extends Finding {
  reviewer: string;
}

export type GateDecision =
  | { kind: 'start'; reviewers: string[] }
  | { kind: 'ask_again'; reviewer: string; why: string }
  | { kind: 'waiting' }
  | { kind: 'approved'; approvals: number; of: number }
  | { kind: 'changes'; findings: BlockingFinding[]; summary: string }
  | { kind: 'failed'; why: string };

export function reviewGate(reviewers: readonly ReviewerFacts[], policy: GatePolicy): GateDecision {
  const unstarted = reviewers.filter((r) => r.tries.length === 0).map((r) => r.name);
  if (unstarted.length) return { kind: 'start', reviewers: unstarted };
  for (const r of reviewers) {
    const last = r.tries.at(-1)!;
    if (last.state === 'unusable' && r.tries.length === 1) return { kind: 'ask_again', reviewer: r.name, why: last.why };
  }
  if (reviewers.some((r) => r.tries.at(-1)!.state === 'running')) return { kind: 'waiting' };
  const usable = reviewers.flatMap((r) => {
    const last = r.tries.at(-1)!;
    return last.state === 'usable' ? [{ name: r.name, review: last.review }] : [];
  });
  const failed = reviewers.filter((r) => r.tries.at(-1)!.state === 'unusable');
  const blocking = usable.flatMap(({ name, review }) => review.findings.filter((f) => policy.block_on.includes(f.severity)).map((f) => ({ ...f, reviewer: name })));
  if (blocking.length) return { kind: 'changes', findings: blocking, summary: `${blocking.length} blocking review finding${blocking.length === 1 ? '' : 's'} (${[...new Set(blocking.map((f) => f.reviewer))].join(', ')}): ${blocking.slice(0, 3).map((f) => `${where(f)} ${f.title}`).join('; ')}.` };
  const approvals = usable.filter((u) => u.review.verdict === 'approve').length;
  const needed = policy.required === 'all' ? reviewers.length : Math.min(policy.required, reviewers.length);
  if (approvals >= needed) return { kind: 'approved', approvals, of: reviewers.length };
  if (failed.length) {
    return { kind: 'failed', why: `${approvals}/${reviewers.length} reviewers approve, ${needed} needed; the review of ${failed.map((r) => `${r.name} failed (${(r.tries.at(-1) as { why: string }).why})`).join(', ')}` };
  }
  // Changes asked without a blocking finding: the agent gets every finding of those reviewers.
  const asking = usable.filter((u) => u.review.verdict === 'request_changes');
  const findings = asking.flatMap(({ name, review }) => review.findings.map((f) => ({ ...f, reviewer: name })));
  const said = asking.map((u) => `${u.name}: ${u.review.summary || 'changes requested'}`).join('; ');
  return { kind: 'changes', findings, summary: `Reviewers requested changes (${said}).` };
}
