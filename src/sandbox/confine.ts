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
import { existsSync } from 'node:fs';
import { agentEndpoints, registryHosts, registryNames, type Endpoints } from './endpoints.js';
import { INSIDE_DIR, PROXY_PORT, proxyEnv, type NetSpec } from './netbridge.js';
import { homedir } from 'node:os';
import { basename } from 'node:path';
import { prepareHome } from './homes.js';
import { sandboxCommand, sandboxPlan, type PlanInput } from './plan.js';

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

export interface ConfineInput {
  agent: Pick<ResolvedAgent, 'name' | 'config' | 'adapter' | 'executable' | 'network'>;
  argv: string[];
  env: Record<string, string>;
  repoRoot: string;
  worktree: string;
  stateDir: string;
  sessionDir: string;
  promptFile: string;
  /** `sandbox_home_read` and `sandbox_home_copy`. */
  homeRead: readonly string[];
  homeCopy: readonly string[];
  /** Which home: the task's (kept across its attempts, for a CLI to resume its session), or a suffixed one. */
  homeKey?: string;
  /** Start the home from its template (a task's first attempt; every reviewer run). */
  freshHome: boolean;
  /** The checkout is shown read-only (a reviewer's). */
  readOnly?: boolean;
  /** The package registries its project uses ("host:port"), reachable with the endpoints-only network. */
  registries: readonly string[];
}

export function confineAgent(input: ConfineInput): ConfinedLaunch {
  const { agent } = input;
  // The agent's home is the task's own, from a template: what it writes there never runs as the user, nor in
  // another task. An agent whose config names a HOME has its files copied from there.
  const source = agent.config.env.HOME ?? homedir();
  const prepared = prepareHome({ agent: agent.name, key: input.homeKey ?? basename(input.worktree), source, seed: agent.adapter.homeSeed ?? [], logins: agent.adapter.loginFiles ?? [], copy: input.homeCopy, cliHomes: agent.adapter.cliHomeEnv ?? [], env: input.env, fresh: input.freshHome });
  const home = prepared.home;
  const programs = [agent.executable, ...(agent.config.command ?? []).slice(1).filter((arg) => isAbsolute(arg))];
  const base = { repoRoot: input.repoRoot, worktree: input.worktree, stateDir: input.stateDir, home, promptFile: input.promptFile, homeRead: input.homeRead, sourceHome: source, readOnly: input.readOnly === true };
  const env = { ...input.env, ...prepared.env };
  if (agent.network === 'open') {
    return { argv: sandboxCommand(sandboxPlan({ ...base, programs }), input.argv), env };
  }
  const endpoints = agentEndpoints(agent.config, process.env, ollamaHost(agent.config), input.registries);
  return withEndpoints({ ...base, programs }, input.argv, env, endpoints, input.sessionDir);
}

/**
 * A confined command whose network is only `endpoints`: no network of its own (--unshare-net), HTTPS through
 * the proxy the session holder runs outside, listed loopback ports forwarded. Agents, reviewers and CI.
 */
export function withEndpoints(planInput: PlanInput, argv: readonly string[], env: Record<string, string>, endpoints: Endpoints, sessionDir: string): ConfinedLaunch {
  const net: NetSpec = { dir: netDirFor(sessionDir), ...endpoints };
  const inner = [process.execPath, INSIDE_JS, '--dir', INSIDE_DIR, '--proxy-port', String(PROXY_PORT), ...endpoints.loopback.flatMap((port) => ['--forward', String(port)]), '--', ...argv];
  const plan = sandboxPlan({ ...planInput, programs: [...(planInput.programs ?? []), INSIDE_JS], network: 'none', netDir: net.dir });
  return { argv: sandboxCommand(plan, inner), env: { ...env, ...proxyEnv() }, net };
}

/** The "host:port" entries of the registries this repository's project uses (`sandbox_registries`). */
export function projectRegistries(setting: 'auto' | readonly string[], repoRoot: string): string[] {
  return registryHosts(registryNames(setting, (file) => existsSync(join(repoRoot, file))));
}
