import { join } from 'node:path';
/** observe -> decide -> act, for every task that is in flight. Deterministic: no LLM call anywhere here. */
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';
import { dependsOn, Evidence, type ReviewRoundRow, type TaskRow, type TaskState } from '../registry/types.js';
import { dagVerdict } from '../src/orchestrator/dag.js';
import type { SwarmConfig } from '../src/config/schema.js';
import { errorMessage } from '../src/errors.js';
import type { Forge, ForgeObservation } from '../src/forge/forge.js';
import { needsHelpMessage, readyMessage } from '../src/notify/messages.js';
import { AgentWatch } from './agents.js';
import { HostWatch } from './hosts.js';
import { commitsAhead, revParse, runGit } from '../src/workspace/git.js';
import { localRunners, type Runners } from '../src/runners/runners.js';
import { HostUnreachableError } from '../src/runners/errors.js';
import { PodGoneError } from '../src/runners/kubernetes/cluster.js';
import { observeScreenshots, takeScreenshots, type ScreenshotFacts } from '../src/review/screenshots.js';
import { ReviewRounds } from './rounds.js';
import { waitFor } from '../src/wait.js';
import { decide, type Action, type Snapshot } from './decide.js';
import { decideFanouts } from './fanouts.js';

export const WATCHED_STATES: readonly TaskState[] = ['running', 'agent_exited', 'pr_open', 'ci_running', 'reviewing', 'ready'];

export interface MonitorDeps {
  repoRoot: string;
  config: SwarmConfig;
  registry: Registry;
  forge: Forge;
  channels: readonly string[];
  log: Logger;
  agentTimeoutMinutes: (agent: string) => number;
  now?: () => number;
  /** Where sessions live (reviewers start theirs here); default `.swarm/sessions`. */
  sessionsDir?: string;
  /** Where each task's sessions and checkout live; default: all on this machine. */
  runners?: Runners;
}

/** What the monitor reads of a transcript's end: enough for the evidence, the last lines, the reconnect check. */
const LOOK_BYTES = 64 * 1024;

export class Monitor {
  /** Screenshot facts by task, head and whether the command ran: they change only with those. */
  private readonly shotFacts = new Map<string, ScreenshotFacts>();

  private readonly rounds: ReviewRounds;
  private readonly runners: Runners;
  private readonly hosts: HostWatch;
  private readonly agents: AgentWatch;

  constructor(private readonly deps: MonitorDeps) {
    const sessionsDir = deps.sessionsDir ?? join(deps.repoRoot, '.swarm', 'sessions');
    this.runners = deps.runners ?? localRunners(deps.repoRoot, sessionsDir);
    const review = { repoRoot: deps.repoRoot, config: deps.config, registry: deps.registry, sessionsDir, runners: this.runners };
    this.rounds = new ReviewRounds({ review, forge: deps.forge });
    this.hosts = new HostWatch({ ...deps, runners: this.runners, now: () => this.now(), lookBytes: LOOK_BYTES });
    this.agents = new AgentWatch({ config: deps.config, registry: deps.registry, runners: this.runners, now: () => this.now(), lookBytes: LOOK_BYTES });
  }

  /** GitHub runs its own checks; locally, CI is the configured command. */
  private hasCi(): boolean {
    return this.deps.forge.name === 'github' || this.deps.config.ci.command !== undefined;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** What passed: the commit this attempt's green CI ran on; without CI, the tip the forge reported. */
  private async verifiedHead(task: TaskRow, prHead: string | null): Promise<string | null> {
    const ci = this.deps.registry.attempts(task.id).filter((a) => a.kind === 'ci' && a.n === task.attempt && a.outcome === 'passed').at(-1);
    if (ci?.head_sha) return ci.head_sha;
    if (this.deps.forge.name === 'github') return prHead;
    return revParse(this.deps.repoRoot, task.branch).catch(() => null);
  }

  async observe(task: TaskRow): Promise<Snapshot> {
    const { config } = this.deps;
    const agent = task.state === 'running' || task.state === 'agent_exited' ? await this.agents.observe(task) : { kind: 'none' as const };
    let work: Snapshot['work'];
    // A task's branch lives in its checkout (a clone, or on another machine): brought into the repository once
    // the agent has exited. A worktree shares the repository's refs: nothing to bring.
    if (agent.kind === 'exited') await this.runners.for(task).fetchBranch(task);
    if (agent.kind === 'exited' && agent.exit_code === 0) {
      work = { commits_ahead: await commitsAhead(this.deps.repoRoot, task.base, task.branch), uncommitted: await this.runners.for(task).uncommitted(task).catch(() => []) };
    }
    const wantsForge = task.state === 'pr_open' || task.state === 'ci_running' || task.state === 'reviewing' || task.state === 'ready';
    const forge = wantsForge
      ? await this.deps.forge.observe(task, { ci: task.state === 'ci_running', conflicts: wantsForge })
      : { pr: null, ci: { kind: 'none' as const }, conflicts: null };
    // In review the branch's tip is needed (the round's head is compared with it): read once, here.
    const head = forge.head ?? (task.state === 'reviewing' ? await revParse(this.deps.repoRoot, task.branch).catch(() => null) : null);
    return {
      now: this.now(),
      task: { id: task.id, state: task.state, retries: task.retries, max_retries: task.max_retries, transient_waits: task.transient_waits, waited_ms: task.waited_ms },
      limits: {
        backoff: {
          crash_ms: config.backoff.crash_seconds * 1000,
          transient_ms: config.backoff.transient_seconds * 1000,
          max_ms: config.backoff.max_seconds * 1000,
          transient_give_up_ms: config.backoff.transient_give_up_minutes * 60_000,
          reconnect_ms: config.backoff.reconnect_minutes * 60_000,
        },
        stuck_ms: config.stuck_minutes * 60_000,
        agent_timeout_ms: this.deps.agentTimeoutMinutes(task.agent) * 60_000,
        ci_timeout_ms: config.ci.timeout_minutes * 60_000,
        has_ci: this.hasCi(),
        review: { required: config.review.required, block_on: config.review.block_on, timeout_retries: config.review.timeout_retries, reviewers: config.review.reviewers.length },
      },
      ...(await this.screenshots(task, forge.ci, forge.head ?? null)),
      ...(task.state === 'reviewing' ? await this.rounds.observe(task, head) : {}),
      agent,
      work,
      ci: forge.ci,
      conflicts: forge.conflicts,
      pr: forge.pr,
      review: forge.review,
      head,
      verified_sha: task.verified_sha,
    };
  }

  /** Tasks waiting on dependencies: blocked when one failed (visible, never a silent wait), queued again when it recovers. */
  applyDependencies(): void {
    const { registry, config } = this.deps;
    const all = registry.listTasks();
    if (!all.some((t) => t.depends_on !== '[]')) return;
    const byId = new Map(all.map((t) => [t.id, { id: t.id, state: t.state, depends_on: dependsOn(t) }]));
    for (const task of all) {
      if ((task.state !== 'queued' && task.state !== 'blocked') || task.depends_on === '[]') continue;
      const verdict = dagVerdict(byId.get(task.id)!, byId, config.orchestrator.dependency_gate);
      if (verdict.kind === 'blocked' && task.state === 'queued') {
        registry.transition(task.id, 'queued', 'blocked', { event: 'blocked', data: { reason: verdict.reason }, patch: { reason: verdict.reason } });
      } else if (verdict.kind !== 'blocked' && task.state === 'blocked') {
        registry.transition(task.id, 'blocked', 'queued', { event: 'unblocked', patch: { reason: null } });
      }
    }
  }

  /** Queued tasks whose dependencies allow a start, oldest first. */
  runnable(): number[] {
    const { registry, config } = this.deps;
    const all = registry.listTasks();
    const byId = new Map(all.map((t) => [t.id, { id: t.id, state: t.state, depends_on: dependsOn(t) }]));
    const now = this.now();
    return all.filter((t) => t.state === 'queued' && (t.not_before === null || t.not_before <= now) && dagVerdict(byId.get(t.id)!, byId, config.orchestrator.dependency_gate).kind === 'runnable').map((t) => t.id);
  }

  /** When the earliest backed-off task may start, if one waits. */
  nextNotBefore(): number | null {
    const times = this.deps.registry.listTasks(['queued']).flatMap((t) => (t.not_before !== null && t.not_before > this.now() ? [t.not_before] : []));
    return times.length ? Math.min(...times) : null;
  }

  /** One pass over every task in flight. A task may move several steps in one pass (exited -> PR -> CI). */
  async tick(): Promise<{ acted: number }> {
    let acted = 0;
    this.deps.forge.beginPass?.();
    await this.hosts.beginPass();
    this.applyDependencies();
    try {
      acted += await decideFanouts({ ...this.deps, now: () => this.now() });
    } catch (err) {
      this.deps.log.error({ error: errorMessage(err) }, 'monitor could not decide the fan-outs; will try again next tick');
    }
    // A fan-out itself has no session or branch of its own: its candidates are the tasks watched.
    for (const task of this.deps.registry.listTasks(WATCHED_STATES).filter((t) => t.fanout_size === 0)) {
      try {
        let current: TaskRow | null = task;
        for (let step = 0; current && step < 6; step++) {
          const action = decide(await this.observe(current));
          if (action.type === 'none') break;
          acted++;
          current = await this.act(current, action);
        }
      } catch (err) {
        if (err instanceof HostUnreachableError) {
          // Transient trouble: nothing is decided for the task (no retry spent) until its host answers again.
          this.hosts.trouble(task, err);
          continue;
        }
        if (err instanceof PodGoneError) {
          this.hosts.podGone(task, err);
          continue;
        }
        this.deps.log.error({ task: task.id, error: errorMessage(err) }, 'monitor could not handle task; will try again next tick');
      }
      if (task.host !== null) this.hosts.answered(task);
    }
    return { acted };
  }

  /** Since when a host has not answered, or null. */
  hostDownSince(name: string): number | null {
    return this.hosts.downSince(name);
  }

  /** Performs one action; returns the task as it is now, or null when nothing more should happen this tick. */
  async act(task: TaskRow, action: Action): Promise<TaskRow | null> {
    const { registry, forge, log } = this.deps;
    log.debug({ task: task.id, state: task.state, action: action.type }, 'act');
    switch (action.type) {
      case 'none':
        return null;
      case 'mark_agent_exited': {
        const attempt = registry.latestAttempt(task.id, 'agent');
        const look = attempt ? await this.runners.for(task).look(attempt.session_dir, 0) : null;
        const exit = look?.live.kind === 'exited' ? look.live.exit : null;
        const next = registry.transition(task.id, 'running', 'agent_exited', { event: 'agent_exited', data: { attempt: task.attempt, exit_code: exit?.exit_code ?? null, signal: exit?.signal ?? null } });
        return next ? this.act(next, action.then) : null;
      }
      case 'open_pr': {
        const pr = await forge.openPr(task);
        return registry.transition(task.id, 'agent_exited', 'pr_open', { event: 'pr_opened', data: { pr: pr.number, head: pr.head_sha }, patch: { pr_at: task.pr_at ?? this.now(), transient_waits: 0, waited_ms: 0 } });
      }
      case 'start_ci': {
        await forge.startCi(task);
        if (task.state === 'ci_running') {
          registry.recordEvent(task.id, 'ci_restarted', { attempt: task.attempt });
          return null;
        }
        return registry.transition(task.id, 'pr_open', 'ci_running', { event: 'ci_started', data: { attempt: task.attempt } });
      }
      case 'kill_agent': {
        const attempt = registry.latestAttempt(task.id, 'agent');
        if (attempt) {
          const runner = this.runners.for(task);
          await runner.kill(attempt.session_dir);
          await waitFor(async () => ((await runner.look(attempt.session_dir, 0)).live.kind === 'running' ? undefined : true), { timeoutMs: 8_000, what: 'the agent to exit' }).catch(() => undefined);
          registry.updateAttempt(attempt.id, { ended_at: this.now(), outcome: 'killed' });
        }
        return this.act(task, action.then);
      }
      case 'kill_ci':
        await forge.killCi(task);
        return this.act(task, action.then);
      case 'respawn':
        await this.leaveReview(task, action.evidence.reason === 'review_findings' ? 'changes' : 'cancelled', action.evidence.summary);
        return this.fail(task, action.evidence, true, action.delay_ms ?? 0);
      case 'wait':
        await this.leaveReview(task, 'cancelled', action.evidence.summary);
        return this.waitOut(task, action.evidence, action.delay_ms);
      case 'needs_help':
        await this.leaveReview(task, action.evidence.reason === 'review_failed' ? 'failed' : 'cancelled', action.evidence.summary);
        this.fail(task, action.evidence, false);
        await this.hosts.rest(task);
        return null;
      case 'await_review': {
        // Said once, in the task's reason and an event; nothing else changes until the reviewer acts.
        if (task.reason === action.why) return null;
        registry.transition(task.id, task.state, task.state, { event: 'awaiting_rereview', data: { why: action.why }, patch: { reason: action.why } });
        return null;
      }
      case 'take_screenshots': {
        const head = await revParse(this.deps.repoRoot, task.branch);
        const result = await takeScreenshots(this.deps.config, this.deps.repoRoot, task.worktree);
        registry.recordEvent(task.id, 'screenshots_taken', { head, exit_code: result.code, output: result.output });
        return registry.getTask(task.id);
      }
      case 'start_review': {
        const pr = registry.getPr(task.id);
        return this.rounds.start(task, this.hasCi() ? await this.verifiedHead(task, pr?.head_sha ?? null) : null, pr?.head_sha ?? null);
      }
      case 'start_reviewers':
        await this.rounds.startReviewers(task, action.reviewers);
        return null;
      case 'ask_reviewer_again':
        await this.rounds.askAgain(task, action.reviewer, action.why, action.timed_out === true);
        return null;
      case 'branch_moved':
        return this.rounds.branchMoved(task, action.from, action.to);
      case 'reverify':
        await this.leaveReview(task, 'cancelled', action.why);
        return registry.transition(task.id, task.state, 'pr_open', { event: 'head_moved', data: { why: action.why }, patch: { verified_sha: null } });
      case 'ready': {
        const pr = registry.getPr(task.id);
        let verified = await this.verifiedHead(task, pr?.head_sha ?? null);
        let round: ReviewRoundRow | null = null;
        if (task.state === 'reviewing') {
          // Ready only from the round that approved, and only while the branch is still that round's head.
          const approved = await this.rounds.approved(task, action.round ?? null, pr?.head_sha ?? null);
          if (approved !== 'yes') return approved === 'moved' ? registry.getTask(task.id) : null;
          round = registry.openRound(task.id);
          verified = round!.head;
        }
        const openFindings = round ? await this.openFindings(task) : null;
        await this.leaveReview(task, 'approved');
        if (action.screenshots?.length) await this.attachScreenshots(task, action.screenshots);
        const reviews = action.reviews ? { ...action.reviews, fixed: this.rounds.findingsFixed(task) } : undefined;
        const before = registry.events(task.id).filter((e) => e.kind === 'ready' && (JSON.parse(e.data ?? '{}') as { attempt?: number }).attempt === task.attempt).at(-1);
        const again = before ? ((JSON.parse(before.data ?? '{}') as { verified?: string }).verified ?? null) : null;
        const moved = registry.transition(task.id, task.state, 'ready', {
          event: 'ready',
          data: { pr: pr?.number ?? null, verified, attempt: task.attempt, ...(round ? { round: round.id } : {}), ...(reviews ? { reviews } : {}), ...(action.screenshots?.length ? { screenshots: action.screenshots } : {}), ...(again ? { again_after: again } : {}), ...(openFindings ? { open_findings: openFindings } : {}) },
          patch: { ready_at: this.now(), evidence: null, reason: null, verified_sha: verified },
          // One notification per ready head: a task ready again after its branch moved says so once more.
          notify: { dedupe: `${task.id}:ready:${task.attempt}${again ? `:${verified ?? ''}` : ''}`, channels: this.channelsFor(task), message: readyMessage(task, pr?.number ?? null, this.hasCi(), reviews, (action.screenshots ?? []).map((file) => join(task.worktree, file)), again && verified ? { from: again, to: verified } : undefined) },
        });
        if (moved) await this.hosts.rest(moved);
        return moved;
      }
      case 'done': {
        await this.leaveReview(task, 'cancelled', 'the pull request was merged');
        const done = registry.transition(task.id, task.state, 'done', { event: 'merged', patch: { done_at: this.now() } });
        if (done) {
          registry.updatePr(task.id, { state: 'merged', closed_at: this.now() });
          const result = await this.runners.for(task).removeCheckout(task, { deleteBranch: true });
          if (result.removed) registry.recordEvent(task.id, 'cleaned_up', { worktree: task.worktree, branch: task.branch });
        }
        return null;
      }
      case 'cancel':
        await this.leaveReview(task, 'cancelled', action.why);
        if (registry.transition(task.id, task.state, 'cancelled', { event: 'cancelled', data: { why: action.why }, patch: { reason: action.why } })) registry.updatePr(task.id, { state: 'closed', closed_at: this.now() });
        return null;
    }
  }

  /** A fan-out's candidate tells no one: its fan-out sends the one notification (monitor/fanouts.ts). */
  private channelsFor(task: TaskRow): readonly string[] {
    return task.fanout_of === null ? this.deps.channels : [];
  }

  /** The findings the approving round left open (below the blocking severities), by severity: a fan-out ranks on them. */
  private async openFindings(task: TaskRow): Promise<Record<string, number>> {
    const { reviews } = await this.rounds.observe(task, null);
    const counts: Record<string, number> = {};
    for (const reviewer of reviews ?? []) {
      const last = reviewer.tries.at(-1);
      if (last?.state === 'usable') for (const f of last.review.findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
    }
    return counts;
  }

  private recordEvidence(task: TaskRow, evidence: Evidence): void {
    const attempt = this.deps.registry.latestAttempt(task.id, 'agent');
    if (attempt && attempt.n === task.attempt) this.deps.registry.updateAttempt(attempt.id, { evidence: JSON.stringify(evidence), outcome: attempt.outcome ?? evidence.reason });
  }

  /** Transient trouble: back to the queue after the backoff; no retry spent. */
  private waitOut(task: TaskRow, evidence: Evidence, delayMs: number): null {
    this.recordEvidence(task, evidence);
    this.deps.log.info({ task: task.id, delay_ms: delayMs, why: evidence.summary }, 'transient trouble: waiting');
    this.deps.registry.transition(task.id, task.state, 'queued', {
      event: 'transient_wait',
      data: { summary: evidence.summary, delay_ms: delayMs, wait: task.transient_waits + 1 },
      patch: { not_before: this.now() + delayMs, transient_waits: task.transient_waits + 1, waited_ms: task.waited_ms + delayMs, evidence: JSON.stringify(evidence) },
    });
    return null;
  }

  /** Screenshot facts once CI is green (or there is none), when UI paths are configured. */
  private async screenshots(task: TaskRow, ci: ForgeObservation['ci'], known: string | null): Promise<{ screenshots?: Snapshot['screenshots'] }> {
    const shots = this.deps.config.dod.screenshots;
    const green = (task.state === 'ci_running' && ci.kind === 'passed') || (task.state === 'pr_open' && !this.hasCi()) || task.state === 'reviewing';
    if (!shots.paths.length || !green) return {};
    const head = known ?? (await revParse(this.deps.repoRoot, task.branch));
    const taken = this.deps.registry.events(task.id).filter((e) => e.kind === 'screenshots_taken').map((e) => JSON.parse(e.data ?? '{}') as { head?: string; output?: string }).find((e) => e.head === head);
    // Per head (and whether the command ran on it): a task in review is not diffed again on every pass.
    const key = `${task.id}:${head}:${taken ? 'taken' : ''}`;
    const facts = this.shotFacts.get(key) ?? (await observeScreenshots(this.deps.config, this.deps.repoRoot, task.worktree, task.base, head, taken !== undefined));
    if (this.shotFacts.size > 1000) this.shotFacts.clear(); // bounded: a fresh read costs one git diff
    if (facts) this.shotFacts.set(key, facts);
    return facts ? { screenshots: { ...facts, dir: shots.dir, ...(taken ? { failed_output: taken.output ?? '' } : {}) } } : {};
  }

  /** On the PR too, where the forge shows them (GitHub: a comment with the committed ones as images). */
  private async attachScreenshots(task: TaskRow, files: readonly string[]): Promise<void> {
    const attach = this.deps.forge.attachScreenshots?.bind(this.deps.forge);
    if (!attach) return;
    const head = await revParse(this.deps.repoRoot, task.branch);
    const committed = new Set((await runGit(this.deps.repoRoot, ['ls-tree', '-r', '--name-only', head, '--', ...files])).stdout.split('\n').filter(Boolean));
    try {
      await attach(task, files.map((path) => ({ path, committed: committed.has(path) })), head);
      this.deps.registry.recordEvent(task.id, 'screenshots_attached', { head, files });
    } catch (err) {
      this.deps.registry.recordEvent(task.id, 'screenshots_attach_failed', { head, error: errorMessage(err) });
    }
  }

  private leaveReview(task: TaskRow, outcome: NonNullable<ReviewRoundRow['outcome']>, why = ''): Promise<void> {
    return this.rounds.leave(task, outcome, why);
  }

  private fail(task: TaskRow, evidence: Evidence, respawn: boolean, delayMs = 0): TaskRow | null {
    const { registry } = this.deps;
    this.recordEvidence(task, evidence);
    if (respawn) {
      this.deps.log.info({ task: task.id, reason: evidence.reason, retries: task.retries + 1, delay_ms: delayMs }, 'respawning');
      registry.transition(task.id, task.state, 'queued', {
        event: 'respawn',
        data: { reason: evidence.reason, summary: evidence.summary, retry: task.retries + 1, ...(delayMs ? { delay_ms: delayMs } : {}) },
        patch: { retries: task.retries + 1, evidence: JSON.stringify(evidence), not_before: delayMs ? this.now() + delayMs : null },
      });
      return null;
    }
    const reason = evidence.summary;
    registry.transition(task.id, task.state, 'needs_help', {
      event: 'needs_help',
      data: { reason: evidence.reason, summary: reason },
      patch: { reason, evidence: JSON.stringify(evidence) },
      notify: { dedupe: `${task.id}:needs_help:${task.attempt}`, channels: this.channelsFor(task), message: needsHelpMessage(task, reason, evidence.reason === 'agent_fault' ? evidence.decisive_line : undefined) },
    });
    return null;
  }
}
