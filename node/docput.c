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
	struct store_stats s;
	char msg[160];

	if (rc != WRITER_ECANCELED && rc != STORE_EFULL)
		log_warn("put: the store refused a write: %s",
		    store_strerror(rc));
	if (rc == STORE_EFULL && store_get_stats(p->node->store, &s) == 0) {
		/* Only the node's own and in-flight blocks are never evicted. */
		snprintf(msg, sizeof(msg), "store is full: the node's own "
		    "documents and uploads hold %.1f of its %.1f MiB "
		    "(--store-size); no room for this document",
		    (double)(s.client_blocks + s.temp_blocks) *
		    STORE_BLOCK_SIZE / 1048576.0,
		    (double)s.bytes_max / 1048576.0);
		put_fail(p, 507, msg);
	} else if (rc == WRITER_ECANCELED)
		put_fail(p, 503, "the node is shutting down");
	else if (rc == STORE_EFULL)
		put_fail(p, 507, "store is full: no room for this document");
	else if (rc == STORE_ENOSPC)
		put_fail(p, 507, store_strerror(rc));
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
    const char *type, docput_wake_fn wake, void *arg)
{
	struct docput *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL)
		return -1;
	if (chk_encoder_new(&p->enc, put_emit, p) != 0 ||
	    (type != NULL && type[0] != '\0' &&
	    chk_encoder_set_type(p->enc, type) != 0)) {
		chk_encoder_free(p->enc);
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
	size_t missing = 0;
	int rc;

	if (p->store_rc != 0)
		return p->store_rc;
	rc = tree_mark_own(p->node->store, &p->uri.root, &missing);
	if (rc == 0 && missing > 0)
		rc = STORE_ENOTFOUND;
	if (rc == 0)
		rc = store_add_pending(p->node->store, p->uri.root.ref.rkey,
		    p->text);
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
		node_note_request(p->node, true, 200, p->uri.root.data_len,
		    p->uri.root.ref.rkey);
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
put_release_job(void *arg)
{
	struct node *node = arg;

	return store_release_temp(node->store);
}

static void
put_release_done(void *arg, int rc)
{
	struct node *node = arg;

	node->release_queued = false;
	/* Cancelled at shutdown: store_open() releases them next time. */
	if (rc != 0 && rc != WRITER_ECANCELED)
		log_warn("put: cannot release the blocks of failed uploads: %s",
		    store_strerror(rc));
}

/* Blocks of a put that failed or was given up stay TEMP (never evicted)
 * until no put runs; then all TEMP blocks become CACHE at once. Per put
 * they cannot be released: two puts of the same bytes share blocks. A
 * put started later queues its batches behind this job. */
static void
put_release_when_idle(struct node *node)
{
	if (node->puts_active > 0 || !node->release_wanted ||
	    node->release_queued)
		return;
	if (writer_submit(node->writer, put_release_job, put_release_done,
	    node) != 0) {
		log_warn("put: failed uploads keep their blocks until restart");
		return;
	}
	node->release_wanted = false;
	node->release_queued = true;
}

void
docput_close(struct docput *p)
{
	if (p == NULL)
		return;
	p->closed = true;
	/* The client went away: what was written is released when no put
	 * runs (put_maybe_free). */
	if (p->state == PUT_OPEN)
		p->node->count.puts_failed++;
	put_maybe_free(p);
}

static void
put_maybe_free(struct docput *p)
{
	struct node *node = p->node;
	struct put_batch *b;

	if (!p->closed || p->jobs > 0)
		return;
	while ((b = p->free_batches) != NULL) {
		p->free_batches = b->next;
		free(b);
	}
	free(p->cur);
	chk_encoder_free(p->enc);
	node->puts_active--;
	if (p->status != 200)
		node->release_wanted = true;
	free(p);
	put_release_when_idle(node);
}
