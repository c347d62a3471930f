/**
 * Version awareness: which version of a coding CLI is installed, whether the adapter was verified with it,
 * and whether every flag the adapter will pass is one the installed CLI lists in its own --help.
 * A flag the CLI lacks is an error at spawn (naming the flag and the version), never a crash loop.
 */
import { execFile } from 'node:child_process';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as z from 'zod';
import { AgentError } from '../errors.js';
import { cleanEnv, type AgentAdapter } from './adapter.js';

export interface CliFacts {
  executable: string;
  version: string | null;
  /** Every help page the adapter names, concatenated. */
  help: string;
  /** Why the CLI could not be asked, if it could not. */
  error: string | null;
}

/** The flags in an argument vector (`--x=y` counts as `--x`); values equal to `exclude` (the prompt) are skipped. */
export function flagsIn(argv: readonly string[], exclude: readonly string[] = []): string[] {
  const flags: string[] = [];
  for (const arg of argv) {
    if (arg === '--') break;
    if (exclude.includes(arg) || !/^-{1,2}[A-Za-z]/.test(arg)) continue;
    const flag = arg.split('=')[0]!;
    if (!flags.includes(flag)) flags.push(flag);
  }
  return flags;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Pure: the flags that the help text does not list as a whole word. */
export function missingFlags(flags: readonly string[], help: string): string[] {
  return flags.filter((flag) => !new RegExp(`(^|[\\s,\\[|(])${escape(flag)}(?=$|[\\s,=\\]<|)\\[])`, 'm').test(help));
}

export function parseVersion(text: string): string | null {
  return /(\d+\.\d+\.\d+(?:[-.][0-9A-Za-z.]+)?)/.exec(text)?.[1] ?? null;
}

function run(executable: string, args: readonly string[]): Promise<{ out: string; error: string | null }> {
  return new Promise((resolve) => {
    execFile(executable, [...args], { env: { ...cleanEnv(), NO_COLOR: '1', CI: '1' }, timeout: 20_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const out = `${stdout}\n${stderr}`;
      resolve({ out, error: err && !stdout.trim() ? `\`${[executable, ...args].join(' ')}\` failed: ${err.message.split('\n')[0]}` : null });
    });
  });
}

const cache = new Map<string, Promise<CliFacts>>();
const CliFactsFile = z.record(z.string(), z.object({ executable: z.string(), version: z.string().nullable(), help: z.string(), error: z.string().nullable() }));

/** Where answers are kept across processes (`swarm spawn` is a new process each time; gemini's --help takes seconds). */
let diskCache: string | null = null;
export function useCliFactsCache(file: string): void {
  diskCache = file;
}

function readDisk(): z.infer<typeof CliFactsFile> {
  if (!diskCache) return {};
  try {
    const parsed = CliFactsFile.safeParse(JSON.parse(readFileSync(diskCache, 'utf8')));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

function writeDisk(key: string, facts: CliFacts): void {
  if (!diskCache || facts.error) return;
  try {
    const all = { ...readDisk(), [key]: facts };
    const tmp = `${diskCache}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all), { mode: 0o600 });
    renameSync(tmp, diskCache);
  } catch {
    // a cache: losing it costs time, never correctness
  }
}

/** Asks the CLI for its version and help pages, once per binary (path, size and mtime): in memory and on disk. */
export function cliFacts(executable: string, adapter: AgentAdapter): Promise<CliFacts> {
  let key = `${adapter.type}:${executable}`;
  try {
    const stat = statSync(executable);
    key = `${key}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    // resolved already; a vanished binary shows up as an error below
  }
  const cached = cache.get(key);
  if (cached) return cached;
  const stored = readDisk()[key];
  if (stored) {
    const facts = Promise.resolve(stored);
    cache.set(key, facts);
    return facts;
  }
  const facts = (async (): Promise<CliFacts> => {
    const [version, ...pages] = await Promise.all([run(executable, adapter.versionArgs ?? ['--version']), ...(adapter.helpPages ?? []).map((page) => run(executable, page))]);
    const error = version!.error ?? pages.find((p) => p.error)?.error ?? null;
    const result = { executable, version: parseVersion(version!.out), help: pages.map((p) => p.out).join('\n'), error };
    writeDisk(key, result);
    return result;
  })();
  cache.set(key, facts);
  return facts;
}

export interface VersionVerdict {
  version: string | null;
  verified: boolean;
  verifiedWith: readonly string[];
}

export function versionVerdict(adapter: AgentAdapter, facts: CliFacts): VersionVerdict {
  const verifiedWith = adapter.verified ?? [];
  return { version: facts.version, verified: facts.version !== null && verifiedWith.includes(facts.version), verifiedWith };
}

/** Throws an AgentError naming each flag the installed CLI does not accept, its version, and what to do. */
export async function checkFlags(agentName: string, adapter: AgentAdapter, executable: string, argv: readonly string[], exclude: readonly string[]): Promise<void> {
  if (!adapter.helpPages?.length) return;
  const facts = await cliFacts(executable, adapter);
  if (facts.error) throw new AgentError('SWARM_AGENT_BROKEN', `Agent "${agentName}" (${executable}) does not run: ${facts.error}. Reinstall it, or fix agents.${agentName}.command.`);
  const missing = missingFlags(flagsIn(argv.slice(1), exclude), facts.help);
  if (missing.length === 0) return;
  const version = facts.version ?? 'unknown version';
  const verified = adapter.verified?.length ? ` swarm's ${adapter.type} adapter was verified with ${adapter.verified.join(', ')}.` : '';
  throw new AgentError(
    'SWARM_AGENT_FLAGS',
    `Agent "${agentName}": ${adapter.type} ${version} does not accept ${missing.map((f) => `\`${f}\``).join(', ')} (not in its --help).${verified} Install a verified version, or remove the flag from agents.${agentName}.args; \`swarm doctor\` checks every agent.`,
  );
}
