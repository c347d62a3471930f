import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SWARM_BIN } from '../install.js';
import { Ollama } from 'ollama';
import { DEFAULT_OLLAMA_HOST } from '../agents/builtin/adapter.js';
import { installedClis } from '../agents/registry.js';
import type { SwarmConfigInput } from '../config/schema.js';
import { openProject } from '../config/project.js';
import { Daemon } from '../daemon/daemon.js';
import { errorMessage } from '../errors.js';
import { readyMessage } from '../notify/messages.js';
import { createLogger } from '../log.js';
import { waitFor } from '../wait.js';
import { makeSampleRepo, sampleCiCommand } from './sample-repo.js';
import { mergeTask, spawnTask } from './tasks.js';

export interface DemoAgent {
  name: string;
  config: NonNullable<SwarmConfigInput['agents']>[string];
  why: string;
}

const PREFERRED = /coder|qwen|devstral|deepseek|llama3|mistral|granite|gpt-oss/i;

/** A reachable Ollama's tool-capable model (coding models first), or why there is none. */
export async function findOllamaToolModel(env: NodeJS.ProcessEnv = process.env): Promise<{ host: string; model: string } | { note: string }> {
  const host = env.OLLAMA_HOST ?? DEFAULT_OLLAMA_HOST;
  try {
    const client = new Ollama({ host });
    let timer: NodeJS.Timeout | undefined;
    const { models } = await Promise.race([client.list(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 3_000)))]).finally(() => clearTimeout(timer));
    const names = models.map((m) => m.name).sort((a, b) => Number(PREFERRED.test(b)) - Number(PREFERRED.test(a)));
    for (const name of names) {
      const info = await client.show({ model: name });
      if (info.capabilities?.includes('tools')) return { host, model: name };
    }
    return { note: names.length ? `Ollama at ${host} has no tool-capable model (${names.join(', ')}).` : `Ollama at ${host} has no models.` };
  } catch {
    return { note: `Ollama is not reachable at ${host}.` };
  }
}

/** How to get a real agent, for a machine that has none. */
export const GET_AN_AGENT = 'To use a real agent: install Ollama (https://ollama.com) and `ollama pull qwen2.5-coder:7b` (fully local), or install a coding CLI (Claude Code, codex, gemini, opencode). Then run `swarm init` in your repository: it finds them.';

/** The best agent this machine has: a reachable Ollama with a tool-capable model, else a coding CLI on PATH. */
export async function detectBestAgent(env: NodeJS.ProcessEnv = process.env): Promise<DemoAgent | { problem: string }> {
  const ollama = await findOllamaToolModel(env);
  if ('model' in ollama) return { name: 'local', config: { type: 'builtin', model: ollama.model, host: ollama.host }, why: `the built-in agent on ${ollama.model} through Ollama at ${ollama.host}` };
  for (const cli of installedClis(process.cwd())) {
    if (cli.executable) return { name: cli.type, config: { type: cli.type }, why: `${cli.type} (${cli.executable})` };
  }
  return { problem: `No coding agent is available on this machine. ${ollama.note}\n${GET_AN_AGENT}` };
}


/** The labelled stand-in for a machine with no agent: a script, run by swarm as any custom agent is. */
function scriptedAgent(): DemoAgent {
  return { name: 'demo', config: { type: 'custom', command: [process.execPath, SWARM_BIN, 'agent', 'demo', '--prompt-file', '{prompt_file}'] }, why: 'the scripted demonstration agent (not an AI: it guesses wrong first, then reads the evidence)' };
}

/** `swarm demo`: a sample repository with the addNumbers bug, fixed end to end by the best agent here. */
export async function runDemo(options: { dir?: string; write: (line: string) => void; scripted?: boolean }): Promise<number> {
  const { write } = options;
  const detected = options.scripted ? { problem: 'asked for the scripted agent' } : await detectBestAgent();
  const real = !('problem' in detected);
  if (!real) write('No coding agent on this machine: running the whole loop with a scripted demonstration agent (not an AI). How to use a real agent is at the end.');
  const chosen = real ? detected : scriptedAgent();
  const base = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'swarm-demo-'));
  const repo = join(base, 'sample');
  mkdirSync(repo, { recursive: true });
  makeSampleRepo(repo);
  const config: SwarmConfigInput = {
    base: 'main',
    default_agent: chosen.name,
    agents: { [chosen.name]: chosen.config },
    ci: { command: sampleCiCommand(), timeout_minutes: 10 },
    stagger_ms: 0,
    stuck_minutes: 10,
    monitor: { schedule: '*/5 * * * * *' },
    cleanup: { schedule: null },
    worktree: { dir: join(base, 'worktrees') },
    notify: { desktop: false },
  };
  writeFileSync(join(repo, 'swarm.config.json'), `${JSON.stringify(config, null, 2)}\n`);
  write(`Sample repository: ${repo}\n  src/add.ts: addNumbers(a, b) returns a - b; test/add.test.ts expects a sum.`);
  write(`Agent: ${chosen.why}`);

  const project = await openProject(repo);
  const log = createLogger(createWriteStream(join(base, 'daemon.log')));
  const daemon = new Daemon(project, { log });
  await daemon.start();
  const started = Date.now();
  try {
    const task = await spawnTask(project, { prompt: 'Fix addNumbers in src/add.ts: it subtracts, but it must add. The test in test/add.test.ts shows what is expected.' });
    daemon.kick();
    write(`Task ${task.id} queued on branch ${task.branch}. Follow the agent with: swarm -C ${repo} logs ${task.id} -f`);
    let seen = 0;
    const final = await waitFor(
      () => {
        const events = project.registry.events(task.id);
        for (const event of events.slice(seen)) {
          const data = event.data ? (JSON.parse(event.data) as Record<string, unknown>) : {};
          const detail = typeof data.summary === 'string' ? `: ${data.summary}` : typeof data.reason === 'string' ? `: ${data.reason}` : '';
          write(`  [${((event.at - started) / 1000).toFixed(1).padStart(6)}s] ${event.kind.padEnd(14)} -> ${event.to_state ?? ''}${detail}`);
        }
        seen = events.length;
        const current = project.registry.getTask(task.id);
        return current && (current.state === 'ready' || current.state === 'needs_help' || current.state === 'cancelled') ? current : undefined;
      },
      { timeoutMs: 60 * 60_000, intervalMs: 250, what: 'the demo task' },
    );
    if (final.state !== 'ready') {
      write(`\nThe task needs help: ${final.reason ?? final.state}\nSee: swarm -C ${repo} show ${task.id}  and  swarm -C ${repo} logs ${task.id}`);
      return 1;
    }
    const pr = project.registry.getPr(task.id);
    write(`\nNotification (once, on your desktop or phone): "${readyMessage(final, pr?.number ?? null, true).title}"`);
    const merged = await mergeTask(project, task.id);
    write(`Ready with CI green after ${final.retries} respawn(s), merged into main (${merged.commit.slice(0, 10)}) in ${((Date.now() - started) / 1000).toFixed(1)}s.`);
    write(`src/add.ts now:\n${readFileSync(join(repo, 'src', 'add.ts'), 'utf8')}`);
    if (!real) write(GET_AN_AGENT);
    return 0;
  } catch (err) {
    write(`Demo failed: ${errorMessage(err)}`);
    throw err;
  } finally {
    await daemon.stop();
  }
}
