#!/usr/bin/env bash
# Builds the Gitea forge the integration tests run against (issue 12) into .local/bin/gitea.
# `go install` refuses Gitea (its go.mod has replace directives), so the module is downloaded
# from the Go module proxy, copied somewhere writable and built there. Go's module and build
# caches live under .local/go so a rebuild (or a version bump) reuses them and a fresh machine
# needs nothing outside the checkout. Idempotent: skipped when the binary has the pinned version.
# Called by deps.sh; runnable alone (`bash scripts/deps-gitea.sh`).
set -euo pipefail
. "$(dirname "$0")/env.sh"

vfile="$LOCAL/bin/.gitea.version"
if [ -x "$LOCAL/bin/gitea" ] && [ "$(cat "$vfile" 2>/dev/null)" = "$GITEA_VERSION" ]; then
  echo "    gitea $GITEA_VERSION present"
  exit 0
fi

export GOMODCACHE="$LOCAL/go/mod" GOCACHE="$LOCAL/go/cache" GOTOOLCHAIN=local GOFLAGS="-modcacherw -buildvcs=false"
started=$(date +%s)
echo "    building gitea $GITEA_VERSION (about 9 minutes cold on 2 shared cores; much less with a warm .local/go cache)"
mkdir -p "$LOCAL/bin" "$LOCAL/gitea"
moddir="$(cd "$LOCAL" && go mod download -json "code.gitea.io/gitea@$GITEA_VERSION" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const m=JSON.parse(s);if(m.Error){console.error(m.Error);process.exit(1)}console.log(m.Dir)})')"
# The source tree stays: Gitea is built without bindata and reads its templates and
# options from here at run time (STATIC_ROOT_PATH in the app.ini stack.sh writes).
src="$LOCAL/gitea/src-$GITEA_VERSION"
rm -rf "$src.tmp" && cp -r "$moddir" "$src.tmp" && chmod -R u+w "$src.tmp"
(
  cd "$src.tmp"
  go mod download >/dev/null
  # sqlite_unlock_notify: sqlite under concurrent API calls; main.Version: what `gitea --version` and the API report.
  CGO_ENABLED=1 go build -tags "sqlite sqlite_unlock_notify" -ldflags "-s -w -X main.Version=${GITEA_VERSION#v}" -o "$LOCAL/bin/gitea.tmp" .
)
rm -rf "$src" && mv "$src.tmp" "$src"
mv "$LOCAL/bin/gitea.tmp" "$LOCAL/bin/gitea"
echo "$GITEA_VERSION" > "$vfile"
echo "    gitea $GITEA_VERSION built in $(($(date +%s) - started))s"
