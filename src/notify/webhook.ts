import type { Notification, NotifyChannel } from './channel.js';
import { postJson } from './channel.js';

/** A generic JSON webhook. The delivery key lets a receiver drop a repeat after a crash mid-send. */
export function webhookChannel(url: string, token?: string): NotifyChannel {
  return {
    name: 'webhook',
    async send(n: Notification) {
      await postJson(
        url,
        { key: n.key, task_id: n.task_id, event: n.event, title: n.title, body: n.body, click_url: n.click_url, attachments: n.attachments ?? [] },
        { 'x-swarm-delivery': n.key, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      );
    },
  };
}
