import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllYaml } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubernetesConfig, SwarmConfig } from '../../src/config/schema.js';
import { permissionsNeeded, probeCluster } from '../../src/runners/kubernetes/probe.js';
import { renderHosts } from '../../src/cli/hosts.js';
import { startFakeKubernetes, type FakeKubernetes, type FakeKubernetesOptions } from '../../scripts/fake-kubernetes.js';

/** `swarm hosts` for a cluster: asked of the real client against the loopback API, said with what to do. */
describe('checking a cluster', () => {
  let k8s: FakeKubernetes | null = null;
  afterEach(async () => {
    await k8s?.close();
    k8s = null;
  });
  const github = SwarmConfig.parse({ forge: 'github', github: { repo: 'octo/sample' } });
  const probe = async (fake: FakeKubernetesOptions, cluster: Record<string, unknown> = {}, config = github) => {
    k8s = await startFakeKubernetes(fake);
    return probeCluster('cluster', KubernetesConfig.parse({ kubeconfig: k8s.kubeconfig, image: 'ghcr.io/acme/agent:1', token_secret: { name: 'swarm-forge' }, ...cluster }), config);
  };

  it('with the CRDs and every permission: ready, and how tasks will be placed', async () => {
    const report = await probe({ sandboxCrds: true }, { sandbox: { warm_pool: 2 } });
    expect(renderHosts([report])).toBe([
      'cluster (kubernetes: context fake, namespace swarm): ready',
      '  ok   the API answers',
      '  ok   agent-sandbox CRDs installed: tasks claim Sandboxes of swarm-cluster, written by swarm from this config with a warm pool of 2',
      '  ok   these credentials may do what a task needs in namespace swarm',
    ].join('\n'));
    // Asked of the API, each verb the runner uses (pods, exec, claims, sandboxes, the template, the pool).
    expect(k8s!.calls.get('CREATE selfsubjectaccessreviews')).toBe(5 + 1 + 3 + 2 + 3 + 4);
  });

  it('a permission missing: not ready, naming it', async () => {
    const report = await probe({ forbid: ['create pods/exec', 'watch pods'] });
    expect(report.ok).toBe(false);
    expect(renderHosts([report])).toContain('  ok   no agent-sandbox CRDs: tasks run in plain pods of ghcr.io/acme/agent:1');
    expect(renderHosts([report])).toContain('  FAIL these credentials may not watch pods, create pods/exec in namespace swarm: give them a Role that allows it');
  });

  it('a template of yours not there, a local forge, refused credentials: each said', async () => {
    expect(renderHosts([await probe({ sandboxCrds: true }, { sandbox: { template: 'team-agent' } })])).toContain('FAIL agent-sandbox CRDs installed, but SandboxTemplate team-agent (kubernetes.cluster.sandbox.template) is not in namespace swarm');
    await k8s!.close();
    expect(renderHosts([await probe({}, {}, SwarmConfig.parse({}))])).toContain('FAIL tasks there move their code through a forge the cluster can reach: set "forge": "github"');
    await k8s!.close();
    k8s = await startFakeKubernetes();
    const wrong = join(k8s.podDir('x'), '..', 'wrong');
    mkdirSync(join(wrong, '..'), { recursive: true });
    writeFileSync(wrong, readFileSync(k8s.kubeconfig, 'utf8').replace(k8s.token, 'stale-token'));
    const refused = await probeCluster('cluster', KubernetesConfig.parse({ kubeconfig: wrong, image: 'x', token_secret: { name: 's' } }), github);
    expect(refused.reachable).toBe(false);
    expect(renderHosts([refused])).toMatch(/cluster \(kubernetes: context fake, namespace swarm\): UNREACHABLE\n {2}FAIL The cluster \(context fake\) did not answer discovery: 401 Unauthorized/);
    expect(renderHosts([refused])).not.toContain('stale-token');
  });

  it('the example Role (deploy/kubernetes/role.yaml) allows every verb the runner is checked for, with the CRDs and swarm\'s own template', () => {
    const [role] = loadAllYaml(readFileSync(fileURLToPath(new URL('../../deploy/kubernetes/role.yaml', import.meta.url)), 'utf8')) as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }[];
    for (const p of permissionsNeeded(true, true, true)) {
      const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
      for (const verb of p.verbs) expect(role!.rules.some((r) => r.apiGroups.includes(p.group) && r.resources.includes(resource) && r.verbs.includes(verb)), `${verb} ${resource}`).toBe(true);
    }
  });
});
