#!/usr/bin/env bash
# Runs the native stack: Postgres, Redis, MinIO, Keycloak and the three apps, each with its
# data under .local/state/$STACK and a PID file, so `stop` ends exactly what `start` began.
#   scripts/stack.sh start|stop|status|logs [service]
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

PIDS="$STATE/pids"; LOGS="$STATE/logs"
mkdir -p "$PIDS" "$LOGS" "$ARCHIVER_WORK_DIR"
SERVICES=(postgres redis minio keycloak)
APPS=(frontend injector worker)

say() { printf '[%s] %s\n' "$STACK" "$*"; }
die() { say "error: $*" >&2; exit 1; }

pid_of() { # prints the live PID of a service, or nothing
  local f="$PIDS/$1.pid"
  [ "$1" = postgres ] && f="$STATE/pg/postmaster.pid"
  [ -f "$f" ] || return 0
  local pid; pid="$(head -n1 "$f")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

wait_for() { # description seconds command...
  local what="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what did not come up within ${secs}s (see $LOGS)"
    sleep 0.5
  done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
need_port() { port_free "$1" || die "port $1 ($2) is taken by another process; set $3 to use another port"; }

# Postgres refuses to run as root, so on a root machine it runs as the Debian package's user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
psql_super() { PGPASSWORD="$POSTGRES_SUPERUSER_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

# The postgres user must be able to reach its data dir inside the project. A checkout in a
# private dir (e.g. made by mktemp -d, mode 700) blocks it, so grant traverse-only (o+x)
# permission on the path where it is missing — nothing becomes listable or readable.
grant_pg_traverse() {
  [ "$(id -u)" -eq 0 ] || return 0
  local path="" part
  IFS=/ read -ra parts <<<"${STATE#/}"
  for part in "${parts[@]}"; do
    path="$path/$part"
    [ -d "$path" ] || break
    runuser -u postgres -- test -x "$path" 2>/dev/null || chmod o+x "$path"
  done
}

start_postgres() {
  [ -n "$(pid_of postgres)" ] && return 0
  need_port "$PG_PORT" postgres PG_PORT
  mkdir -p "$STATE/pg"
  grant_pg_traverse
  if [ ! -f "$STATE/pg/PG_VERSION" ]; then
    mkdir -p "$STATE/pg"
    local pw; pw="$(mktemp)"; echo "$POSTGRES_SUPERUSER_PASSWORD" > "$pw"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$STATE/pg" "$pw"; fi
    as_pg "$PGBIN/initdb" -D "$STATE/pg" -U postgres --pwfile="$pw" --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$LOGS/initdb.log"
    rm -f "$pw"
  fi
  touch "$LOGS/postgres.log"; [ "$(id -u)" -ne 0 ] || chown postgres "$LOGS/postgres.log"
  as_pg "$PGBIN/pg_ctl" -D "$STATE/pg" -l "$LOGS/postgres.log" -w -t 60 start \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" >/dev/null 9>&-
  wait_for postgres 30 psql_super -c 'select 1'
  psql_super <<SQL
SELECT 'CREATE ROLE archiver LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'archiver')\gexec
SELECT 'CREATE ROLE keycloak LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keycloak')\gexec
ALTER ROLE archiver PASSWORD '$ARCHIVER_DB_PASSWORD';
ALTER ROLE keycloak PASSWORD '$KEYCLOAK_DB_PASSWORD';
SELECT 'CREATE DATABASE archiver OWNER archiver' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'archiver')\gexec
SELECT 'CREATE DATABASE keycloak OWNER keycloak' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'keycloak')\gexec
SQL
}

start_redis() {
  [ -n "$(pid_of redis)" ] && return 0
  need_port "$REDIS_PORT" redis REDIS_PORT
  mkdir -p "$STATE/redis"
  # A config file keeps the password out of the process list.
  (umask 077; cat > "$STATE/redis/redis.conf" <<CONF
bind 127.0.0.1
port $REDIS_PORT
dir $STATE/redis
requirepass $REDIS_PASSWORD
appendonly yes
appendfsync everysec
maxmemory-policy noeviction
daemonize yes
pidfile $PIDS/redis.pid
logfile $LOGS/redis.log
CONF
  )
  redis-server "$STATE/redis/redis.conf" 9>&-
  wait_for redis 20 redis-cli -p "$REDIS_PORT" --no-auth-warning -a "$REDIS_PASSWORD" ping
}

spawn() { # name logfile command... — background process with a PID file
  local name="$1"; shift
  # 9>&-: long-running children must not inherit the start lock (see the bottom of this file).
  nohup "$@" >>"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
  echo $! > "$PIDS/$name.pid"
}

# MinIO's data in $STATE/minio: either one plain drive (the folder itself, as every stack made
# before erasure coding has it) or drives d1..dN that MinIO erasure-codes across (N >= 4: EC:2
# on 4, so any 2 drives may fail). What is on disk wins over MINIO_DRIVES, so no data is stranded.
start_minio() {
  [ -n "$(pid_of minio)" ] && return 0
  need_port "$MINIO_PORT" minio MINIO_PORT; need_port "$MINIO_CONSOLE_PORT" 'minio console' MINIO_CONSOLE_PORT
  local dir="$STATE/minio" drives count health=ready
  mkdir -p "$dir"
  count="$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'd[0-9]*' | wc -l)"
  if [ -d "$dir/.minio.sys" ] || { [ "$count" -eq 0 ] && [ "$MINIO_DRIVES" = 1 ]; }; then
    drives="$dir"
    if [ "$MINIO_DRIVES" != 1 ]; then
      say "minio: $dir holds a single-drive MinIO, so it keeps running on one drive (no erasure coding)." \
        "To move to $MINIO_DRIVES drives, copy its buckets to a new MinIO (README, \"Erasure-coded storage\")."
    fi
  else
    if [ "$count" -eq 0 ]; then
      count="$MINIO_DRIVES"
      [[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -ge 4 ] && [ "$count" -le 16 ] || die "MINIO_DRIVES must be 1, or 4 to 16 for erasure coding (got '$MINIO_DRIVES')"
    elif [ "$count" != "$MINIO_DRIVES" ]; then
      say "minio: $dir holds $count drives, so it keeps running on $count (MINIO_DRIVES=$MINIO_DRIVES applies to a new stack)"
    fi
    # MinIO expands {1...N} itself; every drive folder must exist before it starts.
    for i in $(seq 1 "$count"); do mkdir -p "$dir/d$i"; done
    drives="$dir/d{1...$count}" health=cluster
  fi
  # MinIO refuses drives on the root disk unless told where that starts: here all drives are
  # folders of one disk on purpose (erasure coding against a lost or wiped drive folder, not a
  # lost disk), so only a drive of at most 1 byte counts as the root disk.
  MINIO_ROOTDRIVE_THRESHOLD_SIZE=1B \
  MINIO_BROWSER_REDIRECT_URL="$MINIO_CONSOLE_URL" spawn minio minio server "$drives" \
    --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" --quiet
  # With several drives, "cluster" answers 200 only once enough drives are up to write (quorum).
  wait_for minio 60 curl -fsS "$MINIO_ENDPOINT/minio/health/$health"
}

start_keycloak() {
  if [ -z "$(pid_of keycloak)" ]; then
    need_port "$KEYCLOAK_PORT" keycloak KEYCLOAK_PORT; need_port "$KEYCLOAK_MANAGEMENT_PORT" 'keycloak management' KEYCLOAK_MANAGEMENT_PORT
    KC_DB_PASSWORD="$KEYCLOAK_DB_PASSWORD" \
    KC_BOOTSTRAP_ADMIN_USERNAME="$KEYCLOAK_ADMIN_USER" KC_BOOTSTRAP_ADMIN_PASSWORD="$KEYCLOAK_ADMIN_PASSWORD" \
    JAVA_OPTS_KC_HEAP="${KEYCLOAK_HEAP:--Xms64m -Xmx512m}" \
    spawn keycloak "$KEYCLOAK_HOME/bin/kc.sh" start --optimized \
      --db-url="jdbc:postgresql://127.0.0.1:$PG_PORT/keycloak" --db-username=keycloak \
      --http-enabled=true --http-host=127.0.0.1 --http-port="$KEYCLOAK_PORT" \
      --http-management-port="$KEYCLOAK_MANAGEMENT_PORT" \
      --hostname="$KEYCLOAK_URL" --hostname-backchannel-dynamic=false
  fi
  wait_for keycloak 180 curl -fsS "http://127.0.0.1:$KEYCLOAK_MANAGEMENT_PORT/health/ready"
  node scripts/keycloak-realm.mjs
}

GITEA_SRC="$LOCAL/gitea/src-$GITEA_VERSION"
gitea_cli() { "$LOCAL/bin/gitea" --config "$STATE/gitea/app.ini" --work-path "$STATE/gitea" "$@"; }

# The real forge of the integration tests (issue 12), not part of `make start`: tests start it
# through `start-service gitea` when they need it. sqlite, HTTP, its built-in SSH server and
# LFS, all on 127.0.0.1; an admin user made once with the stack's generated password.
start_gitea() {
  [ -x "$LOCAL/bin/gitea" ] || die "gitea is not built: run make deps (scripts/deps-gitea.sh)"
  [ -n "$(pid_of gitea)" ] && return 0
  need_port "$GITEA_PORT" gitea GITEA_PORT; need_port "$GITEA_SSH_PORT" 'gitea ssh' GITEA_SSH_PORT
  local dir="$STATE/gitea" started=$SECONDS
  mkdir -p "$dir/data" "$dir/custom"
  if [ ! -f "$dir/secrets.ini" ]; then
    (umask 077; printf 'SECRET_KEY = %s\nINTERNAL_TOKEN = %s\nJWT_SECRET = %s\nLFS_JWT_SECRET = %s\n' \
      "$("$LOCAL/bin/gitea" generate secret SECRET_KEY)" "$("$LOCAL/bin/gitea" generate secret INTERNAL_TOKEN)" \
      "$("$LOCAL/bin/gitea" generate secret JWT_SECRET)" "$("$LOCAL/bin/gitea" generate secret LFS_JWT_SECRET)" > "$dir/secrets.ini")
  fi
  local secret_key internal_token jwt_secret lfs_jwt_secret
  secret_key="$(sed -n 's/^SECRET_KEY = //p' "$dir/secrets.ini")"; internal_token="$(sed -n 's/^INTERNAL_TOKEN = //p' "$dir/secrets.ini")"
  jwt_secret="$(sed -n 's/^JWT_SECRET = //p' "$dir/secrets.ini")"; lfs_jwt_secret="$(sed -n 's/^LFS_JWT_SECRET = //p' "$dir/secrets.ini")"
  # Rewritten at every start, so a changed port or version takes effect.
  (umask 077; cat > "$dir/app.ini" <<INI
APP_NAME = Repository Archiver test forge ($STACK)
RUN_MODE = prod
RUN_USER = $(id -un)
WORK_PATH = $dir
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = $GITEA_PORT
DOMAIN = 127.0.0.1
ROOT_URL = $GITEA_URL/
APP_DATA_PATH = $dir/data
STATIC_ROOT_PATH = $GITEA_SRC
OFFLINE_MODE = true
START_SSH_SERVER = true
SSH_DOMAIN = 127.0.0.1
SSH_LISTEN_HOST = 127.0.0.1
SSH_PORT = $GITEA_SSH_PORT
SSH_LISTEN_PORT = $GITEA_SSH_PORT
LFS_START_SERVER = true
LFS_JWT_SECRET = $lfs_jwt_secret

[database]
DB_TYPE = sqlite3
PATH = $dir/data/gitea.db
SQLITE_JOURNAL_MODE = WAL

[security]
INSTALL_LOCK = true
SECRET_KEY = $secret_key
INTERNAL_TOKEN = $internal_token

[oauth2]
JWT_SECRET = $jwt_secret

[service]
DISABLE_REGISTRATION = true
DEFAULT_KEEP_EMAIL_PRIVATE = true

[repository]
ROOT = $dir/repositories

[lfs]
PATH = $dir/lfs

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[mailer]
ENABLED = false

[cron.update_checker]
ENABLED = false

[actions]
ENABLED = false

[webhook]
ALLOWED_HOST_LIST = loopback

[log]
MODE = console
LEVEL = warn
ROOT_PATH = $LOGS
; One line per request in logs/gitea-access.log: tests count what the archiver asked of the forge.
; Each line starts with when the request ended (FLAGS, UTC, microseconds), then when it started
; (UnixMicro): the politeness test measures how many requests to the forge overlapped.
logger.access.MODE = access-file
ACCESS_LOG_TEMPLATE = {{.Start.UnixMicro}} {{.Ctx.RemoteHost}} - {{.Identity}} "{{.Ctx.Req.Method}} {{.Ctx.Req.URL.RequestURI}} {{.Ctx.Req.Proto}}" {{.ResponseWriter.Status}} {{.ResponseWriter.Size}} "{{.Ctx.Req.UserAgent}}"

[log.access-file]
MODE = file
LEVEL = info
FLAGS = date,time,microseconds,utc
FILE_NAME = gitea-access.log
INI
  )
  if [ ! -f "$dir/.admin-created" ]; then
    gitea_cli migrate >>"$LOGS/gitea.log" 2>&1
    gitea_cli admin user create --admin --username "$GITEA_ADMIN_USER" --password "$GITEA_ADMIN_PASSWORD" \
      --email "$GITEA_ADMIN_USER@forge.invalid" --must-change-password=false >>"$LOGS/gitea.log" 2>&1
    touch "$dir/.admin-created"
  fi
  spawn gitea "$LOCAL/bin/gitea" web --config "$dir/app.ini" --work-path "$dir"
  wait_for gitea 60 curl -fsS "$GITEA_URL/api/healthz"
  say "gitea up on $GITEA_PORT (ssh $GITEA_SSH_PORT) in $((SECONDS - started))s"
}

app_main() { echo "$ROOT/dist/apps/$1/apps/$1/src/main.js"; }

build_apps() {
  local stamp="$ROOT/dist/.build-stamp" want
  want="$( (find apps libs prisma -type f -newer "$stamp" 2>/dev/null | grep -v generated | head -n1) || true)"
  if [ ! -f "$stamp" ] || [ -n "$want" ] || [ ! -f "$(app_main worker)" ]; then
    say "building the apps"
    npm run --silent build
    touch "$stamp"
  fi
}

# Every frontend process of the stack that has a PID file, the balancer first: also those a
# start with another FRONTEND_REPLICAS left, so stop and status never lose one.
frontend_processes() {
  local f
  for f in "$PIDS/haproxy.pid" "$PIDS/frontend.pid" "$PIDS"/frontend-*.pid; do
    [ -f "$f" ] && basename "$f" .pid
  done
  return 0
}

replica_port() { echo $((FRONTEND_REPLICA_PORT_BASE + $1)); }

# One frontend keeps today's layout (it listens on FRONTEND_PORT itself, no balancer to run);
# several get their own ports, and HAProxy takes FRONTEND_PORT.
start_frontends() {
  [[ "$FRONTEND_REPLICAS" =~ ^[1-9][0-9]?$ ]] || die "FRONTEND_REPLICAS must be a number from 1 to 99 (got '$FRONTEND_REPLICAS')"
  if [ "$FRONTEND_REPLICAS" -eq 1 ]; then
    [ -z "$(pid_of haproxy)" ] || die "HAProxy runs on $FRONTEND_PORT from a start with FRONTEND_REPLICAS > 1: run stack.sh stop frontend first"
    [ -n "$(pid_of frontend)" ] && return 0
    need_port "$FRONTEND_PORT" frontend FRONTEND_PORT
    spawn frontend node --enable-source-maps "$(app_main frontend)"
    return 0
  fi
  [ -z "$(pid_of frontend)" ] || die "a single frontend runs on $FRONTEND_PORT: run stack.sh stop frontend first"
  local i port
  for i in $(seq 1 "$FRONTEND_REPLICAS"); do
    [ -n "$(pid_of "frontend-$i")" ] && continue
    port="$(replica_port "$i")"
    need_port "$port" "frontend-$i" FRONTEND_REPLICA_PORT_BASE
    need_port $((FRONTEND_REPLICA_METRICS_PORT_BASE + i)) "frontend-$i metrics" FRONTEND_REPLICA_METRICS_PORT_BASE
    FRONTEND_PORT="$port" FRONTEND_METRICS_PORT=$((FRONTEND_REPLICA_METRICS_PORT_BASE + i)) \
      spawn "frontend-$i" node --enable-source-maps "$(app_main frontend)"
  done
}

# Prometheus (deploy/prometheus/prometheus.native.yml) finds the frontends' metrics listeners in
# this file: one, or every replica's, as this start laid them out. Rewritten on every start.
write_frontend_targets() {
  local targets=() i
  if [ "$FRONTEND_REPLICAS" -eq 1 ]; then targets+=("\"127.0.0.1:$FRONTEND_METRICS_PORT\""); else
    for i in $(seq 1 "$FRONTEND_REPLICAS"); do targets+=("\"127.0.0.1:$((FRONTEND_REPLICA_METRICS_PORT_BASE + i))\""); done
  fi
  mkdir -p "$STATE/scrape-targets"
  local IFS=,
  printf '[{"targets": [%s]}]\n' "${targets[*]}" >"$STATE/scrape-targets/frontend.json.tmp"
  mv "$STATE/scrape-targets/frontend.json.tmp" "$STATE/scrape-targets/frontend.json"
}

start_haproxy() {
  [ "$FRONTEND_REPLICAS" -gt 1 ] || return 0
  [ -n "$(pid_of haproxy)" ] && return 0
  command -v haproxy >/dev/null || die "haproxy is not installed: run make deps"
  need_port "$FRONTEND_PORT" haproxy FRONTEND_PORT; need_port "$HAPROXY_STATUS_PORT" 'haproxy status' HAPROXY_STATUS_PORT
  local cfg="$STATE/haproxy/haproxy.cfg" servers=() i
  mkdir -p "$STATE/haproxy"
  for i in $(seq 1 "$FRONTEND_REPLICAS"); do servers+=("server frontend-$i 127.0.0.1:$(replica_port "$i")"); done
  sh "$ROOT/deploy/haproxy/render.sh" "$ROOT/deploy/haproxy/haproxy.cfg.template" "$cfg" \
    "$HTTP_HOST:$FRONTEND_PORT" "127.0.0.1:$HAPROXY_STATUS_PORT" "${servers[@]}"
  haproxy -c -q -f "$cfg" >>"$LOGS/haproxy.log" 2>&1 || die "haproxy rejected $cfg (see $LOGS/haproxy.log)"
  # -db: stays in the foreground, so its PID file names the process that serves.
  spawn haproxy haproxy -db -f "$cfg"
  wait_for haproxy 30 curl -fsS "http://127.0.0.1:$FRONTEND_PORT/health/live"
}

start_apps() {
  build_apps
  start_frontends
  write_frontend_targets
  for app in injector worker; do
    [ -n "$(pid_of "$app")" ] && continue
    local port_var; port_var="$(echo "$app" | tr a-z A-Z)_PORT"
    need_port "${!port_var}" "$app" "$port_var"
    spawn "$app" node --enable-source-maps "$(app_main "$app")"
  done
  local urls=("http://127.0.0.1:$INJECTOR_PORT" "http://127.0.0.1:$WORKER_PORT") i
  if [ "$FRONTEND_REPLICAS" -eq 1 ]; then urls+=("http://127.0.0.1:$FRONTEND_PORT"); else
    for i in $(seq 1 "$FRONTEND_REPLICAS"); do urls+=("http://127.0.0.1:$(replica_port "$i")"); done
  fi
  for url in "${urls[@]}"; do wait_for "the app on $url" 60 curl -fsS "$url/health"; done
  start_haproxy
}

stop_one() {
  local name="$1" pid; pid="$(pid_of "$name")"
  [ -n "$pid" ] || { rm -f "$PIDS/$name.pid"; return 0; }
  if [ "$name" = postgres ]; then
    as_pg "$PGBIN/pg_ctl" -D "$STATE/pg" -m fast -w -t 60 stop >/dev/null
    return 0
  fi
  # Keycloak's PID is kc.sh's, whose java child still holds the ports a moment after the script
  # is gone: wait for the whole tree, or a start right after a stop finds them taken.
  local tree; tree="$(descendants "$pid") $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do alive $tree || break; sleep 0.5; done
  # shellcheck disable=SC2086 # word splitting wanted: a list of PIDs
  alive $tree && { say "$name did not stop in 30s; killing"; kill -KILL $tree 2>/dev/null || true; }
  rm -f "$PIDS/$name.pid"
  say "stopped $name"
}

descendants() { # PID — every live descendant of it
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$child"; descendants "$child"; done
}

alive() { # PID... — true while any of them lives
  local pid
  for pid in "$@"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}

print_urls() {
  cat <<INFO

Repository Archiver ($STACK stack) is up.
  Web interface      $PUBLIC_URL/
  REST API docs      $PUBLIC_URL/api/docs
  MinIO console      $MINIO_CONSOLE_URL/      user $MINIO_ROOT_USER  password in $SECRETS_FILE
  Keycloak admin     $KEYCLOAK_URL/admin/     user $KEYCLOAK_ADMIN_USER  password in $SECRETS_FILE
  Demo logins        demo / $DEMO_PASSWORD   (archiver-user)
                     admin / $ADMIN_PASSWORD  (archiver-user, archiver-admin)
  Logs               make logs   ($LOGS)$( [ "$FRONTEND_REPLICAS" -gt 1 ] && printf '\n  Balancer status    http://127.0.0.1:%s/stats   (%s frontend replicas behind HAProxy)' "$HAPROXY_STATUS_PORT" "$FRONTEND_REPLICAS")
  Stop               make stop
INFO
}

cmd="${1:-status}"; shift || true
# Concurrent starts of one stack (two terminals, parallel test runs) queue up here.
case "$cmd" in start-services|start-service|start-apps|stop) exec 9>"$STATE/.lock"; flock -w 600 9 || die "another start or stop of this stack holds $STATE/.lock" ;; esac
case "$cmd" in
  start-services)
    start_postgres; say "postgres up on $PG_PORT"
    start_redis; say "redis up on $REDIS_PORT"
    start_minio; say "minio up on $MINIO_PORT (console $MINIO_CONSOLE_PORT)"
    start_keycloak; say "keycloak up on $KEYCLOAK_PORT"
    node scripts/migrate.mjs ;;
  start-apps) start_apps; say "apps up" ;;
  start-service)
    # One service alone, e.g. after an outage a test caused: no realm sync, no migrations.
    case "${1:-}" in postgres | redis | minio) "start_$1"; say "$1 up" ;; gitea) start_gitea ;; *) die "usage: $0 start-service postgres|redis|minio|gitea" ;; esac ;;
  start)
    "$0" start-services
    "$0" start-apps
    print_urls ;;
  stop)
    targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=("${APPS[@]}" gitea keycloak minio redis postgres)
    # "frontend" means every frontend process: the balancer and each replica.
    expanded=()
    for s in "${targets[@]}"; do
      if [ "$s" = frontend ]; then mapfile -t -O "${#expanded[@]}" expanded < <(frontend_processes); else expanded+=("$s"); fi
    done
    for s in "${expanded[@]}"; do stop_one "$s"; done ;;
  status)
    mapfile -t frontends < <(frontend_processes); [ ${#frontends[@]} -gt 0 ] || frontends=(frontend)
    for s in "${SERVICES[@]}" gitea "${frontends[@]}" injector worker; do
      pid="$(pid_of "$s")"
      if [ -n "$pid" ]; then printf '%-10s running (pid %s)\n' "$s" "$pid"; else printf '%-10s stopped\n' "$s"; fi
    done ;;
  logs)
    if [ $# -gt 0 ]; then tail -n 100 -F "$LOGS/$1.log"; else tail -n 20 -F "$LOGS"/*.log; fi ;;
  urls) print_urls ;;
  *) die "usage: $0 start|stop [service...]|status|logs [service]|urls" ;;
esac
