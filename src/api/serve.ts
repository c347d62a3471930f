/** Starts the daemon's HTTP server on the configured address, at the port the last start used when it can. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Project } from '../config/project.js';
import { ConfigError } from '../errors.js';
import { allowedHosts, loadOrCreateKey, Tickets } from './auth.js';
import { Live } from './live.js';
import type { ApiContext } from './routes.js';
import { createApiServer } from './server.js';
import type { TerminalStats } from './terminal.js';
import type { Status } from './schemas.js';

export interface ApiHost {
  port: number;
  web(): Status['web'];
  live: Live;
  terminals: TerminalStats;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(address.port);
    });
  });
}

function rememberedPort(file: string): number {
  try {
    const port = Number((JSON.parse(readFileSync(file, 'utf8')) as { port?: unknown }).port);
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : 0;
  } catch {
    return 0;
  }
}

export async function serveApi(project: Project, token: string, context: Omit<ApiContext, 'project' | 'lines' | 'ticket'>): Promise<ApiHost> {
  const { config, paths } = project;
  const { host, port: configured, public_url: publicUrl } = config.dashboard;
  const portFile = join(paths.dir, 'dashboard.json');
  const live = new Live(project, () => context.status());
  const tickets = new Tickets();
  const terminals: TerminalStats = { bytes: 0, open: 0, screens: 0 };
  const hosts = new Set<string>();
  let port = 0;
  const api: ApiContext = {
    ...context,
    project,
    lines: live.lines,
    // The CLI asking runs on this machine: its browser reaches loopback, which is always served.
    ticket: () => {
      const ticket = tickets.issue(Date.now());
      return { ticket, url: `http://127.0.0.1:${port}/login?ticket=${ticket}` };
    },
  };
  const deps = { api, live, token, key: loadOrCreateKey(join(paths.dir, 'dashboard.key')), tickets, hosts, secureCookie: publicUrl?.startsWith('https:') ?? false, terminals };
  // Loopback always (the CLI's way in); a configured other address as well, never all interfaces unless named.
  const wildcard = host === '0.0.0.0' || host === '::';
  const addresses = wildcard || LOOPBACK.has(host) ? [host] : ['127.0.0.1', host];
  const servers = addresses.map(() => createApiServer(deps));
  const wanted = configured || rememberedPort(portFile);
  try {
    port = await listenOn(servers[0]!, wanted, addresses[0]!);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (configured) throw new ConfigError(`The dashboard cannot listen on ${addresses[0]!}:${configured} (${code ?? String(err)}). Free the port or change dashboard.port in swarm.config.json (0 picks a free one).`);
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw new ConfigError(`The daemon cannot listen on ${addresses[0]!} (${code ?? String(err)}). Check dashboard.host in swarm.config.json.`);
    port = await listenOn(servers[0]!, 0, addresses[0]!);
  }
  if (servers[1]) {
    try {
      await listenOn(servers[1], port, addresses[1]!);
    } catch (err) {
      servers[0]!.close();
      throw new ConfigError(`The dashboard cannot listen on ${host}:${port} (${(err as NodeJS.ErrnoException).code ?? String(err)}). Is ${host} an address of this machine? Check dashboard.host in swarm.config.json.`);
    }
  }
  for (const allowed of allowedHosts({ port, host, publicUrl })) hosts.add(allowed);
  writeFileSync(portFile, JSON.stringify({ port }), { mode: 0o600 });
  live.start();
  return {
    port,
    web: () => ({ streams: live.clientCount, terminals: terminals.open, stream_bytes: live.bytesSent, terminal_bytes: terminals.bytes, terminal_screens: terminals.screens }),
    live,
    terminals,
    close: async () => {
      live.stop();
      await Promise.all(
        servers.map((server) => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.emit('terminate-sockets');
          server.closeAllConnections();
          return closed;
        }),
      );
    },
  };
}
