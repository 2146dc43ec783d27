/*
 * QR images of tokens: libqrencode for the symbol (alphanumeric mode, which
 * the base45 alphabet and the prefix fit, error correction Q), and a small
 * PNG writer of our own (1-bit grayscale, deflate "stored" blocks, so no
 * compression library is needed) or an SVG path.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "common/token/token.h"
#include "common/token/token_internal.h"

#define QUIET_ZONE 4 /* modules of white border, as the standard asks */

/*
 * A token (the prefix and base45) is all in the alphanumeric set, so it is
 * given to libqrencode as one alphanumeric segment: libqrencode's splitter
 * takes a little longer to pick modes and, for about 1 token in 40, picks a
 * mix that needs a larger symbol.  Other text goes through the splitter.
 */
static QRcode *encode(const char *text)
{
	QRinput *in = QRinput_new2(0, QR_ECLEVEL_Q);
	QRcode *q = NULL;

	if (in != NULL &&
	    QRinput_append(in, QR_MODE_AN, (int)strlen(text), (const unsigned char *)text) == 0)
		q = qr_encode(in);
	QRinput_free(in);
	if (q != NULL)
		return q;
	return QRcode_encodeString(text, 0, QR_ECLEVEL_Q, QR_MODE_8, 1);
}

/* CRC-32 (PNG's, ISO 3309) eight bytes at a step: crc_table[k][b] is byte b followed by k zeros */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	uint32_t c;
	int n, k;

	for (n = 0; n < 256; n++) {
		c = (uint32_t)n;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[0][n] = c;
	}
	for (n = 0; n < 256; n++)
		for (k = 1; k < 8; k++)
			crc_table[k][n] =
			    crc_table[0][crc_table[k - 1][n] & 0xff] ^ (crc_table[k - 1][n] >> 8);
}

static unsigned long crc(const unsigned char *buf, size_t len)
{
	uint32_t c = 0xffffffffu;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint32_t lo = c ^ ((uint32_t)buf[i] | (uint32_t)buf[i + 1] << 8 |
		                   (uint32_t)buf[i + 2] << 16 | (uint32_t)buf[i + 3] << 24);

		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][buf[i + 4]] ^ crc_table[2][buf[i + 5]] ^ crc_table[1][buf[i + 6]] ^
		    crc_table[0][buf[i + 7]];
	}
	for (; i < len; i++)
		c = crc_table[0][(c ^ buf[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

typedef struct outbuf {
	unsigned char *p;
	size_t len, cap;
} outbuf;

static void put(outbuf *o, const void *data, size_t n)
{
	if (n == 0)
		return;
	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2;
		o->p = realloc(o->p, o->cap);
		if (o->p == NULL)
			abort();
	}
	memcpy(o->p + o->len, data, n);
	o->len += n;
}

static void put32(outbuf *o, unsigned long v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 8), (unsigned char)v};

	put(o, b, 4);
}

/* One PNG chunk: length, type, data, CRC over type and data. */
static void chunk(outbuf *o, const char *type, const unsigned char *data, size_t n)
{
	size_t start;

	put32(o, (unsigned long)n);
	start = o->len;
	put(o, type, 4);
	put(o, data, n);
	put32(o, crc(o->p + start, n + 4));
}

int token_qr_png(const char *text, int scale, unsigned char **out, size_t *len)
{
	QRcode *q = encode(text);
	outbuf png = {0}, z = {0};
	unsigned char *raw;
	size_t size, row, rawlen, i;
	unsigned long a = 1, b = 0; /* adler-32 */
	int mx, my;

	if (q == NULL)
		return -1;
	pthread_once(&crc_once, crc_init);
	size = (size_t)(q->width + 2 * QUIET_ZONE) * (size_t)scale;
	row = 1 + (size + 7) / 8; /* filter byte + 1 bit per pixel */
	rawlen = row * size;
	raw = malloc(rawlen);
	if (raw == NULL)
		abort();
	/* one row of pixels per row of modules, repeated scale times; 1 is white */
	for (my = 0; my < q->width + 2 * QUIET_ZONE; my++) {
		unsigned char *r = raw + (size_t)my * (size_t)scale * row;
		int k;

		r[0] = 0; /* filter: none */
		memset(r + 1, 0xff, row - 1);
		if (size % 8 != 0) /* the last byte's bits past the width are 0 */
			r[row - 1] = (unsigned char)(0xff << (8 - size % 8));
		if (my >= QUIET_ZONE && my < q->width + QUIET_ZONE) {
			const unsigned char *m =
			    q->data + (size_t)(my - QUIET_ZONE) * (size_t)q->width;

			for (mx = 0; mx < q->width; mx++)
				for (k = 0; (m[mx] & 1) && k < scale; k++) {
					size_t x =
					    (size_t)(mx + QUIET_ZONE) * (size_t)scale + (size_t)k;

					r[1 + x / 8] &= (unsigned char)~(0x80 >> (x % 8));
				}
		}
		for (k = 1; k < scale; k++)
			memcpy(r + (size_t)k * row, r, row);
	}
	QRcode_free(q);
	/* zlib stream of stored deflate blocks */
	put(&z, "\x78\x01", 2);
	for (i = 0; i < rawlen || rawlen == 0; i += 65535) {
		size_t n = rawlen - i < 65535 ? rawlen - i : 65535;
		unsigned char h[5] = {(unsigned char)(i + n >= rawlen), (unsigned char)(n & 0xff),
		                      (unsigned char)(n >> 8), (unsigned char)(~n & 0xff),
		                      (unsigned char)((~n >> 8) & 0xff)};

		put(&z, h, 5);
		put(&z, raw + i, n);
		if (rawlen == 0)
			break;
	}
	for (i = 0; i < rawlen;) { /* the sums cannot overflow within 5552 bytes (zlib's NMAX) */
		size_t end = rawlen - i < 5552 ? rawlen : i + 5552;

		for (; i < end; i++) {
			a += raw[i];
			b += a;
		}
		a %= 65521;
		b %= 65521;
	}
	put32(&z, (b << 16) | a);
	free(raw);
	put(&png, "\x89PNG\r\n\x1a\n", 8);
	{
		unsigned char ihdr[13] = {(unsigned char)(size >> 24),
		                          (unsigned char)(size >> 16),
		                          (unsigned char)(size >> 8),
		                          (unsigned char)size,
		                          (unsigned char)(size >> 24),
		                          (unsigned char)(size >> 16),
		                          (unsigned char)(size >> 8),
		                          (unsigned char)size,
		                          1, /* bit depth */
		                          0, /* grayscale */
		                          0,
		                          0,
		                          0};

		chunk(&png, "IHDR", ihdr, sizeof(ihdr));
	}
	chunk(&png, "IDAT", z.p, z.len);
	chunk(&png, "IEND", NULL, 0);
	free(z.p);
	*out = png.p;
	*len = png.len;
	return 0;
}

/* Appends n in decimal (0 <= n < 100000). */
static void put_int(outbuf *o, int n)
{
	char d[8];
	int i = (int)sizeof(d);

	do
		d[--i] = (char)('0' + n % 10);
	while ((n /= 10) > 0 && i > 0);
	put(o, d + i, sizeof(d) - (size_t)i);
}

/* "M{x} {y}h{run}v1h-{run}z": a rectangle run modules wide, one high. */
static void put_path(outbuf *o, int x, int y, int run)
{
	put(o, "M", 1);
	put_int(o, x);
	put(o, " ", 1);
	put_int(o, y);
	put(o, "h", 1);
	put_int(o, run);
	put(o, "v1h-", 4);
	put_int(o, run);
	put(o, "z", 1);
}

int token_qr_svg(const char *text, int scale, char **out, size_t *len)
{
	QRcode *q = encode(text);
	outbuf svg = {0};
	char buf[160];
	int x, y, size;

	if (q == NULL)
		return -1;
	size = (q->width + 2 * QUIET_ZONE) * scale;
	snprintf(buf, sizeof(buf),
	         "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	         "viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">",
	         size, size, q->width + 2 * QUIET_ZONE, q->width + 2 * QUIET_ZONE);
	put(&svg, buf, strlen(buf));
	snprintf(buf, sizeof(buf),
	         "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/><path d=\"");
	put(&svg, buf, strlen(buf));
	/* one rectangle per horizontal run of dark modules */
	for (y = 0; y < q->width; y++)
		for (x = 0; x < q->width; x++) {
			const unsigned char *row = q->data + y * q->width;
			int run = 0;

			while (x + run < q->width && (row[x + run] & 1))
				run++;
			if (run == 0)
				continue;
			put_path(&svg, x + QUIET_ZONE, y + QUIET_ZONE, run);
			x += run;
		}
	put(&svg, "\" fill=\"#000\"/></svg>", strlen("\" fill=\"#000\"/></svg>") + 1);
	QRcode_free(q);
	*out = (char *)svg.p;
	*len = svg.len - 1; /* the text, without its terminating NUL */
	return 0;
}
