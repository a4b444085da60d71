/*
 * chk.h - content hash key (CHK) blocks: the unit every node stores.
 *
 * A block is CHK_BLOCK_SIZE bytes of ciphertext. Its plaintext P (data,
 * zero-padded, or an index of child references) is encrypted with
 *     ckey = SHA-256(TAG_KEY || P)          (convergent: same P, same key)
 *     C    = ChaCha20(ckey, nonce 0, P)     (a key is never reused for
 *                                           another plaintext, so a fixed
 *                                           nonce is safe)
 *     rkey = SHA-256(TAG_ROUTE || C)        (the routing key)
 * so any relay can check C against rkey without reading it, and the holder
 * of (rkey, ckey) checks the plaintext against ckey after decryption.
 * TAG_* are 64-byte domain tags (one SHA-256 input block each), defined in
 * chk.c and in docs/blocks.md. SHA-256 and ChaCha20 come from OpenSSL's
 * libcrypto, which uses SHA-NI and AVX-512 where the CPU has them (the
 * figures are in docs/blocks.md); the bytes are standard SHA-256 and
 * RFC 8439 ChaCha20, so libsodium gives the same results.
 *
 * Files longer than one block form a tree: index blocks hold up to
 * CHK_FANOUT references (rkey || ckey, 64 bytes each) to the blocks of the
 * level below, filled left to right; unused entries are zero. The shape
 * follows from the stream length alone (struct chk_shape).
 *
 * Errors: 0 or a negative CHK_E* code (chk_strerror()). Functions that
 * verify are warn_unused_result: a result ignored is a block accepted.
 */
#ifndef UMBRA_CHK_H
#define UMBRA_CHK_H

#include <stddef.h>
#include <stdint.h>

#define CHK_BLOCK_SIZE 32768
#define CHK_KEY_SIZE 32
#define CHK_ENTRY_SIZE (2 * CHK_KEY_SIZE)
#define CHK_FANOUT (CHK_BLOCK_SIZE / CHK_ENTRY_SIZE)	/* 512 */
#define CHK_MAX_DEPTH 4
/* 512^4 data blocks of 32 KiB: 2^51 bytes (2 PiB) of stream. */
#define CHK_MAX_STREAM ((uint64_t)CHK_BLOCK_SIZE << 36)

enum chk_err {
	CHK_OK = 0,
	CHK_EBADBLOCK = -1,	/* a block does not match its key */
	CHK_EFORMAT = -2,	/* malformed index, stream or parameters */
	CHK_ETOOBIG = -3,	/* over CHK_MAX_STREAM */
	CHK_ENOMEM = -4,
	CHK_ECRYPTO = -5,	/* libcrypto failed */
	CHK_ESTATE = -6,	/* call out of order */
};

struct chk_ref {
	uint8_t rkey[CHK_KEY_SIZE];	/* routing key: hash of ciphertext */
	uint8_t ckey[CHK_KEY_SIZE];	/* decryption key: hash of plaintext */
};

enum chk_codec {
	CHK_CODEC_NONE = 0,
	CHK_CODEC_ZSTD = 1,
};

/* Everything a decoder needs: the root block's reference and the stream's
 * description. The URI carries exactly this (uri.h). */
struct chk_root {
	struct chk_ref ref;
	uint8_t codec;		/* enum chk_codec */
	uint8_t depth;		/* index levels; must match stream_len */
	uint64_t data_len;	/* bytes the user inserted */
	uint64_t stream_len;	/* bytes after compression, as stored */
	uint8_t typed;		/* 1: the stream opens with a type record */
};

/* The root's description as the URI carries it: format version, codec,
 * depth, data_len and stream_len (u64s big-endian), 19 bytes. */
#define CHK_FORMAT_VERSION 1
#define CHK_EXTRA_SIZE 19
/* Version 2 is version 1 with a typed stream: before the document, the
 * stream holds a type record, one byte n (1 to CHK_TYPE_MAX) and n bytes
 * of a media type "type/subtype" (lower case, RFC 6838 name characters),
 * so the type given at insert travels with the document under its keys.
 * data_len counts the record too. */
#define CHK_FORMAT_TYPED 2
#define CHK_TYPE_MAX 127
/* 0 if type[0..len) is a media type a type record may hold. */
int chk_type_check(const char *type, size_t len);
void chk_root_extra(const struct chk_root *root, uint8_t extra[CHK_EXTRA_SIZE]);

/* How the data blocks of a stream of a given length are arranged. */
struct chk_shape {
	uint64_t stream_len;
	int depth;				/* index levels above the data */
	uint64_t count[CHK_MAX_DEPTH + 1];	/* blocks per level, 0 = data */
};

/* Fills *shape for stream_len; CHK_ETOOBIG past CHK_MAX_STREAM. */
int chk_shape_make(struct chk_shape *shape, uint64_t stream_len)
	__attribute__((warn_unused_result));
/* Number of children of the index-th node (from the left, from 0) at
 * level (>= 1); zero if there is no such node. */
size_t chk_shape_children(const struct chk_shape *shape, int level,
    uint64_t index);

/* Encrypts the plaintext block in place and fills *ref. */
int chk_block_encode(uint8_t block[CHK_BLOCK_SIZE], struct chk_ref *ref)
	__attribute__((warn_unused_result));
/* Decrypts cipher into plain and checks it against ref->ckey:
 * CHK_EBADBLOCK if it does not match. */
int chk_block_decode(const uint8_t cipher[CHK_BLOCK_SIZE],
    uint8_t plain[CHK_BLOCK_SIZE], const struct chk_ref *ref)
	__attribute__((warn_unused_result));
/* The root block is encrypted like any other, except that its content key
 * also covers the document's description: ckey = SHA-256(TAG_ROOT ||
 * extra || P), TAG_ROOT || extra being one 64-byte hash block. A URI
 * whose lengths, codec or depth were altered thus fails to decrypt its
 * root (CHK_EBADBLOCK) instead of yielding other bytes; relays see no
 * difference (rkey is still the hash of the ciphertext). */
int chk_block_encode_root(uint8_t block[CHK_BLOCK_SIZE],
    const uint8_t extra[CHK_EXTRA_SIZE], struct chk_ref *ref)
	__attribute__((warn_unused_result));
int chk_block_decode_root(const uint8_t cipher[CHK_BLOCK_SIZE],
    uint8_t plain[CHK_BLOCK_SIZE], const struct chk_ref *ref,
    const uint8_t extra[CHK_EXTRA_SIZE]) __attribute__((warn_unused_result));
/* Computes the routing key of a ciphertext block. */
int chk_block_rkey(const uint8_t cipher[CHK_BLOCK_SIZE],
    uint8_t rkey[CHK_KEY_SIZE]) __attribute__((warn_unused_result));
/* What a relay does: 0 if cipher hashes to rkey, else CHK_EBADBLOCK. */
int chk_block_verify(const uint8_t cipher[CHK_BLOCK_SIZE],
    const uint8_t rkey[CHK_KEY_SIZE]) __attribute__((warn_unused_result));

/* Parses a decrypted index block that must hold exactly n references
 * (1 <= n <= CHK_FANOUT): CHK_EFORMAT if a used entry is all zero or an
 * unused one is not. */
int chk_index_parse(const uint8_t plain[CHK_BLOCK_SIZE], size_t n,
    struct chk_ref *refs) __attribute__((warn_unused_result));

const char *chk_strerror(int err);

#endif
