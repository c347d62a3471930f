/** `swarm show`: one task's state, attempts, PR, events and notifications. */
import { join } from 'node:path';
import { ReviewAnswer, where } from '../review/findings.js';
import type { TaskRow } from '../../registry/types.js';
import type { Project } from '../config/project.js';
import { sessionLeftovers } from '../sessions/sessions.js';
import { oneLine } from './output.js';

export function taskDetail(project: Project, task: TaskRow) {
  return {
    task,
    pr: project.registry.getPr(task.id),
    attempts: project.registry.attempts(task.id).map(({ prompt: _prompt, ...rest }) => rest),
    events: project.registry.events(task.id),
    notifications: project.registry.notifications(task.id),
  };
}

export function renderTaskDetail(detail: ReturnType<typeof taskDetail>): string {
  const { task } = detail;
  const lines = [
    `Task ${task.id}: ${oneLine(task.title)}`,
    `  state     ${task.state}${task.reason ? ` (${oneLine(task.reason)})` : ''}`,
    `  agent     ${task.agent}${task.model ? ` (${task.model})` : ''}, attempt ${task.attempt}, retries ${task.retries}/${task.max_retries}${task.transient_waits ? `, ${task.transient_waits} transient wait(s) (no retry spent)` : ''}`,
    ...(task.state === 'queued' && task.not_before !== null && task.not_before > Date.now() ? [`  waiting   until ${new Date(task.not_before).toISOString()} (backoff)`] : []),
    `  branch    ${task.branch} from ${task.base}`,
    ...(task.verified_sha ? [`  verified  ${task.verified_sha.slice(0, 12)} (the commit swarm merge merges)`] : []),
    ...(task.depends_on !== '[]' ? [`  after     ${(JSON.parse(task.depends_on) as number[]).map((d) => `#${d}`).join(', ')}`] : []),
    ...(task.routing_note ? [`  routing   ${task.routing_note}`] : []),
    `  worktree  ${task.worktree}`,
  ];
  if (detail.pr) lines.push(`  PR        #${String(detail.pr.number)} ${detail.pr.state}`);
  lines.push('', 'Sessions:');
  for (const a of detail.attempts) {
    // Processes an ended session left behind (they should not exist: swarm kills a session's whole tree).
    const leftovers = a.ended_at !== null ? sessionLeftovers(a.session_dir) : [];
    lines.push(`  ${a.session_id.padEnd(14)} ${a.kind.padEnd(5)} ${a.outcome ?? (a.ended_at === null ? 'running' : 'ended')}${a.exit_code !== null ? ` (exit ${a.exit_code})` : ''}${leftovers.length ? `  leftover processes still running: ${leftovers.join(', ')}` : ''}`);
  }
  const reviews = detail.attempts.filter((a) => a.kind === 'review');
  if (reviews.length) {
    lines.push('', 'Reviews:');
    for (const a of reviews) {
      const answer = a.report ? ReviewAnswer.safeParse(JSON.parse(a.report)).data : undefined;
      const head = `  ${a.agent} on attempt ${a.n}${a.head_sha ? ` (${a.head_sha.slice(0, 10)})` : ''}:`;
      if (a.ended_at === null) lines.push(`${head} reviewing`);
      else if (!answer) lines.push(`${head} FAILED (unusable answer: ${oneLine(a.evidence ?? 'none')})`);
      else {
        lines.push(`${head} ${answer.verdict}${answer.summary ? ` — ${oneLine(answer.summary)}` : ''}`);
        for (const f of answer.findings) lines.push(`    ${where(f)} [${f.severity}] ${oneLine(f.title)}`);
      }
    }
  }
  const ready = detail.events.filter((e) => e.kind === 'ready').at(-1);
  const shots = ready?.data ? ((JSON.parse(ready.data) as { screenshots?: string[] }).screenshots ?? []) : [];
  if (shots.length) lines.push('', 'Screenshots:', ...shots.map((file) => `  ${join(task.worktree, file)}`));
  lines.push('', 'Events:');
  for (const e of detail.events) lines.push(`  ${new Date(e.at).toISOString()}  ${e.kind.padEnd(16)} ${e.from_state ?? ''} -> ${e.to_state ?? ''}`);
  return lines.join('\n');
}
