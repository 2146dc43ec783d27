/*
 * Every SQL statement of intake, in one place (store.c), and the functions
 * that run them.
 */
#ifndef HC_INTAKE_STORE_H
#define HC_INTAKE_STORE_H

#include <jansson.h>

#include "common/db/db.h"
#include "services/intake/domain/declaration.h"
#include "services/intake/domain/employer_application.h"

extern const db_stmt intake_statements[];

/*
 * Inserts the application and its workers (personal data sealed under
 * pii_key) inside the open transaction tx, and writes the RFC 3339
 * submission time into submitted_at[40].  submitted_by is the API client it
 * came through (NULL for an internal caller).
 */
int intake_store_application_insert(db_conn *tx, const employer_application *app, const char *id,
                                    const char *submitted_by, const unsigned char pii_key[32],
                                    char submitted_at[40], hc_err *err);

/*
 * Reads an application as its public JSON (masked names only), within a
 * scope: when partner is set, only if that client submitted it; when county
 * is set, only if it belongs to that county.  Returns 0 and a new reference
 * in *out, HC_ERR_NOT_FOUND (also when out of scope), or a db error kind.
 */
int intake_store_application_get(db_conn *conn, const char *id, const char *partner,
                                 const char *county, json_t **out, hc_err *err);

/*
 * Records the county's decision (the data of a decided event) on a submitted
 * application inside tx.  The same decision twice is a no-op; a decision on
 * an unknown or differently decided application is HC_ERR_PERMANENT.
 */
int intake_store_application_decide(db_conn *tx, json_t *data, hc_err *err);

/*
 * Checks, inside tx, that the declaration's employer application exists,
 * lists this person and is approved: HC_ERR_PERMANENT (400) for the first
 * two, HC_ERR_CONFLICT (409) when the county has not approved it.
 */
int intake_store_declaration_employer(db_conn *tx, const declaration *d, hc_err *err);

/*
 * A pending declaration's row, its name, ID number, phone and health answers
 * sealed under pii_key (new reference); then a run of such rows (one, or a
 * group commit's) inserted inside tx with one statement, all at the
 * transaction's time, whose RFC 3339 form goes to submitted_at.
 */
json_t *intake_declaration_row(const declaration *d, const char *id, const char *submitted_by,
                               const unsigned char pii_key[32]);
int intake_store_declarations_insert(db_conn *tx, const json_t *rows, char submitted_at[40],
                                     hc_err *err);

/* A declaration's public JSON (no personal data), scoped as applications are. */
int intake_store_declaration_get(db_conn *conn, const char *id, const char *partner,
                                 const char *county, json_t **out, hc_err *err);

/*
 * The county of residence of a person's latest declaration, into county[7];
 * HC_ERR_CONFLICT (naming resident_id) when the person never applied.
 */
int intake_store_person_county(db_conn *tx, const char *person_key, char county[7], hc_err *err);

/* Inserts a check-in (health answers sealed) inside tx. */
int intake_store_checkin_insert(db_conn *tx, const checkin *c, const char *id, const char *county,
                                const char *submitted_by, const unsigned char pii_key[32],
                                char submitted_at[40], hc_err *err);

/* Inserts a filed correction request inside tx. */
int intake_store_correction_insert(db_conn *tx, const correction *c, const char *id,
                                   const char *county, const char *submitted_by, char filed_at[40],
                                   hc_err *err);

/* A correction request's public JSON and state, scoped as declarations are. */
int intake_store_correction_get(db_conn *conn, const char *id, const char *partner,
                                const char *county, json_t **out, hc_err *err);

/*
 * Records a county or city decision (the data of a correction decided
 * event).  A decision out of order or on an unknown request is
 * HC_ERR_PERMANENT.
 */
int intake_store_correction_decide(db_conn *tx, json_t *data, hc_err *err);

#endif
