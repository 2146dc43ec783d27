/*
 * gateway: the public HTTP API of the platform.  It owns no domain data: it
 * authenticates the client (signature or API key; role, county), checks that the route
 * admits the role, and forwards the request with the client's principal to
 * the internal API of the owning service over kept-alive connections
 * (common/upstream); services enforce object-level scope from the
 * principal.  It keeps the Idempotency-Key records of POSTs
 * (routes/idempotency.c), the clients' quotas and sheds load beyond its
 * workers' share (routes/quota.c), checks signed requests and signs its
 * answers (routes/signed.c), and delivers callbacks to partner apps from
 * the events it consumes (routes/webhooks.c).
 */
#ifndef HC_GATEWAY_APP_H
#define HC_GATEWAY_APP_H

#include <stdatomic.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/base/batcher.h"
#include "common/base/limiter.h"
#include "common/base/rand.h"
#include "common/cache/cache.h"
#include "common/httpsig/httpsig.h"
#include "common/metrics/metrics.h"
#include "common/svc/svc.h"
#include "common/upstream/upstream.h"
#include "services/gateway/domain/auth.h"

typedef struct gateway_config {
	const char *intake_url;      /* HC_INTAKE_URL */
	const char *review_url;      /* HC_REVIEW_URL */
	const char *matching_url;    /* HC_MATCHING_URL */
	const char *certificate_url; /* HC_CERTIFICATE_URL */
	const char *codegen_url;     /* HC_CODEGEN_URL */
	const char *analytics_url;   /* HC_ANALYTICS_URL */
	long timeout_ms;             /* HC_UPSTREAM_TIMEOUT_MS */
	long auth;                   /* HC_GATEWAY_AUTH: 1 requires a signature (or an API key) */
	long api_keys;               /* HC_GATEWAY_API_KEYS: 1 also admits API keys (development) */
	const char *response_key_hex; /* HC_RESPONSE_KEY: hex DER private key signing responses */
	long quota_rate;              /* HC_QUOTA_RATE: a client's requests a second */
	long quota_burst;             /* HC_QUOTA_BURST */
	long quota_sync_ms; /* HC_QUOTA_SYNC_MS: quotas shared with other gateways; 0: not */
	long max_inflight;  /* HC_GATEWAY_MAX_INFLIGHT: requests being forwarded at once */
	long target_ms;     /* HC_GATEWAY_TARGET_MS: admitted requests' mean time, at most */
	long cpu_lag_us;    /* HC_GATEWAY_CPU_LAG_US: the admission probe's lateness, at most */
	long webhook_allow_http;    /* HC_WEBHOOK_ALLOW_HTTP: 1 admits http:// callback URLs */
	long webhook_allow_private; /* HC_WEBHOOK_ALLOW_PRIVATE: 1 lets callbacks reach loopback,
	                               private and link-local addresses */
	long webhook_backoff_ms;    /* HC_WEBHOOK_BACKOFF_MS: the first retry's delay */
	long webhook_timeout_ms;    /* HC_WEBHOOK_TIMEOUT_MS: one delivery's time limit */
	long webhook_max_inflight;  /* HC_WEBHOOK_MAX_INFLIGHT: a client's callbacks at once */
} gateway_config;

struct gateway_app;
struct gateway_principal;

/* One public route: who may call it and which service owns it. */
typedef struct gateway_route {
	const char *method;
	const char *pattern;
	const char *owner; /* the owning service: intake, review, matching, certificate, codegen */
	unsigned roles;    /* enum auth_role bits; 0: public, no key needed */
	const char *county_param; /* path parameter a county system must own, or NULL */
	int priority;             /* code display and verification: served while others are shed */
	/* served by the gateway itself (owner "gateway"), after authentication */
	void (*local)(struct gateway_app *app, http_req *req, const struct gateway_principal *p);
} gateway_route;

/* Token buckets per client (routes/quota.c). */
#define GATEWAY_QUOTA_SLOTS 1024
typedef struct quota_bucket quota_bucket;
typedef struct gateway_quotas {
	pthread_mutex_t mu;
	quota_bucket *slots[GATEWAY_QUOTA_SLOTS];
	/* when the shared rows idle for an hour were last deleted (the sync thread's own) */
	time_t purged;
} gateway_quotas;

/*
 * Clients' public keys, decoded once (routes/signed.c): decoding a DER key
 * costs about as much as verifying a signature with it.  Entries are found
 * by the key's DER itself, so one can never stand for another key; whether
 * a key may still sign is decided before, by authentication's client cache.
 */
#define GATEWAY_KEY_SLOTS 64
typedef struct gateway_keys {
	pthread_mutex_t mu;
	char *der_hex[GATEWAY_KEY_SLOTS];
	EVP_PKEY *key[GATEWAY_KEY_SLOTS];
} gateway_keys;

/* The decoded key of der_hex (EVP_PKEY_free it), or NULL when it is not a key. */
EVP_PKEY *gateway_key_decoded(gateway_keys *keys, const char *der_hex);
void gateway_keys_free(gateway_keys *keys);

/* The nonces of signed requests, claimed in batches by one thread (routes/nonces.c). */
typedef struct gateway_nonces {
	batcher b; /* the claimer thread and its queue (common/base/batcher.h) */
	metric *batches;
	time_t purged; /* when old nonces were last deleted (the claimer's own) */
} gateway_nonces;

typedef struct gateway_app {
	svc svc; /* first: the runtime casts the app to its svc */
	gateway_config cfg;
	const gateway_route *routes; /* parallel to http_routes */
	const http_route *http_routes;
	upstream_loop *upstream;           /* sends forwarded requests (common/upstream) */
	upstream_loop *callbacks_upstream; /* the callbacks' own: public connections, kept */
	cache *clients; /* clients and their keys, as authentication reads them */
	gateway_quotas quotas;
	char instance[HC_UUID_LEN + 1]; /* this process, in the quotas shared by gateways */
	pthread_t quota_sync;           /* shares the quotas every HC_QUOTA_SYNC_MS (quota.c) */
	int quota_sync_running;
	atomic_int quota_sync_stop;
	metric *quota_syncs, *quota_shared;
	gateway_keys keys;
	gateway_nonces nonces;
	long idem_purged;  /* when idempotency records past 24 hours were last purged */
	limiter admission; /* requests being handled, and how many may be (quota.c) */
	pthread_t probe;   /* wakes every 5 ms and tells admission how late (quota.c) */
	int probe_running;
	atomic_int probe_stop;
	metric *shed, *shed_priority, *admission_limit, *cpu_lag;
	EVP_PKEY *response_key; /* signs responses to signed requests; NULL: unsigned */
	char response_keyid[48];
	pthread_t sender; /* webhook deliveries (routes/webhooks.c) */
	int sender_running;
	atomic_int sender_stop;
} gateway_app;

/*
 * Takes one request from the client's bucket (rate and burst <= 0: the
 * defaults) and adds the RateLimit headers.  Returns 0, or replies 429 with
 * Retry-After and returns -1.
 */
int gateway_quota_take(gateway_app *app, http_req *req, const char *client, long rate, long burst);

/*
 * When the client a request names (its keyid or API key's id, not verified
 * yet) has an empty bucket, replies 429 with Retry-After and returns -1;
 * otherwise 0, taking nothing.
 */
int gateway_quota_early(gateway_app *app, http_req *req, const char *client);

/*
 * What a request's headers claim, nothing verified yet (authenticate.c,
 * gateway_claim_read): a signed request's signature headers, parsed once for
 * both the early quota and authentication, and the client its keyid names;
 * or the client an API key names.
 */
typedef struct gateway_claim {
	int is_signed;             /* signature headers present, or API keys off */
	enum httpsig_error parsed; /* signed: what httpsig_parse answered */
	httpsig_params prm;
	unsigned char sig[HTTPSIG_SIG_MAX];
	size_t siglen;
	char client[AUTH_CLIENT_ID_MAX + 1]; /* "": no client named (or a malformed keyid) */
	char kid[48];                        /* signed: the key's id after "client:" */
} gateway_claim;

void gateway_claim_read(const gateway_app *app, http_req *req, gateway_claim *c);

/*
 * gateway_quota_early for the client the request's headers name, if any
 * (authenticate.c).  Runs before admission (gateway_admit): a client past
 * its quota gets its own 429 at once even while the gateway is at capacity,
 * and takes no slot from anyone else.
 */
int gateway_quota_claimed(gateway_app *app, http_req *req, const gateway_claim *c);

/*
 * Admits a request to be forwarded (gateway_release after), or replies 503
 * overloaded with Retry-After and returns -1 when the route's share of the
 * admission limit is taken (an adaptive limit: common/base/limiter.h).
 */
int gateway_admit(gateway_app *app, http_req *req, int priority);
/* Gives back req's admission; its time since arrival adjusts the limit.  Before resuming req. */
void gateway_release(gateway_app *app, const http_req *req);
/* Sets up admission from the configuration and starts its probe (before the server starts). */
int gateway_admission_start(gateway_app *app, hc_err *err);
void gateway_admission_stop(gateway_app *app);
/* Starts sharing the quotas with the other gateways (HC_QUOTA_SYNC_MS > 0), and stops. */
int gateway_quota_sync_start(gateway_app *app, hc_err *err);
void gateway_quota_sync_stop(gateway_app *app);

/* An Idempotency-Key being served (routes/idempotency.c). */
typedef struct gateway_idem {
	int claimed; /* this request is the key's first: store its response */
	char client[41];
	char key[256];
	char hash[65];
} gateway_idem;

/*
 * Before forwarding a POST with an Idempotency-Key: claims the key (returns
 * 0, idem->claimed set), or replies itself (the stored response, 409 or
 * 422) and returns 1.  Without a key, or for other methods: 0, unclaimed.
 */
int gateway_idem_begin(gateway_app *app, http_req *req, const char *client, gateway_idem *idem);

/* After forwarding: stores the response of a claimed key (status 0: no answer). */
void gateway_idem_finish(gateway_app *app, const gateway_idem *idem, long status,
                         const char *content_type, const char *location, const char *body);

/* The internal base URL of the owning service (routes/forward.c). */
const char *gateway_owner_url(const gateway_config *cfg, const char *owner);

/* The one handler of every public route (routes/forward.c). */
void gateway_handle(void *app, http_req *req);

/*
 * GET /openapi.json: the OpenAPI 3.1 document of the public routes
 * (proto/openapi.json, embedded at build), public (routes/openapi.c).
 */
void gateway_get_openapi(void *app, http_req *req);

/* `hc-gateway routes`: one line per route: METHOD PATH OWNER ROLES|public PRIORITY. */
int gateway_print_routes(const gateway_route *routes, size_t n);

/* The principal of an authenticated call. */
typedef struct gateway_principal {
	char client[41];
	char role[16];
	char county[8];                    /* "" unless a county system */
	long quota_rate, quota_burst;      /* the client's own quota; 0: the defaults */
	char nonce[HTTPSIG_NONCE_MAX + 1]; /* a signed request's, not claimed yet; "" otherwise */
} gateway_principal;

/*
 * Authenticates the request (authenticate.c): its signature, or its API
 * key.  Returns 0 and fills p, or replies 401/503 itself and returns
 * non-zero.  A signed request's nonce is not claimed yet: it is in
 * p->nonce, for gateway_nonce_then_proceed.
 */
int gateway_identify(gateway_app *app, http_req *req, const gateway_claim *c, gateway_principal *p);

/* The route's roles and county scope for p: 0, or replies 403 and returns -1. */
int gateway_authorize(http_req *req, const gateway_route *route, const gateway_principal *p);

/*
 * After authentication (and a signed request's nonce): authorization, the
 * quota, the Idempotency-Key, then the local handler or the forward
 * (routes/forward.c).  suspended: req is deferred already, and an answer
 * given here resumes it.  Releases the admission when it answers itself.
 */
void gateway_proceed(gateway_app *app, http_req *req, const gateway_route *route,
                     gateway_principal *p, int suspended);

/* Answered: resumes req when it was suspended, and releases the admission. */
void gateway_done(gateway_app *app, http_req *req, int suspended);

/*
 * Defers a signed request to the nonce claimer (routes/nonces.c): once its
 * nonce is durable it goes on with gateway_proceed; a nonce used before
 * gets 401 signature-replayed; a failed claim 503.
 */
void gateway_nonce_then_proceed(gateway_app *app, http_req *req, const gateway_route *route,
                                const gateway_principal *p);
int gateway_nonces_start(gateway_app *app, hc_err *err);
void gateway_nonces_stop(gateway_app *app);

/* Every answer to req from now on is signed with HC_RESPONSE_KEY (routes/signed.c). */
void gateway_sign_responses(gateway_app *app, http_req *req);

/* `hc-gateway client add ID ROLE [COUNTY]` and `client revoke ID` (admin.c). */
int gateway_admin(int argc, char **argv, const svc_spec *spec, gateway_config *cfg);

/*
 * Signed requests (routes/signed.c): verifies the request's signature
 * (common/httpsig, parsed in c) and fills p from the signing client, its nonce in
 * p->nonce (claimed later: gateway_nonce_then_proceed); or replies 401 with
 * the reason's own problem code and returns -1.
 */
int gateway_signed_authenticate(gateway_app *app, http_req *req, const gateway_claim *c,
                                gateway_principal *p);

/* Loads HC_RESPONSE_KEY (none: responses unsigned, with a warning). */
int gateway_response_key_load(gateway_app *app, hc_err *err);

/* GET /.well-known/hc-response-key: the key that signs responses, public. */
void gateway_get_response_key(void *app, http_req *req);

/*
 * Callbacks (routes/webhooks.c): the subscription routes, the consumer that
 * turns a partner's people's events into deliveries, and the sender thread.
 */
void gateway_post_webhook(gateway_app *app, http_req *req, const gateway_principal *p);
void gateway_get_webhooks(gateway_app *app, http_req *req, const gateway_principal *p);
void gateway_delete_webhook(gateway_app *app, http_req *req, const gateway_principal *p);
int gateway_on_partner_event(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
/* A run of partner events at once, as gateway_on_partner_event on each (bus_route.many). */
int gateway_on_partner_events(void *app, db_conn *tx, const cloudevent *evs, size_t n, hc_err *err);
/* The declaration links a person to its partner; partner events that came first are delivered. */
int gateway_on_declaration_client(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
/* The same for a run of declarations (bus_route.many): two statements for the run. */
int gateway_on_declaration_clients(void *app, db_conn *tx, const cloudevent *evs, size_t n,
                                   hc_err *err);
int gateway_on_application_client(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
int gateway_on_application_decided(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
int gateway_sender_start(gateway_app *app, hc_err *err);
void gateway_sender_stop(gateway_app *app);

#endif
