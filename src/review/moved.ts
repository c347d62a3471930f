/**
 * Who moved a task's branch during a review round, as far as swarm can tell: a reviewer (the new commit was
 * written into its own checkout's object store), the task's own agent (a session of it still alive after its
 * attempt), or someone outside swarm (a human's commit or push), named by the commit's author and subject.
 * Reads only: the repository's own git (never the checkouts' config) and the session records.
 */
import type { ReviewRoundRow, TaskRow } from '../../registry/types.js';
import { localRunners } from '../runners/runners.js';
import { runGit } from '../workspace/git.js';
import { reviewCheckout, madeInCheckout } from './checkout.js';
import type { ReviewDeps } from './runner.js';

export type Mover = { by: 'reviewer'; reviewer: string; words: string } | { by: 'agent' | 'outside'; words: string };

export async function attributeMove(deps: ReviewDeps, task: TaskRow, round: ReviewRoundRow, to: string): Promise<Mover> {
  for (const reviewer of deps.config.review.reviewers) {
    if (madeInCheckout(reviewCheckout(task, reviewer.name), to)) return { by: 'reviewer', reviewer: reviewer.name, words: `moved by reviewer ${reviewer.name}: the commit was made in its review checkout` };
  }
  const agents = deps.registry.attempts(task.id).filter((a) => a.kind === 'agent');
  const runner = (deps.runners ?? localRunners(deps.repoRoot, deps.sessionsDir)).for(task);
  let alive: (typeof agents)[number] | undefined;
  for (const a of agents) {
    if ((await runner.look(a.session_dir, 0)).live.kind === 'running' || (await runner.leftovers(a.session_dir)).length > 0) {
      alive = a;
      break;
    }
  }
  const info = await runGit(deps.repoRoot, ['log', '-1', '--no-show-signature', '--format=%an <%ae>%x00%s', to]);
  const [author, subject] = info.code === 0 ? info.stdout.trim().split('\0') : [];
  const commit = author ? `commit ${to.slice(0, 10)} by ${author}: "${(subject ?? '').slice(0, 80)}"` : `commit ${to.slice(0, 10)}`;
  if (alive) return { by: 'agent', words: `moved by the task's agent, whose session ${alive.session_id} was still running: ${commit}` };
  return { by: 'outside', words: `moved outside swarm (no agent or reviewer of this task wrote it; a human or a push to the branch, as far as swarm can tell): ${commit}` };
}
