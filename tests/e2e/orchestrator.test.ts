import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeOllama, type FakeOllama } from '../helpers/ollama.js';
import { waitFor } from '../../src/wait.js';
import { agentCommand, openRegistry, readRecords, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

const planJson = (tasks: unknown[]): string => JSON.stringify({ summary: 'two steps', tasks });
const A = { id: 'a', title: 'Record refund approvals', prompt: 'WRITE_A: create a.txt recording refund approvals.', kind: '', depends_on: [], files: ['a.txt'], acceptance: ['test -f a.txt'], agent: '' };
const B = { id: 'b', title: 'Build on the approvals', prompt: 'NEEDS_A: create b.txt next to a.txt.', kind: '', depends_on: ['a'], files: ['b.txt'], acceptance: [], agent: '' };

describe('orchestrator tier', () => {
  let ollama: FakeOllama;
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;

  beforeAll(async () => {
    ollama = await fakeOllama([{ name: 'planner', capabilities: ['completion', 'tools'] }]);
  });
  afterAll(() => ollama.close());
  beforeEach(() => {
    box = sandbox('orch');
    ollama.chats.length = 0;
  });
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  function configure(extra: Parameters<typeof writeConfig>[1] = {}): void {
    writeConfig(box, {
      orchestrator: { model: 'planner', host: ollama.url },
      agents: { dev: { command: agentCommand('dag-agent.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
      ...extra,
    });
  }

  it('a request becomes a plan (an invalid one is sent back with its errors), tasks carry the notes that matter, B starts only after A is ready, from A’s result', async () => {
    configure();
    writeFileSync(join(box.dir, 'refunds.md'), '# Refund policy\nEvery refund over 500 EUR needs a second approver (finance rule F-12).\n');
    writeFileSync(join(box.dir, 'sync.md'), '# Weekly sync\nMarketing wants a shorter onboarding email.\n');
    for (const f of ['refunds.md', 'sync.md']) expect((await swarm(box.repo, ['context', 'add', join(box.dir, f)])).code).toBe(0);
    const ls = JSON.parse((await swarm(box.repo, ['context', 'ls', '--json'])).stdout) as { title: string }[];
    expect(ls.map((n) => n.title).sort()).toEqual(['Refund policy', 'Weekly sync']);

    ollama.script([{ text: planJson([{ ...A, depends_on: ['b'] }, B]) }, { text: planJson([A, B]) }]);
    const planned = await swarm(box.repo, ['plan', '--json', 'Record refund approvals, then build on them']);
    expect(planned.stderr).toBe('');
    const result = JSON.parse(planned.stdout) as { attempts: number; rejected: string[][]; context_notes: string[]; plan: { tasks: { id: string }[] } };
    expect(result.attempts).toBe(2);
    expect(result.rejected).toEqual([['dependencies form a cycle: a -> b -> a']]);
    expect(result.context_notes).toEqual([expect.stringContaining('refunds')]);
    const retry = ollama.chats[1]!.messages.at(-1)!.content;
    expect(retry).toContain('- dependencies form a cycle: a -> b -> a');
    expect(ollama.chats[0]!.format).toMatchObject({ type: 'object', required: expect.arrayContaining(['tasks']) });
    expect(ollama.chats[0]!.messages[1]!.content).toContain('finance rule F-12');
    expect(ollama.chats[0]!.messages[1]!.content).not.toContain('onboarding email');
    expect(openRegistry(box).listTasks()).toHaveLength(0); // plan queues nothing

    ollama.script([{ text: planJson([A, B]) }]);
    const spawned = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'Record refund approvals, then build on them'])).stdout) as { tasks: { id: number; depends_on: string; prompt: string }[] };
    const [a, b] = spawned.tasks;
    expect(JSON.parse(b!.depends_on)).toEqual([a!.id]);
    expect(a!.prompt).toContain('finance rule F-12');
    expect(a!.prompt).not.toContain('onboarding');
    expect(a!.prompt).toContain('## Acceptance: these must pass\n- `test -f a.txt`');
    expect(a!.prompt).toContain('## Definition of done');

    daemon = await runDaemon(box);
    await waitForState(box, b!.id, 'ready').catch((err: unknown) => {
      const first = openRegistry(box).getTask(a!.id);
      throw new Error(`${String(err)}\ntask ${a!.id}: ${first?.state} ${first?.reason ?? ''}`);
    });
    const registry = openRegistry(box);
    const events = registry.events();
    const aReady = events.find((e) => e.task_id === a!.id && e.kind === 'ready')!;
    const bStart = events.find((e) => e.task_id === b!.id && e.kind === 'preparing')!;
    expect(bStart.id).toBeGreaterThan(aReady.id);
    expect(readRecords(box, 'dag.jsonl')).toEqual([{ task: String(b!.id), sawA: 'from A\n' }]);
    registry.close();
  });

  it('a plan that stays invalid is refused clearly after 3 attempts', async () => {
    configure();
    ollama.script([{ text: 'not json' }, { text: planJson([{ ...A, prompt: '' }]) }, { text: planJson([{ ...B }]) }]);
    const result = await swarm(box.repo, ['plan', 'anything']);
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('gave no usable plan in 3 attempts');
    expect(result.stderr).toContain('task "b" depends on "a", which is not in the plan');
    expect(result.stderr).toContain('swarm spawn --raw');
  });

  it('a failed dependency puts its dependent in a visible blocked state; retrying it unblocks', async () => {
    configure({ agents: { dev: { command: agentCommand('dag-agent.mjs'), env: { AGENT_RECORD_DIR: box.records } }, broken: { command: agentCommand('always-fail.mjs'), env: { AGENT_RECORD_DIR: box.records } } }, default_agent: 'dev', max_retries: 0 });
    ollama.script([{ text: planJson([{ ...A, agent: 'broken' }, B]) }]);
    const { tasks } = JSON.parse((await swarm(box.repo, ['spawn', '--json', 'two steps'])).stdout) as { tasks: { id: number }[] };
    daemon = await runDaemon(box);
    await waitForState(box, tasks[0]!.id, 'needs_help');
    const blocked = await waitForState(box, tasks[1]!.id, 'blocked');
    expect(blocked.reason).toBe(`dependency #${tasks[0]!.id} is needs help`);
    expect((await swarm(box.repo, ['ls'])).stdout).toMatch(new RegExp(`${tasks[1]!.id}\\s+blocked`));
    await swarm(box.repo, ['retry', String(tasks[0]!.id)]);
    const registry = openRegistry(box);
    // The retried dependency is queued again, so its dependent is released (and blocked again if it fails again).
    await waitFor(() => (registry.events(tasks[1]!.id).some((e) => e.kind === 'unblocked') ? true : undefined), { timeoutMs: 20_000, what: 'the dependent to be unblocked' });
    registry.close();
  });

  it('on a respawn the orchestrator rewrites the prompt; the evidence is in it', async () => {
    configure({ agents: { fixer: { command: agentCommand('fixer.mjs'), env: { AGENT_RECORD_DIR: box.records } } }, ci: { command: SAMPLE_CI } });
    ollama.script([{ text: JSON.stringify({ prompt: 'REWRITTEN: change only src/add.ts so that addNumbers returns the sum.' }) }]);
    daemon = await runDaemon(box);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--raw', '--json', 'Fix addNumbers'])).stdout) as { id: number };
    const task = await waitForState(box, id, ['ready', 'needs_help']);
    expect(task.state).toBe('ready');
    const registry = openRegistry(box);
    const second = registry.attempts(id).find((a) => a.kind === 'agent' && a.n === 2)!.prompt!;
    expect(second).toContain('REWRITTEN: change only src/add.ts');
    expect(second).toContain('6 !== 5');
    expect(registry.events(id).map((e) => e.kind)).toContain('prompt_rewritten');
    expect(ollama.chats[0]!.messages[1]!.content).toContain('6 !== 5'); // the orchestrator saw the evidence
    registry.close();
  });

  it('red CI on the base branch proposes one fixer task, not one per run; a command source proposes once; approve queues', async () => {
    configure({
      ci: { command: SAMPLE_CI },
      discovery: { base_ci: true, commands: [{ name: 'todo', command: [process.execPath, '-e', 'console.log(JSON.stringify([{ title: "Remove the TODO in add.ts", prompt: "Remove it.", key: "todo-1" }]))'] }] },
    });
    const first = JSON.parse((await swarm(box.repo, ['discover', '--json'])).stdout) as { id: number; title: string; state: string; prompt: string }[];
    expect(first.map((t) => [t.title.replace(/\(\w+\)/, '(sha)'), t.state])).toEqual([
      ['Fix CI on main (sha)', 'proposed'],
      ['Remove the TODO in add.ts', 'proposed'],
    ]);
    expect(first[0]!.prompt).toContain('addNumbers adds two numbers');
    expect(first[0]!.prompt).toContain('-1 !== 5');
    for (let i = 0; i < 2; i++) expect(JSON.parse((await swarm(box.repo, ['discover', '--json'])).stdout)).toEqual([]);
    const approved = await swarm(box.repo, ['approve', String(first[0]!.id)]);
    expect(approved.stdout).toContain('queued');
    const registry = openRegistry(box);
    expect(registry.listTasks().map((t) => t.state)).toEqual(['queued', 'proposed']);
    registry.close();
  });
});
