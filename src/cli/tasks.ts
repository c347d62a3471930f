import { existsSync } from 'node:fs';
import type { TaskRow } from '../../registry/types.js';
import { TERMINAL_STATES } from '../../registry/types.js';
import type { Project } from '../config/project.js';
import { errorMessage, InvalidStateError, NotReadyError, TaskNotFoundError, UsageError } from '../errors.js';
import { silentLogger } from '../log.js';
import { runnersOf } from '../runners/runners.js';
import { stopEarlierAgents } from '../runners/earlier.js';

export { spawnTask, SpawnInput } from '../orchestrator/intake.js';

/**
 * Who acted, and through what: every action on a task (kill, retry, merge) is one function here, called by the
 * CLI, the API (the dashboard's buttons) and the chat channels alike, and its event names the actor.
 */
export interface Actor {
  via: 'cli' | 'api' | 'dashboard' | 'telegram' | 'slack';
  /** The person, where the channel says (a Telegram user name). */
  who?: string;
}

const CLI: Actor = { via: 'cli' };

/** The actor as an event's `by`: "telegram:@ana", "cli". */
export function byOf(actor: Actor): string {
  return actor.who ? `${actor.via}:${actor.who}` : actor.via;
}

export function getTask(project: Project, id: number): TaskRow {
  const task = project.registry.getTask(id);
  if (!task) throw new TaskNotFoundError(id);
  return task;
}

export function parseTaskId(text: string): number {
  const id = Number(text.replace(/^#/, ''));
  if (!Number.isInteger(id) || id <= 0) throw new UsageError(`"${text}" is not a task id. Task ids are numbers, as shown by \`swarm ls\`.`);
  return id;
}

async function killTaskSessions(project: Project, task: TaskRow): Promise<number> {
  let killed = 0;
  const runner = runnersOf(project).for(task);
  for (const attempt of project.registry.attempts(task.id)) {
    if (attempt.ended_at !== null) continue;
    if (await runner.kill(attempt.session_dir)) killed++;
    project.registry.updateAttempt(attempt.id, { ended_at: Date.now(), outcome: 'killed' });
  }
  return killed;
}

/**
 * A cancelled task on a cluster gives back what it can at once (its Sandbox scaled to zero, the transcripts
 * kept here); the claim stays for a retry until `swarm cleanup`, as a worktree does. Trouble is only logged
 * in the task's events: the kill itself is done.
 */
async function restCancelled(project: Project, task: TaskRow): Promise<void> {
  if (task.host === null) return;
  try {
    const what = await runnersOf(project).for(task).rest?.(task);
    if (what) project.registry.recordEvent(task.id, 'rested', { host: task.host, what });
  } catch (err) {
    project.registry.recordEvent(task.id, 'rest_failed', { host: task.host, why: errorMessage(err) });
  }
}

/** Cancels a task: its sessions are killed; its worktree stays until `swarm cleanup`, so nothing is lost. */
export async function killTask(project: Project, id: number, actor: Actor = CLI): Promise<{ task: TaskRow; sessionsKilled: number }> {
  const first = getTask(project, id);
  if (first.fanout_size > 0 && !TERMINAL_STATES.includes(first.state)) return (await import('./fanout.js')).killFanout(project, first, actor);
  // The daemon may move the task meanwhile (queued -> preparing -> running): cancel it from whatever state it is in now.
  for (let tries = 0; tries < 10; tries++) {
    const task = getTask(project, id);
    if (TERMINAL_STATES.includes(task.state)) throw new InvalidStateError(`Task ${id} is already ${task.state}.`);
    const cancelled = project.registry.transition(id, task.state, 'cancelled', { event: 'cancelled', data: { by: byOf(actor) }, patch: { reason: actor.via === 'cli' ? 'cancelled with swarm kill' : `cancelled through ${actor.via}${actor.who ? ` by ${actor.who}` : ''}` } });
    if (cancelled) {
      const sessionsKilled = await killTaskSessions(project, cancelled);
      await restCancelled(project, cancelled);
      return { task: cancelled, sessionsKilled };
    }
  }
  throw new InvalidStateError(`Task ${id} kept changing state while cancelling; run \`swarm kill ${id}\` again.`);
}

/** Another round for a task that needs help (or was cancelled): retries start from zero, with an optional note for the agent. */
export async function retryTask(project: Project, id: number, note?: string, actor: Actor = CLI): Promise<TaskRow> {
  const task = getTask(project, id);
  if (task.fanout_size > 0) return (await import('./fanout.js')).retryFanout(project, task, note, actor);
  const from = ['needs_help', 'cancelled', 'ready'] as const;
  if (!(from as readonly string[]).includes(task.state)) throw new InvalidStateError(`Task ${id} is ${task.state}; only a task that needs help, is ready or was cancelled can be retried.`);
  await killTaskSessions(project, task);
  const evidence = note ? JSON.stringify({ reason: 'manual', summary: note }) : task.evidence;
  const latest = project.registry.latestAttempt(id, 'agent');
  if (note && latest) project.registry.updateAttempt(latest.id, { evidence });
  const next = project.registry.transition(id, from, 'queued', { event: 'retry', data: { note: note ?? null, by: byOf(actor) }, patch: { retries: 0, reason: null, evidence, not_before: null, transient_waits: 0, waited_ms: 0 } });
  if (!next) throw new InvalidStateError(`Task ${id} changed state meanwhile; look at \`swarm show ${id}\`.`);
  return next;
}

/** The human's gate: merges a ready task into base, marks it done, removes its worktree and branch. */
export async function mergeTask(project: Project, id: number, options: { actor?: Actor; expectSha?: string; inFanout?: boolean } = {}): Promise<{ task: TaskRow; commit: string; cleanup: string | null }> {
  const task = getTask(project, id);
  // A fan-out merges its chosen candidate; merging a candidate itself picks it first. Either way the others close.
  if (task.fanout_size > 0 || (task.fanout_of !== null && !options.inFanout)) {
    const fanout = await import('./fanout.js');
    const actor = options.actor ?? CLI;
    if (task.fanout_of !== null && options.expectSha !== undefined && task.verified_sha !== options.expectSha) throw new NotReadyError(`Task ${id} moved since this message: it was ready at ${options.expectSha.slice(0, 10)}, its verified head is now ${task.verified_sha?.slice(0, 10) ?? 'none'}. Not merged.`);
    if (task.fanout_of !== null) fanout.pickCandidate(project, task.fanout_of, task.id, actor);
    return fanout.mergeFanout(project, task.fanout_of ?? task.id, { actor, ...(options.expectSha !== undefined && task.fanout_of === null ? { expectSha: options.expectSha } : {}) });
  }
  if (task.state !== 'ready') throw new NotReadyError(`Task ${id} is ${task.state}, not ready. Only a ready task can be merged (see \`swarm show ${id}\`).`);
  // A button sent with the head that was verified then merges that head or nothing.
  if (options.expectSha !== undefined && task.verified_sha !== options.expectSha) {
    throw new NotReadyError(`Task ${id} moved since this message: it was ready at ${options.expectSha.slice(0, 10)}, its verified head is now ${task.verified_sha?.slice(0, 10) ?? 'none'}. Not merged; the newer message (or \`swarm show ${id}\`) has the current state.`);
  }
  // No agent of this task may still be able to commit while we merge: stop any that outlived its attempt.
  const stuck = await stopEarlierAgents(runnersOf(project).for(task), project.registry, id, Infinity, { before: 'merge' });
  if (stuck) throw new InvalidStateError(`Task ${id}: agent session ${stuck.session} is still running and could not be stopped (PIDs ${stuck.survivors.join(', ')}). Kill them, then merge.`);
  // The forge (octokit for GitHub) is loaded by the one command that needs it.
  const { createForge } = await import('../forge/create.js');
  const forge = await createForge(project, silentLogger());
  const { commit } = await forge.merge(task);
  // The daemon may see the merged PR first and mark the task done itself: that is the same outcome.
  const done = project.registry.transition(id, 'ready', 'done', { event: 'merged', data: { commit, by: byOf(options.actor ?? CLI) }, patch: { done_at: Date.now() } }) ?? (getTask(project, id).state === 'done' ? getTask(project, id) : null);
  if (!done) throw new InvalidStateError(`Task ${id} changed state during the merge; ${task.base} now has commit ${commit}.`);
  project.registry.updatePr(id, { state: 'merged', closed_at: Date.now() });
  let cleanup: string | null = null;
  if (task.host !== null || existsSync(task.worktree)) {
    const result = await runnersOf(project).for(task).removeCheckout(task, { deleteBranch: true });
    cleanup = result.removed ? null : `worktree kept: ${result.why ?? 'unknown'}`;
    if (result.removed) project.registry.recordEvent(id, 'cleaned_up', { worktree: task.worktree, branch: task.branch });
  }
  return { task: done, commit, cleanup };
}
