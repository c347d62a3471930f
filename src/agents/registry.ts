import type { AgentConfig, SwarmConfig } from '../config/schema.js';
import { AgentError } from '../errors.js';
import { resolveExecutable, type AgentAdapter } from './adapter.js';
import { customAdapter } from './custom.js';

const ADAPTERS = new Map<string, AgentAdapter>([[customAdapter.type, customAdapter]]);

export function adapterFor(type: string): AgentAdapter {
  const adapter = ADAPTERS.get(type);
  if (!adapter) throw new AgentError('SWARM_AGENT_UNKNOWN_TYPE', `Unknown agent type "${type}". Known types: ${[...ADAPTERS.keys()].join(', ')}.`);
  return adapter;
}

export interface ResolvedAgent {
  name: string;
  config: AgentConfig;
  adapter: AgentAdapter;
  executable: string;
  timeoutMinutes: number;
}

/** The agent a task will run, checked now so a missing CLI is an error at spawn time, not a crash later. */
export function resolveAgent(config: SwarmConfig, repoRoot: string, requested: string | undefined): ResolvedAgent {
  const names = Object.keys(config.agents);
  const name = requested ?? config.default_agent ?? (names.length === 1 ? names[0] : undefined);
  if (!name) {
    throw new AgentError(
      'SWARM_AGENT_REQUIRED',
      names.length === 0 ? 'No agents are configured. Add one under "agents" in swarm.config.json (`swarm init` writes an example).' : `Several agents are configured (${names.join(', ')}): pick one with --agent, or set "default_agent".`,
    );
  }
  const agentConfig = config.agents[name];
  if (!agentConfig) throw new AgentError('SWARM_AGENT_UNKNOWN', `Unknown agent "${name}". Configured agents: ${names.join(', ') || 'none'}. Add it under "agents" in swarm.config.json.`);
  const adapter = adapterFor(agentConfig.type);
  const program = adapter.executable(agentConfig, repoRoot);
  const executable = resolveExecutable(program, repoRoot);
  if (!executable) {
    throw new AgentError('SWARM_AGENT_NOT_FOUND', `Agent "${name}" needs \`${program}\`, which is not on PATH (or not executable). Install it, or fix agents.${name}.command in swarm.config.json.`);
  }
  return { name, config: agentConfig, adapter, executable, timeoutMinutes: agentConfig.timeout_minutes ?? adapter.defaultTimeoutMinutes };
}
