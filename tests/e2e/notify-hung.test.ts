import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/wait.js';
import { agentCommand, openRegistry, receiver, runDaemon, SAMPLE_CI, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';
import { listenLoopback } from '../../scripts/loopback.js';

/** A notification server that accepts every connection and never answers a byte. */
async function blackHole(): Promise<{ url: string; connections: () => number; open: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((socket) => {
    // Each connection is held open, unanswered, until the test ends.
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const base = await listenLoopback(server);
  return {
    url: `${base}/hook`,
    connections: () => count,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('a hung notification channel', () => {
  let box: Sandbox;
  let daemon: DaemonProcess | null = null;
  afterEach(() => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    box.cleanup();
  });

  it('never stalls the loop or a healthy channel: 8 tasks finish while the webhook never answers, and every ntfy message arrives while it is still hung', async () => {
    box = sandbox('hung');
    const hole = await blackHole();
    const ntfy = await receiver();
    try {
      writeConfig(box, {
        agents: { right: { command: agentCommand('fixer-right.mjs'), env: { AGENT_RECORD_DIR: box.records } } },
        ci: { command: SAMPLE_CI },
        concurrency: 8,
        notify: { desktop: false, webhook: { url: hole.url }, ntfy: { server: ntfy.url, topic: 'swarm-test' } },
      });
      daemon = await runDaemon(box);
      const ids: number[] = [];
      for (let i = 0; i < 8; i++) ids.push((JSON.parse((await swarm(box.repo, ['spawn', '--json', `Fix addNumbers ${i}`])).stdout) as { id: number }).id);
      for (const id of ids) await waitForState(box, id, 'ready', 90_000);
      // The healthy channel is not held up by the hung one: every ntfy message arrives while the webhook is
      // still hung (its sends never answered, none marked sent, its connections still open).
      await waitFor(() => (ntfy.received.length >= 8 ? true : undefined), { timeoutMs: 60_000, what: 'eight ntfy messages' });
      expect(hole.connections()).toBeGreaterThan(0);
      const during = openRegistry(box);
      expect(during.notifications().filter((n) => n.channel === 'webhook' && n.status === 'sent')).toHaveLength(0);
      during.close();
      // ntfy repeats carry a stable sequence id (ntfy 2.16+ updates instead of buzzing twice).
      expect(new Set(ntfy.received.map((r) => r.headers['x-sequence-id'])).size).toBe(8);
      const registry = openRegistry(box);
      expect(registry.notifications().filter((n) => n.channel === 'webhook' && n.status === 'sent')).toHaveLength(0);
      registry.close();
    } finally {
      await hole.close();
      await ntfy.close();
    }
  });
});
