/* relay.c - see relay.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "node/log.h"
#include "node/node.h"
#include "node/peers.h"
#include "node/relay.h"
#include "node/util.h"
#include "node/writer.h"
#include "routing/route.h"

#define RELAY_BUCKETS 1024
/* An id's state outlives its engine entry by this much, then goes. */
#define RELAY_GRACE 10.0
/* Actions one call may see: route_tick() and route_peer_remove() are
 * called again while more is due. */
#define RELAY_ACTIONS 64
/* Refusals a minute (past its share) after which a peer is dropped. */
#define RELAY_FLOOD_DROP (4 * ROUTE_PEER_SHARE)

/* A local request or insert, or a relayed insert's block. */
struct relay_item {
	uint64_t id;
	struct relay_item *hnext;		/* hash chain */
	struct relay_item *older, *newer;	/* age list */
	struct relay_item *dnext;		/* done list */
	double expires;
	bool local, done_queued;
	bool calling;				/* fn is running */
	int status;				/* once done_queued */
	uint32_t first_hop;
	relay_done_fn fn;
	void *arg;
	uint8_t *block;				/* inserts: held */
};

struct relay_keep {
	struct relay *r;
	struct store_block b[RELAY_KEEP_MAX];
	size_t n;
};

/* A link as routing sees it: who, and how hard it pushes. */
struct relay_link {
	struct peer *p;
	double since;		/* start of the refusal count */
	uint32_t refused;	/* past its share, since `since` */
};

struct relay {
	struct node *node;
	struct route *route;
	struct event *ev_wake, *ev_done;
	struct relay_item *buckets[RELAY_BUCKETS];
	struct relay_item *oldest, *newest;
	struct relay_item *done_head, *done_tail;
	size_t held;				/* items with a block */
	struct relay_link links[CONFIG_MAX_LINKS];
	size_t nlinks;
	struct relay_keep keep[2];
	int fill;				/* keep[fill] fills */
	bool keep_busy;				/* keep[!fill] is written */
	uint8_t buf[CHK_BLOCK_SIZE];		/* a block read to answer */
	struct relay_counters count;
};

static void relay_run(struct relay *r, const struct route_action *a,
    size_t n, const uint8_t *block);
static void relay_keep_submit(struct relay *r);

/* ---- ids ---- */

static struct relay_item **
relay_slot(struct relay *r, uint64_t id)
{
	struct relay_item **pp = &r->buckets[id % RELAY_BUCKETS];

	while (*pp != NULL && (*pp)->id != id)
		pp = &(*pp)->hnext;
	return pp;
}

static struct relay_item *
relay_item_find(struct relay *r, uint64_t id)
{
	return *relay_slot(r, id);
}

static struct relay_item *
relay_item_new(struct relay *r, uint64_t id, const uint8_t *block)
{
	struct relay_item *it = calloc(1, sizeof(*it));

	if (it == NULL)
		return NULL;
	if (block != NULL) {
		if ((it->block = malloc(CHK_BLOCK_SIZE)) == NULL) {
			free(it);
			return NULL;
		}
		memcpy(it->block, block, CHK_BLOCK_SIZE);
		r->held++;
	}
	it->id = id;
	it->expires = util_now() + ROUTE_LIFETIME + RELAY_GRACE;
	it->hnext = r->buckets[id % RELAY_BUCKETS];
	r->buckets[id % RELAY_BUCKETS] = it;
	it->older = r->newest;
	if (r->newest != NULL)
		r->newest->newer = it;
	else
		r->oldest = it;
	r->newest = it;
	return it;
}

static void
relay_done_unlink(struct relay *r, struct relay_item *it)
{
	struct relay_item **pp = &r->done_head, *prev = NULL;

	while (*pp != NULL && *pp != it) {
		prev = *pp;
		pp = &(*pp)->dnext;
	}
	if (*pp == NULL)
		return;
	*pp = it->dnext;
	if (r->done_tail == it)
		r->done_tail = prev;
}

static void
relay_item_free(struct relay *r, struct relay_item *it)
{
	struct relay_item **pp = relay_slot(r, it->id);

	if (*pp == it)
		*pp = it->hnext;
	if (it->older != NULL)
		it->older->newer = it->newer;
	else
		r->oldest = it->newer;
	if (it->newer != NULL)
		it->newer->older = it->older;
	else
		r->newest = it->older;
	if (it->done_queued)
		relay_done_unlink(r, it);
	if (it->block != NULL) {
		r->held--;
		free(it->block);
	}
	free(it);
}

/* Ends a local item: FOUND straight away (its block is only valid now;
 * it always comes from a peer's message, never from inside
 * relay_request()), anything else through the done event, so that fn never
 * runs inside the call that started it. */
static void
relay_local_end(struct relay *r, struct relay_item *it, int status,
    const uint8_t *block)
{
	if (status == ROUTE_STATUS_FOUND && block != NULL) {
		r->count.local_found++;
		it->calling = true;
		it->fn(it->arg, status, block);
		relay_item_free(r, it);
		return;
	}
	if (status == ROUTE_STATUS_STORED)
		r->count.local_stored++;
	if (it->done_queued)
		return;
	it->done_queued = true;
	it->status = status;
	if (r->done_tail != NULL)
		r->done_tail->dnext = it;
	else
		r->done_head = it;
	r->done_tail = it;
	event_active(r->ev_done, EV_TIMEOUT, 0);
}

static void
relay_on_done(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	struct relay_item *it;

	(void)fd;
	(void)what;
	while ((it = r->done_head) != NULL) {
		r->done_head = it->dnext;
		if (r->done_head == NULL)
			r->done_tail = NULL;
		it->done_queued = false;
		it->calling = true;
		it->fn(it->arg, it->status, NULL);
		relay_item_free(r, it);
	}
}

/* Drops what outlived its id: relayed inserts the engine forgot, and
 * local items whose DONE never came (it always should). */
static void
relay_expire(struct relay *r, double now)
{
	struct relay_item *it, *next;

	for (it = r->oldest; it != NULL && it->expires <= now; it = next) {
		next = it->newer;
		if (it->done_queued)
			continue;
		if (it->local)
			relay_local_end(r, it, ROUTE_STATUS_TIMEOUT, NULL);
		else
			relay_item_free(r, it);
	}
}

/* ---- links ---- */

static struct relay_link *
relay_link_of(struct relay *r, const struct peer *p)
{
	for (size_t i = 0; i < r->nlinks; i++)
		if (r->links[i].p == p)
			return &r->links[i];
	return NULL;
}

static struct peer *
relay_link(const struct relay *r, uint32_t handle)
{
	for (size_t i = 0; i < r->nlinks; i++)
		if (peer_handle(r->links[i].p) == handle)
			return r->links[i].p;
	return NULL;
}

/*
 * A peer past its share of the routing table is refused by the engine
 * (RNF). One that keeps pushing is flooding: logged when it starts, and
 * dropped past RELAY_FLOOD_DROP refusals a minute, so it stops costing
 * the work of reading and refusing. Returns true if p was dropped.
 */
static bool
relay_flood_check(struct relay *r, struct peer *p)
{
	struct relay_link *l;
	double now;

	if (route_peer_live(r->route, peer_handle(p)) < ROUTE_PEER_SHARE ||
	    (l = relay_link_of(r, p)) == NULL)
		return false;
	now = util_now();
	if (now - l->since > 60.0) {
		l->since = now;
		l->refused = 0;
	}
	if (l->refused++ == 0)
		log_info("peer %s at %s has %d requests in flight here, its "
		    "share: refusing more", peer_name(p), peer_address(p),
		    ROUTE_PEER_SHARE);
	if (l->refused < RELAY_FLOOD_DROP)
		return false;
	r->count.flood_drops++;
	peers_drop(p, "flooding: refused too many requests in a minute");
	return true;
}

/* ---- the engine's clock ---- */

static void
relay_rearm(struct relay *r)
{
	double wake = route_next_wake(r->route), now = util_now();
	struct timeval tv = { 1, 0 };	/* also sweeps relay_expire() */

	if (wake - now < 1.0) {
		wake = wake < now ? 0 : wake - now;
		tv.tv_sec = (time_t)wake;
		tv.tv_usec = (suseconds_t)((wake - (double)tv.tv_sec) * 1e6);
	}
	event_add(r->ev_wake, &tv);
}

static void
relay_on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;
	struct route_action a[RELAY_ACTIONS];
	double now = util_now();
	size_t n;

	(void)fd;
	(void)what;
	/* Bounded: each round runs what is due; a round that emits nothing
	 * has emptied the heap up to now. */
	for (int round = 0; round < 1000; round++) {
		n = route_tick(r->route, now, a, RELAY_ACTIONS);
		relay_run(r, a, n, NULL);
		if (route_next_wake(r->route) > now)
			break;
	}
	relay_expire(r, now);
	relay_rearm(r);
}

/* ---- keeping blocks: batches to the store thread ---- */

static int
relay_keep_job(void *arg)
{
	struct relay_keep *k = arg;

	return store_put_blocks(k->r->node->store, k->b, k->n,
	    STORE_KIND_CACHE);
}

static void
relay_keep_done(void *arg, int rc)
{
	struct relay_keep *k = arg;
	struct relay *r = k->r;

	if (rc != 0 && rc != WRITER_ECANCELED)
		log_warn("cannot cache %zu blocks: %s", k->n,
		    store_strerror(rc));
	else if (rc == 0)
		r->count.kept += k->n;
	for (size_t i = 0; i < k->n; i++)
		free((void *)k->b[i].data);
	k->n = 0;
	r->keep_busy = false;
	if (r->keep[r->fill].n > 0)
		relay_keep_submit(r);
}

/* Hands the filling batch to the store thread: one transaction, one
 * fsync, for everything that came while the last one was written. */
static void
relay_keep_submit(struct relay *r)
{
	struct relay_keep *k = &r->keep[r->fill];

	r->fill = !r->fill;
	r->keep_busy = true;
	if (writer_submit(r->node->writer, relay_keep_job, relay_keep_done,
	    k) != 0)
		relay_keep_done(k, STORE_ENOMEM);
}

static void
relay_keep(struct relay *r, const uint8_t rkey[CHK_KEY_SIZE],
    const uint8_t *block)
{
	struct relay_keep *k = &r->keep[r->fill];
	uint8_t *copy;

	if (block == NULL || k->n + r->keep[!r->fill].n >= RELAY_KEEP_MAX ||
	    (copy = malloc(CHK_BLOCK_SIZE)) == NULL) {
		r->count.keep_skipped++;
		return;
	}
	memcpy(copy, block, CHK_BLOCK_SIZE);
	memcpy(k->b[k->n].key, rkey, CHK_KEY_SIZE);
	k->b[k->n].data = copy;
	k->n++;
	if (!r->keep_busy)
		relay_keep_submit(r);
}

/* ---- carrying out the engine's actions ---- */

static void
relay_send(struct relay *r, const struct route_action *a,
    const uint8_t *block)
{
	static const uint8_t types[] = {
		[ROUTE_MSG_REQUEST] = LINK_MSG_REQUEST,
		[ROUTE_MSG_DATA] = LINK_MSG_DATA,
		[ROUTE_MSG_DNF] = LINK_MSG_DNF,
		[ROUTE_MSG_RNF] = LINK_MSG_RNF,
		[ROUTE_MSG_LOOP] = LINK_MSG_LOOP,
		[ROUTE_MSG_INSERT] = LINK_MSG_INSERT,
		[ROUTE_MSG_INSERT_OK] = LINK_MSG_INSERT_OK,
		[ROUTE_MSG_ACCEPTED] = LINK_MSG_ACCEPTED,
	};
	struct peer *p = relay_link(r, a->peer);
	struct relay_item *it = relay_item_find(r, a->id);
	struct link_msg m;

	if (p == NULL)
		return;		/* gone since: the engine hears of it */
	memset(&m, 0, sizeof(m));
	m.type = types[a->msg];
	switch (a->msg) {
	case ROUTE_MSG_REQUEST:
		m.request.id = a->id;
		memcpy(m.request.rkey, a->rkey, LINK_RKEY_BYTES);
		m.request.htl = a->htl;
		if (it != NULL && it->local && it->first_hop == 0)
			it->first_hop = a->peer;
		break;
	case ROUTE_MSG_DATA:
		if (block == NULL)
			return;
		m.data.id = a->id;
		m.data.block = block;
		break;
	case ROUTE_MSG_INSERT:
		if (it == NULL || it->block == NULL)
			return;
		m.insert.id = a->id;
		m.insert.htl = a->htl;
		m.insert.block = it->block;
		break;
	case ROUTE_MSG_RNF:
		m.rnf.id = a->id;
		m.rnf.htl = a->htl;
		break;
	default:
		/* DNF, LOOP, ACCEPTED, INSERT_OK: one layout, the id. */
		m.dnf.id = a->id;
	}
	(void)peers_send(p, &m);	/* a failure closes the link */
}

/* An answer upstream ends this node's part in a relayed insert. */
static void
relay_release_held(struct relay *r, const struct route_action *a)
{
	struct relay_item *it;

	if (a->msg != ROUTE_MSG_INSERT_OK && a->msg != ROUTE_MSG_RNF)
		return;
	if ((it = relay_item_find(r, a->id)) != NULL && !it->local)
		relay_item_free(r, it);
}

static void
relay_run(struct relay *r, const struct route_action *a, size_t n,
    const uint8_t *block)
{
	struct relay_item *it;

	for (size_t i = 0; i < n; i++) {
		switch (a[i].what) {
		case ROUTE_SEND:
			relay_send(r, &a[i], block);
			relay_release_held(r, &a[i]);
			break;
		case ROUTE_KEEP:
			it = relay_item_find(r, a[i].id);
			relay_keep(r, a[i].rkey, a[i].msg == ROUTE_MSG_INSERT &&
			    it != NULL ? it->block : block);
			break;
		case ROUTE_DONE:
			if ((it = relay_item_find(r, a[i].id)) != NULL &&
			    it->local)
				relay_local_end(r, it, a[i].status, block);
			break;
		}
	}
}

/* ---- messages from peers ---- */

static void
relay_on_request(struct relay *r, struct peer *p, const struct link_msg *m)
{
	struct route_action a[ROUTE_ACTIONS_MAX];
	uint8_t *block = r->buf;
	struct link_msg d;
	size_t n;

	r->count.requests_in++;
	if (store_get_block(r->node->store, m->request.rkey, block,
	    NULL) == 0) {
		/* The store's own answer: DATA ends the hop. */
		r->count.served++;
		memset(&d, 0, sizeof(d));
		d.type = LINK_MSG_DATA;
		d.data.id = m->request.id;
		d.data.block = block;
		(void)peers_send(p, &d);
		return;
	}
	if (relay_flood_check(r, p))
		return;
	n = route_request(r->route, util_now(), peer_handle(p),
	    m->request.id, m->request.rkey, m->request.htl, a,
	    ROUTE_ACTIONS_MAX);
	relay_run(r, a, n, NULL);
}

static void
relay_on_insert(struct relay *r, struct peer *p, const struct link_msg *m)
{
	struct route_action a[ROUTE_ACTIONS_MAX];
	uint8_t rkey[CHK_KEY_SIZE];
	struct relay_item *it = NULL;
	struct link_msg x;
	bool held = false;
	size_t n;

	r->count.inserts_in++;
	if (relay_flood_check(r, p) ||
	    chk_block_rkey(m->insert.block, rkey) != 0)
		return;
	if (relay_item_find(r, m->insert.id) == NULL) {
		if (r->held >= RELAY_HELD_MAX ||
		    relay_item_new(r, m->insert.id, m->insert.block) == NULL) {
			/* Refused as a full table refuses: htl unchanged. */
			memset(&x, 0, sizeof(x));
			x.type = LINK_MSG_RNF;
			x.rnf.id = m->insert.id;
			x.rnf.htl = m->insert.htl;
			(void)peers_send(p, &x);
			return;
		}
		held = true;
	}
	n = route_insert(r->route, util_now(), peer_handle(p), m->insert.id,
	    rkey, m->insert.htl, a, ROUTE_ACTIONS_MAX);
	relay_run(r, a, n, NULL);
	/* Not taken: nothing to hold (unless it ended already). */
	if (held && (it = relay_item_find(r, m->insert.id)) != NULL &&
	    (n == 0 || a[0].what != ROUTE_SEND ||
	    a[0].msg != ROUTE_MSG_ACCEPTED))
		relay_item_free(r, it);
}

static void
relay_on_reply(struct relay *r, struct peer *p, const struct link_msg *m)
{
	struct route_action a[ROUTE_ACTIONS_MAX];
	enum route_msg msg;
	uint8_t rkey[CHK_KEY_SIZE];
	const uint8_t *block = NULL;
	uint64_t id;
	uint8_t htl = 0;
	size_t n;

	switch (m->type) {
	case LINK_MSG_DATA:
		msg = ROUTE_MSG_DATA, id = m->data.id, block = m->data.block;
		if (!route_lookup(r->route, id, rkey))
			return;		/* late or unasked: ignored */
		if (chk_block_verify(block, rkey) != 0) {
			r->count.bad_blocks++;
			peers_drop(p, "sent a block that does not match its "
			    "key");
			return;
		}
		break;
	case LINK_MSG_DNF: msg = ROUTE_MSG_DNF, id = m->dnf.id; break;
	case LINK_MSG_RNF:
		msg = ROUTE_MSG_RNF, id = m->rnf.id, htl = m->rnf.htl;
		break;
	case LINK_MSG_LOOP: msg = ROUTE_MSG_LOOP, id = m->loop.id; break;
	case LINK_MSG_ACCEPTED:
		msg = ROUTE_MSG_ACCEPTED, id = m->accepted.id;
		break;
	case LINK_MSG_INSERT_OK:
		msg = ROUTE_MSG_INSERT_OK, id = m->insert_ok.id;
		break;
	default:
		peers_drop(p, "sent a message of an unexpected type");
		return;
	}
	n = route_reply(r->route, util_now(), peer_handle(p), id, msg, htl, a,
	    ROUTE_ACTIONS_MAX);
	relay_run(r, a, n, block);
}

void
relay_peer_message(struct relay *r, struct peer *p, const struct link_msg *m)
{
	if (m->type == LINK_MSG_REQUEST)
		relay_on_request(r, p, m);
	else if (m->type == LINK_MSG_INSERT)
		relay_on_insert(r, p, m);
	else
		relay_on_reply(r, p, m);
	relay_rearm(r);
}

void
relay_peer_up(struct relay *r, struct peer *p)
{
	/* The HTL coins: once per link, so a neighbour sees the same rule
	 * on every request it sends us (route.h). */
	bool dec_max = randombytes_uniform(2) == 0;
	bool dec_min = randombytes_uniform(4) == 0;
	int rc;

	if (r->nlinks == CONFIG_MAX_LINKS)
		return;
	rc = route_peer_add(r->route, peer_handle(p), peer_location(p),
	    dec_max, dec_min);
	if (rc != 0) {
		log_warn("routing cannot take peer %s: error %d", peer_name(p),
		    rc);
		return;
	}
	memset(&r->links[r->nlinks], 0, sizeof(r->links[0]));
	r->links[r->nlinks++].p = p;
}

void
relay_peer_down(struct relay *r, struct peer *p)
{
	struct route_action a[RELAY_ACTIONS];
	double now = util_now();
	size_t n, i;

	for (i = 0; i < r->nlinks && r->links[i].p != p; i++)
		;
	if (i == r->nlinks)
		return;
	r->links[i] = r->links[--r->nlinks];
	n = route_peer_remove(r->route, now, peer_handle(p), a,
	    RELAY_ACTIONS);
	relay_run(r, a, n, NULL);
	/* What did not fit runs from the wake event, right away. */
	relay_rearm(r);
}

void
relay_peer_foaf(struct relay *r, struct peer *p)
{
	double locs[ROUTE_FOAF_MAX];
	size_t n = peer_foaf(p, locs, ROUTE_FOAF_MAX);

	(void)route_peer_foaf(r->route, peer_handle(p), locs, n);
}

/* ---- local work ---- */

static uint64_t
relay_new_id(struct relay *r)
{
	uint64_t id;

	do
		randombytes_buf(&id, sizeof(id));
	while (relay_item_find(r, id) != NULL);
	return id;
}

int
relay_request(struct relay *r, const uint8_t rkey[CHK_KEY_SIZE],
    uint32_t avoid, relay_done_fn fn, void *arg, uint64_t *id)
{
	struct route_action a[ROUTE_ACTIONS_MAX];
	struct relay_item *it;
	size_t n;

	if ((it = relay_item_new(r, relay_new_id(r), NULL)) == NULL)
		return -1;
	it->local = true;
	it->fn = fn;
	it->arg = arg;
	*id = it->id;
	r->count.local_requests++;
	n = route_request_avoiding(r->route, util_now(), it->id, rkey, avoid,
	    a, ROUTE_ACTIONS_MAX);
	relay_run(r, a, n, NULL);
	relay_rearm(r);
	return 0;
}

int
relay_insert(struct relay *r, const uint8_t block[CHK_BLOCK_SIZE],
    relay_done_fn fn, void *arg, uint64_t *id)
{
	struct route_action a[ROUTE_ACTIONS_MAX];
	uint8_t rkey[CHK_KEY_SIZE];
	struct relay_item *it;
	size_t n;

	if (chk_block_rkey(block, rkey) != 0 ||
	    (it = relay_item_new(r, relay_new_id(r), block)) == NULL)
		return -1;
	it->local = true;
	it->fn = fn;
	it->arg = arg;
	*id = it->id;
	r->count.local_inserts++;
	n = route_insert(r->route, util_now(), ROUTE_LOCAL, it->id, rkey, 0,
	    a, ROUTE_ACTIONS_MAX);
	relay_run(r, a, n, NULL);
	relay_rearm(r);
	return 0;
}

void
relay_cancel(struct relay *r, uint64_t id)
{
	struct relay_item *it = relay_item_find(r, id);

	/* While fn runs, its caller frees the item after it. */
	if (it != NULL && it->local && !it->calling)
		relay_item_free(r, it);
}

uint32_t
relay_first_hop(const struct relay *r, uint64_t id)
{
	const struct relay_item *it = *relay_slot((struct relay *)r, id);

	return it != NULL ? it->first_hop : 0;
}

const struct relay_counters *
relay_counters(const struct relay *r)
{
	return &r->count;
}

size_t
relay_table_count(const struct relay *r)
{
	return route_table_count(r->route);
}

int
relay_new(struct relay **out, struct node *node)
{
	struct relay *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL)
		return -1;
	r->node = node;
	r->keep[0].r = r->keep[1].r = r;
	if (route_new(&r->route, node->id.location) != 0 ||
	    (r->ev_wake = evtimer_new(node->base, relay_on_wake, r)) == NULL ||
	    (r->ev_done = event_new(node->base, -1, 0, relay_on_done,
	    r)) == NULL) {
		relay_free(r);
		return -1;
	}
	relay_rearm(r);
	*out = r;
	return 0;
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	while (r->oldest != NULL)
		relay_item_free(r, r->oldest);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < r->keep[k].n; i++)
			free((void *)r->keep[k].b[i].data);
	if (r->ev_wake != NULL)
		event_free(r->ev_wake);
	if (r->ev_done != NULL)
		event_free(r->ev_done);
	route_free(r->route);
	free(r);
}
