import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { ClusterError, KubeCluster, PodGoneError, podState, unreachable } from '../../src/runners/kubernetes/cluster.js';
import { startFakeKubernetes, type FakeKubernetes } from '../../scripts/fake-kubernetes.js';
import { waitFor } from '../../src/wait.js';

const pod = (name: string, command = ['sleep', 'infinity']): V1Pod => ({ metadata: { name, labels: { 'worktree-swarm/task': '7' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'agent', image: 'worktree-swarm/agent:test', command }] } });

/** The real @kubernetes/client-node against the loopback API server, found through KUBECONFIG as kubectl would. */
describe('the cluster, through the official client', () => {
  let k8s: FakeKubernetes;
  let saved: string | undefined;
  beforeEach(async () => {
    k8s = await startFakeKubernetes();
    saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = k8s.kubeconfig;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    await k8s.close();
  });

  it('a pod is created and runs; a command runs in it with stdin, its output and exit code come back; deleting it ends everything it ran', async () => {
    const cluster = KubeCluster.load();
    expect(cluster.namespace).toBe('swarm');
    expect(await cluster.sandboxCrds()).toBe(false);
    await cluster.createPod(pod('task-7'));
    await waitFor(async () => (podState(await cluster.readPod('task-7')).kind === 'running' ? true : undefined), { timeoutMs: 10_000, what: 'the pod running' });

    const echoed = await cluster.exec('task-7', ['sh', '-c', 'cat > note.txt; cat note.txt; echo to-stderr >&2; exit 3'], { input: 'hello from the daemon\n' });
    expect(echoed).toEqual({ code: 3, stdout: 'hello from the daemon\n', stderr: 'to-stderr\n' });
    expect(readFileSync(join(k8s.podDir('task-7'), 'note.txt'), 'utf8')).toBe('hello from the daemon\n');
    expect(await cluster.exec('task-7', ['pwd'])).toEqual({ code: 0, stdout: '/workspace\n', stderr: '' });

    // Something left running in the pod (a detached session) ends with it.
    await cluster.exec('task-7', ['sh', '-c', 'setsid sleep 600 > /dev/null 2>&1 < /dev/null & echo $! > sleeper.pid']);
    const sleeper = Number(readFileSync(join(k8s.podDir('task-7'), 'sleeper.pid'), 'utf8'));
    expect(existsSync(`/proc/${sleeper}`)).toBe(true);
    await cluster.deletePod('task-7');
    expect(podState(await cluster.readPod('task-7'))).toEqual({ kind: 'gone' });
    // Gone, or dead and not reaped yet by whoever adopted it (a zombie runs nothing).
    const alive = (): boolean => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${sleeper}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    await waitFor(() => (alive() ? undefined : true), { timeoutMs: 15_000, what: 'the pod\'s processes gone' });
    await cluster.deletePod('task-7'); // twice: nothing to do, no error
  });

  it('a full cluster leaves the pod Pending and says why; room again, it runs; the watch sees every change, one request for all', async () => {
    const cluster = KubeCluster.load();
    const seen: string[] = [];
    const stop = await cluster.watchPods((name, p) => seen.push(`${name}:${podState(p).kind}`), () => undefined);
    k8s.unschedulable();
    await cluster.createPod(pod('task-8'));
    const state = podState(await cluster.readPod('task-8'));
    expect(state).toEqual({ kind: 'unschedulable', why: expect.stringContaining('Insufficient memory') });
    k8s.schedulable();
    await waitFor(() => (seen.includes('task-8:running') ? true : undefined), { timeoutMs: 10_000, what: 'the watch to see it run' });
    k8s.evict('task-8');
    await waitFor(() => (seen.includes('task-8:gone') ? true : undefined), { timeoutMs: 10_000, what: 'the watch to see it gone' });
    expect(seen.slice(0, 2)).toEqual(['task-8:pending', 'task-8:unschedulable']);
    expect(k8s.calls.get('WATCH pods')).toBe(1);
    stop();
  });

  it('a pod killed for its memory while the watch still says it runs: an exec into it says the pod is gone, in the cluster\'s words', async () => {
    const cluster = KubeCluster.load();
    await cluster.createPod(pod('task-9'));
    await waitFor(async () => (podState(await cluster.readPod('task-9')).kind === 'running' ? true : undefined), { timeoutMs: 10_000, what: 'the pod running' });
    const seen = (await cluster.readPod('task-9'))!;
    cluster.known = { get: (name) => (name === 'task-9' ? seen : undefined) };
    k8s.oomKill('task-9');
    const failed = cluster.exec('task-9', ['true']);
    await expect(failed).rejects.toBeInstanceOf(PodGoneError);
    await expect(failed).rejects.toThrow('Pod task-9 is gone from namespace swarm (it failed or was evicted: OOMKilled, exit 137).');
  });

  it('with the agent-sandbox CRDs installed, discovery says so', async () => {
    const withCrds = await startFakeKubernetes({ sandboxCrds: true });
    try {
      expect(await KubeCluster.load({ kubeconfig: withCrds.kubeconfig, namespace: 'team' }).sandboxCrds()).toBe(true);
    } finally {
      await withCrds.close();
    }
  });

  it('a wrong token, a missing kubeconfig and an unknown context are said in words, never the token', async () => {
    mkdirSync(join(k8s.podDir('x'), '..'), { recursive: true });
    const wrong = join(k8s.podDir('x'), '..', 'wrong-kubeconfig');
    writeFileSync(wrong, readFileSync(k8s.kubeconfig, 'utf8').replace(k8s.token, 'stolen-or-stale-token'));
    const refused = KubeCluster.load({ kubeconfig: wrong }).sandboxCrds();
    await expect(refused).rejects.toBeInstanceOf(ClusterError);
    await refused.catch((err: Error) => {
      expect(err.message).toMatch(/did not answer discovery: 401 Unauthorized/);
      expect(err.message).not.toContain('stolen-or-stale-token');
    });
    expect(() => KubeCluster.load({ kubeconfig: '/nonexistent/kubeconfig' })).toThrow(/Could not read the kubeconfig \/nonexistent\/kubeconfig/);
    expect(() => KubeCluster.load({ context: 'prod' })).toThrow(/prod/);
  });
});

describe('a pod\'s state, in words', () => {
  it.each([
    [null, { kind: 'gone' }],
    [{ status: { phase: 'Running' } }, { kind: 'running' }],
    [{ status: { phase: 'Failed' } }, { kind: 'ended', phase: 'Failed', why: null }],
    [{ status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' } }, { kind: 'ended', phase: 'Failed', why: 'Evicted: The node was low on resource: memory.' }],
    [{ status: { phase: 'Failed', containerStatuses: [{ name: 'agent', ready: false, state: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }] } }, { kind: 'ended', phase: 'Failed', why: 'OOMKilled, exit 137' }],
    [{ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] } }, { kind: 'unschedulable', why: '0/3 nodes are available' }],
    [{ status: { phase: 'Pending' } }, { kind: 'pending', why: null }],
    [{ status: { phase: 'Pending', containerStatuses: [{ name: 'agent', ready: false, state: { waiting: { reason: 'ContainerCreating' } } }] } }, { kind: 'pending', why: 'ContainerCreating' }],
    [{ status: { phase: 'Pending', containerStatuses: [{ name: 'agent', ready: false, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "ghcr.io/acme/agent:2"' } } }] } }, { kind: 'pending', why: 'ImagePullBackOff: Back-off pulling image "ghcr.io/acme/agent:2"' }],
    [{ metadata: { deletionTimestamp: new Date() }, status: { phase: 'Running' } }, { kind: 'gone' }],
  ] as [V1Pod | null, unknown][])('%j', (p, want) => expect(podState(p)).toEqual(want));
});

describe('a failed call: the API out of reach, or saying no', () => {
  it.each([
    ['a refused connection (REST)', { name: 'FetchError', code: 'ECONNREFUSED' }, true],
    ['a refused connection (exec\'s WebSocket event)', { error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }, true],
    ['no such host', { cause: { code: 'ENOTFOUND' } }, true],
    ['the API server unavailable', { code: 503 }, true],
    ['a gateway timing out', { code: 504 }, true],
    ['refused credentials', { code: 401 }, false],
    ['not allowed', { code: 403 }, false],
    ['not found', { code: 404 }, false],
    ['an error without a code', new Error('boom'), false],
    ['nothing', null, false],
  ] as const)('%s', (_what, err, want) => expect(unreachable(err)).toBe(want));
});
