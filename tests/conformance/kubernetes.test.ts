/**
 * The cluster scenarios against a real cluster: `npm run conformance:kubernetes` with KUBECONFIG (as kubectl)
 * and SWARM_K8S_IMAGE (an agent image: deploy/kubernetes/Dockerfile) set; SWARM_K8S_NAMESPACE (default swarm).
 * Without them nothing runs here (the same scenarios run against the loopback API server in tests/runners and
 * tests/e2e). SWARM_K8S_CONFORMANCE=loopback runs this file against the loopback server, to check the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostedSessions } from '../../src/runners/hosted.js';
import { KubeCluster, podState } from '../../src/runners/kubernetes/cluster.js';
import { podManifest, podName, sandboxClaim, sandboxTemplate } from '../../src/runners/kubernetes/manifests.js';
import { sandboxPod } from '../../src/runners/kubernetes/placement.js';
import { PodTransport } from '../../src/runners/kubernetes/transport.js';
import { startFakeKubernetes, type FakeKubernetes } from '../../scripts/fake-kubernetes.js';
import type { HolderMessage } from '../../src/sessions/protocol.js';
import { waitFor } from '../../src/wait.js';
import { BIN } from '../helpers/sample.js';

const loopback = process.env.SWARM_K8S_CONFORMANCE === 'loopback';
const real = Boolean(process.env.KUBECONFIG && process.env.SWARM_K8S_IMAGE);

describe.runIf(real || loopback)(`conformance: the Kubernetes runner's cluster scenarios${loopback ? ' (loopback)' : ''}`, () => {
  let fake: FakeKubernetes | null = null;
  let cluster: KubeCluster;
  let swarm: string[];
  const pod = `swarm-conformance-t${process.pid}`;

  beforeAll(async () => {
    if (loopback) fake = await startFakeKubernetes({ sandboxCrds: true });
    cluster = KubeCluster.load({ ...(fake ? { kubeconfig: fake.kubeconfig } : {}), namespace: process.env.SWARM_K8S_NAMESPACE ?? 'swarm' });
    swarm = fake ? [process.execPath, BIN] : ['swarm'];
    const manifest = podManifest({ repo: 'conformance', id: process.pid }, { image: process.env.SWARM_K8S_IMAGE ?? 'worktree-swarm/agent:test', swarm, token_secret: { name: process.env.SWARM_K8S_SECRET ?? 'swarm-forge', key: 'token' } });
    // The conformance pod needs no forge token: it clones nothing.
    for (const c of manifest.spec!.containers) c.env = c.env!.filter((e) => e.name !== 'SWARM_FORGE_TOKEN');
    await cluster.createPod({ ...manifest, metadata: { ...manifest.metadata, name: pod } });
    await waitFor(async () => (podState(await cluster.readPod(pod)).kind === 'running' ? true : undefined), { timeoutMs: 300_000, intervalMs: 1_000, what: `pod ${pod} running (image ${process.env.SWARM_K8S_IMAGE ?? 'loopback'})` });
  }, 320_000);
  afterAll(async () => {
    await cluster?.deletePod(pod);
    await fake?.close();
  });

  it('discovery answers (with or without the agent-sandbox CRDs)', async () => {
    expect(typeof (await cluster.sandboxCrds())).toBe('boolean');
  });

  it('a command in the pod gets stdin, and its output and exit code come back', async () => {
    expect(await cluster.exec(pod, ['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'through exec\n' })).toEqual({ code: 3, stdout: 'through exec\n', stderr: 'err\n' });
  });

  it('a session started in the pod outlives its exec; attach types into it; kill ends it', async () => {
    const sessions = new HostedSessions('conformance', new PodTransport(cluster, pod), swarm);
    const { dir } = await sessions.fresh(`/workspace/s/${pod}`, 'c1');
    await sessions.start(dir, { argv: ['sh', '-c', 'echo ready; read line; echo "got $line"; sleep 600'], cwd: '/workspace', env: {}, cols: 80, rows: 24, scrollback_bytes: 64 * 1024 }, {}, undefined);
    await waitFor(async () => ((await sessions.look(dir, 1024)).tail.includes('ready') ? true : undefined), { timeoutMs: 60_000, what: 'the session\'s first line' });
    const heard: HolderMessage[] = [];
    const connection = await sessions.connect(dir, { onMessage: (m) => heard.push(m) });
    connection.send({ t: 'input', data: 'hello\r' });
    await waitFor(() => (heard.some((m) => (m.t === 'output' || m.t === 'replay') && m.data.includes('got hello')) ? true : undefined), { timeoutMs: 30_000, what: 'the answer through attach' });
    connection.close();
    expect(await sessions.kill(dir)).toBe(true);
    await waitFor(async () => ((await sessions.look(dir, 0)).live.kind === 'exited' ? true : undefined), { timeoutMs: 60_000, what: 'the session ended' });
  });

  it('with the agent-sandbox CRDs, a claim on a template gets a running pod, a command runs in it and deleting the claim takes its pod; without them, a claim is refused in words', async () => {
    const name = `swarm-conformance-${process.pid}`;
    if (!(await cluster.sandboxCrds())) {
      // Discovery said no CRDs: the API agrees (the runner then makes plain pods instead).
      await expect(cluster.createObject('SandboxClaim', sandboxClaim({ repo: 'conformance', id: process.pid }, name))).rejects.toThrow(/The cluster refused SandboxClaim swarm-conformance-t\d+ in namespace \S+: 404/);
      return;
    }
    const template = sandboxTemplate(name, { image: process.env.SWARM_K8S_IMAGE ?? 'worktree-swarm/agent:test', swarm, token_secret: { name: 'unused', key: 'token' } });
    const spec = (template.spec!.podTemplate as { spec: { containers: { env?: { name: string }[] }[] } }).spec;
    for (const c of spec.containers) c.env = c.env!.filter((e) => e.name !== 'SWARM_FORGE_TOKEN');
    await cluster.createObject('SandboxTemplate', template);
    try {
      await cluster.createObject('SandboxClaim', sandboxClaim({ repo: 'conformance', id: process.pid }, name));
      const pod = await waitFor(async () => {
        const sandbox = await cluster.readObject('SandboxClaim', podName({ repo: 'conformance', id: process.pid })).then((c) => (c?.status?.sandbox?.name ? cluster.readObject('Sandbox', c.status.sandbox.name) : null));
        const podOf = sandbox ? sandboxPod(sandbox) : null;
        return podOf && podState(await cluster.readPod(podOf)).kind === 'running' ? podOf : undefined;
      }, { timeoutMs: 300_000, intervalMs: 1_000, what: 'the claimed sandbox\'s pod running' });
      expect(await cluster.exec(pod, ['sh', '-c', 'echo claimed; exit 4'])).toEqual({ code: 4, stdout: 'claimed\n', stderr: '' });
      await cluster.deleteObject('SandboxClaim', podName({ repo: 'conformance', id: process.pid }));
      await waitFor(async () => (podState(await cluster.readPod(pod)).kind === 'gone' ? true : undefined), { timeoutMs: 120_000, intervalMs: 1_000, what: 'the claim\'s pod deleted with it' });
    } finally {
      await cluster.deleteObject('SandboxClaim', podName({ repo: 'conformance', id: process.pid }));
      await cluster.deleteObject('SandboxTemplate', name);
    }
  });
});
