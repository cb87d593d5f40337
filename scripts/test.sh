#!/usr/bin/env bash
# make test: an isolated test stack (its own ports and data, see env.sh), the apps built,
# unit and integration tests run, and whatever this run started stopped again — also when
# a test fails. Exits non-zero on any failure.
set -euo pipefail
# STACK=test1..test5 selects another isolated test stack (ports +30000/+40000/+50000/+25000/+35000).
case "${STACK:-}" in test1 | test2 | test3 | test4 | test5) ;; *) STACK=test ;; esac
export STACK
. "$(dirname "$0")/env.sh"
cd "$ROOT"

already_running=()
# Read once: `status | grep -q` under pipefail fails when grep quits early (SIGPIPE).
status="$(bash scripts/stack.sh status)"
for s in postgres redis minio keycloak gitea frontend injector worker; do
  # A frontend may run as replicas (frontend-1, …) behind haproxy.
  grep -Eq "^($s|$s-[0-9]+) *running" <<<"$status" && already_running+=("$s")
done
cleanup() {
  local code=$? to_stop=()
  for s in frontend injector worker gitea keycloak minio redis postgres; do
    [[ " ${already_running[*]:-} " == *" $s "* ]] || to_stop+=("$s")
  done
  [ ${#to_stop[@]} -eq 0 ] || bash scripts/stack.sh stop "${to_stop[@]}" >/dev/null 2>&1 || true
  exit $code
}
trap cleanup EXIT INT TERM

bash scripts/stack.sh start-services
npm run --silent build
# stack.sh start-apps (tests that start the stack's own apps) then knows dist/ is current.
touch dist/.build-stamp
mkdir -p artifacts
node --experimental-vm-modules node_modules/jest/bin/jest.js --ci --runInBand "$@"
