import { readFileSync } from 'node:fs';
import { modelClient } from '../agents/builtin/adapter.js';
import { BUILTIN_EXIT, reportLine, runLoop } from '../agents/builtin/loop.js';
import { installedClis, preflightAgent, resolveAgent } from '../agents/registry.js';
import type { AgentConfig } from '../config/schema.js';
import { AgentConfig as AgentConfigSchema } from '../config/schema.js';
import type { Project } from '../config/project.js';
import { errorMessage } from '../errors.js';

export interface BuiltinRunOptions {
  promptFile: string;
  model: string;
  host?: string;
  openaiBaseUrl?: string;
  apiKeyEnv?: string;
  numCtx: number;
  maxSteps: number;
  tokenBudget: number;
  bashTimeout: number;
}

/** `swarm agent run`: the built-in agent, in the current directory (the task's worktree). Returns its exit code. */
export async function runBuiltinAgent(options: BuiltinRunOptions, write: (text: string) => void): Promise<number> {
  const config: AgentConfig = AgentConfigSchema.parse({
    type: 'builtin',
    model: options.model || undefined,
    host: options.host,
    openai_base_url: options.openaiBaseUrl,
    api_key_env: options.apiKeyEnv,
    num_ctx: options.numCtx,
    max_steps: options.maxSteps,
    token_budget: options.tokenBudget,
    bash_timeout_seconds: options.bashTimeout,
  });
  if (!config.model) {
    write('swarm agent: no model given. Set "model" for the agent in swarm.config.json.\n');
    return BUILTIN_EXIT.error;
  }
  const model = modelClient(config, config.model);
  write(`swarm built-in agent: ${model.describe}, up to ${config.max_steps} steps, ${config.token_budget} tokens\n`);
  const problem = await model.checkTools();
  if (problem) {
    write(`swarm agent: ${problem}\n`);
    return BUILTIN_EXIT.error;
  }
  let prompt: string;
  try {
    prompt = readFileSync(options.promptFile, 'utf8');
  } catch (err) {
    write(`swarm agent: cannot read the prompt file: ${errorMessage(err)}\n`);
    return BUILTIN_EXIT.error;
  }
  const result = await runLoop({ model, prompt, root: process.cwd(), maxSteps: config.max_steps, tokenBudget: config.token_budget, bashTimeoutSeconds: config.bash_timeout_seconds, write });
  if (result.status !== 'done') write(`\nswarm agent: ${result.status === 'gave_up' ? 'gave up' : 'error'}: ${result.summary}\n`);
  write(`${reportLine(result)}\n`);
  return BUILTIN_EXIT[result.status];
}

export interface AgentListing {
  configured: { name: string; type: string; model: string | null; usable: boolean; problem: string | null }[];
  installed: { type: string; executable: string | null }[];
}

/** `swarm agents`: which configured agents can run here, and which CLIs this machine has. */
export async function listAgents(project: Project): Promise<AgentListing> {
  const configured: AgentListing['configured'] = [];
  for (const [name, config] of Object.entries(project.config.agents)) {
    try {
      const agent = resolveAgent(project.config, project.repo.root, name);
      await preflightAgent(agent);
      configured.push({ name, type: config.type, model: agent.model, usable: true, problem: null });
    } catch (err) {
      configured.push({ name, type: config.type, model: config.model ?? null, usable: false, problem: errorMessage(err) });
    }
  }
  return { configured, installed: installedClis(project.repo.root) };
}
