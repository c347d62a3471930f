import { homedir } from 'node:os';
import { join } from 'node:path';

/** swarm's own data folder (checkouts of every repository, agents' homes, the repositories it knows). */
export function swarmDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'worktree-swarm');
}
