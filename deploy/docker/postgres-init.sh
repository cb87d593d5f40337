#!/usr/bin/env bash
# Run by the postgres image on the first start of an empty data volume
# (/docker-entrypoint-initdb.d): the same roles and databases scripts/stack.sh creates for the
# native stack — `archiver` for the apps, `keycloak` for Keycloak — each owning its database.
# Passwords arrive as psql variables (:'name' quotes them), never spliced into the SQL text.
set -euo pipefail
: "${ARCHIVER_DB_PASSWORD:?ARCHIVER_DB_PASSWORD is not set}"
: "${KEYCLOAK_DB_PASSWORD:?KEYCLOAK_DB_PASSWORD is not set}"

psql -v ON_ERROR_STOP=1 -qAt --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v archiver_password="$ARCHIVER_DB_PASSWORD" -v keycloak_password="$KEYCLOAK_DB_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE archiver LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'archiver')\gexec
SELECT 'CREATE ROLE keycloak LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keycloak')\gexec
ALTER ROLE archiver PASSWORD :'archiver_password';
ALTER ROLE keycloak PASSWORD :'keycloak_password';
SELECT 'CREATE DATABASE archiver OWNER archiver' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'archiver')\gexec
SELECT 'CREATE DATABASE keycloak OWNER keycloak' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'keycloak')\gexec
SQL
