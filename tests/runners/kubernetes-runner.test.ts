import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAllYaml } from '@kubernetes/client-node';
import { KubernetesConfig, SwarmConfig } from '../../src/config/schema.js';
import { KubeCluster, type SandboxObject } from '../../src/runners/kubernetes/cluster.js';
import { ClusterWaitError, KubeRunner } from '../../src/runners/kubernetes/runner.js';
import { startFakeKubernetes, type FakeKubernetes, type FakeKubernetesOptions } from '../../scripts/fake-kubernetes.js';
import { waitFor } from '../../src/wait.js';
import { BIN } from '../helpers/sample.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The Kubernetes runner on its own, against the loopback API server: how a task gets its pod (a plain pod, or
 * a SandboxClaim where the agent-sandbox CRDs are installed, adopting a warm pool's pod), what a pass of the
 * monitor costs the API, and a sandbox resting while a human looks.
 */
describe('the Kubernetes runner', () => {
  let k8s: FakeKubernetes;
  let runner: KubeRunner;
  let repo: string;
  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'swarm-k8s-runner-'));
  });
  afterEach(async () => {
    runner?.close();
    await k8s?.close();
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  const start = async (fake: FakeKubernetesOptions, cluster: Record<string, unknown> = {}): Promise<void> => {
    k8s = await startFakeKubernetes({ secrets: { 'swarm-forge': { token: 'forge-token' } }, ...fake });
    const options = KubernetesConfig.parse(JSON.parse(JSON.stringify({ kubeconfig: k8s.kubeconfig, image: 'worktree-swarm/agent:test', swarm: [process.execPath, BIN], token_secret: { name: 'swarm-forge' }, ...cluster })));
    runner = new KubeRunner('cluster', options, repo, join(repo, '.swarm'), SwarmConfig.parse({}));
  };
  const task = (id: number) => ({ id, branch: `swarm/t${id}`, base: 'main', worktree: '/workspace/checkout' });
  /** Asks for the task's pod until it runs; each wait's words kept. */
  const placed = async (id: number, waits: string[] = []): Promise<string[]> => {
    await waitFor(async () => {
      try {
        return await runner.checkoutPath(task(id));
      } catch (err) {
        if (!(err instanceof ClusterWaitError)) throw err;
        if (waits.at(-1) !== err.message) waits.push(err.message);
        return undefined;
      }
    }, { timeoutMs: 20_000, what: `task ${id}'s pod running` });
    return waits;
  };

  it('without the CRDs: a plain pod per task; a Secret it names missing keeps it waiting in kubelet\'s words', async () => {
    await start({}, { token_secret: { name: 'not-there' } });
    const waits: string[] = [];
    await expect(waitFor(async () => {
      try {
        return await runner.checkoutPath(task(1));
      } catch (err) {
        waits.push((err as Error).message);
        return waits.some((w) => w.includes('secret')) ? (err as Error).message : undefined;
      }
    }, { timeoutMs: 10_000, what: 'the wait said' })).resolves.toMatch(/pod swarm-swarm-k8s-runner-\w+-\w+-t1 on cluster cluster is starting: CreateContainerConfigError: secret "not-there" not found/);
    expect(k8s.objects.size).toBe(0);
  });

  it('with the CRDs: a task claims a sandbox of swarm\'s template, adopting a started pool pod; at rest its pod goes and the claim stays; placed again it wakes; released, all goes', async () => {
    await start({ sandboxCrds: true, podStartMs: 300 }, { sandbox: { warm_pool: 1 } });
    // The first placement writes the template and the pool, claims, and waits for a sandbox.
    const waits = await placed(1);
    expect(k8s.objects.get('sandboxtemplates')?.has('swarm/swarm-cluster')).toBe(true);
    expect(k8s.objects.get('sandboxwarmpools')?.get('swarm/swarm-cluster')?.spec.replicas).toBe(1);
    const claim = [...k8s.objects.get('sandboxclaims')!.values()][0]!;
    expect(claim.spec.sandboxTemplateRef).toEqual({ name: 'swarm-cluster' });
    expect(waits.length).toBeGreaterThan(0);
    // The task's commands run in the pod the claim got: with the template's Secret, as any container.
    const sandbox = k8s.objects.get('sandboxes')!.get(`swarm/${claim.metadata.name}`)!;
    const pod = sandbox.metadata.annotations?.['agents.x-k8s.io/pod-name'] ?? sandbox.metadata.name;
    const { dir } = await runner.freshSession(task(1), 't1-a1');
    expect(dir).toBe(`/workspace/s/${pod}/t1-a1`);
    expect(k8s.pods.get(pod)!.metadata.labels).toMatchObject({ 'worktree-swarm.dev/task': '1' });

    // A second task, once the pool is full again, adopts a started pod: no wait for a pod to start.
    await waitFor(() => ([...k8s.pods.values()].some((p) => p.metadata.labels?.['agents.x-k8s.io/warm-pool'] && p.status.phase === 'Running') ? true : undefined), { timeoutMs: 10_000, what: 'the pool refilled' });
    const adoptedWaits = await placed(2);
    const second = k8s.objects.get('sandboxes')!.get(`swarm/${[...k8s.objects.get('sandboxclaims')!.keys()][1]!.split('/')[1]}`)!;
    expect(second.metadata.annotations?.['agents.x-k8s.io/pod-name']).toMatch(/^swarm-cluster-/);
    expect(adoptedWaits.every((w) => !w.includes('is starting'))).toBe(true);

    // At rest: the sandbox at zero, its pod gone, the claim kept.
    expect(await runner.rest(task(2))).toMatch(/scaled to zero/);
    const podOfSecond = second.metadata.annotations!['agents.x-k8s.io/pod-name']!;
    await waitFor(() => (k8s.pods.has(podOfSecond) ? undefined : true), { timeoutMs: 10_000, what: 'the resting sandbox\'s pod gone' });
    expect(k8s.objects.get('sandboxclaims')!.size).toBe(2);
    expect(await runner.rest(task(2))).toBeNull();
    // Placed again (a retry): woken, in a new pod of the sandbox's name.
    const woken = await placed(2);
    expect(woken[0]).toMatch(/was resting; it is woken/);
    expect(k8s.pods.has(second.metadata.name)).toBe(true);

    // Released: the claim deleted, and with it the sandbox and its pod.
    await runner.removeCheckout(task(2), { force: true });
    await waitFor(() => (k8s.pods.has(second.metadata.name) || k8s.objects.get('sandboxes')!.has(`swarm/${second.metadata.name}`) ? undefined : true), { timeoutMs: 10_000, what: 'the sandbox and its pod gone' });
  });

  it('the example template of yours (deploy/kubernetes) is claimable: its pod runs with the Secret, and a command runs in it', async () => {
    await start({ sandboxCrds: true }, { image: undefined, sandbox: { template: 'swarm-agent' } });
    const cluster = KubeCluster.load({ kubeconfig: k8s.kubeconfig });
    for (const doc of loadAllYaml(readFileSync(join(ROOT, 'deploy/kubernetes/sandbox-template.yaml'), 'utf8')) as SandboxObject[]) {
      if (doc.kind === 'SandboxTemplate' || doc.kind === 'SandboxWarmPool') await cluster.createObject(doc.kind, doc);
    }
    await placed(1);
    const { dir } = await runner.freshSession(task(1), 't1-a1');
    expect(dir).toMatch(/^\/workspace\/s\/swarm-agent-\w+\/t1-a1$/);
    const pod = dir.split('/')[3]!;
    expect(await cluster.exec(pod, ['sh', '-c', 'echo "$HOME [$SWARM_FORGE_TOKEN]"; pwd'])).toEqual({ code: 0, stdout: '/workspace []\n/workspace\n', stderr: '' });
    expect(await cluster.exec(pod, ['sh', '-c', 'echo "$HOME [$SWARM_FORGE_TOKEN]"; ls -d /workspace /srv'], { container: 'forge' })).toEqual({ code: 0, stdout: '/srv [forge-token]\n/srv\n/workspace\n', stderr: '' });
  });

  it('with the CRDs: an evicted sandbox pod is replaced by the controller and the task placed in it; told not to rest, a sandbox is kept', async () => {
    await start({ sandboxCrds: true }, { sandbox: { rest_while_waiting: false } });
    await placed(1);
    const { dir } = await runner.freshSession(task(1), 't1-a1');
    const first = dir.split('/')[3]!;
    k8s.evict(first);
    await placed(1);
    const again = (await runner.freshSession(task(1), 't1-a2')).dir.split('/')[3]!;
    expect(again).toBe([...k8s.objects.get('sandboxclaims')!.values()][0]!.metadata.name);
    expect(k8s.pods.has(again)).toBe(true);
    // The earlier session's pod went: nothing of it is alive to stop.
    expect(await runner.stop(dir)).toBeNull();
    expect(await runner.rest(task(1))).toBeNull();
    expect([...k8s.objects.get('sandboxes')!.values()][0]!.spec.replicas).toBe(1);
  });

  it('the agent\'s container never holds the forge token; a checkout the agent booby-trapped is pushed without running any of it', async () => {
    // A forge: a bare repository with main, and the user's repository cloned from it.
    const bare = join(repo, 'forge.git');
    const here = join(repo, 'here');
    const git = (cwd: string, ...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' });
    git(repo, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
    git(repo, 'clone', '--quiet', bare, here);
    writeFileSync(join(here, 'README.md'), 'hello\n');
    git(here, 'add', 'README.md');
    git(here, 'commit', '--quiet', '-m', 'first');
    git(here, 'push', '--quiet', 'origin', 'HEAD:main');
    k8s = await startFakeKubernetes({ secrets: { 'swarm-forge': { token: 'forge-token' } } });
    runner = new KubeRunner('cluster', KubernetesConfig.parse({ kubeconfig: k8s.kubeconfig, image: 'worktree-swarm/agent:test', swarm: [process.execPath, BIN], token_secret: { name: 'swarm-forge' } }), here, join(here, '.swarm'), SwarmConfig.parse({}));
    await placed(1);
    expect((await runner.prepare(task(1), { start: 'main', kind: 'clone' })).how).toBe('created');
    const cluster = KubeCluster.load({ kubeconfig: k8s.kubeconfig });
    const pod = [...k8s.pods.keys()][0]!;
    // Nothing of the token where the agent is: not its environment, not a file it can read, not the mirror.
    const look = await cluster.exec(pod, ['sh', '-c', 'env | grep -c forge-token; grep -rl forge-token /workspace; test -e /srv/mirror.git && echo sees-the-mirror; git -C /workspace/checkout remote get-url origin']);
    expect(look.stdout).toBe(`0\n${bare}\n`);
    // The agent commits, and plants in its checkout what would run at a push, or hand a token away.
    const trap = [
      'cd /workspace/checkout && echo change > change.txt && git add change.txt && git -c user.name=a -c user.email=a@a commit --quiet -m change',
      'mkdir -p .git/hooks && printf "#!/bin/sh\\necho ran > /workspace/hook-ran\\n" > .git/hooks/pre-push && chmod +x .git/hooks/pre-push',
      'printf "#!/bin/sh\\necho ran > /workspace/upload-hook-ran\\n" > .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout',
      'git config core.hooksPath .git/hooks',
      'git config credential.helper "!f() { cat > /workspace/stolen; }; f"',
      'git config core.fsmonitor "echo > /workspace/fsmonitor-ran"',
      'git config uploadpack.packObjectsHook "sh -c \'echo > /workspace/pack-hook-ran\'"',
      'printf "[credential]\\n\\thelper = !f() { cat > /workspace/stolen-global; }; f\\n" > /workspace/.gitconfig',
      'git rev-parse HEAD',
    ].join(' && ');
    const planted = await cluster.exec(pod, ['sh', '-c', trap]);
    expect(planted.code).toBe(0);
    await runner.fetchBranch(task(1));
    expect(git(bare, 'rev-parse', 'refs/heads/swarm/t1').trim()).toBe(planted.stdout.trim());
    expect(readdirSync(k8s.podDir(pod)).sort()).toEqual(['.gitconfig', 'checkout']);
  });

  it('a SandboxTemplate of yours named and not there: said, with what to do', async () => {
    await start({ sandboxCrds: true }, { sandbox: { template: 'team-agent' } });
    await expect(runner.checkoutPath(task(1))).rejects.toThrow(/SandboxTemplate team-agent \(kubernetes.cluster.sandbox.template\) is not in namespace swarm: apply it/);
    expect(k8s.objects.get('sandboxclaims')?.size ?? 0).toBe(0);
  });

  it('a monitor pass over many tasks: pod states from one watch, one exec per session, no pod read', async () => {
    await start({});
    const n = 6;
    const dirs: string[] = [];
    for (let id = 1; id <= n; id++) {
      await placed(id);
      const { dir } = await runner.freshSession(task(id), `t${id}-a1`);
      await runner.start(dir, { argv: ['sh', '-c', `echo agent ${id}; sleep 600`], cwd: '/workspace', env: {}, cols: 80, rows: 24, scrollback_bytes: 64 * 1024 });
      dirs.push(dir);
    }
    const calls = (): Record<string, number> => Object.fromEntries(k8s.calls);
    await runner.lookAll(dirs, 1024); // the watch opens
    const before = calls();
    const views = await runner.lookAll(dirs, 1024);
    for (const dir of dirs) await runner.look(dir, 1024); // each task's own look in the pass: read ahead
    const after = calls();
    expect([...views.values()].map((v) => v.live.kind)).toEqual(Array(n).fill('running'));
    expect((after['EXEC pods'] ?? 0) - (before['EXEC pods'] ?? 0)).toBe(n);
    expect((after['GET pods'] ?? 0) - (before['GET pods'] ?? 0)).toBe(0);
    expect(after['WATCH pods']).toBe(1);
    // A pod gone is known from the watch: its session's look says so, the others go on.
    k8s.evict([...k8s.pods.keys()][0]!);
    await waitFor(async () => ((await runner.lookAll(dirs, 0)).size === n - 1 ? true : undefined), { timeoutMs: 10_000, what: 'the gone pod left out' });
    await expect(runner.look(dirs[0]!, 0)).rejects.toThrow(/is gone from namespace swarm/);
  });
});
