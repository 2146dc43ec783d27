/*
 * Unit tests of common/token: base45 against RFC 9285's examples, the
 * COSE_Sign1 CWT round trip, and every way a token is refused, each with
 * its own error: prefix, base45, structure, algorithm, unknown and revoked
 * kid, signature (every single-bit flip), expiry.
 */
#include <openssl/evp.h>

#include "common/token/token.h"
#include "common/token/token_internal.h"
#include "tests/unit/unit.h"

static void b45(const char *in, const char *want)
{
	char *got = base45_encode((const unsigned char *)in, strlen(in));
	unsigned char *back;
	size_t n;

	CHECK_EQ_STR(got, want);
	CHECK(base45_decode(got, strlen(got), &back, &n) == 0);
	CHECK(n == strlen(in) && memcmp(back, in, n) == 0);
	free(back);
	free(got);
}

TEST(base45_rfc9285_examples)
{
	unsigned char *out;
	size_t n;

	b45("AB", "BB8");
	b45("Hello!!", "%69 VD92EX0");
	b45("base-45", "UJCLQE7W581");
	CHECK(base45_decode("QED8WEX0", 8, &out, &n) == 0);
	CHECK(n == 5 && memcmp(out, "ietf!", 5) == 0);
	free(out);
	CHECK(base45_decode("GGW", 3, &out, &n) == -1);  /* 65536: one beyond two bytes */
	CHECK(base45_decode("ABCD", 4, &out, &n) == -1); /* a length of 3n + 1 */
	CHECK(base45_decode("abc", 3, &out, &n) == -1);  /* not in the alphabet */
	CHECK(base45_decode("", 0, &out, &n) == 0 && n == 0);
	free(out);
}

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = token_key_new();

	CHECK(k != NULL);
	return k;
}

static token_claims sample(int64_t now)
{
	token_claims c = {
	    .iat = now, .exp = now + 300, .colour = TOKEN_GREEN, .county = 420102, .version = 7};

	strcpy(c.issuer, "HC");
	memset(c.subject, 0xab, sizeof(c.subject));
	return c;
}

TEST(round_trip_and_size)
{
	EVP_PKEY *k = new_key();
	token_key keys[1] = {{.pkey = k}};
	token_claims c = sample(1700000000), got;
	char *t;

	CHECK(token_kid(k, keys[0].kid) == 0);
	t = token_sign(&c, k);
	CHECK(t != NULL);
	CHECK(strncmp(t, "HC1:", 4) == 0);
	CHECK(strlen(t) < 240);
	CHECK_EQ_INT(token_verify(t, keys, 1, 1700000100, &got, NULL), TOKEN_OK);
	CHECK(memcmp(&got.subject, c.subject, 32) == 0 && got.county == 420102 &&
	      got.version == 7 && got.exp == c.exp && strcmp(got.issuer, "HC") == 0);
	CHECK_EQ_INT(token_verify(t, keys, 1, 1700000300, NULL, NULL), TOKEN_E_EXPIRED);
	free(t);
	/* with the kid given: the same token; a kid the key list does not hold is refused */
	t = token_sign_kid(&c, k, keys[0].kid);
	CHECK(t != NULL);
	CHECK_EQ_INT(token_verify(t, keys, 1, 1700000100, &got, NULL), TOKEN_OK);
	CHECK(got.version == 7 && got.exp == c.exp);
	free(t);
	{
		unsigned char other[TOKEN_KID_LEN];

		memcpy(other, keys[0].kid, TOKEN_KID_LEN);
		other[0] ^= 1;
		t = token_sign_kid(&c, k, other);
		CHECK(t != NULL);
		CHECK_EQ_INT(token_verify(t, keys, 1, 1700000100, NULL, NULL), TOKEN_E_KID_UNKNOWN);
		free(t);
	}
	EVP_PKEY_free(k);
}

TEST(every_single_bit_flip_is_refused)
{
	EVP_PKEY *k = new_key();
	token_key keys[1] = {{.pkey = k}};
	token_claims c = sample(1700000000);
	char *t = token_sign(&c, k), *b;
	unsigned char *bytes;
	size_t n, i, len = strlen(t);
	int bit;

	CHECK(token_kid(k, keys[0].kid) == 0);
	CHECK(base45_decode(t + 4, len - 4, &bytes, &n) == 0);
	for (i = 0; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			char *flipped, *full;

			bytes[i] ^= (unsigned char)(1 << bit);
			flipped = base45_encode(bytes, n);
			full = malloc(strlen(flipped) + 5);
			sprintf(full, "HC1:%s", flipped);
			if (token_verify(full, keys, 1, 1700000001, NULL, NULL) == TOKEN_OK) {
				fprintf(stderr, "    byte %zu bit %d accepted\n", i, bit);
				exit(1);
			}
			free(full);
			free(flipped);
			bytes[i] ^= (unsigned char)(1 << bit);
		}
	/* and every flip of the text's bytes */
	b = strdup(t);
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 7; bit++) {
			b[i] ^= (char)(1 << bit);
			CHECK(token_verify(b, keys, 1, 1700000001, NULL, NULL) != TOKEN_OK);
			b[i] ^= (char)(1 << bit);
		}
	CHECK_EQ_INT(token_verify(b, keys, 1, 1700000001, NULL, NULL), TOKEN_OK);
	free(b);
	free(bytes);
	free(t);
	EVP_PKEY_free(k);
}

TEST(each_refusal_has_its_own_error)
{
	EVP_PKEY *k = new_key(), *other = new_key();
	token_key keys[1] = {{.pkey = k}};
	token_claims c = sample(1700000000);
	char *t = token_sign(&c, k), *forged = token_sign(&c, other), *b;
	unsigned char *bytes;
	size_t n, i;

	CHECK(token_kid(k, keys[0].kid) == 0);
	CHECK_EQ_INT(token_verify("HC2:ABC", keys, 1, 1700000001, NULL, NULL), TOKEN_E_PREFIX);
	CHECK_EQ_INT(token_verify("HC1:abc", keys, 1, 1700000001, NULL, NULL), TOKEN_E_BASE45);
	CHECK_EQ_INT(token_verify("HC1:BB8", keys, 1, 1700000001, NULL, NULL), TOKEN_E_CBOR);
	CHECK_EQ_INT(token_verify(forged, keys, 1, 1700000001, NULL, NULL), TOKEN_E_KID_UNKNOWN);
	keys[0].revoked = 1;
	CHECK_EQ_INT(token_verify(t, keys, 1, 1700000001, NULL, NULL), TOKEN_E_KID_REVOKED);
	keys[0].revoked = 0;
	keys[0].not_after = 1700000000;
	CHECK_EQ_INT(token_verify(t, keys, 1, 1700000001, NULL, NULL), TOKEN_E_KID_UNKNOWN);
	keys[0].not_after = 0;
	/* the algorithm in the protected header: ES256 (-7, 0x26) swapped for EdDSA (-8) */
	CHECK(base45_decode(t + 4, strlen(t) - 4, &bytes, &n) == 0);
	for (i = 0; i + 1 < n && !(bytes[i] == 0x01 && bytes[i + 1] == 0x26); i++)
		;
	CHECK(i + 1 < n);
	bytes[i + 1] = 0x27;
	b = base45_encode(bytes, n);
	{
		char full[TOKEN_MAX];

		snprintf(full, sizeof(full), "HC1:%s", b);
		CHECK_EQ_INT(token_verify(full, keys, 1, 1700000001, NULL, NULL),
		             TOKEN_E_ALGORITHM);
	}
	CHECK_EQ_STR(token_error_code(TOKEN_E_SUPERSEDED), "token-superseded");
	free(b);
	free(bytes);
	free(t);
	free(forged);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

TEST(declared_sizes_must_fit_the_input)
{
	/* COSE_Sign1 whose first item claims 2^32 array elements (found by fuzz_token) */
	static const unsigned char huge[] = {0xd2, 0x84, 0x9a, 0xff, 0xff,
	                                     0xff, 0xff, 0x40, 0xa0, 0x40};
	EVP_PKEY *k = token_key_new();
	token_key keys[1] = {{.pkey = k}};
	char *b = base45_encode(huge, sizeof(huge)), full[64];

	CHECK(token_kid(k, keys[0].kid) == 0);
	snprintf(full, sizeof(full), "HC1:%s", b);
	CHECK_EQ_INT(token_verify(full, keys, 1, 1700000001, NULL, NULL), TOKEN_E_CBOR);
	free(b);
	EVP_PKEY_free(k);
}

/* ISO 18004 7.8.3.1's penalty, module by module: the reference for qr_penalty. */
static int ref_dark(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return 0; /* the quiet zone is light */
	return q->data[y * q->width + x] & 1;
}

static int ref_at(const QRcode *q, int row, int i, int k)
{
	return row ? ref_dark(q, k, i) : ref_dark(q, i, k);
}

static int ref_line(const QRcode *q, int row, int i)
{
	static const int finder[7] = {1, 0, 1, 1, 1, 0, 1};
	int w = q->width, p = 0, run = 1, k, j, before, after, match;

	for (k = 1; k <= w; k++) {
		if (k < w && ref_at(q, row, i, k) == ref_at(q, row, i, k - 1)) {
			run++;
			continue;
		}
		if (run >= 5)
			p += 3 + run - 5;
		run = 1;
	}
	for (k = 0; k + 7 <= w; k++) {
		for (j = 0, match = 1; j < 7; j++)
			match &= ref_at(q, row, i, k + j) == finder[j];
		for (j = 1, before = after = 1; j <= 4; j++) {
			before &= !ref_at(q, row, i, k - j);
			after &= !ref_at(q, row, i, k + 6 + j);
		}
		p += match * 40 * (before + after);
	}
	return p;
}

static int ref_penalty(const QRcode *q)
{
	int w = q->width, p = 0, dark = 0, k = 0, x, y;

	for (y = 0; y < w; y++)
		p += ref_line(q, 1, y) + ref_line(q, 0, y);
	for (y = 0; y < w; y++)
		for (x = 0; x < w; x++) {
			dark += ref_dark(q, x, y);
			if (x + 1 < w && y + 1 < w && ref_dark(q, x, y) == ref_dark(q, x + 1, y) &&
			    ref_dark(q, x, y) == ref_dark(q, x, y + 1) &&
			    ref_dark(q, x, y) == ref_dark(q, x + 1, y + 1))
				p += 3;
		}
	while (abs(100 * dark - 50 * w * w) >= 5 * (k + 1) * w * w)
		k++;
	return p + 10 * k;
}

static QRcode *lib_encode(const char *text, int mask)
{
	QRinput *in = QRinput_new2(0, QR_ECLEVEL_Q);
	QRcode *q;

	CHECK(in != NULL &&
	      QRinput_append(in, QR_MODE_AN, (int)strlen(text), (const unsigned char *)text) == 0);
	q = QRcode_encodeMask(in, mask);
	CHECK(q != NULL);
	QRinput_free(in);
	return q;
}

static int same_symbol(const QRcode *a, const QRcode *b)
{
	return a->width == b->width && a->version == b->version &&
	       memcmp(a->data, b->data, (size_t)a->width * (size_t)a->width) == 0;
}

/*
 * The mask: for texts of every size up to the largest symbol of 64 modules
 * and beyond, each mask's symbol rewritten from another's is libqrencode's
 * own for that mask, byte for byte; qr_penalty agrees with the reference;
 * and qr_encode's symbol is libqrencode's under the first mask of least
 * penalty (its own choice above 64 modules).
 */
TEST(qr_mask_is_the_least_penalty)
{
	static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
	unsigned seed = 20261128;
	int i, m, wide = 0, narrow = 0;

	for (i = 0; i < 300; i++) {
		char text[360];
		size_t n = 1 + (size_t)rand_r(&seed) % (sizeof(text) - 1), k;
		int best = -1, best_mask = -1;
		QRinput *in = QRinput_new2(0, QR_ECLEVEL_Q);
		QRcode *chosen, *want;

		for (k = 0; k < n; k++)
			text[k] = alnum[rand_r(&seed) % (sizeof(alnum) - 1)];
		text[n] = '\0';
		CHECK(QRinput_append(in, QR_MODE_AN, (int)n, (const unsigned char *)text) == 0);
		chosen = qr_encode(in);
		QRinput_free(in);
		CHECK(chosen != NULL);
		if (chosen->width > 64) {
			want = lib_encode(text, -1);
			CHECK(same_symbol(chosen, want));
			CHECK(qr_penalty(chosen) == -1 && qr_remask(chosen, 1) == -1);
			QRcode_free(want);
			QRcode_free(chosen);
			wide++;
			continue;
		}
		for (m = 0; m < 8; m++) {
			QRcode *lib = lib_encode(text, m), *mine = lib_encode(text, (m + 3) % 8);
			int p = ref_penalty(lib);

			CHECK(qr_remask(mine, m) == 0);
			CHECK(same_symbol(mine, lib));
			CHECK_EQ_INT(qr_penalty(lib), p);
			if (best < 0 || p < best) {
				best = p;
				best_mask = m;
			}
			QRcode_free(lib);
			QRcode_free(mine);
		}
		want = lib_encode(text, best_mask);
		CHECK(same_symbol(chosen, want));
		QRcode_free(want);
		QRcode_free(chosen);
		narrow++;
	}
	CHECK(wide > 0 && narrow > 100);
	{
		QRcode *q = lib_encode("HC1:", 0);

		CHECK(qr_remask(q, 8) == -1 && qr_remask(q, -1) == -1); /* no such mask */
		QRcode_free(q);
	}
}

/* CRC-32 one bit at a time: the reference for the PNG writer's table-driven one. */
static unsigned long ref_crc(const unsigned char *p, size_t n)
{
	unsigned long c = 0xffffffffUL;
	size_t i;
	int k;

	for (i = 0; i < n; i++)
		for (c ^= p[i], k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320UL ^ (c >> 1) : c >> 1;
	return c ^ 0xffffffffUL;
}

static unsigned long be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 |
	       p[3];
}

TEST(qr_images)
{
	static const char text[] = "HC1:ABC$%*+-./: 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned char *png, grid[64 * 64] = {0};
	char *svg, *p;
	size_t n, at, chunks = 0;
	int x, y, run, run2, dark = 0;
	QRcode *q = lib_encode(text, -1);
	QRinput *in = QRinput_new2(0, QR_ECLEVEL_Q);

	CHECK(QRinput_append(in, QR_MODE_AN, (int)strlen(text), (const unsigned char *)text) == 0);
	QRcode_free(q);
	q = qr_encode(in); /* the symbol both images draw */
	QRinput_free(in);
	CHECK(q != NULL && q->width <= 64);
	CHECK(token_qr_png(text, 4, &png, &n) == 0);
	CHECK(n > 100 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
	/* every chunk's CRC, over its type and data */
	for (at = 8; at + 12 <= n; at += 12 + be32(png + at), chunks++)
		CHECK_EQ_INT(be32(png + at + 8 + be32(png + at)),
		             ref_crc(png + at + 4, 4 + be32(png + at)));
	CHECK(at == n && chunks == 3 && memcmp(png + n - 8, "IEND", 4) == 0);
	free(png);
	/* the SVG's rectangles cover exactly the symbol's dark modules */
	CHECK(token_qr_svg(text, 4, &svg, &n) == 0);
	CHECK(strncmp(svg, "<svg", 4) == 0 && strstr(svg, "</svg>") != NULL && strlen(svg) == n);
	p = strstr(svg, "d=\"M");
	CHECK(p != NULL);
	for (p = strchr(p, 'M'); p != NULL; p = strchr(p + 1, 'M')) {
		CHECK(sscanf(p, "M%d %dh%dv1h-%dz", &x, &y, &run, &run2) == 4);
		CHECK(run == run2 && run > 0 && y >= 4 && y < q->width + 4 && x >= 4 &&
		      x + run <= q->width + 4);
		for (; run > 0; run--, x++) {
			CHECK(grid[(y - 4) * 64 + (x - 4)] == 0);
			grid[(y - 4) * 64 + (x - 4)] = 1;
		}
	}
	for (y = 0; y < q->width; y++)
		for (x = 0; x < q->width; x++) {
			CHECK_EQ_INT(grid[y * 64 + x], q->data[y * q->width + x] & 1);
			dark += grid[y * 64 + x];
		}
	CHECK(dark > q->width * q->width / 4);
	free(svg);
	QRcode_free(q);
}

UNIT_MAIN(T(base45_rfc9285_examples), T(round_trip_and_size), T(every_single_bit_flip_is_refused),
          T(each_refusal_has_its_own_error), T(declared_sizes_must_fit_the_input), T(qr_images),
          T(qr_mask_is_the_least_penalty))
