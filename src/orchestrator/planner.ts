/** Tier 1: a request becomes a validated task DAG; a failed attempt's prompt may be rewritten. Never writes code. */
import * as z from 'zod';
import type { Evidence } from '../../registry/types.js';
import { evidenceLines } from '../agents/evidence-text.js';
import { OrchestratorError, type JsonMessage, type JsonModel } from './model.js';
import { Plan, planJsonSchema, validatePlan } from './plan.js';

const SYSTEM = `You are the orchestrator of a team of coding agents. You know the business; you never write code.
Turn the request into a small set of well-scoped tasks, each one a coherent change a single agent can finish
and test on its own branch. Give each task a complete prompt (the agent knows only the repository, not this
conversation), the files it will likely touch, acceptance commands that must pass, and depends_on for tasks
that need another task's result first. Prefer independent tasks (they run in parallel). Answer with JSON only.`;

export interface PlanInput {
  model: JsonModel;
  request: string;
  context: string;
  outcomes: string;
  agents: { name: string; type: string; model: string | null }[];
  kinds: string[];
  maxAttempts: number;
}

export interface PlanResult {
  plan: Plan;
  attempts: number;
  rejected: string[][];
}

function parseAnswer(text: string): { plan: Plan | null; errors: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { plan: null, errors: [`the answer is not valid JSON (${err instanceof Error ? err.message : String(err)})`] };
  }
  const parsed = Plan.safeParse(raw);
  if (!parsed.success) return { plan: null, errors: parsed.error.issues.map((i) => `${i.path.join('.') || 'plan'}: ${i.message}`) };
  return { plan: parsed.data, errors: [] };
}

export async function planRequest(input: PlanInput): Promise<PlanResult> {
  const user = [
    `Request:\n${input.request.trim()}`,
    input.context ? `Business context (notes, decisions, rules):\n${input.context}` : '',
    input.outcomes ? `What happened to earlier tasks:\n${input.outcomes}` : '',
    `Agents you may assign (leave "agent" empty for the default): ${input.agents.map((a) => `${a.name} (${a.type}${a.model ? `, ${a.model}` : ''})`).join('; ') || 'default only'}.`,
    input.kinds.length ? `Task kinds: ${input.kinds.join(', ')}.` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  const messages: JsonMessage[] = [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: user },
  ];
  const rejected: string[][] = [];
  const schema = planJsonSchema();
  for (let attempt = 1; attempt <= input.maxAttempts; attempt++) {
    const answer = await input.model.complete(messages, schema);
    const { plan, errors } = parseAnswer(answer);
    const problems = plan ? validatePlan(plan, { agents: input.agents.map((a) => a.name), kinds: input.kinds }) : errors;
    if (plan && problems.length === 0) return { plan, attempts: attempt, rejected };
    rejected.push(problems);
    messages.push({ role: 'assistant', content: answer });
    messages.push({ role: 'user', content: `The plan cannot be used:\n${problems.map((p) => `- ${p}`).join('\n')}\nReturn the whole corrected plan as JSON.` });
  }
  throw new OrchestratorError(
    'SWARM_PLAN_INVALID',
    `The orchestrator model (${input.model.describe}) gave no usable plan in ${input.maxAttempts} attempts. Last problems:\n${rejected.at(-1)!.map((p) => `  - ${p}`).join('\n')}\nRephrase the request, or queue it as one task with \`swarm spawn --raw\`.`,
  );
}

const Rewrite = z.object({ prompt: z.string().min(1) });

/** After a failure: the orchestrator may narrow, redirect or add missing context; the evidence is appended anyway. */
export async function rewritePrompt(model: JsonModel, input: { prompt: string; evidence: Evidence; context: string }): Promise<string | null> {
  const messages: JsonMessage[] = [
    { role: 'system', content: `${SYSTEM}\nNow an agent failed a task. Rewrite the task prompt so the next agent succeeds: narrow the scope, redirect, or add business context it lacked. Keep every requirement. Answer {"prompt": "..."}.` },
    {
      role: 'user',
      content: `Task prompt:\n${input.prompt}\n\nWhat went wrong (${input.evidence.reason}): ${input.evidence.summary}\n${evidenceLines({ ...input.evidence, log_tail: undefined }).join('\n')}${input.context ? `\n\nBusiness context:\n${input.context}` : ''}`,
    },
  ];
  const answer = await model.complete(messages, z.toJSONSchema(Rewrite) as Record<string, unknown>);
  try {
    const parsed = Rewrite.safeParse(JSON.parse(answer));
    return parsed.success ? parsed.data.prompt : null;
  } catch {
    return null;
  }
}
