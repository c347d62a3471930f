/**
 * The Kubernetes runner: a task's checkout and sessions in a pod of its own. Sessions are the same holder as
 * everywhere, driven by `swarm host <op>` over the pod's exec API (hosted.ts, transport.ts). A pod cannot
 * reach the user's laptop, so code moves through the forge: the pod clones base (or the task's branch, once
 * pushed) from it with the token of a Secret, pushes the task's branch back, and the branch is fetched here
 * from the forge. The cluster places, isolates (the pod is the sandbox; its runtime class), limits and
 * restarts; a pod not running yet leaves the task queued, saying why.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { KubernetesConfig, SwarmConfig } from '../../config/schema.js';
import { SwarmError } from '../../errors.js';
import type { HolderMessage, SessionState } from '../../sessions/protocol.js';
import { fetchBack, type FetchBack } from '../../workspace/clones.js';
import { porcelainPaths, runGit } from '../../workspace/git.js';
import { deleteBranchUnlessCheckedOut, type RemoveResult, type WorkspaceKind } from '../../workspace/worktrees.js';
import type { DepsOutcome } from '../../workspace/deps.js';
import { setupPlanOf } from '../../workspace/setup.js';
import type { ReportAsk } from '../../forge/ci-reports.js';
import { HostedSessions } from '../hosted.js';
import type { Runner, RunnerTask, SessionConnection, SessionStart, SessionView } from '../runner.js';
import { KubeCluster, PodGoneError, podState } from './cluster.js';
import { FORGE_CONTAINER, FORGE_DIR, repoSelector, templateName } from './manifests.js';
import { PodPlacement, SandboxPlacement, type PlacedTask, type Placement } from './placement.js';
import { PodWatch } from './pods.js';
import { PodTransport } from './transport.js';

export { ClusterWaitError } from './placement.js';

const WORKSPACE = '/workspace';
/** How much of each session's transcript is kept here when its pod goes. */
const KEEP_BYTES = 8 * 1024 * 1024;
const CHECKOUT = `${WORKSPACE}/checkout`;

/** The forge token, to git, from the environment of the forge's container only. */
const HELPER = `'!f() { echo username=x-access-token; echo "password=$SWARM_FORGE_TOKEN"; }; f'`;

/**
 * `sh -s -- URL BRANCH BASE MIRROR`, in the forge's container: the forge's branches fetched into a bare mirror
 * (on its own volume, which the agent's container does not mount), and the agent's checkout made from the
 * mirror on the task's branch (its pushed commits if any, else base). The checkout's origin is the forge's URL,
 * without the token.
 */
const CHECKOUT_SCRIPT = `url=$1; branch=$2; base=$3; mirror=$4
helper=${HELPER}
if [ -d ${CHECKOUT}/.git ]; then echo reused; exit 0; fi
if [ ! -d "$mirror" ]; then git -c credential.helper="$helper" clone --quiet --bare "$url" "$mirror" || { rm -rf "$mirror"; exit 1; }; fi
git -C "$mirror" -c credential.helper="$helper" fetch --quiet --prune "$url" "+refs/heads/*:refs/heads/*" || exit 1
start=$base; git -C "$mirror" rev-parse --verify --quiet "refs/heads/$branch" >/dev/null && start=$branch
git clone --quiet --no-hardlinks --branch "$start" "$mirror" ${CHECKOUT} || { rm -rf ${CHECKOUT}; exit 1; }
cd ${CHECKOUT} && git remote set-url origin "$url" && git checkout --quiet -B "$branch" && echo created && exit 0
rm -rf ${CHECKOUT}; exit 1
`;

/**
 * \`sh -s -- URL BRANCH MIRROR\`, in the forge's container: the task's branch fetched from the agent's checkout
 * into the mirror (fetch runs nothing of a repository the agent wrote), and pushed to the forge from there.
 */
const PUSH_SCRIPT = `url=$1; branch=$2; mirror=$3
helper=${HELPER}
git -C "$mirror" fetch --quiet ${CHECKOUT} "+refs/heads/$branch:refs/heads/$branch" || exit 1
git -C "$mirror" -c credential.helper="$helper" push --quiet --force "$url" "refs/heads/$branch:refs/heads/$branch"
`;

/** The pod and session a session folder names (`/workspace/s/<pod>/<session>`), or null. */
function sessionPlace(dir: string): { pod: string; session: string } | null {
  const m = /^\/workspace\/s\/([a-z0-9.-]+)\/([^/]+)$/.exec(dir);
  return m ? { pod: m[1]!, session: m[2]! } : null;
}

/** A pod gone answers `value`; any other error goes on. */
function unlessGone<T>(value: T): (err: unknown) => T {
  return (err) => {
    if (err instanceof PodGoneError) return value;
    throw err;
  };
}

export class KubeRunner implements Runner {
  private loaded: KubeCluster | null = null;
  private placing: Promise<Placement> | null = null;
  private watch: PodWatch | null = null;
  /** Each pod's sessions (their looks read ahead by a pass are kept there). */
  private readonly sessions = new Map<string, HostedSessions>();
  /** The pod each task was last placed in. */
  private readonly placed = new Map<number, string>();

  /** `stateDir`: where transcripts kept from pods that went are (`<stateDir>/clusters/<cluster>/<pod>/<session>`). */
  constructor(readonly name: string, private readonly options: KubernetesConfig, private readonly repoRoot: string, private readonly stateDir: string, private readonly config: SwarmConfig) {
    this.repo = `${basename(repoRoot)}-${createHash('sha256').update(repoRoot).digest('hex').slice(0, 6)}`;
  }

  /** This repository's name on the cluster: its folder and a hash of its path. */
  private readonly repo: string;

  private cluster(): KubeCluster {
    this.loaded ??= KubeCluster.load({ kubeconfig: this.options.kubeconfig, context: this.options.context, namespace: this.options.namespace, name: this.name });
    return this.loaded;
  }

  /** A claim on a SandboxTemplate where the agent-sandbox CRDs are installed, else a plain pod: asked once. */
  private placement(): Promise<Placement> {
    this.placing ??= (async (): Promise<Placement> => {
      const cluster = this.cluster();
      const { image, swarm, token_secret, runtime_class, resources, sandbox } = this.options;
      const pod = image ? { image, swarm, token_secret, runtime_class, resources } : null;
      if (await cluster.sandboxCrds()) return new SandboxPlacement(cluster, this.name, { template: templateName(this.name, sandbox.template), pod: sandbox.template ? null : pod, warmPool: sandbox.warm_pool });
      if (!pod) throw new SwarmError('SWARM_CLUSTER', `Cluster ${this.name} has no agent-sandbox CRDs, so its tasks run in plain pods: set kubernetes.${this.name}.image (a SandboxTemplate is used only where the CRDs are installed).`);
      return new PodPlacement(cluster, this.name, pod);
    })().catch((err: unknown) => {
      this.placing = null;
      throw err;
    });
    return this.placing;
  }


  /** The task as its placement knows it. */
  private at(task: { id: number }): PlacedTask {
    return { id: task.id, repo: this.repo };
  }

  /** The pod the task's checkout is in (as placed, or as the cluster says). */
  private async pod(task: { id: number }): Promise<string> {
    const known = this.placed.get(task.id) ?? (await (await this.placement()).podOf(this.at(task)));
    if (!known) throw new SwarmError('SWARM_CLUSTER', `task ${task.id} has no pod on cluster ${this.name} now`);
    return known;
  }

  private sessionsIn(pod: string): HostedSessions {
    let sessions = this.sessions.get(pod);
    if (!sessions) this.sessions.set(pod, (sessions = new HostedSessions(this.name, new PodTransport(this.cluster(), pod), this.options.swarm)));
    return sessions;
  }

  /** Session folders name their pod: `/workspace/s/<pod>/<session>`. */
  private sessionsOf(dir: string): HostedSessions {
    const at = sessionPlace(dir);
    if (!at) throw new SwarmError('SWARM_CLUSTER', `${dir} is not a session folder of cluster ${this.name}`);
    return this.sessionsIn(at.pod);
  }

  async freshSession(task: RunnerTask, base: string): Promise<{ sessionId: string; dir: string }> {
    const pod = await this.pod(task);
    return this.sessionsIn(pod).fresh(`${WORKSPACE}/s/${pod}`, base);
  }

  start(dir: string, spec: SessionStart, files: Record<string, string> = {}): Promise<SessionState> {
    if (spec.confine || spec.net) throw new SwarmError('SWARM_CLUSTER', `On cluster ${this.name} the pod is the sandbox (kubernetes.${this.name}.runtime_class): set this agent's "sandbox" to "none" for its tasks there.`);
    return this.sessionsOf(dir).start(dir, spec, files, undefined);
  }

  look(dir: string, tailBytes: number): Promise<SessionView> {
    return this.sessionsOf(dir).look(dir, tailBytes);
  }

  /**
   * The monitor's pass: the pods' states come from one watch of this repository's pods (opened on the first
   * pass), so each session costs one exec (the holder's record) and no pod read. A session whose look fails
   * is left out: its task's own look says why in its turn.
   */
  async lookAll(dirs: readonly string[], tailBytes: number): Promise<Map<string, SessionView>> {
    const cluster = this.cluster();
    if (!this.watch) {
      this.watch = new PodWatch(cluster, repoSelector(this.repo));
      cluster.known = this.watch;
    }
    await this.watch.ensure().catch(() => undefined);
    const all = new Map<string, SessionView>();
    await Promise.all(dirs.map(async (dir) => {
      const sessions = this.sessionsOf(dir);
      const view = (await sessions.lookAll([dir], tailBytes).catch(() => null))?.get(dir);
      if (view) all.set(dir, view);
    }));
    return all;
  }

  /** The pod watch let go (the daemon stops). */
  close(): void {
    this.watch?.close();
  }

  /** A session whose pod is gone has nothing left alive: nothing to signal, stop or leave behind. */
  kill(dir: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
    return this.sessionsOf(dir).kill(dir, signal).catch(unlessGone(false));
  }

  async stop(dir: string): Promise<number[] | null> {
    return this.sessionsOf(dir).stop(dir).catch(unlessGone(null));
  }

  leftovers(dir: string): Promise<number[]> {
    return this.sessionsOf(dir).leftovers(dir).catch(unlessGone([]));
  }

  /** A session whose pod went (at rest, released) is read from the transcript kept here when it went. */
  async read(dir: string, offset: number, maxBytes: number): Promise<{ data: Buffer; ended: boolean }> {
    try {
      return await this.sessionsOf(dir).read(dir, offset, maxBytes);
    } catch (err) {
      const kept = this.keptAt(dir);
      if (!(err instanceof PodGoneError) || !kept || !existsSync(kept)) throw err;
      const all = readFileSync(kept);
      return { data: all.subarray(offset, offset + maxBytes), ended: true };
    }
  }

  private keptAt(dir: string): string | null {
    const at = sessionPlace(dir);
    return at ? join(this.stateDir, 'clusters', this.name, at.pod, at.session, 'transcript') : null;
  }

  /** Every session's transcript in the pod copied here (its last KEEP_BYTES), before the pod goes. */
  private async keepTranscripts(pod: string): Promise<void> {
    const listed = await this.cluster().exec(pod, ['sh', '-c', 'ls -1 "$1" 2>/dev/null; true', 'sh', `${WORKSPACE}/s/${pod}`]);
    for (const session of listed.stdout.split('\n').filter((name) => /^[^/]+$/.test(name))) {
      const dir = `${WORKSPACE}/s/${pod}/${session}`;
      let kept = Buffer.alloc(0);
      for (let offset = 0; ; ) {
        const piece = await this.sessionsIn(pod).read(dir, offset, 1 << 20);
        if (!piece.data.length) break;
        offset += piece.data.length;
        kept = Buffer.concat([kept, piece.data]).subarray(-KEEP_BYTES);
      }
      const file = this.keptAt(dir)!;
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, kept);
    }
  }

  connect(dir: string, handlers: { onMessage: (message: HolderMessage) => void }): Promise<SessionConnection> {
    return this.sessionsOf(dir).connect(dir, handlers);
  }

  /**
   * The task's pod, made (or claimed) if it has none; the checkout's place in it once it runs. A pod the
   * cluster has not placed yet (no room: Pending, unschedulable) leaves the task queued with the scheduler's words.
   */
  async checkoutPath(task: RunnerTask): Promise<string> {
    const pod = await (await this.placement()).place(this.at(task));
    this.placed.set(task.id, pod);
    return CHECKOUT;
  }

  /**
   * The task waits on a human: where the cluster allows (a Sandbox), its pod is scaled to zero until a retry
   * wakes it; the branch is on the forge, and a woken pod clones it again. A plain pod is kept.
   */
  async rest(task: RunnerTask): Promise<string | null> {
    if (!this.options.sandbox.rest_while_waiting) return null;
    const placement = await this.placement();
    if (placement.kind !== 'sandbox') return null;
    const current = await placement.podOf(this.at(task));
    if (current) await this.keepTranscripts(current).catch(() => undefined);
    const rested = await placement.rest(this.at(task));
    if (!rested) return null;
    const pod = this.placed.get(task.id);
    this.placed.delete(task.id);
    if (pod) this.sessions.delete(pod);
    return `sandbox of task ${task.id} on cluster ${this.name} scaled to zero while it waits for you`;
  }

  /**
   * Where the forge's side runs in the pod: its own container when the pod has one (swarm's pods and
   * template do), else (a template of yours with one container) the agent's, with the mirror in /workspace.
   */
  private async forgeSide(pod: string): Promise<{ container: string | null; mirror: string }> {
    const spec = (this.cluster().known?.get(pod) ?? (await this.cluster().readPod(pod)))?.spec;
    return spec?.containers.some((c) => c.name === FORGE_CONTAINER) ? { container: FORGE_CONTAINER, mirror: `${FORGE_DIR}/mirror.git` } : { container: null, mirror: `${WORKSPACE}/.swarm-mirror.git` };
  }

  /** The forge's URL for this repository, as the pod clones it. */
  private async forgeUrl(): Promise<string> {
    const url = (await runGit(this.repoRoot, ['remote', 'get-url', this.config.github.remote])).stdout.trim();
    if (!url) throw new SwarmError('SWARM_CLUSTER', `Tasks on cluster ${this.name} move their code through the forge: this repository has no remote "${this.config.github.remote}".`);
    return url;
  }

  async prepare(task: RunnerTask, _options: { start: string; kind: WorkspaceKind }): Promise<{ how: 'created' | 'reused'; installs: DepsOutcome[]; gitDirs: string[] }> {
    const pod = await this.pod(task);
    const forge = await this.forgeSide(pod);
    const result = await this.cluster().exec(pod, ['sh', '-s', '--', await this.forgeUrl(), task.branch, task.base, forge.mirror], { input: CHECKOUT_SCRIPT, timeoutMs: 10 * 60_000, ...(forge.container ? { container: forge.container } : {}) });
    const how = result.stdout.trim().split('\n').at(-1);
    if (result.code !== 0 || (how !== 'created' && how !== 'reused')) throw new SwarmError('SWARM_CLUSTER', `could not clone the repository from the forge in pod ${pod}: ${result.stderr.trim().split('\n').at(-1) || 'no answer'}`);
    // The config's dependency installs and setup commands, run in the pod by its swarm (the pod is the sandbox).
    const installs = await this.sessionsIn(pod).setup(CHECKOUT, setupPlanOf(this.config, { repoRoot: CHECKOUT, stateDir: `${WORKSPACE}/.swarm`, confined: false }), `cluster ${this.name} (pod ${pod})`);
    return { how, installs, gitDirs: [`${CHECKOUT}/.git`] };
  }

  /** The pod pushes the task's branch to the forge; it is fetched here from there. */
  async fetchBranch(task: RunnerTask): Promise<FetchBack> {
    const pod = await this.pod(task);
    const forge = await this.forgeSide(pod);
    const pushed = await this.cluster().exec(pod, ['sh', '-s', '--', await this.forgeUrl(), task.branch, forge.mirror], { input: PUSH_SCRIPT, timeoutMs: 5 * 60_000, ...(forge.container ? { container: forge.container } : {}) });
    if (pushed.code !== 0) throw new SwarmError('SWARM_CLUSTER', `pod ${pod} could not push ${task.branch} to the forge: ${pushed.stderr.trim().split('\n').at(-1) ?? ''}`);
    return fetchBack(this.repoRoot, this.config.github.remote, task.branch);
  }

  async uncommitted(task: RunnerTask): Promise<string[]> {
    const pod = await this.pod(task);
    const result = await this.cluster().exec(pod, ['git', '-C', CHECKOUT, 'status', '--porcelain=v1', '-z', '--untracked-files=all']);
    if (result.code !== 0) throw new SwarmError('SWARM_GIT_FAILED', `git status in pod ${pod} failed: ${result.stderr.trim()}`);
    return porcelainPaths(result.stdout);
  }

  /** CI runs on the forge for cluster tasks: no report files are read in the pod. */
  async ciReports(_task: RunnerTask, _dir: string, _ask: ReportAsk): Promise<string[]> {
    return [];
  }

  async removeCheckout(task: RunnerTask, options: { force?: boolean; deleteBranch?: boolean }): Promise<RemoveResult> {
    const placement = await this.placement();
    const pod = await placement.podOf(this.at(task));
    if (pod && podState(await this.cluster().readPod(pod)).kind === 'running' && !options.force) {
      const dirty = await this.uncommitted(task).catch(() => []);
      if (dirty.length) return { removed: false, why: `uncommitted changes in pod ${pod} in ${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? ', ...' : ''} (use --force to discard)` };
    }
    if (pod) await this.keepTranscripts(pod).catch(() => undefined);
    await placement.release(this.at(task));
    this.placed.delete(task.id);
    if (pod) this.sessions.delete(pod);
    if (options.deleteBranch) await deleteBranchUnlessCheckedOut(this.repoRoot, task.branch);
    return { removed: true };
  }
}
