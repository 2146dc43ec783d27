/* Every SQL statement of matching (store.c). */
#ifndef HC_MATCHING_STORE_H
#define HC_MATCHING_STORE_H

#include <jansson.h>

#include "common/db/db.h"

extern const db_stmt matching_statements[];

/*
 * Runs a statement whose one row and column is JSON and parses it into
 * *out (new reference); HC_ERR_NOT_FOUND when it returns no row or NULL.
 */
int matching_store_json(db_conn *conn, const char *stmt, int n, const char *const *params,
                        json_t **out, hc_err *err);

#endif
