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
 *   params_parse_get(a), the path of GET /api/v1/get/ and GET /CHK@;
 *   params_parse_type(a), the raw type query value;
 *   params_check_type() on a copy of a, a decoded form field;
 *   params_parse_range(Range header a) for documents of 0, 1, 100 and
 *       UINT64_MAX bytes and, if b is present, of the length given by
 *       the first 8 raw bytes after the 0xff (big-endian; fewer bytes, a
 *       smaller number; NULs count).
 * Invariants (abort() if broken): each agrees with a reference written
 * from params.h: decode is '+' to space and %XX (either case) to the
 * byte, refusing a bad escape or a decoded NUL, and succeeds exactly when
 * the result and its NUL fit; hops is absent (the default, 3) or 1 or 2
 * digits of 0..8; hops 0 passes the check only with no_anonymity "1";
 * put holds the decoded name (empty when absent or empty) and fails
 * exactly when hops or the name is bad (uri_name_check()), then with a
 * reason and an empty name; get is uri_parse() of the whole path, with
 * its reason on failure; parse_type takes exactly an absent or empty
 * value (out "") or one that decodes as above to a media type in any
 * case, "type/subtype" with each part an RFC 6838 restricted-name, at
 * most CHK_TYPE_MAX bytes in all, and writes it in lower case, which
 * check_type then leaves as it is; it fails with a reason and out "";
 * check_type takes exactly "" or such a media type, not decoded, and
 * lower-cases it in place; parse_range gives ONE, NONE or BAD exactly as
 * a reference from params.h and RFC 9110 section 14.1.2 does ("bytes="
 * and one range-spec; several, malformed or with a number of more than
 * 19 digits: NONE; first-pos past the end, suffix -0, or an empty
 * document: BAD), and for ONE the same first and last, with first <=
 * last < length.
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

/* ASCII upper case to lower case, in place (what "in any case" means:
 * the other bytes are no media type anyway). */
static void
ref_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* The reference media type (crypto/chk.h): n bytes, 1 to CHK_TYPE_MAX,
 * "type/subtype", each part an RFC 6838 restricted-name in lower case: a
 * letter or digit, then letters, digits and !#$&-^_.+ (no second '/'). */
static bool
ref_media_type(const char *t, size_t n)
{
	static const char head[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	static const char rest[] = "abcdefghijklmnopqrstuvwxyz0123456789"
	    "!#$&-^_.+";
	const char *slash = memchr(t, '/', n);
	size_t k = slash != NULL ? (size_t)(slash - t) : 0;

	if (n > CHK_TYPE_MAX || k == 0 || k + 1 >= n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == k)
			continue;
		if (t[i] == '\0' || strchr(i == 0 || i == k + 1 ? head : rest,
		    t[i]) == NULL)
			return false;
	}
	return true;
}

/* parse_type(a): ref is a decoded (ref_ok: ref_n bytes). */
static void
check_parse_type(const char *a, const char *b, const char *ref, bool ref_ok,
    size_t ref_n)
{
	char out[CHK_TYPE_MAX + 1], again[CHK_TYPE_MAX + 1];
	char *low = strdup(ref_ok ? ref : "");
	const char *why = NULL;
	bool want;
	int rc;

	if (low == NULL)
		abort();
	ref_lower(low);
	want = a[0] == '\0' || (ref_ok && ref_media_type(low, ref_n));
	memset(out, 0xa5, sizeof(out));
	rc = params_parse_type(a, out, &why);
	if ((rc != 0 && rc != -1) || (rc == 0) != want)
		abort();
	if (rc != 0) {
		if (why == NULL || out[0] != '\0')
			abort();
	} else if (strcmp(out, a[0] == '\0' ? "" : low) != 0) {
		abort();
	} else {
		/* Its one spelling: check_type takes it unchanged. */
		memcpy(again, out, sizeof(again));
		if (params_check_type(again) != 0 || strcmp(again, out) != 0)
			abort();
	}
	/* An absent type is none. */
	memset(out, 0xa5, sizeof(out));
	if (b == NULL && (params_parse_type(NULL, out, &why) != 0 ||
	    out[0] != '\0'))
		abort();
	free(low);
}

/* check_type on a copy of a, taken as already decoded. */
static void
check_check_type(const char *a)
{
	char *t = strdup(a), *low = strdup(a);
	size_t n = strlen(a);
	bool want;
	int rc;

	if (t == NULL || low == NULL)
		abort();
	ref_lower(low);
	want = n == 0 || ref_media_type(low, n);
	rc = params_check_type(t);
	if ((rc != 0 && rc != -1) || (rc == 0) != want ||
	    (rc == 0 && strcmp(t, low) != 0))
		abort();
	free(t);
	free(low);
}

/* A number of the reference Range: 1 to 19 decimal digits, so it fits
 * 64 bits; a longer one makes the header malformed (the unit tests hold
 * bytes=0-99999999999999999999 to be NONE). */
static bool
ref_number(const char *s, size_t n, uint64_t *v)
{
	if (n < 1 || n > 19)
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	return true;
}

/* The reference Range parser (params.h, RFC 9110 section 14.1.2):
 * "bytes=", then one range-spec and nothing else (a ',' is several
 * ranges, any other byte malformed: both the whole document). */
static enum params_range
ref_range(const char *h, uint64_t len, uint64_t *first, uint64_t *last)
{
	const char *spec, *dash;
	size_t nx, ny;
	uint64_t x, y = 0;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0)
		return PARAMS_RANGE_NONE;
	spec = h + 6;
	if (spec[strspn(spec, "0123456789-")] != '\0' ||
	    (dash = strchr(spec, '-')) == NULL || strchr(dash + 1, '-') != NULL)
		return PARAMS_RANGE_NONE;
	nx = (size_t)(dash - spec);
	ny = strlen(dash + 1);
	if (nx == 0) {
		/* suffix-range: the last y bytes, all if fewer; none of
		 * -0, nor of an empty document. */
		if (!ref_number(dash + 1, ny, &y))
			return PARAMS_RANGE_NONE;
		if (y == 0 || len == 0)
			return PARAMS_RANGE_BAD;
		*first = y >= len ? 0 : len - y;
		*last = len - 1;
		return PARAMS_RANGE_ONE;
	}
	/* int-range x-[y]: invalid (ignored) if y < x; unsatisfiable if
	 * x is past the end; y past the end is cut to it. */
	if (!ref_number(spec, nx, &x) ||
	    (ny > 0 && (!ref_number(dash + 1, ny, &y) || y < x)))
		return PARAMS_RANGE_NONE;
	if (x >= len)
		return PARAMS_RANGE_BAD;
	*first = x;
	*last = ny == 0 || y >= len ? len - 1 : y;
	return PARAMS_RANGE_ONE;
}

static void
check_range(const char *h, uint64_t len)
{
	uint64_t first = 7, last = 7, rfirst = 0, rlast = 0;
	enum params_range want = ref_range(h, len, &rfirst, &rlast), rc;

	rc = params_parse_range(h, len, &first, &last);
	if (rc != want)
		abort();
	if (rc == PARAMS_RANGE_ONE && (first != rfirst || last != rlast ||
	    first > last || last >= len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t lens[] = { 0, 1, 100, UINT64_MAX };
	const uint8_t *sep = memchr(data, 0xff, size);
	size_t n1 = sep ? (size_t)(sep - data) : size;
	char *a = strndup((const char *)data, n1);
	char *b = sep ? strndup((const char *)sep + 1, size - n1 - 1) : NULL;
	char *ref;
	size_t ref_n = 0;
	uint64_t len = 0;
	bool ref_ok;

	if (a == NULL || (sep != NULL && b == NULL) ||
	    (ref = malloc(strlen(a) + 1)) == NULL)
		abort();
	ref_ok = ref_decode(a, ref, &ref_n);
	check_decode(a, ref, ref_ok, ref_n);
	check_hops(a, b);
	check_put(a, b, ref, ref_ok, ref_n);
	check_get(a);
	check_parse_type(a, b, ref, ref_ok, ref_n);
	check_check_type(a);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		check_range(a, lens[i]);
	if (sep != NULL) {
		for (size_t i = n1 + 1; i < size && i < n1 + 9; i++)
			len = len << 8 | sep[i - n1];
		check_range(a, len);
	} else {
		check_range(NULL, 100);		/* no header: NONE */
	}
	free(ref);
	free(a);
	free(b);
	return 0;
}
