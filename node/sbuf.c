/* sbuf.c - see sbuf.h. */
#include <stdlib.h>
#include <string.h>

#include "node/sbuf.h"

void
sbuf_init(struct sbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
sbuf_free(struct sbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Room for n more bytes and a NUL; sets err on failure. */
static int
sbuf_grow(struct sbuf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (b->err != SBUF_OK)
		return -1;
	if (n > b->max || b->len > b->max - n) {
		b->err = SBUF_EFULL;
		return -1;
	}
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL) {
		b->err = SBUF_ENOMEM;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void
sbuf_put(struct sbuf *b, const void *p, size_t n)
{
	if (n == 0 || sbuf_grow(b, n) != 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_put(b, s, strlen(s));
}

void
sbuf_putc(struct sbuf *b, char c)
{
	if (sbuf_grow(b, 1) != 0)
		return;
	b->data[b->len++] = c;
}

void
sbuf_put_utf8(struct sbuf *b, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	sbuf_put(b, u, n);
}

void
sbuf_truncate(struct sbuf *b, size_t len)
{
	if (len < b->len)
		b->len = len;
}

int
sbuf_take(struct sbuf *b, char **out, size_t *out_len)
{
	if (b->err == SBUF_OK && b->data == NULL)
		(void)sbuf_grow(b, 0);
	if (b->err != SBUF_OK) {
		sbuf_free(b);
		return b->err;
	}
	b->data[b->len] = '\0';
	*out = b->data;
	*out_len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return SBUF_OK;
}

int32_t
sbuf_utf8_decode(const unsigned char *s, size_t len, size_t *used)
{
	uint32_t cp, min;
	size_t n;

	*used = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (len < n)
		return -1;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*used = n;
	return (int32_t)cp;
}
