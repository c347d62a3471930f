/**
 * Pure admission: how many queued tasks may start now, under the concurrency cap, the memory actually free
 * and the stagger; and, when some wait, why, in words for `swarm daemon status` and the dashboard.
 */
import { freemem } from 'node:os';

export interface AdmissionInput {
  now: number;
  queued: readonly number[];
  active: number;
  cap: number;
  staggerMs: number;
  lastStartAt: number | null;
  /** How many more agents the free memory allows now (see memoryRoom); Infinity when not watched. */
  room?: number;
}

export type Held = 'cap' | 'memory' | 'stagger';

export interface Admission {
  start: number[];
  /** When to look again (stagger, memory, or nothing to do). */
  wakeInMs: number | null;
  /** Why queued tasks are left waiting after this decision (null: none are, or none queued). */
  held: Held | null;
}

/** While memory is short, free memory is looked at again this often (it changes without any event). */
export const MEMORY_RECHECK_MS = 5_000;

export function admit(input: AdmissionInput): Admission {
  if (input.queued.length === 0) return { start: [], wakeInMs: null, held: null };
  const slots = Math.max(0, input.cap - input.active);
  const room = input.room ?? Infinity;
  const free = Math.min(slots, room);
  if (free === 0) return slots === 0 ? { start: [], wakeInMs: null, held: 'cap' } : { start: [], wakeInMs: MEMORY_RECHECK_MS, held: 'memory' };
  const heldAfter = (started: number): Held | null => (input.queued.length <= started ? null : slots <= started ? 'cap' : room <= started ? 'memory' : 'stagger');
  if (input.staggerMs <= 0) {
    const start = input.queued.slice(0, free);
    const held = heldAfter(start.length);
    return { start, wakeInMs: held === 'memory' ? MEMORY_RECHECK_MS : null, held };
  }
  const since = input.lastStartAt === null ? Infinity : input.now - input.lastStartAt;
  if (since < input.staggerMs) return { start: [], wakeInMs: input.staggerMs - since, held: 'stagger' };
  // One start per stagger window; come back for the next.
  const held = heldAfter(1);
  return { start: input.queued.slice(0, 1), wakeInMs: held === 'stagger' ? input.staggerMs : held === 'memory' ? MEMORY_RECHECK_MS : null, held };
}

/**
 * Tasks placed on hosts: each host starts its queued tasks while it has free slots (its own cap; this machine's
 * cap and memory are not theirs to use up). In queue order. Pure.
 */
export function hostStarts(queued: readonly { id: number; host: string }[], activeByHost: ReadonlyMap<string, number>, slots: Readonly<Record<string, number>>): { start: number[]; full: string[] } {
  const used = new Map(activeByHost);
  const start: number[] = [];
  const full = new Set<string>();
  for (const task of queued) {
    const have = used.get(task.host) ?? 0;
    if (have >= (slots[task.host] ?? 0)) {
      full.add(task.host);
      continue;
    }
    used.set(task.host, have + 1);
    start.push(task.id);
  }
  return { start, full: [...full] };
}

/** A host's room for one more task: free slots (its cap, and its live free memory), and whether it has the sandbox. */
export interface HostRoom {
  slots: number;
  sandbox: boolean;
}

/**
 * Where the tasks this machine has no room for go: each to the host with the most room (the config's order
 * breaks ties), while any has some; a sandboxed task only to a host with the sandbox. The rest wait here. Pure.
 */
export function overflow(waiting: readonly { id: number; sandboxed: boolean }[], free: Readonly<Record<string, HostRoom>>): { id: number; host: string }[] {
  const left = Object.fromEntries(Object.entries(free).map(([name, room]) => [name, { ...room }]));
  const placed: { id: number; host: string }[] = [];
  for (const task of waiting) {
    let best: string | null = null;
    for (const [name, room] of Object.entries(left)) {
      if (room.slots > 0 && (room.sandbox || !task.sandboxed) && (best === null || room.slots > left[best]!.slots)) best = name;
    }
    if (best === null) continue;
    left[best]!.slots -= 1;
    placed.push({ id: task.id, host: best });
  }
  return placed;
}

/** A host's free slots: its cap less what it holds, and no more than its live free memory fits (when known). Pure. */
export function hostRoom(slots: number, holding: number, freeBytes: number | null, budget: MemoryBudget): number {
  const byCap = Math.max(0, slots - holding);
  return freeBytes === null ? byCap : Math.min(byCap, memoryRoom(freeBytes, holding, budget));
}

export interface MemoryBudget {
  /** What one more agent is expected to need (the design's 3–4 GB on a JS/TS project). */
  agentBytes: number;
  /** Kept free for the rest of the machine (the editor, the browser, the agents already running growing). */
  reserveBytes: number;
}

/**
 * How many more agents fit in the memory free now. With no agent running one may always start, so a small
 * machine runs its queue one task at a time rather than never.
 */
export function memoryRoom(freeBytes: number, active: number, budget: MemoryBudget): number {
  const fit = Math.max(0, Math.floor((freeBytes - budget.reserveBytes) / budget.agentBytes));
  return active === 0 ? Math.max(1, fit) : fit;
}

const MB = 1024 ** 2;
const gb = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GB`;

/** The reason a person reads for tasks left waiting. */
export function waitReason(held: Held | null, facts: { queued: number; active: number; cap: number; freeBytes: number; budget: MemoryBudget }): string | null {
  if (held === null || facts.queued === 0) return null;
  const tasks = facts.queued === 1 ? '1 task waits' : `${facts.queued} tasks wait`;
  if (held === 'cap') return `${tasks}: ${facts.active} of ${facts.cap} agents running (the concurrency cap).`;
  if (held === 'memory') {
    return `${tasks} for memory: ${gb(facts.freeBytes)} free, and a new agent needs ${gb(facts.budget.agentBytes)} plus ${gb(facts.budget.reserveBytes)} kept free (memory.agent_mb, memory.reserve_mb in swarm.config.json).`;
  }
  return `${tasks}: starts are spaced out (stagger_ms), the next one shortly.`;
}

export function budgetFromConfig(memory: { agent_mb: number; reserve_mb: number }): MemoryBudget {
  return { agentBytes: memory.agent_mb * MB, reserveBytes: memory.reserve_mb * MB };
}

const AGENT_BYTES = 3 * 1024 ** 3;

/** Default cap: about 3 GB of free memory per agent, at least one. */
export function defaultConcurrency(freeBytes: number = freemem()): number {
  return Math.max(1, Math.floor(freeBytes / AGENT_BYTES));
}
