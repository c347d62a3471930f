import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import type { AgentReport } from './report.js';

export interface LaunchContext {
  taskId: number;
  attempt: number;
  prompt: string;
  /** The prompt, written to a file in the session directory (mode 0600). */
  promptFile: string;
  worktree: string;
  repoRoot: string;
  agentName: string;
  model: string | null;
  config: AgentConfig;
  /** The agent's own session id from the previous attempt, when resuming is configured and the CLI supports it. */
  resumeSession: string | null;
  /** The worktree's git directories (its own, then the repository's common one): where a commit writes. */
  gitDirs: string[];
  /** The agent runs inside swarm's sandbox (bubblewrap): confined to its worktree. */
  sandboxed: boolean;
}

/** Facts about where an agent would run, for an adapter's refusal check. */
export interface RunFacts {
  uid: number;
  sandboxed: boolean;
}

export interface Launch {
  argv: string[];
  env: Record<string, string>;
}

/** One coding CLI. Adding Claude Code, Codex, aider, ... means adding one of these, nothing else. */
export interface AgentAdapter {
  readonly type: string;
  readonly defaultTimeoutMinutes: number;
  /** The program that must be on PATH (or a path) for this agent to run. */
  executable(config: AgentConfig, repoRoot: string): string;
  build(context: LaunchContext): Launch;
  /** Reads what the agent reported (final message, session id, tokens, cost) from its transcript. */
  parseReport?(transcript: string): AgentReport;
  /** A check that needs more than PATH (a server, a model): a message saying what to do, or null when usable. */
  check?(config: AgentConfig): Promise<string | null>;
  /** Pure: why this agent must not start here (e.g. as root without a sandbox), or null. */
  refuse?(facts: RunFacts): string | null;
  /** CLI versions the conformance suite ran this adapter against (tests/conformance). */
  readonly verified?: readonly string[];
  /** How to ask the version (default `--version`). */
  readonly versionArgs?: readonly string[];
  /** Help pages that list every flag `build` may pass (e.g. `exec --help`). */
  readonly helpPages?: readonly (readonly string[])[];
}

/** Variables that make a nested agent think it runs inside another one (or sandboxed: IS_SANDBOX is set by the claude adapter only where it is true), or leak the daemon's own secrets. */
export const STRIPPED_ENV = ['CLAUDECODE', 'IS_SANDBOX', 'CLAUDE_CODE_ENTRYPOINT', 'CODEX_SANDBOX', 'SWARM_DAEMON_TOKEN', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID', 'NODE_OPTIONS'];

/** The daemon's environment without what would confuse a nested agent or CI run. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !STRIPPED_ENV.includes(key)) env[key] = value;
  }
  return env;
}

export function agentEnv(context: LaunchContext, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...cleanEnv(),
    ...context.config.env,
    ...extra,
    SWARM_TASK_ID: String(context.taskId),
    SWARM_ATTEMPT: String(context.attempt),
    SWARM_PROMPT_FILE: context.promptFile,
    SWARM_WORKTREE: context.worktree,
  };
}

/** Linux refuses one argument over 128 KiB (MAX_ARG_STRLEN): a prompt this big goes by file. */
export const PROMPT_ARG_LIMIT = 100_000;

/**
 * The prompt as a CLI argument, or, when it is too big for one, a short instruction to read it from the
 * prompt file (every coding CLI can read a file; the file is readable inside swarm's sandbox too).
 */
export function promptArg(context: Pick<LaunchContext, 'prompt' | 'promptFile'>): string {
  if (Buffer.byteLength(context.prompt) <= PROMPT_ARG_LIMIT) return context.prompt;
  return `Your task is too long for a command line (${Math.round(Buffer.byteLength(context.prompt) / 1024)} KB). Read it in full from the file ${context.promptFile} before anything else, then do what it says.`;
}

/** Where `program` would be run from, or null: a path is resolved against the repo, a bare name against PATH. */
export function resolveExecutable(program: string, repoRoot: string, path = process.env.PATH ?? ''): string | null {
  const candidates = program.includes('/') ? [isAbsolute(program) ? program : resolve(repoRoot, program)] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}
