/*
 * analytics' routes and consumer.
 *
 * GET /v1/analytics/daily?county=&from=&to=&format=json|csv
 *   per county, local day and colour: declarations, check-ins, codes issued,
 *   colour changes, certificates issued and revoked, review decisions (how
 *   many, how many after their deadline, mean hours from submission),
 *   checkpoint scans and refusals.  from/to are dates (YYYY-MM-DD,
 *   inclusive; default the last 31 days), at most 366 days apart.
 *   Figures without a colour (declarations, certificates, reviews) are on
 *   rows whose colour is "".
 *
 * GET /v1/analytics/people/{person_key}/as-of?at=TIME
 *   the code version in force at TIME (RFC 3339 with a zone): colour, rule
 *   and version, evidence, who decided, cause, since when; "colour": null
 *   when the person had no code then.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/db/db.h"
#include "services/analytics/app.h"
#include "services/analytics/projection.h"

/* clang-format off */
const db_stmt analytics_statements[] = {
    {"analytics_daily",
     "SELECT county_code, to_char(day, 'YYYY-MM-DD'), colour,"
     " count(*) FILTER (WHERE metric = 'declaration'),"
     " count(*) FILTER (WHERE metric = 'checkin'),"
     " count(*) FILTER (WHERE metric = 'code_issued'),"
     " count(*) FILTER (WHERE metric = 'colour_change'),"
     " count(*) FILTER (WHERE metric = 'certificate_issued'),"
     " count(*) FILTER (WHERE metric = 'certificate_revoked'),"
     " count(*) FILTER (WHERE metric = 'review_decided'),"
     " count(*) FILTER (WHERE metric = 'review_decided' AND late),"
     " round((avg(seconds) FILTER (WHERE metric = 'review_decided') / 3600)::numeric, 2),"
     " count(*) FILTER (WHERE metric = 'scan'),"
     " count(*) FILTER (WHERE metric = 'scan' AND refused)"
     " FROM facts WHERE ($1::text IS NULL OR county_code = $1)"
     " AND day BETWEEN $2::date AND $3::date"
     " GROUP BY county_code, day, colour ORDER BY county_code, day, colour",
     3},
    {"analytics_range",
     "SELECT to_char(f, 'YYYY-MM-DD'), to_char(t, 'YYYY-MM-DD'), t - f FROM"
     " (SELECT coalesce($1::date, coalesce($2::date, (now() AT TIME ZONE $3)::date) - 30) f,"
     "  coalesce($2::date, (now() AT TIME ZONE $3)::date) t) r",
     3},
    {"analytics_as_of",
     "SELECT coalesce("
     " (SELECT jsonb_build_object('person_key', h.person_key, 'at', $2::text,"
     "  'colour', h.colour, 'pass', h.pass, 'version', h.version, 'rule_id', h.rule_id,"
     "  'rule_version', h.rule_version, 'evidence', h.evidence, 'decided_by', h.decided_by,"
     "  'cause', h.cause, 'changed_at', " DB_RFC3339("h.changed_at") ","
     "  'county_code', h.county_code)"
     "  FROM code_history h WHERE h.person_key = $1 AND h.changed_at <= $2::timestamptz"
     "  ORDER BY h.changed_at DESC, h.version DESC LIMIT 1),"
     " jsonb_build_object('person_key', $1::text, 'at', $2::text, 'colour', NULL,"
     "  'reason', 'no code at that time'))::text",
     2},
    {NULL, NULL, 0},
};
/* clang-format on */

static const char *const columns[] = {
    "county_code",
    "day",
    "colour",
    "declarations",
    "checkins",
    "codes_issued",
    "colour_changes",
    "certificates_issued",
    "certificates_revoked",
    "reviews_decided",
    "reviews_late",
    "review_hours_avg",
    "scans",
    "scans_refused",
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

int analytics_on_event(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	int rc;

	(void)app;
	rc = analytics_facts_apply(tx, ev, err);
	if (rc == 0)
		rc = analytics_codes_apply(tx, ev, err);
	return rc;
}

static int matches(const char *s, const char *pattern)
{
	regex_t re;
	int ok;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

#define DATE_RE "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#define TIME_RE                                                                                  \
	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?(Z|[+-][0-9]{2}:" \
	"[0-9]{2})$"

static const char *date_param(http_req *req, const char *name, int *bad)
{
	const char *v = http_req_query(req, name);

	if (v != NULL && !matches(v, DATE_RE)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, name, "%s must be YYYY-MM-DD",
		                   name);
		*bad = 1;
	}
	return v;
}

/* The CSV of the rows: one header line, then one line per row. */
static void reply_csv(http_req *req, const db_res *res)
{
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);

	if (out == NULL)
		abort();
	for (size_t c = 0; c < NCOLUMNS; c++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", c ? "," : "", columns[c]);
	out[len++] = '\n';
	for (int r = 0; r < db_res_rows(res); r++) {
		for (size_t c = 0; c < NCOLUMNS; c++) {
			const char *v = db_res_get(res, r, (int)c);
			size_t need = len + strlen(v != NULL ? v : "") + 8;

			if (need > cap) {
				cap = need * 2;
				out = realloc(out, cap);
				if (out == NULL)
					abort();
			}
			/* every value is a county code, date, colour or number: no quoting */
			len += (size_t)snprintf(out + len, cap - len, "%s%s", c ? "," : "",
			                        v != NULL ? v : "");
		}
		out[len++] = '\n';
	}
	http_reply_bytes(req, 200, "text/csv; charset=utf-8", out, len);
	free(out);
}

static void reply_json(http_req *req, const db_res *res, const char *from, const char *to)
{
	json_t *rows = json_array();

	for (int r = 0; r < db_res_rows(res); r++) {
		json_t *row = json_object();

		for (size_t c = 0; c < NCOLUMNS; c++) {
			const char *v = db_res_get(res, r, (int)c);

			if (c < 3)
				json_object_set_new(row, columns[c],
				                    json_string(v != NULL ? v : ""));
			else if (v == NULL)
				json_object_set_new(row, columns[c], json_null());
			else if (strchr(v, '.') != NULL)
				json_object_set_new(row, columns[c], json_real(atof(v)));
			else
				json_object_set_new(row, columns[c], json_integer(atoll(v)));
		}
		json_array_append_new(rows, row);
	}
	http_reply_json(req, 200,
	                json_pack("{s:s, s:s, s:o}", "from", from, "to", to, "rows", rows));
}

void analytics_get_daily(void *app_, http_req *req)
{
	analytics_app *app = app_;
	const char *county = http_req_query(req, "county");
	const char *format = http_req_query(req, "format");
	int bad = 0, csv = format != NULL && strcmp(format, "csv") == 0;
	const char *from = date_param(req, "from", &bad), *to;
	char range[2][16];
	long days = 0;
	db_conn *conn;
	db_res *res = NULL;
	hc_err err;
	int rc;

	if (bad)
		return;
	to = date_param(req, "to", &bad);
	if (bad)
		return;
	if (county != NULL && !matches(county, "^[0-9]{6}$")) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "county",
		                   "county must be a six-digit county code");
		return;
	}
	if (format != NULL && !csv && strcmp(format, "json") != 0) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "format",
		                   "format must be json or csv");
		return;
	}
	hc_err_clear(&err);
	conn = db_pool_take(app->svc.pool);
	{
		const char *params[3] = {from, to, app->cfg.tz};

		rc = db_run(conn, "analytics_range", 3, params, &res, &err);
		if (rc == 0) {
			snprintf(range[0], sizeof(range[0]), "%s", db_res_get(res, 0, 0));
			snprintf(range[1], sizeof(range[1]), "%s", db_res_get(res, 0, 1));
			days = atol(db_res_get(res, 0, 2));
		}
		db_res_free(res);
		res = NULL;
	}
	if (rc == 0) {
		const char *params[3] = {county, range[0], range[1]};

		if (days < 0 || days > 366) {
			http_reply_problem(
			    req, PROBLEM_INVALID_PARAMETER, "from",
			    "from must be on or before to, at most 366 days earlier");
			db_pool_give(app->svc.pool, conn);
			return;
		}
		rc = db_run(conn, "analytics_daily", 3, params, &res, &err);
	}
	if (rc != 0)
		http_reply_err(req, &err);
	else if (csv)
		reply_csv(req, res);
	else
		reply_json(req, res, range[0], range[1]);
	db_res_free(res);
	db_pool_give(app->svc.pool, conn);
}

void analytics_get_as_of(void *app_, http_req *req)
{
	analytics_app *app = app_;
	const char *key = svc_http_person_key(req);
	const char *q = http_req_query(req, "at");
	const char *params[2] = {key, NULL};
	char at[64];

	if (key == NULL)
		return;
	/* an unencoded '+' of a zone offset arrives as a space */
	snprintf(at, sizeof(at), "%s", q != NULL ? q : "");
	for (char *c = at; *c != '\0'; c++)
		if (*c == ' ')
			*c = '+';
	params[1] = at;
	if (q == NULL || strlen(q) >= sizeof(at) || !matches(at, TIME_RE)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "at",
		                   "at must be a time with a zone, e.g. 2026-11-27T08:00:00+08:00");
		return;
	}
	svc_http_reply_row(&app->svc, req, "analytics_as_of", 2, params, "person_key", "answer");
}
