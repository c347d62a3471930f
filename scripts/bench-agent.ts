/**
 * bench-agent: a dozen small JS coding tasks, each with a failing test the agent must make pass, run with the
 * built-in agent against a model. Reports pass rate, steps, tokens and wall time per task.
 *
 *   node dist/scripts/bench-agent.js --model qwen2.5-coder:7b [--host http://127.0.0.1:11434]
 *   node dist/scripts/bench-agent.js --model local --openai-base-url http://127.0.0.1:8000/v1
 *   node dist/scripts/bench-agent.js --loopback      # a scripted loopback Ollama that knows each fix: proves the plumbing
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoop } from '../src/agents/builtin/loop.js';
import { OllamaModel, OpenAiCompatibleModel, type ModelClient } from '../src/agents/builtin/model.js';
import { fakeOllama, type Turn } from './fake-ollama.js';

interface BenchTask {
  name: string;
  file: string;
  code: string;
  test: string;
  fix: { old: string; new: string };
}

const T = (name: string, file: string, code: string, test: string, fix: BenchTask['fix']): BenchTask => ({ name, file, code, test, fix });
const imp = (fn: string, file: string): string => `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { ${fn} } from '../src/${file}';\n`;

export const TASKS: BenchTask[] = [
  T('add', 'add.mjs', 'export function add(a, b) {\n  return a - b;\n}\n', `${imp('add', 'add.mjs')}test('adds', () => assert.equal(add(2, 3), 5));\n`, { old: 'a - b', new: 'a + b' }),
  T('is-even', 'even.mjs', 'export function isEven(n) {\n  return n % 2 === 1;\n}\n', `${imp('isEven', 'even.mjs')}test('even', () => { assert.equal(isEven(4), true); assert.equal(isEven(3), false); });\n`, { old: '=== 1', new: '=== 0' }),
  T('capitalize', 'cap.mjs', 'export function capitalize(s) {\n  return s.charAt(0).toLowerCase() + s.slice(1);\n}\n', `${imp('capitalize', 'cap.mjs')}test('capitalizes', () => assert.equal(capitalize('hello'), 'Hello'));\n`, { old: 'toLowerCase', new: 'toUpperCase' }),
  T('max', 'max.mjs', 'export function max(xs) {\n  return Math.min(...xs);\n}\n', `${imp('max', 'max.mjs')}test('max', () => assert.equal(max([3, 9, 2]), 9));\n`, { old: 'Math.min', new: 'Math.max' }),
  T('reverse', 'reverse.mjs', "export function reverse(s) {\n  return s.split('').join('');\n}\n", `${imp('reverse', 'reverse.mjs')}test('reverses', () => assert.equal(reverse('abc'), 'cba'));\n`, { old: ".split('').join('')", new: ".split('').reverse().join('')" }),
  T('factorial', 'fact.mjs', 'export function factorial(n) {\n  let r = 1;\n  for (let i = 2; i < n; i++) r *= i;\n  return r;\n}\n', `${imp('factorial', 'fact.mjs')}test('factorial', () => assert.equal(factorial(5), 120));\n`, { old: 'i < n', new: 'i <= n' }),
  T('fizzbuzz', 'fizz.mjs', "export function fizz(n) {\n  if (n % 3 === 0) return 'Fizz';\n  if (n % 15 === 0) return 'FizzBuzz';\n  if (n % 5 === 0) return 'Buzz';\n  return String(n);\n}\n", `${imp('fizz', 'fizz.mjs')}test('fizzbuzz', () => { assert.equal(fizz(15), 'FizzBuzz'); assert.equal(fizz(9), 'Fizz'); });\n`, { old: "  if (n % 3 === 0) return 'Fizz';\n  if (n % 15 === 0) return 'FizzBuzz';", new: "  if (n % 15 === 0) return 'FizzBuzz';\n  if (n % 3 === 0) return 'Fizz';" }),
  T('clamp', 'clamp.mjs', 'export function clamp(x, lo, hi) {\n  return Math.max(hi, Math.min(lo, x));\n}\n', `${imp('clamp', 'clamp.mjs')}test('clamps', () => { assert.equal(clamp(5, 0, 3), 3); assert.equal(clamp(-1, 0, 3), 0); assert.equal(clamp(2, 0, 3), 2); });\n`, { old: 'Math.max(hi, Math.min(lo, x))', new: 'Math.max(lo, Math.min(hi, x))' }),
  T('vowels', 'vowels.mjs', 'export function countVowels(s) {\n  return (s.match(/[aeiou]/) || []).length;\n}\n', `${imp('countVowels', 'vowels.mjs')}test('counts', () => assert.equal(countVowels('Education'), 5));\n`, { old: '/[aeiou]/', new: '/[aeiou]/gi' }),
  T('unique', 'unique.mjs', 'export function unique(xs) {\n  return xs.filter((x, i, a) => a.indexOf(x) !== i);\n}\n', `${imp('unique', 'unique.mjs')}test('unique', () => assert.deepEqual(unique([1, 2, 2, 3, 1]), [1, 2, 3]));\n`, { old: '!== i', new: '=== i' }),
  T('sum', 'sum.mjs', 'export function sum(xs) {\n  return xs.reduce((a, b) => a + b, 1);\n}\n', `${imp('sum', 'sum.mjs')}test('sums', () => { assert.equal(sum([1, 2, 3]), 6); assert.equal(sum([]), 0); });\n`, { old: 'a + b, 1)', new: 'a + b, 0)' }),
  T('trim-slashes', 'slashes.mjs', "export function trimSlashes(p) {\n  return p.replace(/^\\/+/, '');\n}\n", `${imp('trimSlashes', 'slashes.mjs')}test('trims', () => assert.equal(trimSlashes('//a/b//'), 'a/b'));\n`, { old: "p.replace(/^\\/+/, '')", new: "p.replace(/^\\/+|\\/+$/g, '')" }),
];

function makeRepo(dir: string, task: BenchTask): void {
  const files: Record<string, string> = { [`src/${task.file}`]: task.code, [`test/${task.name}.test.mjs`]: task.test, 'package.json': '{"type":"module","scripts":{"test":"node --test"}}\n' };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const git = (args: string[]): void => void execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git(['init', '-q', '-b', 'main']);
  git(['-c', 'user.name=b', '-c', 'user.email=b@b', 'add', '-A']);
  git(['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'task']);
}

function passes(dir: string): boolean {
  try {
    execFileSync(process.execPath, ['--test'], { cwd: dir, stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

/** What a competent model would do on each task; used only with --loopback. */
function oracle(task: BenchTask): Turn[] {
  return [
    { tool_calls: [{ name: 'bash', arguments: { command: 'node --test 2>&1 | tail -n 20' } }] },
    { tool_calls: [{ name: 'read', arguments: { path: `src/${task.file}` } }] },
    { tool_calls: [{ name: 'edit', arguments: { path: `src/${task.file}`, old_text: task.fix.old, new_text: task.fix.new } }] },
    { tool_calls: [{ name: 'bash', arguments: { command: 'node --test' } }] },
    { tool_calls: [{ name: 'finish', arguments: { summary: `Fix ${task.name}` } }] },
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, host: { type: 'string' }, 'openai-base-url': { type: 'string' }, loopback: { type: 'boolean' }, 'max-steps': { type: 'string', default: '30' }, 'num-ctx': { type: 'string', default: '32768' } } });
  const server = values.loopback ? await fakeOllama([{ name: 'oracle', capabilities: ['completion', 'tools'] }]) : null;
  const modelName = server ? 'oracle' : values.model;
  if (!modelName) {
    console.error('usage: bench-agent --model <name> [--host URL | --openai-base-url URL] | --loopback');
    process.exit(2);
  }
  const client: ModelClient = values['openai-base-url']
    ? new OpenAiCompatibleModel(values['openai-base-url'], modelName, process.env.OPENAI_API_KEY)
    : new OllamaModel(server?.url ?? values.host ?? process.env.OLLAMA_HOST ?? 'http://127.0.0.1:11434', modelName, Number(values['num-ctx']));
  const problem = await client.checkTools();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  const work = mkdtempSync(join(tmpdir(), 'swarm-bench-agent-'));
  console.log(`bench-agent: ${client.describe}${server ? ' (scripted loopback: proves the plumbing, not a model)' : ''}\n`);
  console.log('task           result  steps  tokens(in/out)   wall');
  const rows: { ok: boolean; steps: number; tokens: number; ms: number }[] = [];
  for (const task of TASKS) {
    const dir = join(work, task.name);
    mkdirSync(dir);
    makeRepo(dir, task);
    const failingBefore = !passes(dir);
    server?.script(oracle(task));
    const t0 = performance.now();
    const result = await runLoop({ model: client, prompt: `The test in test/${task.name}.test.mjs fails. Fix the code in src/ so that \`node --test\` passes. Do not change the test.`, root: dir, maxSteps: Number(values['max-steps']), tokenBudget: 200_000, bashTimeoutSeconds: 60, write: () => undefined });
    const ms = performance.now() - t0;
    const ok = failingBefore && result.status === 'done' && passes(dir);
    rows.push({ ok, steps: result.steps, tokens: result.tokens.input + result.tokens.output, ms });
    console.log(`${task.name.padEnd(14)} ${(ok ? 'pass' : 'FAIL').padEnd(7)} ${String(result.steps).padStart(5)}  ${`${result.tokens.input}/${result.tokens.output}`.padStart(14)}  ${(ms / 1000).toFixed(2).padStart(6)}s`);
  }
  const passed = rows.filter((r) => r.ok).length;
  console.log(`\npass rate ${passed}/${rows.length} (${Math.round((100 * passed) / rows.length)}%), mean steps ${(rows.reduce((a, r) => a + r.steps, 0) / rows.length).toFixed(1)}, total tokens ${rows.reduce((a, r) => a + r.tokens, 0)}, total wall ${(rows.reduce((a, r) => a + r.ms, 0) / 1000).toFixed(1)}s`);
  await server?.close();
  rmSync(work, { recursive: true, force: true });
}

await main();
