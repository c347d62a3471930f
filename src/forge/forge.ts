import type { CiFacts } from '../../monitor/decide.js';
import type { PrRow, TaskRow } from '../../registry/types.js';
import type { ReviewPayload } from '../review/post.js';

export interface ForgeObservation {
  pr: { state: 'open' | 'merged' | 'closed' } | null;
  ci: CiFacts;
  /** null: not asked this time, or the forge is still computing mergeability. */
  conflicts: string[] | null;
  review?: { decision: 'approved' | 'changes_requested' | 'review_required' | 'addressed' | 'none'; comments: string[]; reviewers?: string[] };
  /** The task branch's tip now, where the forge knows it cheaply. */
  head?: string | null;
}

/** Where pull requests and CI live. `local` keeps everything on the machine; `github` is the next issue. */
export interface Forge {
  readonly name: string;
  /** Called at the start of each monitor pass, so a forge can batch or cache what it asks. */
  beginPass?(): void;
  /** For `swarm daemon status`: is the forge reachable, and how much rate limit is left. */
  status?(): { ok: boolean; why: string | null; rate: { remaining: number; limit: number; reset_at: number } | null; graphql_remaining: number | null; requests: number; points: number };
  openPr(task: TaskRow): Promise<PrRow>;
  startCi(task: TaskRow): Promise<void>;
  killCi(task: TaskRow): Promise<void>;
  observe(task: TaskRow, wants: { ci: boolean; conflicts: boolean }): Promise<ForgeObservation>;
  /** Posts an AI reviewer's review on the task's pull request (forges that show reviews elsewhere keep them in the registry). */
  postReview?(task: TaskRow, payload: ReviewPayload): Promise<void>;
  /** Shows the task's screenshots on its pull request (committed ones as images at `head`, others by name). */
  attachScreenshots?(task: TaskRow, files: readonly { path: string; committed: boolean }[], head: string): Promise<void>;
  /** Closes the task's pull request unmerged, saying why in a comment (a fan-out's losers); local PRs just close. */
  closePr?(task: TaskRow, comment: string): Promise<void>;
  /** Merges the task's branch into base; throws a SwarmError that says what to do when it cannot. */
  merge(task: TaskRow): Promise<{ commit: string }>;
}
