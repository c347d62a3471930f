import type { Registry } from '../../registry/registry.js';
import { stopLiveSessions } from './sessions.js';

/**
 * Never two agents in one worktree: every earlier agent session of the task (a lost holder's agent, one that
 * was still starting when the daemon died) is stopped, its whole process tree included, before a new one
 * starts (and before a merge). Returns the first session that could not be stopped, if any.
 */
export async function stopEarlierAgents(registry: Registry, taskId: number, before: number, data: Record<string, unknown> = {}): Promise<{ session: string; survivors: number[] } | null> {
  const earlier = registry.attempts(taskId).filter((a) => a.kind === 'agent' && a.n < before);
  let stuck: { session: string; survivors: number[] } | null = null;
  for (const { dir, survivors } of await stopLiveSessions(earlier.map((a) => a.session_dir))) {
    const attempt = earlier.find((a) => a.session_dir === dir)!;
    registry.recordEvent(taskId, 'earlier_agent_stopped', { attempt: attempt.n, session: attempt.session_id, survivors, ...data });
    if (survivors.length && !stuck) stuck = { session: attempt.session_id, survivors };
  }
  return stuck;
}
