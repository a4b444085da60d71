/* tree.c - see tree.h. */
#include <stdbool.h>
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

/* ---- the iterator ---- */

struct tree_iter_level {
	struct chk_ref refs[CHK_FANOUT];
	size_t n, pos;
	uint64_t index;		/* this index block's place in its level */
};

struct tree_iter {
	struct store *st;
	struct chk_root root;
	struct chk_shape shape;
	uint8_t extra[CHK_EXTRA_SIZE];
	int rc;			/* sticky failure */
	bool started;
	struct chk_ref last;	/* the block handed out last ... */
	int last_level;		/* ... its level (0 = data) */
	uint64_t last_index;	/* ... and place in that level */
	struct tree_iter_level lv[CHK_MAX_DEPTH + 1];	/* [1..depth] */
	uint8_t cipher[CHK_BLOCK_SIZE], plain[CHK_BLOCK_SIZE];
};

int
tree_iter_new(struct tree_iter **out, struct store *st,
    const struct chk_root *root)
{
	struct tree_iter *it;

	*out = NULL;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return STORE_ENOMEM;
	if (chk_shape_make(&it->shape, root->stream_len) != 0 ||
	    it->shape.depth != root->depth) {
		free(it);
		return STORE_EINVAL;
	}
	it->st = st;
	it->root = *root;
	chk_root_extra(root, it->extra);
	*out = it;
	return 0;
}

/* Reads the index block handed out last into its level. */
static int
tree_iter_descend(struct tree_iter *it)
{
	struct tree_iter_level *lv = &it->lv[it->last_level];
	bool is_root = it->last_level == it->shape.depth;
	size_t n = chk_shape_children(&it->shape, it->last_level,
	    it->last_index);
	int rc;

	if ((rc = store_get_block(it->st, it->last.rkey, it->cipher,
	    NULL)) != 0)
		return rc;
	rc = is_root ? chk_block_decode_root(it->cipher, it->plain, &it->last,
	    it->extra) : chk_block_decode(it->cipher, it->plain, &it->last);
	if (rc != 0 || n == 0 || chk_index_parse(it->plain, n, lv->refs) != 0)
		return STORE_ECORRUPT;
	lv->n = n;
	lv->pos = 0;
	lv->index = it->last_index;
	return 0;
}

int
tree_iter_next(struct tree_iter *it, uint8_t rkey[CHK_KEY_SIZE])
{
	struct tree_iter_level *lv;

	if (it->rc != 0)
		return it->rc;
	if (!it->started) {
		it->started = true;
		it->last = it->root.ref;
		it->last_level = it->shape.depth;
		it->last_index = 0;
		memcpy(rkey, it->last.rkey, CHK_KEY_SIZE);
		return 1;
	}
	if (it->last_level >= 1 && (it->rc = tree_iter_descend(it)) != 0)
		return it->rc;
	it->last_level = -1;
	/* The lowest level with blocks left: levels below it are spent. */
	for (int l = 1; l <= it->shape.depth; l++) {
		lv = &it->lv[l];
		if (lv->pos == lv->n)
			continue;
		it->last = lv->refs[lv->pos];
		it->last_level = l - 1;
		it->last_index = lv->index * CHK_FANOUT + lv->pos;
		lv->pos++;
		memcpy(rkey, it->last.rkey, CHK_KEY_SIZE);
		return 1;
	}
	return 0;
}

void
tree_iter_free(struct tree_iter *it)
{
	free(it);
}
