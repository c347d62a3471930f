/**
 * How a task gets its pod on a cluster: a plain Pod swarm builds (`PodPlacement`), or, where the agent-sandbox
 * CRDs are installed, a SandboxClaim against a SandboxTemplate (`SandboxPlacement`): the controller makes the
 * Sandbox and its pod, or adopts one already started from a warm pool. Either way the runner gets one name:
 * the pod its sessions run in. A pod the cluster cannot run yet is a wait, said in the scheduler's words.
 */
import { SwarmError } from '../../errors.js';
import { ClusterError, podState, type KubeCluster, type SandboxObject } from './cluster.js';
import { podManifest, podName, sandboxClaim, sandboxTemplate, sandboxWarmPool, type PodTemplate } from './manifests.js';

/**
 * The cluster cannot take the task now (its pod is not running yet): the task waits, no retry spent.
 * `retryInMs`: when asking again is worth it (a pod starting soon; a full cluster, later).
 */
export class ClusterWaitError extends SwarmError {
  constructor(readonly cluster: string, message: string, readonly retryInMs: number = SOON_MS) {
    super('SWARM_CLUSTER_WAIT', message);
  }
}

/** A pod starting, a claim being bound: asked again in a moment, not at the next monitor pass. */
const SOON_MS = 1_000;
/** No room: the cluster may scale up or free some; asked again now and then. */
const NO_ROOM_MS = 15_000;

export interface PlacedTask {
  id: number;
  repo: string;
}

export interface Placement {
  /** `pod` or `sandbox`: how this cluster places tasks (said in events). */
  readonly kind: 'pod' | 'sandbox';
  /** The task's pod, made or claimed if it has none: its name once it runs, else a ClusterWaitError saying why. */
  place(task: PlacedTask): Promise<string>;
  /** The name of the task's pod, as far as the cluster knows now (null: it has none). */
  podOf(task: PlacedTask): Promise<string | null>;
  /** Lets the task's pod go while a human looks, keeping the rest (true: done; false: this placement cannot). */
  rest(task: PlacedTask): Promise<boolean>;
  /** Everything the task holds on the cluster, deleted. */
  release(task: PlacedTask): Promise<void>;
}

/** A pod's state as a wait (throws) or its name (running). One ended or going is deleted, to be made again. */
async function running(cluster: KubeCluster, clusterName: string, name: string, onEnded: () => Promise<void>): Promise<string> {
  const state = podState(await cluster.readPod(name));
  if (state.kind === 'running') return name;
  if (state.kind === 'unschedulable') throw new ClusterWaitError(clusterName, `cluster ${clusterName} has no room for pod ${name} yet: ${state.why}`, NO_ROOM_MS);
  if (state.kind === 'pending') throw new ClusterWaitError(clusterName, `pod ${name} on cluster ${clusterName} is starting${state.why ? `: ${state.why}` : ''}`);
  await onEnded();
  throw new ClusterWaitError(clusterName, `pod ${name} on cluster ${clusterName} had ended${state.kind === 'ended' && state.why ? ` (${state.why})` : ''}; a new one is made`);
}

export class PodPlacement implements Placement {
  readonly kind = 'pod';

  constructor(private readonly cluster: KubeCluster, private readonly clusterName: string, private readonly template: PodTemplate) {}

  async place(task: PlacedTask): Promise<string> {
    const name = podName(task);
    if (!(await this.cluster.readPod(name))) await this.cluster.createPod(podManifest(task, this.template));
    return running(this.cluster, this.clusterName, name, () => this.cluster.deletePod(name));
  }

  async podOf(task: PlacedTask): Promise<string | null> {
    return podName(task);
  }

  /** A bare pod cannot be scaled to zero: it is kept as it is. */
  async rest(): Promise<boolean> {
    return false;
  }

  async release(task: PlacedTask): Promise<void> {
    await this.cluster.deletePod(podName(task));
  }
}

/** The pod behind a Sandbox: one adopted from a warm pool is named by the annotation, else it has the Sandbox's name. */
export function sandboxPod(sandbox: SandboxObject): string | null {
  return sandbox.metadata?.annotations?.['agents.x-k8s.io/pod-name'] || sandbox.metadata?.name || null;
}

export interface SandboxSettings {
  /** The SandboxTemplate claimed from; `pod` set: swarm writes it (and its warm pool) from the config. */
  template: string;
  pod: PodTemplate | null;
  warmPool: number;
}

export class SandboxPlacement implements Placement {
  readonly kind = 'sandbox';
  private ready: Promise<void> | null = null;

  constructor(private readonly cluster: KubeCluster, private readonly clusterName: string, private readonly settings: SandboxSettings) {}

  /** Once per daemon: swarm's template (and warm pool) as the config says, or the user's template found. */
  private prepared(): Promise<void> {
    this.ready ??= this.prepare().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  private async prepare(): Promise<void> {
    const { template, pod, warmPool } = this.settings;
    const found = await this.cluster.readObject('SandboxTemplate', template);
    if (!pod) {
      if (!found) throw new ClusterError(`SandboxTemplate ${template} (kubernetes.${this.clusterName}.sandbox.template) is not in namespace ${this.cluster.namespace}: apply it (deploy/kubernetes/sandbox-template.yaml is an example), or leave the setting out and swarm writes one from the config.`);
      return;
    }
    const wanted = sandboxTemplate(template, pod);
    if (!found) await this.cluster.createObject('SandboxTemplate', wanted);
    else if (JSON.stringify(found.spec?.podTemplate) !== JSON.stringify(wanted.spec?.podTemplate)) await this.cluster.patchObject('SandboxTemplate', template, { spec: wanted.spec });
    const pool = await this.cluster.readObject('SandboxWarmPool', template);
    if (warmPool > 0 && !pool) await this.cluster.createObject('SandboxWarmPool', sandboxWarmPool(template, template, warmPool));
    else if (pool && pool.spec?.replicas !== warmPool) {
      if (warmPool === 0) await this.cluster.deleteObject('SandboxWarmPool', template);
      else await this.cluster.patchObject('SandboxWarmPool', template, { spec: { replicas: warmPool } });
    }
  }

  /** The task's Sandbox, as its claim names it (null: no claim, or the controller has not made it yet). */
  private async sandboxOf(task: PlacedTask): Promise<{ claim: SandboxObject | null; sandbox: SandboxObject | null }> {
    const claim = await this.cluster.readObject('SandboxClaim', podName(task));
    const name = claim?.status?.sandbox?.name;
    return { claim, sandbox: name ? await this.cluster.readObject('Sandbox', name) : null };
  }

  async place(task: PlacedTask): Promise<string> {
    await this.prepared();
    let { claim, sandbox } = await this.sandboxOf(task);
    if (!claim) claim = await this.cluster.createObject('SandboxClaim', sandboxClaim(task, this.settings.template));
    if (!sandbox) {
      const why = claim.status?.conditions?.find((c) => c.type === 'Ready' && c.status !== 'True')?.message;
      throw new ClusterWaitError(this.clusterName, `claim ${podName(task)} on cluster ${this.clusterName} waits for its sandbox${why ? `: ${why}` : ''}`);
    }
    const name = sandbox.metadata!.name!;
    if (sandbox.spec?.replicas === 0) {
      await this.cluster.patchObject('Sandbox', name, { spec: { replicas: 1 } });
      throw new ClusterWaitError(this.clusterName, `sandbox ${name} on cluster ${this.clusterName} was resting; it is woken`);
    }
    const pod = sandboxPod(sandbox)!;
    // An ended pod is deleted: the Sandbox's controller makes a new one.
    return running(this.cluster, this.clusterName, pod, () => this.cluster.deletePod(pod));
  }

  async podOf(task: PlacedTask): Promise<string | null> {
    const { sandbox } = await this.sandboxOf(task);
    return sandbox && sandbox.spec?.replicas !== 0 ? sandboxPod(sandbox) : null;
  }

  /** The Sandbox scaled to zero: its pod goes, the claim, the Sandbox (and a volume it has) stay. */
  async rest(task: PlacedTask): Promise<boolean> {
    const { sandbox } = await this.sandboxOf(task);
    if (!sandbox?.metadata?.name || sandbox.spec?.replicas === 0) return false;
    await this.cluster.patchObject('Sandbox', sandbox.metadata.name, { spec: { replicas: 0 } });
    return true;
  }

  /** The claim deleted: the controller deletes its Sandbox and pod with it. */
  async release(task: PlacedTask): Promise<void> {
    await this.cluster.deleteObject('SandboxClaim', podName(task));
  }
}
