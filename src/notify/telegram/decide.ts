/** Pure: what a Telegram message offers, and what a button or a command asks for. */
import type { Button } from './api.js';

export type Ask =
  | { kind: 'merge'; task: number; sha: string }
  | { kind: 'retry'; task: number }
  | { kind: 'kill'; task: number }
  | { kind: 'show'; task: number };

/** A notification's buttons: merge exactly the verified head of a ready task; retry or kill; show. */
export function buttonsFor(event: string, task: number, verifiedSha: string | null): Button[][] {
  const show = { text: 'Show', callback_data: `s:${task}` };
  const retry = { text: 'Retry', callback_data: `r:${task}` };
  const kill = { text: 'Kill', callback_data: `k:${task}` };
  if (event === 'ready' && verifiedSha) return [[{ text: `Merge ${verifiedSha.slice(0, 7)}`, callback_data: `m:${task}:${verifiedSha}` }], [show, retry, kill]];
  if (event === 'needs_help') return [[retry, show, kill]];
  return [[show]];
}

/** A button's data back (at most 64 bytes, as Telegram allows); null for anything swarm did not send. */
export function parseButton(data: string | undefined): Ask | null {
  const match = /^(m|r|k|s):(\d{1,9})(?::([0-9a-f]{40}|[0-9a-f]{64}))?$/.exec(data ?? '');
  if (!match) return null;
  const task = Number(match[2]);
  switch (match[1]) {
    case 'm':
      return match[3] ? { kind: 'merge', task, sha: match[3] } : null;
    case 'r':
      return match[3] ? null : { kind: 'retry', task };
    case 'k':
      return match[3] ? null : { kind: 'kill', task };
    default:
      return match[3] ? null : { kind: 'show', task };
  }
}

export type Command = { kind: 'status' } | { kind: 'spawn'; prompt: string; agent?: string } | { kind: 'help'; why?: string };

/** A message's command: `/status`, `/spawn [--agent NAME] prompt` (a bot's @name after the command is allowed). */
export function parseCommand(text: string): Command | null {
  const match = /^\/([a-z_]+)(?:@\w+)?(?:\s+([\s\S]*))?$/i.exec(text.trim());
  if (!match) return null;
  const rest = (match[2] ?? '').trim();
  switch (match[1]!.toLowerCase()) {
    case 'status':
      return { kind: 'status' };
    case 'spawn': {
      const agent = /^--agent(?:=|\s+)(\S+)\s*([\s\S]*)$/.exec(rest);
      const prompt = (agent ? agent[2]! : rest).trim();
      if (!prompt) return { kind: 'help', why: 'Say what to do: /spawn Fix the flaky login test' };
      return agent ? { kind: 'spawn', prompt, agent: agent[1]! } : { kind: 'spawn', prompt };
    }
    default:
      return { kind: 'help' };
  }
}

export const HELP = [
  'swarm here. Commands:',
  '/status: the tasks that are not finished',
  '/spawn [--agent NAME] what to do: queue a task',
  'Buttons on a task\'s message merge (the verified commit only), retry, kill or show it; reply to a task\'s message to retry it with your reply as a note.',
].join('\n');
