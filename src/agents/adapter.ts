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
  /** A read-only review run: the CLI may read the checkout, never change it; its final message holds the answer. */
  review?(context: LaunchContext): Launch;
  /** Reads what the agent reported (final message, session id, tokens, cost) from its transcript. */
  parseReport?(transcript: string): AgentReport;
  /** A check that needs more than PATH (a server, a model): a message saying what to do, or null when usable. */
  check?(config: AgentConfig): Promise<string | null>;
  /** Pure: why this agent must not start here (e.g. as root without a sandbox), or null. */
  refuse?(facts: RunFacts): string | null;
  /** CLI versions the conformance suite ran this adapter against (tests/conformance). */
  readonly verified?: readonly string[];
  /** The CLI's login and settings files in the user's home, copied into each task's fresh home when sandboxed. */
  readonly homeSeed?: readonly string[];
  /** Which of them are logins: a CLI that refreshed one during a task has it carried back. */
  readonly loginFiles?: readonly string[];
  /** Environment variables that name the CLI's home (CODEX_HOME): given a private copy of these files. */
  readonly cliHomeEnv?: readonly { name: string; files: readonly string[]; logins: readonly string[] }[];
  /** How to ask the version (default `--version`). */
  readonly versionArgs?: readonly string[];
  /** Help pages that list every flag `build` may pass (e.g. `exec --help`). */
  readonly helpPages?: readonly (readonly string[])[];
}

/** Variables that make a nested agent think it runs inside another one (or sandboxed: IS_SANDBOX is set by the claude adapter only where it is true), or leak the daemon's own secrets. */
export const STRIPPED_ENV = ['CLAUDECODE', 'IS_SANDBOX', 'CLAUDE_CODE_ENTRYPOINT', 'CODEX_SANDBOX', 'SWARM_DAEMON_TOKEN', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID', 'NODE_OPTIONS'];

/**
 * What every agent and CI run gets from the daemon's environment: where programs are, who and where the user
 * is, language and terminal, proxies and certificates, toolchain homes. Never a token: the forge's, the
 * notification channels', the daemon's stay with the daemon. A name ending in `*` is a prefix.
 */
export const BASE_ENV = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'LC_*', 'TZ', 'TERM', 'COLORTERM', 'NO_COLOR', 'FORCE_COLOR', 'TMPDIR',
  'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE',
  'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL',
  'NVM_DIR', 'NVM_BIN', 'VOLTA_HOME', 'PNPM_HOME', 'GOPATH', 'GOROOT', 'GOCACHE', 'GOMODCACHE', 'GOFLAGS', 'CARGO_HOME', 'RUSTUP_HOME', 'PYENV_ROOT', 'VIRTUAL_ENV', 'JAVA_HOME',
];

/** Pure: the entries of `env` whose names `patterns` allow (exact, or a prefix ending in `*`), minus STRIPPED_ENV. */
export function pickEnv(env: NodeJS.ProcessEnv, patterns: readonly string[]): Record<string, string> {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || STRIPPED_ENV.includes(key)) continue;
    if (exact.has(key) || prefixes.some((prefix) => key.startsWith(prefix))) out[key] = value;
  }
  return out;
}

/** The daemon's environment cut to BASE_ENV and `more`: for a CI run, a version check, a command in a worktree. */
export function cleanEnv(more: readonly string[] = [], from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return pickEnv(from, [...BASE_ENV, ...more]);
}

/** An agent's environment: BASE_ENV, its adapter's provider variables, the agent's `pass_env` and `env`, the SWARM_* facts. */
export function agentEnv(context: LaunchContext, extra: Record<string, string> = {}, providerEnv: readonly string[] = []): Record<string, string> {
  return {
    ...cleanEnv([...providerEnv, ...context.config.pass_env]),
    // Inside the sandbox /tmp is private and writable; a TMPDIR elsewhere would be read-only there.
    ...(context.sandboxed ? { TMPDIR: '/tmp' } : {}),
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
