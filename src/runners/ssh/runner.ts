/**
 * The SSH runner: a task's checkout and sessions on one of the user's other machines. Sessions are the same
 * holder as locally, run there by `swarm host <op>` (on-host.ts); code moves only through git: the host keeps a
 * bare mirror fed by `git push` over SSH, the checkout is a clone of it, and the task's branch comes back by
 * `git fetch` (the operation git deems safe from an untrusted repository). Nothing of the checkout's own config
 * or hooks runs on the user's machine.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import * as z from 'zod';
import type { HostConfig, SwarmConfig } from '../../config/schema.js';
import { errorMessage, GitError, SwarmError } from '../../errors.js';
import { HolderMessage, jsonLines, SessionExit, SessionState, type ClientMessage } from '../../sessions/protocol.js';
import { branchExists, disarmFlags, FILTER_NAMES_ARGS, porcelainPaths, revParse, runGit } from '../../workspace/git.js';
import { fetchBack, type FetchBack } from '../../workspace/clones.js';
import { deleteBranchUnlessCheckedOut, type RemoveResult, type WorkspaceKind } from '../../workspace/worktrees.js';
import type { DepsOutcome } from '../../workspace/deps.js';
import type { ReportAsk } from '../../forge/ci-reports.js';
import { setupPlanOf } from '../../workspace/setup.js';
import type { Liveness, Runner, RunnerTask, SessionConnection, SessionStart, SessionView } from '../runner.js';
import { SetupAnswer, type HostStart } from './on-host.js';
import { parseProbe, ROOM_SCRIPT } from './probe.js';
import { controlDir, remoteCommand, runOnHost, sshArgv, sshTrouble, type SshResult } from './ssh.js';

/** The host cannot be reached now: transient trouble (the monitor waits; no retry is spent). */
export class HostUnreachableError extends SwarmError {
  constructor(readonly host: string, message: string) {
    super('SWARM_HOST_UNREACHABLE', message);
  }
}

/** `sh -s -- DIR REPO`: the host's folder made and resolved, the repository's mirror made in it (one round trip). */
const RESOLVE_SCRIPT = `dir=$1
case "$dir" in "~") dir=$HOME ;; "~/"*) dir="$HOME/\${dir#"~/"}" ;; esac
mkdir -p "$dir/$2" && cd "$dir" && git init --quiet --bare "$2/mirror.git" >/dev/null && pwd -P
`;

/** `sh -s -- PATH MIRROR START BRANCH FROM`: the task's checkout cloned from the mirror on its branch, unless it is there. */
const CHECKOUT_SCRIPT = `path=$1; mirror=$2; start=$3; branch=$4; from=$5
if [ -d "$path/.git" ]; then echo reused; exit 0; fi
git clone --quiet --no-checkout "$mirror" "$path" &&
git -C "$path" fetch --quiet origin "$start:$start" &&
git -C "$path" checkout --quiet -B "$branch" "$from" && echo created && exit 0
rm -rf "$path"; exit 1
`;

/** \`sh -s -- DIR\`: a session folder nobody used (made here, so two daemons never pick one name). */
const FRESH_SCRIPT = `dir=$1; n=1; try=$dir
mkdir -p "$(dirname "$dir")"
until mkdir "$try" 2>/dev/null; do n=$((n + 1)); try="$dir-$n"; [ $n -gt 1000 ] && exit 1; done
echo "$try"
`;

/** How long a host's room, once asked, stands (placement may ask every pass). */
const ROOM_FOR_MS = 15_000;

/** How long a look read ahead stands in for a fresh one (a monitor pass). */
const LOOK_AHEAD_MS = 5_000;

/** Always the host's own, whatever this machine's value. */
const LOCAL_ONLY = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_RUNTIME_DIR']);

const Live = z.union([
  z.object({ kind: z.literal('running'), state: SessionState }),
  z.object({ kind: z.literal('exited'), exit: SessionExit }),
  z.object({ kind: z.enum(['lost', 'starting']) }),
]);
const View = z.object({ live: Live, last_output_at: z.number().nullable(), tail: z.string() });
const Piece = z.object({ data: z.string(), ended: z.boolean() });

export class SshRunner implements Runner {
  private base: Promise<string> | null = null;

  /**
   * `stateDir`: the repository's `.swarm` (the shared connection's socket lives there). `config`: the project's,
   * for the dependency installs and setup commands a new checkout runs there.
   */
  constructor(readonly name: string, private readonly host: HostConfig, private readonly repoRoot: string, private readonly stateDir: string, private readonly config?: SwarmConfig) {}

  private async ssh(argv: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<SshResult> {
    const result = await runOnHost(this.host, this.stateDir, argv, options);
    const trouble = sshTrouble(this.name, this.host, result);
    if (trouble) throw new HostUnreachableError(this.name, trouble);
    return result;
  }

  /** A `swarm host` op there; its one JSON answer. */
  private async op(op: string, args: readonly string[], input?: string, timeoutMs?: number): Promise<unknown> {
    const result = await this.ssh([...this.host.swarm, 'host', op, ...args], { ...(input !== undefined ? { input } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
    const line = result.stdout.trim().split('\n').at(-1) ?? '';
    if (result.code !== 0 || !line) throw new SwarmError('SWARM_HOST_FAILED', `swarm host ${op} failed on ${this.name}: ${result.stderr.trim().split('\n').at(-1) ?? `exit ${result.code}`}`);
    return JSON.parse(line);
  }

  /** This repository's folder on the host (absolute): its mirror, checkouts and sessions. */
  private repoDir(): Promise<string> {
    const name = `${basename(this.repoRoot)}-${createHash('sha256').update(this.repoRoot).digest('hex').slice(0, 10)}`;
    this.base ??= this.ssh(['sh', '-s', '--', this.host.dir, name], { input: RESOLVE_SCRIPT }).then((r) => {
      const dir = r.stdout.trim().split('\n').at(-1) ?? '';
      if (r.code !== 0 || !dir.startsWith('/')) throw new SwarmError('SWARM_HOST_FAILED', `cannot use ${this.host.dir} on host ${this.name}: ${r.stderr.trim() || 'no folder'}. Set hosts.${this.name}.dir to a folder the ssh user may write (and check git is installed there: \`swarm hosts\`).`);
      return `${dir}/${name}`;
    });
    this.base.catch(() => (this.base = null));
    return this.base;
  }

  /** `-c` for git on the user's machine: ssh run exactly as swarm runs it (host key checked, shared connection). */
  private sshConfig(): string[] {
    return ['-c', `core.sshCommand=${remoteCommand(sshArgv(this.host, this.stateDir).slice(0, -2))}`];
  }

  private url(path: string): string {
    return `${this.host.ssh}:${path}`;
  }

  private roomSeen: { at: number; room: Promise<{ freeBytes: number | null; sandbox: boolean }> } | null = null;

  /** Its free memory and bubblewrap, asked at most every 15 s (one round trip on the shared connection). */
  room(): Promise<{ freeBytes: number | null; sandbox: boolean }> {
    if (this.roomSeen && Date.now() - this.roomSeen.at < ROOM_FOR_MS) return this.roomSeen.room;
    const room = this.ssh(['sh', '-s'], { input: ROOM_SCRIPT, timeoutMs: 30_000 }).then((r) => {
      const facts = parseProbe(r.stdout);
      if (!facts) throw new SwarmError('SWARM_HOST_FAILED', `host ${this.name} did not say what room it has: ${r.stderr.trim().split('\n').at(-1) ?? 'no answer'}`);
      return { freeBytes: facts.mem_free_mb === null ? null : facts.mem_free_mb * 1024 * 1024, sandbox: Boolean(facts.paths.bwrap) };
    });
    this.roomSeen = { at: Date.now(), room };
    room.catch(() => (this.roomSeen = null));
    return room;
  }

  async freshSession(base: string): Promise<{ sessionId: string; dir: string }> {
    const made = await this.ssh(['sh', '-s', '--', `${await this.repoDir()}/sessions/${base}`], { input: FRESH_SCRIPT });
    const dir = made.stdout.trim();
    if (made.code !== 0 || !dir.startsWith('/')) throw new SwarmError('SWARM_HOST_FAILED', `could not make a session folder on ${this.name}: ${made.stderr.trim()}`);
    return { sessionId: basename(dir), dir };
  }

  async start(dir: string, spec: SessionStart, files: Record<string, string> = {}): Promise<SessionState> {
    if (spec.net) throw new SwarmError('SWARM_HOST_FAILED', `the endpoints-only sandbox network is not available on host ${this.name} yet`);
    const env: Record<string, string> = {};
    const hostEnv: string[] = [];
    // What swarm and the config set travels (the task id, the agent's configured env); what is only this
    // machine's own environment (PATH, HOME, a provider key) does not: it is named, and the host's value is used.
    for (const [key, value] of Object.entries(spec.env)) {
      if (process.env[key] === value || LOCAL_ONLY.has(key)) hostEnv.push(key);
      else env[key] = value;
    }
    const { argv, cwd, cols, rows, scrollback_bytes, transcript_max_bytes, confine } = spec;
    // A sandbox is built there, by the host's swarm, around the host's own home, logins and paths: its mirror
    // shown read-only, its other checkouts and its sessions hidden.
    const repo = await this.repoDir();
    const input: HostStart = { spec: { argv, cwd, env, cols, rows, scrollback_bytes, ...(transcript_max_bytes ? { transcript_max_bytes } : {}) }, host_env: hostEnv, files, ...(confine ? { confine, place: { repo_root: `${repo}/mirror.git`, state_dir: `${repo}/sessions` } } : {}) };
    return SessionState.parse(await this.op('start', [dir], JSON.stringify(input)));
  }

  /** Looks read ahead by `lookAll`: each answers one later `look` asking no more bytes, within a short time. */
  private readonly ahead = new Map<string, { view: SessionView; bytes: number; at: number }>();

  async look(dir: string, tailBytes: number): Promise<SessionView> {
    const early = this.ahead.get(dir);
    this.ahead.delete(dir);
    if (early && early.bytes >= tailBytes && Date.now() - early.at < LOOK_AHEAD_MS) return { ...early.view, tail: tailBytes > 0 ? early.view.tail.slice(-tailBytes) : '' };
    const view = View.parse(await this.op('look', [dir, String(tailBytes)]));
    return { live: view.live as Liveness, last_output_at: view.last_output_at, tail: view.tail };
  }

  async lookAll(dirs: readonly string[], tailBytes: number): Promise<Map<string, SessionView>> {
    if (!dirs.length) return new Map();
    const views = z.array(View).parse(await this.op('look-many', ['-'], JSON.stringify({ dirs, bytes: tailBytes })));
    const now = Date.now();
    const all = new Map<string, SessionView>();
    dirs.forEach((dir, i) => {
      const view = { live: views[i]!.live as Liveness, last_output_at: views[i]!.last_output_at, tail: views[i]!.tail };
      all.set(dir, view);
      this.ahead.set(dir, { view, bytes: tailBytes, at: now });
    });
    return all;
  }

  async kill(dir: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
    return z.boolean().parse(await this.op('kill', [dir, signal]));
  }

  async stop(dir: string): Promise<number[] | null> {
    return z.array(z.number()).nullable().parse(await this.op('stop', [dir]));
  }

  async leftovers(dir: string): Promise<number[]> {
    return z.array(z.number()).parse(await this.op('leftovers', [dir]));
  }

  async read(dir: string, offset: number, maxBytes: number): Promise<{ data: Buffer; ended: boolean }> {
    const piece = Piece.parse(await this.op('read', [dir, String(offset), String(maxBytes)]));
    return { data: Buffer.from(piece.data, 'base64'), ended: piece.ended };
  }

  /** The holder's socket, relayed by `swarm host connect` over the shared ssh connection. */
  connect(dir: string, handlers: { onMessage: (message: HolderMessage) => void }): Promise<SessionConnection> {
    mkdirSync(controlDir(this.stateDir), { recursive: true, mode: 0o700 });
    return new Promise((resolve, reject) => {
      const child = spawn('ssh', [...sshArgv(this.host, this.stateDir).slice(1), remoteCommand([...this.host.swarm, 'host', 'connect', dir])], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      let heard = false;
      const closed = new Promise<void>((done) => child.once('close', () => done()));
      child.stdout.setEncoding('utf8');
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.on('data', jsonLines(HolderMessage, (message) => {
        heard = true;
        handlers.onMessage(message);
      }));
      child.stdin.on('error', () => undefined);
      child.once('error', reject);
      child.once('close', (code) => {
        if (!heard && code !== 0) reject(new Error(sshTrouble(this.name, this.host, { code: code ?? 255, stdout: '', stderr }) ?? (stderr.trim().split('\n').at(-1) || 'this session is not running')));
      });
      // Connected once ssh runs; a session that is not there ends it at once (rejected above).
      child.once('spawn', () =>
        resolve({
          send: (message: ClientMessage) => {
            if (child.stdin.writable) child.stdin.write(`${JSON.stringify(message)}\n`);
          },
          close: () => {
            child.stdin.end();
            child.kill('SIGTERM');
          },
          closed,
        }),
      );
    });
  }

  async checkoutPath(task: RunnerTask): Promise<string> {
    return `${await this.repoDir()}/checkouts/${basename(task.worktree)}`;
  }

  private async mirror(): Promise<string> {
    return `${await this.repoDir()}/mirror.git`;
  }

  async prepare(task: RunnerTask, options: { start: string; kind: WorkspaceKind }): ReturnType<Runner['prepare']> {
    const mirror = await this.mirror();
    // Base, where the task starts, and its branch if it has commits already (a task placed again): pushed.
    const startSha = await revParse(this.repoRoot, options.start);
    const refs = [`+${startSha}:refs/swarm/start/${task.id}`, `+refs/heads/${task.base}:refs/heads/${task.base}`];
    if (await branchExists(this.repoRoot, task.branch)) refs.push(`+refs/heads/${task.branch}:refs/heads/${task.branch}`);
    const pushed = await runGit(this.repoRoot, [...this.sshConfig(), 'push', '--quiet', '--no-verify', this.url(mirror), ...refs]);
    if (pushed.code !== 0) throw new SwarmError('SWARM_HOST_FAILED', `could not push to the mirror on ${this.name}: ${pushed.stderr.trim()}`);
    const path = task.worktree;
    const start = `refs/swarm/start/${task.id}`;
    // A half-made checkout is removed by the script: nothing is left there after a failed start.
    const checkout = await this.ssh(['sh', '-s', '--', path, mirror, start, task.branch, refs.length > 2 ? `origin/${task.branch}` : start], { input: CHECKOUT_SCRIPT });
    const how = checkout.stdout.trim().split('\n').at(-1);
    if (checkout.code !== 0 || (how !== 'created' && how !== 'reused')) throw new SwarmError('SWARM_HOST_FAILED', `could not check out ${task.branch} on ${this.name}: ${checkout.stderr.trim() || 'no answer'}`);
    return { how: how as 'created' | 'reused', installs: await this.setup(path, options.kind === 'clone'), gitDirs: [`${path}/.git`] };
  }

  /**
   * The dependency installs (from the host's own store) and setup commands, run there by its swarm, confined
   * as the agent is. Listed untracked files (`worktree.copy`, a .env) are not sent: nothing of this machine's
   * but the prompt and the repository's objects goes to a host.
   */
  private async setup(path: string, confined: boolean): Promise<DepsOutcome[]> {
    const config = this.config;
    if (!config || (!config.worktree.deps.length && !config.worktree.setup.length)) return [];
    const repoDir = await this.repoDir();
    const plan = setupPlanOf(config, { repoRoot: `${repoDir}/mirror.git`, stateDir: `${repoDir}/sessions`, confined });
    const steps = plan.deps.length + plan.setup.length;
    const answer = SetupAnswer.parse(await this.op('setup', [path], JSON.stringify(plan), steps * plan.timeout_minutes * 60_000 + 60_000));
    if (!answer.ok) throw new GitError('SWARM_SETUP_FAILED', `On host ${this.name}: ${answer.error}`);
    return answer.installs;
  }

  async fetchBranch(task: RunnerTask): Promise<FetchBack> {
    try {
      return await fetchBack(this.repoRoot, this.url(task.worktree), task.branch, this.sshConfig());
    } catch (err) {
      // ssh's own failure (the host away, its key) is transient trouble, not a failed fetch.
      const said = errorMessage(err);
      const trouble = /ssh|Connection|Host key/i.test(said) ? sshTrouble(this.name, this.host, { code: 255, stdout: '', stderr: said }) : null;
      throw trouble ? new HostUnreachableError(this.name, trouble) : err;
    }
  }

  async uncommitted(task: RunnerTask): Promise<string[]> {
    // The checkout's config is the agent's: its filter drivers, fsmonitor, hooks and pager are switched off.
    const names = await this.ssh(['git', ...FILTER_NAMES_ARGS.slice(0, 2), `${task.worktree}/.git/config`, ...FILTER_NAMES_ARGS.slice(2)]);
    const result = await this.ssh(['git', ...disarmFlags(names.stdout), '-C', task.worktree, 'status', '--porcelain=v1', '-z', '--untracked-files=all']);
    if (result.code !== 0) throw new SwarmError('SWARM_GIT_FAILED', `git status on ${this.name} failed: ${result.stderr.trim()}`);
    return porcelainPaths(result.stdout);
  }

  async ciReports(task: RunnerTask, dir: string, ask: ReportAsk): Promise<string[]> {
    return z.array(z.string()).parse(await this.op('reports', [dir, task.worktree], JSON.stringify(ask)));
  }

  async removeCheckout(task: RunnerTask, options: { force?: boolean; deleteBranch?: boolean }): Promise<RemoveResult> {
    const there = (await this.ssh(['test', '-d', task.worktree])).code === 0;
    if (there && !options.force) {
      const dirty = await this.uncommitted(task).catch((err: unknown) => [`(could not read: ${err instanceof Error ? err.message : String(err)})`]);
      if (dirty.length) return { removed: false, why: `uncommitted changes on ${this.name} in ${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? ', ...' : ''} (use --force to discard)` };
    }
    // Commits not brought back yet (a task stopped while running) are kept on the branch here.
    if (there && !options.deleteBranch) await this.fetchBranch(task).catch(() => undefined);
    if (there) await this.ssh(['rm', '-rf', task.worktree]);
    await this.ssh(['git', '--git-dir', await this.mirror(), 'update-ref', '-d', `refs/swarm/start/${task.id}`]).catch(() => undefined);
    if (options.deleteBranch) await deleteBranchUnlessCheckedOut(this.repoRoot, task.branch);
    return { removed: true };
  }
}
