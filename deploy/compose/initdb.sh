#!/bin/sh
# PostgreSQL container init: one login role and one schema per service, each
# role confined to its own schema (as deploy/local/pg.sh provision does).
set -eu
for s in intake review gateway matching certificate codegen; do
	pw=$(printenv "HC_PG_PASSWORD_$(echo "$s" | tr a-z A-Z)")
	psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v role="$s" -v pw="$pw" -v db="$POSTGRES_DB" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
GRANT CONNECT ON DATABASE :"db" TO :"role";
CREATE SCHEMA IF NOT EXISTS :"role" AUTHORIZATION :"role";
REVOKE ALL ON SCHEMA :"role" FROM PUBLIC;
ALTER ROLE :"role" IN DATABASE :"db" SET search_path = :"role";
SQL
done
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
	-c "REVOKE ALL ON SCHEMA public FROM PUBLIC; REVOKE ALL ON DATABASE \"$POSTGRES_DB\" FROM PUBLIC;"
