import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// zod's mini build: the session holder (one per agent) bundles only what these schemas use (see holder.ts).
import * as z from 'zod/mini';
import type { $ZodType } from 'zod/v4/core';
import { NetSpec } from '../sandbox/netbridge.js';

/** What the session holder is told to run. Written by the daemon before the holder starts. */
export const SessionSpec = z.object({
  argv: z.array(z.string()).check(z.minLength(1)),
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
  cols: z._default(z.int().check(z.positive()), 120),
  rows: z._default(z.int().check(z.positive()), 40),
  /** Bytes of recent output kept in memory: the screen a client asks for is rebuilt from them. */
  scrollback_bytes: z._default(z.int().check(z.positive()), 256 * 1024),
  /** The transcript is rotated past this size (one older part kept): an agent printing without end fills no disk. */
  transcript_max_bytes: z._default(z.int().check(z.positive()), 64 * 1024 * 1024),
  /** Marker in every process of the session's environment (see tree.ts). */
  key: z._default(z.string(), ''),
  /** The outside half of an endpoints-only sandbox network (sandbox/netbridge.ts). */
  net: z.optional(NetSpec),
});
export type SessionSpec = z.infer<typeof SessionSpec>;

/** Written by the holder once the child runs: who to check for liveness, where to attach. */
export const SessionState = z.object({
  holder_pid: z.int(),
  holder_start: z.string(),
  child_pid: z.int(),
  child_start: z.nullable(z.string()),
  socket: z.string(),
  started_at: z.int(),
});
export type SessionState = z.infer<typeof SessionState>;

/** Written atomically by the holder when the child has exited; survives any daemon restart. */
export const SessionExit = z.object({
  exit_code: z.nullable(z.int()),
  signal: z.nullable(z.string()),
  ended_at: z.int(),
  error: z.optional(z.string()),
});
export type SessionExit = z.infer<typeof SessionExit>;

/** JSON lines over the holder's unix socket. */
export const ClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('input'), data: z.string() }),
  /** Asks for the current screen (serialized), answered with a `replay` before any further output. */
  z.object({ t: z.literal('screen') }),
  z.object({ t: z.literal('resize'), cols: z.int().check(z.positive()), rows: z.int().check(z.positive()) }),
  z.object({ t: z.literal('kill'), signal: z._default(z.enum(['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP']), 'SIGTERM') }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export const HolderMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('replay'), data: z.string() }),
  z.object({ t: z.literal('output'), data: z.string() }),
  z.object({ t: z.literal('exit'), exit_code: z.nullable(z.int()), signal: z.nullable(z.string()) }),
]);
export type HolderMessage = z.infer<typeof HolderMessage>;

/**
 * A `data` handler for a utf8 socket carrying JSON lines: each complete line that parses and matches `schema`
 * goes to `onMessage`; anything else (a torn line from a dying peer, junk) is dropped.
 */
export function jsonLines<T>(schema: $ZodType<T>, onMessage: (message: T) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (!line.trim()) continue;
      try {
        const parsed = z.safeParse(schema, JSON.parse(line));
        if (parsed.success) onMessage(parsed.data);
      } catch {
        // not JSON: dropped
      }
    }
  };
}

export const SESSION_FILES = {
  spec: 'spec.json',
  state: 'state.json',
  exit: 'exit.json',
  transcript: 'transcript.log',
  holderLog: 'holder.log',
  prompt: 'prompt.md',
} as const;

/** Unix socket paths are limited to ~104 bytes: long session dirs get a short hashed path under the temp dir. */
export function socketPathFor(sessionDir: string): string {
  const direct = join(sessionDir, 'pty.sock');
  if (Buffer.byteLength(direct) < 100) return direct;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const hash = createHash('sha256').update(sessionDir).digest('hex').slice(0, 16);
  return join(tmpdir(), `swarm-${uid}`, `${hash}.sock`);
}

/**
 * The shared folder for long socket paths is trusted only if it is ours and closed to others: another user
 * could have made /tmp/swarm-<uid> first and listen where our holder would. Creates it 0700 when missing.
 */
export function checkSocketDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : stat.uid;
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) {
    throw new Error(`${dir} is not a private folder of this user (owner ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}): refusing to put session sockets there. Remove it, or use a shorter path for the repository.`);
  }
}
