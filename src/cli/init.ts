import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installedClis } from '../agents/registry.js';
import { CONFIG_FILE } from '../config/load.js';
import type { SwarmConfigInput } from '../config/schema.js';
import { ensureStateDir } from '../config/project.js';
import { UsageError } from '../errors.js';
import { probeSandbox } from '../sandbox/probe.js';
import { findRepo, runGit } from '../workspace/git.js';
import { LOCKFILES, planInit, type InitFacts } from './init-plan.js';

function npmTestScript(root: string): string | null {
  try {
    const scripts: unknown = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: unknown }).scripts;
    if (scripts && typeof scripts === 'object' && 'test' in scripts && typeof scripts.test === 'string') return scripts.test;
  } catch {
    // no package.json, or not ours to judge
  }
  return null;
}

function makefileHasTest(root: string): boolean {
  try {
    return /^test\s*:/m.test(readFileSync(join(root, 'Makefile'), 'utf8'));
  } catch {
    return false;
  }
}

/** A starting config from what the repository and this machine show: base, CI, agents (best one default). */
export async function initProject(cwd: string, options: { force?: boolean; base?: string }): Promise<{ file: string; config: SwarmConfigInput; notes: string[] }> {
  const repo = await findRepo(cwd);
  const file = join(repo.root, CONFIG_FILE);
  if (existsSync(file) && !options.force) throw new UsageError(`${file} already exists. Edit it, or run \`swarm init --force\` to overwrite it.`);
  const branch = (await runGit(repo.root, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim();
  const has = (name: string): boolean => existsSync(join(repo.root, name));
  const facts: InitFacts = {
    branch: branch || null,
    ...(options.base ? { base: options.base } : {}),
    npmTest: npmTestScript(repo.root),
    files: { pyproject: has('pyproject.toml'), pytestIni: has('pytest.ini'), makefileTest: makefileHasTest(repo.root), goMod: has('go.mod'), cargo: has('Cargo.toml') },
    clis: installedClis(repo.root).filter((c) => c.executable).map((c) => c.type),
    // The demo module starts daemons and agents: loaded only here, never by every command.
    ollama: await (await import('./demo.js')).findOllamaToolModel().then((found) => ('model' in found ? found : null)),
    uid: process.getuid?.() ?? 1000,
    sandbox: probeSandbox(),
    lockfiles: LOCKFILES.filter(has),
  };
  const { config, notes } = planInit(facts);
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  ensureStateDir(repo);
  return { file, config, notes };
}
