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
import type { HostConfig, SwarmConfig } from '../../config/schema.js';
import { HostUnreachableError } from '../errors.js';
import { errorMessage, SwarmError } from '../../errors.js';
import type { HolderMessage, SessionState } from '../../sessions/protocol.js';
import { branchExists, disarmFlags, FILTER_NAMES_ARGS, porcelainPaths, revParse, runGit } from '../../workspace/git.js';
import { fetchBack, type FetchBack } from '../../workspace/clones.js';
import { deleteBranchUnlessCheckedOut, type RemoveResult, type WorkspaceKind } from '../../workspace/worktrees.js';
import type { DepsOutcome } from '../../workspace/deps.js';
import type { ReportAsk } from '../../forge/ci-reports.js';
import { setupPlanOf } from '../../workspace/setup.js';
import type { Runner, RunnerTask, SessionConnection, SessionStart, SessionView } from '../runner.js';
import { HostedSessions, type Stream, type Transport } from '../hosted.js';
import { parseProbe, ROOM_SCRIPT } from './probe.js';
import { controlDir, remoteCommand, runOnHost, sshArgv, sshTrouble, type SshResult } from './ssh.js';

/** The host cannot be reached now: transient trouble (the monitor waits; no retry is spent). */
export { HostUnreachableError } from '../errors.js';

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

/** How long a host's room, once asked, stands (placement may ask every pass). */
const ROOM_FOR_MS = 15_000;

/** One command on the host over the shared ssh connection; ssh's own failure is transient trouble. */
class SshTransport implements Transport {
  constructor(private readonly name: string, private readonly host: HostConfig, private readonly stateDir: string) {}

  async run(argv: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<SshResult> {
    const result = await runOnHost(this.host, this.stateDir, argv, options);
    const trouble = sshTrouble(this.name, this.host, result);
    if (trouble) throw new HostUnreachableError(this.name, trouble);
    return result;
  }

  open(argv: readonly string[], onStdout: (chunk: string) => void): Promise<Stream> {
    mkdirSync(controlDir(this.stateDir), { recursive: true, mode: 0o700 });
    return new Promise((resolve, reject) => {
      const child = spawn('ssh', [...sshArgv(this.host, this.stateDir).slice(1), remoteCommand(argv)], { stdio: ['pipe', 'pipe', 'pipe'] });
      const ended = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', onStdout);
      child.stderr.resume();
      child.stdin.on('error', () => undefined);
      child.once('error', reject);
      // Connected once ssh runs; a session that is not there ends it at once.
      child.once('spawn', () =>
        resolve({
          write: (text: string) => {
            if (child.stdin.writable) child.stdin.write(text);
          },
          close: () => {
            child.stdin.end();
            child.kill('SIGTERM');
          },
          ended,
        }),
      );
    });
  }
}

export class SshRunner implements Runner {
  private base: Promise<string> | null = null;
  private readonly transport: SshTransport;
  private readonly sessions: HostedSessions;

  /**
   * `stateDir`: the repository's `.swarm` (the shared connection's socket lives there). `config`: the project's,
   * for the dependency installs and setup commands a new checkout runs there.
   */
  constructor(readonly name: string, private readonly host: HostConfig, private readonly repoRoot: string, private readonly stateDir: string, private readonly config?: SwarmConfig) {
    this.transport = new SshTransport(name, host, stateDir);
    this.sessions = new HostedSessions(name, this.transport, host.swarm);
  }

  private ssh(argv: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<SshResult> {
    return this.transport.run(argv, options);
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

  async freshSession(_task: RunnerTask, base: string): Promise<{ sessionId: string; dir: string }> {
    return this.sessions.fresh(`${await this.repoDir()}/sessions`, base);
  }

  async start(dir: string, spec: SessionStart, files: Record<string, string> = {}): Promise<SessionState> {
    if (spec.net) throw new SwarmError('SWARM_HOST_FAILED', `the endpoints-only sandbox network is not available on host ${this.name} yet`);
    // A sandbox is built there, by the host's swarm, around the host's own home, logins and paths: its mirror
    // shown read-only, its other checkouts and its sessions hidden.
    const repo = await this.repoDir();
    return this.sessions.start(dir, spec, files, { repo_root: `${repo}/mirror.git`, state_dir: `${repo}/sessions` });
  }

  look(dir: string, tailBytes: number): Promise<SessionView> {
    return this.sessions.look(dir, tailBytes);
  }

  lookAll(dirs: readonly string[], tailBytes: number): Promise<Map<string, SessionView>> {
    return this.sessions.lookAll(dirs, tailBytes);
  }

  kill(dir: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
    return this.sessions.kill(dir, signal);
  }

  stop(dir: string): Promise<number[] | null> {
    return this.sessions.stop(dir);
  }

  leftovers(dir: string): Promise<number[]> {
    return this.sessions.leftovers(dir);
  }

  read(dir: string, offset: number, maxBytes: number): Promise<{ data: Buffer; ended: boolean }> {
    return this.sessions.read(dir, offset, maxBytes);
  }

  connect(dir: string, handlers: { onMessage: (message: HolderMessage) => void }): Promise<SessionConnection> {
    return this.sessions.connect(dir, handlers);
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
    return this.sessions.setup(path, setupPlanOf(config, { repoRoot: `${repoDir}/mirror.git`, stateDir: `${repoDir}/sessions`, confined }), `host ${this.name}`);
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

  ciReports(task: RunnerTask, dir: string, ask: ReportAsk): Promise<string[]> {
    return this.sessions.ciReports(task.worktree, dir, ask);
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
