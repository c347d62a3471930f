/**
 * Pure: what swarm asks a cluster for, for one task. A Pod when the agent-sandbox CRDs are absent; a
 * SandboxClaim against a SandboxTemplate (a warm pool makes its start fast) when they are installed. The
 * forge token reaches the pod only as a reference to a Secret (never a literal in a spec, never in the
 * registry), and only its `forge` container, never the agent's; the containers run as a user, without
 * privilege escalation; the runtime class (gVisor, Kata) and the agent's resources come from the config.
 */
import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import type { SandboxObject } from './cluster.js';

export interface PodTemplate {
  /** The agent image (a pod built by swarm, or the SandboxTemplate swarm writes). */
  image: string;
  /** How swarm runs in the image (`swarm`, or node and a path). */
  swarm: readonly string[];
  /** The Secret (and its key) holding the forge token the pod clones and pushes with. */
  token_secret: { name: string; key: string };
  runtime_class?: string | undefined;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> } | undefined;
}

export interface PodTask {
  id: number;
  /** Names this repository's pods apart from another's on the same cluster. */
  repo: string;
}

export const TASK_LABEL = 'worktree-swarm.dev/task';
export const REPO_LABEL = 'worktree-swarm.dev/repo';
/** The containers of a task's pod: the agent's (first: sessions run there), and the forge's (the token's). */
export const AGENT_CONTAINER = 'agent';
export const FORGE_CONTAINER = 'forge';
/** Where the forge's own volume is, in its container only (a folder images have: Debian's, node's). */
export const FORGE_DIR = '/srv';
/** On what swarm writes for itself (a SandboxTemplate, a warm pool). */
export const MANAGED_LABEL = 'worktree-swarm.dev/managed';

function slug(repo: string): string {
  return repo.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '') || 'repo';
}

/** The SandboxTemplate a cluster's tasks claim from: yours when named, else the one swarm writes (`swarm-<cluster>`). */
export function templateName(cluster: string, yours: string | undefined): string {
  return yours ?? `swarm-${slug(cluster)}`;
}

/** The pod's name: DNS-1123, at most 63 characters, the same for a task's every attempt. */
export function podName(task: PodTask): string {
  return `swarm-${slug(task.repo)}-t${task.id}`;
}

const UNPRIVILEGED = { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1000, capabilities: { drop: ['ALL'] } };

/** The agent's container: the checkout, the sessions; no token (its processes could read any it had). */
function agentContainer(template: PodTemplate): V1Container {
  return {
    name: AGENT_CONTAINER,
    image: template.image,
    // The pod waits; sessions are started in it over exec, by the same holder as on any machine.
    command: ['sleep', 'infinity'],
    workingDir: '/workspace',
    env: [{ name: 'HOME', value: '/workspace' }],
    ...(template.resources ? { resources: template.resources } : {}),
    securityContext: UNPRIVILEGED,
    volumeMounts: [{ name: 'workspace', mountPath: '/workspace' }],
  };
}

/**
 * The forge's container: the only one with the token (from the Secret). It clones into a mirror on a volume
 * the agent's container does not mount, makes the agent's checkout from it, and pushes the task's branch
 * after fetching it from the checkout (fetch: safe from a repository the agent wrote). Its home is its own.
 */
function forgeContainer(template: PodTemplate): V1Container {
  return {
    name: FORGE_CONTAINER,
    image: template.image,
    command: ['sleep', 'infinity'],
    workingDir: FORGE_DIR,
    env: [
      { name: 'HOME', value: FORGE_DIR },
      { name: 'SWARM_FORGE_TOKEN', valueFrom: { secretKeyRef: { name: template.token_secret.name, key: template.token_secret.key } } },
    ],
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    securityContext: UNPRIVILEGED,
    volumeMounts: [
      { name: 'workspace', mountPath: '/workspace' },
      { name: 'forge', mountPath: FORGE_DIR },
    ],
  };
}

/** The pod's spec, the same for a pod swarm makes and for the SandboxTemplate it writes. */
function podSpec(template: PodTemplate): V1PodSpec {
  return {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    ...(template.runtime_class ? { runtimeClassName: template.runtime_class } : {}),
    containers: [agentContainer(template), forgeContainer(template)],
    volumes: [
      { name: 'workspace', emptyDir: {} },
      { name: 'forge', emptyDir: {} },
    ],
  };
}

function labels(task: PodTask): Record<string, string> {
  return { [TASK_LABEL]: String(task.id), [REPO_LABEL]: slug(task.repo) };
}

/** Selects one repository's pods (a claimed sandbox's pod carries the labels too). */
export function repoSelector(repo: string): string {
  return `${REPO_LABEL}=${slug(repo)}`;
}

export function podManifest(task: PodTask, template: PodTemplate): V1Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: podName(task), labels: labels(task) }, spec: podSpec(template) };
}

const EXTENSIONS = 'extensions.agents.x-k8s.io/v1alpha1';

/**
 * A claim on a SandboxTemplate (extensions.agents.x-k8s.io), named as the pod would be: the controller makes
 * (or adopts from a warm pool) a Sandbox and its pod, which carries the task's labels. No environment is
 * injected (that would force a cold start): the template carries the Secret reference.
 */
export function sandboxClaim(task: PodTask, templateName: string): SandboxObject {
  return {
    apiVersion: EXTENSIONS,
    kind: 'SandboxClaim',
    metadata: { name: podName(task), labels: labels(task) },
    spec: { sandboxTemplateRef: { name: templateName }, additionalPodMetadata: { labels: labels(task) } },
  };
}

/** The SandboxTemplate swarm writes from the config when none of the user's is named: the same pod as swarm would make. */
export function sandboxTemplate(name: string, template: PodTemplate): SandboxObject {
  return { apiVersion: EXTENSIONS, kind: 'SandboxTemplate', metadata: { name, labels: { [MANAGED_LABEL]: 'true' } }, spec: { podTemplate: { metadata: { labels: { [MANAGED_LABEL]: 'true' } }, spec: podSpec(template) } } };
}

/** Sandboxes of the template kept started, so a claim adopts one instead of waiting for a pod. */
export function sandboxWarmPool(name: string, templateName: string, replicas: number): SandboxObject {
  return { apiVersion: EXTENSIONS, kind: 'SandboxWarmPool', metadata: { name, labels: { [MANAGED_LABEL]: 'true' } }, spec: { replicas, sandboxTemplateRef: { name: templateName } } };
}
