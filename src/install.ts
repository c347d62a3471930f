/**
 * Where swarm itself is installed, found from this module: it runs from tsc's output (dist/src/…), from the
 * bundled CLI (dist/cli/…) and, under the tests, from the sources (src/…), at three different depths, so no
 * module may count `../` to reach a sibling. Every path to swarm's own files comes from here.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'swarm.js'))) return dir;
    if (dirname(dir) === dir) throw new Error(`swarm's install folder (with package.json and bin/swarm.js) was not found above ${start}; reinstall worktree-swarm.`);
  }
}

/** The install folder: package.json, bin/, dist/, node_modules/. */
export const SWARM_ROOT = findRoot();
/** The command line entry point, for starting swarm again as a child (daemon, built-in agent, demo). */
export const SWARM_BIN = join(SWARM_ROOT, 'bin', 'swarm.js');
/** What `npm run build` makes. */
export const DIST = join(SWARM_ROOT, 'dist');
