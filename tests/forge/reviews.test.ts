import { describe, expect, it } from 'vitest';
import { reviewVerdict, type ReviewFacts, type ReviewRecord } from '../../src/forge/reviews.js';

const r = (id: number, user: string, state: string, commit: string | null, at: string, body = ''): ReviewRecord => ({ id, user, state, commit_id: commit, submitted_at: at, body });
const facts = (reviews: ReviewRecord[], over: Partial<ReviewFacts> = {}): ReviewFacts => ({ reviews, comments: [], head: 'h2', self: 'swarm-bot', decision: null, ...over });

/** Timelines as GitHub records them: each review names the commit it was made on. */
describe('reviewVerdict', () => {
  it.each<[string, ReviewFacts, string]>([
    ['no reviews', facts([]), 'none'],
    ['changes requested on the head, no branch protection (decision null)', facts([r(1, 'carol', 'CHANGES_REQUESTED', 'h2', '10:00')]), 'changes_requested'],
    ['changes requested on an older head the agent answered: awaiting re-review', facts([r(1, 'carol', 'CHANGES_REQUESTED', 'h1', '10:00')], { decision: 'CHANGES_REQUESTED' }), 'addressed'],
    ['re-reviewed and approved on the head', facts([r(1, 'carol', 'CHANGES_REQUESTED', 'h1', '10:00'), r(2, 'carol', 'APPROVED', 'h2', '11:00')]), 'approved'],
    ['a comment after the request changes nothing', facts([r(1, 'carol', 'CHANGES_REQUESTED', 'h2', '10:00'), r(2, 'carol', 'COMMENTED', 'h2', '11:00')]), 'changes_requested'],
    ['a dismissed request is gone', facts([r(1, 'carol', 'CHANGES_REQUESTED', 'h1', '10:00'), r(2, 'carol', 'DISMISSED', 'h1', '10:30')]), 'none'],
    ["a human's fresh request after the last push wins over bot approvals", facts([r(1, 'ai-logic[bot]', 'APPROVED', 'h2', '10:00'), r(2, 'dave', 'CHANGES_REQUESTED', 'h2', '10:05')]), 'changes_requested'],
    ["swarm's own reviews are not evidence", facts([r(1, 'swarm-bot', 'CHANGES_REQUESTED', 'h2', '10:00')]), 'none'],
    ['branch protection still wants a review', facts([], { decision: 'REVIEW_REQUIRED' }), 'review_required'],
    ['one reviewer answered, another approved', facts([r(1, 'carol', 'CHANGES_REQUESTED', 'h1', '10:00'), r(2, 'erin', 'APPROVED', 'h2', '11:00')]), 'addressed'],
    ['a review without a commit is taken to be about the head', facts([r(1, 'carol', 'CHANGES_REQUESTED', null, '10:00')]), 'changes_requested'],
  ])('%s → %s', (_name, input, decision) => {
    expect(reviewVerdict(input).decision).toBe(decision);
  });

  it('the evidence: the fresh request, inline comments still in place, not outdated ones, not its own', () => {
    const verdict = reviewVerdict(
      facts([r(1, 'carol', 'CHANGES_REQUESTED', 'h2', '10:00', 'Handle negatives.')], {
        comments: [
          { user: 'carol', path: 'src/add.ts', line: 2, body: 'Here.' },
          { user: 'carol', path: 'src/old.ts', line: null, body: 'Outdated.' },
          { user: 'swarm-bot', path: 'src/add.ts', line: 1, body: 'Our own note.' },
        ],
      }),
    );
    expect(verdict).toEqual({ decision: 'changes_requested', comments: ['carol: Handle negatives.', 'src/add.ts:2 (carol): Here.'] });
  });
});
