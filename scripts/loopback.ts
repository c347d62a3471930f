import type { Server } from 'node:net';

/** Listens on an ephemeral port of 127.0.0.1 and returns the server's http:// URL (loopback servers in tests, benches). */
export async function listenLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the loopback server has no address');
  return `http://127.0.0.1:${address.port}`;
}
