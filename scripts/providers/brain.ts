/**
 * The scripted model behind every loopback provider (Anthropic, OpenAI Responses, OpenAI chat, Gemini).
 * It answers a coding CLI's agent loop with that CLI's own shell tool: first a fix and a commit, then a
 * final message. Stateless: each reply is decided from the request alone, as a real model's would be.
 */

import { SAMPLE_WRONG_FIX_ASSERTION as WRONG_FIX_ASSERTION, sampleAddFile as addFile } from '../../src/cli/sample-repo.js';

export { addFile, WRONG_FIX_ASSERTION };

export interface BrainOptions {
  /** The first attempt multiplies (CI goes red); only a prompt carrying the failing assertion gets the right fix. */
  wrongFirst?: boolean;
  /** The final message, per attempt (the prompt's "attempt N" marker decides). */
  finalMessage?: string;
  /** Asked to review (swarm's reviewer prompt): answer this at once, touching nothing. */
  review?: string;
}

export interface Conversation {
  /** Every piece of text the client sent (system prompt, user turns, tool results), in order. */
  texts: string[];
  /** Tool names the client offered. */
  tools: string[];
  /** How many tool results follow the latest user message (a resumed session starts again at 0). */
  toolResults: number;
}

/** Tool results after the last user message: entries in conversation order. */
export function resultsSinceUser(entries: readonly ('user' | 'tool_result' | 'other')[]): number {
  const last = entries.lastIndexOf('user');
  return entries.slice(last + 1).filter((e) => e === 'tool_result').length;
}

export type Step = { kind: 'tool'; name: string; input: Record<string, unknown> } | { kind: 'text'; text: string; side: boolean };

/** The CLIs' shell tools and the shape of their input: one command string (or argv for codex's `shell`). */
const SHELL_TOOLS: Record<string, (command: string) => Record<string, unknown>> = {
  Bash: (command) => ({ command, description: 'Fix addNumbers and commit' }),
  run_shell_command: (command) => ({ command, description: 'Fix addNumbers and commit' }),
  bash: (command) => ({ command, description: 'Fix addNumbers and commit' }),
  shell_command: (command) => ({ command }),
  exec_command: (command) => ({ cmd: command }),
  shell: (command) => ({ command: ['bash', '-lc', command] }),
};

export function shellToolOf(tools: readonly string[]): string | undefined {
  return Object.keys(SHELL_TOOLS).find((name) => tools.includes(name));
}

/** A POSIX shell command that writes the file and commits it, quoting safe for any of the CLIs' shells. */
export function fixCommand(body: string, message: string): string {
  const content = addFile(body).replace(/\n/g, '\\n');
  return `printf '${content}' > src/add.ts && git add -A && git -c user.name=Agent -c user.email=agent@example.com commit -q -m '${message}' && git log --oneline -1`;
}

export function nextStep(conversation: Conversation, options: BrainOptions = {}): Step {
  const shell = shellToolOf(conversation.tools);
  if (options.review && conversation.texts.some((text) => text.includes('a code reviewer of task'))) return { kind: 'text', text: options.review, side: false };
  // A request without the shell tool is the CLI's own side request (a title, a summary, a check): answer briefly.
  if (!shell) return { kind: 'text', text: 'Fix addNumbers', side: true };
  if (conversation.toolResults === 0) {
    const all = conversation.texts.join('\n');
    const right = !options.wrongFirst || all.includes(WRONG_FIX_ASSERTION);
    const command = right ? fixCommand('a + b', 'Fix addNumbers: add instead of subtract') : fixCommand('a * b', 'Fix addNumbers (wrong guess)');
    return { kind: 'tool', name: shell, input: SHELL_TOOLS[shell]!(command) };
  }
  return { kind: 'text', text: options.finalMessage ?? 'Fixed addNumbers: it adds now and the change is committed.', side: false };
}

/** Text of any JSON value: strings found anywhere inside (message contents come in many shapes). */
export function textsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) textsIn(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) textsIn(v, out);
  return out;
}
