/**
 * The outside half of the endpoints-only network, run by the session holder (it lives as long as the agent):
 * unix sockets in a folder the sandbox sees as /run/swarm-net. `proxy.sock` is an HTTPS proxy that lets a
 * CONNECT through only to an allowed host:port and answers anything else with 403 and the reason;
 * `port-N.sock` carries a forwarded loopback port (a local model server) to 127.0.0.1:N.
 * The inside half is netbridge-inside.ts.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { allowedTarget } from './endpoints.js';
import { joinSockets } from './pipe.js';

export const NetSpec = z.object({
  /** Folder of the unix sockets (bound into the sandbox at /run/swarm-net). */
  dir: z.string(),
  hosts: z.array(z.string()),
  loopback: z.array(z.int().check(z.positive())),
});
export type NetSpec = z.infer<typeof NetSpec>;

export const INSIDE_DIR = '/run/swarm-net';
export const PROXY_PORT = 3128;

function refuse(socket: Socket, status: string, why: string): void {
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(why)}\r\n\r\n${why}`);
}

/** Reads one request head; CONNECT to an allowed target is joined to it, anything else refused in words. */
function proxyConnection(socket: Socket, hosts: readonly string[], log: (line: string) => void): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) {
      if (head.length > 16 * 1024) refuse(socket, '431 Request Header Fields Too Large', 'swarm sandbox: request head too large\n');
      return;
    }
    socket.off('data', onData);
    const [method, target] = head.subarray(0, end).toString('latin1').split('\r\n')[0]!.split(' ');
    if (method !== 'CONNECT' || !target) {
      refuse(socket, '405 Method Not Allowed', 'swarm sandbox: only HTTPS (CONNECT) goes through this proxy\n');
      return;
    }
    if (!allowedTarget(target, hosts)) {
      log(`refused CONNECT ${target}`);
      refuse(socket, '403 Forbidden', `swarm sandbox: ${target} is not among this agent's allowed endpoints (${hosts.join(', ') || 'none'}); add it to the agent's "network_allow" in swarm.config.json\n`);
      return;
    }
    const [host, port] = [target.slice(0, target.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(target.slice(target.lastIndexOf(':') + 1))];
    const upstream = connect({ host, port }, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      const rest = head.subarray(end + 4);
      if (rest.length) upstream.write(rest);
      joinSockets(socket, upstream);
    });
    upstream.once('error', (err) => refuse(socket, '502 Bad Gateway', `swarm sandbox: ${target}: ${err.message}\n`));
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

/** Starts the outside half; resolves once every socket listens. */
export async function startHostBridge(spec: NetSpec, log: (line: string) => void = () => undefined): Promise<Server[]> {
  mkdirSync(spec.dir, { recursive: true, mode: 0o700 });
  const listen = (path: string, onConnection: (socket: Socket) => void): Promise<Server> =>
    new Promise((resolve, reject) => {
      rmSync(path, { force: true });
      const server = createServer(onConnection);
      server.once('error', reject);
      server.listen(path, () => resolve(server));
    });
  const servers = [await listen(join(spec.dir, 'proxy.sock'), (socket) => proxyConnection(socket, spec.hosts, log))];
  for (const port of spec.loopback) {
    servers.push(
      await listen(join(spec.dir, `port-${port}.sock`), (socket) => {
        const upstream = connect({ host: '127.0.0.1', port });
        upstream.once('connect', () => joinSockets(socket, upstream));
        upstream.once('error', () => socket.destroy());
      }),
    );
  }
  return servers;
}

/** The variables that send an agent's HTTPS through the bridge, loopback straight to the forwarded ports. */
export function proxyEnv(): Record<string, string> {
  const proxy = `http://127.0.0.1:${PROXY_PORT}`;
  const direct = '127.0.0.1,localhost,::1';
  return { HTTPS_PROXY: proxy, https_proxy: proxy, HTTP_PROXY: proxy, http_proxy: proxy, NO_PROXY: direct, no_proxy: direct };
}
