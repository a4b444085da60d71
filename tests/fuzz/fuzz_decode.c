/*
 * fuzz_decode.c - the decoder on an honest tree around a hostile stream.
 *
 * Input layout:
 *   byte 0     bits 0-1: codec: 0 none, 1 and 2 zstd, 3 the value of
 *                        bits 4-7 (mostly unknown codecs)
 *              bits 2-3: read size 1, 7, 4096 or 65536 (1 and 7 only for
 *                        data_len <= 64 KiB, to keep runs fast)
 *              bit 4:    codec none only: keep the claimed data_len
 *                        (else data_len = stream_len, the honest case)
 *   bytes 1-8  claimed data_len, big-endian, modulo 4 MiB + 1
 *   the rest   the stream as stored, at most 2 MiB (64 data blocks)
 *
 * The stream is cut into 32 KiB data blocks, encrypted, and placed under
 * one index block if there is more than one, so every block verifies and
 * only the stream and the lengths are hostile. The decoder must never
 * hand out more than data_len bytes, must end with exactly data_len on
 * success, must reproduce the stream for codec none and agree with
 * plain zstd streaming (and one-shot zstd where that succeeds) for codec
 * zstd, and must not crash or leak.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "crypto/chk_decode.h"
#include "tests/fuzz/fuzz.h"

#define BS CHK_BLOCK_SIZE
#define MAX_STREAM ((size_t)2 << 20)
#define MAX_DATA ((uint64_t)4 << 20)
#define HEADER 9

struct tree {
	size_t nblocks;
	uint8_t *cipher;		/* nblocks data blocks */
	struct chk_ref *refs;
	uint8_t index[BS];		/* ciphertext of the index, if any */
	struct chk_ref iref;
};

static const uint8_t *
tree_fetch(const struct tree *t, const struct chk_ref *want)
{
	if (t->nblocks > 1 && memcmp(want, &t->iref, sizeof(*want)) == 0)
		return t->index;
	for (size_t i = 0; i < t->nblocks; i++)
		if (memcmp(want, &t->refs[i], sizeof(*want)) == 0)
			return t->cipher + i * BS;
	return NULL;
}

/* Builds an honest tree for the stream under the root description given
 * (codec and data_len as the input claims): the data blocks, one index
 * block if needed, and the root keyed with its description. */
static void
tree_build(struct tree *t, const uint8_t *s, size_t slen, uint8_t codec,
    uint64_t data_len, struct chk_root *root)
{
	uint8_t extra[CHK_EXTRA_SIZE];

	t->nblocks = slen == 0 ? 1 : (slen + BS - 1) / BS;
	t->cipher = malloc(t->nblocks * BS);
	t->refs = calloc(t->nblocks, sizeof(*t->refs));
	if (t->cipher == NULL || t->refs == NULL)
		abort();
	memset(root, 0, sizeof(*root));
	root->stream_len = slen;
	root->codec = codec;
	root->data_len = data_len;
	root->depth = t->nblocks > 1;
	chk_root_extra(root, extra);
	for (size_t i = 0; i < t->nblocks; i++) {
		size_t take = slen - i * BS < BS ? slen - i * BS : BS;
		uint8_t *c = t->cipher + i * BS;

		memset(c, 0, BS);
		if (take > 0)
			memcpy(c, s + i * BS, take);
		if ((t->nblocks == 1 ?
		    chk_block_encode_root(c, extra, &t->refs[i]) :
		    chk_block_encode(c, &t->refs[i])) != CHK_OK)
			abort();
	}
	if (t->nblocks == 1) {
		root->ref = t->refs[0];
		return;
	}
	memset(t->index, 0, BS);
	for (size_t i = 0; i < t->nblocks; i++)
		memcpy(t->index + i * CHK_ENTRY_SIZE, &t->refs[i],
		    CHK_ENTRY_SIZE);
	if (chk_block_encode_root(t->index, extra, &t->iref) != CHK_OK)
		abort();
	root->ref = t->iref;
}

/* The decoder accepted stream as one frame of exactly total bytes: a
 * fresh zstd stream context given everything in one call must agree.
 * One-shot ZSTD_decompress() is stricter in corner cases (libzstd 1.5.4
 * refuses an empty compressed block that streaming accepts, see the seed
 * zstd-empty-compressed-block), so it is held only to agreeing when it
 * succeeds. */
static void
check_zstd(const uint8_t *stream, size_t slen, const uint8_t *out,
    uint64_t total)
{
	uint8_t *exp = malloc(total + 1);
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	ZSTD_inBuffer in = { stream, slen, 0 };
	ZSTD_outBuffer ob = { exp, total + 1, 0 };
	size_t r;

	if (exp == NULL || dc == NULL ||
	    ZSTD_isError(ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, 20)))
		abort();
	r = ZSTD_decompressStream(dc, &ob, &in);
	if (ZSTD_isError(r) || r != 0 || in.pos != slen || ob.pos != total ||
	    (total > 0 && memcmp(exp, out, total) != 0))
		abort();
	r = ZSTD_decompress(exp, total + 1, stream, slen);
	if (!ZSTD_isError(r) &&
	    (r != total || (total > 0 && memcmp(exp, out, total) != 0)))
		abort();
	ZSTD_freeDCtx(dc);
	free(exp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t read_sizes[] = { 1, 7, 4096, 65536 };
	static uint8_t buf[65536];
	struct chk_decoder *d = NULL;
	struct chk_root root;
	struct chk_ref want;
	struct tree t;
	const uint8_t *stream, *c;
	uint8_t *out = NULL;
	uint64_t claimed = 0, total = 0;
	size_t slen, rsize, got;
	int codec, rc;

	if (size < HEADER)
		return 0;
	switch (data[0] & 3) {
	case 0: codec = CHK_CODEC_NONE; break;
	case 3: codec = data[0] >> 4; break;
	default: codec = CHK_CODEC_ZSTD; break;
	}
	for (int i = 1; i < HEADER; i++)
		claimed = claimed << 8 | data[i];
	claimed %= MAX_DATA + 1;
	stream = data + HEADER;
	slen = size - HEADER < MAX_STREAM ? size - HEADER : MAX_STREAM;

	if (codec == CHK_CODEC_NONE && !(data[0] & 0x10))
		claimed = slen;
	memset(&t, 0, sizeof(t));
	tree_build(&t, stream, slen, (uint8_t)codec, claimed, &root);
	rsize = read_sizes[(data[0] >> 2) & 3];
	if (rsize < 4096 && root.data_len > 65536)
		rsize = 4096;

	rc = chk_decoder_new(&d, &root);
	if (rc != CHK_OK) {
		bool honest = codec <= CHK_CODEC_ZSTD &&
		    (codec != CHK_CODEC_NONE || root.data_len == slen);

		if (rc != CHK_EFORMAT || honest || d != NULL)
			abort();
		goto out;
	}
	if (root.data_len > 0 && (out = malloc(root.data_len)) == NULL)
		abort();
	for (;;) {
		if ((rc = chk_decoder_read(d, buf, rsize, &got)) != CHK_OK)
			break;
		if (got > 0) {
			if (got > rsize || got > root.data_len - total)
				abort();	/* more than data_len */
			memcpy(out + total, buf, got);
			total += got;
			if (chk_decoder_bytes_out(d) != total)
				abort();
			continue;
		}
		if (!chk_decoder_want(d, &want))
			break;
		if ((c = tree_fetch(&t, &want)) == NULL)
			abort();	/* wants a block that is not in the tree */
		if ((rc = chk_decoder_feed(d, c)) != CHK_OK)
			break;
	}
	if (rc != CHK_OK) {
		/* Every block is honest: only the stream can be wrong. */
		if (rc != CHK_EFORMAT || chk_decoder_want(d, &want) ||
		    chk_decoder_read(d, buf, rsize, &got) != CHK_ESTATE ||
		    got != 0)
			abort();
		goto out;
	}
	if (total != root.data_len || chk_decoder_bytes_out(d) != total)
		abort();
	if (codec == CHK_CODEC_NONE) {
		if (total != slen || (slen > 0 && memcmp(out, stream, slen) != 0))
			abort();
	} else {
		check_zstd(stream, slen, out, total);
	}
out:
	chk_decoder_free(d);
	free(out);
	free(t.cipher);
	free(t.refs);
	return 0;
}
