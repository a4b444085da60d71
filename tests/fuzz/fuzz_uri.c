/*
 * fuzz_uri.c - uri_parse() on arbitrary bytes.
 *
 * Invariants: a rejection is URI_EINVAL with a reason; an accepted URI
 * formats, the formatted text parses to the same root and name, and
 * formatting that gives the same text again. The keys part of an
 * accepted input is already canonical, so it equals the formatted one.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/uri.h"
#include "tests/fuzz/fuzz.h"

#define KEYS_LEN (4 + 43 + 1 + 43 + 1 + 26)

static int
same(const struct uri *a, const struct uri *b)
{
	return memcmp(&a->root.ref, &b->root.ref, sizeof(a->root.ref)) == 0 &&
	    a->root.codec == b->root.codec && a->root.depth == b->root.depth &&
	    a->root.data_len == b->root.data_len &&
	    a->root.stream_len == b->root.stream_len &&
	    memcmp(a->name, b->name, sizeof(a->name)) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[URI_MAX_LEN], t[URI_MAX_LEN];
	struct uri u, v;
	size_t n;
	int rc;

	rc = uri_parse(&u, (const char *)data, size);
	if (rc != URI_OK) {
		if (rc != URI_EINVAL || u.why == NULL)
			abort();
		return 0;
	}
	if (size < KEYS_LEN || strlen(u.name) > URI_NAME_MAX)
		abort();
	if (uri_format(&u, s, sizeof(s)) != URI_OK)
		abort();
	n = strlen(s);
	if (n >= URI_MAX_LEN || memcmp(s, data, KEYS_LEN) != 0)
		abort();
	if (uri_parse(&v, s, n) != URI_OK || !same(&u, &v))
		abort();
	if (uri_format(&v, t, sizeof(t)) != URI_OK || strcmp(s, t) != 0)
		abort();
	/* One byte too few is refused, the exact size is not. */
	if (uri_format(&u, t, n) != URI_ESPACE ||
	    uri_format(&u, t, n + 1) != URI_OK)
		abort();
	return 0;
}
