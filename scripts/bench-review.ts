/**
 * What the AI review gate adds (issue: definition of done). Prints figures against a baseline measured in the
 * same run; asserts nothing. Run: npm run bench:review
 *  - time from spawn to ready on the sample with no reviewers (baseline) vs three reviewers, interleaved
 *  - the review's own wall time (review requested -> ready) and tokens per task
 * The reviewers here are the built-in reviewer against loopback Ollama servers that answer at once: the
 * figures are swarm's own overhead (sessions, checkout, parsing), not a model's thinking time.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from '../registry/registry.js';
import { makeSampleRepo, sampleCiCommand } from '../src/cli/sample-repo.js';
import { waitFor } from '../src/wait.js';
import { fakeOllama, type FakeOllama } from './fake-ollama.js';

const BIN = fileURLToPath(new URL('../../bin/swarm.js', import.meta.url));
const work = realpathSync(mkdtempSync(join(tmpdir(), 'swarm-bench-review-')));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const RUNS = 3;

const FIXER = `import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
writeFileSync('src/add.ts', 'export function addNumbers(a: number, b: number): number {\\n  return a + b;\\n}\\n');
execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qam', 'fix']);
`;

async function oneTask(name: string, reviewers: FakeOllama[]): Promise<{ ready_ms: number; review_ms: number | null; tokens: number }> {
  const repo = join(work, name);
  mkdirSync(repo);
  makeSampleRepo(repo);
  const agent = join(work, 'fixer.mjs');
  writeFileSync(agent, FIXER);
  const focus = ['logic', 'security', 'architecture'];
  const config = {
    agents: { dev: { command: [process.execPath, agent] }, ...Object.fromEntries(reviewers.map((r, i) => [`local${i}`, { type: 'builtin', model: `m${i}:7b`, host: r.url }])) },
    default_agent: 'dev',
    ci: { command: sampleCiCommand() },
    notify: { desktop: false },
    stagger_ms: 0,
    worktree: { dir: join(work, `${name}-wt`) },
    ...(reviewers.length ? { review: { reviewers: reviewers.map((_, i) => ({ name: focus[i]!, agent: `local${i}`, focus: focus[i]! })) } } : {}),
  };
  writeFileSync(join(repo, 'swarm.config.json'), JSON.stringify(config));
  const daemon: ChildProcess = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: repo, stdio: 'ignore', env: { ...process.env, XDG_DATA_HOME: join(work, 'data') } });
  try {
    await waitFor(() => (existsSync(join(repo, '.swarm', 'daemon.json')) ? true : undefined), { timeoutMs: 20_000, what: 'daemon' });
    const t0 = Date.now();
    const { id } = JSON.parse(execFileSync(process.execPath, [BIN, 'spawn', '--json', 'Fix addNumbers'], { cwd: repo, encoding: 'utf8' })) as { id: number };
    const registry = new Registry(join(repo, '.swarm', 'swarm.db'));
    try {
      const task = await waitFor(() => {
        const t = registry.getTask(id);
        if (t?.state === 'needs_help') throw new Error(`task needs help: ${t.reason ?? ''}`);
        return t?.state === 'ready' ? t : undefined;
      }, { timeoutMs: 120_000, what: 'ready' });
      const requested = registry.events(id).find((e) => e.kind === 'review_requested')?.at ?? null;
      const tokens = registry
        .attempts(id)
        .filter((a) => a.kind === 'review' && a.report)
        .reduce((sum, a) => {
          const usage = (JSON.parse(a.report!) as { usage?: { input_tokens?: number; output_tokens?: number } }).usage ?? {};
          return sum + (usage.input_tokens ?? 0) + (usage.output_tokens ?? 0);
        }, 0);
      return { ready_ms: (task.ready_at ?? Date.now()) - t0, review_ms: requested ? (task.ready_at ?? Date.now()) - requested : null, tokens };
    } finally {
      registry.close();
    }
  } finally {
    daemon.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const servers = await Promise.all([0, 1, 2].map((i) => fakeOllama([{ name: `m${i}:7b`, capabilities: ['completion'] }])));
  const approve = { text: JSON.stringify({ verdict: 'approve', summary: 'fine', findings: [] }) };
  for (const server of servers) server.script(Array.from({ length: RUNS }, () => approve));
  const plain: number[] = [];
  const gated: { ready_ms: number; review_ms: number | null; tokens: number }[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      plain.push((await oneTask(`plain-${i}`, [])).ready_ms);
      gated.push(await oneTask(`gated-${i}`, servers));
    }
    const base = median(plain);
    const withGate = median(gated.map((g) => g.ready_ms));
    console.log(`spawn -> ready on the sample (median of ${RUNS}, interleaved):`);
    console.log(`  no reviewers       ${base} ms   (baseline)`);
    console.log(`  three reviewers    ${withGate} ms   ${(withGate / base).toFixed(2)}x  (+${withGate - base} ms)`);
    console.log(`  review wall time   ${median(gated.map((g) => g.review_ms ?? 0))} ms (review requested -> ready; answers are instant here)`);
    console.log(`  review tokens/task ${median(gated.map((g) => g.tokens))} (as the loopback servers count them)`);
  } finally {
    for (const server of servers) await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();

