/**
 * Fan-out (issue 28). Prints figures; asserts nothing. The real daemon on the sample repository with scripted
 * agents of known quality. Run: npm run bench:fanout
 *  1. wall time of a 3-way fan-out against the slowest of the same three run alone (same run)
 *  2. how often the ranking's pick matches a reference choice on a scripted set of fan-outs
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSampleRepo, sampleCiCommand } from '../src/cli/sample-repo.js';
import { openProject } from '../src/config/project.js';
import { waitFor } from '../src/wait.js';

const BIN = fileURLToPath(new URL('../../bin/swarm.js', import.meta.url));
const work = realpathSync(mkdtempSync(join(tmpdir(), 'swarm-bench-fanout-')));
process.env.XDG_DATA_HOME = join(work, 'data');
const swarm = (cwd: string, args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });

/** careful: the fix and a test; huge: the fix and 480 generated lines; fixer: wrong, then right from the evidence; crash. */
const AGENT = `import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
const style = process.env.STYLE;
const prompt = readFileSync(process.env.SWARM_PROMPT_FILE, 'utf8');
await new Promise((r) => setTimeout(r, Number(process.env.SLEEP_MS ?? 0)));
if (style === 'crash') process.exit(9);
const body = style === 'fixer' && !prompt.includes('6 !== 5') ? 'a * b' : 'a + b';
writeFileSync('src/add.ts', 'export function addNumbers(a: number, b: number): number {\\n  return ' + body + ';\\n}\\n');
if (style === 'careful') writeFileSync('test/more.test.ts', "import { test } from 'node:test';\\ntest('more', () => {});\\n");
if (style === 'huge') { mkdirSync('src/gen', { recursive: true }); for (let i = 0; i < 8; i++) writeFileSync('src/gen/g' + i + '.ts', Array.from({ length: 60 }, (_, n) => 'export const v' + n + ' = ' + n + ';').join('\\n') + '\\n'); }
execFileSync('git', ['add', '-A']);
execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'fix (' + style + ')']);
`;

/** Scripted fan-outs and the candidate a careful reviewer would merge (by style). */
const REFERENCE: { styles: string[]; choose: string }[] = [
  { styles: ['careful', 'huge', 'fixer'], choose: 'careful' },
  { styles: ['huge', 'fixer'], choose: 'fixer' },
  { styles: ['huge', 'crash'], choose: 'huge' },
  { styles: ['fixer', 'crash'], choose: 'fixer' },
  { styles: ['crash', 'careful'], choose: 'careful' },
  { styles: ['fixer', 'careful', 'crash'], choose: 'careful' },
];

async function main(): Promise<void> {
  const repo = join(work, 'repo');
  mkdirSync(repo);
  makeSampleRepo(repo);
  writeFileSync(join(work, 'agent.mjs'), AGENT);
  const agent = (style: string, sleep = 0) => ({ command: [process.execPath, join(work, 'agent.mjs')], sandbox: 'none', env: { STYLE: style, SLEEP_MS: String(sleep) } });
  writeFileSync(
    join(repo, 'swarm.config.json'),
    JSON.stringify({
      base: 'main', stagger_ms: 0, concurrency: 4, sandbox: 'none', max_retries: 1, memory: { agent_mb: 16, reserve_mb: 0 }, monitor: { schedule: '*/1 * * * * *' }, cleanup: { schedule: null }, ci: { command: sampleCiCommand() }, notify: { desktop: false }, worktree: { dir: join(work, 'worktrees'), pool: 0 },
      agents: { careful: agent('careful'), huge: agent('huge'), fixer: agent('fixer'), crash: agent('crash'), fast: agent('careful', 500), medium: agent('careful', 1500), slow: agent('careful', 3000) },
    }),
  );
  const daemon: ChildProcess = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: repo, stdio: 'ignore', env: process.env });
  try {
    await waitFor(() => (existsSync(join(repo, '.swarm', 'daemon.json')) ? true : undefined), { timeoutMs: 20_000, what: 'daemon' });
    const project = await openProject(repo);
    const until = (id: number, states: string[]) => waitFor(() => (states.includes(project.registry.getTask(id)!.state) ? true : undefined), { timeoutMs: 120_000, intervalMs: 20, what: `task ${id}` });
    const settle = (id: number): void => void swarm(repo, ['kill', String(id)]);

    // 1. Alone, one after another; then the same three as one fan-out.
    const alone: number[] = [];
    for (const name of ['fast', 'medium', 'slow']) {
      const start = Date.now();
      const { id } = JSON.parse(swarm(repo, ['spawn', '--json', '--agent', name, 'Fix addNumbers'])) as { id: number };
      await until(id, ['ready']);
      alone.push(Date.now() - start);
      settle(id);
    }
    const start = Date.now();
    const fan = JSON.parse(swarm(repo, ['spawn', '--json', '--agents', 'fast,medium,slow', 'Fix addNumbers'])) as { id: number };
    await until(fan.id, ['ready', 'needs_help']);
    const fanMs = Date.now() - start;
    settle(fan.id);
    const slowest = Math.max(...alone);
    console.log(`1. 3-way fan-out ${fanMs} ms against its slowest candidate alone ${slowest} ms (${(fanMs / slowest).toFixed(2)}x; alone: ${alone.join(', ')} ms)`);

    // 2. The ranking against the reference choices.
    let matches = 0;
    const misses: string[] = [];
    for (const scenario of REFERENCE) {
      const out = JSON.parse(swarm(repo, ['spawn', '--json', '--agents', scenario.styles.join(','), 'Fix addNumbers'])) as { id: number; candidates: { id: number; agent: string }[] };
      await until(out.id, ['ready', 'needs_help']);
      const chosen = project.registry.getTask(out.id)!.chosen;
      const picked = out.candidates.find((c) => c.id === chosen)?.agent ?? 'none';
      if (picked === scenario.choose) matches++;
      else misses.push(`${scenario.styles.join('+')}: picked ${picked}, reference ${scenario.choose}`);
      settle(out.id);
    }
    console.log(`2. the ranking's pick matches the reference in ${matches} of ${REFERENCE.length} scripted fan-outs${misses.length ? ` (misses: ${misses.join('; ')})` : ''}`);
    project.registry.close();
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
