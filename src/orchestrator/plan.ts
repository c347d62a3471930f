/** The plan an orchestrator model returns, and the checks it must pass before anything is queued. Pure. */
import * as z from 'zod';

export const PlannedTask = z.object({
  id: z.string().min(1).describe('short id such as "api" or "t1", unique in the plan'),
  title: z.string().min(1).describe('one line'),
  kind: z.string().describe('task kind, e.g. backend, frontend, bugfix, docs, tests, review').default(''),
  prompt: z.string().describe('complete instructions for a coding agent that knows only the repository'),
  depends_on: z.array(z.string()).describe('ids of tasks that must be done first').default([]),
  files: z.array(z.string()).describe('files likely to change').default([]),
  acceptance: z.array(z.string()).describe('commands that must pass when done, e.g. "npm test"').default([]),
  agent: z.string().describe('agent name from the list given, or empty for the default').default(''),
});
export type PlannedTask = z.infer<typeof PlannedTask>;

export const Plan = z.object({ summary: z.string().default(''), tasks: z.array(PlannedTask).min(1, 'a plan needs at least one task') });
export type Plan = z.infer<typeof Plan>;

/** JSON Schema for structured output (Ollama `format`, OpenAI `response_format`). */
export function planJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(Plan, { io: 'input' }) as Record<string, unknown>;
}

/** Every problem with a plan, in words a model can fix; empty when the plan is acceptable. */
export function validatePlan(plan: Plan, known: { agents: readonly string[]; kinds: readonly string[] }): string[] {
  const errors: string[] = [];
  const ids = new Set<string>();
  for (const task of plan.tasks) {
    if (ids.has(task.id)) errors.push(`task id "${task.id}" is used twice; ids must be unique`);
    ids.add(task.id);
  }
  for (const task of plan.tasks) {
    if (!task.prompt.trim()) errors.push(`task "${task.id}" has an empty prompt`);
    for (const dep of task.depends_on) {
      if (dep === task.id) errors.push(`task "${task.id}" depends on itself`);
      else if (!ids.has(dep)) errors.push(`task "${task.id}" depends on "${dep}", which is not in the plan`);
    }
    if (task.agent && !known.agents.includes(task.agent)) errors.push(`task "${task.id}" uses agent "${task.agent}", which is not configured (known: ${known.agents.join(', ')})`);
    if (task.kind && known.kinds.length > 0 && !known.kinds.includes(task.kind)) errors.push(`task "${task.id}" has kind "${task.kind}", which is not configured (known: ${known.kinds.join(', ')})`);
  }
  const cycle = findCycle(plan.tasks);
  if (cycle) errors.push(`dependencies form a cycle: ${cycle.join(' -> ')}`);
  return errors;
}

export function findCycle(tasks: readonly Pick<PlannedTask, 'id' | 'depends_on'>[]): string[] | null {
  const deps = new Map(tasks.map((t) => [t.id, t.depends_on]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of deps.get(id) ?? []) {
      if (!deps.has(dep)) continue;
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const task of tasks) {
    const found = visit(task.id);
    if (found) return found;
  }
  return null;
}

/** Tasks in an order where every dependency comes first. Call only on a validated plan. */
export function topologicalOrder(tasks: readonly PlannedTask[]): PlannedTask[] {
  const done = new Set<string>();
  const out: PlannedTask[] = [];
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const visit = (task: PlannedTask): void => {
    if (done.has(task.id)) return;
    done.add(task.id);
    for (const dep of task.depends_on) visit(byId.get(dep)!);
    out.push(task);
  };
  for (const task of tasks) visit(task);
  return out;
}
