/**
 * Review rounds, the monitor's side: a round is the AI reviewers' look at exactly one head, the one CI passed.
 * Starting one records that head; a head that moves ends it (its reviewers stopped) unless a reviewer moved it,
 * in which case that reviewer fails and the branch goes back; leaving review ends it with its outcome.
 */
import type { ReviewRoundRow, TaskRow } from '../registry/types.js';
import type { Forge } from '../src/forge/forge.js';
import { attributeMove } from '../src/review/moved.js';
import { findingsFixed, postRoundReviews, removeRoundCheckouts, reviewFacts, startReviewers, stopRoundReviewers, type ReviewDeps } from '../src/review/runner.js';
import { revParse, runGit } from '../src/workspace/git.js';
import type { Snapshot } from './decide.js';

export class ReviewRounds {
  constructor(private readonly deps: { review: ReviewDeps; forge: Forge }) {}

  private get registry() {
    return this.deps.review.registry;
  }

  /** The branch's tip as the forge sees it: GitHub's PR head, else the repository's branch. */
  private async tip(task: TaskRow, prHead: string | null): Promise<string | null> {
    if (this.deps.forge.name === 'github') return prHead;
    return revParse(this.deps.review.repoRoot, task.branch).catch(() => null);
  }

  /** The open round (its head) and its reviewers' tries; none are read once the head (the branch's tip now) moved off it. */
  async observe(task: TaskRow, head: string | null): Promise<Pick<Snapshot, 'round' | 'reviews'>> {
    const round = this.registry.openRound(task.id);
    if (!round) return { round: null };
    if (head !== null && head !== round.head) return { round: { id: round.id, head: round.head } };
    return { round: { id: round.id, head: round.head }, reviews: await reviewFacts(this.deps.review, task, round) };
  }

  /** A round on the head CI passed (`ciHead`; null without CI); a tip that is not that commit goes to CI first. */
  async start(task: TaskRow, ciHead: string | null, prHead: string | null): Promise<TaskRow | null> {
    const tip = (await this.tip(task, prHead)) ?? (await revParse(this.deps.review.repoRoot, task.branch));
    if (ciHead !== null && ciHead !== tip) {
      return this.registry.transition(task.id, task.state, 'pr_open', { event: 'head_moved', data: { why: `the branch moved from ${ciHead.slice(0, 10)}, which CI passed, to ${tip.slice(0, 10)} before the review began` }, patch: { verified_sha: null } });
    }
    const started = this.registry.startRound(task, tip, ciHead, { event: 'review_requested', data: { reviewers: this.deps.review.config.review.reviewers.map((r) => r.name), head: tip, ci_head: ciHead } });
    return started?.task ?? null;
  }

  async startReviewers(task: TaskRow, names: readonly string[]): Promise<void> {
    const round = this.registry.openRound(task.id);
    if (round) await startReviewers(this.deps.review, task, round, names);
  }

  /** An unusable answer is asked again saying why; a timed-out reviewer (with a retry configured) just starts again. */
  async askAgain(task: TaskRow, reviewer: string, why: string, timedOut: boolean): Promise<void> {
    const round = this.registry.openRound(task.id);
    if (!round) return;
    this.registry.recordEvent(task.id, timedOut ? 'review_timed_out' : 'review_unusable', { reviewer, why, round: round.id });
    await startReviewers(this.deps.review, task, round, [reviewer], timedOut ? null : why);
  }

  /** Whether `roundId` is the open round and the branch is still its head: only then may it make the task ready. */
  async approved(task: TaskRow, roundId: number | null, prHead: string | null): Promise<'yes' | 'moved' | 'stale'> {
    const round = this.registry.openRound(task.id);
    if (!round || round.id !== roundId) return 'stale';
    return (await this.tip(task, prHead)) === round.head ? 'yes' : 'moved';
  }

  findingsFixed(task: TaskRow): number {
    return findingsFixed(this.deps.review, task);
  }

  /**
   * Leaving `reviewing`: reviewers still at work are stopped (whole tree), the round ends with `outcome`, its
   * answers go on the PR (GitHub; the local forge keeps them in the registry), its checkouts go.
   */
  async leave(task: TaskRow, outcome: NonNullable<ReviewRoundRow['outcome']>, why: string): Promise<void> {
    if (task.state !== 'reviewing') return;
    const round = this.registry.openRound(task.id);
    if (round) {
      await stopRoundReviewers(this.deps.review, task, round, why || `the review round ended (${outcome})`);
      const post = this.deps.forge.postReview?.bind(this.deps.forge);
      if (post && outcome !== 'cancelled') await postRoundReviews(this.deps.review, task, round, post);
      this.registry.endRound(round.id, outcome);
    }
    removeRoundCheckouts(this.deps.review, task);
  }

  /**
   * The branch moved during a round. A reviewer that moved it (the commit was made in its own checkout) has
   * failed its review and the branch goes back to the head under review; any other move cancels the round,
   * and CI runs on the new head before a new round. Who moved it is said in the event, as far as swarm can tell.
   */
  async branchMoved(task: TaskRow, from: string, to: string): Promise<TaskRow | null> {
    const { registry } = this;
    const round = registry.openRound(task.id);
    if (!round) return null;
    const mover = await attributeMove(this.deps.review, task, round, to);
    if (mover.by === 'reviewer' && this.deps.forge.name !== 'github') {
      const restored = await runGit(this.deps.review.repoRoot, ['update-ref', '-m', `swarm: reviewer ${mover.reviewer} moved the task's branch; restored`, `refs/heads/${task.branch}`, from, to]);
      await stopRoundReviewers(this.deps.review, task, round, `it moved the task's branch to ${to.slice(0, 10)}`, mover.reviewer);
      const attempt = registry.attempts(task.id).filter((a) => a.round_id === round.id && a.agent === mover.reviewer).at(-1);
      if (attempt) registry.updateAttempt(attempt.id, { outcome: 'tampered', evidence: `the reviewer moved the task's branch to its own commit ${to.slice(0, 10)} (${mover.words}); the branch was put back` });
      registry.recordEvent(task.id, 'branch_restored', { round: round.id, from: to, to: from, moved_by: mover.words, reviewer: mover.reviewer, restored: restored.code === 0 });
      return registry.getTask(task.id);
    }
    const why = `the branch moved from ${from.slice(0, 10)} to ${to.slice(0, 10)} during the review (${mover.words}); CI runs on the new head, then a new review round`;
    await this.leave(task, 'cancelled', why);
    return registry.transition(task.id, 'reviewing', 'pr_open', { event: 'review_cancelled', data: { round: round.id, from, to, moved_by: mover.words, by: mover.by, why }, patch: { verified_sha: null } });
  }
}
