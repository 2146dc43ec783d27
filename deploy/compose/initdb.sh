#!/bin/sh
# PostgreSQL container init: one login role and one schema per service, each
# role confined to its own schema: deploy/sql/provision_role.sql, as the
# local stack's deploy/local/pg.sh provision runs it.
set -eu
for s in intake review gateway matching certificate codegen analytics; do
	pw=$(printenv "HC_PG_PASSWORD_$(echo "$s" | tr a-z A-Z)")
	psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v role="$s" -v pw="$pw" \
		-v db="$POSTGRES_DB" -f /etc/hc/provision_role.sql
done
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
	-c "REVOKE ALL ON SCHEMA public FROM PUBLIC; REVOKE ALL ON DATABASE \"$POSTGRES_DB\" FROM PUBLIC;"
