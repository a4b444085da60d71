/*
 * test_chk.c - CHK blocks, tree shape, index parsing, the streaming
 * encoder and decoder, what the decoder does with hostile trees, and
 * the blocks it lists as wanted next (chk_decoder_upcoming).
 *
 * Known answers are derived independently with libsodium (SHA-256 and
 * RFC 8439 ChaCha20) and also hard-coded, so a change on either side
 * shows. Documents over 64 KiB are read back with fewer passes (calls
 * per byte are what costs under valgrind); UMBRA_TEST_QUICK=1 in the
 * environment also skips 7-byte reads over 64 KiB and the 1..7-byte
 * writes of the 3 MiB text (about twice as fast under valgrind).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "crypto/chk.h"
#include "crypto/chk_decode.h"
#include "crypto/chk_encode.h"
#include "crypto/uri.h"
#include "tests/tap.h"

#define BS CHK_BLOCK_SIZE
#define MIB (1024 * 1024)

static bool quick;

/* ---- helpers ---------------------------------------------------------- */

static uint64_t
rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void
rng_fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t s = seed, v = 0;

	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0)
			v = rng_next(&s);
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void
to_hex(char *out, const uint8_t *p, size_t n)
{
	static const char h[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[p[i] >> 4];
		out[2 * i + 1] = h[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool
hex_is(const uint8_t *p, const char *hex)
{
	char buf[2 * CHK_KEY_SIZE + 1];

	to_hex(buf, p, CHK_KEY_SIZE);
	if (strcmp(buf, hex) == 0)
		return true;
	printf("# got  %s\n# want %s\n", buf, hex);
	return false;
}

static bool
root_eq(const struct chk_root *a, const struct chk_root *b)
{
	return memcmp(&a->ref, &b->ref, sizeof(a->ref)) == 0 &&
	    a->codec == b->codec && a->depth == b->depth &&
	    a->data_len == b->data_len && a->stream_len == b->stream_len;
}

/* ---- an in-memory block store: open addressing on rkey ---------------- */

struct bent {
	uint8_t rkey[CHK_KEY_SIZE];
	uint8_t *cipher;	/* NULL: empty slot */
	bool hidden;		/* "lost": fetch fails */
};

struct bmap {
	struct bent *e;
	size_t cap, n;
	size_t emits;		/* emit calls */
	size_t bad;		/* blocks that failed verification in emit */
	int fail_after;		/* emit returns 99 after this many; -1 never */
};

static void
bmap_init(struct bmap *m)
{
	memset(m, 0, sizeof(*m));
	m->cap = 64;
	m->e = calloc(m->cap, sizeof(*m->e));
	m->fail_after = -1;
	if (m->e == NULL)
		exit(1);
}

static void
bmap_free(struct bmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->e[i].cipher);
	free(m->e);
	m->e = NULL;
}

static size_t
bmap_slot(const struct bmap *m, const uint8_t rkey[CHK_KEY_SIZE])
{
	uint64_t h;
	size_t i;

	memcpy(&h, rkey, sizeof(h));
	for (i = (size_t)h & (m->cap - 1); m->e[i].cipher != NULL;
	    i = (i + 1) & (m->cap - 1))
		if (memcmp(m->e[i].rkey, rkey, CHK_KEY_SIZE) == 0)
			break;
	return i;
}

static struct bent *
bmap_get(const struct bmap *m, const uint8_t rkey[CHK_KEY_SIZE])
{
	struct bent *e = &m->e[bmap_slot(m, rkey)];

	return e->cipher != NULL ? e : NULL;
}

static void
bmap_put(struct bmap *m, const uint8_t rkey[CHK_KEY_SIZE],
    const uint8_t *cipher)
{
	struct bent *e;

	if (2 * (m->n + 1) > m->cap) {
		struct bmap big = *m;

		big.cap = m->cap * 2;
		big.e = calloc(big.cap, sizeof(*big.e));
		if (big.e == NULL)
			exit(1);
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].cipher != NULL)
				big.e[bmap_slot(&big, m->e[i].rkey)] = m->e[i];
		free(m->e);
		*m = big;
	}
	e = &m->e[bmap_slot(m, rkey)];
	if (e->cipher != NULL)
		return;		/* deduplicated */
	memcpy(e->rkey, rkey, CHK_KEY_SIZE);
	e->cipher = tap_xmalloc(BS);
	memcpy(e->cipher, cipher, BS);
	e->hidden = false;
	m->n++;
}

static int
emit_cb(void *arg, const struct chk_ref *ref, const uint8_t cipher[BS])
{
	struct bmap *m = arg;

	if (m->fail_after >= 0 && m->emits >= (size_t)m->fail_after)
		return 99;
	m->emits++;
	if (chk_block_verify(cipher, ref->rkey) != CHK_OK)
		m->bad++;
	bmap_put(m, ref->rkey, cipher);
	return 0;
}

/* Encrypts a plaintext block (copied) into the map. */
static void
put_plain(struct bmap *m, const uint8_t *plain, struct chk_ref *ref)
{
	uint8_t *b = tap_xmalloc(BS);

	memcpy(b, plain, BS);
	if (chk_block_encode(b, ref) != CHK_OK) {
		printf("Bail out! chk_block_encode failed\n");
		exit(1);
	}
	bmap_put(m, ref->rkey, b);
	free(b);
}

/* Encrypts a plaintext block as the root of the document root describes,
 * into the map, and sets root->ref. */
static void
put_plain_root(struct bmap *m, const uint8_t *plain, struct chk_root *root)
{
	uint8_t *b = tap_xmalloc(BS), extra[CHK_EXTRA_SIZE];

	memcpy(b, plain, BS);
	chk_root_extra(root, extra);
	if (chk_block_encode_root(b, extra, &root->ref) != CHK_OK) {
		printf("Bail out! chk_block_encode_root failed\n");
		exit(1);
	}
	bmap_put(m, root->ref.rkey, b);
	free(b);
}

/* ---- encoding with different chunkings -------------------------------- */

enum chunking { CH_WHOLE, CH_TINY, CH_4095, CH_RANDOM, CH_COUNT };
static const char *const ch_name[] = { "one call", "pieces of 1..7",
    "pieces of 4095", "random pieces" };

static int
encode(struct bmap *m, const uint8_t *data, size_t len, enum chunking ch,
    struct chk_root *root)
{
	struct chk_encoder *enc;
	uint64_t s = len * 31 + ch;
	size_t off = 0, k = 0, piece;
	int rc;

	if ((rc = chk_encoder_new(&enc, emit_cb, m)) != 0)
		return rc;
	while (off < len) {
		switch (ch) {
		case CH_WHOLE: piece = len; break;
		case CH_TINY: piece = 1 + k++ % 7; break;
		case CH_4095: piece = 4095; break;
		default:
			/* Mostly small, sometimes past a block or a piece. */
			piece = rng_next(&s) % 8 == 0 ?
			    1 + rng_next(&s) % 300000 : 1 + rng_next(&s) % 5000;
			break;
		}
		if (piece > len - off)
			piece = len - off;
		if ((rc = chk_encoder_write(enc, data + off, piece)) != 0)
			goto out;
		off += piece;
	}
	if ((rc = chk_encoder_write(enc, data, 0)) != 0)
		goto out;
	if (chk_encoder_bytes_in(enc) != len)
		rc = -1000;
	else
		rc = chk_encoder_finish(enc, root);
out:
	chk_encoder_free(enc);
	return rc;
}

/* ---- decoding --------------------------------------------------------- */

#define DEC_MISSING 100		/* our fetch found no block */

struct dres {
	int rc;			/* CHK_* or DEC_MISSING */
	uint64_t total;		/* bytes handed out */
	uint64_t bytes_out;	/* chk_decoder_bytes_out() at the end */
	bool over;		/* more than cap bytes handed out */
	bool still_wants;	/* after a missing block: decoder still waits */
	size_t feeds;
};

#define READ_MIXED 0	/* bufsize: reads of 1, 7, 4096, 100000 in turn */
static const size_t mixed_sizes[] = { 1, 7, 4096, 100000 };

/* Runs the decoder loop of chk_decode.h with reads of bufsize bytes (or
 * READ_MIXED), writing up to cap bytes to out (which may be NULL). */
static int
decode(const struct bmap *m, const struct chk_root *root, size_t bufsize,
    uint8_t *out, uint64_t cap, struct dres *res)
{
	struct chk_decoder *d;
	struct chk_ref want;
	struct bent *e;
	uint8_t *buf;
	size_t got, k = 0, n = bufsize, bufcap = bufsize;
	int rc;

	if (bufsize == READ_MIXED)
		bufcap = 100000;
	memset(res, 0, sizeof(*res));
	if ((rc = chk_decoder_new(&d, root)) != 0) {
		res->rc = rc;
		return rc;
	}
	buf = tap_xmalloc(bufcap);
	for (;;) {
		if (bufsize == READ_MIXED)
			n = mixed_sizes[k++ % 4];
		if ((rc = chk_decoder_read(d, buf, n, &got)) != 0)
			break;
		if (got > 0) {
			if (got > n || res->total + got > cap)
				res->over = true;
			else if (out != NULL)
				memcpy(out + res->total, buf, got);
			res->total += got;
			continue;
		}
		if (!chk_decoder_want(d, &want))
			break;
		if ((e = bmap_get(m, want.rkey)) == NULL || e->hidden) {
			rc = DEC_MISSING;
			res->still_wants = chk_decoder_want(d, &want);
			break;
		}
		res->feeds++;
		if ((rc = chk_decoder_feed(d, e->cipher)) != 0)
			break;
	}
	res->bytes_out = chk_decoder_bytes_out(d);
	if (rc != 0 && rc != DEC_MISSING) {
		/* A failed decoder refuses further work. */
		if (chk_decoder_want(d, &want) ||
		    chk_decoder_read(d, buf, bufcap, &got) != CHK_ESTATE ||
		    got != 0)
			res->over = true;
	}
	free(buf);
	chk_decoder_free(d);
	res->rc = rc;
	return rc;
}

/* Keys root_plain as the root of the document root describes, then
 * decodes: the hand-built trees are hostile in their content, while
 * their keys are right. */
static int
decode_as_root(struct bmap *m, const uint8_t *root_plain,
    struct chk_root *root, size_t bufcap, uint8_t *out, uint64_t outcap,
    struct dres *res)
{
	put_plain_root(m, root_plain, root);
	return decode(m, root, bufcap, out, outcap, res);
}

/* ---- 1. single blocks: known answers ---------------------------------- */

static const uint8_t tag_key[64] = "umbra chk v1 content key";
static const uint8_t tag_route[64] = "umbra chk v1 routing key";

/* The reference computation, with libsodium only; head is the 64-byte
 * block hashed before the plaintext (tag_key, or a root's head). */
static void
ref_encode_head(const uint8_t head[64], const uint8_t *plain,
    uint8_t *cipher, uint8_t ckey[32], uint8_t rkey[32], uint8_t csha[32])
{
	static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, head, 64);
	crypto_hash_sha256_update(&st, plain, BS);
	crypto_hash_sha256_final(&st, ckey);
	crypto_stream_chacha20_ietf_xor(cipher, plain, BS, nonce, ckey);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, tag_route, sizeof(tag_route));
	crypto_hash_sha256_update(&st, cipher, BS);
	crypto_hash_sha256_final(&st, rkey);
	crypto_hash_sha256(csha, cipher, BS);
}

static void
ref_encode(const uint8_t *plain, uint8_t *cipher, uint8_t ckey[32],
    uint8_t rkey[32], uint8_t csha[32])
{
	ref_encode_head(tag_key, plain, cipher, ckey, rkey, csha);
}

/* A root block by the reference: its head is "umbra chk v1 root key"
 * zero-padded to 45 bytes, then the URI's 19-byte extra field (version 1,
 * codec, depth, data_len, stream_len big-endian). */
static void
ref_encode_root(const uint8_t *plain, uint8_t codec, uint8_t depth,
    uint64_t data_len, uint64_t stream_len, struct chk_ref *ref)
{
	uint8_t head[64] = "umbra chk v1 root key", *cipher = tap_xmalloc(BS);
	uint8_t csha[32];

	head[45] = 1;
	head[46] = codec;
	head[47] = depth;
	for (int i = 0; i < 8; i++) {
		head[48 + i] = (uint8_t)(data_len >> (56 - 8 * i));
		head[56 + i] = (uint8_t)(stream_len >> (56 - 8 * i));
	}
	ref_encode_head(head, plain, cipher, ref->ckey, ref->rkey, csha);
	free(cipher);
}

static const struct {
	const char *name, *ckey, *rkey, *csha;
} kat[2] = {
	{ "all-zero block",
	  "5d1fb220fc463f2b936db7b03d8855f79556f08d82eff0913172033565255505",
	  "273171f627b186d1f85b8a10447f599da71d9b1d561dadb1c2623a8193493e1f",
	  "dfbe580572ce4d7b8154cf0b66658e42db31fb12dbd0f083504a78eba3dc7174" },
	{ "block 0,1,..,255 repeated",
	  "33a0f45313526f0e439af88e0fe41f89193c5a0360ebb676b1f450a2b7559948",
	  "1de723b9ef2676335f655607ad136684e8b1047edb8568496ce9eccdb966e2ff",
	  "bb9ef78b9f33eae897b478134ae1a4c3ff9ff1c6942ab3918f4d6ec29325f9c3" },
};

static void
test_block_kat(void)
{
	uint8_t *plain = tap_xmalloc(BS), *block = tap_xmalloc(BS),
	    *rcipher = tap_xmalloc(BS), *back = tap_xmalloc(BS), *bad = tap_xmalloc(BS);
	uint8_t ckey[32], rkey[32], csha[32], rk2[32];
	struct chk_ref ref, wrong;

	for (int v = 0; v < 2; v++) {
		for (size_t i = 0; i < BS; i++)
			plain[i] = v == 0 ? 0 : (uint8_t)i;
		ref_encode(plain, rcipher, ckey, rkey, csha);
		TAP_OK(hex_is(ckey, kat[v].ckey) && hex_is(rkey, kat[v].rkey) &&
		    hex_is(csha, kat[v].csha),
		    "KAT %s: libsodium reference gives the hard-coded keys",
		    kat[v].name);

		memcpy(block, plain, BS);
		TAP_OK(chk_block_encode(block, &ref) == CHK_OK,
		    "KAT %s: chk_block_encode ok", kat[v].name);
		TAP_OK(memcmp(ref.ckey, ckey, 32) == 0 &&
		    memcmp(ref.rkey, rkey, 32) == 0,
		    "KAT %s: ckey and rkey match libsodium", kat[v].name);
		TAP_OK(memcmp(block, rcipher, BS) == 0,
		    "KAT %s: ciphertext matches libsodium ChaCha20-IETF",
		    kat[v].name);
		crypto_hash_sha256(csha, block, BS);
		TAP_OK(hex_is(csha, kat[v].csha),
		    "KAT %s: SHA-256(ciphertext) is the hard-coded value",
		    kat[v].name);
		TAP_OK(chk_block_rkey(block, rk2) == CHK_OK &&
		    memcmp(rk2, ref.rkey, 32) == 0,
		    "KAT %s: chk_block_rkey recomputes rkey", kat[v].name);
		TAP_OK(chk_block_verify(block, ref.rkey) == CHK_OK,
		    "KAT %s: chk_block_verify accepts", kat[v].name);

		static const size_t flips[] = { 0, BS / 2, BS - 1 };
		for (size_t f = 0; f < 3; f++) {
			for (int bit = 0; bit < 8; bit += 7) {
				memcpy(bad, block, BS);
				bad[flips[f]] ^= (uint8_t)(1u << bit);
				TAP_OK(chk_block_verify(bad, ref.rkey) ==
				    CHK_EBADBLOCK, "KAT %s: verify rejects bit "
				    "%d flipped in byte %zu", kat[v].name, bit,
				    flips[f]);
				TAP_OK(chk_block_decode(bad, back, &ref) ==
				    CHK_EBADBLOCK, "KAT %s: decode rejects bit "
				    "%d flipped in byte %zu", kat[v].name, bit,
				    flips[f]);
			}
		}
		memcpy(rk2, ref.rkey, 32);
		rk2[31] ^= 1;
		TAP_OK(chk_block_verify(block, rk2) == CHK_EBADBLOCK,
		    "KAT %s: verify rejects a wrong rkey", kat[v].name);

		TAP_OK(chk_block_decode(block, back, &ref) == CHK_OK &&
		    memcmp(back, plain, BS) == 0,
		    "KAT %s: chk_block_decode gives the plaintext back",
		    kat[v].name);
		wrong = ref;
		wrong.ckey[0] ^= 0x80;
		TAP_OK(chk_block_decode(block, back, &wrong) == CHK_EBADBLOCK,
		    "KAT %s: decode rejects a wrong ckey", kat[v].name);
		wrong = ref;
		wrong.rkey[0] ^= 0x80;
		TAP_OK(chk_block_decode(block, back, &wrong) == CHK_OK,
		    "KAT %s: decode checks ckey only (rkey is the relay's "
		    "check)", kat[v].name);
	}
	/* In-place decode works too (cipher == plain). */
	memcpy(block, plain, BS);
	if (chk_block_encode(block, &ref) == CHK_OK)
		TAP_OK(chk_block_decode(block, block, &ref) == CHK_OK &&
		    memcmp(block, plain, BS) == 0, "in-place decode");
	free(plain);
	free(block);
	free(rcipher);
	free(back);
	free(bad);
}

/* ---- 2. shape --------------------------------------------------------- */

static void
shape(struct chk_shape *s, uint64_t len)
{
	if (chk_shape_make(s, len) != CHK_OK) {
		printf("Bail out! chk_shape_make(%llu) failed\n",
		    (unsigned long long)len);
		exit(1);
	}
}

static void
test_shape(void)
{
	static const struct {
		uint64_t len;
		int rc, depth;
		uint64_t data_blocks;
	} t[] = {
		{ 0, 0, 0, 1 },
		{ 1, 0, 0, 1 },
		{ BS - 1, 0, 0, 1 },
		{ BS, 0, 0, 1 },
		{ BS + 1, 0, 1, 2 },
		{ (uint64_t)512 * BS, 0, 1, 512 },
		{ (uint64_t)512 * BS + 1, 0, 2, 513 },
		{ (uint64_t)512 * 512 * BS, 0, 2, 512 * 512 },
		{ (uint64_t)512 * 512 * BS + 1, 0, 3, 512 * 512 + 1 },
		{ CHK_MAX_STREAM, 0, 4, (uint64_t)1 << 36 },
		{ CHK_MAX_STREAM + 1, CHK_ETOOBIG, 0, 0 },
		{ UINT64_MAX, CHK_ETOOBIG, 0, 0 },
	};
	struct chk_shape s;
	int rc;

	TAP_OK(CHK_FANOUT == 512 && CHK_MAX_STREAM == (UINT64_C(1) << 51),
	    "fanout 512, max stream 2^51 bytes");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rc = chk_shape_make(&s, t[i].len);
		if (t[i].rc != 0) {
			TAP_OK(rc == t[i].rc, "shape of %llu: ETOOBIG",
			    (unsigned long long)t[i].len);
			continue;
		}
		bool ok = rc == 0 && s.depth == t[i].depth &&
		    s.stream_len == t[i].len && s.count[0] == t[i].data_blocks &&
		    s.count[s.depth] == 1;
		for (int l = 1; ok && l <= s.depth; l++)
			ok = s.count[l] == (s.count[l - 1] + 511) / 512;
		for (int l = s.depth + 1; ok && l <= CHK_MAX_DEPTH; l++)
			ok = s.count[l] == 0;
		TAP_OK(ok, "shape of %llu: depth %d, %llu data blocks",
		    (unsigned long long)t[i].len, t[i].depth,
		    (unsigned long long)t[i].data_blocks);
	}

	shape(&s, 0);
	TAP_OK(chk_shape_children(&s, 0, 0) == 0 &&
	    chk_shape_children(&s, 1, 0) == 0,
	    "children: depth 0 has no index nodes");

	shape(&s, BS + 1);
	TAP_OK(chk_shape_children(&s, 1, 0) == 2 &&
	    chk_shape_children(&s, 1, 1) == 0 &&
	    chk_shape_children(&s, 2, 0) == 0 &&
	    chk_shape_children(&s, 0, 0) == 0 &&
	    chk_shape_children(&s, -1, 0) == 0,
	    "children: BS+1 -> root has 2, nothing else");

	shape(&s, (uint64_t)512 * BS);
	TAP_OK(chk_shape_children(&s, 1, 0) == 512,
	    "children: 512 blocks -> full root");

	shape(&s, (uint64_t)513 * BS);
	TAP_OK(chk_shape_children(&s, 2, 0) == 2 &&
	    chk_shape_children(&s, 1, 0) == 512 &&
	    chk_shape_children(&s, 1, 1) == 1 &&
	    chk_shape_children(&s, 1, 2) == 0 &&
	    chk_shape_children(&s, 3, 0) == 0,
	    "children: 513 blocks -> 2 / 512 + 1");

	shape(&s, (uint64_t)512 * 512 * BS + 1);
	TAP_OK(s.count[1] == 513 && s.count[2] == 2 &&
	    chk_shape_children(&s, 3, 0) == 2 &&
	    chk_shape_children(&s, 2, 0) == 512 &&
	    chk_shape_children(&s, 2, 1) == 1 &&
	    chk_shape_children(&s, 1, 511) == 512 &&
	    chk_shape_children(&s, 1, 512) == 1 &&
	    chk_shape_children(&s, 1, 513) == 0,
	    "children: 512^2+1 blocks at every level");

	shape(&s, CHK_MAX_STREAM);
	TAP_OK(s.count[4] == 1 && s.count[3] == 512 &&
	    chk_shape_children(&s, 4, 0) == 512 &&
	    chk_shape_children(&s, 1, (UINT64_C(1) << 27) - 1) == 512 &&
	    chk_shape_children(&s, 1, UINT64_C(1) << 27) == 0 &&
	    chk_shape_children(&s, 5, 0) == 0 &&
	    chk_shape_children(&s, 1, UINT64_MAX) == 0,
	    "children: max stream, full tree of depth 4");

	shape(&s, (uint64_t)1000 * BS + 5);
	TAP_OK(chk_shape_children(&s, 1, 1) == 1001 - 512 &&
	    chk_shape_children(&s, 2, 0) == 2,
	    "children: 1001 blocks -> last index holds 489");
}

/* ---- 3. index parsing ------------------------------------------------- */

static void
test_index_parse(void)
{
	uint8_t *b = tap_xmalloc(BS);
	struct chk_ref *refs = tap_xmalloc(CHK_FANOUT * sizeof(*refs));
	bool ok;

	memset(b, 0, BS);
	for (size_t i = 0; i < 5 * CHK_ENTRY_SIZE; i++)
		b[i] = (uint8_t)(i * 7 + 1);
	TAP_OK(chk_index_parse(b, 0, refs) == CHK_EFORMAT, "index: n=0");
	TAP_OK(chk_index_parse(b, 513, refs) == CHK_EFORMAT, "index: n=513");
	TAP_OK(chk_index_parse(b, SIZE_MAX, refs) == CHK_EFORMAT,
	    "index: n=SIZE_MAX");
	TAP_OK(chk_index_parse(b, 5, refs) == CHK_OK, "index: 5 entries ok");
	ok = true;
	for (size_t i = 0; i < 5; i++)
		ok = ok && memcmp(refs[i].rkey, b + i * 64, 32) == 0 &&
		    memcmp(refs[i].ckey, b + i * 64 + 32, 32) == 0;
	TAP_OK(ok, "index: entries are rkey || ckey in order");
	TAP_OK(chk_index_parse(b, 4, refs) == CHK_EFORMAT,
	    "index: a 5th used entry where 4 are expected (padding non-zero)");
	TAP_OK(chk_index_parse(b, 6, refs) == CHK_EFORMAT,
	    "index: 6 expected, entry 6 all zero");

	memset(b + 2 * 64, 0, 64);
	TAP_OK(chk_index_parse(b, 5, refs) == CHK_EFORMAT,
	    "index: used entry 3 of 5 all zero");
	b[2 * 64 + 63] = 1;
	TAP_OK(chk_index_parse(b, 5, refs) == CHK_OK,
	    "index: entry with only its last byte non-zero is used");
	memset(b + 2 * 64, 0, 32);
	b[2 * 64 + 63] = 0;
	b[2 * 64 + 40] = 9;
	TAP_OK(chk_index_parse(b, 5, refs) == CHK_OK,
	    "index: entry with a zero rkey but non-zero ckey is used");
	memset(b, 0, 64);
	TAP_OK(chk_index_parse(b, 5, refs) == CHK_EFORMAT,
	    "index: first entry all zero");
	b[0] = 1;

	b[5 * 64] = 1;
	TAP_OK(chk_index_parse(b, 5, refs) == CHK_EFORMAT,
	    "index: non-zero byte right after the used entries");
	b[5 * 64] = 0;
	b[BS - 1] = 0x80;
	TAP_OK(chk_index_parse(b, 5, refs) == CHK_EFORMAT,
	    "index: non-zero last byte of the block");
	b[BS - 1] = 0;
	TAP_OK(chk_index_parse(b, 5, refs) == CHK_OK, "index: repaired ok");

	memset(b, 0, BS);
	TAP_OK(chk_index_parse(b, 1, refs) == CHK_EFORMAT,
	    "index: all-zero block, n=1");
	for (size_t i = 0; i < BS; i++)
		b[i] = (uint8_t)(i + 1) | 1;
	TAP_OK(chk_index_parse(b, 512, refs) == CHK_OK &&
	    memcmp(refs[511].ckey, b + BS - 32, 32) == 0,
	    "index: exact fit, 512 entries");
	TAP_OK(chk_index_parse(b, 511, refs) == CHK_EFORMAT,
	    "index: full block but 511 expected");
	memset(b + 511 * 64, 0, 64);
	TAP_OK(chk_index_parse(b, 512, refs) == CHK_EFORMAT,
	    "index: exact fit with the last entry zero");
	TAP_OK(chk_index_parse(b, 511, refs) == CHK_OK,
	    "index: the same as 511 entries ok");
	free(b);
	free(refs);
}

/* ---- 4. round trips --------------------------------------------------- */

/* Pseudo-random English-like text: compresses well at level 1. */
static void
make_text(uint8_t *p, size_t n, uint64_t seed)
{
	static const char *const words[] = { "the", "quick", "brown", "fox",
	    "jumps", "over", "lazy", "dog", "anonymous", "content", "block",
	    "store", "umbra", "key", "routing", "hash", "tree", "index", "of",
	    "and", "a", "to", "in", "is", "that", "peer", "node", "data",
	    "encrypted", "convergent" };
	uint64_t s = seed;
	size_t i = 0, col = 0;

	while (i < n) {
		const char *w = words[rng_next(&s) % 30];
		size_t wl = strlen(w);

		for (size_t k = 0; k < wl && i < n; k++)
			p[i++] = (uint8_t)w[k];
		col += wl + 1;
		if (i < n)
			p[i++] = col > 70 ? '\n' : ' ';
		if (col > 70)
			col = 0;
	}
}

static uint64_t
blocks_of(const struct chk_root *r)
{
	struct chk_shape s;
	uint64_t n = 0;

	if (chk_shape_make(&s, r->stream_len) != 0)
		return 0;
	for (int l = 0; l <= s.depth; l++)
		n += s.count[l];
	return n;
}

/* Decodes with reads of 1, 7, 4096 and 100000 bytes, and mixed. Calls
 * per byte are what costs under valgrind, so bigger documents get fewer
 * passes; the mixed pass still uses every read size. */
static void
check_decode_sizes(const struct bmap *m, const struct chk_root *root,
    const uint8_t *data, size_t len, const char *what)
{
	static const size_t sizes[] = { 1, 7, 4096, 100000, READ_MIXED };
	uint8_t *out = tap_xmalloc(len);
	struct dres r;

	for (size_t k = 0; k < 5; k++) {
		if (sizes[k] == 1 && len > 65536)
			continue;
		if (sizes[k] == 7 && len > (quick ? 65536 : MIB + 1))
			continue;
		if (sizes[k] == 4096 && len > MIB + 1)
			continue;
		if (sizes[k] == 100000 && len > MIB + 1)
			continue;
		memset(out, 0xee, len);
		decode(m, root, sizes[k], out, len, &r);
		TAP_OK(r.rc == 0 && !r.over && r.total == len &&
		    r.bytes_out == len && memcmp(out, data, len) == 0,
		    "%s: decodes identically with %s%zu (rc %d, %llu bytes)",
		    what, sizes[k] ? "reads of " : "mixed reads of 1..",
		    sizes[k] ? sizes[k] : (size_t)100000, r.rc,
		    (unsigned long long)r.total);
	}
	free(out);
}

static void
test_round_trips(void)
{
	static const size_t sizes[] = { 0, 1, 100, BS - 1, BS, BS + 1, 65536,
	    MIB - 1, MIB, MIB + 1 };
	size_t maxlen = MIB + 1;
	uint8_t *data = tap_xmalloc(maxlen);
	struct chk_root root, again;
	struct bmap m;
	char what[80];

	rng_fill(data, maxlen, 42);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		struct chk_shape s;

		bmap_init(&m);
		snprintf(what, sizeof(what), "random %zu", len);
		TAP_OK(encode(&m, data, len, CH_WHOLE, &root) == 0,
		    "%s: encodes", what);
		shape(&s, len);
		TAP_OK(root.codec == CHK_CODEC_NONE && root.data_len == len &&
		    root.stream_len == len && root.depth == s.depth,
		    "%s: codec none, lengths %zu, depth %d", what, len,
		    s.depth);
		TAP_OK(m.bad == 0 && m.n == blocks_of(&root) &&
		    m.emits == blocks_of(&root),
		    "%s: %zu blocks emitted, every one verifies", what, m.n);
		check_decode_sizes(&m, &root, data, len, what);

		/* The same bytes in other pieces: the same root. */
		for (int ch = CH_TINY; ch < CH_COUNT; ch++) {
			struct bmap m2;

			if (ch == CH_TINY && len > 65536)
				continue;
			bmap_init(&m2);
			TAP_OK(encode(&m2, data, len, ch, &again) == 0 &&
			    root_eq(&root, &again) && m2.n == m.n,
			    "%s: %s give the same root", what, ch_name[ch]);
			bmap_free(&m2);
		}
		bmap_free(&m);
	}
	free(data);
}

/* Encodes data as a typed stream of type; returns the encoder's result. */
static int
encode_typed(struct bmap *m, const char *type, const uint8_t *data,
    size_t len, struct chk_root *root)
{
	struct chk_encoder *enc;
	int rc;

	if ((rc = chk_encoder_new(&enc, emit_cb, m)) != 0)
		return rc;
	if ((rc = chk_encoder_set_type(enc, type)) == 0 &&
	    (rc = chk_encoder_write(enc, data, len)) == 0)
		rc = chk_encoder_finish(enc, root);
	chk_encoder_free(enc);
	return rc;
}

/* Decodes a typed document whole: its type into type (or "" if none came)
 * and its bytes into out. */
static int
decode_typed(const struct bmap *m, const struct chk_root *root, char *type,
    uint8_t *out, size_t cap, size_t *total)
{
	struct chk_decoder *d;
	struct chk_ref want;
	struct bent *e;
	size_t got;
	int rc;

	*total = 0;
	type[0] = '\0';
	if ((rc = chk_decoder_new(&d, root)) != 0)
		return rc;
	for (;;) {
		if ((rc = chk_decoder_read(d, out + *total, cap - *total,
		    &got)) != 0)
			break;
		if (chk_decoder_type(d) != NULL && type[0] == '\0')
			snprintf(type, CHK_TYPE_MAX + 1, "%s",
			    chk_decoder_type(d));
		*total += got;
		if (got > 0)
			continue;
		if (!chk_decoder_want(d, &want))
			break;
		if ((e = bmap_get(m, want.rkey)) == NULL) {
			rc = DEC_MISSING;
			break;
		}
		if ((rc = chk_decoder_feed(d, e->cipher)) != 0)
			break;
	}
	chk_decoder_free(d);
	return rc;
}

static void
test_typed(void)
{
	static const char *const bad[] = { "", "text", "text/", "/html",
	    "Text/html", "text/html; charset=utf-8", "text//html", "text/ht ml",
	    "-text/html", "text/-html", "a/b/c" };
	static const size_t sizes[] = { 0, 100, 3 * BS };
	uint8_t *data = tap_xmalloc(3 * BS), *out = tap_xmalloc(3 * BS);
	char type[CHK_TYPE_MAX + 1], uri[URI_MAX_LEN], longest[CHK_TYPE_MAX + 2];
	struct chk_root root, plain;
	struct chk_encoder *enc;
	struct uri u, back;
	struct bmap m;
	size_t total;
	bool ok = true;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok &= chk_type_check(bad[i], strlen(bad[i])) == CHK_EFORMAT;
	TAP_OK(ok, "chk_type_check refuses %zu malformed types",
	    sizeof(bad) / sizeof(bad[0]));
	memset(longest, 'a', sizeof(longest) - 1);
	longest[1] = '/';
	longest[CHK_TYPE_MAX] = '\0';
	TAP_OK(chk_type_check("text/html", 9) == 0 &&
	    chk_type_check("application/vnd.oasis.opendocument.text+xml", 43) ==
	    0 && chk_type_check(longest, CHK_TYPE_MAX) == 0 &&
	    chk_type_check(longest, CHK_TYPE_MAX + 1) == CHK_EFORMAT,
	    "chk_type_check takes real types up to %d bytes", CHK_TYPE_MAX);
	rng_fill(data, 3 * BS, 7);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		bmap_init(&m);
		TAP_OK(encode_typed(&m, "video/webm", data, sizes[i], &root) ==
		    0 && root.typed && root.data_len == sizes[i] + 11,
		    "%zu bytes typed video/webm: encodes, data_len counts the "
		    "record", sizes[i]);
		TAP_OK(decode_typed(&m, &root, type, out, 3 * BS, &total) == 0 &&
		    strcmp(type, "video/webm") == 0 && total == sizes[i] &&
		    memcmp(out, data, total) == 0,
		    "... decodes to the type and exactly the document");
		memset(&u, 0, sizeof(u));
		u.root = root;
		TAP_OK(uri_format(&u, uri, sizeof(uri)) == 0 &&
		    uri_parse(&back, uri, strlen(uri)) == 0 &&
		    back.root.typed && root_eq(&root, &back.root) &&
		    strncmp(uri + 118 - 26, "Ag", 2) == 0,
		    "... its URI says version 2 and parses back typed");
		bmap_free(&m);
	}
	bmap_init(&m);
	TAP_OK(encode(&m, data, 100, CH_WHOLE, &plain) == 0 &&
	    encode_typed(&m, "text/plain", data, 100, &root) == 0 &&
	    memcmp(plain.ref.rkey, root.ref.rkey, CHK_KEY_SIZE) != 0,
	    "the same bytes typed and untyped have different keys");
	bmap_free(&m);
	bmap_init(&m);
	TAP_OK(chk_encoder_new(&enc, emit_cb, &m) == 0 &&
	    chk_encoder_set_type(enc, "text/HTML") == CHK_EFORMAT &&
	    chk_encoder_write(enc, data, 1) == 0 &&
	    chk_encoder_set_type(enc, "text/html") == CHK_ESTATE,
	    "set_type: a bad type is CHK_EFORMAT, after a write CHK_ESTATE");
	chk_encoder_free(enc);
	bmap_free(&m);
	/* A typed root whose stream does not hold a whole, valid record. */
	memset(out, 0, BS);
	memset(&root, 0, sizeof(root));
	root.typed = 1;
	root.data_len = root.stream_len = 5;
	memcpy(out, "\x09text/", 6);
	bmap_init(&m);
	put_plain_root(&m, out, &root);
	TAP_OK(decode_typed(&m, &root, type, data, BS, &total) ==
	    CHK_EFORMAT && type[0] == '\0' && total == 0,
	    "a record cut by the end of the stream: CHK_EFORMAT, no bytes");
	bmap_free(&m);
	root.data_len = root.stream_len = 9;
	memcpy(out, "\x04TEXT/abcd", 9);
	bmap_init(&m);
	put_plain_root(&m, out, &root);
	TAP_OK(decode_typed(&m, &root, type, data, BS, &total) ==
	    CHK_EFORMAT && total == 0,
	    "a record with an upper-case type: CHK_EFORMAT");
	bmap_free(&m);
	root.data_len = root.stream_len = 3;
	memcpy(out, "\x00" "ab", 3);
	bmap_init(&m);
	put_plain_root(&m, out, &root);
	TAP_OK(decode_typed(&m, &root, type, data, BS, &total) ==
	    CHK_EFORMAT && total == 0, "a record of length 0: CHK_EFORMAT");
	bmap_free(&m);
	free(data);
	free(out);
}

/* Feeds blocks from m until the decoder has what it wants, or fails. */
static int
feed_wanted(struct chk_decoder *d, const struct bmap *m, size_t *feeds)
{
	struct chk_ref want;
	struct bent *e;

	if (!chk_decoder_want(d, &want))
		return 0;
	if ((e = bmap_get(m, want.rkey)) == NULL)
		return DEC_MISSING;
	(*feeds)++;
	return chk_decoder_feed(d, e->cipher);
}

/* Opens root, reads a typed stream's record, seeks to pos and reads to
 * the end into out: the result, the bytes read and the blocks fed after
 * the seek. */
static int
decode_from(const struct bmap *m, const struct chk_root *root, uint64_t pos,
    uint8_t *out, size_t cap, size_t *total, size_t *feeds)
{
	struct chk_decoder *d;
	struct chk_ref want;
	size_t got;
	int rc;

	*total = *feeds = 0;
	if ((rc = chk_decoder_new(&d, root)) != 0)
		return rc;
	rc = feed_wanted(d, m, feeds);		/* the root */
	while (rc == 0 && root->typed && chk_decoder_type(d) == NULL) {
		if ((rc = chk_decoder_read(d, NULL, 0, &got)) == 0 &&
		    chk_decoder_type(d) == NULL)
			rc = feed_wanted(d, m, feeds);
	}
	if (rc == 0)
		rc = chk_decoder_seek(d, pos);
	*feeds = 0;
	while (rc == 0) {
		if ((rc = chk_decoder_read(d, out + *total, cap - *total,
		    &got)) != 0)
			break;
		*total += got;
		if (got > 0)
			continue;
		if (!chk_decoder_want(d, &want))
			break;
		rc = feed_wanted(d, m, feeds);
	}
	chk_decoder_free(d);
	return rc;
}

static void
test_seek(void)
{
	static const size_t sizes[] = { 100, 3 * BS + 5, 600 * BS + 7 };
	size_t maxlen = 600 * BS + 7, total, feeds;
	uint8_t *data = tap_xmalloc(maxlen), *out = tap_xmalloc(maxlen);
	struct chk_root root;
	struct chk_decoder *d;
	struct bmap m;
	size_t got;

	rng_fill(data, maxlen, 99);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		uint64_t pos[] = { 0, 1, BS - 1, BS, len / 2, len - 1, len };
		bool ok = true;

		bmap_init(&m);
		TAP_OK(encode(&m, data, len, CH_WHOLE, &root) == 0 &&
		    root.codec == CHK_CODEC_NONE, "seek: %zu random bytes "
		    "encode raw", len);
		for (size_t j = 0; j < sizeof(pos) / sizeof(pos[0]); j++) {
			if (pos[j] > len)
				continue;
			ok &= decode_from(&m, &root, pos[j], out, maxlen,
			    &total, &feeds) == 0 && total == len - pos[j] &&
			    memcmp(out, data + pos[j], total) == 0;
		}
		TAP_OK(ok, "... from each of 0, 1, BS-1, BS, the middle, the "
		    "last byte and the end: exactly the rest");
		TAP_OK(decode_from(&m, &root, len - 1, out, maxlen, &total,
		    &feeds) == 0 && feeds <= (size_t)root.depth,
		    "... the last byte costs %zu blocks after the seek (depth "
		    "%d), not the %zu before it", feeds, root.depth,
		    (len - 1) / BS);
		TAP_OK(decode_from(&m, &root, len + 1, out, maxlen, &total,
		    &feeds) == CHK_EFORMAT, "... past the end: CHK_EFORMAT");
		bmap_free(&m);
	}
	/* Seeking back after reading: the walk goes up and down again. */
	bmap_init(&m);
	TAP_OK(encode(&m, data, 600 * BS + 7, CH_WHOLE, &root) == 0 &&
	    chk_decoder_new(&d, &root) == 0, "seek back: a depth-2 document");
	total = feeds = 0;
	while (total < 520 * BS && chk_decoder_read(d, out, maxlen, &got) ==
	    0 && (got > 0 || feed_wanted(d, &m, &feeds) == 0))
		total += got;
	TAP_OK(total >= 520 * BS && chk_decoder_seek(d, 7) == 0 &&
	    chk_decoder_read(d, out, 1, &got) == 0 && got == 0 &&
	    feed_wanted(d, &m, &feeds) == 0 && feed_wanted(d, &m, &feeds) == 0 &&
	    chk_decoder_read(d, out, 5, &got) == 0 && got == 5 &&
	    memcmp(out, data + 7, 5) == 0,
	    "after 520 blocks, a seek to byte 7 refetches 2 blocks and reads "
	    "it");
	chk_decoder_free(d);
	bmap_free(&m);
	/* A typed raw stream: positions count document bytes. */
	bmap_init(&m);
	TAP_OK(encode_typed(&m, "video/webm", data, 2 * BS, &root) == 0 &&
	    decode_from(&m, &root, BS - 3, out, maxlen, &total, &feeds) == 0 &&
	    total == BS + 3 && memcmp(out, data + BS - 3, total) == 0,
	    "a typed stream: seek counts document bytes, past the record");
	bmap_free(&m);
	/* Where seeking is refused. */
	bmap_init(&m);
	memset(data, 'z', MIB);
	TAP_OK(encode(&m, data, MIB, CH_WHOLE, &root) == 0 &&
	    root.codec == CHK_CODEC_ZSTD && decode_from(&m, &root, 5, out,
	    maxlen, &total, &feeds) == CHK_ESTATE,
	    "a compressed stream: CHK_ESTATE");
	TAP_OK(chk_decoder_new(&d, &root) == 0 &&
	    chk_decoder_seek(d, 0) == CHK_ESTATE,
	    "before the root is fed: CHK_ESTATE");
	chk_decoder_free(d);
	bmap_free(&m);
	free(data);
	free(out);
}

static void
test_compressed(void)
{
	size_t len = 3 * MIB + 12345;
	uint8_t *text = tap_xmalloc(len);
	struct chk_root root, again;
	struct bmap m, m2;

	make_text(text, len, 7);
	bmap_init(&m);
	TAP_OK(encode(&m, text, len, CH_WHOLE, &root) == 0, "text: encodes");
	TAP_OK(root.codec == CHK_CODEC_ZSTD && root.data_len == len &&
	    root.stream_len < len / 2,
	    "text: codec zstd, %llu -> %llu bytes",
	    (unsigned long long)len, (unsigned long long)root.stream_len);
	TAP_OK(m.n == blocks_of(&root) && m.n < (len + BS - 1) / BS &&
	    m.bad == 0, "text: %zu blocks (raw would be %zu), all verify",
	    m.n, (size_t)((len + BS - 1) / BS + 1));
	check_decode_sizes(&m, &root, text, len, "text");
	for (int ch = CH_TINY; ch < CH_COUNT; ch++) {
		if (ch == CH_TINY && quick)
			continue;
		bmap_init(&m2);
		TAP_OK(encode(&m2, text, len, ch, &again) == 0 &&
		    root_eq(&root, &again) && m2.n == m.n,
		    "text: %s give the same root", ch_name[ch]);
		bmap_free(&m2);
	}
	bmap_free(&m);

	/* Small compressible documents: under one 128 KiB zstd piece (one
	 * ZSTD_e_end call) and just over one. */
	static const size_t small[] = { 1000, 4096, BS + 1, 200000 };
	for (size_t i = 0; i < 4; i++) {
		char what[32];
		int rc;

		snprintf(what, sizeof(what), "text %zu", small[i]);

		bmap_init(&m);
		rc = encode(&m, text, small[i], CH_WHOLE, &root);
		TAP_OK(rc == 0 && root.codec == CHK_CODEC_ZSTD &&
		    root.stream_len < small[i] / 2,
		    "text %zu: zstd, %llu stream bytes", small[i],
		    (unsigned long long)root.stream_len);
		check_decode_sizes(&m, &root, text, small[i], what);
		for (int ch = CH_TINY; ch < CH_COUNT; ch++) {
			bmap_init(&m2);
			TAP_OK(encode(&m2, text, small[i], ch, &again) == 0 &&
			    root_eq(&root, &again),
			    "text %zu: %s give the same root", small[i],
			    ch_name[ch]);
			bmap_free(&m2);
		}
		bmap_free(&m);
	}

	/* Zeros: the extreme ratio. */
	uint8_t *z = calloc(1, 2 * MIB);
	int zrc;

	bmap_init(&m);
	zrc = z == NULL ? -1 : encode(&m, z, 2 * MIB, CH_WHOLE, &root);
	TAP_OK(zrc == 0 && root.codec == CHK_CODEC_ZSTD && root.depth == 0 &&
	    root.stream_len < 1000, "2 MiB of zeros: zstd, %llu bytes",
	    (unsigned long long)root.stream_len);
	if (z != NULL)
		check_decode_sizes(&m, &root, z, 2 * MIB, "zeros");
	bmap_free(&m);
	free(z);
	free(text);
}

/* The compression rule: compress only if the sample shrinks by 1/32. */
static void
test_compress_threshold(void)
{
	size_t len = 64 * 1024;
	uint8_t *p = tap_xmalloc(len);
	struct chk_root root;
	struct bmap m;

	/* Random: zstd cannot save 1/32. */
	rng_fill(p, len, 5);
	bmap_init(&m);
	TAP_OK(encode(&m, p, len, CH_WHOLE, &root) == 0 &&
	    root.codec == CHK_CODEC_NONE, "random 64 KiB stays raw");
	bmap_free(&m);
	/* Random, then half zeros: clearly worth it. */
	memset(p + len / 2, 0, len / 2);
	bmap_init(&m);
	TAP_OK(encode(&m, p, len, CH_WHOLE, &root) == 0 &&
	    root.codec == CHK_CODEC_ZSTD, "half zeros: zstd");
	check_decode_sizes(&m, &root, p, len, "half zeros");
	bmap_free(&m);
	/* Compressible after the 1 MiB sample only: stays raw. */
	free(p);
	len = MIB + 4 * BS;
	p = calloc(1, len);
	rng_fill(p, MIB, 6);
	bmap_init(&m);
	TAP_OK(encode(&m, p, len, CH_WHOLE, &root) == 0 &&
	    root.codec == CHK_CODEC_NONE && root.stream_len == len,
	    "random sample then zeros: decided on the sample, raw");
	bmap_free(&m);
	free(p);
}

/* ---- 5. URI known answers --------------------------------------------- */

static const char uri_kat_hello[] =
    "CHK@kGal1QZd5emSr4fuf9oc6Tqoo6zFLd_O6yXHno2Flw0,"
    "bNwgz_R7AAwsqSbumr7b3g0kncYnIiLp99pCq8sRcBQ,"
    "AQAAAAAAAAAAAA0AAAAAAAAADQ";
static const char uri_kat_empty[] =
    "CHK@v9h4voiIumTDvGgAqaiqQPBVHkeL1kIsh01UonGxz0U,"
    "oXtYUo1WTZyRLHKSXPKEhxsou0VFAtmKWgTZc-wB0ek,"
    "AQAAAAAAAAAAAAAAAAAAAAAAAA";

static void
test_uri_kat(void)
{
	static const char hello[] = "hello, umbra\n";
	char buf[URI_MAX_LEN];
	struct chk_root root;
	struct uri u, p;
	struct bmap m;
	struct dres r;
	struct chk_ref want;
	uint8_t out[16], *zero;

	bmap_init(&m);
	TAP_OK(encode(&m, (const uint8_t *)hello, 13, CH_WHOLE, &root) == 0 &&
	    root.codec == CHK_CODEC_NONE && root.depth == 0 &&
	    root.data_len == 13, "URI KAT: hello encodes raw, depth 0");
	memset(&u, 0, sizeof(u));
	u.root = root;
	TAP_OK(uri_format(&u, buf, sizeof(buf)) == URI_OK,
	    "URI KAT: hello formats");
	TAP_OK(strcmp(buf, uri_kat_hello) == 0, "URI KAT: hello is %s", buf);
	zero = tap_xmalloc(BS);
	memset(zero, 0, BS);
	memcpy(zero, hello, 13);
	ref_encode_root(zero, CHK_CODEC_NONE, 0, 13, 13, &want);
	free(zero);
	TAP_OK(memcmp(&want, &root.ref, sizeof(want)) == 0,
	    "URI KAT: hello's root matches the libsodium reference");
	TAP_OK(uri_parse(&p, uri_kat_hello, strlen(uri_kat_hello)) == URI_OK &&
	    root_eq(&p.root, &root) && p.name[0] == '\0',
	    "URI KAT: the hard-coded hello URI parses to the root");
	TAP_OK(decode(&m, &p.root, sizeof(out), out, 13, &r) == 0 &&
	    r.total == 13 && memcmp(out, hello, 13) == 0,
	    "URI KAT: the hard-coded hello URI decodes to the text");
	bmap_free(&m);

	bmap_init(&m);
	TAP_OK(encode(&m, NULL, 0, CH_WHOLE, &root) == 0 &&
	    root.codec == CHK_CODEC_NONE && root.depth == 0 &&
	    root.data_len == 0 && root.stream_len == 0,
	    "URI KAT: the empty document encodes");
	zero = tap_xmalloc(BS);
	memset(zero, 0, BS);
	ref_encode_root(zero, CHK_CODEC_NONE, 0, 0, 0, &want);
	free(zero);
	TAP_OK(memcmp(&want, &root.ref, sizeof(want)) == 0,
	    "URI KAT: the empty document's root is the all-zero block keyed "
	    "with its description (libsodium reference)");
	u.root = root;
	TAP_OK(uri_format(&u, buf, sizeof(buf)) == URI_OK &&
	    strcmp(buf, uri_kat_empty) == 0, "URI KAT: empty is %s", buf);
	TAP_OK(uri_parse(&p, uri_kat_empty, strlen(uri_kat_empty)) == URI_OK &&
	    decode(&m, &p.root, 1, out, 0, &r) == 0 && r.total == 0 &&
	    r.feeds == 1, "URI KAT: empty URI decodes to nothing");
	bmap_free(&m);
}

/* ---- 6. tampering with an honest tree --------------------------------- */

static void
test_tamper(void)
{
	size_t len = 3 * BS + 1000;	/* 4 data blocks, depth 1 */
	uint8_t *data = tap_xmalloc(len), *out = tap_xmalloc(len + BS);
	struct chk_root root, bad;
	struct chk_ref refs[4], idx;
	uint8_t *plain = tap_xmalloc(BS), *saved = tap_xmalloc(BS);
	uint8_t extra[CHK_EXTRA_SIZE];
	struct bmap m;
	struct bent *e, *e2;
	struct dres r;

	rng_fill(data, len, 99);
	data[len - 1] = 0xab;	/* the last byte is not zero */
	bmap_init(&m);
	if (encode(&m, data, len, CH_WHOLE, &root) != 0 || root.depth != 1) {
		TAP_OK(0, "tamper: setup");
		goto out;
	}
	e = bmap_get(&m, root.ref.rkey);
	chk_root_extra(&root, extra);
	TAP_OK(e != NULL && chk_block_decode(e->cipher, plain, &root.ref) ==
	    CHK_EBADBLOCK, "tamper: the root does not decrypt as a plain block");
	TAP_OK(e != NULL && chk_block_decode_root(e->cipher, plain, &root.ref,
	    extra) == 0 && chk_index_parse(plain, 4, refs) == 0,
	    "tamper: root index has 4 entries");
	idx = root.ref;

	/* A lost block: the fetch fails; the decoder waits for it. */
	for (int k = -1; k < 4; k++) {
		e = bmap_get(&m, k < 0 ? idx.rkey : refs[k].rkey);
		e->hidden = true;
		decode(&m, &root, 4096, out, len, &r);
		TAP_OK(r.rc == DEC_MISSING && r.still_wants &&
		    r.total == (uint64_t)(k < 0 ? 0 : k) * BS && !r.over,
		    "tamper: %s %d missing -> fetch fails after %llu bytes, "
		    "decoder still wants it", k < 0 ? "index" : "data block",
		    k, (unsigned long long)r.total);
		e->hidden = false;
	}

	/* One block's ciphertext replaced by another valid block. */
	e = bmap_get(&m, refs[2].rkey);
	e2 = bmap_get(&m, refs[1].rkey);
	memcpy(saved, e->cipher, BS);
	memcpy(e->cipher, e2->cipher, BS);
	decode(&m, &root, 4096, out, len, &r);
	TAP_OK(r.rc == CHK_EBADBLOCK && r.total == 2 * BS && !r.over,
	    "tamper: data block 2 swapped for block 1 -> EBADBLOCK (rc %d)",
	    r.rc);
	memcpy(e->cipher, saved, BS);

	e = bmap_get(&m, idx.rkey);
	memcpy(saved, e->cipher, BS);
	memcpy(e->cipher, e2->cipher, BS);
	decode(&m, &root, 4096, out, len, &r);
	TAP_OK(r.rc == CHK_EBADBLOCK && r.total == 0,
	    "tamper: index swapped for a data block -> EBADBLOCK");
	memcpy(e->cipher, saved, BS);
	e->cipher[BS - 1] ^= 1;
	decode(&m, &root, 4096, out, len, &r);
	TAP_OK(r.rc == CHK_EBADBLOCK && r.total == 0,
	    "tamper: index with one bit flipped -> EBADBLOCK");
	memcpy(e->cipher, saved, BS);

	decode(&m, &root, 4096, out, len, &r);
	TAP_OK(r.rc == 0 && r.total == len && memcmp(out, data, len) == 0,
	    "tamper: repaired store decodes");

	/* The root's fields. */
	bad = root;
	bad.data_len++;
	TAP_OK(decode(&m, &bad, 4096, out, len + 1, &r) == CHK_EFORMAT &&
	    r.feeds == 0, "tamper: raw, data_len + 1 -> chk_decoder_new "
	    "EFORMAT");
	bad = root;
	bad.data_len--;
	TAP_OK(decode(&m, &bad, 4096, out, len - 1, &r) == CHK_EFORMAT &&
	    r.feeds == 0, "tamper: raw, data_len - 1 -> chk_decoder_new "
	    "EFORMAT");
	bad = root;
	bad.data_len--;
	bad.stream_len--;
	decode(&m, &bad, 4096, out, len - 1, &r);
	TAP_OK(r.rc == CHK_EBADBLOCK && r.total == 0 && !r.over,
	    "tamper: raw, both lengths - 1 -> EBADBLOCK at the root (it is "
	    "keyed with the lengths)");
	/* Within the last block's padding only the root's key can tell. */
	bad = root;
	bad.data_len++;
	bad.stream_len++;
	decode(&m, &bad, 4096, out, len + 1, &r);
	TAP_OK(r.rc == CHK_EBADBLOCK && r.total == 0 && !r.over,
	    "tamper: raw, both lengths + 1 -> EBADBLOCK at the root, nothing "
	    "out");
	bad = root;
	bad.data_len += BS;
	bad.stream_len += BS;
	TAP_OK(decode(&m, &bad, 4096, out, len, &r) == CHK_EBADBLOCK &&
	    r.total == 0, "tamper: raw, one block longer -> EBADBLOCK at the "
	    "root");
	bad = root;
	bad.data_len -= BS;
	bad.stream_len -= BS;
	TAP_OK(decode(&m, &bad, 4096, out, len, &r) == CHK_EBADBLOCK &&
	    r.total == 0, "tamper: raw, one block shorter -> EBADBLOCK at the "
	    "root");
	bad = root;
	bad.depth = 2;
	TAP_OK(decode(&m, &bad, 4096, out, len, &r) == CHK_EFORMAT &&
	    r.feeds == 0, "tamper: depth 2 -> chk_decoder_new EFORMAT");
	bad.depth = 0;
	TAP_OK(decode(&m, &bad, 4096, out, len, &r) == CHK_EFORMAT &&
	    r.feeds == 0, "tamper: depth 0 -> chk_decoder_new EFORMAT");
	bad.depth = 255;
	TAP_OK(decode(&m, &bad, 4096, out, len, &r) == CHK_EFORMAT,
	    "tamper: depth 255 -> EFORMAT");
	bad = root;
	bad.codec = 2;
	TAP_OK(decode(&m, &bad, 4096, out, len, &r) == CHK_EFORMAT &&
	    r.feeds == 0, "tamper: codec 2 -> chk_decoder_new EFORMAT");
	bad = root;
	bad.codec = CHK_CODEC_ZSTD;
	decode(&m, &bad, 4096, out, len, &r);
	TAP_OK(r.rc == CHK_EBADBLOCK && r.total == 0,
	    "tamper: raw random data claimed zstd -> EBADBLOCK at the root");
	bad = root;
	bad.stream_len = bad.data_len = CHK_MAX_STREAM + 1;
	bad.depth = 4;
	TAP_OK(decode(&m, &bad, 4096, out, len, &r) == CHK_ETOOBIG,
	    "tamper: stream_len past the maximum -> ETOOBIG");
	bad = root;
	memcpy(&bad.ref, &refs[0], sizeof(bad.ref));
	decode(&m, &bad, 4096, out, len, &r);
	TAP_OK(r.rc == CHK_EBADBLOCK && r.total == 0,
	    "tamper: a data block as the root -> EBADBLOCK (not keyed as a "
	    "root; rc %d)", r.rc);
	bad = root;
	bad.ref.ckey[5] ^= 4;
	TAP_OK(decode(&m, &bad, 4096, out, len, &r) == CHK_EBADBLOCK,
	    "tamper: wrong root ckey -> EBADBLOCK");
out:
	bmap_free(&m);
	free(data);
	free(out);
	free(plain);
	free(saved);
}

static void
test_tamper_compressed(void)
{
	size_t len = 300000;
	uint8_t *text = tap_xmalloc(len), *out = tap_xmalloc(len + 2);
	struct chk_root root, bad;
	struct bmap m;
	struct dres r;
	static const size_t reads[] = { 1, 4096, 100000 };

	make_text(text, len, 11);
	bmap_init(&m);
	if (encode(&m, text, len, CH_WHOLE, &root) != 0 ||
	    root.codec != CHK_CODEC_ZSTD) {
		TAP_OK(0, "tamper zstd: setup");
		goto out;
	}
	for (size_t k = 0; k < 3; k++) {
		bad = root;
		bad.data_len++;
		decode(&m, &bad, reads[k], out, bad.data_len, &r);
		TAP_OK(r.rc == CHK_EBADBLOCK && r.total == 0 && !r.over,
		    "tamper zstd: data_len + 1, reads of %zu -> EBADBLOCK at "
		    "the root, %llu bytes out", reads[k],
		    (unsigned long long)r.total);
		bad = root;
		bad.data_len--;
		decode(&m, &bad, reads[k], out, bad.data_len, &r);
		TAP_OK(r.rc == CHK_EBADBLOCK && r.total == 0 && !r.over,
		    "tamper zstd: data_len - 1, reads of %zu -> EBADBLOCK at "
		    "the root", reads[k]);
	}
	bad = root;
	bad.data_len = 0;
	decode(&m, &bad, 4096, out, 0, &r);
	TAP_OK(r.rc == CHK_EBADBLOCK && r.total == 0,
	    "tamper zstd: data_len 0 -> EBADBLOCK, nothing out");
	bad = root;
	bad.codec = CHK_CODEC_NONE;
	TAP_OK(decode(&m, &bad, 4096, out, len, &r) == CHK_EFORMAT &&
	    r.feeds == 0, "tamper zstd: claimed raw -> EFORMAT (lengths "
	    "disagree)");
	bad = root;
	bad.stream_len--;
	decode(&m, &bad, 4096, out, len, &r);
	TAP_OK(r.rc == CHK_EBADBLOCK && r.total == 0 && !r.over,
	    "tamper zstd: stream_len - 1 -> EBADBLOCK at the root");
	bad = root;
	bad.stream_len++;
	decode(&m, &bad, 4096, out, len, &r);
	TAP_OK(r.rc == CHK_EBADBLOCK && !r.over && r.total == 0,
	    "tamper zstd: stream_len + 1 -> EBADBLOCK at the root");
out:
	bmap_free(&m);
	free(text);
	free(out);
}

/* ---- 7. hand-built hostile trees -------------------------------------- */

/* Stores a stream as data blocks (and one index block if needed) and
 * fills *root; depth <= 1. Returns false if the stream is too long. */
static bool
build_tree(struct bmap *m, const uint8_t *stream, size_t slen, int codec,
    uint64_t data_len, struct chk_root *root)
{
	uint8_t *plain = tap_xmalloc(BS), *index = tap_xmalloc(BS);
	size_t nblocks = slen == 0 ? 1 : (slen + BS - 1) / BS;
	struct chk_ref ref;

	if (nblocks > CHK_FANOUT) {
		free(plain);
		free(index);
		return false;
	}
	memset(index, 0, BS);
	for (size_t i = 0; i < nblocks; i++) {
		size_t take = slen - i * BS < BS ? slen - i * BS : BS;

		memset(plain, 0, BS);
		if (take > 0)
			memcpy(plain, stream + i * BS, take);
		if (nblocks == 1)
			break;	/* the one block is the root, keyed below */
		put_plain(m, plain, &ref);
		memcpy(index + i * 64, ref.rkey, 32);
		memcpy(index + i * 64 + 32, ref.ckey, 32);
	}
	memset(root, 0, sizeof(*root));
	root->depth = nblocks > 1;
	root->codec = (uint8_t)codec;
	root->data_len = data_len;
	root->stream_len = slen;
	put_plain_root(m, nblocks > 1 ? index : plain, root);
	free(plain);
	free(index);
	return true;
}

static size_t
zcompress(uint8_t **out, const void *src, size_t len, int wlog, int level,
    int csize_flag)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t bound = ZSTD_compressBound(len), n;

	*out = tap_xmalloc(bound);
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, csize_flag);
	n = ZSTD_compress2(c, *out, bound, src, len);
	ZSTD_freeCCtx(c);
	if (ZSTD_isError(n)) {
		printf("Bail out! zstd: %s\n", ZSTD_getErrorName(n));
		exit(1);
	}
	return n;
}

/* The window size a zstd frame header declares (RFC 8878 3.1.1.1), or 0
 * if this is not a zstd frame header. */
static uint64_t
zwindow(const uint8_t *z, size_t zn)
{
	static const size_t did_size[] = { 0, 1, 2, 4 }, fcs_size[] = { 1, 2,
	    4, 8 };
	uint64_t base, fcs = 0;
	size_t pos;
	uint8_t fhd;

	if (zn < 6 || z[0] != 0x28 || z[1] != 0xb5 || z[2] != 0x2f ||
	    z[3] != 0xfd)
		return 0;
	fhd = z[4];
	if (!(fhd & 0x20)) {	/* a window descriptor follows */
		base = (uint64_t)1 << (10 + (z[5] >> 3));
		return base + base / 8 * (z[5] & 7);
	}
	/* Single segment: the window is the content size. */
	pos = 5 + did_size[fhd & 3];
	if (zn < pos + fcs_size[fhd >> 6])
		return 0;
	for (size_t i = fcs_size[fhd >> 6]; i-- > 0;)
		fcs = fcs << 8 | z[pos + i];
	return (fhd >> 6) == 1 ? fcs + 256 : fcs;
}

static void
test_hostile(void)
{
	uint8_t *plain = tap_xmalloc(BS), *index = tap_xmalloc(BS);
	uint8_t *out = tap_xmalloc(4 * MIB + 100), *z, *s;
	struct chk_ref ref[3], iref;
	struct chk_root root;
	struct bmap m;
	struct dres r;
	size_t zn;

	/* (a) an index with a zero entry where one is expected. */
	bmap_init(&m);
	memset(index, 0, BS);
	for (int i = 0; i < 3; i++) {
		memset(plain, 'a' + i, BS);
		put_plain(&m, plain, &ref[i]);
		if (i < 2)
			memcpy(index + i * 64, &ref[i], 64);
	}
	put_plain(&m, index, &iref);
	memset(&root, 0, sizeof(root));
	root.ref = iref;
	root.depth = 1;
	root.data_len = root.stream_len = 2 * BS + 10;	/* 3 blocks */
	decode_as_root(&m, index, &root, 4096, out, root.data_len, &r);
	TAP_OK(r.rc == CHK_EFORMAT && r.total == 0 && r.feeds == 1,
	    "hostile (a): index with 2 entries where 3 are expected -> "
	    "EFORMAT before any data");
	/* ... and with one entry too many. */
	memcpy(index + 2 * 64, &ref[2], 64);
	put_plain(&m, index, &iref);
	root.ref = iref;
	root.data_len = root.stream_len = 2 * BS;	/* 2 blocks */
	decode_as_root(&m, index, &root, 4096, out, root.data_len, &r);
	TAP_OK(r.rc == CHK_EFORMAT && r.total == 0,
	    "hostile (a): index with 3 entries where 2 are expected -> "
	    "EFORMAT");
	/* ... and the honest use of the same index. */
	root.data_len = root.stream_len = 2 * BS + 1;
	decode_as_root(&m, index, &root, 4096, out, root.data_len, &r);
	TAP_OK(r.rc == CHK_EFORMAT && r.total == 2 * BS,
	    "hostile (a): third block 'ccc...' with stream_len ending after "
	    "its first byte -> EFORMAT (padding)");
	root.data_len = root.stream_len = 3 * BS;
	decode_as_root(&m, index, &root, 4096, out, root.data_len, &r);
	TAP_OK(r.rc == 0 && r.total == 3 * BS && out[3 * BS - 1] == 'c',
	    "hostile (a): the hand-built index used honestly decodes");
	bmap_free(&m);

	/* (b) non-zero padding in the last data block. */
	bmap_init(&m);
	memset(plain, 0, BS);
	memset(plain, 'x', 100);
	plain[100] = 1;
	put_plain(&m, plain, &ref[0]);
	memset(&root, 0, sizeof(root));
	root.ref = ref[0];
	root.data_len = root.stream_len = 100;
	decode_as_root(&m, plain, &root, 4096, out, 100, &r);
	TAP_OK(r.rc == CHK_EFORMAT && r.total == 0,
	    "hostile (b): depth 0, byte after the data non-zero -> EFORMAT");
	plain[100] = 0;
	plain[BS - 1] = 0x40;
	put_plain(&m, plain, &ref[0]);
	root.ref = ref[0];
	decode_as_root(&m, plain, &root, 4096, out, 100, &r);
	TAP_OK(r.rc == CHK_EFORMAT && r.total == 0,
	    "hostile (b): depth 0, last byte of the block non-zero -> EFORMAT");
	root.data_len = root.stream_len = BS;
	decode_as_root(&m, plain, &root, 4096, out, BS, &r);
	TAP_OK(r.rc == 0 && r.total == BS, "hostile (b): same block as a "
	    "full one decodes");
	{
		uint8_t *st = tap_xmalloc(BS + 50);

		memset(st, 'y', BS + 50);
		build_tree(&m, st, BS + 50, CHK_CODEC_NONE, BS + 50, &root);
		decode(&m, &root, 4096, out, BS + 50, &r);
		TAP_OK(r.rc == 0 && r.total == BS + 50,
		    "hostile (b): depth 1 honest tree decodes");
		/* Now the same with garbage after byte 50 of block 2. */
		memset(plain, 0, BS);
		memset(plain, 'y', 50);
		plain[51] = 2;
		put_plain(&m, plain, &ref[1]);
		memset(index, 0, BS);
		memset(plain, 'y', BS);
		put_plain(&m, plain, &ref[0]);
		memcpy(index, &ref[0], 64);
		memcpy(index + 64, &ref[1], 64);
		put_plain(&m, index, &root.ref);
		decode_as_root(&m, index, &root, 4096, out, BS + 50, &r);
		TAP_OK(r.rc == CHK_EFORMAT && r.total <= BS + 50 && !r.over,
		    "hostile (b): depth 1, last block padding non-zero -> "
		    "EFORMAT");
		free(st);
	}
	bmap_free(&m);

	/* (c) zstd with bytes after the frame. */
	static const char txt[] = "hello hello hello hello hello hello hello";
	size_t tl = sizeof(txt) - 1;
	zn = zcompress(&z, txt, tl, 19, 1, 1);
	s = tap_xmalloc(2 * zn + 16);
	memcpy(s, z, zn);
	bmap_init(&m);
	build_tree(&m, s, zn, CHK_CODEC_ZSTD, tl, &root);
	decode(&m, &root, 4096, out, tl, &r);
	TAP_OK(r.rc == 0 && r.total == tl && memcmp(out, txt, tl) == 0,
	    "hostile (c): the frame alone decodes");
	memcpy(s + zn, "GARBAGE", 7);
	build_tree(&m, s, zn + 7, CHK_CODEC_ZSTD, tl, &root);
	decode(&m, &root, 4096, out, tl, &r);
	TAP_OK(r.rc == CHK_EFORMAT && r.total <= tl && !r.over,
	    "hostile (c): frame + \"GARBAGE\" -> EFORMAT");
	memset(s + zn, 0, 7);
	build_tree(&m, s, zn + 1, CHK_CODEC_ZSTD, tl, &root);
	decode(&m, &root, 1, out, tl, &r);
	TAP_OK(r.rc == CHK_EFORMAT && r.total <= tl && !r.over,
	    "hostile (c): frame + one zero byte -> EFORMAT");
	memcpy(s + zn, z, zn);
	build_tree(&m, s, 2 * zn, CHK_CODEC_ZSTD, 2 * tl, &root);
	decode(&m, &root, 4096, out, 2 * tl, &r);
	TAP_OK(r.rc == CHK_EFORMAT && r.total <= 2 * tl && !r.over,
	    "hostile (c): two frames -> EFORMAT (one frame only)");
	build_tree(&m, s, zn - 1, CHK_CODEC_ZSTD, tl, &root);
	decode(&m, &root, 4096, out, tl, &r);
	TAP_OK(r.rc == CHK_EFORMAT && r.total <= tl && !r.over,
	    "hostile (c): frame cut short by one byte -> EFORMAT");
	free(z);
	free(s);
	bmap_free(&m);

	/* (c') a frame that ends exactly at a block boundary, then garbage
	 * in the next block. Random data is stored in raw zstd blocks, so
	 * the frame size is the data size plus a fixed overhead. */
	{
		size_t dlen = 30000, over;
		uint8_t *rnd = tap_xmalloc(BS);

		rng_fill(rnd, BS, 3);
		zn = zcompress(&z, rnd, dlen, 19, 1, 1);
		over = zn - dlen;
		free(z);
		dlen = BS - over;
		zn = zcompress(&z, rnd, dlen, 19, 1, 1);
		if (zn == BS) {
			s = tap_xmalloc(BS + 5);
			memcpy(s, z, BS);
			memcpy(s + BS, "junk!", 5);
			bmap_init(&m);
			build_tree(&m, s, BS, CHK_CODEC_ZSTD, dlen, &root);
			decode(&m, &root, 4096, out, dlen, &r);
			TAP_OK(r.rc == 0 && r.total == dlen &&
			    memcmp(out, rnd, dlen) == 0,
			    "hostile (c'): a frame of exactly one block decodes");
			build_tree(&m, s, BS + 5, CHK_CODEC_ZSTD, dlen, &root);
			decode(&m, &root, 4096, out, dlen, &r);
			TAP_OK(r.rc == CHK_EFORMAT && r.total <= dlen && !r.over,
			    "hostile (c'): junk in the block after the frame "
			    "-> EFORMAT");
			memset(s + BS, 0, 5);
			build_tree(&m, s, BS + 5, CHK_CODEC_ZSTD, dlen, &root);
			decode(&m, &root, 7, out, dlen, &r);
			TAP_OK(r.rc == CHK_EFORMAT && r.total <= dlen && !r.over,
			    "hostile (c'): zeros in the block after the frame "
			    "-> EFORMAT");
			bmap_free(&m);
			free(s);
		} else {
			TAP_OK(0, "hostile (c'): could not make a %d-byte "
			    "frame (got %zu)", BS, zn);
		}
		free(z);
		free(rnd);
	}

	/* (d) a decompression bomb: 10 MB of zeros, data_len 1000. */
	{
		size_t big = 10 * 1000 * 1000;
		uint8_t *zeros = calloc(1, big);
		static const size_t reads[] = { 1, 999, 1000, 1001, 100000,
		    MIB };
		static const uint64_t claims[] = { 0, 1000, MIB };

		zn = zcompress(&z, zeros, big, 19, 1, 0);
		bmap_init(&m);
		build_tree(&m, z, zn, CHK_CODEC_ZSTD, big, &root);
		TAP_OK(root.depth == 0, "hostile (d): 10 MB of zeros is %zu "
		    "stream bytes", zn);
		for (size_t c = 0; c < 3; c++) {
			for (size_t k = 0; k < 6; k++) {
				if (reads[k] == 1 && claims[c] > 1000)
					continue;
				/* The inserter chooses the root's claim. */
				build_tree(&m, z, zn, CHK_CODEC_ZSTD, claims[c],
				    &root);
				decode(&m, &root, reads[k], out, claims[c], &r);
				TAP_OK(r.rc == CHK_EFORMAT &&
				    r.total <= claims[c] && !r.over &&
				    r.bytes_out <= claims[c],
				    "hostile (d): bomb claiming %llu bytes, "
				    "reads of %zu -> EFORMAT after %llu bytes",
				    (unsigned long long)claims[c], reads[k],
				    (unsigned long long)r.total);
			}
		}
		/* The same frame with the true length is accepted. */
		build_tree(&m, z, zn, CHK_CODEC_ZSTD, big, &root);
		decode(&m, &root, 100000, NULL, big, &r);
		TAP_OK(r.rc == 0 && r.total == big,
		    "hostile (d): with the true length it decodes");
		bmap_free(&m);
		free(z);
		free(zeros);
	}

	/* (e) frames needing a window over 2^20. H random bytes twice over:
	 * the second copy is one match H back, so the window is needed. */
	{
		size_t half = MIB + 64 * 1024;
		uint64_t win = 0;
		uint8_t *twice = tap_xmalloc(2 * half), *back = tap_xmalloc(2 * half);
		ZSTD_DCtx *dc = ZSTD_createDCtx();
		ZSTD_outBuffer ob = { back, 2 * half, 0 };
		ZSTD_inBuffer ib;
		size_t ret;

		rng_fill(twice, half, 17);
		memcpy(twice + half, twice, half);
		zn = zcompress(&z, twice, 2 * half, 23, 1, 0);
		ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, 23);
		ib = (ZSTD_inBuffer){ z, zn, 0 };
		ret = ZSTD_decompressStream(dc, &ob, &ib);
		win = zwindow(z, zn);
		TAP_OK(ret == 0 && ob.pos == 2 * half && zn < half + half / 8 &&
		    memcmp(back, twice, 2 * half) == 0 && win > (1u << 20),
		    "hostile (e): the frame is valid (%zu bytes for %zu, "
		    "window %llu)", zn, 2 * half, (unsigned long long)win);
		ZSTD_freeDCtx(dc);
		bmap_init(&m);
		TAP_OK(build_tree(&m, z, zn, CHK_CODEC_ZSTD, 2 * half, &root) &&
		    root.depth == 1, "hostile (e): stored as a depth-1 tree");
		decode(&m, &root, 100000, out, 2 * half, &r);
		TAP_OK(r.rc == CHK_EFORMAT && r.total == 0 && !r.over,
		    "hostile (e): big window -> EFORMAT before any output");
		decode(&m, &root, 1, out, 2 * half, &r);
		TAP_OK(r.rc == CHK_EFORMAT && r.total == 0 && !r.over,
		    "hostile (e): same with reads of 1");
		bmap_free(&m);
		free(z);

		/* Window 2^21: one past the limit. */
		zn = zcompress(&z, twice, half, 21, 1, 0);
		bmap_init(&m);
		build_tree(&m, z, zn, CHK_CODEC_ZSTD, half, &root);
		decode(&m, &root, 4096, out, half, &r);
		TAP_OK(zwindow(z, zn) == (1u << 21) && r.rc == CHK_EFORMAT &&
		    r.total == 0, "hostile (e): window 2^21 -> EFORMAT");
		bmap_free(&m);
		free(z);
		/* 2^20 is the decoder's limit: accepted. */
		zn = zcompress(&z, twice, half, 20, 1, 0);
		bmap_init(&m);
		build_tree(&m, z, zn, CHK_CODEC_ZSTD, half, &root);
		decode(&m, &root, 4096, out, half, &r);
		TAP_OK(zwindow(z, zn) == (1u << 20) && r.rc == 0 &&
		    r.total == half && memcmp(out, twice, half) == 0,
		    "hostile (e): window 2^20 is accepted");
		bmap_free(&m);
		free(z);
		/* With the content size in the header a single-segment frame
		 * declares its window as the content size, refused too. */
		zn = zcompress(&z, twice, 2 * half, 23, 1, 1);
		bmap_init(&m);
		build_tree(&m, z, zn, CHK_CODEC_ZSTD, 2 * half, &root);
		decode(&m, &root, 100000, out, 2 * half, &r);
		win = zwindow(z, zn);
		TAP_OK(win > (1u << 20) && r.rc == CHK_EFORMAT &&
		    r.total == 0, "hostile (e): single-segment frame (window "
		    "%llu) -> EFORMAT", (unsigned long long)win);
		bmap_free(&m);
		free(z);
		free(twice);
		free(back);
	}

	/* (f) not a zstd frame at all, and an empty zstd stream. */
	bmap_init(&m);
	build_tree(&m, (const uint8_t *)"plain text", 10, CHK_CODEC_ZSTD, 10,
	    &root);
	decode(&m, &root, 4096, out, 10, &r);
	TAP_OK(r.rc == CHK_EFORMAT && r.total == 0,
	    "hostile (f): plain text claimed zstd -> EFORMAT");
	build_tree(&m, NULL, 0, CHK_CODEC_ZSTD, 0, &root);
	decode(&m, &root, 4096, out, 0, &r);
	TAP_OK(r.rc == CHK_EFORMAT && r.total == 0,
	    "hostile (f): zstd with stream_len 0 -> EFORMAT");
	bmap_free(&m);

	free(plain);
	free(index);
	free(out);
}

/* ---- 8. the depth-2 document and the encoder's pending references ---- */

struct pend {
	struct chk_ref refs[1100];
	int level[1100];
	size_t n;
	size_t stop_at;
};

static int
pend_cb(void *arg, const struct chk_ref *ref, int level)
{
	struct pend *p = arg;

	if (p->n >= 1100)
		return -77;
	p->refs[p->n] = *ref;
	p->level[p->n++] = level;
	return p->n == p->stop_at ? 55 : 0;
}

/* Marks the block of ref and, for an index at level >= 1, every block
 * below it (full: 512 children). Returns the blocks marked or -1. */
static long
mark_subtree(struct bmap *m, const struct chk_ref *ref, int level,
    bool *seen, uint8_t *plain)
{
	struct chk_ref *kids;
	struct bent *e = bmap_get(m, ref->rkey);
	long n = 1, k;

	if (e == NULL || seen[e - m->e])
		return -1;
	seen[e - m->e] = true;
	if (level == 0)
		return 1;
	kids = tap_xmalloc(CHK_FANOUT * sizeof(*kids));
	if (chk_block_decode(e->cipher, plain, ref) != 0 ||
	    chk_index_parse(plain, CHK_FANOUT, kids) != 0) {
		free(kids);
		return -1;
	}
	for (size_t i = 0; i < CHK_FANOUT; i++) {
		if ((k = mark_subtree(m, &kids[i], level - 1, seen, plain)) < 0) {
			free(kids);
			return -1;
		}
		n += k;
	}
	free(kids);
	return n;
}

/* Checks chk_encoder_each_pending() against the blocks emitted so far:
 * the refs and the subtrees below them must cover each exactly once. */
static void
check_pending(struct chk_encoder *enc, struct bmap *m, const char *when,
    size_t want0, size_t want1, struct pend *p)
{
	uint8_t *plain = tap_xmalloc(BS);
	bool *seen = calloc(m->cap, sizeof(*seen));
	size_t n0 = 0, n1 = 0, other = 0;
	long total = 0, k;
	int rc;

	p->n = 0;
	p->stop_at = 0;
	rc = chk_encoder_each_pending(enc, pend_cb, p);
	for (size_t i = 0; i < p->n; i++) {
		if (p->level[i] == 0)
			n0++;
		else if (p->level[i] == 1)
			n1++;
		else
			other++;
	}
	for (size_t i = 0; seen != NULL && i < p->n && total >= 0; i++) {
		k = mark_subtree(m, &p->refs[i], p->level[i], seen, plain);
		total = k < 0 ? -1 : total + k;
	}
	TAP_OK(rc == 0 && other == 0 && (want0 == (size_t)-1 || n0 == want0) &&
	    n1 == want1 && m->bad == 0,
	    "pending %s: %zu data refs, %zu index refs", when, n0, n1);
	TAP_OK(total == (long)m->n && m->emits == m->n,
	    "pending %s: they and their subtrees cover exactly the %zu blocks "
	    "emitted so far, each once (%ld)", when, m->n, total);
	free(seen);
	free(plain);
}

/* The depth-2 document (513 data blocks): round trip, determinism, and
 * the pending references while it is written in random pieces. */
static void
test_big(void)
{
	size_t len = 513 * (size_t)BS, off = 0, piece;
	uint8_t *data = tap_xmalloc(len);
	struct pend *p = calloc(1, sizeof(*p));
	struct chk_encoder *enc;
	struct chk_root root, again;
	struct bmap m, m2;
	uint64_t s = 513;
	int stage = 0, rc = 0;

	rng_fill(data, len, 42);
	bmap_init(&m);
	TAP_OK(encode(&m, data, len, CH_WHOLE, &root) == 0,
	    "random 513 blocks: encodes");
	TAP_OK(root.codec == CHK_CODEC_NONE && root.depth == 2 &&
	    root.data_len == len && root.stream_len == len,
	    "random 513 blocks: codec none, depth 2");
	TAP_OK(m.n == 516 && m.emits == 516 && m.bad == 0,
	    "random 513 blocks: 513 data + 2 + 1 index blocks, all verify");
	check_decode_sizes(&m, &root, data, len, "random 513 blocks");

	bmap_init(&m2);
	if (p == NULL || chk_encoder_new(&enc, emit_cb, &m2) != 0) {
		TAP_OK(0, "pending: setup");
		goto out;
	}
	check_pending(enc, &m2, "before any write", 0, 0, p);
	while (off < len && rc == 0) {
		piece = rng_next(&s) % 8 == 0 ? 1 + rng_next(&s) % 300000 :
		    1 + rng_next(&s) % 5000;
		if (piece > len - off)
			piece = len - off;
		/* Stop exactly at the checkpoints. */
		if (stage == 0 && off < 100 * BS && off + piece > 100 * BS)
			piece = 100 * BS - off;
		if (stage == 1 && off < 512 * BS + BS / 2 &&
		    off + piece > 512 * BS + BS / 2)
			piece = 512 * BS + BS / 2 - off;
		rc = chk_encoder_write(enc, data + off, piece);
		off += piece;
		if (stage == 0 && off == 100 * BS) {
			/* 100 data blocks, the last one just full. */
			/* A full block waits for the next byte (it could be
			 * the root of a one-block document). */
			check_pending(enc, &m2, "after 100 blocks", 99, 0, p);
			stage = 1;
		} else if (stage == 1 && off == 512 * BS + BS / 2) {
			/* 512 data blocks: the first index is full but not
			 * emitted until a 513th entry arrives. */
			check_pending(enc, &m2, "after 512.5 blocks", 512, 0, p);
			stage = 2;
		}
	}
	TAP_OK(rc == 0 && stage == 2 && chk_encoder_bytes_in(enc) == len,
	    "pending: all written in random pieces");
	check_pending(enc, &m2, "after 513 blocks", 512, 0, p);
	{
		struct chk_ref want;
		uint8_t *blk = tap_xmalloc(BS);

		memcpy(blk, data + 511 * (size_t)BS, BS);
		TAP_OK(p->n == 512 && chk_block_encode(blk, &want) == 0 &&
		    p->level[511] == 0 &&
		    memcmp(&want, &p->refs[511], sizeof(want)) == 0,
		    "pending: the last data ref is block 511; 512 waits");
		free(blk);
	}
	p->n = 0;
	p->stop_at = 1;
	TAP_OK(chk_encoder_each_pending(enc, pend_cb, p) == 55 && p->n == 1,
	    "pending: stops at the callback's first non-zero result");
	TAP_OK(chk_encoder_finish(enc, &again) == 0 && root_eq(&root, &again) &&
	    m2.n == m.n, "random 513 blocks: random pieces give the same root "
	    "and the same blocks");
	chk_encoder_free(enc);
out:
	bmap_free(&m2);
	bmap_free(&m);

	/* Given up half way: freeing an unfinished encoder leaks nothing
	 * (valgrind checks), while sampling, raw and compressing. */
	for (int st = 0; st < 3; st++) {
		size_t l = st == 0 ? 1000 : st == 1 ? 2 * MIB : 600 * 1000;
		uint8_t *src = st == 2 ? tap_xmalloc(l) : data;

		if (st == 2)
			make_text(src, l, 3);
		bmap_init(&m);
		if (chk_encoder_new(&enc, emit_cb, &m) == 0) {
			rc = chk_encoder_write(enc, src, l);
			TAP_OK(rc == 0, "abandoned encoder %d", st);
			chk_encoder_free(enc);
		}
		bmap_free(&m);
		if (st == 2)
			free(src);
	}
	free(data);
	free(p);
}

/* ---- 9. API state ----------------------------------------------------- */

static void
test_api_state(void)
{
	struct chk_encoder *enc;
	struct chk_decoder *d;
	struct chk_root root;
	struct chk_ref ref;
	struct bmap m;
	uint8_t *buf = tap_xmalloc(3 * BS), blk[16];
	size_t got;
	struct pend *p = calloc(1, sizeof(*p));

	rng_fill(buf, 3 * BS, 1);
	chk_encoder_free(NULL);
	chk_decoder_free(NULL);
	TAP_OK(1, "free(NULL) for encoder and decoder");

	bmap_init(&m);
	if (chk_encoder_new(&enc, emit_cb, &m) == 0) {
		TAP_OK(chk_encoder_write(enc, NULL, 0) == 0 &&
		    chk_encoder_bytes_in(enc) == 0,
		    "state: write of 0 bytes from NULL ok");
		TAP_OK(chk_encoder_write(enc, "abc", 3) == 0 &&
		    chk_encoder_finish(enc, &root) == 0, "state: write, finish");
		TAP_OK(chk_encoder_write(enc, "abc", 3) == CHK_ESTATE,
		    "state: write after finish -> ESTATE");
		TAP_OK(chk_encoder_finish(enc, &root) == CHK_ESTATE,
		    "state: finish twice -> ESTATE");
		chk_encoder_free(enc);
	}
	if (chk_decoder_new(&d, &root) == 0) {
		TAP_OK(chk_decoder_read(d, blk, sizeof(blk), &got) == 0 &&
		    got == 0, "state: read before any block gives nothing");
		TAP_OK(chk_decoder_read(d, blk, 0, &got) == 0 && got == 0,
		    "state: read of 0 bytes ok");
		TAP_OK(chk_decoder_want(d, &ref) &&
		    memcmp(&ref, &root.ref, sizeof(ref)) == 0,
		    "state: first want is the root");
		TAP_OK(chk_decoder_feed(d, bmap_get(&m, ref.rkey)->cipher) == 0,
		    "state: feed the root");
		TAP_OK(!chk_decoder_want(d, &ref), "state: nothing more wanted");
		TAP_OK(chk_decoder_feed(d, buf) == CHK_ESTATE,
		    "state: feed when nothing is wanted -> ESTATE");
		TAP_OK(chk_decoder_read(d, blk, 0, &got) == 0 && got == 0,
		    "state: read of 0 with data pending ok");
		TAP_OK(chk_decoder_read(d, NULL, 0, &got) == 0 && got == 0,
		    "state: read of 0 into NULL ok");
		TAP_OK(chk_decoder_read(d, blk, 2, &got) == 0 && got == 2 &&
		    memcmp(blk, "ab", 2) == 0 &&
		    chk_decoder_bytes_out(d) == 2, "state: read 2 of 3");
		TAP_OK(chk_decoder_read(d, blk, 16, &got) == 0 && got == 1 &&
		    blk[0] == 'c', "state: read the last one");
		TAP_OK(chk_decoder_read(d, blk, 16, &got) == 0 && got == 0 &&
		    !chk_decoder_want(d, &ref) && chk_decoder_bytes_out(d) == 3,
		    "state: then the end, repeatedly");
		TAP_OK(chk_decoder_read(d, blk, 16, &got) == 0 && got == 0,
		    "state: reading again after the end is harmless");
		chk_decoder_free(d);
	}
	bmap_free(&m);

	/* An emit that fails stops the encoder. */
	bmap_init(&m);
	m.fail_after = 1;
	if (chk_encoder_new(&enc, emit_cb, &m) == 0) {
		/* The sample holds everything until 1 MiB or finish. */
		TAP_OK(chk_encoder_write(enc, buf, 3 * BS) == 0,
		    "emit failure: write (still sampling)");
		TAP_OK(chk_encoder_finish(enc, &root) == 99,
		    "emit failure: finish returns the emit's value");
		TAP_OK(chk_encoder_write(enc, buf, 1) == CHK_ESTATE &&
		    chk_encoder_finish(enc, &root) == CHK_ESTATE,
		    "emit failure: the encoder refuses further work");
		TAP_OK(chk_encoder_each_pending(enc, pend_cb, p) == 0 &&
		    p->n == 1 && m.n == 1, "emit failure: each_pending still "
		    "reports the one emitted block");
		chk_encoder_free(enc);
	}
	bmap_free(&m);
	free(buf);
	free(p);
}

/* ---- 10. what the decoder will want next ------------------------------ */

#define UP_BIG 1100	/* more than any list can hold: the whole of it */
static const size_t up_max[] = { 1, 5, 32, UP_BIG };
#define UP_NMAX (sizeof(up_max) / sizeof(up_max[0]))

/* The levels (0 = data) of the blocks under the index-th node of level,
 * in pre-order, from the shape alone; into lv[at..], returns the end. */
static size_t
preorder_levels(const struct chk_shape *s, int level, uint64_t index,
    int *lv, size_t at)
{
	size_t kids = level > 0 ? chk_shape_children(s, level, index) : 0;

	lv[at++] = level;
	for (size_t i = 0; i < kids; i++)
		at = preorder_levels(s, level - 1, index * CHK_FANOUT + i, lv,
		    at);
	return at;
}

/* Where the subtree starting at p ends in a pre-order level list. */
static size_t
subtree_end(const int *lv, size_t total, size_t p)
{
	size_t q = p + 1;

	while (q < total && lv[q] < lv[p])
		q++;
	return q;
}

/* True if the block seq[p] of the level list lv is what the tree says:
 * an index block lists exactly the blocks at its children's places; data
 * block j holds data block j (data NULL: not checked, e.g. zstd). */
static bool
preorder_one(const struct bmap *m, const struct chk_root *root,
    const struct chk_ref *seq, const int *lv, size_t total, size_t p,
    size_t j, const uint8_t *data, size_t len, uint8_t *plain,
    struct chk_ref *kids)
{
	struct bent *e = bmap_get(m, seq[p].rkey);
	uint8_t extra[CHK_EXTRA_SIZE];
	size_t n = 0, q, take;
	int rc;

	if (e == NULL)
		return false;
	chk_root_extra(root, extra);
	rc = p == 0 ? chk_block_decode_root(e->cipher, plain, &seq[p], extra) :
	    chk_block_decode(e->cipher, plain, &seq[p]);
	if (rc != 0)
		return false;
	if (lv[p] == 0) {
		if (data == NULL)
			return true;
		take = len - j * BS < BS ? len - j * BS : BS;
		for (size_t i = take; i < BS; i++)
			if (plain[i] != 0)
				return false;
		return memcmp(plain, data + j * BS, take) == 0;
	}
	for (q = p + 1; q < total && lv[q] == lv[p] - 1;
	    q = subtree_end(lv, total, q))
		n++;
	if (n == 0 || chk_index_parse(plain, n, kids) != 0)
		return false;
	for (size_t i = 0, c = p + 1; i < n; i++, c = subtree_end(lv, total, c))
		if (memcmp(&kids[i], &seq[c], sizeof(kids[i])) != 0)
			return false;
	return true;
}

/* True if seq is the tree of root in pre-order with the levels lv. */
static bool
seq_is_preorder(const struct bmap *m, const struct chk_root *root,
    const struct chk_ref *seq, const int *lv, size_t total,
    const uint8_t *data, size_t len)
{
	uint8_t *plain = tap_xmalloc(BS);
	struct chk_ref *kids = tap_xmalloc(CHK_FANOUT * sizeof(*kids));
	size_t j = 0;
	bool ok = total > 0 &&
	    memcmp(&seq[0], &root->ref, sizeof(seq[0])) == 0;

	for (size_t p = 0; ok && p < total; p++) {
		ok = preorder_one(m, root, seq, lv, total, p, j, data, len,
		    plain, kids);
		j += lv[p] == 0;
	}
	free(plain);
	free(kids);
	return ok && (data == NULL || j == (len + BS - 1) / BS ||
	    (len == 0 && j == 1));
}

/* How many blocks upcoming() knows of when seq[pos] is wanted: itself if
 * it is an index block (or the whole document); else it, the rest of its
 * index block and the block after them. */
static size_t
up_expected(const int *lv, size_t total, size_t pos, int depth)
{
	size_t k = pos;

	if (depth == 0 || lv[pos] != 0)
		return 1;
	while (k < total && lv[k] == 0)
		k++;
	return k - pos + (k < total);
}

/* Decodes root from m, recording every block wanted in seq (up to cap),
 * and checks the document against data. Returns the number of wants, or
 * (size_t)-1 if the decode failed or gave other bytes. */
static size_t
want_sequence(const struct bmap *m, const struct chk_root *root,
    struct chk_ref *seq, size_t cap, const uint8_t *data, size_t len)
{
	struct chk_decoder *d;
	struct chk_ref want;
	struct bent *e;
	uint8_t *buf = tap_xmalloc(BS);
	size_t n = 0, got, out = 0;
	bool ok = chk_decoder_new(&d, root) == 0;

	while (ok) {
		if (chk_decoder_read(d, buf, BS, &got) != 0) {
			ok = false;
		} else if (got > 0) {
			ok = got <= len - out &&
			    memcmp(buf, data + out, got) == 0;
			out += got;
		} else if (!chk_decoder_want(d, &want)) {
			break;
		} else {
			e = bmap_get(m, want.rkey);
			ok = n < cap && e != NULL &&
			    chk_decoder_feed(d, e->cipher) == 0;
			if (ok)
				seq[n++] = want;
		}
	}
	chk_decoder_free(d);
	free(buf);
	return ok && out == len ? n : (size_t)-1;
}

struct up_check {
	const struct chk_ref *seq;
	const int *lv;
	size_t total, pos, steps, index_steps, idle_steps;
	int depth;
	bool first_is_want, index_self, no_overrun, idle_zero, end_zero;
	bool exact[UP_NMAX];
	bool said;		/* a mismatch was described already */
	struct chk_ref *refs;	/* UP_BIG + 1 */
};

static bool
up_sentinel(const struct chk_ref *r)
{
	const uint8_t *p = (const uint8_t *)r;

	for (size_t i = 0; i < sizeof(*r); i++)
		if (p[i] != 0xa5)
			return false;
	return true;
}

/* Looks at upcoming() with every max while the decoder wants seq[pos]. */
static void
up_look(const struct chk_decoder *d, struct up_check *c)
{
	struct chk_ref want, *refs = c->refs;
	size_t n, exp, full = up_expected(c->lv, c->total, c->pos, c->depth);
	bool ok;

	c->steps++;
	c->index_steps += c->lv[c->pos] > 0;
	memset(refs, 0xa5, sizeof(*refs));
	if (chk_decoder_upcoming(d, refs, 0) != 0 || !up_sentinel(refs))
		c->no_overrun = false;
	for (size_t k = 0; k < UP_NMAX; k++) {
		memset(refs, 0xa5, (up_max[k] + 1) * sizeof(*refs));
		n = chk_decoder_upcoming(d, refs, up_max[k]);
		exp = full < up_max[k] ? full : up_max[k];
		if (!up_sentinel(&refs[up_max[k]]))
			c->no_overrun = false;
		if (n < 1 || !chk_decoder_want(d, &want) ||
		    memcmp(&refs[0], &want, sizeof(want)) != 0)
			c->first_is_want = false;
		if (c->lv[c->pos] > 0 && n != 1)
			c->index_self = false;
		ok = n == exp && c->pos + n <= c->total;
		for (size_t i = 0; ok && i < n; i++)
			ok = memcmp(&refs[i], &c->seq[c->pos + i],
			    sizeof(refs[i])) == 0;
		if (!ok && !c->said) {
			printf("# want %zu (level %d), max %zu: %zu listed, "
			    "expected %zu\n", c->pos, c->lv[c->pos], up_max[k],
			    n, exp);
			c->said = true;
		}
		c->exact[k] = c->exact[k] && ok;
	}
}

/* Decodes root again, looking at upcoming() before every feed, while the
 * fed data block is read, and at the end. False if the decode failed. */
static bool
up_decode(const struct bmap *m, const struct chk_root *root,
    struct up_check *c)
{
	struct chk_decoder *d;
	struct chk_ref want;
	struct bent *e;
	uint8_t *buf = tap_xmalloc(BS);
	size_t got, n;
	bool ok = chk_decoder_new(&d, root) == 0;

	while (ok) {
		if (chk_decoder_read(d, buf, BS, &got) != 0) {
			ok = false;
		} else if (got > 0) {
			continue;
		} else if (!chk_decoder_want(d, &want)) {
			c->end_zero =
			    chk_decoder_upcoming(d, c->refs, UP_BIG) == 0 &&
			    chk_decoder_upcoming(d, c->refs, 1) == 0;
			break;
		} else if (c->pos >= c->total ||
		    memcmp(&want, &c->seq[c->pos], sizeof(want)) != 0 ||
		    (e = bmap_get(m, want.rkey)) == NULL) {
			ok = false;
		} else {
			up_look(d, c);
			ok = chk_decoder_feed(d, e->cipher) == 0;
			c->pos++;
			if (ok && !chk_decoder_want(d, &want)) {
				n = chk_decoder_upcoming(d, c->refs, UP_BIG);
				c->idle_zero = c->idle_zero && n == 0;
				c->idle_steps++;
			}
		}
	}
	chk_decoder_free(d);
	free(buf);
	return ok && c->pos == c->total;
}

/* Encodes data, records the decoder's wants, then checks upcoming() at
 * every step against them. */
static void
check_upcoming(const uint8_t *data, size_t len, bool raw, int depth,
    const char *what)
{
	struct chk_ref *seq = tap_xmalloc(UP_BIG * sizeof(*seq));
	int *lv = tap_xmalloc(UP_BIG * sizeof(*lv));
	struct up_check c;
	struct chk_root root;
	struct chk_shape s;
	struct bmap m;
	size_t nblocks = 0, nwant;
	bool ok;

	memset(&c, 0, sizeof(c));
	bmap_init(&m);
	if (encode(&m, data, len, CH_WHOLE, &root) == 0 &&
	    chk_shape_make(&s, root.stream_len) == 0)
		nblocks = blocks_of(&root);
	TAP_OK(nblocks > 0 && nblocks <= UP_BIG && root.depth == depth &&
	    (root.codec == CHK_CODEC_NONE) == raw && m.n == nblocks,
	    "upcoming %s: encodes, depth %d, %zu blocks", what, depth, nblocks);
	if (nblocks == 0 || nblocks > UP_BIG)
		goto out;
	nwant = want_sequence(&m, &root, seq, UP_BIG, data, len);
	TAP_OK(nwant == nblocks, "upcoming %s: the decoder wants %zu blocks "
	    "and gives the document back", what, nwant);
	if (nwant != nblocks)
		goto out;
	TAP_OK(preorder_levels(&s, s.depth, 0, lv, 0) == nblocks &&
	    seq_is_preorder(&m, &root, seq, lv, nblocks, raw ? data : NULL,
	    len), "upcoming %s: the wants are the tree in pre-order (every "
	    "index block's entries%s checked)", what,
	    raw ? " and every data block" : "");

	c.seq = seq;
	c.lv = lv;
	c.total = nblocks;
	c.depth = s.depth;
	c.first_is_want = c.index_self = c.no_overrun = c.idle_zero = true;
	for (size_t k = 0; k < UP_NMAX; k++)
		c.exact[k] = true;
	c.refs = tap_xmalloc((UP_BIG + 1) * sizeof(*c.refs));
	ok = up_decode(&m, &root, &c);
	TAP_OK(ok && c.steps == nblocks, "upcoming %s: decodes again, "
	    "looking at upcoming() at each of %zu steps", what, c.steps);
	TAP_OK(c.first_is_want, "upcoming %s: the first listed is always "
	    "what want() names", what);
	for (size_t k = 0; k < UP_NMAX; k++)
		TAP_OK(c.exact[k], "upcoming %s: max %zu: always exactly the "
		    "next wants, as many as known and fit", what, up_max[k]);
	TAP_OK(c.no_overrun, "upcoming %s: nothing written past max; max 0 "
	    "lists nothing", what);
	TAP_OK(c.index_self && c.index_steps == nblocks - s.count[0],
	    "upcoming %s: an index block wanted (%zu times): only it is "
	    "listed", what, c.index_steps);
	TAP_OK(c.idle_zero && c.idle_steps == s.count[0],
	    "upcoming %s: nothing listed while a data block is read (%zu "
	    "times)", what, c.idle_steps);
	TAP_OK(c.end_zero, "upcoming %s: nothing listed once complete", what);
	free(c.refs);
out:
	bmap_free(&m);
	free(seq);
	free(lv);
}

static void
test_upcoming(void)
{
	static const struct {
		size_t len;
		int depth;
		const char *what;
	} t[] = {
		{ 1000, 0, "1 block" },
		{ 2 * BS + 100, 1, "3 blocks" },
		{ 512 * BS, 1, "512 blocks" },
		{ 599 * BS + 7, 2, "600 blocks" },
		{ 1024 * BS + 1, 2, "1025 blocks" },
	};
	size_t maxlen = 1024 * BS + 1, tlen = 3 * MIB;
	uint8_t *data = tap_xmalloc(maxlen), *text = tap_xmalloc(tlen);
	struct chk_decoder *d;
	struct chk_ref refs[2];
	struct chk_shape s;
	struct chk_root root;
	struct bmap m;

	shape(&s, 599 * BS + 7);
	TAP_OK(s.depth == 2 && s.count[1] == 2 && s.count[0] == 600,
	    "upcoming: 600 blocks make depth 2 with two index blocks below "
	    "the root");
	rng_fill(data, maxlen, 77);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check_upcoming(data, t[i].len, true, t[i].depth, t[i].what);
	make_text(text, tlen, 11);
	check_upcoming(text, tlen, false, 1, "3 MiB of text (zstd)");

	/* A failed decoder lists nothing. */
	bmap_init(&m);
	if (encode(&m, data, 2 * BS + 100, CH_WHOLE, &root) == 0 &&
	    chk_decoder_new(&d, &root) == 0) {
		struct bent *e = NULL;

		for (size_t i = 0; i < m.cap && e == NULL; i++)
			if (m.e[i].cipher != NULL && memcmp(m.e[i].rkey,
			    root.ref.rkey, CHK_KEY_SIZE) != 0)
				e = &m.e[i];
		TAP_OK(chk_decoder_upcoming(d, refs, 2) == 1 && e != NULL &&
		    chk_decoder_feed(d, e->cipher) == CHK_EBADBLOCK &&
		    chk_decoder_upcoming(d, refs, 2) == 0 &&
		    !chk_decoder_want(d, &refs[0]),
		    "upcoming: the root fed a wrong block, nothing listed");
		chk_decoder_free(d);
	}
	bmap_free(&m);
	free(data);
	free(text);
}

/* A depth-3 document (over 8 GiB of stream) is too big to encode here,
 * but its start is cheap to build by hand: the root lists two level-2
 * index blocks; the first lists the level-1 index L1_0 (512 distinct data
 * blocks) and 511 times L1_1 (never read); the second lists one level-1
 * index of one block. The decoder is fed its first 516 blocks. */
static void
build_depth3(struct bmap *m, struct chk_ref *data, struct chk_ref l1[2],
    struct chk_ref *l2a, struct chk_root *root)
{
	uint8_t *plain = tap_xmalloc(BS), *index = tap_xmalloc(BS);
	struct chk_ref zero, l1_last, l2[2];

	for (size_t i = 0; i < CHK_FANOUT; i++) {
		memset(plain, 0, BS);
		rng_fill(plain, BS, 1000 + i);
		put_plain(m, plain, &data[i]);
	}
	memset(plain, 0, BS);
	put_plain(m, plain, &zero);
	for (size_t i = 0; i < CHK_FANOUT; i++)
		memcpy(index + i * CHK_ENTRY_SIZE, &data[i], CHK_ENTRY_SIZE);
	put_plain(m, index, &l1[0]);
	for (size_t i = 0; i < CHK_FANOUT; i++)
		memcpy(index + i * CHK_ENTRY_SIZE, &zero, CHK_ENTRY_SIZE);
	put_plain(m, index, &l1[1]);
	for (size_t i = 0; i < CHK_FANOUT; i++)
		memcpy(index + i * CHK_ENTRY_SIZE, &l1[i > 0], CHK_ENTRY_SIZE);
	put_plain(m, index, &l2[0]);
	memset(index, 0, BS);
	memcpy(index, &zero, CHK_ENTRY_SIZE);
	put_plain(m, index, &l1_last);
	memcpy(index, &l1_last, CHK_ENTRY_SIZE);
	put_plain(m, index, &l2[1]);
	memcpy(index, &l2[0], CHK_ENTRY_SIZE);
	memcpy(index + CHK_ENTRY_SIZE, &l2[1], CHK_ENTRY_SIZE);
	memset(root, 0, sizeof(*root));
	root->depth = 3;
	root->data_len = root->stream_len =
	    (uint64_t)CHK_FANOUT * CHK_FANOUT * BS + 1;
	put_plain_root(m, index, root);
	*l2a = l2[0];
	free(plain);
	free(index);
}

/* Feeds the block the decoder wants and reads what it gives. */
static bool
feed_and_read(struct chk_decoder *d, const struct bmap *m, uint8_t *buf)
{
	struct chk_ref want;
	struct bent *e;
	size_t got = 0;

	if (!chk_decoder_want(d, &want) ||
	    (e = bmap_get(m, want.rkey)) == NULL ||
	    chk_decoder_feed(d, e->cipher) != 0)
		return false;
	do {
		if (chk_decoder_read(d, buf, BS, &got) != 0)
			return false;
	} while (got > 0);
	return true;
}

static void
test_upcoming_depth3(void)
{
	struct chk_ref *data = tap_xmalloc(CHK_FANOUT * sizeof(*data));
	struct chk_ref *refs = tap_xmalloc((UP_BIG + 1) * sizeof(*refs));
	struct chk_ref l1[2], path[3];
	uint8_t *buf = tap_xmalloc(BS);
	bool path_ok = true, data_ok = true, next_ok;
	struct chk_root root;
	struct chk_decoder *d;
	struct bmap m;
	size_t n, left;

	bmap_init(&m);
	build_depth3(&m, data, l1, &path[1], &root);
	if (!TAP_OK(chk_decoder_new(&d, &root) == 0,
	    "upcoming depth 3 (hand-built): decoder made"))
		goto out;
	path[0] = root.ref;
	path[2] = l1[0];
	for (int k = 0; k < 3 && path_ok; k++) {
		n = chk_decoder_upcoming(d, refs, UP_BIG);
		path_ok = n == 1 &&
		    memcmp(&refs[0], &path[k], sizeof(refs[0])) == 0 &&
		    feed_and_read(d, &m, buf);
	}
	TAP_OK(path_ok, "upcoming depth 3: the root and the index blocks on "
	    "the path down are listed alone");
	for (size_t j = 0; j < CHK_FANOUT && data_ok; j++) {
		left = CHK_FANOUT - j;
		n = chk_decoder_upcoming(d, refs, UP_BIG);
		data_ok = n == left + 1 && memcmp(refs, &data[j],
		    left * sizeof(*refs)) == 0 &&
		    memcmp(&refs[left], &l1[1], sizeof(refs[0])) == 0 &&
		    chk_decoder_upcoming(d, refs, 5) == (left + 1 < 5 ?
		    left + 1 : 5) && feed_and_read(d, &m, buf);
		if (!data_ok)
			printf("# data block %zu: %zu listed\n", j, n);
	}
	TAP_OK(data_ok, "upcoming depth 3: at each data block of the first "
	    "bottom index, the rest of it, then the next bottom index (not "
	    "the next one a level up)");
	next_ok = chk_decoder_upcoming(d, refs, UP_BIG) == 1 &&
	    memcmp(&refs[0], &l1[1], sizeof(refs[0])) == 0;
	TAP_OK(next_ok, "upcoming depth 3: then that bottom index, alone");
	chk_decoder_free(d);
out:
	bmap_free(&m);
	free(data);
	free(refs);
	free(buf);
}

int
main(void)
{
	const char *q = getenv("UMBRA_TEST_QUICK");

	quick = q != NULL && *q != '\0' && strcmp(q, "0") != 0;
	if (sodium_init() < 0) {
		printf("Bail out! sodium_init failed\n");
		return 1;
	}
	test_block_kat();
	test_shape();
	test_index_parse();
	test_uri_kat();
	test_round_trips();
	test_typed();
	test_seek();
	test_compressed();
	test_compress_threshold();
	test_tamper();
	test_tamper_compressed();
	test_hostile();
	test_big();
	test_api_state();
	test_upcoming();
	test_upcoming_depth3();
	return tap_done();
}
