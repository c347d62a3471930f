import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { SWARM_BIN as BIN } from '../install.js';
import type { Project } from '../config/project.js';
import { DaemonClient } from '../daemon/client.js';
import { Daemon } from '../daemon/daemon.js';
import type { DaemonStatus } from '../daemon/info.js';
import { DaemonError } from '../errors.js';
import { createLogger, fileLogger } from '../log.js';
import { isSameProcessAlive, processStartTime } from '../sessions/process.js';
import { waitFor } from '../wait.js';


/** `swarm daemon run`: the foreground daemon, until SIGTERM/SIGINT or `swarm daemon stop`. */
export async function runDaemon(project: Project, options: { logFile?: string } = {}): Promise<void> {
  const file = options.logFile ? fileLogger(options.logFile) : null;
  const log = file?.log ?? createLogger(process.stdout);
  const daemon = new Daemon(project, { log });
  await daemon.start();
  const stop = (): void => void daemon.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await daemon.stopped;
  file?.close();
}

export async function daemonStatus(project: Project): Promise<DaemonStatus | null> {
  const client = DaemonClient.find(project.paths);
  return client ? client.status() : null;
}

/** Starts the daemon in the background (logs in .swarm/daemon.log) and returns once it answers. */
export async function startDaemon(project: Project): Promise<{ status: DaemonStatus; already: boolean }> {
  const existing = await daemonStatus(project);
  if (existing) return { status: existing, already: true };
  // Where this start's lines begin: a failure prints them, never an earlier start's error.
  const logStart = existsSync(project.paths.daemonLog) ? statSync(project.paths.daemonLog).size : 0;
  const logFd = openSync(project.paths.daemonLog, 'a');
  let child;
  try {
    child = spawn(process.execPath, [BIN, 'daemon', 'run'], { cwd: project.repo.root, detached: true, stdio: ['ignore', logFd, logFd], env: { ...process.env } });
  } finally {
    closeSync(logFd);
  }
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  child.unref();
  const pid = child.pid ?? -1;
  const status = await waitFor(
    async () => {
      if (exited !== null) {
        const tail = existsSync(project.paths.daemonLog) ? readFileSync(project.paths.daemonLog).subarray(logStart).toString('utf8').trim().split('\n').slice(-8).join('\n') : '';
        throw new DaemonError('SWARM_DAEMON_START_FAILED', `The daemon exited at once (code ${String(exited)}):\n${tail}`);
      }
      const client = DaemonClient.find(project.paths);
      if (!client || client.pid !== pid) return undefined;
      return (await client.status()) ?? undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50, what: 'the daemon to answer' },
  );
  return { status, already: false };
}

/** Asks the daemon to stop and waits until its process is gone. Agents keep running in their sessions. */
export async function stopDaemon(project: Project): Promise<boolean> {
  const client = DaemonClient.find(project.paths);
  if (!client) return false;
  const start = processStartTime(client.pid);
  const asked = await client.stop();
  if (!asked) {
    if (start !== null) process.kill(client.pid, 'SIGTERM');
    else return false;
  }
  await waitFor(() => (isSameProcessAlive(client.pid, start) ? undefined : true), { timeoutMs: 20_000, what: 'the daemon to stop' });
  return true;
}
