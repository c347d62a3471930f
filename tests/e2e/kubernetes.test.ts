import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeKubernetes, type FakeKubernetes } from '../../scripts/fake-kubernetes.js';
import { waitFor } from '../../src/wait.js';
import { attachInPty } from '../helpers/attach.js';
import { actionsRunner, githubFor, TOKEN, type FakeGitHub } from '../helpers/github.js';
import { agentCommand, BIN, git, openRegistry, runDaemon, sandbox, swarm, waitForState, writeConfig, type DaemonProcess, type Sandbox } from '../helpers/sample.js';

/**
 * Tasks as pods: the real @kubernetes/client-node against the loopback API server (whose pods run as confined
 * local processes), code through the GitHub stand-in, CI on its Actions stand-in.
 */
describe('the Kubernetes runner', () => {
  let box: Sandbox;
  let gh: FakeGitHub;
  let bare: string;
  let k8s: FakeKubernetes;
  let daemon: DaemonProcess | null = null;
  const env = { GITHUB_TOKEN: TOKEN };

  beforeEach(async () => {
    box = sandbox('k8s');
    ({ gh, bare } = await githubFor(box));
    k8s = await startFakeKubernetes({ secrets: { 'swarm-forge': { token: TOKEN } } });
    actionsRunner(gh, bare);
    writeConfig(box, {
      forge: 'github',
      github: { repo: 'octo/sample', api_url: gh.url, retries: 0 },
      sandbox: 'none',
      max_retries: 0,
      agents: { right: { command: agentCommand('fixer-right.mjs') }, talk: { command: agentCommand('interactive.mjs') } },
      default_agent: 'right',
      kubernetes: { cluster: { kubeconfig: k8s.kubeconfig, image: 'worktree-swarm/agent:test', swarm: [process.execPath, BIN], token_secret: { name: 'swarm-forge' } } },
    });
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await k8s.close();
    await gh.close();
    box.cleanup();
  });

  const failing = (err: unknown): Error => new Error(`${String(err)}\ndaemon said:\n${daemon?.output().split('\n').filter((l) => /"level":(30|40|50)/.test(l)).slice(-25).join('\n') ?? ''}`);

  it('a task in a pod reaches ready through the forge, merges, and its pod goes', async () => {
    daemon = await runDaemon(box, env);
    const spawned = await swarm(box.repo, ['spawn', '--json', '--host', 'cluster', 'Fix addNumbers'], env);
    expect(spawned.stderr).toBe('');
    const { id } = JSON.parse(spawned.stdout) as { id: number };
    const ready = await waitForState(box, id, ['ready', 'needs_help'], 90_000).catch((err: unknown) => {
      throw failing(err);
    });
    expect(ready.state).toBe('ready');
    expect(ready.host).toBe('cluster');
    expect(ready.worktree).toBe('/workspace/checkout');
    expect(k8s.calls.get('CREATE pods')).toBe(1);
    // The branch came back through the forge: the verified head is the pod's commit, on GitHub and here.
    expect(git(bare, ['rev-parse', `refs/heads/${ready.branch}`]).trim()).toBe(ready.verified_sha);
    expect(git(box.repo, ['show', `${ready.verified_sha!}:src/add.ts`])).toContain('a + b');
    const merged = await swarm(box.repo, ['merge', String(id)], env);
    expect(merged.stderr).toBe('');
    expect(gh.pulls.get(openRegistry(box).getPr(id)!.number!)!.merged).toBe(true);
    await waitFor(() => (k8s.pods.size === 0 ? true : undefined), { timeoutMs: 10_000, what: 'the task\'s pod deleted' });
  });

  it('a full cluster keeps the task queued and says why until there is room; an evicted pod is replaced, no retry spent; attach types into the agent in the pod', async () => {
    k8s.unschedulable();
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--host', 'cluster', '--agent', 'talk', 'Talk to me'], env)).stdout) as { id: number };
    const registry = openRegistry(box);
    const waiting = await waitFor(() => registry.events(id).find((e) => e.kind === 'host_waiting'), { timeoutMs: 20_000, what: 'the task waiting for the cluster' });
    expect(waiting.data).toContain('cluster cluster has no room for pod');
    expect(waiting.data).toContain('Insufficient memory');
    expect(registry.getTask(id)!.state).toBe('queued');
    expect(registry.getTask(id)!.retries).toBe(0);
    expect((await swarm(box.repo, ['ls'], env)).stdout).toMatch(new RegExp(`#${id} waits: cluster cluster has no room for pod swarm-repo-\\w+-t${id} yet: 0/3 nodes are available: 3 Insufficient memory`));
    k8s.schedulable();
    await waitForState(box, id, 'running', 60_000).catch((err: unknown) => {
      throw failing(err);
    });
    // The pod is evicted mid-run: placed again on the cluster, in a new pod, no retry spent.
    const first = registry.getTask(id)!;
    k8s.evict([...k8s.pods.keys()][0]!);
    await waitFor(() => registry.events(id).find((e) => e.kind === 'placed_again'), { timeoutMs: 20_000, what: 'the task placed again' });
    await waitFor(() => (registry.getTask(id)!.state === 'running' && registry.getTask(id)!.attempt > first.attempt ? true : undefined), { timeoutMs: 30_000, what: 'the agent running in a new pod' });
    expect(k8s.calls.get('CREATE pods')).toBe(2);
    expect(registry.getTask(id)!.retries).toBe(0);
    expect(registry.attempts(id).filter((a) => a.kind === 'agent').map((a) => a.outcome)).toEqual(['pod_lost', null]);
    expect((await swarm(box.repo, ['ls'], env)).stdout).not.toContain('waits:');
    const attached = attachInPty(box, id);
    await waitFor(() => (attached.output().includes('ready for input') ? true : undefined), { timeoutMs: 30_000, what: 'the agent\'s screen through attach' });
    attached.write('hello cluster\r');
    await waitFor(() => (attached.output().includes('interactive: got hello cluster') ? true : undefined), { timeoutMs: 20_000, what: 'the agent\'s answer' });
    attached.write('finish\r');
    const ready = await waitForState(box, id, ['ready', 'needs_help'], 90_000).catch((err: unknown) => {
      throw failing(err);
    });
    expect(ready.state).toBe('ready');
    registry.close();
  });
});
