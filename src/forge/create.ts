import type { Logger } from 'pino';
import { runnersOf } from '../runners/runners.js';
import type { Project } from '../config/project.js';
import type { Forge } from './forge.js';
import { LocalForge } from './local.js';

/** The configured forge, connected and checked (a GitHub token problem is reported here, at start). */
export async function createForge(project: Project, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Forge> {
  if (project.config.forge === 'github') return (await import('./github.js')).connectGitHub({ repoRoot: project.repo.root, config: project.config, registry: project.registry, log, env });
  return new LocalForge({ repoRoot: project.repo.root, config: project.config, registry: project.registry, sessionsDir: project.paths.sessions, runners: runnersOf(project) });
}
