/* docput.c - see docput.h. */
#include <stdlib.h>
#include <string.h>

#include "crypto/chk_encode.h"
#include "node/docput.h"
#include "node/log.h"
#include "node/node.h"
#include "node/tree.h"
#include "node/writer.h"

struct put_batch {
	struct docput *p;
	struct put_batch *next;		/* free list */
	size_t n;
	int rc;
	struct store_block blocks[DOCPUT_BATCH];
	uint8_t data[DOCPUT_BATCH][CHK_BLOCK_SIZE];
};

/* A subtree written so far, to be made evictable if the put is given up. */
struct put_root {
	struct chk_ref ref;
	int level;
};

enum put_state { PUT_OPEN, PUT_FINISHING, PUT_DONE };

struct docput {
	struct node *node;
	struct chk_encoder *enc;
	docput_wake_fn wake;
	void *arg;
	enum put_state state;
	bool closed;
	unsigned jobs;			/* submitted to the store thread */
	unsigned inflight;		/* batches among them */
	struct put_batch *cur, *free_batches;
	int store_rc;			/* store thread only: first failure */
	int status;			/* loop thread: 200 or an HTTP error */
	char text[URI_MAX_LEN];
	struct uri uri;
	struct put_root *pending;	/* for giving up */
	size_t npending;
};

static void put_maybe_free(struct docput *p);

static void
put_fail(struct docput *p, int status, const char *msg)
{
	if (p->status != 0 && p->status != 200)
		return;
	p->status = status;
	snprintf(p->text, sizeof(p->text), "%s", msg);
}

static void
put_fail_store(struct docput *p, int rc)
{
	if (rc == STORE_EFULL)
		put_fail(p, 507, "store is full: no room for this document");
	else
		put_fail(p, 500, store_strerror(rc));
}

static int
put_batch_job(void *arg)
{
	struct put_batch *b = arg;
	struct docput *p = b->p;

	/* After a failure, later batches of the same put are not written. */
	if (p->store_rc == 0)
		p->store_rc = store_put_blocks(p->node->store, b->blocks, b->n,
		    STORE_KIND_TEMP);
	b->rc = p->store_rc;
	return b->rc;
}

static void
put_batch_done(void *arg, int rc)
{
	struct put_batch *b = arg;
	struct docput *p = b->p;

	p->jobs--;
	p->inflight--;
	if (rc != 0)
		put_fail_store(p, rc);
	b->n = 0;
	b->next = p->free_batches;
	p->free_batches = b;
	if (!p->closed && p->state == PUT_OPEN)
		p->wake(p->arg);
	put_maybe_free(p);
}

static int
put_submit(struct docput *p, writer_job_fn fn, writer_done_fn done, void *arg)
{
	if (writer_submit(p->node->writer, fn, done, arg) != 0)
		return -1;
	p->jobs++;
	return 0;
}

static int
put_submit_batch(struct docput *p)
{
	struct put_batch *b = p->cur;

	if (b == NULL || b->n == 0)
		return 0;
	if (put_submit(p, put_batch_job, put_batch_done, b) != 0)
		return -1;
	p->inflight++;
	p->cur = NULL;
	return 0;
}

static int
put_emit(void *arg, const struct chk_ref *ref,
    const uint8_t cipher[CHK_BLOCK_SIZE])
{
	struct docput *p = arg;
	struct put_batch *b = p->cur;

	if (b == NULL) {
		if ((b = p->free_batches) != NULL)
			p->free_batches = b->next;
		else if ((b = malloc(sizeof(*b))) == NULL)
			return CHK_ENOMEM;
		b->p = p;
		b->n = 0;
		p->cur = b;
	}
	memcpy(b->blocks[b->n].key, ref->rkey, CHK_KEY_SIZE);
	memcpy(b->data[b->n], cipher, CHK_BLOCK_SIZE);
	b->blocks[b->n].data = b->data[b->n];
	if (++b->n == DOCPUT_BATCH && put_submit_batch(p) != 0)
		return CHK_ENOMEM;
	return 0;
}

int
docput_new(struct docput **out, struct node *node, const char *name,
    docput_wake_fn wake, void *arg)
{
	struct docput *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL)
		return -1;
	if (chk_encoder_new(&p->enc, put_emit, p) != 0) {
		free(p);
		return -1;
	}
	p->node = node;
	p->wake = wake;
	p->arg = arg;
	snprintf(p->uri.name, sizeof(p->uri.name), "%s", name ? name : "");
	node->puts_active++;
	*out = p;
	return 0;
}

static int
put_chk_status(struct docput *p, int rc)
{
	if (rc == CHK_ETOOBIG)
		put_fail(p, 413, "document too large");
	else
		put_fail(p, 500, chk_strerror(rc));
	return p->status;
}

int
docput_write(struct docput *p, const uint8_t *data, size_t len)
{
	int rc;

	if (p->status != 0)
		return p->status;
	if ((rc = chk_encoder_write(p->enc, data, len)) != 0)
		return put_chk_status(p, rc);
	return 0;
}

bool
docput_busy(const struct docput *p)
{
	return p->inflight >= DOCPUT_INFLIGHT;
}

static int
put_promote_job(void *arg)
{
	struct docput *p = arg;
	const struct chk_root *root = &p->uri.root;
	struct chk_shape shape;
	size_t missing = 0;
	int rc;

	if (p->store_rc != 0)
		return p->store_rc;
	if (chk_shape_make(&shape, root->stream_len) != 0)
		return STORE_EINVAL;
	rc = tree_mark(p->node->store, &root->ref, root->depth,
	    shape.count[0], TREE_OWN, &missing);
	if (rc == 0 && missing > 0)
		rc = STORE_ENOTFOUND;
	if (rc == 0)
		rc = store_add_pending(p->node->store, root->ref.rkey, p->text);
	return rc;
}

static void
put_promote_done(void *arg, int rc)
{
	struct docput *p = arg;

	p->jobs--;
	p->state = PUT_DONE;
	if (rc == STORE_ENOTFOUND)
		put_fail(p, 500, "blocks of the document were lost while "
		    "writing it");
	else if (rc != 0)
		put_fail_store(p, rc);
	if (p->status == 0)
		p->status = 200;
	if (p->status == 200) {
		p->node->count.puts++;
		p->node->count.put_bytes += p->uri.root.data_len;
	} else {
		p->node->count.puts_failed++;
	}
	if (!p->closed)
		p->wake(p->arg);
	put_maybe_free(p);
}

int
docput_finish(struct docput *p)
{
	int rc;

	if (p->state != PUT_OPEN)
		return 500;
	if (p->status != 0)
		return p->status;
	if ((rc = chk_encoder_finish(p->enc, &p->uri.root)) != 0)
		return put_chk_status(p, rc);
	if (uri_format(&p->uri, p->text, sizeof(p->text)) != 0 ||
	    put_submit_batch(p) != 0 ||
	    put_submit(p, put_promote_job, put_promote_done, p) != 0) {
		put_fail(p, 500, "out of memory");
		return p->status;
	}
	p->state = PUT_FINISHING;
	return 0;
}

bool
docput_result(const struct docput *p, int *status, const char **text)
{
	if (p->state != PUT_DONE && (p->status == 0 || p->status == 200))
		return false;
	*status = p->status;
	*text = p->text;
	return true;
}

static int
put_collect(void *arg, const struct chk_ref *ref, int level)
{
	struct docput *p = arg;

	p->pending[p->npending].ref = *ref;
	p->pending[p->npending++].level = level;
	return 0;
}

/* Makes every block of a given-up put evictable. */
static int
put_demote_job(void *arg)
{
	struct docput *p = arg;
	uint64_t leaves;
	size_t missing;
	int rc = 0;

	for (size_t i = 0; i < p->npending && rc == 0; i++) {
		leaves = 1;
		for (int l = 0; l < p->pending[i].level; l++)
			leaves *= CHK_FANOUT;
		rc = tree_mark(p->node->store, &p->pending[i].ref,
		    p->pending[i].level, leaves, TREE_RELEASE, &missing);
	}
	return rc;
}

static void
put_demote_done(void *arg, int rc)
{
	struct docput *p = arg;

	p->jobs--;
	if (rc != 0)
		log_warn("put: cannot release the blocks of an abandoned "
		    "upload: %s", store_strerror(rc));
	put_maybe_free(p);
}

/* The client went away before the end: release what was written. The
 * last partial batch is written too, so the index blocks in it can be
 * followed to the data blocks under them. */
static void
put_abandon(struct docput *p)
{
	p->node->count.puts_failed++;
	p->pending = calloc(CHK_MAX_DEPTH * CHK_FANOUT, sizeof(*p->pending));
	if (p->pending == NULL || put_submit_batch(p) != 0 ||
	    chk_encoder_each_pending(p->enc, put_collect, p) != 0 ||
	    put_submit(p, put_demote_job, put_demote_done, p) != 0)
		log_warn("put: abandoned upload left blocks until restart");
}

void
docput_close(struct docput *p)
{
	if (p == NULL)
		return;
	p->closed = true;
	if (p->state == PUT_OPEN)
		put_abandon(p);
	put_maybe_free(p);
}

static void
put_maybe_free(struct docput *p)
{
	struct put_batch *b;

	if (!p->closed || p->jobs > 0)
		return;
	while ((b = p->free_batches) != NULL) {
		p->free_batches = b->next;
		free(b);
	}
	free(p->cur);
	free(p->pending);
	chk_encoder_free(p->enc);
	p->node->puts_active--;
	free(p);
}
