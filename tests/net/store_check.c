/*
 * store_check.c - checks a stopped node's store, for crash.sh and disk.sh.
 *
 *     store_check DIR/store
 *
 * Opens the store as the node does (the same lock, the same recovery of
 * a crash's TEMP blocks, the same check of its counters), then reads
 * every block and checks it against its routing key: a block cut short or
 * half written by a crash would not hash to its key. Prints one line,
 * "blocks N cache N temp N client N bad N", and exits 0 if the store
 * opened and every block matched, 1 if a block did not, 2 if the store
 * did not open (with the store's error on stderr).
 */
#include <stdio.h>
#include <string.h>

#include "crypto/chk.h"
#include "store/store.h"

struct check {
	unsigned long long blocks, kind[STORE_KIND_LOCAL + 1], bad;
};

static int
check_block(void *arg, const uint8_t key[STORE_KEY_SIZE], const uint8_t *data,
    enum store_kind kind)
{
	struct check *c = arg;

	c->blocks++;
	if ((unsigned)kind <= STORE_KIND_LOCAL)
		c->kind[kind]++;
	if (chk_block_verify(data, key) != 0)
		c->bad++;
	return 0;
}

int
main(int argc, char **argv)
{
	struct check c;
	struct store *st;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: store_check DIR/store\n");
		return 2;
	}
	memset(&c, 0, sizeof(c));
	/* The size bound only matters to puts; this opener makes none. */
	if ((rc = store_open(&st, argv[1], 1ULL << 36)) != 0) {
		fprintf(stderr, "store_check: %s: %s\n", argv[1],
		    store_strerror(rc));
		return 2;
	}
	rc = store_each_block(st, check_block, &c);
	store_close(st);
	if (rc != 0) {
		fprintf(stderr, "store_check: %s: reading blocks: %s\n",
		    argv[1], store_strerror(rc));
		return 2;
	}
	printf("blocks %llu cache %llu temp %llu client %llu local %llu "
	    "bad %llu\n", c.blocks, c.kind[STORE_KIND_CACHE],
	    c.kind[STORE_KIND_TEMP], c.kind[STORE_KIND_CLIENT],
	    c.kind[STORE_KIND_LOCAL], c.bad);
	return c.bad == 0 ? 0 : 1;
}
