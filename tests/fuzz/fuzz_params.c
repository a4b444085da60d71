/*
 * fuzz_params.c - the HTTP API parameter parsers (node/params.h) on
 * arbitrary bytes: the query values of a put and the path of a get.
 * The input is split at its first 0xff byte: name (or hops), then hops
 * (or no_anonymity).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/params.h"

#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, 0xff, size);
	size_t n1 = sep ? (size_t)(sep - data) : size;
	char *a = strndup((const char *)data, n1);
	char *b = sep ? strndup((const char *)sep + 1, size - n1 - 1) : NULL;
	char out[64];
	struct put_params pp;
	struct uri u;
	const char *why;
	size_t n;
	int hops;

	if (a == NULL)
		abort();
	if (params_parse_put(a, b, &pp, &why) == 0 &&
	    (pp.hops < 0 || pp.hops > PARAMS_HOPS_MAX ||
	    strlen(pp.name) > URI_NAME_MAX))
		abort();
	if (params_parse_hops(a, &hops) == 0 && (hops < 0 || hops > 8 ||
	    (params_check_hops(hops, b, &why) == 0) != (hops > 0 ||
	    (b != NULL && strcmp(b, "1") == 0))))
		abort();
	if (params_decode(a, strlen(a), out, sizeof(out), &n) == 0 &&
	    (n >= sizeof(out) || out[n] != '\0'))
		abort();
	(void)params_parse_get(a, &u, &why);
	free(a);
	free(b);
	return 0;
}
