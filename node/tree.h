/*
 * tree.h - walks a CHK tree held in the local store.
 *
 * A put marks its blocks as the node's own once the whole tree is written,
 * and a put given up marks what it wrote as evictable; both need every
 * block of a tree, which only the index blocks can tell. Runs on the
 * store thread (it reads the store and decrypts index blocks).
 */
#ifndef UMBRA_TREE_H
#define UMBRA_TREE_H

#include <stdint.h>

#include "crypto/chk.h"
#include "store/store.h"

typedef int (*tree_visit_fn)(void *arg, const uint8_t rkey[CHK_KEY_SIZE]);

/* Calls visit for the block ref (at level, 0 = data) and every block below
 * it; leaves is the number of data blocks under it. A block missing from
 * the store gives STORE_ENOTFOUND; an index block that does not decode,
 * STORE_ECORRUPT. Stops at visit's first non-zero result and returns it.
 * Returns 0 or a STORE_E* code. */
int tree_walk(struct store *st, const struct chk_ref *ref, int level,
    uint64_t leaves, tree_visit_fn visit, void *arg);

/* Marks every block under ref, TREE_CHUNK keys per store transaction
 * (small, since each key looked up maps B-tree pages and their
 * neighbours until the transaction ends; see store.c):
 * TREE_OWN makes them the node's own (CLIENT); TREE_RELEASE turns those
 * that are TEMP into CACHE. Blocks missing are counted in *missing; below
 * a missing index block nothing can be found, so its subtree is skipped. */
#define TREE_CHUNK 512
enum tree_mark { TREE_OWN, TREE_RELEASE };
int tree_mark(struct store *st, const struct chk_ref *ref, int level,
    uint64_t leaves, enum tree_mark how, size_t *missing);

#endif
