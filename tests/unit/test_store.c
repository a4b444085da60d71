/*
 * test_store.c - unit tests for store/: round trips, kinds, LRU eviction,
 * STORE_EFULL atomicity, crash recovery of TEMP blocks, pending records,
 * locking, and damaged or unusable data directories.
 *
 * Some checks open data.mdb with LMDB directly to damage it on purpose;
 * they depend on the layout in docs/store.md.
 */
#include "store/store.h"
#include "tests/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#define BS STORE_BLOCK_SIZE
#define HEAD 32752	/* bytes of a block in "blocks"; see docs/store.md */

static char test_root[] = "/tmp/umbra-test-store-XXXXXX";

/* Makes root/name (a fresh directory) and returns its path in buf. */
static const char *
test_dir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", test_root, name);
	if (mkdir(buf, 0700) != 0)
		perror(buf);
	return buf;
}

/* Deterministic key and bytes for a seed; distinct seeds give distinct
 * keys, in an order unrelated to the seeds. */
static void
block_make(unsigned seed, uint8_t key[STORE_KEY_SIZE], uint8_t *data)
{
	uint32_t x = seed * 2654435761u ^ 0x9e3779b9u;
	size_t i;

	for (i = 0; i < STORE_KEY_SIZE; i++) {
		x = x * 1103515245u + 12345u;
		key[i] = (uint8_t)(x >> 16);
	}
	memcpy(key + 4, &seed, sizeof(seed));
	for (i = 0; data != NULL && i < BS; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (uint8_t)(x >> 16);
	}
}

static int
put_seeds(struct store *st, const unsigned *seeds, size_t n,
    enum store_kind kind)
{
	struct store_block *b = calloc(n, sizeof(*b));
	uint8_t *data = malloc(n * BS);
	size_t i;
	int rc = STORE_ENOMEM;

	if (b != NULL && data != NULL) {
		for (i = 0; i < n; i++) {
			block_make(seeds[i], b[i].key, data + i * BS);
			b[i].data = data + i * BS;
		}
		rc = store_put_blocks(st, b, n, kind);
	}
	free(b);
	free(data);
	return rc;
}

static int
put_range(struct store *st, unsigned first, unsigned last,
    enum store_kind kind)
{
	unsigned seeds[64];
	size_t n = 0;

	while (first <= last && n < 64)
		seeds[n++] = first++;
	return put_seeds(st, seeds, n, kind);
}

/* 1 if seed's block reads back byte for byte with the given kind. Reading
 * a CACHE block marks it recently used. */
static int
block_ok(struct store *st, unsigned seed, enum store_kind kind)
{
	uint8_t key[STORE_KEY_SIZE];
	uint8_t *want = malloc(BS), *got = malloc(BS);
	enum store_kind k = (enum store_kind)-1;
	int ok = 0;

	if (want != NULL && got != NULL) {
		block_make(seed, key, want);
		ok = store_get_block(st, key, got, &k) == 0 &&
		    memcmp(want, got, BS) == 0 && k == kind;
	}
	free(want);
	free(got);
	return ok;
}

/* Presence without a read, so the LRU order is left alone. */
static int
has(struct store *st, unsigned seed)
{
	uint8_t key[STORE_KEY_SIZE];

	block_make(seed, key, NULL);
	return store_has_block(st, key);
}

static int
stats4(struct store *st, uint64_t cache, uint64_t temp, uint64_t client,
    uint64_t local)
{
	struct store_stats s;

	return store_get_stats(st, &s) == 0 && s.cache_blocks == cache &&
	    s.temp_blocks == temp && s.client_blocks == client &&
	    s.local_blocks == local &&
	    s.blocks == cache + temp + client + local &&
	    s.bytes_used == s.blocks * BS;
}

static int
stats_are(struct store *st, uint64_t cache, uint64_t temp, uint64_t client)
{
	return stats4(st, cache, temp, client, 0);
}

static uint64_t
evictions(struct store *st)
{
	struct store_stats s;

	return store_get_stats(st, &s) == 0 ? s.evictions : UINT64_MAX;
}

static void
test_args(void)
{
	struct store *st = (struct store *)1;
	char dir[256], path[300];
	uint8_t key[STORE_KEY_SIZE] = { 0 };
	struct store_block b = { { 0 }, NULL };
	static const uint8_t zero[BS];

	test_dir(dir, sizeof(dir), "args");
	TAP_OK(store_open(&st, dir, BS - 1) == STORE_EINVAL,
	    "max_bytes below one block is STORE_EINVAL");
	TAP_OK(st == NULL, "failed open leaves *out NULL");
	TAP_OK(store_open(&st, dir, 0) == STORE_EINVAL, "max_bytes 0 is EINVAL");
	snprintf(path, sizeof(path), "%s/absent", dir);
	TAP_OK(store_open(&st, path, 4 * BS) == STORE_EINVAL,
	    "missing directory is STORE_EINVAL");
	snprintf(path, sizeof(path), "%s/file", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	TAP_OK(store_open(&st, path, 4 * BS) == STORE_EINVAL,
	    "a regular file as dir is STORE_EINVAL");
	if (!TAP_OK(store_open(&st, dir, 4 * BS) == 0, "open fresh store"))
		return;
	TAP_OK(store_put_blocks(st, &b, 1, STORE_KIND_CACHE) == STORE_EINVAL,
	    "put with NULL data is EINVAL");
	b.data = zero;
	TAP_OK(store_put_blocks(st, &b, 1, (enum store_kind)4) == STORE_EINVAL,
	    "put with a bad kind is EINVAL");
	TAP_OK(store_put_blocks(st, NULL, 0, STORE_KIND_CACHE) == 0,
	    "put of no blocks is 0");
	TAP_OK(store_get_block(st, key, NULL, NULL) == STORE_EINVAL,
	    "get with NULL out is EINVAL");
	TAP_OK(store_add_pending(st, key, NULL) == STORE_EINVAL,
	    "add_pending with NULL uri is EINVAL");
	TAP_OK(stats_are(st, 0, 0, 0), "nothing written by bad calls");
	store_close(st);
	store_close(NULL);
}

static void
test_roundtrip(void)
{
	struct store *st;
	struct store_stats s;
	char dir[256];
	uint8_t key[STORE_KEY_SIZE], *want = malloc(BS), *got = malloc(BS);
	unsigned i;
	int ok = 1;

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "rt"),
	    16 * BS) == 0, "open round-trip store"))
		goto out;
	TAP_OK(put_range(st, 1, 5, STORE_KIND_CACHE) == 0,
	    "put 5 blocks in one call");
	for (i = 1; i <= 5; i++)
		ok &= block_ok(st, i, STORE_KIND_CACHE);
	TAP_OK(ok, "5 blocks read back byte for byte as CACHE");
	block_make(3, key, want);
	memset(got, 0, BS);
	TAP_OK(store_get_block(st, key, got, NULL) == 0 &&
	    memcmp(got + HEAD, want + HEAD, BS - HEAD) == 0 &&
	    memcmp(got, want, HEAD) == 0,
	    "last 16 bytes (kept in meta) and first 32752 intact");
	TAP_OK(has(st, 1) == 0, "has_block finds a stored block");
	TAP_OK(has(st, 99) == STORE_ENOTFOUND, "has_block: absent block");
	block_make(99, key, NULL);
	TAP_OK(store_get_block(st, key, got, NULL) == STORE_ENOTFOUND,
	    "get of an absent block is ENOTFOUND");
	TAP_OK(store_get_stats(st, &s) == 0 && s.blocks == 5 &&
	    s.cache_blocks == 5 && s.temp_blocks == 0 &&
	    s.client_blocks == 0 && s.bytes_used == 5 * BS &&
	    s.bytes_max == 16 * BS && s.pending == 0 && s.evictions == 0,
	    "stats after 5 puts");
	store_close(st);
out:
	free(want);
	free(got);
}

static void
test_kinds(void)
{
	struct store *st;
	struct store_block b;
	char dir[256];
	uint8_t *other = malloc(BS);
	unsigned dup[] = { 2, 2, 3, 2 };

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "kinds"),
	    16 * BS) == 0, "open kinds store"))
		goto out;
	TAP_OK(put_range(st, 1, 1, STORE_KIND_CACHE) == 0 &&
	    put_range(st, 1, 1, STORE_KIND_CACHE) == 0 && stats_are(st, 1, 0, 0),
	    "duplicate CACHE put stores one block");
	TAP_OK(put_range(st, 1, 1, STORE_KIND_TEMP) == 0 &&
	    stats_are(st, 0, 1, 0), "put TEMP raises CACHE to TEMP");
	TAP_OK(put_range(st, 1, 1, STORE_KIND_CACHE) == 0 &&
	    stats_are(st, 0, 1, 0), "put CACHE does not lower TEMP");
	TAP_OK(put_range(st, 1, 1, STORE_KIND_CLIENT) == 0 &&
	    stats_are(st, 0, 0, 1), "put CLIENT raises TEMP to CLIENT");
	TAP_OK(put_range(st, 1, 1, STORE_KIND_TEMP) == 0 &&
	    put_range(st, 1, 1, STORE_KIND_CACHE) == 0 && stats_are(st, 0, 0, 1),
	    "put TEMP or CACHE does not lower CLIENT");
	block_make(1, b.key, NULL);
	memset(other, 0x5a, BS);
	b.data = other;
	TAP_OK(store_put_blocks(st, &b, 1, STORE_KIND_CLIENT) == 0 &&
	    block_ok(st, 1, STORE_KIND_CLIENT),
	    "a present block keeps its bytes");
	TAP_OK(put_seeds(st, dup, 4, STORE_KIND_CACHE) == 0 &&
	    stats_are(st, 2, 0, 1), "duplicates inside one call stored once");
	TAP_OK(block_ok(st, 2, STORE_KIND_CACHE) &&
	    block_ok(st, 3, STORE_KIND_CACHE), "duplicates read back");
	store_close(st);
out:
	free(other);
}

static void
test_release_temp(void)
{
	struct store *st;
	char dir[256];

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "release"),
	    6 * BS) == 0, "open release store"))
		return;
	TAP_OK(put_range(st, 1, 2, STORE_KIND_CLIENT) == 0 &&
	    put_range(st, 3, 5, STORE_KIND_TEMP) == 0 &&
	    put_range(st, 6, 6, STORE_KIND_CACHE) == 0 && stats_are(st, 1, 3, 2),
	    "2 CLIENT, 3 TEMP, 1 CACHE");
	TAP_OK(store_release_temp(st) == 0 && stats_are(st, 4, 0, 2),
	    "release_temp turns every TEMP block into CACHE, and only them");
	TAP_OK(put_range(st, 7, 10, STORE_KIND_CLIENT) == 0 &&
	    has(st, 3) == STORE_ENOTFOUND && has(st, 6) == STORE_ENOTFOUND &&
	    stats_are(st, 0, 0, 6), "released blocks are evictable");
	TAP_OK(store_release_temp(st) == 0 && stats_are(st, 0, 0, 6),
	    "release_temp with no TEMP block changes nothing");
	store_close(st);
}

static void
test_set_kind(void)
{
	struct store *st;
	char dir[256];
	uint8_t keys[3][STORE_KEY_SIZE];
	size_t missing = 99;

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "setkind"),
	    3 * BS) == 0, "open set_kind store"))
		return;
	TAP_OK(put_range(st, 1, 3, STORE_KIND_CLIENT) == 0,
	    "fill with CLIENT blocks");
	TAP_OK(put_range(st, 4, 4, STORE_KIND_CACHE) == STORE_EFULL,
	    "full of CLIENT: EFULL");
	block_make(1, keys[0], NULL);
	block_make(50, keys[1], NULL);
	block_make(2, keys[2], NULL);
	TAP_OK(store_set_kind(st, (const uint8_t (*)[STORE_KEY_SIZE])keys, 2,
	    STORE_KIND_CACHE, &missing) == 0 && missing == 1,
	    "set_kind counts the missing key");
	TAP_OK(stats_are(st, 1, 0, 2) && block_ok(st, 1, STORE_KIND_CACHE),
	    "set_kind lowers CLIENT to CACHE");
	TAP_OK(store_set_kind(st, (const uint8_t (*)[STORE_KEY_SIZE])keys + 2,
	    1, STORE_KIND_TEMP, NULL) == 0 && stats_are(st, 1, 1, 1),
	    "set_kind CLIENT to TEMP, missing NULL");
	TAP_OK(store_set_kind(st, (const uint8_t (*)[STORE_KEY_SIZE])keys, 1,
	    STORE_KIND_CACHE, &missing) == 0 && missing == 0 &&
	    stats_are(st, 1, 1, 1), "set_kind to the same kind changes nothing");
	TAP_OK(store_set_kind(st, (const uint8_t (*)[STORE_KEY_SIZE])keys + 1,
	    1, STORE_KIND_CLIENT, &missing) == 0 && missing == 1 &&
	    stats_are(st, 1, 1, 1), "set_kind of only absent keys");
	TAP_OK(put_range(st, 4, 4, STORE_KIND_CACHE) == 0 &&
	    has(st, 1) == STORE_ENOTFOUND && has(st, 4) == 0,
	    "a block set to CACHE is evictable");
	TAP_OK(store_set_kind(st, (const uint8_t (*)[STORE_KEY_SIZE])keys + 2,
	    1, STORE_KIND_CACHE, NULL) == 0 && stats_are(st, 2, 0, 1),
	    "set_kind TEMP to CACHE");
	TAP_OK(put_range(st, 5, 6, STORE_KIND_CACHE) == 0 &&
	    has(st, 4) == STORE_ENOTFOUND && has(st, 2) == STORE_ENOTFOUND &&
	    stats_are(st, 2, 0, 1) && evictions(st) == 3,
	    "blocks set to CACHE go in LRU order");
	store_close(st);
}

/* LOCAL: the reader's own fetches; evicted with CACHE, below it. */
static void
test_local(void)
{
	struct store *st;
	char dir[256];
	uint8_t key[STORE_KEY_SIZE];
	unsigned one = 1;

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "local"),
	    4 * BS) == 0, "open 4-block store for LOCAL"))
		return;
	TAP_OK(put_range(st, 1, 2, STORE_KIND_LOCAL) == 0 &&
	    stats4(st, 0, 0, 0, 2) && block_ok(st, 1, STORE_KIND_LOCAL),
	    "put 2 LOCAL blocks, counted as LOCAL");
	TAP_OK(put_seeds(st, &one, 1, STORE_KIND_CACHE) == 0 &&
	    stats4(st, 1, 0, 0, 1) && block_ok(st, 1, STORE_KIND_CACHE),
	    "put CACHE raises LOCAL to CACHE (a relay's copy is servable)");
	TAP_OK(put_seeds(st, &one, 1, STORE_KIND_LOCAL) == 0 &&
	    stats4(st, 1, 0, 0, 1), "put LOCAL does not lower CACHE");
	TAP_OK(put_range(st, 3, 3, STORE_KIND_CACHE) == 0 &&
	    put_range(st, 4, 4, STORE_KIND_CLIENT) == 0 &&
	    block_ok(st, 2, STORE_KIND_LOCAL) &&
	    put_range(st, 5, 5, STORE_KIND_LOCAL) == 0 &&
	    has(st, 1) == STORE_ENOTFOUND && has(st, 2) == 0,
	    "one LRU order: a LOCAL block read outlives an older CACHE one");
	TAP_OK(put_range(st, 6, 7, STORE_KIND_TEMP) == 0 &&
	    has(st, 3) == STORE_ENOTFOUND && has(st, 2) == STORE_ENOTFOUND &&
	    stats4(st, 0, 2, 1, 1) && evictions(st) == 3,
	    "LOCAL blocks are evicted like CACHE ones");
	store_close(st);
	TAP_OK(store_open(&st, dir, 4 * BS) == 0 && stats4(st, 2, 0, 1, 1) &&
	    block_ok(st, 5, STORE_KIND_LOCAL),
	    "LOCAL counted and kept across a reopen (TEMP became CACHE)");
	block_make(5, key, NULL);
	TAP_OK(store_del_block(st, key) == 0 && stats4(st, 2, 0, 1, 0),
	    "a LOCAL block can be removed");
	store_close(st);
}

static void
test_lru(void)
{
	struct store *st;
	char dir[256];
	unsigned again = 4;

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "lru"),
	    4 * BS) == 0, "open 4-block store"))
		return;
	TAP_OK(put_range(st, 1, 4, STORE_KIND_CACHE) == 0 &&
	    stats_are(st, 4, 0, 0), "put 4 CACHE blocks");
	TAP_OK(block_ok(st, 1, STORE_KIND_CACHE), "read the oldest");
	TAP_OK(put_range(st, 5, 5, STORE_KIND_CACHE) == 0, "put a 5th");
	TAP_OK(has(st, 2) == STORE_ENOTFOUND, "the second-oldest is evicted");
	TAP_OK(has(st, 1) == 0 && has(st, 3) == 0 && has(st, 4) == 0 &&
	    has(st, 5) == 0, "the read block and the rest survive");
	TAP_OK(stats_are(st, 4, 0, 0) && evictions(st) == 1,
	    "one eviction counted");
	TAP_OK(put_range(st, 6, 6, STORE_KIND_CACHE) == 0 &&
	    has(st, 3) == STORE_ENOTFOUND && has(st, 1) == 0,
	    "next eviction takes the next oldest");
	TAP_OK(put_seeds(st, &again, 1, STORE_KIND_CACHE) == 0 &&
	    put_range(st, 7, 7, STORE_KIND_CACHE) == 0 &&
	    has(st, 1) == STORE_ENOTFOUND && has(st, 4) == 0,
	    "a repeated CACHE put marks the block recently used");
	TAP_OK(put_range(st, 10, 19, STORE_KIND_CACHE) == 0 &&
	    stats_are(st, 4, 0, 0) && has(st, 15) == STORE_ENOTFOUND &&
	    has(st, 16) == 0 && has(st, 19) == 0 && evictions(st) == 13,
	    "a batch larger than the store keeps its newest blocks");
	store_close(st);
}

static void
test_del(void)
{
	uint8_t key[STORE_KEY_SIZE];
	struct store *st;
	char dir[256];

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "del"),
	    4 * BS) == 0, "open 4-block store for deletes"))
		return;
	TAP_OK(put_range(st, 1, 2, STORE_KIND_CACHE) == 0 &&
	    put_range(st, 3, 3, STORE_KIND_TEMP) == 0 &&
	    put_range(st, 4, 4, STORE_KIND_CLIENT) == 0 &&
	    stats_are(st, 2, 1, 1), "one block of each kind, two CACHE");
	block_make(1, key, NULL);
	TAP_OK(store_del_block(st, key) == 0 && has(st, 1) ==
	    STORE_ENOTFOUND && stats_are(st, 1, 1, 1),
	    "a CACHE block deleted: gone, counted out");
	TAP_OK(store_del_block(st, key) == STORE_ENOTFOUND,
	    "deleting it again: STORE_ENOTFOUND");
	block_make(3, key, NULL);
	TAP_OK(store_del_block(st, key) == 0 && stats_are(st, 1, 0, 1),
	    "a TEMP block deleted");
	block_make(4, key, NULL);
	TAP_OK(store_del_block(st, key) == 0 && stats_are(st, 1, 0, 0),
	    "a CLIENT block deleted");
	/* The LRU list lost block 1's stamp with it: evictions still work
	 * and take block 2, the only CACHE block older than the new ones. */
	TAP_OK(put_range(st, 5, 8, STORE_KIND_CACHE) == 0 &&
	    has(st, 2) == STORE_ENOTFOUND && stats_are(st, 4, 0, 0) &&
	    evictions(st) == 1, "eviction after deletes takes the oldest");
	TAP_OK(store_del_block(st, NULL) == STORE_EINVAL,
	    "a NULL key: STORE_EINVAL");
	store_close(st);
}

struct each {
	unsigned seen, right, stop_after;
};

static int
each_fn(void *arg, const uint8_t key[STORE_KEY_SIZE], const uint8_t *data,
    enum store_kind kind)
{
	struct each *e = arg;
	uint8_t want_key[STORE_KEY_SIZE], *want = malloc(BS);
	unsigned seed;

	memcpy(&seed, key + 4, sizeof(seed));	/* see block_make */
	if (want != NULL) {
		block_make(seed, want_key, want);
		e->right += memcmp(want_key, key, STORE_KEY_SIZE) == 0 &&
		    memcmp(want, data, BS) == 0 &&
		    kind == (seed == 3 ? STORE_KIND_CLIENT : STORE_KIND_CACHE);
	}
	free(want);
	return ++e->seen == e->stop_after ? 7 : 0;
}

static void
test_each(void)
{
	struct each e = { 0, 0, 0 };
	struct store *st;
	char dir[256];

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "each"),
	    8 * BS) == 0, "open a store to walk"))
		return;
	TAP_OK(store_each_block(st, each_fn, &e) == 0 && e.seen == 0,
	    "an empty store: fn never called");
	TAP_OK(put_range(st, 1, 2, STORE_KIND_CACHE) == 0 &&
	    put_range(st, 3, 3, STORE_KIND_CLIENT) == 0 &&
	    put_range(st, 4, 5, STORE_KIND_CACHE) == 0, "put 5 blocks");
	TAP_OK(store_each_block(st, each_fn, &e) == 0 && e.seen == 5 &&
	    e.right == 5, "each block once, with its bytes and kind");
	e.seen = e.right = 0;
	e.stop_after = 2;
	TAP_OK(store_each_block(st, each_fn, &e) == 7 && e.seen == 2,
	    "fn's non-zero result stops the walk and is returned");
	TAP_OK(store_each_block(st, NULL, &e) == STORE_EINVAL,
	    "no fn: STORE_EINVAL");
	store_close(st);
}

static void
test_full(void)
{
	struct store *st;
	char dir[256];
	uint8_t key[STORE_KEY_SIZE];
	unsigned two[] = { 6, 7 };
	int ok = 1;
	unsigned i;

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "full"),
	    4 * BS) == 0, "open 4-block store"))
		return;
	TAP_OK(put_range(st, 1, 2, STORE_KIND_CLIENT) == 0 &&
	    put_range(st, 3, 4, STORE_KIND_TEMP) == 0 && stats_are(st, 0, 2, 2),
	    "fill with 2 CLIENT and 2 TEMP");
	TAP_OK(put_range(st, 5, 5, STORE_KIND_CACHE) == STORE_EFULL,
	    "CLIENT and TEMP are not evicted: EFULL");
	TAP_OK(put_range(st, 5, 5, STORE_KIND_CLIENT) == STORE_EFULL,
	    "a CLIENT put is EFULL too");
	TAP_OK(stats_are(st, 0, 2, 2) && has(st, 5) == STORE_ENOTFOUND &&
	    evictions(st) == 0, "EFULL wrote nothing");
	block_make(3, key, NULL);
	TAP_OK(store_set_kind(st, (const uint8_t (*)[STORE_KEY_SIZE])&key, 1,
	    STORE_KIND_CACHE, NULL) == 0, "make one block CACHE");
	TAP_OK(put_seeds(st, two, 2, STORE_KIND_TEMP) == STORE_EFULL,
	    "a 2-block put with room for 1 is EFULL");
	TAP_OK(stats_are(st, 1, 1, 2) && has(st, 3) == 0 &&
	    has(st, 6) == STORE_ENOTFOUND && has(st, 7) == STORE_ENOTFOUND &&
	    evictions(st) == 0,
	    "nothing of the failed call written, its eviction undone");
	ok = block_ok(st, 1, STORE_KIND_CLIENT) &&
	    block_ok(st, 2, STORE_KIND_CLIENT) &&
	    block_ok(st, 3, STORE_KIND_CACHE) &&
	    block_ok(st, 4, STORE_KIND_TEMP);
	TAP_OK(ok, "earlier blocks still readable after EFULL");
	for (i = 6; i <= 7; i++)
		ok &= put_range(st, i, i, STORE_KIND_CACHE) == 0;
	TAP_OK(ok && stats_are(st, 1, 1, 2) && has(st, 7) == 0,
	    "CACHE puts evict among CACHE only");
	store_close(st);
}

static void
test_recover(void)
{
	struct store *st;
	char dir[256];

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "recover"),
	    8 * BS) == 0, "open recover store"))
		return;
	TAP_OK(put_range(st, 3, 3, STORE_KIND_CACHE) == 0 &&
	    put_range(st, 1, 2, STORE_KIND_TEMP) == 0 &&
	    put_range(st, 4, 4, STORE_KIND_CLIENT) == 0 &&
	    stats_are(st, 1, 2, 1), "put CACHE, TEMP and CLIENT blocks");
	store_close(st);	/* as a crash would, with TEMP left */
	if (!TAP_OK(store_open(&st, dir, 8 * BS) == 0, "reopen"))
		return;
	TAP_OK(stats_are(st, 3, 0, 1), "TEMP blocks became CACHE on open");
	TAP_OK(block_ok(st, 1, STORE_KIND_CACHE) &&
	    block_ok(st, 4, STORE_KIND_CLIENT), "kinds read back after recovery");
	TAP_OK(put_range(st, 5, 9, STORE_KIND_CACHE) == 0 &&
	    has(st, 3) == STORE_ENOTFOUND && has(st, 1) == 0 && has(st, 2) == 0,
	    "recovered blocks are newer than older CACHE ones");
	TAP_OK(put_range(st, 10, 11, STORE_KIND_CACHE) == 0 &&
	    has(st, 1) == STORE_ENOTFOUND && has(st, 2) == STORE_ENOTFOUND &&
	    has(st, 4) == 0 && stats_are(st, 7, 0, 1),
	    "recovered blocks are evictable");
	store_close(st);
}

struct collect {
	int n;
	uint8_t keys[4][STORE_KEY_SIZE];
	char uris[4][STORE_PENDING_MAX + 1];
	int stop;		/* returned by the callback */
	struct store *del;	/* deletes each record it sees if set */
};

static int
collect_fn(void *arg, const uint8_t key[STORE_KEY_SIZE], const char *uri)
{
	struct collect *c = arg;

	if (c->n < 4) {
		memcpy(c->keys[c->n], key, STORE_KEY_SIZE);
		snprintf(c->uris[c->n], sizeof(c->uris[0]), "%s", uri);
	}
	c->n++;
	if (c->del != NULL && store_del_pending(c->del, key) != 0)
		return -100;
	return c->stop;
}

static void
test_pending(void)
{
	struct store *st;
	struct store_stats s;
	struct collect c;
	char dir[256], *big = malloc(STORE_PENDING_MAX + 2);
	uint8_t k1[STORE_KEY_SIZE], k2[STORE_KEY_SIZE];
	int first;

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "pending"),
	    4 * BS) == 0, "open pending store"))
		goto out;
	block_make(1, k1, NULL);
	block_make(2, k2, NULL);
	TAP_OK(store_add_pending(st, k1, "umbra:one") == 0 &&
	    store_add_pending(st, k2, "umbra:two") == 0 &&
	    store_add_pending(st, k1, "umbra:three") == 0, "add and replace");
	TAP_OK(store_get_stats(st, &s) == 0 && s.pending == 2,
	    "stats count 2 pending");
	memset(&c, 0, sizeof(c));
	first = memcmp(k1, k2, STORE_KEY_SIZE) < 0 ? 0 : 1;
	TAP_OK(store_each_pending(st, collect_fn, &c) == 0 && c.n == 2,
	    "each visits both records");
	TAP_OK(memcmp(c.keys[first], k1, STORE_KEY_SIZE) == 0 &&
	    strcmp(c.uris[first], "umbra:three") == 0 &&
	    strcmp(c.uris[1 - first], "umbra:two") == 0,
	    "each goes in key order with the replaced URI");
	memset(&c, 0, sizeof(c));
	c.stop = 7;
	TAP_OK(store_each_pending(st, collect_fn, &c) == 7 && c.n == 1,
	    "each stops at and returns fn's non-zero");
	TAP_OK(store_del_pending(st, k2) == 0, "del a record");
	TAP_OK(store_del_pending(st, k2) == STORE_ENOTFOUND,
	    "del of an absent record is ENOTFOUND");
	memset(big, 'u', STORE_PENDING_MAX + 1);
	big[STORE_PENDING_MAX + 1] = '\0';
	TAP_OK(store_add_pending(st, k2, big) == STORE_EINVAL,
	    "URI over STORE_PENDING_MAX is EINVAL");
	TAP_OK(store_add_pending(st, k2, "") == STORE_EINVAL,
	    "empty URI is EINVAL");
	big[STORE_PENDING_MAX] = '\0';
	memset(&c, 0, sizeof(c));
	TAP_OK(store_add_pending(st, k2, big) == 0 &&
	    store_each_pending(st, collect_fn, &c) == 0 && c.n == 2 &&
	    strcmp(c.uris[1 - first], big) == 0,
	    "URI of exactly STORE_PENDING_MAX round-trips");
	memset(&c, 0, sizeof(c));
	c.del = st;
	TAP_OK(store_each_pending(st, collect_fn, &c) == 0 && c.n == 2 &&
	    store_get_stats(st, &s) == 0 && s.pending == 0,
	    "fn may delete records while each runs");
	store_close(st);
out:
	free(big);
}

static void
test_lock_reopen(void)
{
	struct store *st, *st2 = (struct store *)1;
	struct store_stats s1, s2;
	struct collect c;
	char dir[256];
	uint8_t k[STORE_KEY_SIZE];

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "reopen"),
	    8 * BS) == 0, "open reopen store"))
		return;
	TAP_OK(store_open(&st2, dir, 8 * BS) == STORE_ELOCKED && st2 == NULL,
	    "second open of the same dir is ELOCKED");
	block_make(9, k, NULL);
	TAP_OK(put_range(st, 1, 3, STORE_KIND_CACHE) == 0 &&
	    put_range(st, 4, 4, STORE_KIND_CLIENT) == 0 &&
	    store_add_pending(st, k, "umbra:nine") == 0 &&
	    store_get_stats(st, &s1) == 0, "first store still works");
	store_close(st);
	if (!TAP_OK(store_open(&st, dir, 8 * BS) == 0,
	    "reopen after close (lock released)"))
		return;
	memset(&c, 0, sizeof(c));
	TAP_OK(store_get_stats(st, &s2) == 0 && s2.blocks == s1.blocks &&
	    s2.cache_blocks == s1.cache_blocks &&
	    s2.client_blocks == s1.client_blocks && s2.pending == 1,
	    "counters survive reopen");
	TAP_OK(block_ok(st, 1, STORE_KIND_CACHE) &&
	    block_ok(st, 3, STORE_KIND_CACHE) &&
	    block_ok(st, 4, STORE_KIND_CLIENT), "blocks survive reopen");
	TAP_OK(store_each_pending(st, collect_fn, &c) == 0 && c.n == 1 &&
	    strcmp(c.uris[0], "umbra:nine") == 0, "pending survives reopen");
	store_close(st);
}

static uint8_t *
file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) != NULL &&
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	*len = buf != NULL ? (size_t)n : 0;
	fclose(f);
	return buf;
}

/* A data file cut short: LMDB would read the missing pages through its
 * map (SIGBUS); the store must refuse it first. */
static void
test_truncated(void)
{
	struct store *st;
	char dir[256], path[300];
	struct stat sb;
	int rc;

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "cut"),
	    64 * BS) == 0, "open a store to cut short"))
		return;
	TAP_OK(put_range(st, 1, 40, STORE_KIND_CACHE) == 0, "put 40 blocks");
	store_close(st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	TAP_OK(stat(path, &sb) == 0 && truncate(path, sb.st_size / 2) == 0,
	    "cut data.mdb to half its size");
	rc = store_open(&st, dir, 64 * BS);
	TAP_OK(rc == STORE_ECORRUPT, "a data file cut short: STORE_ECORRUPT "
	    "(%s)", store_strerror(rc));
	if (rc == 0)
		store_close(st);
	TAP_OK(stat(path, &sb) == 0 && sb.st_size > 0,
	    "the cut file is left as it is");
}

static void
test_corrupt(void)
{
	struct store *st;
	char dir[256], path[300];
	uint8_t garbage[8192], *before, *after;
	size_t nbefore = 0, nafter = 0;
	int fd, rc;

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "corrupt"),
	    8 * BS) == 0, "open store to damage"))
		return;
	TAP_OK(put_range(st, 1, 3, STORE_KIND_CACHE) == 0, "put 3 blocks");
	store_close(st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	memset(garbage, 0xa5, sizeof(garbage));
	fd = open(path, O_WRONLY);
	TAP_OK(fd >= 0 && pwrite(fd, garbage, sizeof(garbage), 0) ==
	    (ssize_t)sizeof(garbage), "overwrite the first 8 KiB");
	if (fd >= 0)
		close(fd);
	before = file_read(path, &nbefore);
	rc = store_open(&st, dir, 8 * BS);
	TAP_OK(rc == STORE_ECORRUPT || rc == STORE_EIO,
	    "damaged data.mdb: open fails (%s)", store_strerror(rc));
	if (rc == 0)
		store_close(st);
	after = file_read(path, &nafter);
	TAP_OK(before != NULL && after != NULL && nbefore == nafter &&
	    memcmp(before, after, nbefore) == 0,
	    "damaged data.mdb left untouched");
	free(before);
	free(after);
}

/* Opens dir's environment directly, as the store lays it out. */
static int
raw_open(const char *dir, MDB_env **env, MDB_txn **txn)
{
	*env = NULL;
	*txn = NULL;
	if (mdb_env_create(env) != 0 || mdb_env_set_maxdbs(*env, 8) != 0 ||
	    mdb_env_open(*env, dir, 0, 0600) != 0 ||
	    mdb_txn_begin(*env, NULL, 0, txn) != 0) {
		mdb_env_close(*env);
		return -1;
	}
	return 0;
}

/* Puts key -> val into the named database of dir's environment. */
static int
raw_put(const char *dir, const char *db, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	if (raw_open(dir, &env, &txn) != 0)
		return -1;
	rc = mdb_dbi_open(txn, db, db == NULL ? 0 : MDB_CREATE, &dbi);
	if (rc == 0)
		rc = mdb_put(txn, dbi, &k, &v, 0);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc;
}

static int
raw_del(const char *dir, const char *db, const void *key, size_t klen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key };
	int rc;

	if (raw_open(dir, &env, &txn) != 0)
		return -1;
	rc = mdb_dbi_open(txn, db, 0, &dbi);
	if (rc == 0)
		rc = mdb_del(txn, dbi, &k, NULL);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc;
}

/* Makes a store in name holding blocks 1 and 2 and closes it. */
static const char *
small_store(char *dir, size_t size, const char *name)
{
	struct store *st;

	test_dir(dir, size, name);
	if (store_open(&st, dir, 8 * BS) != 0)
		return dir;
	if (put_range(st, 1, 2, STORE_KIND_CACHE) != 0)
		fprintf(stderr, "small_store: put failed\n");
	store_close(st);
	return dir;
}

/* A store written before LOCAL existed has a 32-byte "counts". */
static void
test_counts_old(void)
{
	struct store *st;
	char dir[256];
	uint8_t rec[32], format1[4] = { 0, 0, 0, 1 };

	memset(rec, 0, sizeof(rec));
	rec[7] = 2;	/* CACHE */
	rec[31] = 3;	/* next seq */
	small_store(dir, sizeof(dir), "oldcounts");
	TAP_OK(raw_put(dir, "info", "counts", 6, rec, sizeof(rec)) == 0 &&
	    raw_put(dir, "info", "format", 6, format1, 4) == 0,
	    "write format 1 and a counts record of its layout");
	TAP_OK(store_open(&st, dir, 8 * BS) == 0 && stats4(st, 2, 0, 0, 0) &&
	    put_range(st, 3, 3, STORE_KIND_LOCAL) == 0 &&
	    stats4(st, 2, 0, 0, 1), "opens, with no LOCAL block, and takes one");
	store_close(st);
	TAP_OK(store_open(&st, dir, 8 * BS) == 0 && stats4(st, 2, 0, 0, 1),
	    "its counts are then written in the new layout");
	store_close(st);
}

static void
test_damage(void)
{
	struct store *st;
	char dir[256];
	uint8_t key[STORE_KEY_SIZE], got[BS];
	uint8_t bad_format[4] = { 0, 0, 0, 99 }, short_meta[31] = { 0 };

	memset(got, 0, sizeof(got));

	small_store(dir, sizeof(dir), "badformat");
	TAP_OK(raw_put(dir, "info", "format", 6, bad_format, 4) == 0 &&
	    store_open(&st, dir, 8 * BS) == STORE_ECORRUPT,
	    "unknown format version is ECORRUPT");
	block_make(1, key, NULL);
	small_store(dir, sizeof(dir), "badmeta");
	TAP_OK(raw_put(dir, "meta", key, sizeof(key), short_meta, 31) == 0 &&
	    store_open(&st, dir, 8 * BS) == 0, "open with a short meta record");
	TAP_OK(store_get_block(st, key, got, NULL) == STORE_ECORRUPT &&
	    has(st, 2) == 0, "a short meta record is ECORRUPT on read");
	store_close(st);
	small_store(dir, sizeof(dir), "badblock");
	TAP_OK(raw_put(dir, "blocks", key, sizeof(key), got, BS) == 0 &&
	    store_open(&st, dir, 8 * BS) == 0, "open with a long blocks value");
	TAP_OK(store_get_block(st, key, got, NULL) == STORE_ECORRUPT &&
	    block_ok(st, 2, STORE_KIND_CACHE),
	    "a blocks value not of 32752 bytes is ECORRUPT on read");
	store_close(st);
	small_store(dir, sizeof(dir), "counts");
	TAP_OK(raw_del(dir, "meta", key, sizeof(key)) == 0 &&
	    store_open(&st, dir, 8 * BS) == STORE_ECORRUPT,
	    "counters that disagree with the databases are ECORRUPT");
	test_dir(dir, sizeof(dir), "foreign");
	TAP_OK(raw_put(dir, NULL, "hello", 5, "world", 5) == 0 &&
	    store_open(&st, dir, 8 * BS) == STORE_ECORRUPT,
	    "a foreign LMDB environment is ECORRUPT, not reused");
}

/* Each block costs exactly 8 overflow pages: the point of the split. */
static void
test_layout(void)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat ms;
	char dir[256];
	int ok;

	small_store(dir, sizeof(dir), "layout");
	if (raw_open(dir, &env, &txn) != 0) {
		TAP_OK(0, "open the layout store raw");
		return;
	}
	ok = mdb_dbi_open(txn, "blocks", 0, &dbi) == 0 &&
	    mdb_stat(txn, dbi, &ms) == 0;
	if (ok && ms.ms_psize != 4096)
		TAP_OK(1, "8 pages a block # SKIP page size %u", ms.ms_psize);
	else
		TAP_OK(ok && ms.ms_entries == 2 && ms.ms_overflow_pages == 16,
		    "2 blocks take 16 overflow pages of 4096");
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

struct churn {
	struct store *st;
	unsigned next;		/* next seed to put */
	int rc;			/* the first failing put */
	int wrote_nothing;	/* stats unchanged by that put */
};

/* Holds each_pending's read transaction open, so that no freed page can
 * be reused, and puts until the map is full. */
static int
churn_fn(void *arg, const uint8_t key[STORE_KEY_SIZE], const char *uri)
{
	struct churn *ch = arg;
	struct store_stats before, after;
	int i;

	(void)key;
	(void)uri;
	for (i = 0; i < 400 && ch->rc == 0; i++) {
		if (store_get_stats(ch->st, &before) != 0)
			return -1;
		ch->rc = put_range(ch->st, ch->next, ch->next + 63,
		    STORE_KIND_CACHE);
		ch->next += 64;
		ch->wrote_nothing = store_get_stats(ch->st, &after) == 0 &&
		    after.evictions == before.evictions &&
		    after.cache_blocks == before.cache_blocks;
	}
	return 0;
}

static void
test_map_full(void)
{
	struct churn ch = { NULL, 1, 0, 0 };
	char dir[256];
	uint8_t key[STORE_KEY_SIZE] = { 1 };

	if (!TAP_OK(store_open(&ch.st, test_dir(dir, sizeof(dir), "mapfull"),
	    4 * BS) == 0 && store_add_pending(ch.st, key, "umbra:x") == 0,
	    "open map-full store"))
		return;
	TAP_OK(store_each_pending(ch.st, churn_fn, &ch) == 0 &&
	    ch.rc == STORE_EFULL, "a map filled under a reader gives EFULL");
	TAP_OK(ch.wrote_nothing, "the EFULL put wrote nothing");
	TAP_OK(put_range(ch.st, ch.next, ch.next + 3, STORE_KIND_CACHE) == 0 &&
	    stats_are(ch.st, 4, 0, 0) && block_ok(ch.st, ch.next + 3,
	    STORE_KIND_CACHE), "puts work again once the reader is gone");
	store_close(ch.st);
}

static void
test_readonly(void)
{
	struct store *st;
	char dir[256];
	int rc;

	if (geteuid() == 0) {
		TAP_OK(1, "read-only dir # SKIP running as root");
		return;
	}
	test_dir(dir, sizeof(dir), "readonly");
	chmod(dir, 0500);
	rc = store_open(&st, dir, 4 * BS);
	TAP_OK(rc == STORE_EROFS, "read-only dir is STORE_EROFS (%s)",
	    store_strerror(rc));
	if (rc == 0)
		store_close(st);
	chmod(dir, 0700);
}

static void
test_shrink(void)
{
	struct store *st;
	struct store_stats s;
	char dir[256];

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "shrink"),
	    8 * BS) == 0 && put_range(st, 1, 8, STORE_KIND_CACHE) == 0,
	    "fill an 8-block store"))
		return;
	store_close(st);
	if (!TAP_OK(store_open(&st, dir, 4 * BS) == 0,
	    "reopen with room for 4"))
		return;
	TAP_OK(store_get_stats(st, &s) == 0 && s.blocks == 8 &&
	    s.bytes_max == 4 * BS, "blocks stay until the next put");
	TAP_OK(put_range(st, 9, 9, STORE_KIND_CACHE) == 0 &&
	    stats_are(st, 4, 0, 0) && evictions(st) == 5 && has(st, 5) ==
	    STORE_ENOTFOUND && has(st, 6) == 0 && has(st, 9) == 0,
	    "the next put evicts down to the new limit");
	TAP_OK(put_range(st, 100, 163, STORE_KIND_CACHE) == 0 &&
	    stats_are(st, 4, 0, 0), "a 64-block batch into a 4-block store");
	store_close(st);
}

struct reader {
	struct store *st;
	int bad;
};

static void *
reader_run(void *arg)
{
	struct reader *r = arg;
	unsigned i, seed;

	for (i = 0; i < 100; i++)
		for (seed = 1; seed <= 8; seed++)
			r->bad += !block_ok(r->st, seed, STORE_KIND_CACHE);
	return NULL;
}

static void
test_threads(void)
{
	struct store *st;
	struct reader r[3];
	pthread_t t[3];
	char dir[256];
	int i, started = 0, bad = 0, puts_ok = 1;

	if (!TAP_OK(store_open(&st, test_dir(dir, sizeof(dir), "threads"),
	    64 * BS) == 0 && put_range(st, 1, 8, STORE_KIND_CACHE) == 0,
	    "open threads store"))
		return;
	for (i = 0; i < 3; i++) {
		r[i].st = st;
		r[i].bad = 0;
		started += pthread_create(&t[i], NULL, reader_run, &r[i]) == 0;
	}
	for (i = 0; i < 40; i++)
		puts_ok &= put_range(st, 100 + i, 100 + i,
		    STORE_KIND_CACHE) == 0;
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		bad += r[i].bad;
	}
	TAP_OK(started == 3 && bad == 0, "3 readers see intact blocks");
	TAP_OK(puts_ok && stats_are(st, 48, 0, 0),
	    "writes alongside readers all land");
	store_close(st);
}

static void
test_strerror(void)
{
	int codes[] = { STORE_OK, STORE_ENOTFOUND, STORE_EFULL,
	    STORE_ECORRUPT, STORE_EIO, STORE_ELOCKED, STORE_EINVAL,
	    STORE_ENOMEM, STORE_ENOSPC, STORE_EROFS };
	size_t i, j, n = sizeof(codes) / sizeof(codes[0]);
	int ok = 1;

	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			ok &= strcmp(store_strerror(codes[i]),
			    store_strerror(codes[j])) != 0;
	TAP_OK(ok, "store_strerror names every code distinctly");
	TAP_OK(strcmp(store_strerror(STORE_EFULL), "store is full") == 0,
	    "EFULL reads \"store is full\"");
	TAP_OK(store_strerror(-1000) != NULL, "unknown codes have a name");
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		chmod(path, 0700);
	return remove(path);
}

int
main(void)
{
	if (mkdtemp(test_root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_args();
	test_roundtrip();
	test_kinds();
	test_set_kind();
	test_release_temp();
	test_local();
	test_lru();
	test_del();
	test_each();
	test_full();
	test_recover();
	test_pending();
	test_lock_reopen();
	test_corrupt();
	test_truncated();
	test_damage();
	test_counts_old();
	test_layout();
	test_map_full();
	test_readonly();
	test_shrink();
	test_threads();
	test_strerror();
	TAP_OK(nftw(test_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0,
	    "temp directory removed");
	return tap_done();
}
