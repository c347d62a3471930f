/**
 * An agent's launch, confined: the bwrap command, the environment inside (its own home, the proxy when its
 * network is limited to its endpoints) and the holder's half of that network.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { DIST } from '../install.js';
import type { ResolvedAgent } from '../agents/registry.js';
import { ollamaHost } from '../agents/builtin/adapter.js';
import { checkSocketDir } from '../sessions/protocol.js';
import { agentEndpoints } from './endpoints.js';
import { INSIDE_DIR, PROXY_PORT, proxyEnv, type NetSpec } from './netbridge.js';
import { agentHome, sandboxCommand, sandboxPlan } from './plan.js';

/** Run as its own script inside the sandbox: tsc's output, wherever the code calling it runs from. */
const INSIDE_JS = join(DIST, 'src', 'sandbox', 'netbridge-inside.js');

export interface ConfinedLaunch {
  argv: string[];
  env: Record<string, string>;
  net?: NetSpec;
}

/** Short (unix socket paths are capped near 108 bytes) and per session. */
function netDirFor(sessionDir: string): string {
  const parent = join(tmpdir(), `swarm-${process.getuid?.() ?? 0}`);
  checkSocketDir(parent);
  return join(parent, `net-${createHash('sha256').update(sessionDir).digest('hex').slice(0, 16)}`);
}

export function confineAgent(input: { agent: ResolvedAgent; argv: string[]; env: Record<string, string>; repoRoot: string; worktree: string; stateDir: string; sessionDir: string; promptFile: string }): ConfinedLaunch {
  const { agent } = input;
  // The agent's home is its own (unless its config names one): what it writes there never runs as the user.
  const home = agent.config.env.HOME ?? agentHome(agent.name, agent.adapter.homeSeed);
  const programs = [agent.executable, ...(agent.config.command ?? []).slice(1).filter((arg) => isAbsolute(arg))];
  const base = { repoRoot: input.repoRoot, worktree: input.worktree, stateDir: input.stateDir, home, promptFile: input.promptFile };
  if (agent.network === 'open') {
    return { argv: sandboxCommand(sandboxPlan({ ...base, programs }), input.argv), env: { ...input.env, HOME: home } };
  }
  const endpoints = agentEndpoints(agent.config, process.env, ollamaHost(agent.config));
  const net: NetSpec = { dir: netDirFor(input.sessionDir), ...endpoints };
  const inner = [process.execPath, INSIDE_JS, '--dir', INSIDE_DIR, '--proxy-port', String(PROXY_PORT), ...endpoints.loopback.flatMap((port) => ['--forward', String(port)]), '--', ...input.argv];
  const plan = sandboxPlan({ ...base, programs: [...programs, INSIDE_JS], network: 'none', netDir: net.dir });
  return { argv: sandboxCommand(plan, inner), env: { ...input.env, ...proxyEnv(), HOME: home }, net };
}
