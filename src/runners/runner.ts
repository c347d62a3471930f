/**
 * The runner seam: where a task's checkout, sessions (agent, CI, reviewers) and their files live. The daemon,
 * registry, monitor, notifications and dashboard stay on the user's machine and reach a task only through its
 * runner; none of them assumes a session folder or a checkout is a path they can open.
 *
 * Every method is asynchronous and answers in one round trip, because a runner may be another machine (ssh) or
 * a cluster (kubernetes): the monitor asks `look` once per session per pass and gets liveness, the last output
 * time and the transcript's tail together.
 *
 * Implementations: `local.ts` (this machine: sessions/ and workspace/ as they are), `ssh/runner.ts` (another
 * machine), `kubernetes/runner.ts` (a pod per task on a cluster). A runner whose sessions live elsewhere
 * carries the same session holder there and drives it with `swarm host <op>` through `hosted.ts`, so an agent outlives the daemon and the connection alike; what differs
 * between such runners is their transport (ssh, a pod's exec) and how code moves (a mirror, the forge).
 */
import type { ClientMessage, HolderMessage, SessionSpec, SessionState } from '../sessions/protocol.js';
import type { Liveness } from '../sessions/sessions.js';
import type { FetchBack } from '../workspace/clones.js';
import type { DepsOutcome } from '../workspace/deps.js';
import type { ReportAsk } from '../forge/ci-reports.js';
import type { ConfineRequest } from '../sandbox/request.js';
import type { RemoveResult, WorkspaceKind } from '../workspace/worktrees.js';

export type { Liveness } from '../sessions/sessions.js';

/** One look at a session. `tail`: the transcript's last bytes asked for (empty when it printed nothing). */
export interface SessionView {
  live: Liveness;
  last_output_at: number | null;
  tail: string;
}

/** A live connection to a session's terminal: replay first, then output, then exit. */
export interface SessionConnection {
  send(message: ClientMessage): void;
  close(): void;
  readonly closed: Promise<void>;
}

/**
 * What a session start needs: what to run and where. With `confine`, the runner runs it in swarm's sandbox,
 * built where the session runs (its home, bubblewrap and paths are that machine's).
 */
export type SessionStart = Omit<SessionSpec, 'key' | 'transcript_max_bytes'> & { transcript_max_bytes?: number; confine?: ConfineRequest };

/** The part of a task a runner works with. */
export interface RunnerTask {
  id: number;
  branch: string;
  base: string;
  worktree: string;
}

export interface Runner {
  /** `local`, or the name of a host or cluster from the config: said in `swarm ls`, events and notifications. */
  readonly name: string;

  /** A session folder of `task` nobody used before on this runner, named after `base` (a taken name gets a suffix). */
  freshSession(task: RunnerTask, base: string): Promise<{ sessionId: string; dir: string }>;
  /**
   * Starts a detached session in the fresh folder `dir` and returns once it runs. `files` (the prompt) are
   * written into the folder first, by name.
   */
  start(dir: string, spec: SessionStart, files?: Record<string, string>): Promise<SessionState>;
  /** Liveness, last output time and the transcript's last `tailBytes` bytes, in one look. */
  look(dir: string, tailBytes: number): Promise<SessionView>;
  /** The same for many sessions at once: one round trip for all (the monitor's pass asks once per runner). */
  lookAll(dirs: readonly string[], tailBytes: number): Promise<Map<string, SessionView>>;
  /** Asks the session's holder to end its agent (TERM, then KILL after a grace period). True if a process was signalled. */
  kill(dir: string, signal?: NodeJS.Signals): Promise<boolean>;
  /**
   * Stops a session for good, its whole tree (one still starting is given the time a start takes first).
   * Resolves with the PIDs that survived (normally none), or null when nothing of it was alive.
   */
  stop(dir: string): Promise<number[] | null>;
  /** Processes a session left behind after its agent ended (normally none). */
  leftovers(dir: string): Promise<number[]>;
  /** Connects to a live session's terminal (`swarm attach`, the dashboard, the daemon's exit watch). */
  connect(dir: string, handlers: { onMessage: (message: HolderMessage) => void }): Promise<SessionConnection>;
  /**
   * The transcript from byte `offset` on, at most `maxBytes` of it, and whether the session has ended (`swarm logs -f`
   * reads until `ended` and nothing more is left).
   */
  read(dir: string, offset: number, maxBytes: number): Promise<{ data: Buffer; ended: boolean }>;

  /**
   * Where the task's checkout will be on this runner (an absolute path there): the launcher records it in the
   * task before anything is made, so a crash in between leaves nothing it does not know of.
   */
  checkoutPath(task: RunnerTask): Promise<string>;
  /**
   * Makes (or reuses) the task's checkout on its branch from `start`, with base beside it, and sets it up.
   * `kind`: a worktree, or a clone (a sandboxed agent's: its own refs and hooks). `gitDirs`: the git folders a
   * commit there writes (the sandbox lets the agent write them).
   */
  prepare(task: RunnerTask, options: { start: string; kind: WorkspaceKind }): Promise<{ how: 'created' | 'reused'; installs: DepsOutcome[]; gitDirs: string[] }>;
  /** Brings the task's branch from its checkout into the user's repository (fetch: safe from an untrusted checkout). */
  fetchBranch(task: RunnerTask): Promise<FetchBack>;
  /** Changed, staged and untracked files left in the task's checkout. */
  uncommitted(task: RunnerTask): Promise<string[]>;
  /** The text of the report files a finished CI run (session `dir`) wrote, read where it ran. */
  ciReports(task: RunnerTask, dir: string, ask: ReportAsk): Promise<string[]>;
  /**
   * What another machine has room for now (placement asks before it sends a task there): its free memory in
   * bytes (null: unknown) and whether swarm's sandbox can run there. This machine's own room is the scheduler's.
   */
  room?(): Promise<{ freeBytes: number | null; sandbox: boolean }>;
  /**
   * The task waits on a human (ready, needs help): what it holds there may be let go until it is needed
   * again (a cluster scales its sandbox to zero; `checkoutPath` wakes it). Resolves with what was done, in
   * words, or null when nothing was.
   */
  rest?(task: RunnerTask): Promise<string | null>;
  /** Lets go of what the runner keeps open (a cluster's watch): the daemon stops. */
  close?(): void;
  /** Removes the task's checkout (and with `deleteBranch`, its branch there); keeps one with uncommitted work unless forced. */
  removeCheckout(task: RunnerTask, options: { force?: boolean; deleteBranch?: boolean }): Promise<RemoveResult>;
}
