/* chk_encode.c - see chk_encode.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "crypto/chk_encode.h"

enum enc_state { ENC_SAMPLING, ENC_RAW, ENC_ZSTD, ENC_DONE, ENC_FAILED };

/* An unfinished index block of one level. */
struct enc_level {
	uint8_t buf[CHK_BLOCK_SIZE];
	size_t n;
};

struct chk_encoder {
	chk_emit_fn emit;
	void *arg;
	enum enc_state state;
	uint8_t *sample;		/* until the compression decision */
	size_t sample_len;
	ZSTD_CCtx *cctx;
	uint8_t *piece;			/* CHK_ZSTD_PIECE bytes */
	size_t piece_len;
	uint8_t *zout;
	size_t zout_size;
	uint8_t block[CHK_BLOCK_SIZE];	/* the data block being filled */
	uint8_t scratch[CHK_BLOCK_SIZE];	/* where blocks are encrypted */
	size_t block_len;
	uint64_t bytes_in, stream_len, n_data;
	bool typed;			/* the stream opens with a type record */
	struct enc_level level[CHK_MAX_DEPTH + 1];	/* [0] unused */
};

int
chk_encoder_new(struct chk_encoder **out, chk_emit_fn emit, void *arg)
{
	struct chk_encoder *enc = calloc(1, sizeof(*enc));

	*out = NULL;
	if (enc == NULL || (enc->sample = malloc(CHK_SAMPLE_SIZE)) == NULL) {
		free(enc);
		return CHK_ENOMEM;
	}
	enc->emit = emit;
	enc->arg = arg;
	enc->state = ENC_SAMPLING;
	*out = enc;
	return CHK_OK;
}

void
chk_encoder_free(struct chk_encoder *enc)
{
	if (enc == NULL)
		return;
	ZSTD_freeCCtx(enc->cctx);
	free(enc->sample);
	free(enc->piece);
	free(enc->zout);
	free(enc);
}

uint64_t
chk_encoder_bytes_in(const struct chk_encoder *enc)
{
	return enc->bytes_in;
}

/* Encrypts a copy of a plaintext block, emits it, and returns its ref.
 * The plaintext stays as it was, so a failed emit leaves the unfinished
 * index blocks readable for chk_encoder_each_pending(). */
static int
enc_emit_block(struct chk_encoder *enc, const uint8_t *plain,
    const uint8_t *root_extra, struct chk_ref *ref)
{
	int rc;

	memcpy(enc->scratch, plain, CHK_BLOCK_SIZE);
	rc = root_extra != NULL ?
	    chk_block_encode_root(enc->scratch, root_extra, ref) :
	    chk_block_encode(enc->scratch, ref);
	if (rc != 0)
		return rc;
	return enc->emit(enc->arg, ref, enc->scratch);
}

/* Adds a reference to the index block of level l, first finishing that
 * block if it is full. Full blocks are finished only when one more entry
 * arrives, so the top block is never taken for an inner one. */
static int
enc_add_ref(struct chk_encoder *enc, int l, const struct chk_ref *ref)
{
	struct enc_level *lv;
	struct chk_ref up;
	int rc;

	if (l > CHK_MAX_DEPTH)
		return CHK_ETOOBIG;
	lv = &enc->level[l];
	if (lv->n == CHK_FANOUT) {
		if ((rc = enc_emit_block(enc, lv->buf, NULL, &up)) != 0 ||
		    (rc = enc_add_ref(enc, l + 1, &up)) != 0)
			return rc;
		memset(lv->buf, 0, sizeof(lv->buf));
		lv->n = 0;
	}
	memcpy(lv->buf + lv->n * CHK_ENTRY_SIZE, ref->rkey, CHK_KEY_SIZE);
	memcpy(lv->buf + lv->n * CHK_ENTRY_SIZE + CHK_KEY_SIZE, ref->ckey,
	    CHK_KEY_SIZE);
	lv->n++;
	return CHK_OK;
}

static int
enc_flush_data(struct chk_encoder *enc)
{
	struct chk_ref ref;
	int rc;

	memset(enc->block + enc->block_len, 0, CHK_BLOCK_SIZE - enc->block_len);
	if ((rc = enc_emit_block(enc, enc->block, NULL, &ref)) != 0)
		return rc;
	enc->block_len = 0;
	enc->n_data++;
	return enc_add_ref(enc, 1, &ref);
}

/* Moves as much of *p (*len bytes) as fits into buf, which holds *fill
 * of cap bytes; returns true when buf is then full. */
static bool
enc_fill(uint8_t *buf, size_t *fill, size_t cap, const uint8_t **p,
    size_t *len)
{
	size_t take = cap - *fill < *len ? cap - *fill : *len;

	memcpy(buf + *fill, *p, take);
	*fill += take;
	*p += take;
	*len -= take;
	return *fill == cap;
}

/* Appends stream bytes (after compression) to the data blocks. */
static int
enc_put_stream(struct chk_encoder *enc, const uint8_t *p, size_t len)
{
	int rc;

	if (len > CHK_MAX_STREAM - enc->stream_len)
		return CHK_ETOOBIG;
	enc->stream_len += len;
	while (len > 0) {
		/* A full block waits for more bytes: the last one of a
		 * one-block document is its root, encrypted as such. */
		if (enc->block_len == CHK_BLOCK_SIZE &&
		    (rc = enc_flush_data(enc)) != 0)
			return rc;
		(void)enc_fill(enc->block, &enc->block_len, CHK_BLOCK_SIZE, &p,
		    &len);
	}
	return CHK_OK;
}

/* Runs one fixed piece through zstd (or the end of the frame). */
static int
enc_compress_piece(struct chk_encoder *enc, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { enc->piece, enc->piece_len, 0 };
	ZSTD_outBuffer out;
	size_t left;
	int rc;

	do {
		out = (ZSTD_outBuffer){ enc->zout, enc->zout_size, 0 };
		left = ZSTD_compressStream2(enc->cctx, &out, &in, mode);
		if (ZSTD_isError(left))
			return CHK_ENOMEM;
		if ((rc = enc_put_stream(enc, enc->zout, out.pos)) != 0)
			return rc;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	enc->piece_len = 0;
	return CHK_OK;
}

static int
enc_put_zstd(struct chk_encoder *enc, const uint8_t *p, size_t len)
{
	int rc;

	while (len > 0) {
		if (enc_fill(enc->piece, &enc->piece_len, CHK_ZSTD_PIECE, &p,
		    &len) &&
		    (rc = enc_compress_piece(enc, ZSTD_e_continue)) != 0)
			return rc;
	}
	return CHK_OK;
}

static int
enc_put(struct chk_encoder *enc, const uint8_t *p, size_t len)
{
	return enc->state == ENC_ZSTD ? enc_put_zstd(enc, p, len) :
	    enc_put_stream(enc, p, len);
}

static ZSTD_CCtx *
enc_cctx_new(void)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();

	if (cctx == NULL ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel,
	    CHK_ZSTD_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog,
	    CHK_ZSTD_WINDOW_LOG)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag,
	    0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0))) {
		ZSTD_freeCCtx(cctx);
		return NULL;
	}
	return cctx;
}

/* Compresses the sample once to decide; then sends it down the chosen
 * path. Compressing pays when it saves at least 1/32 of the sample. */
static int
enc_decide(struct chk_encoder *enc)
{
	size_t bound = ZSTD_compressBound(enc->sample_len), csize;
	uint8_t *tmp = malloc(bound);
	int rc;

	if (tmp == NULL || (enc->cctx = enc_cctx_new()) == NULL) {
		free(tmp);
		return CHK_ENOMEM;
	}
	csize = ZSTD_compress2(enc->cctx, tmp, bound, enc->sample,
	    enc->sample_len);
	free(tmp);
	if (ZSTD_isError(csize))
		return CHK_ENOMEM;
	if (enc->sample_len > 0 &&
	    csize <= enc->sample_len - enc->sample_len / 32) {
		enc->zout_size = ZSTD_CStreamOutSize();
		enc->piece = malloc(CHK_ZSTD_PIECE);
		enc->zout = malloc(enc->zout_size);
		if (enc->piece == NULL || enc->zout == NULL)
			return CHK_ENOMEM;
		ZSTD_CCtx_reset(enc->cctx, ZSTD_reset_session_only);
		enc->state = ENC_ZSTD;
	} else {
		ZSTD_freeCCtx(enc->cctx);
		enc->cctx = NULL;
		enc->state = ENC_RAW;
	}
	rc = enc_put(enc, enc->sample, enc->sample_len);
	free(enc->sample);
	enc->sample = NULL;
	return rc;
}

static int
enc_write(struct chk_encoder *enc, const uint8_t *p, size_t len)
{
	int rc;

	if (enc->state == ENC_SAMPLING) {
		if (!enc_fill(enc->sample, &enc->sample_len, CHK_SAMPLE_SIZE,
		    &p, &len))
			return CHK_OK;
		if ((rc = enc_decide(enc)) != 0)
			return rc;
	}
	return enc_put(enc, p, len);
}

int
chk_encoder_write(struct chk_encoder *enc, const void *data, size_t len)
{
	int rc;

	if (enc->state == ENC_DONE || enc->state == ENC_FAILED)
		return CHK_ESTATE;
	if (len == 0)	/* data may be NULL: memcpy(x, NULL, 0) is undefined */
		return CHK_OK;
	if (len > CHK_MAX_STREAM - enc->bytes_in) {
		enc->state = ENC_FAILED;
		return CHK_ETOOBIG;
	}
	enc->bytes_in += len;
	if ((rc = enc_write(enc, data, len)) != 0)
		enc->state = ENC_FAILED;
	return rc;
}

int
chk_encoder_set_type(struct chk_encoder *enc, const char *type)
{
	uint8_t rec[1 + CHK_TYPE_MAX];
	size_t n = type != NULL ? strlen(type) : 0;

	if (enc->bytes_in != 0 || enc->typed)
		return CHK_ESTATE;
	if (chk_type_check(type, n) != 0)
		return CHK_EFORMAT;
	rec[0] = (uint8_t)n;
	memcpy(rec + 1, type, n);
	enc->typed = true;
	return chk_encoder_write(enc, rec, 1 + n);
}

/* Finishes the last data block and the unfinished index blocks bottom
 * up; the top one is the root, keyed with the document's description. */
static int
enc_finish_tree(struct chk_encoder *enc, struct chk_root *root)
{
	uint8_t extra[CHK_EXTRA_SIZE];
	struct chk_shape shape;
	struct chk_ref ref;
	int rc;

	if ((rc = chk_shape_make(&shape, enc->stream_len)) != 0)
		return rc;
	if (shape.count[0] != enc->n_data + 1)
		return CHK_ESTATE;
	root->depth = (uint8_t)shape.depth;
	root->data_len = enc->bytes_in;
	root->stream_len = enc->stream_len;
	chk_root_extra(root, extra);
	if (shape.depth == 0) {
		memset(enc->block + enc->block_len, 0,
		    CHK_BLOCK_SIZE - enc->block_len);
		return enc_emit_block(enc, enc->block, extra, &root->ref);
	}
	if ((rc = enc_flush_data(enc)) != 0)
		return rc;
	for (int l = 1; l <= shape.depth; l++) {
		rc = enc_emit_block(enc, enc->level[l].buf,
		    l == shape.depth ? extra : NULL, &ref);
		if (rc != 0)
			return rc;
		enc->level[l].n = 0;
		if (l < shape.depth && (rc = enc_add_ref(enc, l + 1, &ref)) != 0)
			return rc;
	}
	root->ref = ref;
	return CHK_OK;
}

static int
enc_finish(struct chk_encoder *enc, struct chk_root *root)
{
	int rc;

	if (enc->state == ENC_SAMPLING && (rc = enc_decide(enc)) != 0)
		return rc;
	if (enc->state == ENC_ZSTD &&
	    (rc = enc_compress_piece(enc, ZSTD_e_end)) != 0)
		return rc;
	memset(root, 0, sizeof(*root));
	root->codec = enc->state == ENC_ZSTD ? CHK_CODEC_ZSTD : CHK_CODEC_NONE;
	root->typed = enc->typed;
	return enc_finish_tree(enc, root);
}

int
chk_encoder_finish(struct chk_encoder *enc, struct chk_root *root)
{
	int rc;

	if (enc->state == ENC_DONE || enc->state == ENC_FAILED)
		return CHK_ESTATE;
	rc = enc_finish(enc, root);
	enc->state = rc == 0 ? ENC_DONE : ENC_FAILED;
	return rc;
}

int
chk_encoder_each_pending(struct chk_encoder *enc,
    int (*fn)(void *arg, const struct chk_ref *ref, int level), void *arg)
{
	struct chk_ref ref;
	int rc;

	for (int l = 1; l <= CHK_MAX_DEPTH; l++) {
		for (size_t i = 0; i < enc->level[l].n; i++) {
			memcpy(ref.rkey, enc->level[l].buf + i * CHK_ENTRY_SIZE,
			    CHK_KEY_SIZE);
			memcpy(ref.ckey, enc->level[l].buf + i * CHK_ENTRY_SIZE +
			    CHK_KEY_SIZE, CHK_KEY_SIZE);
			if ((rc = fn(arg, &ref, l - 1)) != 0)
				return rc;
		}
	}
	return CHK_OK;
}
