import { pino, type DestinationStream, type Logger } from 'pino';

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
