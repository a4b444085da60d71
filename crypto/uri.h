/*
 * uri.h - the CHK URI: CHK@<rkey>,<ckey>,<extra>[/<name>]
 *
 * rkey and ckey are the root block's 32-byte keys and extra is 19 bytes
 * (version 1, codec, depth, data length u64, stream length u64, all
 * big-endian), each in unpadded URL-safe base64 (43, 43 and 26 chars).
 * The optional name is percent-encoded; it is a hint for saving and for
 * the content type, not part of what the keys protect. The exact grammar
 * and the reasons are in docs/blocks.md.
 *
 * uri_parse() is strict: it accepts only the canonical base64 of each
 * field, a known version and codec, a depth that matches the stream
 * length, and lengths that agree with the codec; anything else is
 * URI_EINVAL with a reason in u->why. uri_format() writes the one
 * canonical form, so parse(format(x)) == x and format(parse(s)) == s for
 * every canonical s.
 */
#ifndef UMBRA_URI_H
#define UMBRA_URI_H

#include <stddef.h>

#include "crypto/chk.h"

#define URI_NAME_MAX 255		/* bytes of the decoded name */
#define URI_EXTRA_SIZE CHK_EXTRA_SIZE
/* "CHK@" 43 "," 43 "," 26 "/" and every name byte as %XX, plus NUL. */
#define URI_MAX_LEN (4 + 43 + 1 + 43 + 1 + 26 + 1 + 3 * URI_NAME_MAX + 1)

enum uri_err {
	URI_OK = 0,
	URI_EINVAL = -1,
	URI_ESPACE = -2,	/* output buffer too small */
};

struct uri {
	struct chk_root root;
	char name[URI_NAME_MAX + 1];	/* decoded, NUL-terminated; "" if none */
	const char *why;		/* static reason after URI_EINVAL */
};

int uri_parse(struct uri *u, const char *s, size_t len)
	__attribute__((warn_unused_result));
int uri_format(const struct uri *u, char *out, size_t outlen)
	__attribute__((warn_unused_result));
/* Writes name %-encoded as in a URI (unreserved bytes as they are, every
 * other byte as %XX) into out, which holds 3 * strlen(name) + 1 bytes;
 * returns the length written, without the NUL it adds. */
size_t uri_escape_name(const char *name, char *out);
/* The value of a hex digit (either case), or -1. */
int uri_hex_digit(int c);
/* 0 if name is acceptable as a document name: 1..URI_NAME_MAX bytes, no
 * '/', no control characters, not "." or "..". */
int uri_name_check(const char *name, size_t len);

#endif
