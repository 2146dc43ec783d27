/* Every SQL statement of the gateway, in one place (store.c), and the functions that run them. */
#ifndef HC_GATEWAY_STORE_H
#define HC_GATEWAY_STORE_H

#include "common/db/db.h"

extern const db_stmt gateway_statements[];

typedef struct gateway_client {
	char role[16];
	char county[8]; /* "" unless a county system */
	char key_hash[65];
	int revoked;
	long quota_rate, quota_burst; /* 0: the gateway's defaults */
} gateway_client;

/* Looks a client up by id.  HC_ERR_NOT_FOUND when there is none. */
int gateway_store_client_get(db_conn *conn, const char *id, gateway_client *out, hc_err *err);

/* Creates a client.  HC_ERR_CONFLICT when the id exists. */
int gateway_store_client_add(db_conn *conn, const char *id, const char *role, const char *county,
                             const char *key_hash, hc_err *err);

/* Sets a client's own quota (rate and burst 0: back to the defaults).  HC_ERR_NOT_FOUND. */
int gateway_store_client_quota(db_conn *conn, const char *id, long rate, long burst, hc_err *err);

/* Revokes a client's key.  HC_ERR_NOT_FOUND when there is no such client. */
int gateway_store_client_revoke(db_conn *conn, const char *id, hc_err *err);

#endif
