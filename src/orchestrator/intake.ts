/** How tasks enter the registry: one from `swarm spawn`, several from a plan, or one proposed by discovery. */
import { join } from 'node:path';
import * as z from 'zod';
import type { Registry } from '../../registry/registry.js';
import type { TaskRow } from '../../registry/types.js';
import { preflightAgent, resolveAgent, type ResolvedAgent } from '../agents/registry.js';
import { AgentReport } from '../agents/report.js';
import { PROMPT_ARG_LIMIT } from '../agents/adapter.js';
import { rememberTask, type Project } from '../config/project.js';
import type { SwarmConfig } from '../config/schema.js';
import { AgentError, GitError, UsageError } from '../errors.js';
import { branchExists, refExists, runGit } from '../workspace/git.js';
import { slugify, worktreesRoot } from '../workspace/worktrees.js';
import { contextDir, listNotes } from './context-store.js';
import { preferAgent, type OutcomeRow } from './outcomes.js';
import { preferFanoutWinner, type FanoutOutcome } from './fanout-stats.js';
import type { PlannedTask, Plan } from './plan.js';
import { topologicalOrder } from './plan.js';
import { pickContext, renderContext } from './retrieval.js';

export const SpawnInput = z.object({
  prompt: z.string(),
  agent: z.string().optional(),
  model: z.string().optional(),
  kind: z.string().optional(),
  title: z.string().optional(),
  branch: z.string().optional(),
  base: z.string().optional(),
  /** Run it on this host from the config's hosts (default: this machine). */
  host: z.string().optional(),
});
export type SpawnInput = z.infer<typeof SpawnInput>;

/** Bigger prompts than this are refused: no model reads 8 MB of instructions, and each attempt carries it. */
export const MAX_PROMPT_BYTES = 8 * 1024 * 1024;

/** What cannot be passed is refused at spawn: a giant prompt, or a big one for a custom agent's {prompt} argument. */
function checkPromptSize(prompt: string, agent: ResolvedAgent): void {
  const bytes = Buffer.byteLength(prompt);
  if (bytes > MAX_PROMPT_BYTES) throw new UsageError(`The prompt is ${Math.round(bytes / 1024 / 1024)} MB; the limit is ${MAX_PROMPT_BYTES / 1024 / 1024} MB. Put the material in a file in the repository and point the prompt at it.`);
  const template = [...(agent.config.command ?? []), ...agent.config.args];
  if (agent.config.type === 'custom' && bytes > PROMPT_ARG_LIMIT && template.some((arg) => arg.includes('{prompt}'))) {
    throw new AgentError('SWARM_PROMPT_TOO_LONG', `The prompt (${Math.round(bytes / 1024)} KB) is too long for agent "${agent.name}", which takes it as one argument through {prompt} (Linux allows 128 KB per argument). Use {prompt_file} in its command instead.`);
  }
}

/** Pure: why a branch name the user gave is ambiguous here, or null (git's own rules are checked too). */
export function ambiguousBranch(name: string): string | null {
  if (name === 'HEAD' || name.startsWith('-')) return `"${name}" cannot be a branch name.`;
  if (name.startsWith('refs/')) return `"${name}" looks like a full ref; give the branch name alone (e.g. "${name.replace(/^refs\/(heads\/)?/, '')}").`;
  if (name.startsWith('swarm/')) return `"${name}": swarm/ is where swarm names its own branches (swarm/<id>-<slug>); pick a name outside it.`;
  return null;
}

/** The branch name checked by git itself (git check-ref-format --branch), then for ambiguity. */
async function checkBranchName(repoRoot: string, name: string): Promise<void> {
  const ambiguous = ambiguousBranch(name);
  if (ambiguous) throw new UsageError(ambiguous);
  const result = await runGit(repoRoot, ['check-ref-format', '--branch', name]);
  if (result.code !== 0) throw new UsageError(`"${name}" is not a valid branch name (git check-ref-format: ${result.stderr.trim().replace(/^fatal: /, '')}). Branch names cannot contain spaces, "..", "~", "^", ":", or components starting with ".".`);
}

export function outcomeRows(registry: Registry): OutcomeRow[] {
  // A fan-out itself ran nothing: its candidates are the outcomes.
  return registry.listTasks().filter((t) => t.fanout_size === 0).map((t) => ({
    agent: t.agent,
    model: t.model,
    kind: t.kind,
    state: t.state,
    retries: t.retries,
    created_at: t.created_at,
    pr_at: t.pr_at,
    ready_at: t.ready_at,
    reports: registry
      .attempts(t.id)
      .filter((a) => a.kind === 'agent' && a.report)
      .map((a) => AgentReport.safeParse(JSON.parse(a.report!)).data ?? {}),
  }));
}

/** Each fan-out candidate that won or lost, from the events the merge of a fan-out records. */
export function fanoutOutcomes(registry: Registry): FanoutOutcome[] {
  const out: FanoutOutcome[] = [];
  for (const t of registry.listTasks().filter((t) => t.fanout_of !== null)) {
    const event = registry.events(t.id).find((e) => e.kind === 'fanout_won' || e.kind === 'fanout_lost');
    if (!event) continue;
    const cost = registry.attempts(t.id).reduce((sum, a) => sum + (a.report ? (AgentReport.safeParse(JSON.parse(a.report)).data?.cost_usd ?? 0) : 0), 0);
    out.push({ kind: t.kind, agent: t.agent, model: t.model, won: event.kind === 'fanout_won', cost_usd: cost || null });
  }
  return out;
}

/** The agent for a task: explicit choice, else kind routing, else, with enough outcomes, the one that has worked best. */
export function chooseAgent(project: Project, input: { agent?: string; model?: string; kind?: string; elsewhere?: boolean }): { agent: ResolvedAgent; note: string | null } {
  const { config, repo, registry } = project;
  const agent = resolveAgent(config, repo.root, input.agent, { kind: input.kind, model: input.model, elsewhere: input.elsewhere === true });
  if (input.agent || !input.kind || config.kinds[input.kind]?.agent) return { agent, note: null };
  // Fan-outs are head-to-head comparisons on the same task: their winners are the stronger signal.
  const winner = preferFanoutWinner(fanoutOutcomes(registry), input.kind, Object.keys(config.agents), agent.name, config.orchestrator.min_samples);
  if (winner) return { agent: resolveAgent(config, repo.root, winner.agent, { kind: input.kind, model: input.model, elsewhere: input.elsewhere === true }), note: winner.note };
  const preferred = preferAgent(outcomeRows(registry), input.kind, Object.keys(config.agents), agent.name, config.orchestrator.min_samples);
  if (!preferred) return { agent, note: null };
  return { agent: resolveAgent(config, repo.root, preferred.agent, { kind: input.kind, model: input.model, elsewhere: input.elsewhere === true }), note: preferred.note };
}

async function checkBase(project: Project, base: string): Promise<void> {
  if (!(await refExists(project.repo.root, base))) {
    throw new GitError('SWARM_BASE_MISSING', `Base branch "${base}" does not exist in ${project.repo.root}. Create it (git branch ${base}), or set "base" in swarm.config.json.`);
  }
}

/** A leftover branch from an older registry is never reused: the task gets a fresh name. */
async function freshBranch(project: Project, task: TaskRow): Promise<TaskRow> {
  const { repo, registry } = project;
  if (!(await branchExists(repo.root, task.branch))) return task;
  let n = 2;
  while ((await branchExists(repo.root, `${task.branch}-${n}`)) || registry.branchTaken(`${task.branch}-${n}`)) n++;
  return registry.transition(task.id, task.state, task.state, { event: 'branch_renamed', data: { from: task.branch }, patch: { branch: `${task.branch}-${n}`, worktree: `${task.worktree}-${n}` } }) ?? task;
}

interface NewTaskFields {
  title: string;
  prompt: string;
  agent: ResolvedAgent;
  kind?: string | null;
  base: string;
  branch?: string;
  depends_on?: number[];
  plan_id?: string | null;
  source_key?: string | null;
  routing_note?: string | null;
  state?: 'queued' | 'proposed';
  host?: string | null;
  fanout_of?: number | null;
}

function insertTask(project: Project, fields: NewTaskFields): TaskRow {
  const slug = slugify(fields.title);
  const root = worktreesRoot(project.config, project.repo.root);
  const task = project.registry.createTask({
    title: fields.title.slice(0, 100),
    prompt: fields.prompt,
    agent: fields.agent.name,
    model: fields.agent.model,
    kind: fields.kind || null,
    base: fields.base,
    branch: fields.branch ?? `swarm/{id}-${slug}`,
    worktree: join(root, `{id}-${slug}`),
    max_retries: project.config.max_retries,
    depends_on: fields.depends_on,
    plan_id: fields.plan_id,
    source_key: fields.source_key,
    routing_note: fields.routing_note,
    state: fields.state,
    host: fields.host ?? null,
    fanout_of: fields.fanout_of ?? null,
  });
  // Outside the database: an emptied swarm.db with only queued tasks (no sessions yet) is still seen as lost.
  rememberTask(project.paths, task.id);
  return task;
}

/** A host named at spawn must be in the config. */
function checkHost(project: Project, host: string): void {
  const names = [...Object.keys(project.config.hosts), ...Object.keys(project.config.kubernetes)];
  if (project.config.kubernetes[host]) {
    if (project.config.forge !== 'github') throw new UsageError(`Tasks on cluster ${host} move their code through a forge the cluster can reach: set "forge": "github" in swarm.config.json (a pod cannot reach this machine).`);
    return;
  }
  if (!project.config.hosts[host]) {
    throw new UsageError(names.length ? `Unknown host "${host}". The hosts in swarm.config.json are: ${names.join(', ')} (\`swarm hosts\` checks them).` : `Unknown host "${host}": swarm.config.json has no hosts. Add it under "hosts" (see docs/hosts.md), e.g. "hosts": { "${host}": { "ssh": "me@${host}" } }.`);
  }
}

/**
 * Asked for real at spawn (one round trip): a host that cannot be reached, lacks git, node or this swarm, or
 * lacks the agent's coding CLI is refused now, in words, rather than failing when the task starts.
 */
async function checkHostReady(project: Project, name: string, agent: ResolvedAgent): Promise<void> {
  const cluster = project.config.kubernetes[name];
  if (cluster) {
    // The cluster answers (discovery), and the agent's sandbox is the pod's.
    const { KubeCluster } = await import('../runners/kubernetes/cluster.js');
    const crds = await KubeCluster.load({ kubeconfig: cluster.kubeconfig, context: cluster.context, namespace: cluster.namespace, name }).sandboxCrds();
    if (!crds && !cluster.image) throw new UsageError(`Cluster ${name} has no agent-sandbox CRDs, so its tasks run in plain pods built by swarm: set kubernetes.${name}.image (a SandboxTemplate of yours is used only where the CRDs are installed).`);
    if (agent.sandbox === 'bwrap') throw new UsageError(`On cluster ${name} the pod is the sandbox (kubernetes.${name}.runtime_class): set agent ${agent.name}'s "sandbox" to "none" for its tasks there.`);
    return;
  }
  const { probeHost, agentOnHost } = await import('../runners/ssh/probe.js');
  const report = await probeHost(name, project.config.hosts[name]!, project.paths.dir);
  const problems = report.checks.filter((c) => !c.ok).map((c) => c.what);
  if (report.facts) problems.push(...agentOnHost(name, report.facts, { name: agent.name, type: agent.config.type, sandboxed: agent.sandbox === 'bwrap', command: agent.config.command }));
  if (problems.length) throw new UsageError(`Host ${name} cannot take this task:\n  ${problems.join('\n  ')}`);
}

/** The host name that means this machine (`--host local`: here, whatever the kind's or agent's host). */
const LOCAL = 'local';

/**
 * Where a task is pinned: its --host, else its kind's host, else the host its agent (named, or its kind's)
 * runs on; `local`: this machine, said so; undefined: placed by room. Pure.
 */
export function pinnedHost(config: Pick<SwarmConfig, 'kinds' | 'agents'>, input: { host?: string | undefined; kind?: string | undefined; agent?: string | undefined }): string | undefined {
  const kind = input.kind ? config.kinds[input.kind] : undefined;
  const agent = input.agent ?? kind?.agent;
  return input.host ?? kind?.host ?? (agent ? config.agents[agent]?.runs_on : undefined);
}

/** Queues one task. Durable the moment it returns, daemon or not; nothing is created on disk until it starts. */
export async function spawnTask(project: Project, raw: SpawnInput): Promise<TaskRow> {
  const input = SpawnInput.parse(raw);
  const prompt = input.prompt.trim();
  if (prompt === '') throw new UsageError('The prompt is empty. Say what the agent should do: swarm spawn "Fix the failing login test".');
  const base = input.base ?? project.config.base;
  await checkBase(project, base);
  // A kind or an agent may name the host its tasks run on; --host says otherwise for one task.
  const pinned = pinnedHost(project.config, input);
  let host = pinned === LOCAL ? undefined : pinned;
  if (host !== undefined) checkHost(project, host);
  // On a host, the agent's CLI is the host's: not needed here, checked there.
  const { agent, note } = chooseAgent(project, { ...input, elsewhere: host !== undefined });
  // An agent the router chose may have a host of its own.
  if (pinned === undefined && agent.config.runs_on !== undefined && agent.config.runs_on !== LOCAL) {
    host = agent.config.runs_on;
    checkHost(project, host);
  }
  checkPromptSize(prompt, agent);
  if (host !== undefined) await checkHostReady(project, host, agent);
  else await preflightAgent(agent, project.repo.root);
  if (input.branch !== undefined) {
    await checkBranchName(project.repo.root, input.branch);
    if ((await branchExists(project.repo.root, input.branch)) || project.registry.branchTaken(input.branch)) {
      throw new GitError('SWARM_BRANCH_EXISTS', `Branch "${input.branch}" already exists. Pick another --branch, or leave it out and swarm names one.`);
    }
  }
  const task = insertTask(project, { title: (input.title ?? prompt.split('\n')[0]!).trim(), prompt, agent, kind: input.kind, base, branch: input.branch, routing_note: note, host: host ?? null });
  return input.branch === undefined ? freshBranch(project, task) : task;
}

/** Pure: a planned task's prompt with the business context that matters to it, its acceptance commands and done. */
export function plannedPrompt(task: PlannedTask, context: string): string {
  const parts = [task.prompt.trim()];
  if (context) parts.push('', '## Business context that applies', context);
  if (task.files.length) parts.push('', '## Files likely involved', ...task.files.map((f) => `- ${f}`));
  if (task.acceptance.length) parts.push('', '## Acceptance: these must pass', ...task.acceptance.map((c) => `- \`${c}\``));
  parts.push('', '## Definition of done', `- ${task.acceptance.length ? 'The acceptance commands above pass' : 'The tests pass'}, and the work is committed on your branch.`, '- Nothing outside this task is changed.');
  return parts.join('\n');
}

/** Queues a validated plan: all its tasks in one transaction, dependencies as task ids. */
export async function queuePlan(project: Project, plan: Plan, options: { state?: 'queued' | 'proposed'; source_key?: string } = {}): Promise<TaskRow[]> {
  const { config } = project;
  await checkBase(project, config.base);
  const ordered = topologicalOrder(plan.tasks);
  const agents = new Map<string, { agent: ResolvedAgent; note: string | null }>();
  const hostOf = (planned: PlannedTask): string | null => {
    const pinned = pinnedHost(config, { kind: planned.kind || undefined, agent: planned.agent || undefined });
    return pinned === undefined || pinned === LOCAL ? null : pinned;
  };
  for (const planned of ordered) {
    const host = hostOf(planned);
    if (host) checkHost(project, host);
    agents.set(planned.id, chooseAgent(project, { agent: planned.agent || undefined, kind: planned.kind || undefined, elsewhere: host !== null }));
  }
  // The agents of tasks that run here are checked here (a host's CLI is the host's).
  const checked = new Set<string>();
  for (const planned of ordered) {
    const { agent } = agents.get(planned.id)!;
    if (hostOf(planned) !== null || checked.has(agent.name)) continue;
    checked.add(agent.name);
    await preflightAgent(agent, project.repo.root);
  }
  const notes = listNotes(contextDir(config, project.repo.root));
  const planId = `plan-${Date.now().toString(36)}`;
  const created = project.registry.atomically(() => {
    const ids = new Map<string, number>();
    const rows: TaskRow[] = [];
    for (const planned of ordered) {
      const context = renderContext(pickContext(notes, `${planned.title}\n${planned.prompt}\n${planned.files.join(' ')}`, config.orchestrator.task_context_tokens));
      const { agent, note } = agents.get(planned.id)!;
      const row = insertTask(project, {
        title: planned.title,
        prompt: plannedPrompt(planned, context),
        agent,
        kind: planned.kind,
        base: config.base,
        depends_on: planned.depends_on.map((d) => ids.get(d)!),
        plan_id: planId,
        source_key: options.source_key && rows.length === 0 ? options.source_key : null,
        routing_note: note,
        state: options.state,
        host: hostOf(planned),
      });
      ids.set(planned.id, row.id);
      rows.push(row);
    }
    return rows;
  });
  const out: TaskRow[] = [];
  for (const task of created) out.push(await freshBranch(project, task));
  return out;
}

/** A discovered task: proposed (or queued when auto-approved), once per source key. Null if already proposed. */
export async function proposeTask(project: Project, input: { key: string; title: string; prompt: string; kind?: string }): Promise<TaskRow | null> {
  if (project.registry.sourceKeyTaken(input.key)) return null;
  const { agent, note } = chooseAgent(project, { kind: input.kind && project.config.kinds[input.kind] ? input.kind : undefined });
  const task = insertTask(project, { title: input.title, prompt: input.prompt, agent, kind: input.kind ?? null, base: project.config.base, source_key: input.key, routing_note: note, state: project.config.discovery.auto_approve ? 'queued' : 'proposed' });
  return freshBranch(project, task);
}

/** One candidate of a fan-out: an agent, and the model it is asked to use. */
export interface Candidate {
  agent: string;
  model?: string;
}

/** `claude,codex:gpt-5,claude:opus` as candidates. Pure. */
export function parseCandidates(text: string): Candidate[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [agent, ...model] = s.split(':');
      return model.length ? { agent: agent!, model: model.join(':') } : { agent: agent! };
    });
}

export const MAX_FANOUT = 8;

/**
 * The candidates of a fan-out: --agents as given; else `--fanout N` of the kind's list, the config's list, or
 * the default agent, cycling through the list to N. Pure.
 */
export function fanoutCandidates(config: Pick<SwarmConfig, 'kinds' | 'fanout' | 'default_agent'>, input: { agents?: Candidate[]; fanout?: number; kind?: string; agent?: string }): Candidate[] {
  const listed = input.agents?.length ? input.agents : undefined;
  const pool = listed ?? parseCandidates((input.kind ? config.kinds[input.kind]?.fanout : undefined)?.join(',') ?? config.fanout.agents.join(','));
  const fallback = input.agent ?? (input.kind ? config.kinds[input.kind]?.agent : undefined) ?? config.default_agent;
  const n = input.fanout ?? (listed ? listed.length : pool.length);
  if (listed && input.fanout !== undefined && input.fanout !== listed.length) throw new UsageError(`--fanout ${input.fanout} and --agents name ${listed.length} candidates: give one or the other (or the same number).`);
  if (!Number.isInteger(n) || n < 2 || n > MAX_FANOUT) throw new UsageError(`A fan-out has 2 to ${MAX_FANOUT} candidates (asked: ${n}). Say how many with --fanout N, or which with --agents a,b,c.`);
  const source = pool.length ? pool : fallback ? [{ agent: fallback }] : [];
  if (!source.length) throw new UsageError('No agent to fan out to: name them with --agents claude,codex (or set default_agent, or fanout.agents in swarm.config.json).');
  return Array.from({ length: n }, (_, i) => source[i % source.length]!);
}

/**
 * Queues a fan-out: one task (state `fanout`) and its candidates, each an ordinary task with its own branch,
 * checkout and session that goes through the whole loop and counts against the caps like any other. Every
 * candidate's agent is checked before anything is written: nothing half-made is left behind.
 */
export async function spawnFanout(project: Project, raw: SpawnInput & { candidates: Candidate[] }): Promise<{ task: TaskRow; candidates: TaskRow[] }> {
  const input = SpawnInput.parse(raw);
  const prompt = input.prompt.trim();
  if (prompt === '') throw new UsageError('The prompt is empty. Say what the agents should do: swarm spawn --fanout 3 "Fix the failing login test".');
  if (input.branch !== undefined) throw new UsageError('--branch names one branch; a fan-out has one per candidate. Leave it out.');
  const base = input.base ?? project.config.base;
  await checkBase(project, base);
  const chosen: { agent: ResolvedAgent; host: string | null }[] = [];
  for (const c of raw.candidates) {
    const pinned = pinnedHost(project.config, { host: input.host, kind: input.kind, agent: c.agent });
    const host = pinned === undefined || pinned === LOCAL ? null : pinned;
    if (host) checkHost(project, host);
    const { agent } = chooseAgent(project, { agent: c.agent, model: c.model ?? input.model, kind: input.kind, elsewhere: host !== null });
    checkPromptSize(prompt, agent);
    if (host) await checkHostReady(project, host, agent);
    else await preflightAgent(agent, project.repo.root);
    chosen.push({ agent, host });
  }
  const title = (input.title ?? prompt.split('\n')[0]!).trim();
  const names = chosen.map(({ agent }) => (agent.model ? `${agent.name}:${agent.model}` : agent.name));
  const { parent, rows } = project.registry.atomically(() => {
    const parent = project.registry.createTask({ title: title.slice(0, 100), prompt, agent: [...new Set(chosen.map((c) => c.agent.name))].join('+'), kind: input.kind || null, base, branch: `swarm/{id}-fanout`, worktree: '', max_retries: 0, state: 'fanout', fanout_size: chosen.length });
    const rows = chosen.map(({ agent, host }, i) => insertTask(project, { title: `${title} [${names[i]}]`, prompt, agent, kind: input.kind, base, routing_note: `candidate ${i + 1} of ${chosen.length} of fan-out #${parent.id}`, host, fanout_of: parent.id }));
    return { parent, rows };
  });
  const candidates: TaskRow[] = [];
  for (const row of rows) candidates.push(await freshBranch(project, row));
  return { task: parent, candidates };
}
