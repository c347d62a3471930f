#!/usr/bin/env bash
# Run by `npm test` first (pretest): what the test suite needs beyond npm ci.
# - the pinned real coding CLIs for the conformance suite (scripts/install-clis.sh, cached);
# - bubblewrap, swarm's sandbox: installed through apt-get when running as root on Debian/Ubuntu.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v bwrap >/dev/null 2>&1; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test-setup: installing bubblewrap (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq bubblewrap >&2
  else
    echo "test-setup: bubblewrap (bwrap) is not installed; the sandbox tests need it: sudo apt-get install bubblewrap" >&2
  fi
fi
bash scripts/install-clis.sh >/dev/null
