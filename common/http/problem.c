/* The registry of HTTP error codes; see problem.h. */
#include "common/http/problem.h"

#include <assert.h>

static const problem_def problems[PROBLEM_COUNT] = {
    [PROBLEM_MALFORMED_JSON] = {"malformed-json", 400, "Request body is not valid JSON"},
    [PROBLEM_VALIDATION_FAILED] = {"validation-failed", 400, "Request body failed validation"},
    [PROBLEM_INVALID_PARAMETER] = {"invalid-parameter", 400,
                                   "A path or query parameter is invalid"},
    [PROBLEM_UNAUTHENTICATED] = {"unauthenticated", 401, "Valid credentials are required"},
    [PROBLEM_FORBIDDEN] = {"forbidden", 403, "The client may not do this"},
    [PROBLEM_NOT_FOUND] = {"not-found", 404, "No such resource"},
    [PROBLEM_METHOD_NOT_ALLOWED] = {"method-not-allowed", 405,
                                    "Method not allowed on this resource"},
    [PROBLEM_CONFLICT] = {"conflict", 409, "The request conflicts with the current state"},
    [PROBLEM_BODY_TOO_LARGE] = {"body-too-large", 413, "Request body is too large"},
    [PROBLEM_UNSUPPORTED_MEDIA_TYPE] = {"unsupported-media-type", 415,
                                        "Request body must be application/json"},
    [PROBLEM_INTERNAL] = {"internal-error", 500, "Internal error"},
    [PROBLEM_UNAVAILABLE] = {"service-unavailable", 503, "Service temporarily unavailable"},
    [PROBLEM_UPSTREAM_TIMEOUT] = {"upstream-timeout", 504,
                                  "The owning service did not answer in time"},
    [PROBLEM_TOKEN_PREFIX] = {"token-prefix", 400, "The token does not start with HC1:"},
    [PROBLEM_TOKEN_BASE45] = {"token-base45", 400, "The token is not base45"},
    [PROBLEM_TOKEN_CBOR] = {"token-cbor", 400, "The token is not a signed code"},
    [PROBLEM_TOKEN_ALGORITHM] = {"token-algorithm", 400, "The token's algorithm is not ES256"},
    [PROBLEM_TOKEN_KID_UNKNOWN] = {"token-kid-unknown", 422, "The token's key is not known"},
    [PROBLEM_TOKEN_KID_REVOKED] = {"token-kid-revoked", 422, "The token's key was revoked"},
    [PROBLEM_TOKEN_SIGNATURE] = {"token-signature", 422, "The token's signature is wrong"},
    [PROBLEM_TOKEN_EXPIRED] = {"token-expired", 422, "The token has expired"},
    [PROBLEM_TOKEN_SUPERSEDED] = {"token-superseded", 422,
                                  "The code changed since the token was issued"},
    [PROBLEM_IDEMPOTENCY_IN_FLIGHT] = {"idempotency-key-in-flight", 409,
                                       "A request with this Idempotency-Key is still running"},
    [PROBLEM_IDEMPOTENCY_REUSED] = {"idempotency-key-reused", 422,
                                    "This Idempotency-Key was used for another request"},
    [PROBLEM_SIGNATURE_MISSING] = {"signature-missing", 401, "The request is not signed"},
    [PROBLEM_SIGNATURE_MALFORMED] = {"signature-malformed", 401,
                                     "The request's signature headers are malformed"},
    [PROBLEM_SIGNATURE_KEY_UNKNOWN] = {"signature-key-unknown", 401,
                                       "The signature's keyid names no active key"},
    [PROBLEM_SIGNATURE_TIMESTAMP] = {"signature-timestamp", 401,
                                     "The signature's created time is more than 300 s off"},
    [PROBLEM_SIGNATURE_DIGEST] = {"signature-digest", 401,
                                  "Content-Digest is missing or not the body's"},
    [PROBLEM_SIGNATURE_INVALID] = {"signature-invalid", 401, "The signature does not verify"},
    [PROBLEM_SIGNATURE_REPLAYED] = {"signature-replayed", 401,
                                    "The signature's nonce was used already"},
    [PROBLEM_RATE_LIMITED] = {"rate-limited", 429, "The client is over its quota"},
    [PROBLEM_OVERLOADED] = {"overloaded", 503, "The gateway is at capacity"},
};

const problem_def *problem_get(enum problem_code code)
{
	assert(code >= 0 && code < PROBLEM_COUNT);
	return &problems[code];
}
