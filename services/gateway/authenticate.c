/*
 * Authentication and route authorization of the public API; see app.h.
 *
 * Every failure to authenticate answers the same 401, whether the client is
 * unknown, revoked or the secret wrong, so the answer tells an attacker
 * nothing.  A role the route does not admit, or a county system acting for
 * another county, is 403.
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

int gateway_authenticate(gateway_app *app, http_req *req, const gateway_route *route,
                         gateway_principal *p)
{
	char secret[AUTH_SECRET_HEX + 1], hash[65];
	enum auth_role role;
	gateway_client c;
	db_conn *conn;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	memset(p, 0, sizeof(*p));
	if (auth_key_parse(http_req_header(req, "Authorization"), p->client, secret, &err) != 0)
		return gateway_unauthenticated(req, err.msg);
	conn = db_pool_take(app->svc.pool);
	rc = gateway_store_client_get(conn, p->client, &c, &err);
	db_pool_give(app->svc.pool, conn);
	if (rc == HC_ERR_TRANSIENT || (rc != 0 && rc != HC_ERR_NOT_FOUND)) {
		http_reply_err(req, &err);
		return -1;
	}
	auth_secret_hash(secret, hash);
	if (rc == HC_ERR_NOT_FOUND || c.revoked || !auth_hash_equal(hash, c.key_hash)) {
		log_info("refused a key for client %s", p->client);
		return gateway_unauthenticated(req, "the API key is not valid");
	}
	if (auth_role_parse(c.role, &role) != 0 || (route->roles & (unsigned)role) == 0) {
		http_reply_problem(req, PROBLEM_FORBIDDEN, NULL, "a %s client may not call %s %s",
		                   c.role, route->method, route->pattern);
		return -1;
	}
	if (role == ROLE_COUNTY && route->county_param != NULL) {
		const char *county = http_req_param(req, route->county_param);

		if (!region_within(c.county, county)) {
			http_reply_problem(req, PROBLEM_FORBIDDEN, route->county_param,
			                   "a county system may act only for its own county "
			                   "(a city headquarters for its counties)");
			return -1;
		}
	}
	snprintf(p->role, sizeof(p->role), "%s", c.role);
	snprintf(p->county, sizeof(p->county), "%s", c.county);
	p->quota_rate = c.quota_rate;
	p->quota_burst = c.quota_burst;
	return 0;
}
