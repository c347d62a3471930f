/** Pure admission: how many queued tasks may start now, under the concurrency cap and the stagger. */
import { freemem } from 'node:os';

export interface AdmissionInput {
  now: number;
  queued: readonly number[];
  active: number;
  cap: number;
  staggerMs: number;
  lastStartAt: number | null;
}

export interface Admission {
  start: number[];
  /** When to look again (stagger or nothing to do). */
  wakeInMs: number | null;
}

export function admit(input: AdmissionInput): Admission {
  const free = Math.max(0, input.cap - input.active);
  if (free === 0 || input.queued.length === 0) return { start: [], wakeInMs: null };
  if (input.staggerMs <= 0) return { start: input.queued.slice(0, free), wakeInMs: null };
  const since = input.lastStartAt === null ? Infinity : input.now - input.lastStartAt;
  if (since < input.staggerMs) return { start: [], wakeInMs: input.staggerMs - since };
  // One start per stagger window; come back for the next.
  return { start: input.queued.slice(0, 1), wakeInMs: free > 1 && input.queued.length > 1 ? input.staggerMs : null };
}

const AGENT_BYTES = 3 * 1024 ** 3;

/** Default cap: about 3 GB of free memory per agent, at least one. */
export function defaultConcurrency(freeBytes: number = freemem()): number {
  return Math.max(1, Math.floor(freeBytes / AGENT_BYTES));
}
