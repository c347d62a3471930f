#!/usr/bin/env bash
# Installs a pinned set of npm tools into a cache folder outside the project's node_modules:
#   bash scripts/install-clis.sh          the coding CLIs (scripts/clis.json) for the conformance suite, into
#                                         $SWARM_CLI_DIR, default ${XDG_CACHE_HOME:-~/.cache}/worktree-swarm/clis
#   bash scripts/install-clis.sh runners  the test runners, compilers and linters (scripts/runners.json) the
#                                         evidence suite runs, into $SWARM_RUNNERS_DIR, default .../worktree-swarm/runners
# Idempotent: does nothing when the pinned versions are already there. Prints the folder's bin/ path.
set -euo pipefail
cd "$(dirname "$0")/.."
set_name="${1:-clis}"
case "$set_name" in
  clis) dir="${SWARM_CLI_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/worktree-swarm/clis}"; bins="claude codex gemini opencode" ;;
  runners) dir="${SWARM_RUNNERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/worktree-swarm/runners}"; bins="jest mocha uvu ava tap vitest tsc eslint" ;;
  *) echo "install-clis: unknown set '$set_name' (clis or runners)" >&2; exit 2 ;;
esac
mkdir -p "$dir"
specs=$(node -e 'const v=require("./scripts/'"$set_name"'.json");console.log(Object.entries(v).map(([n,x])=>n+"@"+x).join(" "))')
stamp="$dir/.installed"
first_bin="${bins%% *}"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$specs" && -x "$dir/node_modules/.bin/$first_bin" ]]; then
  echo "$set_name already installed in $dir: $specs" >&2
else
  echo "installing $set_name into $dir: $specs" >&2
  [[ -f "$dir/package.json" ]] || echo "{\"name\":\"swarm-test-$set_name\",\"private\":true}" > "$dir/package.json"
  # shellcheck disable=SC2086
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error $specs >&2)
  echo "$specs" > "$stamp"
fi
for bin in $bins; do
  (cd "$dir" && "./node_modules/.bin/$bin" --version >/dev/null 2>&1) || { echo "install-clis: $bin does not run after install" >&2; exit 1; }
done
echo "$dir/node_modules/.bin"
