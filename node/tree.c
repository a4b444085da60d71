/* tree.c - see tree.h. */
#include <stdlib.h>
#include <string.h>

#include "node/tree.h"

/* Data blocks under one node of the given level when it is full. */
static uint64_t
tree_capacity(int level)
{
	uint64_t c = 1;

	while (level-- > 0)
		c *= CHK_FANOUT;
	return c;
}

/* Scratch for one index level: the block and its references. */
struct tree_level {
	uint8_t cipher[CHK_BLOCK_SIZE];
	uint8_t plain[CHK_BLOCK_SIZE];
	struct chk_ref refs[CHK_FANOUT];
};

typedef int (*tree_visit_fn)(void *arg, const uint8_t rkey[CHK_KEY_SIZE]);

/* Calls visit for ref's block and every block below it; an index block
 * missing from the store is skipped with its subtree (visit saw its key,
 * so the caller counts it). root_extra is the document's description
 * when ref is its root (keyed with it), else NULL. Stops at visit's
 * first non-zero result. */
static int
tree_walk(struct store *st, const struct chk_ref *ref, int level,
    uint64_t leaves, const uint8_t *root_extra, tree_visit_fn visit,
    void *arg)
{
	uint64_t cap = tree_capacity(level - 1);
	struct tree_level *lv;
	size_t n;
	int rc;

	if ((rc = visit(arg, ref->rkey)) != 0 || level == 0)
		return rc;
	if (leaves == 0 || leaves > cap * CHK_FANOUT || level > CHK_MAX_DEPTH)
		return STORE_EINVAL;
	if ((lv = malloc(sizeof(*lv))) == NULL)
		return STORE_ENOMEM;
	n = (size_t)((leaves - 1) / cap + 1);
	rc = store_get_block(st, ref->rkey, lv->cipher, NULL);
	if (rc == STORE_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = root_extra != NULL ?
	    chk_block_decode_root(lv->cipher, lv->plain, ref, root_extra) :
	    chk_block_decode(lv->cipher, lv->plain, ref);
	if (rc != 0 ||
	    (rc = chk_index_parse(lv->plain, n, lv->refs)) != 0) {
		rc = rc == CHK_ENOMEM ? STORE_ENOMEM : STORE_ECORRUPT;
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = tree_walk(st, &lv->refs[i], level - 1,
		    i + 1 < n ? cap : leaves - cap * i, NULL, visit, arg);
out:
	free(lv);
	return rc;
}

struct tree_kind_ctx {
	struct store *st;
	size_t n, missing;
	uint8_t keys[TREE_CHUNK][CHK_KEY_SIZE];
};

static int
tree_kind_flush(struct tree_kind_ctx *c)
{
	size_t missing = 0;
	int rc;

	if (c->n == 0)
		return 0;
	rc = store_set_kind(c->st, (const uint8_t (*)[STORE_KEY_SIZE])c->keys,
	    c->n, STORE_KIND_CLIENT, &missing);
	c->missing += missing;
	c->n = 0;
	return rc;
}

static int
tree_kind_visit(void *arg, const uint8_t rkey[CHK_KEY_SIZE])
{
	struct tree_kind_ctx *c = arg;

	memcpy(c->keys[c->n++], rkey, CHK_KEY_SIZE);
	return c->n == TREE_CHUNK ? tree_kind_flush(c) : 0;
}

int
tree_mark_own(struct store *st, const struct chk_root *root, size_t *missing)
{
	struct tree_kind_ctx *c;
	uint8_t extra[CHK_EXTRA_SIZE];
	struct chk_shape shape;
	int rc;

	if (chk_shape_make(&shape, root->stream_len) != 0)
		return STORE_EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return STORE_ENOMEM;
	c->st = st;
	chk_root_extra(root, extra);
	rc = tree_walk(st, &root->ref, root->depth, shape.count[0], extra,
	    tree_kind_visit, c);
	if (rc == 0)
		rc = tree_kind_flush(c);
	*missing = c->missing;
	free(c);
	return rc;
}
