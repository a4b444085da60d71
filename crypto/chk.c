/* chk.c - see chk.h. */
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/chk.h"
#include "crypto/wire.h"

/* Domain tags, one SHA-256 input block each so the block that follows
 * stays aligned to the hash's 64-byte blocks. */
static const uint8_t TAG_KEY[64] = "umbra chk v1 content key";
static const uint8_t TAG_ROUTE[64] = "umbra chk v1 routing key";
/* The root's tag is followed by the 19-byte description in its block. */
#define TAG_ROOT_SIZE (64 - CHK_EXTRA_SIZE)
static const uint8_t TAG_ROOT[TAG_ROOT_SIZE] = "umbra chk v1 root key";

int
chk_shape_make(struct chk_shape *shape, uint64_t stream_len)
{
	uint64_t n;

	if (stream_len > CHK_MAX_STREAM)
		return CHK_ETOOBIG;
	memset(shape, 0, sizeof(*shape));
	shape->stream_len = stream_len;
	/* An empty stream is still one (all-zero) data block. */
	n = stream_len == 0 ? 1 : (stream_len - 1) / CHK_BLOCK_SIZE + 1;
	shape->count[0] = n;
	while (n > 1) {
		n = (n - 1) / CHK_FANOUT + 1;
		shape->count[++shape->depth] = n;
	}
	return CHK_OK;
}

size_t
chk_shape_children(const struct chk_shape *shape, int level, uint64_t index)
{
	uint64_t below, first;

	if (level < 1 || level > shape->depth || index >= shape->count[level])
		return 0;
	below = shape->count[level - 1];
	first = index * CHK_FANOUT;
	return below - first < CHK_FANOUT ? (size_t)(below - first) : CHK_FANOUT;
}

static int
chk_hash(uint8_t out[CHK_KEY_SIZE], const uint8_t tag[64],
    const uint8_t *data, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int outlen = 0;
	int ok;

	if (ctx == NULL)
		return CHK_ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, tag, 64) == 1 &&
	    EVP_DigestUpdate(ctx, data, len) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &outlen) == 1 && outlen == CHK_KEY_SIZE;
	EVP_MD_CTX_free(ctx);
	return ok ? CHK_OK : CHK_ECRYPTO;
}

/* RFC 8439 ChaCha20 with a zero nonce and block counter 0: OpenSSL's IV is
 * the 32-bit little-endian counter followed by the 96-bit nonce. */
static int
chk_cipher(const uint8_t key[CHK_KEY_SIZE], const uint8_t *in, uint8_t *out)
{
	static const uint8_t iv[16];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, ok;

	if (ctx == NULL)
		return CHK_ENOMEM;
	ok = EVP_EncryptInit_ex(ctx, EVP_chacha20(), NULL, key, iv) == 1 &&
	    EVP_EncryptUpdate(ctx, out, &len, in, CHK_BLOCK_SIZE) == 1 &&
	    len == CHK_BLOCK_SIZE;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? CHK_OK : CHK_ECRYPTO;
}

/* RFC 6838 restricted-name characters, lower case only: one spelling per
 * type, since the record is covered by the keys. */
static int
chk_type_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return 1;
	return !first && c != '\0' && strchr("!#$&-^_.+", c) != NULL;
}

int
chk_type_check(const char *type, size_t len)
{
	size_t i, slash = 0, part = 0;

	if (type == NULL || len == 0 || len > CHK_TYPE_MAX)
		return CHK_EFORMAT;
	for (i = 0; i < len; i++, part++) {
		if (type[i] == '/' && slash == 0 && part > 0) {
			slash = i;
			part = (size_t)-1;
		} else if (!chk_type_char(type[i], part == 0)) {
			return CHK_EFORMAT;
		}
	}
	return slash > 0 && part > 0 ? CHK_OK : CHK_EFORMAT;
}

void
chk_root_extra(const struct chk_root *root, uint8_t extra[CHK_EXTRA_SIZE])
{
	extra[0] = root->typed ? CHK_FORMAT_TYPED : CHK_FORMAT_VERSION;
	extra[1] = root->codec;
	extra[2] = root->depth;
	wire_put_u64(extra + 3, root->data_len);
	wire_put_u64(extra + 11, root->stream_len);
}

/* The 64-byte head of the content-key hash: the plain tag, or the root's
 * tag and the document's description. */
static const uint8_t *
chk_key_head(const uint8_t *extra, uint8_t buf[64])
{
	if (extra == NULL)
		return TAG_KEY;
	memcpy(buf, TAG_ROOT, TAG_ROOT_SIZE);
	memcpy(buf + TAG_ROOT_SIZE, extra, CHK_EXTRA_SIZE);
	return buf;
}

static int
chk_encode_with(uint8_t block[CHK_BLOCK_SIZE], const uint8_t *extra,
    struct chk_ref *ref)
{
	uint8_t head[64];
	int rc;

	if ((rc = chk_hash(ref->ckey, chk_key_head(extra, head), block,
	    CHK_BLOCK_SIZE)) != 0 ||
	    (rc = chk_cipher(ref->ckey, block, block)) != 0)
		return rc;
	return chk_block_rkey(block, ref->rkey);
}

int
chk_block_encode(uint8_t block[CHK_BLOCK_SIZE], struct chk_ref *ref)
{
	return chk_encode_with(block, NULL, ref);
}

int
chk_block_encode_root(uint8_t block[CHK_BLOCK_SIZE],
    const uint8_t extra[CHK_EXTRA_SIZE], struct chk_ref *ref)
{
	return chk_encode_with(block, extra, ref);
}

int
chk_block_rkey(const uint8_t cipher[CHK_BLOCK_SIZE],
    uint8_t rkey[CHK_KEY_SIZE])
{
	return chk_hash(rkey, TAG_ROUTE, cipher, CHK_BLOCK_SIZE);
}

int
chk_block_verify(const uint8_t cipher[CHK_BLOCK_SIZE],
    const uint8_t rkey[CHK_KEY_SIZE])
{
	uint8_t got[CHK_KEY_SIZE];
	int rc;

	if ((rc = chk_block_rkey(cipher, got)) != 0)
		return rc;
	return CRYPTO_memcmp(got, rkey, CHK_KEY_SIZE) == 0 ? CHK_OK :
	    CHK_EBADBLOCK;
}

static int
chk_decode_with(const uint8_t cipher[CHK_BLOCK_SIZE],
    uint8_t plain[CHK_BLOCK_SIZE], const struct chk_ref *ref,
    const uint8_t *extra)
{
	uint8_t got[CHK_KEY_SIZE], head[64];
	int rc;

	if ((rc = chk_cipher(ref->ckey, cipher, plain)) != 0 ||
	    (rc = chk_hash(got, chk_key_head(extra, head), plain,
	    CHK_BLOCK_SIZE)) != 0)
		return rc;
	return CRYPTO_memcmp(got, ref->ckey, CHK_KEY_SIZE) == 0 ? CHK_OK :
	    CHK_EBADBLOCK;
}

int
chk_block_decode(const uint8_t cipher[CHK_BLOCK_SIZE],
    uint8_t plain[CHK_BLOCK_SIZE], const struct chk_ref *ref)
{
	return chk_decode_with(cipher, plain, ref, NULL);
}

int
chk_block_decode_root(const uint8_t cipher[CHK_BLOCK_SIZE],
    uint8_t plain[CHK_BLOCK_SIZE], const struct chk_ref *ref,
    const uint8_t extra[CHK_EXTRA_SIZE])
{
	return chk_decode_with(cipher, plain, ref, extra);
}

static int
chk_is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int
chk_index_parse(const uint8_t plain[CHK_BLOCK_SIZE], size_t n,
    struct chk_ref *refs)
{
	struct wire_reader r;
	const uint8_t *e;

	if (n < 1 || n > CHK_FANOUT)
		return CHK_EFORMAT;
	wire_reader_init(&r, plain, CHK_BLOCK_SIZE);
	for (size_t i = 0; i < n; i++) {
		e = wire_read_bytes(&r, CHK_ENTRY_SIZE);
		if (e == NULL || chk_is_zero(e, CHK_ENTRY_SIZE))
			return CHK_EFORMAT;
		memcpy(refs[i].rkey, e, CHK_KEY_SIZE);
		memcpy(refs[i].ckey, e + CHK_KEY_SIZE, CHK_KEY_SIZE);
	}
	return wire_read_zeros(&r) ? CHK_OK : CHK_EFORMAT;
}

const char *
chk_strerror(int err)
{
	switch (err) {
	case CHK_OK: return "ok";
	case CHK_EBADBLOCK: return "block does not match its key";
	case CHK_EFORMAT: return "malformed content";
	case CHK_ETOOBIG: return "content too large";
	case CHK_ENOMEM: return "out of memory";
	case CHK_ECRYPTO: return "crypto library failure";
	case CHK_ESTATE: return "call out of order";
	}
	return "unknown error";
}
