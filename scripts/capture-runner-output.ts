/**
 * Captures what real test runners, compilers and linters print when the sample bug fails (add(2, 3) gives -1,
 * not 5): each sample project under tests/fixtures/runners/ is copied to a temp dir and run in a real
 * pseudo-terminal, as swarm's CI session runs it (160 columns, CI=true). The output (ANSI codes and all) and any report file the run
 * wrote are saved under tests/fixtures/runner-output/, where the evidence recognisers' table tests read them.
 *
 *   npm run build && node dist/scripts/capture-runner-output.js [name ...]
 *
 * Needs the pinned runners (bash scripts/install-clis.sh runners), go, cargo, rspec and python3 with pytest.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pty from 'node-pty';
import * as z from 'zod';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url))).replace(/\/dist$/, '');
const SAMPLES = join(ROOT, 'tests', 'fixtures', 'runners');
const OUT = join(ROOT, 'tests', 'fixtures', 'runner-output');
/** The temp dir's path in the saved output: the same on every machine, so tests can make paths relative to it. */
export const FIXTURE_ROOT = '/tmp/swarm-worktree';

export const RunnerManifest = z.record(
  z.string(),
  z.object({
    /** The file holding the bug (its first `a - b` is add's body). */
    fix: z.string(),
    /** The CI command a swarm user would configure. */
    ci: z.array(z.string()).min(1),
    captures: z.record(z.string(), z.array(z.string()).min(1)).default({}),
    /** Report files (JUnit XML, jest/vitest JSON) a capture writes, by capture name. */
    reports: z.record(z.string(), z.string()).default({}),
  }),
);
export type RunnerManifest = z.infer<typeof RunnerManifest>;

export function readManifest(): RunnerManifest {
  return RunnerManifest.parse(JSON.parse(readFileSync(join(SAMPLES, 'runners.json'), 'utf8')));
}

export function runnersDir(): string {
  return process.env.SWARM_RUNNERS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/root', '.cache'), 'worktree-swarm', 'runners');
}

/** Beyond failing tests: compile and lint errors, and a run that crashed before any test ran. */
const EXTRA: { name: string; sample: string; argv: string[]; patch: Record<string, string> }[] = [
  {
    name: 'tsc',
    sample: 'node-test',
    argv: ['node_modules/.bin/tsc', '--noEmit', '-p', '.'],
    patch: {
      'tsconfig.json': '{ "compilerOptions": { "strict": true, "module": "nodenext", "target": "es2022", "noEmit": true }, "include": ["src"] }\n',
      'src/total.ts': "export function total(prices: number[]): number {\n  let sum = 0;\n  for (const p of prices) sum += p;\n  return `${sum}`;\n}\n",
    },
  },
  {
    name: 'eslint',
    sample: 'node-test',
    argv: ['node_modules/.bin/eslint', 'src'],
    patch: {
      'eslint.config.mjs': "export default [{ files: ['**/*.mjs'], rules: { 'no-unused-vars': 'error', eqeqeq: 'error' } }];\n",
      'src/total.mjs': "export function total(prices) {\n  const unused = 1;\n  return prices.length == 0 ? 0 : prices.reduce((a, b) => a + b);\n}\n",
    },
  },
  { name: 'go-build', sample: 'go', argv: ['go', 'build', './...'], patch: { 'total.go': 'package mathlib\n\nfunc Total(prices []int) string {\n\tsum := 0\n\tfor _, p := range prices {\n\t\tsum += p\n\t}\n\treturn sum\n}\n' } },
  { name: 'rustc', sample: 'cargo', argv: ['cargo', 'build', '--quiet'], patch: { 'src/total.rs': 'pub fn total(prices: &[i64]) -> String {\n    prices.iter().sum::<i64>()\n}\n', 'src/lib.rs': `pub mod total;\n${readFileSync(join(SAMPLES, 'cargo', 'src', 'lib.rs'), 'utf8')}` } },
  { name: 'node-test-crash', sample: 'node-test', argv: ['node', '--test'], patch: { 'test/math.test.mjs': `import { helper } from '../src/helpers.mjs';\n${readFileSync(join(SAMPLES, 'node-test', 'test', 'math.test.mjs'), 'utf8')}` } },
  { name: 'jest-crash', sample: 'jest', argv: ['node_modules/.bin/jest'], patch: { 'test/math.test.js': `const { helper } = require('../src/helpers.js');\n${readFileSync(join(SAMPLES, 'jest', 'test', 'math.test.js'), 'utf8')}` } },
  { name: 'pytest-crash', sample: 'pytest', argv: ['/usr/bin/python3', '-m', 'pytest'], patch: { 'tests/test_math.py': `from helpers import helper\n${readFileSync(join(SAMPLES, 'pytest', 'tests', 'test_math.py'), 'utf8')}` } },
];

/** A copy of the sample in a fresh temp dir, with the pinned JS runners linked in as node_modules. */
export function copySample(sample: string, into?: string): string {
  const dir = into ?? join(mkdtempSync(join(tmpdir(), `swarm-capture-${sample}-`)), sample);
  cpSync(join(SAMPLES, sample), dir, { recursive: true });
  if (existsSync(join(dir, 'package.json'))) symlinkSync(join(runnersDir(), 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function runInPty(argv: string[], cwd: string): Promise<string> {
  return new Promise((done) => {
    let out = '';
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TERM: 'xterm-256color', LANG: 'C.UTF-8', CI: 'true' };
    const child = pty.spawn(argv[0]!, argv.slice(1), { cwd, cols: 160, rows: 50, env });
    child.onData((data) => (out += data));
    child.onExit(({ exitCode }) => done(`${out}`.concat(exitCode === 0 ? '\n[capture: the run passed, which a failing sample must not]\n' : '')));
  });
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const manifest = readManifest();
  mkdirSync(OUT, { recursive: true });
  const jobs: { name: string; sample: string; argv: string[]; patch: Record<string, string>; report?: string }[] = [];
  for (const [sample, runner] of Object.entries(manifest)) {
    jobs.push({ name: sample, sample, argv: runner.ci, patch: {} });
    for (const [name, argv] of Object.entries(runner.captures)) jobs.push({ name, sample, argv, patch: {}, report: runner.reports[name] });
  }
  jobs.push(...EXTRA);
  for (const job of jobs.filter((j) => only.length === 0 || only.includes(j.name) || only.includes(j.sample))) {
    const dir = copySample(job.sample);
    for (const [file, text] of Object.entries(job.patch)) writeFileSync(join(dir, file), text);
    const output = await runInPty(job.argv, dir);
    writeFileSync(join(OUT, `${job.name}.txt`), output.split(dir).join(FIXTURE_ROOT));
    if (job.report) {
      const report = readFileSync(join(dir, job.report), 'utf8');
      writeFileSync(join(OUT, `${job.name}${job.report.slice(job.report.lastIndexOf('.'))}`), report.split(dir).join(FIXTURE_ROOT));
    }
    console.log(`${job.name}: ${output.split('\n').length} lines`);
    rmSync(resolve(dir, '..'), { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
