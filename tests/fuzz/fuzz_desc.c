/*
 * fuzz_desc.c - relay descriptors (crypto/onion.h) on arbitrary bytes.
 *
 * A descriptor reaches a node inside RELAYS (fuzz_link decodes those and
 * re-encodes them); here the one codec and the signature check are held
 * to what docs/onion.md says. Every input is used two ways, against one
 * identity key made once from seed 32 x 0x42 (tests/unit/test_onion.c's
 * descriptor key) and a clock fixed at DESC_NOW:
 *  (a) the whole input as a wire descriptor: onion_desc_decode(), then
 *      onion_desc_verify() and onion_desc_encode() on what decoded;
 *  (b) byte 0 bit 0 set: bytes 1..91 (zero-padded) are the signed fields;
 *      unless bit 1 is set the identity is replaced by the fixed key's,
 *      then the descriptor is signed with that key, so the checks after
 *      the signature get fuzzed; the last input byte picks one byte of
 *      the signed wire form to corrupt.
 * Invariants (abort() if broken): decode accepts exactly 155 bytes with
 * family 4 (address bytes 4..15 zero) or 6, and then gives the fields in
 * place, big-endian; a refused decode leaves the struct zeroed; what
 * decodes encodes to the same bytes; verify gives 0, ONION_EEXPIRED
 * (exactly when not_after < now) or ONION_ESIG; signing succeeds exactly
 * for the right identity and well-formed fields, and the signed
 * descriptor verifies until its not_after, through encode and decode; a
 * signed descriptor with any one byte changed never verifies.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/onion.h"
#include "crypto/wire.h"
#include "tests/fuzz/fuzz.h"

#define DESC_NOW 1800000000u

/* Offsets of the wire form (onion.h, "Relay descriptors"). */
#define OFF_PK ONION_IDBYTES
#define OFF_NOT_AFTER (OFF_PK + ONION_PUBLICKEYBYTES)
#define OFF_FAMILY (OFF_NOT_AFTER + 8)
#define OFF_ADDR (OFF_FAMILY + 1)
#define OFF_PORT (OFF_ADDR + ONION_ADDRBYTES)
#define OFF_SIG (OFF_PORT + 2)
_Static_assert(OFF_SIG == ONION_DESC_SIGNED_BYTES, "signed fields first");

static struct {
	bool ready;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
} g;

static void
setup(void)
{
	uint8_t seed[32];

	if (sodium_init() < 0)
		abort();
	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(g.pk, g.sk, seed);
	g.ready = true;
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The reference: what onion.h says decode accepts. */
static bool
wire_ok(const uint8_t *w, size_t len)
{
	return len == ONION_DESC_BYTES && (w[OFF_FAMILY] == 6 ||
	    (w[OFF_FAMILY] == 4 && sodium_is_zero(w + OFF_ADDR + 4,
	    ONION_ADDRBYTES - 4)));
}

/* The fields of d are the bytes of w, in place. */
static bool
same_fields(const struct onion_desc *d, const uint8_t *w)
{
	return memcmp(d->identity, w, ONION_IDBYTES) == 0 &&
	    memcmp(d->onion_pk, w + OFF_PK, ONION_PUBLICKEYBYTES) == 0 &&
	    d->not_after == get_u64(w + OFF_NOT_AFTER) &&
	    d->family == w[OFF_FAMILY] &&
	    memcmp(d->addr, w + OFF_ADDR, ONION_ADDRBYTES) == 0 &&
	    d->port == (uint16_t)(w[OFF_PORT] << 8 | w[OFF_PORT + 1]) &&
	    memcmp(d->sig, w + OFF_SIG, ONION_SIGBYTES) == 0;
}

/* verify's result must be one the header lists, expiry decided by the
 * clock alone. Returns it. */
static int
check_verify(const struct onion_desc *d, uint64_t now)
{
	int rc = onion_desc_verify(d, now);

	if (rc != 0 && rc != ONION_EEXPIRED && rc != ONION_ESIG)
		abort();
	if ((rc == ONION_EEXPIRED) != (d->not_after < now))
		abort();
	return rc;
}

/* A descriptor that verifies: at its last second too, not a second
 * after; and no single changed byte of its wire form verifies. */
static void
check_valid(const struct onion_desc *d)
{
	uint8_t w[ONION_DESC_BYTES];
	struct onion_desc x;
	int rc;

	if (onion_desc_verify(d, d->not_after) != 0 ||
	    (d->not_after < UINT64_MAX &&
	    onion_desc_verify(d, d->not_after + 1) != ONION_EEXPIRED))
		abort();
	if (onion_desc_encode(d, w) != 0)
		abort();
	for (size_t i = 0; i < sizeof(w); i++) {
		w[i] ^= (uint8_t)(1u << (i % 8));
		rc = onion_desc_decode(w, sizeof(w), &x);
		if (rc == 0 ? onion_desc_verify(&x, 0) == 0 :
		    rc != ONION_EFORMAT)
			abort();
		w[i] ^= (uint8_t)(1u << (i % 8));
	}
}

/* (a): the input as a descriptor on the wire. */
static void
fuzz_wire(const uint8_t *data, size_t size)
{
	static const struct onion_desc zero;
	uint8_t again[ONION_DESC_BYTES];
	struct onion_desc d;
	int rc;

	memset(&d, 0xa5, sizeof(d));
	rc = onion_desc_decode(data, size, &d);
	if (rc != 0 && rc != ONION_EFORMAT)
		abort();
	if ((rc == 0) != wire_ok(data, size))
		abort();
	if (rc != 0) {
		if (memcmp(&d, &zero, sizeof(d)) != 0)
			abort();
		return;
	}
	if (!same_fields(&d, data) || onion_desc_encode(&d, again) != 0 ||
	    memcmp(again, data, sizeof(again)) != 0)
		abort();
	if (check_verify(&d, DESC_NOW) == 0)
		check_valid(&d);
}

/* (b): the input as the fields of a descriptor we sign. */
static void
fuzz_signed(const uint8_t *data, size_t size)
{
	uint8_t w[ONION_DESC_BYTES], again[ONION_DESC_BYTES];
	struct onion_desc d, x;
	size_t n = size - 1 < OFF_SIG ? size - 1 : OFF_SIG;
	bool own;
	int rc;

	memset(w, 0, sizeof(w));
	memcpy(w, data + 1, n);
	if (!(data[0] & 2))
		memcpy(w, g.pk, ONION_IDBYTES);
	own = memcmp(w, g.pk, ONION_IDBYTES) == 0;
	rc = onion_desc_decode(w, sizeof(w), &d);
	if ((rc == 0) != wire_ok(w, sizeof(w)))
		abort();
	if (rc != 0) {
		/* The same fields in a struct: signing refuses them. */
		memset(&d, 0, sizeof(d));
		memcpy(d.identity, w, ONION_IDBYTES);
		d.family = w[OFF_FAMILY];
		memcpy(d.addr, w + OFF_ADDR, ONION_ADDRBYTES);
		rc = onion_desc_sign(&d, g.sk);
		if (rc != (own ? ONION_EFORMAT : ONION_EINVAL) ||
		    onion_desc_verify(&d, 0) != ONION_EFORMAT)
			abort();
		return;
	}
	rc = onion_desc_sign(&d, g.sk);
	if (!own) {
		if (rc != ONION_EINVAL || !sodium_is_zero(d.sig, ONION_SIGBYTES))
			abort();
		return;
	}
	if (rc != 0)
		abort();
	if (check_verify(&d, DESC_NOW) == ONION_ESIG ||
	    onion_desc_verify(&d, 0) != 0)
		abort();
	/* Through the wire and back: the same descriptor, still valid. */
	if (onion_desc_encode(&d, again) != 0 ||
	    memcmp(again, w, OFF_SIG) != 0 ||
	    onion_desc_decode(again, sizeof(again), &x) != 0 ||
	    memcmp(&x, &d, sizeof(d)) != 0 || onion_desc_verify(&x, 0) != 0)
		abort();
	/* One byte changed, chosen by the input: never valid. */
	again[data[size - 1] % ONION_DESC_BYTES] ^=
	    (uint8_t)(data[0] >> 2 | 1);
	rc = onion_desc_decode(again, sizeof(again), &x);
	if (rc == 0 ? onion_desc_verify(&x, 0) == 0 : rc != ONION_EFORMAT)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!g.ready)
		setup();
	fuzz_wire(data, size);
	if (size > 0 && (data[0] & 1))
		fuzz_signed(data, size);
	return 0;
}
