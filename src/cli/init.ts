import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE } from '../config/load.js';
import type { SwarmConfigInput } from '../config/schema.js';
import { ensureStateDir } from '../config/project.js';
import { UsageError } from '../errors.js';
import { findRepo, runGit } from '../workspace/git.js';

/** A starting config: the current branch as base, the repo's own test command as CI, desktop notifications. */
export async function initProject(cwd: string, options: { force?: boolean; base?: string }): Promise<{ file: string; config: SwarmConfigInput }> {
  const repo = await findRepo(cwd);
  const file = join(repo.root, CONFIG_FILE);
  if (existsSync(file) && !options.force) throw new UsageError(`${file} already exists. Edit it, or run \`swarm init --force\` to overwrite it.`);
  const branch = (await runGit(repo.root, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim();
  let ci: string[] | undefined;
  const pkg = join(repo.root, 'package.json');
  if (existsSync(pkg)) {
    try {
      const scripts: unknown = (JSON.parse(readFileSync(pkg, 'utf8')) as { scripts?: unknown }).scripts;
      if (scripts && typeof scripts === 'object' && 'test' in scripts) ci = ['npm', 'test'];
    } catch {
      // not our business: leave CI unset
    }
  }
  const config: SwarmConfigInput = {
    base: options.base ?? (branch || 'main'),
    default_agent: 'claude',
    agents: {
      claude: { type: 'custom', command: ['claude', '-p', '{prompt}', '--dangerously-skip-permissions'], timeout_minutes: 60 },
    },
    ...(ci ? { ci: { command: ci, timeout_minutes: 30 } } : {}),
    max_retries: 3,
    stuck_minutes: 15,
    notify: { desktop: true },
  };
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  await ensureStateDir(repo);
  return { file, config };
}
