/* insert.c - see insert.h. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "crypto/uri.h"
#include "node/insert.h"
#include "node/log.h"
#include "node/node.h"
#include "node/paths.h"
#include "node/peers.h"
#include "node/tree.h"
#include "node/util.h"
#include "node/writer.h"
#include "routing/route.h"

struct ins_doc {
	struct ins_doc *next;
	char uri[URI_MAX_LEN];
	struct chk_root root;
	insert_done_fn fn;
	void *arg;
	uint64_t ticket;
	unsigned hops;			/* path length its blocks go by */
	double added, next_try, backoff;
};

struct ins_slot {
	struct inserter *ins;
	bool used;
	uint64_t id;
	unsigned tries;
	uint8_t rkey[CHK_KEY_SIZE];
};

struct inserter {
	struct node *node;
	struct ins_doc *head;			/* queue; head may be running */
	struct ins_doc *running;
	struct tree_iter *iter;
	bool iter_done, failed, deleting;
	size_t inflight, ndocs;
	uint64_t blocks;			/* acknowledged, this doc */
	struct ins_slot slot[INSERT_WINDOW];
	uint64_t next_ticket;
	struct event *ev;
	uint8_t buf[CHK_BLOCK_SIZE];
};

static void ins_pump(struct inserter *ins);

static void
ins_notify(struct ins_doc *d, bool inserted)
{
	insert_done_fn fn = d->fn;

	d->fn = NULL;
	if (fn != NULL)
		fn(d->arg, inserted);
}

static void
ins_unlink(struct inserter *ins, struct ins_doc *d)
{
	struct ins_doc **pp = &ins->head;

	while (*pp != NULL && *pp != d)
		pp = &(*pp)->next;
	if (*pp != NULL) {
		*pp = d->next;
		ins->ndocs--;
	}
	d->next = NULL;
}

static void
ins_append(struct inserter *ins, struct ins_doc *d)
{
	struct ins_doc **pp = &ins->head;

	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = d;
	ins->ndocs++;
}

/* Ends the running document's attempt; a success was made durable. */
static void
ins_end(struct inserter *ins, bool ok)
{
	struct ins_doc *d = ins->running;

	tree_iter_free(ins->iter);
	ins->iter = NULL;
	ins->running = NULL;
	ins_unlink(ins, d);
	if (ok) {
		log_info("insert: the network has %s (%llu blocks)", d->uri,
		    (unsigned long long)ins->blocks);
		ins_notify(d, true);
		free(d);
		return;
	}
	log_info("insert: %s failed after %llu blocks; trying again in "
	    "%.0f s", d->uri, (unsigned long long)ins->blocks, d->backoff);
	ins_notify(d, false);
	d->next_try = util_now() + d->backoff;
	d->backoff = d->backoff * 2 < INSERT_RETRY_MAX ? d->backoff * 2 :
	    INSERT_RETRY_MAX;
	ins_append(ins, d);
}

static int
ins_del_job(void *arg)
{
	struct inserter *ins = arg;
	int rc = store_del_pending(ins->node->store,
	    ins->running->root.ref.rkey);

	return rc == STORE_ENOTFOUND ? 0 : rc;
}

static void
ins_del_done(void *arg, int rc)
{
	struct inserter *ins = arg;

	ins->deleting = false;
	if (rc != 0 && rc != WRITER_ECANCELED)
		log_warn("insert: cannot clear the pending record: %s",
		    store_strerror(rc));
	ins_end(ins, rc == 0);
	ins_pump(ins);
}

static void ins_on_block(void *arg, int status, const uint8_t *block);

/* Sends the slot's block (again): 0, or -1 if it cannot. */
static int
ins_send(struct inserter *ins, struct ins_slot *s)
{
	int rc = node_get_block(ins->node, s->rkey, ins->buf, NULL);

	if (rc != 0) {
		log_warn("insert: a block of %s is not in the store: %s",
		    ins->running->uri, store_strerror(rc));
		return -1;
	}
	if (paths_insert(ins->node->paths, ins->running->hops, ins->buf,
	    ins_on_block, s, &s->id) != 0)
		return -1;
	s->tries++;
	return 0;
}

static void
ins_on_block(void *arg, int status, const uint8_t *block)
{
	struct ins_slot *s = arg;
	struct inserter *ins = s->ins;

	(void)block;
	if (status == ROUTE_STATUS_STORED) {
		ins->blocks++;
	} else if (!ins->failed && s->tries < INSERT_TRIES &&
	    ins_send(ins, s) == 0) {
		return;
	} else {
		ins->failed = true;
	}
	s->used = false;
	ins->inflight--;
	ins_pump(ins);
}

/* Starts the first document that is due, if there are peers. */
static bool
ins_start(struct inserter *ins)
{
	double now = util_now();
	struct ins_doc *d;
	int rc;

	if (ins->node->peers == NULL || peers_count(ins->node->peers) == 0)
		return false;
	for (d = ins->head; d != NULL && d->next_try > now; d = d->next)
		;
	if (d == NULL)
		return false;
	if ((rc = tree_iter_new(&ins->iter, ins->node->store, &d->root)) != 0) {
		log_warn("insert: cannot walk %s: %s", d->uri,
		    store_strerror(rc));
		d->next_try = now + INSERT_RETRY_MAX;
		return false;
	}
	ins->running = d;
	ins->iter_done = ins->failed = false;
	ins->blocks = 0;
	return true;
}

/* Keeps INSERT_WINDOW blocks of the running document in flight. */
static void
ins_fill(struct inserter *ins)
{
	struct ins_slot *s;
	size_t i;
	int rc;

	while (!ins->iter_done && !ins->failed &&
	    ins->inflight < INSERT_WINDOW) {
		for (i = 0; ins->slot[i].used; i++)
			;
		s = &ins->slot[i];
		if ((rc = tree_iter_next(ins->iter, s->rkey)) <= 0) {
			ins->iter_done = rc == 0;
			ins->failed = rc < 0;
			if (rc < 0)
				log_warn("insert: cannot walk %s: %s",
				    ins->running->uri, store_strerror(rc));
			break;
		}
		s->tries = 0;
		if (ins_send(ins, s) != 0) {
			ins->failed = true;
			break;
		}
		s->used = true;
		ins->inflight++;
	}
}

static void
ins_pump(struct inserter *ins)
{
	if (ins->deleting)
		return;
	if (ins->running == NULL && !ins_start(ins))
		return;
	ins_fill(ins);
	if (ins->inflight > 0)
		return;
	if (ins->failed) {
		ins_end(ins, false);
		return;
	}
	if (!ins->iter_done)
		return;
	ins->deleting = true;
	if (writer_submit(ins->node->writer, ins_del_job, ins_del_done,
	    ins) != 0)
		ins_del_done(ins, STORE_ENOMEM);
}

/* Once a second: waiters past their bound, documents due again. */
static void
ins_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct inserter *ins = arg;
	double now = util_now();

	(void)fd;
	(void)what;
	for (struct ins_doc *d = ins->head; d != NULL; d = d->next)
		if (d->fn != NULL && now - d->added > INSERT_WAIT_MAX)
			ins_notify(d, false);
	ins_pump(ins);
}

static int
ins_add_doc(struct inserter *ins, const char *uri, struct ins_doc **out)
{
	struct ins_doc *d = calloc(1, sizeof(*d));
	struct uri u;

	*out = NULL;
	if (d == NULL)
		return -1;
	if (strlen(uri) >= sizeof(d->uri) ||
	    uri_parse(&u, uri, strlen(uri)) != 0) {
		log_warn("insert: skipping a pending record with a bad URI");
		free(d);
		return -1;
	}
	memcpy(d->uri, uri, strlen(uri) + 1);
	d->root = u.root;
	d->added = util_now();
	d->hops = PATHS_DEFAULT_HOPS;
	d->backoff = INSERT_RETRY_MIN;
	ins_append(ins, d);
	*out = d;
	return 0;
}

static int
ins_load_pending(void *arg, const uint8_t key[STORE_KEY_SIZE],
    const char *uri)
{
	struct ins_doc *d;

	(void)key;
	(void)ins_add_doc(arg, uri, &d);
	return 0;
}

int
inserter_new(struct inserter **out, struct node *node)
{
	struct inserter *ins = calloc(1, sizeof(*ins));
	struct timeval tv = { 1, 0 };

	*out = NULL;
	if (ins == NULL)
		return -1;
	ins->node = node;
	for (size_t i = 0; i < INSERT_WINDOW; i++)
		ins->slot[i].ins = ins;
	if ((ins->ev = event_new(node->base, -1, EV_PERSIST, ins_on_timer,
	    ins)) == NULL || event_add(ins->ev, &tv) != 0) {
		inserter_free(ins);
		return -1;
	}
	(void)store_each_pending(node->store, ins_load_pending, ins);
	if (ins->ndocs > 0)
		log_info("insert: %zu documents wait for the network",
		    ins->ndocs);
	*out = ins;
	return 0;
}

int
inserter_add(struct inserter *ins, const char *uri, unsigned hops,
    insert_done_fn fn, void *arg, uint64_t *ticket)
{
	struct ins_doc *d;

	if (ins_add_doc(ins, uri, &d) != 0)
		return -1;
	d->hops = hops;
	d->fn = fn;
	d->arg = arg;
	d->ticket = ++ins->next_ticket;
	if (ticket != NULL)
		*ticket = d->ticket;
	event_active(ins->ev, EV_TIMEOUT, 0);
	return 0;
}

void
inserter_forget(struct inserter *ins, uint64_t ticket)
{
	for (struct ins_doc *d = ins->head; d != NULL; d = d->next)
		if (d->ticket == ticket)
			d->fn = NULL;
}

void
inserter_kick(struct inserter *ins)
{
	double now = util_now();

	/* A new link is a new chance for every waiting document. */
	for (struct ins_doc *d = ins->head; d != NULL; d = d->next)
		if (d->next_try > now)
			d->next_try = now;
	event_active(ins->ev, EV_TIMEOUT, 0);
}

void
inserter_free(struct inserter *ins)
{
	struct ins_doc *d;

	if (ins == NULL)
		return;
	for (size_t i = 0; i < INSERT_WINDOW; i++)
		if (ins->slot[i].used)
			paths_cancel(ins->node->paths, ins->slot[i].id);
	tree_iter_free(ins->iter);
	while ((d = ins->head) != NULL) {
		ins->head = d->next;
		free(d);
	}
	if (ins->ev != NULL)
		event_free(ins->ev);
	free(ins);
}
