/**
 * `swarm hosts` for a cluster: asked for real, each thing a task there needs, said with what to do. The
 * kubeconfig and its context; the API answering; how tasks will be placed (Sandboxes of which template, or
 * plain pods of which image); and whether these credentials may do what the runner does, asked of the API
 * itself (SelfSubjectAccessReview), not guessed from a failure later.
 */
import type { KubernetesConfig, SwarmConfig } from '../../config/schema.js';
import { errorMessage } from '../../errors.js';
import type { HostCheck, HostReport } from '../ssh/probe.js';
import { CRDS, KubeCluster, type CrdKind } from './cluster.js';
import { templateName } from './manifests.js';

/** What the runner does, by kind: pods always; the agent-sandbox kinds with the CRDs. */
export function permissionsNeeded(sandboxes: boolean, writesTemplate: boolean, warmPool: boolean): { group: string; resource: string; subresource?: string; verbs: string[] }[] {
  const crd = (kind: CrdKind, verbs: string[]) => ({ group: CRDS[kind].group, resource: CRDS[kind].plural, verbs });
  return [
    { group: '', resource: 'pods', verbs: ['get', 'list', 'watch', 'create', 'delete'] },
    { group: '', resource: 'pods', subresource: 'exec', verbs: ['create'] },
    ...(sandboxes
      ? [
          crd('SandboxClaim', ['get', 'create', 'delete']),
          crd('Sandbox', ['get', 'patch']),
          crd('SandboxTemplate', writesTemplate ? ['get', 'create', 'patch'] : ['get']),
          ...(warmPool ? [crd('SandboxWarmPool', ['get', 'create', 'patch', 'delete'])] : []),
        ]
      : []),
  ];
}

export async function probeCluster(name: string, options: KubernetesConfig, config: SwarmConfig): Promise<HostReport> {
  const checks: HostCheck[] = [];
  const report = (reachable: boolean, where: string): HostReport => ({ name, ssh: where, reachable, ok: reachable && checks.every((c) => c.ok), checks, facts: null });
  if (config.forge !== 'github') checks.push({ ok: false, what: `tasks there move their code through a forge the cluster can reach: set "forge": "github"` });
  let cluster: KubeCluster;
  try {
    cluster = KubeCluster.load({ kubeconfig: options.kubeconfig, context: options.context, namespace: options.namespace, name });
  } catch (err) {
    checks.push({ ok: false, what: errorMessage(err) });
    return report(false, 'kubernetes');
  }
  const where = `kubernetes: context ${cluster.context}, namespace ${cluster.namespace}`;
  let crds: boolean;
  try {
    crds = await cluster.sandboxCrds();
    checks.push({ ok: true, what: 'the API answers' });
  } catch (err) {
    checks.push({ ok: false, what: errorMessage(err) });
    return report(false, where);
  }
  const template = templateName(name, options.sandbox.template);
  if (crds && options.sandbox.template) {
    const found = await cluster.readObject('SandboxTemplate', template).catch(() => null);
    checks.push(found ? { ok: true, what: `agent-sandbox CRDs installed: tasks claim Sandboxes of your template ${template}` } : { ok: false, what: `agent-sandbox CRDs installed, but SandboxTemplate ${template} (kubernetes.${name}.sandbox.template) is not in namespace ${cluster.namespace}: apply it, or leave the setting out and swarm writes one` });
  } else if (crds) {
    checks.push({ ok: true, what: `agent-sandbox CRDs installed: tasks claim Sandboxes of ${template}, written by swarm from this config${options.sandbox.warm_pool ? ` with a warm pool of ${options.sandbox.warm_pool}` : ' (no warm pool: sandbox.warm_pool keeps some started)'}` });
  } else {
    checks.push(options.image ? { ok: true, what: `no agent-sandbox CRDs: tasks run in plain pods of ${options.image}` } : { ok: false, what: `no agent-sandbox CRDs, so tasks run in plain pods: set kubernetes.${name}.image` });
  }
  const denied: string[] = [];
  for (const p of permissionsNeeded(crds, crds && !options.sandbox.template, crds && !options.sandbox.template && options.sandbox.warm_pool > 0)) {
    for (const verb of p.verbs) {
      const allowed = await cluster.may({ verb, group: p.group, resource: p.resource, ...(p.subresource ? { subresource: p.subresource } : {}) }).catch(() => null);
      if (allowed === false) denied.push(`${verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ''}${p.group ? ` (${p.group})` : ''}`);
    }
  }
  checks.push(denied.length ? { ok: false, what: `these credentials may not ${denied.join(', ')} in namespace ${cluster.namespace}: give them a Role that allows it (docs/kubernetes.md)` } : { ok: true, what: `these credentials may do what a task needs in namespace ${cluster.namespace}` });
  return report(true, where);
}
