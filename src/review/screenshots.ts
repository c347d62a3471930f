import { homedir } from 'node:os';
/**
 * Screenshots for UI changes, part of the definition of done: when the diff touches the configured UI paths,
 * `ready` needs screenshots under the configured folder, committed by the agent or taken by a configured
 * command in the task's checkout (confined like CI for a sandboxed task). Read without following links out.
 */
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import picomatch from 'picomatch';
import type { SwarmConfig } from '../config/schema.js';
import { cleanEnv } from '../agents/adapter.js';
import { runSandboxed, sandboxPlan } from '../sandbox/plan.js';
import { commandHome } from '../sandbox/homes.js';
import { isClone } from '../workspace/clones.js';
import { git } from '../workspace/git.js';

export const IMAGE = /\.(png|jpe?g|webp|gif)$/i;

export interface ScreenshotFacts {
  /** Changed files under the UI paths: non-empty means screenshots are required. */
  ui: string[];
  /** Screenshots in the checkout (relative paths). */
  files: string[];
  /** A command is configured and has not yet run on this head. */
  can_take: boolean;
}

/** Pure: the changed files that are UI by the configured globs. */
export function uiChanges(changed: readonly string[], globs: readonly string[]): string[] {
  if (!globs.length) return [];
  const isUi = picomatch([...globs], { dot: true });
  return changed.filter((file) => isUi(file));
}

/** Image files under `dir` of the checkout: regular files only, never a link, never outside the checkout. */
export function screenshotFiles(worktree: string, dir: string): string[] {
  const root = realpathSync(worktree);
  const base = join(worktree, dir);
  const out: string[] = [];
  const walk = (folder: string, depth: number): void => {
    if (depth > 4) return;
    let entries: string[];
    try {
      entries = readdirSync(folder);
    } catch {
      return;
    }
    for (const name of entries.sort()) {
      const path = join(folder, name);
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) continue;
      if (stat.isDirectory()) walk(path, depth + 1);
      else if (stat.isFile() && IMAGE.test(name) && realpathSync(dirname(path)).startsWith(root)) out.push(relative(worktree, path));
    }
  };
  walk(base, 0);
  return out.slice(0, 50);
}

export async function observeScreenshots(config: SwarmConfig, repoRoot: string, worktree: string, base: string, head: string, tookOnHead: boolean): Promise<ScreenshotFacts | undefined> {
  const shots = config.dod.screenshots;
  if (!shots.paths.length) return undefined;
  const changed = (await git(repoRoot, ['diff', '--name-only', '--no-renames', `${base}...${head}`])).split('\n').filter(Boolean);
  return { ui: uiChanges(changed, shots.paths), files: screenshotFiles(worktree, shots.dir), can_take: Boolean(shots.command) && !tookOnHead };
}

/** Runs the configured screenshot command in the checkout (confined for a sandboxed task); its output tail. */
export async function takeScreenshots(config: SwarmConfig, repoRoot: string, worktree: string): Promise<{ code: number; output: string }> {
  const command = config.dod.screenshots.command!;
  const timeoutMs = config.dod.screenshots.timeout_seconds * 1000;
  const env = { ...cleanEnv(config.ci.pass_env), ...config.ci.env, SWARM_SCREENSHOT_DIR: join(worktree, config.dod.screenshots.dir), CI: 'true' };
  if (isClone(worktree)) {
    const plan = sandboxPlan({ repoRoot, worktree, stateDir: join(repoRoot, '.swarm'), home: commandHome(worktree, homedir()), homeRead: config.sandbox_home_read });
    const result = await runSandboxed(plan, command, { ...env, HOME: plan.home ?? '', TMPDIR: '/tmp' }, timeoutMs);
    return { code: result.code, output: `${result.stdout}${result.stderr}`.slice(-2000) };
  }
  return new Promise((resolve) => {
    execFile(command[0]!, command.slice(1), { cwd: worktree, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}`.slice(-2000) });
    });
  });
}
