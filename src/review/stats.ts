/**
 * Pure: what the reviews cost and what they were worth. Per reviewer: reviews, tokens, cost, reviews with a
 * blocking finding, and how many of those led to a change it then approved on a task that was merged.
 */
import { ReviewAnswer, type Severity } from './findings.js';

export interface ReviewRow {
  task_id: number;
  /** The task's state now (done = merged). */
  task_state: string;
  reviewer: string;
  /** The task attempt (round) it reviewed. */
  n: number;
  report: string | null;
}

export interface ReviewerLine {
  reviewer: string;
  reviews: number;
  tokens: number;
  cost_usd: number;
  blocking: number;
  /** Blocking reviews followed, on the same task, by this reviewer's approval of a later head, and a merge. */
  fixed_and_merged: number;
}

export interface ReviewStats {
  reviewers: ReviewerLine[];
  merged_prs_reviewed: number;
  review_cost_per_merged_pr: number | null;
  review_tokens_per_merged_pr: number | null;
}

interface Read {
  answer: ReviewAnswer | null;
  tokens: number;
  cost: number;
}

/** A review attempt's stored report: its answer (null when unusable), tokens and cost. */
export function readReviewReport(report: string | null): Read {
  if (!report) return { answer: null, tokens: 0, cost: 0 };
  let value: { usage?: { input_tokens?: number; output_tokens?: number; cost_usd?: number } };
  try {
    value = JSON.parse(report) as typeof value;
  } catch {
    return { answer: null, tokens: 0, cost: 0 };
  }
  const parsed = ReviewAnswer.safeParse(value);
  return { answer: parsed.success ? parsed.data : null, tokens: (value.usage?.input_tokens ?? 0) + (value.usage?.output_tokens ?? 0), cost: value.usage?.cost_usd ?? 0 };
}

export function reviewStats(rows: readonly ReviewRow[], blockOn: readonly Severity[]): ReviewStats {
  const byReviewer = new Map<string, ReviewerLine>();
  const read_ = rows.map((row) => ({ row, ...readReviewReport(row.report) }));
  for (const { row, answer, tokens, cost } of read_) {
    const line = byReviewer.get(row.reviewer) ?? { reviewer: row.reviewer, reviews: 0, tokens: 0, cost_usd: 0, blocking: 0, fixed_and_merged: 0 };
    line.reviews++;
    line.tokens += tokens;
    line.cost_usd += cost;
    if (answer?.findings.some((f) => blockOn.includes(f.severity))) {
      line.blocking++;
      const approvedLater = read_.some((o) => o.row.task_id === row.task_id && o.row.reviewer === row.reviewer && o.row.n > row.n && o.answer?.verdict === 'approve');
      if (approvedLater && row.task_state === 'done') line.fixed_and_merged++;
    }
    byReviewer.set(row.reviewer, line);
  }
  const merged = new Set(rows.filter((r) => r.task_state === 'done').map((r) => r.task_id));
  const mergedRows = read_.filter((r) => merged.has(r.row.task_id));
  const cost = mergedRows.reduce((s, r) => s + r.cost, 0);
  const tokens = mergedRows.reduce((s, r) => s + r.tokens, 0);
  return {
    reviewers: [...byReviewer.values()].sort((a, b) => a.reviewer.localeCompare(b.reviewer)),
    merged_prs_reviewed: merged.size,
    review_cost_per_merged_pr: merged.size ? cost / merged.size : null,
    review_tokens_per_merged_pr: merged.size ? tokens / merged.size : null,
  };
}
