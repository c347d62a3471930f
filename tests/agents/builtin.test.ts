import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { runLoop, type LoopResult } from '../../src/agents/builtin/loop.js';
import { OllamaModel, OpenAiCompatibleModel } from '../../src/agents/builtin/model.js';
import { clip, globToRegExp } from '../../src/agents/builtin/tools.js';
import { fakeOllama, FIX_ADD_NUMBERS, type FakeOllama, type Turn } from '../helpers/ollama.js';
import { git, makeSampleRepo, tempDir } from '../helpers/sample.js';

describe('the built-in agent against an Ollama-protocol server', () => {
  let server: FakeOllama;
  let repo: string;
  let out: string;

  beforeAll(async () => {
    server = await fakeOllama([
      { name: 'coder:7b', capabilities: ['completion', 'tools'] },
      { name: 'chat-only:1b', capabilities: ['completion'] },
    ]);
  });
  const made: string[] = [];
  afterAll(() => {
    server.close();
    for (const repo of made) rmSync(join(repo, '..'), { recursive: true, force: true });
  });
  beforeEach(() => {
    made.push((repo = join(tempDir('builtin'), 'repo')));
    mkdirSync(repo);
    makeSampleRepo(repo);
    out = '';
    server.chats.length = 0;
  });

  async function run(turns: Turn[], options: { maxSteps?: number; tokenBudget?: number; bashTimeout?: number } = {}): Promise<LoopResult> {
    server.script(turns);
    return runLoop({ model: new OllamaModel(server.url, 'coder:7b', 32_768), prompt: 'Fix addNumbers: it subtracts.', root: repo, maxSteps: options.maxSteps ?? 10, tokenBudget: options.tokenBudget ?? 100_000, bashTimeoutSeconds: options.bashTimeout ?? 30, write: (t) => (out += t) });
  }

  it('reads the failing test, edits, checks, finishes and commits with a meaningful message', async () => {
    const result = await run(FIX_ADD_NUMBERS);
    expect(result).toMatchObject({ status: 'done', committed: true, steps: 6 });
    expect(readFileSync(join(repo, 'src', 'add.ts'), 'utf8')).toContain('return a + b;');
    expect(git(repo, ['log', '-1', '--format=%s|%b'])).toContain('Fix addNumbers: add instead of subtract|The test expects 2 + 3 = 5.');
    expect(git(repo, ['status', '--porcelain'])).toBe('');
    // What the model was sent: a 32k window, the tool set, and each tool result in a linear history.
    expect(server.chats.every((c) => c.options?.num_ctx === 32_768 && c.stream === true)).toBe(true);
    expect(server.chats[0]!.tools?.map((t) => t.function.name)).toEqual(['read', 'grep', 'glob', 'edit', 'write', 'bash', 'finish']);
    const second = server.chats[1]!.messages;
    expect(second.at(-1)).toMatchObject({ role: 'tool', tool_name: 'read' });
    expect(second.at(-1)!.content).toContain('assert.equal(addNumbers(2, 3), 5);');
    expect(server.chats[2]!.messages.at(-1)!.content).toContain('src/add.ts:1:export function addNumbers');
    expect(server.chats[5]!.messages.length).toBe(2 + 5 * 2);
    expect(result.tokens.output).toBe(6 * 30);
    // A person attached to the terminal sees what it thinks and does.
    expect(out).toContain('Let me look at the failing test first.');
    expect(out).toContain('→ edit({"path":"src/add.ts"');
  });

  it('answers malformed and unknown tool calls with errors the model can act on, and carries on', async () => {
    const result = await run([
      { tool_calls: [{ name: 'read', arguments: 'src/add.ts' }] },
      { tool_calls: [{ name: 'delete_everything', arguments: {} }] },
      { tool_calls: [{ name: 'read', arguments: { file: 'src/add.ts' } }] },
      { tool_calls: [{ name: 'read', arguments: { path: '../../etc/passwd' } }] },
      ...FIX_ADD_NUMBERS.slice(3),
    ]);
    expect(result.status).toBe('done');
    const answers = server.chats.slice(1, 5).map((c) => c.messages.at(-1)!.content);
    expect(answers[0]).toContain('could not be read: arguments must be a JSON object');
    expect(answers[1]).toContain('Unknown tool "delete_everything". Tools: read, grep, glob, edit, write, bash, finish.');
    expect(answers[2]).toContain('Bad arguments for read: path:');
    expect(answers[3]).toContain('is outside the repository');
  });

  it('a call with no function at all (tool_calls: [{}]) is answered as malformed, never a crash blamed on the server', async () => {
    const result = await run([{ raw_tool_calls: [{}] }, ...FIX_ADD_NUMBERS]);
    expect(result.status).toBe('done');
    expect(server.chats[1]!.messages.at(-1)!.content).toContain('the call has no "function" with a name and arguments');
    expect(out).not.toContain('answered with an error');
  });

  it('rejects an edit whose old text is missing or ambiguous, with a hint', async () => {
    writeFileSync(join(repo, 'twice.txt'), 'x = 1\nx = 1\n');
    await run([
      { tool_calls: [{ name: 'edit', arguments: { path: 'src/add.ts', old_text: 'return  a - b;', new_text: 'return a + b;' } }] },
      { tool_calls: [{ name: 'edit', arguments: { path: 'twice.txt', old_text: 'x = 1', new_text: 'x = 2' } }] },
      { tool_calls: [{ name: 'finish', arguments: { summary: 'gave it a go' } }] },
    ]);
    const answers = server.chats.slice(1, 3).map((c) => c.messages.at(-1)!.content);
    expect(answers[0]).toContain('old_text was not found in src/add.ts.');
    expect(answers[1]).toBe('old_text appears 2 times in twice.txt; include more surrounding lines so it is unique.');
    expect(readFileSync(join(repo, 'twice.txt'), 'utf8')).toBe('x = 1\nx = 1\n');
  });

  it('kills a command that hangs and cuts huge output to head and tail', async () => {
    await run(
      [
        { tool_calls: [{ name: 'bash', arguments: { command: 'sleep 30', timeout_seconds: 1 } }] },
        { tool_calls: [{ name: 'bash', arguments: { command: 'seq 1 200000' } }] },
        { tool_calls: [{ name: 'finish', arguments: { summary: 'done' } }] },
      ],
      { bashTimeout: 5 },
    );
    const [hung, huge] = server.chats.slice(1, 3).map((c) => c.messages.at(-1)!.content);
    expect(hung).toContain('killed after 1s (timeout)');
    expect(huge!.length).toBeLessThan(7_000);
    expect(huge).toMatch(/characters cut; showing the first 2000 and last 4000/);
    expect(huge).toMatch(/^1\n2\n3\n/);
    expect(huge).toContain('200000');
  });

  it('gives up at the step limit and at the token budget, and when the model stops using tools', async () => {
    const loop = Array.from({ length: 5 }, () => ({ tool_calls: [{ name: 'glob', arguments: { pattern: '**/*.ts' } }] }));
    expect(await run(loop, { maxSteps: 3 })).toMatchObject({ status: 'gave_up', summary: 'step limit of 3 reached before the task was finished' });
    expect((await run(loop, { tokenBudget: 200 })).summary).toContain('token budget of 200 spent');
    expect(await run([{ text: 'hmm' }, { text: 'hmm' }, { text: 'hmm' }])).toMatchObject({ status: 'gave_up', summary: 'the model stopped calling tools without finishing' });
  });

  it('ends with a clear error on HTTP errors, a mid-stream error, and a server that is down', async () => {
    expect((await run([{ http_error: 500, message: 'llama runner process has terminated' }])).summary).toContain('llama runner process has terminated');
    expect((await run([{ mid_stream_error: 'out of memory', text: 'Working on' }])).summary).toContain('out of memory');
    const down = await runLoop({ model: new OllamaModel('http://127.0.0.1:9', 'coder:7b', 32_768), prompt: 'p', root: repo, maxSteps: 2, tokenBudget: 1_000, bashTimeoutSeconds: 5, write: () => undefined });
    expect(down).toMatchObject({ status: 'error' });
    expect(down.summary).toContain('Ollama is not reachable at http://127.0.0.1:9');
    expect(down.summary).toContain('ollama serve');
  });

  it('checks the tools capability through /api/show and says plainly when it is missing', async () => {
    expect(await new OllamaModel(server.url, 'coder:7b', 32_768).checkTools()).toBeNull();
    expect(await new OllamaModel(server.url, 'chat-only:1b', 32_768).checkTools()).toContain('Model chat-only:1b cannot call tools (its capabilities: completion)');
    expect(await new OllamaModel(server.url, 'missing:1b', 32_768).checkTools()).toBe(`Model missing:1b is not on the Ollama server at ${server.url}. Run \`ollama pull missing:1b\`.`);
  });
});

describe('the built-in agent against an OpenAI-compatible server', () => {
  it('parses tool calls with JSON-string arguments and reports malformed ones', async () => {
    const { createServer } = await import('node:http');
    const replies = [
      { choices: [{ message: { content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'glob', arguments: '{"pattern":"src/*.ts"}' } }] } }], usage: { prompt_tokens: 10, completion_tokens: 5 } },
      { choices: [{ message: { content: null, tool_calls: [{ id: 'b', type: 'function', function: { name: 'read', arguments: '{"path": src/add.ts' } }] } }] },
      { choices: [{ message: { content: 'ok', tool_calls: [{ id: 'c', type: 'function', function: { name: 'finish', arguments: '{"summary":"nothing to change"}' } }] } }] },
    ];
    const seen: { messages: { role: string; content: string; tool_call_id?: string }[] }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(JSON.parse(body) as (typeof seen)[number]);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(replies.shift()));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const repo = join(tempDir('openai'), 'repo');
    onTestFinished(() => rmSync(join(repo, '..'), { recursive: true, force: true }));
    mkdirSync(repo);
    makeSampleRepo(repo);
    const result = await runLoop({ model: new OpenAiCompatibleModel(`http://127.0.0.1:${port}/v1`, 'local', undefined), prompt: 'p', root: repo, maxSteps: 5, tokenBudget: 10_000, bashTimeoutSeconds: 5, write: () => undefined });
    server.close();
    expect(result).toMatchObject({ status: 'done', committed: false, tokens: { input: 10, output: 5 } });
    expect(seen[1]!.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'a', content: 'src/add.ts' });
    expect(seen[2]!.messages.at(-1)!.content).toContain('arguments are not valid JSON');
  });
});

describe('tool helpers', () => {
  it.each([
    ['src/**/*.ts', 'src/a/b/c.ts', true],
    ['src/**/*.ts', 'src/c.ts', true],
    ['*.md', 'docs/a.md', false],
    ['test/?.ts', 'test/a.ts', true],
  ])('glob %s matches %s: %s', (glob, path, expected) => expect(globToRegExp(glob).test(path)).toBe(expected));

  it('clip leaves short text alone', () => {
    expect(clip('short')).toBe('short');
    expect(execFileSync('echo', ['x']).toString()).toBe('x\n');
  });
});
