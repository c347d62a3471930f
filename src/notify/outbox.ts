import type { Logger } from 'pino';
import type { Registry } from '../../registry/registry.js';
import type { SwarmConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import { backoffMs } from '../wait.js';
import type { NotifyChannel } from './channel.js';
import { desktopChannel } from './desktop.js';
import { ntfyChannel } from './ntfy.js';
import { webhookChannel } from './webhook.js';

export function channelsFromConfig(config: SwarmConfig, env: NodeJS.ProcessEnv = process.env): NotifyChannel[] {
  const channels: NotifyChannel[] = [];
  if (config.notify.desktop) channels.push(desktopChannel());
  const ntfy = config.notify.ntfy;
  if (ntfy) {
    channels.push(
      ntfyChannel({ server: ntfy.server, topic: ntfy.topic, token: ntfy.token_env ? env[ntfy.token_env] : undefined, clickUrl: ntfy.click_url, priority: ntfy.priority }),
    );
  }
  const webhook = config.notify.webhook;
  if (webhook) channels.push(webhookChannel(webhook.url, webhook.token_env ? env[webhook.token_env] : undefined));
  return channels;
}

/**
 * Sends what is due. Each row is one (task, event, attempt, channel): enqueued once with the state change,
 * marked sent after delivery, so a restart never repeats a delivered notification. Failures back off and retry.
 */
export async function deliverDue(registry: Registry, channels: readonly NotifyChannel[], maxAttempts: number, log: Logger): Promise<number> {
  let sent = 0;
  for (const row of registry.dueNotifications()) {
    const channel = channels.find((c) => c.name === row.channel);
    if (!channel) {
      registry.markNotificationFailed(row.id, `channel ${row.channel} is no longer configured`, null);
      continue;
    }
    try {
      await channel.send({ key: row.key, task_id: row.task_id, event: row.event, title: row.title, body: row.body, click_url: row.click_url });
      registry.markNotificationSent(row.id);
      sent++;
      log.info({ key: row.key, channel: row.channel }, 'notification sent');
    } catch (err) {
      const attempts = row.attempts + 1;
      const next = attempts >= maxAttempts ? null : backoffMs(attempts, 2_000);
      registry.markNotificationFailed(row.id, errorMessage(err), next);
      log.warn({ key: row.key, channel: row.channel, attempts, error: errorMessage(err), gave_up: next === null }, 'notification failed');
    }
  }
  return sent;
}
