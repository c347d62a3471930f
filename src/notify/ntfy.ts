import type { Notification, NotifyChannel } from './channel.js';
import { postJson } from './channel.js';

export interface NtfyOptions {
  server: string;
  topic: string;
  token?: string;
  clickUrl?: string;
  priority?: number;
}

/** ntfy's JSON publishing: POST to the server root with the topic in the body. */
export function ntfyChannel(options: NtfyOptions): NotifyChannel {
  return {
    name: 'ntfy',
    async send(n: Notification) {
      const click = n.click_url ?? options.clickUrl;
      await postJson(
        options.server.replace(/\/+$/, '') + '/',
        {
          topic: options.topic,
          title: n.title,
          message: n.body,
          tags: [n.event === 'ready' ? 'white_check_mark' : 'warning'],
          priority: options.priority ?? (n.event === 'needs_help' ? 4 : 3),
          ...(click ? { click } : {}),
        },
        // ntfy 2.16+ treats a repeat with the same sequence id as an update of the same notification, so a
        // resend after a crash does not buzz twice; older servers show it twice.
        { 'x-sequence-id': `swarm-${n.key.replace(/[^A-Za-z0-9_-]/g, '-')}`, ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      );
    },
  };
}
