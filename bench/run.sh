#!/usr/bin/env bash
# make bench: the isolated bench stack (STACK=bench: ports +20000, its own data dir), the apps
# built, the benchmarks run (bench/main.mjs), and whatever this run started stopped again —
# also when a phase fails or the run is interrupted. Arguments pick phases, e.g.
#   bash bench/run.sh ingest upload
# Results: bench/results/latest.json (+ a dated copy and a .details.json); table: stdout and bench/README.md.
set -euo pipefail
export STACK=bench
. "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"

PIDS_DIR="$STATE/bench-pids"
already_running=()
# Read once: `status | grep -q` under pipefail fails when grep quits early (SIGPIPE).
status="$(bash scripts/stack.sh status)"
for s in postgres redis minio keycloak; do
  grep -q "^$s *running" <<<"$status" && already_running+=("$s")
done

cleanup() {
  local code=$? to_stop=()
  # Apps bench/main.mjs spawned and could not stop itself (it was killed): one PID file each.
  for f in "$PIDS_DIR"/*; do
    [ -e "$f" ] || continue
    local pid; pid="$(basename "$f")"
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$ROOT/dist/apps/"; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  for s in keycloak minio redis postgres; do
    [[ " ${already_running[*]:-} " == *" $s "* ]] || to_stop+=("$s")
  done
  [ ${#to_stop[@]} -eq 0 ] || bash scripts/stack.sh stop "${to_stop[@]}" >/dev/null 2>&1 || true
  exit $code
}
trap cleanup EXIT INT TERM

if [ ! -f node_modules/autocannon/package.json ]; then
  echo "bench: autocannon is not installed (a devDependency): run make deps" >&2
  exit 1
fi

bash scripts/stack.sh start-services
echo "[bench] building the apps"
npm run --silent build
# startGitHttpServer of libs/testing, compiled for the bench's plain Node scripts (into dist/bench).
tsc -p bench/tsconfig.json
node bench/main.mjs "$@"
