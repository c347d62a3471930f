import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../../registry/registry.js';
import { useCliFactsCache } from '../agents/versions.js';
import { findRepo, runGit, type RepoInfo } from '../workspace/git.js';
import { loadConfig } from './load.js';
import type { SwarmConfig } from './schema.js';

export interface StatePaths {
  dir: string;
  db: string;
  lock: string;
  daemonInfo: string;
  daemonLog: string;
  sessions: string;
}

export function statePaths(repoRoot: string): StatePaths {
  const dir = join(repoRoot, '.swarm');
  return {
    dir,
    db: join(dir, 'swarm.db'),
    lock: join(dir, 'daemon.lock'),
    daemonInfo: join(dir, 'daemon.json'),
    daemonLog: join(dir, 'daemon.log'),
    sessions: join(dir, 'sessions'),
  };
}

/** Keeps .swarm/ out of `git status` without touching the user's .gitignore. */
export async function ensureStateDir(repo: RepoInfo): Promise<StatePaths> {
  const paths = statePaths(repo.root);
  mkdirSync(paths.sessions, { recursive: true, mode: 0o700 });
  const gitDir = (await runGit(repo.root, ['rev-parse', '--path-format=absolute', '--git-common-dir'])).stdout.trim();
  const exclude = join(gitDir, 'info', 'exclude');
  const current = existsSync(exclude) ? readFileSync(exclude, 'utf8') : '';
  if (!current.split('\n').includes('/.swarm/')) {
    mkdirSync(join(gitDir, 'info'), { recursive: true });
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

export async function openProject(cwd: string): Promise<Project> {
  const repo = await findRepo(cwd);
  const config = loadConfig(repo.root);
  const paths = await ensureStateDir(repo);
  useCliFactsCache(join(paths.dir, 'cli-facts.json'));
  return { repo, config, paths, registry: new Registry(paths.db) };
}
