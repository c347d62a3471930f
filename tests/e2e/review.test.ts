import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentCommand, openRegistry, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';
import { fakeOllama, type FakeOllama, type Turn } from '../helpers/ollama.js';

const answer = (value: unknown): Turn => ({ text: JSON.stringify(value) });
const approve = answer({ verdict: 'approve', summary: 'Does what the task asks.', findings: [] });
const blockAtLine2 = answer({
  verdict: 'request_changes',
  summary: 'The fix is right but unexplained.',
  findings: [{ severity: 'major', file: 'src/add.ts', line: 2, title: 'Say why no coercion is needed', body: 'addNumbers may be called with strings from the form; say in a comment why a + b is safe here.' }],
});

describe('the AI review gate before ready', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  const servers: FakeOllama[] = [];
  beforeEach(() => {
    box = sandbox('review');
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    for (const server of servers.splice(0)) await server.close();
    box.cleanup();
  });

  async function reviewerServer(model: string, turns: Turn[]): Promise<FakeOllama> {
    const server = await fakeOllama([{ name: model, capabilities: ['completion', 'tools'] }]);
    server.script(turns);
    servers.push(server);
    return server;
  }

  it('one reviewer blocks at src/add.ts:2; the respawned agent gets the finding; the next head is approved by both; one ready notification with the verdicts', async () => {
    const logic = await reviewerServer('qwen-logic:7b', [blockAtLine2, approve]);
    const security = await reviewerServer('llama-sec:8b', [approve, approve]);
    writeConfig(box, {
      agents: {
        dev: { command: agentCommand('review-answerer.mjs'), env: { AGENT_RECORD_DIR: box.records } },
        'local-logic': { type: 'builtin', model: 'qwen-logic:7b', host: logic.url },
        'local-security': { type: 'builtin', model: 'llama-sec:8b', host: security.url },
      },
      default_agent: 'dev',
      review: { reviewers: [{ name: 'logic', agent: 'local-logic', focus: 'logic' }, { name: 'security', agent: 'local-security', focus: 'security' }] },
      ci: { command: SAMPLE_CI },
      notify: { desktop: false, webhook: { url: 'http://127.0.0.1:9/hook' }, max_attempts: 1 },
    });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help'], 120_000);
    expect(task.state, task.reason ?? '').toBe('ready');
    expect(task.attempt).toBe(2);

    const second = readFileSync(join(box.records, 'prompt-2.md'), 'utf8');
    expect(second).toContain('src/add.ts:2 [major] Say why no coercion is needed (reviewer logic)');
    expect(second).toContain('say in a comment why a + b is safe here');
    // Each reviewer saw the diff and its focus; logic saw its earlier finding on the second head.
    expect(logic.chats).toHaveLength(2);
    expect(logic.chats[0]!.messages.at(-1)!.content).toContain('-  return a - b;');
    expect(logic.chats[0]!.messages.at(-1)!.content).toContain('Logic and edge cases');
    expect(logic.chats[1]!.messages.at(-1)!.content).toContain('Your findings on an earlier version');
    expect(security.chats[0]!.messages.at(-1)!.content).toContain('Security:');
    expect(logic.chats[0]!.format).toMatchObject({ required: ['verdict', 'findings'] });

    const registry = openRegistry(box);
    const ready = registry.notifications().filter((n) => n.task_id === id && n.event === 'ready');
    registry.close();
    expect(ready).toHaveLength(1);
    expect(ready[0]!.title).toContain('2/2 reviewers approve');
    expect(ready[0]!.body).toContain('2/2 reviewers approve; 1 finding fixed on the way');
    const shown = (await swarm(box.repo, ['show', String(id)])).stdout;
    expect(shown).toContain('logic on attempt 1');
    expect(shown).toContain('src/add.ts:2 [major] Say why no coercion is needed');
    expect(shown).toMatch(/security on attempt 2 \([0-9a-f]+\): approve/);

    // Merged: the stats say what the reviews cost and that logic's blocking finding was fixed, approved and merged.
    expect((await swarm(box.repo, ['merge', String(id)])).code).toBe(0);
    await waitForState(box, id, 'done');
    const stats = JSON.parse((await swarm(box.repo, ['stats', '--reviews', '--json'])).stdout) as { reviewers: { reviewer: string; reviews: number; blocking: number; fixed_and_merged: number; tokens: number }[]; merged_prs_reviewed: number; review_tokens_per_merged_pr: number };
    expect(stats.reviewers).toEqual([expect.objectContaining({ reviewer: 'logic', reviews: 2, blocking: 1, fixed_and_merged: 1 }), expect.objectContaining({ reviewer: 'security', reviews: 2, blocking: 0, fixed_and_merged: 0 })]);
    expect(stats.reviewers[0]!.tokens).toBeGreaterThan(0);
    expect(stats.merged_prs_reviewed).toBe(1);
    expect((await swarm(box.repo, ['stats'])).stdout).toContain('Review cost per merged PR: $0 (local models)');
  });

  it('a reviewer that answers garbage is asked again once, then its review has failed: visible in swarm show, never ready', async () => {
    const good = await reviewerServer('good:7b', [approve]);
    const bad = await reviewerServer('bad:1b', [{ text: 'LGTM, ship it!' }, { text: '{"verdict": "sure"}' }]);
    writeConfig(box, {
      agents: {
        dev: { command: agentCommand('review-answerer.mjs'), env: { AGENT_RECORD_DIR: box.records } },
        good: { type: 'builtin', model: 'good:7b', host: good.url },
        bad: { type: 'builtin', model: 'bad:1b', host: bad.url },
      },
      default_agent: 'dev',
      review: { reviewers: [{ name: 'careful', agent: 'good', focus: 'logic' }, { name: 'sloppy', agent: 'bad', focus: 'architecture' }] },
      ci: { command: SAMPLE_CI },
      notify: { desktop: false },
    });
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help'], 120_000);
    expect(task.state).toBe('needs_help');
    expect(task.reason).toContain('1/2 reviewers approve, 2 needed; the review of sloppy failed');
    expect(bad.chats).toHaveLength(2);
    expect(bad.chats[1]!.messages.at(-1)!.content).toContain('Your previous answer could not be used: the answer held no JSON object');
    const shown = (await swarm(box.repo, ['show', String(id)])).stdout;
    expect(shown).toContain('sloppy on attempt 1');
    expect(shown).toContain('FAILED (unusable answer: 1 JSON object, not a review verdict: the last one ({"verdict":"sure"}) does not match the schema');
    // Its terminal is there to read, like any agent's.
    expect((await swarm(box.repo, ['logs', String(id), '--review', 'sloppy'])).stdout).toContain('{"verdict": "sure"}');
    expect(task.attempt).toBe(1);
  });
});
