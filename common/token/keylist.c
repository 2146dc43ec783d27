/* The signed key list for offline checkpoint devices; see token.h. */
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/x509.h>

#include "common/token/token.h"
#include "common/token/token_internal.h"

int keylist_sign(const token_key *keys, size_t n, int64_t now, EVP_PKEY *root, unsigned char **out,
                 size_t *len)
{
	cbor_item_t *list = cbor_new_definite_array(n);
	unsigned char *payload = NULL;
	size_t plen, cap = 0, i;
	int rc;

	for (i = 0; i < n; i++) {
		unsigned char *der = NULL;
		cbor_item_t *entry;
		int dlen;

		if (keys[i].revoked || (keys[i].not_after != 0 && keys[i].not_after < now) ||
		    (dlen = i2d_PUBKEY(keys[i].pkey, &der)) <= 0)
			continue;
		entry = cbor_new_definite_array(3);
		if (!cbor_array_push(
		        entry, cbor_move(cbor_build_bytestring(keys[i].kid, TOKEN_KID_LEN))) ||
		    !cbor_array_push(entry, cbor_move(cbor_build_bytestring(der, (size_t)dlen))) ||
		    !cbor_array_push(entry,
		                     cbor_move(cbor_build_uint64((uint64_t)keys[i].not_after))) ||
		    !cbor_array_push(list, cbor_move(entry)))
			abort();
		OPENSSL_free(der);
	}
	plen = cbor_serialize_alloc(list, &payload, &cap);
	cbor_decref(&list);
	rc = plen > 0 ? cose_sign1(payload, plen, root, out, len) : -1;
	free(payload);
	return rc;
}

void keylist_free(token_key *keys, size_t n)
{
	size_t i;

	for (i = 0; keys != NULL && i < n; i++)
		EVP_PKEY_free(keys[i].pkey);
	free(keys);
}

int keylist_verify(const unsigned char *in, size_t len, EVP_PKEY *root, token_key **keys, size_t *n)
{
	token_key anchor = {.pkey = root};
	unsigned char *payload = NULL;
	cbor_item_t *list = NULL;
	size_t plen, i;
	int rc = -1;

	*keys = NULL;
	*n = 0;
	if (token_kid(root, anchor.kid) != 0 ||
	    cose_verify1(in, len, &anchor, 1, 0, &payload, &plen, NULL) != TOKEN_OK)
		return -1;
	list = token_cbor_load(payload, plen);
	if (list == NULL || !cbor_isa_array(list) || !cbor_array_is_definite(list))
		goto out;
	*keys = calloc(cbor_array_size(list) + 1, sizeof(**keys));
	if (*keys == NULL)
		abort();
	for (i = 0; i < cbor_array_size(list); i++) {
		cbor_item_t *e = cbor_array_handle(list)[i], **f;
		const unsigned char *der;

		if (!cbor_isa_array(e) || cbor_array_size(e) != 3)
			goto out;
		f = cbor_array_handle(e);
		if (!cbor_isa_bytestring(f[0]) || cbor_bytestring_length(f[0]) != TOKEN_KID_LEN ||
		    !cbor_isa_bytestring(f[1]) || !cbor_isa_uint(f[2]))
			goto out;
		der = cbor_bytestring_handle(f[1]);
		(*keys)[*n].pkey = d2i_PUBKEY(NULL, &der, (long)cbor_bytestring_length(f[1]));
		if ((*keys)[*n].pkey == NULL)
			goto out;
		memcpy((*keys)[*n].kid, cbor_bytestring_handle(f[0]), TOKEN_KID_LEN);
		(*keys)[*n].not_after = (int64_t)cbor_get_int(f[2]);
		(*n)++;
	}
	rc = 0;
out:
	if (rc != 0) {
		keylist_free(*keys, *n);
		*keys = NULL;
		*n = 0;
	}
	if (list != NULL)
		cbor_decref(&list);
	free(payload);
	return rc;
}
