import { extractFailure } from '../../monitor/evidence.js';
import type { Registry } from '../../registry/registry.js';
import type { PrRow, TaskRow } from '../../registry/types.js';
import { cleanEnv } from '../agents/adapter.js';
import { projectRegistries } from '../sandbox/confine.js';
import { defaultSandbox } from '../sandbox/probe.js';
import type { ConfineRequest } from '../sandbox/request.js';
import { isClone } from '../workspace/clones.js';
import { autoReportEnv, autoReportPath } from './ci-reports.js';
import type { SwarmConfig } from '../config/schema.js';
import { GitError, NotReadyError } from '../errors.js';
import { localRunners, type Runners } from '../runners/runners.js';
import { git, listWorktrees, mergeCommit, mergeConflicts, revParse, runGit } from '../workspace/git.js';
import type { Forge, ForgeObservation } from './forge.js';
import type { CiFacts } from '../../monitor/decide.js';

export interface LocalForgeDeps {
  repoRoot: string;
  config: SwarmConfig;
  registry: Registry;
  sessionsDir: string;
  /** Where each task's CI session runs (its task's runner); default: this machine. */
  runners?: Runners;
}

/** A PR is a registry record for a branch; CI is the configured command in the worktree, in its own logged session. */
export class LocalForge implements Forge {
  readonly name = 'local';
  private readonly runners: Runners;
  constructor(private readonly deps: LocalForgeDeps) {
    this.runners = deps.runners ?? localRunners(deps.repoRoot, deps.sessionsDir);
  }

  async openPr(task: TaskRow): Promise<PrRow> {
    const head = await revParse(this.deps.repoRoot, task.branch);
    return this.deps.registry.openPr({ task_id: task.id, forge: 'local', branch: task.branch, base: task.base, head_sha: head });
  }

  async startCi(task: TaskRow): Promise<void> {
    const command = this.deps.config.ci.command;
    if (!command) return;
    const { registry } = this.deps;
    const runs = registry.attempts(task.id).filter((a) => a.kind === 'ci' && a.n === task.attempt).length;
    const runner = this.runners.for(task);
    const { sessionId, dir } = await runner.freshSession(task, `t${task.id}-a${task.attempt}-ci${runs + 1}`);
    const head = await revParse(this.deps.repoRoot, task.branch);
    const row = registry.insertAttempt({ task_id: task.id, n: task.attempt, kind: 'ci', agent: 'ci', session_id: sessionId, session_dir: dir, prompt: null, head_sha: head });
    const ci = this.deps.config.ci;
    // A sandboxed task's CI runs in the same sandbox as its agent, built where it runs (this machine or its
    // host): the tests are code the agent wrote. A host's checkout is always a clone: its report goes in .git.
    const here = runner.name === 'local';
    const confined = here ? isClone(task.worktree) : this.sandboxed(task);
    const base = { ...cleanEnv(ci.pass_env), ...ci.env, SWARM_TASK_ID: String(task.id), SWARM_ATTEMPT: String(task.attempt), SWARM_WORKTREE: task.worktree, CI: 'true' };
    const env = ci.auto_reports ? { ...base, ...autoReportEnv(base, autoReportPath(task.worktree, dir, here ? isClone(task.worktree) : true)) } : base;
    // With the endpoints-only network (the default), CI reaches the project's registries and ci.network_allow,
    // nothing else: the tests are the agent's code, and must not post the checkout anywhere.
    const agent = this.deps.config.agents[task.agent];
    const closed = (agent?.network ?? this.deps.config.sandbox_network) === 'endpoints';
    const confine: ConfineRequest | null = confined ? { kind: 'command', worktree: task.worktree, home_read: this.deps.config.sandbox_home_read, allow: closed ? [...projectRegistries(this.deps.config.sandbox_registries, this.deps.repoRoot), ...ci.network_allow] : null } : null;
    try {
      const state = await runner.start(dir, { argv: command, cwd: task.worktree, env, ...(confine ? { confine } : {}), cols: 160, rows: 50, scrollback_bytes: 256 * 1024, transcript_max_bytes: Math.round(this.deps.config.transcript_max_mb * 1024 * 1024) });
      registry.updateAttempt(row.id, { holder_pid: state.holder_pid, holder_start: state.holder_start, child_pid: state.child_pid, child_start: state.child_start });
    } catch (err) {
      registry.updateAttempt(row.id, { ended_at: Date.now(), exit_code: 127, outcome: 'failed_to_start', evidence: JSON.stringify({ error: String(err) }) });
      throw err;
    }
  }

  /** Whether the task's agent runs sandboxed (its checkout on a host is then confined as it is here). */
  private sandboxed(task: TaskRow): boolean {
    const { config } = this.deps;
    return (config.agents[task.agent]?.sandbox ?? config.sandbox ?? defaultSandbox()) === 'bwrap';
  }

  async killCi(task: TaskRow): Promise<void> {
    const ci = this.deps.registry.latestAttempt(task.id, 'ci');
    if (ci && ci.ended_at === null) {
      await this.runners.for(task).kill(ci.session_dir);
      this.deps.registry.updateAttempt(ci.id, { ended_at: Date.now(), outcome: 'killed' });
    }
  }

  private async observeCi(task: TaskRow): Promise<CiFacts> {
    const ci = this.deps.registry.latestAttempt(task.id, 'ci');
    if (!ci || ci.n !== task.attempt) return { kind: 'none' };
    if (ci.outcome === 'killed') return { kind: 'lost' };
    const runner = this.runners.for(task);
    const live = (await runner.look(ci.session_dir, 0)).live;
    switch (live.kind) {
      case 'starting':
        return { kind: 'running', started_at: ci.started_at };
      case 'running':
        return { kind: 'running', started_at: ci.started_at };
      case 'lost':
        return { kind: 'lost' };
      case 'exited': {
        if (ci.ended_at === null) {
          this.deps.registry.updateAttempt(ci.id, { ended_at: live.exit.ended_at, exit_code: live.exit.exit_code, signal: live.exit.signal, outcome: live.exit.exit_code === 0 ? 'passed' : 'failed' });
        }
        if (live.exit.exit_code === 0) return { kind: 'passed', head: ci.head_sha };
        // The reports are read where the run happened (a host's swarm sends their text); without them, the log.
        const reports = await runner.ciReports(task, ci.session_dir, { patterns: this.deps.config.ci.reports, auto: this.deps.config.ci.auto_reports, since: ci.started_at }).catch(() => []);
        return { kind: 'failed', exit_code: live.exit.exit_code, step: (this.deps.config.ci.command ?? []).join(' '), failure: extractFailure((await runner.look(ci.session_dir, 512 * 1024)).tail, { root: task.worktree, reports }) };
      }
    }
  }

  private refs: Promise<Map<string, string>> | null = null;
  private readonly conflictCache = new Map<string, string[]>();

  /** A new monitor pass: branch heads are read again (once, for all tasks). */
  beginPass(): void {
    this.refs = null;
  }

  private branchHeads(): Promise<Map<string, string>> {
    this.refs ??= git(this.deps.repoRoot, ['for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads']).then(
      (out) => new Map(out.split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string])),
    );
    return this.refs;
  }

  /** merge-tree only when base or branch moved since the last answer: a quiet tick spawns one git process in all. */
  private async conflicts(task: TaskRow): Promise<string[]> {
    const heads = await this.branchHeads();
    const key = `${task.base}@${heads.get(task.base) ?? '?'}..${task.branch}@${heads.get(task.branch) ?? '?'}`;
    const cached = this.conflictCache.get(key);
    if (cached) return cached;
    const found = await mergeConflicts(this.deps.repoRoot, task.base, task.branch);
    if (this.conflictCache.size > 1_000) this.conflictCache.clear();
    this.conflictCache.set(key, found);
    return found;
  }

  async observe(task: TaskRow, wants: { ci: boolean; conflicts: boolean }): Promise<ForgeObservation> {
    const pr = this.deps.registry.getPr(task.id);
    const ci: CiFacts = wants.ci ? await this.observeCi(task) : { kind: 'none' };
    // Mergeability is the last gate: only asked once CI is green (or not part of the question).
    const askConflicts = wants.conflicts && (!wants.ci || ci.kind === 'passed');
    return { pr: pr ? { state: pr.state } : null, ci, conflicts: askConflicts ? await this.conflicts(task) : null, head: (await this.branchHeads()).get(task.branch) ?? null };
  }

  /** Merges exactly the verified commit: a branch tip that moved since is "not ready", never merged unchecked. */
  async merge(task: TaskRow): Promise<{ commit: string }> {
    const repo = this.deps.repoRoot;
    const tip = await revParse(repo, task.branch);
    const verified = task.verified_sha ?? tip;
    if (tip !== verified) {
      throw new NotReadyError(`Task ${task.id}'s branch has commits that were not verified (verified ${verified.slice(0, 10)}, tip ${tip.slice(0, 10)}): it is not ready. The monitor runs CI on the new tip; merge when it is ready again.`);
    }
    const conflicts = await mergeConflicts(repo, task.base, verified);
    if (conflicts.length > 0) throw new GitError('SWARM_MERGE_CONFLICT', `Task ${task.id} conflicts with ${task.base} in ${conflicts.join(', ')}. Run \`swarm retry ${task.id}\` so an agent resolves it.`);
    const { commit, baseSha } = await mergeCommit(repo, task.base, verified, `Merge task ${task.id}: ${task.title}\n\nBranch ${task.branch} at ${verified} (worktree-swarm).`);
    const holder = (await listWorktrees(repo)).find((entry) => entry.branch === task.base);
    if (holder) {
      // Base is checked out (usually the user's own checkout): move it forward only if that touches nothing of theirs.
      const result = await runGit(holder.path, ['merge', '--ff-only', commit]);
      if (result.code !== 0) {
        throw new GitError('SWARM_MERGE_BLOCKED', `Could not fast-forward ${task.base} in ${holder.path}: ${result.stderr.trim()}\nCommit or stash your changes there (or pull), then run \`swarm merge ${task.id}\` again.`);
      }
    } else {
      await git(repo, ['update-ref', `refs/heads/${task.base}`, commit, baseSha]);
    }
    return { commit };
  }
}

