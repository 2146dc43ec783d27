/* Shared inside common/token only. */
#ifndef HC_TOKEN_INTERNAL_H
#define HC_TOKEN_INTERNAL_H

#include <stddef.h>

#include <cbor.h>

/*
 * cbor_load behind a check that every declared length and count fits the
 * input (libcbor 0.8 allocates what a header declares); NULL when the input
 * is not exactly one well-formed, definite-length item.
 */
cbor_item_t *token_cbor_load(const unsigned char *p, size_t n);

#endif
