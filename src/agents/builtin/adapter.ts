import { SWARM_BIN } from '../../install.js';
import type { AgentConfig } from '../../config/schema.js';
import { agentEnv, type AgentAdapter } from '../adapter.js';
import { parseBuiltin } from '../report.js';
import { OllamaModel, OpenAiCompatibleModel, type ModelClient } from './model.js';

export const DEFAULT_OLLAMA_HOST = 'http://127.0.0.1:11434';

export function ollamaHost(config: Pick<AgentConfig, 'host'>): string {
  return config.host ?? process.env.OLLAMA_HOST ?? DEFAULT_OLLAMA_HOST;
}

export function modelClient(config: AgentConfig, model: string, env: NodeJS.ProcessEnv = process.env): ModelClient {
  if (config.openai_base_url) return new OpenAiCompatibleModel(config.openai_base_url, model, config.api_key_env ? env[config.api_key_env] : undefined);
  return new OllamaModel(ollamaHost(config), model, config.num_ctx);
}

/** What the built-in agent (and reviewer) reads of the daemon's environment: the Ollama host and its key variable. */
export function builtinProviderEnv(config: Pick<AgentConfig, 'api_key_env'>): string[] {
  return ['OLLAMA_HOST', ...(config.api_key_env ? [config.api_key_env] : [])];
}

/** Our own agent, run in the task's pseudo-terminal like any other: `swarm agent run`. */
export const builtinAdapter: AgentAdapter = {
  type: 'builtin',
  defaultTimeoutMinutes: 45,
  executable: () => process.execPath,
  build(context) {
    const c = context.config;
    const model = context.model ?? c.model;
    const argv = [
      process.execPath,
      SWARM_BIN,
      'agent',
      'run',
      '--prompt-file',
      context.promptFile,
      '--model',
      model ?? '',
      '--num-ctx',
      String(c.num_ctx),
      '--max-steps',
      String(c.max_steps),
      '--token-budget',
      String(c.token_budget),
      '--bash-timeout',
      String(c.bash_timeout_seconds),
      ...(c.openai_base_url ? ['--openai-base-url', c.openai_base_url] : ['--host', ollamaHost(c)]),
      ...(c.api_key_env ? ['--api-key-env', c.api_key_env] : []),
    ];
    return { argv, env: agentEnv(context, {}, builtinProviderEnv(c)) };
  },
  parseReport: parseBuiltin,
  async check(config) {
    if (!config.model) return 'The built-in agent needs a model: set "model" for it in swarm.config.json (e.g. "qwen2.5-coder:7b"), or pass --model.';
    return modelClient(config, config.model).checkTools();
  },
};
