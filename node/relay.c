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
/* Insert blocks one peer may have held here at a time. */
#define RELAY_HELD_PER_PEER (RELAY_HELD_MAX / 8)

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
	uint32_t from;				/* relayed insert: the sender */
	relay_done_fn fn;
	void *arg;
	uint8_t *block;				/* inserts: held ... */
	uint8_t rkey[CHK_KEY_SIZE];		/* ... and its routing key */
};

/* An INSERT_OK that waits for its block's commit: the node that ends an
 * insert says it has the block only once it durably has. */
struct relay_ok {
	uint32_t peer;
	uint64_t id;
};

struct relay_keep {
	struct relay *r;
	struct store_block b[RELAY_KEEP_MAX];
	uint64_t ids[RELAY_KEEP_MAX];		/* the insert of each, or 0 */
	bool local[RELAY_KEEP_MAX];		/* LOCAL, not CACHE */
	struct relay_ok oks[RELAY_KEEP_MAX];
	size_t n, nok;
	int local_rc;				/* the LOCAL write's result */
};

/* A link as routing sees it: who, and how hard it pushes. */
struct relay_link {
	struct peer *p;
	double since;		/* start of the refusal count */
	uint32_t refused;	/* past its share, since `since` */
	size_t held;		/* its inserts' blocks held here */
};

struct relay {
	struct node *node;
	struct route *route;
	struct event *ev_wake, *ev_done;
	struct relay_item *buckets[RELAY_BUCKETS];
	struct relay_item *oldest, *newest;
	struct relay_item *done_head, *done_tail;
	size_t held;				/* items with a block */
	struct relay_link links[ROUTE_PEERS_MAX];
	size_t nlinks;
	struct relay_keep keep[2];
	int fill;				/* keep[fill] fills */
	bool keep_busy;				/* keep[!fill] is written */
	double last_sweep;			/* relay_expire() */
	uint8_t buf[CHK_BLOCK_SIZE];		/* a block read to answer */
	uint8_t hash_key[crypto_shorthash_KEYBYTES];	/* ids -> buckets */
	struct relay_counters count;
};

static void relay_run(struct relay *r, const struct route_action *a,
    size_t n, const uint8_t *block);
static struct relay_link *relay_link_find(struct relay *r, uint32_t handle);
static void relay_keep_submit(struct relay *r);

/* ---- ids ---- */

/* Peers choose ids: a keyed hash, so they cannot pile them in one chain. */
static size_t
relay_bucket(const struct relay *r, uint64_t id)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const uint8_t *)&id, sizeof(id), r->hash_key);
	memcpy(&v, h, sizeof(v));
	return (size_t)(v % RELAY_BUCKETS);
}

static struct relay_item **
relay_slot(struct relay *r, uint64_t id)
{
	struct relay_item **pp = &r->buckets[relay_bucket(r, id)];

	while (*pp != NULL && (*pp)->id != id)
		pp = &(*pp)->hnext;
	return pp;
}

static struct relay_item *
relay_item_find(struct relay *r, uint64_t id)
{
	return *relay_slot(r, id);
}

/* A new item for id; an insert's block (with its routing key) is
 * copied and held. */
static struct relay_item *
relay_item_new(struct relay *r, uint64_t id, const uint8_t *block,
    const uint8_t *rkey)
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
		memcpy(it->rkey, rkey, CHK_KEY_SIZE);
		r->held++;
	}
	it->id = id;
	it->expires = util_now() + ROUTE_LIFETIME + RELAY_GRACE;
	it->hnext = r->buckets[relay_bucket(r, id)];
	r->buckets[relay_bucket(r, id)] = it;
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
	struct relay_link *l;

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
		if (it->from != 0 && (l = relay_link_find(r, it->from)) != NULL)
			l->held--;
		free(it->block);
	}
	free(it);
}

/* The block held for id, if it is the one with this routing key. */
static const uint8_t *
relay_held_block(struct relay *r, uint64_t id,
    const uint8_t rkey[CHK_KEY_SIZE])
{
	struct relay_item *it = relay_item_find(r, id);

	if (it == NULL || it->block == NULL ||
	    memcmp(it->rkey, rkey, CHK_KEY_SIZE) != 0)
		return NULL;
	return it->block;
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

/* True while the engine still runs the insert this item holds for. */
static bool
relay_item_live(const struct relay *r, const struct relay_item *it)
{
	uint8_t rkey[CHK_KEY_SIZE];

	return route_lookup(r->route, it->id, rkey) &&
	    memcmp(rkey, it->rkey, CHK_KEY_SIZE) == 0;
}

/* Drops what outlived its id: a relayed insert's block once the engine
 * has ended or forgotten the insert (its sender gone, say), and local
 * items whose DONE never came (it always should). At most RELAY_HELD_MAX
 * relayed items, so the walk is short. */
static void
relay_expire(struct relay *r, double now)
{
	struct relay_item *it, *next;

	/* The engine may wake often under load; a sweep a second will do. */
	if (now - r->last_sweep < 1.0)
		return;
	r->last_sweep = now;
	for (it = r->oldest; it != NULL; it = next) {
		next = it->newer;
		if (it->done_queued)
			continue;
		if (!it->local && !relay_item_live(r, it))
			relay_item_free(r, it);
		else if (it->local && it->expires <= now)
			relay_local_end(r, it, ROUTE_STATUS_TIMEOUT, NULL);
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

static struct relay_link *
relay_link_find(struct relay *r, uint32_t handle)
{
	for (size_t i = 0; i < r->nlinks; i++)
		if (peer_handle(r->links[i].p) == handle)
			return &r->links[i];
	return NULL;
}

static struct peer *
relay_link(struct relay *r, uint32_t handle)
{
	struct relay_link *l = relay_link_find(r, handle);

	return l != NULL ? l->p : NULL;
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

/* Two transactions when a batch holds both kinds; the CACHE one is the
 * answer, which INSERT_OKs wait for. */
static int
relay_keep_job(void *arg)
{
	struct relay_keep *k = arg;
	struct store_block cache[RELAY_KEEP_MAX], local[RELAY_KEEP_MAX];
	size_t nc = 0, nl = 0;

	for (size_t i = 0; i < k->n; i++) {
		if (k->local[i])
			local[nl++] = k->b[i];
		else
			cache[nc++] = k->b[i];
	}
	k->local_rc = store_put_blocks(k->r->node->store, local, nl,
	    STORE_KIND_LOCAL);
	return store_put_blocks(k->r->node->store, cache, nc,
	    STORE_KIND_CACHE);
}

/* Sends RNF (with htl) or an id-only answer (LOOP, INSERT_OK: one layout,
 * link.h) that no route action stands for. */
static void
relay_answer(struct peer *p, uint8_t type, uint64_t id, uint8_t htl)
{
	struct link_msg x;

	memset(&x, 0, sizeof(x));
	x.type = type;
	if (type == LINK_MSG_RNF) {
		x.rnf.id = id;
		x.rnf.htl = htl;
	} else {
		x.dnf.id = id;
	}
	(void)peers_send(p, &x);
}

/* Sends the INSERT_OKs that waited for this batch; if it could not be
 * written, RNF with no htl left instead: the sender then ends the
 * insert as its own, and the node before it keeps its copy. */
static void
relay_keep_answer(struct relay *r, struct relay_keep *k, int rc)
{
	struct peer *p;

	for (size_t i = 0; i < k->nok && rc != WRITER_ECANCELED; i++)
		if ((p = relay_link(r, k->oks[i].peer)) != NULL)
			relay_answer(p, rc == 0 ? LINK_MSG_INSERT_OK :
			    LINK_MSG_RNF, k->oks[i].id, 0);
	k->nok = 0;
}

static void
relay_keep_done(void *arg, int rc)
{
	struct relay_keep *k = arg;
	struct relay *r = k->r;

	if (rc != 0 && rc != WRITER_ECANCELED)
		log_warn("cannot keep %zu blocks: %s", k->n,
		    store_strerror(rc));
	else if (rc == 0)
		r->count.kept += k->n;
	if (rc == 0 && k->local_rc != 0)	/* a cache: no loss */
		log_debug("cannot keep fetched blocks: %s",
		    store_strerror(k->local_rc));
	relay_keep_answer(r, k, rc);
	for (size_t i = 0; i < k->n; i++)
		free((void *)k->b[i].data);
	k->n = 0;
	r->keep_busy = false;
	if (r->keep[r->fill].n > 0)
		relay_keep_submit(r);
}

/* The batch (filling or being written) that holds insert id's block, so
 * that the INSERT_OK for it waits for the commit; NULL if none does. */
static struct relay_keep *
relay_keep_holding(struct relay *r, uint64_t id)
{
	for (int b = 0; b < 2; b++)
		for (size_t i = 0; i < r->keep[b].n; i++)
			if (r->keep[b].ids[i] == id)
				return &r->keep[b];
	return NULL;
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

static bool
relay_keep_full(const struct relay *r)
{
	return r->keep[0].n + r->keep[1].n >= RELAY_KEEP_MAX;
}

/* Queues a block for the store; insert_id names the insert it came
 * with (0 for DATA), so that its INSERT_OK can wait for the commit. */
static void
relay_keep_kind(struct relay *r, const uint8_t rkey[CHK_KEY_SIZE],
    const uint8_t *block, uint64_t insert_id, bool local)
{
	struct relay_keep *k = &r->keep[r->fill];
	uint8_t *copy;

	/* A reader's blocks take at most half the queue: a node busy
	 * reading must not refuse its peers' inserts for want of room. */
	if (block == NULL || relay_keep_full(r) || (local &&
	    r->keep[0].n + r->keep[1].n >= RELAY_KEEP_MAX / 2) ||
	    (copy = malloc(CHK_BLOCK_SIZE)) == NULL) {
		r->count.keep_skipped++;
		return;
	}
	memcpy(copy, block, CHK_BLOCK_SIZE);
	memcpy(k->b[k->n].key, rkey, CHK_KEY_SIZE);
	k->b[k->n].data = copy;
	k->ids[k->n] = insert_id;
	k->local[k->n] = local;
	k->n++;
	if (!r->keep_busy)
		relay_keep_submit(r);
}

static void
relay_keep(struct relay *r, const uint8_t rkey[CHK_KEY_SIZE],
    const uint8_t *block, uint64_t insert_id)
{
	relay_keep_kind(r, rkey, block, insert_id, false);
}

void
relay_keep_local(struct relay *r, const uint8_t rkey[CHK_KEY_SIZE],
    const uint8_t block[CHK_BLOCK_SIZE])
{
	relay_keep_kind(r, rkey, block, 0, true);
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
		if ((m.insert.block = relay_held_block(r, a->id,
		    a->rkey)) == NULL)
			return;
		m.insert.id = a->id;
		m.insert.htl = a->htl;
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

/* INSERT_OK for a block not yet committed here waits for its batch.
 * Returns true if it was deferred. */
static bool
relay_defer_ok(struct relay *r, const struct route_action *a)
{
	struct relay_keep *k;

	if (a->msg != ROUTE_MSG_INSERT_OK ||
	    (k = relay_keep_holding(r, a->id)) == NULL ||
	    k->nok == RELAY_KEEP_MAX)
		return false;
	k->oks[k->nok].peer = a->peer;
	k->oks[k->nok].id = a->id;
	k->nok++;
	return true;
}

static void
relay_run(struct relay *r, const struct route_action *a, size_t n,
    const uint8_t *block)
{
	struct relay_item *it;

	for (size_t i = 0; i < n; i++) {
		switch (a[i].what) {
		case ROUTE_SEND:
			if (!relay_defer_ok(r, &a[i]))
				relay_send(r, &a[i], block);
			relay_release_held(r, &a[i]);
			break;
		case ROUTE_KEEP:
			if (a[i].msg == ROUTE_MSG_INSERT)
				relay_keep(r, a[i].rkey, relay_held_block(r,
				    a[i].id, a[i].rkey), a[i].id);
			else
				relay_keep(r, a[i].rkey, block, 0);
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
	/* Only what the network gave us is served from here (node.h); the
	 * rest is in the network too, under the same keys, and a request
	 * goes on to find it there. */
	if (node_get_servable(r->node, m->request.rkey, block) == 0) {
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
	struct relay_link *l = relay_link_of(r, p);
	uint8_t rkey[CHK_KEY_SIZE];
	struct relay_item *it;
	size_t n;

	r->count.inserts_in++;
	if (l == NULL || relay_flood_check(r, p) ||
	    chk_block_rkey(m->insert.block, rkey) != 0)
		return;
	/* An id this node holds a block for is a loop, whatever the engine
	 * remembers: a new block must never take an old id's place. */
	if (relay_item_find(r, m->insert.id) != NULL) {
		relay_answer(p, LINK_MSG_LOOP, m->insert.id, 0);
		return;
	}
	/* No room to hold it, or to write it: refused as a full table
	 * refuses, htl unchanged, so the sender tries another peer. */
	if (r->held >= RELAY_HELD_MAX || l->held >= RELAY_HELD_PER_PEER ||
	    relay_keep_full(r) || (it = relay_item_new(r, m->insert.id,
	    m->insert.block, rkey)) == NULL) {
		relay_answer(p, LINK_MSG_RNF, m->insert.id,
		    m->insert.htl > ROUTE_HTL_MAX ? ROUTE_HTL_MAX :
		    m->insert.htl);
		return;
	}
	it->from = peer_handle(p);
	l->held++;
	n = route_insert(r->route, util_now(), peer_handle(p), m->insert.id,
	    rkey, m->insert.htl, a, ROUTE_ACTIONS_MAX);
	relay_run(r, a, n, NULL);
	/* Not taken, or over already: nothing to hold. */
	if ((it = relay_item_find(r, m->insert.id)) != NULL && !it->local &&
	    !relay_item_live(r, it))
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
		msg = ROUTE_MSG_DATA;
		id = m->data.id;
		block = m->data.block;
		if (!route_lookup(r->route, id, rkey))
			return;		/* late or unasked: ignored */
		if (chk_block_verify(block, rkey) != 0) {
			r->count.bad_blocks++;
			peers_drop(p, "sent a block that does not match its "
			    "key");
			return;
		}
		break;
	case LINK_MSG_RNF:
		msg = ROUTE_MSG_RNF;
		id = m->rnf.id;
		htl = m->rnf.htl;
		break;
	case LINK_MSG_DNF:
	case LINK_MSG_LOOP:
	case LINK_MSG_ACCEPTED:
	case LINK_MSG_INSERT_OK:
		msg = m->type == LINK_MSG_DNF ? ROUTE_MSG_DNF :
		    m->type == LINK_MSG_LOOP ? ROUTE_MSG_LOOP :
		    m->type == LINK_MSG_ACCEPTED ? ROUTE_MSG_ACCEPTED :
		    ROUTE_MSG_INSERT_OK;
		id = m->dnf.id;		/* the four share one layout */
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

	if (r->nlinks == ROUTE_PEERS_MAX) {
		peers_drop(p, "routing has no room for this peer");
		return;
	}
	rc = route_peer_add(r->route, peer_handle(p), peer_location(p),
	    dec_max, dec_min);
	if (rc != 0) {
		/* A link routing cannot use would leave its requests
		 * unanswered: better closed. */
		peers_drop(p, "routing has no room for this peer");
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

	if ((it = relay_item_new(r, relay_new_id(r), NULL, NULL)) == NULL)
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
	    (it = relay_item_new(r, relay_new_id(r), block, rkey)) == NULL)
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

size_t
relay_held_count(const struct relay *r)
{
	return r->held;
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
	randombytes_buf(r->hash_key, sizeof(r->hash_key));
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
