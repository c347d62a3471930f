/**
 * The cluster as the Kubernetes runner sees it, through the official client (@kubernetes/client-node 1.x):
 * the kubeconfig found as kubectl finds it (KUBECONFIG, ~/.kube/config, or in-cluster), one context and
 * namespace; discovery of the agent-sandbox CRDs; a task's pod created, watched, deleted; commands run in it
 * over the exec WebSocket (the channel protocol), with stdin, and their exit code. The cluster places,
 * isolates, limits and restarts; this file only asks and reports, in words.
 */
import { PassThrough, Writable } from 'node:stream';
import { ApisApi, AuthorizationV1Api, CoreV1Api, CustomObjectsApi, Exec, KubeConfig, PatchStrategy, setHeaderOptions, Watch, type V1Pod, type V1Status } from '@kubernetes/client-node';
// Not re-exported by the package's index: its exec socket handler, wrapped below.
import { WebSocketHandler, type WebSocketInterface } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { errorMessage, SwarmError } from '../../errors.js';
import { HostUnreachableError } from '../errors.js';

export class ClusterError extends SwarmError {
  constructor(message: string) {
    super('SWARM_CLUSTER', message);
  }
}

/** The task's pod is gone (deleted, evicted, its node lost): transient trouble, the task is placed again. */
export class PodGoneError extends SwarmError {
  constructor(readonly pod: string, message: string) {
    super('SWARM_POD_GONE', message);
  }
}

/** The agent-sandbox kinds swarm uses (v1alpha1), by where the API serves them. */
export const CRDS = {
  Sandbox: { group: 'agents.x-k8s.io', version: 'v1alpha1', plural: 'sandboxes' },
  SandboxClaim: { group: 'extensions.agents.x-k8s.io', version: 'v1alpha1', plural: 'sandboxclaims' },
  SandboxTemplate: { group: 'extensions.agents.x-k8s.io', version: 'v1alpha1', plural: 'sandboxtemplates' },
  SandboxWarmPool: { group: 'extensions.agents.x-k8s.io', version: 'v1alpha1', plural: 'sandboxwarmpools' },
} as const;
export type CrdKind = keyof typeof CRDS;

/** An object of those kinds, as far as swarm reads it. */
export interface SandboxObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string; deletionTimestamp?: string | Date };
  spec?: Record<string, unknown>;
  status?: { sandbox?: { name?: string }; replicas?: number; readyReplicas?: number; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export interface ClusterOptions {
  /** A kubeconfig file (default: as kubectl finds it). */
  kubeconfig?: string | undefined;
  context?: string | undefined;
  /** Default: the context's namespace, else `default`. */
  namespace?: string | undefined;
  /** The cluster's name in the config (in words about it). */
  name?: string | undefined;
}

/** Where a pod is, in the words `swarm ls` uses. */
export type PodState =
  | { kind: 'pending'; why: string | null }
  /** The scheduler found no node: the cluster has no room now. */
  | { kind: 'unschedulable'; why: string }
  | { kind: 'running' }
  /** `why`: the cluster's words (Evicted: the node was low on memory; OOMKilled, exit 137), when it gave any. */
  | { kind: 'ended'; phase: 'Succeeded' | 'Failed'; why: string | null }
  /** Deleted, evicted, or its node lost. */
  | { kind: 'gone' };

/** Pure: a pod's state from its status. */
export function podState(pod: V1Pod | null): PodState {
  if (!pod || pod.metadata?.deletionTimestamp) return { kind: 'gone' };
  const phase = pod.status?.phase;
  if (phase === 'Running') return { kind: 'running' };
  if (phase === 'Succeeded' || phase === 'Failed') {
    const end = pod.status?.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated;
    const said = [pod.status?.reason && `${pod.status.reason}${pod.status.message ? `: ${pod.status.message}` : ''}`, end && `${end.reason ?? 'terminated'}, exit ${end.exitCode}${end.message ? `: ${end.message}` : ''}`].filter(Boolean);
    return { kind: 'ended', phase, why: said.length ? said.join('; ') : null };
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return { kind: 'unschedulable', why: scheduled.message ?? 'no node has room for it' };
  // Placed, not started: the container's own reason (pulling its image, a Secret it names not there).
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
  if (waiting?.reason) return { kind: 'pending', why: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` };
  return { kind: 'pending', why: scheduled?.message ?? null };
}

/** Errors that mean the API could not be reached (not that it said no): the cluster is away for now. */
const AWAY = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** Pure: whether a failed call means the API is out of reach (a refused connection, no route, 502/503/504). */
export function unreachable(err: unknown): boolean {
  const e = (err ?? {}) as { code?: unknown; error?: { code?: unknown }; cause?: { code?: unknown } };
  const code = e.code ?? e.error?.code ?? e.cause?.code;
  if (typeof code === 'string') return AWAY.has(code);
  return code === 502 || code === 503 || code === 504;
}

/** The API's own words from a failed call (its Status message), never a token. */
function said(err: unknown): string {
  // A WebSocket's failure (exec) is an event carrying the error.
  const inner = (err as { error?: unknown } | null)?.error;
  if (inner instanceof Error) return inner.message;
  let body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      // not JSON: the code says enough
    }
  }
  const status = typeof body === 'object' && body !== null ? (body as { message?: unknown; code?: unknown }) : {};
  const code = (err as { code?: number }).code ?? (typeof status.code === 'number' ? status.code : undefined);
  if (typeof status.message === 'string' && status.message) return `${code ?? ''} ${status.message}`.trim();
  // The generated client keeps an unlisted answer's reason in its message only ("Message: Unauthorized").
  const reason = /^Message: (.+)$/m.exec(errorMessage(err))?.[1];
  if (code && reason) return `${code} ${reason}${code === 401 ? ' (the kubeconfig\'s credentials were refused)' : code === 403 ? ' (these credentials may not do this in the namespace)' : ''}`;
  return typeof code === 'number' ? `HTTP ${code}` : errorMessage(err);
}

/**
 * The client's exec socket, made safe for a daemon: a frame its stream handling does not expect (a server's
 * close of a stream, a stream nobody asked for) throws inside the socket's message handler, outside any
 * promise, which would end the whole process. Such a frame is dropped here instead.
 */
function safeSocket(kc: KubeConfig): WebSocketInterface {
  const base = new WebSocketHandler(kc);
  return {
    connect: (path, text, binary) =>
      base.connect(path, text, binary ? (stream, buff) => {
        if (stream === WebSocketHandler.CloseStream) return true;
        try {
          return binary(stream, buff);
        } catch {
          return true;
        }
      } : null),
  };
}

export class KubeCluster {
  readonly namespace: string;
  readonly context: string;
  private readonly core: CoreV1Api;

  /** `name`: the cluster's name in the config, said when its API cannot be reached. */
  constructor(private readonly kc: KubeConfig, namespace: string, readonly name = 'cluster') {
    this.namespace = namespace;
    this.context = kc.getCurrentContext();
    this.core = kc.makeApiClient(CoreV1Api);
  }

  static load(options: ClusterOptions = {}): KubeCluster {
    const kc = new KubeConfig();
    try {
      if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
      else kc.loadFromDefault();
      if (options.context) kc.setCurrentContext(options.context);
    } catch (err) {
      throw new ClusterError(`Could not read the kubeconfig${options.kubeconfig ? ` ${options.kubeconfig}` : ''}: ${errorMessage(err)}. Point KUBECONFIG (or kubernetes.kubeconfig) at one, as for kubectl.`);
    }
    if (!kc.getCurrentCluster()) throw new ClusterError(`The kubeconfig has no cluster for context "${kc.getCurrentContext() || '(none)'}". \`kubectl config get-contexts\` lists them; set kubernetes.context.`);
    const fromContext = kc.getContextObject(kc.getCurrentContext())?.namespace;
    return new KubeCluster(kc, options.namespace ?? fromContext ?? 'default', options.name);
  }

  /** A failed call as the error to throw: the API out of reach is transient trouble (the task waits), else `words`. */
  private failed(err: unknown, words: string): Error {
    if (unreachable(err)) return new HostUnreachableError(this.name, `The API of cluster ${this.name} (context ${this.context}) cannot be reached: ${said(err)}.`);
    return new ClusterError(words);
  }

  /** Whether the agent-sandbox CRDs are installed (Sandbox, SandboxClaim, SandboxTemplate at v1alpha1, the version swarm speaks): asked by discovery. */
  async sandboxCrds(): Promise<boolean> {
    try {
      const groups = await this.kc.makeApiClient(ApisApi).getAPIVersions();
      const serves = (group: string): boolean => groups.groups.some((g) => g.name === group && g.versions.some((v) => v.version === 'v1alpha1'));
      return serves('agents.x-k8s.io') && serves('extensions.agents.x-k8s.io');
    } catch (err) {
      throw this.failed(err, `The cluster (context ${this.context}) did not answer discovery: ${said(err)}.`);
    }
  }

  async createPod(pod: V1Pod): Promise<V1Pod> {
    try {
      return await this.core.createNamespacedPod({ namespace: this.namespace, body: pod });
    } catch (err) {
      throw this.failed(err, `The cluster refused pod ${pod.metadata?.name ?? ''} in namespace ${this.namespace}: ${said(err)}.`);
    }
  }

  async readPod(name: string): Promise<V1Pod | null> {
    try {
      return await this.core.readNamespacedPod({ name, namespace: this.namespace });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null;
      throw this.failed(err, `Could not read pod ${name}: ${said(err)}.`);
    }
  }

  /** The pod, running; one deleted, evicted or ended is gone for swarm's purposes (its sessions with it). */
  private async livePod(name: string): Promise<V1Pod> {
    const pod = this.known?.get(name) ?? (await this.readPod(name));
    const state = podState(pod);
    const gone = this.goneError(name, state);
    if (gone) throw gone;
    if (state.kind !== 'running') throw new ClusterError(`Pod ${name} is not running yet (${state.kind}${'why' in state && state.why ? `: ${state.why}` : ''}).`);
    return pod!;
  }

  async deletePod(name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({ name, namespace: this.namespace, gracePeriodSeconds: 0 });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw this.failed(err, `Could not delete pod ${name}: ${said(err)}.`);
    }
  }

  /** The namespace's pods with `labelSelector`, and the list's resourceVersion (where a watch of them starts). */
  async listPods(labelSelector: string): Promise<{ pods: V1Pod[]; resourceVersion: string }> {
    try {
      const list = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector });
      return { pods: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    } catch (err) {
      throw this.failed(err, `Could not list pods in namespace ${this.namespace}: ${said(err)}.`);
    }
  }

  /**
   * The namespace's pods as they change (one watch, not a poll per pod): `onPod` for each change, `null` pod
   * for a deletion; from `resourceVersion` on when given (after a list). Resolves with a stop function once
   * the watch is open; `onEnd` when the server ends it (as servers do every few minutes) or it breaks.
   */
  async watchPods(onPod: (name: string, pod: V1Pod | null) => void, onEnd: (err: unknown) => void, options: { labelSelector?: string; resourceVersion?: string } = {}): Promise<() => void> {
    const query = { ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}), ...(options.resourceVersion ? { resourceVersion: options.resourceVersion } : {}), allowWatchBookmarks: true };
    const request = await new Watch(this.kc).watch(`/api/v1/namespaces/${this.namespace}/pods`, query, (type: string, pod: V1Pod) => {
      if (type === 'BOOKMARK' || type === 'ERROR') return;
      onPod(pod.metadata?.name ?? '', type === 'DELETED' ? null : pod);
    }, onEnd);
    return () => request.abort();
  }

  /** Pods known from a watch (pods.ts): asked before the API, so a running pod costs no request per exec. */
  known: { get(name: string): V1Pod | undefined } | null = null;

  /** A custom object of the agent-sandbox CRDs (or null when there is none of that name). */
  async readObject(kind: CrdKind, name: string): Promise<SandboxObject | null> {
    try {
      return (await this.custom().getNamespacedCustomObject({ ...CRDS[kind], namespace: this.namespace, name })) as SandboxObject;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null;
      throw this.failed(err, `Could not read ${kind} ${name}: ${said(err)}.`);
    }
  }

  async createObject(kind: CrdKind, body: SandboxObject): Promise<SandboxObject> {
    try {
      return (await this.custom().createNamespacedCustomObject({ ...CRDS[kind], namespace: this.namespace, body })) as SandboxObject;
    } catch (err) {
      throw this.failed(err, `The cluster refused ${kind} ${body.metadata?.name ?? ''} in namespace ${this.namespace}: ${said(err)}.`);
    }
  }

  /** A JSON merge patch of the object (RFC 7386). */
  async patchObject(kind: CrdKind, name: string, patch: Record<string, unknown>): Promise<SandboxObject> {
    try {
      return (await this.custom().patchNamespacedCustomObject({ ...CRDS[kind], namespace: this.namespace, name, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))) as SandboxObject;
    } catch (err) {
      throw this.failed(err, `Could not change ${kind} ${name}: ${said(err)}.`);
    }
  }

  async deleteObject(kind: CrdKind, name: string): Promise<void> {
    try {
      await this.custom().deleteNamespacedCustomObject({ ...CRDS[kind], namespace: this.namespace, name });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw this.failed(err, `Could not delete ${kind} ${name}: ${said(err)}.`);
    }
  }

  /** Whether these credentials may do `verb` on a resource in the namespace, as the API itself says (SelfSubjectAccessReview). */
  async may(what: { verb: string; group: string; resource: string; subresource?: string }): Promise<boolean> {
    try {
      const review = await this.kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: this.namespace, ...what } } } });
      return review.status?.allowed === true;
    } catch (err) {
      throw this.failed(err, `Could not ask the cluster what these credentials may do: ${said(err)}.`);
    }
  }

  private customApi: CustomObjectsApi | null = null;
  private custom(): CustomObjectsApi {
    this.customApi ??= this.kc.makeApiClient(CustomObjectsApi);
    return this.customApi;
  }

  /**
   * An exec the API refused: the pod is asked for afresh (what the watch last said may be behind), so a pod
   * that ended or went meanwhile is said to be gone, not a failed command.
   */
  private async execFailed(e: unknown, pod: string, argv: readonly string[]): Promise<Error> {
    const refused = this.failed(e, `Could not run ${argv[0]} in pod ${pod}: ${said(e)}.`);
    if (unreachable(e)) return refused;
    let fresh: V1Pod | null;
    try {
      fresh = await this.readPod(pod);
    } catch {
      return refused;
    }
    return this.goneError(pod, podState(fresh)) ?? refused;
  }

  /** The error for a pod that is gone or ended (null: it is neither). */
  private goneError(name: string, state: PodState): PodGoneError | null {
    if (state.kind !== 'gone' && state.kind !== 'ended') return null;
    return new PodGoneError(name, `Pod ${name} is gone from namespace ${this.namespace}${state.kind === 'ended' ? ` (it ${state.phase === 'Failed' ? 'failed or was evicted' : 'ended'}${state.why ? `: ${state.why}` : ''})` : ''}.`);
  }

  /** Runs `argv` in the pod's first container (or `container`); stdin from `input`. Its exit code and output. */
  async exec(pod: string, argv: readonly string[], options: { input?: string; container?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sink = (into: Buffer[]): Writable => new Writable({ write: (chunk: Buffer, _enc, done) => (into.push(chunk), done()) });
    const stdin = options.input !== undefined ? new PassThrough() : null;
    let resolveStatus: (status: V1Status) => void = () => undefined;
    const statusSeen = new Promise<V1Status>((resolve) => (resolveStatus = resolve));
    const container = options.container ?? (await this.livePod(pod)).spec?.containers[0]?.name;
    if (!container) throw new ClusterError(`Pod ${pod} has no container.`);
    let socket: Awaited<ReturnType<Exec['exec']>>;
    try {
      socket = await new Exec(this.kc, safeSocket(this.kc)).exec(this.namespace, pod, container, [...argv], sink(out), sink(err), stdin, false, resolveStatus);
    } catch (e) {
      throw await this.execFailed(e, pod, argv);
    }
    if (stdin) stdin.end(options.input);
    const closed = new Promise<void>((resolve) => socket.addEventListener('close', () => resolve()));
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), options.timeoutMs ?? 60_000).unref());
    const status = await Promise.race([statusSeen, closed.then(() => null), timeout]);
    if (status === 'timeout') {
      socket.close();
      throw new ClusterError(`${argv[0]} in pod ${pod} did not finish in ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s.`);
    }
    const code = status === null ? 255 : status.status === 'Success' ? 0 : Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? 1);
    return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: `${Buffer.concat(err).toString('utf8')}${status === null ? 'the exec connection closed before the command ended' : ''}` };
  }

  /** A command in the pod whose stdout is handed on as it comes, stdin kept open until `close` (a session relay). */
  async stream(pod: string, argv: readonly string[], onStdout: (chunk: string) => void): Promise<{ write(text: string): void; close(): void; ended: Promise<number | null> }> {
    const container = (await this.livePod(pod)).spec?.containers[0]?.name;
    if (!container) throw new ClusterError(`Pod ${pod} has no container.`);
    const stdin = new PassThrough();
    const stdout = new Writable({ write: (chunk: Buffer, _enc, done) => (onStdout(chunk.toString('utf8')), done()) });
    // Always a sink for stderr: the client throws, outside any promise, on a stderr frame it has nowhere to put.
    const stderr = new Writable({ write: (_chunk: Buffer, _enc, done) => done() });
    let ended: (code: number | null) => void = () => undefined;
    const done = new Promise<number | null>((resolve) => (ended = resolve));
    let socket: Awaited<ReturnType<Exec['exec']>>;
    try {
      socket = await new Exec(this.kc, safeSocket(this.kc)).exec(this.namespace, pod, container, [...argv], stdout, stderr, stdin, false, (status) => ended(status.status === 'Success' ? 0 : Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? 1)));
    } catch (e) {
      throw await this.execFailed(e, pod, argv);
    }
    socket.addEventListener('close', () => ended(null));
    return {
      write: (text) => void stdin.write(text),
      close: () => {
        stdin.end();
        socket.close();
      },
      ended: done,
    };
  }
}
