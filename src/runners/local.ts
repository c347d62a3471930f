/** The local runner: this machine. Sessions under `.swarm/sessions`, checkouts beside the repository, as always. */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { confineLaunch } from '../sandbox/request.js';
import type { SwarmConfig } from '../config/schema.js';
import { connectSession, freshSessionDir, lastOutputAt, readSessionExit, readSessionState, readTranscriptTail, sessionLeftovers, sessionLiveness, startSession, killSession, stopLiveSessions, transcriptPath } from '../sessions/sessions.js';
import type { SpareHolder } from '../sessions/spare.js';
import { fetchBack, isClone, refreshBase } from '../workspace/clones.js';
import { worktreeGitDirs } from '../workspace/git.js';
import type { WorktreePool } from '../workspace/pool.js';
import { checkoutUncommitted, ensureWorktree, removeWorktree, type WorkspaceKind } from '../workspace/worktrees.js';
import { setupWorktree } from '../workspace/setup.js';
import { collectReports, type ReportAsk } from '../forge/ci-reports.js';
import type { Runner, RunnerTask, SessionConnection, SessionStart, SessionView } from './runner.js';
import type { HolderMessage, SessionState } from '../sessions/protocol.js';

export interface LocalRunnerOptions {
  repoRoot: string;
  /** `.swarm/sessions`. */
  sessionsDir: string;
  /** Hidden from a confined session: `.swarm` (default: the folder of `sessionsDir`). */
  stateDir?: string;
  config?: SwarmConfig;
  /** A session holder started ahead of need (the daemon's). */
  spares?: SpareHolder;
  /** Warm worktrees a launch may take (the daemon's). */
  pool?: WorktreePool;
}

export class LocalRunner implements Runner {
  readonly name = 'local';
  private readonly repoRoot: string;

  constructor(private readonly options: LocalRunnerOptions) {
    this.repoRoot = options.repoRoot;
  }

  async freshSession(_task: RunnerTask, base: string): Promise<{ sessionId: string; dir: string }> {
    return freshSessionDir(this.options.sessionsDir, base);
  }

  async start(dir: string, spec: SessionStart, files: Record<string, string> = {}): Promise<SessionState> {
    if (Object.keys(files).length) mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o600 });
    const { confine, ...plain } = spec;
    if (!confine) return startSession(dir, plain, this.options.spares);
    const place = { repoRoot: this.repoRoot, stateDir: this.options.stateDir ?? dirname(this.options.sessionsDir) };
    const confined = confineLaunch(confine, place, plain.argv, plain.env, dir);
    return startSession(dir, { ...plain, argv: confined.argv, env: confined.env, ...(confined.net ? { net: confined.net } : {}) }, this.options.spares);
  }

  async checkoutPath(task: RunnerTask): Promise<string> {
    return task.worktree;
  }

  async prepare(task: RunnerTask, options: { start: string; kind: WorkspaceKind }) {
    const how = await ensureWorktree(this.repoRoot, task.worktree, task.branch, options.start, options.kind, task.base, this.options.pool);
    if (how === 'reused' && options.kind === 'clone') await refreshBase(this.repoRoot, task.worktree, task.base);
    const installs = this.options.config ? await setupWorktree(this.options.config, this.repoRoot, task.worktree) : [];
    const gitDirs = isClone(task.worktree) ? [join(task.worktree, '.git')] : await worktreeGitDirs(task.worktree);
    return { how, installs, gitDirs };
  }

  async ciReports(task: RunnerTask, dir: string, ask: ReportAsk): Promise<string[]> {
    return collectReports(task.worktree, dir, ask);
  }

  async look(dir: string, tailBytes: number): Promise<SessionView> {
    return { live: sessionLiveness(dir), last_output_at: lastOutputAt(dir), tail: tailBytes > 0 ? readTranscriptTail(dir, tailBytes) : '' };
  }

  async lookAll(dirs: readonly string[], tailBytes: number): Promise<Map<string, SessionView>> {
    const views = new Map<string, SessionView>();
    for (const dir of dirs) views.set(dir, await this.look(dir, tailBytes));
    return views;
  }

  async kill(dir: string, signal?: NodeJS.Signals): Promise<boolean> {
    return killSession(dir, signal);
  }

  async stop(dir: string): Promise<number[] | null> {
    return (await stopLiveSessions([dir]))[0]?.survivors ?? null;
  }

  async leftovers(dir: string): Promise<number[]> {
    return sessionLeftovers(dir);
  }

  connect(dir: string, handlers: { onMessage: (message: HolderMessage) => void }): Promise<SessionConnection> {
    const state = readSessionState(dir);
    if (!state) return Promise.reject(new Error('this session is not running'));
    return connectSession(state, handlers);
  }

  async read(dir: string, offset: number, maxBytes: number): Promise<{ data: Buffer; ended: boolean }> {
    // Ended is read before the bytes: a session that ends meanwhile is read once more by the caller.
    const ended = readSessionExit(dir) !== null || sessionLiveness(dir).kind === 'lost';
    let fd: number | null = null;
    try {
      fd = openSync(transcriptPath(dir), 'r');
      const size = fstatSync(fd).size;
      const length = Math.max(0, Math.min(size - offset, maxBytes));
      const data = Buffer.alloc(length);
      const got = length > 0 ? readSync(fd, data, 0, length, offset) : 0;
      return { data: data.subarray(0, got), ended };
    } catch {
      return { data: Buffer.alloc(0), ended };
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }

  async fetchBranch(task: RunnerTask) {
    // A worktree shares the repository's refs: its branch is already here. A clone's is fetched.
    return isClone(task.worktree) ? fetchBack(this.repoRoot, task.worktree, task.branch) : 'unchanged';
  }

  uncommitted(task: RunnerTask): Promise<string[]> {
    return checkoutUncommitted(this.repoRoot, task.worktree);
  }

  removeCheckout(task: RunnerTask, options: { force?: boolean; deleteBranch?: boolean }) {
    return removeWorktree(this.repoRoot, task.worktree, task.branch, options);
  }
}
