/**
 * The inside half of the endpoints-only network: runs first inside the sandbox (which has only loopback),
 * listens on 127.0.0.1 (the proxy port, each forwarded port) and carries each connection to its unix socket
 * in /run/swarm-net, then runs the agent in the same terminal and ends as it ends.
 * Usage: netbridge-inside.js --dir D --proxy-port P [--forward N]... -- argv...
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type Server } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import { joinSockets } from './pipe.js';

function parse(args: string[]): { dir: string; proxyPort: number; forward: number[]; argv: string[] } {
  const split = args.indexOf('--');
  const options = split === -1 ? args : args.slice(0, split);
  const argv = split === -1 ? [] : args.slice(split + 1);
  let dir = '/run/swarm-net';
  let proxyPort = 3128;
  const forward: number[] = [];
  for (let i = 0; i < options.length; i++) {
    const value = options[i + 1] ?? '';
    if (options[i] === '--dir') dir = value;
    else if (options[i] === '--proxy-port') proxyPort = Number(value);
    else if (options[i] === '--forward') forward.push(Number(value));
    else continue;
    i++;
  }
  return { dir, proxyPort, forward, argv };
}

function relay(port: number, socketPath: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((client) => joinSockets(client, connect(socketPath)));
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function main(): Promise<void> {
  const { dir, proxyPort, forward, argv } = parse(process.argv.slice(2));
  if (argv.length === 0) {
    process.stderr.write('netbridge-inside: nothing to run (expected -- argv...)\n');
    process.exit(2);
  }
  await relay(proxyPort, join(dir, 'proxy.sock'));
  for (const port of forward) await relay(port, join(dir, `port-${port}.sock`));
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`swarm: could not start ${argv[0]}: ${err.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    process.exit(signal ? 128 + (constants.signals[signal] ?? 1) : (code ?? 1));
  });
}

void main();
