/** The board and a task's page, read from the registry, the sessions and git (the repository, never a task's clone). */
import { stripVTControlCharacters } from 'node:util';
import { dependsOn, type AttemptHead, type TaskRow } from '../../registry/types.js';
import type { Project } from '../config/project.js';
import { TaskNotFoundError } from '../errors.js';
import { candidateRows } from '../cli/show.js';
import { runnersOf } from '../runners/runners.js';
import { branchExists, runGit } from '../workspace/git.js';
import type { Card, TaskPage } from './schemas.js';
import { cardOf, evidenceOf, reviewOf } from './views.js';

const MAX_DIFF_CHARS = 400_000;
const CI_LOG_BYTES = 64 * 1024;

export function boardCards(project: Project, lines: ReadonlyMap<number, string>): Card[] {
  const { registry, config } = project;
  const attempts = new Map<number, AttemptHead[]>();
  for (const a of registry.attemptHeads()) {
    const list = attempts.get(a.task_id);
    if (list) list.push(a);
    else attempts.set(a.task_id, [a]);
  }
  const prs = new Map(registry.allPrs().map((pr) => [pr.task_id, pr]));
  const reviewers = config.review.reviewers.length;
  return registry.listTasks().map((task) => cardOf(task, attempts.get(task.id) ?? [], prs.get(task.id) ?? null, lines.get(task.id) ?? null, reviewers));
}

export function taskCard(project: Project, task: TaskRow, line: string | null): Card {
  const attempts = project.registry.attemptHeads(task.id);
  return cardOf(task, attempts, project.registry.getPr(task.id), line, project.config.review.reviewers.length);
}

async function branchDiff(repoRoot: string, task: TaskRow): Promise<{ diff: string; truncated: boolean }> {
  if (!(await branchExists(repoRoot, task.branch))) return { diff: '', truncated: false };
  const result = await runGit(repoRoot, ['diff', '--no-color', '--no-ext-diff', '--no-textconv', `${task.base}...${task.branch}`]);
  if (result.code !== 0) return { diff: '', truncated: false };
  return result.stdout.length > MAX_DIFF_CHARS ? { diff: result.stdout.slice(0, result.stdout.lastIndexOf('\ndiff --git', MAX_DIFF_CHARS) + 1 || MAX_DIFF_CHARS), truncated: true } : { diff: result.stdout, truncated: false };
}

export async function taskPage(project: Project, id: number, line: string | null): Promise<TaskPage> {
  const { registry } = project;
  const task = registry.getTask(id);
  if (!task) throw new TaskNotFoundError(id);
  const attempts = registry.attempts(id);
  const pr = registry.getPr(id);
  const ci = attempts.filter((a) => a.kind === 'ci').at(-1);
  const events = registry.events(id);
  const ready = events.filter((e) => e.kind === 'ready').at(-1);
  const shots = ready?.data ? ((JSON.parse(ready.data) as { screenshots?: unknown }).screenshots ?? []) : [];
  const neighbour = (t: TaskRow) => ({ id: t.id, title: t.title, state: t.state });
  const parents = dependsOn(task).map((d) => registry.getTask(d)).filter((t): t is TaskRow => t !== null);
  const children = registry.listTasks().filter((t) => dependsOn(t).includes(id));
  const { diff, truncated } = await branchDiff(project.repo.root, task);
  const runner = runnersOf(project).for(task);
  const live = new Set<number>();
  for (const a of attempts) if (a.ended_at === null && (await runner.look(a.session_dir, 0)).live.kind === 'running') live.add(a.id);
  const ciLog = ci ? (await runner.look(ci.session_dir, CI_LOG_BYTES)).tail : '';
  const candidates = await candidateRows(project, task);
  const fanout = task.fanout_of !== null ? registry.getTask(task.fanout_of) : null;
  return {
    task,
    card: cardOf(task, attempts, pr, line, project.config.review.reviewers.length),
    attempts: attempts.map((a) => ({
      id: a.id,
      n: a.n,
      kind: a.kind,
      agent: a.agent,
      session_id: a.session_id,
      started_at: a.started_at,
      ended_at: a.ended_at,
      exit_code: a.exit_code,
      outcome: a.outcome,
      head_sha: a.head_sha,
      evidence: evidenceOf(a.evidence) ?? a.evidence,
      review: a.kind === 'review' ? reviewOf(a) : null,
      live: live.has(a.id),
    })),
    events,
    pr,
    ci_log: stripVTControlCharacters(ciLog),
    diff,
    diff_truncated: truncated,
    screenshots: Array.isArray(shots) ? shots.filter((s): s is string => typeof s === 'string') : [],
    candidates,
    fanout_of: fanout ? neighbour(fanout) : null,
    depends_on: parents.map(neighbour),
    dependents: children.map(neighbour),
  };
}
