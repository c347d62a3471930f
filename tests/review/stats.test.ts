import { describe, expect, it } from 'vitest';
import { reviewStats, type ReviewRow } from '../../src/review/stats.js';

const answer = (verdict: string, severities: string[], usage = { input_tokens: 100, output_tokens: 20, cost_usd: 0.01 }): string =>
  JSON.stringify({ verdict, summary: '', findings: severities.map((severity, i) => ({ severity, file: 'a.ts', line: i + 1, title: 't', body: '' })), usage });

describe('reviewStats', () => {
  it('blocking findings fixed and merged count only when the same reviewer approved a later head of a merged task', () => {
    const rows: ReviewRow[] = [
      { task_id: 1, task_state: 'done', reviewer: 'logic', n: 1, report: answer('request_changes', ['major']) },
      { task_id: 1, task_state: 'done', reviewer: 'logic', n: 2, report: answer('approve', []) },
      { task_id: 1, task_state: 'done', reviewer: 'security', n: 1, report: answer('approve', ['nit']) },
      { task_id: 1, task_state: 'done', reviewer: 'security', n: 2, report: answer('approve', []) },
      // Blocked, then abandoned: not fixed-and-merged.
      { task_id: 2, task_state: 'cancelled', reviewer: 'logic', n: 1, report: answer('request_changes', ['critical']) },
      // Blocked on a merged task but never approved again by that reviewer.
      { task_id: 3, task_state: 'done', reviewer: 'security', n: 1, report: answer('request_changes', ['major']) },
      // A failed review: counted, costs what it said, no answer.
      { task_id: 3, task_state: 'done', reviewer: 'logic', n: 1, report: JSON.stringify({ usage: { input_tokens: 50, output_tokens: 0 } }) },
    ];
    const stats = reviewStats(rows, ['critical', 'major']);
    expect(stats.reviewers).toEqual([
      { reviewer: 'logic', reviews: 4, tokens: 410, cost_usd: 0.03, blocking: 2, fixed_and_merged: 1 },
      { reviewer: 'security', reviews: 3, tokens: 360, cost_usd: 0.03, blocking: 1, fixed_and_merged: 0 },
    ].map((l) => ({ ...l, cost_usd: expect.closeTo(l.cost_usd, 9) })));
    expect(stats.merged_prs_reviewed).toBe(2);
    expect(stats.review_cost_per_merged_pr).toBeCloseTo(0.05 / 2, 9);
    expect(stats.review_tokens_per_merged_pr).toBe((120 * 5 + 50) / 2);
  });

  it('no merged PR: no per-PR figures', () => {
    expect(reviewStats([], ['major'])).toEqual({ reviewers: [], merged_prs_reviewed: 0, review_cost_per_merged_pr: null, review_tokens_per_merged_pr: null });
  });
});
