/*
 * The registry of HTTP error codes.  Every error response of the platform is
 * RFC 9457 problem+json whose `code` (and `type`, urn:hc:problem:<code>)
 * comes from this table; clients may rely on codes never changing meaning.
 * docs/API.md lists them.
 */
#ifndef HC_HTTP_PROBLEM_H
#define HC_HTTP_PROBLEM_H

enum problem_code {
	PROBLEM_MALFORMED_JSON,         /* 400 the body is not JSON */
	PROBLEM_VALIDATION_FAILED,      /* 400 a field is missing or wrong; `field` names it */
	PROBLEM_INVALID_PARAMETER,      /* 400 a path or query parameter is wrong */
	PROBLEM_UNAUTHENTICATED,        /* 401 no valid credentials */
	PROBLEM_FORBIDDEN,              /* 403 the client's role may not do this */
	PROBLEM_NOT_FOUND,              /* 404 no such resource or route */
	PROBLEM_METHOD_NOT_ALLOWED,     /* 405 the route exists, not with this method */
	PROBLEM_CONFLICT,               /* 409 the change conflicts with the current state */
	PROBLEM_BODY_TOO_LARGE,         /* 413 the body exceeds the configured cap */
	PROBLEM_UNSUPPORTED_MEDIA_TYPE, /* 415 the body is not application/json */
	PROBLEM_INTERNAL,               /* 500 a bug; the trace id finds the log line */
	PROBLEM_UNAVAILABLE,            /* 503 a dependency is down; retry later */
	PROBLEM_UPSTREAM_TIMEOUT,       /* 504 the owning service did not answer in time */
	/* a code's token refused at verification, one code per reason (common/token) */
	PROBLEM_TOKEN_PREFIX,          /* 400 not "HC1:" */
	PROBLEM_TOKEN_BASE45,          /* 400 not base45 */
	PROBLEM_TOKEN_CBOR,            /* 400 not a COSE_Sign1 CWT */
	PROBLEM_TOKEN_ALGORITHM,       /* 400 not ES256 */
	PROBLEM_TOKEN_KID_UNKNOWN,     /* 422 signed by no key we know (or one past its validity) */
	PROBLEM_TOKEN_KID_REVOKED,     /* 422 signed by a revoked key */
	PROBLEM_TOKEN_SIGNATURE,       /* 422 the signature is wrong */
	PROBLEM_TOKEN_EXPIRED,         /* 422 past its expiry */
	PROBLEM_TOKEN_SUPERSEDED,      /* 422 the code changed since it was issued */
	PROBLEM_IDEMPOTENCY_IN_FLIGHT, /* 409 a request with this Idempotency-Key is still running
	                                */
	PROBLEM_IDEMPOTENCY_REUSED,    /* 422 the Idempotency-Key was used for another request */
	PROBLEM_SIGNATURE_MISSING,     /* 401 no request signature (and no API key allowed) */
	PROBLEM_SIGNATURE_MALFORMED,   /* 401 Signature-Input/Signature not the profile */
	PROBLEM_SIGNATURE_KEY_UNKNOWN, /* 401 keyid names no active key of an active client */
	PROBLEM_SIGNATURE_TIMESTAMP,   /* 401 created more than 300 s from now */
	PROBLEM_SIGNATURE_DIGEST,      /* 401 Content-Digest missing or not the body's */
	PROBLEM_SIGNATURE_INVALID,     /* 401 the signature does not verify */
	PROBLEM_SIGNATURE_REPLAYED,    /* 401 the nonce was used already */
	PROBLEM_RATE_LIMITED,          /* 429 the client is over its quota; Retry-After says when */
	PROBLEM_OVERLOADED,            /* 503 the gateway is at capacity; Retry-After */
	PROBLEM_COUNT
};

typedef struct problem_def {
	const char *code; /* stable, kebab-case */
	int status;
	const char *title; /* fixed per code */
} problem_def;

/* The definition of code (never NULL for a valid code). */
const problem_def *problem_get(enum problem_code code);

#endif
