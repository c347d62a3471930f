import type { SimpleGit } from 'simple-git';
import { GitError } from '../errors.js';

/**
 * Every git command swarm runs on a checkout goes through one simple-git instance (loaded on first use, so a
 * short CLI command that runs no git pays nothing for it). What it gives us:
 *  - a ceiling on git processes at once (`GIT_PROCESSES`), so twenty tasks starting together queue their git
 *    calls instead of forking a hundred processes on a 2-core machine;
 *  - a stall timeout: a git that writes nothing for `GIT_STALL_MS` is killed (a hung remote, a lock held
 *    forever) and the caller gets an error that says so;
 *  - its guards in strict mode: only the configuration keys listed below may be set with `-c`, and git's own
 *    environment variables are stripped from what the child inherits unless listed (a stray `GIT_DIR` in the
 *    daemon's environment can no longer point a command at another repository).
 * Background work (warm worktrees nobody waits for) has its own small lane run under `nice`, so it never takes
 * a slot a task is waiting for and never competes with an agent for the CPU.
 *
 * What stays hand-written, and why: git inside the sandbox (`workspace/clones.ts` runs it under bubblewrap,
 * which simple-git cannot spawn through), and the built-in agent's own tools (they run in its process as the
 * agent, not as swarm).
 */

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** At most this many git processes for tasks at once; the rest wait their turn in order. */
export const GIT_PROCESSES = 6;
const BACKGROUND_PROCESSES = 2;
/** A git process silent for this long is stuck (a hung remote, a lock never freed): it is killed. */
export const GIT_STALL_MS = 5 * 60_000;

/** Never let git stop and wait for a human (editor, pager, credentials prompt). */
export const GIT_UNATTENDED = { GIT_TERMINAL_PROMPT: '0', GIT_EDITOR: 'true', GIT_PAGER: 'cat', LC_ALL: 'C' } as const;

/** Keys swarm sets with `-c`: each either switches a program off (the disarmed list) or names who commits. */
const ALLOWED_CONFIG = [
  'core.fsmonitor', 'core.hooksPath', 'core.pager', 'core.untrackedCache', 'core.alternateRefsCommand', 'core.sshCommand',
  'diff.external', 'commit.gpgSign', 'tag.gpgSign', 'gpg.program', 'credential.helper', 'protocol.ext.allow',
  'filter.*', 'user.name', 'user.email', 'fetch.writeCommitGraph', 'advice.*', 'safe.directory',
];
/** git's own environment variables swarm passes on: its unattended settings and who commits. */
const ALLOWED_ENV = ['GIT_TERMINAL_PROMPT', 'GIT_EDITOR', 'GIT_PAGER', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'GIT_AUTHOR_DATE', 'GIT_COMMITTER_DATE', 'GIT_CONFIG_NOSYSTEM', 'GIT_CONFIG_GLOBAL'];

/** Variables that make git run a program or read other config (an editor, a pager, a prefix) are not inherited. */
const NOT_INHERITED = new Set(['EDITOR', 'VISUAL', 'PAGER', 'PREFIX', 'SSH_ASKPASS']);
function inherited(key: string): boolean {
  const upper = key.toUpperCase();
  if (upper.startsWith('GIT_')) return ALLOWED_ENV.includes(upper);
  return !NOT_INHERITED.has(upper);
}

/**
 * The whole outcome of one git command, carried out of simple-git's error hook (on simple-git's own error
 * class, which it passes through unwrapped) so the exit code and both streams are kept.
 */
const OUTCOME = Symbol('git outcome');
type WithOutcome = Error & { [OUTCOME]: GitResult };
function outcomeOf(err: unknown): GitResult | null {
  return err instanceof Error && OUTCOME in err ? (err as WithOutcome)[OUTCOME] : null;
}

type Lane = 'normal' | 'background';
const lanes = new Map<Lane, Promise<SimpleGit>>();

function lane(which: Lane): Promise<SimpleGit> {
  let made = lanes.get(which);
  if (!made) {
    made = import('simple-git').then(({ simpleGit, GitError: SimpleGitError, GitPluginError }) => {
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(process.env)) if (value !== undefined && inherited(key)) env[key] = value;
      return simpleGit({
        baseDir: '/',
        binary: which === 'background' ? ['nice', 'git'] : 'git',
        maxConcurrentProcesses: which === 'background' ? BACKGROUND_PROCESSES : GIT_PROCESSES,
        trimmed: false,
        strict: true,
        allowConfig: ALLOWED_CONFIG,
        allowEnvironment: ALLOWED_ENV,
        timeout: { block: GIT_STALL_MS },
        errors: (error, result) => {
          // simple-git's own rejections (the stall timeout, a refused option) and a git that never started stay
          // errors; any exit of git, whatever its code, is an outcome.
          if (error instanceof GitPluginError) return error;
          if (error instanceof Error && !(error instanceof SimpleGitError) && result.exitCode < 0) return error;
          const outcome: GitResult = { code: result.exitCode, stdout: Buffer.concat(result.stdOut).toString('utf8'), stderr: Buffer.concat(result.stdErr).toString('utf8') };
          return Object.assign(new SimpleGitError(undefined, `git exited with code ${outcome.code}`), { [OUTCOME]: outcome });
        },
      }).env({ ...env, ...GIT_UNATTENDED });
    });
    lanes.set(which, made);
  }
  return made;
}

/**
 * Commands that make or read the repository's list of worktrees. git makes a new worktree's admin folder in
 * steps, and a second command that walks the list meanwhile dies on the half-made one ("failed to read
 * .git/worktrees/<id>/commondir"): seen with eight tasks and the warm pool starting at once. These run one at a
 * time; everything else runs side by side.
 */
const WORKTREE_ADMIN = new Set(['worktree', 'checkout', 'switch', 'branch']);
let adminQueue: Promise<unknown> = Promise.resolve();

/** The subcommand in git's argv, past its global options (`-c key=value`, `--no-pager`, ...). */
export function gitSubcommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '-C' || arg === '--git-dir' || arg === '--work-tree') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

function oneAtATime<T>(run: () => Promise<T>): Promise<T> {
  const result = adminQueue.then(run, run);
  adminQueue = result.catch(() => undefined);
  return result;
}

/**
 * Runs `git ...args` in `cwd` and returns its exit code and output; rejects only when git could not run or was
 * stopped (stuck, refused by the guards).
 */
export async function execGit(cwd: string, args: string[], priority: Lane = 'normal'): Promise<GitResult> {
  const sub = gitSubcommand(args);
  return sub !== undefined && WORKTREE_ADMIN.has(sub) ? oneAtATime(() => execGitNow(cwd, args, priority)) : execGitNow(cwd, args, priority);
}

async function execGitNow(cwd: string, args: string[], priority: Lane): Promise<GitResult> {
  const git = await lane(priority);
  try {
    // A chain-local working directory: the shared instance (and its process limit) stays the same for all.
    const stdout = await git.cwd({ path: cwd, root: false }).raw(args);
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const outcome = outcomeOf(err);
    if (outcome) return outcome;
    const message = err instanceof Error ? err.message : String(err);
    if (/block timeout reached/.test(message)) {
      throw new GitError('SWARM_GIT_STUCK', `git ${args[0] ?? ''} in ${cwd} wrote nothing for ${GIT_STALL_MS / 60_000} minutes and was stopped (a hung remote or a lock never freed?). Run it by hand in ${cwd} to see where it waits.`);
    }
    throw new GitError('SWARM_GIT_FAILED', `git ${args[0] ?? ''} could not run: ${message}. Is git installed and on PATH?`);
  }
}
