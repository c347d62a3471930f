/**
 * The host's half of the SSH runner: `swarm host <op>`, run by the daemon over ssh on the host, with the same
 * session holder as locally (so an agent there outlives the daemon and the connection alike). Each op answers
 * one JSON line on stdout; `connect` relays the holder's socket over stdin/stdout (JSON lines both ways).
 * Nothing here reads the user's machine: only what the daemon sends (a session spec, a prompt).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { resolveExecutable } from '../../agents/adapter.js';
import { ConfineRequest } from '../../sandbox/request.js';
import * as z from 'zod';
import { LocalRunner } from '../local.js';
import { ClientMessage, jsonLines } from '../../sessions/protocol.js';
import { errorMessage } from '../../errors.js';
import { runSetup, SetupPlan } from '../../workspace/setup.js';
import { DepsOutcome } from '../../workspace/deps.js';
import { collectReports, ReportAsk } from '../../forge/ci-reports.js';

export const HostStart = z.object({
  spec: z.object({
    argv: z.array(z.string()).min(1),
    cwd: z.string(),
    env: z.record(z.string(), z.string()),
    cols: z.number().int().positive().optional(),
    rows: z.number().int().positive().optional(),
    scrollback_bytes: z.number().int().positive().optional(),
    transcript_max_bytes: z.number().int().positive().optional(),
  }),
  /** Variables the agent needs whose values are the host's own (PATH, HOME, a provider key set up there). */
  host_env: z.array(z.string()),
  /** Files written into the session folder before the start (the prompt). */
  files: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/), z.string()),
  /** The sandbox to build here, and where this repository's mirror and sessions are on this host. */
  confine: ConfineRequest.optional(),
  place: z.object({ repo_root: z.string(), state_dir: z.string() }).optional(),
});
export type HostStart = z.infer<typeof HostStart>;

/** The answer to `setup`: what each install did, or why a step failed (its output's end). */
export const SetupAnswer = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), installs: z.array(DepsOutcome) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

const runner = new LocalRunner({ repoRoot: '/', sessionsDir: '/' });

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function answer(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Runs one op; resolves with the process exit code. */
export async function onHost(op: string, args: string[]): Promise<number> {
  const [dir] = args;
  if (!dir) throw new Error('a session folder is needed');
  switch (op) {
    case 'start': {
      const input = HostStart.parse(JSON.parse(await readStdin()));
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const [name, text] of Object.entries(input.files)) writeFileSync(join(dir, name), text, { mode: 0o600 });
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(input.spec.env)) env[key] = value;
      for (const key of ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'TMPDIR', ...input.host_env]) {
        const value = process.env[key];
        if (value !== undefined) env[key] = value;
      }
      const { cols, rows, scrollback_bytes, transcript_max_bytes } = input.spec;
      // The program by name is this host's own install of it, found on this host's PATH.
      const [program, ...rest] = input.spec.argv;
      const executable = program!.includes('/') ? program! : resolveExecutable(program!, input.spec.cwd, env.PATH ?? '');
      if (!executable) throw new Error(`no \`${program}\` on the PATH of ${hostname()} (${env.PATH ?? 'no PATH'}): install it there, or run this task on another machine`);
      const here = input.place ? new LocalRunner({ repoRoot: input.place.repo_root, sessionsDir: input.place.state_dir, stateDir: input.place.state_dir }) : runner;
      answer(await here.start(dir, { argv: [executable, ...rest], cwd: input.spec.cwd, env, cols: cols ?? 120, rows: rows ?? 40, scrollback_bytes: scrollback_bytes ?? 256 * 1024, ...(transcript_max_bytes ? { transcript_max_bytes } : {}), ...(input.confine ? { confine: input.confine } : {}) }));
      return 0;
    }
    case 'setup': {
      // `dir` is the task's checkout here; its installs and commands as the daemon's config says.
      const plan = SetupPlan.parse(JSON.parse(await readStdin()));
      answer(await runSetup(dir, plan).then(
        (installs) => ({ ok: true, installs }),
        (err: unknown) => ({ ok: false, error: errorMessage(err) }),
      ));
      return 0;
    }
    case 'reports': {
      // `dir` is a finished CI session's folder, then the task's checkout: the reports it wrote, as text.
      const ask = ReportAsk.parse(JSON.parse(await readStdin()));
      answer(collectReports(args[1] ?? '', dir, ask));
      return 0;
    }
    case 'look':
      answer(await runner.look(dir, Number(args[1] ?? 0)));
      return 0;
    case 'look-many': {
      const { dirs, bytes } = z.object({ dirs: z.array(z.string()), bytes: z.number().int().nonnegative() }).parse(JSON.parse(await readStdin()));
      answer([...(await runner.lookAll(dirs, bytes)).values()]);
      return 0;
    }
    case 'kill':
      answer(await runner.kill(dir, (args[1] as NodeJS.Signals | undefined) ?? 'SIGTERM'));
      return 0;
    case 'stop':
      answer(await runner.stop(dir));
      return 0;
    case 'leftovers':
      answer(await runner.leftovers(dir));
      return 0;
    case 'read': {
      const piece = await runner.read(dir, Number(args[1] ?? 0), Number(args[2] ?? 1 << 20));
      answer({ data: piece.data.toString('base64'), ended: piece.ended });
      return 0;
    }
    case 'connect': {
      const connection = await runner.connect(dir, { onMessage: (message) => answer(message) });
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', jsonLines(ClientMessage, (message) => connection.send(message)));
      process.stdin.on('end', () => connection.close());
      await connection.closed;
      // The session ended (or let go): stop reading, so this process ends and the ssh channel closes with it.
      process.stdin.destroy();
      return 0;
    }
    default:
      throw new Error(`unknown host operation "${op}" (this swarm is older or newer than the daemon's)`);
  }
}
