/**
 * Pure: what a message on the phone offers (its choices) and what a pressed choice or a typed command asks
 * for. Telegram and Slack carry the same choice data (Telegram's 64-byte callback_data fits it), so one
 * decoder serves both.
 */

export type Ask =
  | { kind: 'merge'; task: number; sha: string }
  | { kind: 'retry'; task: number }
  | { kind: 'kill'; task: number }
  | { kind: 'show'; task: number }
  /** A plan proposed from the phone: queue all of it, or drop it. `task` is its first task. */
  | { kind: 'approve'; task: number }
  | { kind: 'discard'; task: number };

export interface Choice {
  label: string;
  data: string;
  style?: 'primary' | 'danger';
}

/** A notification's choices: merge exactly the verified head of a ready task; retry or kill; show. */
export function choicesFor(event: string, task: number, verifiedSha: string | null): Choice[][] {
  const show = { label: 'Show', data: `s:${task}` };
  const retry = { label: 'Retry', data: `r:${task}` };
  const kill = { label: 'Kill', data: `k:${task}`, style: 'danger' as const };
  if (event === 'ready' && verifiedSha) return [[{ label: `Merge ${verifiedSha.slice(0, 7)}`, data: `m:${task}:${verifiedSha}`, style: 'primary' }], [show, retry, kill]];
  if (event === 'needs_help') return [[retry, show, kill]];
  return [[show]];
}

/** A proposed plan's choices. */
export function planChoices(firstTask: number, count: number): Choice[][] {
  return [[{ label: `Approve ${count === 1 ? 'it' : `all ${count}`}`, data: `pa:${firstTask}`, style: 'primary' }, { label: 'Discard', data: `pd:${firstTask}`, style: 'danger' }]];
}

/** A choice's data back; null for anything swarm did not send. */
export function parseAsk(data: string | undefined): Ask | null {
  const match = /^(m|r|k|s|pa|pd):(\d{1,9})(?::([0-9a-f]{40}|[0-9a-f]{64}))?$/.exec(data ?? '');
  if (!match) return null;
  const task = Number(match[2]);
  const sha = match[3];
  if ((match[1] === 'm') !== (sha !== undefined)) return null; // merge names its head; nothing else does
  switch (match[1]) {
    case 'm':
      return { kind: 'merge', task, sha: sha! };
    case 'r':
      return { kind: 'retry', task };
    case 'k':
      return { kind: 'kill', task };
    case 'pa':
      return { kind: 'approve', task };
    case 'pd':
      return { kind: 'discard', task };
    default:
      return { kind: 'show', task };
  }
}

export type Command =
  | { kind: 'status' }
  | { kind: 'spawn'; prompt: string; agent?: string }
  | { kind: 'plan'; request: string }
  | { kind: 'help'; why?: string };

/**
 * A message's command: `/status`, `/spawn [--agent NAME] prompt`, `/plan request` (a Telegram bot's @name
 * after the command is allowed). `prefix` is how the person types commands where they are: `/` on Telegram,
 * `/swarm ` on Slack (its one slash command).
 */
export function parseCommand(text: string, prefix = '/'): Command | null {
  const match = /^\/([a-z_]+)(?:@\w+)?(?:\s+([\s\S]*))?$/i.exec(text.trim());
  if (!match) return null;
  const rest = (match[2] ?? '').trim();
  switch (match[1]!.toLowerCase()) {
    case 'status':
      return { kind: 'status' };
    case 'spawn': {
      const agent = /^--agent(?:=|\s+)(\S+)\s*([\s\S]*)$/.exec(rest);
      const prompt = (agent ? agent[2]! : rest).trim();
      if (!prompt) return { kind: 'help', why: `Say what to do: ${prefix}spawn Fix the flaky login test` };
      return agent ? { kind: 'spawn', prompt, agent: agent[1]! } : { kind: 'spawn', prompt };
    }
    case 'plan':
      return rest ? { kind: 'plan', request: rest } : { kind: 'help', why: `Say what you want done: ${prefix}plan Add refunds to the billing page` };
    default:
      return { kind: 'help' };
  }
}

export function helpText(prefix = '/', replies = 'reply to a task\'s message'): string {
  return [
    'swarm here. Commands:',
    `${prefix}status: the tasks that are not finished`,
    `${prefix}spawn [--agent NAME] what to do: queue a task`,
    `${prefix}plan what you want: the orchestrator proposes tasks; approve or discard them`,
    `The buttons on a task's message merge (the verified commit only), retry, kill or show it; ${replies} to retry it with your words as a note.`,
  ].join('\n');
}
