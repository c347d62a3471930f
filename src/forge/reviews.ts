import { SWARM_REVIEW_MARK } from '../review/post.js';

/**
 * Pure: what the reviews on a pull request mean for the task, judged from the reviews themselves, not from
 * GitHub's `reviewDecision` (which is null on repositories whose branch protection does not require reviews,
 * and which keeps a CHANGES_REQUESTED after new pushes until the reviewer re-reviews or it is dismissed).
 */

export interface ReviewRecord {
  id: number;
  user: string | null;
  /** APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING. */
  state: string;
  /** The head the review was made on; null when GitHub did not say (then it is taken to be the current one). */
  commit_id: string | null;
  submitted_at: string | null;
  body: string | null;
}

export interface ReviewCommentRecord {
  user: string | null;
  path: string;
  /** null once the comment is outdated (its lines changed since). */
  line: number | null;
  body: string;
}

export interface ReviewFacts {
  reviews: readonly ReviewRecord[];
  comments: readonly ReviewCommentRecord[];
  head: string;
  /** The token's own user: its reviews are swarm's own, never evidence. */
  self: string | null;
  /** GitHub's decision where branch protection computes one. */
  decision: 'APPROVED' | 'CHANGES_REQUESTED' | 'REVIEW_REQUIRED' | null;
}

export type ReviewVerdict =
  | { decision: 'changes_requested'; comments: string[] }
  /** Changes were requested on an older head; the agent has pushed since: wait for the reviewer to look again. */
  | { decision: 'addressed'; reviewers: string[] }
  | { decision: 'approved' | 'review_required' | 'none' };

const STATEFUL = new Set(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED']);

export function reviewVerdict(facts: ReviewFacts): ReviewVerdict {
  // The latest review that carries a state, per reviewer (comments alone change nothing).
  const latest = new Map<string, ReviewRecord>();
  const ordered = [...facts.reviews].sort((a, b) => (a.submitted_at ?? '').localeCompare(b.submitted_at ?? '') || a.id - b.id);
  for (const review of ordered) {
    const user = review.user ?? `reviewer ${review.id}`;
    if ((facts.self && user === facts.self) || review.body?.includes(SWARM_REVIEW_MARK)) continue;
    if (STATEFUL.has(review.state)) latest.set(user, review);
  }
  const requested = [...latest.entries()].filter(([, r]) => r.state === 'CHANGES_REQUESTED');
  const fresh = requested.filter(([, r]) => r.commit_id === null || r.commit_id === facts.head);
  if (fresh.length > 0) {
    const comments = [
      ...fresh.filter(([, r]) => r.body).map(([user, r]) => `${user}: ${r.body ?? ''}`),
      ...facts.comments.filter((c) => c.line !== null && c.user !== facts.self && !c.body.includes(SWARM_REVIEW_MARK)).map((c) => `${c.path}:${String(c.line)} (${c.user ?? 'reviewer'}): ${c.body}`),
    ];
    return { decision: 'changes_requested', comments };
  }
  if (requested.length > 0) return { decision: 'addressed', reviewers: requested.map(([user]) => user) };
  if (facts.decision === 'REVIEW_REQUIRED') return { decision: 'review_required' };
  if (facts.decision === 'APPROVED' || [...latest.values()].some((r) => r.state === 'APPROVED')) return { decision: 'approved' };
  return { decision: 'none' };
}
