import * as z from 'zod';
import type { Logger } from 'pino';
import type { Registry } from '../../registry/registry.js';
import type { SwarmConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import { dashboardUrl } from '../api/urls.js';
import { backoffMs } from '../wait.js';
import type { NotifyChannel } from './channel.js';
import { desktopChannel } from './desktop.js';
import { ntfyChannel } from './ntfy.js';
import { webhookChannel } from './webhook.js';
import { slackWebhookChannel } from './slack/webhook.js';

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
  // Slack one-way; the two-way app is built by the daemon (it listens as well as sends).
  const slackHook = config.notify.slack?.webhook_url_env;
  if (slackHook) channels.push(slackWebhookChannel(slackHook, env));
  const publicUrl = config.dashboard.public_url;
  if (!publicUrl) return channels;
  // With the dashboard reachable from the phone, a click opens the task's page there.
  return channels.map((channel) => ({ name: channel.name, send: (n) => channel.send({ ...n, click_url: n.click_url ?? taskPageUrl(publicUrl, n.task_id) }) }));
}

export function taskPageUrl(publicUrl: string, taskId: number): string {
  return dashboardUrl(publicUrl, `tasks/${taskId}`);
}

/** A channel that failed this many times in a row is left alone for a while (its rows wait, none is lost). */
const BREAKER_FAILURES = 3;
const BREAKER_OPEN_MS = 60_000;

interface Breaker {
  failures: number;
  openUntil: number;
}

/**
 * Sends what is due. Each row is one (task, event, attempt, channel): enqueued once with the state change,
 * marked sent after delivery. Each channel is its own lane, in order; a channel that keeps failing (a hung
 * server) trips its breaker and is skipped until it cools down. A crash between a send and its mark repeats
 * that one send: delivery is at least once (docs/notifications.md).
 */
export async function deliverDue(registry: Registry, channels: readonly NotifyChannel[], maxAttempts: number, log: Logger, breakers: Map<string, Breaker> = new Map(), now: () => number = Date.now): Promise<number> {
  const names = new Set(registry.dueNotifications().map((row) => row.channel));
  const counts = await Promise.all([...names].map((name) => deliverChannel(registry, name, channels, maxAttempts, log, breakers, now)));
  return counts.reduce((a, b) => a + b, 0);
}

/** One channel's due rows, in order: what a lane sends each round. */
export async function deliverChannel(registry: Registry, name: string, channels: readonly NotifyChannel[], maxAttempts: number, log: Logger, breakers: Map<string, Breaker>, now: () => number = Date.now): Promise<number> {
  const channel = channels.find((c) => c.name === name);
  let sent = 0;
  for (const row of registry.dueNotifications(50, name)) {
    if (!channel) {
      registry.markNotificationFailed(row.id, `channel ${row.channel} is no longer configured`, null);
      continue;
    }
    const breaker = breakers.get(name) ?? { failures: 0, openUntil: 0 };
    if (breaker.openUntil > now()) break;
    try {
      await channel.send({ key: row.key, task_id: row.task_id, event: row.event, title: row.title, body: row.body, click_url: row.click_url, attachments: z.array(z.string()).catch([]).parse(JSON.parse(row.attachments)) });
      registry.markNotificationSent(row.id);
      breakers.set(name, { failures: 0, openUntil: 0 });
      sent++;
      log.info({ key: row.key, channel: row.channel }, 'notification sent');
    } catch (err) {
      const attempts = row.attempts + 1;
      const next = attempts >= maxAttempts ? null : backoffMs(attempts, 2_000);
      registry.markNotificationFailed(row.id, errorMessage(err), next);
      const failures = breaker.failures + 1;
      breakers.set(name, { failures, openUntil: failures >= BREAKER_FAILURES ? now() + BREAKER_OPEN_MS : 0 });
      log.warn({ key: row.key, channel: row.channel, attempts, error: errorMessage(err), gave_up: next === null, breaker_open: failures >= BREAKER_FAILURES }, 'notification failed');
    }
  }
  return sent;
}

/**
 * Deliveries in their own lanes, one per channel: the daemon's loop kicks them and never waits for a channel,
 * and a channel whose server hangs holds up only its own lane (a shared round once made ntfy wait for the
 * webhook's timeouts).
 */
export class NotificationWorker {
  private readonly lanes = new Map<string, { running: Promise<void> | null; again: boolean }>();
  private readonly breakers = new Map<string, Breaker>();

  constructor(
    private readonly registry: Registry,
    private readonly channels: readonly NotifyChannel[],
    private readonly maxAttempts: number,
    private readonly log: Logger,
  ) {}

  kick(): void {
    const names = new Set([...this.channels.map((c) => c.name), ...this.registry.dueNotifications().map((row) => row.channel)]);
    for (const name of names) this.kickLane(name);
  }

  private kickLane(name: string): void {
    const lane = this.lanes.get(name) ?? { running: null, again: false };
    this.lanes.set(name, lane);
    if (lane.running) {
      lane.again = true;
      return;
    }
    lane.running = (async () => {
      do {
        lane.again = false;
        await deliverChannel(this.registry, name, this.channels, this.maxAttempts, this.log, this.breakers).catch((err: unknown) => this.log.error({ error: errorMessage(err), channel: name }, 'notification delivery failed'));
      } while (lane.again);
    })().finally(() => {
      lane.running = null;
    });
  }

  /** Resolves when every lane's current round is over (a daemon stopping lets in-flight sends finish or time out). */
  async idle(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((lane) => lane.running ?? Promise.resolve()));
  }
}
