/* params.c - see params.h. */
#include <ctype.h>
#include <string.h>

#include "node/params.h"

int
params_decode(const char *in, size_t len, char *out, size_t outlen,
    size_t *outn)
{
	size_t n = 0;
	int hi, lo;
	char c;

	for (size_t i = 0; i < len; i++) {
		c = in[i];
		if (c == '%') {
			if (len - i < 3 || (hi = uri_hex_digit(in[i + 1])) < 0 ||
			    (lo = uri_hex_digit(in[i + 2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == '\0' || n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	if (outlen == 0)
		return -1;
	out[n] = '\0';
	*outn = n;
	return 0;
}

int
params_parse_hops(const char *s, int *hops)
{
	int v = 0;

	if (s == NULL) {
		*hops = PARAMS_HOPS_DEFAULT;
		return 0;
	}
	if (*s == '\0' || strlen(s) > 2)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v > PARAMS_HOPS_MAX)
		return -1;
	*hops = v;
	return 0;
}

int
params_check_hops(int hops, const char *no_anonymity, const char **why)
{
	if (hops != 0 || (no_anonymity != NULL &&
	    strcmp(no_anonymity, "1") == 0))
		return 0;
	*why = "hops=0 sends without an onion path and needs no_anonymity=1";
	return -1;
}

int
params_parse_put(const char *name, const char *hops, struct put_params *out,
    const char **why)
{
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (params_parse_hops(hops, &out->hops) != 0) {
		*why = "hops must be a number from 0 to 8";
		return -1;
	}
	if (name == NULL || name[0] == '\0')
		return 0;
	if (params_decode(name, strlen(name), out->name, sizeof(out->name),
	    &n) != 0 || uri_name_check(out->name, n) != 0) {
		*why = "name must be 1 to 255 bytes, without '/' or control "
		    "characters";
		out->name[0] = '\0';
		return -1;
	}
	return 0;
}

int
params_check_type(char *type)
{
	size_t n = strlen(type);

	for (size_t i = 0; i < n; i++)
		type[i] = (char)tolower((unsigned char)type[i]);
	return n == 0 || chk_type_check(type, n) == 0 ? 0 : -1;
}

int
params_parse_type(const char *type, char out[CHK_TYPE_MAX + 1],
    const char **why)
{
	size_t n = 0;

	out[0] = '\0';
	if (type == NULL || type[0] == '\0')
		return 0;
	if (params_decode(type, strlen(type), out, CHK_TYPE_MAX + 1, &n) == 0 &&
	    n > 0 && params_check_type(out) == 0)
		return 0;
	out[0] = '\0';
	*why = "type must be a media type such as text/html (type/subtype, "
	    "at most 127 characters, no parameters)";
	return -1;
}

/* Reads 1 to 19 decimal digits at *s (so no u64 overflow); -1 if none. */
static int
params_read_u64(const char **s, uint64_t *v)
{
	const char *p = *s;

	*v = 0;
	while (*p >= '0' && *p <= '9' && p - *s < 19)
		*v = *v * 10 + (uint64_t)(*p++ - '0');
	if (p == *s || (*p >= '0' && *p <= '9'))
		return -1;
	*s = p;
	return 0;
}

enum params_range
params_parse_range(const char *h, uint64_t length, uint64_t *first,
    uint64_t *last)
{
	uint64_t a, b;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0)
		return PARAMS_RANGE_NONE;
	h += 6;
	if (*h == '-') {		/* the last N bytes */
		h++;
		if (params_read_u64(&h, &b) != 0 || *h != '\0')
			return PARAMS_RANGE_NONE;
		if (b == 0 || length == 0)
			return PARAMS_RANGE_BAD;
		*first = b < length ? length - b : 0;
		*last = length - 1;
		return PARAMS_RANGE_ONE;
	}
	if (params_read_u64(&h, &a) != 0 || *h++ != '-')
		return PARAMS_RANGE_NONE;
	b = UINT64_MAX;
	if (*h != '\0' && (params_read_u64(&h, &b) != 0 || b < a))
		return PARAMS_RANGE_NONE;
	if (*h != '\0')		/* several ranges, or junk */
		return PARAMS_RANGE_NONE;
	if (a >= length)
		return PARAMS_RANGE_BAD;
	*first = a;
	*last = b < length ? b : length - 1;
	return PARAMS_RANGE_ONE;
}

int
params_parse_get(const char *path, struct uri *u, const char **why)
{
	if (uri_parse(u, path, strlen(path)) != URI_OK) {
		*why = u->why;
		return -1;
	}
	return 0;
}
