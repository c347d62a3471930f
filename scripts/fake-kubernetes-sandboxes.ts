/**
 * The agent-sandbox controller of the loopback Kubernetes API (fake-kubernetes.ts), as its documentation
 * describes it (v1alpha1): a SandboxWarmPool keeps `replicas` pods of its template started; a SandboxClaim
 * gets a Sandbox of its own name, which adopts a started pool pod when there is one (named by the
 * `agents.x-k8s.io/pod-name` annotation, the claim's labels put on it, the pool refilled) or else gets a new
 * pod of the Sandbox's name; a Sandbox scaled to 0 loses its pod and keeps the rest, scaled to 1 gets a new
 * one; a Sandbox whose pod is gone gets another; deleting a claim deletes its Sandbox and pod.
 */
export interface SandboxObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; creationTimestamp: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export const SANDBOX_KINDS: Record<string, { group: string; kind: string }> = {
  sandboxes: { group: 'agents.x-k8s.io', kind: 'Sandbox' },
  sandboxclaims: { group: 'extensions.agents.x-k8s.io', kind: 'SandboxClaim' },
  sandboxtemplates: { group: 'extensions.agents.x-k8s.io', kind: 'SandboxTemplate' },
  sandboxwarmpools: { group: 'extensions.agents.x-k8s.io', kind: 'SandboxWarmPool' },
};

/** What the controller does to pods, through the API server's own pod handling. */
export interface PodHands {
  create(body: { metadata: { name: string; labels?: Record<string, string> }; spec: unknown }, namespace: string): void;
  remove(name: string): void;
  exists(name: string): boolean;
  /** Whether the pod runs (a pool pod is only handed out once started). */
  running(name: string): boolean;
  relabel(name: string, labels: Record<string, string>): void;
  list(namespace: string): { name: string; labels?: Record<string, string> }[];
}

const POOL_LABEL = 'agents.x-k8s.io/warm-pool';
const POD_ANNOTATION = 'agents.x-k8s.io/pod-name';

type Store = Map<string, Map<string, SandboxObject>>;

function podTemplateOf(objects: Store, namespace: string, template: string): { metadata?: { labels?: Record<string, string> }; spec: unknown } | null {
  const found = objects.get('sandboxtemplates')?.get(`${namespace}/${template}`);
  return (found?.spec.podTemplate as { metadata?: { labels?: Record<string, string> }; spec: unknown } | undefined) ?? null;
}

/** One reconcile pass over every object; `make` creates an object as the API server would (uid, version). */
export function reconcileSandboxes(objects: Store, pods: PodHands, make: (plural: string, namespace: string, body: Omit<SandboxObject, 'metadata'> & { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> } }) => SandboxObject, changed: (plural: string, object: SandboxObject) => void): void {
  const of = (plural: string): Map<string, SandboxObject> => {
    if (!objects.has(plural)) objects.set(plural, new Map());
    return objects.get(plural)!;
  };
  // Warm pools: `replicas` unclaimed pods of the template, started ahead.
  for (const pool of of('sandboxwarmpools').values()) {
    const ns = pool.metadata.namespace;
    const template = (pool.spec.sandboxTemplateRef as { name: string }).name;
    const podTemplate = podTemplateOf(objects, ns, template);
    if (!podTemplate) continue;
    const members = pods.list(ns).filter((p) => p.labels?.[POOL_LABEL] === pool.metadata.name);
    for (let i = members.length; i < Number(pool.spec.replicas ?? 0); i++) {
      pods.create({ metadata: { name: `${pool.metadata.name}-${Math.random().toString(36).slice(2, 7)}`, labels: { ...podTemplate.metadata?.labels, [POOL_LABEL]: pool.metadata.name } }, spec: podTemplate.spec }, ns);
    }
    const ready = pods.list(ns).filter((p) => p.labels?.[POOL_LABEL] === pool.metadata.name && pods.running(p.name)).length;
    if (pool.status?.readyReplicas !== ready) {
      pool.status = { replicas: Number(pool.spec.replicas ?? 0), readyReplicas: ready };
      changed('sandboxwarmpools', pool);
    }
  }
  // Claims: each gets a Sandbox of its name, adopting a started pool pod where it may.
  for (const claim of of('sandboxclaims').values()) {
    const ns = claim.metadata.namespace;
    const key = `${ns}/${claim.metadata.name}`;
    if (of('sandboxes').has(key)) continue;
    const template = (claim.spec.sandboxTemplateRef as { name: string }).name;
    const podTemplate = podTemplateOf(objects, ns, template);
    if (!podTemplate) {
      const message = `SandboxTemplate "${template}" not found`;
      if ((claim.status?.conditions as { message?: string }[] | undefined)?.[0]?.message !== message) {
        claim.status = { conditions: [{ type: 'Ready', status: 'False', reason: 'TemplateNotFound', message }] };
        changed('sandboxclaims', claim);
      }
      continue;
    }
    const labels = (claim.spec.additionalPodMetadata as { labels?: Record<string, string> } | undefined)?.labels ?? {};
    const pools = [...of('sandboxwarmpools').values()].filter((p) => p.metadata.namespace === ns && (p.spec.sandboxTemplateRef as { name: string }).name === template).map((p) => p.metadata.name);
    const policy = (claim.spec.warmpool as string | undefined) ?? 'default';
    const adoptable = policy === 'none' ? undefined : pods.list(ns).find((p) => p.labels?.[POOL_LABEL] && pods.running(p.name) && (policy === 'default' ? pools.includes(p.labels[POOL_LABEL]) : p.labels[POOL_LABEL] === policy));
    let annotations: Record<string, string> | undefined;
    if (adoptable) {
      pods.relabel(adoptable.name, { ...podTemplate.metadata?.labels, ...labels });
      annotations = { [POD_ANNOTATION]: adoptable.name };
    } else {
      pods.create({ metadata: { name: claim.metadata.name, labels: { ...podTemplate.metadata?.labels, ...labels } }, spec: podTemplate.spec }, ns);
    }
    make('sandboxes', ns, { apiVersion: 'agents.x-k8s.io/v1alpha1', kind: 'Sandbox', metadata: { name: claim.metadata.name, labels: { ...labels }, ...(annotations ? { annotations } : {}) }, spec: { podTemplate: { ...podTemplate, metadata: { labels } }, replicas: 1 } });
    claim.status = { sandbox: { name: claim.metadata.name }, conditions: [{ type: 'Ready', status: 'True', reason: 'SandboxReady' }] };
    changed('sandboxclaims', claim);
  }
  // Sandboxes: their pod there at replicas 1 (a gone one replaced under the Sandbox's name), none at 0;
  // a Sandbox whose claim is gone goes with its pod.
  for (const [key, sandbox] of of('sandboxes')) {
    const ns = sandbox.metadata.namespace;
    const pod = sandbox.metadata.annotations?.[POD_ANNOTATION] ?? sandbox.metadata.name;
    if (!of('sandboxclaims').has(key)) {
      pods.remove(pod);
      of('sandboxes').delete(key);
      changed('sandboxes', sandbox);
      continue;
    }
    const replicas = Number(sandbox.spec.replicas ?? 1);
    if (replicas === 0 && pods.exists(pod)) pods.remove(pod);
    if (replicas === 1 && !pods.exists(pod)) {
      const template = sandbox.spec.podTemplate as { metadata?: { labels?: Record<string, string> }; spec: unknown };
      pods.create({ metadata: { name: sandbox.metadata.name, labels: template.metadata?.labels ?? {} }, spec: template.spec }, ns);
      if (sandbox.metadata.annotations?.[POD_ANNOTATION]) {
        delete sandbox.metadata.annotations[POD_ANNOTATION];
        changed('sandboxes', sandbox);
      }
    }
    if (sandbox.status?.replicas !== replicas) {
      sandbox.status = { replicas };
      changed('sandboxes', sandbox);
    }
  }
}
