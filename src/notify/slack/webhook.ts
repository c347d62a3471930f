/** Slack, one-way: each notification posted to an incoming webhook (its URL is the secret, so it comes from the environment). */
import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError } from '@slack/webhook';
import { ConfigError } from '../../errors.js';
import type { NotifyChannel } from '../channel.js';
import { blocksOf } from './blocks.js';

export function slackWebhookChannel(urlEnv: string, env: NodeJS.ProcessEnv = process.env): NotifyChannel {
  const url = env[urlEnv];
  if (!url) throw new ConfigError(`notify.slack.webhook_url_env names ${urlEnv}, which is not set: put the incoming webhook's URL (Slack app > Incoming Webhooks) there where the daemon starts.`);
  const hook = new IncomingWebhook(url, { timeout: 10_000 });
  return {
    name: 'slack',
    send: async (n) => {
      const text = `${n.title}\n\n${n.body}`;
      try {
        await hook.send({ text, blocks: blocksOf(text, [], n.click_url) });
      } catch (err) {
        // fetch's own error may quote the URL (the secret): only Slack's answer, or the kind of failure, is kept.
        if (err instanceof IncomingWebhookHTTPError) throw new Error(`Slack's incoming webhook answered ${err.statusCode}: ${err.body.slice(0, 200)}`);
        const cause = err instanceof IncomingWebhookRequestError ? ((err.original.cause as { code?: string } | undefined)?.code ?? err.original.name) : 'error';
        throw new Error(`Slack's incoming webhook did not answer (${cause}) at ${new URL(url).origin}`);
      }
    },
  };
}
