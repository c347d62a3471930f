/**
 * What a fresh home per task costs (issue: the sandbox's home). Prints figures as ratios against reusing one
 * home (what swarm did before), measured in the same process; asserts nothing. Run: npm run bench:home
 *  1. time to make a task's home from its template (claude's three files, a CODEX_HOME) vs reusing one
 *  2. what one home holds on disk
 *  3. bwrap's start with the home hidden whole and toolchains shown back vs the old plan (home secrets only)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareHome, type HomeTemplate } from '../src/sandbox/homes.js';
import { findBwrap } from '../src/sandbox/bwrap.js';
import { runSandboxed, sandboxPlan } from '../src/sandbox/plan.js';

const work = mkdtempSync(join(tmpdir(), 'swarm-bench-home-'));
process.env.XDG_DATA_HOME = join(work, 'data');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const user = join(work, 'user');
for (const [path, kb] of [['.claude.json', 40], ['.claude/.credentials.json', 1], ['.claude/settings.json', 2], ['codexhome/auth.json', 1], ['codexhome/config.toml', 1]] as const) {
  mkdirSync(join(user, path, '..'), { recursive: true });
  writeFileSync(join(user, path), 'x'.repeat(kb * 1024));
}
const template = (key: string, fresh: boolean): HomeTemplate => ({ agent: 'claude', key, source: user, seed: ['.claude.json', '.claude/.credentials.json', '.claude/settings.json'], logins: ['.claude/.credentials.json'], copy: [], cliHomes: [{ name: 'CODEX_HOME', files: ['auth.json', 'config.toml'], logins: ['auth.json'] }], env: { CODEX_HOME: join(user, 'codexhome') }, fresh });

function du(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    bytes += stat.isDirectory() ? du(path) + 4096 : Math.ceil(stat.size / 4096) * 4096;
  }
  return bytes;
}

try {
  const freshTimes: number[] = [];
  const reuseTimes: number[] = [];
  prepareHome(template('reused', true));
  for (let i = 0; i < 200; i++) {
    let t = performance.now();
    prepareHome(template(`task-${i}`, true));
    freshTimes.push(performance.now() - t);
    t = performance.now();
    prepareHome(template('reused', false));
    reuseTimes.push(performance.now() - t);
  }
  const home = prepareHome(template('sized', true)).home;
  console.log(`fresh home per task: ${median(freshTimes).toFixed(2)} ms (median of 200), reusing one: ${median(reuseTimes).toFixed(3)} ms; +${(median(freshTimes) - median(reuseTimes)).toFixed(2)} ms per task`);
  console.log(`one home on disk: ${(du(home) / 1024).toFixed(0)} KB (blocks), ${readdirSync(join(process.env.XDG_DATA_HOME, 'worktree-swarm', 'homes', 'claude')).length - 1} homes made`);

  const bwrap = findBwrap();
  if (bwrap) {
    const wt = join(work, 'wt');
    mkdirSync(wt);
    const plan = sandboxPlan({ repoRoot: process.cwd(), worktree: wt, stateDir: join(process.cwd(), '.swarm'), home: home });
    const old = { ...plan, hiddenHomes: [], views: plan.views.filter((v) => !v.startsWith(homedir())) };
    const run = async (p: typeof plan): Promise<number> => {
      const t = performance.now();
      await runSandboxed(p, ['true'], { PATH: process.env.PATH ?? '' });
      return performance.now() - t;
    };
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 30; i++) {
      a.push(await run(plan));
      b.push(await run(old));
    }
    console.log(`bwrap start, home hidden whole + ${plan.views.length} views: ${median(a).toFixed(1)} ms vs without hiding homes: ${median(b).toFixed(1)} ms (${(median(a) / median(b)).toFixed(2)}x)`);
  }
  execFileSync('true');
} finally {
  rmSync(work, { recursive: true, force: true });
}
