/*
 * test_uri.c - CHK URI formatting and strict parsing.
 *
 * Every input is handed to uri_parse() in a heap buffer of exactly its
 * length (no terminating NUL), so AddressSanitizer and valgrind catch any
 * read past len.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/uri.h"
#include "tests/tap.h"

#define BS CHK_BLOCK_SIZE
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define KEYS_LEN (4 + 43 + 1 + 43 + 1 + 26)

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Parses s[0..len) from an exact-size heap copy. */
static int
parse(struct uri *u, const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	if (copy == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	memcpy(copy, s, len);
	rc = uri_parse(u, copy, len);
	free(copy);
	return rc;
}

static bool
root_eq(const struct chk_root *a, const struct chk_root *b)
{
	return memcmp(&a->ref, &b->ref, sizeof(a->ref)) == 0 &&
	    a->codec == b->codec && a->depth == b->depth &&
	    a->data_len == b->data_len && a->stream_len == b->stream_len;
}

/* Expects URI_EINVAL with a reason. */
static void
reject(const char *s, size_t len, const char *what)
{
	struct uri u;
	int rc = parse(&u, s, len);

	TAP_OK(rc == URI_EINVAL && u.why != NULL && u.why[0] != '\0',
	    "reject %s (%s)", what, u.why != NULL ? u.why : "no reason");
}

static void
reject_str(const char *s, const char *what)
{
	reject(s, strlen(s), what);
}

/* Writes CHK@<rkey>,<ckey>,<extra> for raw fields. */
static void
build(char *out, const uint8_t rkey[32], const uint8_t ckey[32],
    const uint8_t extra[URI_EXTRA_SIZE])
{
	memcpy(out, "CHK@", 4);
	sodium_bin2base64(out + 4, 44, rkey, 32, B64);
	out[47] = ',';
	sodium_bin2base64(out + 48, 44, ckey, 32, B64);
	out[91] = ',';
	sodium_bin2base64(out + 92, 27, extra, URI_EXTRA_SIZE, B64);
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void
make_extra(uint8_t e[URI_EXTRA_SIZE], int version, int codec, int depth,
    uint64_t data_len, uint64_t stream_len)
{
	e[0] = (uint8_t)version;
	e[1] = (uint8_t)codec;
	e[2] = (uint8_t)depth;
	put64(e + 3, data_len);
	put64(e + 11, stream_len);
}

static void
make_root(struct uri *u, uint8_t seed, int codec, int depth,
    uint64_t data_len, uint64_t stream_len)
{
	memset(u, 0, sizeof(*u));
	for (int i = 0; i < 32; i++) {
		u->root.ref.rkey[i] = (uint8_t)(seed + 7 * i);
		u->root.ref.ckey[i] = (uint8_t)(seed * 3 + 11 * i + 1);
	}
	u->root.codec = (uint8_t)codec;
	u->root.depth = (uint8_t)depth;
	u->root.data_len = data_len;
	u->root.stream_len = stream_len;
}

/* format -> parse -> same root and name -> format -> same text. */
static void
round_trip(const struct uri *u, const char *what, const char *want)
{
	char s1[URI_MAX_LEN], s2[URI_MAX_LEN];
	struct uri p;
	int rc1, rc2 = -99, rc3 = -99;

	rc1 = uri_format(u, s1, sizeof(s1));
	if (rc1 == URI_OK)
		rc2 = parse(&p, s1, strlen(s1));
	if (rc2 == URI_OK)
		rc3 = uri_format(&p, s2, sizeof(s2));
	TAP_OK(rc1 == URI_OK && rc2 == URI_OK && rc3 == URI_OK &&
	    root_eq(&u->root, &p.root) && strcmp(u->name, p.name) == 0 &&
	    strcmp(s1, s2) == 0 && strlen(s1) < URI_MAX_LEN,
	    "round trip %s (%d %d %d)", what, rc1, rc2, rc3);
	if (want != NULL)
		TAP_OK(strcmp(s1, want) == 0, "format %s is %s", what, s1);
}

static void
test_round_trips(void)
{
	static const struct {
		int codec, depth;
		uint64_t data_len, stream_len;
	} roots[] = {
		{ CHK_CODEC_NONE, 0, 0, 0 },
		{ CHK_CODEC_NONE, 0, 13, 13 },
		{ CHK_CODEC_NONE, 0, BS, BS },
		{ CHK_CODEC_NONE, 1, BS + 1, BS + 1 },
		{ CHK_CODEC_ZSTD, 0, 1, 1 },
		{ CHK_CODEC_ZSTD, 0, 1000000, 100 },
		{ CHK_CODEC_ZSTD, 1, 3 * 1024 * 1024, 752294 },
		{ CHK_CODEC_ZSTD, 4, CHK_MAX_STREAM, CHK_MAX_STREAM },
		{ CHK_CODEC_ZSTD, 0, 0, 9 },	/* an empty frame is 9 bytes */
		{ CHK_CODEC_NONE, 2, (uint64_t)513 * BS, (uint64_t)513 * BS },
		{ CHK_CODEC_NONE, 4, CHK_MAX_STREAM, CHK_MAX_STREAM },
	};
	static const char *const names[] = { "", "readme.txt", "a",
	    "Hello World.txt", "100%", "caf\xc3\xa9.txt", "q?a#b", "x~y-z_w.v",
	    "...", "!$&'()*+,;=:@", "\xff\xfe", "tab\x7e" };
	char what[64];
	struct uri u;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			make_root(&u, (uint8_t)(i * 13 + k), roots[i].codec,
			    roots[i].depth, roots[i].data_len,
			    roots[i].stream_len);
			strcpy(u.name, names[k]);
			if (k > 3 && i % 3 != 0)
				continue;	/* every name on some roots */
			snprintf(what, sizeof(what), "root %zu name %zu", i, k);
			round_trip(&u, what, NULL);
		}
	}

	/* The canonical escapes. */
	make_root(&u, 1, CHK_CODEC_NONE, 0, 13, 13);
	strcpy(u.name, "a b%c/d\xc3\xa9#?~.-_Z9");
	{
		char s[URI_MAX_LEN];
		struct uri p;

		TAP_OK(uri_format(&u, s, sizeof(s)) == URI_OK &&
		    strcmp(s + KEYS_LEN, "/a%20b%25c%2Fd%C3%A9%23%3F~.-_Z9") ==
		    0, "format escapes all but unreserved, upper-case hex: %s",
		    s + KEYS_LEN);
		TAP_OK(parse(&p, s, strlen(s)) == URI_EINVAL,
		    "a name holding '/' is formatted but does not parse back");
	}
	strcpy(u.name, "a b%c\xc3\xa9#?~.-_Z9");
	round_trip(&u, "name with space, %, UTF-8, #, ?",
	    NULL);
	strcpy(u.name, "!$&'()*+,;=:@");
	round_trip(&u, "pchar name", NULL);

	/* The longest name: 255 bytes, all escaped. */
	memset(u.name, '\x80', URI_NAME_MAX);
	u.name[URI_NAME_MAX] = '\0';
	{
		char s[URI_MAX_LEN];

		TAP_OK(uri_format(&u, s, sizeof(s)) == URI_OK &&
		    strlen(s) == URI_MAX_LEN - 1,
		    "255-byte escaped name fills URI_MAX_LEN exactly");
		round_trip(&u, "255 escaped bytes", NULL);
	}
	memset(u.name, 'n', URI_NAME_MAX);
	round_trip(&u, "255 plain bytes", NULL);
}

static void
test_lenient_input(void)
{
	char s[URI_MAX_LEN + 100], again[URI_MAX_LEN];
	struct uri u, p;
	size_t n;

	make_root(&u, 9, CHK_CODEC_ZSTD, 1, 5000000, 100000);
	TAP_OK(uri_format(&u, s, sizeof(s)) == URI_OK, "base URI formats");
	n = strlen(s);

	/* Lower-case escapes parse; format writes upper case. */
	strcpy(s + n, "/caf%c3%a9%2e%7e");
	TAP_OK(parse(&p, s, strlen(s)) == URI_OK &&
	    strcmp(p.name, "caf\xc3\xa9.~") == 0,
	    "lower-case %%-escapes accepted");
	TAP_OK(uri_format(&p, again, sizeof(again)) == URI_OK &&
	    strcmp(again + n, "/caf%C3%A9.~") == 0,
	    "format is canonical: %s", again + n);
	strcpy(s + n, "/caf%C3%A9.~");
	TAP_OK(parse(&p, s, strlen(s)) == URI_OK &&
	    uri_format(&p, again, sizeof(again)) == URI_OK &&
	    strcmp(again, s) == 0, "format(parse(s)) == s for canonical s");

	/* The literal pchar set parses; format escapes it. */
	strcpy(s + n, "/a!$&'()*+,;=:@b");
	TAP_OK(parse(&p, s, strlen(s)) == URI_OK &&
	    strcmp(p.name, "a!$&'()*+,;=:@b") == 0,
	    "literal pchar set accepted in the name");
	TAP_OK(uri_format(&p, again, sizeof(again)) == URI_OK &&
	    strcmp(again + n, "/a%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40b") ==
	    0, "format escapes the pchar set: %s", again + n);
	strcpy(s + n, "/%41%42");
	TAP_OK(parse(&p, s, strlen(s)) == URI_OK &&
	    strcmp(p.name, "AB") == 0 &&
	    uri_format(&p, again, sizeof(again)) == URI_OK &&
	    strcmp(again + n, "/AB") == 0,
	    "escaped unreserved letters are formatted literally");
	strcpy(s + n, "/...");
	TAP_OK(parse(&p, s, strlen(s)) == URI_OK && strcmp(p.name, "...") == 0,
	    "name \"...\" is fine");
	strcpy(s + n, "/.a");
	TAP_OK(parse(&p, s, strlen(s)) == URI_OK, "name \".a\" is fine");

	/* parse reads exactly len bytes. */
	strcpy(s + n, "/name.txt");
	TAP_OK(parse(&p, s, n) == URI_OK && p.name[0] == '\0',
	    "len stops before the name: no name");
	TAP_OK(parse(&p, s, n + 2) == URI_OK && strcmp(p.name, "n") == 0,
	    "len covers one name byte");
	s[n] = '\0';
	TAP_OK(parse(&p, s, n) == URI_OK && p.why == NULL,
	    "success leaves why NULL");
}

static void
test_hostile(void)
{
	char base[URI_MAX_LEN], s[URI_MAX_LEN + 400];
	uint8_t rk[32], ck[32], ex[URI_EXTRA_SIZE];
	struct uri u;
	size_t n;

	make_root(&u, 3, CHK_CODEC_NONE, 1, BS + 1, BS + 1);
	memcpy(rk, u.root.ref.rkey, 32);
	memcpy(ck, u.root.ref.ckey, 32);
	TAP_OK(uri_format(&u, base, sizeof(base)) == URI_OK &&
	    strlen(base) == KEYS_LEN, "hostile: base URI");
	n = strlen(base);

	reject("", 0, "empty input");
	TAP_OK(uri_parse(&u, NULL, 0) == URI_EINVAL && u.why != NULL,
	    "reject NULL with length 0");
	make_root(&u, 3, CHK_CODEC_NONE, 1, BS + 1, BS + 1);
	reject_str("CHK@", "\"CHK@\"");
	reject_str("CHK", "\"CHK\"");
	strcpy(s, base);
	memcpy(s, "chk@", 4);
	reject_str(s, "lower-case chk@");
	memcpy(s, "SSK@", 4);
	reject_str(s, "SSK@");
	memcpy(s, "CHK:", 4);
	reject_str(s, "CHK:");
	s[0] = ' ';
	memcpy(s + 1, base, n + 1);
	reject_str(s, "leading space");

	/* Every proper prefix of a valid URI. */
	{
		bool all = true;
		struct uri p;

		for (size_t l = 0; l < n; l++)
			if (parse(&p, base, l) != URI_EINVAL || p.why == NULL)
				all = false;
		TAP_OK(all, "reject every truncation (0..%zu chars)", n - 1);
	}

	/* 42- and 44-character keys. */
	strcpy(s, base);
	memmove(s + 46, s + 47, n - 46);
	reject_str(s, "42-char rkey");
	strcpy(s, base);
	memmove(s + 48, s + 47, n - 46);
	s[47] = 'A';
	reject_str(s, "44-char rkey");
	strcpy(s, base);
	memmove(s + 90, s + 91, n - 90);
	reject_str(s, "42-char ckey");
	strcpy(s, base);
	memmove(s + 92, s + 91, n - 90);
	s[91] = 'A';
	reject_str(s, "44-char ckey");
	strcpy(s, base);
	memmove(s + 47, s + 46, n - 45);
	s[47] = '=';
	reject_str(s, "rkey with '=' padding");
	strcpy(s, base);
	strcat(s, "A");
	reject_str(s, "27-char extra");
	strcpy(s, base);
	s[n - 1] = '\0';
	reject_str(s, "25-char extra");

	/* Non-canonical base64: the last character of each field carries
	 * unused low bits (2 for a key, 4 for the extra field); setting one
	 * gives the same bytes in another spelling. */
	{
		static const size_t last[] = { 46, 90, 117 };
		static const char *const field[] = { "rkey", "ckey", "extra" };

		for (int f = 0; f < 3; f++) {
			for (int bit = 1; bit <= (f == 2 ? 8 : 2); bit <<= 1) {
				const char *c;
				char what[80];

				strcpy(s, base);
				c = strchr(b64chars, s[last[f]]);
				s[last[f]] = b64chars[(c - b64chars) ^ bit];
				snprintf(what, sizeof(what), "non-canonical %s "
				    "(last char %c -> %c)", field[f],
				    base[last[f]], s[last[f]]);
				reject_str(s, what);
			}
		}
	}
	/* The same with the key bytes chosen so the last char is 'A'. */
	memset(rk, 0, 32);
	make_extra(ex, 1, CHK_CODEC_NONE, 0, 5, 5);
	build(s, rk, ck, ex);
	TAP_OK(s[46] == 'A' && parse(&u, s, KEYS_LEN) == URI_OK,
	    "zero rkey ends in 'A' and parses");
	s[46] = 'B';
	reject(s, KEYS_LEN, "zero rkey ending in 'B' (same bytes)");
	s[46] = 'D';
	reject(s, KEYS_LEN, "zero rkey ending in 'D' (same bytes)");
	memcpy(rk, u.root.ref.rkey, 32);

	/* Characters outside the URL-safe alphabet. */
	static const char bad_chars[] = "+/= .\x80\x01*";
	for (const char *c = bad_chars; *c; c++) {
		static const size_t pos[] = { 4, 20, 60, 100, 116 };

		for (int k = 0; k < 5; k++) {
			char what[64];

			strcpy(s, base);
			s[pos[k]] = *c;
			snprintf(what, sizeof(what), "byte 0x%02x at %zu",
			    (unsigned char)*c, pos[k]);
			reject_str(s, what);
		}
	}

	/* Separators. */
	strcpy(s, base);
	s[47] = '.';
	reject_str(s, "first ',' replaced");
	strcpy(s, base);
	s[91] = ';';
	reject_str(s, "second ',' replaced");
	strcpy(s, base);
	memmove(s + 47, s + 48, n - 47);
	reject_str(s, "first ',' missing");
	strcpy(s, base);
	memmove(s + 91, s + 92, n - 91);
	reject_str(s, "second ',' missing");
	strcpy(s, base);
	s[47] = ',';
	s[91] = '/';
	reject_str(s, "'/' in place of the second ','");

	/* The extra field. */
	static const struct {
		int version, codec, depth;
		uint64_t data_len, stream_len;
		const char *what;
	} ex_bad[] = {
		{ 0, 0, 0, 5, 5, "version 0" },
		{ 3, 0, 0, 5, 5, "version 3" },
		{ 255, 0, 0, 5, 5, "version 255" },
		{ 2, 0, 0, 1, 1, "version 2 (typed), 1 byte: no room for a "
		  "type record" },
		{ 2, 0, 0, 0, 0, "version 2 (typed), empty" },
		{ 1, 2, 0, 5, 5, "codec 2" },
		{ 1, 255, 0, 5, 5, "codec 255" },
		{ 1, 0, 1, 5, 5, "depth 1 for 5 bytes" },
		{ 1, 0, 0, BS + 1, BS + 1, "depth 0 for BS+1 bytes" },
		{ 1, 0, 1, (uint64_t)512 * BS + 1, (uint64_t)512 * BS + 1,
		  "depth 1 for 513 blocks" },
		{ 1, 0, 5, CHK_MAX_STREAM, CHK_MAX_STREAM,
		  "depth 5 for the max stream" },
		{ 1, 0, 255, 5, 5, "depth 255" },
		{ 1, 0, 0, 6, 5, "codec none, data_len > stream_len" },
		{ 1, 0, 0, 4, 5, "codec none, data_len < stream_len" },
		{ 1, 0, 0, 0, 1, "codec none, data_len 0" },
		{ 1, 1, 0, 100, 0, "zstd with stream_len 0" },
		{ 1, 1, 0, 0, 0, "zstd with both lengths 0" },
		{ 1, 0, 4, CHK_MAX_STREAM + 1, CHK_MAX_STREAM + 1,
		  "stream_len max + 1" },
		{ 1, 0, 4, UINT64_MAX, UINT64_MAX, "lengths UINT64_MAX" },
		{ 1, 1, 0, CHK_MAX_STREAM + 1, 100, "zstd, data_len max + 1" },
		{ 1, 1, 0, UINT64_MAX, 100, "zstd, data_len UINT64_MAX" },
	};
	for (size_t i = 0; i < sizeof(ex_bad) / sizeof(ex_bad[0]); i++) {
		make_extra(ex, ex_bad[i].version, ex_bad[i].codec,
		    ex_bad[i].depth, ex_bad[i].data_len, ex_bad[i].stream_len);
		build(s, rk, ck, ex);
		reject(s, KEYS_LEN, ex_bad[i].what);
	}
	/* ... and their valid neighbours. */
	make_extra(ex, 1, CHK_CODEC_ZSTD, 0, CHK_MAX_STREAM, 100);
	build(s, rk, ck, ex);
	TAP_OK(parse(&u, s, KEYS_LEN) == URI_OK, "accept zstd, data_len max");
	make_extra(ex, 1, CHK_CODEC_NONE, 4, CHK_MAX_STREAM, CHK_MAX_STREAM);
	build(s, rk, ck, ex);
	TAP_OK(parse(&u, s, KEYS_LEN) == URI_OK, "accept raw max stream");
	make_extra(ex, 1, CHK_CODEC_NONE, 0, 0, 0);
	build(s, rk, ck, ex);
	TAP_OK(parse(&u, s, KEYS_LEN) == URI_OK, "accept the empty document");
	make_extra(ex, 1, CHK_CODEC_NONE, 3, (uint64_t)512 * 512 * BS + 1,
	    (uint64_t)512 * 512 * BS + 1);
	build(s, rk, ck, ex);
	TAP_OK(parse(&u, s, KEYS_LEN) == URI_OK, "accept depth 3");
	make_extra(ex, 2, CHK_CODEC_NONE, 0, 2, 2);
	build(s, rk, ck, ex);
	TAP_OK(parse(&u, s, KEYS_LEN) == URI_OK && u.root.typed == 1,
	    "accept version 2 (typed) of 2 bytes, and mark it typed");
	make_extra(ex, 1, CHK_CODEC_NONE, 0, 2, 2);
	build(s, rk, ck, ex);
	TAP_OK(parse(&u, s, KEYS_LEN) == URI_OK && u.root.typed == 0,
	    "version 1 is untyped");

	/* After the keys. */
	static const char *const tails[] = { "?x", "#frag", " ", "x", ",",
	    "\n", "//", "/", "/.", "/..", "/%2E", "/%2e%2E", "/a%2Fb",
	    "/a%2fb", "/a/b", "/a%00b", "/%00", "/a%01", "/a%1F", "/a%1f",
	    "/a%7F", "/a\x01", "/a\x7f", "/a\x1f", "/a b", "/a\xc3\xa9",
	    "/a#b", "/a?b", "/a\"b", "/a<b", "/a\\b", "/a[b]", "/a|b",
	    "/%", "/%4", "/a%", "/a%4", "/%G0", "/%0G", "/%%41", "/%-1",
	    "/% 1", "/%+1", "/%4g" };
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		char what[64];

		snprintf(s, sizeof(s), "%s%s", base, tails[i]);
		snprintf(what, sizeof(what), "keys + \"");
		for (const char *c = tails[i]; *c; c++) {
			size_t l = strlen(what);

			if (*c > 0x20 && *c < 0x7f && *c != '"' && *c != '\\')
				snprintf(what + l, sizeof(what) - l, "%c", *c);
			else
				snprintf(what + l, sizeof(what) - l, "\\x%02x",
				    (unsigned char)*c);
		}
		strcat(what, "\"");
		reject_str(s, what);
	}

	/* Embedded NUL bytes, with len covering them. */
	memcpy(s, base, n);
	memcpy(s + n, "/ab\0cd", 6);
	reject(s, n + 6, "NUL inside the name");
	memcpy(s + n, "/ab\0", 4);
	reject(s, n + 4, "NUL at the end of the name");
	memcpy(s + n, "\0/ab", 4);
	reject(s, n + 4, "NUL between keys and name");
	s[n] = '\0';
	reject(s, n + 1, "NUL after the keys");
	memcpy(s, base, n);
	s[10] = '\0';
	reject(s, n, "NUL inside the rkey");
	memcpy(s, base, n);
	s[3] = '\0';
	reject(s, n, "NUL in the prefix");

	/* Name lengths. */
	memcpy(s, base, n);
	s[n] = '/';
	memset(s + n + 1, 'a', 256);
	TAP_OK(parse(&u, s, n + 1 + 255) == URI_OK && strlen(u.name) == 255,
	    "accept a 255-byte name");
	reject(s, n + 1 + 256, "256-byte name");
	reject(s, n + 1 + 300, "300-byte name");
	for (int i = 0; i < 256; i++)
		memcpy(s + n + 1 + 3 * i, "%41", 3);
	TAP_OK(parse(&u, s, n + 1 + 3 * 255) == URI_OK &&
	    strlen(u.name) == 255, "accept 255 escaped bytes");
	reject(s, n + 1 + 3 * 256, "256 escaped bytes");
	reject(s, n + 1 + 3 * 255 + 1, "255 escaped bytes and one more");
}

static void
test_format_space(void)
{
	char out[URI_MAX_LEN], big[URI_MAX_LEN];
	struct uri u;
	size_t n;

	make_root(&u, 5, CHK_CODEC_NONE, 0, 1, 1);
	strcpy(u.name, "file name.txt");
	TAP_OK(uri_format(&u, big, sizeof(big)) == URI_OK, "format ok");
	n = strlen(big);
	TAP_OK(uri_format(&u, out, n + 1) == URI_OK && strcmp(out, big) == 0,
	    "format into exactly strlen + 1 bytes");
	memset(out, 'Z', sizeof(out));
	TAP_OK(uri_format(&u, out, n) == URI_ESPACE && out[0] == 'Z' &&
	    out[n - 1] == 'Z', "one byte short: URI_ESPACE, buffer untouched");
	TAP_OK(uri_format(&u, out, 10) == URI_ESPACE, "10 bytes: URI_ESPACE");
	TAP_OK(uri_format(&u, NULL, 0) == URI_ESPACE, "0 bytes: URI_ESPACE");
	u.name[0] = '\0';
	TAP_OK(uri_format(&u, out, KEYS_LEN) == URI_ESPACE &&
	    uri_format(&u, out, KEYS_LEN + 1) == URI_OK &&
	    strlen(out) == KEYS_LEN, "no name: needs exactly %d + 1 bytes",
	    KEYS_LEN);
}

static void
test_name_check(void)
{
	char n256[300];

	memset(n256, 'x', sizeof(n256));
	TAP_OK(uri_name_check("a", 1) == 0, "name_check: \"a\"");
	TAP_OK(uri_name_check("", 0) != 0, "name_check: empty");
	TAP_OK(uri_name_check(".", 1) != 0, "name_check: \".\"");
	TAP_OK(uri_name_check("..", 2) != 0, "name_check: \"..\"");
	TAP_OK(uri_name_check("...", 3) == 0, "name_check: \"...\"");
	TAP_OK(uri_name_check("a/b", 3) != 0, "name_check: '/'");
	TAP_OK(uri_name_check("a\0b", 3) != 0, "name_check: NUL");
	TAP_OK(uri_name_check("a\x1f", 2) != 0, "name_check: 0x1f");
	TAP_OK(uri_name_check("a\x7f", 2) != 0, "name_check: DEL");
	TAP_OK(uri_name_check("a\x80\xff", 3) == 0,
	    "name_check: high bytes are fine");
	TAP_OK(uri_name_check(n256, 255) == 0, "name_check: 255 bytes");
	TAP_OK(uri_name_check(n256, 256) != 0, "name_check: 256 bytes");
}

int
main(void)
{
	if (sodium_init() < 0) {
		printf("Bail out! sodium_init failed\n");
		return 1;
	}
	test_round_trips();
	test_lenient_input();
	test_hostile();
	test_format_space();
	test_name_check();
	return tap_done();
}
