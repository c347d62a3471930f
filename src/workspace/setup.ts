/**
 * What a new checkout gets before its agent starts: listed untracked files copied from the main checkout
 * (this machine only), the shared dependency installs, then the setup commands. The installs and commands are
 * a plan (`SetupPlan`) that a host's swarm runs as is in a checkout there.
 */
import { execFile } from 'node:child_process';
import { constants, copyFileSync, existsSync, lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import * as z from 'zod';
import { cleanEnv } from '../agents/adapter.js';
import { Argv, DepsSpec, type SwarmConfig } from '../config/schema.js';
import { GitError } from '../errors.js';
import { swarmDataDir } from '../sandbox/data-dir.js';
import { commandHome } from '../sandbox/homes.js';
import { runSandboxed, sandboxPlan } from '../sandbox/plan.js';
import { isClone } from './clones.js';
import { ensureDeps, type DepsOutcome } from './deps.js';

/** The installs and commands a checkout runs, and how (confined, around which repository). */
export const SetupPlan = z.object({
  deps: z.array(DepsSpec),
  setup: z.array(Argv),
  timeout_minutes: z.number().positive(),
  home_read: z.array(z.string()),
  /** Confined (a sandboxed task's checkout): it runs the branch's scripts (npm ci runs postinstall). */
  confined: z.boolean(),
  /** The repository and its state folder there, hidden from a confined command. */
  repo_root: z.string(),
  state_dir: z.string(),
});
export type SetupPlan = z.infer<typeof SetupPlan>;

export function setupPlanOf(config: SwarmConfig, where: { repoRoot: string; stateDir: string; confined: boolean }): SetupPlan {
  return {
    deps: config.worktree.deps,
    setup: config.worktree.setup,
    timeout_minutes: config.worktree.setup_timeout_minutes,
    home_read: config.sandbox_home_read,
    confined: where.confined,
    repo_root: where.repoRoot,
    state_dir: where.stateDir,
  };
}

/** Sets up a checkout on this machine: the listed files copied in, then the plan. */
export async function setupWorktree(config: SwarmConfig, repoRoot: string, path: string): Promise<DepsOutcome[]> {
  copyListed(config.worktree.copy, repoRoot, path);
  return runSetup(path, setupPlanOf(config, { repoRoot, stateDir: join(repoRoot, '.swarm'), confined: isClone(path) }));
}

/** Copies listed untracked files (.env, ...) from the main checkout; a missing one is not an error. */
function copyListed(files: readonly string[], repoRoot: string, path: string): void {
  for (const file of files) {
    const from = resolve(repoRoot, file);
    const rel = relative(repoRoot, from);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new GitError('SWARM_SETUP_FAILED', `worktree.copy entry "${file}" points outside the repository.`);
    if (!existsSync(from) || !statSync(from).isFile()) continue;
    const to = join(path, rel);
    if (lexists(to)) continue; // a link the agent committed there is never written through
    mkdirSync(dirname(to), { recursive: true });
    if (!realpathSync(dirname(to)).startsWith(`${realpathSync(path)}/`) && realpathSync(dirname(to)) !== realpathSync(path)) {
      throw new GitError('SWARM_SETUP_FAILED', `worktree.copy: ${dirname(to)} leads outside the task's checkout (a symbolic link in the branch); ${file} was not copied.`);
    }
    copyFileSync(from, to, constants.COPYFILE_EXCL);
  }
}

function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The shared installs (restored from this machine's store when the lockfile matches), then the setup commands. */
export async function runSetup(path: string, plan: SetupPlan): Promise<DepsOutcome[]> {
  const confined = plan.confined ? sandboxPlan({ repoRoot: plan.repo_root, worktree: path, stateDir: plan.state_dir, home: commandHome(path, homedir()), homeRead: plan.home_read }) : null;
  const timeoutMs = plan.timeout_minutes * 60_000;
  const runOne = async (argv: readonly string[], key: string): Promise<void> => {
    const result = confined ? await runSandboxed(confined, [...argv], { ...cleanEnv(), TMPDIR: '/tmp', HOME: confined.home ?? '' }, timeoutMs).then((r) => ({ code: r.code, output: `${r.stdout}${r.stderr}` })) : await run(argv, path, timeoutMs);
    if (result.code !== 0) {
      throw new GitError('SWARM_SETUP_FAILED', `Worktree setup command \`${argv.join(' ')}\` failed (exit ${result.code}) in ${path}:\n${result.output.slice(-2000)}\nFix ${key} in swarm.config.json.`);
    }
  };
  const outcomes: DepsOutcome[] = [];
  for (const spec of plan.deps) outcomes.push(await ensureDeps(path, spec, join(swarmDataDir(), 'deps'), (argv) => runOne(argv, 'worktree.deps')));
  for (const argv of plan.setup) await runOne(argv, 'worktree.setup');
  return outcomes;
}

function run(argv: readonly string[], cwd: string, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    execFile(argv[0]!, argv.slice(1), { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (!err) resolvePromise({ code: 0, output });
      else resolvePromise({ code: typeof err.code === 'number' ? err.code : 127, output: `${output}${err.killed ? '\n(killed: timed out)' : ''}${typeof err.code === 'string' ? `\n${err.message}` : ''}` });
    });
  });
}
