import type { NotificationInput, TaskRow } from '../../registry/types.js';

/** The words the human reads on their phone. Pure. */
export function readyMessage(task: TaskRow, prNumber: number | null, hasCi: boolean): NotificationInput {
  const pr = prNumber !== null ? `PR #${prNumber}` : 'PR';
  return {
    event: 'ready',
    title: `Task ${task.id} ready: ${pr}${hasCi ? ', CI green' : ''}`,
    body: `${task.title}\nBranch ${task.branch}. Review it, then \`swarm merge ${task.id}\`.`,
  };
}

export function needsHelpMessage(task: TaskRow, reason: string): NotificationInput {
  const retries = task.retries === 1 ? '1 retry' : `${task.retries} retries`;
  return {
    event: 'needs_help',
    title: `Task ${task.id} needs help after ${retries}: ${reason.split('\n')[0]!.slice(0, 140)}`,
    body: `${task.title}\nSee \`swarm show ${task.id}\` and \`swarm logs ${task.id}\`; \`swarm retry ${task.id}\` tries again.`,
  };
}
