import { describe, expect, it } from 'vitest';
import { checksVerdict } from '../../src/forge/github-wire.js';

const run = (name: string, status: string, conclusion: string | null) => ({ __typename: 'CheckRun' as const, databaseId: 1, name, status, conclusion, detailsUrl: null });
const status = (context: string, state: string) => ({ __typename: 'StatusContext' as const, context, state, description: null, targetUrl: null });

describe('checksVerdict: conclusions as GitHub defines them', () => {
  it.each<[string, ReturnType<typeof run | typeof status>[], string]>([
    ['failure is red', [run('test', 'COMPLETED', 'FAILURE')], 'failed'],
    ['timed_out is red', [run('test', 'COMPLETED', 'TIMED_OUT')], 'failed'],
    ['action_required is red', [run('test', 'COMPLETED', 'ACTION_REQUIRED')], 'failed'],
    ['cancelled did not finish', [run('test', 'COMPLETED', 'CANCELLED')], 'unfinished'],
    ['stale did not finish', [run('test', 'COMPLETED', 'STALE')], 'unfinished'],
    ['startup_failure did not finish', [run('test', 'COMPLETED', 'STARTUP_FAILURE')], 'unfinished'],
    ['neutral and skipped pass', [run('lint', 'COMPLETED', 'NEUTRAL'), run('docs', 'COMPLETED', 'SKIPPED'), run('test', 'COMPLETED', 'SUCCESS')], 'passed'],
    ['red wins over cancelled', [run('a', 'COMPLETED', 'CANCELLED'), run('b', 'COMPLETED', 'FAILURE')], 'failed'],
    ['in progress is pending', [run('test', 'IN_PROGRESS', null)], 'pending'],
    ['no checks yet is pending', [], 'pending'],
    ['a failed commit status is red', [status('ci/jenkins', 'FAILURE')], 'failed'],
    ['an expected status is pending', [status('ci/jenkins', 'EXPECTED')], 'pending'],
  ])('%s', (_name, contexts, kind) => {
    expect(checksVerdict(contexts).kind).toBe(kind);
  });
});
