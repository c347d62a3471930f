/** Pure pieces of the loopback Kubernetes API's wire (fake-kubernetes.ts): Status errors, selectors, merge patches, its kubeconfig. */

/** The API's error object. */
export const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

/** `a=b,c=d`: equality selectors, all of them. */
export function matches(selector: string | null, labels: Record<string, string> | undefined): boolean {
  return (
    !selector ||
    selector.split(',').every((term) => {
      const [key, value] = term.split('=');
      return labels?.[key!] === value;
    })
  );
}

/** RFC 7386: objects merged, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** A kubeconfig for the server: context `fake`, namespace `swarm`, a bearer token. */
export function kubeconfigText(url: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: fake',
    '  cluster:',
    `    server: ${url}`,
    // Plain http on loopback: the client wants this said (a real cluster has certificate-authority-data).
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: fake-user',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: fake',
    '  context:',
    '    cluster: fake',
    '    user: fake-user',
    '    namespace: swarm',
    'current-context: fake',
    '',
  ].join('\n');
}
