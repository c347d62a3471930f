/** The built-in agent's tools: few, precise, with feedback a model can act on. All paths stay inside the worktree. */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import * as z from 'zod';

export const ToolArgs = {
  read: z.object({ path: z.string().min(1), start_line: z.number().int().positive().optional(), end_line: z.number().int().positive().optional() }),
  grep: z.object({ pattern: z.string().min(1), path: z.string().optional() }),
  glob: z.object({ pattern: z.string().min(1) }),
  edit: z.object({ path: z.string().min(1), old_text: z.string().min(1), new_text: z.string() }),
  write: z.object({ path: z.string().min(1), content: z.string() }),
  bash: z.object({ command: z.string().min(1), timeout_seconds: z.number().int().positive().max(3600).optional() }),
  finish: z.object({ summary: z.string().min(1) }),
} as const;
export type ToolName = keyof typeof ToolArgs;
export const TOOL_NAMES = Object.keys(ToolArgs) as ToolName[];

export interface ToolSpec {
  name: ToolName;
  description: string;
  parameters: { type: 'object'; properties: Record<string, { type: string; description: string }>; required: string[] };
}

export const TOOL_SPECS: ToolSpec[] = [
  { name: 'read', description: 'Read a file with line numbers. Use start_line/end_line for big files.', parameters: { type: 'object', properties: { path: { type: 'string', description: 'path relative to the repository root' }, start_line: { type: 'integer', description: 'first line, 1-based' }, end_line: { type: 'integer', description: 'last line, inclusive' } }, required: ['path'] } },
  { name: 'grep', description: 'Search tracked files for a regular expression; prints file:line:text.', parameters: { type: 'object', properties: { pattern: { type: 'string', description: 'extended regular expression' }, path: { type: 'string', description: 'limit to this file or folder' } }, required: ['pattern'] } },
  { name: 'glob', description: 'List tracked files matching a glob such as src/**/*.ts.', parameters: { type: 'object', properties: { pattern: { type: 'string', description: 'glob pattern' } }, required: ['pattern'] } },
  { name: 'edit', description: 'Replace old_text with new_text in a file. old_text must appear exactly once: include enough surrounding lines to make it unique.', parameters: { type: 'object', properties: { path: { type: 'string', description: 'file to edit' }, old_text: { type: 'string', description: 'exact text to replace, unique in the file' }, new_text: { type: 'string', description: 'replacement' } }, required: ['path', 'old_text', 'new_text'] } },
  { name: 'write', description: 'Write a whole file (creates folders).', parameters: { type: 'object', properties: { path: { type: 'string', description: 'file to write' }, content: { type: 'string', description: 'the full new content' } }, required: ['path', 'content'] } },
  { name: 'bash', description: 'Run a shell command in the repository root (tests, builds). Long output is cut to its head and tail.', parameters: { type: 'object', properties: { command: { type: 'string', description: 'the command' }, timeout_seconds: { type: 'integer', description: 'default 120' } }, required: ['command'] } },
  { name: 'finish', description: 'Call when the task is done (tests pass). Your work is committed with the summary as the message.', parameters: { type: 'object', properties: { summary: { type: 'string', description: 'what you changed and why; the first line becomes the commit title' } }, required: ['summary'] } },
];

export interface ToolResult {
  output: string;
  ok: boolean;
  finish?: string;
}

export class ToolError extends Error {}

const MAX_EDIT_BYTES = 8 * 1024 * 1024;

/** The real path of `path`, or of its deepest existing ancestor with the rest appended (for files not yet written). */
function realExisting(path: string): string {
  let cursor = path;
  const rest: string[] = [];
  while (!existsSync(cursor)) {
    const parent = dirname(cursor);
    if (parent === cursor) return path;
    rest.unshift(cursor.slice(parent.length + 1));
    cursor = parent;
  }
  return resolve(realpathSync(cursor), ...rest);
}

const HEAD = 2_000;
const TAIL = 4_000;

/** Long output keeps its head and tail, and says what was cut. */
export function clip(text: string, head = HEAD, tail = TAIL): string {
  if (text.length <= head + tail) return text;
  return `${text.slice(0, head)}\n… [${text.length - head - tail} characters cut; showing the first ${head} and last ${tail}] …\n${text.slice(-tail)}`;
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function run(argv: string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolvePromise) => {
    execFile(argv[0]!, argv.slice(1), { cwd, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (!err) return resolvePromise({ code: 0, output, timedOut: false });
      resolvePromise({ code: typeof err.code === 'number' ? err.code : null, output, timedOut: err.killed === true });
    });
  });
}

export class Toolbox {
  constructor(private readonly root: string, private readonly bashTimeoutSeconds: number) {}

  private inside(path: string): string {
    const full = resolve(this.root, path);
    // Symlinks resolved first: a link committed in the repository must not lead a write outside it.
    const root = realpathSync(this.root);
    const real = realExisting(full);
    for (const candidate of [relative(this.root, full), relative(root, real)]) {
      if (candidate.startsWith('..') || isAbsolute(candidate)) throw new ToolError(`${path} is outside the repository${candidate === relative(root, real) && real !== full ? ' (through a symlink)' : ''}; use paths relative to its root.`);
      if (candidate === '.git' || candidate.startsWith('.git/')) throw new ToolError('The .git folder is off limits; use git through bash.');
    }
    return full;
  }

  async call(name: string, rawArgs: unknown): Promise<ToolResult> {
    if (!(name in ToolArgs)) return { ok: false, output: `Unknown tool "${name}". Tools: ${TOOL_NAMES.join(', ')}.` };
    const parsed = ToolArgs[name as ToolName].safeParse(rawArgs);
    if (!parsed.success) {
      return { ok: false, output: `Bad arguments for ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}. Expected: ${JSON.stringify(TOOL_SPECS.find((t) => t.name === name)?.parameters.properties)}` };
    }
    try {
      return await this.dispatch(name as ToolName, parsed.data);
    } catch (err) {
      if (err instanceof ToolError) return { ok: false, output: err.message };
      return { ok: false, output: `${name} failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  private async dispatch(name: ToolName, args: unknown): Promise<ToolResult> {
    switch (name) {
      case 'read': {
        const a = ToolArgs.read.parse(args);
        const file = this.inside(a.path);
        if (!existsSync(file)) throw new ToolError(`${a.path} does not exist. Use glob to find files.`);
        if (statSync(file).isDirectory()) throw new ToolError(`${a.path} is a folder. Use glob with ${a.path}/*.`);
        // Streamed line by line: a 300 MB file costs the window asked for, not the file.
        const start = a.start_line ?? 1;
        const wantedEnd = a.end_line ?? start + 399;
        const window: string[] = [];
        let total = 0;
        const reader = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
        for await (const line of reader) {
          total++;
          if (total >= start && total <= wantedEnd) window.push(line.length > 2_000 ? `${line.slice(0, 2_000)} … [line cut: ${line.length} characters]` : line);
        }
        if (start > total) throw new ToolError(`${a.path} has ${total} lines; start_line ${start} is past the end.`);
        const end = Math.min(total, wantedEnd);
        const body = window.map((line, i) => `${String(start + i).padStart(5)}  ${line}`).join('\n');
        const more = end < total ? `\n[lines ${end + 1}-${total} not shown; read with start_line=${end + 1}]` : '';
        return { ok: true, output: clip(body) + more };
      }
      case 'grep': {
        const a = ToolArgs.grep.parse(args);
        const argv = ['git', 'grep', '-n', '-I', '-E', '-e', a.pattern, ...(a.path ? ['--', relative(this.root, this.inside(a.path)) || '.'] : [])];
        const result = await run(argv, this.root, 30_000);
        if (result.code === 1) return { ok: true, output: 'No matches.' };
        if (result.code !== 0) throw new ToolError(`grep failed: ${result.output.trim()}`);
        const lines = result.output.trim().split('\n');
        return { ok: true, output: lines.slice(0, 200).join('\n') + (lines.length > 200 ? `\n[${lines.length - 200} more matches; narrow the pattern or path]` : '') };
      }
      case 'glob': {
        const a = ToolArgs.glob.parse(args);
        const result = await run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'], this.root, 30_000);
        const re = globToRegExp(a.pattern);
        const files = result.output.split('\n').filter((f) => f && re.test(f));
        if (files.length === 0) return { ok: true, output: `No files match ${a.pattern}.` };
        return { ok: true, output: files.slice(0, 300).join('\n') + (files.length > 300 ? `\n[${files.length - 300} more]` : '') };
      }
      case 'edit': {
        const a = ToolArgs.edit.parse(args);
        const file = this.inside(a.path);
        if (!existsSync(file)) throw new ToolError(`${a.path} does not exist. Use write to create a file.`);
        if (statSync(file).size > MAX_EDIT_BYTES) throw new ToolError(`${a.path} is ${Math.round(statSync(file).size / 1024 / 1024)} MB, too large to edit here; change it with a command through bash (e.g. sed).`);
        const text = readFileSync(file, 'utf8');
        const count = text.split(a.old_text).length - 1;
        if (count === 0) {
          const firstLine = a.old_text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
          const near = firstLine ? text.split('\n').findIndex((l) => l.includes(firstLine)) : -1;
          const hint = near >= 0 ? ` A similar line is at line ${near + 1}; read the file around it and copy the text exactly (whitespace matters).` : ' Read the file first and copy the text exactly.';
          throw new ToolError(`old_text was not found in ${a.path}.${hint}`);
        }
        if (count > 1) throw new ToolError(`old_text appears ${count} times in ${a.path}; include more surrounding lines so it is unique.`);
        writeFileSync(file, text.replace(a.old_text, () => a.new_text));
        return { ok: true, output: `Edited ${a.path}.` };
      }
      case 'write': {
        const a = ToolArgs.write.parse(args);
        const file = this.inside(a.path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, a.content);
        return { ok: true, output: `Wrote ${a.path} (${a.content.split('\n').length} lines).` };
      }
      case 'bash': {
        const a = ToolArgs.bash.parse(args);
        const seconds = a.timeout_seconds ?? this.bashTimeoutSeconds;
        // The model's command runs in a shell on purpose: that is the tool. It runs in the worktree only.
        const result = await run(['bash', '-c', a.command], this.root, seconds * 1000);
        const status = result.timedOut ? `killed after ${seconds}s (timeout): the command did not finish; avoid commands that wait for input or run forever` : `exit code ${String(result.code)}`;
        return { ok: result.code === 0, output: `${clip(result.output.trim() || '(no output)')}\n[${status}]` };
      }
      case 'finish': {
        const a = ToolArgs.finish.parse(args);
        return { ok: true, output: 'Finishing.', finish: a.summary };
      }
    }
  }
}
