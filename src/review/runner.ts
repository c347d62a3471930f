/**
 * Reviewer runs: each reviewer of the configured list runs in its own session (transcript, `swarm attach`,
 * liveness) on its own checkout of the round's head (checkout.ts), and its answer is read from its transcript
 * once it exits. A round is one head: its sessions belong to it and are stopped with it. The monitor decides
 * from these facts (gate.ts); nothing here decides.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Registry } from '../../registry/registry.js';
import type { AttemptRow, ReviewRoundRow, TaskRow } from '../../registry/types.js';
import type { SwarmConfig } from '../config/schema.js';
import { AgentError, errorMessage } from '../errors.js';
import { agentEnv, type Launch, type LaunchContext } from '../agents/adapter.js';
import { checkFlags } from '../agents/versions.js';
import { stripAnsi } from '../../monitor/evidence/terminal.js';
import { builtinProviderEnv, ollamaHost } from '../agents/builtin/adapter.js';
import { SWARM_BIN } from '../install.js';
import { ADAPTERS, resolveAgent, type ResolvedAgent } from '../agents/registry.js';
import { confineAgent } from '../sandbox/confine.js';
import { SESSION_FILES } from '../sessions/protocol.js';
import { freshSessionDir } from '../sessions/sessions.js';
import { localRunners, type Runners } from '../runners/runners.js';
import { git } from '../workspace/git.js';
import { checkoutChanges, createReviewCheckout, removeReviewCheckouts, reviewCheckout, tamperWhy } from './checkout.js';
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
  /** Where a task's reviewer sessions run (its task's runner); default: this machine. */
  runners?: Runners;
}

/**
 * Reviewers run on this machine whatever runner the task has: a reviewer reads a checkout of the head made from
 * the user's repository (the task's branch is fetched here before any review), so it never trusts the host.
 */
function runnerOf(deps: ReviewDeps, _task: TaskRow) {
  return (deps.runners ?? localRunners(deps.repoRoot, deps.sessionsDir)).local;
}

function reviewAttempts(deps: ReviewDeps, task: TaskRow): AttemptRow[] {
  return deps.registry.attempts(task.id).filter((a) => a.kind === 'review');
}

/** A finished review attempt as a try; an exited one is read from its transcript and stored once. */
async function tryOf(deps: ReviewDeps, task: TaskRow, attempt: AttemptRow): Promise<ReviewTry> {
  if (attempt.ended_at !== null) {
    if (attempt.outcome === 'timed_out') return { state: 'timed_out', why: attempt.evidence ?? 'timed out' };
    if (attempt.outcome === 'tampered') return { state: 'tampered', why: attempt.evidence ?? 'changed its checkout' };
    const stored = attempt.report ? ReviewAnswer.safeParse(JSON.parse(attempt.report)) : null;
    return stored?.success ? { state: 'usable', review: stored.data } : { state: 'unusable', why: attempt.evidence ?? 'no usable answer' };
  }
  const runner = runnerOf(deps, task);
  const view = await runner.look(attempt.session_dir, 1024 * 1024);
  const live = view.live;
  if (live.kind === 'starting' || live.kind === 'running') {
    const limit = deps.config.review.timeout_minutes * 60_000;
    if (Date.now() - attempt.started_at < limit) return { state: 'running' };
    await runner.kill(attempt.session_dir);
    const why = `stopped after review.timeout_minutes (${deps.config.review.timeout_minutes} min) without an answer`;
    deps.registry.updateAttempt(attempt.id, { ended_at: Date.now(), outcome: 'timed_out', evidence: why });
    return { state: 'timed_out', why };
  }
  // Whatever it answered, a reviewer that changed what it was given to review has failed.
  const changes = checkoutChanges(reviewCheckout(task, attempt.agent), attempt.started_at);
  if (changes.length) {
    const why = tamperWhy(changes);
    deps.registry.updateAttempt(attempt.id, { ended_at: live.kind === 'exited' ? live.exit.ended_at : Date.now(), exit_code: live.kind === 'exited' ? live.exit.exit_code : null, outcome: 'tampered', evidence: why });
    deps.registry.recordEvent(task.id, 'review_tampered', { reviewer: attempt.agent, round: attempt.round_id, changes });
    return { state: 'tampered', why };
  }
  const transcript = live.kind === 'exited' ? view.tail : '';
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
    ...(result.state === 'usable' ? { report: JSON.stringify({ ...result.review, usage }) } : { evidence: result.state === 'unusable' ? result.why : null, report: JSON.stringify({ usage }) }),
  });
  return result;
}

/** Each configured reviewer's tries in this round (one head: a moved head is a new round). */
export async function reviewFacts(deps: ReviewDeps, task: TaskRow, round: ReviewRoundRow): Promise<ReviewerFacts[]> {
  const tries = reviewAttempts(deps, task).filter((a) => a.round_id === round.id);
  const facts: ReviewerFacts[] = [];
  for (const r of deps.config.review.reviewers) {
    const mine: ReviewTry[] = [];
    for (const a of tries.filter((t) => t.agent === r.name)) mine.push(await tryOf(deps, task, a));
    facts.push({ name: r.name, tries: mine });
  }
  return facts;
}

/** The round's reviewer sessions still alive (or only `only`'s) are stopped (whole tree), each said in an event. */
export async function stopRoundReviewers(deps: ReviewDeps, task: TaskRow, round: ReviewRoundRow, why: string, only?: string): Promise<void> {
  const open = reviewAttempts(deps, task).filter((a) => a.round_id === round.id && a.ended_at === null && (only === undefined || a.agent === only));
  if (!open.length) return;
  const runner = runnerOf(deps, task);
  for (const attempt of open) {
    const survivors = (await runner.stop(attempt.session_dir)) ?? [];
    deps.registry.updateAttempt(attempt.id, { ended_at: Date.now(), outcome: 'stopped', evidence: why });
    deps.registry.recordEvent(task.id, 'reviewer_stopped', { reviewer: attempt.agent, round: round.id, why, ...(survivors.length ? { survivors } : {}) });
  }
}

/** A reviewer's findings on the task's earlier heads (earlier rounds), for it to check. */
function earlierFindings(deps: ReviewDeps, task: TaskRow, round: ReviewRoundRow, reviewer: string): Finding[] {
  return reviewAttempts(deps, task)
    .filter((a) => a.agent === reviewer && a.round_id !== round.id && a.report)
    .flatMap((a) => ReviewAnswer.safeParse(JSON.parse(a.report!)).data?.findings ?? []);
}

/** Blocking findings of earlier rounds (each sent the work back): "fixed on the way" once the task is approved. */
export function findingsFixed(deps: ReviewDeps, task: TaskRow): number {
  const block = deps.config.review.block_on;
  return reviewAttempts(deps, task)
    .filter((a) => a.n < task.attempt && a.report)
    .reduce((sum, a) => sum + (ReviewAnswer.safeParse(JSON.parse(a.report!)).data?.findings.filter((f) => block.includes(f.severity)).length ?? 0), 0);
}

/** The round's checkouts removed (the reviewers are done with them). */
export function removeRoundCheckouts(deps: ReviewDeps, task: TaskRow): void {
  removeReviewCheckouts(task, deps.config.review.reviewers.map((r) => r.name));
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

/**
 * Starts the named reviewers on the round's head, each on a fresh checkout of its own; `correction` asks one
 * again after an unusable answer. The prompt says CI passed only when CI passed on exactly this head.
 */
export async function startReviewers(deps: ReviewDeps, task: TaskRow, round: ReviewRoundRow, names: readonly string[], correction: string | null = null): Promise<void> {
  const { repoRoot, config, registry } = deps;
  const head = round.head;
  const diff = boundDiff(await git(repoRoot, ['diff', '--no-color', '--no-ext-diff', `${task.base}...${head}`]), config.review.max_diff_chars);
  const ci = !config.ci.command && round.ci_head === null ? 'no CI is configured' : round.ci_head === head ? `green (${config.ci.command ? `\`${config.ci.command.join(' ')}\`` : 'the checks'} passed on this head)` : 'not run on this head';
  for (const name of names) {
    const reviewer = config.review.reviewers.find((r) => r.name === name);
    if (!reviewer) continue;
    const agent = resolveAgent(config, repoRoot, reviewer.agent, { model: reviewer.model ?? null });
    const tries = reviewAttempts(deps, task).filter((a) => a.round_id === round.id && a.agent === name).length;
    const checkout = reviewCheckout(task, name);
    await createReviewCheckout(repoRoot, checkout, head);
    const prompt = reviewPrompt({ reviewer: name, focus: reviewer.focus, task, diff, ci, earlier: earlierFindings(deps, task, round, name), correction });
    const { sessionId, dir } = freshSessionDir(deps.sessionsDir, `t${task.id}-a${task.attempt}-review-${name}-r${round.id}-${tries + 1}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const promptFile = join(dir, SESSION_FILES.prompt);
    writeFileSync(promptFile, prompt, { mode: 0o600 });
    const context: LaunchContext = { taskId: task.id, attempt: task.attempt, prompt, promptFile, worktree: checkout, repoRoot, agentName: agent.name, model: agent.model, config: agent.config, resumeSession: null, gitDirs: [], sandboxed: agent.sandbox === 'bwrap' };
    const { argv, env } = reviewerLaunch(agent, context);
    await checkFlags(agent.name, agent.adapter, agent.executable, argv, [prompt]);
    // Sandboxed, a reviewer gets what an agent gets (a fresh home, its network), with its checkout read-only.
    const confined = agent.sandbox === 'bwrap' ? confineAgent({ agent, argv, env, repoRoot, worktree: checkout, stateDir: dirname(deps.sessionsDir), sessionDir: dir, promptFile, homeRead: config.sandbox_home_read, homeCopy: config.sandbox_home_copy, homeKey: basename(checkout), freshHome: true, readOnly: true, registries: [] }) : null;
    const attempt = registry.insertAttempt({ task_id: task.id, n: task.attempt, kind: 'review', agent: name, session_id: sessionId, session_dir: dir, prompt: prompt.length <= 64 * 1024 ? prompt : `${prompt.slice(0, 64 * 1024)}\n…`, head_sha: head, round_id: round.id, model: agent.model });
    const state = await runnerOf(deps, task).start(dir, { argv: confined?.argv ?? argv, cwd: checkout, env: confined?.env ?? env, ...(confined?.net ? { net: confined.net } : {}), cols: 120, rows: 40, scrollback_bytes: 256 * 1024, transcript_max_bytes: 16 * 1024 * 1024 });
    registry.updateAttempt(attempt.id, { holder_pid: state.holder_pid, holder_start: state.holder_start, child_pid: state.child_pid, child_start: state.child_start });
    registry.recordEvent(task.id, 'review_started', { reviewer: name, agent: agent.name, model: agent.model, try: tries + 1, head, round: round.id });
  }
}

/** This round's answers posted on the forge's PR, each once; a failure to post is recorded, never blocking. */
export async function postRoundReviews(deps: ReviewDeps, task: TaskRow, round: ReviewRoundRow, post: (task: TaskRow, payload: ReviewPayload) => Promise<void>): Promise<void> {
  const head = round.head;
  const posted = new Set(deps.registry.events(task.id).filter((e) => e.kind === 'review_posted').map((e) => (JSON.parse(e.data ?? '{}') as { attempt?: number }).attempt));
  const answered = reviewAttempts(deps, task).filter((a) => a.round_id === round.id && a.report && !posted.has(a.id));
  if (!answered.length) return;
  const lines = diffLines(await git(deps.repoRoot, ['diff', '--no-color', '--no-ext-diff', `${task.base}...${head}`]));
  for (const attempt of answered) {
    const answer = ReviewAnswer.safeParse(JSON.parse(attempt.report!));
    if (!answer.success) continue;
    const reviewer = deps.config.review.reviewers.find((r) => r.name === attempt.agent);
    const model = attempt.model ?? (reviewer ? (reviewer.model ?? deps.config.agents[reviewer.agent]?.model ?? null) : null);
    try {
      await post(task, reviewPayload({ reviewer: attempt.agent, model, answer: answer.data, head, lines }));
      deps.registry.recordEvent(task.id, 'review_posted', { attempt: attempt.id, reviewer: attempt.agent });
    } catch (err) {
      deps.registry.recordEvent(task.id, 'review_post_failed', { attempt: attempt.id, reviewer: attempt.agent, error: errorMessage(err) });
    }
  }
}
