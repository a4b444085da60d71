/*
 * fuzz_link.c - the peer link (crypto/link.h) on arbitrary bytes.
 *
 * Every input is used five ways, against state made once from the
 * known-answer handshake of tests/unit/test_link.c (identity seeds 00..1f
 * and 20..3f, ephemerals 40..5f and 60..7f):
 *  (a) as a whole frame for link_frame_open() (responder side, counter 0);
 *  (b) first byte = message type, the rest a body for link_msg_decode();
 *  (c) as msg1 to link_hs_respond(), msg2 to link_hs_read_msg2() and msg3
 *      to link_hs_read_msg3();
 *  (d) first byte mod 3 = class, the rest the plaintext (cut or
 *      zero-padded to the class size), sealed by hand with the right key
 *      and nonce, so link_frame_open()'s checks after the tag get fuzzed.
 * Invariants (abort() if broken): every result is 0 or an error the
 * header lists for that call; counters move only on success; a failed
 * handshake leaves no secret behind; a frame that opens has a body inside
 * the frame that matches what was sealed, and a minimal-class frame
 * re-seals to the same bytes; a body that decodes re-encodes to exactly
 * the same bytes.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/link.h"
#include "crypto/wire.h"
#include "tests/fuzz/fuzz.h"

static const size_t plain_sizes[LINK_FRAME_CLASSES] = {
	LINK_PLAIN0_BYTES, LINK_PLAIN1_BYTES, LINK_PLAIN2_BYTES,
};

static struct {
	bool ready;
	uint8_t sk_i[64], pk_i[32], sk_r[64], pk_r[32];
	uint8_t e_i[32], e_r[32];
	uint8_t m1[LINK_MSG1_BYTES];
	struct link_hs hi;		/* initiator after msg1 */
	struct link_hs hr;		/* responder after msg2 */
	struct link_keys ki, kr;	/* after the handshake */
} g;

static uint8_t frame[LINK_FRAME_MAX_BYTES];
static uint8_t frame2[LINK_FRAME_MAX_BYTES];
static uint8_t sealed[LINK_FRAME_MAX_BYTES];
static uint8_t enc[LINK_MSG_MAX_BYTES];

static void
seq(uint8_t *p, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

static void
setup(void)
{
	uint8_t seed[32], m2[LINK_MSG2_BYTES], m3[LINK_MSG3_BYTES];
	struct link_hs hi, hr;

	if (sodium_init() < 0)
		abort();
	seq(seed, 32, 0x00);
	crypto_sign_seed_keypair(g.pk_i, g.sk_i, seed);
	seq(seed, 32, 0x20);
	crypto_sign_seed_keypair(g.pk_r, g.sk_r, seed);
	seq(g.e_i, 32, 0x40);
	seq(g.e_r, 32, 0x60);
	if (link_hs_init_with_ephemeral(&g.hi, g.sk_i, g.pk_i, NULL, g.e_i,
	    g.m1) != 0 ||
	    link_hs_respond_with_ephemeral(&g.hr, g.sk_r, g.pk_r, g.m1,
	    sizeof(g.m1), g.e_r, m2) != 0)
		abort();
	hi = g.hi;
	hr = g.hr;
	if (link_hs_read_msg2(&hi, m2, sizeof(m2), m3, &g.ki) != 0 ||
	    link_hs_read_msg3(&hr, m3, sizeof(m3), &g.kr) != 0)
		abort();
	g.ready = true;
}

/* A decoded body re-encodes to exactly the same bytes. */
static void
check_body(uint8_t type, const uint8_t *body, size_t len)
{
	static struct link_msg m;
	size_t n;
	int rc;

	rc = link_msg_decode(type, body, len, &m);
	if (rc == LINK_ETYPE || rc == LINK_EFORMAT)
		return;
	if (rc != 0 || m.type != type)
		abort();
	if (link_msg_encode(&m, enc, sizeof(enc), &n) != 0 || n != len ||
	    (len != 0 && memcmp(enc, body, len) != 0))
		abort();
}

static bool
hs_wiped(const struct link_hs *hs)
{
	return hs->state == 0 && sodium_is_zero(hs->my_sk, sizeof(hs->my_sk)) &&
	    sodium_is_zero(hs->e_sk, sizeof(hs->e_sk)) &&
	    sodium_is_zero(hs->dh, sizeof(hs->dh)) &&
	    sodium_is_zero(hs->k_i, sizeof(hs->k_i));
}

/* (a): the input as a frame. */
static void
fuzz_frame(const uint8_t *data, size_t size)
{
	struct link_keys k = g.kr;
	const uint8_t *body;
	uint8_t type;
	size_t bl;
	int rc;

	if (size > sizeof(frame))
		return;
	memcpy(frame, data, size);
	rc = link_frame_open(&k, frame, size, &type, &body, &bl);
	if (rc != 0) {
		if (rc != LINK_ELEN && rc != LINK_ECLASS && rc != LINK_EAUTH &&
		    rc != LINK_EBODYLEN && rc != LINK_EPADDING)
			abort();
		if (k.recv_ctr != 0)
			abort();
		return;
	}
	/* Only a seed made with the real key gets here. */
	if (k.recv_ctr != 1 || size != link_frame_size(data[0]) ||
	    body != frame + 1 + LINK_FRAME_HEADERBYTES ||
	    LINK_FRAME_HEADERBYTES + bl > size - 1 - LINK_ABYTES)
		abort();
	check_body(type, body, bl);
}

/* (c): the input as each handshake message. */
static void
fuzz_handshake(const uint8_t *data, size_t size)
{
	struct link_hs hs;
	struct link_keys k;
	uint8_t m2[LINK_MSG2_BYTES], m3[LINK_MSG3_BYTES];
	int rc;

	rc = link_hs_respond_with_ephemeral(&hs, g.sk_r, g.pk_r, data, size,
	    g.e_r, m2);
	if (rc == 0) {
		if (size != LINK_MSG1_BYTES || hs.state == 0)
			abort();
		link_hs_wipe(&hs);
	} else if ((rc != LINK_ELEN && rc != LINK_EMAGIC &&
	    rc != LINK_EVERSION && rc != LINK_EFORMAT && rc != LINK_EKEY) ||
	    !hs_wiped(&hs) ||
	    (rc == LINK_EVERSION && (size < 5 || hs.peer_version != data[4])))
		abort();

	hs = g.hi;
	rc = link_hs_read_msg2(&hs, data, size, m3, &k);
	if (rc == 0) {
		if (size != LINK_MSG2_BYTES ||
		    memcmp(hs.peer_pk, g.pk_r, 32) != 0)
			abort();
	} else if ((rc != LINK_ELEN && rc != LINK_EKEY && rc != LINK_EAUTH &&
	    rc != LINK_ESIG) || !hs_wiped(&hs))
		abort();

	hs = g.hr;
	rc = link_hs_read_msg3(&hs, data, size, &k);
	if (rc == 0) {
		if (size != LINK_MSG3_BYTES ||
		    memcmp(hs.peer_pk, g.pk_i, 32) != 0 ||
		    memcmp(k.recv_key, g.kr.recv_key, 32) != 0)
			abort();
	} else if ((rc != LINK_ELEN && rc != LINK_EAUTH && rc != LINK_ESIG) ||
	    !hs_wiped(&hs))
		abort();
	sodium_memzero(&k, sizeof(k));
}

/* (d): the input as a plaintext, sealed with the right key and nonce. */
static void
fuzz_plaintext(const uint8_t *data, size_t size)
{
	static const uint8_t nonce0[12];
	struct link_keys k = g.kr, s = g.ki;
	const uint8_t *body, *body2;
	uint8_t cls, type, type2;
	size_t psize, n, bl, bl2, wire;
	int rc;

	if (size == 0)
		return;
	cls = data[0] % LINK_FRAME_CLASSES;
	psize = plain_sizes[cls];
	n = size - 1 < psize ? size - 1 : psize;
	frame[0] = cls;
	memcpy(frame + 1, data + 1, n);
	memset(frame + 1 + n, 0, psize - n);
	crypto_aead_chacha20poly1305_ietf_encrypt(frame + 1, NULL, frame + 1,
	    psize, &cls, 1, NULL, nonce0, g.ki.send_key);
	wire = link_frame_size(cls);
	memcpy(sealed, frame, wire);
	rc = link_frame_open(&k, frame, wire, &type, &body, &bl);
	if (rc != 0) {
		if ((rc != LINK_EBODYLEN && rc != LINK_EPADDING) ||
		    k.recv_ctr != 0)
			abort();
		return;
	}
	if (k.recv_ctr != 1 || bl > psize - LINK_FRAME_HEADERBYTES ||
	    body != frame + 1 + LINK_FRAME_HEADERBYTES ||
	    (n > 0 && type != data[1]))
		abort();
	/* Sealed again: never a larger class, and the same bytes when the
	 * hand-made frame already had the smallest class. */
	if (link_frame_seal(&s, type, body, bl, frame2, sizeof(frame2),
	    &n) != 0 || s.send_ctr != 1 || n != link_frame_size(frame2[0]) ||
	    frame2[0] > cls ||
	    (frame2[0] == cls && memcmp(frame2, sealed, wire) != 0))
		abort();
	k = g.kr;
	if (link_frame_open(&k, frame2, n, &type2, &body2, &bl2) != 0 ||
	    type2 != type || bl2 != bl || memcmp(body2, body, bl) != 0)
		abort();
	check_body(type, body, bl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!g.ready)
		setup();
	fuzz_frame(data, size);
	if (size > 0)
		check_body(data[0], data + 1, size - 1);
	fuzz_handshake(data, size);
	fuzz_plaintext(data, size);
	return 0;
}
