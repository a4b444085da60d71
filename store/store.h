/*
 * store.h - the node's block datastore, on LMDB.
 *
 * Holds encrypted 32 KiB blocks keyed by their 32-byte routing key. It never
 * sees plaintext and never verifies hashes: callers verify a block against
 * its routing key before they hand it in (store/ depends on nothing of ours).
 *
 * Kinds. Every block has one kind:
 *   STORE_KIND_CLIENT  the node's own inserts; never evicted, never served
 *                      to peers (a later client cache; see docs/store.md);
 *   STORE_KIND_TEMP    written by a put still in progress; never evicted;
 *                      store_open() turns every TEMP block left by a crash
 *                      into CACHE, since no put survives a restart;
 *   STORE_KIND_CACHE   copies that may be evicted, least recently used first;
 *   STORE_KIND_LOCAL   blocks this node fetched for its own reader (the
 *                      gateway): evicted with CACHE, in one LRU order, but
 *                      never served to peers, so a probe cannot tell what
 *                      was read here.
 * A put never lowers a block's kind: CLIENT beats TEMP beats CACHE beats
 * LOCAL, except
 * that store_set_kind() sets exactly what it is told, and
 * store_release_temp() turns every TEMP block into CACHE once no put runs.
 *
 * Layout. A 32768-byte value in LMDB costs 9 pages (the overflow run carries
 * a 16-byte page header), so a block is split: its first 32752 bytes are the
 * value in the "blocks" database (exactly 8 pages) and its last 16 bytes ride
 * in its "meta" record with the kind and LRU stamp. See docs/store.md.
 *
 * Limits. max_bytes / STORE_BLOCK_SIZE blocks may be held. When a new block
 * would pass that, CACHE blocks are evicted oldest first; when none is left
 * the call fails with STORE_EFULL and nothing of that call is written.
 *
 * Threads. One struct store may be used from several threads: writes
 * (store_put_blocks, store_set_kind, store_*_pending) are serialised by
 * LMDB; reads run in parallel with them and see the last committed state.
 *
 * Durability. Every write call returns 0 only after its transaction is
 * committed durably (fsync). One call is one transaction: batch many blocks
 * into one store_put_blocks() call (group commit).
 *
 * Ownership: store_open() makes a struct store; store_close() ends it and
 * accepts NULL. No pointer into LMDB memory leaves this module: reads copy.
 * Errors: 0 on success, or a negative STORE_E* code; store_strerror() names
 * it. A data file LMDB finds invalid gives STORE_ECORRUPT and is left as is.
 */
#ifndef UMBRA_STORE_H
#define UMBRA_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_BLOCK_SIZE 32768
#define STORE_KEY_SIZE 32

enum store_err {
	STORE_OK = 0,
	STORE_ENOTFOUND = -1,	/* no such block or record */
	STORE_EFULL = -2,	/* size limit reached, nothing evictable */
	STORE_ECORRUPT = -3,	/* data file invalid or inconsistent */
	STORE_EIO = -4,		/* the file system failed (EIO) */
	STORE_ELOCKED = -5,	/* another process holds the datadir */
	STORE_EINVAL = -6,	/* bad argument */
	STORE_ENOMEM = -7,
	STORE_ENOSPC = -8,	/* the file system is full */
	STORE_EROFS = -9,	/* read-only file system, or no permission */
};

enum store_kind {
	STORE_KIND_CACHE = 0,
	STORE_KIND_TEMP = 1,
	STORE_KIND_CLIENT = 2,
	STORE_KIND_LOCAL = 3,
};

struct store;

struct store_block {
	uint8_t key[STORE_KEY_SIZE];
	const uint8_t *data;	/* STORE_BLOCK_SIZE bytes */
};

struct store_stats {
	uint64_t blocks;	/* all kinds */
	uint64_t client_blocks;
	uint64_t temp_blocks;
	uint64_t cache_blocks;
	uint64_t local_blocks;
	uint64_t bytes_used;	/* blocks * STORE_BLOCK_SIZE */
	uint64_t bytes_max;
	uint64_t pending;	/* pending insert records */
	uint64_t evictions;	/* since open */
};

/* Opens (creating if needed) the store in directory dir, which must exist.
 * Takes an exclusive lock on dir/store.lock: a second opener gets
 * STORE_ELOCKED. max_bytes below one block is STORE_EINVAL. */
int store_open(struct store **out, const char *dir, uint64_t max_bytes)
	__attribute__((warn_unused_result));
void store_close(struct store *st);

/* Writes n blocks of one kind in one durable transaction. A block already
 * present keeps its bytes; its kind is raised to kind if that is higher
 * (and a CACHE or LOCAL block put again as such is marked recently
 * used). */
int store_put_blocks(struct store *st, const struct store_block *blocks,
    size_t n, enum store_kind kind) __attribute__((warn_unused_result));

/* Copies the block under key into out (STORE_BLOCK_SIZE bytes). If kind_out
 * is not NULL it gets the block's kind. A CACHE or LOCAL block read is
 * remembered as recently used (applied with the next write). */
int store_get_block(struct store *st, const uint8_t key[STORE_KEY_SIZE],
    uint8_t *out, enum store_kind *kind_out)
	__attribute__((warn_unused_result));

/* Removes the block under key, whatever its kind, in one durable
 * transaction: for a block found damaged (it no longer hashes to its key),
 * which is then fetched again like any missing one. STORE_ENOTFOUND if
 * there is none. */
int store_del_block(struct store *st, const uint8_t key[STORE_KEY_SIZE])
	__attribute__((warn_unused_result));

/* 0 if present, STORE_ENOTFOUND if not. */
int store_has_block(struct store *st, const uint8_t key[STORE_KEY_SIZE]);
/* As store_has_block(), and sets *kind_out (if not NULL) to the block's
 * kind: one small record read, no block read, no LRU note. So a peer's
 * request for a block we must not serve costs what a miss costs. */
int store_get_kind(struct store *st, const uint8_t key[STORE_KEY_SIZE],
    enum store_kind *kind_out) __attribute__((warn_unused_result));

/* Sets the kind of each of n blocks in one durable transaction; *missing
 * (if not NULL) is set to the number of keys absent, which are skipped. */
int store_set_kind(struct store *st, const uint8_t (*keys)[STORE_KEY_SIZE],
    size_t n, enum store_kind kind, size_t *missing)
	__attribute__((warn_unused_result));
/* Turns every TEMP block into CACHE in one durable transaction. For when
 * no put is running and some put failed or was given up: TEMP blocks are
 * not owned by one put (two puts of the same bytes share them), so they
 * are released only when none can still need them. Scans the blocks'
 * records: O(blocks in the store). */
int store_release_temp(struct store *st) __attribute__((warn_unused_result));

/* Pending inserts: documents kept locally that still have to be inserted
 * into the network, keyed by root routing key, with the URI as value
 * (at most STORE_PENDING_MAX bytes). Adding an existing key replaces it. */
#define STORE_PENDING_MAX 1024
int store_add_pending(struct store *st, const uint8_t key[STORE_KEY_SIZE],
    const char *uri) __attribute__((warn_unused_result));
int store_del_pending(struct store *st, const uint8_t key[STORE_KEY_SIZE])
	__attribute__((warn_unused_result));
/* Calls fn for each pending record, in key order, until fn returns
 * non-zero (which is then returned). */
int store_each_pending(struct store *st,
    int (*fn)(void *arg, const uint8_t key[STORE_KEY_SIZE], const char *uri),
    void *arg);

/* Calls fn with each block (its key, its STORE_BLOCK_SIZE bytes and its
 * kind), in key order, in one read transaction, until fn returns non-zero
 * (which is then returned). For checking a whole store: O(blocks). A
 * block whose records disagree gives STORE_ECORRUPT. */
int store_each_block(struct store *st,
    int (*fn)(void *arg, const uint8_t key[STORE_KEY_SIZE],
    const uint8_t *data, enum store_kind kind), void *arg);

int store_get_stats(struct store *st, struct store_stats *out)
	__attribute__((warn_unused_result));

const char *store_strerror(int err);

#endif
