/* test_relays.c - node/relays.h's core, without a loop or links. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/relays.h"
#include "tests/tap.h"

#define NOW 1700000000ull

static void
make_id(struct identity *id)
{
	memset(id, 0, sizeof(*id));
	crypto_sign_keypair(id->pk, id->sk);
}

/* A valid descriptor of a fresh identity, expiring at not_after. */
static void
make_desc(struct onion_desc *d, uint64_t not_after)
{
	struct identity id;
	uint8_t sk[32];

	make_id(&id);
	memset(d, 0, sizeof(*d));
	memcpy(d->identity, id.pk, 32);
	crypto_box_keypair(d->onion_pk, sk);
	d->not_after = not_after;
	d->family = 4;
	d->addr[0] = 127;
	d->addr[3] = 1;
	d->port = 4000;
	if (onion_desc_sign(d, id.sk) != 0)
		abort();
	sodium_memzero(&id, sizeof(id));
	sodium_memzero(sk, sizeof(sk));
}

static void
test_own_and_keys(void)
{
	struct identity id;
	struct relays *r;
	const struct onion_desc *own = NULL;
	uint8_t pk1[32], pk2[32], sk[32], pub[32], other[32];

	make_id(&id);
	TAP_OK(relays_new(&r, NULL, &id) == 0, "relays_new without a loop");
	TAP_OK(relays_own(r) == NULL, "no descriptor before an address");
	TAP_OK(relays_set_address(r, "0.0.0.0:4000", NOW) == 1 &&
	    relays_own(r) == NULL, "0.0.0.0: nothing announced");
	TAP_OK(relays_set_address(r, "[::]:4000", NOW) == 1 &&
	    relays_own(r) == NULL, ":: : nothing announced");
	TAP_OK(relays_set_address(r, "localhost:4000", NOW) == 1,
	    "a name: nothing announced");
	TAP_OK(relays_set_address(r, "[::1]:4001", NOW) == 0 &&
	    (own = relays_own(r)) != NULL && own->family == 6 &&
	    own->port == 4001 && own->addr[15] == 1, "[::1]: family 6");
	TAP_OK(relays_set_address(r, "127.0.0.1:4000", NOW) == 0 &&
	    (own = relays_own(r)) != NULL, "127.0.0.1: announced");
	TAP_OK(onion_desc_verify(own, NOW) == 0 && own->family == 4 &&
	    own->port == 4000 && own->addr[0] == 127 &&
	    own->not_after == NOW + RELAYS_DESC_LIFETIME &&
	    memcmp(own->identity, id.pk, 32) == 0,
	    "our descriptor verifies, 48 h, our identity and address");
	memcpy(pk1, own->onion_pk, 32);
	TAP_OK(relays_onion_secret(r, pk1, sk) == 0 &&
	    crypto_scalarmult_base(pub, sk) == 0 && memcmp(pub, pk1, 32) == 0,
	    "the current secret matches the announced key");
	TAP_OK(relays_add(r, own, NOW) == 1 && relays_count(r) == 0,
	    "our own descriptor is never cached");

	TAP_OK(relays_rotate(r, NOW + 10, 5.0) == 0, "rotate");
	own = relays_own(r);
	memcpy(pk2, own->onion_pk, 32);
	TAP_OK(memcmp(pk1, pk2, 32) != 0 && own->not_after ==
	    NOW + 10 + RELAYS_DESC_LIFETIME && onion_desc_verify(own, NOW) == 0,
	    "a new key, re-signed");
	TAP_OK(relays_onion_secret(r, pk1, sk) == 0 &&
	    relays_onion_secret(r, pk2, sk) == 0,
	    "previous and current keys both found");
	TAP_OK(relays_key_age(r, 12.0) == 7.0, "key age from the rotation");
	TAP_OK(relays_rotate(r, NOW + 20, 6.0) == 0 &&
	    relays_onion_secret(r, pk1, sk) == -1,
	    "two rotations later the first key is gone");
	memset(other, 7, sizeof(other));
	TAP_OK(relays_onion_secret(r, other, sk) == -1, "an unknown key: -1");
	sodium_memzero(sk, sizeof(sk));
	relays_free(r);
	relays_free(NULL);
	sodium_memzero(&id, sizeof(id));
}

static void
test_cache(void)
{
	struct identity id;
	struct relays *r;
	struct onion_desc d, d2, bad, out[8];
	size_t i, j, n;
	int distinct;

	make_id(&id);
	if (relays_new(&r, NULL, &id) != 0)
		abort();
	make_desc(&d, NOW + 100);
	TAP_OK(relays_add(r, &d, NOW) == 0 && relays_count(r) == 1, "added");
	TAP_OK(relays_add(r, &d, NOW) == 1 && relays_count(r) == 1,
	    "the same again: not taken");
	bad = d;
	bad.sig[0] ^= 1;
	TAP_OK(relays_add(r, &bad, NOW) == ONION_ESIG, "a bad signature");
	TAP_OK(relays_add(r, &d, NOW + 101) == ONION_EEXPIRED, "expired");
	bad = d;
	bad.family = 5;
	TAP_OK(relays_add(r, &bad, NOW) < 0, "a bad family");

	/* a newer descriptor of the same identity replaces */
	memset(&d2, 0, sizeof(d2));
	TAP_OK(relays_pick(r, 1, &d2) == 1 && memcmp(&d2, &d, sizeof(d)) == 0,
	    "pick gives it back");
	relays_expire(r, NOW + 101);
	TAP_OK(relays_count(r) == 0, "expire drops it");

	for (i = 0; i < RELAYS_CACHE_MAX; i++) {
		make_desc(&d, NOW + 1000 + i);
		if (relays_add(r, &d, NOW) != 0)
			break;
	}
	TAP_OK(i == RELAYS_CACHE_MAX && relays_count(r) == RELAYS_CACHE_MAX,
	    "the cache fills to %d", RELAYS_CACHE_MAX);
	make_desc(&d, NOW + 500);
	TAP_OK(relays_add(r, &d, NOW) == 1, "full: an older one is not taken");
	make_desc(&d, NOW + 5000);
	TAP_OK(relays_add(r, &d, NOW) == 0 &&
	    relays_count(r) == RELAYS_CACHE_MAX, "full: a fresher one is");
	relays_expire(r, NOW + 1002);
	TAP_OK(relays_count(r) == RELAYS_CACHE_MAX - 1,
	    "the soonest to expire went out (the next one expires)");

	n = relays_pick(r, 8, out);
	distinct = n == 8;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (memcmp(out[i].identity, out[j].identity, 32) == 0)
				distinct = 0;
	TAP_OK(distinct, "pick: 8 distinct");
	relays_free(r);

	/* pick more than held */
	if (relays_new(&r, NULL, &id) != 0)
		abort();
	for (i = 0; i < 3; i++) {
		make_desc(&d, NOW + 100);
		(void)relays_add(r, &d, NOW);
	}
	n = relays_pick(r, 8, out);
	distinct = n == 3;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (memcmp(out[i].identity, out[j].identity, 32) == 0)
				distinct = 0;
	TAP_OK(distinct, "pick 8 of 3: all 3, distinct");
	TAP_OK(relays_pick(r, 0, out) == 0, "pick 0");
	relays_free(r);
	sodium_memzero(&id, sizeof(id));
}

static void
test_gossip(void)
{
	struct identity ida, idb;
	struct relays *a, *b;
	struct link_msg m;
	uint8_t buf[LINK_MSG_MAX_BYTES];
	struct link_msg back;
	const char *why;
	size_t len, i;
	struct onion_desc d;
	int rc;

	make_id(&ida);
	make_id(&idb);
	if (relays_new(&a, NULL, &ida) != 0 || relays_new(&b, NULL, &idb) != 0)
		abort();
	TAP_OK(relays_build_msg(a, &m) == 0, "nothing to send yet");
	(void)relays_set_address(a, "127.0.0.1:4000", NOW);
	for (i = 0; i < 20; i++) {
		make_desc(&d, NOW + 100);
		(void)relays_add(a, &d, NOW);
	}
	TAP_OK(relays_build_msg(a, &m) == LINK_RELAYS_MAX &&
	    m.type == LINK_MSG_RELAYS && m.relays.n == LINK_RELAYS_MAX &&
	    memcmp(&m.relays.descs[0], relays_own(a), sizeof(d)) == 0,
	    "RELAYS: ours first, then 11 cached");
	rc = link_msg_encode(&m, buf, sizeof(buf), &len);
	TAP_OK(rc == 0 && link_msg_decode(LINK_MSG_RELAYS, buf, len, &back) ==
	    0 && back.relays.n == LINK_RELAYS_MAX, "it encodes and decodes");

	TAP_OK(relays_receive(b, 7, &back, NOW, 100.0, &why) == RELAYS_READ &&
	    relays_count(b) == LINK_RELAYS_MAX, "b takes all 12");
	TAP_OK(relays_receive(b, 7, &back, NOW, 104.0, &why) == RELAYS_IGNORED,
	    "a second within 5 s is ignored");
	TAP_OK(relays_receive(b, 8, &back, NOW, 104.0, &why) == RELAYS_READ,
	    "another link's is read");
	TAP_OK(relays_receive(b, 7, &back, NOW, 105.0, &why) == RELAYS_READ,
	    "5 s later it is read again");
	for (i = 0; i < RELAYS_RATE_DROP - 3; i++)
		rc = relays_receive(b, 7, &back, NOW, 105.5, &why);
	TAP_OK(rc == RELAYS_IGNORED, "up to %d in a window: ignored",
	    RELAYS_RATE_DROP);
	TAP_OK(relays_receive(b, 7, &back, NOW, 129.0, &why) == RELAYS_DROP &&
	    why != NULL, "one more: drop the link");
	relays_forget(b, 7);
	TAP_OK(relays_receive(b, 7, &back, NOW, 130.0, &why) == RELAYS_READ,
	    "a forgotten handle starts afresh");

	/* invalid descriptors: a few are dropped quietly, more drop the link */
	for (i = 0; i < back.relays.n; i++)
		back.relays.descs[i].sig[1] ^= 1;
	TAP_OK(relays_receive(b, 9, &back, NOW, 200.0, &why) == RELAYS_DROP &&
	    why != NULL && relays_count(b) == LINK_RELAYS_MAX,
	    "12 forged descriptors: none taken, the link dropped");
	back.relays.n = RELAYS_BAD_MAX;
	TAP_OK(relays_receive(b, 10, &back, NOW, 200.0, &why) == RELAYS_READ,
	    "%d invalid ones: dropped quietly", RELAYS_BAD_MAX);
	relays_free(a);
	relays_free(b);
	sodium_memzero(&ida, sizeof(ida));
	sodium_memzero(&idb, sizeof(idb));
}

/* A one-hop BUILD (exit) for onion key pk. */
static void
make_build(const uint8_t pk[32], uint8_t msg[ONION_BUILD_BYTES])
{
	struct onion_build_hop hop;
	struct onion_hop_keys keys;

	memset(&hop, 0, sizeof(hop));
	memcpy(hop.onion_pk, pk, 32);
	hop.instr.flags = ONION_FLAG_EXIT;
	if (onion_build_make(&hop, 1, msg, &keys) != 0)
		abort();
	onion_hop_keys_wipe(&keys);
}

static void
test_open_build(void)
{
	uint8_t msg[ONION_BUILD_BYTES], copy[ONION_BUILD_BYTES], old[32];
	struct onion_hop_keys keys;
	struct onion_instr in;
	struct identity id;
	struct relays *r;
	int rc, i;

	make_id(&id);
	if (relays_new(&r, NULL, &id) != 0 ||
	    relays_set_address(r, "127.0.0.1:4000", NOW) != 0)
		abort();
	memcpy(old, relays_own(r)->onion_pk, 32);
	make_build(old, msg);
	memcpy(copy, msg, sizeof(msg));
	TAP_OK(relays_open_build(r, msg, &in, &keys, NOW, 1.0) == 0 &&
	    in.flags == ONION_FLAG_EXIT, "a BUILD for our onion key opens");
	TAP_OK(relays_open_build(r, copy, &in, &keys, NOW, 1.0) ==
	    RELAYS_REPLAY, "the same BUILD again: a replay");
	make_build(old, msg);
	memcpy(copy, msg, sizeof(msg));
	TAP_OK(relays_rotate(r, NOW, 2.0) == 0 &&
	    relays_open_build(r, msg, &in, &keys, NOW, 2.0) == 0,
	    "after a rotation the previous key still opens");
	TAP_OK(relays_open_build(r, copy, &in, &keys, NOW, 2.0) ==
	    RELAYS_REPLAY, "... and still refuses its replays");
	make_build(old, msg);
	TAP_OK(relays_rotate(r, NOW, 3.0) == 0 &&
	    relays_open_build(r, msg, &in, &keys, NOW, 3.0) == ONION_EAUTH,
	    "two rotations later it is gone: EAUTH");
	msg[40] ^= 1;
	TAP_OK(relays_open_build(r, msg, &in, &keys, NOW, 3.0) == ONION_EAUTH,
	    "an altered BUILD: EAUTH");
	relays_set_replay_max(r, 64);
	memcpy(old, relays_own(r)->onion_pk, 32);
	for (i = 0, rc = 0; i < 64 && rc == 0; i++) {
		make_build(old, msg);
		rc = relays_open_build(r, msg, &in, &keys, NOW, 4.0);
	}
	TAP_OK(rc == 0 && memcmp(old, relays_own(r)->onion_pk, 32) != 0,
	    "as many BUILDs as a key remembers: it rotates, the set stays "
	    "bounded");
	onion_hop_keys_wipe(&keys);
	relays_free(r);
	sodium_memzero(&id, sizeof(id));
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_own_and_keys();
	test_cache();
	test_gossip();
	test_open_build();
	return tap_done();
}
