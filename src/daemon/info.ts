import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as z from 'zod';

/** How the CLI finds the daemon: loopback port and bearer token, in a file only the user can read. */
export const DaemonInfo = z.object({
  pid: z.number().int(),
  port: z.number().int(),
  token: z.string().min(16),
  started_at: z.number().int(),
  version: z.string(),
});
export type DaemonInfo = z.infer<typeof DaemonInfo>;

export function writeDaemonInfo(file: string, info: DaemonInfo): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 });
  renameSync(tmp, file);
}

export function readDaemonInfo(file: string): DaemonInfo | null {
  try {
    const parsed = DaemonInfo.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function removeDaemonInfo(file: string, pid: number): void {
  const current = readDaemonInfo(file);
  if (current && current.pid === pid) rmSync(file, { force: true });
}

export const DaemonStatus = z.object({
  pid: z.number().int(),
  started_at: z.number().int(),
  version: z.string(),
  concurrency: z.number().int(),
  forge: z.string(),
  forge_health: z
    .object({
      ok: z.boolean(),
      why: z.string().nullable(),
      rate: z.object({ remaining: z.number(), limit: z.number(), reset_at: z.number() }).nullable(),
      graphql_remaining: z.number().nullable(),
      requests: z.number(),
      points: z.number(),
    })
    .nullable(),
  ticks: z.number().int(),
  last_tick_at: z.number().int().nullable(),
  last_tick_ms: z.number().nullable(),
  /** The longest monitor pass since the daemon started. */
  slowest_tick_ms: z.number().optional(),
  /** The longest monitor pass alone (observe, decide, act), without starting agents. */
  slowest_monitor_ms: z.number().optional(),
  sessions_watched: z.number().int(),
  /** The user service the daemon runs under (`swarm daemon install`), or null when started by hand. */
  service: z.string().nullable().optional(),
  notifications_pending: z.number().int(),
  /** Queued tasks left waiting at the last admission, and why (cap, memory, stagger), in words. */
  admission: z.object({ waiting: z.number().int(), held: z.enum(['cap', 'memory', 'stagger']).nullable(), reason: z.string().nullable() }).optional(),
  /** Each host in the config: its tasks running and waiting, its slots, and whether it answered at the last pass. */
  hosts: z.array(z.object({ name: z.string(), ssh: z.string(), active: z.number().int(), queued: z.number().int(), slots: z.number().int(), unreachable_since: z.number().nullable() })).optional(),
  clusters: z.array(z.object({ name: z.string(), active: z.number().int(), queued: z.number().int(), slots: z.number().int(), waiting: z.array(z.object({ task: z.number().int(), why: z.string() })) })).optional(),
  /** Where the dashboard answers (loopback, and dashboard.host), its public address if configured, and how to sign in. */
  dashboard: z.object({ url: z.string().nullable(), public_url: z.string().nullable(), signin: z.string() }).optional(),
});
export type DaemonStatus = z.infer<typeof DaemonStatus>;
