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
        options.token ? { authorization: `Bearer ${options.token}` } : {},
      );
    },
  };
}
