import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostedSessions } from '../../src/runners/hosted.js';
import { KubeCluster, podState } from '../../src/runners/kubernetes/cluster.js';
import { PodTransport } from '../../src/runners/kubernetes/transport.js';
import type { HolderMessage } from '../../src/sessions/protocol.js';
import { startFakeKubernetes, type FakeKubernetes } from '../../scripts/fake-kubernetes.js';
import { waitFor } from '../../src/wait.js';
import { agentCommand, BIN } from '../helpers/sample.js';

/**
 * The seam shared with the SSH runner, over a pod: the same session holder runs in the pod, driven by
 * `swarm host <op>` through the exec API. A session outlives the exec that started it; attach types into it.
 */
describe('sessions in a pod, through the exec API', () => {
  let k8s: FakeKubernetes;
  let cluster: KubeCluster;
  beforeEach(async () => {
    k8s = await startFakeKubernetes();
    cluster = KubeCluster.load({ kubeconfig: k8s.kubeconfig });
    await cluster.createPod({ metadata: { name: 'task-9' }, spec: { restartPolicy: 'Never', containers: [{ name: 'agent', image: 'worktree-swarm/agent:test', command: ['sleep', 'infinity'] }] } });
    await waitFor(async () => (podState(await cluster.readPod('task-9')).kind === 'running' ? true : undefined), { timeoutMs: 10_000, what: 'the pod running' });
  });
  afterEach(async () => {
    await k8s.close();
  });

  it('a session starts in the pod and outlives its exec; look, read and attach reach it; kill ends it; the pod deleted takes it along', async () => {
    const sessions = new HostedSessions('cluster', new PodTransport(cluster, 'task-9'), [process.execPath, BIN]);
    const { dir } = await sessions.fresh('/workspace/sessions', 't9-a1');
    expect(dir).toBe('/workspace/sessions/t9-a1');
    expect((await sessions.fresh('/workspace/sessions', 't9-a1')).dir).toBe('/workspace/sessions/t9-a1-2');
    await sessions.start(dir, { argv: agentCommand('interactive.mjs'), cwd: '/workspace', env: { SWARM_TASK_ID: '9' }, cols: 100, rows: 30, scrollback_bytes: 64 * 1024 }, { 'prompt.md': 'Talk to me' }, undefined);
    await waitFor(async () => ((await sessions.look(dir, 4096)).tail.includes('ready for input') ? true : undefined), { timeoutMs: 20_000, what: 'the agent in the pod' });
    expect((await sessions.look(dir, 0)).live.kind).toBe('running');

    // Attach: type into the agent's terminal, read what it answered.
    const heard: HolderMessage[] = [];
    const connection = await sessions.connect(dir, { onMessage: (m) => heard.push(m) });
    connection.send({ t: 'input', data: 'hello pod\r' });
    await waitFor(() => (heard.some((m) => m.t === 'output' && m.data.includes('got hello pod')) ? true : undefined), { timeoutMs: 20_000, what: 'the answer through attach' });
    connection.close();
    await connection.closed;
    expect((await sessions.read(dir, 0, 1024 * 1024)).data.toString()).toContain('interactive: got hello pod');

    expect(await sessions.kill(dir)).toBe(true);
    await waitFor(async () => ((await sessions.look(dir, 0)).live.kind === 'exited' ? true : undefined), { timeoutMs: 20_000, what: 'the session ended' });

    const second = await sessions.fresh('/workspace/sessions', 't9-a2');
    await sessions.start(second.dir, { argv: agentCommand('interactive.mjs'), cwd: '/workspace', env: {}, cols: 100, rows: 30, scrollback_bytes: 64 * 1024 }, {}, undefined);
    await waitFor(async () => ((await sessions.look(second.dir, 0)).live.kind === 'running' ? true : undefined), { timeoutMs: 20_000, what: 'another session' });
    const holder = (await sessions.look(second.dir, 0)).live;
    const pid = holder.kind === 'running' ? holder.state.holder_pid : -1;
    k8s.evict('task-9');
    await waitFor(() => { try { process.kill(pid, 0); return undefined; } catch { return true; } }, { timeoutMs: 10_000, what: 'the holder gone with its pod' });
    await expect(sessions.look(second.dir, 0)).rejects.toThrow(/Pod task-9 is gone from namespace swarm/);
  });
});
