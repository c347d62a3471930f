import { AgentConfig, type SwarmConfig } from '../config/schema.js';
import { AgentError } from '../errors.js';
import { BWRAP_MISSING, findBwrap, type SandboxMode } from '../sandbox/bwrap.js';
import { defaultSandbox } from '../sandbox/probe.js';
import { resolveExecutable, type AgentAdapter } from './adapter.js';
import { checkFlags } from './versions.js';
import { builtinAdapter } from './builtin/adapter.js';
import { aiderAdapter, claudeAdapter, codexAdapter, geminiAdapter, opencodeAdapter } from './clis.js';
import { customAdapter } from './custom.js';

export const ADAPTERS: ReadonlyMap<string, AgentAdapter> = new Map(
  [claudeAdapter, codexAdapter, aiderAdapter, geminiAdapter, opencodeAdapter, builtinAdapter, customAdapter].map((a) => [a.type, a]),
);

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
  /** The model this task will use: --model, else the kind's, else the agent's. */
  model: string | null;
  sandbox: SandboxMode;
  /** Sandboxed: the machine's network, or only the endpoints it needs. */
  network: 'open' | 'endpoints';
}

/**
 * The agent and model a task will run, by precedence: --agent/--model, the task kind's routing, the defaults.
 * Checked now so a missing CLI is an error at spawn time, not a crash later.
 */
export function resolveAgent(config: SwarmConfig, repoRoot: string, requested: string | undefined, options: { kind?: string | null; model?: string | null; elsewhere?: boolean } = {}): ResolvedAgent {
  const names = Object.keys(config.agents);
  const kind = options.kind ? config.kinds[options.kind] : undefined;
  if (options.kind && !kind && Object.keys(config.kinds).length > 0) {
    throw new AgentError('SWARM_KIND_UNKNOWN', `Unknown task kind "${options.kind}". Configured kinds: ${Object.keys(config.kinds).join(', ')}.`);
  }
  const name = requested ?? kind?.agent ?? config.default_agent ?? (names.length === 1 ? names[0] : undefined);
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
  // On a host, the program is looked up there (its PATH, its install): `executable` stays the name.
  const executable = options.elsewhere && !program.includes('/') ? program : resolveExecutable(program, repoRoot);
  if (!executable) {
    throw new AgentError('SWARM_AGENT_NOT_FOUND', `Agent "${name}" needs \`${program}\`, which is not on PATH (or not executable). Install it, or fix agents.${name}.command in swarm.config.json.`);
  }
  const model = options.model ?? (requested ? null : kind?.model) ?? agentConfig.model ?? null;
  return { name, config: agentConfig, adapter, executable, timeoutMinutes: agentConfig.timeout_minutes ?? adapter.defaultTimeoutMinutes, model, sandbox: agentConfig.sandbox ?? config.sandbox ?? defaultSandbox(), network: agentConfig.network ?? config.sandbox_network };
}

/**
 * Refusals that need no I/O beyond the uid: root without a sandbox, a sandbox without bubblewrap (here; on a
 * host, `elsewhere`, its bubblewrap is the host's to have: checked at spawn and when the sandbox is built there).
 */
export function refuseAgent(agent: ResolvedAgent, uid: number = process.getuid?.() ?? 1000, elsewhere = false): void {
  if (agent.sandbox === 'bwrap' && !elsewhere && !findBwrap()) throw new AgentError('SWARM_SANDBOX_MISSING', `Agent "${agent.name}": ${BWRAP_MISSING}`);
  const refusal = agent.adapter.refuse?.({ uid, sandboxed: agent.sandbox === 'bwrap' });
  if (refusal) throw new AgentError('SWARM_AGENT_REFUSED', `Agent "${agent.name}" cannot run here: ${refusal}`);
}

/** A representative launch, to learn which flags the adapter will pass (the prompt is excluded by value). */
export function sampleArgv(agent: ResolvedAgent, repoRoot: string, resume: boolean): { argv: string[]; prompt: string } {
  const prompt = 'swarm flag check';
  const launch = agent.adapter.build({ taskId: 1, attempt: 2, prompt, promptFile: '/dev/null', worktree: repoRoot, repoRoot, agentName: agent.name, model: agent.model, config: agent.config, resumeSession: resume ? 'swarm-session' : null, gitDirs: [`${repoRoot}/.git`], sandboxed: agent.sandbox === 'bwrap' });
  return { argv: launch.argv, prompt };
}

/**
 * The checks PATH cannot answer: the adapter's refusals, every flag it will pass is one the installed CLI
 * accepts (resume included when configured), and the adapter's own check (is Ollama up, does the model call
 * tools). An error that says what to do.
 */
export async function preflightAgent(agent: ResolvedAgent, repoRoot?: string): Promise<void> {
  refuseAgent(agent);
  if (repoRoot && agent.adapter.helpPages?.length) {
    for (const resume of agent.config.resume ? [false, true] : [false]) {
      const { argv, prompt } = sampleArgv(agent, repoRoot, resume);
      await checkFlags(agent.name, agent.adapter, agent.executable, argv, [prompt, 'swarm-session', '/dev/null']);
    }
  }
  if (!agent.adapter.check) return;
  const problem = await agent.adapter.check({ ...agent.config, model: agent.model ?? agent.config.model });
  if (problem) throw new AgentError('SWARM_AGENT_UNUSABLE', `Agent "${agent.name}" cannot run: ${problem}`);
}

export interface InstalledAgent {
  type: string;
  executable: string | null;
}

/** Which coding CLIs this machine has on PATH. */
export function installedClis(repoRoot: string): InstalledAgent[] {
  return [...ADAPTERS.values()]
    .filter((a) => a.type !== 'custom' && a.type !== 'builtin')
    .map((a) => ({ type: a.type, executable: resolveExecutable(a.executable(AgentConfig.parse({ type: a.type }), repoRoot), repoRoot) }));
}
