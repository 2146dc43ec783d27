/*
 * FNV-1a string hashes, for spreading keys over the slots of in-memory
 * tables (quota buckets, decoded keys, the client cache) and for stable
 * fingerprints.  Not for anything an attacker must not predict.
 */
#ifndef HC_BASE_HASH_H
#define HC_BASE_HASH_H

#include <stdint.h>

/* 32-bit FNV-1a of the NUL-terminated s. */
static inline uint32_t hc_fnv1a32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* 64-bit FNV-1a of the NUL-terminated s. */
static inline uint64_t hc_fnv1a64(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

#endif
