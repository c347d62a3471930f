/** Pure: swarm's messages as Slack Block Kit (a section of text, a row of buttons per row of choices). */
import type { ActionsBlock, Button, KnownBlock } from '@slack/web-api';
import * as z from 'zod';
import type { Choice } from '../remote/asks.js';

/** Slack's mrkdwn needs &, < and > escaped; a section holds at most 3000 characters. */
export function mrkdwn(text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped.length <= 3000 ? escaped : `${escaped.slice(0, 2990)}\n…`;
}

export function blocksOf(text: string, choices: Choice[][] = [], link?: string | null): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: mrkdwn(text) } }];
  if (link) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `<${link}|Open in the dashboard>` }] });
  choices.forEach((row, r) => {
    const elements = row.map((c, i): Button => ({ type: 'button', action_id: `swarm-${r}-${i}`, text: { type: 'plain_text', text: c.label }, value: c.data, ...(c.style ? { style: c.style } : {}) }));
    const actions: ActionsBlock = { type: 'actions', block_id: `swarm-${r}`, elements };
    blocks.push(actions);
  });
  return blocks;
}

/** What a Socket Mode envelope carries that swarm reads (the rest is ignored). */
export const BlockActions = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string(), username: z.string().optional(), name: z.string().optional() }),
  channel: z.object({ id: z.string() }).optional(),
  container: z.object({ message_ts: z.string().optional(), channel_id: z.string().optional() }).optional(),
  message: z.object({ ts: z.string() }).optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })),
});
export type BlockActions = z.infer<typeof BlockActions>;

export const SlashCommand = z.object({ command: z.string(), text: z.string().default(''), channel_id: z.string(), user_id: z.string(), user_name: z.string().optional() });
export type SlashCommand = z.infer<typeof SlashCommand>;

export const MessageEvent = z.object({
  type: z.literal('message'),
  channel: z.string(),
  user: z.string().optional(),
  text: z.string().optional(),
  ts: z.string(),
  thread_ts: z.string().optional(),
  bot_id: z.string().optional(),
  subtype: z.string().optional(),
});
export type MessageEvent = z.infer<typeof MessageEvent>;

/** Who pressed or wrote: `@name` where Slack says it, the user ID otherwise. */
export function whoOf(user: { id: string; username?: string | undefined; name?: string | undefined }): string {
  const name = user.username ?? user.name;
  return name ? `@${name}` : user.id;
}
