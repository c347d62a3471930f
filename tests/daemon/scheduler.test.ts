import { describe, expect, it } from 'vitest';
import { admit, defaultConcurrency, MEMORY_RECHECK_MS, memoryRoom, waitReason, hostStarts, hostRoom, overflow } from '../../src/daemon/scheduler.js';

const GB = 1024 ** 3;

describe('admit', () => {
  const cases: [string, Parameters<typeof admit>[0], ReturnType<typeof admit>][] = [
    ['nothing queued', { now: 0, queued: [], active: 0, cap: 4, staggerMs: 0, lastStartAt: null }, { start: [], wakeInMs: null, held: null }],
    ['at the cap', { now: 0, queued: [1, 2], active: 4, cap: 4, staggerMs: 0, lastStartAt: null }, { start: [], wakeInMs: null, held: 'cap' }],
    ['no stagger: fill the free slots in order', { now: 0, queued: [3, 4, 5], active: 2, cap: 4, staggerMs: 0, lastStartAt: null }, { start: [3, 4], wakeInMs: null, held: 'cap' }],
    ['no stagger: all fit', { now: 0, queued: [3], active: 2, cap: 4, staggerMs: 0, lastStartAt: null }, { start: [3], wakeInMs: null, held: null }],
    ['stagger: one now, come back for the next', { now: 10_000, queued: [3, 4], active: 0, cap: 4, staggerMs: 1_500, lastStartAt: null }, { start: [3], wakeInMs: 1_500, held: 'stagger' }],
    ['stagger: too soon after the last start', { now: 10_000, queued: [3], active: 0, cap: 4, staggerMs: 1_500, lastStartAt: 9_000 }, { start: [], wakeInMs: 500, held: 'stagger' }],
    ['stagger: last free slot needs no wake-up', { now: 10_000, queued: [3, 4], active: 3, cap: 4, staggerMs: 1_500, lastStartAt: 0 }, { start: [3], wakeInMs: null, held: 'cap' }],
    ['memory: room for one of three slots', { now: 0, queued: [3, 4, 5], active: 1, cap: 4, staggerMs: 0, lastStartAt: null, room: 1 }, { start: [3], wakeInMs: MEMORY_RECHECK_MS, held: 'memory' }],
    ['memory: no room, look again soon', { now: 0, queued: [3], active: 1, cap: 4, staggerMs: 0, lastStartAt: null, room: 0 }, { start: [], wakeInMs: MEMORY_RECHECK_MS, held: 'memory' }],
    ['memory: the cap is the tighter limit', { now: 0, queued: [3, 4], active: 3, cap: 4, staggerMs: 0, lastStartAt: null, room: 5 }, { start: [3], wakeInMs: null, held: 'cap' }],
    ['memory with stagger: one start, then memory holds', { now: 10_000, queued: [3, 4], active: 0, cap: 4, staggerMs: 1_500, lastStartAt: null, room: 1 }, { start: [3], wakeInMs: MEMORY_RECHECK_MS, held: 'memory' }],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(admit(input)).toEqual(expected);
  });
});

describe('defaultConcurrency', () => {
  it.each([
    [0, 1],
    [2 * GB, 1],
    [6.5 * GB, 2],
    [24 * GB, 8],
  ])('%d bytes free -> %d agents', (free, expected) => {
    expect(defaultConcurrency(free)).toBe(expected);
  });
});

const budget = { agentBytes: 3 * GB, reserveBytes: 1 * GB };

describe('memoryRoom', () => {
  it.each([
    ['plenty free', 20 * GB, 2, 6],
    ['exactly one fits', 4 * GB, 2, 1],
    ['short while agents run', 3.5 * GB, 2, 0],
    ['short with none running: one may start anyway', 0.5 * GB, 0, 1],
    ['free memory below the reserve', 0.2 * GB, 3, 0],
  ] as const)('%s', (_name, free, active, room) => {
    expect(memoryRoom(free, active, budget)).toBe(room);
  });
});

describe('waitReason', () => {
  const facts = { queued: 2, active: 3, cap: 3, freeBytes: 2.5 * GB, budget };
  it('says what holds the queue, in words', () => {
    expect(waitReason('cap', facts)).toBe('2 tasks wait: 3 of 3 agents running (the concurrency cap).');
    expect(waitReason('memory', { ...facts, queued: 1 })).toBe('1 task waits for memory: 2.5 GB free, and a new agent needs 3.0 GB plus 1.0 GB kept free (memory.agent_mb, memory.reserve_mb in swarm.config.json).');
    expect(waitReason('stagger', facts)).toMatch(/stagger_ms/);
    expect(waitReason(null, facts)).toBeNull();
    expect(waitReason('cap', { ...facts, queued: 0 })).toBeNull();
  });
});

describe('tasks on hosts', () => {
  const q = (...pairs: [number, string][]) => pairs.map(([id, host]) => ({ id, host }));
  it.each([
    ['free slots: all start, in order', q([1, 'box'], [2, 'box']), {}, { box: 3 }, [1, 2], []],
    ['a full host holds its own, not the other', q([1, 'box'], [2, 'mac'], [3, 'box']), { box: 2 }, { box: 3, mac: 1 }, [1, 2], ['box']],
    ['slots counted across the queue', q([1, 'box'], [2, 'box'], [3, 'box']), {}, { box: 2 }, [1, 2], ['box']],
    ['a host no longer in the config starts nothing', q([1, 'gone']), {}, { box: 2 }, [], ['gone']],
    ['nothing queued', q(), { box: 5 }, { box: 2 }, [], []],
  ] as const)('%s', (_what, queued, active, slots, start, full) => {
    expect(hostStarts(queued, new Map(Object.entries(active)), slots)).toEqual({ start, full });
  });
});

describe('tasks this machine has no room for', () => {
  const open = (...ids: number[]) => ids.map((id) => ({ id, sandboxed: false }));
  const room = (slots: number, sandbox = true) => ({ slots, sandbox });
  it.each([
    ['to the host with the most free slots', open(1), { box: room(1), mac: room(3) }, [{ id: 1, host: 'mac' }]],
    ['spread as slots fill', open(1, 2, 3), { box: room(2), mac: room(2) }, [{ id: 1, host: 'box' }, { id: 2, host: 'mac' }, { id: 3, host: 'box' }]],
    ['the rest wait here when the hosts are full', open(1, 2, 3), { box: room(1) }, [{ id: 1, host: 'box' }]],
    ['no host with a slot: all wait', open(1, 2), { box: room(0) }, []],
    ['no hosts', open(1), {}, []],
    ['a sandboxed task only to a host with the sandbox', [{ id: 1, sandboxed: true }], { mac: room(3, false), box: room(1) }, [{ id: 1, host: 'box' }]],
    ['a sandboxed task with no such host waits; the next one still goes', [{ id: 1, sandboxed: true }, { id: 2, sandboxed: false }], { mac: room(1, false) }, [{ id: 2, host: 'mac' }]],
  ] as const)('%s', (_what, waiting, free, want) => expect(overflow(waiting, free)).toEqual(want));
});

describe("a host's room", () => {
  const budget = { agentBytes: 3 * GB, reserveBytes: 2 * GB };
  it.each([
    ['memory unknown: its slots less what it holds', 4, 1, null, 3],
    ['memory for one more of three slots', 4, 1, 5 * GB, 1],
    ['short of memory: nothing more', 4, 2, 3 * GB, 0],
    ['an idle host may always take one', 4, 0, 1 * GB, 1],
    ['slots full whatever the memory', 2, 2, 64 * GB, 0],
  ] as const)('%s', (_what, slots, holding, free, want) => expect(hostRoom(slots, holding, free, budget)).toBe(want));
});
