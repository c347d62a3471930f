import { describe, expect, it } from 'vitest';
import { leftBehindFrom } from '../../monitor/hosts.js';

const placed = (task: number, from: string, left?: string) => ({ task_id: task, kind: 'placed_again', data: JSON.stringify({ from, to: 'local', silent_ms: 1, ...(left ? { left } : {}) }) });
const stopped = (task: number, session: string) => ({ task_id: task, kind: 'left_behind_stopped', data: JSON.stringify({ host: 'box', session }) });

describe('agents left on a gone host, remembered across a daemon restart', () => {
  it.each([
    ['none placed again', [], []],
    ['one placed again, not stopped yet', [placed(1, 'box', '/s/t1-a1')], [{ task: 1, host: 'box', dir: '/s/t1-a1' }]],
    ['stopped since', [placed(1, 'box', '/s/t1-a1'), stopped(1, '/s/t1-a1')], []],
    ['placed again with no session there (it never started)', [placed(1, 'box')], []],
    ['two tasks, one stopped', [placed(1, 'box', '/s/t1-a1'), placed(2, 'mac', '/s/t2-a1'), stopped(1, '/s/t1-a1')], [{ task: 2, host: 'mac', dir: '/s/t2-a1' }]],
    ['placed again twice (its second host gone too)', [placed(1, 'box', '/s/t1-a1'), stopped(1, '/s/t1-a1'), placed(1, 'mac', '/s/t1-a2')], [{ task: 1, host: 'mac', dir: '/s/t1-a2' }]],
    ['an unreadable event is passed over', [{ task_id: 3, kind: 'placed_again', data: '{not json' }], []],
  ] as const)('%s', (_what, events, want) => expect(leftBehindFrom(events)).toEqual(want));
});
