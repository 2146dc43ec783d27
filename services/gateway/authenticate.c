/*
 * Authentication and route authorization of the public API; see app.h.
 *
 * A request is signed (RFC 9421, routes/signed.c) or, where API keys are
 * allowed (HC_GATEWAY_API_KEYS=1: local development), carries an API key.
 * Every failure of an API key answers the same 401, whether the client is
 * unknown, revoked or the secret wrong, so the answer tells an attacker
 * nothing; a signature's refusal names its reason (a signer can only learn
 * about its own key).  A role the route does not admit, or a county system
 * acting for another county, is 403.
 */
#include <stdio.h>
#include <string.h>

#include "common/log/log.h"
#include "common/region/region.h"
#include "services/gateway/app.h"
#include "services/gateway/domain/auth.h"
#include "services/gateway/store.h"

static int gateway_unauthenticated(http_req *req, const char *why)
{
	http_reply_header(req, "WWW-Authenticate", "Bearer realm=\"hc\"");
	http_reply_problem(req, PROBLEM_UNAUTHENTICATED, NULL, "%s", why);
	return -1;
}

/* The API key of the Authorization header (local development). */
static int gateway_key_authenticate(gateway_app *app, http_req *req, gateway_principal *p)
{
	char secret[AUTH_SECRET_HEX + 1], hash[65], ckey[CACHE_KEY_MAX];
	gateway_client c;
	db_conn *conn;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	if (auth_key_parse(http_req_header(req, "Authorization"), p->client, secret, &err) != 0)
		return gateway_unauthenticated(req, err.msg);
	snprintf(ckey, sizeof(ckey), "a:%s", p->client);
	if (cache_get(app->clients, ckey, &c, sizeof(c)) == (long)sizeof(c)) {
		rc = 0;
	} else {
		uint64_t gen = cache_generation(app->clients);

		conn = db_pool_take(app->svc.pool);
		rc = gateway_store_client_get(conn, p->client, &c, &err);
		db_pool_give(app->svc.pool, conn);
		if (rc == 0)
			cache_put(app->clients, gen, ckey, &c, sizeof(c));
	}
	if (rc == HC_ERR_TRANSIENT || (rc != 0 && rc != HC_ERR_NOT_FOUND)) {
		http_reply_err(req, &err);
		return -1;
	}
	auth_secret_hash(secret, hash);
	if (rc == HC_ERR_NOT_FOUND || c.revoked || !auth_hash_equal(hash, c.key_hash)) {
		log_info("refused a key for client %s", p->client);
		return gateway_unauthenticated(req, "the API key is not valid");
	}
	snprintf(p->role, sizeof(p->role), "%s", c.role);
	snprintf(p->county, sizeof(p->county), "%s", c.county);
	p->quota_rate = c.quota_rate;
	p->quota_burst = c.quota_burst;
	return 0;
}

/* A signed request: the signature headers decide, or API keys being off. */
static int gateway_signed_request(const gateway_app *app, http_req *req)
{
	return http_req_header(req, "Signature-Input") != NULL ||
	       http_req_header(req, "Signature") != NULL || !app->cfg.api_keys;
}

void gateway_claim_read(const gateway_app *app, http_req *req, gateway_claim *c)
{
	char secret[AUTH_SECRET_HEX + 1];
	const char *colon;
	hc_err err;

	c->is_signed = gateway_signed_request(app, req);
	c->parsed = HTTPSIG_MISSING;
	c->siglen = 0;
	c->client[0] = c->kid[0] = '\0';
	if (!c->is_signed) {
		hc_err_clear(&err);
		if (auth_key_parse(http_req_header(req, "Authorization"), c->client, secret,
		                   &err) != 0)
			c->client[0] = '\0';
		return;
	}
	c->parsed = httpsig_parse(http_req_header(req, "Signature-Input"),
	                          http_req_header(req, "Signature"), HTTPSIG_REQUEST, &c->prm,
	                          c->sig, &c->siglen);
	if (c->parsed != HTTPSIG_OK)
		return;
	/* keyid "client:kid" */
	colon = strchr(c->prm.keyid, ':');
	if (colon == NULL || colon == c->prm.keyid ||
	    (size_t)(colon - c->prm.keyid) > AUTH_CLIENT_ID_MAX || colon[1] == '\0' ||
	    strlen(colon + 1) >= sizeof(c->kid))
		return;
	snprintf(c->client, sizeof(c->client), "%.*s", (int)(colon - c->prm.keyid), c->prm.keyid);
	snprintf(c->kid, sizeof(c->kid), "%s", colon + 1);
}

int gateway_quota_claimed(gateway_app *app, http_req *req, const gateway_claim *c)
{
	if (c->client[0] == '\0')
		return 0; /* authentication says what is wrong */
	return gateway_quota_early(app, req, c->client);
}

int gateway_identify(gateway_app *app, http_req *req, const gateway_claim *c, gateway_principal *p)
{
	memset(p, 0, sizeof(*p));
	if (c->is_signed)
		return gateway_signed_authenticate(app, req, c, p); /* replied unless 0 */
	return gateway_key_authenticate(app, req, p);
}

int gateway_authorize(http_req *req, const gateway_route *route, const gateway_principal *p)
{
	enum auth_role role;

	if (auth_role_parse(p->role, &role) != 0 || (route->roles & (unsigned)role) == 0) {
		http_reply_problem(req, PROBLEM_FORBIDDEN, NULL, "a %s client may not call %s %s",
		                   p->role, route->method, route->pattern);
		return -1;
	}
	if (role == ROLE_COUNTY && route->county_param != NULL) {
		const char *county = http_req_param(req, route->county_param);

		if (!region_within(p->county, county)) {
			http_reply_problem(req, PROBLEM_FORBIDDEN, route->county_param,
			                   "a county system may act only for its own county "
			                   "(a city headquarters for its counties)");
			return -1;
		}
	}
	return 0;
}
