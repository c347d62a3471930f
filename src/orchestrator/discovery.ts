/** Sources that propose tasks on a schedule: new context notes, red CI on the base branch, any command that prints JSON. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import * as z from 'zod';
import { extractFailure } from '../../monitor/evidence.js';
import { evidenceLines } from '../agents/evidence-text.js';
import type { TaskRow } from '../../registry/types.js';
import { TERMINAL_STATES } from '../../registry/types.js';
import type { Project } from '../config/project.js';
import { errorMessage } from '../errors.js';
import { git, revParse, runGit } from '../workspace/git.js';
import { contextDir, listNotes } from './context-store.js';
import { proposeTask } from './intake.js';

function run(argv: readonly string[], cwd: string, timeoutMs: number): Promise<{ code: number; output: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { cwd, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}`, stdout });
    });
  });
}

const Proposal = z.object({ title: z.string().min(1), prompt: z.string().min(1), kind: z.string().optional(), key: z.string().optional() });

export class Discovery {
  /** Base commits whose CI passed in this process: not run again. */
  private readonly green = new Set<string>();

  constructor(private readonly project: Project, private readonly log: Logger) {}

  async runOnce(): Promise<TaskRow[]> {
    const found: TaskRow[] = [];
    const { discovery } = this.project.config;
    const attempt = async (name: string, fn: () => Promise<TaskRow[]>): Promise<void> => {
      try {
        found.push(...(await fn()));
      } catch (err) {
        this.log.warn({ source: name, error: errorMessage(err) }, 'discovery source failed');
      }
    };
    if (discovery.notes) await attempt('notes', () => this.fromNotes());
    if (discovery.base_ci) await attempt('base_ci', () => this.fromBaseCi());
    for (const source of discovery.commands) await attempt(source.name, () => this.fromCommand(source.name, source.command));
    if (found.length) this.log.info({ proposed: found.map((t) => t.id) }, 'discovery proposed tasks');
    return found;
  }

  private async fromNotes(): Promise<TaskRow[]> {
    const out: TaskRow[] = [];
    for (const note of listNotes(contextDir(this.project.config, this.project.repo.root))) {
      const task = await proposeTask(this.project, {
        key: `note:${note.name}`,
        title: `From note: ${note.title}`,
        prompt: `A new note was added to the project's context (${note.name}). Make the code changes it asks for, if any; if it asks for none, change nothing and say so.\n\n${note.text}`,
      });
      if (task) out.push(task);
    }
    return out;
  }

  /** One fixer per failing base commit, and none while an earlier fixer is still open. */
  private async fromBaseCi(): Promise<TaskRow[]> {
    const { config, repo, registry } = this.project;
    if (!config.ci.command) return [];
    const sha = await revParse(repo.root, config.base);
    const key = `base-ci:${sha}`;
    if (this.green.has(sha) || registry.sourceKeyTaken(key)) return [];
    if (registry.listTasks().some((t) => t.source_key?.startsWith('base-ci:') && !TERMINAL_STATES.includes(t.state))) return [];
    const dir = join(mkdtempSync(join(tmpdir(), 'swarm-base-ci-')), 'w');
    try {
      await git(repo.root, ['worktree', 'add', '--detach', '--quiet', dir, sha]);
      const result = await run(config.ci.command, dir, config.ci.timeout_minutes * 60_000);
      if (result.code === 0) {
        this.green.add(sha);
        return [];
      }
      const failure = extractFailure(result.output);
      const task = await proposeTask(this.project, {
        key,
        title: `Fix CI on ${config.base} (${sha.slice(0, 8)})`,
        kind: 'bugfix',
        prompt: [
          `CI fails on ${config.base} at ${sha.slice(0, 10)}: \`${config.ci.command.join(' ')}\` exits with code ${result.code}. Make it pass without weakening the tests.`,
          '',
          ...evidenceLines({ tests: failure.tests, failed_count: failure.failed, assertions: failure.problems, log_tail: failure.log_tail }, config.evidence),
        ].join('\n'),
      });
      return task ? [task] : [];
    } finally {
      await runGit(repo.root, ['worktree', 'remove', '--force', dir]);
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  }

  private async fromCommand(name: string, argv: readonly string[]): Promise<TaskRow[]> {
    const result = await run(argv, this.project.repo.root, 5 * 60_000);
    if (result.code !== 0) throw new Error(`\`${argv.join(' ')}\` exited with ${result.code}: ${result.output.slice(-300)}`);
    let raw: unknown;
    try {
      raw = JSON.parse(result.stdout);
    } catch {
      throw new Error(`\`${argv.join(' ')}\` did not print JSON (an array of {title, prompt, kind?, key?})`);
    }
    const proposals = z.array(Proposal).parse(raw);
    const out: TaskRow[] = [];
    for (const p of proposals) {
      const key = `cmd:${name}:${p.key ?? createHash('sha1').update(p.title).digest('hex').slice(0, 12)}`;
      const task = await proposeTask(this.project, { key, title: p.title, prompt: p.prompt, kind: p.kind });
      if (task) out.push(task);
    }
    return out;
  }
}
