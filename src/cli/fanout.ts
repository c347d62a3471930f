/**
 * What a person does with a fan-out: pick another candidate, merge the chosen one (the others are closed:
 * sessions stopped, PRs closed with a comment naming the winner, checkouts and branches removed), kill or
 * retry it whole. `swarm merge`, `kill` and `retry` on a fan-out come here (cli/tasks.ts), so the CLI, the
 * API, the dashboard and the phone all do the same.
 */
import type { TaskRow } from '../../registry/types.js';
import { TERMINAL_STATES } from '../../registry/types.js';
import type { Project } from '../config/project.js';
import { InvalidStateError, NotReadyError, UsageError } from '../errors.js';
import { errorMessage } from '../errors.js';
import { silentLogger } from '../log.js';
import { runnersOf } from '../runners/runners.js';
import { byOf, getTask, killTask, mergeTask, retryTask, type Actor } from './tasks.js';

export function candidatesOf(project: Project, parent: TaskRow): TaskRow[] {
  return project.registry.listTasks().filter((t) => t.fanout_of === parent.id);
}

/** The human prefers another ready candidate: the fan-out merges that one. */
export function pickCandidate(project: Project, parentId: number, candidateId: number, actor: Actor): TaskRow {
  const parent = getTask(project, parentId);
  if (parent.fanout_size === 0) throw new UsageError(`Task ${parentId} is not a fan-out (see \`swarm show ${parentId}\`).`);
  const candidate = getTask(project, candidateId);
  if (candidate.fanout_of !== parent.id) throw new UsageError(`Task ${candidateId} is not a candidate of fan-out ${parentId}; its candidates are ${candidatesOf(project, parent).map((c) => `#${c.id}`).join(', ')}.`);
  if (candidate.state !== 'ready' || !candidate.verified_sha) throw new NotReadyError(`Candidate ${candidateId} is ${candidate.state}, not ready: only a ready candidate can be picked.`);
  const from = ['fanout', 'ready', 'needs_help'] as const;
  if (!(from as readonly string[]).includes(parent.state)) throw new InvalidStateError(`Fan-out ${parentId} is ${parent.state}: nothing left to pick.`);
  const picked = project.registry.transition(parent.id, from, 'ready', { event: 'picked', data: { chosen: candidateId, was: parent.chosen, by: byOf(actor) }, patch: { chosen: candidateId, verified_sha: candidate.verified_sha, ready_at: parent.ready_at ?? Date.now(), reason: null } });
  if (!picked) throw new InvalidStateError(`Fan-out ${parentId} changed state meanwhile; look at \`swarm show ${parentId}\`.`);
  return picked;
}

/** Merges the chosen candidate's verified head; the fan-out is done and its other candidates are closed. */
export async function mergeFanout(project: Project, parentId: number, options: { actor: Actor; expectSha?: string }): Promise<{ task: TaskRow; commit: string; cleanup: string | null }> {
  const parent = getTask(project, parentId);
  if (parent.state !== 'ready' || parent.chosen === null) throw new NotReadyError(`Fan-out ${parentId} is ${parent.state}, not ready: ${parent.state === 'fanout' ? 'its candidates are still at work' : 'no candidate is chosen'} (see \`swarm show ${parentId}\`).`);
  const winner = getTask(project, parent.chosen);
  if (options.expectSha !== undefined && winner.verified_sha !== options.expectSha) {
    throw new NotReadyError(`Task ${parentId} moved since this message: it was ready at ${options.expectSha.slice(0, 10)}, its chosen candidate #${winner.id} is now ${winner.state}${winner.verified_sha ? ` at ${winner.verified_sha.slice(0, 10)}` : ''}. Not merged; the newer message (or \`swarm show ${parentId}\`) has the current state.`);
  }
  const merged = await mergeTask(project, winner.id, { ...options, inFanout: true });
  const done = project.registry.transition(parent.id, 'ready', 'done', { event: 'merged', data: { commit: merged.commit, candidate: winner.id, by: byOf(options.actor) }, patch: { done_at: Date.now() } });
  if (!done) throw new InvalidStateError(`Fan-out ${parentId} changed state during the merge; ${winner.base} now has commit ${merged.commit}.`);
  project.registry.recordEvent(winner.id, 'fanout_won', { fanout: parent.id, kind: parent.kind, agent: winner.agent, model: winner.model, of: parent.fanout_size });
  const notes = await closeLosers(project, parent, winner, options.actor);
  return { task: done, commit: merged.commit, cleanup: [merged.cleanup, ...notes].filter(Boolean).join('; ') || null };
}

/** The candidates that did not win: stopped, their PRs closed naming the winner, their checkouts and branches gone. */
async function closeLosers(project: Project, parent: TaskRow, winner: TaskRow, actor: Actor): Promise<string[]> {
  const { createForge } = await import('../forge/create.js');
  const forge = await createForge(project, silentLogger());
  const notes: string[] = [];
  for (const loser of candidatesOf(project, parent).filter((c) => c.id !== winner.id)) {
    let task = getTask(project, loser.id);
    if (!TERMINAL_STATES.includes(task.state)) task = (await killTask(project, task.id, actor)).task;
    project.registry.recordEvent(task.id, 'fanout_lost', { fanout: parent.id, winner: winner.id, kind: parent.kind, agent: task.agent, model: task.model });
    try {
      await forge.closePr?.(task, `Closed by worktree-swarm: fan-out #${parent.id} ("${parent.title}") chose #${winner.id} (${winner.agent}${winner.model ? `:${winner.model}` : ''}) instead; it was merged.`);
      project.registry.updatePr(task.id, { state: 'closed', closed_at: Date.now() });
    } catch (err) {
      notes.push(`PR of #${task.id} not closed: ${errorMessage(err)}`);
    }
    const removed = await runnersOf(project).for(task).removeCheckout(task, { deleteBranch: true, force: true });
    if (removed.removed) project.registry.recordEvent(task.id, 'cleaned_up', { worktree: task.worktree, branch: task.branch });
    else notes.push(`checkout of #${task.id} kept: ${removed.why ?? 'unknown'}`);
  }
  return notes;
}

/** Cancels the fan-out and every candidate still going. */
export async function killFanout(project: Project, parent: TaskRow, actor: Actor): Promise<{ task: TaskRow; sessionsKilled: number }> {
  let sessions = 0;
  for (const c of candidatesOf(project, parent)) if (!TERMINAL_STATES.includes(getTask(project, c.id).state)) sessions += (await killTask(project, c.id, actor)).sessionsKilled;
  const cancelled = project.registry.transition(parent.id, parent.state, 'cancelled', { event: 'cancelled', data: { by: byOf(actor) }, patch: { reason: actor.via === 'cli' ? 'cancelled with swarm kill' : `cancelled through ${actor.via}${actor.who ? ` by ${actor.who}` : ''}` } });
  if (!cancelled) throw new InvalidStateError(`Task ${parent.id} changed state meanwhile; run \`swarm kill ${parent.id}\` again.`);
  return { task: cancelled, sessionsKilled: sessions };
}

/** Tries again: every candidate that needs help or was cancelled (with the note), and the fan-out waits for them. */
export async function retryFanout(project: Project, parent: TaskRow, note: string | undefined, actor: Actor): Promise<TaskRow> {
  const from = ['needs_help', 'cancelled', 'ready'] as const;
  if (!(from as readonly string[]).includes(parent.state)) throw new InvalidStateError(`Task ${parent.id} is ${parent.state}; only a fan-out that needs help, is ready or was cancelled can be retried.`);
  const again = candidatesOf(project, parent).filter((c) => c.state === 'needs_help' || c.state === 'cancelled');
  if (!again.length) throw new InvalidStateError(`Fan-out ${parent.id} has no candidate that needs help or was cancelled; \`swarm retry <candidate>\` retries a ready one.`);
  for (const c of again) await retryTask(project, c.id, note, actor);
  const next = project.registry.transition(parent.id, from, 'fanout', { event: 'retry', data: { note: note ?? null, by: byOf(actor), candidates: again.map((c) => c.id) }, patch: { chosen: null, reason: null, verified_sha: null } });
  if (!next) throw new InvalidStateError(`Task ${parent.id} changed state meanwhile; look at \`swarm show ${parent.id}\`.`);
  return next;
}
