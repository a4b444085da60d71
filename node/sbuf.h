/*
 * sbuf.h - a growable byte string for building filter output.
 *
 * Appends never fail in the caller's control flow: the first allocation
 * failure, or growth past the buffer's max, sets err (SBUF_ENOMEM or
 * SBUF_EFULL) and every later append does nothing, so a filter appends
 * freely and checks err once. sbuf_truncate() rolls back to an earlier
 * length, which is how a filter drops an item it has already written when
 * a later token shows the item is not allowed.
 *
 * Ownership: sbuf_init() holds nothing; sbuf_free() frees the data and
 * accepts a buffer that never grew; sbuf_take() hands the data, always
 * NUL-terminated, to the caller (free() it) and leaves the buffer empty.
 */
#ifndef UMBRA_SBUF_H
#define UMBRA_SBUF_H

#include <stddef.h>
#include <stdint.h>

enum sbuf_err { SBUF_OK = 0, SBUF_ENOMEM = -1, SBUF_EFULL = -2 };

struct sbuf {
	char *data;
	size_t len, cap;
	size_t max;		/* bytes the content may reach */
	int err;		/* SBUF_OK until an append fails */
};

void sbuf_init(struct sbuf *b, size_t max);
void sbuf_free(struct sbuf *b);
void sbuf_put(struct sbuf *b, const void *p, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_putc(struct sbuf *b, char c);
/* Appends code point cp (at most 0x10FFFF, not a surrogate) as UTF-8. */
void sbuf_put_utf8(struct sbuf *b, uint32_t cp);
/* Shortens the content to len (no-op if it is not longer). */
void sbuf_truncate(struct sbuf *b, size_t len);
/* 0 and the NUL-terminated data in *out (length *out_len), or err. */
int sbuf_take(struct sbuf *b, char **out, size_t *out_len);

/* Decodes one UTF-8 sequence at s[0..len) (len > 0): returns its code
 * point and sets *used to its length, or returns -1 and sets *used to 1
 * for a byte that does not start a valid sequence (overlong forms,
 * surrogates and values past 0x10FFFF are invalid). */
int32_t sbuf_utf8_decode(const unsigned char *s, size_t len, size_t *used);

#endif
