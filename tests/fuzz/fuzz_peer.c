/*
 * fuzz_peer.c - config_parse_peer() (node/config.h) on arbitrary text.
 *
 * It reads HOST:PORT[#PUBKEY] wherever a peer comes from outside the
 * code: each line of DATADIR/peers (node/peers.c peers_load_line(), after
 * it cuts the line at '\r' and skips empty and '#' lines), every --peer
 * and every "peer =" of the config file. The input, up to its first NUL,
 * is one such line.
 *
 * Invariants (abort() if broken): the result is 0 or -1 and agrees with a
 * reference written from util.h and config.h (HOST a name, IPv4 or
 * [IPv6] of 1..255 bytes of printable ASCII without space, '/', '[', ']'
 * or '#'; PORT 1 to 5 digits, 1..65535; PUBKEY exactly 43 characters of
 * URL-safe base64 whose 2 spare bits are zero); a refused peer holds no
 * address; an accepted one holds exactly the text before '#', is pinned
 * exactly when a key was given, and its key encodes back to that text;
 * "addr#key" made from the result parses to the same peer.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/config.h"
#include "node/util.h"

#include "tests/fuzz/fuzz.h"

#define KEY_CHARS 43

static bool
ref_host(const char *s, size_t n)
{
	if (n == 0 || n >= UTIL_HOST_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f ||
		    s[i] == '/' || s[i] == '[' || s[i] == ']' || s[i] == '#')
			return false;
	return true;
}

static bool
ref_port(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* s[0..n): HOST:PORT or [HOST]:PORT, port not 0. */
static bool
ref_addr(const char *s, size_t n)
{
	const char *colon, *close;

	if (n > 0 && s[0] == '[') {
		close = memchr(s, ']', n);
		if (close == NULL || (size_t)(close - s) + 1 >= n ||
		    close[1] != ':')
			return false;
		return ref_host(s + 1, (size_t)(close - s) - 1) &&
		    ref_port(close + 2, n - (size_t)(close - s) - 2);
	}
	colon = memchr(s, ':', n);
	if (colon == NULL ||
	    memchr(colon + 1, ':', n - (size_t)(colon - s) - 1) != NULL)
		return false;
	return ref_host(s, (size_t)(colon - s)) &&
	    ref_port(colon + 1, n - (size_t)(colon - s) - 1);
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

static bool
ref_key(const char *s)
{
	int v = 0;

	if (strlen(s) != KEY_CHARS)
		return false;
	for (size_t i = 0; i < KEY_CHARS; i++)
		if ((v = b64_value(s[i])) < 0)
			return false;
	return (v & 3) == 0;	/* 43 x 6 = 258 bits for 256 */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size), *line;
	char key[KEY_CHARS + 1];
	struct config_peer p, q;
	const char *hash;
	size_t n, len;
	bool want;
	int rc;

	if (s == NULL)
		abort();
	hash = strchr(s, '#');
	n = hash != NULL ? (size_t)(hash - s) : strlen(s);
	want = ref_addr(s, n) && (hash == NULL || ref_key(hash + 1));

	memset(&p, 0xa5, sizeof(p));
	rc = config_parse_peer(&p, s);
	if ((rc != 0 && rc != -1) || (rc == 0) != want)
		abort();
	if (rc != 0) {
		if (p.addr != NULL || p.pinned != 0)
			abort();
		free(s);
		return 0;
	}
	if (p.addr == NULL || strlen(p.addr) != n ||
	    memcmp(p.addr, s, n) != 0 || p.pinned != (hash != NULL))
		abort();
	if (hash == NULL && !sodium_is_zero(p.pubkey, sizeof(p.pubkey)))
		abort();
	sodium_bin2base64(key, sizeof(key), p.pubkey, sizeof(p.pubkey),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (hash != NULL && strcmp(key, hash + 1) != 0)
		abort();

	/* What the node writes back to DATADIR/peers parses to the same. */
	len = n + 1 + KEY_CHARS + 1;
	if ((line = malloc(len)) == NULL)
		abort();
	memcpy(line, p.addr, n);
	line[n] = '#';
	memcpy(line + n + 1, key, KEY_CHARS + 1);
	if (config_parse_peer(&q, line) != 0 || strcmp(q.addr, p.addr) != 0 ||
	    !q.pinned || memcmp(q.pubkey, p.pubkey, sizeof(p.pubkey)) != 0)
		abort();
	free(q.addr);
	free(line);
	free(p.addr);
	free(s);
	return 0;
}
