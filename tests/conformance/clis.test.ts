/**
 * The real coding CLIs, run by swarm through their adapters in a task's pseudo-terminal, against loopback
 * servers speaking their providers' wire protocols, each pointed at by the CLI's own documented setting.
 * Every CLI: a wrong fix, red CI, a respawn (resuming the CLI's own session) whose prompt carries the failing
 * assertion, the right fix, ready; and the report swarm parsed equals what the CLI printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { anthropicProvider } from '../../scripts/providers/anthropic.js';
import { WRONG_FIX_ASSERTION, type BrainOptions } from '../../scripts/providers/brain.js';
import { geminiProvider } from '../../scripts/providers/gemini.js';
import { chatCompletionsProvider, responsesProvider } from '../../scripts/providers/openai.js';
import type { Provider } from '../../scripts/providers/server.js';
import { AgentReport } from '../../src/agents/report.js';
import { ADAPTERS } from '../../src/agents/registry.js';
import { jsonLines } from '../../src/agents/report.js';
import type { AgentConfig } from '../../src/config/schema.js';
import { readTranscriptTail } from '../../src/sessions/sessions.js';
import { waitFor } from '../../src/wait.js';
import { cliDir, PINNED, realCli } from '../helpers/clis.js';
import { agentCommand, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type Sandbox } from '../helpers/sample.js';

type Cli = 'claude' | 'codex' | 'gemini' | 'opencode';

interface Setup {
  provider: Provider;
  agent: Partial<AgentConfig> & { type: Cli };
}

const timings: Record<string, { total_ms: number; agent_ms: number; ci_ms: number }> = {};

afterAll(() => {
  process.stdout.write(`conformance timings (spawn -> ready, of which in the agents and in CI): ${JSON.stringify(timings)}\n`);
});

/** Each CLI's own settings for its provider, a private HOME, and the loopback provider behind them. */
async function setup(cli: Cli, box: Sandbox, brain: BrainOptions = { wrongFirst: true }): Promise<Setup> {
  const home = join(box.dir, 'home');
  mkdirSync(home, { recursive: true });
  const common = { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share'), XDG_CACHE_HOME: join(home, '.cache'), NO_COLOR: '1' };
  switch (cli) {
    case 'claude': {
      const provider = await anthropicProvider(brain);
      // Root here: Claude Code skips permissions only when sandboxed, and under swarm's bubblewrap it is; its
      // network there is limited to its endpoints, so the real CLI reaches its provider through the bridge.
      const sandboxMode = process.getuid?.() === 0 ? 'bwrap' : 'none';
      return { provider, agent: { type: 'claude', command: [realCli('claude')], model: 'claude-sonnet-4-5', sandbox: sandboxMode, ...(sandboxMode === 'bwrap' ? { network: 'endpoints' as const } : {}), resume: true, env: { ...common, ANTHROPIC_BASE_URL: provider.url, ANTHROPIC_API_KEY: 'sk-ant-test', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' } } };
    }
    case 'codex': {
      const provider = await responsesProvider(brain);
      // codex refuses to put its sandbox helper under /tmp: its home lives beside the installed CLIs.
      const codexHome = mkdtempSync(join(cliDir(), 'codex-home-'));
      box.extraCleanup.push(codexHome);
      const providerConfig = `model_providers.loopback={name="loopback",base_url="${provider.url}/v1",wire_api="responses",env_key="SWARM_TEST_OPENAI_KEY"}`;
      return { provider, agent: { type: 'codex', command: [realCli('codex')], model: 'gpt-test', resume: true, args: ['-c', 'model_provider="loopback"', '-c', providerConfig], env: { ...common, CODEX_HOME: codexHome, SWARM_TEST_OPENAI_KEY: 'sk-test' } } };
    }
    case 'gemini': {
      const provider = await geminiProvider(brain);
      mkdirSync(join(home, '.gemini'), { recursive: true });
      writeFileSync(join(home, '.gemini', 'settings.json'), JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } }));
      return { provider, agent: { type: 'gemini', command: [realCli('gemini')], model: 'gemini-2.5-pro', resume: true, env: { ...common, GOOGLE_GEMINI_BASE_URL: provider.url, GEMINI_API_KEY: 'test-key' } } };
    }
    case 'opencode': {
      const provider = await chatCompletionsProvider(brain);
      const config = join(home, 'opencode.json');
      writeFileSync(config, JSON.stringify({ $schema: 'https://opencode.ai/config.json', provider: { loopback: { npm: '@ai-sdk/openai-compatible', name: 'loopback', options: { baseURL: `${provider.url}/v1`, apiKey: 'test' }, models: { 'gpt-test': { name: 'gpt test' } } } } }));
      return { provider, agent: { type: 'opencode', command: [realCli('opencode')], model: 'loopback/gpt-test', resume: true, env: { ...common, OPENCODE_CONFIG: config, OPENCODE_DISABLE_AUTOUPDATE: '1', OPENCODE_DISABLE_MODELS_FETCH: '1' } } };
    }
  }
}

/** What the CLI itself printed, read straight from its transcript by each CLI's documented event shapes. */
function printed(cli: Cli, transcript: string): AgentReport {
  const events = jsonLines(transcript);
  const last = <T>(pred: (e: Record<string, unknown>) => boolean): T => events.filter(pred).at(-1) as T;
  switch (cli) {
    case 'claude': {
      const r = last<{ result: string; session_id: string; total_cost_usd: number; usage: Record<string, number> }>((e) => e.type === 'result');
      return { final_message: r.result, session_id: r.session_id, input_tokens: r.usage.input_tokens! + r.usage.cache_read_input_tokens! + r.usage.cache_creation_input_tokens!, cached_input_tokens: r.usage.cache_read_input_tokens!, output_tokens: r.usage.output_tokens!, session_cost_usd: r.total_cost_usd };
    }
    case 'codex': {
      const turns = events.filter((e) => e.type === 'turn.completed') as { usage: Record<string, number> }[];
      const sum = (k: string): number => turns.reduce((s, t) => s + (t.usage[k] ?? 0), 0);
      const message = last<{ item: { text: string } }>((e) => e.type === 'item.completed' && (e.item as { type?: string }).type === 'agent_message');
      return { final_message: message.item.text, session_id: last<{ thread_id: string }>((e) => e.type === 'thread.started').thread_id, input_tokens: sum('input_tokens'), cached_input_tokens: sum('cached_input_tokens'), output_tokens: sum('output_tokens') };
    }
    case 'gemini': {
      const r = last<{ stats: Record<string, number> }>((e) => e.type === 'result');
      const messages = events.filter((e) => e.type === 'message' && e.role === 'assistant') as { content: string }[];
      return { final_message: messages.at(-1)!.content, session_id: last<{ session_id: string }>((e) => e.type === 'init').session_id, input_tokens: r.stats.input_tokens!, cached_input_tokens: r.stats.cached!, output_tokens: r.stats.output_tokens! };
    }
    case 'opencode': {
      const steps = events.filter((e) => e.type === 'step_finish').map((e) => (e.part as { tokens: { input: number; output: number; cache: { read: number; write: number } }; cost: number }));
      const text = last<{ part: { text: string }; sessionID: string }>((e) => e.type === 'text');
      return { final_message: text.part.text, session_id: text.sessionID, input_tokens: steps.reduce((s, p) => s + p.tokens.input + p.tokens.cache.read + p.tokens.cache.write, 0), cached_input_tokens: steps.reduce((s, p) => s + p.tokens.cache.read, 0), output_tokens: steps.reduce((s, p) => s + p.tokens.output, 0), cost_usd: steps.reduce((s, p) => s + p.cost, 0) };
    }
  }
}

describe.each<Cli>(['claude', 'codex', 'gemini', 'opencode'])('%s (real CLI, pinned)', (cli) => {
  it('reaches ready through a red-CI respawn that resumes its own session; the parsed report is what it printed', async () => {
    const box = sandbox(`conf-${cli}`);
    const { provider, agent } = await setup(cli, box);
    let daemon: Awaited<ReturnType<typeof runDaemon>> | null = null;
    try {
      writeConfig(box, { agents: { [cli]: agent }, default_agent: cli, ci: { command: SAMPLE_CI }, backoff: { crash_seconds: 0 } });
      // The adapter records the version the suite pins: the suite is what "verified" means.
      const pinnedVersion = Object.entries(PINNED).find(([pkg]) => pkg.includes(cli === 'claude' ? 'claude-code' : cli))![1];
      expect(ADAPTERS.get(cli)!.verified).toContain(pinnedVersion);
      const doctor = await swarm(box.repo, ['doctor']);
      expect(doctor.stdout, doctor.stderr).toContain(`ok   ${cli}: runs`);
      expect(doctor.stdout).toContain(`${pinnedVersion} verified`);

      daemon = await runDaemon(box);
      const began = Date.now();
      const spawned = await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers in src/add.ts: it subtracts, but it must add.']);
      expect(spawned.stderr).toBe('');
      const { id } = JSON.parse(spawned.stdout) as { id: number };
      const ready = await waitForState(box, id, ['ready', 'needs_help'], 150_000);
      expect(ready.state, ready.reason ?? '').toBe('ready');
      expect(ready.retries).toBe(1);

      const registry = openRegistry(box);
      const agents = registry.attempts(id).filter((a) => a.kind === 'agent');
      const ci = registry.attempts(id).filter((a) => a.kind === 'ci');
      expect(agents).toHaveLength(2);
      // The evidence reached the real CLI's prompt, and through it the model.
      expect(agents[1]!.prompt).toContain(WRONG_FIX_ASSERTION);
      const main = provider.requests.filter((r) => JSON.stringify(r.body ?? '').includes('addNumbers'));
      expect(main.some((r) => JSON.stringify(r.body).includes(WRONG_FIX_ASSERTION))).toBe(true);

      const first = AgentReport.parse(JSON.parse(agents[0]!.report ?? '{}'));
      const second = AgentReport.parse(JSON.parse(agents[1]!.report ?? '{}'));
      for (const [attempt, report] of [[agents[0]!, first], [agents[1]!, second]] as const) {
        const expected = printed(cli, readTranscriptTail(attempt.session_dir, 4 * 1024 * 1024));
        expect(report).toMatchObject(expected);
        expect(report.session_id).toBeTruthy();
        expect(report.cached_input_tokens).toBeGreaterThan(0);
        expect(report.input_tokens).toBeGreaterThan(report.cached_input_tokens!);
      }
      // The respawn resumed the CLI's own session.
      expect(second.session_id).toBe(first.session_id);
      expect(second.final_message).toBe('Fixed addNumbers: it adds now and the change is committed.');
      if (cli === 'claude') {
        // Claude Code's total_cost_usd covers the whole resumed session: the attempt's own cost is the difference.
        expect(second.session_cost_usd!).toBeGreaterThan(first.session_cost_usd!);
        expect(second.cost_usd).toBeCloseTo(second.session_cost_usd! - first.session_cost_usd!, 9);
      }
      const agentMs = agents.reduce((s, a) => s + ((a.ended_at ?? 0) - a.started_at), 0);
      const ciMs = ci.reduce((s, a) => s + ((a.ended_at ?? 0) - a.started_at), 0);
      timings[cli] = { total_ms: (ready.ready_at ?? Date.now()) - began, agent_ms: agentMs, ci_ms: ciMs };
      expect(readFileSync(join(ready.worktree, 'src', 'add.ts'), 'utf8')).toContain('a + b');
      registry.close();
    } finally {
      daemon?.child.kill('SIGKILL');
      await provider.close();
      box.cleanup();
    }
  });
});

describe.each<Cli>(['claude', 'codex', 'gemini', 'opencode'])('%s as a reviewer (real CLI, read-only mode)', (cli) => {
  it('reviews the PR head in its read-only mode; its JSON verdict gates the task; its tokens are recorded', async () => {
    const box = sandbox(`conf-review-${cli}`);
    const verdict = { verdict: 'approve', summary: 'Adds as the task asks.', findings: [{ severity: 'nit', file: 'src/add.ts', line: 2, title: 'Fine as it is', body: '' }] };
    const { provider, agent } = await setup(cli, box, { review: `Here is my review.\n${JSON.stringify(verdict)}` });
    let daemon: Awaited<ReturnType<typeof runDaemon>> | null = null;
    try {
      writeConfig(box, {
        agents: { dev: { command: agentCommand('fixer-right.mjs') }, [cli]: { ...agent, resume: false } },
        default_agent: 'dev',
        review: { reviewers: [{ name: `${cli}-logic`, agent: cli, focus: 'logic' }] },
        ci: { command: SAMPLE_CI },
        notify: { desktop: false, webhook: { url: 'http://127.0.0.1:9/hook' }, max_attempts: 1 },
      });
      daemon = await runDaemon(box);
      const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers in src/add.ts: it subtracts, but it must add.'])).stdout) as { id: number };
      const ready = await waitForState(box, id, ['ready', 'needs_help'], 150_000);
      expect(ready.state, ready.reason ?? '').toBe('ready');
      // The real CLI carried swarm's review prompt (with the diff) to the model, and its answer back.
      expect(provider.requests.some((r) => JSON.stringify(r.body ?? '').includes('-  return a - b;'))).toBe(true);
      const registry = openRegistry(box);
      const review = registry.attempts(id).find((a) => a.kind === 'review')!;
      const notes = registry.notifications().filter((n) => n.task_id === id && n.event === 'ready');
      registry.close();
      expect(review.outcome).toBe('approve');
      const stored = JSON.parse(review.report ?? '{}') as { findings: unknown[]; usage: { output_tokens?: number } };
      expect(stored.findings).toEqual(verdict.findings);
      expect(stored.usage.output_tokens).toBeGreaterThan(0);
      expect(notes[0]!.title).toContain('1/1 reviewers approve');
      expect((await swarm(box.repo, ['show', String(id)])).stdout).toContain(`${cli}-logic on attempt 1`);
    } finally {
      daemon?.child.kill('SIGKILL');
      await provider.close();
      box.cleanup();
    }
  });
});

describe('codex under bubblewrap with CODEX_HOME set', () => {
  it('gets a private writable copy of its CODEX_HOME (config applies), reaches ready; the user\'s CODEX_HOME is untouched', async () => {
    const box = sandbox('conf-codex-bwrap');
    const { provider, agent } = await setup('codex', box, { wrongFirst: false });
    let daemon: Awaited<ReturnType<typeof runDaemon>> | null = null;
    try {
      const codexHome = agent.env!.CODEX_HOME!;
      writeFileSync(join(codexHome, 'config.toml'), 'model_reasoning_effort = "low"\n');
      const before = readFileSync(join(codexHome, 'config.toml'), 'utf8');
      writeConfig(box, { sandbox: 'bwrap', agents: { codex: { ...agent, network: 'endpoints', network_allow: [provider.url] } }, default_agent: 'codex', ci: { command: SAMPLE_CI } });
      daemon = await runDaemon(box);
      const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers in src/add.ts: it subtracts, but it must add.'])).stdout) as { id: number };
      const ready = await waitForState(box, id, ['ready', 'needs_help'], 150_000);
      const reg = openRegistry(box);
      const transcript = readTranscriptTail(reg.latestAttempt(id, 'agent')!.session_dir, 8 * 1024);
      reg.close();
      expect(ready.state, `${ready.reason ?? ''}\n${transcript}`).toBe('ready');
      expect(readFileSync(join(codexHome, 'config.toml'), 'utf8')).toBe(before);
    } finally {
      daemon?.child.kill('SIGKILL');
      await provider.close();
      box.cleanup();
    }
  });
});

describe('a real CLI reviewer in a race', () => {
  it('codex reviews a head, the branch moves while a scripted reviewer is slow: the round is cancelled, codex reviews the new head after its CI, ready only on that head', async () => {
    const box = sandbox('conf-review-race');
    const verdict = { verdict: 'approve', summary: 'Adds as the task asks.', findings: [] };
    const { provider, agent } = await setup('codex', box, { review: JSON.stringify(verdict) });
    let daemon: Awaited<ReturnType<typeof runDaemon>> | null = null;
    try {
      writeConfig(box, {
        sandbox: 'none',
        agents: { dev: { command: agentCommand('fixer-right.mjs') }, codex: { ...agent, resume: false }, slow: { command: agentCommand('reviewer.mjs'), env: { AGENT_RECORD_DIR: box.records, REVIEWER_NAME: 'slow', REVIEWER_MODE: 'slow' } } },
        default_agent: 'dev',
        review: { reviewers: [{ name: 'codex-logic', agent: 'codex', focus: 'logic' }, { name: 'slow', agent: 'slow', focus: 'security' }] },
        ci: { command: SAMPLE_CI },
      });
      daemon = await runDaemon(box);
      const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers in src/add.ts: it subtracts, but it must add.'])).stdout) as { id: number };
      const registry = openRegistry(box);
      const reviewsOn = (head: string) => registry.attempts(id).filter((a) => a.kind === 'review' && a.head_sha === head);
      const first = await waitFor(() => registry.events(id).find((e) => e.kind === 'review_requested'), { timeoutMs: 90_000, what: 'the first round' });
      const h1 = (JSON.parse(first.data ?? '{}') as { head: string }).head;
      await waitFor(() => (reviewsOn(h1).find((a) => a.agent === 'codex-logic')?.outcome === 'approve' ? true : undefined), { timeoutMs: 90_000, what: 'codex to approve the first head' });
      const worktree = registry.getTask(id)!.worktree;
      writeFileSync(join(worktree, 'NOTE.md'), 'a human was here\n');
      execFileSync('git', ['-c', 'user.name=Human', '-c', 'user.email=h@example.com', 'add', 'NOTE.md'], { cwd: worktree });
      execFileSync('git', ['-c', 'user.name=Human', '-c', 'user.email=h@example.com', 'commit', '-qm', 'Human note'], { cwd: worktree });
      const h2 = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: worktree, encoding: 'utf8' }).trim();
      await waitFor(() => (reviewsOn(h2).find((a) => a.agent === 'codex-logic')?.outcome === 'approve' && reviewsOn(h2).some((a) => a.agent === 'slow') ? true : undefined), { timeoutMs: 90_000, what: 'codex to approve the new head' });
      expect(registry.getTask(id)!.state).toBe('reviewing');
      expect(reviewsOn(h1).find((a) => a.agent === 'slow')!.outcome).toBe('stopped');
      // codex's second review came after CI passed on h2, and its prompt said so.
      expect(reviewsOn(h2).find((a) => a.agent === 'codex-logic')!.prompt).toContain('passed on this head');
      expect(provider.requests.some((r) => JSON.stringify(r.body ?? '').includes('NOTE.md'))).toBe(true);
      writeFileSync(join(box.records, `release-slow-${h2}`), '');
      const ready = await waitForState(box, id, ['ready', 'needs_help'], 90_000);
      expect(ready.state, ready.reason ?? '').toBe('ready');
      expect(ready.verified_sha).toBe(h2);
      registry.close();
    } finally {
      daemon?.child.kill('SIGKILL');
      await provider.close();
      box.cleanup();
    }
  });
});

describe('version awareness against the real binaries', () => {
  it('a flag the installed CLI lacks is an error at spawn, naming the flag and the version; swarm agents shows versions', async () => {
    const box = sandbox('conf-flags');
    try {
      // codex 0.169 removed --full-auto: before, every codex task crash-looped to needs_help on it.
      writeConfig(box, { agents: { codex: { type: 'codex', command: [realCli('codex')], args: ['--full-auto'] }, gemini: { type: 'gemini', command: [realCli('gemini')] } }, default_agent: 'codex' });
      const spawned = await swarm(box.repo, ['spawn', 'Fix addNumbers']);
      expect(spawned.code).toBe(7);
      expect(spawned.stderr).toContain(`codex ${PINNED['@openai/codex']} does not accept \`--full-auto\``);
      expect(openRegistry(box).listTasks()).toHaveLength(0);
      const doctor = await swarm(box.repo, ['doctor']);
      expect(doctor.code).toBe(7);
      expect(doctor.stdout).toContain('FAIL codex: Agent "codex": codex 0.169.0 does not accept `--full-auto`');
      expect(doctor.stdout).toContain(`ok   gemini: runs (${realCli('gemini')}), gemini ${PINNED['@google/gemini-cli']} verified`);
      const listing = JSON.parse((await swarm(box.repo, ['agents', '--json'])).stdout) as { configured: { name: string; usable: boolean; version?: string; verified?: boolean }[] };
      expect(listing.configured.find((a) => a.name === 'gemini')).toMatchObject({ usable: true, version: PINNED['@google/gemini-cli'], verified: true });
    } finally {
      box.cleanup();
    }
  });
});

describe('codex with no reachable model', () => {
  it('prints only "Reconnecting... waiting for network": killed and waited out as transient trouble, no retry spent, not an hour of silence', async () => {
    const box = sandbox('conf-offline');
    const codexHome = mkdtempSync(join(cliDir(), 'codex-home-'));
    box.extraCleanup.push(codexHome);
    let daemon: Awaited<ReturnType<typeof runDaemon>> | null = null;
    try {
      const providerConfig = 'model_providers.offline={name="offline",base_url="http://127.0.0.1:9/v1",wire_api="responses",env_key="SWARM_TEST_OPENAI_KEY"}';
      writeConfig(box, {
        agents: { codex: { type: 'codex', command: [realCli('codex')], model: 'gpt-test', args: ['-c', 'model_provider="offline"', '-c', providerConfig], env: { HOME: join(box.dir, 'home'), CODEX_HOME: codexHome, SWARM_TEST_OPENAI_KEY: 'sk-test' } } },
        ci: { command: SAMPLE_CI },
        // 3 s of reconnect lines only; one short wait, then the give-up time is spent.
        backoff: { reconnect_minutes: 0.05, transient_seconds: 0.5, transient_give_up_minutes: 0.02 },
      });
      daemon = await runDaemon(box);
      const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
      const task = await waitForState(box, id, 'needs_help', 90_000);
      expect(task.retries).toBe(0);
      expect(task.transient_waits).toBe(1);
      expect(task.reason).toContain('printed only reconnect messages');
      expect(task.reason).toContain('Reconnecting... waiting for network');
      const registry = openRegistry(box);
      expect(registry.events(id).filter((e) => e.kind === 'transient_wait')).toHaveLength(1);
      expect(registry.attempts(id).filter((a) => a.kind === 'agent').map((a) => a.outcome)).toEqual(['killed', 'killed']);
      registry.close();
    } finally {
      daemon?.child.kill('SIGKILL');
      box.cleanup();
    }
  });
});

describe('claude as root', () => {
  it.runIf(process.getuid?.() === 0)('without a sandbox is refused at spawn with what to do, never crash-looped', async () => {
    const box = sandbox('conf-root');
    try {
      writeConfig(box, { agents: { claude: { type: 'claude', command: [realCli('claude')] } } });
      const result = await swarm(box.repo, ['spawn', 'Fix addNumbers']);
      expect(result.code).toBe(7);
      expect(result.stderr).toContain('--dangerously-skip-permissions cannot be used with root/sudo privileges');
      expect(result.stderr).toContain('"sandbox": "bwrap"');
    } finally {
      box.cleanup();
    }
  });
});
