import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Notification, NotifyChannel } from './channel.js';
import { postJson } from './channel.js';

/** ntfy.sh's default attachment limit. */
const ATTACHMENT_MAX_BYTES = 15 * 1024 * 1024;

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
      const sequence = { 'x-sequence-id': `swarm-${n.key.replace(/[^A-Za-z0-9_-]/g, '-')}`, ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) };
      const attachment = n.attachments?.find((file) => existsSync(file) && statSync(file).size <= ATTACHMENT_MAX_BYTES);
      if (attachment) {
        // ntfy attaches a file sent as the body of a PUT; the rest of the message goes as query parameters.
        const more = (n.attachments?.length ?? 1) - 1;
        const params = new URLSearchParams({ title: n.title, message: `${n.body}${more ? `\n(+${more} more in the task's checkout)` : ''}`, filename: basename(attachment), tags: n.event === 'ready' ? 'white_check_mark' : 'warning', priority: String(options.priority ?? 3), ...(click ? { click } : {}) });
        const response = await fetch(`${options.server.replace(/\/+$/, '')}/${encodeURIComponent(options.topic)}?${params.toString()}`, { method: 'PUT', headers: sequence, body: readFileSync(attachment), signal: AbortSignal.timeout(30_000) });
        if (!response.ok) throw new Error(`HTTP ${response.status} from ${new URL(options.server).origin}: ${(await response.text().catch(() => '')).slice(0, 200)}`);
        await response.arrayBuffer();
        return;
      }
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
        sequence,
      );
    },
  };
}
