/**
 * The built-in agent: a linear tool-calling loop. Every malformed or unknown call is answered with an error
 * the model can act on; only the model server failing ends the run early.
 */
import { execFileSync } from 'node:child_process';
import { BUILTIN_REPORT_PREFIX, type AgentReport } from '../report.js';
import { ModelError, type ChatMessage, type ModelClient } from './model.js';
import { TOOL_SPECS, Toolbox } from './tools.js';

export const BUILTIN_EXIT = { done: 0, error: 1, gave_up: 2 } as const;

export interface LoopOptions {
  model: ModelClient;
  prompt: string;
  root: string;
  maxSteps: number;
  tokenBudget: number;
  bashTimeoutSeconds: number;
  write: (text: string) => void;
}

export interface LoopResult {
  status: keyof typeof BUILTIN_EXIT;
  summary: string;
  steps: number;
  tokens: { input: number; output: number };
  committed: boolean;
}

const SYSTEM = `You are a careful software engineer working alone in a git repository (your current directory).
Work in small steps with the tools: find and read the relevant code and tests, make the change with edit (or write),
run the tests with bash, fix what fails. Never ask the user anything: nobody is there. When the tests pass, call
finish with a short summary whose first line is a commit title. Do not run git commit yourself.`;

function describeCall(name: string, args: unknown): string {
  const text = JSON.stringify(args ?? {});
  return `${name}(${text.length > 160 ? `${text.slice(0, 157)}...` : text})`;
}

function commit(root: string, summary: string): boolean {
  const git = (args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  git(['add', '-A']);
  if (git(['diff', '--cached', '--name-only']).trim() === '') return false;
  const [title = 'Changes by the swarm built-in agent', ...body] = summary.trim().split('\n');
  const args = ['-c', 'user.name=swarm agent', '-c', 'user.email=agent@worktree-swarm.local', 'commit', '-q', '-m', title.slice(0, 100)];
  if (body.join('\n').trim()) args.push('-m', body.join('\n').trim());
  // Identity only if the repository has none configured.
  const hasIdentity = (() => {
    try {
      return git(['config', 'user.email']).trim() !== '';
    } catch {
      return false;
    }
  })();
  git(hasIdentity ? args.slice(4) : args);
  return true;
}

export async function runLoop(options: LoopOptions): Promise<LoopResult> {
  const { model, write } = options;
  const tools = new Toolbox(options.root, options.bashTimeoutSeconds);
  const messages: ChatMessage[] = [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: options.prompt },
  ];
  const tokens = { input: 0, output: 0 };
  let idleTurns = 0;
  const end = (status: LoopResult['status'], summary: string, steps: number, committed = false): LoopResult => ({ status, summary, steps, tokens, committed });

  for (let step = 1; step <= options.maxSteps; step++) {
    write(`\n\x1b[36m── step ${step}/${options.maxSteps} ──\x1b[0m\n`);
    let turn;
    try {
      turn = await model.chat(messages, TOOL_SPECS, (text) => write(text));
    } catch (err) {
      const message = err instanceof ModelError ? err.message : `model call failed: ${err instanceof Error ? err.message : String(err)}`;
      write(`\n\x1b[31m${message}\x1b[0m\n`);
      return end('error', message, step);
    }
    tokens.input += turn.prompt_tokens;
    tokens.output += turn.completion_tokens;
    messages.push({ role: 'assistant', content: turn.content, ...(turn.tool_calls.length ? { tool_calls: turn.tool_calls } : {}) });
    if (tokens.input + tokens.output > options.tokenBudget) {
      return end('gave_up', `token budget of ${options.tokenBudget} spent (${tokens.input + tokens.output} used) before the task was finished`, step);
    }
    if (turn.tool_calls.length === 0) {
      idleTurns++;
      if (idleTurns >= 3) return end('gave_up', 'the model stopped calling tools without finishing', step);
      messages.push({ role: 'user', content: 'Use the tools to make progress, or call finish with a summary if the task is done.' });
      continue;
    }
    idleTurns = 0;
    for (const call of turn.tool_calls) {
      write(`\n\x1b[33m→ ${describeCall(call.name, call.arguments)}\x1b[0m\n`);
      const result = call.malformed
        ? { ok: false, output: `Your call to ${call.name || '(no name)'} could not be read: ${call.malformed}. Call it again with a JSON object of arguments.` }
        : await tools.call(call.name, call.arguments);
      const preview = result.output.length > 600 ? `${result.output.slice(0, 600)}…` : result.output;
      write(`${result.ok ? '' : '\x1b[31m'}${preview}${result.ok ? '' : '\x1b[0m'}\n`);
      messages.push({ role: 'tool', content: result.output, tool_name: call.name, tool_call_id: call.id });
      if ('finish' in result && result.finish) {
        let committed = false;
        try {
          committed = commit(options.root, result.finish);
        } catch (err) {
          return end('error', `could not commit: ${err instanceof Error ? err.message : String(err)}`, step);
        }
        write(`\n\x1b[32m✔ finished${committed ? ' and committed' : ' (nothing to commit)'}: ${result.finish.split('\n')[0]}\x1b[0m\n`);
        return end('done', result.finish, step, committed);
      }
    }
  }
  return end('gave_up', `step limit of ${options.maxSteps} reached before the task was finished`, options.maxSteps);
}

export function reportLine(result: LoopResult): string {
  const report: AgentReport = { final_message: result.summary, input_tokens: result.tokens.input, output_tokens: result.tokens.output };
  return `${BUILTIN_REPORT_PREFIX}${JSON.stringify({ ...report, status: result.status, steps: result.steps })}`;
}
