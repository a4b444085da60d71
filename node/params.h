/*
 * params.h - parsing of HTTP API request parameters.
 *
 * Pure functions over the raw (still %-encoded) strings a client sent, so
 * they can be unit-tested and fuzzed without a server. Every failure
 * gives a static one-line reason in *why.
 */
#ifndef UMBRA_PARAMS_H
#define UMBRA_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/uri.h"

#define PARAMS_HOPS_DEFAULT 3
#define PARAMS_HOPS_MAX 8

struct put_params {
	char name[URI_NAME_MAX + 1];	/* decoded; "" if none */
	int hops;
};

/* %-decodes in (len bytes; '+' means a space, as in forms) into out, NUL
 * terminated. Fails on a bad escape, a decoded NUL, or no room. */
int params_decode(const char *in, size_t len, char *out, size_t outlen,
    size_t *outn);
/* hops: the raw query value, NULL when absent (then the default); 0 to
 * PARAMS_HOPS_MAX. */
int params_parse_hops(const char *s, int *hops);
/* Hops 0 (no onion path: peers see this node route its own traffic) is
 * taken only with no_anonymity, the raw query value, "1". */
int params_check_hops(int hops, const char *no_anonymity, const char **why);
/* name and hops are the raw query values, NULL when absent. */
int params_parse_put(const char *name, const char *hops,
    struct put_params *out, const char **why);
/* type: the raw query value, NULL when absent (then out is ""). A media
 * type "type/subtype" (crypto/chk.h: chk_type_check), taken in any case
 * and written in lower case, its one spelling under the keys. */
int params_parse_type(const char *type, char out[CHK_TYPE_MAX + 1],
    const char **why);
/* The same for a value already decoded (a form field), in place: 0 if
 * type is "" or a media type, now lower case. */
int params_check_type(char *type);
/* A Range header (RFC 9110 section 14) against a document of length
 * bytes: PARAMS_RANGE_ONE with [*first, *last] for one satisfiable range
 * ("bytes=A-B", "bytes=A-", "bytes=-N"; B past the end is cut to it);
 * PARAMS_RANGE_NONE when the whole document is to be sent (no header, a
 * malformed one, or several ranges, which a server may ignore);
 * PARAMS_RANGE_BAD when no byte of it exists (answer 416). */
enum params_range {
	PARAMS_RANGE_NONE = 0,
	PARAMS_RANGE_ONE = 1,
	PARAMS_RANGE_BAD = -1,
};
enum params_range params_parse_range(const char *header, uint64_t length,
    uint64_t *first, uint64_t *last);
/* path is what follows "/api/v1/get/" in the request path, raw. */
int params_parse_get(const char *path, struct uri *u, const char **why);

#endif
