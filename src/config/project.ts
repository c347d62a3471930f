import { appendFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../../registry/registry.js';
import { useCliFactsCache } from '../agents/versions.js';
import { findRepo, type RepoInfo } from '../workspace/git.js';
import { errorMessage, StateError } from '../errors.js';
import { loadConfig } from './load.js';
import type { SwarmConfig } from './schema.js';

export interface StatePaths {
  dir: string;
  db: string;
  lock: string;
  daemonInfo: string;
  daemonLog: string;
  sessions: string;
  /** The highest task id ever created here, kept outside the database. */
  tasksSeen: string;
}

export function statePaths(repoRoot: string): StatePaths {
  const dir = join(repoRoot, '.swarm');
  return {
    dir,
    db: join(dir, 'swarm.db'),
    tasksSeen: join(dir, 'tasks-seen'),
    lock: join(dir, 'daemon.lock'),
    daemonInfo: join(dir, 'daemon.json'),
    daemonLog: join(dir, 'daemon.log'),
    sessions: join(dir, 'sessions'),
  };
}

/** Keeps .swarm/ out of `git status` without touching the user's .gitignore. */
export function ensureStateDir(repo: RepoInfo): StatePaths {
  const paths = statePaths(repo.root);
  mkdirSync(paths.sessions, { recursive: true, mode: 0o700 });
  // An existing folder keeps whatever mode it had: the database, tokens and logs are the user's alone.
  for (const dir of [paths.dir, paths.sessions]) chmodSync(dir, 0o700);
  const exclude = join(repo.commonDir, 'info', 'exclude');
  const current = existsSync(exclude) ? readFileSync(exclude, 'utf8') : '';
  if (!current.split('\n').includes('/.swarm/')) {
    mkdirSync(join(repo.commonDir, 'info'), { recursive: true });
    appendFileSync(exclude, `${current.endsWith('\n') || current === '' ? '' : '\n'}/.swarm/\n`);
  }
  return paths;
}

export interface Project {
  repo: RepoInfo;
  config: SwarmConfig;
  paths: StatePaths;
  registry: Registry;
}

/** The session folders of earlier tasks: evidence that tasks existed, whatever the database says. */
function sessionCount(paths: StatePaths): number {
  try {
    return readdirSync(paths.sessions).length;
  } catch {
    return 0;
  }
}

/** Notes that task `id` exists (the highest id wins): one small file, written after the row. */
export function rememberTask(paths: StatePaths, id: number): void {
  if (id > tasksSeen(paths)) writeFileSync(paths.tasksSeen, `${id}\n`, { mode: 0o600 });
}

function tasksSeen(paths: StatePaths): number {
  try {
    return Number.parseInt(readFileSync(paths.tasksSeen, 'utf8'), 10) || 0;
  } catch {
    return 0;
  }
}

/**
 * Opens the registry, refusing a database that cannot be trusted: unreadable (corrupt, not SQLite), or one
 * that lost its tasks (deleted or emptied) while `.swarm/sessions` shows earlier tasks ran. Nothing is changed.
 */
export function openRegistry(paths: StatePaths): Registry {
  const sessions = sessionCount(paths);
  const seen = tasksSeen(paths);
  const empty = !existsSync(paths.db) || statSync(paths.db).size === 0;
  const evidence = sessions > 0 ? `\`.swarm/sessions/\` holds ${sessions} session(s) of earlier tasks` : `\`.swarm/tasks-seen\` shows ${seen} task(s) were queued here (queued tasks that never ran leave nothing else)`;
  const lost = `\`.swarm/swarm.db\` ${empty ? 'is missing or empty' : 'has no tasks'}, but ${evidence}: the database was deleted or emptied, and swarm will not start over on top of their worktrees and sessions. Restore swarm.db from a backup; or, to start fresh, move the old state aside: \`mv .swarm .swarm.old\` (worktrees of the old tasks stay where they are; \`git worktree list\` shows them). Nothing was changed.`;
  const existed = sessions > 0 || seen > 0;
  if (empty && existed) throw new StateError('SWARM_STATE_LOST', lost);
  let registry: Registry;
  try {
    registry = new Registry(paths.db);
  } catch (err) {
    const message = errorMessage(err);
    if (/not a database|malformed|corrupt|SQLITE_CORRUPT|SQLITE_NOTADB/i.test(message)) {
      throw new StateError('SWARM_STATE_CORRUPT', `\`.swarm/swarm.db\` is not a readable SQLite database (${message}). Move it aside (\`mv .swarm/swarm.db .swarm/swarm.db.broken\`) and restore a backup, or \`mv .swarm .swarm.old\` to start fresh. \`swarm doctor\` checks the state folder. Nothing was changed.`);
    }
    throw err;
  }
  if (existed && registry.listTasks().length === 0) {
    registry.close();
    throw new StateError('SWARM_STATE_LOST', lost);
  }
  return registry;
}

export async function openProject(cwd: string): Promise<Project> {
  const repo = await findRepo(cwd);
  const config = loadConfig(repo.root);
  const paths = ensureStateDir(repo);
  useCliFactsCache(join(paths.dir, 'cli-facts.json'));
  return { repo, config, paths, registry: openRegistry(paths) };
}
