/** Pure: may a task with dependencies start, must it wait, or is it blocked by a dependency that failed? */
import type { TaskState } from '../../registry/types.js';

export type DependencyGate = 'ready' | 'merged';

export interface DagTask {
  id: number;
  state: TaskState;
  depends_on: readonly number[];
}

export type DagVerdict = { kind: 'runnable' } | { kind: 'waiting'; on: number[] } | { kind: 'blocked'; reason: string };

const FAILED: readonly TaskState[] = ['needs_help', 'cancelled', 'blocked'];

export function dagVerdict(task: DagTask, byId: ReadonlyMap<number, DagTask>, gate: DependencyGate): DagVerdict {
  const waiting: number[] = [];
  for (const id of task.depends_on) {
    const dep = byId.get(id);
    if (!dep) return { kind: 'blocked', reason: `dependency #${id} does not exist` };
    if (FAILED.includes(dep.state)) return { kind: 'blocked', reason: `dependency #${id} is ${dep.state.replace('_', ' ')}` };
    const satisfied = gate === 'merged' ? dep.state === 'done' : dep.state === 'ready' || dep.state === 'done';
    if (!satisfied) waiting.push(id);
  }
  return waiting.length ? { kind: 'waiting', on: waiting } : { kind: 'runnable' };
}
