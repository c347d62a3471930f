/**
 * The Kubernetes runner (issue 29), against the loopback API server. Prints figures; asserts nothing.
 * Run: npm run bench:kubernetes
 *  1. a task's placement until its agent runs: a plain pod (baseline), a SandboxClaim with no warm pool, a
 *     SandboxClaim adopting a warm pool's started pod. The stand-in takes POD_START_MS to start any pod (what
 *     pulling an image and starting a container take on a cluster), so the figure shows what a warm pool saves
 *     against that, plus swarm's own path.
 *  2. API requests (and time) of one monitor pass over 50 running tasks: each task's pod read and exec'd
 *     (polling, the baseline), against pod states from one watch and one exec per task.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubernetesConfig, SwarmConfig } from '../src/config/schema.js';
import { ClusterWaitError, KubeRunner } from '../src/runners/kubernetes/runner.js';
import { waitFor } from '../src/wait.js';
import { startFakeKubernetes, type FakeKubernetes } from './fake-kubernetes.js';

const BIN = fileURLToPath(new URL('../../bin/swarm.js', import.meta.url));
const POD_START_MS = 1500;
const TASKS = 50;
const work = mkdtempSync(join(tmpdir(), 'swarm-bench-k8s-'));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const task = (id: number) => ({ id, branch: `swarm/t${id}`, base: 'main', worktree: '/workspace/checkout' });

function runnerFor(k8s: FakeKubernetes, cluster: Record<string, unknown> = {}): KubeRunner {
  const options = KubernetesConfig.parse({ kubeconfig: k8s.kubeconfig, image: 'worktree-swarm/agent:bench', swarm: [process.execPath, BIN], token_secret: { name: 'swarm-forge' }, ...cluster });
  return new KubeRunner('bench', options, work, join(work, 'state'), SwarmConfig.parse({}));
}

/** Placed (asked again every 50 ms while the cluster says wait), a session started, until its holder runs it. */
async function untilRunning(runner: KubeRunner, id: number): Promise<string> {
  await waitFor(async () => {
    try {
      return await runner.checkoutPath(task(id));
    } catch (err) {
      if (err instanceof ClusterWaitError) return undefined;
      throw err;
    }
  }, { timeoutMs: 60_000, intervalMs: 50, what: `task ${id} placed` });
  const { dir } = await runner.freshSession(task(id), `t${id}-a1`);
  await runner.start(dir, { argv: ['sh', '-c', 'echo agent up; exec sleep 3600'], cwd: '/workspace', env: {}, cols: 80, rows: 24, scrollback_bytes: 64 * 1024 });
  await waitFor(async () => ((await runner.look(dir, 0)).live.kind === 'running' ? true : undefined), { timeoutMs: 30_000, intervalMs: 20, what: `task ${id}'s agent running` });
  return dir;
}

async function placement(label: string, fake: { sandboxCrds: boolean }, cluster: Record<string, unknown>, pool: boolean): Promise<number> {
  const k8s = await startFakeKubernetes({ ...fake, podStartMs: POD_START_MS, secrets: { 'swarm-forge': { token: 'bench' } } });
  const runner = runnerFor(k8s, cluster);
  try {
    // Not timed: a first task (swarm's template and pool written), and the pool full again.
    await untilRunning(runner, 100);
    const poolReady = (): boolean => [...k8s.pods.values()].some((p) => p.metadata.labels?.['agents.x-k8s.io/warm-pool'] && p.status.phase === 'Running');
    const times: number[] = [];
    for (let id = 1; id <= 5; id++) {
      if (pool) await waitFor(() => (poolReady() ? true : undefined), { timeoutMs: 30_000, intervalMs: 20, what: 'the pool full again' });
      const t0 = performance.now();
      await untilRunning(runner, id);
      times.push(performance.now() - t0);
    }
    console.log(`  ${label.padEnd(34)} median ${median(times).toFixed(0)} ms (of ${times.map((t) => t.toFixed(0)).join(', ')})`);
    return median(times);
  } finally {
    runner.close();
    await k8s.close();
  }
}

async function pass(): Promise<void> {
  const k8s = await startFakeKubernetes({ secrets: { 'swarm-forge': { token: 'bench' } } });
  const watching = runnerFor(k8s);
  const polling = runnerFor(k8s);
  try {
    const dirs: string[] = [];
    for (let i = 0; i < TASKS; i += 10) dirs.push(...(await Promise.all(Array.from({ length: Math.min(10, TASKS - i) }, (_, j) => untilRunning(watching, i + j + 1)))));
    const total = (): number => [...k8s.calls.values()].reduce((a, b) => a + b, 0);
    const measure = async (what: string, one: () => Promise<void>): Promise<{ requests: number; ms: number }> => {
      await one(); // warm: connections, the watch opened
      const before = total();
      const t0 = performance.now();
      await one();
      const result = { requests: total() - before, ms: performance.now() - t0 };
      console.log(`  ${what.padEnd(34)} ${result.requests} requests, ${result.ms.toFixed(0)} ms`);
      return result;
    };
    // Polling: each task's own look reads its pod, then execs (a runner that never opened a watch).
    const polled = await measure('polling (read + exec per task)', async () => {
      await Promise.all(dirs.map((dir) => polling.look(dir, 4096)));
    });
    // The monitor's pass: the read-ahead of all, then each task's own look answered from it.
    const watched = await measure('one watch + exec per task', async () => {
      await watching.lookAll(dirs, 4096);
      for (const dir of dirs) await watching.look(dir, 4096);
    });
    console.log(`  requests per pass: ${(watched.requests / polled.requests).toFixed(2)}x; time per pass: ${(watched.ms / polled.ms).toFixed(2)}x (watch against polling)`);
  } finally {
    watching.close();
    polling.close();
    await k8s.close();
  }
}

try {
  console.log(`1. placement until the agent runs (the stand-in starts a pod in ${POD_START_MS} ms; 5 tasks each)`);
  const pod = await placement('plain pod (baseline)', { sandboxCrds: false }, {}, false);
  const cold = await placement('SandboxClaim, no warm pool', { sandboxCrds: true }, { sandbox: { warm_pool: 0 } }, false);
  const warm = await placement('SandboxClaim from a warm pool', { sandboxCrds: true }, { sandbox: { warm_pool: 2 } }, true);
  console.log(`  no pool ${(cold / pod).toFixed(2)}x, warm pool ${(warm / pod).toFixed(2)}x of the plain pod`);
  console.log(`2. one monitor pass over ${TASKS} running tasks`);
  await pass();
} finally {
  rmSync(work, { recursive: true, force: true });
}
