#!/usr/bin/env bash
# `npm run conformance:kubernetes`: the Kubernetes runner's cluster scenarios against a real cluster
# (tests/conformance/kubernetes.test.ts). Needs KUBECONFIG and SWARM_K8S_IMAGE; says so and runs nothing otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${KUBECONFIG:-}" || -z "${SWARM_K8S_IMAGE:-}" ]]; then
  echo "conformance:kubernetes: set KUBECONFIG (a cluster, as for kubectl) and SWARM_K8S_IMAGE (an agent image: deploy/kubernetes/Dockerfile); nothing run." >&2
  exit 0
fi
npm run build
exec npx vitest run tests/conformance/kubernetes.test.ts
