/**
 * Reviewer runs: each reviewer of the configured list runs in its own session (transcript, `swarm attach`,
 * liveness) on a read-only checkout of the PR head, and its answer is read from its transcript once it exits.
 * The monitor decides from these facts (gate.ts); nothing here decides.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Registry } from '../../registry/registry.js';
import type { AttemptRow, TaskRow } from '../../registry/types.js';
import type { SwarmConfig } from '../config/schema.js';
import { AgentError, errorMessage } from '../errors.js';
import { agentEnv, type Launch, type LaunchContext } from '../agents/adapter.js';
import { checkFlags } from '../agents/versions.js';
import { stripAnsi } from '../../monitor/evidence/terminal.js';
import { builtinProviderEnv, ollamaHost } from '../agents/builtin/adapter.js';
import { SWARM_BIN } from '../install.js';
import { ADAPTERS, resolveAgent, type ResolvedAgent } from '../agents/registry.js';
import { agentHome, sandboxCommand, sandboxPlan } from '../sandbox/plan.js';
import { SESSION_FILES } from '../sessions/protocol.js';
import { freshSessionDir, killSession, readTranscriptTail, sessionLiveness, startSession } from '../sessions/sessions.js';
import { git, revParse, runGit } from '../workspace/git.js';
import * as z from 'zod';
import { ANSWER_MARK, USAGE_MARK } from './builtin.js';
import { parseReview, ReviewAnswer, type Finding } from './findings.js';
import type { ReviewerFacts, ReviewTry } from './gate.js';
import { boundDiff, reviewPrompt } from './prompt.js';
import { diffLines, reviewPayload, type ReviewPayload } from './post.js';

export interface ReviewDeps {
  repoRoot: string;
  config: SwarmConfig;
  registry: Registry;
  sessionsDir: string;
}

function reviewAttempts(deps: ReviewDeps, task: TaskRow): AttemptRow[] {
  return deps.registry.attempts(task.id).filter((a) => a.kind === 'review');
}

/** A finished review attempt as a try; an exited one is read from its transcript and stored once. */
function tryOf(deps: ReviewDeps, attempt: AttemptRow): ReviewTry {
  if (attempt.ended_at !== null) {
    const stored = attempt.report ? ReviewAnswer.safeParse(JSON.parse(attempt.report)) : null;
    return stored?.success ? { state: 'usable', review: stored.data } : { state: 'unusable', why: attempt.evidence ?? 'no usable answer' };
  }
  const live = sessionLiveness(attempt.session_dir);
  if (live.kind === 'starting' || live.kind === 'running') {
    const limit = deps.config.review.timeout_minutes * 60_000;
    if (Date.now() - attempt.started_at < limit) return { state: 'running' };
    killSession(attempt.session_dir);
    const why = `the reviewer was still running after review.timeout_minutes (${deps.config.review.timeout_minutes}) and was stopped`;
    deps.registry.updateAttempt(attempt.id, { ended_at: Date.now(), outcome: 'unusable', evidence: why });
    return { state: 'unusable', why };
  }
  const transcript = live.kind === 'exited' ? readTranscriptTail(attempt.session_dir, 1024 * 1024) : '';
  const { text: answer, usage } = answerText(deps, attempt.agent, stripAnsi(transcript));
  const lastLine = transcript.trim().split('\n').at(-1)?.trim() ?? '';
  let result: ReviewTry;
  if (live.kind !== 'exited') result = { state: 'unusable', why: 'the reviewer session vanished without an answer' };
  else if (live.exit.exit_code !== 0) result = { state: 'unusable', why: `the reviewer exited with code ${String(live.exit.exit_code)}${lastLine ? `: ${lastLine.slice(0, 200)}` : ''}` };
  else {
    const parsed = parseReview(answer);
    result = parsed.ok ? { state: 'usable', review: parsed.review } : { state: 'unusable', why: parsed.why };
  }
  deps.registry.updateAttempt(attempt.id, {
    ended_at: live.kind === 'exited' ? live.exit.ended_at : Date.now(),
    exit_code: live.kind === 'exited' ? live.exit.exit_code : null,
    outcome: result.state === 'usable' ? result.review.verdict : 'unusable',
    ...(result.state === 'usable' ? { report: JSON.stringify({ ...result.review, usage }) } : { evidence: result.why, report: JSON.stringify({ usage }) }),
  });
  return result;
}

/** Each configured reviewer's tries on this attempt of the task and this head (this round: a moved head is reviewed anew). */
export function reviewFacts(deps: ReviewDeps, task: TaskRow, head: string | null): ReviewerFacts[] {
  const round = reviewAttempts(deps, task).filter((a) => a.n === task.attempt && (head === null || a.head_sha === head));
  return deps.config.review.reviewers.map((r) => ({ name: r.name, tries: round.filter((a) => a.agent === r.name).map((a) => tryOf(deps, a)) }));
}

/** A reviewer's findings on the task's earlier heads (earlier rounds), for it to check. */
function earlierFindings(deps: ReviewDeps, task: TaskRow, reviewer: string): Finding[] {
  return reviewAttempts(deps, task)
    .filter((a) => a.agent === reviewer && a.n < task.attempt && a.report)
    .flatMap((a) => ReviewAnswer.safeParse(JSON.parse(a.report!)).data?.findings ?? []);
}

/** Blocking findings of earlier rounds (each sent the work back): "fixed on the way" once the task is approved. */
export function findingsFixed(deps: ReviewDeps, task: TaskRow): number {
  const block = deps.config.review.block_on;
  return reviewAttempts(deps, task)
    .filter((a) => a.n < task.attempt && a.report)
    .reduce((sum, a) => sum + (ReviewAnswer.safeParse(JSON.parse(a.report!)).data?.findings.filter((f) => block.includes(f.severity)).length ?? 0), 0);
}

/** The read-only checkout reviewers look at: a detached worktree at the PR head, beside the task's. */
export function reviewCheckout(task: TaskRow): string {
  return join(dirname(task.worktree), `${basename(task.worktree)}.review`);
}

async function prepareCheckout(repoRoot: string, path: string, head: string): Promise<void> {
  const current = await runGit(path, ['rev-parse', 'HEAD']).catch(() => null);
  if (current?.code === 0 && current.stdout.trim() === head) return;
  await runGit(repoRoot, ['worktree', 'remove', '--force', path]);
  mkdirSync(dirname(path), { recursive: true });
  await git(repoRoot, ['worktree', 'add', '--detach', '--quiet', path, head]);
}

export async function removeReviewCheckout(repoRoot: string, task: TaskRow): Promise<void> {
  await runGit(repoRoot, ['worktree', 'remove', '--force', reviewCheckout(task)]);
}

/** How a reviewer runs: the built-in reviewer, a CLI in its read-only mode, or a custom command. */
function reviewerLaunch(agent: ResolvedAgent, context: LaunchContext): Launch {
  const c = agent.config;
  if (c.type === 'builtin') {
    const model = agent.model ?? c.model ?? '';
    const argv = [process.execPath, SWARM_BIN, 'agent', 'review', '--prompt-file', context.promptFile, '--model', model, '--num-ctx', String(c.num_ctx), ...(c.openai_base_url ? ['--openai-base-url', c.openai_base_url] : ['--host', ollamaHost(c)]), ...(c.api_key_env ? ['--api-key-env', c.api_key_env] : [])];
    return { argv, env: agentEnv(context, {}, builtinProviderEnv(c)) };
  }
  if (agent.adapter.review) {
    const launch = agent.adapter.review(context);
    return { argv: [agent.executable, ...launch.argv.slice(1)], env: launch.env };
  }
  if (c.type === 'custom') return agent.adapter.build(context);
  throw new AgentError('SWARM_REVIEWER_TYPE', `Reviewer agent "${agent.name}" is of type ${c.type}, which has no read-only review mode; use a builtin, claude, codex, gemini, opencode or custom agent.`);
}

/** The text that holds a reviewer's answer: a CLI's final message, the built-in reviewer's answer, or the whole output. */
function answerText(deps: ReviewDeps, reviewer: string, transcript: string): { text: string; usage: Record<string, number> } {
  const agentName = deps.config.review.reviewers.find((r) => r.name === reviewer)?.agent;
  const type = agentName ? deps.config.agents[agentName]?.type : undefined;
  const parse = type && type !== 'builtin' ? ADAPTERS.get(type)?.parseReport : undefined;
  if (parse) {
    const report = parse(transcript);
    const usage = Object.fromEntries(Object.entries({ input_tokens: report.input_tokens, output_tokens: report.output_tokens, cost_usd: report.cost_usd }).filter((e): e is [string, number] => typeof e[1] === 'number'));
    if (report.final_message) return { text: report.final_message, usage };
  }
  const mark = transcript.lastIndexOf(ANSWER_MARK);
  const line = new RegExp(`${USAGE_MARK} (\\{[^\\n]*\\})`).exec(transcript)?.[1];
  let usage: Record<string, number> = {};
  try {
    usage = line ? z.record(z.string(), z.number()).catch({}).parse(JSON.parse(line)) : {};
  } catch {
    // not ours: a model printed the mark
  }
  return { text: mark === -1 ? transcript : transcript.slice(mark + ANSWER_MARK.length), usage };
}

/** Starts the named reviewers on the task's head; `correction` asks one again after an unusable answer. */
export async function startReviewers(deps: ReviewDeps, task: TaskRow, names: readonly string[], correction: string | null = null): Promise<void> {
  const { repoRoot, config, registry } = deps;
  const head = await revParse(repoRoot, task.branch);
  const checkout = reviewCheckout(task);
  await prepareCheckout(repoRoot, checkout, head);
  const diff = boundDiff(await git(repoRoot, ['diff', '--no-color', '--no-ext-diff', `${task.base}...${task.branch}`]), config.review.max_diff_chars);
  const ci = config.ci.command ? `green (\`${config.ci.command.join(' ')}\` passed on this head)` : 'no CI is configured';
  for (const name of names) {
    const reviewer = config.review.reviewers.find((r) => r.name === name);
    if (!reviewer) continue;
    const agent = resolveAgent(config, repoRoot, reviewer.agent, { model: reviewer.model ?? null });
    const tries = reviewAttempts(deps, task).filter((a) => a.n === task.attempt && a.head_sha === head && a.agent === name).length;
    const prompt = reviewPrompt({ reviewer: name, focus: reviewer.focus, task, diff, ci, earlier: earlierFindings(deps, task, name), correction });
    const { sessionId, dir } = freshSessionDir(deps.sessionsDir, `t${task.id}-a${task.attempt}-review-${name}-${tries + 1}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const promptFile = join(dir, SESSION_FILES.prompt);
    writeFileSync(promptFile, prompt, { mode: 0o600 });
    const context: LaunchContext = { taskId: task.id, attempt: task.attempt, prompt, promptFile, worktree: checkout, repoRoot, agentName: agent.name, model: agent.model, config: agent.config, resumeSession: null, gitDirs: [], sandboxed: agent.sandbox === 'bwrap' };
    const { argv, env } = reviewerLaunch(agent, context);
    await checkFlags(agent.name, agent.adapter, agent.executable, argv, [prompt]);
    const home = agent.sandbox === 'bwrap' ? agentHome(agent.name) : null;
    const command = home ? sandboxCommand(sandboxPlan({ repoRoot, worktree: checkout, stateDir: dirname(deps.sessionsDir), home, promptFile, programs: [agent.executable] }), argv) : argv;
    const attempt = registry.insertAttempt({ task_id: task.id, n: task.attempt, kind: 'review', agent: name, session_id: sessionId, session_dir: dir, prompt: prompt.length <= 64 * 1024 ? prompt : `${prompt.slice(0, 64 * 1024)}\n…`, head_sha: head });
    const state = await startSession(dir, { argv: command, cwd: checkout, env: home ? { ...env, HOME: home } : env, cols: 120, rows: 40, scrollback_bytes: 256 * 1024, transcript_max_bytes: 16 * 1024 * 1024 });
    registry.updateAttempt(attempt.id, { holder_pid: state.holder_pid, holder_start: state.holder_start, child_pid: state.child_pid, child_start: state.child_start });
    registry.recordEvent(task.id, 'review_started', { reviewer: name, agent: agent.name, model: agent.model, try: tries + 1, head });
  }
}

/** This round's answers posted on the forge's PR, each once; a failure to post is recorded, never blocking. */
export async function postRoundReviews(deps: ReviewDeps, task: TaskRow, post: (task: TaskRow, payload: ReviewPayload) => Promise<void>): Promise<void> {
  const head = await revParse(deps.repoRoot, task.branch);
  const posted = new Set(deps.registry.events(task.id).filter((e) => e.kind === 'review_posted').map((e) => (JSON.parse(e.data ?? '{}') as { attempt?: number }).attempt));
  const round = reviewAttempts(deps, task).filter((a) => a.n === task.attempt && a.head_sha === head && a.report && !posted.has(a.id));
  if (!round.length) return;
  const lines = diffLines(await git(deps.repoRoot, ['diff', '--no-color', '--no-ext-diff', `${task.base}...${head}`]));
  for (const attempt of round) {
    const answer = ReviewAnswer.safeParse(JSON.parse(attempt.report!));
    if (!answer.success) continue;
    const reviewer = deps.config.review.reviewers.find((r) => r.name === attempt.agent);
    const model = reviewer ? (reviewer.model ?? deps.config.agents[reviewer.agent]?.model ?? null) : null;
    try {
      await post(task, reviewPayload({ reviewer: attempt.agent, model, answer: answer.data, head, lines }));
      deps.registry.recordEvent(task.id, 'review_posted', { attempt: attempt.id, reviewer: attempt.agent });
    } catch (err) {
      deps.registry.recordEvent(task.id, 'review_post_failed', { attempt: attempt.id, reviewer: attempt.agent, error: errorMessage(err) });
    }
  }
}
