import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
    clusterConfig({
      max_retries: 0,
      agents: { right: { command: agentCommand('fixer-right.mjs') }, talk: { command: agentCommand('interactive.mjs') } },
      default_agent: 'right',
    });
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    daemon = null;
    await k8s.close();
    await gh.close();
    box.cleanup();
  });

  /** The sample on GitHub's stand-in with the cluster `cluster` (the loopback API): `extra` settings, and the cluster's own. */
  const clusterConfig = (extra: Record<string, unknown>, cluster: Record<string, unknown> = {}): void =>
    writeConfig(box, {
      forge: 'github',
      github: { repo: 'octo/sample', api_url: gh.url, retries: 0 },
      sandbox: 'none',
      ...extra,
      kubernetes: { cluster: { kubeconfig: k8s.kubeconfig, image: 'worktree-swarm/agent:test', swarm: [process.execPath, BIN], token_secret: { name: 'swarm-forge' }, ...cluster } },
    });

  const failing = (err: unknown): Error => new Error(`${String(err)}\ndaemon said:\n${daemon?.output().split('\n').filter((l) => /"level":(30|40|50)/.test(l)).slice(-25).join('\n') ?? ''}`);

  it('a task in a pod reaches ready through the forge, merges, and its pod goes; the config\'s setup runs in the pod first', async () => {
    clusterConfig({
      max_retries: 0,
      agents: { right: { command: agentCommand('fixer-right.mjs') } },
      default_agent: 'right',
      worktree: { setup: [['sh', '-c', 'pwd > /workspace/setup-ran']] },
    });
    const hosts = await swarm(box.repo, ['hosts'], env);
    expect(hosts.stdout).toContain('cluster (kubernetes: context fake, namespace swarm): ready\n  ok   the API answers\n  ok   no agent-sandbox CRDs: tasks run in plain pods of worktree-swarm/agent:test');
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
    expect(readFileSync(join(k8s.podDir([...k8s.pods.keys()][0]!), 'setup-ran'), 'utf8')).toBe('/workspace/checkout\n');
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
    const status = (await swarm(box.repo, ['daemon', 'status'], env)).stdout;
    expect(status).toContain('Cluster cluster: 0 of 4 slots in use, 1 queued');
    expect(status).toMatch(new RegExp(`  #${id} waits: cluster cluster has no room for pod .*Insufficient memory`));
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

  it('with the agent-sandbox CRDs: a claim adopts a pool pod; needing you, the sandbox rests at zero; a retry wakes it from the pushed branch; ready, it rests again; merged, the claim goes', async () => {
    await k8s.close();
    k8s = await startFakeKubernetes({ sandboxCrds: true, secrets: { 'swarm-forge': { token: TOKEN } } });
    clusterConfig({
      max_retries: 0,
      agents: { fixer: { command: agentCommand('fixer.mjs') } },
      default_agent: 'fixer',
    }, { sandbox: { warm_pool: 1 } });
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--host', 'cluster', 'Fix addNumbers'], env)).stdout) as { id: number };
    const registry = openRegistry(box);
    const claims = (): number => k8s.objects.get('sandboxclaims')?.size ?? 0;
    const claimPod = (): string | undefined => {
      const sandbox = [...(k8s.objects.get('sandboxes')?.values() ?? [])][0];
      return sandbox ? (sandbox.spec.replicas === 0 ? undefined : (sandbox.metadata.annotations?.['agents.x-k8s.io/pod-name'] ?? sandbox.metadata.name)) : undefined;
    };
    // The wrong first fix fails CI: no retries left, it needs you; its sandbox rests at zero, the claim kept.
    const stuck = await waitForState(box, id, ['needs_help', 'ready'], 90_000).catch((err: unknown) => {
      throw failing(err);
    });
    expect(stuck.state).toBe('needs_help');
    expect(k8s.calls.get('CREATE pods') ?? 0).toBe(0);
    expect(registry.events(id).find((e) => e.kind === 'agent_started')).toBeDefined();
    await waitFor(() => registry.events(id).find((e) => e.kind === 'rested'), { timeoutMs: 20_000, what: 'the sandbox resting' });
    expect(claimPod()).toBeUndefined();
    expect(claims()).toBe(1);
    // The first agent ran in the pool's pod; what it printed is kept here, so the logs read with its pod gone.
    expect(registry.attempts(id)[0]!.session_dir).toMatch(/^\/workspace\/s\/swarm-cluster-\w+\/t1-a1$/);
    const logs = await swarm(box.repo, ['logs', String(id)], env);
    expect(logs.stderr).toBe('');
    expect(logs.stdout).toContain('fixer: attempt 1, saw assertion: false');
    // The pool's pod was adopted by the task; the pool has another ready.
    expect([...k8s.pods.values()].filter((p) => p.metadata.labels?.['worktree-swarm.dev/task'] === String(id))).toEqual([]);

    // A retry wakes it: a new pod clones the branch as pushed, the agent sees the failure and fixes it.
    expect((await swarm(box.repo, ['retry', String(id)], env)).stderr).toBe('');
    await waitFor(() => (registry.getTask(id)!.attempt > stuck.attempt ? true : undefined), { timeoutMs: 60_000, what: 'the retry started' }).catch((err: unknown) => {
      throw failing(err);
    });
    const ready = await waitForState(box, id, ['ready', 'needs_help'], 90_000).catch((err: unknown) => {
      throw failing(err);
    });
    expect(ready.state).toBe('ready');
    expect(registry.events(id).some((e) => e.kind === 'host_waiting' && (e.data ?? '').includes('was resting; it is woken'))).toBe(true);
    expect(git(box.repo, ['log', '--format=%s', ready.verified_sha!])).toContain('Fix addNumbers (wrong guess)');
    await waitFor(() => (registry.events(id).filter((e) => e.kind === 'rested').length === 2 ? true : undefined), { timeoutMs: 20_000, what: 'resting again at ready' });

    expect((await swarm(box.repo, ['merge', String(id)], env)).stderr).toBe('');
    await waitFor(() => (claims() === 0 && (k8s.objects.get('sandboxes')?.size ?? 0) === 0 ? true : undefined), { timeoutMs: 20_000, what: 'the claim and its sandbox deleted' });
    expect((await swarm(box.repo, ['logs', String(id)], env)).stdout).toContain('fixer: attempt 2, saw assertion: true');
    // What stays is the warm pool's own pod, started for the next task.
    expect([...k8s.pods.values()].every((p) => p.metadata.labels?.['agents.x-k8s.io/warm-pool'] === 'swarm-cluster')).toBe(true);
    registry.close();
  });

  it('with the CRDs and no monitor pass due: a task starts as soon as its pod has; killed, its sandbox rests at once (its logs kept here); swarm cleanup deletes its claim', async () => {
    await k8s.close();
    // Pods take a while to start, and the monitor's own schedule never comes round in this test: the task's
    // waits on its cluster bring the daemon back, not the next pass.
    k8s = await startFakeKubernetes({ sandboxCrds: true, podStartMs: 1_500, secrets: { 'swarm-forge': { token: TOKEN } } });
    clusterConfig({
      monitor: { schedule: '0 0 1 1 *' },
      agents: { talk: { command: agentCommand('interactive.mjs') } },
      default_agent: 'talk',
    });
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--host', 'cluster', 'Talk to me'], env)).stdout) as { id: number };
    await waitForState(box, id, 'running', 60_000).catch((err: unknown) => {
      throw failing(err);
    });
    const registry = openRegistry(box);
    const dir = registry.latestAttempt(id, 'agent')!.session_dir;
    await waitFor(async () => ((await swarm(box.repo, ['logs', String(id)], env)).stdout.includes('ready for input') ? true : undefined), { timeoutMs: 20_000, what: 'the agent\'s first line' });
    expect((await swarm(box.repo, ['kill', String(id)], env)).stderr).toBe('');
    const pod = dir.split('/')[3]!;
    expect(k8s.objects.get('sandboxes')!.get(`swarm/${pod}`)!.spec.replicas).toBe(0);
    await waitFor(() => (k8s.pods.has(pod) ? undefined : true), { timeoutMs: 10_000, what: 'the killed task\'s pod gone' });
    expect(registry.events(id).some((e) => e.kind === 'rested')).toBe(true);
    expect((await swarm(box.repo, ['logs', String(id)], env)).stdout).toContain('interactive: ready for input');
    expect(k8s.objects.get('sandboxclaims')!.size).toBe(1);
    expect((await swarm(box.repo, ['cleanup'], env)).stderr).toBe('');
    await waitFor(() => ((k8s.objects.get('sandboxclaims')?.size ?? 0) === 0 && (k8s.objects.get('sandboxes')?.size ?? 0) === 0 ? true : undefined), { timeoutMs: 10_000, what: 'the claim deleted at cleanup' });
    registry.close();
  });

  it('a setup command failing in the pod: the task needs you, in the command\'s words, no agent started, no retry spent', async () => {
    clusterConfig({
      agents: { right: { command: agentCommand('fixer-right.mjs') } },
      default_agent: 'right',
      worktree: { setup: [['sh', '-c', 'echo "setup broke: no database in the pod" >&2; exit 3']] },
    });
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--host', 'cluster', 'Fix addNumbers'], env)).stdout) as { id: number };
    const task = await waitForState(box, id, 'needs_help', 60_000).catch((err: unknown) => {
      throw failing(err);
    });
    expect(task.reason).toMatch(/On cluster cluster \(pod swarm-repo-\w+-t\d+\): Worktree setup command `.*` failed \(exit 3\)/);
    expect(task.reason).toContain('setup broke: no database in the pod');
    expect(task.retries).toBe(0);
    const registry = openRegistry(box);
    expect(registry.attempts(id).filter((a) => a.kind === 'agent')).toHaveLength(0);
    registry.close();
  });

  it('a pod killed for its memory is placed again, no retry spent; the third time in a row the task needs you, saying so; retried by hand, the count starts again', async () => {
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--host', 'cluster', '--agent', 'talk', 'Talk to me'], env)).stdout) as { id: number };
    const registry = openRegistry(box);
    const runningAfter = async (attempt: number): Promise<void> => {
      await waitFor(() => (registry.getTask(id)!.state === 'running' && registry.getTask(id)!.attempt > attempt ? true : undefined), { timeoutMs: 60_000, what: `task ${id} running after attempt ${attempt}` }).catch((err: unknown) => {
        throw failing(err);
      });
    };
    for (let n = 0; n < 3; n++) {
      await runningAfter(n);
      k8s.oomKill([...k8s.pods.keys()][0]!);
      if (n === 2) break;
      const placedAgain = (): number => registry.events(id).filter((e) => e.kind === 'placed_again').length;
      await waitFor(() => (placedAgain() >= n + 1 ? true : undefined), { timeoutMs: 45_000, what: 'placed again' }).catch((err: unknown) => {
        throw failing(err);
      });
      expect(placedAgain()).toBe(n + 1);
    }
    const stuck = await waitForState(box, id, 'needs_help', 45_000);
    expect(stuck.reason).toMatch(/^Its pod on cluster cluster was lost 3 times in a row; the last time: Pod swarm-repo-\w+-t\d+ is gone from namespace swarm \(it failed or was evicted: OOMKilled, exit 137\)\. If the cluster ended it for memory \(OOMKilled\), raise kubernetes\.cluster\.resources\.limits\.memory/);
    expect(stuck.retries).toBe(0);
    expect(registry.events(id).some((e) => e.kind === 'host_waiting' && (e.data ?? '').includes('had ended (OOMKilled, exit 137)'))).toBe(true);
    // Retried by hand: a loss after that is the first again.
    expect((await swarm(box.repo, ['retry', String(id)], env)).stderr).toBe('');
    await runningAfter(3);
    k8s.oomKill([...k8s.pods.keys()][0]!);
    await waitFor(() => (registry.events(id).filter((e) => e.kind === 'placed_again').length >= 3 ? true : undefined), { timeoutMs: 45_000, what: 'placed again after the retry' });
    expect(registry.events(id).filter((e) => e.kind === 'placed_again')).toHaveLength(3);
    await runningAfter(4);
    registry.close();
  });

  it('the cluster\'s API away: a running task waits, no retry spent, said once; when it is back the task goes on to ready', async () => {
    const gate = join(box.dir, 'gate');
    clusterConfig({
      max_retries: 0,
      agents: { gated: { command: agentCommand('gated.mjs'), env: { AGENT_RECORD_DIR: box.records, AGENT_GATE: gate } } },
      default_agent: 'gated',
    });
    daemon = await runDaemon(box, env);
    const { id } = JSON.parse((await swarm(box.repo, ['spawn', '--json', '--host', 'cluster', 'Fix addNumbers'], env)).stdout) as { id: number };
    await waitForState(box, id, 'running', 60_000).catch((err: unknown) => {
      throw failing(err);
    });
    const registry = openRegistry(box);
    await k8s.pause();
    const away = await waitFor(() => registry.events(id).find((e) => e.kind === 'host_unreachable'), { timeoutMs: 20_000, what: 'the task waiting for its cluster' });
    expect(away.data).toContain('The API of cluster cluster (context fake) cannot be reached');
    expect(registry.getTask(id)!.state).toBe('running');
    // The agent works on in its pod meanwhile; the API comes back and the task goes on from where it was.
    writeFileSync(gate, 'go');
    await k8s.resume();
    const ready = await waitForState(box, id, ['ready', 'needs_help'], 90_000).catch((err: unknown) => {
      throw failing(err);
    });
    expect(ready.state).toBe('ready');
    expect(ready.retries).toBe(0);
    expect(registry.events(id).filter((e) => e.kind === 'host_unreachable')).toHaveLength(1);
    // Said back in the same pass that took it to ready, just after.
    await waitFor(() => registry.events(id).find((e) => e.kind === 'host_back'), { timeoutMs: 10_000, what: 'the cluster said back' });
    expect(registry.attempts(id).filter((a) => a.kind === 'agent')).toHaveLength(1);
    registry.close();
  });
});
