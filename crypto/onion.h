/*
 * onion.h - onion paths: the BUILD message and layered cells.
 *
 * A pure module: no sockets, no clock. Randomness comes only from
 * libsodium's randombytes (ephemeral keys, fillers); the caller has called
 * sodium_init(). The contract is docs/onion.md, sections "Keys", "The
 * build message" and "Cells".
 *
 * Keys. For hop i, s = X25519(e_i, onion_pk_i) (all zeros refused),
 * h = BLAKE2b-256(e_i_pub | onion_pk_i), and each key is BLAKE2b-256 keyed
 * with s over h | label, the label ASCII without a NUL:
 *     "rec"  k_rec   the record's AEAD
 *     "peel" k_peel  the BUILD message's stream
 *     "fwd"  k_fwd   forward cell layer
 *     "back" k_back  backward cell layer
 *     "dig"  k_dig   cell digest (both directions)
 *
 * BUILD: 8 records of 248 bytes, e_i_pub | ChaCha20-Poly1305-IETF(k_rec,
 * nonce 0, aad e_i_pub, 200-byte plaintext). A hop opens record 0, drops
 * it, shifts the other 7 left, appends 248 random bytes and XORs the first
 * 1736 bytes with ChaCha20-IETF(k_peel, zero nonce, block counter 0)
 * keystream bytes 0..1735. onion_build_make() pre-masks record i with the
 * streams of hops 0..i-1 so that it reaches hop i in the clear.
 *
 * Cells: payload = recognized u16 (0) | digest 8 | stream u32 | cmd u8 |
 * len u16 | body | zero padding, ONION_CELL_SMALL_BYTES or
 * ONION_CELL_LARGE_BYTES long. Each layer is ChaCha20-IETF(k, nonce =
 * the direction's cell counter, u64 little-endian in the 12-byte nonce).
 * The digest is the first 8 bytes of BLAKE2b-256 keyed with the exit's
 * k_dig over all payloads so far in that direction, each with its digest
 * field zeroed; a struct onion_dir holds that running hash and the
 * counter of one direction at one party.
 *
 *   origin                  relays 0..N-2          exit (hop N-1)
 *   onion_cell_wrap_fwd --> onion_cell_peel_fwd --> onion_cell_peel_fwd
 *   onion_cell_open_back <- onion_cell_wrap_back <- onion_cell_seal_back
 *
 * All cell functions work in place on the caller's payload buffer.
 * onion_cell_parse() reads a recognized payload with the one bounds-checked
 * reader (crypto/wire.h); its body pointer points into that payload.
 *
 * Descriptors: struct onion_desc is what a relay publishes about itself;
 * onion_desc_sign() and onion_desc_verify() sign and check it, and
 * onion_desc_encode()/onion_desc_decode() are its one wire codec.
 *
 * Secrets: struct onion_hop_keys and struct onion_dir are secret; wipe them
 * with onion_hop_keys_wipe() and onion_dir_wipe() when the path ends.
 * Errors: 0 on success or a negative ONION_E* code (onion_strerror()).
 * Verifying functions are warn_unused_result.
 */
#ifndef UMBRA_ONION_H
#define UMBRA_ONION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

/* No crypto/link.h here: link.h includes this header for the sizes of
 * the path messages it carries (RELAYS, BUILD, CELL); onion.c checks the
 * frame sizes below against link.h's. */

#define ONION_MAX_HOPS 8
#define ONION_KEYBYTES 32
#define ONION_PUBLICKEYBYTES crypto_scalarmult_BYTES		/* 32 */
#define ONION_SECRETKEYBYTES crypto_scalarmult_SCALARBYTES	/* 32 */
#define ONION_IDBYTES 32
#define ONION_ADDRBYTES 16
#define ONION_ABYTES crypto_aead_chacha20poly1305_ietf_ABYTES	/* 16 */

#define ONION_PLAIN_BYTES 200		/* a record's plaintext */
#define ONION_INSTR_BYTES (1 + ONION_IDBYTES + 1 + ONION_ADDRBYTES + 2)
#define ONION_RESERVED_BYTES (ONION_PLAIN_BYTES - ONION_INSTR_BYTES) /* 148 */
#define ONION_RECORD_BYTES \
	(ONION_PUBLICKEYBYTES + ONION_PLAIN_BYTES + ONION_ABYTES)	/* 248 */
#define ONION_BUILD_BYTES (ONION_MAX_HOPS * ONION_RECORD_BYTES)	/* 1984 */
#define ONION_PEEL_BYTES (ONION_BUILD_BYTES - ONION_RECORD_BYTES) /* 1736 */

#define ONION_FLAG_EXIT 1

/* Cells: a CELL body is path_id u64 | payload, filling one link frame of
 * class 1 (2048-byte plaintext) or class 2 (33280) less its 3-byte
 * header (asserted against crypto/link.h in onion.c). */
#define ONION_PATH_ID_BYTES 8
#define ONION_CELL_HEADER_BYTES (2 + 8 + 4 + 1 + 2)		/* 17 */
#define ONION_DIGEST_BYTES 8
#define ONION_CELL_SMALL_BYTES (2048 - 3 - ONION_PATH_ID_BYTES)	/* 2037 */
#define ONION_CELL_LARGE_BYTES (33280 - 3 - ONION_PATH_ID_BYTES)	/* 33269 */

/* Relay descriptors: identity 32 | onion key 32 | not_after u64 | family
 * u8 | address 16 | port u16 | sig 64, the signature Ed25519 by the
 * identity over ONION_DESC_CONTEXT | the 91 bytes before it. */
#define ONION_DESC_CONTEXT "umbra relay v1"
#define ONION_DESC_CONTEXTBYTES 14
#define ONION_SIGBYTES crypto_sign_BYTES			/* 64 */
#define ONION_DESC_SIGNED_BYTES \
	(ONION_IDBYTES + ONION_PUBLICKEYBYTES + 8 + 1 + ONION_ADDRBYTES + 2)
#define ONION_DESC_BYTES (ONION_DESC_SIGNED_BYTES + ONION_SIGBYTES)	/* 155 */

enum onion_err {
	ONION_OK = 0,
	ONION_EINVAL = -1,	/* bad argument from the caller */
	ONION_EKEY = -2,	/* X25519 gave all zeros (low-order key) */
	ONION_EAUTH = -3,	/* record does not open; cell not recognized */
	ONION_EFORMAT = -4,	/* nonzero reserved bytes, bad flags or len */
	ONION_EPADDING = -5,	/* nonzero cell padding */
	ONION_ELEN = -6,	/* payload is neither cell size */
	ONION_ESIG = -7,	/* descriptor signature is not its identity's */
	ONION_EEXPIRED = -8,	/* descriptor's not_after is in the past */
};

/* What a cell says (docs/onion.md, "Cells"); bodies: REQUEST the routing
 * key (32 bytes), DATA and INSERT a block (32768, in a large cell), FAIL
 * one byte (the route status of routing/route.h), STORED none. */
enum onion_cmd {
	ONION_CMD_REQUEST = 1,	/* origin to exit: fetch this key */
	ONION_CMD_DATA = 2,	/* exit to origin: the block */
	ONION_CMD_FAIL = 3,	/* exit to origin: the stream failed */
	ONION_CMD_INSERT = 4,	/* origin to exit: insert this block */
	ONION_CMD_STORED = 5,	/* exit to origin: the insert is stored */
};

enum onion_cell_result {
	ONION_CELL_RECOGNIZED = 1,	/* this hop's cell: parse it */
	ONION_CELL_PASS_ON = 2,		/* forward it to the next hop */
};

/* What a record tells its hop. Port in host order. */
struct onion_instr {
	uint8_t flags;			/* 0 or ONION_FLAG_EXIT */
	uint8_t next_id[ONION_IDBYTES];
	uint8_t family;
	uint8_t addr[ONION_ADDRBYTES];
	uint16_t port;
};

/* A relay descriptor (docs/onion.md, "Keys"). Family 4 uses addr[0..3],
 * the rest zero; family 6 all 16. Integers in host order. */
struct onion_desc {
	uint8_t identity[ONION_IDBYTES];	/* Ed25519 public key */
	uint8_t onion_pk[ONION_PUBLICKEYBYTES];	/* X25519, for BUILD */
	uint64_t not_after;			/* Unix seconds */
	uint8_t family;				/* 4 or 6 */
	uint8_t addr[ONION_ADDRBYTES];
	uint16_t port;
	uint8_t sig[ONION_SIGBYTES];
};

/* One hop as the origin chooses it. */
struct onion_build_hop {
	uint8_t onion_pk[ONION_PUBLICKEYBYTES];
	struct onion_instr instr;
};

/* The cell keys one hop shares with the origin (k_rec and k_peel serve
 * the build only and are wiped inside). Secret. */
struct onion_hop_keys {
	uint8_t k_fwd[ONION_KEYBYTES];
	uint8_t k_back[ONION_KEYBYTES];
	uint8_t k_dig[ONION_KEYBYTES];
};

/* One direction of a path at one party: the running digest and the cell
 * counter. Secret. Made by onion_dir_init(). */
struct onion_dir {
	crypto_generichash_state dig;
	uint64_t ctr;
};

/*
 * Origin: writes the BUILD records for the n hops (1..ONION_MAX_HOPS, else
 * ONION_EINVAL; flags other than 0 and ONION_FLAG_EXIT: ONION_EINVAL) into
 * msg, with fresh ephemeral keys and random unused records, and fills
 * keys[0..n-1]. ONION_EKEY if a hop's onion key is a low-order point.
 * On failure msg and keys are zeroed.
 */
int onion_build_make(const struct onion_build_hop *hops, size_t n,
    uint8_t msg[ONION_BUILD_BYTES], struct onion_hop_keys *keys)
	__attribute__((warn_unused_result));

/*
 * Relay: opens record 0 of msg with onion_sk: ONION_EKEY, ONION_EAUTH (the
 * record is not for this key, or altered), ONION_EFORMAT (nonzero reserved
 * bytes or unknown flags); on any failure msg is unchanged (try the
 * previous onion key next). On success fills *instr and *keys and rewrites
 * msg in place, ready for the next hop. msg's first 32 bytes before the
 * call are the record's e_i_pub, for the replay set.
 */
int onion_build_open(const uint8_t onion_sk[ONION_SECRETKEYBYTES],
    uint8_t msg[ONION_BUILD_BYTES], struct onion_instr *instr,
    struct onion_hop_keys *keys) __attribute__((warn_unused_result));

/*
 * For known-answer tests only: the two calls above with given ephemeral
 * secrets (e_sk[n]), unused records ((ONION_MAX_HOPS - n) records of
 * bytes, NULL when n is 8) and filler. A node never calls these.
 */
int onion_build_make_with_ephemeral(const struct onion_build_hop *hops,
    size_t n, const uint8_t (*e_sk)[ONION_SECRETKEYBYTES],
    const uint8_t *unused, uint8_t msg[ONION_BUILD_BYTES],
    struct onion_hop_keys *keys) __attribute__((warn_unused_result));
int onion_build_open_with_filler(const uint8_t onion_sk[ONION_SECRETKEYBYTES],
    uint8_t msg[ONION_BUILD_BYTES], const uint8_t filler[ONION_RECORD_BYTES],
    struct onion_instr *instr, struct onion_hop_keys *keys)
	__attribute__((warn_unused_result));

/* Starts a direction's running digest with k_dig (the exit's, at the
 * origin; its own, at a relay), counter 0. */
void onion_dir_init(struct onion_dir *d, const uint8_t k_dig[ONION_KEYBYTES]);
void onion_dir_wipe(struct onion_dir *d);
void onion_hop_keys_wipe(struct onion_hop_keys *keys);

/*
 * Writes a plaintext payload of size bytes (a cell size, else ONION_ELEN):
 * recognized and digest zero, the fields, body, zero padding.
 * ONION_EFORMAT if len does not fit.
 */
int onion_cell_format(uint8_t *payload, size_t size, uint8_t cmd,
    uint32_t stream, const uint8_t *body, size_t len)
	__attribute__((warn_unused_result));

/*
 * Origin, forward: sets the digest (fwd must be keyed with keys[n-1].k_dig)
 * and adds the layers of hops n-1..0 with nonce fwd->ctr, then advances
 * it. ONION_EINVAL for a bad n, ONION_ELEN for a bad size.
 */
int onion_cell_wrap_fwd(const struct onion_hop_keys *keys, size_t n,
    struct onion_dir *fwd, uint8_t *payload, size_t size)
	__attribute__((warn_unused_result));
/*
 * Relay, forward: removes this hop's layer and advances fwd->ctr; returns
 * ONION_CELL_RECOGNIZED when recognized is 0 and the digest matches the
 * running digest (which then takes the cell in), else ONION_CELL_PASS_ON
 * (the running digest unchanged); ONION_ELEN for a bad size. At the exit,
 * PASS_ON means the path is broken: drop it.
 */
int onion_cell_peel_fwd(const struct onion_hop_keys *keys,
    struct onion_dir *fwd, uint8_t *payload, size_t size)
	__attribute__((warn_unused_result));

/* Exit, backward: sets the digest from back (keyed with its own k_dig),
 * adds its k_back layer, advances back->ctr. ONION_ELEN for a bad size. */
int onion_cell_seal_back(const struct onion_hop_keys *keys,
    struct onion_dir *back, uint8_t *payload, size_t size)
	__attribute__((warn_unused_result));
/* Relay, backward: adds its k_back layer, advances back->ctr. */
int onion_cell_wrap_back(const struct onion_hop_keys *keys,
    struct onion_dir *back, uint8_t *payload, size_t size)
	__attribute__((warn_unused_result));
/*
 * Origin, backward: removes the n layers and advances back->ctr (keyed
 * with keys[n-1].k_dig); ONION_EAUTH if the cell is then not recognized
 * (the running digest is unchanged, the payload garbage: drop the path).
 */
int onion_cell_open_back(const struct onion_hop_keys *keys, size_t n,
    struct onion_dir *back, uint8_t *payload, size_t size)
	__attribute__((warn_unused_result));

/*
 * Reads a recognized payload: ONION_ELEN (not a cell size), ONION_EFORMAT
 * (recognized not 0, len past the end), ONION_EPADDING. *body points into
 * payload, valid while it is.
 */
int onion_cell_parse(const uint8_t *payload, size_t size, uint8_t *cmd,
    uint32_t *stream, const uint8_t **body, size_t *len)
	__attribute__((warn_unused_result));

/*
 * Signs desc with identity_sk (an Ed25519 secret key whose public half
 * must be desc->identity, else ONION_EINVAL), filling desc->sig.
 * ONION_EFORMAT for a family not 4 or 6 or nonzero unused IPv4 bytes.
 */
int onion_desc_sign(struct onion_desc *desc,
    const uint8_t identity_sk[crypto_sign_SECRETKEYBYTES])
	__attribute__((warn_unused_result));
/*
 * Checks a descriptor from outside: ONION_EFORMAT (family, unused IPv4
 * bytes), ONION_EEXPIRED (not_after < now, Unix seconds from the caller),
 * ONION_ESIG (the signature is not desc->identity's over these fields).
 */
int onion_desc_verify(const struct onion_desc *desc, uint64_t now)
	__attribute__((warn_unused_result));
/*
 * The wire form, ONION_DESC_BYTES. encode: ONION_EFORMAT for a descriptor
 * that has none (as above). decode: reads exactly ONION_DESC_BYTES with the
 * bounds-checked reader and refuses (ONION_EFORMAT) what encode would;
 * the signature is not checked (onion_desc_verify()). crypto/link.c frames
 * RELAYS entries with these, so a descriptor has one codec.
 */
int onion_desc_encode(const struct onion_desc *desc,
    uint8_t out[ONION_DESC_BYTES]) __attribute__((warn_unused_result));
int onion_desc_decode(const uint8_t *in, size_t len, struct onion_desc *desc)
	__attribute__((warn_unused_result));

const char *onion_strerror(int err);

#endif
