/* Every SQL statement of the gateway; see store.h. */
#include "services/gateway/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const db_stmt gateway_statements[] = {
    {"gateway_client_get",
     "SELECT role, coalesce(county_code, ''), key_hash, revoked_at IS NOT NULL,"
     " coalesce(quota_rate, 0), coalesce(quota_burst, 0) FROM api_clients WHERE id = $1",
     1},
    {"gateway_client_add",
     "INSERT INTO api_clients (id, role, county_code, key_hash) VALUES ($1, $2, $3, $4)", 4},
    {"gateway_client_quota",
     "UPDATE api_clients SET quota_rate = nullif($2::integer, 0),"
     " quota_burst = nullif($3::integer, 0) WHERE id = $1",
     3},
    /* request signing (signed.c) */
    {"gateway_client_key_get",
     "SELECT c.role, coalesce(c.county_code, ''), coalesce(c.quota_rate, 0),"
     " coalesce(c.quota_burst, 0), encode(k.public_der, 'hex') FROM api_clients c"
     " JOIN client_keys k ON k.client = c.id WHERE c.id = $1 AND k.kid = $2"
     " AND c.revoked_at IS NULL AND k.revoked_at IS NULL",
     2},
    {"gateway_client_key_add",
     "INSERT INTO client_keys (client, kid, public_der) VALUES ($1, $2, decode($3, 'hex'))", 3},
    /* $1: [{c: client, n: nonce}]; the pairs new to the table come back (each once) */
    {"gateway_nonce_claim_many",
     "INSERT INTO request_nonces (client, nonce) SELECT r.c, r.n"
     " FROM jsonb_to_recordset($1::jsonb) AS r(c text, n text) ON CONFLICT DO NOTHING"
     " RETURNING client, nonce",
     1},
    /* routes/quota.c: $1 this gateway, $2 [{c: client, n: taken}], $3 [client]: this
     * gateway's row of each client gains its taken; the others' totals of the clients in $3 */
    {"gateway_quota_sync",
     "WITH mine AS (INSERT INTO quota_usage (client, gateway, taken)"
     " SELECT r.c, $1::uuid, r.n FROM jsonb_to_recordset($2::jsonb) AS r(c text, n bigint)"
     " ON CONFLICT (client, gateway) DO UPDATE"
     " SET taken = quota_usage.taken + excluded.taken, synced_at = now())"
     " SELECT client, sum(taken) FROM quota_usage"
     " WHERE client IN (SELECT jsonb_array_elements_text($3::jsonb)) AND gateway <> $1::uuid"
     " GROUP BY client",
     3},
    {"gateway_quota_purge", "DELETE FROM quota_usage WHERE synced_at < now() - interval '1 hour'",
     0},
    {"gateway_nonce_purge",
     "DELETE FROM request_nonces WHERE seen_at < now() - interval '10 minutes'", 0},
    /* callbacks (routes/webhooks.c) */
    {"person_client_add",
     "INSERT INTO person_clients (person_key, client) VALUES ($1, $2) ON CONFLICT DO NOTHING", 2},
    /* svc_on_declaration_clients: $1 [{k: person key, c: client}] */
    {"person_clients_add_many",
     "INSERT INTO person_clients (person_key, client) SELECT r.k, r.c"
     " FROM jsonb_to_recordset($1::jsonb) AS r(k text, c text) ON CONFLICT DO NOTHING",
     1},
    {"application_client_add",
     "INSERT INTO application_clients (application_id, client) VALUES ($1::uuid, $2)"
     " ON CONFLICT DO NOTHING",
     2},
    /* subscribing again to the same URL replaces the events (a retry is harmless) */
    {"gateway_webhook_add",
     "INSERT INTO webhook_subscriptions (id, client, url, events)"
     " VALUES ($1::uuid, $2, $3, $4::text[]) ON CONFLICT (client, url) WHERE deleted_at IS NULL"
     " DO UPDATE SET events = EXCLUDED.events RETURNING json_build_object('id', id, 'url', url,"
     " 'events', events, 'created_at', " DB_RFC3339("created_at") ")::text, xmax = 0",
     4},
    {"gateway_webhook_list",
     "SELECT coalesce(json_agg(json_build_object('id', s.id, 'url', s.url, 'events', s.events,"
     " 'created_at', " DB_RFC3339(
         "s.created_at") ", 'deliveries', (SELECT coalesce(json_agg("
                         "json_build_object('event_id', d.event_id, 'event_type', d.event_type, "
                         "'status', d.status,"
                         " 'attempts', d.attempts, 'last_status', d.last_status, 'last_error',"
                         " d.last_error) ORDER BY d.id "
                         "DESC), '[]')"
                         " FROM (SELECT * FROM webhook_deliveries WHERE subscription_id = s.id "
                         "ORDER BY id DESC"
                         " LIMIT 20) d)) ORDER BY s.created_at), '[]')::text"
                         " FROM webhook_subscriptions s WHERE s.client = $1 AND s.deleted_at IS "
                         "NULL",
     1},
    /* its deliveries still pending are cancelled with it (one the consumer adds in a
       transaction that began before this one is cancelled when claimed) */
    {"gateway_webhook_delete",
     "WITH s AS (UPDATE webhook_subscriptions SET deleted_at = now() WHERE id = $1::uuid"
     " AND client = $2 AND deleted_at IS NULL RETURNING id),"
     " c AS (UPDATE webhook_deliveries d SET status = 'cancelled',"
     " last_error = 'subscription deleted' FROM s WHERE d.subscription_id = s.id"
     " AND d.status = 'pending')"
     " SELECT id FROM s",
     2},
    /* one delivery per subscription of every client linked to the person; with no client
       linked yet, the event waits in partner_events_pending for the link */
    {"gateway_deliveries_add",
     "WITH d AS (INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, payload)"
     " SELECT s.id, $2, $3, $4 FROM webhook_subscriptions s"
     " JOIN person_clients p ON p.client = s.client"
     " WHERE p.person_key = $1 AND s.deleted_at IS NULL AND $3 = ANY (s.events)"
     " ON CONFLICT DO NOTHING)"
     " INSERT INTO partner_events_pending (event_id, person_key, event_type, payload)"
     " SELECT $2, $1, $3, $4"
     " WHERE NOT EXISTS (SELECT 1 FROM person_clients WHERE person_key = $1)"
     " ON CONFLICT DO NOTHING",
     4},
    /* gateway_deliveries_add for many events: one text[] each (db_run_text_arrays) of person
       keys, event ids, event types and payloads */
    {"gateway_deliveries_add_many",
     "WITH e AS (SELECT x.person_key, x.event_id, x.event_type, x.payload, x.n"
     " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])"
     " WITH ORDINALITY AS x(person_key, event_id, event_type, payload, n)),"
     " d AS (INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, payload)"
     " SELECT s.id, e.event_id, e.event_type, e.payload FROM e"
     " JOIN person_clients p ON p.person_key = e.person_key"
     " JOIN webhook_subscriptions s ON s.client = p.client"
     " WHERE s.deleted_at IS NULL AND e.event_type = ANY (s.events) ORDER BY e.n"
     " ON CONFLICT DO NOTHING)"
     " INSERT INTO partner_events_pending (event_id, person_key, event_type, payload)"
     " SELECT e.event_id, e.person_key, e.event_type, e.payload FROM e"
     " WHERE NOT EXISTS (SELECT 1 FROM person_clients WHERE person_key = e.person_key)"
     " ORDER BY e.n ON CONFLICT DO NOTHING",
     4},
    /* the link arrived ($1 person, $2 client): what waited goes to the client's subscriptions */
    {"gateway_pending_deliver",
     "INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, payload)"
     " SELECT s.id, e.event_id, e.event_type, e.payload FROM partner_events_pending e"
     " JOIN webhook_subscriptions s ON s.client = $2"
     " WHERE e.person_key = $1 AND s.deleted_at IS NULL AND e.event_type = ANY (s.events)"
     " ON CONFLICT DO NOTHING",
     2},
    /* gateway_pending_deliver for a run of links: $1 [{k: person key, c: client}] */
    {"gateway_pending_deliver_many",
     "INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, payload)"
     " SELECT s.id, e.event_id, e.event_type, e.payload"
     " FROM jsonb_to_recordset($1::jsonb) AS r(k text, c text)"
     " JOIN partner_events_pending e ON e.person_key = r.k"
     " JOIN webhook_subscriptions s ON s.client = r.c"
     " WHERE s.deleted_at IS NULL AND e.event_type = ANY (s.events)"
     " ON CONFLICT DO NOTHING",
     1},
    {"gateway_pending_prune",
     "DELETE FROM partner_events_pending WHERE received_at < now() - interval '1 hour'", 0},
    /* one delivery per subscription of the client that submitted the application */
    {"gateway_deliveries_add_application",
     "INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, payload)"
     " SELECT s.id, $2, $3, $4 FROM webhook_subscriptions s"
     " JOIN application_clients a ON a.client = s.client"
     " WHERE a.application_id = $1::uuid AND s.deleted_at IS NULL AND $3 = ANY (s.events)"
     " ON CONFLICT DO NOTHING",
     4},
    /*
     * claims due deliveries for a minute (a crash lets them come due again),
     * at most $1 on their way to one client counting those every gateway is
     * sending (sending_until still ahead); a claimed one is being sent for $2
     * seconds at most.  Run in a transaction after
     * gateway_deliveries_claim_lock, so that two gateways' claims never both
     * fill a client's last places.  The due rows are locked first (a
     * materialised CTE: once whatever the plan), a client already at $1 not
     * among them; a deleted subscription's are cancelled, not sent.
     */
    {"gateway_deliveries_claim_lock",
     "SELECT pg_advisory_xact_lock(hashtext('gateway_deliveries_claim'))", 0},
    /*
     * Each client's due deliveries, oldest first, up to its free slots ($1 less
     * what every gateway has on its way to it), taken client by client: one
     * client's backlog never fills a pass and keeps the others' waiting.  A
     * deleted subscription's due deliveries are taken to be cancelled.  At most
     * 100 a pass, the oldest.
     */
    {"gateway_deliveries_claim",
     "WITH busy AS (SELECT s.client, count(*) AS k FROM webhook_deliveries b"
     " JOIN webhook_subscriptions s ON s.id = b.subscription_id"
     " WHERE b.sending_until > now() GROUP BY s.client),"
     " free AS (SELECT c.client, $1::integer - coalesce(busy.k, 0) AS n"
     " FROM (SELECT DISTINCT client FROM webhook_subscriptions WHERE deleted_at IS NULL) c"
     " LEFT JOIN busy ON busy.client = c.client WHERE coalesce(busy.k, 0) < $1::integer),"
     " due AS MATERIALIZED (SELECT t.id, t.next_at, false AS gone FROM free CROSS JOIN LATERAL"
     " (SELECT w.id, w.next_at FROM webhook_deliveries w"
     " JOIN webhook_subscriptions f ON f.id = w.subscription_id"
     " WHERE f.client = free.client AND f.deleted_at IS NULL AND w.status = 'pending'"
     " AND w.next_at <= now() ORDER BY w.next_at LIMIT free.n FOR UPDATE OF w SKIP LOCKED) t"
     " UNION ALL SELECT g.id, g.next_at, true FROM (SELECT w.id, w.next_at"
     " FROM webhook_deliveries w JOIN webhook_subscriptions f ON f.id = w.subscription_id"
     " WHERE f.deleted_at IS NOT NULL AND w.status = 'pending' AND w.next_at <= now()"
     " ORDER BY w.next_at LIMIT 100 FOR UPDATE OF w SKIP LOCKED) g),"
     " taken AS (SELECT id, gone FROM due ORDER BY next_at LIMIT 100)"
     " UPDATE webhook_deliveries d SET next_at = now() + interval '1 minute',"
     " sending_until = CASE WHEN r.gone THEN NULL"
     " ELSE now() + make_interval(secs => $2::double precision) END,"
     " status = CASE WHEN r.gone THEN 'cancelled' ELSE d.status END,"
     " last_error = CASE WHEN r.gone THEN 'subscription deleted' ELSE d.last_error END"
     " FROM taken r, webhook_subscriptions s"
     " WHERE d.id = r.id AND s.id = d.subscription_id"
     " RETURNING d.id, s.client, s.url, d.event_id, d.payload, d.attempts, d.status",
     2},
    {"gateway_delivery_done",
     "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2::integer,"
     " last_error = $3, status = CASE WHEN $2::integer BETWEEN 200 AND 299 THEN 'delivered'"
     " WHEN status = 'cancelled' THEN status"
     " WHEN created_at < now() - interval '24 hours' THEN 'failed' ELSE 'pending' END,"
     " delivered_at = CASE WHEN $2::integer BETWEEN 200 AND 299 THEN now() END,"
     " next_at = now() + make_interval(secs => $4::double precision), sending_until = NULL"
     " WHERE id = $1::bigint",
     4},
    {"gateway_client_revoke",
     "UPDATE api_clients SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", 1},
    /* idempotency keys (routes/idempotency.c) */
    /* a key binds for 24 hours; a claim left running by a crash, until its deadline */
    {"gateway_idem_expire",
     "DELETE FROM idempotency_records WHERE client = $1 AND key = $2"
     " AND (created_at < now() - interval '24 hours' OR (status IS NULL"
     " AND coalesce(claimed_until, created_at + interval '5 minutes') < now()))",
     2},
    /* $4: seconds the claim may run (the upstream timeout and 5 s) */
    {"gateway_idem_claim",
     "INSERT INTO idempotency_records (client, key, request_hash, claimed_until)"
     " VALUES ($1, $2, $3, now() + make_interval(secs => $4::double precision))"
     " ON CONFLICT (client, key) DO NOTHING RETURNING 1",
     4},
    {"gateway_idem_get",
     "SELECT request_hash, status, coalesce(content_type, ''), coalesce(location, ''),"
     " coalesce(body, '') FROM idempotency_records WHERE client = $1 AND key = $2",
     2},
    {"gateway_idem_done",
     "UPDATE idempotency_records SET status = $3::integer, content_type = $4, location = $5,"
     " body = $6 WHERE client = $1 AND key = $2",
     6},
    {"gateway_idem_purge",
     "DELETE FROM idempotency_records WHERE created_at < now() - interval '24 hours'"
     " OR (status IS NULL AND coalesce(claimed_until, created_at + interval '5 minutes')"
     " < now())",
     0},
    {"gateway_idem_release",
     "DELETE FROM idempotency_records WHERE client = $1 AND key = $2 AND status IS NULL", 2},
    {NULL, NULL, 0},
};

int gateway_store_client_get(db_conn *conn, const char *id, gateway_client *out, hc_err *err)
{
	const char *params[1] = {id};
	db_res *res = NULL;
	int rc;

	rc = db_run(conn, "gateway_client_get", 1, params, &res, err);
	if (rc != 0)
		return rc;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return hc_err_set(err, HC_ERR_NOT_FOUND, "no client %s", id);
	}
	snprintf(out->role, sizeof(out->role), "%s", db_res_get(res, 0, 0));
	snprintf(out->county, sizeof(out->county), "%s", db_res_get(res, 0, 1));
	snprintf(out->key_hash, sizeof(out->key_hash), "%s", db_res_get(res, 0, 2));
	out->revoked = strcmp(db_res_get(res, 0, 3), "t") == 0;
	out->quota_rate = strtol(db_res_get(res, 0, 4), NULL, 10);
	out->quota_burst = strtol(db_res_get(res, 0, 5), NULL, 10);
	db_res_free(res);
	return 0;
}

int gateway_store_client_add(db_conn *conn, const char *id, const char *role, const char *county,
                             const char *key_hash, hc_err *err)
{
	const char *params[4] = {id, role, county, key_hash};

	return db_run(conn, "gateway_client_add", 4, params, NULL, err);
}

int gateway_store_client_quota(db_conn *conn, const char *id, long rate, long burst, hc_err *err)
{
	char r[24], b[24];
	const char *params[3] = {id, r, b};
	db_res *res = NULL;
	int rc;

	snprintf(r, sizeof(r), "%ld", rate);
	snprintf(b, sizeof(b), "%ld", burst);
	rc = db_run(conn, "gateway_client_quota", 3, params, &res, err);
	if (rc != 0)
		return rc;
	rc = db_res_affected(res) == 1 ? 0 : hc_err_set(err, HC_ERR_NOT_FOUND, "no client %s", id);
	db_res_free(res);
	return rc;
}

int gateway_store_client_revoke(db_conn *conn, const char *id, hc_err *err)
{
	const char *params[1] = {id};
	db_res *res = NULL;
	int rc;

	rc = db_run(conn, "gateway_client_revoke", 1, params, &res, err);
	if (rc != 0)
		return rc;
	rc = db_res_affected(res) == 1
	         ? 0
	         : hc_err_set(err, HC_ERR_NOT_FOUND, "no active client %s", id);
	db_res_free(res);
	return rc;
}
