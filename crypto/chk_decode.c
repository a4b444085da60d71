/* chk_decode.c - see chk_decode.h. */
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "crypto/chk_decode.h"
#include "crypto/chk_encode.h"

/* One level of the tree path being walked: the references of the index
 * block in hand and which of them is being followed. */
struct dec_level {
	struct chk_ref refs[CHK_FANOUT];
	size_t n, pos;
	uint64_t index;		/* this block's place in its level */
};

struct chk_decoder {
	struct chk_root root;
	struct chk_shape shape;
	bool failed, have_want, frame_done;
	bool fed_root;			/* the root is keyed differently */
	struct chk_ref want;
	int want_level;
	uint64_t want_index;
	uint8_t plain[CHK_BLOCK_SIZE];	/* the data block being read */
	size_t off, len;		/* unread part of plain */
	uint64_t out;			/* stream bytes handed out */
	bool seeking;			/* walking down to seek_block */
	uint64_t seek_block;		/* data block index to land on */
	size_t seek_off;		/* and the offset in it */
	uint8_t type_rec[1 + CHK_TYPE_MAX];	/* a typed stream's record */
	size_t type_got;
	bool type_done;
	char type[CHK_TYPE_MAX + 1];
	ZSTD_DCtx *dctx;
	struct dec_level *level[CHK_MAX_DEPTH + 1];	/* [1..depth] */
};

void
chk_decoder_free(struct chk_decoder *d)
{
	if (d == NULL)
		return;
	for (int l = 1; l <= CHK_MAX_DEPTH; l++)
		free(d->level[l]);
	ZSTD_freeDCtx(d->dctx);
	free(d);
}

static int
dec_init(struct chk_decoder *d, const struct chk_root *root)
{
	int rc;

	if ((rc = chk_shape_make(&d->shape, root->stream_len)) != 0)
		return rc;
	if (d->shape.depth != root->depth ||
	    (root->codec == CHK_CODEC_NONE &&
	    root->data_len != root->stream_len) ||
	    (root->codec != CHK_CODEC_NONE && root->codec != CHK_CODEC_ZSTD))
		return CHK_EFORMAT;
	for (int l = 1; l <= d->shape.depth; l++)
		if ((d->level[l] = calloc(1, sizeof(*d->level[l]))) == NULL)
			return CHK_ENOMEM;
	if (root->codec == CHK_CODEC_ZSTD &&
	    ((d->dctx = ZSTD_createDCtx()) == NULL ||
	    ZSTD_isError(ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_windowLogMax,
	    CHK_ZSTD_WINDOW_LOG + 1))))
		return CHK_ENOMEM;
	d->root = *root;
	d->want = root->ref;
	d->want_level = d->shape.depth;
	d->have_want = true;
	return CHK_OK;
}

int
chk_decoder_new(struct chk_decoder **out, const struct chk_root *root)
{
	struct chk_decoder *d = calloc(1, sizeof(*d));
	int rc;

	*out = NULL;
	if (d == NULL)
		return CHK_ENOMEM;
	if ((rc = dec_init(d, root)) != 0) {
		chk_decoder_free(d);
		return rc;
	}
	*out = d;
	return CHK_OK;
}

bool
chk_decoder_want(const struct chk_decoder *d, struct chk_ref *ref)
{
	if (!d->have_want || d->failed)
		return false;
	*ref = d->want;
	return true;
}

size_t
chk_decoder_upcoming(const struct chk_decoder *d, struct chk_ref *refs,
    size_t max)
{
	const struct dec_level *lv;
	size_t n = 0;

	if (!d->have_want || d->failed || max == 0)
		return 0;
	refs[n++] = d->want;
	/* Below an index block nothing is known until it is read. */
	if (d->want_level != 0 || d->shape.depth == 0)
		return n;
	lv = d->level[1];
	for (size_t i = lv->pos + 1; i < lv->n && n < max; i++)
		refs[n++] = lv->refs[i];
	if (n == max)
		return n;
	/* Then the next index block: where dec_advance() goes next. */
	for (int l = 2; l <= d->shape.depth; l++) {
		lv = d->level[l];
		if (lv->pos + 1 < lv->n) {
			refs[n++] = lv->refs[lv->pos + 1];
			break;
		}
	}
	return n;
}

uint64_t
chk_decoder_bytes_out(const struct chk_decoder *d)
{
	return d->out;
}

/* Moves to the next block after the data block just read: up the path
 * while a level is exhausted, then one step right. */
static void
dec_advance(struct chk_decoder *d)
{
	struct dec_level *lv;

	for (int l = 1; l <= d->shape.depth; l++) {
		lv = d->level[l];
		if (++lv->pos < lv->n) {
			d->want = lv->refs[lv->pos];
			d->want_level = l - 1;
			d->want_index = lv->index * CHK_FANOUT + lv->pos;
			d->have_want = true;
			return;
		}
	}
}

static int
dec_take_index(struct chk_decoder *d)
{
	int l = d->want_level;
	struct dec_level *lv = d->level[l];
	size_t n = chk_shape_children(&d->shape, l, d->want_index), pos = 0;
	int rc;

	if ((rc = chk_index_parse(d->plain, n, lv->refs)) != 0)
		return rc;
	if (d->seeking)
		pos = (size_t)(d->seek_block >> (9 * (l - 1))) % CHK_FANOUT;
	if (pos >= n)
		return CHK_EFORMAT;
	lv->n = n;
	lv->pos = pos;
	lv->index = d->want_index;
	d->want = lv->refs[pos];
	d->want_level = l - 1;
	d->want_index = lv->index * CHK_FANOUT + pos;
	return CHK_OK;
}

static int
dec_take_data(struct chk_decoder *d)
{
	uint64_t last = d->shape.count[0] - 1;
	size_t len = CHK_BLOCK_SIZE;

	if (d->want_index == last)
		len = (size_t)(d->root.stream_len - last * CHK_BLOCK_SIZE);
	for (size_t i = len; i < CHK_BLOCK_SIZE; i++)
		if (d->plain[i] != 0)
			return CHK_EFORMAT;
	d->off = 0;
	d->len = len;
	d->have_want = false;
	if (d->seeking) {
		d->off = d->seek_off;
		d->out += d->seek_off;
		d->seeking = false;
	}
	return CHK_OK;
}

int
chk_decoder_feed(struct chk_decoder *d, const uint8_t cipher[CHK_BLOCK_SIZE])
{
	uint8_t extra[CHK_EXTRA_SIZE];
	int rc;

	if (d->failed || !d->have_want)
		return CHK_ESTATE;
	if (d->fed_root) {
		rc = chk_block_decode(cipher, d->plain, &d->want);
	} else {
		chk_root_extra(&d->root, extra);
		rc = chk_block_decode_root(cipher, d->plain, &d->want, extra);
		d->fed_root = true;
	}
	if (rc == 0)
		rc = d->want_level > 0 ? dec_take_index(d) : dec_take_data(d);
	if (rc != 0)
		d->failed = true;
	return rc;
}

static int
dec_read_raw(struct chk_decoder *d, uint8_t *out, size_t len, size_t *got)
{
	size_t take = d->len - d->off;

	if (take > len)
		take = len;
	if (take > 0)	/* out may be NULL when len is 0 */
		memcpy(out, d->plain + d->off, take);
	d->off += take;
	*got = take;
	return CHK_OK;
}

static int
dec_read_zstd(struct chk_decoder *d, uint8_t *out, size_t len, size_t *got)
{
	ZSTD_inBuffer in = { d->plain, d->len, d->off };
	ZSTD_outBuffer ob = { out, len, 0 };
	size_t ret;

	if (d->frame_done) {
		/* Bytes after the end of the one frame. */
		if (d->off < d->len)
			return CHK_EFORMAT;
		*got = 0;
		return CHK_OK;
	}
	ret = ZSTD_decompressStream(d->dctx, &ob, &in);
	if (ZSTD_isError(ret))
		return CHK_EFORMAT;
	d->off = in.pos;
	d->frame_done = ret == 0;
	if (d->frame_done && d->off < d->len)
		return CHK_EFORMAT;
	*got = ob.pos;
	return CHK_OK;
}

/* Checks the end: every block read, the frame closed, the length right. */
static int
dec_check_end(struct chk_decoder *d)
{
	if (d->root.codec == CHK_CODEC_ZSTD && !d->frame_done)
		return CHK_EFORMAT;
	return d->out == d->root.data_len ? CHK_OK : CHK_EFORMAT;
}

static int
dec_read(struct chk_decoder *d, uint8_t *out, size_t len, size_t *got)
{
	bool zstd = d->root.codec == CHK_CODEC_ZSTD;
	int rc;

	*got = 0;
	while (!d->have_want) {
		rc = zstd ? dec_read_zstd(d, out, len, got) :
		    dec_read_raw(d, out, len, got);
		if (rc != 0)
			return rc;
		if (*got > d->root.data_len - d->out)
			return CHK_EFORMAT;
		d->out += *got;
		if (*got > 0 || len == 0)
			return CHK_OK;
		/* Nothing more from this block: move on, or end. */
		if (d->off < d->len)
			return CHK_EFORMAT;
		dec_advance(d);
		if (!d->have_want)
			return dec_check_end(d);
	}
	return CHK_OK;
}

/* A typed stream's record, read and checked before any document byte is
 * handed out: 0 with type_done, or 0 without it while a block is
 * wanted. */
static int
dec_read_type(struct chk_decoder *d)
{
	size_t want, got;
	int rc;

	while (!d->type_done) {
		want = d->type_got == 0 ? 1 : 1 + d->type_rec[0] - d->type_got;
		rc = dec_read(d, d->type_rec + d->type_got, want, &got);
		if (rc != 0)
			return rc;
		if (got == 0)	/* a block is wanted, or the stream ended */
			return d->have_want ? CHK_OK : CHK_EFORMAT;
		d->type_got += got;
		if (d->type_rec[0] == 0 || d->type_rec[0] > CHK_TYPE_MAX)
			return CHK_EFORMAT;
		if (d->type_got < 1 + (size_t)d->type_rec[0])
			continue;
		if (chk_type_check((const char *)d->type_rec + 1,
		    d->type_rec[0]) != 0)
			return CHK_EFORMAT;
		memcpy(d->type, d->type_rec + 1, d->type_rec[0]);
		d->type[d->type_rec[0]] = '\0';
		d->type_done = true;
	}
	return CHK_OK;
}

/* Points the walk at data block t: the index blocks on the path to it
 * that are not in hand are wanted again, top down, each taking the child
 * on the path (dec_take_index) rather than its first. */
static void
dec_seek_block(struct chk_decoder *d, uint64_t t, size_t off)
{
	int top = 1;

	/* The root level is always in hand; below it, keep each level
	 * whose block is the one on the path, as long as all above are. */
	for (int l = d->shape.depth - 1; l >= 1; l--) {
		if (d->level[l]->n == 0 || d->level[l]->index != t >> (9 * l)) {
			top = l + 1;
			break;
		}
	}
	for (int l = top; l <= d->shape.depth; l++)
		d->level[l]->pos = (size_t)(t >> (9 * (l - 1))) % CHK_FANOUT;
	d->want = d->level[top]->refs[d->level[top]->pos];
	d->want_level = top - 1;
	d->want_index = t >> (9 * (top - 1));
	d->have_want = true;
	d->seeking = true;
	d->seek_block = t;
	d->seek_off = off;
	d->out = t * CHK_BLOCK_SIZE;
	d->off = d->len = 0;
}

int
chk_decoder_seek(struct chk_decoder *d, uint64_t pos)
{
	uint64_t s, t;

	if (d->failed || !d->fed_root || d->root.codec != CHK_CODEC_NONE ||
	    (d->root.typed && !d->type_done))
		return CHK_ESTATE;
	s = pos + (d->root.typed ? 1 + (uint64_t)d->type_rec[0] : 0);
	if (s > d->root.stream_len || s < pos)
		return CHK_EFORMAT;
	if (d->shape.depth == 0) {
		/* The root is the one data block, still in plain. */
		d->off = (size_t)s;
		d->out = s;
		return CHK_OK;
	}
	/* The end of a stream that fills its last block lies in it. */
	t = s / CHK_BLOCK_SIZE;
	if (t == d->shape.count[0])
		t--;
	dec_seek_block(d, t, (size_t)(s - t * CHK_BLOCK_SIZE));
	return CHK_OK;
}

const char *
chk_decoder_type(const struct chk_decoder *d)
{
	return d->type_done ? d->type : NULL;
}

int
chk_decoder_read(struct chk_decoder *d, uint8_t *out, size_t len,
    size_t *got)
{
	int rc = CHK_OK;

	*got = 0;
	if (d->failed)
		return CHK_ESTATE;
	if (d->root.typed && !d->type_done &&
	    ((rc = dec_read_type(d)) != 0 || !d->type_done)) {
		if (rc != 0)
			d->failed = true;
		return rc;
	}
	if ((rc = dec_read(d, out, len, got)) != 0) {
		d->failed = true;
		*got = 0;
	}
	return rc;
}
