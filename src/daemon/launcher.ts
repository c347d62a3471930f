import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from '../../registry/registry.js';
import { dependsOn, Evidence, type TaskRow } from '../../registry/types.js';
import type { JsonModel } from '../orchestrator/model.js';
import { rewritePrompt } from '../orchestrator/planner.js';
import { contextDir, listNotes } from '../orchestrator/context-store.js';
import { pickContext, renderContext } from '../orchestrator/retrieval.js';
import { branchExists, combineBranches } from '../workspace/git.js';
import { composePrompt } from '../agents/prompt.js';
import { AgentReport } from '../agents/report.js';
import { refuseAgent, resolveAgent } from '../agents/registry.js';
import { checkFlags } from '../agents/versions.js';
import { projectRegistries } from '../sandbox/confine.js';
import type { ConfineRequest } from '../sandbox/request.js';
import type { SwarmConfig } from '../config/schema.js';

import { SESSION_FILES } from '../sessions/protocol.js';
import { LocalRunner } from '../runners/local.js';
import { Runners } from '../runners/runners.js';
import { stopEarlierAgents } from '../runners/earlier.js';
import { AgentError, errorMessage } from '../errors.js';
import type { WorktreePool } from '../workspace/pool.js';
import type { SpareHolder } from '../sessions/spare.js';
import { needsHelpMessage } from '../notify/messages.js';

export interface LauncherDeps {
  /** The orchestrator's model, when configured: it may rewrite a respawn's prompt. */
  orchestrator?: JsonModel | null;
  repoRoot: string;
  config: SwarmConfig;
  registry: Registry;
  sessionsDir: string;
  channels: readonly string[];
  log: Logger;
  /** Warm worktrees a launch may take (the daemon's). */
  pool?: WorktreePool;
  /** A session holder started ahead of need (the daemon's). */
  spares?: SpareHolder;
  /** Where each task's sessions run; default: this machine (with `spares`). */
  runners?: Runners;
  /** A task waiting on its cluster asks to be tried again in `ms` (its pod is starting), sooner than the next pass. */
  comeBackIn?: (ms: number) => void;
}

function runnerOf(deps: LauncherDeps, task: TaskRow) {
  return (deps.runners ?? new Runners(new LocalRunner({ repoRoot: deps.repoRoot, sessionsDir: deps.sessionsDir, config: deps.config, ...(deps.spares ? { spares: deps.spares } : {}), ...(deps.pool ? { pool: deps.pool } : {}) }))).for(task);
}

export function evidenceHistory(registry: Registry, taskId: number): Evidence[] {
  const history: Evidence[] = [];
  for (const attempt of registry.attempts(taskId)) {
    if (attempt.evidence === null) continue;
    const parsed = Evidence.safeParse(JSON.parse(attempt.evidence));
    if (parsed.success) history.push(parsed.data);
  }
  return history;
}

/** Where a new branch starts: base, or, for a task whose dependencies are ready but not merged, their work. */
async function startPoint(deps: LauncherDeps, task: TaskRow): Promise<string> {
  const ids = dependsOn(task);
  if (ids.length === 0 || deps.config.orchestrator.dependency_gate === 'merged') return task.base;
  const branches: string[] = [];
  for (const id of ids) {
    const dep = deps.registry.getTask(id);
    if (dep && dep.state !== 'done' && (await branchExists(deps.repoRoot, dep.branch))) branches.push(dep.branch);
  }
  return combineBranches(deps.repoRoot, task.base, branches);
}

/** The orchestrator (never the monitor) may rewrite the next prompt; the evidence section is appended regardless. */
async function rewriteForRetry(deps: LauncherDeps, task: TaskRow, evidence: Evidence | undefined): Promise<string | null> {
  if (!deps.orchestrator || !evidence || !deps.config.orchestrator.rewrite_on_retry) return null;
  try {
    const notes = listNotes(contextDir(deps.config, deps.repoRoot));
    const context = renderContext(pickContext(notes, `${task.title}\n${evidence.summary}`, deps.config.orchestrator.task_context_tokens));
    const rewritten = await rewritePrompt(deps.orchestrator, { prompt: task.prompt, evidence, context });
    if (rewritten) deps.registry.recordEvent(task.id, 'prompt_rewritten', { by: deps.orchestrator.describe, attempt: task.attempt });
    return rewritten;
  } catch (err) {
    deps.log.warn({ task: task.id, error: errorMessage(err) }, 'orchestrator could not rewrite the prompt; using the evidence as it is');
    return null;
  }
}

/** Takes one queued task to running: worktree, setup, prompt with evidence, a session that outlives us. */
export async function launch(deps: LauncherDeps, taskId: number): Promise<TaskRow | null> {
  const { registry, config, log } = deps;
  const queued = registry.getTask(taskId);
  if (!queued) return null;
  const n = queued.attempt + 1;
  // On a host, the checkout's place there is recorded before anything is made. A host that cannot be reached
  // now leaves the task queued: tried again at the next pass, no retry spent.
  let worktree = queued.worktree;
  if (queued.host !== null) {
    try {
      worktree = await runnerOf(deps, queued).checkoutPath(queued);
    } catch (err) {
      const retryInMs = (err as { retryInMs?: unknown }).retryInMs;
      if (typeof retryInMs === 'number') deps.comeBackIn?.(retryInMs);
      log.warn({ task: taskId, host: queued.host, error: errorMessage(err) }, 'host not reachable; the task waits');
      // Placed there only for want of room here (not pinned by you or its kind): it waits here instead.
      const pinned = (registry.events(taskId).find((e) => e.kind === 'created')?.data ?? '').includes('"host"');
      if (!pinned) registry.transition(taskId, 'queued', 'queued', { event: 'unplaced', data: { host: queued.host, why: errorMessage(err) }, patch: { host: null } });
      else if (queued.reason !== errorMessage(err)) registry.transition(taskId, 'queued', 'queued', { event: 'host_waiting', data: { host: queued.host, why: errorMessage(err) }, patch: { reason: errorMessage(err) } });
      return null;
    }
  }
  const task = registry.transition(taskId, 'queued', 'preparing', { event: 'preparing', data: { attempt: n, ...(queued.host ? { host: queued.host } : {}) }, patch: { attempt: n, started_at: queued.started_at ?? Date.now(), worktree, ...(registry.events(taskId).at(-1)?.kind === 'host_waiting' ? { reason: null } : {}) } });
  if (!task) return null; // someone else moved it (killed, or another launch)
  try {
    // On a host, the agent's CLI and bubblewrap are the host's (looked up and checked there).
    const elsewhere = task.host !== null;
    const agent = resolveAgent(config, deps.repoRoot, task.agent, { model: task.model, elsewhere });
    refuseAgent(agent, undefined, elsewhere);
    const stuck = await stopEarlierAgents(runnerOf(deps, task), registry, task.id, n);
    if (stuck) throw new AgentError('SWARM_AGENT_ORPHAN', `An earlier agent of task ${task.id} (session ${stuck.session}) is still running and could not be stopped (PIDs ${stuck.survivors.join(', ')}). Kill them, then \`swarm retry ${task.id}\`.`);
    const sandboxed = agent.sandbox === 'bwrap';
    const runner = runnerOf(deps, task);
    const { how, installs, gitDirs } = await runner.prepare(task, { start: await startPoint(deps, task), kind: sandboxed ? 'clone' : 'worktree' });
    if (installs.length) registry.recordEvent(task.id, 'dependencies', { how: installs });
    const role = task.kind ? config.kinds[task.kind]?.prompt : undefined;
    // Transient trouble (a rate limit) is nothing the agent can act on: its prompt gets the task's own failures.
    const history = evidenceHistory(registry, task.id).filter((e) => e.reason !== 'transient');
    const body = n > 1 ? ((await rewriteForRetry(deps, task, history.at(-1))) ?? task.prompt) : task.prompt;
    const prompt = composePrompt({ taskId: task.id, prompt: body, role, base: task.base, branch: task.branch, attempt: n, history, hasCi: config.ci.command !== undefined, evidence: config.evidence });
    const previous = registry.latestAttempt(task.id, 'agent');
    const resumeSession = agent.config.resume && previous?.report ? (AgentReport.safeParse(JSON.parse(previous.report)).data?.session_id ?? null) : null;
    const { sessionId, dir } = await runner.freshSession(task, `t${task.id}-a${n}`);
    const promptFile = join(dir, SESSION_FILES.prompt);
    const launchSpec = agent.adapter.build({ taskId: task.id, attempt: n, prompt, promptFile, worktree: task.worktree, repoRoot: deps.repoRoot, agentName: agent.name, model: agent.model, config: agent.config, resumeSession, gitDirs, sandboxed });
    // A flag the installed CLI lacks is an agent fault with its name, not a crash loop (cached per binary).
    if (!elsewhere) await checkFlags(agent.name, agent.adapter, agent.executable, launchSpec.argv, [prompt, ...(resumeSession ? [resumeSession] : [])]);
    const argv = [agent.executable, ...launchSpec.argv.slice(1)];
    // The sandbox is asked for, and built by the runner where the agent runs (a host's own home and logins).
    const confine: ConfineRequest | null = sandboxed ? { kind: 'agent', worktree: task.worktree, home_read: config.sandbox_home_read, agent: agent.name, config: agent.config, network: agent.network, prompt_file: promptFile, home_copy: config.sandbox_home_copy, fresh_home: n === 1, registries: projectRegistries(config.sandbox_registries, deps.repoRoot) } : null;
    // Killed while it was being prepared (a long setup): no agent is started for it.
    if (registry.getTask(task.id)?.state !== 'preparing') {
      log.info({ task: task.id }, 'task left preparing before its agent started; not started');
      return null;
    }
    // The attempt row exists before the holder does, so a crash in between is recoverable.
    // The full prompt is in the session folder; the registry keeps it only while it is small (a 2 MB prompt
    // copied into every attempt's row grew the database by megabytes each retry).
    const stored = Buffer.byteLength(prompt) <= 64 * 1024 ? prompt : `${prompt.slice(0, 4_000)}\n…\n[the whole prompt (${Math.round(Buffer.byteLength(prompt) / 1024)} KB) is in ${promptFile}]\n${prompt.slice(-8_000)}`;
    const attempt = registry.insertAttempt({ task_id: task.id, n, kind: 'agent', agent: agent.name, session_id: sessionId, session_dir: dir, prompt: stored });
    const state = await runner.start(dir, { argv, cwd: task.worktree, env: launchSpec.env, ...(confine ? { confine } : {}), cols: 120, rows: 40, scrollback_bytes: 256 * 1024, transcript_max_bytes: Math.round(config.transcript_max_mb * 1024 * 1024) }, { [SESSION_FILES.prompt]: prompt });
    registry.updateAttempt(attempt.id, { holder_pid: state.holder_pid, holder_start: state.holder_start, child_pid: state.child_pid, child_start: state.child_start });
    const running = registry.transition(task.id, 'preparing', 'running', { event: 'agent_started', data: { attempt: n, session: sessionId, pid: state.child_pid, worktree: how, ...(sandboxed ? { sandbox: 'bwrap', network: agent.network } : {}) } });
    if (!running) {
      // Killed while it was being prepared (`swarm kill` saw no session yet): the agent just started goes too.
      await runner.kill(dir, 'SIGKILL').catch(() => false);
      registry.updateAttempt(attempt.id, { ended_at: Date.now(), outcome: 'interrupted' });
      log.info({ task: task.id, session: sessionId }, 'task left preparing while its agent started; agent stopped');
      return null;
    }
    log.info({ task: task.id, attempt: n, session: sessionId, pid: state.child_pid }, 'agent started');
    return running;
  } catch (err) {
    const message = errorMessage(err);
    log.error({ task: task.id, error: message }, 'could not start agent');
    const latest = registry.latestAttempt(task.id, 'agent');
    if (latest && latest.n === n && latest.ended_at === null) registry.updateAttempt(latest.id, { ended_at: Date.now(), outcome: 'failed_to_start' });
    const reason = `could not start the agent: ${message}`;
    return registry.transition(task.id, 'preparing', 'needs_help', {
      event: 'needs_help',
      data: { reason },
      patch: { reason },
      notify: { dedupe: `${task.id}:needs_help:${n}`, channels: deps.channels, message: needsHelpMessage(task, reason) },
    });
  }
}

/**
 * After a daemon crash: a task left in `preparing` either got its session (adopt it) or did not (queue it again,
 * without spending a retry, since the agent never ran).
 */
export async function recoverPreparing(deps: LauncherDeps): Promise<void> {
  for (const task of deps.registry.listTasks(['preparing'])) {
    const attempt = deps.registry.latestAttempt(task.id, 'agent');
    const live = attempt && attempt.n === task.attempt ? (await runnerOf(deps, task).look(attempt.session_dir, 0)).live : null;
    if (attempt && live && (live.kind === 'running' || live.kind === 'exited')) {
      if (live.kind === 'running') deps.registry.updateAttempt(attempt.id, { holder_pid: live.state.holder_pid, holder_start: live.state.holder_start, child_pid: live.state.child_pid, child_start: live.state.child_start });
      deps.registry.transition(task.id, 'preparing', 'running', { event: 'agent_adopted', data: { attempt: task.attempt } });
    } else {
      if (attempt && attempt.n === task.attempt && attempt.ended_at === null) deps.registry.updateAttempt(attempt.id, { ended_at: Date.now(), outcome: 'interrupted' });
      deps.registry.transition(task.id, 'preparing', 'queued', { event: 'requeued', data: { why: 'daemon stopped while preparing' } });
    }
  }
}
