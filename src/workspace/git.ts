import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { GitError, NotAGitRepoError } from '../errors.js';
import { execGit, type GitResult } from './git-exec.js';

export { GIT_UNATTENDED, type GitResult } from './git-exec.js';

/**
 * Git where the exit code carries meaning (merge-tree: 1 = conflict); arguments as an array, never a shell.
 * Runs through the shared, bounded simple-git layer (`git-exec.ts`). `background`: work nobody waits for (warm
 * worktrees) runs in its own small lane at a lower CPU priority.
 */
export function runGit(cwd: string, args: string[], priority: 'normal' | 'background' = 'normal'): Promise<GitResult> {
  return execGit(cwd, args, priority);
}

/** A checkout's own config that can run a program, switched off for a git command swarm runs there. */
export const DISARMED_CONFIG = [
  'core.fsmonitor=false',
  'core.hooksPath=/dev/null',
  'core.pager=cat',
  'core.untrackedCache=false',
  'core.alternateRefsCommand=',
  'core.sshCommand=false',
  'diff.external=',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'gpg.program=false',
  'credential.helper=',
  'protocol.ext.allow=never',
] as const;

/**
 * `-c` arguments that switch off what the checkout at `worktree` configured to run: the fixed list above, and
 * every filter driver its config (and the files it includes) defines. Reading a config file with `--file`
 * runs nothing. Diff commands add `--no-ext-diff --no-textconv` themselves.
 */
export async function disarmedGit(worktree: string): Promise<string[]> {
  const gitDir = existsSync(resolve(worktree, '.git', 'config')) ? resolve(worktree, '.git', 'config') : null;
  const defined = gitDir ? (await runGit('/', [...FILTER_NAMES_ARGS.slice(0, 2), gitDir, ...FILTER_NAMES_ARGS.slice(2)])).stdout : '';
  return disarmFlags(defined);
}

/** `git config` arguments (the file goes after `--file`) listing a config's filter keys: reading runs nothing. */
export const FILTER_NAMES_ARGS = ['config', '--file', '--includes', '--name-only', '--get-regexp', '^filter\\.'] as const;

/** Pure: the `-c` flags that disarm a checkout, from `git config --name-only --get-regexp ^filter\.` output. */
export function disarmFlags(filterNames: string): string[] {
  const drivers = new Set<string>();
  for (const name of filterNames.split('\n')) {
    const match = /^filter\.(.+)\.(clean|smudge|process|required)$/.exec(name.trim());
    if (match) drivers.add(match[1]!);
  }
  const filters = [...drivers].flatMap((d) => [`filter.${d}.clean=`, `filter.${d}.smudge=`, `filter.${d}.process=`, `filter.${d}.required=false`]);
  return [...DISARMED_CONFIG, ...filters].flatMap((c) => ['-c', c]);
}

/** Fails loudly with git's own words when git exits non-zero. */
export async function git(cwd: string, args: string[]): Promise<string> {
  const result = await runGit(cwd, args);
  if (result.code !== 0) {
    throw new GitError('SWARM_GIT_FAILED', `git ${args.join(' ')} failed in ${cwd}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}


export interface RepoInfo {
  /** The main checkout (where the user works), even when called from inside a task worktree. */
  root: string;
  name: string;
  /** The repository's own git folder (shared by all its worktrees), absolute. */
  commonDir: string;
}

export async function findRepo(cwd: string): Promise<RepoInfo> {
  const dir = resolve(cwd);
  if (!existsSync(dir)) throw new NotAGitRepoError(dir);
  const result = await runGit(dir, ['rev-parse', '--path-format=absolute', '--git-common-dir', '--show-toplevel']);
  if (result.code !== 0) throw new NotAGitRepoError(dir);
  const [commonDir, toplevel] = result.stdout.trim().split('\n');
  if (!commonDir || !toplevel) throw new NotAGitRepoError(dir);
  const root = basename(commonDir) === '.git' ? dirname(commonDir) : toplevel;
  const real = realpathSync(root);
  return { root: real, name: basename(real), commonDir };
}

export async function refExists(cwd: string, ref: string): Promise<boolean> {
  const result = await runGit(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return result.code === 0;
}

export function branchExists(cwd: string, branch: string): Promise<boolean> {
  return refExists(cwd, `refs/heads/${branch}`);
}

export async function revParse(cwd: string, ref: string): Promise<string> {
  return (await git(cwd, ['rev-parse', '--verify', `${ref}^{commit}`])).trim();
}

export async function commitsAhead(cwd: string, base: string, head = 'HEAD'): Promise<number> {
  const out = await git(cwd, ['rev-list', '--count', `${base}..${head}`]);
  return Number(out.trim());
}

/** Pure: the paths in `git status --porcelain=v1 -z` output (a rename or copy names its new path, then its old one). */
export function porcelainPaths(output: string): string[] {
  const paths: string[] = [];
  const fields = output.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i]!;
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    if (entry[0] === 'R' || entry[0] === 'C') i++; // the old path follows
  }
  return paths;
}

/** Changed, staged and untracked files (each untracked file, not its folder); ignored ones are not. */
export async function uncommittedFiles(cwd: string): Promise<string[]> {
  return porcelainPaths(await git(cwd, [...(await disarmedGit(cwd)), 'status', '--porcelain=v1', '-z', '--untracked-files=all']));
}

/** Files that conflict when `branch` is merged into `base`; empty when it merges cleanly. Needs git >= 2.38. */
export async function mergeConflicts(repo: string, base: string, branch: string): Promise<string[]> {
  const result = await runGit(repo, ['merge-tree', '--write-tree', '--name-only', '--no-messages', base, branch]);
  if (result.code === 0) return [];
  if (result.code === 1) {
    const lines = result.stdout.split('\n').slice(1);
    const end = lines.indexOf('');
    return [...new Set((end === -1 ? lines : lines.slice(0, end)).filter(Boolean))];
  }
  throw new GitError('SWARM_GIT_FAILED', `git merge-tree ${base} ${branch} failed: ${result.stderr.trim()}. git 2.38 or newer is needed.`);
}

/** Builds the merge commit of `branch` into `base` without touching any working tree. */
export async function mergeCommit(repo: string, base: string, branch: string, message: string): Promise<{ commit: string; baseSha: string }> {
  const baseSha = await revParse(repo, base);
  const branchSha = await revParse(repo, branch);
  const tree = await runGit(repo, ['merge-tree', '--write-tree', '--no-messages', base, branch]);
  if (tree.code !== 0) throw new GitError('SWARM_MERGE_CONFLICT', `${branch} no longer merges cleanly into ${base}. Run \`swarm retry\` so an agent resolves it.`);
  const treeSha = tree.stdout.split('\n')[0]!.trim();
  const commit = (await git(repo, ['commit-tree', treeSha, '-p', baseSha, '-p', branchSha, '-m', message])).trim();
  return { commit, baseSha };
}

export interface WorktreeEntry {
  path: string;
  head: string | null;
  branch: string | null;
}

export async function listWorktrees(repo: string): Promise<WorktreeEntry[]> {
  const out = await git(repo, ['worktree', 'list', '--porcelain']);
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | null = null;
  for (const line of out.split('\n')) {
    if (line.startsWith('worktree ')) {
      current = { path: line.slice('worktree '.length), head: null, branch: null };
      entries.push(current);
    } else if (current && line.startsWith('HEAD ')) current.head = line.slice(5);
    else if (current && line.startsWith('branch ')) current.branch = line.slice('branch refs/heads/'.length);
  }
  return entries;
}

/**
 * A commit holding base plus every branch in `branches` (a dependent task's starting point). A single branch
 * that already contains base is used as it is; a conflict between them is an error naming the files.
 */
export async function combineBranches(repo: string, base: string, branches: readonly string[]): Promise<string> {
  let current = await revParse(repo, base);
  for (const branch of branches) {
    const head = await revParse(repo, branch);
    if ((await runGit(repo, ['merge-base', '--is-ancestor', current, head])).code === 0) {
      current = head;
      continue;
    }
    if ((await runGit(repo, ['merge-base', '--is-ancestor', head, current])).code === 0) continue;
    const tree = await runGit(repo, ['merge-tree', '--write-tree', '--name-only', '--no-messages', current, head]);
    if (tree.code !== 0) {
      throw new GitError('SWARM_DEPENDENCY_CONFLICT', `The dependency branches conflict with each other (${tree.stdout.split('\n').slice(1).filter(Boolean).join(', ')}); resolve them first.`);
    }
    current = (await git(repo, ['-c', 'user.name=worktree-swarm', '-c', 'user.email=swarm@localhost', 'commit-tree', tree.stdout.split('\n')[0]!.trim(), '-p', current, '-p', head, '-m', `Combine ${branch} for a dependent task`])).trim();
  }
  return current;
}

/** A worktree's own git directory and the repository's common one (absolute): where a commit writes. */
export async function worktreeGitDirs(worktree: string): Promise<string[]> {
  const result = await runGit(worktree, ['rev-parse', '--path-format=absolute', '--git-dir', '--git-common-dir']);
  if (result.code !== 0) throw new GitError('SWARM_GIT_FAILED', `Cannot read the git directories of ${worktree}: ${result.stderr.trim()}`);
  return [...new Set(result.stdout.split('\n').map((l) => l.trim()).filter(Boolean))];
}
