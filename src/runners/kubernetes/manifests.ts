/**
 * Pure: what swarm asks a cluster for, for one task. A Pod when the agent-sandbox CRDs are absent; a
 * SandboxClaim against a SandboxTemplate (a warm pool makes its start fast) when they are installed. The
 * forge token reaches the pod only as a reference to a Secret (never a literal in a spec, never in the
 * registry); the container runs as a user, without privilege escalation; the runtime class (gVisor, Kata)
 * and the resources come from the config.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';

export interface PodTemplate {
  image: string;
  /** How swarm runs in the image (`swarm`, or node and a path). */
  swarm: readonly string[];
  /** The Secret (and its key) holding the forge token the pod clones and pushes with. */
  token_secret: { name: string; key: string };
  runtime_class?: string | undefined;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> } | undefined;
  /** The SandboxTemplate a claim names, when the agent-sandbox CRDs are there. */
  sandbox_template?: string | undefined;
}

export interface PodTask {
  id: number;
  /** Names this repository's pods apart from another's on the same cluster. */
  repo: string;
}

export const TASK_LABEL = 'worktree-swarm.dev/task';
export const REPO_LABEL = 'worktree-swarm.dev/repo';

function slug(repo: string): string {
  return repo.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '') || 'repo';
}

/** The pod's name: DNS-1123, at most 63 characters, the same for a task's every attempt. */
export function podName(task: PodTask): string {
  return `swarm-${slug(task.repo)}-t${task.id}`;
}

function container(template: PodTemplate): V1Container {
  return {
    name: 'agent',
    image: template.image,
    // The pod waits; sessions are started in it over exec, by the same holder as on any machine.
    command: ['sleep', 'infinity'],
    workingDir: '/workspace',
    env: [
      { name: 'HOME', value: '/workspace' },
      { name: 'SWARM_FORGE_TOKEN', valueFrom: { secretKeyRef: { name: template.token_secret.name, key: template.token_secret.key } } },
    ],
    ...(template.resources ? { resources: template.resources } : {}),
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1000, capabilities: { drop: ['ALL'] } },
    volumeMounts: [{ name: 'workspace', mountPath: '/workspace' }],
  };
}

export function podManifest(task: PodTask, template: PodTemplate): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName(task), labels: { [TASK_LABEL]: String(task.id), [REPO_LABEL]: slug(task.repo) } },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(template.runtime_class ? { runtimeClassName: template.runtime_class } : {}),
      containers: [container(template)],
      volumes: [{ name: 'workspace', emptyDir: {} }],
    },
  };
}

/** A claim on the template's warm pool (extensions.agents.x-k8s.io), named as the pod would be. */
export function sandboxClaim(task: PodTask, template: PodTemplate & { sandbox_template: string }): Record<string, unknown> {
  return {
    apiVersion: 'extensions.agents.x-k8s.io/v1alpha1',
    kind: 'SandboxClaim',
    metadata: { name: podName(task), labels: { [TASK_LABEL]: String(task.id) } },
    spec: { sandboxTemplateRef: { name: template.sandbox_template } },
  };
}
