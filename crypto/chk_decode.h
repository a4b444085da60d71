/*
 * chk_decode.h - turn CHK blocks back into the document, streaming.
 *
 * The decoder is driven from outside and does no I/O: it names the block
 * it needs next (chk_decoder_want), is fed that block's ciphertext
 * (chk_decoder_feed), and hands out document bytes in order
 * (chk_decoder_read). The same code thus serves the local store, the
 * network fetcher and the fuzzers.
 *
 *     for (;;) {
 *         if ((rc = chk_decoder_read(d, buf, sizeof buf, &got)) != 0) fail;
 *         if (got > 0) { deliver(buf, got); continue; }
 *         if (!chk_decoder_want(d, &ref)) break;      // complete, verified
 *         fetch(&ref, cipher); if (chk_decoder_feed(d, cipher) != 0) fail;
 *     }
 *
 * Every block is checked against its key; index blocks must have exactly
 * the entries the stream length implies; padding must be zero; the zstd
 * stream must be one frame (window <= 2^20) that ends exactly at the end
 * of the stream and yields exactly data_len bytes. Any breach is
 * CHK_EBADBLOCK or CHK_EFORMAT, and the decoder refuses further work.
 * Memory: about 32 KiB per tree level plus 32 KiB, plus the zstd window.
 *
 * Ownership: chk_decoder_new() / chk_decoder_free() (accepts NULL).
 */
#ifndef UMBRA_CHK_DECODE_H
#define UMBRA_CHK_DECODE_H

#include <stdbool.h>

#include "crypto/chk.h"

struct chk_decoder;

int chk_decoder_new(struct chk_decoder **out, const struct chk_root *root)
	__attribute__((warn_unused_result));
void chk_decoder_free(struct chk_decoder *d);

/* True and *ref set when the decoder needs a block before it can go on;
 * false once every block has been fed. */
bool chk_decoder_want(const struct chk_decoder *d, struct chk_ref *ref);
/* Gives the ciphertext of the block chk_decoder_want() named. */
int chk_decoder_feed(struct chk_decoder *d,
    const uint8_t cipher[CHK_BLOCK_SIZE]) __attribute__((warn_unused_result));
/* Copies up to len document bytes into out. *got == 0 means: feed the
 * wanted block, or, if none is wanted, the document is complete. */
int chk_decoder_read(struct chk_decoder *d, uint8_t *out, size_t len,
    size_t *got) __attribute__((warn_unused_result));

/* The blocks the decoder will want next, in order, as far as they are
 * known without feeding any (the wanted one first; then, while it is a
 * data block, the rest of its index block and the index block after it):
 * fills refs[0..max) and returns how many. A fetcher asks for these in
 * parallel. 0 when nothing is wanted. */
size_t chk_decoder_upcoming(const struct chk_decoder *d, struct chk_ref *refs,
    size_t max);

/* A typed stream's media type (CHK_FORMAT_TYPED), once its record has
 * been read: chk_decoder_read() reads it before the first document byte,
 * also when called with len 0. NULL before that, and for untyped ones. */
const char *chk_decoder_type(const struct chk_decoder *d);

/* Moves to document byte pos (0 to the document's length) of an
 * uncompressed stream, so that a range of a large document (media in a
 * browser) costs the blocks on the path to it, not those before it: the
 * index blocks not in hand are wanted again, then the data block. Only
 * after the root was fed (and, if typed, its record read), and only for
 * CHK_CODEC_NONE (a compressed stream must be read from its start):
 * else CHK_ESTATE; pos past the end is CHK_EFORMAT. */
int chk_decoder_seek(struct chk_decoder *d, uint64_t pos)
	__attribute__((warn_unused_result));

/* Stream bytes handed out so far (a type record included). */
uint64_t chk_decoder_bytes_out(const struct chk_decoder *d);

#endif
