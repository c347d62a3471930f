/**
 * The Kubernetes runner: a task's checkout and sessions in a pod of its own. Sessions are the same holder as
 * everywhere, driven by `swarm host <op>` over the pod's exec API (hosted.ts, transport.ts). A pod cannot
 * reach the user's laptop, so code moves through the forge: the pod clones base (or the task's branch, once
 * pushed) from it with the token of a Secret, pushes the task's branch back, and the branch is fetched here
 * from the forge. The cluster places, isolates (the pod is the sandbox; its runtime class), limits and
 * restarts; a pod not running yet leaves the task queued, saying why.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { KubernetesConfig, SwarmConfig } from '../../config/schema.js';
import { SwarmError } from '../../errors.js';
import type { HolderMessage, SessionState } from '../../sessions/protocol.js';
import { fetchBack, type FetchBack } from '../../workspace/clones.js';
import { porcelainPaths, runGit } from '../../workspace/git.js';
import { deleteBranchUnlessCheckedOut, type RemoveResult, type WorkspaceKind } from '../../workspace/worktrees.js';
import type { DepsOutcome } from '../../workspace/deps.js';
import type { ReportAsk } from '../../forge/ci-reports.js';
import { HostedSessions } from '../hosted.js';
import type { Runner, RunnerTask, SessionConnection, SessionStart, SessionView } from '../runner.js';
import { KubeCluster, podState } from './cluster.js';
import { podManifest, podName } from './manifests.js';
import { PodTransport } from './transport.js';

const WORKSPACE = '/workspace';
const CHECKOUT = `${WORKSPACE}/checkout`;

/** `sh -s -- URL BRANCH BASE`: the checkout cloned from the forge on the task's branch (its pushed commits if any). */
const CHECKOUT_SCRIPT = `url=$1; branch=$2; base=$3
cd ${WORKSPACE} || exit 1
if [ -d checkout/.git ]; then echo reused; exit 0; fi
helper='!f() { echo username=x-access-token; echo "password=$SWARM_FORGE_TOKEN"; }; f'
git -c credential.helper="$helper" clone --quiet "$url" checkout || { rm -rf checkout; exit 1; }
cd checkout && git config credential.helper "$helper" &&
if git rev-parse --verify --quiet "refs/remotes/origin/$branch" >/dev/null; then git checkout --quiet -B "$branch" "origin/$branch"; else git checkout --quiet -B "$branch" "origin/$base"; fi && echo created && exit 0
cd .. && rm -rf checkout; exit 1
`;

/** The cluster cannot take the task now (its pod is not running yet): the task waits, no retry spent. */
export class ClusterWaitError extends SwarmError {
  constructor(readonly cluster: string, message: string) {
    super('SWARM_CLUSTER_WAIT', message);
  }
}

export class KubeRunner implements Runner {
  private loaded: KubeCluster | null = null;

  constructor(readonly name: string, private readonly options: KubernetesConfig, private readonly repoRoot: string, private readonly config: SwarmConfig) {}

  private cluster(): KubeCluster {
    this.loaded ??= KubeCluster.load({ kubeconfig: this.options.kubeconfig, context: this.options.context, namespace: this.options.namespace });
    return this.loaded;
  }

  /** This repository's name on the cluster: its folder and a hash of its path. */
  private repo(): string {
    return `${basename(this.repoRoot)}-${createHash('sha256').update(this.repoRoot).digest('hex').slice(0, 6)}`;
  }

  private pod(task: { id: number }): string {
    return podName({ repo: this.repo(), id: task.id });
  }

  /** Session folders name their pod: `/workspace/s/<pod>/<session>`. */
  private sessionsOf(dir: string): HostedSessions {
    const pod = /^\/workspace\/s\/([a-z0-9-]+)\//.exec(dir)?.[1];
    if (!pod) throw new SwarmError('SWARM_CLUSTER', `${dir} is not a session folder of cluster ${this.name}`);
    return new HostedSessions(this.name, new PodTransport(this.cluster(), pod), this.options.swarm);
  }

  async freshSession(task: RunnerTask, base: string): Promise<{ sessionId: string; dir: string }> {
    const pod = this.pod(task);
    return new HostedSessions(this.name, new PodTransport(this.cluster(), pod), this.options.swarm).fresh(`${WORKSPACE}/s/${pod}`, base);
  }

  start(dir: string, spec: SessionStart, files: Record<string, string> = {}): Promise<SessionState> {
    if (spec.confine || spec.net) throw new SwarmError('SWARM_CLUSTER', `On cluster ${this.name} the pod is the sandbox (kubernetes.${this.name}.runtime_class): set this agent's "sandbox" to "none" for its tasks there.`);
    return this.sessionsOf(dir).start(dir, spec, files, undefined);
  }

  look(dir: string, tailBytes: number): Promise<SessionView> {
    return this.sessionsOf(dir).look(dir, tailBytes);
  }

  async lookAll(dirs: readonly string[], tailBytes: number): Promise<Map<string, SessionView>> {
    // One exec per pod (each task has its own).
    const all = new Map<string, SessionView>();
    await Promise.all(dirs.map(async (dir) => all.set(dir, await this.look(dir, tailBytes))));
    return all;
  }

  kill(dir: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
    return this.sessionsOf(dir).kill(dir, signal);
  }

  async stop(dir: string): Promise<number[] | null> {
    return this.sessionsOf(dir).stop(dir);
  }

  leftovers(dir: string): Promise<number[]> {
    return this.sessionsOf(dir).leftovers(dir);
  }

  read(dir: string, offset: number, maxBytes: number): Promise<{ data: Buffer; ended: boolean }> {
    return this.sessionsOf(dir).read(dir, offset, maxBytes);
  }

  connect(dir: string, handlers: { onMessage: (message: HolderMessage) => void }): Promise<SessionConnection> {
    return this.sessionsOf(dir).connect(dir, handlers);
  }

  /**
   * The task's pod, made if it is not there; the checkout's place in it once it runs. A pod the cluster has
   * not placed yet (no room: Pending, unschedulable) leaves the task queued with the scheduler's words.
   */
  async checkoutPath(task: RunnerTask): Promise<string> {
    const cluster = this.cluster();
    const name = this.pod(task);
    let pod = await cluster.readPod(name);
    if (!pod) pod = await cluster.createPod(podManifest({ repo: this.repo(), id: task.id }, { image: this.options.image, swarm: this.options.swarm, token_secret: this.options.token_secret, runtime_class: this.options.runtime_class, resources: this.options.resources }));
    const state = podState(pod);
    if (state.kind === 'running') return CHECKOUT;
    if (state.kind === 'unschedulable') throw new ClusterWaitError(this.name, `cluster ${this.name} has no room for pod ${name} yet: ${state.why}`);
    if (state.kind === 'pending') throw new ClusterWaitError(this.name, `pod ${name} on cluster ${this.name} is starting${state.why ? `: ${state.why}` : ''}`);
    // Ended or going: a fresh pod next time.
    await cluster.deletePod(name);
    throw new ClusterWaitError(this.name, `pod ${name} on cluster ${this.name} had ended; a new one is made`);
  }

  /** The forge's URL for this repository, as the pod clones it. */
  private async forgeUrl(): Promise<string> {
    const url = (await runGit(this.repoRoot, ['remote', 'get-url', this.config.github.remote])).stdout.trim();
    if (!url) throw new SwarmError('SWARM_CLUSTER', `Tasks on cluster ${this.name} move their code through the forge: this repository has no remote "${this.config.github.remote}".`);
    return url;
  }

  async prepare(task: RunnerTask, _options: { start: string; kind: WorkspaceKind }): Promise<{ how: 'created' | 'reused'; installs: DepsOutcome[]; gitDirs: string[] }> {
    const result = await this.cluster().exec(this.pod(task), ['sh', '-s', '--', await this.forgeUrl(), task.branch, task.base], { input: CHECKOUT_SCRIPT, timeoutMs: 10 * 60_000 });
    const how = result.stdout.trim().split('\n').at(-1);
    if (result.code !== 0 || (how !== 'created' && how !== 'reused')) throw new SwarmError('SWARM_CLUSTER', `could not clone the repository from the forge in pod ${this.pod(task)}: ${result.stderr.trim().split('\n').at(-1) || 'no answer'}`);
    return { how, installs: [], gitDirs: [`${CHECKOUT}/.git`] };
  }

  /** The pod pushes the task's branch to the forge; it is fetched here from there. */
  async fetchBranch(task: RunnerTask): Promise<FetchBack> {
    const pushed = await this.cluster().exec(this.pod(task), ['git', '-C', CHECKOUT, 'push', '--quiet', '--force', 'origin', `refs/heads/${task.branch}:refs/heads/${task.branch}`], { timeoutMs: 5 * 60_000 });
    if (pushed.code !== 0) throw new SwarmError('SWARM_CLUSTER', `pod ${this.pod(task)} could not push ${task.branch} to the forge: ${pushed.stderr.trim().split('\n').at(-1) ?? ''}`);
    return fetchBack(this.repoRoot, this.config.github.remote, task.branch);
  }

  async uncommitted(task: RunnerTask): Promise<string[]> {
    const result = await this.cluster().exec(this.pod(task), ['git', '-C', CHECKOUT, 'status', '--porcelain=v1', '-z', '--untracked-files=all']);
    if (result.code !== 0) throw new SwarmError('SWARM_GIT_FAILED', `git status in pod ${this.pod(task)} failed: ${result.stderr.trim()}`);
    return porcelainPaths(result.stdout);
  }

  /** CI runs on the forge for cluster tasks: no report files are read in the pod. */
  async ciReports(_task: RunnerTask, _dir: string, _ask: ReportAsk): Promise<string[]> {
    return [];
  }

  async removeCheckout(task: RunnerTask, options: { force?: boolean; deleteBranch?: boolean }): Promise<RemoveResult> {
    const cluster = this.cluster();
    const pod = await cluster.readPod(this.pod(task));
    if (pod && podState(pod).kind === 'running' && !options.force) {
      const dirty = await this.uncommitted(task).catch(() => []);
      if (dirty.length) return { removed: false, why: `uncommitted changes in pod ${this.pod(task)} in ${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? ', ...' : ''} (use --force to discard)` };
    }
    await cluster.deletePod(this.pod(task));
    if (options.deleteBranch) await deleteBranchUnlessCheckedOut(this.repoRoot, task.branch);
    return { removed: true };
  }
}
