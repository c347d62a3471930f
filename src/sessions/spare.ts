/**
 * One session holder started ahead of need. A holder is a Node process: on this machine Node alone takes
 * ~100 ms to start and the holder's modules (node-pty, its bundle) ~40 ms more, all on the path from a spawn
 * to a running agent. The spare pays that before the task arrives; a launch hands it its session folder.
 *
 * The spare reads the folder from its stdin (a pipe from the daemon) and then lets go of it. Until then the
 * daemon holds the other end: a daemon that stops or dies closes it, and the spare, having nothing to hold,
 * exits, so no idle holder outlives its daemon. Its own output goes to a log file in the state folder
 * (`.swarm/`, not `sessions/`, where every entry is a session), renamed into the session folder as
 * holder.log when it is handed one (an open file survives a rename).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { SESSION_FILES } from './protocol.js';

export interface Spare {
  child: ChildProcess;
  /** Its log file until it is handed a session. */
  logFile: string;
}

const LOG_PREFIX = 'spare-holder-';

/** After this many spares died unused in a row, no more are made: every launch starts its own holder. */
const MAX_FAILURES = 3;

export class SpareHolder {
  private spare: Spare | null = null;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly holderScript: string,
    /** Where a waiting spare's log lives: on the sessions' file system. */
    private readonly logDir: string,
    private readonly log: Logger,
  ) {
    // Logs of an earlier daemon's spares that died unused: told then, not needed now.
    try {
      for (const name of readdirSync(logDir)) if (name.startsWith(LOG_PREFIX)) rmSync(join(logDir, name), { force: true });
    } catch {
      // no state folder yet: nothing to tidy
    }
  }

  /** The waiting spare's PID, or null. */
  get pid(): number | null {
    return this.spare?.child.pid ?? null;
  }

  /** Starts a spare when none is waiting. */
  fill(): void {
    if (this.spare || this.stopped || this.failures >= MAX_FAILURES) return;
    const logFile = join(this.logDir, `${LOG_PREFIX}${randomBytes(4).toString('hex')}.log`);
    let child: ChildProcess;
    const fd = openSync(logFile, 'a', 0o600);
    try {
      child = spawn(process.execPath, [this.holderScript, '--spare'], { detached: true, stdio: ['pipe', fd, fd], cwd: this.logDir });
    } catch (err) {
      this.failed(logFile, errorMessage(err));
      return;
    } finally {
      closeSync(fd);
    }
    child.unref();
    const spare: Spare = { child, logFile };
    // A write to a spare that died in between is answered by its exit, not by an EPIPE crash.
    child.stdin?.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      if (this.spare !== spare) return; // handed over: its session's business now
      this.spare = null;
      if (!this.stopped) this.failed(logFile, `exit code ${String(code)}${signal ? `, ${signal}` : ''}`);
    });
    child.once('error', (err) => {
      if (this.spare !== spare) return;
      this.spare = null;
      this.failed(logFile, err.message);
    });
    this.spare = spare;
  }

  private failed(logFile: string, why: string): void {
    this.failures++;
    this.log.warn({ why, log: logFile, failures: this.failures }, this.failures >= MAX_FAILURES ? 'spare session holders keep dying; each launch starts its own holder from now on' : 'a spare session holder died before use; starting another');
    if (this.failures < MAX_FAILURES) this.fill();
  }

  /**
   * Hands the waiting spare the session folder (whose spec.json is written): the spare, or null when none
   * waits. A spare still loading takes it too, as soon as it has loaded; never later than a holder started now.
   */
  handOver(dir: string): Spare | null {
    const spare = this.spare;
    if (!spare || spare.child.exitCode !== null || spare.child.signalCode !== null || !spare.child.stdin?.writable) return null;
    this.spare = null;
    try {
      renameSync(spare.logFile, join(dir, SESSION_FILES.holderLog));
    } catch {
      // its log stays beside the sessions; the holder logs into the session folder itself
    }
    spare.child.stdin.end(`${dir}\n`);
    this.failures = 0;
    return spare;
  }

  /** Daemon stop: the spare exits when its stdin closes. */
  stop(): void {
    this.stopped = true;
    const spare = this.spare;
    this.spare = null;
    if (!spare) return;
    spare.child.stdin?.end();
    rmSync(spare.logFile, { force: true });
  }
}
