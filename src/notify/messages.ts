import type { NotificationInput, TaskRow } from '../../registry/types.js';

/** The words the human reads on their phone. Pure. */
/** `again`: the task was ready on `from`, its branch moved, and `to` passed CI and review again. */
export function readyMessage(task: TaskRow, prNumber: number | null, hasCi: boolean, reviews?: { approvals: number; of: number; fixed: number }, screenshots: string[] = [], again?: { from: string; to: string }): NotificationInput {
  const pr = prNumber !== null ? `PR #${prNumber}` : 'PR';
  const verdicts = reviews ? `${reviews.approvals}/${reviews.of} reviewers approve${reviews.fixed ? `; ${reviews.fixed} finding${reviews.fixed === 1 ? '' : 's'} fixed on the way` : ''}` : '';
  const moved = again ? `Ready again: the branch moved from ${again.from.slice(0, 10)} to ${again.to.slice(0, 10)} after it was ready, and the new head passed${hasCi ? ' CI' : ''}${reviews ? `${hasCi ? ' and' : ''} review` : ''}${!hasCi && !reviews ? ' its checks' : ''}.\n` : '';
  return {
    event: 'ready',
    title: `Task ${task.id} ready${again ? ' again' : ''}: ${pr}${hasCi ? ', CI green' : ''}${reviews ? `, ${reviews.approvals}/${reviews.of} reviewers approve` : ''}`,
    body: `${task.title}\n${moved}${verdicts ? `${verdicts}.\n` : ''}${screenshots.length ? `Screenshots: ${screenshots.map((f) => f.split('/').pop()).join(', ')}.\n` : ''}Branch ${task.branch}. Review it, then \`swarm merge ${task.id}\`.`,
    ...(screenshots.length ? { attachments: screenshots } : {}),
  };
}

/**
 * A task that needs a human. An agent fault leads with the agent's own decisive line ("--dangerously-skip-
 * permissions cannot be used with root/sudo privileges"), so the cause is in the title, never only an exit code.
 */
/** How long, in words a person reads at a glance. */
export function spell(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/** A host that has not answered for a while: said once per outage, with how many tasks wait for it. */
export function hostSilentMessage(task: TaskRow, host: string, silentMs: number, waiting: number, goneMinutes: number): NotificationInput {
  return {
    event: 'host_silent',
    title: `Host ${host} unreachable for ${spell(silentMs)}: ${waiting === 1 ? '1 task waiting' : `${waiting} tasks waiting`}`,
    body: Number.isFinite(goneMinutes)
      ? `No retry is spent while it is away; running tasks move to this machine after ${goneMinutes} min (hosts.${host}.gone_minutes). \`swarm hosts\` says what is wrong with it.`
      : `No retry is spent while it is away; its tasks wait for it (they stay on it). \`swarm hosts\` says what is wrong with it.`,
  };
}

/** A host silent past its gone_minutes: its task moved here, said with the host's name. */
export function placedAgainMessage(task: TaskRow, host: string, silentMs: number): NotificationInput {
  return {
    event: 'placed_again',
    title: `Task ${task.id} moved here: host ${host} unreachable for ${spell(silentMs)}`,
    body: `${task.title}\nIt starts again on this machine from what was brought back so far (no retry counted). See \`swarm show ${task.id}\`; \`swarm hosts\` says what is wrong with ${host}.`,
  };
}

export function needsHelpMessage(task: TaskRow, reason: string, decisiveLine?: string): NotificationInput {
  const retries = task.retries === 1 ? '1 retry' : `${task.retries} retries`;
  const headline = (decisiveLine ?? reason).split('\n')[0]!.slice(0, 160);
  // "after 0 retries" says nothing: a task that needs help on its first attempt just needs help.
  return {
    event: 'needs_help',
    title: `Task ${task.id} needs help${decisiveLine || task.retries === 0 ? '' : ` after ${retries}`}: ${headline}`,
    body: `${task.title}\n${decisiveLine ? `${reason}\n` : ''}See \`swarm show ${task.id}\` and \`swarm logs ${task.id}\`; \`swarm retry ${task.id}\` tries again.`,
  };
}

/** A decided fan-out: the winner, why it won, and a line for each of the others. */
export function fanoutReadyMessage(task: TaskRow, winner: TaskRow, ranked: readonly { facts: { id: number }; line: string; verdict: string }[]): NotificationInput {
  const [first, ...others] = ranked;
  return {
    event: 'ready',
    title: `Task ${task.id} ready: #${winner.id} (${winner.agent}${winner.model ? `:${winner.model}` : ''}) chosen of ${ranked.length} candidates`,
    body: [`${task.title}`, `Chosen: ${first!.line}. Why: ${first!.verdict}.`, ...others.map((r) => `${r.line} (${r.verdict})`), `Review it, then \`swarm merge ${task.id}\` (or \`swarm pick ${task.id} <candidate>\` first).`].join('\n'),
  };
}

/** A fan-out none of whose candidates went green: one message with each one's reason. */
export function fanoutNeedsHelpMessage(task: TaskRow, ranked: readonly { line: string }[]): NotificationInput {
  return {
    event: 'needs_help',
    title: `Task ${task.id} needs help: none of its ${ranked.length} candidates went green`,
    body: [task.title, ...ranked.map((r) => r.line), `See \`swarm show ${task.id}\`; \`swarm retry ${task.id}\` tries the candidates again.`].join('\n'),
  };
}
