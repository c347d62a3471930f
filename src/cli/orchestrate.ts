import { oneLine } from './output.js';
import type { TaskRow } from '../../registry/types.js';
import type { Project } from '../config/project.js';
import { InvalidStateError } from '../errors.js';
import { contextDir, listNotes, outcomesSummary } from '../orchestrator/context-store.js';
import { queuePlan } from '../orchestrator/intake.js';
import { OrchestratorError, orchestratorModel } from '../orchestrator/model.js';
import type { Plan } from '../orchestrator/plan.js';
import { planRequest, type PlanResult } from '../orchestrator/planner.js';
import { pickContext, renderContext } from '../orchestrator/retrieval.js';
import { byOf, getTask, killTask, type Actor } from './tasks.js';

/** `swarm plan`: the orchestrator model turns a request into a validated task DAG, with the notes that matter. */
export async function planFor(project: Project, request: string): Promise<PlanResult & { context_notes: string[] }> {
  const model = orchestratorModel(project.config);
  if (!model) throw new OrchestratorError('SWARM_NO_ORCHESTRATOR', 'No orchestrator model is configured: set orchestrator.model in swarm.config.json (e.g. "qwen2.5:14b" on Ollama), or queue the text as one task with `swarm spawn --raw`.');
  const { config, repo, registry } = project;
  const picked = pickContext(listNotes(contextDir(config, repo.root)), request, config.orchestrator.plan_context_tokens);
  const result = await planRequest({
    model,
    request,
    context: renderContext(picked),
    outcomes: outcomesSummary(registry),
    agents: Object.entries(config.agents).map(([name, a]) => ({ name, type: a.type, model: a.model ?? null })),
    kinds: Object.keys(config.kinds),
    maxAttempts: config.orchestrator.max_plan_attempts,
  });
  return { ...result, context_notes: [...new Set(picked.map((p) => p.note))] };
}

export function renderPlan(plan: Plan): string {
  const lines = plan.summary ? [plan.summary, ''] : [];
  for (const t of plan.tasks) {
    lines.push(`[${t.id}] ${oneLine(t.title)}${t.kind ? ` (${t.kind})` : ''}${t.agent ? ` -> ${t.agent}` : ''}${t.depends_on.length ? `  after ${t.depends_on.join(', ')}` : ''}`);
    if (t.files.length) lines.push(`     files: ${t.files.join(', ')}`);
    if (t.acceptance.length) lines.push(`     accept: ${t.acceptance.join('; ')}`);
  }
  return lines.join('\n');
}

export async function planAndQueue(project: Project, request: string): Promise<{ plan: PlanResult; tasks: TaskRow[] }> {
  const plan = await planFor(project, request);
  return { plan, tasks: await queuePlan(project, plan.plan) };
}

/** `swarm approve`: a proposed task joins the queue. */
export function approveTask(project: Project, id: number, actor: Actor = { via: 'cli' }): TaskRow {
  const task = getTask(project, id);
  if (task.state !== 'proposed') throw new InvalidStateError(`Task ${id} is ${task.state}, not proposed.`);
  const queued = project.registry.transition(id, 'proposed', 'queued', { event: 'approved', data: { by: byOf(actor) } });
  if (!queued) throw new InvalidStateError(`Task ${id} changed state meanwhile.`);
  return queued;
}

/** The proposed tasks of the plan `firstTask` belongs to (a plan proposed from the phone is answered whole). */
function proposedOfPlan(project: Project, firstTask: number): TaskRow[] {
  const first = getTask(project, firstTask);
  const all = first.plan_id ? project.registry.listTasks().filter((t) => t.plan_id === first.plan_id) : [first];
  const proposed = all.filter((t) => t.state === 'proposed');
  if (!proposed.length) throw new InvalidStateError(`The plan of task ${firstTask} was answered already: its tasks are ${[...new Set(all.map((t) => t.state))].join(', ')}.`);
  return proposed;
}

/** Every still-proposed task of a plan joins the queue. */
export function approvePlan(project: Project, firstTask: number, actor: Actor): TaskRow[] {
  return proposedOfPlan(project, firstTask).map((t) => approveTask(project, t.id, actor));
}

/** Every still-proposed task of a plan is cancelled. */
export async function discardPlan(project: Project, firstTask: number, actor: Actor): Promise<TaskRow[]> {
  const out: TaskRow[] = [];
  for (const t of proposedOfPlan(project, firstTask)) out.push((await killTask(project, t.id, actor)).task);
  return out;
}

/** A plan proposed for approval (from the phone): its tasks wait as proposed until someone answers. */
export async function proposePlan(project: Project, request: string): Promise<{ plan: PlanResult; tasks: TaskRow[] }> {
  const plan = await planFor(project, request);
  return { plan, tasks: await queuePlan(project, plan.plan, { state: 'proposed' }) };
}
