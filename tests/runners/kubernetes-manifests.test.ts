import { describe, expect, it } from 'vitest';
import { podManifest, podName, sandboxClaim, sandboxTemplate, sandboxWarmPool, type PodTemplate } from '../../src/runners/kubernetes/manifests.js';
import { sandboxPod } from '../../src/runners/kubernetes/placement.js';
import { KubeCluster, podState } from '../../src/runners/kubernetes/cluster.js';
import { startFakeKubernetes } from '../../scripts/fake-kubernetes.js';
import { waitFor } from '../../src/wait.js';

const template: PodTemplate = { image: 'ghcr.io/acme/swarm-agent:1', swarm: ['swarm'], token_secret: { name: 'swarm-forge', key: 'token' } };

describe('what swarm asks a cluster for', () => {
  it.each([
    ['shop', 7, 'swarm-shop-t7'],
    ['My Shop_API.v2', 12, 'swarm-my-shop-api-v2-t12'],
    ['x'.repeat(80), 123456789, `swarm-${'x'.repeat(40)}-t123456789`],
    ['---', 1, 'swarm-repo-t1'],
  ])('a pod name from %s and task %i: %s (DNS-1123, at most 63)', (repo, id, want) => {
    const name = podName({ repo, id });
    expect(name).toBe(want);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('the forge token is a reference to a Secret, never a value, and only the forge\'s container has it; both run unprivileged, without the API token', () => {
    const pod = podManifest({ repo: 'shop', id: 7 }, template);
    const [agent, forge] = pod.spec!.containers;
    expect(agent!.name).toBe('agent');
    expect(agent!.env).toEqual([{ name: 'HOME', value: '/workspace' }]);
    expect(forge!.name).toBe('forge');
    expect(forge!.env).toContainEqual({ name: 'SWARM_FORGE_TOKEN', valueFrom: { secretKeyRef: { name: 'swarm-forge', key: 'token' } } });
    expect(forge!.env!.filter((e) => e.value !== undefined)).toEqual([{ name: 'HOME', value: '/srv' }]);
    // The forge's mirror is on a volume the agent's container does not mount.
    expect(agent!.volumeMounts!.map((m) => m.name)).toEqual(['workspace']);
    expect(forge!.volumeMounts!.map((m) => m.name)).toEqual(['workspace', 'forge']);
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    for (const c of [agent!, forge!]) expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(pod.spec!.restartPolicy).toBe('Never');
    expect(pod.spec!.runtimeClassName).toBeUndefined();
    expect(pod.metadata!.labels).toEqual({ 'worktree-swarm.dev/task': '7', 'worktree-swarm.dev/repo': 'shop' });
  });

  it('the runtime class (gVisor, Kata) and the resources are the config\'s', () => {
    const pod = podManifest({ repo: 'shop', id: 7 }, { ...template, runtime_class: 'gvisor', resources: { requests: { memory: '3Gi', cpu: '1' }, limits: { memory: '4Gi' } } });
    expect(pod.spec!.runtimeClassName).toBe('gvisor');
    expect(pod.spec!.containers[0]!.resources).toEqual({ requests: { memory: '3Gi', cpu: '1' }, limits: { memory: '4Gi' } });
  });

  it('with the agent-sandbox CRDs, a claim on the template, named as the pod would be, its pod labelled as swarm\'s pods are', () => {
    expect(sandboxClaim({ repo: 'shop', id: 7 }, 'swarm-agent')).toEqual({
      apiVersion: 'extensions.agents.x-k8s.io/v1alpha1',
      kind: 'SandboxClaim',
      metadata: { name: 'swarm-shop-t7', labels: { 'worktree-swarm.dev/task': '7', 'worktree-swarm.dev/repo': 'shop' } },
      spec: { sandboxTemplateRef: { name: 'swarm-agent' }, additionalPodMetadata: { labels: { 'worktree-swarm.dev/task': '7', 'worktree-swarm.dev/repo': 'shop' } } },
    });
    // No env injected: that would force a cold start past the warm pool, and the token stays a Secret reference in the template.
    expect(JSON.stringify(sandboxClaim({ repo: 'shop', id: 7 }, 'swarm-agent'))).not.toContain('env');
  });

  it('the template swarm writes holds the same pod as swarm would make, token by reference; its warm pool names it', () => {
    const written = sandboxTemplate('swarm-cluster', { ...template, runtime_class: 'gvisor' });
    const podTemplate = written.spec!.podTemplate as { spec: unknown };
    expect(podTemplate.spec).toEqual(podManifest({ repo: 'shop', id: 7 }, { ...template, runtime_class: 'gvisor' }).spec);
    expect(JSON.stringify(written)).not.toContain('"value":"token');
    expect(sandboxWarmPool('swarm-cluster', 'swarm-cluster', 2)).toMatchObject({ kind: 'SandboxWarmPool', metadata: { name: 'swarm-cluster' }, spec: { replicas: 2, sandboxTemplateRef: { name: 'swarm-cluster' } } });
  });

  it.each([
    ['a started pool pod', { metadata: { name: 'swarm-shop-t7', annotations: { 'agents.x-k8s.io/pod-name': 'swarm-cluster-x1y2z' } } }, 'swarm-cluster-x1y2z'],
    ['a pod of its own', { metadata: { name: 'swarm-shop-t7' } }, 'swarm-shop-t7'],
    ['an empty annotation', { metadata: { name: 'swarm-shop-t7', annotations: { 'agents.x-k8s.io/pod-name': '' } } }, 'swarm-shop-t7'],
  ])('a Sandbox with %s: its pod is %s', (_what, sandbox, want) => {
    expect(sandboxPod(sandbox)).toBe(want);
  });

  it('the pod as built is what the official client sends and the API server takes', async () => {
    const k8s = await startFakeKubernetes({ secrets: { 'swarm-forge': { token: 'forge-token' } } });
    try {
      const cluster = KubeCluster.load({ kubeconfig: k8s.kubeconfig });
      await cluster.createPod(podManifest({ repo: 'shop', id: 7 }, template));
      await waitFor(async () => (podState(await cluster.readPod('swarm-shop-t7')).kind === 'running' ? true : undefined), { timeoutMs: 10_000, what: 'the pod running' });
      const sent = k8s.pods.get('swarm-shop-t7')!;
      expect(sent.spec.containers[1]!.env).toContainEqual({ name: 'SWARM_FORGE_TOKEN', valueFrom: { secretKeyRef: { name: 'swarm-forge', key: 'token' } } });
    } finally {
      await k8s.close();
    }
  });
});
