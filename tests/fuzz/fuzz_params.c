/*
 * fuzz_params.c - the HTTP API parameter parsers (node/params.h) on
 * arbitrary bytes: every function of node/params.c.
 *
 * The input is split at its first 0xff byte into a and b (b absent, NULL,
 * if there is none); each stops at its first NUL, as a query value does.
 *   params_decode(a) into buffers of 64 bytes, of exactly the decoded
 *       length + 1 and of one byte less;
 *   params_parse_hops(a), then params_check_hops(hops, no_anonymity b);
 *   params_parse_put(name a, hops b);
 *   params_parse_get(a), the path of GET /api/v1/get/ and GET /CHK@.
 * Invariants (abort() if broken): each agrees with a reference written
 * from params.h: decode is '+' to space and %XX (either case) to the
 * byte, refusing a bad escape or a decoded NUL, and succeeds exactly when
 * the result and its NUL fit; hops is absent (the default, 3) or 1 or 2
 * digits of 0..8; hops 0 passes the check only with no_anonymity "1";
 * put holds the decoded name (empty when absent or empty) and fails
 * exactly when hops or the name is bad (uri_name_check()), then with a
 * reason and an empty name; get is uri_parse() of the whole path, with
 * its reason on failure.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/params.h"

#include "tests/fuzz/fuzz.h"

/* The reference decoder: *n bytes into out (room for the input length
 * + 1 always suffices), or false. */
static bool
ref_decode(const char *in, char *out, size_t *n)
{
	size_t k = 0, len = strlen(in);
	int hi, lo;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '%') {
			if (len - i < 3)
				return false;
			hi = uri_hex_digit(in[i + 1]);
			lo = uri_hex_digit(in[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		out[k++] = c;
	}
	out[k] = '\0';
	*n = k;
	return true;
}

static void
check_decode(const char *a, const char *ref, bool ref_ok, size_t ref_n)
{
	size_t caps[3] = { 64, ref_n + 1, ref_n }, n = 0;
	char *out = malloc(ref_n + 1 > 64 ? ref_n + 1 : 64);
	int rc;

	if (out == NULL)
		abort();
	for (int i = 0; i < 3; i++) {
		rc = params_decode(a, strlen(a), out, caps[i], &n);
		if ((rc != 0 && rc != -1) ||
		    (rc == 0) != (ref_ok && ref_n + 1 <= caps[i]))
			abort();
		if (rc == 0 && (n != ref_n || memcmp(out, ref, n + 1) != 0))
			abort();
	}
	free(out);
}

/* The reference for hops: -1 if refused. */
static int
ref_hops(const char *s)
{
	size_t n;

	if (s == NULL)
		return PARAMS_HOPS_DEFAULT;
	n = strlen(s);
	if (n < 1 || n > 2 || s[0] < '0' || s[0] > '9' ||
	    (n == 2 && (s[1] < '0' || s[1] > '9')))
		return -1;
	n = n == 1 ? (size_t)(s[0] - '0') :
	    (size_t)(s[0] - '0') * 10 + (size_t)(s[1] - '0');
	return n <= PARAMS_HOPS_MAX ? (int)n : -1;
}

static void
check_hops(const char *a, const char *b)
{
	const char *why = NULL;
	int hops = 0, want = ref_hops(a), rc;

	rc = params_parse_hops(a, &hops);
	if ((rc != 0 && rc != -1) || (rc == 0) != (want >= 0) ||
	    (rc == 0 && hops != want))
		abort();
	if (rc != 0)
		return;
	rc = params_check_hops(hops, b, &why);
	if ((rc == 0) != (hops > 0 || (b != NULL && strcmp(b, "1") == 0)) ||
	    (rc != 0 && (rc != -1 || why == NULL)))
		abort();
}

static void
check_put(const char *a, const char *b, const char *ref, bool ref_ok,
    size_t ref_n)
{
	struct put_params pp;
	const char *why = NULL;
	bool name_ok, want;
	int rc;

	name_ok = a[0] == '\0' || (ref_ok && uri_name_check(ref, ref_n) == 0);
	want = ref_hops(b) >= 0 && name_ok;
	memset(&pp, 0xa5, sizeof(pp));
	rc = params_parse_put(a, b, &pp, &why);
	if ((rc != 0 && rc != -1) || (rc == 0) != want)
		abort();
	if (rc != 0) {
		if (why == NULL || pp.name[0] != '\0')
			abort();
		return;
	}
	if (pp.hops != ref_hops(b) ||
	    strcmp(pp.name, a[0] == '\0' ? "" : ref) != 0)
		abort();
	/* An absent name is the empty one. */
	if (b == NULL && (params_parse_put(NULL, NULL, &pp, &why) != 0 ||
	    pp.name[0] != '\0' || pp.hops != PARAMS_HOPS_DEFAULT))
		abort();
}

static void
check_get(const char *a)
{
	struct uri u, v;
	const char *why = NULL;
	int rc, want;

	rc = params_parse_get(a, &u, &why);
	want = uri_parse(&v, a, strlen(a));
	if ((rc == 0) != (want == URI_OK) || (rc != 0 && rc != -1))
		abort();
	if (rc != 0) {
		if (why == NULL || v.why == NULL || strcmp(why, v.why) != 0)
			abort();
		return;
	}
	if (memcmp(&u.root.ref, &v.root.ref, sizeof(u.root.ref)) != 0 ||
	    u.root.codec != v.root.codec || u.root.depth != v.root.depth ||
	    u.root.data_len != v.root.data_len ||
	    u.root.stream_len != v.root.stream_len ||
	    strcmp(u.name, v.name) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, 0xff, size);
	size_t n1 = sep ? (size_t)(sep - data) : size;
	char *a = strndup((const char *)data, n1);
	char *b = sep ? strndup((const char *)sep + 1, size - n1 - 1) : NULL;
	char *ref;
	size_t ref_n = 0;
	bool ref_ok;

	if (a == NULL || (sep != NULL && b == NULL) ||
	    (ref = malloc(strlen(a) + 1)) == NULL)
		abort();
	ref_ok = ref_decode(a, ref, &ref_n);
	check_decode(a, ref, ref_ok, ref_n);
	check_hops(a, b);
	check_put(a, b, ref, ref_ok, ref_n);
	check_get(a);
	free(ref);
	free(a);
	free(b);
	return 0;
}
