/*
 * chk_encode.h - turn a byte stream into CHK blocks, streaming.
 *
 * The encoder takes the document in pieces of any size and hands every
 * finished ciphertext block to the caller's emit function as soon as it
 * exists, so memory stays bounded (about 1.5 MiB while deciding on
 * compression, then about 0.5 MiB) whatever the document's size.
 *
 * Compression: the first CHK_SAMPLE_SIZE bytes (or the whole document if
 * shorter) are compressed with zstd level CHK_ZSTD_LEVEL; the document is
 * compressed only if that saves at least 1/32 of the sample. zstd is fed
 * in fixed pieces of CHK_ZSTD_PIECE bytes whatever the caller's pieces
 * were, so the same bytes always give the same blocks and the same URI.
 *
 * Ownership: chk_encoder_new() makes an encoder, chk_encoder_free() ends
 * it (accepts NULL). The block passed to emit is valid during that call
 * only. An emit that returns non-zero stops the encoder: that value is
 * returned by the write or finish call, and the encoder only accepts
 * chk_encoder_each_pending() and chk_encoder_free() afterwards.
 */
#ifndef UMBRA_CHK_ENCODE_H
#define UMBRA_CHK_ENCODE_H

#include "crypto/chk.h"

#define CHK_SAMPLE_SIZE (1024 * 1024)
#define CHK_ZSTD_LEVEL 1
#define CHK_ZSTD_PIECE (128 * 1024)
/* zstd window: 2^19 bytes, so a decoder needs at most 512 KiB of window. */
#define CHK_ZSTD_WINDOW_LOG 19

typedef int (*chk_emit_fn)(void *arg, const struct chk_ref *ref,
    const uint8_t cipher[CHK_BLOCK_SIZE]);

struct chk_encoder;

int chk_encoder_new(struct chk_encoder **out, chk_emit_fn emit, void *arg)
	__attribute__((warn_unused_result));
void chk_encoder_free(struct chk_encoder *enc);

int chk_encoder_write(struct chk_encoder *enc, const void *data, size_t len)
	__attribute__((warn_unused_result));
/* Makes the stream a typed one (CHK_FORMAT_TYPED): writes the type
 * record for type (chk_type_check()), so it must come before any byte of
 * the document. CHK_ESTATE after a write, CHK_EFORMAT for a bad type. */
int chk_encoder_set_type(struct chk_encoder *enc, const char *type)
	__attribute__((warn_unused_result));
/* Ends the stream, emits the last blocks and fills *root. */
int chk_encoder_finish(struct chk_encoder *enc, struct chk_root *root)
	__attribute__((warn_unused_result));

/* For a document given up half way: calls fn for every reference held in
 * the encoder's unfinished index blocks, with the level of the block it
 * points to (0 = data). Together with the subtrees below them these are
 * exactly the blocks emitted so far; a referenced index block at level L
 * is full (CHK_FANOUT^L data blocks below it). Stops at fn's first
 * non-zero result and returns it. */
int chk_encoder_each_pending(struct chk_encoder *enc,
    int (*fn)(void *arg, const struct chk_ref *ref, int level), void *arg);

/* Bytes written so far (before compression; a type record included). */
uint64_t chk_encoder_bytes_in(const struct chk_encoder *enc);

#endif
