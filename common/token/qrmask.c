/*
 * The choice of a QR symbol's mask (ISO 18004 7.8), one row or column of
 * modules per 64-bit word.
 *
 * A symbol's data modules are XORed with one of eight patterns, the one
 * whose result has the least penalty (long runs, 2x2 blocks, finder-like
 * patterns, an unbalanced share of dark modules), and the format
 * information names it.  libqrencode draws the symbol eight times, once
 * per mask, and scores each module by module: about 400 us of the 420 it
 * takes for a token (a 61x61 symbol), the largest cost of showing a code.
 * Here the symbol is drawn once (mask 0), unmasked into bit rows and
 * columns, and each mask is applied and scored with word operations
 * (qr_penalty's rules), about 20x less; the image is then the same symbol
 * libqrencode draws for the chosen mask (tests/unit/test_token.c checks
 * every mask, module by module).  Symbols wider than 64 modules, which no
 * token needs, keep libqrencode's own choice.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/token/token_internal.h"

#define W_MAX  64
#define PERIOD 12 /* every mask pattern repeats every 12 modules down and across */

typedef struct lines {
	int w;
	uint64_t raw_rows[W_MAX], raw_cols[W_MAX];   /* the modules unmasked */
	uint64_t data_rows[W_MAX], data_cols[W_MAX]; /* the modules a mask applies to */
} lines;

/* bit x of row_pattern[m][y % PERIOD]: mask m inverts module (x, y); col_pattern by column */
static uint64_t row_pattern[8][PERIOD], col_pattern[8][PERIOD];
static pthread_once_t pattern_once = PTHREAD_ONCE_INIT;

/* ISO 18004 Table 10: mask m inverts the module in row i, column j when this holds. */
static int inverts(int m, int i, int j)
{
	switch (m) {
	case 0: return (i + j) % 2 == 0;
	case 1: return i % 2 == 0;
	case 2: return j % 3 == 0;
	case 3: return (i + j) % 3 == 0;
	case 4: return (i / 2 + j / 3) % 2 == 0;
	case 5: return (i * j) % 2 + (i * j) % 3 == 0;
	case 6: return ((i * j) % 2 + (i * j) % 3) % 2 == 0;
	default: return ((i + j) % 2 + (i * j) % 3) % 2 == 0;
	}
}

static void pattern_init(void)
{
	int m, a, b;

	for (m = 0; m < 8; m++)
		for (a = 0; a < PERIOD; a++)
			for (b = 0; b < W_MAX; b++) {
				if (inverts(m, a, b))
					row_pattern[m][a] |= UINT64_C(1) << b;
				if (inverts(m, b, a))
					col_pattern[m][a] |= UINT64_C(1) << b;
			}
}

/* The 15 format bits of an error correction level and a mask: BCH(15,5), XOR 0x5412. */
static unsigned format_bits(QRecLevel level, int mask)
{
	static const unsigned indicator[4] = {1, 0, 3, 2}; /* L, M, Q, H */
	unsigned data = indicator[level & 3] << 3 | (unsigned)mask, v = data << 10;
	int i;

	for (i = 14; i >= 10; i--) /* the remainder by the generator x^10+x^8+x^5+x^4+x^2+x+1 */
		if (v & 1u << i)
			v ^= 0x537u << (i - 10);
	return (data << 10 | v) ^ 0x5412;
}

/* Where format bit i (0 the lowest) goes, in copy c (0: by the top-left finder). */
static void format_place(int w, int i, int c, int *x, int *y)
{
	if (c == 0) {
		*x = i < 8 ? 8 : i == 8 ? 7 : 14 - i;
		*y = i < 6 ? i : i < 8 ? i + 1 : 8;
	} else {
		*x = i < 8 ? w - 1 - i : 8;
		*y = i < 8 ? 8 : w - 15 + i;
	}
}

static int dark(const QRcode *q, int x, int y)
{
	return q->data[(size_t)y * (size_t)q->width + (size_t)x] & 1;
}

/* The 5 data bits of q's format information: the level's indicator, then the mask (3 bits). */
static unsigned symbol_format(const QRcode *q)
{
	unsigned f = 0;
	int i, x, y;

	for (i = 10; i < 15; i++) {
		format_place(q->width, i, 0, &x, &y);
		f |= (unsigned)dark(q, x, y) << i;
	}
	return (f ^ 0x5412) >> 10 & 31;
}

static void set_bit(uint64_t *v, int bit, int on)
{
	*v = (*v & ~(UINT64_C(1) << bit)) | (uint64_t)on << bit;
}

/* q's modules unmasked into l; -1 when it is wider than 64 modules. */
static int lines_read(lines *l, const QRcode *q)
{
	int m, x, y;

	if (q->width > W_MAX)
		return -1;
	pthread_once(&pattern_once, pattern_init);
	memset(l, 0, sizeof(*l));
	l->w = q->width;
	m = (int)(symbol_format(q) & 7);
	for (y = 0; y < l->w; y++)
		for (x = 0; x < l->w; x++) {
			unsigned char d = q->data[(size_t)y * (size_t)l->w + (size_t)x];
			uint64_t data = !(d & 0x80); /* libqrencode: bit 7 marks function modules */
			uint64_t raw = (d & 1) ^ (data & (row_pattern[m][y % PERIOD] >> x & 1));

			l->raw_rows[y] |= raw << x;
			l->raw_cols[x] |= raw << y;
			l->data_rows[y] |= data << x;
			l->data_cols[x] |= data << y;
		}
	return 0;
}

/* The symbol of l under mask m, with its format information. */
static void lines_mask(const lines *l, QRecLevel level, int m, uint64_t *rows, uint64_t *cols)
{
	unsigned f = format_bits(level, m);
	int i, c, x, y;

	for (i = 0; i < l->w; i++) {
		rows[i] = l->raw_rows[i] ^ (l->data_rows[i] & row_pattern[m][i % PERIOD]);
		cols[i] = l->raw_cols[i] ^ (l->data_cols[i] & col_pattern[m][i % PERIOD]);
	}
	for (i = 0; i < 15; i++)
		for (c = 0; c < 2; c++) {
			format_place(l->w, i, c, &x, &y);
			set_bit(&rows[y], x, f >> i & 1);
			set_bit(&cols[x], y, f >> i & 1);
		}
}

/* Runs of 5 or more alike (3 + 1 per module past 5) and finder-like patterns (40 each). */
static int line_penalty(uint64_t v, uint64_t all)
{
	uint64_t same = ~(v ^ v >> 1) & all >> 1;                    /* x and x + 1 alike */
	uint64_t run5 = same & same >> 1 & same >> 2 & same >> 3;    /* x .. x + 4 alike */
	uint64_t finder = v & ~(v >> 1) & v >> 2 & v >> 3 & v >> 4 & /* dark light dark dark */
	                  ~(v >> 5) & v >> 6 & all >> 6;             /* dark light dark, from x */
	uint64_t before = ~(v << 1 | v << 2 | v << 3 | v << 4);      /* x - 4 .. x - 1 light */
	uint64_t after = ~(v >> 7 | v >> 8 | v >> 9 | v >> 10);      /* x + 7 .. x + 10 light */

	return __builtin_popcountll(run5) + 2 * __builtin_popcountll(run5 & ~(run5 << 1)) +
	       40 * (__builtin_popcountll(finder & before) + __builtin_popcountll(finder & after));
}

static int lines_penalty(const uint64_t *rows, const uint64_t *cols, int w)
{
	uint64_t all = w == 64 ? ~UINT64_C(0) : (UINT64_C(1) << w) - 1;
	int p = 0, blacks = 0, y;

	for (y = 0; y < w; y++) {
		p += line_penalty(rows[y], all) + line_penalty(cols[y], all);
		blacks += __builtin_popcountll(rows[y]);
		if (y + 1 < w) /* 2x2 blocks alike, 3 each */
			p += 3 * __builtin_popcountll(~(rows[y] ^ rows[y] >> 1) &
			                              ~(rows[y + 1] ^ rows[y + 1] >> 1) &
			                              ~(rows[y] ^ rows[y + 1]) & all >> 1);
	}
	/* 10 for each 5% the dark share is away from 50% */
	return p + 10 * (abs(20 * blacks - 10 * w * w) / (w * w));
}

static void lines_write(QRcode *q, const uint64_t *rows)
{
	int x, y;

	for (y = 0; y < q->width; y++)
		for (x = 0; x < q->width; x++) {
			unsigned char *d = &q->data[(size_t)y * (size_t)q->width + (size_t)x];

			*d = (unsigned char)((*d & ~1u) | (rows[y] >> x & 1));
		}
}

static QRecLevel symbol_level(const QRcode *q)
{
	switch (symbol_format(q) >> 3) {
	case 1: return QR_ECLEVEL_L;
	case 0: return QR_ECLEVEL_M;
	case 3: return QR_ECLEVEL_Q;
	default: return QR_ECLEVEL_H;
	}
}

int qr_penalty(const QRcode *q)
{
	uint64_t rows[W_MAX] = {0}, cols[W_MAX] = {0};
	int x, y;

	if (q->width > W_MAX)
		return -1;
	for (y = 0; y < q->width; y++)
		for (x = 0; x < q->width; x++) {
			rows[y] |= (uint64_t)dark(q, x, y) << x;
			cols[x] |= (uint64_t)dark(q, x, y) << y;
		}
	return lines_penalty(rows, cols, q->width);
}

int qr_remask(QRcode *q, int mask)
{
	uint64_t rows[W_MAX], cols[W_MAX];
	lines l;

	if (mask < 0 || mask > 7 || lines_read(&l, q) != 0)
		return -1;
	lines_mask(&l, symbol_level(q), mask, rows, cols);
	lines_write(q, rows);
	return 0;
}

QRcode *qr_encode(QRinput *in)
{
	uint64_t rows[W_MAX], cols[W_MAX], best_rows[W_MAX];
	int m, p, best = -1;
	QRecLevel level;
	lines l;
	QRcode *q = QRcode_encodeMask(in, 0);

	if (q == NULL)
		return NULL;
	if (lines_read(&l, q) != 0) {
		QRcode_free(q);
		return QRcode_encodeMask(in, -1); /* libqrencode chooses */
	}
	level = symbol_level(q);
	for (m = 0; m < 8; m++) {
		lines_mask(&l, level, m, rows, cols);
		p = lines_penalty(rows, cols, l.w);
		if (best < 0 || p < best) {
			best = p;
			memcpy(best_rows, rows, sizeof(rows[0]) * (size_t)l.w);
		}
	}
	lines_write(q, best_rows);
	return q;
}
