import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE } from '../config/load.js';
import type { SwarmConfigInput } from '../config/schema.js';
import { ensureStateDir } from '../config/project.js';
import { UsageError } from '../errors.js';
import { findRepo, runGit } from '../workspace/git.js';
import { installedClis } from '../agents/registry.js';

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
  // The coding CLIs found on PATH become agents; with none, a Claude Code entry to edit.
  const found = installedClis(repo.root).filter((c) => c.executable).map((c) => c.type);
  const types = found.length ? found : ['claude'];
  const config: SwarmConfigInput = {
    base: options.base ?? (branch || 'main'),
    default_agent: types[0],
    agents: Object.fromEntries(types.map((type) => [type, { type }])),
    ...(ci ? { ci: { command: ci, timeout_minutes: 30 } } : {}),
    max_retries: 3,
    stuck_minutes: 15,
    notify: { desktop: true },
  };
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  await ensureStateDir(repo);
  return { file, config };
}
