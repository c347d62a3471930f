/**
 * A confinement asked for, not built: what a session start carries so the sandbox is made where the session
 * runs. On this machine that is `confine.ts` as always; on a host, the host's swarm builds it there with the
 * host's own bubblewrap, home, CLI logins, swarm data folder and paths (nothing of the user's machine is
 * copied there). A runner supplies where its repository and session folders are; the rest is said here.
 */
import { homedir } from 'node:os';
import * as z from 'zod';
import { AgentConfig } from '../config/schema.js';
import { adapterFor } from '../agents/registry.js';
import { commandHome } from './homes.js';
import { listEndpoints } from './endpoints.js';
import { confineAgent, withEndpoints, type ConfinedLaunch } from './confine.js';
import { sandboxCommand, sandboxPlan } from './plan.js';

const Shared = {
  /** The task's checkout (a path where the session runs). */
  worktree: z.string(),
  /** `sandbox_home_read`: more of the home shown read-only. */
  home_read: z.array(z.string()),
};

export const ConfineRequest = z.discriminatedUnion('kind', [
  /** An agent (or a reviewer): its home from its CLI's template, its network its endpoints or open. */
  z.object({
    kind: z.literal('agent'),
    ...Shared,
    agent: z.string(),
    config: AgentConfig,
    network: z.enum(['open', 'endpoints']),
    prompt_file: z.string(),
    /** `sandbox_home_copy`. */
    home_copy: z.array(z.string()),
    home_key: z.string().optional(),
    /** Start the home from its template (a task's first attempt). */
    fresh_home: z.boolean(),
    read_only: z.boolean().optional(),
    /** The package registries of the project ("host:port"). */
    registries: z.array(z.string()),
  }),
  /** A command the daemon runs in a task's checkout (CI): a fresh empty home; with `allow`, only those endpoints. */
  z.object({
    kind: z.literal('command'),
    ...Shared,
    /** null: the machine's network; a list: only these endpoints ("host:port", URLs, loopback ports forwarded). */
    allow: z.array(z.string()).nullable(),
  }),
]);
export type ConfineRequest = z.infer<typeof ConfineRequest>;

/** Where the runner keeps things: its repository (shown read-only) and its state folder (hidden). */
export interface RunnerPlace {
  repoRoot: string;
  stateDir: string;
}

/**
 * Builds the confined launch of `argv` (its program resolved already) for a session in `sessionDir`, on this
 * machine. Throws a SandboxError saying how to install bubblewrap when it is missing.
 */
export function confineLaunch(request: ConfineRequest, place: RunnerPlace, argv: readonly string[], env: Record<string, string>, sessionDir: string): ConfinedLaunch {
  const base = { repoRoot: place.repoRoot, worktree: request.worktree, stateDir: place.stateDir, homeRead: request.home_read };
  if (request.kind === 'command') {
    const home = commandHome(request.worktree, homedir());
    const inside = { ...env, HOME: home, TMPDIR: '/tmp' };
    if (request.allow) return withEndpoints({ ...base, home }, argv, inside, listEndpoints(request.allow), sessionDir);
    return { argv: sandboxCommand(sandboxPlan({ ...base, home }), argv), env: inside };
  }
  const agent = { name: request.agent, config: request.config, adapter: adapterFor(request.config.type), executable: argv[0]!, network: request.network };
  return confineAgent({
    agent,
    argv: [...argv],
    env,
    ...base,
    sessionDir,
    promptFile: request.prompt_file,
    homeCopy: request.home_copy,
    ...(request.home_key ? { homeKey: request.home_key } : {}),
    freshHome: request.fresh_home,
    ...(request.read_only ? { readOnly: true } : {}),
    registries: request.registries,
  });
}
