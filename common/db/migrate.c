/*
 * Versioned schema migrations.  Each component (a service, or a common
 * library such as the bus with its outbox tables) brings an ordered list of
 * SQL files, embedded in the binary at build time.  schema_migrations records
 * (component, version); an advisory lock per schema makes concurrent starts
 * apply each file exactly once.
 */
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "common/db/db.h"
#include "common/log/log.h"

static const char migrate_table_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                        " component text NOT NULL,"
                                        " version integer NOT NULL,"
                                        " name text NOT NULL,"
                                        " applied_at timestamptz NOT NULL DEFAULT now(),"
                                        " PRIMARY KEY (component, version))";

/* Returns 1 when (component, version) is recorded, 0 when not, <0 on error. */
static int migrate_is_applied(db_conn *conn, const char *component, int version, hc_err *err)
{
	char vtext[16];
	const char *params[2] = {component, vtext};
	db_res *res = NULL;
	int rc;

	snprintf(vtext, sizeof(vtext), "%d", version);
	rc = db_run(conn, "db_migration_applied", 2, params, &res, err);
	if (rc != 0)
		return rc;
	rc = db_res_rows(res) > 0;
	db_res_free(res);
	return rc;
}

static int migrate_one(db_conn *conn, const char *component, const db_migration *m, hc_err *err)
{
	char vtext[16];
	const char *params[3] = {component, vtext, m->name};
	int rc;

	snprintf(vtext, sizeof(vtext), "%d", m->version);
	rc = db_tx_begin(conn, err);
	if (rc != 0)
		return rc;
	rc = db_exec(conn, m->sql, err);
	if (rc == 0)
		rc = db_run(conn, "db_migration_record", 3, params, NULL, err);
	if (rc == 0)
		rc = db_tx_commit(conn, err);
	if (rc != 0) {
		db_tx_rollback(conn);
		return rc;
	}
	log_info("applied migration %s %d %s", component, m->version, m->name);
	return 0;
}

int db_migrate(db_conn *conn, const char *component, const db_migration *list, size_t n,
               hc_err *err)
{
	size_t i;
	int rc;

	rc =
	    db_exec(conn, "SELECT pg_advisory_lock(hashtext(current_schema() || ':migrate'))", err);
	if (rc != 0)
		return rc;
	rc = db_exec(conn, migrate_table_sql, err);
	/* Prepared here, not at connect: the table may not have existed then. */
	if (rc == 0)
		rc = db_exec(
		    conn,
		    "DEALLOCATE ALL; "
		    "PREPARE db_migration_applied (text, integer) AS "
		    " SELECT 1 FROM schema_migrations WHERE component = $1 AND version = $2; "
		    "PREPARE db_migration_record (text, integer, text) AS "
		    " INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)",
		    err);
	for (i = 0; rc == 0 && i < n; i++) {
		rc = migrate_is_applied(conn, component, list[i].version, err);
		if (rc == 1)
			rc = 0;
		else if (rc == 0)
			rc = migrate_one(conn, component, &list[i], err);
	}
	db_exec(conn, "DEALLOCATE ALL", NULL);
	db_exec(conn, "SELECT pg_advisory_unlock(hashtext(current_schema() || ':migrate'))", NULL);
	return rc;
}
