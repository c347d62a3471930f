import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { Registry } from '../../registry/registry.js';
import type { SwarmConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { slugify } from '../workspace/worktrees.js';
import type { Note } from './retrieval.js';
import { estimateTokens } from './retrieval.js';

export function contextDir(config: SwarmConfig, repoRoot: string): string {
  return isAbsolute(config.orchestrator.context_dir) ? config.orchestrator.context_dir : resolve(repoRoot, config.orchestrator.context_dir);
}

export interface NoteInfo extends Note {
  file: string;
  modified_at: number;
  tokens: number;
  title: string;
}

export function listNotes(dir: string): NoteInfo[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => {
      const file = join(dir, name);
      const text = readFileSync(file, 'utf8');
      return { name, file, text, modified_at: statSync(file).mtimeMs, tokens: estimateTokens(text), title: /^#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? name };
    });
}

/** Saves a note (from a file or stdin text) as `<timestamp>-<slug>.md`; returns its file name. */
export function addNote(dir: string, text: string, name?: string, now = new Date()): string {
  if (!text.trim()) throw new UsageError('The note is empty.');
  mkdirSync(dir, { recursive: true });
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const title = name ?? /^#\s+(.+)$/m.exec(text)?.[1] ?? text.trim().split('\n')[0]!;
  let file = `${stamp}-${slugify(basename(title, '.md'))}.md`;
  for (let n = 2; existsSync(join(dir, file)); n++) file = file.replace(/(-\d+)?\.md$/, `-${n}.md`);
  writeFileSync(join(dir, file), text.endsWith('\n') ? text : `${text}\n`);
  return file;
}

/** The registry's memory of outcomes, as lines the planner reads: what failed, why, after how many retries. */
export function outcomesSummary(registry: Registry, limit = 15): string {
  const finished = registry.listTasks(['done', 'ready', 'needs_help', 'cancelled', 'blocked']).slice(-limit);
  return finished
    .map((t) => {
      const how = t.state === 'done' || t.state === 'ready' ? `${t.state === 'done' ? 'merged' : 'ready'} after ${t.retries} retr${t.retries === 1 ? 'y' : 'ies'}` : `${t.state.replace('_', ' ')}${t.reason ? `: ${t.reason.split('\n')[0]}` : ''}`;
      return `- #${t.id} "${t.title}"${t.kind ? ` [${t.kind}]` : ''} (agent ${t.agent}): ${how}`;
    })
    .join('\n');
}
