/**
 * A loopback Kubernetes API for the tests and the benchmark, speaking the wire protocol of what swarm's
 * runner uses, pointed at by a real kubeconfig (bearer token, plain http on 127.0.0.1): discovery (`/api`,
 * `/apis`, with or without the agent-sandbox groups), pods (create, get, list and watch by label, delete),
 * pod exec over WebSocket with the channel protocol (`v5.channel.k8s.io`: stdin 0, stdout 1, stderr 2, the
 * status on 3, resize 4, a stream closed with 255), pod logs, and with `sandboxCrds` the agent-sandbox kinds
 * (create, get, list, merge patch, delete) and their controller (fake-kubernetes-sandboxes.ts). Errors are
 * the API's `Status` objects.
 *
 * A pod "runs" here: its container's command is started as a local process confined by bubblewrap, with the
 * pod's own folder mounted at /workspace (what the pod's volume would be), its environment as kubelet makes
 * it (Secret references read from `secrets`; a missing one keeps it waiting); exec runs in the same
 * confinement. Deleting a pod kills every process started in it. `unschedulable()` leaves new pods Pending
 * with the scheduler's condition, as a full cluster does; `podStartMs` models the time a pod takes to start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { reconcileSandboxes, SANDBOX_KINDS, type SandboxObject } from './fake-kubernetes-sandboxes.js';
import { kubeconfigText, matches, mergePatch, status } from './fake-kubernetes-wire.js';

export interface FakePod {
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; labels?: Record<string, string>; creationTimestamp: string; deletionTimestamp?: string };
  spec: { containers: FakeContainer[]; restartPolicy?: string; runtimeClassName?: string };
  status: { phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed'; conditions?: { type: string; status: string; reason?: string; message?: string }[]; podIP?: string; containerStatuses?: { name: string; ready: boolean; state: { waiting?: { reason: string; message?: string }; terminated?: { reason: string; exitCode: number } } }[] };
}

type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
type FakeContainer = { name: string; image: string; command?: string[]; args?: string[]; env?: EnvVar[]; resources?: unknown; workingDir?: string; volumeMounts?: { name: string; mountPath: string }[] };

export interface FakeKubernetes {
  url: string;
  token: string;
  /** A kubeconfig file pointing at this server (context `fake`, namespace `swarm`). */
  kubeconfig: string;
  pods: Map<string, FakePod>;
  /** The agent-sandbox objects by plural (`sandboxclaims`...), then `namespace/name`. */
  objects: Map<string, Map<string, SandboxObject>>;
  /** Requests by verb and resource (`GET pods`, `WATCH pods`, `EXEC pods`...). */
  calls: Map<string, number>;
  /** Where a pod's /workspace is, on this machine. */
  podDir(name: string): string;
  /** New pods stay Pending (Unschedulable) until `schedulable()`. */
  unschedulable(message?: string): void;
  schedulable(): void;
  /** Deletes a pod as an eviction or a lost node would: its processes killed, the object gone. */
  evict(name: string): void;
  /** The API goes away (its port closed, connections cut) until `resume()`; the pods go on running. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Kills a pod's container as the kernel does past its memory limit: Failed, OOMKilled, exit 137; the object stays. */
  oomKill(name: string): void;
  close(): Promise<void>;
}


export interface FakeKubernetesOptions {
  /** Serve the agent-sandbox CRDs (v1alpha1) with their controller. */
  sandboxCrds?: boolean;
  token?: string;
  /** The namespace's Secrets (name, then key): what a container's `secretKeyRef` env reads. A missing one keeps the pod waiting, as kubelet does. */
  secrets?: Record<string, Record<string, string>>;
  /** How long a scheduled pod takes to start (pulling its image, starting its container): Pending meanwhile. */
  podStartMs?: number;
  /** What the credentials may not do (`create pods/exec`, `patch sandboxes`): SelfSubjectAccessReview says so. */
  forbid?: string[];
}

export async function startFakeKubernetes(options: FakeKubernetesOptions = {}): Promise<FakeKubernetes> {
  const token = options.token ?? 'fake-kubernetes-token';
  const root = mkdtempSync(join(tmpdir(), 'swarm-fake-k8s-'));
  const pods = new Map<string, FakePod>();
  const mains = new Map<string, ChildProcess>();
  const calls = new Map<string, number>();
  const watchers = new Set<{ namespace: string; res: ServerResponse; selector: string | null }>();
  const objects = new Map<string, Map<string, SandboxObject>>();
  let version = 1;
  let pending: string | null = null;
  const count = (key: string): void => void calls.set(key, (calls.get(key) ?? 0) + 1);
  const podDir = (name: string): string => join(root, 'pods', name);

  const json = (res: ServerResponse, code: number, body: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const notify = (type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: FakePod): void => {
    for (const w of watchers) if (w.namespace === pod.metadata.namespace && matches(w.selector, pod.metadata.labels)) w.res.write(`${JSON.stringify({ type, object: pod })}\n`);
  };
  let kicked = false;
  /** The sandbox controller runs after any change (once for many in a row). */
  let closed = false;
  const kick = (): void => {
    if (!options.sandboxCrds || kicked || closed) return;
    kicked = true;
    setImmediate(() => {
      kicked = false;
      if (!closed) reconcileSandboxes(objects, hands, makeObject, (_plural, object) => void (object.metadata.resourceVersion = String(++version)));
    });
  };
  const touch = (pod: FakePod, type: 'ADDED' | 'MODIFIED' = 'MODIFIED'): void => {
    pod.metadata.resourceVersion = String(++version);
    notify(type, pod);
    kick();
  };

  /** bubblewrap around a command: the host's files, the pod's folder at /workspace, the pod's name in its environment. */
  /**
   * The container's volumes where it mounts them: the volume `workspace` is the pod's folder, another is a
   * folder of its own (shared by the pod's containers that mount it); a container mounting none gets the
   * pod's folder at /workspace.
   */
  const mounts = (name: string, container: FakeContainer): string[] => {
    if (!container.volumeMounts?.length) return ['--bind', podDir(name), '/workspace'];
    return container.volumeMounts.flatMap((m) => {
      // bubblewrap would make a missing mount point in this machine's own root: refused instead.
      if (m.mountPath !== '/workspace' && !existsSync(m.mountPath)) throw new Error(`the loopback cluster mounts a volume only on a folder this machine has (${m.mountPath} is not one)`);
      const dir = m.name === 'workspace' ? podDir(name) : join(root, 'volumes', name, m.name);
      mkdirSync(dir, { recursive: true });
      return ['--bind', dir, m.mountPath];
    });
  };
  const confined = (name: string, container: FakeContainer, argv: string[], env: Record<string, string>): ChildProcess =>
    spawn('bwrap', ['--dev-bind', '/', '/', ...mounts(name, container), '--chdir', container.workingDir ?? '/workspace', '--', ...argv], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/workspace', ...env, FAKE_K8S_POD: `${root}:${name}` },
      stdio: ['pipe', 'pipe', 'pipe'],
    });

  /** Every process started in the pod (its main one, exec'd ones and what they left running). */
  const killPod = (name: string): void => {
    const mark = `FAKE_K8S_POD=${root}:${name}`;
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(mark)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone meanwhile, or not ours to read
      }
    }
  };

  /** The container's environment as kubelet makes it: values, and Secret keys read (a missing one is said). */
  const envOf = (pod: FakePod, container: FakeContainer = pod.spec.containers[0]!): { env: Record<string, string> } | { missing: string } => {
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (e.value !== undefined) env[e.name] = e.value;
      else if (ref) {
        const value = options.secrets?.[ref.name]?.[ref.key];
        if (value === undefined) return { missing: options.secrets?.[ref.name] ? `couldn't find key ${ref.key} in Secret ${pod.metadata.namespace}/${ref.name}` : `secret "${ref.name}" not found` };
        env[e.name] = value;
      }
    }
    return { env };
  };

  const run = (pod: FakePod): void => {
    const name = pod.metadata.name;
    const container = pod.spec.containers[0]!;
    // Every container's environment is made before any starts: one naming a missing Secret holds the pod.
    const made = pod.spec.containers.map((c) => ({ c, each: envOf(pod, c) }));
    for (const { c, each } of made) {
      if ('missing' in each) {
        pod.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: [{ name: c.name, ready: false, state: { waiting: { reason: 'CreateContainerConfigError', message: each.missing } } }] };
        touch(pod);
        return;
      }
    }
    const first = made[0]!.each;
    const env = 'env' in first ? first.env : {};
    const argv = [...(container.command ?? ['sleep', 'infinity']), ...(container.args ?? [])];
    const child = confined(name, container, argv, env);
    const log = join(podDir(name), '..', `${name}.log`);
    child.stdout!.on('data', (d: Buffer) => writeFileSync(log, d, { flag: 'a' }));
    child.stderr!.on('data', (d: Buffer) => writeFileSync(log, d, { flag: 'a' }));
    mains.set(name, child);
    pod.status = { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }] };
    touch(pod);
    child.once('exit', (code) => {
      if (pods.get(name) !== pod || pod.metadata.deletionTimestamp || pod.status.phase === 'Failed') return;
      pod.status = { ...pod.status, phase: code === 0 ? 'Succeeded' : 'Failed', conditions: [{ type: 'Ready', status: 'False' }] };
      touch(pod);
    });
  };

  const schedule = (pod: FakePod): void => {
    if (pending !== null) {
      pod.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: pending }] };
      touch(pod);
      return;
    }
    mkdirSync(podDir(pod.metadata.name), { recursive: true });
    if (!options.podStartMs) return run(pod);
    pod.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: [{ name: pod.spec.containers[0]!.name, ready: false, state: { waiting: { reason: 'ContainerCreating' } } }] };
    touch(pod);
    setTimeout(() => !closed && pods.get(pod.metadata.name) === pod && run(pod), options.podStartMs).unref();
  };

  const remove = (name: string): FakePod | null => {
    const pod = pods.get(name);
    if (!pod) return null;
    pod.metadata.deletionTimestamp = new Date().toISOString();
    killPod(name);
    mains.delete(name);
    pods.delete(name);
    touch(pod);
    notify('DELETED', pod);
    rmSync(podDir(name), { recursive: true, force: true });
    rmSync(join(root, 'volumes', name), { recursive: true, force: true });
    return pod;
  };

  const addPod = (namespace: string, name: string, labels: Record<string, string> | undefined, spec: FakePod['spec']): FakePod => {
    const pod: FakePod = { metadata: { name, namespace, uid: `uid-${version}`, resourceVersion: String(++version), creationTimestamp: new Date().toISOString(), ...(labels ? { labels } : {}) }, spec, status: { phase: 'Pending' } };
    pods.set(name, pod);
    notify('ADDED', pod);
    schedule(pod);
    return pod;
  };

  const makeObject = (plural: string, namespace: string, body: { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> }): SandboxObject => {
    const object: SandboxObject = { ...body, metadata: { ...body.metadata, namespace, uid: `uid-${version}`, resourceVersion: String(++version), creationTimestamp: new Date().toISOString() } };
    if (!objects.has(plural)) objects.set(plural, new Map());
    objects.get(plural)!.set(`${namespace}/${body.metadata.name}`, object);
    kick();
    return object;
  };

  /** The controller's hands on pods: what the API server does for a POST, a DELETE, a label change. */
  const hands = {
    create: (body: { metadata: { name: string; labels?: Record<string, string> }; spec: unknown }, namespace: string) => void (pods.has(body.metadata.name) || addPod(namespace, body.metadata.name, body.metadata.labels, body.spec as FakePod['spec'])),
    remove: (name: string) => void remove(name),
    exists: (name: string) => pods.has(name),
    running: (name: string) => pods.get(name)?.status.phase === 'Running',
    relabel: (name: string, labels: Record<string, string>) => {
      const pod = pods.get(name);
      if (pod) {
        pod.metadata.labels = labels;
        touch(pod);
      }
    },
    list: (namespace: string) => [...pods.values()].filter((p) => p.metadata.namespace === namespace).map((p) => ({ name: p.metadata.name, ...(p.metadata.labels ? { labels: p.metadata.labels } : {}) })),
  };

  /** The agent-sandbox kinds: create, get, list, merge patch, delete (the controller does the rest). */
  const customObjects = async (req: IncomingMessage, res: ServerResponse, group: string, namespace: string, plural: string, name: string | undefined): Promise<void> => {
    const kind = SANDBOX_KINDS[plural];
    if (!options.sandboxCrds || !kind || kind.group !== group) return json(res, 404, status(404, 'NotFound', `the server could not find the requested resource`));
    if (!objects.has(plural)) objects.set(plural, new Map());
    const store = objects.get(plural)!;
    const verb = req.method === 'POST' ? 'CREATE' : req.method === 'GET' ? (name ? 'GET' : 'LIST') : req.method!;
    count(`${verb} ${plural}`);
    if (req.method === 'POST' && !name) {
      const body = JSON.parse(await readBody(req)) as SandboxObject;
      if (!body.metadata?.name) return json(res, 422, status(422, 'Invalid', `${kind.kind}.${group} is invalid: metadata.name: Required value`));
      if (store.has(`${namespace}/${body.metadata.name}`)) return json(res, 409, status(409, 'AlreadyExists', `${plural}.${group} "${body.metadata.name}" already exists`));
      return json(res, 201, makeObject(plural, namespace, body));
    }
    if (!name) return json(res, 200, { apiVersion: `${group}/v1alpha1`, kind: `${kind.kind}List`, metadata: { resourceVersion: String(version) }, items: [...store.values()].filter((o) => o.metadata.namespace === namespace) });
    const object = store.get(`${namespace}/${name}`);
    if (!object) return json(res, 404, status(404, 'NotFound', `${plural}.${group} "${name}" not found`));
    if (req.method === 'GET') return json(res, 200, object);
    if (req.method === 'PATCH') {
      if (req.headers['content-type'] !== 'application/merge-patch+json') return json(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`));
      const patched = mergePatch(object, JSON.parse(await readBody(req))) as SandboxObject;
      Object.assign(object, { spec: patched.spec, metadata: { ...patched.metadata, name: object.metadata.name, namespace, uid: object.metadata.uid, resourceVersion: String(++version) } });
      kick();
      return json(res, 200, object);
    }
    if (req.method === 'DELETE') {
      store.delete(`${namespace}/${name}`);
      kick();
      return json(res, 200, object);
    }
    return json(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not allowed here`));
  };

  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.headers.authorization !== `Bearer ${token}`) return json(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (req.method === 'GET' && path === '/apis') {
      const groups = options.sandboxCrds
        ? [
            { name: 'agents.x-k8s.io', versions: [{ groupVersion: 'agents.x-k8s.io/v1alpha1', version: 'v1alpha1' }], preferredVersion: { groupVersion: 'agents.x-k8s.io/v1alpha1', version: 'v1alpha1' } },
            { name: 'extensions.agents.x-k8s.io', versions: [{ groupVersion: 'extensions.agents.x-k8s.io/v1alpha1', version: 'v1alpha1' }], preferredVersion: { groupVersion: 'extensions.agents.x-k8s.io/v1alpha1', version: 'v1alpha1' } },
          ]
        : [];
      return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    if (req.method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      count('CREATE selfsubjectaccessreviews');
      const review = JSON.parse(await readBody(req)) as { spec?: { resourceAttributes?: { verb?: string; resource?: string; subresource?: string } } };
      const a = review.spec?.resourceAttributes ?? {};
      const allowed = !(options.forbid ?? []).includes(`${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}`);
      return json(res, 201, { ...review, status: { allowed, ...(allowed ? {} : { reason: 'not allowed by the loopback cluster' }) } });
    }
    const custom = /^\/apis\/([^/]+)\/v1alpha1\/namespaces\/([^/]+)\/([a-z]+)(?:\/([^/]+))?$/.exec(path);
    if (custom) return customObjects(req, res, custom[1]!, custom[2]!, custom[3]!, custom[4]);
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?(?:\/(log))?$/.exec(path);
    if (!m) return json(res, 404, status(404, 'NotFound', `the server could not find the requested resource (${req.method} ${path})`));
    const [, namespace, name, sub] = m as unknown as [string, string, string | undefined, string | undefined];
    if (req.method === 'POST' && !name) {
      count('CREATE pods');
      const body = JSON.parse(await readBody(req)) as Partial<FakePod> & { metadata?: { name?: string; generateName?: string; labels?: Record<string, string> } };
      const podName = body.metadata?.name ?? `${body.metadata?.generateName ?? 'pod-'}${Math.random().toString(36).slice(2, 7)}`;
      if (!body.spec?.containers?.length) return json(res, 422, status(422, 'Invalid', `Pod "${podName}" is invalid: spec.containers: Required value`));
      if (pods.has(podName)) return json(res, 409, status(409, 'AlreadyExists', `pods "${podName}" already exists`));
      return json(res, 201, addPod(namespace, podName, body.metadata?.labels, body.spec));
    }
    if (req.method === 'GET' && !name) {
      if (url.searchParams.get('watch') === 'true') {
        count('WATCH pods');
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.flushHeaders();
        const watcher = { namespace, res, selector: url.searchParams.get('labelSelector') };
        watchers.add(watcher);
        req.on('close', () => watchers.delete(watcher));
        return;
      }
      count('LIST pods');
      return json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(version) }, items: [...pods.values()].filter((p) => p.metadata.namespace === namespace && matches(url.searchParams.get('labelSelector'), p.metadata.labels)) });
    }
    const pod = name ? pods.get(name) : undefined;
    if (!pod || pod.metadata.namespace !== namespace) return json(res, 404, status(404, 'NotFound', `pods "${name}" not found`));
    if (req.method === 'GET' && sub === 'log') {
      count('LOG pods');
      res.writeHead(200, { 'content-type': 'text/plain' });
      try {
        return void res.end(readFileSync(join(podDir(name!), '..', `${name}.log`)));
      } catch {
        return void res.end('');
      }
    }
    if (req.method === 'GET') {
      count('GET pods');
      return json(res, 200, pod);
    }
    if (req.method === 'DELETE') {
      count('DELETE pods');
      remove(name!);
      return json(res, 200, pod);
    }
    return json(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not allowed here`));
  };

  // exec: a WebSocket with the channel protocol; the command runs in the pod's confinement.
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false) });
  const exec = (ws: WebSocket, name: string, container: FakeContainer, command: string[], wants: { stdin: boolean; stdout: boolean; stderr: boolean }): void => {
    count('EXEC pods');
    // As kubelet does: the command runs in the container asked for, with its environment and its volumes.
    const made = envOf(pods.get(name)!, container);
    let child: ChildProcess;
    try {
      child = confined(name, container, command, 'env' in made ? made.env : {});
    } catch (err) {
      ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', message: String(err), reason: 'InternalError' }))]));
      return ws.close(1000);
    }
    const frame = (channel: number, data: Buffer | string): void => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]));
    };
    // Only the streams asked for are sent, as the API server does.
    child.stdout!.on('data', (d: Buffer) => wants.stdout && frame(1, d));
    child.stderr!.on('data', (d: Buffer) => wants.stderr && frame(2, d));
    child.stdin!.on('error', () => undefined);
    if (!wants.stdin) child.stdin!.end();
    ws.on('message', (data: Buffer) => {
      const channel = data[0];
      if (channel === 0) child.stdin!.write(data.subarray(1));
      else if (channel === 255 && data[1] === 0) child.stdin!.end();
    });
    ws.on('close', () => child.stdin!.destroy());
    child.once('error', (err) => {
      frame(3, JSON.stringify({ metadata: {}, status: 'Failure', message: `exec failed: ${err.message}`, reason: 'InternalError' }));
      ws.close();
    });
    child.once('close', (code, signal) => {
      const ok = code === 0;
      const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      frame(3, JSON.stringify(ok ? { metadata: {}, status: 'Success' } : { metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: exit status ${exitCode}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] } }));
      ws.close(1000);
    });
  };

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => void handle(req, res).catch((err: unknown) => json(res, 500, status(500, 'InternalError', String(err)))));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    const pod = m ? pods.get(m[2]!) : undefined;
    const refuse = (code: number, text: string): void => void socket.end(`HTTP/1.1 ${code} ${text}\r\ncontent-type: application/json\r\n\r\n${JSON.stringify(status(code, text, text))}`);
    if (req.headers.authorization !== `Bearer ${token}`) return refuse(401, 'Unauthorized');
    if (!m || !pod || pod.metadata.namespace !== m[1]) return refuse(404, 'NotFound');
    if (pod.status.phase !== 'Running') return refuse(400, 'BadRequest');
    const command = url.searchParams.getAll('command');
    const flag = (name: string): boolean => url.searchParams.get(name) === 'true';
    const wanted = url.searchParams.get('container');
    const container = wanted ? pod.spec.containers.find((c) => c.name === wanted) : pod.spec.containers[0];
    if (!container) return refuse(400, 'BadRequest');
    wss.handleUpgrade(req, socket, head, (ws) => exec(ws, pod.metadata.name, container, command, { stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr') }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  /** The API gone: its port closed, every connection (watches, execs) cut; the pods go on running. */
  const away = async (): Promise<void> => {
    for (const w of watchers) w.res.end();
    for (const ws of wss.clients) ws.terminate();
    for (const socket of sockets) socket.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(root, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigText(url, token), { mode: 0o600 });

  return {
    url,
    token,
    kubeconfig,
    pods,
    objects,
    calls,
    podDir,
    unschedulable(message = '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.') {
      pending = message;
    },
    schedulable() {
      pending = null;
      for (const pod of pods.values()) if (pod.status.phase === 'Pending') schedule(pod);
    },
    evict(name) {
      remove(name);
    },
    oomKill(name) {
      const pod = pods.get(name);
      if (!pod) return;
      const container = pod.spec.containers[0]!.name;
      pod.status = { phase: 'Failed', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: container, ready: false, state: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }] };
      killPod(name);
      mains.delete(name);
      touch(pod);
    },
    async close() {
      // Nothing starts after this: no controller pass, no pod finishing its start.
      closed = true;
      for (const name of [...pods.keys()]) remove(name);
      await away();
      rmSync(root, { recursive: true, force: true });
    },
    pause: away,
    async resume() {
      if (!server.listening) await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    },
  };
}
