import { describe, expect, it } from 'vitest';
import { SwarmConfig } from '../../src/config/schema.js';
import { channelsFromConfig, taskPageUrl } from '../../src/notify/outbox.js';
import { receiver } from '../helpers/sample.js';

describe('notification click URLs with dashboard.public_url', () => {
  it.each([
    ['https://box.tail.ts.net', 7, 'https://box.tail.ts.net/tasks/7'],
    ['https://box.tail.ts.net/', 7, 'https://box.tail.ts.net/tasks/7'],
    ['https://host/swarm', 12, 'https://host/swarm/tasks/12'],
  ] as const)('%s + task %d -> %s', (base, id, url) => {
    expect(taskPageUrl(base, id)).toBe(url);
  });

  it("ntfy's Click header and the webhook's click_url open the task page on the phone", async () => {
    const server = await receiver();
    try {
      const config = SwarmConfig.parse({ notify: { desktop: false, ntfy: { server: server.url, topic: 't' }, webhook: { url: `${server.url}/hook` } }, dashboard: { public_url: 'https://box.tail.ts.net' } });
      for (const channel of channelsFromConfig(config, {})) await channel.send({ key: 'k', task_id: 5, event: 'ready', title: 'Task 5 ready', body: 'b', click_url: null });
      const ntfy = server.received.find((r) => r.path !== '/hook')!;
      const hook = server.received.find((r) => r.path === '/hook')!;
      expect(JSON.stringify(ntfy.body) + JSON.stringify(ntfy.headers)).toContain('https://box.tail.ts.net/tasks/5');
      expect(hook.body.click_url).toBe('https://box.tail.ts.net/tasks/5');
    } finally {
      await server.close();
    }
  });

  it('without public_url nothing is made up', async () => {
    const server = await receiver();
    try {
      const config = SwarmConfig.parse({ notify: { desktop: false, webhook: { url: `${server.url}/hook` } } });
      for (const channel of channelsFromConfig(config, {})) await channel.send({ key: 'k', task_id: 5, event: 'ready', title: 't', body: 'b', click_url: null });
      expect(server.received[0]!.body.click_url).toBeNull();
    } finally {
      await server.close();
    }
  });
});
