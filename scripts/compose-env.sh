#!/usr/bin/env bash
# Writes the env file of the Docker Compose stack, .local/compose.env (git-ignored, mode 600),
# which `make build` hands to `docker compose --env-file`. Secrets are generated once, with the
# names scripts/env.sh uses for the native stack; a re-run keeps every value already in the
# file and only adds what is missing, so the containers' volumes keep matching passwords.
#   scripts/compose-env.sh [file]        (default .local/compose.env)
# Generated values are letters and digits only: docker-compose.yml splices some of them into
# DATABASE_URL and REDIS_URL, so a hand-set password must not need URL escaping either.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILE="${1:-$ROOT/.local/compose.env}"

umask 077
mkdir -p "$(dirname "$FILE")"
if [ ! -f "$FILE" ]; then
  cat > "$FILE" <<'HEADER'
# Docker Compose settings of Repository Archiver, written by scripts/compose-env.sh.
# Secrets were generated for this machine: keep this file private and out of git. Editing a
# password after the first `make build` needs the same change inside the running service.
HEADER
fi
chmod 600 "$FILE"

gen() { # 24 random letters and digits
  local out=''
  while [ ${#out} -lt 24 ]; do
    out+="$(head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')"
  done
  printf '%s' "${out:0:24}"
}

added=()
put() { # NAME VALUE — appended only when the file has no NAME yet
  if ! grep -q "^$1=" "$FILE"; then
    printf '%s=%s\n' "$1" "$2" >> "$FILE"
    added+=("$1")
  fi
}

put POSTGRES_SUPERUSER_PASSWORD "$(gen)"
put ARCHIVER_DB_PASSWORD "$(gen)"
put KEYCLOAK_DB_PASSWORD "$(gen)"
put REDIS_PASSWORD "$(gen)"
minio_user="$(gen)"
put MINIO_ROOT_USER "archiver-${minio_user:0:8}"
put MINIO_ROOT_PASSWORD "$(gen)"
put KEYCLOAK_ADMIN_PASSWORD "$(gen)"
# The apps' /metrics bearer token (Prometheus sends it) and Grafana's admin password.
put METRICS_TOKEN "$(gen)"
put GRAFANA_ADMIN_PASSWORD "$(gen)"
# The key of stored repository credentials (CREDENTIAL_KEYS: id:base64 of 32 random bytes).
put CREDENTIAL_KEYS "compose1:$(head -c 32 /dev/urandom | base64 -w0)"
# Logins, as in scripts/env.sh: the realm's demo users and Keycloak's own admin. An exported
# value is taken the first time; change them for anything reachable by others.
put KEYCLOAK_ADMIN_USER "${KEYCLOAK_ADMIN_USER:-kcadmin}"
put DEMO_PASSWORD "${DEMO_PASSWORD:-demo}"
put ADMIN_PASSWORD "${ADMIN_PASSWORD:-admin}"

rel="${FILE#"$ROOT"/}"
if [ ${#added[@]} -gt 0 ]; then
  echo "[compose-env] $rel: added ${added[*]}"
else
  echo "[compose-env] $rel: up to date"
fi
