#!/usr/bin/env bash
# Installs the pinned coding CLIs (scripts/clis.json) for the conformance suite, into a cache folder outside
# the project's node_modules: $SWARM_CLI_DIR, default ${XDG_CACHE_HOME:-~/.cache}/worktree-swarm/clis.
# Idempotent: does nothing when the pinned versions are already there. Prints the folder's bin/ path.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${SWARM_CLI_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/worktree-swarm/clis}"
mkdir -p "$dir"
specs=$(node -e 'const v=require("./scripts/clis.json");console.log(Object.entries(v).map(([n,x])=>n+"@"+x).join(" "))')
stamp="$dir/.installed"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$specs" && -x "$dir/node_modules/.bin/claude" ]]; then
  echo "coding CLIs already installed in $dir: $specs" >&2
else
  echo "installing coding CLIs into $dir: $specs" >&2
  [[ -f "$dir/package.json" ]] || echo '{"name":"swarm-conformance-clis","private":true}' > "$dir/package.json"
  # shellcheck disable=SC2086
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error $specs >&2)
  echo "$specs" > "$stamp"
fi
for bin in claude codex gemini opencode; do
  "$dir/node_modules/.bin/$bin" --version >/dev/null 2>&1 || { echo "install-clis: $bin does not run after install" >&2; exit 1; }
done
echo "$dir/node_modules/.bin"
