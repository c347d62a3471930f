import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** src/add.ts of the sample with `body` as addNumbers' return expression. */
export function sampleAddFile(body: string): string {
  return `export function addNumbers(a: number, b: number): number {\n  return ${body};\n}\n`;
}

/** What the sample's CI prints for a multiplying fix (2 * 3 = 6, expected 5): the evidence a respawn carries. */
export const SAMPLE_WRONG_FIX_ASSERTION = '6 !== 5';

/** The seed example, used by `swarm demo`, the tests and the benchmarks: addNumbers subtracts; its test expects a sum. */
export function makeSampleRepo(dir: string, options: { extraFiles?: number } = {}): void {
  const git = (args: string[]): void => {
    execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  };
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'test'), { recursive: true });
  writeFileSync(join(dir, 'src', 'add.ts'), sampleAddFile('a - b'));
  writeFileSync(
    join(dir, 'test', 'add.test.ts'),
    "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { addNumbers } from '../src/add.ts';\n\ntest('addNumbers adds two numbers', () => {\n  assert.equal(addNumbers(2, 3), 5);\n});\n",
  );
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'sample', private: true, type: 'module', scripts: { test: 'node --test' } }, null, 2)}\n`);
  // Bulk for benchmarks: a repository of realistic size.
  for (let i = 0; i < (options.extraFiles ?? 0); i++) {
    const sub = join(dir, 'lib', `m${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.ts`), `export const value${i} = ${i};\n`);
  }
  git(['init', '-q', '-b', 'main']);
  git(['config', 'user.name', 'Sample']);
  git(['config', 'user.email', 'sample@example.com']);
  git(['add', '-A']);
  git(['commit', '-q', '-m', 'Sample with the addNumbers bug']);
}

/** CI for the sample: node's own test runner through tsx, so TypeScript runs without a build step. */
export function sampleCiCommand(): string[] {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return [process.execPath, '--import', tsx, '--test', 'test/add.test.ts'];
}
