import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { autoReportEnv, autoReportPath, readAutoReport } from '../../src/forge/ci-reports.js';
import { tempDir } from '../helpers/sample.js';

describe('the report swarm asks pytest for through its environment', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it.each([
    ['nothing set', {}, '--junitxml=/s/ci-report.xml'],
    ["the user's own options kept first", { PYTEST_ADDOPTS: '-x --tb=short' }, '-x --tb=short --junitxml=/s/ci-report.xml'],
  ])('%s', (_name, env, expected) => {
    expect(autoReportEnv(env, '/s/ci-report.xml')).toEqual({ PYTEST_ADDOPTS: expected });
  });

  it("goes in a clone's git folder (the sandbox shows only the checkout), beside a worktree in the session folder; a link planted there is never read", () => {
    const dir = tempDir('auto-report');
    dirs.push(dir);
    const clone = join(dir, 'clone');
    mkdirSync(join(clone, '.git'), { recursive: true });
    const session = join(dir, 'session');
    mkdirSync(session);
    expect(autoReportPath(clone, session)).toBe(join(clone, '.git', 'swarm-ci-report.xml'));
    expect(autoReportPath(join(dir, 'worktree'), session)).toBe(join(session, 'ci-report.xml'));
    writeFileSync(join(dir, 'secret'), 'a key');
    symlinkSync(join(dir, 'secret'), join(clone, '.git', 'swarm-ci-report.xml'));
    expect(readAutoReport(clone, session, 0)).toEqual([]);
    rmSync(join(clone, '.git', 'swarm-ci-report.xml'));
    writeFileSync(join(clone, '.git', 'swarm-ci-report.xml'), '<testsuites/>');
    expect(readAutoReport(clone, session, 0)).toEqual(['<testsuites/>']);
    expect(readAutoReport(clone, session, Date.now() + 60_000)).toEqual([]);
  });
});
