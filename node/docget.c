/* docget.c - see docget.h. */
#include <stdlib.h>

#include "crypto/chk_decode.h"
#include "node/docget.h"
#include "node/log.h"
#include "node/node.h"

struct docget {
	struct node *node;
	struct chk_decoder *dec;
	uint8_t cipher[CHK_BLOCK_SIZE];
};

int
docget_open(struct docget **out, struct node *node,
    const struct chk_root *root)
{
	struct docget *g;

	*out = NULL;
	if (store_has_block(node->store, root->ref.rkey) != 0)
		return 404;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return 500;
	if (chk_decoder_new(&g->dec, root) != 0) {
		free(g);
		return 500;
	}
	g->node = node;
	/* Decrypt the root now: a wrong decryption key is then an answer,
	 * not a transfer cut short after the headers. */
	if (store_get_block(node->store, root->ref.rkey, g->cipher, NULL) != 0) {
		docget_free(g);
		return 500;
	}
	if (chk_decoder_feed(g->dec, g->cipher) != 0) {
		docget_free(g);
		return 422;
	}
	*out = g;
	return 0;
}

/* Reads the block the decoder wants from the store and feeds it. */
static int
docget_fetch(struct docget *g, const struct chk_ref *ref)
{
	int rc = store_get_block(g->node->store, ref->rkey, g->cipher, NULL);

	if (rc != 0) {
		log_warn("get: a block of the document is unavailable: %s",
		    store_strerror(rc));
		return -1;
	}
	if ((rc = chk_decoder_feed(g->dec, g->cipher)) != 0) {
		log_warn("get: a block of the document is bad: %s",
		    chk_strerror(rc));
		return -1;
	}
	return 0;
}

ssize_t
docget_read(struct docget *g, uint8_t *buf, size_t max)
{
	struct chk_ref ref;
	size_t got;
	int rc;

	for (;;) {
		if ((rc = chk_decoder_read(g->dec, buf, max, &got)) != 0) {
			log_warn("get: the document does not decode: %s",
			    chk_strerror(rc));
			return -1;
		}
		if (got > 0 || max == 0)
			return (ssize_t)got;
		if (!chk_decoder_want(g->dec, &ref))
			return 0;
		if (docget_fetch(g, &ref) != 0)
			return -1;
	}
}

void
docget_free(struct docget *g)
{
	if (g == NULL)
		return;
	chk_decoder_free(g->dec);
	free(g);
}
