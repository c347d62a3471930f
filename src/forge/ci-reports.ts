/**
 * The report files a CI run writes (JUnit XML and the like), read where the run happened: this machine's
 * runner reads them here, a host's swarm reads them there and sends their text back (`swarm host reports`).
 */
import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { globSync } from 'tinyglobby';
import * as z from 'zod';
import { isClone } from '../workspace/clones.js';

/** What a finished CI run's reports are asked by: the `ci.reports` globs, swarm's own report, since when. */
export const ReportAsk = z.object({ patterns: z.array(z.string()), auto: z.boolean(), since: z.number() });
export type ReportAsk = z.infer<typeof ReportAsk>;

/** At most this much report text comes back from a host in one answer. */
export const REPORTS_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The report swarm asks a runner for through its environment, without the user's setup (pytest reads
 * PYTEST_ADDOPTS): a file of swarm's own, never in the checkout's tree. In a clone (sandboxed) it goes in the
 * clone's `.git` (the CI sees only its checkout); beside a worktree, in the CI session's folder.
 */
export function autoReportPath(worktree: string, sessionDir: string, clone = isClone(worktree)): string {
  return clone ? join(worktree, '.git', 'swarm-ci-report.xml') : join(sessionDir, 'ci-report.xml');
}

/** Pure: the variables that ask for the report, added to what the user's CI already sets. */
export function autoReportEnv(env: Readonly<Record<string, string>>, file: string): Record<string, string> {
  return { PYTEST_ADDOPTS: `${env.PYTEST_ADDOPTS ?? ''} --junitxml=${file}`.trim() };
}

/** That report, when this run wrote it: a plain file, inside the checkout's git folder or the session's. */
export function readAutoReport(worktree: string, sessionDir: string, since: number): string[] {
  const file = autoReportPath(worktree, sessionDir);
  try {
    const stat = lstatSync(file);
    const home = realpathSync(isClone(worktree) ? join(worktree, '.git') : sessionDir);
    if (!stat.isFile() || !realpathSync(file).startsWith(`${home}/`) || stat.mtimeMs < since - 1_000 || stat.size > 4 * 1024 * 1024) return [];
    return [readFileSync(file, 'utf8')];
  } catch {
    return [];
  }
}

/**
 * The report files (ci.reports globs) this CI run wrote: only those modified since it started, so a stale
 * report from an earlier run never speaks for this one; at most 20 files of 4 MB.
 */
export function readReports(worktree: string, patterns: readonly string[], since: number): string[] {
  if (!patterns.length) return [];
  const files = globSync([...patterns], { cwd: worktree, absolute: true, onlyFiles: true, followSymbolicLinks: false }).slice(0, 20);
  const root = realpathSync(worktree);
  return files.flatMap((file) => {
    try {
      // A report is a file the CI wrote in the checkout: never a link out of it (a key, a token).
      if (lstatSync(file).isSymbolicLink() || !realpathSync(file).startsWith(`${root}/`)) return [];
      const stat = statSync(file);
      return stat.mtimeMs >= since - 1_000 && stat.size <= 4 * 1024 * 1024 ? [readFileSync(file, 'utf8')] : [];
    } catch {
      return [];
    }
  });
}

/** A run's reports: the globbed files, then swarm's own; no more than REPORTS_MAX_BYTES of text. */
export function collectReports(worktree: string, sessionDir: string, ask: ReportAsk): string[] {
  const all = [...readReports(worktree, ask.patterns, ask.since), ...(ask.auto ? readAutoReport(worktree, sessionDir, ask.since) : [])];
  let bytes = 0;
  return all.filter((text) => (bytes += Buffer.byteLength(text)) <= REPORTS_MAX_BYTES);
}
