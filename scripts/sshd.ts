/**
 * For the tests and the hosts benchmark: a real OpenSSH server (Debian's sshd) on a loopback port, with a temporary host key and one authorized client
 * key. Its logins live in their own mount namespace where the folders named in `hide` are empty tmpfs mounts,
 * so a runner that assumes the daemon's files are reachable from the host fails as it would on another machine.
 * `clientConfig` is an ssh config file naming the host by aliases: `box` (trusted), `stranger` (host key not in
 * known_hosts), `impostor` (known_hosts holds another key for it).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { tmpdir, userInfo } from 'node:os';
import { waitFor } from '../src/wait.js';

export const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  dir: string;
  port: number;
  clientConfig: string;
  /** Stops the server and every login it started (the connections too, as a host going away would). */
  stop(): void;
  /** Starts it again on the same port and keys (the host coming back). */
  restart(): Promise<void>;
  cleanup(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Every process below `pid` (by parent PID, from /proc). */
/** The program a process runs (null once it is gone). */
function execPath(pid: number | undefined): string | null {
  try {
    return pid ? readlinkSync(`/proc/${pid}/exe`) : null;
  } catch {
    return null;
  }
}

function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** `env`: set in every login (sshd's SetEnv), e.g. another HOME for the host's user. */
export async function startSshd(options: { hide?: string[]; env?: Record<string, string> } = {}): Promise<Sshd> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'swarm-sshd-')));
  const keygen = (file: string): void => void execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'swarm-test', '-f', file]);
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'other_host_key'));
  keygen(join(dir, 'client_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  const port = await freePort();
  const user = userInfo().username;
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'MaxSessions 64',
      'MaxStartups 64',
      'LogLevel VERBOSE',
      // One line: sshd keeps the first value of a keyword.
      ...(options.env ? [`SetEnv ${Object.entries(options.env).map(([key, value]) => `${key}="${value}"`).join(' ')}`] : []),
      '',
    ].join('\n'),
  );
  const hostLine = (key: string): string => `[127.0.0.1]:${port} ${readFileSync(join(dir, `${key}.pub`), 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
  writeFileSync(join(dir, 'known_hosts'), hostLine('host_key'));
  writeFileSync(join(dir, 'known_hosts_empty'), '');
  writeFileSync(join(dir, 'empty_rc'), '');
  writeFileSync(join(dir, 'known_hosts_other'), hostLine('other_host_key'));
  const alias = (name: string, knownHosts: string): string =>
    [`Host ${name}`, '  HostName 127.0.0.1', `  Port ${port}`, `  User ${user}`, `  IdentityFile ${join(dir, 'client_key')}`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${join(dir, knownHosts)}`, '  GlobalKnownHostsFile /dev/null', ''].join('\n');
  const clientConfig = join(dir, 'ssh_config');
  writeFileSync(clientConfig, [alias('box', 'known_hosts'), alias('stranger', 'known_hosts_empty'), alias('impostor', 'known_hosts_other')].join('\n'));
  mkdirSync('/run/sshd', { recursive: true });

  let server: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', SSHD, '-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const log: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    server = child;
    // unshare execs sshd in place: the same PID, now in its own mount namespace (its program, not its title:
    // sshd rewrites its command line). The hidden folders are covered there before the port opens to anyone.
    await waitFor(() => (existsSync(`/proc/${child.pid}/ns/mnt`) && execPath(child.pid) === SSHD ? true : child.exitCode !== null ? Promise.reject(new Error(`sshd exited: ${log.join('')}`)) : undefined), { timeoutMs: 10_000, intervalMs: 10, what: 'sshd to start' });
    for (const path of options.hide ?? []) execFileSync('nsenter', ['--target', String(child.pid), '--mount', 'mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', path]);
    // The login side is a fresh machine: this one's shell start-up files (a version manager's rehash, say, which
    // waits on a lock a killed session left) are not its own.
    for (const rc of ['.bashrc', '.profile', '.bash_profile', '.bash_login'].map((name) => join(userInfo().homedir, name)).filter((path) => existsSync(path))) {
      execFileSync('nsenter', ['--target', String(child.pid), '--mount', 'mount', '--bind', join(dir, 'empty_rc'), rc]);
    }
    await waitFor(async () => ((await listening(port)) ? true : child.exitCode !== null ? Promise.reject(new Error(`sshd exited: ${log.join('')}`)) : undefined), { timeoutMs: 10_000, intervalMs: 20, what: `sshd on port ${port}` });
  };
  const stop = (): void => {
    const pid = server?.pid;
    if (!pid) return;
    for (const p of [pid, ...descendants(pid)]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    server = null;
  };
  try {
    await start();
  } catch (err) {
    // A server that did not come up leaves nothing behind: no process, no folder of keys.
    stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    port,
    clientConfig,
    stop,
    restart: start,
    cleanup: () => {
      stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
