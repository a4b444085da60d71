/*
 * fuzz_onion.c - onion paths (crypto/onion.h) on arbitrary bytes.
 *
 * State is made once from the known-answer inputs of
 * tests/unit/test_onion.c (onion secrets 32 x (0x10 + k), ephemerals
 * 32 x (0xa0 + k), a 3-hop path). The first input byte chooses:
 *  bit 0: the rest is a BUILD message (cut or zero-padded to 1984 bytes)
 *         for onion_build_open() with hop 0's key; or the first 200 bytes
 *         of the rest are a record plaintext, sealed by hand for hop 0, so
 *         the checks after the tag get fuzzed;
 *  bit 1: the cell size (small or large) for the rest, zero-padded or
 *         cut, given to onion_cell_parse(), to the exit's
 *         onion_cell_peel_fwd() and to the origin's onion_cell_open_back().
 * Invariants (abort() if broken): every result is one the header lists; a
 * failed open leaves msg unchanged; a record opens exactly when its flags
 * are 0 or 1 and its reserved bytes zero, and gives back its fields; a
 * parsed cell's body lies inside it and formats back to the same bytes
 * (the digest aside); counters move by one per cell; a cell the origin
 * refuses leaves its running digest as it was.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/onion.h"
#include "tests/fuzz/fuzz.h"

static struct {
	bool ready;
	uint8_t sk[3][ONION_SECRETKEYBYTES];
	struct onion_build_hop hops[3];
	struct onion_hop_keys keys[3];
	struct onion_dir exit_fwd, origin_back;
} g;

static uint8_t msg[ONION_BUILD_BYTES], copy[ONION_BUILD_BYTES];
static uint8_t cell[ONION_CELL_LARGE_BYTES], again[ONION_CELL_LARGE_BYTES];

static void
setup(void)
{
	uint8_t e_sk[3][ONION_SECRETKEYBYTES], unused[5 * ONION_RECORD_BYTES];

	if (sodium_init() < 0)
		abort();
	for (int k = 0; k < 3; k++) {
		memset(g.sk[k], 0x10 + k, ONION_SECRETKEYBYTES);
		memset(e_sk[k], 0xa0 + k, ONION_SECRETKEYBYTES);
		crypto_scalarmult_base(g.hops[k].onion_pk, g.sk[k]);
	}
	g.hops[2].instr.flags = ONION_FLAG_EXIT;
	memset(unused, 0, sizeof(unused));
	if (onion_build_make_with_ephemeral(g.hops, 3,
	    (const uint8_t (*)[ONION_SECRETKEYBYTES])e_sk, unused, msg,
	    g.keys) != 0)
		abort();
	onion_dir_init(&g.exit_fwd, g.keys[2].k_dig);
	onion_dir_init(&g.origin_back, g.keys[2].k_dig);
	g.ready = true;
}

/* Record 0 = e_pub | AEAD under hop 0's k_rec (docs/onion.md "Keys"). */
static void
seal_for_hop0(const uint8_t plain[ONION_PLAIN_BYTES])
{
	static const uint8_t nonce0[12];
	uint8_t e_sk[32], e_pub[32], s[32], h[32], hin[64], lab[35], k[32];

	memset(msg, 0, sizeof(msg));
	memset(e_sk, 0x77, sizeof(e_sk));
	crypto_scalarmult_base(e_pub, e_sk);
	if (crypto_scalarmult(s, e_sk, g.hops[0].onion_pk) != 0)
		abort();
	memcpy(hin, e_pub, 32);
	memcpy(hin + 32, g.hops[0].onion_pk, 32);
	crypto_generichash(h, 32, hin, 64, NULL, 0);
	memcpy(lab, h, 32);
	memcpy(lab + 32, "rec", 3);
	crypto_generichash(k, 32, lab, sizeof(lab), s, 32);
	memcpy(msg, e_pub, 32);
	crypto_aead_chacha20poly1305_ietf_encrypt(msg + 32, NULL, plain,
	    ONION_PLAIN_BYTES, e_pub, 32, NULL, nonce0, k);
}

static void
fuzz_build(const uint8_t *data, size_t size, bool sealed)
{
	uint8_t plain[ONION_PLAIN_BYTES] = { 0 }, filler[ONION_RECORD_BYTES];
	struct onion_instr in;
	struct onion_hop_keys keys;
	bool want;
	int rc;

	memset(msg, 0, sizeof(msg));
	if (sealed) {
		memcpy(plain, data, size < sizeof(plain) ? size : sizeof(plain));
		seal_for_hop0(plain);
	} else
		memcpy(msg, data, size < sizeof(msg) ? size : sizeof(msg));
	memcpy(copy, msg, sizeof(msg));
	memset(filler, 0xee, sizeof(filler));
	rc = onion_build_open_with_filler(g.sk[0], msg, filler, &in, &keys);
	if (rc != 0 && rc != ONION_EKEY && rc != ONION_EAUTH &&
	    rc != ONION_EFORMAT)
		abort();
	if (rc != 0 && memcmp(msg, copy, sizeof(msg)) != 0)
		abort();
	if (!sealed)
		return;
	want = plain[0] <= 1 && sodium_is_zero(plain + ONION_INSTR_BYTES,
	    ONION_RESERVED_BYTES);
	if ((rc == 0) != want || (rc != 0 && rc != ONION_EFORMAT))
		abort();
	if (rc == 0 && (in.flags != plain[0] ||
	    memcmp(in.next_id, plain + 1, 32) != 0 || in.family != plain[33] ||
	    memcmp(in.addr, plain + 34, 16) != 0 ||
	    in.port != (uint16_t)(plain[50] << 8 | plain[51])))
		abort();
	onion_hop_keys_wipe(&keys);
}

static void
fuzz_parse(size_t size)
{
	const uint8_t *body;
	uint32_t stream;
	size_t len;
	uint8_t cmd;
	int rc;

	rc = onion_cell_parse(cell, size, &cmd, &stream, &body, &len);
	if (rc != 0 && rc != ONION_EFORMAT && rc != ONION_EPADDING)
		abort();
	if (rc != 0)
		return;
	if (body < cell + ONION_CELL_HEADER_BYTES ||
	    body + len > cell + size ||
	    onion_cell_format(again, size, cmd, stream, body, len) != 0 ||
	    memcmp(again, cell, 2) != 0 || memcmp(again + 10, cell + 10,
	    size - 10) != 0)
		abort();
}

static void
fuzz_layers(size_t size)
{
	crypto_generichash_state before;
	uint64_t ctr = g.exit_fwd.ctr;
	int rc;

	memcpy(again, cell, size);
	rc = onion_cell_peel_fwd(&g.keys[2], &g.exit_fwd, again, size);
	if ((rc != ONION_CELL_RECOGNIZED && rc != ONION_CELL_PASS_ON) ||
	    g.exit_fwd.ctr != ctr + 1)
		abort();
	before = g.origin_back.dig;
	ctr = g.origin_back.ctr;
	memcpy(again, cell, size);
	rc = onion_cell_open_back(g.keys, 3, &g.origin_back, again, size);
	if ((rc != 0 && rc != ONION_EAUTH) || g.origin_back.ctr != ctr + 1 ||
	    (rc != 0 && memcmp(&before, &g.origin_back.dig,
	    sizeof(before)) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t csize;

	if (!g.ready)
		setup();
	if (size == 0)
		return 0;
	fuzz_build(data + 1, size - 1, data[0] & 1);
	csize = data[0] & 2 ? ONION_CELL_LARGE_BYTES : ONION_CELL_SMALL_BYTES;
	memset(cell, 0, sizeof(cell));
	memcpy(cell, data + 1, size - 1 < csize ? size - 1 : csize);
	fuzz_parse(csize);
	fuzz_layers(csize);
	return 0;
}
