import { describe, expect, it } from 'vitest';
import { admit, defaultConcurrency } from '../../src/daemon/scheduler.js';

const GB = 1024 ** 3;

describe('admit', () => {
  const cases: [string, Parameters<typeof admit>[0], ReturnType<typeof admit>][] = [
    ['nothing queued', { now: 0, queued: [], active: 0, cap: 4, staggerMs: 0, lastStartAt: null }, { start: [], wakeInMs: null }],
    ['at the cap', { now: 0, queued: [1, 2], active: 4, cap: 4, staggerMs: 0, lastStartAt: null }, { start: [], wakeInMs: null }],
    ['no stagger: fill the free slots in order', { now: 0, queued: [3, 4, 5], active: 2, cap: 4, staggerMs: 0, lastStartAt: null }, { start: [3, 4], wakeInMs: null }],
    ['stagger: one now, come back for the next', { now: 10_000, queued: [3, 4], active: 0, cap: 4, staggerMs: 1_500, lastStartAt: null }, { start: [3], wakeInMs: 1_500 }],
    ['stagger: too soon after the last start', { now: 10_000, queued: [3], active: 0, cap: 4, staggerMs: 1_500, lastStartAt: 9_000 }, { start: [], wakeInMs: 500 }],
    ['stagger: last free slot needs no wake-up', { now: 10_000, queued: [3, 4], active: 3, cap: 4, staggerMs: 1_500, lastStartAt: 0 }, { start: [3], wakeInMs: null }],
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
