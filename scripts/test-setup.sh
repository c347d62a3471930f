#!/usr/bin/env bash
# Run by `npm test` first (pretest): what the test suite needs beyond npm ci.
# - the pinned real coding CLIs for the conformance suite, and the pinned test runners, compilers and linters
#   for the evidence suite (scripts/install-clis.sh, cached outside node_modules);
# - from Debian (apt-get, when running as root): bubblewrap (swarm's sandbox), chromium (the dashboard tests
#   drive it with playwright-core, which cannot download its own browser here), and the non-npm runners the
#   evidence suite runs for real: go (go test), rspec, pytest; and OpenSSH (sshd and ssh) for the hosts tests.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v rspec >/dev/null 2>&1 || need+=(ruby-rspec)
/usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 || need+=(python3-pytest)
command -v cargo >/dev/null 2>&1 || [[ -x "$HOME/.cargo/bin/cargo" ]] || need+=(cargo)
# OpenSSH: the hosts tests start a real sshd on a loopback port and use the real ssh client.
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
# systemd-analyze checks the unit `swarm daemon install` writes (systemd need not be running).
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
if (( ${#need[@]} )); then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test-setup: installing ${need[*]} (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${need[@]}" >&2
  else
    echo "test-setup: missing ${need[*]}; the sandbox and evidence tests need them: sudo apt-get install ${need[*]}" >&2
  fi
fi
bash scripts/install-clis.sh >/dev/null
bash scripts/install-clis.sh runners >/dev/null
