/**
 * One repository's pods on a cluster, as a single watch keeps them: a list, then a watch from the list's
 * resourceVersion, opened again (from a new list) after the server ends it, as API servers do every few
 * minutes. The monitor's pass reads each pod's state from here, so a pass over fifty tasks asks the API for
 * no pod at all; only the exec into each pod (the holder's own record) is a request.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeCluster } from './cluster.js';

export class PodWatch {
  private readonly pods = new Map<string, V1Pod>();
  private stop: (() => void) | null = null;
  private opening: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly cluster: KubeCluster, private readonly labelSelector: string) {}

  /** Opens the watch unless it is open (callers at once share one opening); a failure leaves it shut, to be tried again. */
  async ensure(): Promise<void> {
    if (this.stop || this.closed) return;
    this.opening ??= this.open().finally(() => (this.opening = null));
    await this.opening;
  }

  private async open(): Promise<void> {
    const { pods, resourceVersion } = await this.cluster.listPods(this.labelSelector);
    this.pods.clear();
    for (const pod of pods) if (pod.metadata?.name) this.pods.set(pod.metadata.name, pod);
    let mine: (() => void) | null = null;
    let ended = false;
    const stop = await this.cluster.watchPods(
      (name, pod) => (pod ? this.pods.set(name, pod) : this.pods.delete(name)),
      () => {
        // Ended by the server or broken: not trusted until opened again (reads go to the API meanwhile).
        ended = true;
        if (mine && this.stop === mine) this.stop = null;
      },
      { labelSelector: this.labelSelector, ...(resourceVersion ? { resourceVersion } : {}) },
    );
    mine = stop;
    if (this.closed || ended) stop();
    else this.stop = stop;
  }

  /** The pod as last seen, while the watch is open; undefined when it does not know (not open, or not seen yet). */
  get(name: string): V1Pod | undefined {
    return this.stop ? this.pods.get(name) : undefined;
  }

  close(): void {
    this.closed = true;
    this.stop?.();
    this.stop = null;
  }
}
