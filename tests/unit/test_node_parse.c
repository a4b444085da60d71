/*
 * test_node_parse.c - the parsers of node/ that take outside input: API
 * parameters, sizes, HOST:PORT, peers, and the config file.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/config.h"
#include "node/log.h"
#include "node/params.h"
#include "node/util.h"
#include "tests/tap.h"

static void
test_size(void)
{
	static const struct { const char *s; int ok; uint64_t v; } cases[] = {
		{ "0", 1, 0 }, { "1048576", 1, 1048576 }, { "512K", 1, 524288 },
		{ "512k", 1, 524288 }, { "64M", 1, 64ULL << 20 },
		{ "1G", 1, 1ULL << 30 }, { "2T", 1, 2ULL << 40 },
		{ "1GiB", 1, 1ULL << 30 }, { "1GB", 1, 1ULL << 30 },
		{ "100B", 1, 100 }, { "", 0, 0 }, { "G", 0, 0 }, { "-1", 0, 0 },
		{ "+1", 0, 0 }, { " 1", 0, 0 }, { "1 G", 0, 0 }, { "1Q", 0, 0 },
		{ "1GG", 0, 0 }, { "1.5G", 0, 0 }, { "18446744073709551615", 1,
		UINT64_MAX }, { "18446744073709551616", 0, 0 },
		{ "17179869184G", 0, 0 }, { "16777215T", 1, 16777215ULL << 40 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		uint64_t v = 12345;
		int rc = util_parse_size(cases[i].s, &v);

		TAP_OK((rc == 0) == cases[i].ok && (!cases[i].ok ||
		    v == cases[i].v), "size '%s' %s", cases[i].s,
		    cases[i].ok ? "parses" : "is refused");
	}
}

static void
test_hostport(void)
{
	static const struct { const char *s; const char *host; int port; }
	    cases[] = {
		{ "127.0.0.1:0", "127.0.0.1", 0 }, { "localhost:9480",
		"localhost", 9480 }, { "[::1]:80", "::1", 80 },
		{ "0.0.0.0:65535", "0.0.0.0", 65535 }, { "host:65536", NULL, 0 },
		{ "host:", NULL, 0 }, { ":80", NULL, 0 }, { "host", NULL, 0 },
		{ "::1:80", NULL, 0 }, { "[::1]80", NULL, 0 }, { "[::1", NULL, 0 },
		{ "a b:1", NULL, 0 }, { "a/b:1", NULL, 0 }, { "host:8a", NULL, 0 },
		{ "host:-1", NULL, 0 }, { "host:000080", NULL, 0 },
		{ "a#b:1", NULL, 0 },
	};
	char host[UTIL_HOST_MAX], big[600];
	uint16_t port;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int rc = util_parse_hostport(cases[i].s, host, &port);

		TAP_OK(cases[i].host ? rc == 0 && strcmp(host, cases[i].host) ==
		    0 && port == cases[i].port : rc != 0, "host:port '%s'",
		    cases[i].s);
	}
	memset(big, 'a', sizeof(big));
	strcpy(big + 500, ":80");
	TAP_OK(util_parse_hostport(big, host, &port) != 0,
	    "a 500-byte host is refused");
}

static void
test_peer(void)
{
	struct config_peer p;
	const char *key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

	TAP_OK(config_parse_peer(&p, "127.0.0.1:9479") == 0 && !p.pinned &&
	    strcmp(p.addr, "127.0.0.1:9479") == 0, "peer without a key");
	free(p.addr);
	char s[128];
	snprintf(s, sizeof(s), "10.0.0.1:1#%s", key);
	TAP_OK(config_parse_peer(&p, s) == 0 && p.pinned && p.pubkey[0] == 0 &&
	    p.pubkey[31] == 31, "peer with a pinned key");
	free(p.addr);
	snprintf(s, sizeof(s), "10.0.0.1:1#%.42s", key);
	TAP_OK(config_parse_peer(&p, s) != 0, "peer with a short key");
	snprintf(s, sizeof(s), "10.0.0.1:1#%s=", key);
	TAP_OK(config_parse_peer(&p, s) != 0, "peer with a long key");
	TAP_OK(config_parse_peer(&p, "10.0.0.1:0") != 0, "peer port 0");
	TAP_OK(config_parse_peer(&p, "10.0.0.1:1#") != 0, "peer empty key");
}

static void
test_params(void)
{
	struct put_params pp;
	const char *why = NULL;
	char out[16], name[400];
	size_t n;
	int hops;

	TAP_OK(params_decode("a%20b+c%2f", 10, out, sizeof(out), &n) == 0 &&
	    strcmp(out, "a b c/") == 0 && n == 6, "decode %%XX and '+'");
	TAP_OK(params_decode("%00", 3, out, sizeof(out), &n) != 0,
	    "decode refuses NUL");
	TAP_OK(params_decode("%4", 2, out, sizeof(out), &n) != 0 &&
	    params_decode("%G1", 3, out, sizeof(out), &n) != 0 &&
	    params_decode("%", 1, out, sizeof(out), &n) != 0,
	    "decode refuses bad escapes");
	TAP_OK(params_decode("0123456789abcdef", 16, out, sizeof(out), &n) != 0,
	    "decode refuses what does not fit");
	TAP_OK(params_parse_hops(NULL, &hops) == 0 && hops == 3,
	    "hops default 3");
	TAP_OK(params_parse_hops("8", &hops) == 0 && hops == 8, "hops 8");
	TAP_OK(params_parse_hops("0", &hops) == 0 && hops == 0, "hops 0");
	TAP_OK(params_check_hops(0, NULL, &why) != 0 && why != NULL &&
	    params_check_hops(0, "yes", &why) != 0 &&
	    params_check_hops(0, "1", &why) == 0 &&
	    params_check_hops(3, NULL, &why) == 0,
	    "hops 0 only with no_anonymity=1");
	TAP_OK(params_parse_hops("9", &hops) != 0 &&
	    params_parse_hops("", &hops) != 0 &&
	    params_parse_hops("03", &hops) == 0 &&
	    params_parse_hops("100", &hops) != 0 &&
	    params_parse_hops("1x", &hops) != 0 &&
	    params_parse_hops("-1", &hops) != 0, "hops out of range refused");
	TAP_OK(params_parse_put("my%20file.txt", "2", &pp, &why) == 0 &&
	    strcmp(pp.name, "my file.txt") == 0 && pp.hops == 2,
	    "put params decoded");
	TAP_OK(params_parse_put(NULL, NULL, &pp, &why) == 0 &&
	    pp.name[0] == '\0' && pp.hops == 3, "put params absent");
	TAP_OK(params_parse_put("a%2Fb", NULL, &pp, &why) != 0 && why != NULL,
	    "put name with '/' refused");
	TAP_OK(params_parse_put("..", NULL, &pp, &why) != 0, "put name '..'");
	TAP_OK(params_parse_put("a%0Ab", NULL, &pp, &why) != 0,
	    "put name with a newline refused");
	memset(name, 'x', 256);
	name[256] = '\0';
	TAP_OK(params_parse_put(name, NULL, &pp, &why) != 0,
	    "put name of 256 bytes refused");
	name[255] = '\0';
	TAP_OK(params_parse_put(name, NULL, &pp, &why) == 0 &&
	    strlen(pp.name) == 255, "put name of 255 bytes accepted");
	TAP_OK(params_parse_get("nonsense", &(struct uri){ 0 }, &why) != 0 &&
	    why != NULL, "get path that is no URI");
}

static void
test_type(void)
{
	static const char *const bad[] = { "image", "image/", "/png",
	    "image/png;x=1", "image%2F", "image/p%00ng", "image/p%20ng",
	    "image/png+", "%", "image/p+ng/x" };
	char type[CHK_TYPE_MAX + 1], big[3 * (CHK_TYPE_MAX + 1) + 1];
	const char *why = NULL;
	bool ok = true;

	TAP_OK(params_parse_type(NULL, type, &why) == 0 && type[0] == '\0' &&
	    params_parse_type("", type, &why) == 0 && type[0] == '\0',
	    "type absent or empty: none");
	TAP_OK(params_parse_type("Image%2FSVG%2Bxml", type, &why) == 0 &&
	    strcmp(type, "image/svg+xml") == 0,
	    "type %%-decoded and lower-cased: image/svg+xml");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ok &= params_parse_type(bad[i], type, &why) != 0 &&
		    why != NULL && type[0] == '\0';
	}
	TAP_OK(ok, "%zu malformed types refused with a reason",
	    sizeof(bad) / sizeof(bad[0]));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[1] = '/';
	TAP_OK(params_parse_type(big, type, &why) != 0,
	    "a type longer than %d bytes refused", CHK_TYPE_MAX);
}

static void
test_range(void)
{
	static const struct {
		const char *h;
		uint64_t len;
		int rc;
		uint64_t first, last;
	} cases[] = {
		{ NULL, 100, PARAMS_RANGE_NONE, 0, 0 },
		{ "bytes=0-9", 100, PARAMS_RANGE_ONE, 0, 9 },
		{ "bytes=10-", 100, PARAMS_RANGE_ONE, 10, 99 },
		{ "bytes=90-200", 100, PARAMS_RANGE_ONE, 90, 99 },
		{ "bytes=-30", 100, PARAMS_RANGE_ONE, 70, 99 },
		{ "bytes=-300", 100, PARAMS_RANGE_ONE, 0, 99 },
		{ "bytes=99-99", 100, PARAMS_RANGE_ONE, 99, 99 },
		{ "bytes=100-", 100, PARAMS_RANGE_BAD, 0, 0 },
		{ "bytes=100-200", 100, PARAMS_RANGE_BAD, 0, 0 },
		{ "bytes=-0", 100, PARAMS_RANGE_BAD, 0, 0 },
		{ "bytes=0-", 0, PARAMS_RANGE_BAD, 0, 0 },
		{ "bytes=9-1", 100, PARAMS_RANGE_NONE, 0, 0 },
		{ "bytes=0-1,5-6", 100, PARAMS_RANGE_NONE, 0, 0 },
		{ "bytes=", 100, PARAMS_RANGE_NONE, 0, 0 },
		{ "bytes=-", 100, PARAMS_RANGE_NONE, 0, 0 },
		{ "bytes= 1-2", 100, PARAMS_RANGE_NONE, 0, 0 },
		{ "bytes=+1-2", 100, PARAMS_RANGE_NONE, 0, 0 },
		{ "items=0-1", 100, PARAMS_RANGE_NONE, 0, 0 },
		{ "bytes=1-2x", 100, PARAMS_RANGE_NONE, 0, 0 },
		{ "bytes=99999999999999999999-", 100, PARAMS_RANGE_NONE, 0, 0 },
		{ "bytes=0-99999999999999999999", 100, PARAMS_RANGE_NONE, 0, 0 },
		{ "bytes=0-9999999999999999999", 100, PARAMS_RANGE_ONE, 0, 99 },
	};
	uint64_t a, b;
	bool ok;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a = b = 7;
		ok = (int)params_parse_range(cases[i].h, cases[i].len, &a, &b) ==
		    cases[i].rc;
		if (cases[i].rc == PARAMS_RANGE_ONE)
			ok = ok && a == cases[i].first && b == cases[i].last;
		TAP_OK(ok, "Range %s of %llu bytes: %d [%llu, %llu]",
		    cases[i].h ? cases[i].h : "(none)",
		    (unsigned long long)cases[i].len, cases[i].rc,
		    (unsigned long long)cases[i].first,
		    (unsigned long long)cases[i].last);
	}
}

static void
test_config(void)
{
	struct node_config cfg = { 0 };
	char why[256];
	const char *good = "# comment\n\n  datadir = /tmp/x  \nstore-size 8M\n"
	    "peer = 127.0.0.1:1\npeer=127.0.0.1:2 # two\nlog-level = warn\r\n";

	cfg.log_level = -1;
	TAP_OK(config_parse_text(&cfg, good, strlen(good), why,
	    sizeof(why)) == 0 && strcmp(cfg.datadir, "/tmp/x") == 0 &&
	    cfg.store_size == 8ULL << 20 && cfg.npeers == 2 &&
	    cfg.log_level == LOG_WARN, "config file parsed");
	TAP_OK(config_set(&cfg, "store-size", "16M", 1, why, sizeof(why)) ==
	    0 && cfg.store_size == 8ULL << 20, "file values do not override");
	TAP_OK(config_set(&cfg, "store-size", "16M", 0, why, sizeof(why)) ==
	    0 && cfg.store_size == 16ULL << 20, "command line overrides");
	TAP_OK(config_parse_text(&cfg, "bogus = 1\n", 10, why, sizeof(why)) != 0
	    && strstr(why, "line 1") != NULL, "unknown key named with its line");
	TAP_OK(config_parse_text(&cfg, "\n\nstore-size\n", 13, why,
	    sizeof(why)) != 0 && strstr(why, "line 3") != NULL,
	    "key without a value");
	TAP_OK(config_parse_text(&cfg, "store-size = 1K\n", 16, why,
	    sizeof(why)) != 0, "store-size below 1M refused");
	TAP_OK(config_parse_text(&cfg, "api = nowhere\n", 14, why,
	    sizeof(why)) != 0, "bad api address refused");
	TAP_OK(config_parse_text(&cfg, "datadir = a\0b\n", 14, why,
	    sizeof(why)) != 0, "NUL in the file refused");
	char *long_line = malloc(3000);
	memset(long_line, 'a', 3000);
	TAP_OK(config_parse_text(&cfg, long_line, 3000, why, sizeof(why)) != 0,
	    "overlong line refused");
	free(long_line);
	config_free(&cfg);
}

/* announce = HOST[:PORT]: a numeric IP, IPv6 in brackets with a port. */
static void
test_announce(void)
{
	static const struct {
		const char *v;
		int ok;
	} cases[] = {
		{ "198.18.0.5", 1 }, { "198.18.0.5:7000", 1 },
		{ "2001:db8::1", 1 }, { "[2001:db8::1]", 1 },
		{ "[2001:db8::1]:7000", 1 }, { "example.org", 0 },
		{ "example.org:9479", 0 }, { "198.18.0.5:99999", 0 },
		{ "198.18.0.5:", 0 }, { "[]:1", 0 }, { "[198.18.0.5", 0 },
		{ "2001:db8::1]:7000", 0 }, { "1.2.3", 0 },
	};
	struct node_config cfg = { 0 };
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = config_set(&cfg, "announce", cases[i].v, 0, why,
		    sizeof(why));

		TAP_OK(cases[i].ok ? rc == 0 && strcmp(cfg.announce,
		    cases[i].v) == 0 : rc != 0 && strstr(why, "--announce"),
		    "announce = %s: %s", cases[i].v, cases[i].ok ? "taken" :
		    "refused, saying so");
	}
	TAP_OK(config_parse_text(&cfg, "announce = 198.18.0.9\n", 22, why,
	    sizeof(why)) == 0 &&
	    strcmp(cfg.announce, "[2001:db8::1]:7000") == 0,
	    "the file does not override the command line's announce");
	config_free(&cfg);
}

int
main(void)
{
	test_size();
	test_hostport();
	test_peer();
	test_params();
	test_type();
	test_range();
	test_config();
	test_announce();
	return tap_done();
}
