import { readFileSync } from 'node:fs';
import { modelClient } from '../agents/builtin/adapter.js';
import { BUILTIN_EXIT, reportLine, runLoop } from '../agents/builtin/loop.js';
import { ADAPTERS, installedClis, preflightAgent, resolveAgent } from '../agents/registry.js';
import { cliFacts, versionVerdict } from '../agents/versions.js';
import type { AgentConfig } from '../config/schema.js';
import { AgentConfig as AgentConfigSchema } from '../config/schema.js';
import type { Project } from '../config/project.js';
import { errorMessage } from '../errors.js';
import { defaultSandbox, probeSandbox, sandboxLine } from '../sandbox/probe.js';

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

export interface VersionInfo {
  version: string | null;
  verified: boolean;
  verified_with: readonly string[];
}

export interface AgentListing {
  configured: ({ name: string; type: string; model: string | null; sandbox: string; network: string; usable: boolean; problem: string | null } & Partial<VersionInfo>)[];
  installed: ({ type: string; executable: string | null } & Partial<VersionInfo>)[];
}

async function versionOf(type: string, executable: string | null): Promise<Partial<VersionInfo>> {
  const adapter = ADAPTERS.get(type);
  if (!adapter || !executable || !adapter.helpPages) return {};
  const verdict = versionVerdict(adapter, await cliFacts(executable, adapter));
  return { version: verdict.version, verified: verdict.verified, verified_with: verdict.verifiedWith };
}

/** `swarm agents`: which configured agents can run here (version, verified, sandbox), and which CLIs this machine has. */
export async function listAgents(project: Project): Promise<AgentListing> {
  const configured: AgentListing['configured'] = [];
  for (const [name, config] of Object.entries(project.config.agents)) {
    const sandbox = config.sandbox ?? project.config.sandbox ?? defaultSandbox();
    const network = config.network ?? project.config.sandbox_network;
    try {
      const agent = resolveAgent(project.config, project.repo.root, name);
      await preflightAgent(agent, project.repo.root);
      configured.push({ name, type: config.type, model: agent.model, sandbox, network, usable: true, problem: null, ...(await versionOf(config.type, agent.executable)) });
    } catch (err) {
      configured.push({ name, type: config.type, model: config.model ?? null, sandbox, network, usable: false, problem: errorMessage(err) });
    }
  }
  return { configured, installed: await installedWithVersions(project.repo.root) };
}

export async function installedWithVersions(root: string): Promise<AgentListing['installed']> {
  return Promise.all(installedClis(root).map(async (c) => ({ ...c, ...(await versionOf(c.type, c.executable)) })));
}

function versionText(v: Partial<VersionInfo>): string {
  if (v.version === undefined) return '';
  if (v.verified) return `${v.version ?? '?'} (verified)`;
  return `${v.version ?? 'unknown version'} (not verified; swarm verified ${v.verified_with?.join(', ') || 'none'})`;
}

/** Pure: what an agent with this sandbox can reach, in words (`swarm agents`; docs/sandbox.md says the same). */
export function reach(sandbox: string, network = 'open'): string[] {
  if (sandbox === 'bwrap') {
    return [
      'sandbox: bubblewrap. Writes only its own checkout (a clone with its own refs) and its own home; reads the machine',
      '  read-only; .swarm/ (the daemon token), other checkouts and home secrets (~/.ssh, ~/.aws, ~/.config/gh, ...) hidden;',
      `  no capabilities; network ${network === 'endpoints' ? 'limited to its endpoints (its API, its model server, network_allow)' : 'open'}. Cannot move main or any other branch: the daemon fetches its branch back.`,
    ];
  }
  return [
    'sandbox: NONE. It runs as you: it can read your home (~/.ssh keys, cloud and GitHub credentials), .swarm/daemon.json',
    '  (the daemon token: merge, stop), other tasks\' worktrees, and move main or any branch (worktrees share refs).',
    '  Its environment is still cut to an allowlist (no forge or notification tokens). Set "sandbox": "bwrap" to confine it.',
  ];
}

/** What `swarm agents` prints: per agent its version, sandbox and whether it can run; what an unsandboxed agent can reach. */
export function renderAgents(listing: AgentListing): string {
  const lines = ['Configured agents:'];
  if (listing.configured.length === 0) lines.push('  none (run `swarm init` in a repository)');
  for (const a of listing.configured) {
    lines.push(`  ${a.name.padEnd(12)} ${a.type.padEnd(9)} ${(a.model ?? '-').padEnd(24)} ${a.usable ? `usable ${versionText(a)}` : `NOT usable: ${a.problem ?? ''}`}`);
    for (const line of reach(a.sandbox, a.network)) lines.push(`  ${''.padEnd(12)} ${line}`);
  }
  lines.push('', 'Coding CLIs on this machine:');
  for (const c of listing.installed) lines.push(`  ${c.type.padEnd(9)} ${c.executable ?? 'not found'} ${versionText(c)}`.trimEnd());
  return lines.join('\n');
}

export interface DoctorCheck {
  agent: string;
  ok: boolean;
  what: string;
}

/** `swarm doctor`: every configured agent really checked (binary, version, every flag, refusals, model); what to change. */
export async function doctor(project: Project): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const name of Object.keys(project.config.agents)) {
    try {
      const agent = resolveAgent(project.config, project.repo.root, name);
      await preflightAgent(agent, project.repo.root);
      const v = await versionOf(agent.config.type, agent.executable);
      const note = v.version === undefined ? '' : v.verified ? `, ${agent.config.type} ${v.version ?? ''} verified` : `, ${agent.config.type} ${v.version ?? 'unknown version'} is not a verified version (verified: ${v.verified_with?.join(', ') ?? 'none'}); it passed the flag check`;
      checks.push({ agent: name, ok: true, what: `runs (${agent.executable})${note}; sandbox ${agent.sandbox}` });
    } catch (err) {
      checks.push({ agent: name, ok: false, what: errorMessage(err) });
    }
  }
  if (checks.length === 0) checks.push({ agent: '-', ok: false, what: 'No agents are configured. Run `swarm init`, or add one under "agents" in swarm.config.json.' });
  const configured = project.config.sandbox;
  const probe = probeSandbox();
  checks.push({ agent: 'sandbox', ok: configured === 'none' || probe.ok, what: sandboxLine(configured) });
  // Each host, asked for real: what fails there is said with what to do.
  if (Object.keys(project.config.hosts).length + Object.keys(project.config.kubernetes).length) {
    const { hostReports } = await import('./hosts.js');
    for (const report of await hostReports(project)) {
      for (const c of report.checks) checks.push({ agent: `host ${report.name}`, ok: c.ok, what: c.what });
    }
  }
  return checks;
}
