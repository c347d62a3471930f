import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { depsKey, ensureDeps, pruneDeps } from '../../src/workspace/deps.js';
import { tempDir } from '../helpers/sample.js';

const spec = { command: ['npm', 'ci', '--no-audit', '--no-fund', '--offline'], lockfiles: ['package-lock.json'], paths: ['node_modules'] };

/** A project whose one dependency is a local tarball: `npm ci` installs real files with no registry. */
function makeProject(dir: string, version = '1.0.0'): string {
  const lib = join(dir, `lib-${version}`);
  mkdirSync(lib, { recursive: true });
  writeFileSync(join(lib, 'package.json'), JSON.stringify({ name: 'left-lib', version, main: 'index.js' }));
  writeFileSync(join(lib, 'index.js'), `module.exports = 'left ${version}';\n`);
  const project = join(dir, `project-${version}`);
  mkdirSync(join(project, 'vendor'), { recursive: true });
  execFileSync('npm', ['pack', '--silent', '--pack-destination', join(project, 'vendor'), lib], { stdio: 'ignore' });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0', dependencies: { 'left-lib': `file:vendor/left-lib-${version}.tgz` } }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', '--package-lock-only'], { cwd: project, stdio: 'ignore' });
  return project;
}

function checkoutOf(project: string, to: string): string {
  execFileSync('cp', ['-a', project, to]);
  return to;
}

describe('dependencies shared by lockfile (real npm)', () => {
  let dir: string;
  let cache: string;
  const ran: string[] = [];
  const install = (cwd: string) => async (argv: readonly string[]): Promise<void> => {
    ran.push(cwd);
    execFileSync(argv[0]!, argv.slice(1), { cwd, stdio: 'ignore' });
  };
  beforeEach(() => {
    dir = tempDir('deps');
    cache = join(dir, 'cache');
    ran.length = 0;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs once; the next checkout gets the same files without installing, read-only so an edit in place cannot reach the others', async () => {
    const project = makeProject(dir);
    const a = checkoutOf(project, join(dir, 'a'));
    const b = checkoutOf(project, join(dir, 'b'));
    expect(await ensureDeps(a, spec, cache, install(a))).toBe('installed');
    expect(await ensureDeps(b, spec, cache, install(b))).toBe('restored');
    expect(ran).toEqual([a]);
    const file = (c: string) => join(c, 'node_modules', 'left-lib', 'index.js');
    expect(readFileSync(file(b), 'utf8')).toBe("module.exports = 'left 1.0.0';\n");
    expect(execFileSync(process.execPath, ['-p', "require('left-lib')"], { cwd: b, encoding: 'utf8' }).trim()).toBe('left 1.0.0');
    // Shared (a hard link here; a reflink where the file system can), and not writable.
    expect(statSync(file(b)).mode & 0o222).toBe(0);
    // Another run in the same checkout (a respawn): nothing to do.
    expect(await ensureDeps(b, spec, cache, install(b))).toBe('present');
    // The agent's own `npm ci` replaces files, never writes into them: the cache stays as it was.
    execFileSync('npm', spec.command.slice(1), { cwd: b, stdio: 'ignore' });
    const c = checkoutOf(project, join(dir, 'c'));
    expect(await ensureDeps(c, spec, cache, install(c))).toBe('restored');
    expect(readFileSync(file(c), 'utf8')).toBe("module.exports = 'left 1.0.0';\n");
  });

  it('a lockfile changed on the branch is another key: a real install', async () => {
    const one = makeProject(dir, '1.0.0');
    const two = makeProject(dir, '2.0.0');
    expect(depsKey(one, spec)).not.toBe(depsKey(two, spec));
    const a = checkoutOf(one, join(dir, 'a'));
    const b = checkoutOf(two, join(dir, 'b'));
    expect(await ensureDeps(a, spec, cache, install(a))).toBe('installed');
    expect(await ensureDeps(b, spec, cache, install(b))).toBe('installed');
    expect(readFileSync(join(b, 'node_modules', 'left-lib', 'index.js'), 'utf8')).toContain('left 2.0.0');
    // Same lockfile, another Node: another key too.
    expect(depsKey(one, spec, { node: 'v99.0.0', platform: 'linux', arch: 'x64' })).not.toBe(depsKey(one, spec));
  });

  it('no lockfile: installs every time, caches nothing; a failed install stores nothing; paths must stay inside', async () => {
    const project = makeProject(dir);
    rmSync(join(project, 'package-lock.json'));
    const a = checkoutOf(project, join(dir, 'a'));
    const npmInstall = { ...spec, command: ['npm', 'install', '--no-audit', '--no-fund', '--offline'] };
    expect(depsKey(a, npmInstall)).toBeNull();
    expect(await ensureDeps(a, npmInstall, cache, install(a))).toBe('uncached');
    expect(existsSync(join(a, 'node_modules', 'left-lib'))).toBe(true);
    expect(existsSync(cache)).toBe(false);
    const b = checkoutOf(makeProject(join(dir, 'x')), join(dir, 'b'));
    await expect(ensureDeps(b, spec, cache, async () => Promise.reject(new Error('npm ci failed: E404')))).rejects.toThrow(/E404/);
    expect(existsSync(cache)).toBe(false);
    await expect(ensureDeps(b, { ...spec, paths: ['../outside'] }, cache, install(b))).rejects.toThrow(/inside the checkout/);
  });

  it('cleanup drops installs no checkout took for 14 days and halves of a crashed store; a restore counts as a use', async () => {
    const project = makeProject(dir);
    const a = checkoutOf(project, join(dir, 'a'));
    await ensureDeps(a, spec, cache, install(a));
    const [key] = readdirSync(cache);
    const day = 86_400_000;
    const old = new Date(Date.now() - 20 * day);
    utimesSync(join(cache, key!), old, old);
    // Taken again today: kept.
    const b = checkoutOf(project, join(dir, 'b'));
    expect(await ensureDeps(b, spec, cache, install(b))).toBe('restored');
    mkdirSync(join(cache, '.half-made'));
    utimesSync(join(cache, '.half-made'), old, old);
    expect(pruneDeps(cache, Date.now())).toEqual(['.half-made']);
    // Unused for 15 days: removed; the checkouts keep their files (hard links).
    expect(pruneDeps(cache, Date.now() + 15 * day)).toEqual([key]);
    expect(readFileSync(join(b, 'node_modules', 'left-lib', 'index.js'), 'utf8')).toContain('left 1.0.0');
  });
});
