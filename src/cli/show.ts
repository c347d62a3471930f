/** `swarm show`: one task's state, attempts, PR, events and notifications. */
import { join } from 'node:path';
import { where } from '../review/findings.js';
import { readReviewReport } from '../review/stats.js';
import type { AttemptRow, TaskRow } from '../../registry/types.js';
import type { Project } from '../config/project.js';
import { runnersOf } from '../runners/runners.js';
import { oneLine } from './output.js';

/** Each AI review: who, with which model, of which head in which round, and what came of it. */
export function reviewsOf(attempts: readonly Omit<AttemptRow, 'prompt'>[]) {
  return attempts
    .filter((a) => a.kind === 'review')
    .map((a) => {
      const { answer, tokens, cost } = readReviewReport(a.report);
      const verdict = a.ended_at === null ? 'reviewing' : answer ? answer.verdict : a.outcome === 'stopped' ? 'stopped' : a.outcome === 'timed_out' ? 'timed_out' : a.outcome === 'tampered' ? 'tampered' : 'failed';
      return { reviewer: a.agent, model: a.model, attempt: a.n, round: a.round_id, head: a.head_sha, verdict, summary: answer?.summary ?? null, findings: answer?.findings ?? [], why: answer ? null : a.evidence, tokens, cost_usd: cost, started_at: a.started_at, ended_at: a.ended_at, session: a.session_id };
    });
}

/** A fan-out's candidates, side by side: the facts the ranking reads, and each one's place in it. */
export async function candidateRows(project: Project, task: TaskRow) {
  if (task.fanout_size === 0) return [];
  const decided = project.registry.events(task.id).filter((e) => e.kind === 'fanout_decided').at(-1);
  const placed = decided ? ((JSON.parse(decided.data ?? '{}') as { ranking?: { task: number; verdict: string }[] }).ranking ?? []) : [];
  const { candidateFacts } = await import('../../monitor/fanouts.js');
  const { describe } = await import('../orchestrator/fanout-rank.js');
  const rows = [];
  for (const c of project.registry.listTasks().filter((t) => t.fanout_of === task.id)) {
    const facts = await candidateFacts({ repoRoot: project.repo.root, registry: project.registry }, c);
    rows.push({ ...facts, branch: c.branch, chosen: task.chosen === c.id, line: describe(facts), verdict: placed.find((p) => p.task === c.id)?.verdict ?? null });
  }
  return rows;
}

export async function taskDetail(project: Project, task: TaskRow) {
  const runner = runnersOf(project).for(task);
  const attempts = [];
  for (const { prompt: _prompt, ...rest } of project.registry.attempts(task.id)) {
    // Processes an ended session left behind (they should not exist: swarm kills a session's whole tree).
    attempts.push({ ...rest, leftovers: rest.ended_at !== null ? await runner.leftovers(rest.session_dir) : [] });
  }
  return {
    task,
    candidates: await candidateRows(project, task),
    pr: project.registry.getPr(task.id),
    attempts,
    reviews: reviewsOf(attempts),
    events: project.registry.events(task.id),
    notifications: project.registry.notifications(task.id),
  };
}

export function renderTaskDetail(detail: Awaited<ReturnType<typeof taskDetail>>): string {
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
    `  worktree  ${task.worktree}${task.host ? ` (on host ${task.host})` : ''}`,
  ];
  if (detail.pr) lines.push(`  PR        #${String(detail.pr.number)} ${detail.pr.state}`);
  if (detail.candidates.length) {
    lines.push('', `Candidates (${detail.candidates.length}):`);
    for (const c of detail.candidates) {
      lines.push(`${c.chosen ? '* ' : '  '}${c.line.replace(/^(#\d+ \S+):/, `$1 [${c.state.replace('_', ' ')}]:`)}`);
      lines.push(`      ${c.branch}${c.verdict ? `  ${c.verdict}` : ''}`);
    }
    lines.push(`  (* merges with \`swarm merge ${task.id}\`; \`swarm pick ${task.id} <candidate>\` chooses another; \`swarm show <candidate>\` for one)`);
  }
  lines.push('', 'Sessions:');
  for (const a of detail.attempts) {
    const { leftovers } = a;
    lines.push(`  ${a.session_id.padEnd(14)} ${a.kind.padEnd(5)} ${a.outcome ?? (a.ended_at === null ? 'running' : 'ended')}${a.exit_code !== null ? ` (exit ${a.exit_code})` : ''}${leftovers.length ? `  leftover processes still running: ${leftovers.join(', ')}` : ''}`);
  }
  if (detail.reviews.length) {
    lines.push('', 'Reviews:');
    for (const r of detail.reviews) {
      const head = `  ${r.reviewer} on attempt ${r.attempt}${r.head ? ` (${r.head.slice(0, 10)})` : ''}:`;
      if (r.verdict === 'reviewing') lines.push(`${head} reviewing`);
      else if (r.verdict === 'stopped') lines.push(`${head} stopped (${oneLine(r.why ?? 'the round ended')})`);
      else if (r.verdict === 'timed_out') lines.push(`${head} TIMED OUT (${oneLine(r.why ?? '')})`);
      else if (r.verdict === 'tampered') lines.push(`${head} FAILED (${oneLine(r.why ?? 'it changed what it reviewed')})`);
      else if (r.verdict === 'failed') lines.push(`${head} FAILED (unusable answer: ${oneLine(r.why ?? 'none')})`);
      else {
        lines.push(`${head} ${r.verdict}${r.summary ? ` — ${oneLine(r.summary)}` : ''}${r.model ? ` [${r.model}]` : ''}`);
        for (const f of r.findings) lines.push(`    ${where(f)} [${f.severity}] ${oneLine(f.title)}`);
      }
    }
    lines.push(`  (each reviewer's terminal: swarm logs ${task.id} --review <name>)`);
  }
  const ready = detail.events.filter((e) => e.kind === 'ready').at(-1);
  const shots = ready?.data ? ((JSON.parse(ready.data) as { screenshots?: string[] }).screenshots ?? []) : [];
  if (shots.length) lines.push('', 'Screenshots:', ...shots.map((file) => `  ${join(task.worktree, file)}`));
  lines.push('', 'Events:');
  for (const e of detail.events) lines.push(`  ${new Date(e.at).toISOString()}  ${e.kind.padEnd(16)} ${e.from_state ?? ''} -> ${e.to_state ?? ''}`);
  return lines.join('\n');
}
