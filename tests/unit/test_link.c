/*
 * test_link.c - the peer link: handshake, frames, message bodies.
 *
 * The known-answer vectors below come from a second, independent
 * implementation of docs/protocol.md written in Python (pyca/cryptography
 * X25519, Ed25519 and ChaCha20-Poly1305, hashlib BLAKE2b), not from this
 * code: identity seeds 00..1f (initiator) and 20..3f (responder),
 * ephemeral secrets 40..5f (initiator) and 60..7f (responder); the first
 * frame each way is PING / PONG with cookie 0x0102030405060708.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/link.h"
#include "crypto/wire.h"
#include "tests/tap.h"

static const char IDI_HEX[] =
    "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
static const char IDR_HEX[] =
    "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7";
static const char MSG1_HEX[] =
    "554d42520100000079a631eede1bf9c98f12032cdeadd0e7a079398fc786b88c"
    "c846ec89af85a51a";
static const char MSG2_HEX[] =
    "675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f"
    "99272e35c39c328b79cfcbba12505868380268455a604b89edab58314aefa4aa"
    "5fb3a12c2added41e91752a6f14ea52b390be479ee0e25e5689e336e7afd05a4"
    "90a85a09723bf6f79d2ea36d0c23a7f099cee1b0bcc45cc5e23aa88bd0596307"
    "852675b9e797c72ece5b9ef6b7d0592b";
static const char MSG3_HEX[] =
    "bb63b66b14f378c2551c5eec4a7e6cae646886fa39dd19d21ca94fd807d5aead"
    "d71f066ecc73ed9e99cf6d369c62d063abdc6c6e0f1114e1a58ffee2523d7436"
    "af2135fb412820d9850c9b791a31e8cba817aaa6a46c9f09646ba786a931e7ad"
    "d9552749d1563e7eda57b4a40cc2caf6";
static const char K_I2R_HEX[] =
    "12557372b5a561482707e825dab7f0dec22f2655a3c8e94a82066809709d135f";
static const char K_R2I_HEX[] =
    "71d91dde89ac21643321e574bd8ae6b0e3f224b0eef092a54aa7528e2b0aeaab";
static const char FRAME_I2R_PING_HEX[] =
    "009d39e99af062136cf0cc9b1d5c8a14560ab7bf768caf82556826f27b3b0bab"
    "359f1c4398c3c3812f9826c22303efedb2be7abd7c4b509667bd1e17c8598b39"
    "e8ec2b5313a00f0da846147f19834876e43b9079d56d910689ee0bc7b066ee8b"
    "15f963b76fe2b7afed25434360b3dce91665d79697b080edf078f78753151027"
    "a1ed3c4b447395e9092fcbef709bd3a11906bc3ebea1764259674dc3e5ed9e28"
    "fe391274d38ee12f9c02b92fc5b195442143a0aff41f2687f7182a271086a8ca"
    "848c289d94bc0d50b03a80584c08b9391fb497563d90975e3ae508c8b27cf1ed"
    "7df14cb03c8ff178b621cd19f8657400c34dc662c8fa2e944fc9a0cbdaa61c2a"
    "4222070ff715a852990f21f5313f6e4bda";
static const char FRAME_R2I_PONG_HEX[] =
    "002c44648cd79d1f25dcace0867235ee9f2364f9cb0921c89b47c39540638d81"
    "e2892b63a2b8c5b27a26c341980213531eb1593f9c0c9591aa6d0a69f45794f7"
    "badd4c1afeba912b65b0149073b37c674d9d09c07491903ef41c5028f84a3788"
    "2df8611f1e6786893f3554d62f371442a313b293300acceec1e8590c85809073"
    "dc698497a2d3b349acd5225b8b8aca54355c124da10031f0e21b0400d976a500"
    "8b45ff1970711d38c1e4f2784eb6ecaa90016e8e3d0f95ec0fb6a100cd8086ad"
    "9ba1276aa270bcb62763ff934fd4c1f7d41a447ee64c9c19f7f73408c037644b"
    "66ddd512fc905a8fb4f5b9d476de199a904090f46a0924ec43bb2020416e5478"
    "3b92a29ce5daf29ca03145fe2caecf2357";

#define COOKIE UINT64_C(0x0102030405060708)

struct party {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

static const size_t wire_sizes[LINK_FRAME_CLASSES] = {
	LINK_FRAME0_BYTES, LINK_FRAME1_BYTES, LINK_FRAME2_BYTES,
};

static uint8_t frame_buf[LINK_FRAME_MAX_BYTES + 1];
static uint8_t frame_copy[LINK_FRAME_MAX_BYTES + 1];

static void
hex(uint8_t *out, size_t n, const char *h)
{
	size_t got = 0;

	if (sodium_hex2bin(out, n, h, strlen(h), NULL, &got, NULL) != 0 ||
	    got != n)
		abort();
}

static bool
eq_hex(const uint8_t *p, size_t n, const char *h)
{
	uint8_t buf[LINK_FRAME0_BYTES];

	if (n > sizeof(buf) || strlen(h) != 2 * n)
		return false;
	hex(buf, n, h);
	return memcmp(p, buf, n) == 0;
}

static void
party_seeded(struct party *p, uint8_t first)
{
	uint8_t seed[crypto_sign_SEEDBYTES];

	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(first + i);
	crypto_sign_seed_keypair(p->pk, p->sk, seed);
}

static void
party_random(struct party *p)
{
	crypto_sign_keypair(p->pk, p->sk);
}

static void
fill_seq(uint8_t *p, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

/* The known-answer handshake, up to the point a test wants. */
struct kat {
	struct party I, R;
	uint8_t eI[32], eR[32];
	struct link_hs hi, hr;
	uint8_t m1[LINK_MSG1_BYTES], m2[LINK_MSG2_BYTES], m3[LINK_MSG3_BYTES];
	struct link_keys ki, kr;
};

static void
kat_setup(struct kat *k)
{
	memset(k, 0, sizeof(*k));
	party_seeded(&k->I, 0x00);
	party_seeded(&k->R, 0x20);
	fill_seq(k->eI, 32, 0x40);
	fill_seq(k->eR, 32, 0x60);
}

static int
kat_init(struct kat *k, const uint8_t *pin)
{
	return link_hs_init_with_ephemeral(&k->hi, k->I.sk, k->I.pk, pin,
	    k->eI, k->m1);
}

static int
kat_respond(struct kat *k)
{
	return link_hs_respond_with_ephemeral(&k->hr, k->R.sk, k->R.pk, k->m1,
	    sizeof(k->m1), k->eR, k->m2);
}

/* Full handshake between two parties; 0 if both sides agree. */
static int
handshake(const struct party *I, const struct party *R, const uint8_t *pin,
    struct link_keys *ki, struct link_keys *kr)
{
	struct link_hs hi, hr;
	uint8_t m1[LINK_MSG1_BYTES], m2[LINK_MSG2_BYTES], m3[LINK_MSG3_BYTES];
	int rc;

	if ((rc = link_hs_init(&hi, I->sk, I->pk, pin, m1)) != 0)
		return rc;
	if ((rc = link_hs_respond(&hr, R->sk, R->pk, m1, sizeof(m1), m2)) != 0)
		return rc;
	if ((rc = link_hs_read_msg2(&hi, m2, sizeof(m2), m3, ki)) != 0)
		return rc;
	if ((rc = link_hs_read_msg3(&hr, m3, sizeof(m3), kr)) != 0)
		return rc;
	if (memcmp(hi.peer_pk, R->pk, 32) != 0 ||
	    memcmp(hr.peer_pk, I->pk, 32) != 0)
		return -100;
	return 0;
}

static void
test_known_answers(void)
{
	struct kat k;
	uint8_t body[8];
	const uint8_t *b;
	size_t n, bl;
	uint8_t type;

	kat_setup(&k);
	TAP_OK(eq_hex(k.I.pk, 32, IDI_HEX) && eq_hex(k.R.pk, 32, IDR_HEX),
	    "kat: identities from the seeds");
	TAP_OK(kat_init(&k, NULL) == 0 && eq_hex(k.m1, sizeof(k.m1), MSG1_HEX),
	    "kat: msg1");
	TAP_OK(kat_respond(&k) == 0 && eq_hex(k.m2, sizeof(k.m2), MSG2_HEX),
	    "kat: msg2");
	TAP_OK(link_hs_read_msg2(&k.hi, k.m2, sizeof(k.m2), k.m3, &k.ki) == 0 &&
	    eq_hex(k.m3, sizeof(k.m3), MSG3_HEX), "kat: msg3");
	TAP_OK(memcmp(k.hi.peer_pk, k.R.pk, 32) == 0,
	    "kat: the initiator learns the responder's identity");
	TAP_OK(link_hs_read_msg3(&k.hr, k.m3, sizeof(k.m3), &k.kr) == 0 &&
	    memcmp(k.hr.peer_pk, k.I.pk, 32) == 0,
	    "kat: the responder learns the initiator's identity");
	TAP_OK(eq_hex(k.ki.send_key, 32, K_I2R_HEX) &&
	    eq_hex(k.ki.recv_key, 32, K_R2I_HEX) &&
	    eq_hex(k.kr.send_key, 32, K_R2I_HEX) &&
	    eq_hex(k.kr.recv_key, 32, K_I2R_HEX) &&
	    k.ki.send_ctr == 0 && k.ki.recv_ctr == 0 &&
	    k.kr.send_ctr == 0 && k.kr.recv_ctr == 0,
	    "kat: session keys k_i2r and k_r2i, counters at 0");

	wire_put_u64(body, COOKIE);
	TAP_OK(link_frame_seal(&k.ki, LINK_MSG_PING, body, 8, frame_buf,
	    sizeof(frame_buf), &n) == 0 && n == LINK_FRAME0_BYTES &&
	    eq_hex(frame_buf, n, FRAME_I2R_PING_HEX) && k.ki.send_ctr == 1,
	    "kat: first frame initiator to responder (PING)");
	TAP_OK(link_frame_open(&k.kr, frame_buf, n, &type, &b, &bl) == 0 &&
	    type == LINK_MSG_PING && bl == 8 && memcmp(b, body, 8) == 0 &&
	    k.kr.recv_ctr == 1, "kat: the responder opens it");
	TAP_OK(link_frame_seal(&k.kr, LINK_MSG_PONG, body, 8, frame_buf,
	    sizeof(frame_buf), &n) == 0 && n == LINK_FRAME0_BYTES &&
	    eq_hex(frame_buf, n, FRAME_R2I_PONG_HEX),
	    "kat: first frame responder to initiator (PONG)");
	TAP_OK(link_frame_open(&k.ki, frame_buf, n, &type, &b, &bl) == 0 &&
	    type == LINK_MSG_PONG && bl == 8 && memcmp(b, body, 8) == 0,
	    "kat: the initiator opens it");
}

static void
test_wiped(void)
{
	struct kat k;
	static const uint8_t zero[sizeof(struct link_hs)];
	struct link_hs cmp;

	kat_setup(&k);
	if (kat_init(&k, NULL) != 0 || kat_respond(&k) != 0)
		abort();
	TAP_OK(sodium_is_zero(k.hr.my_sk, sizeof(k.hr.my_sk)),
	    "responder drops its secret key once msg2 is signed");
	TAP_OK(link_hs_read_msg2(&k.hi, k.m2, sizeof(k.m2), k.m3, &k.ki) == 0 &&
	    link_hs_read_msg3(&k.hr, k.m3, sizeof(k.m3), &k.kr) == 0,
	    "handshake completes");
	memcpy(&cmp, &k.hi, sizeof(cmp));
	memset(cmp.peer_pk, 0, sizeof(cmp.peer_pk));
	TAP_OK(memcmp(&cmp, zero, sizeof(cmp)) == 0,
	    "initiator state wiped after success (ephemeral, dh, keys, sk)");
	memcpy(&cmp, &k.hr, sizeof(cmp));
	memset(cmp.peer_pk, 0, sizeof(cmp.peer_pk));
	TAP_OK(memcmp(&cmp, zero, sizeof(cmp)) == 0,
	    "responder state wiped after success");
	TAP_OK(link_hs_read_msg2(&k.hi, k.m2, sizeof(k.m2), k.m3, &k.ki) ==
	    LINK_ESTATE && link_hs_read_msg3(&k.hr, k.m3, sizeof(k.m3),
	    &k.kr) == LINK_ESTATE, "a finished handshake takes no more");
	link_keys_wipe(&k.ki);
	TAP_OK(sodium_is_zero((const uint8_t *)&k.ki, sizeof(k.ki)),
	    "link_keys_wipe zeroes the keys");
}

/* Seals on a, opens on b; checks the body and the wire size. */
static bool
send_one(struct link_keys *a, struct link_keys *b, uint8_t type,
    const uint8_t *body, size_t len, size_t *wire)
{
	const uint8_t *got;
	size_t n, gl;
	uint8_t gt;

	if (link_frame_seal(a, type, body, len, frame_buf, sizeof(frame_buf),
	    &n) != 0)
		return false;
	*wire = n;
	if (link_frame_size(frame_buf[0]) != n)
		return false;
	if (link_frame_open(b, frame_buf, n, &gt, &got, &gl) != 0)
		return false;
	return gt == type && gl == len &&
	    (len == 0 || memcmp(got, body, len) == 0);
}

static void
test_full_handshake(void)
{
	struct party I, R;
	struct link_keys ki, kr;
	static uint8_t body[LINK_BODY_MAX + 1];
	bool ok = true, sizes_ok = true, minimal = true;
	size_t wire, lens[] = { 0, 1, 8, 253, 254, 255, 1000, 2045, 2046,
	    32777, LINK_BODY_MAX };

	party_random(&I);
	party_random(&R);
	randombytes_buf(body, sizeof(body));
	TAP_OK(handshake(&I, &R, NULL, &ki, &kr) == 0,
	    "random identities: handshake completes, identities learnt");
	TAP_OK(memcmp(ki.send_key, kr.recv_key, 32) == 0 &&
	    memcmp(ki.recv_key, kr.send_key, 32) == 0 &&
	    memcmp(ki.send_key, ki.recv_key, 32) != 0,
	    "both sides agree on two distinct direction keys");
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t want = 3 + lens[i] <= 256 ? 0 :
		    3 + lens[i] <= 2048 ? 1 : 2;

		ok &= send_one(&ki, &kr, (uint8_t)(i + 1), body, lens[i],
		    &wire);
		minimal &= wire == wire_sizes[want];
		ok &= send_one(&kr, &ki, (uint8_t)(i + 100), body + 1, lens[i],
		    &wire);
		minimal &= wire == wire_sizes[want];
	}
	TAP_OK(ok, "frames both ways, bodies of 0 to %d bytes", LINK_BODY_MAX);
	TAP_OK(minimal, "each frame takes the smallest class that fits");
	TAP_OK(ki.send_ctr == 11 && kr.recv_ctr == 11 && kr.send_ctr == 11 &&
	    ki.recv_ctr == 11, "counters advance once per frame");
	/* Every length: the wire size is one of three. */
	for (size_t len = 0; len <= LINK_BODY_MAX;
	    len += len < 2100 ? 1 : 997) {
		if (link_frame_seal(&ki, 7, body, len, frame_buf,
		    sizeof(frame_buf), &wire) != 0)
			sizes_ok = false;
		else if (wire != LINK_FRAME0_BYTES &&
		    wire != LINK_FRAME1_BYTES && wire != LINK_FRAME2_BYTES)
			sizes_ok = false;
	}
	TAP_OK(sizes_ok, "every frame on the wire is 273, 2065 or 33297 bytes");
	TAP_OK(link_frame_seal(&ki, 7, body, LINK_BODY_MAX + 1, frame_buf,
	    sizeof(frame_buf), &wire) == LINK_ETOOBIG,
	    "a body over %d bytes is refused", LINK_BODY_MAX);
	TAP_OK(link_frame_seal(&ki, 7, body, 254, frame_buf,
	    LINK_FRAME1_BYTES - 1, &wire) == LINK_ESPACE,
	    "seal refuses an output buffer one byte short");
	TAP_OK(link_frame_size(0) == 273 && link_frame_size(1) == 2065 &&
	    link_frame_size(2) == 33297 && link_frame_size(3) == 0 &&
	    link_frame_size(255) == 0, "link_frame_size");
	link_keys_wipe(&ki);
	link_keys_wipe(&kr);
}

static void
test_pinning(void)
{
	struct party I, R, other;
	struct link_keys ki, kr;
	struct kat k;

	party_random(&I);
	party_random(&R);
	party_random(&other);
	TAP_OK(handshake(&I, &R, R.pk, &ki, &kr) == 0,
	    "pin: the pinned responder is accepted");
	TAP_OK(handshake(&I, &R, other.pk, &ki, &kr) == LINK_EPIN,
	    "pin: another key answering is LINK_EPIN");

	kat_setup(&k);
	if (kat_init(&k, other.pk) != 0 || kat_respond(&k) != 0)
		abort();
	TAP_OK(link_hs_read_msg2(&k.hi, k.m2, sizeof(k.m2), k.m3, &k.ki) ==
	    LINK_EPIN && memcmp(k.hi.peer_pk, k.R.pk, 32) == 0,
	    "pin: LINK_EPIN reports the key that answered");
	TAP_OK(sodium_is_zero(k.hi.my_sk, sizeof(k.hi.my_sk)) &&
	    sodium_is_zero(k.hi.e_sk, 32) && sodium_is_zero(k.hi.dh, 32),
	    "pin: the state is wiped after LINK_EPIN");
	TAP_OK(link_hs_read_msg2(&k.hi, k.m2, sizeof(k.m2), k.m3, &k.ki) ==
	    LINK_ESTATE, "pin: a failed handshake stays failed");
}

static void
test_msg1_errors(void)
{
	struct party R;
	struct link_hs hr;
	uint8_t m1[LINK_MSG1_BYTES + 1], m2[LINK_MSG2_BYTES];
	struct kat k;

	kat_setup(&k);
	if (kat_init(&k, NULL) != 0)
		abort();
	R = k.R;
	memcpy(m1, k.m1, LINK_MSG1_BYTES);
	m1[4] = 2;
	TAP_OK(link_hs_respond(&hr, R.sk, R.pk, m1, LINK_MSG1_BYTES, m2) ==
	    LINK_EVERSION && hr.peer_version == 2,
	    "version 2 is LINK_EVERSION and reports the peer's version");
	m1[4] = 0;
	TAP_OK(link_hs_respond(&hr, R.sk, R.pk, m1, 5, m2) ==
	    LINK_EVERSION && hr.peer_version == 0,
	    "version 0 is LINK_EVERSION, told from the first 5 bytes");
	TAP_OK(link_hs_read_msg3(&hr, k.m3, sizeof(k.m3), &k.kr) ==
	    LINK_ESTATE, "after LINK_EVERSION the state takes nothing");
	memcpy(m1, k.m1, LINK_MSG1_BYTES);
	m1[3] = 'X';
	TAP_OK(link_hs_respond(&hr, R.sk, R.pk, m1, LINK_MSG1_BYTES, m2) ==
	    LINK_EMAGIC, "wrong magic is LINK_EMAGIC");
	TAP_OK(link_hs_respond(&hr, R.sk, R.pk,
	    (const uint8_t *)"GET / HTTP/1.1\r\nHost: x\r\n\r\n0123456789abcd",
	    LINK_MSG1_BYTES, m2) == LINK_EMAGIC,
	    "an HTTP request is LINK_EMAGIC");
	memcpy(m1, k.m1, LINK_MSG1_BYTES);
	m1[6] = 1;
	TAP_OK(link_hs_respond(&hr, R.sk, R.pk, m1, LINK_MSG1_BYTES, m2) ==
	    LINK_EFORMAT, "nonzero reserved bytes are LINK_EFORMAT");
	memcpy(m1, k.m1, LINK_MSG1_BYTES);
	m1[LINK_MSG1_BYTES] = 0;
	TAP_OK(link_hs_respond(&hr, R.sk, R.pk, m1, LINK_MSG1_BYTES - 1, m2) ==
	    LINK_ELEN && link_hs_respond(&hr, R.sk, R.pk, m1,
	    LINK_MSG1_BYTES + 1, m2) == LINK_ELEN &&
	    link_hs_respond(&hr, R.sk, R.pk, m1, 3, m2) == LINK_ELEN &&
	    link_hs_respond(&hr, R.sk, R.pk, NULL, 0, m2) == LINK_ELEN,
	    "msg1 of 39, 41, 3 and 0 bytes is LINK_ELEN");
	memset(m1 + 8, 0, 32);
	TAP_OK(link_hs_respond(&hr, R.sk, R.pk, m1, LINK_MSG1_BYTES, m2) ==
	    LINK_EKEY, "an all-zero eI is LINK_EKEY");
	m1[8] = 1;	/* u = 1: a point of small order */
	TAP_OK(link_hs_respond(&hr, R.sk, R.pk, m1, LINK_MSG1_BYTES, m2) ==
	    LINK_EKEY, "a low-order eI (u = 1) is LINK_EKEY");
	TAP_OK(link_hs_respond(&hr, R.sk, k.I.pk, k.m1, LINK_MSG1_BYTES, m2) ==
	    LINK_EINVAL, "a public key not matching the secret key: EINVAL");
	TAP_OK(link_hs_init(&k.hi, k.I.sk, k.R.pk, NULL, m1) == LINK_EINVAL,
	    "init with a mismatched keypair: EINVAL");
}

static void
test_msg2_msg3_errors(void)
{
	struct kat k;
	uint8_t m[LINK_MSG2_BYTES + 1];
	size_t bad2 = 0, bad3 = 0, n2 = 0, n3 = 0;
	int rc;

	/* Every single bit of msg2. */
	kat_setup(&k);
	if (kat_init(&k, NULL) != 0 || kat_respond(&k) != 0)
		abort();
	for (size_t bit = 0; bit < 8 * LINK_MSG2_BYTES; bit++) {
		memcpy(m, k.m2, LINK_MSG2_BYTES);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (kat_init(&k, NULL) != 0)
			abort();
		rc = link_hs_read_msg2(&k.hi, m, LINK_MSG2_BYTES, k.m3, &k.ki);
		n2++;
		bad2 += rc == LINK_EAUTH || rc == LINK_EKEY;
	}
	TAP_OK(bad2 == n2, "each of the %zu single-bit flips of msg2 is "
	    "rejected (%zu)", n2, bad2);
	if (kat_init(&k, NULL) != 0)
		abort();
	memset(m, 0, 32);
	memcpy(m + 32, k.m2 + 32, LINK_MSG2_BYTES - 32);
	TAP_OK(link_hs_read_msg2(&k.hi, m, LINK_MSG2_BYTES, k.m3, &k.ki) ==
	    LINK_EKEY, "an all-zero eR is LINK_EKEY");
	if (kat_init(&k, NULL) != 0)
		abort();
	TAP_OK(link_hs_read_msg2(&k.hi, k.m2, LINK_MSG2_BYTES - 1, k.m3,
	    &k.ki) == LINK_ELEN, "msg2 one byte short is LINK_ELEN");
	if (kat_init(&k, NULL) != 0)
		abort();
	memcpy(m, k.m2, LINK_MSG2_BYTES);
	TAP_OK(link_hs_read_msg2(&k.hi, m, LINK_MSG2_BYTES + 1, k.m3,
	    &k.ki) == LINK_ELEN, "msg2 one byte long is LINK_ELEN");
	if (kat_init(&k, NULL) != 0)
		abort();
	TAP_OK(link_hs_read_msg3(&k.hi, k.m3, LINK_MSG3_BYTES, &k.ki) ==
	    LINK_ESTATE, "an initiator does not take msg3");

	/* Every single bit of msg3. */
	kat_setup(&k);
	if (kat_init(&k, NULL) != 0 || kat_respond(&k) != 0 ||
	    link_hs_read_msg2(&k.hi, k.m2, sizeof(k.m2), k.m3, &k.ki) != 0)
		abort();
	for (size_t bit = 0; bit < 8 * LINK_MSG3_BYTES; bit++) {
		memcpy(m, k.m3, LINK_MSG3_BYTES);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (kat_respond(&k) != 0)
			abort();
		rc = link_hs_read_msg3(&k.hr, m, LINK_MSG3_BYTES, &k.kr);
		n3++;
		bad3 += rc == LINK_EAUTH;
	}
	TAP_OK(bad3 == n3, "each of the %zu single-bit flips of msg3 is "
	    "rejected (%zu)", n3, bad3);
	if (kat_respond(&k) != 0)
		abort();
	TAP_OK(link_hs_read_msg3(&k.hr, k.m3, LINK_MSG3_BYTES - 1, &k.kr) ==
	    LINK_ELEN, "msg3 one byte short is LINK_ELEN");
	if (kat_respond(&k) != 0)
		abort();
	TAP_OK(link_hs_read_msg2(&k.hr, k.m2, LINK_MSG2_BYTES, k.m3, &k.kr) ==
	    LINK_ESTATE, "a responder does not take msg2");
	if (kat_respond(&k) != 0)
		abort();
	TAP_OK(link_hs_read_msg3(&k.hr, k.m3, LINK_MSG3_BYTES, &k.kr) == 0,
	    "the unaltered msg3 is still accepted");
}

/*
 * A frame made by hand: class byte cls, AAD aad_cls, the given plaintext
 * (plen bytes, at most the class size; the rest zero) under key and ctr.
 */
static size_t
raw_frame(uint8_t *out, const uint8_t key[32], uint64_t ctr, uint8_t cls,
    uint8_t aad_cls, const uint8_t *plain, size_t plen)
{
	static const size_t sizes[3] = { 256, 2048, 33280 };
	uint8_t nonce[12] = { 0 };
	size_t size = sizes[cls];

	for (int i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(ctr >> (8 * i));
	out[0] = cls;
	memset(out + 1, 0, size);
	memcpy(out + 1, plain, plen);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + 1, NULL, out + 1, size,
	    &aad_cls, 1, NULL, nonce, key);
	return 1 + size + 16;
}

static int
open_copy(struct link_keys *k, const uint8_t *f, size_t n)
{
	const uint8_t *b;
	size_t bl;
	uint8_t t;

	memcpy(frame_copy, f, n);
	return link_frame_open(k, frame_copy, n, &t, &b, &bl);
}

static void
test_frame_errors(void)
{
	struct party I, R;
	struct link_keys ki, kr;
	static uint8_t f1[LINK_FRAME_MAX_BYTES], f2[LINK_FRAME_MAX_BYTES];
	uint8_t plain[300] = { 0 };
	size_t n1, n2, n;
	bool flips = true;

	party_random(&I);
	party_random(&R);
	if (handshake(&I, &R, NULL, &ki, &kr) != 0)
		abort();
	if (link_frame_seal(&ki, 1, (const uint8_t *)"12345678", 8, f1,
	    sizeof(f1), &n1) != 0 || link_frame_seal(&ki, 1,
	    (const uint8_t *)"abcdefgh", 8, f2, sizeof(f2), &n2) != 0)
		abort();
	TAP_OK(open_copy(&kr, f2, n2) == LINK_EAUTH && kr.recv_ctr == 0,
	    "reordered (or dropped) frame: LINK_EAUTH, counter unchanged");
	TAP_OK(open_copy(&kr, f1, n1 - 1) == LINK_ELEN &&
	    open_copy(&kr, f1, n1 + 1) == LINK_ELEN &&
	    open_copy(&kr, f1, 1) == LINK_ELEN &&
	    open_copy(&kr, f1, 0) == LINK_ELEN, "truncated and oversized "
	    "frames: LINK_ELEN");
	memcpy(frame_buf, f1, n1);
	frame_buf[0] = 3;
	TAP_OK(open_copy(&kr, frame_buf, n1) == LINK_ECLASS,
	    "class byte 3: LINK_ECLASS");
	frame_buf[0] = 0xff;
	TAP_OK(open_copy(&kr, frame_buf, n1) == LINK_ECLASS,
	    "class byte 255: LINK_ECLASS");
	frame_buf[0] = 1;
	TAP_OK(open_copy(&kr, frame_buf, n1) == LINK_ELEN,
	    "class byte 1 on a class 0 frame: LINK_ELEN");
	for (size_t bit = 0; bit < 8 * n1; bit += 7) {
		memcpy(frame_buf, f1, n1);
		frame_buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (open_copy(&kr, frame_buf, n1) == 0)
			flips = false;
	}
	TAP_OK(flips && kr.recv_ctr == 0, "bit flips in a frame are rejected");
	TAP_OK(open_copy(&kr, f1, n1) == 0 && kr.recv_ctr == 1,
	    "the in-order frame opens after all that");
	TAP_OK(open_copy(&kr, f1, n1) == LINK_EAUTH,
	    "the same frame replayed: LINK_EAUTH");
	TAP_OK(open_copy(&kr, f2, n2) == 0 && kr.recv_ctr == 2,
	    "the next frame opens");

	/* Frames built by hand with the right key and counter. */
	plain[0] = 1;
	wire_put_u16(plain + 1, 8);
	n = raw_frame(frame_buf, ki.send_key, 2, 0, 0, plain, 11);
	TAP_OK(open_copy(&kr, frame_buf, n) == 0 && kr.recv_ctr == 3,
	    "a hand-made frame (LE counter nonce, class AAD) opens");
	n = raw_frame(frame_buf, ki.send_key, 3, 0, 1, plain, 11);
	TAP_OK(open_copy(&kr, frame_buf, n) == LINK_EAUTH,
	    "a frame sealed with another class byte as AAD: LINK_EAUTH");
	plain[200] = 1;
	n = raw_frame(frame_buf, ki.send_key, 3, 0, 0, plain, 256);
	TAP_OK(open_copy(&kr, frame_buf, n) == LINK_EPADDING,
	    "nonzero padding: LINK_EPADDING");
	plain[200] = 0;
	wire_put_u16(plain + 1, 253);
	n = raw_frame(frame_buf, ki.send_key, 3, 0, 0, plain, 256);
	TAP_OK(open_copy(&kr, frame_buf, n) == 0 && kr.recv_ctr == 4,
	    "len 253 fills class 0 exactly");
	wire_put_u16(plain + 1, 254);
	n = raw_frame(frame_buf, ki.send_key, 4, 0, 0, plain, 256);
	TAP_OK(open_copy(&kr, frame_buf, n) == LINK_EBODYLEN,
	    "len 254 in class 0: LINK_EBODYLEN");
	wire_put_u16(plain + 1, 0xffff);
	n = raw_frame(frame_buf, ki.send_key, 4, 2, 2, plain, 3);
	TAP_OK(open_copy(&kr, frame_buf, n) == LINK_EBODYLEN,
	    "len 65535 in class 2: LINK_EBODYLEN");
	TAP_OK(kr.recv_ctr == 4, "no failure advanced the counter");
	link_keys_wipe(&ki);
	link_keys_wipe(&kr);
}

static uint8_t block[LINK_BLOCK_BYTES];
static uint8_t enc[LINK_MSG_MAX_BYTES + 2], enc2[LINK_MSG_MAX_BYTES + 2];

/* Encodes m, checks its length, decodes it back and re-encodes; checks
 * every prefix and the body one byte longer are refused. */
static void
round_trip(const char *name, const struct link_msg *m, size_t want)
{
	static struct link_msg d;
	size_t n = 0, n2 = 0;
	bool prefixes = true;
	int rc;

	rc = link_msg_encode(m, enc, sizeof(enc), &n);
	TAP_OK(rc == 0 && n == want, "%s: encodes to %zu bytes (%zu)", name,
	    want, n);
	rc = link_msg_decode(m->type, enc, n, &d);
	TAP_OK(rc == 0 && d.type == m->type &&
	    link_msg_encode(&d, enc2, sizeof(enc2), &n2) == 0 && n2 == n &&
	    memcmp(enc, enc2, n) == 0, "%s: decodes and re-encodes the same",
	    name);
	for (size_t k = 0; k < n; k += n > 600 ? 97 : 1)
		if (link_msg_decode(m->type, enc, k, &d) != LINK_EFORMAT)
			prefixes = false;
	if (link_msg_decode(m->type, enc, n - 1, &d) != LINK_EFORMAT)
		prefixes = false;
	TAP_OK(prefixes, "%s: every shorter body is LINK_EFORMAT", name);
	enc[n] = 0;
	TAP_OK(link_msg_decode(m->type, enc, n + 1, &d) == LINK_EFORMAT,
	    "%s: a body one byte long is LINK_EFORMAT", name);
	TAP_OK(link_msg_encode(m, enc, n - 1, &n2) == LINK_ESPACE &&
	    link_msg_encode(m, enc, n, &n2) == 0,
	    "%s: encode needs exactly %zu bytes of room", name, n);
}

static void
test_messages(void)
{
	static struct link_msg m, d;
	size_t n;

	randombytes_buf(block, sizeof(block));
	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_PING;
	m.ping.cookie = COOKIE;
	round_trip("PING", &m, 8);
	TAP_OK(link_msg_encode(&m, enc, sizeof(enc), &n) == 0 &&
	    memcmp(enc, "\x01\x02\x03\x04\x05\x06\x07\x08", 8) == 0,
	    "PING: cookie big-endian");
	m.type = LINK_MSG_PONG;
	m.pong.cookie = UINT64_MAX;
	round_trip("PONG", &m, 8);

	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_HELLO;
	m.hello.port = 4321;
	round_trip("HELLO with no peers", &m, 3);
	m.hello.npeers = 3;
	randombytes_buf(m.hello.peers, sizeof(m.hello.peers));
	round_trip("HELLO with 3 peers", &m, 3 + 3 * 32);
	m.hello.npeers = LINK_HELLO_MAX_PEERS;
	round_trip("HELLO with 32 peers", &m, 3 + 32 * 32);
	if (link_msg_decode(LINK_MSG_HELLO, enc, 3 + 32 * 32, &d) != 0 ||
	    d.hello.port != 4321 || memcmp(d.hello.peers, m.hello.peers,
	    sizeof(m.hello.peers)) != 0)
		TAP_OK(0, "HELLO: fields");
	m.hello.npeers = 33;
	TAP_OK(link_msg_encode(&m, enc, sizeof(enc), &n) == LINK_EFORMAT,
	    "HELLO: 33 peers do not encode");
	memset(enc, 0, sizeof(enc));
	enc[2] = 33;
	TAP_OK(link_msg_decode(LINK_MSG_HELLO, enc, 3 + 33 * 32, &d) ==
	    LINK_EFORMAT, "HELLO: 33 peers do not decode");

	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_PEERS;
	round_trip("PEERS with none", &m, 1);
	m.peers.n = 2;
	randombytes_buf(m.peers.peers[0].pk, 32);
	m.peers.peers[0].family = 4;
	memcpy(m.peers.peers[0].addr, "\x7f\x00\x00\x01", 4);
	m.peers.peers[0].port = 9000;
	randombytes_buf(m.peers.peers[1].pk, 32);
	m.peers.peers[1].family = 6;
	memset(m.peers.peers[1].addr, 0xfe, 16);
	m.peers.peers[1].port = 65535;
	round_trip("PEERS v4 + v6", &m,
	    1 + (32 + 1 + 4 + 2) + (32 + 1 + 16 + 2));
	TAP_OK(link_msg_decode(LINK_MSG_PEERS, enc, 1 + 39 + 51, &d) == 0 &&
	    d.peers.n == 2 && d.peers.peers[0].family == 4 &&
	    d.peers.peers[0].port == 9000 &&
	    memcmp(d.peers.peers[0].addr, "\x7f\0\0\x01", 4) == 0 &&
	    sodium_is_zero(d.peers.peers[0].addr + 4, 12) &&
	    d.peers.peers[1].family == 6 &&
	    d.peers.peers[1].port == 65535 &&
	    memcmp(&d.peers.peers[1], &m.peers.peers[1],
	    sizeof(d.peers.peers[1])) == 0, "PEERS: fields");
	enc[1 + 32] = 5;
	TAP_OK(link_msg_decode(LINK_MSG_PEERS, enc, 1 + 39 + 51, &d) ==
	    LINK_EFORMAT, "PEERS: family 5 does not decode");
	m.peers.peers[1].family = 0;
	TAP_OK(link_msg_encode(&m, enc, sizeof(enc), &n) == LINK_EFORMAT,
	    "PEERS: family 0 does not encode");
	m.peers.n = LINK_PEERS_MAX;
	for (size_t i = 0; i < LINK_PEERS_MAX; i++) {
		m.peers.peers[i].family = i % 2 ? 6 : 4;
		if (m.peers.peers[i].family == 4)
			memset(m.peers.peers[i].addr + 4, 0, 12);
	}
	round_trip("PEERS with 255", &m, 1 + 128 * 39 + 127 * 51);

	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_REQUEST;
	m.request.id = 77;
	fill_seq(m.request.rkey, 32, 9);
	m.request.htl = 18;
	round_trip("REQUEST", &m, 8 + 32 + 1);
	TAP_OK(link_msg_decode(LINK_MSG_REQUEST, enc, 41, &d) == 0 &&
	    d.request.id == 77 && d.request.htl == 18 &&
	    memcmp(d.request.rkey, m.request.rkey, 32) == 0, "REQUEST: fields");

	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_DATA;
	m.data.id = UINT64_C(0xfedcba9876543210);
	m.data.block = block;
	round_trip("DATA", &m, 8 + LINK_BLOCK_BYTES);
	TAP_OK(link_msg_decode(LINK_MSG_DATA, enc, 8 + LINK_BLOCK_BYTES, &d) ==
	    0 && d.data.block == enc + 8 && d.data.id == m.data.id &&
	    memcmp(d.data.block, block, sizeof(block)) == 0,
	    "DATA: the block points into the body");
	m.data.block = NULL;
	TAP_OK(link_msg_encode(&m, enc, sizeof(enc), &n) == LINK_EFORMAT,
	    "DATA: a NULL block does not encode");

	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_DNF;
	m.dnf.id = 1;
	round_trip("DNF", &m, 8);
	m.type = LINK_MSG_LOOP;
	m.loop.id = 2;
	round_trip("LOOP", &m, 8);
	m.type = LINK_MSG_ACCEPTED;
	m.accepted.id = UINT64_C(0x0102030405060708);
	round_trip("ACCEPTED", &m, 8);
	TAP_OK(link_msg_decode(LINK_MSG_ACCEPTED, enc, 8, &d) == 0 &&
	    d.accepted.id == UINT64_C(0x0102030405060708) &&
	    memcmp(enc, "\x01\x02\x03\x04\x05\x06\x07\x08", 8) == 0,
	    "ACCEPTED: id u64 big-endian");
	TAP_OK(link_msg_decode(LINK_MSG_ACCEPTED, enc, 0, &d) ==
	    LINK_EFORMAT && link_msg_decode(LINK_MSG_ACCEPTED, enc, 7, &d) ==
	    LINK_EFORMAT && link_msg_decode(LINK_MSG_ACCEPTED, enc, 9, &d) ==
	    LINK_EFORMAT && link_msg_decode(LINK_MSG_ACCEPTED, enc,
	    LINK_MSG_MAX_BYTES, &d) == LINK_EFORMAT,
	    "ACCEPTED: hostile lengths 0, 7, 9, max are LINK_EFORMAT");
	m.type = LINK_MSG_INSERT_OK;
	m.insert_ok.id = 3;
	round_trip("INSERT_OK", &m, 8);
	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_RNF;
	m.rnf.id = 4;
	m.rnf.htl = 7;
	round_trip("RNF", &m, 9);
	TAP_OK(link_msg_decode(LINK_MSG_RNF, enc, 9, &d) == 0 &&
	    d.rnf.id == 4 && d.rnf.htl == 7, "RNF: fields");

	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_INSERT;
	m.insert.id = 5;
	m.insert.htl = 18;
	m.insert.block = block;
	round_trip("INSERT", &m, 8 + 1 + LINK_BLOCK_BYTES);
	TAP_OK(link_msg_decode(LINK_MSG_INSERT, enc, 9 + LINK_BLOCK_BYTES,
	    &d) == 0 && d.insert.block == enc + 9 && d.insert.htl == 18 &&
	    d.insert.id == 5, "INSERT: fields, block points into the body");

	{
		static const uint8_t unknown[] = { 0, 17, 25, 16, 19, 22, 29,
		    35, 255 };
		bool all = true;

		memset(&m, 0, sizeof(m));
		for (size_t i = 0; i < sizeof(unknown); i++) {
			all &= link_msg_decode(unknown[i], enc, 8, &d) ==
			    LINK_ETYPE;
			m.type = unknown[i];
			all &= link_msg_encode(&m, enc, sizeof(enc), &n) ==
			    LINK_ETYPE;
		}
		TAP_OK(all, "unknown types: LINK_ETYPE both ways");
	}
}

/* SEEN, PROBE, PROBED, PROBE_FAIL (docs/protocol.md, "Addresses"). */
static void
test_address_messages(void)
{
	static const uint8_t seen4[19] = { 4, 198, 18, 0, 7, [17] = 0x25,
	    [18] = 0x07 };
	struct link_msg m, d;
	uint8_t buf[64];
	size_t n = 0;

	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_SEEN;
	m.seen.family = 4;
	memcpy(m.seen.addr, (const uint8_t[]){ 198, 18, 0, 7 }, 4);
	m.seen.port = 9479;
	TAP_OK(link_msg_encode(&m, buf, sizeof(buf), &n) == 0 && n == 19 &&
	    memcmp(buf, seen4, 19) == 0, "SEEN: family, 16 address bytes, "
	    "port, 19 bytes");
	TAP_OK(link_msg_decode(LINK_MSG_SEEN, buf, n, &d) == 0 &&
	    d.seen.family == 4 && d.seen.port == 9479 &&
	    memcmp(d.seen.addr, m.seen.addr, 16) == 0, "SEEN decodes back");
	buf[10] = 1;
	TAP_OK(link_msg_decode(LINK_MSG_SEEN, buf, n, &d) == LINK_EFORMAT,
	    "SEEN of IPv4 with a nonzero unused byte: malformed");
	buf[10] = 0;
	buf[0] = 5;
	TAP_OK(link_msg_decode(LINK_MSG_SEEN, buf, n, &d) == LINK_EFORMAT,
	    "SEEN of family 5: malformed");
	buf[0] = 4;
	TAP_OK(link_msg_decode(LINK_MSG_SEEN, buf, n - 1, &d) == LINK_EFORMAT &&
	    link_msg_decode(LINK_MSG_SEEN, buf, n + 1, &d) == LINK_EFORMAT,
	    "SEEN short or long: malformed");
	m.seen.family = 7;
	TAP_OK(link_msg_encode(&m, buf, sizeof(buf), &n) == LINK_EFORMAT,
	    "SEEN of family 7: no bufoding");

	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_PROBE;
	m.probe.nonce = UINT64_C(0x0102030405060708);
	m.probe.addr.family = 6;
	memset(m.probe.addr.addr, 0xfe, 16);
	m.probe.addr.port = 1;
	TAP_OK(link_msg_encode(&m, buf, sizeof(buf), &n) == 0 && n == 27 &&
	    buf[0] == 1 && buf[7] == 8 && buf[8] == 6 && buf[24] == 0xfe &&
	    buf[26] == 1, "PROBE: nonce, then the address, 27 bytes");
	TAP_OK(link_msg_decode(LINK_MSG_PROBE, buf, n, &d) == 0 &&
	    d.probe.nonce == m.probe.nonce && d.probe.addr.family == 6 &&
	    d.probe.addr.port == 1 && memcmp(d.probe.addr.addr,
	    m.probe.addr.addr, 16) == 0, "PROBE decodes back");
	TAP_OK(link_msg_decode(LINK_MSG_PROBE, buf, 26, &d) == LINK_EFORMAT,
	    "PROBE short: malformed");

	for (uint8_t t = LINK_MSG_PROBED; t <= LINK_MSG_PROBE_FAIL; t++) {
		memset(&m, 0, sizeof(m));
		m.type = t;
		m.probed.nonce = 77;
		TAP_OK(link_msg_encode(&m, buf, sizeof(buf), &n) == 0 &&
		    n == 8 && link_msg_decode(t, buf, n, &d) == 0 &&
		    d.probed.nonce == 77 && link_msg_decode(t, buf, 9, &d) ==
		    LINK_EFORMAT, "type %u: the nonce, 8 bytes", (unsigned)t);
	}
}

/* A descriptor with fields from i (not signed: the codec does not check). */
static void
desc_fill(struct onion_desc *d, size_t i)
{
	memset(d, 0, sizeof(*d));
	memset(d->identity, 0x10 + (int)i, sizeof(d->identity));
	memset(d->onion_pk, 0x40 + (int)i, sizeof(d->onion_pk));
	d->not_after = UINT64_C(0x0102030405060708) + i;
	d->family = i % 2 ? 6 : 4;
	memset(d->addr, 0xa0 + (int)i, i % 2 ? 16 : 4);
	d->port = (uint16_t)(9000 + i);
	memset(d->sig, 0x70 + (int)i, sizeof(d->sig));
}

/* Seals a body as the node would and returns the frame's wire size. */
static size_t
sealed_size(uint8_t type, const uint8_t *body, size_t len)
{
	struct link_keys k = { { 0 }, { 0 }, 0, 0 };
	size_t wire = 0;

	if (link_frame_seal(&k, type, body, len, frame_buf, sizeof(frame_buf),
	    &wire) != 0)
		return 0;
	return wire;
}

/* The onion path messages of docs/onion.md (issue 5). */
static void
test_path_messages(void)
{
	static struct link_msg m, d;
	static uint8_t payload[ONION_CELL_LARGE_BYTES];
	size_t n = 0;
	bool ok;

	randombytes_buf(payload, sizeof(payload));
	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_RELAYS;
	m.relays.n = 1;
	desc_fill(&m.relays.descs[0], 0);
	round_trip("RELAYS n=1", &m, 1 + ONION_DESC_BYTES);
	TAP_OK(link_msg_decode(LINK_MSG_RELAYS, enc, n = 1 + ONION_DESC_BYTES,
	    &d) == 0 && d.relays.n == 1 && memcmp(&d.relays.descs[0],
	    &m.relays.descs[0], sizeof(d.relays.descs[0])) == 0 &&
	    enc[1 + 64] == 1 && enc[1 + 64 + 8] == 4 &&
	    enc[1 + 91 - 2] == 9000 >> 8,
	    "RELAYS: fields in order, not_after and port big-endian");
	m.relays.n = LINK_RELAYS_MAX;
	for (size_t i = 0; i < LINK_RELAYS_MAX; i++)
		desc_fill(&m.relays.descs[i], i);
	round_trip("RELAYS n=12", &m, LINK_RELAYS_MAX_BYTES);
	TAP_OK(link_msg_encode(&m, enc, sizeof(enc), &n) == 0 &&
	    sealed_size(m.type, enc, n) == LINK_FRAME1_BYTES,
	    "RELAYS with 12 descriptors seals into a class 1 frame");
	/* n = 0 and n = 13, by encode and as bodies. */
	m.relays.n = 0;
	ok = link_msg_encode(&m, enc, sizeof(enc), &n) == LINK_EFORMAT;
	m.relays.n = LINK_RELAYS_MAX + 1;
	ok &= link_msg_encode(&m, enc, sizeof(enc), &n) == LINK_EFORMAT;
	m.relays.n = LINK_RELAYS_MAX;
	ok &= link_msg_encode(&m, enc, sizeof(enc), &n) == 0;
	memcpy(enc + n, enc + 1, ONION_DESC_BYTES);
	enc[0] = LINK_RELAYS_MAX + 1;
	ok &= link_msg_decode(LINK_MSG_RELAYS, enc, n + ONION_DESC_BYTES,
	    &d) == LINK_EFORMAT;
	enc[0] = 0;
	ok &= link_msg_decode(LINK_MSG_RELAYS, enc, 1, &d) == LINK_EFORMAT;
	TAP_OK(ok, "RELAYS with n = 0 or 13: LINK_EFORMAT both ways");
	m.relays.n = 1;
	ok = link_msg_encode(&m, enc, sizeof(enc), &n) == 0;
	enc[1 + 72] = 5;	/* family */
	ok &= link_msg_decode(LINK_MSG_RELAYS, enc, n, &d) == LINK_EFORMAT;
	enc[1 + 72] = 4;
	enc[1 + 73 + 4] = 1;	/* past the IPv4 address */
	ok &= link_msg_decode(LINK_MSG_RELAYS, enc, n, &d) == LINK_EFORMAT;
	m.relays.descs[0].addr[15] = 1;
	ok &= link_msg_encode(&m, enc, sizeof(enc), &n) == LINK_EFORMAT;
	TAP_OK(ok, "RELAYS: family 5, nonzero unused IPv4 bytes: EFORMAT");

	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_BUILD;
	m.build.path_id = UINT64_C(0x1122334455667788);
	m.build.records = payload;
	round_trip("BUILD", &m, 8 + ONION_BUILD_BYTES);
	TAP_OK(link_msg_decode(LINK_MSG_BUILD, enc, LINK_BUILD_BYTES, &d) ==
	    0 && d.build.path_id == m.build.path_id && enc[0] == 0x11 &&
	    d.build.records == enc + 8 &&
	    memcmp(d.build.records, payload, ONION_BUILD_BYTES) == 0 &&
	    sealed_size(m.type, enc, LINK_BUILD_BYTES) == LINK_FRAME1_BYTES,
	    "BUILD: fields, records point into the body, class 1 frame");
	m.build.records = NULL;
	TAP_OK(link_msg_encode(&m, enc, sizeof(enc), &n) == LINK_EFORMAT &&
	    link_msg_decode(LINK_MSG_BUILD, payload, 8 + 248 * 7, &d) ==
	    LINK_EFORMAT && link_msg_decode(LINK_MSG_BUILD, payload,
	    LINK_BUILD_BYTES + 248, &d) == LINK_EFORMAT,
	    "BUILD: no records, 7 or 9 records: LINK_EFORMAT");

	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_BUILT;
	m.built.id = 31;
	round_trip("BUILT", &m, 8);
	TAP_OK(link_msg_decode(LINK_MSG_BUILT, enc, 8, &d) == 0 &&
	    d.built.id == 31, "BUILT: path_id");
	m.type = LINK_MSG_BUILD_FAIL;
	m.build_fail.id = UINT64_MAX;
	round_trip("BUILD_FAIL", &m, 8);
	TAP_OK(link_msg_decode(LINK_MSG_BUILD_FAIL, enc, 8, &d) == 0 &&
	    d.build_fail.id == UINT64_MAX, "BUILD_FAIL: path_id");

	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_CELL;
	m.cell.path_id = 33;
	m.cell.payload = payload;
	round_trip("CELL", &m, 8 + ONION_CELL_SMALL_BYTES);
	TAP_OK(link_msg_decode(LINK_MSG_CELL, enc, LINK_CELL_BYTES, &d) == 0 &&
	    d.cell.path_id == 33 && d.cell.payload == enc + 8 &&
	    memcmp(d.cell.payload, payload, ONION_CELL_SMALL_BYTES) == 0 &&
	    sealed_size(m.type, enc, LINK_CELL_BYTES) == LINK_FRAME1_BYTES,
	    "CELL: fields, payload points into the body, class 1 frame");
	m.type = LINK_MSG_CELL_LARGE;
	m.cell_large.path_id = 34;
	round_trip("CELL_LARGE", &m, 8 + ONION_CELL_LARGE_BYTES);
	TAP_OK(link_msg_decode(LINK_MSG_CELL_LARGE, enc, LINK_CELL_LARGE_BYTES,
	    &d) == 0 && d.cell_large.path_id == 34 &&
	    d.cell_large.payload == enc + 8 &&
	    memcmp(d.cell_large.payload, payload, ONION_CELL_LARGE_BYTES) == 0 &&
	    sealed_size(m.type, enc, LINK_CELL_LARGE_BYTES) ==
	    LINK_FRAME2_BYTES && LINK_CELL_LARGE_BYTES == LINK_BODY_MAX &&
	    LINK_MSG_MAX_BYTES == LINK_BODY_MAX,
	    "CELL_LARGE: fields, class 2 frame, the largest body");
	m.cell.payload = NULL;
	ok = link_msg_encode(&m, enc, sizeof(enc), &n) == LINK_EFORMAT;
	m.type = LINK_MSG_CELL;
	ok &= link_msg_encode(&m, enc, sizeof(enc), &n) == LINK_EFORMAT;
	ok &= link_msg_decode(LINK_MSG_CELL, payload, LINK_CELL_LARGE_BYTES,
	    &d) == LINK_EFORMAT && link_msg_decode(LINK_MSG_CELL_LARGE,
	    payload, LINK_CELL_BYTES, &d) == LINK_EFORMAT;
	TAP_OK(ok, "CELL: no payload, or the other size: LINK_EFORMAT");
}

/* Random garbage bodies: whatever decodes re-encodes to the same bytes. */
static void
test_garbage(void)
{
	static const uint8_t types[] = { 1, 2, 3, 4, 5, 10, 11, 12, 13, 14,
	    15, 20, 21, 30, 31, 32, 33, 34 };
	static uint8_t buf[LINK_MSG_MAX_BYTES + 2];
	static struct link_msg d;
	bool ok = true;
	size_t n, accepted = 0;

	for (int round = 0; round < 3000; round++) {
		uint8_t t = types[randombytes_uniform(sizeof(types))];
		size_t len = randombytes_uniform(round % 10 == 0 ?
		    sizeof(buf) : 200);

		if (t == 5 && round % 2 == 0)	/* RELAYS: one descriptor */
			len = 1 + ONION_DESC_BYTES;
		if (t >= 30 && round % 2 == 0)	/* the sizes that decode */
			len = t == 30 ? LINK_BUILD_BYTES : t == 33 ?
			    LINK_CELL_BYTES : t == 34 ? LINK_CELL_LARGE_BYTES : 8;
		randombytes_buf(buf, len);
		if (t == 5 && len == 1 + ONION_DESC_BYTES) {
			buf[0] = 1;
			buf[1 + 72] = 4;	/* family 4, zero past 4 bytes */
			memset(buf + 1 + 77, 0, 12);
		}
		if (t == 4 && len > 0)
			buf[0] = (uint8_t)randombytes_uniform(4);
		if (t == 3 && len > 2)
			buf[2] = (uint8_t)randombytes_uniform(6);
		if (link_msg_decode(t, buf, len, &d) != 0)
			continue;
		accepted++;
		if (link_msg_encode(&d, enc, sizeof(enc), &n) != 0 ||
		    n != len || memcmp(enc, buf, len) != 0)
			ok = false;
	}
	TAP_OK(ok, "garbage bodies: the %zu accepted re-encode identically",
	    accepted);
}

/* A message travels encode -> seal -> open -> decode. */
static void
test_pipeline(void)
{
	struct party I, R;
	struct link_keys ki, kr;
	static struct link_msg m, d;
	const uint8_t *body;
	size_t n, wire, bl;
	uint8_t type;

	party_random(&I);
	party_random(&R);
	if (handshake(&I, &R, NULL, &ki, &kr) != 0)
		abort();
	m.type = LINK_MSG_INSERT;
	m.insert.id = 99;
	m.insert.htl = 17;
	m.insert.block = block;
	TAP_OK(link_msg_encode(&m, enc, sizeof(enc), &n) == 0 &&
	    link_frame_seal(&ki, m.type, enc, n, frame_buf, sizeof(frame_buf),
	    &wire) == 0 && wire == LINK_FRAME2_BYTES &&
	    link_frame_open(&kr, frame_buf, wire, &type, &body, &bl) == 0 &&
	    link_msg_decode(type, body, bl, &d) == 0 && d.insert.id == 99 &&
	    memcmp(d.insert.block, block, sizeof(block)) == 0,
	    "INSERT travels in one class 2 frame");
	link_keys_wipe(&ki);
	link_keys_wipe(&kr);
}

static void
test_strerror(void)
{
	bool ok = true;

	for (int e = LINK_ESPACE; e <= LINK_OK; e++)
		ok &= strcmp(link_strerror(e), "unknown link error") != 0;
	TAP_OK(ok && strcmp(link_strerror(1), "unknown link error") == 0,
	    "link_strerror names every code");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_known_answers();
	test_wiped();
	test_full_handshake();
	test_pinning();
	test_msg1_errors();
	test_msg2_msg3_errors();
	test_frame_errors();
	test_messages();
	test_path_messages();
	test_address_messages();
	test_garbage();
	test_pipeline();
	test_strerror();
	return tap_done();
}
