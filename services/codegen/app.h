/*
 * codegen: the code each person holds.  A new code version is made only
 * when an event arrives that changes it: an assessment (colour, rule,
 * evidence, who decided) or a certificate issued or revoked (a green code
 * with a valid certificate is a return-to-work pass).  Every version keeps
 * its reason; the history is the list of versions.  Checkpoint scans are
 * recorded and published: only a green code and a temperature under
 * 37.3 C pass.
 *
 * The code is shown as a signed token (common/token) in a QR image, each
 * fetch with a fresh token of short life; checkpoints verify tokens online
 * (POST /v1/verifications) or offline against the signed key list.
 */
#ifndef HC_CODEGEN_APP_H
#define HC_CODEGEN_APP_H

#include "common/event/cloudevent.h"
#include "common/metrics/metrics.h"
#include "common/base/batcher.h"
#include "common/svc/svc.h"
#include "services/codegen/keys.h"

typedef struct codegen_config {
	unsigned char code_key_secret[32]; /* HC_CODE_KEY_SECRET: seals signing keys */
	long token_ttl_s;                  /* HC_TOKEN_TTL_S */
	const char *issuer;                /* HC_TOKEN_ISSUER */
} codegen_config;

/*
 * The group-committing writer of online verifications (verify.c): one
 * thread, a bounded queue of deferred requests.
 */
typedef struct verify_job verify_job;
typedef struct verifier {
	batcher b; /* the writer thread and its queue (common/base/batcher.h) */
	svc *svc;
	metric *batches, *verified, *refused, *waiting;
} verifier;
int verifier_start(verifier *v, svc *s, hc_err *err);
/* Answers everything queued, then stops; later verifications are refused (503). */
void verifier_stop(verifier *v);

typedef struct codegen_app {
	svc svc; /* first: the runtime casts the app to its svc */
	codegen_config cfg;
	keyring keys;
	verifier verifier;
} codegen_app;

/* t (Unix seconds) as RFC 3339 UTC, whole seconds. */
void codegen_rfc3339(int64_t t, char out[32]);

#define CODEGEN_EVENT_SOURCE "/hc/codegen"
#define FEVER_CELSIUS        37.3

/* Consumed events (events.c). */
int codegen_on_assessment(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
/* A run of assessments at once, as codegen_on_assessment on each in turn (bus_route.many). */
int codegen_on_assessments(void *app, db_conn *tx, const cloudevent *evs, size_t n, hc_err *err);
int codegen_on_certificate(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);

/* Routes (routes.c; tokens.c). */
void codegen_get_code(void *app, http_req *req);
void codegen_get_history(void *app, http_req *req);
void codegen_post_scan(void *app, http_req *req);
void codegen_get_token(void *app, http_req *req);
void codegen_get_qr_png(void *app, http_req *req);
void codegen_get_qr_svg(void *app, http_req *req);
void codegen_post_verification(void *app, http_req *req);
void codegen_get_jwks(void *app, http_req *req);
void codegen_get_key_list(void *app, http_req *req);

/*
 * A checkpoint scan (routes.c).  codegen_scan_lookup reads the person's
 * current code into code (new reference; NULL without a code) inside tx;
 * codegen_scan_record then decides (passed only for a green code without
 * fever), records and publishes the scan, filling result and reason.
 */
typedef struct codegen_scan {
	http_req *req;
	const char *key, *checkpoint_id;
	double temperature;
	json_t *code;
	const char *result, *reason, *colour;
	char id[37], at[40];
} codegen_scan;
int codegen_scan_lookup(db_conn *tx, codegen_scan *s, hc_err *err);
int codegen_scan_record(db_conn *tx, codegen_scan *s, hc_err *err);
/* Why a scan is refused (no_code, colour_red, colour_yellow, fever), or NULL: it passes. */
const char *codegen_scan_reason(const char *colour, int fever);
/* What a scan's event tells of the code scanned: all NULL when the person has none. */
typedef struct codegen_scanned {
	const char *county_code, *colour, *version; /* version: decimal text */
} codegen_scanned;
/* The data of a scan.recorded event (new reference). */
json_t *codegen_scan_event(const char *scan_id, const char *key, const char *checkpoint_id,
                           const codegen_scanned *code, int fever, const char *result,
                           const char *reason, const char *scanned_at);

#endif
