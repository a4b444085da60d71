/*
 * tree.h - walks a CHK tree held in the local store.
 *
 * A put marks its blocks as the node's own once the whole tree is
 * written, which needs every block of the tree: only the index blocks
 * can tell them. Runs on the store thread (it reads the store and
 * decrypts index blocks).
 */
#ifndef UMBRA_TREE_H
#define UMBRA_TREE_H

#include <stdint.h>

#include "crypto/chk.h"
#include "store/store.h"

/* Makes every block of the document with this root the node's own
 * (CLIENT), TREE_CHUNK keys per store transaction (small, since each key
 * looked up maps B-tree pages and their neighbours until the transaction
 * ends; see store.c). Blocks missing are counted in *missing; below a
 * missing index block nothing can be found, so its subtree is skipped.
 * Returns 0 or a STORE_E* code (an index block that does not decode:
 * STORE_ECORRUPT). */
#define TREE_CHUNK 512
int tree_mark_own(struct store *st, const struct chk_root *root,
    size_t *missing);

/*
 * A document's blocks one at a time, root first, each index block before
 * the blocks under it (the order an insert sends them), reading index
 * blocks from the store as it goes: memory is one index block per level,
 * whatever the document's size. Runs on any one thread.
 *
 * tree_iter_next() returns 1 with the next routing key in rkey, 0 at the
 * end, or a STORE_E* code (an index block missing: STORE_ENOTFOUND; one
 * that does not decode: STORE_ECORRUPT), after which it stays failed.
 */
struct tree_iter;
int tree_iter_new(struct tree_iter **out, struct store *st,
    const struct chk_root *root) __attribute__((warn_unused_result));
int tree_iter_next(struct tree_iter *it, uint8_t rkey[CHK_KEY_SIZE])
	__attribute__((warn_unused_result));
void tree_iter_free(struct tree_iter *it);

#endif
