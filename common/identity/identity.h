/*
 * Who a person or an employer is, without leaking it.
 *
 * - Resident ID numbers (GB 11643-1999): 18 characters, a 6-digit region, a
 *   real birth date, a 3-digit sequence and the ISO 7064 MOD 11-2 check
 *   character ('X' for 10).
 * - Unified social credit codes (GB 32100-2015): 18 characters over a
 *   31-character alphabet (no I, O, S, V, Z), with a mod-31 check character.
 * - The pseudonymous person key: HMAC-SHA256 of the normalised ID number
 *   under a platform secret, as 64 hex characters.  It is the only way other
 *   services, events and logs refer to a person.
 * - Sealing of personal data at rest in intake: AES-256-GCM with a random
 *   96-bit nonce, bound to a context string (the column it belongs in).
 */
#ifndef HC_IDENTITY_IDENTITY_H
#define HC_IDENTITY_IDENTITY_H

#include <stddef.h>

#include "common/base/err.h"

#define RESIDENT_ID_LEN 18
#define CREDIT_CODE_LEN 18
#define PERSON_KEY_LEN  64

/*
 * Validates text as a resident ID number and writes its normalised form
 * (upper-case 'X') into out[19].  Returns 0, or HC_ERR_PERMANENT with err
 * saying which rule failed (never echoing the number).
 */
int resident_id_normalise(const char *text, char out[RESIDENT_ID_LEN + 1], hc_err *err);

/* resident_id_normalise as a field check (common/jspec): 0 or HC_ERR_PERMANENT. */
int resident_id_check(const char *text, hc_err *err);

/* A Chinese mobile number: 11 digits, "1" then 3-9.  0 or HC_ERR_PERMANENT. */
int mobile_phone_check(const char *text, hc_err *err);

/* The check character for the first 17 digits of a resident ID number. */
char resident_id_check_char(const char *first17);

/*
 * Validates a unified social credit code (upper case, as issued).  Returns 0,
 * or HC_ERR_PERMANENT with err saying which rule failed.
 */
int credit_code_validate(const char *text, hc_err *err);

/* The check character for the first 17 characters of a credit code, or 0. */
char credit_code_check_char(const char *first17);

/*
 * A check for free text that leaves intake (employer names, opinions): it
 * refuses a run of 11 or more digits, spaces, hyphens and dots holding at
 * least 11 digits, which is what a phone or resident ID number looks like
 * however it is written.  Returns 0, or HC_ERR_PERMANENT.
 */
int pii_text_check(const char *text, hc_err *err);

/* Writes hex(HMAC-SHA256(secret, normalised_id)) into out[65]. */
/* 1 when s is a person key (64 lowercase hex characters), else 0. */
int person_key_valid(const char *s);

/* person_key_valid as a field check (common/jspec). */
int person_key_check(const char *s, hc_err *err);

void person_key_derive(const unsigned char secret[32], const char *normalised_id,
                       char out[PERSON_KEY_LEN + 1]);

/*
 * Masks a name for display outside intake: its first character (UTF-8 aware)
 * followed by one '*' per remaining character, e.g. "张三丰" -> "张**".
 * Writes into out[cap]; an empty or invalid name gives "*".
 */
void name_mask(const char *name, char *out, size_t cap);

/*
 * Seals plaintext with AES-256-GCM under key, bound to context (associated
 * data).  Returns a new hex string "nonce|ciphertext|tag" to free().
 */
char *pii_seal(const unsigned char key[32], const char *context, const char *plaintext);

/*
 * Opens what pii_seal produced.  Returns a new string to free(), or NULL when
 * the text was altered, sealed under another key or for another context.
 */
char *pii_open(const unsigned char key[32], const char *context, const char *sealed);

#endif
