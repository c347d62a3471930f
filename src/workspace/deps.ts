/**
 * Dependencies shared, not reinstalled. `worktree.deps` names an install command, the lockfiles that decide
 * what it installs, and the folders it fills (npm ci -> node_modules, uv sync -> .venv). The first checkout
 * with a given lockfile (and Node version, platform, architecture) installs for real, and the result is kept
 * under swarm's data folder; every later checkout gets it as a copy-on-write clone where the file system can
 * (reflink), else as hard links to files made read-only, so an agent's own install (which replaces files,
 * never writes into them) cannot change them for the others. A lockfile changed on the branch is another key:
 * a real install.
 */
import * as z from 'zod';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism, platform } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { DepsSpec } from '../config/schema.js';


const MARKER = '.swarm-deps-key';

export const DepsOutcome = z.enum(['restored', 'installed', 'present', 'uncached']);
export type DepsOutcome = z.infer<typeof DepsOutcome>;

/** The cache key: lockfiles' content, the install command, the runtime. Null when no lockfile is there. Pure but for reading the lockfiles. */
export function depsKey(checkout: string, spec: DepsSpec, runtime = { node: process.version, platform: platform(), arch: arch() }): string | null {
  const hash = createHash('sha256').update(JSON.stringify({ command: spec.command, paths: spec.paths, runtime }));
  let found = false;
  for (const file of spec.lockfiles) {
    const path = join(checkout, file);
    if (!existsSync(path) || !lstatSync(path).isFile()) continue;
    found = true;
    hash.update(`\0${file}\0`).update(readFileSync(path));
  }
  return found ? hash.digest('hex').slice(0, 32) : null;
}

function inside(checkout: string, path: string): string {
  const full = resolve(checkout, path);
  const rel = relative(checkout, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`worktree.deps path "${path}" must be a folder inside the checkout.`);
  return full;
}

function cp(args: string[]): Promise<boolean> {
  return new Promise((resolvePromise) => execFile('cp', args, { maxBuffer: 1024 * 1024 }, (err) => resolvePromise(!err)));
}

/** Whether `dir`'s file system clones files (reflink), asked once per folder with one small file. */
const reflinks = new Map<string, boolean>();
async function canReflink(dir: string): Promise<boolean> {
  const known = reflinks.get(dir);
  if (known !== undefined) return known;
  mkdirSync(dir, { recursive: true });
  const probe = join(dir, `.reflink-probe-${randomBytes(4).toString('hex')}`);
  writeFileSync(probe, 'probe');
  const ok = await cp(['--reflink=always', probe, `${probe}.copy`]);
  rmSync(probe, { force: true });
  rmSync(`${probe}.copy`, { force: true });
  reflinks.set(dir, ok);
  return ok;
}

/**
 * Copy-on-write clone if the file system can, else hard links (same file system), else a plain copy. Hard
 * links are made by one `cp -al` per core over the top-level entries: a link per file is the whole cost.
 */
export async function linkCopy(from: string, to: string): Promise<'reflink' | 'hardlink' | 'copy'> {
  mkdirSync(dirname(to), { recursive: true });
  if ((await canReflink(dirname(to))) && (await cp(['-a', '--reflink=always', from, to]))) return 'reflink';
  rmSync(to, { recursive: true, force: true });
  if (lstatSync(from).isDirectory()) {
    mkdirSync(to);
    const entries = readdirSync(from).map((name) => join(from, name));
    const lanes = Math.max(1, Math.min(availableParallelism(), entries.length));
    const groups = Array.from({ length: lanes }, (_, i) => entries.filter((_, j) => j % lanes === i));
    const linked = await Promise.all(groups.map((group) => (group.length ? cp(['-al', '-t', to, '--', ...group]) : Promise.resolve(true))));
    if (linked.every(Boolean)) return 'hardlink';
  } else if (await cp(['-al', from, to])) return 'hardlink';
  rmSync(to, { recursive: true, force: true });
  if (await cp(['-a', from, to])) return 'copy';
  throw new Error(`could not copy ${from} to ${to}`);
}

/** Files of the cache read-only: shared by hard link, an edit in place would reach every checkout. */
function freeze(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) freeze(path);
    else if (entry.isFile()) chmodSync(path, lstatSync(path).mode & ~0o222);
  }
}

/**
 * Puts the dependencies in place: already there (a respawn, same key), restored from the cache, or installed
 * (and stored for the next checkout). `install` runs the command in the checkout and throws on failure.
 */
export async function ensureDeps(checkout: string, spec: DepsSpec, cacheRoot: string, install: (argv: readonly string[]) => Promise<void>): Promise<DepsOutcome> {
  const key = depsKey(checkout, spec);
  const targets = spec.paths.map((p) => inside(checkout, p));
  if (key === null) {
    await install(spec.command);
    return 'uncached';
  }
  const markerOf = (target: string): string => join(target, MARKER);
  if (targets.every((t) => existsSync(markerOf(t)) && readFileSync(markerOf(t), 'utf8') === key)) return 'present';
  const entry = join(cacheRoot, key);
  if (existsSync(join(entry, 'complete'))) {
    for (const [i, target] of targets.entries()) {
      rmSync(target, { recursive: true, force: true });
      await linkCopy(join(entry, String(i)), target);
    }
    const now = new Date();
    utimesSync(entry, now, now); // last used: what `swarm cleanup` goes by
    return 'restored';
  }
  for (const target of targets) rmSync(target, { recursive: true, force: true });
  await install(spec.command);
  // Stored whole or not at all: built beside, then renamed into place.
  const building = join(cacheRoot, `.${key}-${randomBytes(4).toString('hex')}`);
  try {
    for (const [i, target] of targets.entries()) {
      if (!existsSync(target)) throw new Error(`${spec.paths[i]} is missing after \`${spec.command.join(' ')}\``);
      writeFileSync(markerOf(target), key);
      await linkCopy(target, join(building, String(i)));
      freeze(join(building, String(i)));
    }
    writeFileSync(join(building, 'complete'), new Date().toISOString());
    mkdirSync(cacheRoot, { recursive: true });
    if (existsSync(entry)) rmSync(building, { recursive: true, force: true });
    else renameSync(building, entry);
  } catch {
    rmSync(building, { recursive: true, force: true }); // the checkout has its install; only the sharing is lost
  }
  return 'installed';
}

export const DEPS_UNUSED_DAYS = 14;

/**
 * `swarm cleanup`: cached installs no checkout took for this long, and halves a crashed store left behind.
 * A checkout that holds hard links to one keeps its files (they go with the checkout).
 */
export function pruneDeps(cacheRoot: string, now: number, maxAgeMs = DEPS_UNUSED_DAYS * 86_400_000): string[] {
  if (!existsSync(cacheRoot)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(cacheRoot)) {
    const path = join(cacheRoot, name);
    const age = now - statSync(path).mtimeMs;
    const halfMade = name.startsWith('.') && age > 3_600_000;
    if (halfMade || (!name.startsWith('.') && age > maxAgeMs)) {
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}
