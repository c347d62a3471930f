/**
 * A sandboxed agent's home: fresh for each task, made from a template, so what one task's agent writes there
 * (CLI settings with hooks, MCP servers, shell start-up files, git config) never reaches the next task's agent.
 * The template is the agent's CLI login and settings files, copied from where the user keeps them (so their
 * provider and model choices apply), plus what the user opted into (`sandbox_home_copy`). A CLI home named by
 * an environment variable (CODEX_HOME, CLAUDE_CONFIG_DIR) gets the same: a private copy, the variable pointed
 * at it. A login a CLI refreshed during a task (OAuth tokens rotate) is carried back to swarm's store of
 * logins, which seeds the next home when it is newer than the user's own; nothing else ever comes back.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { swarmDataDir } from './data-dir.js';
import { insideHome } from './home-view.js';

/** Environment variables that name a coding CLI's home, and the files of it an agent needs. */
export interface CliHomeEnv {
  name: string;
  files: readonly string[];
  logins: readonly string[];
}

export interface HomeTemplate {
  /** The agent's name: homes and carried-back logins are per agent. */
  agent: string;
  /** One home per task: the task checkout's folder name (a reviewer or CI adds its own suffix). */
  key: string;
  /** Where the user keeps the CLI's files: the agent's configured HOME, else the user's. */
  source: string;
  /** Login and settings files, relative to the home (the adapter's `homeSeed`). */
  seed: readonly string[];
  /** Those of them that are logins: carried back when a CLI refreshed them. */
  logins: readonly string[];
  /** More files the user opted into (`sandbox_home_copy`), relative to the home. */
  copy: readonly string[];
  /** CLI homes named by the agent's environment. */
  cliHomes: readonly CliHomeEnv[];
  env: Readonly<Record<string, string>>;
  /** Start from the template even if this task's home exists (a task's first attempt; a reviewer; CI). */
  fresh: boolean;
}

export interface PreparedHome {
  home: string;
  /** Variables to set inside: HOME, XDG homes moved into it, CLI homes pointed at their private copies. */
  env: Record<string, string>;
}

export function homesDir(agent: string): string {
  return join(swarmDataDir(), 'homes', agent);
}

function storeDir(agent: string): string {
  return join(homesDir(agent), '.logins');
}

const mtime = (path: string): number => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? -1;

function copyPrivate(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
  copyFileSync(from, to);
  chmodSync(to, 0o600);
}

/** Files of the template: [where from, where in the home, where its carried-back copy lives, is a login]. */
function templateFiles(t: HomeTemplate, home: string): { from: string; to: string; stored: string | null }[] {
  const files: { from: string; to: string; stored: string | null }[] = [];
  for (const entry of [...t.seed, ...t.copy]) {
    const from = insideHome(t.source, entry);
    const to = insideHome(home, entry);
    if (from && to) files.push({ from, to, stored: t.logins.includes(entry) ? join(storeDir(t.agent), entry) : null });
  }
  for (const cli of t.cliHomes) {
    const dir = t.env[cli.name];
    if (!dir) continue;
    for (const file of cli.files) files.push({ from: join(dir, file), to: join(home, '.cli-homes', cli.name, file), stored: cli.logins.includes(file) ? join(storeDir(t.agent), '.cli-homes', cli.name, file) : null });
  }
  return files;
}

/**
 * Logins refreshed inside earlier homes of this agent go to the store (only the login files, only when newer
 * than what the store and the user have). Returns the files carried back.
 */
export function carryBackLogins(t: HomeTemplate): string[] {
  const root = homesDir(t.agent);
  if (!existsSync(root)) return [];
  const carried: string[] = [];
  for (const name of readdirSync(root)) {
    if (name.startsWith('.')) continue;
    const home = join(root, name);
    for (const file of templateFiles(t, home)) {
      if (!file.stored || !existsSync(file.to)) continue;
      const at = mtime(file.to);
      if (at > mtime(file.stored) && at > mtime(file.from) && statSync(file.to).isFile()) {
        copyPrivate(file.to, file.stored);
        carried.push(file.stored);
      }
    }
  }
  return carried;
}

/** The task's home, made from the template when new or `fresh`. */
export function prepareHome(t: HomeTemplate): PreparedHome {
  const home = join(homesDir(t.agent), t.key);
  const env: Record<string, string> = { HOME: home };
  for (const name of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME']) {
    // An XDG home inside the user's (hidden) home moves into the agent's; one elsewhere is left as it is.
    const value = t.env[name];
    if (value && (value === t.source || value.startsWith(`${t.source}/`))) env[name] = join(home, value.slice(t.source.length));
  }
  for (const cli of t.cliHomes) if (t.env[cli.name]) env[cli.name] = join(home, '.cli-homes', cli.name);
  if (existsSync(home) && !t.fresh) return { home, env };
  carryBackLogins(t);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true, mode: 0o700 });
  for (const cli of t.cliHomes) if (t.env[cli.name]) mkdirSync(env[cli.name]!, { recursive: true, mode: 0o700 });
  for (const file of templateFiles(t, home)) {
    // A login: the newer of the user's and the one swarm carried back from a refresh.
    const from = file.stored && mtime(file.stored) > mtime(file.from) ? file.stored : file.from;
    if (existsSync(from) && statSync(from).isFile()) copyPrivate(from, file.to);
  }
  return { home, env };
}

/** Every home made for the task whose checkout is `worktree` (its agent's, its reviewers', its CI's). */
export function removeTaskHomes(worktree: string): void {
  const root = join(swarmDataDir(), 'homes');
  if (!worktree || !existsSync(root)) return;
  const key = basename(worktree);
  for (const agent of readdirSync(root)) {
    const dir = join(root, agent);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir)) if (name === key || name.startsWith(`${key}.`)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** The home of a confined command run for a task (CI, setup, screenshots): fresh each run, nothing copied in. */
export function commandHome(worktree: string, realHome: string): string {
  return prepareHome({ agent: 'ci', key: basename(worktree), source: realHome, seed: [], logins: [], copy: [], cliHomes: [], env: {}, fresh: true }).home;
}
