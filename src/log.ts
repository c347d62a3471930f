import { existsSync, renameSync, statSync } from 'node:fs';
import { destination as pinoDestination, pino, type DestinationStream, type Logger } from 'pino';

/** The logger takes its output stream as a parameter, so tests can read what it wrote. */
export function createLogger(destination: DestinationStream | NodeJS.WritableStream = process.stdout, level = process.env.SWARM_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      // Tokens never reach a log line, whatever a caller passes.
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
    },
    destination,
  );
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Shifts `file` to `file.1` (`.1` to `.2`, …, the oldest dropped) once it is past `maxBytes`. True if it did. */
export function rotateLog(file: string, maxBytes = 10 * 1024 * 1024, keep = 3): boolean {
  if (!existsSync(file) || statSync(file).size < maxBytes) return false;
  for (let i = keep - 1; i >= 1; i--) if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
  renameSync(file, `${file}.1`);
  return true;
}

/** A logger writing to a file it rotates itself (where no journal does it: a LaunchAgent's log). */
export function fileLogger(file: string, options: { maxBytes?: number; keep?: number; checkMs?: number } = {}): { log: Logger; close: () => void } {
  rotateLog(file, options.maxBytes, options.keep);
  const destination = pinoDestination({ dest: file, mkdir: true, sync: false });
  const timer = setInterval(() => {
    if (rotateLog(file, options.maxBytes, options.keep)) destination.reopen();
  }, options.checkMs ?? 10 * 60_000);
  timer.unref();
  return {
    log: createLogger(destination),
    close: () => {
      clearInterval(timer);
      destination.flushSync();
    },
  };
}
