/**
 * The system's OpenSSH client, run as the user runs it: their ~/.ssh/config, agent, keys and ProxyJump apply.
 * swarm adds only what a daemon needs: never a prompt (BatchMode), never a host key accepted without the user
 * (StrictHostKeyChecking=yes: an unknown or changed key is refused and said), and one multiplexed connection
 * per host (ControlMaster), so a monitor pass over twenty remote tasks costs no twenty handshakes.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { HostConfig } from '../../config/schema.js';

/** What ssh needs of a host: where, and which config file. */
export type SshTarget = Pick<HostConfig, 'ssh'> & { ssh_config?: string | undefined };

/** Quotes one argument for the remote POSIX shell (ssh hands the host one command line). Pure. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:@%+,-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** A remote command line from an argument array: each argument quoted, so nothing in one is read as shell. */
export function remoteCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** Unix sockets have a short path limit (104 bytes on macOS): the control socket goes where its path fits. */
export function controlDir(stateDir: string): string {
  const preferred = join(stateDir, 'ssh');
  // The socket's name is 24 characters; leave room for ssh's temporary suffix.
  return preferred.length + 1 + 24 + 20 < 100 ? preferred : join(tmpdir(), `wts-ssh-${userInfo().uid}`);
}

/**
 * One shared connection per ssh invocation swarm makes (destination and config file), not per address: ssh's own
 * %C names a socket by address, so two aliases of one machine with different known_hosts would share a login
 * the second never checked the key of.
 */
export function controlPath(host: SshTarget, stateDir: string): string {
  const id = createHash('sha256').update(JSON.stringify([host.ssh, host.ssh_config ?? ''])).digest('hex').slice(0, 24);
  return join(controlDir(stateDir), id);
}

/** The ssh argv for a host, before the remote command. */
export function sshArgv(host: SshTarget, stateDir: string, extra: readonly string[] = []): string[] {
  return [
    'ssh',
    ...(host.ssh_config ? ['-F', host.ssh_config] : []),
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'ControlMaster=auto',
    '-o', `ControlPath=${controlPath(host, stateDir)}`,
    '-o', 'ControlPersist=600',
    '-o', 'ConnectTimeout=10',
    '-o', 'ServerAliveInterval=15',
    '-o', 'ServerAliveCountMax=2',
    '-o', 'LogLevel=ERROR',
    ...extra,
    '--',
    host.ssh,
  ];
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Why ssh could not reach the host, in words with what to do; null when it is the remote command that failed. */
export function sshTrouble(name: string, host: SshTarget, result: SshResult): string | null {
  if (result.code !== 255) return null;
  const said = result.stderr.trim();
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(said)) {
    return `host ${name} (${host.ssh}) offered a different host key than the one you trusted. swarm never accepts a changed key: if the machine was reinstalled, check its new fingerprint and fix ~/.ssh/known_hosts (\`ssh-keygen -R\`); otherwise someone may be in the middle.`;
  }
  if (/Host key verification failed|No .* host key is known/i.test(said)) {
    return `host ${name} (${host.ssh}) is not trusted yet: its host key is not in your known_hosts. Run \`ssh ${host.ssh}\` once yourself, check the fingerprint, and accept it.`;
  }
  if (/Permission denied/i.test(said)) {
    return `host ${name} (${host.ssh}) refused the login (${said.split('\n').at(-1)}). swarm logs in with your keys or ssh agent, never a password: add your key to the host's authorized_keys (\`ssh-copy-id ${host.ssh}\`).`;
  }
  if (/Could not resolve hostname|Connection refused|Connection timed out|No route to host|Network is unreachable|Connection closed|Connection reset|timed out/i.test(said) || said === '') {
    return `host ${name} (${host.ssh}) cannot be reached: ${said.split('\n').at(-1) || 'the connection ended'}. Is it on, and is its ssh server running?`;
  }
  return `ssh to host ${name} (${host.ssh}) failed: ${said.split('\n').at(-1)}`;
}

/** Runs `argv` on the host (quoted), `input` on its stdin; resolves with its exit and output (255: ssh's own failure). */
export function runOnHost(host: SshTarget, stateDir: string, argv: readonly string[], options: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<SshResult> {
  mkdirSync(controlDir(stateDir), { recursive: true, mode: 0o700 });
  const args = [...sshArgv(host, stateDir).slice(1), remoteCommand(argv)];
  return new Promise((resolve) => {
    const child = execFile('ssh', args, { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'buffer', env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 255) : 0;
      const timedOut = err !== null && (err as { killed?: boolean }).killed === true;
      resolve({ code: timedOut ? 255 : code, stdout: stdout.toString('utf8'), stderr: timedOut ? `${stderr.toString('utf8')}\nConnection timed out (no answer in ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s)` : stderr.toString('utf8') });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

/** Closes the host's shared connection (the daemon stopping, a test ending). */
export function closeHost(host: SshTarget, stateDir: string): Promise<SshResult> {
  return new Promise((resolve) => {
    execFile('ssh', [...sshArgv(host, stateDir, ['-O', 'exit']).slice(1)], { timeout: 10_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout: String(stdout), stderr: String(stderr) }));
  });
}
