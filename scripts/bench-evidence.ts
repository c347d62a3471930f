/**
 * Evidence size per runner, for the sample's one failing assertion: the runner's whole log (colours stripped,
 * the baseline: what an agent would read without swarm's recognisers) against the evidence section swarm puts
 * in the next prompt, and the time to read it, as ratios in the same run.
 *
 *   npm run build && node dist/scripts/bench-evidence.js
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractFailure, logLines } from '../monitor/evidence.js';
import { evidenceLines } from '../src/agents/evidence-text.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url))).replace(/\/dist$/, '');
const DIR = join(ROOT, 'tests', 'fixtures', 'runner-output');
const RUNNERS = ['node-test', 'vitest', 'jest', 'mocha', 'uvu', 'ava', 'tap', 'pytest', 'unittest', 'go', 'cargo', 'rspec'];

console.log('| runner | whole log | evidence | lines | chars | read time (µs) |');
console.log('|---|---|---|---|---|---|');
for (const runner of RUNNERS) {
  const log = readFileSync(join(DIR, `${runner}.txt`), 'utf8');
  const whole = logLines(log).join('\n').trim();
  const started = process.hrtime.bigint();
  const rounds = 200;
  let section = '';
  for (let i = 0; i < rounds; i++) {
    const found = extractFailure(log, { root: '/tmp/swarm-worktree' });
    section = evidenceLines({ tests: found.tests, failed_count: found.failed, assertions: found.problems, log_tail: found.log_tail }).join('\n');
  }
  const micros = Number(process.hrtime.bigint() - started) / 1_000 / rounds;
  const [wl, el] = [whole.split('\n').length, section.split('\n').length];
  console.log(`| ${runner} | ${wl} lines, ${whole.length} chars | ${el} lines, ${section.length} chars | ${(el / wl).toFixed(2)}× | ${(section.length / whole.length).toFixed(2)}× | ${micros.toFixed(0)} |`);
}
