/**
 * Dependencies shared by lockfile (issue: speed): a checkout made ready with this project's own dependencies
 * (its package-lock.json) from swarm's cache, against a plain `npm ci` of the same lockfile in the same run;
 * and the disk ten such checkouts use against ten plain installs. Prints figures; asserts nothing.
 * Run: npm run bench:deps   (npm ci runs with --ignore-scripts on both sides: no native builds in the figure)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeps, linkCopy } from '../src/workspace/deps.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = realpathSync(mkdtempSync(join(tmpdir(), 'swarm-bench-deps-')));
const spec = { command: ['npm', 'ci', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], lockfiles: ['package-lock.json'], paths: ['node_modules'] };
const CHECKOUTS = 10;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function checkout(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, file), join(dir, file));
  return dir;
}

function duKb(paths: string[]): number {
  // One du over all paths: a file hard-linked into several is counted once, as the disk holds it once.
  return Number(execFileSync('du', ['-sk', '--total', ...paths], { encoding: 'utf8' }).trim().split('\n').at(-1)!.split('\t')[0]);
}

const run = async (argv: readonly string[], cwd: string): Promise<void> => void execFileSync(argv[0]!, argv.slice(1), { cwd, stdio: 'ignore' });

try {
  // Warm npm's own download cache first, so the baseline is npm ci at its best (nothing fetched).
  await run(spec.command, checkout('warmup'));
  const plain: number[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = checkout(`plain-${i}`);
    const t0 = performance.now();
    await run(spec.command, dir);
    plain.push(performance.now() - t0);
  }
  const cache = join(work, 'cache');
  const first = checkout('swarm-0');
  const t0 = performance.now();
  await ensureDeps(first, spec, cache, (argv) => run(argv, first));
  const firstMs = performance.now() - t0;
  const restored: number[] = [];
  const dirs = [first];
  for (let i = 1; i < CHECKOUTS; i++) {
    const dir = checkout(`swarm-${i}`);
    const t = performance.now();
    const how = await ensureDeps(dir, spec, cache, (argv) => run(argv, dir));
    restored.push(performance.now() - t);
    if (how !== 'restored') throw new Error(`checkout ${i}: ${how}, expected restored`);
    dirs.push(dir);
  }
  const probe = await linkCopy(join(first, 'package.json'), join(work, 'probe.json'));
  const count = (dir: string): number => Number(execFileSync('sh', ['-c', 'find "$1" | wc -l', 'sh', dir], { encoding: 'utf8' }).trim());
  const want = count(join(first, 'node_modules'));
  for (const dir of dirs) if (count(join(dir, 'node_modules')) !== want) throw new Error(`${dir}: not the same tree as the install`);
  const plainDisk = duKb([join(work, 'plain-0', 'node_modules')]);
  const sharedDisk = duKb([cache, ...dirs.map((d) => join(d, 'node_modules'))]);
  const files = Number(execFileSync('sh', ['-c', 'find "$1" -type f | wc -l', 'sh', join(first, 'node_modules')], { encoding: 'utf8' }).trim());
  console.log(`dependencies of this project's package-lock.json: ${files.toLocaleString('en')} files, ${(plainDisk / 1024).toFixed(0)} MB installed; copies made by ${probe} on this file system`);
  console.log(`plain npm ci (download cache warm)   median ${median(plain).toFixed(0)} ms (runs: ${plain.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`swarm, first checkout (installs)     ${firstMs.toFixed(0)} ms = ${(firstMs / median(plain)).toFixed(2)}x (npm ci and storing it)`);
  console.log(`swarm, later checkouts (from cache)  median ${median(restored).toFixed(0)} ms = ${(median(restored) / median(plain)).toFixed(3)}x`);
  console.log(`disk, ${CHECKOUTS} checkouts: ${(sharedDisk / 1024).toFixed(0)} MB shared (cache included) vs ${((plainDisk * CHECKOUTS) / 1024).toFixed(0)} MB as ${CHECKOUTS} plain installs = ${(sharedDisk / (plainDisk * CHECKOUTS)).toFixed(3)}x`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
