/* Shared inside common/token only. */
#ifndef HC_TOKEN_INTERNAL_H
#define HC_TOKEN_INTERNAL_H

#include <stddef.h>

#include <cbor.h>
#include <qrencode.h>

/*
 * cbor_load behind a check that every declared length and count fits the
 * input (libcbor 0.8 allocates what a header declares); NULL when the input
 * is not exactly one well-formed, definite-length item.
 */
cbor_item_t *token_cbor_load(const unsigned char *p, size_t n);

/*
 * libqrencode's encoder with a given mask (0-7; -1: its own choice).  It is
 * exported (Debian's symbols file lists it since 3.2.0) but declared only in
 * libqrencode's inner header.
 */
QRcode *QRcode_encodeMask(QRinput *input, int mask);

/* qrmask.c: in's symbol under the mask of least qr_penalty (libqrencode's choice above 64 modules).
 */
QRcode *qr_encode(QRinput *in);
/* The penalty of q as it is (ISO 18004 7.8.3.1); -1 above 64 modules. */
int qr_penalty(const QRcode *q);
/* Rewrites q under another mask (its data modules and format information); -1 above 64 modules. */
int qr_remask(QRcode *q, int mask);

#endif
