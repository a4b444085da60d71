/* uri.c - see uri.h. */
#include <string.h>

#include <sodium.h>

#include "crypto/uri.h"
#include "crypto/wire.h"

#define URI_PREFIX "CHK@"
#define URI_KEY_CHARS 43
#define URI_EXTRA_CHARS 26
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static int
uri_fail(struct uri *u, const char *why)
{
	u->why = why;
	return URI_EINVAL;
}

/* Decodes exactly chars characters into exactly n bytes, and only the
 * canonical spelling: re-encoding must give the same text back. */
static int
uri_b64_decode(uint8_t *out, size_t n, const char *s, size_t chars)
{
	char again[64];
	size_t got = 0;

	if (chars >= sizeof(again) ||
	    sodium_base642bin(out, n, s, chars, NULL, &got, NULL, B64) != 0 ||
	    got != n)
		return -1;
	sodium_bin2base64(again, sizeof(again), out, n, B64);
	return strlen(again) == chars && memcmp(again, s, chars) == 0 ? 0 : -1;
}

static int
uri_parse_extra(struct uri *u, const uint8_t extra[URI_EXTRA_SIZE])
{
	struct chk_root *root = &u->root;
	struct chk_shape shape;
	struct wire_reader r;

	wire_reader_init(&r, extra, URI_EXTRA_SIZE);
	switch (wire_read_u8(&r)) {
	case CHK_FORMAT_VERSION:
		root->typed = 0;
		break;
	case CHK_FORMAT_TYPED:
		root->typed = 1;
		break;
	default:
		return uri_fail(u, "unknown key version");
	}
	root->codec = wire_read_u8(&r);
	root->depth = wire_read_u8(&r);
	root->data_len = wire_read_u64(&r);
	root->stream_len = wire_read_u64(&r);
	if (r.bad || r.left != 0)
		return uri_fail(u, "bad extra field");
	if (root->codec != CHK_CODEC_NONE && root->codec != CHK_CODEC_ZSTD)
		return uri_fail(u, "unknown compression");
	if (chk_shape_make(&shape, root->stream_len) != CHK_OK ||
	    root->data_len > CHK_MAX_STREAM)
		return uri_fail(u, "length out of range");
	if (shape.depth != root->depth)
		return uri_fail(u, "tree depth does not match length");
	if (root->codec == CHK_CODEC_NONE &&
	    root->data_len != root->stream_len)
		return uri_fail(u, "lengths disagree");
	if (root->codec == CHK_CODEC_ZSTD && root->stream_len == 0)
		return uri_fail(u, "empty compressed stream");
	if (root->typed && root->data_len < 2)
		return uri_fail(u, "too short for its type record");
	return URI_OK;
}

int
uri_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
uri_is_unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* Path characters a user may type unescaped besides the unreserved ones
 * (RFC 3986 pchar without '/', which separates nothing here). */
static int
uri_is_pchar(int c)
{
	return uri_is_unreserved(c) || (c != 0 && strchr("!$&'()*+,;=:@", c));
}

static int
uri_parse_name(struct uri *u, const char *s, size_t len)
{
	size_t n = 0;
	int hi, lo;

	for (size_t i = 0; i < len; i++) {
		if (n >= URI_NAME_MAX)
			return uri_fail(u, "name too long");
		if (s[i] == '%') {
			if (len - i < 3 || (hi = uri_hex_digit(s[i + 1])) < 0 ||
			    (lo = uri_hex_digit(s[i + 2])) < 0)
				return uri_fail(u, "bad %-escape in name");
			u->name[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (uri_is_pchar((unsigned char)s[i])) {
			u->name[n++] = s[i];
		} else {
			return uri_fail(u, "bad character in name");
		}
	}
	u->name[n] = '\0';
	if (uri_name_check(u->name, n) != 0)
		return uri_fail(u, "unacceptable name");
	return URI_OK;
}

int
uri_name_check(const char *name, size_t len)
{
	if (len < 1 || len > URI_NAME_MAX ||
	    (len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '/')
			return -1;
	}
	return 0;
}

int
uri_parse(struct uri *u, const char *s, size_t len)
{
	const size_t head = strlen(URI_PREFIX), keys_end = head +
	    2 * URI_KEY_CHARS + 2 + URI_EXTRA_CHARS;
	uint8_t extra[URI_EXTRA_SIZE];
	const char *k1, *k2, *x;
	int rc;

	memset(u, 0, sizeof(*u));
	if (len < head || memcmp(s, URI_PREFIX, head) != 0)
		return uri_fail(u, "not a CHK@ key");
	if (len < keys_end)
		return uri_fail(u, "too short");
	/* Only now: pointers past the end of s would be undefined. */
	k1 = s + head;
	k2 = k1 + URI_KEY_CHARS + 1;
	x = k2 + URI_KEY_CHARS + 1;
	if (k1[URI_KEY_CHARS] != ',' || k2[URI_KEY_CHARS] != ',')
		return uri_fail(u, "missing ',' between fields");
	if (uri_b64_decode(u->root.ref.rkey, CHK_KEY_SIZE, k1,
	    URI_KEY_CHARS) != 0 || uri_b64_decode(u->root.ref.ckey,
	    CHK_KEY_SIZE, k2, URI_KEY_CHARS) != 0 ||
	    uri_b64_decode(extra, URI_EXTRA_SIZE, x, URI_EXTRA_CHARS) != 0)
		return uri_fail(u, "bad base64 in a key field");
	if ((rc = uri_parse_extra(u, extra)) != URI_OK)
		return rc;
	if (len == keys_end)
		return URI_OK;
	if (s[keys_end] != '/')
		return uri_fail(u, "trailing characters after the keys");
	return uri_parse_name(u, s + keys_end + 1, len - keys_end - 1);
}

size_t
uri_escape_name(const char *name, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (uri_is_unreserved(*p)) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	return n;
}

int
uri_format(const struct uri *u, char *out, size_t outlen)
{
	const struct chk_root *root = &u->root;
	uint8_t extra[URI_EXTRA_SIZE];
	char buf[URI_MAX_LEN];
	size_t n;

	chk_root_extra(root, extra);
	memcpy(buf, URI_PREFIX, 4);
	n = 4;
	sodium_bin2base64(buf + n, 44, root->ref.rkey, CHK_KEY_SIZE, B64);
	n += URI_KEY_CHARS;
	buf[n++] = ',';
	sodium_bin2base64(buf + n, 44, root->ref.ckey, CHK_KEY_SIZE, B64);
	n += URI_KEY_CHARS;
	buf[n++] = ',';
	sodium_bin2base64(buf + n, 27, extra, URI_EXTRA_SIZE, B64);
	n += URI_EXTRA_CHARS;
	if (u->name[0] != '\0') {
		buf[n++] = '/';
		n += uri_escape_name(u->name, buf + n);
	}
	buf[n] = '\0';
	if (n + 1 > outlen)
		return URI_ESPACE;
	memcpy(out, buf, n + 1);
	return URI_OK;
}
