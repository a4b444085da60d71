/* insert.c - see insert.h. */
#include <stdio.h>
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
	bool wait_path;			/* its last try found no path */
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
	int fail_status;			/* the first block that failed */
	size_t inflight, ndocs;
	uint64_t blocks;			/* acknowledged, this doc */
	struct ins_slot slot[INSERT_WINDOW];
	uint64_t next_ticket;
	struct event *ev;
	uint8_t buf[CHK_BLOCK_SIZE];
};

/* fail_status of a failure here, not in the network. */
#define INS_STATUS_LOCAL (-1)

static void ins_pump(struct inserter *ins);

static void
ins_notify(struct ins_doc *d, bool inserted, const char *why)
{
	insert_done_fn fn = d->fn;

	d->fn = NULL;
	if (fn != NULL)
		fn(d->arg, inserted, why);
}

/* A status for which no path carried the block: trying again waits for
 * a path to be built (paths_have_ready()), not for a timer. */
static bool
ins_no_path(int status)
{
	return status == PATHS_STATUS_NOLINK || status == PATHS_STATUS_FEW ||
	    status == PATHS_STATUS_UNBUILT;
}

/* Why the attempt at d failed (status: the first block's, with blocks
 * acknowledged before it), in one line, into buf. */
static void
ins_describe(struct inserter *ins, const struct ins_doc *d, int status,
    char *buf, size_t len)
{
	const char *route;
	struct paths_counts c;
	char why[INSERT_WHY_MAX / 2];

	paths_counts(ins->node->paths, d->hops, &c);
	if (status == PATHS_STATUS_NOLINK || c.peers == 0) {
		snprintf(buf, len, "%s", INSERT_WHY_NO_PEERS);
		return;
	}
	if (status == PATHS_STATUS_FEW) {
		paths_describe_relays(&c, why, sizeof(why));
		snprintf(buf, len, "not yet in the network: no onion path of "
		    "%u hops can be built (%s); it is kept here and inserted "
		    "when one can", d->hops, why);
		return;
	}
	if (status == PATHS_STATUS_UNBUILT || status == PATHS_STATUS_LOST) {
		paths_describe(status, &c, why, sizeof(why));
		snprintf(buf, len, "not yet in the network: %s; it is kept "
		    "here and inserted %s", why, status == PATHS_STATUS_LOST ?
		    "again later" : "when a path is built");
		return;
	}
	route = status == ROUTE_STATUS_TIMEOUT ? "had no answer in time" :
	    status == ROUTE_STATUS_REFUSED ? "was refused: a routing table on "
	    "the way is full" : status == ROUTE_STATUS_RNF ||
	    status == ROUTE_STATUS_DNF ? "found no node on its route to take "
	    "it" : status == INS_STATUS_LOCAL ? "could not be read from this "
	    "node's store (its log says why)" : "failed";
	snprintf(buf, len, "not yet in the network: %llu block%s acknowledged, "
	    "then one %s%s; it is kept here and tried again in %.0f s",
	    (unsigned long long)ins->blocks, ins->blocks == 1 ? "" : "s",
	    route, status == INS_STATUS_LOCAL ? "" : " (after retries)",
	    d->backoff);
}

/* No path for d's hop count: the other waiters of that count are told
 * now, not after an attempt each, and their documents wait for a path. */
static void
ins_no_path_all(struct inserter *ins, const struct ins_doc *d,
    const char *why, double now)
{
	for (struct ins_doc *o = ins->head; o != NULL; o = o->next) {
		if (o == d || o->hops != d->hops)
			continue;
		ins_notify(o, false, why);
		o->wait_path = true;
		if (o->next_try < now + o->backoff)
			o->next_try = now + o->backoff;
	}
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
	double now = util_now();
	char why[INSERT_WHY_MAX];

	tree_iter_free(ins->iter);
	ins->iter = NULL;
	ins->running = NULL;
	ins_unlink(ins, d);
	if (ok) {
		log_info("insert: the network has %s (%llu blocks)", d->uri,
		    (unsigned long long)ins->blocks);
		ins_notify(d, true, NULL);
		free(d);
		return;
	}
	ins_describe(ins, d, ins->fail_status, why, sizeof(why));
	log_info("insert: %s: %s", d->uri, why);
	ins_notify(d, false, why);
	d->wait_path = ins_no_path(ins->fail_status);
	if (d->wait_path)
		ins_no_path_all(ins, d, why, now);
	d->next_try = now + d->backoff;
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
	} else if (!ins->failed && !ins_no_path(status) &&
	    s->tries < INSERT_TRIES && ins_send(ins, s) == 0) {
		return;
	} else if (!ins->failed) {
		ins->failed = true;
		ins->fail_status = status;
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
	ins->fail_status = 0;
	ins->blocks = 0;
	d->wait_path = false;
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
			if (rc < 0) {
				ins->failed = true;
				ins->fail_status = INS_STATUS_LOCAL;
				log_warn("insert: cannot walk %s: %s",
				    ins->running->uri, store_strerror(rc));
			}
			break;
		}
		s->tries = 0;
		if (ins_send(ins, s) != 0) {
			ins->failed = true;
			ins->fail_status = INS_STATUS_LOCAL;
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

/* Why a waiter's document is not in the network after INSERT_WAIT_MAX
 * s, though no attempt at it failed. */
static void
ins_describe_wait(struct inserter *ins, const struct ins_doc *d, char *buf,
    size_t len)
{
	size_t ahead = 0;

	if (peers_count(ins->node->peers) == 0) {
		snprintf(buf, len, "not yet in the network: this node lost its "
		    "peers while inserting it; it is kept here and inserted "
		    "when it has one");
		return;
	}
	if (d == ins->running) {
		snprintf(buf, len, "not yet in the network: %llu block%s of it "
		    "acknowledged within %.0f s, not all yet; the node goes on "
		    "inserting it", (unsigned long long)ins->blocks,
		    ins->blocks == 1 ? "" : "s", INSERT_WAIT_MAX);
		return;
	}
	for (const struct ins_doc *o = ins->head; o != NULL && o != d;
	    o = o->next)
		ahead++;
	snprintf(buf, len, "not yet in the network: %zu document%s ahead of "
	    "it in the insert queue after %.0f s; it is kept here and inserted "
	    "in turn", ahead, ahead == 1 ? " is" : "s are", INSERT_WAIT_MAX);
}

/* Once a second: waiters past their bound, documents due again (those
 * that found no path, as soon as one is built). */
static void
ins_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct inserter *ins = arg;
	double now = util_now();
	char why[INSERT_WHY_MAX];

	(void)fd;
	(void)what;
	for (struct ins_doc *d = ins->head; d != NULL; d = d->next) {
		if (d->fn != NULL && now - d->added > INSERT_WAIT_MAX) {
			ins_describe_wait(ins, d, why, sizeof(why));
			ins_notify(d, false, why);
		}
		if (d->wait_path && d->next_try > now &&
		    paths_have_ready(ins->node->paths, d->hops))
			d->next_try = now;
	}
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
