/* link.c - see link.h and docs/protocol.md ("Links"). */
#include <string.h>

#include "crypto/chk.h"
#include "crypto/link.h"
#include "crypto/wire.h"

_Static_assert(LINK_BLOCK_BYTES == CHK_BLOCK_SIZE, "a DATA body is a block");
_Static_assert(LINK_MSG1_BYTES == 40 && LINK_MSG2_BYTES == 144 &&
    LINK_MSG3_BYTES == 112, "handshake sizes of docs/protocol.md");
_Static_assert(LINK_MSG_MAX_BYTES <= LINK_BODY_MAX, "CELL_LARGE fits class 2");
_Static_assert(LINK_MSG_MAX_BYTES >= 8 + 1 + LINK_BLOCK_BYTES &&
    LINK_MSG_MAX_BYTES >= LINK_RELAYS_MAX_BYTES &&
    LINK_MSG_MAX_BYTES >= LINK_BUILD_BYTES, "the largest body is the max");
/* The path messages of docs/onion.md: RELAYS (12 descriptors of 155
 * bytes), BUILD and a small CELL in a class-1 frame, a large CELL in
 * class 2. */
_Static_assert(ONION_DESC_BYTES == 155 && LINK_RELAYS_MAX_BYTES == 1861 &&
    LINK_RELAYS_MAX_BYTES <= LINK_PLAIN1_BYTES - LINK_FRAME_HEADERBYTES,
    "RELAYS: 12 descriptors fit class 1");
_Static_assert(LINK_BUILD_BYTES <= LINK_PLAIN1_BYTES - LINK_FRAME_HEADERBYTES,
    "BUILD fits class 1");
_Static_assert(LINK_CELL_BYTES <= LINK_PLAIN1_BYTES - LINK_FRAME_HEADERBYTES,
    "a small CELL fits class 1");
_Static_assert(LINK_CELL_LARGE_BYTES <= LINK_BODY_MAX,
    "a large CELL fits class 2");
_Static_assert(LINK_HASHBYTES == LINK_KEYBYTES &&
    LINK_HASHBYTES == crypto_scalarmult_BYTES, "one 32-byte size");

#define LINK_NONCEBYTES crypto_aead_chacha20poly1305_ietf_NPUBBYTES

enum { HS_NONE = 0, HS_SENT1, HS_SENT2 };

static const char PROLOGUE[] = "umbra link v1";
static const char SIG_RESP[] = "umbra link v1 responder";
static const char SIG_INIT[] = "umbra link v1 initiator";
#define SIG_CTX_BYTES (sizeof(SIG_RESP) - 1)
_Static_assert(sizeof(SIG_RESP) == sizeof(SIG_INIT), "same context length");

static const size_t plain_size[LINK_FRAME_CLASSES] = {
	LINK_PLAIN0_BYTES, LINK_PLAIN1_BYTES, LINK_PLAIN2_BYTES,
};

/* H = BLAKE2b-256(a | b | c); c may be NULL. */
static void
link_hash(uint8_t out[LINK_HASHBYTES], const void *a, size_t alen,
    const void *b, size_t blen, const void *c, size_t clen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, LINK_HASHBYTES);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	if (c != NULL)
		crypto_generichash_update(&st, c, clen);
	crypto_generichash_final(&st, out, LINK_HASHBYTES);
	sodium_memzero(&st, sizeof(st));
}

/* k = BLAKE2b-256 keyed with dh over h | label. */
static void
link_kdf(uint8_t out[LINK_KEYBYTES], const uint8_t dh[LINK_KEYBYTES],
    const uint8_t h[LINK_HASHBYTES], const char *label)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, dh, LINK_KEYBYTES, LINK_KEYBYTES);
	crypto_generichash_update(&st, h, LINK_HASHBYTES);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_final(&st, out, LINK_KEYBYTES);
	sodium_memzero(&st, sizeof(st));
}

/* The signed statement: context string | transcript hash. */
static void
link_sig_msg(uint8_t out[SIG_CTX_BYTES + LINK_HASHBYTES], const char *ctx,
    const uint8_t h[LINK_HASHBYTES])
{
	memcpy(out, ctx, SIG_CTX_BYTES);
	memcpy(out + SIG_CTX_BYTES, h, LINK_HASHBYTES);
}

/* dh = X25519(sk, pk); all-zero results (low-order points) refused. */
static int
link_dh(uint8_t dh[crypto_scalarmult_BYTES], const uint8_t sk[32],
    const uint8_t *pk)
{
	if (crypto_scalarmult(dh, sk, pk) != 0 ||
	    sodium_is_zero(dh, crypto_scalarmult_BYTES))
		return LINK_EKEY;
	return LINK_OK;
}

void
link_hs_wipe(struct link_hs *hs)
{
	uint8_t version = hs->peer_version;

	sodium_memzero(hs, sizeof(*hs));
	hs->peer_version = version;
	hs->state = HS_NONE;
}

void
link_keys_wipe(struct link_keys *keys)
{
	sodium_memzero(keys, sizeof(*keys));
}

/* Fails the handshake: nothing of it survives but peer_version. */
static int
link_hs_fail(struct link_hs *hs, int err)
{
	link_hs_wipe(hs);
	return err;
}

static int
link_hs_start(struct link_hs *hs, const uint8_t *my_sk, const uint8_t *my_pk)
{
	sodium_memzero(hs, sizeof(*hs));
	if (my_sk == NULL || my_pk == NULL ||
	    sodium_memcmp(my_sk + crypto_sign_SEEDBYTES, my_pk,
	    LINK_PUBLICKEYBYTES) != 0)
		return LINK_EINVAL;
	memcpy(hs->my_sk, my_sk, LINK_SECRETKEYBYTES);
	memcpy(hs->my_pk, my_pk, LINK_PUBLICKEYBYTES);
	return LINK_OK;
}

/* Encrypts my_pk | Ed25519(my_sk, ctx | h) under k, nonce 0, aad h. */
static void
link_seal_identity(uint8_t out[LINK_MSG3_BYTES], const struct link_hs *hs,
    const uint8_t k[LINK_KEYBYTES], const char *ctx,
    const uint8_t h[LINK_HASHBYTES])
{
	static const uint8_t nonce0[LINK_NONCEBYTES];
	uint8_t sm[SIG_CTX_BYTES + LINK_HASHBYTES];
	uint8_t plain[LINK_SIGNED_BYTES];

	link_sig_msg(sm, ctx, h);
	memcpy(plain, hs->my_pk, LINK_PUBLICKEYBYTES);
	crypto_sign_detached(plain + LINK_PUBLICKEYBYTES, NULL, sm, sizeof(sm),
	    hs->my_sk);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, plain,
	    sizeof(plain), h, LINK_HASHBYTES, NULL, nonce0, k);
}

/* Opens the identity box and verifies its signature; sets peer_pk. */
static int
link_open_identity(uint8_t peer_pk[LINK_PUBLICKEYBYTES],
    const uint8_t *box, const uint8_t k[LINK_KEYBYTES], const char *ctx,
    const uint8_t h[LINK_HASHBYTES])
{
	static const uint8_t nonce0[LINK_NONCEBYTES];
	uint8_t sm[SIG_CTX_BYTES + LINK_HASHBYTES];
	uint8_t plain[LINK_SIGNED_BYTES];
	struct wire_reader r;
	const uint8_t *id, *sig;

	if (crypto_aead_chacha20poly1305_ietf_decrypt(plain, NULL, NULL, box,
	    LINK_SIGNED_BYTES + LINK_ABYTES, h, LINK_HASHBYTES, nonce0, k) != 0)
		return LINK_EAUTH;
	wire_reader_init(&r, plain, sizeof(plain));
	id = wire_read_bytes(&r, LINK_PUBLICKEYBYTES);
	sig = wire_read_bytes(&r, crypto_sign_BYTES);
	if (r.bad || r.left != 0)
		return LINK_EFORMAT;	/* cannot happen: sizes are fixed */
	link_sig_msg(sm, ctx, h);
	if (crypto_sign_verify_detached(sig, sm, sizeof(sm), id) != 0)
		return LINK_ESIG;
	memcpy(peer_pk, id, LINK_PUBLICKEYBYTES);
	return LINK_OK;
}

static void
link_session_keys(struct link_keys *keys, const uint8_t dh[32],
    const uint8_t h3[LINK_HASHBYTES], bool initiator)
{
	memset(keys, 0, sizeof(*keys));
	link_kdf(initiator ? keys->send_key : keys->recv_key, dh, h3, "i2r");
	link_kdf(initiator ? keys->recv_key : keys->send_key, dh, h3, "r2i");
}

int
link_hs_init_with_ephemeral(struct link_hs *hs,
    const uint8_t my_sk[LINK_SECRETKEYBYTES],
    const uint8_t my_pk[LINK_PUBLICKEYBYTES], const uint8_t *expect_pk,
    const uint8_t e_sk[LINK_EPHEMERALBYTES], uint8_t msg1[LINK_MSG1_BYTES])
{
	int rc;

	if ((rc = link_hs_start(hs, my_sk, my_pk)) != LINK_OK ||
	    e_sk == NULL)
		return link_hs_fail(hs, rc != LINK_OK ? rc : LINK_EINVAL);
	if (expect_pk != NULL) {
		hs->pinned = true;
		memcpy(hs->pin, expect_pk, LINK_PUBLICKEYBYTES);
	}
	memcpy(hs->e_sk, e_sk, LINK_EPHEMERALBYTES);
	memcpy(msg1, LINK_MAGIC, LINK_MAGICBYTES);
	msg1[4] = LINK_VERSION;
	msg1[5] = msg1[6] = msg1[7] = 0;
	crypto_scalarmult_base(msg1 + 8, hs->e_sk);
	memcpy(hs->msg1, msg1, LINK_MSG1_BYTES);
	hs->state = HS_SENT1;
	return LINK_OK;
}

int
link_hs_init(struct link_hs *hs, const uint8_t my_sk[LINK_SECRETKEYBYTES],
    const uint8_t my_pk[LINK_PUBLICKEYBYTES], const uint8_t *expect_pk,
    uint8_t msg1[LINK_MSG1_BYTES])
{
	uint8_t e_sk[LINK_EPHEMERALBYTES];
	int rc;

	randombytes_buf(e_sk, sizeof(e_sk));
	rc = link_hs_init_with_ephemeral(hs, my_sk, my_pk, expect_pk, e_sk,
	    msg1);
	sodium_memzero(e_sk, sizeof(e_sk));
	return rc;
}

int
link_hs_read_msg2(struct link_hs *hs, const uint8_t *msg2, size_t len,
    uint8_t msg3[LINK_MSG3_BYTES], struct link_keys *keys)
{
	uint8_t k_r[LINK_KEYBYTES], k_i[LINK_KEYBYTES];
	uint8_t h1[LINK_HASHBYTES], h2[LINK_HASHBYTES], h3[LINK_HASHBYTES];
	uint8_t peer[LINK_PUBLICKEYBYTES];
	struct wire_reader r;
	const uint8_t *e_r, *box;
	int rc;

	if (hs->state != HS_SENT1)
		return link_hs_fail(hs, LINK_ESTATE);
	wire_reader_init(&r, msg2, msg2 != NULL ? len : 0);
	e_r = wire_read_bytes(&r, LINK_EPHEMERALBYTES);
	box = wire_read_bytes(&r, LINK_SIGNED_BYTES + LINK_ABYTES);
	if (r.bad || r.left != 0)
		return link_hs_fail(hs, LINK_ELEN);
	if ((rc = link_dh(hs->dh, hs->e_sk, e_r)) != LINK_OK)
		return link_hs_fail(hs, rc);
	sodium_memzero(hs->e_sk, sizeof(hs->e_sk));
	link_hash(h1, PROLOGUE, sizeof(PROLOGUE) - 1, hs->msg1, LINK_MSG1_BYTES,
	    e_r, LINK_EPHEMERALBYTES);
	link_kdf(k_r, hs->dh, h1, "resp");
	rc = link_open_identity(peer, box, k_r, SIG_RESP, h1);
	sodium_memzero(k_r, sizeof(k_r));
	if (rc != LINK_OK)
		return link_hs_fail(hs, rc);
	if (hs->pinned && sodium_memcmp(peer, hs->pin, sizeof(peer)) != 0) {
		link_hs_wipe(hs);
		memcpy(hs->peer_pk, peer, sizeof(peer));
		return LINK_EPIN;
	}
	link_hash(h2, h1, sizeof(h1), msg2, LINK_MSG2_BYTES, NULL, 0);
	link_kdf(k_i, hs->dh, h1, "init");
	link_seal_identity(msg3, hs, k_i, SIG_INIT, h2);
	sodium_memzero(k_i, sizeof(k_i));
	link_hash(h3, h2, sizeof(h2), msg3, LINK_MSG3_BYTES, NULL, 0);
	link_session_keys(keys, hs->dh, h3, true);
	link_hs_wipe(hs);
	memcpy(hs->peer_pk, peer, sizeof(peer));
	return LINK_OK;
}

/* Reads msg1 into its ephemeral key: magic and version first, so a peer
 * of another version is told apart from a short or noisy one. */
static int
link_parse_msg1(struct link_hs *hs, const uint8_t *msg1, size_t len,
    const uint8_t **e_i)
{
	struct wire_reader r;
	const uint8_t *magic, *zero;
	uint8_t version;

	wire_reader_init(&r, msg1, msg1 != NULL ? len : 0);
	magic = wire_read_bytes(&r, LINK_MAGICBYTES);
	if (r.bad)
		return LINK_ELEN;
	if (memcmp(magic, LINK_MAGIC, LINK_MAGICBYTES) != 0)
		return LINK_EMAGIC;
	version = wire_read_u8(&r);
	if (r.bad)
		return LINK_ELEN;
	if (version != LINK_VERSION) {
		hs->peer_version = version;
		return LINK_EVERSION;
	}
	zero = wire_read_bytes(&r, 3);
	*e_i = wire_read_bytes(&r, LINK_EPHEMERALBYTES);
	if (r.bad || r.left != 0)
		return LINK_ELEN;
	if (!sodium_is_zero(zero, 3))
		return LINK_EFORMAT;
	return LINK_OK;
}

int
link_hs_respond_with_ephemeral(struct link_hs *hs,
    const uint8_t my_sk[LINK_SECRETKEYBYTES],
    const uint8_t my_pk[LINK_PUBLICKEYBYTES], const uint8_t *msg1, size_t len,
    const uint8_t e_sk[LINK_EPHEMERALBYTES], uint8_t msg2[LINK_MSG2_BYTES])
{
	uint8_t k_r[LINK_KEYBYTES], h1[LINK_HASHBYTES];
	const uint8_t *e_i = NULL;
	int rc;

	if ((rc = link_hs_start(hs, my_sk, my_pk)) != LINK_OK ||
	    e_sk == NULL)
		return link_hs_fail(hs, rc != LINK_OK ? rc : LINK_EINVAL);
	if ((rc = link_parse_msg1(hs, msg1, len, &e_i)) != LINK_OK)
		return link_hs_fail(hs, rc);
	if ((rc = link_dh(hs->dh, e_sk, e_i)) != LINK_OK)
		return link_hs_fail(hs, rc);
	crypto_scalarmult_base(msg2, e_sk);
	link_hash(h1, PROLOGUE, sizeof(PROLOGUE) - 1, msg1, LINK_MSG1_BYTES,
	    msg2, LINK_EPHEMERALBYTES);
	link_kdf(k_r, hs->dh, h1, "resp");
	link_kdf(hs->k_i, hs->dh, h1, "init");
	link_seal_identity(msg2 + LINK_EPHEMERALBYTES, hs, k_r, SIG_RESP, h1);
	sodium_memzero(k_r, sizeof(k_r));
	link_hash(hs->h, h1, sizeof(h1), msg2, LINK_MSG2_BYTES, NULL, 0);
	/* The responder signs nothing more: its secret key goes now. */
	sodium_memzero(hs->my_sk, sizeof(hs->my_sk));
	hs->state = HS_SENT2;
	return LINK_OK;
}

int
link_hs_respond(struct link_hs *hs,
    const uint8_t my_sk[LINK_SECRETKEYBYTES],
    const uint8_t my_pk[LINK_PUBLICKEYBYTES], const uint8_t *msg1, size_t len,
    uint8_t msg2[LINK_MSG2_BYTES])
{
	uint8_t e_sk[LINK_EPHEMERALBYTES];
	int rc;

	randombytes_buf(e_sk, sizeof(e_sk));
	rc = link_hs_respond_with_ephemeral(hs, my_sk, my_pk, msg1, len, e_sk,
	    msg2);
	sodium_memzero(e_sk, sizeof(e_sk));
	return rc;
}

int
link_hs_read_msg3(struct link_hs *hs, const uint8_t *msg3, size_t len,
    struct link_keys *keys)
{
	uint8_t h3[LINK_HASHBYTES], peer[LINK_PUBLICKEYBYTES];
	struct wire_reader r;
	const uint8_t *box;
	int rc;

	if (hs->state != HS_SENT2)
		return link_hs_fail(hs, LINK_ESTATE);
	wire_reader_init(&r, msg3, msg3 != NULL ? len : 0);
	box = wire_read_bytes(&r, LINK_MSG3_BYTES);
	if (r.bad || r.left != 0)
		return link_hs_fail(hs, LINK_ELEN);
	if ((rc = link_open_identity(peer, box, hs->k_i, SIG_INIT, hs->h)) !=
	    LINK_OK)
		return link_hs_fail(hs, rc);
	link_hash(h3, hs->h, sizeof(hs->h), box, LINK_MSG3_BYTES, NULL, 0);
	link_session_keys(keys, hs->dh, h3, false);
	link_hs_wipe(hs);
	memcpy(hs->peer_pk, peer, sizeof(peer));
	return LINK_OK;
}

/* Frames. */

size_t
link_frame_size(uint8_t class_byte)
{
	if (class_byte >= LINK_FRAME_CLASSES)
		return 0;
	return 1 + plain_size[class_byte] + LINK_ABYTES;
}

/* The 64-bit counter little-endian in the 12-byte IETF nonce. */
static void
link_nonce(uint8_t n[LINK_NONCEBYTES],
    uint64_t ctr)
{
	memset(n, 0, LINK_NONCEBYTES);
	for (size_t i = 0; i < 8; i++)
		n[i] = (uint8_t)(ctr >> (8 * i));
}

int
link_frame_seal(struct link_keys *keys, uint8_t type, const uint8_t *body,
    size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t nonce[LINK_NONCEBYTES];
	uint8_t cls = 0;
	size_t size;

	if (keys == NULL || out == NULL || outlen == NULL ||
	    (body == NULL && len != 0))
		return LINK_EINVAL;
	if (len > LINK_BODY_MAX)
		return LINK_ETOOBIG;
	while (LINK_FRAME_HEADERBYTES + len > plain_size[cls])
		cls++;
	size = plain_size[cls];
	if (cap < 1 + size + LINK_ABYTES)
		return LINK_ESPACE;
	if (keys->send_ctr == UINT64_MAX)
		return LINK_ECOUNTER;
	out[0] = cls;
	out[1] = type;
	wire_put_u16(out + 2, (uint16_t)len);
	if (len != 0)
		memcpy(out + 1 + LINK_FRAME_HEADERBYTES, body, len);
	memset(out + 1 + LINK_FRAME_HEADERBYTES + len, 0,
	    size - LINK_FRAME_HEADERBYTES - len);
	link_nonce(nonce, keys->send_ctr);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(out + 1,
	    out + 1 + size, NULL, out + 1, size, out, 1, NULL, nonce,
	    keys->send_key);
	keys->send_ctr++;
	*outlen = 1 + size + LINK_ABYTES;
	return LINK_OK;
}

int
link_frame_open(struct link_keys *keys, uint8_t *frame, size_t inlen,
    uint8_t *type, const uint8_t **body, size_t *bodylen)
{
	uint8_t nonce[LINK_NONCEBYTES];
	struct wire_reader r;
	const uint8_t *b;
	size_t total, size;
	uint16_t len;
	uint8_t t;

	if (keys == NULL || type == NULL || body == NULL || bodylen == NULL)
		return LINK_EINVAL;
	if (frame == NULL || inlen == 0)
		return LINK_ELEN;
	if ((total = link_frame_size(frame[0])) == 0)
		return LINK_ECLASS;
	if (inlen != total)
		return LINK_ELEN;
	size = total - 1 - LINK_ABYTES;
	if (keys->recv_ctr == UINT64_MAX)
		return LINK_ECOUNTER;
	link_nonce(nonce, keys->recv_ctr);
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(frame + 1, NULL,
	    frame + 1, size, frame + 1 + size, frame, 1, nonce,
	    keys->recv_key) != 0)
		return LINK_EAUTH;
	wire_reader_init(&r, frame + 1, size);
	t = wire_read_u8(&r);
	len = wire_read_u16(&r);
	b = wire_read_bytes(&r, len);
	if (r.bad)
		return LINK_EBODYLEN;
	if (!wire_read_zeros(&r))
		return LINK_EPADDING;
	keys->recv_ctr++;
	*type = t;
	*body = b;
	*bodylen = len;
	return LINK_OK;
}

/* Message bodies. */

static size_t
link_peer_entry_size(uint8_t family)
{
	return LINK_PUBLICKEYBYTES + 1 + (family == 4 ? 4 : 16) + 2;
}

/* Family 4 or 6, and an IPv4 address's 12 unused bytes zero: one
 * encoding per address. */
static bool
link_netaddr_ok(const struct link_netaddr *a)
{
	return a->family == 6 || (a->family == 4 &&
	    sodium_is_zero(a->addr + 4, sizeof(a->addr) - 4));
}

static uint8_t *
put_netaddr(uint8_t *p, const struct link_netaddr *a)
{
	*p++ = a->family;
	memcpy(p, a->addr, sizeof(a->addr));
	p += sizeof(a->addr);
	wire_put_u16(p, a->port);
	return p + 2;
}

/* The encoded size of msg, or 0 if it has none. */
static size_t
link_msg_size(const struct link_msg *m, int *err)
{
	size_t n;

	*err = LINK_EFORMAT;
	switch (m->type) {
	case LINK_MSG_PING:
	case LINK_MSG_PONG:
	case LINK_MSG_DNF:
	case LINK_MSG_LOOP:
	case LINK_MSG_ACCEPTED:
	case LINK_MSG_INSERT_OK:
	case LINK_MSG_BUILT:
	case LINK_MSG_BUILD_FAIL:
	case LINK_MSG_PROBED:
	case LINK_MSG_PROBE_FAIL:
		return 8;
	case LINK_MSG_SEEN:
		return link_netaddr_ok(&m->seen) ? LINK_NETADDR_BYTES : 0;
	case LINK_MSG_PROBE:
		return link_netaddr_ok(&m->probe.addr) ?
		    LINK_NONCE_BYTES + LINK_NETADDR_BYTES : 0;
	case LINK_MSG_HELLO:
		if (m->hello.npeers > LINK_HELLO_MAX_PEERS)
			return 0;
		return 2 + 1 + (size_t)m->hello.npeers * LINK_PUBLICKEYBYTES;
	case LINK_MSG_PEERS:
		n = 1;
		for (size_t i = 0; i < m->peers.n; i++) {
			uint8_t f = m->peers.peers[i].family;

			if (f != 4 && f != 6)
				return 0;
			n += link_peer_entry_size(f);
		}
		return n;
	case LINK_MSG_REQUEST:
		return 8 + LINK_RKEY_BYTES + 1;
	case LINK_MSG_DATA:
		return m->data.block == NULL ? 0 : 8 + LINK_BLOCK_BYTES;
	case LINK_MSG_RNF:
		return 8 + 1;
	case LINK_MSG_INSERT:
		return m->insert.block == NULL ? 0 : 8 + 1 + LINK_BLOCK_BYTES;
	case LINK_MSG_RELAYS:
		if (m->relays.n == 0 || m->relays.n > LINK_RELAYS_MAX)
			return 0;
		return 1 + (size_t)m->relays.n * ONION_DESC_BYTES;
	case LINK_MSG_BUILD:
		return m->build.records == NULL ? 0 : LINK_BUILD_BYTES;
	case LINK_MSG_CELL:
		return m->cell.payload == NULL ? 0 : LINK_CELL_BYTES;
	case LINK_MSG_CELL_LARGE:
		return m->cell.payload == NULL ? 0 : LINK_CELL_LARGE_BYTES;
	default:
		*err = LINK_ETYPE;
		return 0;
	}
}

static uint8_t *
put_bytes(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

static uint8_t *
put_u64(uint8_t *p, uint64_t v)
{
	wire_put_u64(p, v);
	return p + 8;
}

int
link_msg_encode(const struct link_msg *m, uint8_t *out, size_t cap,
    size_t *len)
{
	uint8_t *p = out;
	size_t n;
	int err;

	if (m == NULL || out == NULL || len == NULL)
		return LINK_EINVAL;
	if ((n = link_msg_size(m, &err)) == 0)
		return err;
	if (n > cap)
		return LINK_ESPACE;
	switch (m->type) {
	case LINK_MSG_PING:
		p = put_u64(p, m->ping.cookie);
		break;
	case LINK_MSG_PONG:
		p = put_u64(p, m->pong.cookie);
		break;
	case LINK_MSG_HELLO:
		wire_put_u16(p, m->hello.port);
		p[2] = m->hello.npeers;
		p += 3;
		for (size_t i = 0; i < m->hello.npeers; i++)
			p = put_bytes(p, m->hello.peers[i],
			    LINK_PUBLICKEYBYTES);
		break;
	case LINK_MSG_PEERS:
		*p++ = m->peers.n;
		for (size_t i = 0; i < m->peers.n; i++) {
			const struct link_peer_addr *a = &m->peers.peers[i];

			p = put_bytes(p, a->pk, LINK_PUBLICKEYBYTES);
			*p++ = a->family;
			p = put_bytes(p, a->addr, a->family == 4 ? 4 : 16);
			wire_put_u16(p, a->port);
			p += 2;
		}
		break;
	case LINK_MSG_REQUEST:
		p = put_u64(p, m->request.id);
		p = put_bytes(p, m->request.rkey, LINK_RKEY_BYTES);
		*p++ = m->request.htl;
		break;
	case LINK_MSG_DATA:
		p = put_u64(p, m->data.id);
		p = put_bytes(p, m->data.block, LINK_BLOCK_BYTES);
		break;
	case LINK_MSG_DNF:
	case LINK_MSG_LOOP:
	case LINK_MSG_ACCEPTED:
	case LINK_MSG_INSERT_OK:
	case LINK_MSG_BUILT:
	case LINK_MSG_BUILD_FAIL:
		/* One member type, struct { id } (link.h): dnf stands for all. */
		p = put_u64(p, m->dnf.id);
		break;
	case LINK_MSG_SEEN:
		p = put_netaddr(p, &m->seen);
		break;
	case LINK_MSG_PROBE:
		p = put_u64(p, m->probe.nonce);
		p = put_netaddr(p, &m->probe.addr);
		break;
	case LINK_MSG_PROBED:
	case LINK_MSG_PROBE_FAIL:
		p = put_u64(p, m->probed.nonce);
		break;
	case LINK_MSG_RNF:
		p = put_u64(p, m->rnf.id);
		*p++ = m->rnf.htl;
		break;
	case LINK_MSG_INSERT:
		p = put_u64(p, m->insert.id);
		*p++ = m->insert.htl;
		p = put_bytes(p, m->insert.block, LINK_BLOCK_BYTES);
		break;
	case LINK_MSG_RELAYS:
		*p++ = m->relays.n;
		for (size_t i = 0; i < m->relays.n; i++) {
			if (onion_desc_encode(&m->relays.descs[i], p) != 0)
				return LINK_EFORMAT;
			p += ONION_DESC_BYTES;
		}
		break;
	case LINK_MSG_BUILD:
		p = put_u64(p, m->build.path_id);
		p = put_bytes(p, m->build.records, ONION_BUILD_BYTES);
		break;
	case LINK_MSG_CELL:
	case LINK_MSG_CELL_LARGE:
		/* One member type (link.h): cell stands for both. */
		p = put_u64(p, m->cell.path_id);
		p = put_bytes(p, m->cell.payload, n - LINK_PATH_ID_BYTES);
		break;
	}
	*len = (size_t)(p - out);
	return LINK_OK;
}

static void
link_read_copy(struct wire_reader *r, void *dst, size_t n)
{
	const uint8_t *p = wire_read_bytes(r, n);

	if (p != NULL)
		memcpy(dst, p, n);
}

static void
link_read_peers(struct wire_reader *r, struct link_msg *m)
{
	m->peers.n = wire_read_u8(r);
	for (size_t i = 0; i < m->peers.n && !r->bad; i++) {
		struct link_peer_addr *a = &m->peers.peers[i];

		link_read_copy(r, a->pk, LINK_PUBLICKEYBYTES);
		a->family = wire_read_u8(r);
		if (a->family != 4 && a->family != 6) {
			r->bad = true;
			return;
		}
		link_read_copy(r, a->addr, a->family == 4 ? 4 : 16);
		a->port = wire_read_u16(r);
	}
}

static void
link_read_netaddr(struct wire_reader *r, struct link_netaddr *a)
{
	a->family = wire_read_u8(r);
	link_read_copy(r, a->addr, sizeof(a->addr));
	a->port = wire_read_u16(r);
	if (!link_netaddr_ok(a))
		r->bad = true;
}

static void
link_read_relays(struct wire_reader *r, struct link_msg *m)
{
	m->relays.n = wire_read_u8(r);
	if (m->relays.n == 0 || m->relays.n > LINK_RELAYS_MAX)
		r->bad = true;
	for (size_t i = 0; i < m->relays.n && !r->bad; i++) {
		const uint8_t *d = wire_read_bytes(r, ONION_DESC_BYTES);

		if (d == NULL || onion_desc_decode(d, ONION_DESC_BYTES,
		    &m->relays.descs[i]) != 0)
			r->bad = true;
	}
}

int
link_msg_decode(uint8_t type, const uint8_t *body, size_t len,
    struct link_msg *m)
{
	struct wire_reader r;

	if (m == NULL || (body == NULL && len != 0))
		return LINK_EINVAL;
	memset(m, 0, sizeof(*m));
	m->type = type;
	wire_reader_init(&r, body, len);
	switch (type) {
	case LINK_MSG_PING:
		m->ping.cookie = wire_read_u64(&r);
		break;
	case LINK_MSG_PONG:
		m->pong.cookie = wire_read_u64(&r);
		break;
	case LINK_MSG_HELLO:
		m->hello.port = wire_read_u16(&r);
		m->hello.npeers = wire_read_u8(&r);
		if (m->hello.npeers > LINK_HELLO_MAX_PEERS)
			r.bad = true;
		for (size_t i = 0; i < m->hello.npeers && !r.bad; i++)
			link_read_copy(&r, m->hello.peers[i],
			    LINK_PUBLICKEYBYTES);
		break;
	case LINK_MSG_PEERS:
		link_read_peers(&r, m);
		break;
	case LINK_MSG_REQUEST:
		m->request.id = wire_read_u64(&r);
		link_read_copy(&r, m->request.rkey, LINK_RKEY_BYTES);
		m->request.htl = wire_read_u8(&r);
		break;
	case LINK_MSG_DATA:
		m->data.id = wire_read_u64(&r);
		m->data.block = wire_read_bytes(&r, LINK_BLOCK_BYTES);
		break;
	case LINK_MSG_DNF:
	case LINK_MSG_LOOP:
	case LINK_MSG_ACCEPTED:
	case LINK_MSG_INSERT_OK:
	case LINK_MSG_BUILT:
	case LINK_MSG_BUILD_FAIL:
		m->dnf.id = wire_read_u64(&r);
		break;
	case LINK_MSG_RNF:
		m->rnf.id = wire_read_u64(&r);
		m->rnf.htl = wire_read_u8(&r);
		break;
	case LINK_MSG_SEEN:
		link_read_netaddr(&r, &m->seen);
		break;
	case LINK_MSG_PROBE:
		m->probe.nonce = wire_read_u64(&r);
		link_read_netaddr(&r, &m->probe.addr);
		break;
	case LINK_MSG_PROBED:
	case LINK_MSG_PROBE_FAIL:
		m->probed.nonce = wire_read_u64(&r);
		break;
	case LINK_MSG_INSERT:
		m->insert.id = wire_read_u64(&r);
		m->insert.htl = wire_read_u8(&r);
		m->insert.block = wire_read_bytes(&r, LINK_BLOCK_BYTES);
		break;
	case LINK_MSG_RELAYS:
		link_read_relays(&r, m);
		break;
	case LINK_MSG_BUILD:
		m->build.path_id = wire_read_u64(&r);
		m->build.records = wire_read_bytes(&r, ONION_BUILD_BYTES);
		break;
	case LINK_MSG_CELL:
		m->cell.path_id = wire_read_u64(&r);
		m->cell.payload = wire_read_bytes(&r, ONION_CELL_SMALL_BYTES);
		break;
	case LINK_MSG_CELL_LARGE:
		m->cell.path_id = wire_read_u64(&r);
		m->cell.payload = wire_read_bytes(&r, ONION_CELL_LARGE_BYTES);
		break;
	default:
		return LINK_ETYPE;
	}
	if (r.bad || r.left != 0) {
		memset(m, 0, sizeof(*m));
		return LINK_EFORMAT;
	}
	return LINK_OK;
}

const char *
link_strerror(int err)
{
	switch (err) {
	case LINK_OK: return "success";
	case LINK_EINVAL: return "invalid argument";
	case LINK_ESTATE: return "handshake call out of order";
	case LINK_ELEN: return "message or frame of the wrong size";
	case LINK_EMAGIC: return "not an umbra link (bad magic)";
	case LINK_EVERSION: return "peer speaks another protocol version";
	case LINK_EFORMAT: return "malformed message";
	case LINK_EKEY: return "bad ephemeral key (low order)";
	case LINK_EAUTH: return "authentication failed (bad tag)";
	case LINK_ESIG: return "bad identity signature";
	case LINK_EPIN: return "peer is not the pinned identity";
	case LINK_ECLASS: return "unknown frame class";
	case LINK_EBODYLEN: return "frame body longer than its class";
	case LINK_EPADDING: return "nonzero frame padding";
	case LINK_ECOUNTER: return "frame counter exhausted";
	case LINK_ETOOBIG: return "body too large for a frame";
	case LINK_ETYPE: return "unknown message type";
	case LINK_ESPACE: return "output buffer too small";
	default: return "unknown link error";
	}
}
