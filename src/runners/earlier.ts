import type { Registry } from '../../registry/registry.js';
import type { Runner } from './runner.js';

/**
 * Never two agents in one worktree: every earlier agent session of the task (a lost holder's agent, one that
 * was still starting when the daemon died) is stopped, its whole process tree included, before a new one
 * starts (and before a merge). Returns the first session that could not be stopped, if any.
 */
export async function stopEarlierAgents(runner: Runner, registry: Registry, taskId: number, before: number, data: Record<string, unknown> = {}): Promise<{ session: string; survivors: number[] } | null> {
  // An attempt written off with its gone host ran there, not on this runner: the monitor stops it when the host answers.
  const earlier = registry.attempts(taskId).filter((a) => a.kind === 'agent' && a.n < before && a.outcome !== 'host_lost');
  let stuck: { session: string; survivors: number[] } | null = null;
  for (const attempt of earlier) {
    // Only a session with something alive is stopped and said: its holder, its agent, or what it left behind.
    const survivors = await runner.stop(attempt.session_dir);
    if (survivors === null) continue;
    registry.recordEvent(taskId, 'earlier_agent_stopped', { attempt: attempt.n, session: attempt.session_id, survivors, ...data });
    if (survivors.length && !stuck) stuck = { session: attempt.session_id, survivors };
  }
  return stuck;
}
