/** The local runner: this machine. Sessions under `.swarm/sessions`, checkouts beside the repository, as always. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { connectSession, lastOutputAt, readSessionExit, readSessionState, readTranscriptTail, sessionLeftovers, sessionLiveness, startSession, killSession, stopLiveSessions, transcriptPath } from '../sessions/sessions.js';
import type { SpareHolder } from '../sessions/spare.js';
import { fetchBack, isClone } from '../workspace/clones.js';
import { checkoutUncommitted, removeWorktree } from '../workspace/worktrees.js';
import type { Runner, RunnerTask, SessionConnection, SessionStart, SessionView } from './runner.js';
import type { HolderMessage, SessionState } from '../sessions/protocol.js';

export class LocalRunner implements Runner {
  readonly name = 'local';

  constructor(private readonly repoRoot: string, private readonly spares?: SpareHolder) {}

  start(dir: string, spec: SessionStart): Promise<SessionState> {
    return startSession(dir, spec, this.spares);
  }

  async look(dir: string, tailBytes: number): Promise<SessionView> {
    return { live: sessionLiveness(dir), last_output_at: lastOutputAt(dir), tail: tailBytes > 0 ? readTranscriptTail(dir, tailBytes) : '' };
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
