/*
 * link.h - the peer link: handshake, frames and message bodies.
 *
 * A pure module: no sockets, no clock. Randomness comes only from
 * libsodium's randombytes (the handshake's ephemeral keys); the caller has
 * called sodium_init(). The contract is docs/protocol.md, sections
 * "Links", "Handshake", "Frames" and "Messages".
 *
 * Handshake (SIGMA over X25519, three fixed-size messages):
 *
 *     initiator                               responder
 *     link_hs_init()          -- msg1 (40) -->  link_hs_respond()
 *     link_hs_read_msg2()     <-- msg2 (144) --
 *                             -- msg3 (112) -->  link_hs_read_msg3()
 *
 * link_hs_read_msg2() and link_hs_read_msg3() fill a struct link_keys and
 * hs->peer_pk (the peer's verified Ed25519 identity) on success. Every
 * failure is final: the state is wiped (only hs->peer_version after
 * LINK_EVERSION and hs->peer_pk after LINK_EPIN are left, for the log
 * line) and later calls return LINK_ESTATE; the caller closes the link.
 * A struct link_hs holds a copy of the node's secret key and ephemeral
 * secrets until the handshake ends; a caller that abandons one (timeout,
 * closed socket) calls link_hs_wipe().
 *
 * Frames: class u8 | AEAD(key, nonce = counter, type u8 | len u16 | body |
 * zero padding), the plaintext 256, 2048 or 33280 bytes. A frame on the
 * wire is therefore exactly LINK_FRAME0_BYTES, LINK_FRAME1_BYTES or
 * LINK_FRAME2_BYTES long; link_frame_size() tells a reader, from the first
 * byte, how many to wait for.
 *
 * Messages: struct link_msg is a tagged union of the bodies in
 * docs/protocol.md; link_msg_decode() reads them with the one bounds-checked
 * reader (crypto/wire.h) and accepts exactly the bytes link_msg_encode()
 * writes.
 *
 * Lifetimes: link_frame_open() decrypts in place; the body pointer it
 * returns points into the caller's frame buffer and is valid while that
 * buffer is. A decoded DATA or INSERT message's block pointer points into
 * the body given to link_msg_decode() (so, in the end, into the frame
 * buffer); copy the block before reusing the buffer. So do BUILD's records
 * and CELL's payload.
 *
 * Errors: 0 on success or a negative LINK_E* code (link_strerror()).
 * Functions that verify are warn_unused_result: an ignored result is an
 * unauthenticated peer accepted.
 */
#ifndef UMBRA_LINK_H
#define UMBRA_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "crypto/onion.h"	/* sizes of the path messages, onion_desc */

#define LINK_VERSION 1
#define LINK_MAGIC "UMBR"
#define LINK_MAGICBYTES 4

#define LINK_PUBLICKEYBYTES crypto_sign_PUBLICKEYBYTES		/* 32 */
#define LINK_SECRETKEYBYTES crypto_sign_SECRETKEYBYTES		/* 64 */
#define LINK_EPHEMERALBYTES crypto_scalarmult_SCALARBYTES	/* 32 */
#define LINK_KEYBYTES crypto_aead_chacha20poly1305_ietf_KEYBYTES	/* 32 */
#define LINK_HASHBYTES 32
#define LINK_ABYTES crypto_aead_chacha20poly1305_ietf_ABYTES	/* 16 */

#define LINK_MSG1_BYTES (LINK_MAGICBYTES + 4 + LINK_EPHEMERALBYTES)	/* 40 */
/* The identity box: public key | signature, 96 bytes. */
#define LINK_SIGNED_BYTES (LINK_PUBLICKEYBYTES + crypto_sign_BYTES)
#define LINK_MSG2_BYTES \
	(LINK_EPHEMERALBYTES + LINK_SIGNED_BYTES + LINK_ABYTES)	/* 144 */
#define LINK_MSG3_BYTES (LINK_SIGNED_BYTES + LINK_ABYTES)	/* 112 */

/* Frame plaintext sizes per class, the 3-byte type/len header included. */
#define LINK_FRAME_HEADERBYTES 3
#define LINK_FRAME_CLASSES 3
#define LINK_PLAIN0_BYTES 256
#define LINK_PLAIN1_BYTES 2048
#define LINK_PLAIN2_BYTES 33280
/* On the wire: the class byte, the ciphertext and the tag. */
#define LINK_FRAME0_BYTES (1 + LINK_PLAIN0_BYTES + LINK_ABYTES)	/* 273 */
#define LINK_FRAME1_BYTES (1 + LINK_PLAIN1_BYTES + LINK_ABYTES)	/* 2065 */
#define LINK_FRAME2_BYTES (1 + LINK_PLAIN2_BYTES + LINK_ABYTES)	/* 33297 */
#define LINK_FRAME_MAX_BYTES LINK_FRAME2_BYTES
#define LINK_BODY_MAX (LINK_PLAIN2_BYTES - LINK_FRAME_HEADERBYTES) /* 33277 */

/* Message bodies. */
#define LINK_BLOCK_BYTES 32768
#define LINK_RKEY_BYTES 32
#define LINK_HELLO_MAX_PEERS 32
#define LINK_PEERS_MAX 255
/* Addresses (docs/protocol.md, "Addresses"): family u8 | address 16 |
 * port u16, IPv4 in the first 4 bytes of the 16. */
#define LINK_NETADDR_BYTES 19
#define LINK_NONCE_BYTES 8
/* Onion paths (docs/onion.md). */
#define LINK_PATH_ID_BYTES ONION_PATH_ID_BYTES			/* 8 */
#define LINK_RELAYS_MAX 12	/* 1 + 12 x 155 = 1861: a class-1 frame */
#define LINK_RELAYS_MAX_BYTES (1 + LINK_RELAYS_MAX * ONION_DESC_BYTES)
#define LINK_BUILD_BYTES (LINK_PATH_ID_BYTES + ONION_BUILD_BYTES)	/* 1992 */
#define LINK_CELL_BYTES (LINK_PATH_ID_BYTES + ONION_CELL_SMALL_BYTES)	/* 2045 */
#define LINK_CELL_LARGE_BYTES \
	(LINK_PATH_ID_BYTES + ONION_CELL_LARGE_BYTES)		/* 33277 */
/* The largest body: CELL_LARGE, which fills a class-2 frame. */
#define LINK_MSG_MAX_BYTES LINK_CELL_LARGE_BYTES

enum link_err {
	LINK_OK = 0,
	LINK_EINVAL = -1,	/* bad argument from the caller */
	LINK_ESTATE = -2,	/* call out of order, or after a failure */
	LINK_ELEN = -3,		/* handshake message or frame: wrong size */
	LINK_EMAGIC = -4,	/* msg1 does not start with "UMBR" */
	LINK_EVERSION = -5,	/* another version, in hs->peer_version */
	LINK_EFORMAT = -6,	/* nonzero reserved bytes, malformed body */
	LINK_EKEY = -7,		/* X25519 gave all zeros (low-order key) */
	LINK_EAUTH = -8,	/* bad tag: altered, replayed, reordered */
	LINK_ESIG = -9,		/* the peer's identity signature is bad */
	LINK_EPIN = -10,	/* the responder is not the pinned identity */
	LINK_ECLASS = -11,	/* unknown frame class byte */
	LINK_EBODYLEN = -12,	/* frame len larger than its class allows */
	LINK_EPADDING = -13,	/* nonzero frame padding */
	LINK_ECOUNTER = -14,	/* nonce counter exhausted */
	LINK_ETOOBIG = -15,	/* body larger than LINK_BODY_MAX */
	LINK_ETYPE = -16,	/* unknown message type */
	LINK_ESPACE = -17,	/* output buffer too small */
};

/* One direction's key and counter each way. Secret: wipe with
 * link_keys_wipe() when the link closes. */
struct link_keys {
	uint8_t send_key[LINK_KEYBYTES];
	uint8_t recv_key[LINK_KEYBYTES];
	uint64_t send_ctr;	/* nonce of the next frame sealed */
	uint64_t recv_ctr;	/* nonce of the next frame opened */
};

/* Handshake state. Only peer_pk (after success) and peer_version (after
 * LINK_EVERSION) are for the caller to read; the rest is private. */
struct link_hs {
	uint8_t peer_pk[LINK_PUBLICKEYBYTES];
	uint8_t peer_version;
	/* private */
	int state;
	bool pinned;
	uint8_t pin[LINK_PUBLICKEYBYTES];
	uint8_t my_sk[LINK_SECRETKEYBYTES];
	uint8_t my_pk[LINK_PUBLICKEYBYTES];
	uint8_t e_sk[LINK_EPHEMERALBYTES];
	uint8_t msg1[LINK_MSG1_BYTES];
	uint8_t dh[crypto_scalarmult_BYTES];
	uint8_t h[LINK_HASHBYTES];	/* the transcript hash so far */
	uint8_t k_i[LINK_KEYBYTES];	/* responder: to open msg3 */
};

/*
 * Initiator, step 1: starts a handshake with a fresh ephemeral key and
 * writes msg1. my_sk/my_pk are the node's Ed25519 keypair (my_pk must be
 * the key's public half: LINK_EINVAL otherwise); expect_pk, if not NULL,
 * pins the responder's identity.
 */
int link_hs_init(struct link_hs *hs, const uint8_t my_sk[LINK_SECRETKEYBYTES],
    const uint8_t my_pk[LINK_PUBLICKEYBYTES],
    const uint8_t *expect_pk, uint8_t msg1[LINK_MSG1_BYTES])
	__attribute__((warn_unused_result));
/*
 * Initiator, step 2: checks msg2 (len must be LINK_MSG2_BYTES): LINK_ELEN,
 * LINK_EKEY, LINK_EAUTH, LINK_ESIG, or LINK_EPIN if a key other than the
 * pinned one answered (that verified key is then in hs->peer_pk, for the
 * log line). On success writes msg3, fills *keys and
 * hs->peer_pk, and wipes the handshake's secrets: the link is up once msg3
 * is sent.
 */
int link_hs_read_msg2(struct link_hs *hs, const uint8_t *msg2, size_t len,
    uint8_t msg3[LINK_MSG3_BYTES], struct link_keys *keys)
	__attribute__((warn_unused_result));

/*
 * Responder, step 1: checks msg1 (LINK_ELEN, LINK_EMAGIC, LINK_EVERSION
 * with the peer's version in hs->peer_version, LINK_EFORMAT for nonzero
 * reserved bytes, LINK_EKEY) and writes msg2.
 */
int link_hs_respond(struct link_hs *hs,
    const uint8_t my_sk[LINK_SECRETKEYBYTES],
    const uint8_t my_pk[LINK_PUBLICKEYBYTES],
    const uint8_t *msg1, size_t len, uint8_t msg2[LINK_MSG2_BYTES])
	__attribute__((warn_unused_result));
/*
 * Responder, step 2: checks msg3 (LINK_ELEN, LINK_EAUTH, LINK_ESIG). On
 * success fills *keys and hs->peer_pk (the initiator's verified identity)
 * and wipes the handshake's secrets.
 */
int link_hs_read_msg3(struct link_hs *hs, const uint8_t *msg3, size_t len,
    struct link_keys *keys) __attribute__((warn_unused_result));

/* Wipes every secret in hs; hs is then in no handshake (LINK_ESTATE). */
void link_hs_wipe(struct link_hs *hs);
void link_keys_wipe(struct link_keys *keys);

/*
 * For known-answer tests only: link_hs_init() and link_hs_respond() with
 * the given ephemeral secret instead of a random one. A node never calls
 * these: a reused ephemeral key loses forward secrecy.
 */
int link_hs_init_with_ephemeral(struct link_hs *hs,
    const uint8_t my_sk[LINK_SECRETKEYBYTES],
    const uint8_t my_pk[LINK_PUBLICKEYBYTES], const uint8_t *expect_pk,
    const uint8_t e_sk[LINK_EPHEMERALBYTES], uint8_t msg1[LINK_MSG1_BYTES])
	__attribute__((warn_unused_result));
int link_hs_respond_with_ephemeral(struct link_hs *hs,
    const uint8_t my_sk[LINK_SECRETKEYBYTES],
    const uint8_t my_pk[LINK_PUBLICKEYBYTES],
    const uint8_t *msg1, size_t len,
    const uint8_t e_sk[LINK_EPHEMERALBYTES], uint8_t msg2[LINK_MSG2_BYTES])
	__attribute__((warn_unused_result));

/* Total wire size of a frame whose first byte is class_byte, or 0 if no
 * such class exists (close the link). */
size_t link_frame_size(uint8_t class_byte);

/*
 * Seals one frame of the given type and body (len <= LINK_BODY_MAX, else
 * LINK_ETOOBIG) in the smallest class that fits, into out (cap bytes; at
 * most LINK_FRAME_MAX_BYTES are needed, LINK_ESPACE if too few), sets
 * *outlen and advances keys->send_ctr. body must not overlap out.
 */
int link_frame_seal(struct link_keys *keys, uint8_t type, const uint8_t *body,
    size_t len, uint8_t *out, size_t cap, size_t *outlen)
	__attribute__((warn_unused_result));
/*
 * Opens one complete frame of inlen bytes, decrypting it in place:
 * LINK_ECLASS, LINK_ELEN (inlen is not the class's size), LINK_EAUTH (tag
 * wrong: altered, replayed, reordered or dropped frames), LINK_EBODYLEN,
 * LINK_EPADDING. On success sets *type, *body (pointing into frame) and
 * *bodylen, and advances keys->recv_ctr; on failure the counter stays and
 * the frame's bytes are unspecified. Any failure closes the link.
 */
int link_frame_open(struct link_keys *keys, uint8_t *frame, size_t inlen,
    uint8_t *type, const uint8_t **body, size_t *bodylen)
	__attribute__((warn_unused_result));

enum link_msg_type {
	LINK_MSG_PING = 1,
	LINK_MSG_PONG = 2,
	LINK_MSG_HELLO = 3,
	LINK_MSG_PEERS = 4,
	/* Addresses (docs/protocol.md, "Addresses"). */
	LINK_MSG_SEEN = 6,
	LINK_MSG_PROBE = 7,
	LINK_MSG_PROBED = 8,
	LINK_MSG_PROBE_FAIL = 9,
	LINK_MSG_REQUEST = 10,
	LINK_MSG_DATA = 11,
	LINK_MSG_DNF = 12,
	LINK_MSG_RNF = 13,
	LINK_MSG_LOOP = 14,
	LINK_MSG_ACCEPTED = 15,
	LINK_MSG_INSERT = 20,
	LINK_MSG_INSERT_OK = 21,
	/* Onion paths (docs/onion.md). */
	LINK_MSG_RELAYS = 5,
	LINK_MSG_BUILD = 30,
	LINK_MSG_BUILT = 31,
	LINK_MSG_BUILD_FAIL = 32,
	LINK_MSG_CELL = 33,
	LINK_MSG_CELL_LARGE = 34,
};

/* One entry of PEERS: family 4 uses addr[0..3], the rest zero. */
struct link_peer_addr {
	uint8_t pk[LINK_PUBLICKEYBYTES];
	uint8_t family;		/* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

/* An address as the wire carries it: family 4 uses addr[0..3], the rest
 * zero; port 0 means "not known" where a message allows it. */
struct link_netaddr {
	uint8_t family;		/* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

/* A message body; type selects the member of the same name. Integers are
 * host order here, big-endian on the wire. */
struct link_msg {
	uint8_t type;		/* enum link_msg_type */
	union {
		struct { uint64_t cookie; } ping, pong;
		struct {
			uint16_t port;
			uint8_t npeers;		/* <= LINK_HELLO_MAX_PEERS */
			uint8_t peers[LINK_HELLO_MAX_PEERS]
			    [LINK_PUBLICKEYBYTES];
		} hello;
		struct {
			uint8_t n;
			struct link_peer_addr peers[LINK_PEERS_MAX];
		} peers;
		/* SEEN: the address the sender sees the receiver at (port 0:
		 * the sender did not dial it, so saw no port it listens on). */
		struct link_netaddr seen;
		/* PROBE: "dial me back at addr and say nonce there";
		 * PROBED (on that dial-back link) and PROBE_FAIL carry only
		 * the nonce. */
		struct {
			uint64_t nonce;
			struct link_netaddr addr;
		} probe;
		struct { uint64_t nonce; } probed, probe_fail;
		struct {
			uint64_t id;
			uint8_t rkey[LINK_RKEY_BYTES];
			uint8_t htl;
		} request;
		struct { uint64_t id; const uint8_t *block; } data;
		/* One type for every id-only body; the id of BUILT and
		 * BUILD_FAIL is a path_id. */
		struct { uint64_t id; } dnf, loop, accepted, insert_ok,
		    built, build_fail;
		struct { uint64_t id; uint8_t htl; } rnf;
		struct {
			uint64_t id;
			uint8_t htl;
			const uint8_t *block;	/* LINK_BLOCK_BYTES */
		} insert;
		struct {
			uint8_t n;	/* 1..LINK_RELAYS_MAX */
			struct onion_desc descs[LINK_RELAYS_MAX];
		} relays;		/* signatures not checked here */
		struct {
			uint64_t path_id;
			const uint8_t *records;	/* ONION_BUILD_BYTES */
		} build;
		/* CELL: ONION_CELL_SMALL_BYTES of payload, CELL_LARGE:
		 * ONION_CELL_LARGE_BYTES; one type, so cell stands for both. */
		struct {
			uint64_t path_id;
			const uint8_t *payload;
		} cell, cell_large;
	};
};

/*
 * Writes msg's body into out (cap bytes; LINK_MSG_MAX_BYTES always
 * suffice) and sets *len: LINK_ETYPE for an unknown type, LINK_EFORMAT for
 * a message that has no encoding (HELLO with over 32 peers, a family not 4
 * or 6 in PEERS, SEEN or PROBE, an IPv4 address with nonzero unused bytes, a NULL block, records or payload, RELAYS with n not 1..12 or a
 * descriptor onion_desc_encode() refuses), LINK_ESPACE if cap is too
 * small.
 */
int link_msg_encode(const struct link_msg *msg, uint8_t *out, size_t cap,
    size_t *len) __attribute__((warn_unused_result));
/*
 * Parses a body of the given type: LINK_ETYPE for an unknown type,
 * LINK_EFORMAT if the body is short, long or malformed. See the lifetime
 * note above for DATA and INSERT; BUILD's records and CELL's payload
 * point into body the same way. RELAYS descriptors are decoded with
 * onion_desc_decode() but not verified: call onion_desc_verify().
 */
int link_msg_decode(uint8_t type, const uint8_t *body, size_t len,
    struct link_msg *msg) __attribute__((warn_unused_result));

const char *link_strerror(int err);

#endif
