/*
 * route.c - the routing engine; the contract is in route.h, the protocol
 * in docs/protocol.md ("Routing").
 *
 * Data structures: peers sit in a slot array (at most ROUTE_PEERS_MAX, never
 * compacted, so a slot index is stable while the peer is connected); ids
 * sit in a chained hash table and, by their next deadline, in a binary
 * min-heap. Each peer slot heads two intrusive lists: the ids waiting on an
 * answer from it and the ids it sent us, so a peer leaving touches only its
 * own ids, never the whole table.
 */
#include "routing/route.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "routing/location.h"

struct route_entry {
	uint64_t id;
	uint8_t rkey[ROUTE_RKEY_SIZE];
	double keyloc;
	double expires;		/* arrival + ROUTE_LIFETIME */
	double hop_deadline;	/* INFINITY unless waiting: the ACCEPTED
				 * deadline, then (accepted) `expires` */
	double deadline;	/* heap key: the earlier of the two */
	size_t heap_idx;
	struct route_entry *hnext;		/* hash chain */
	struct route_entry *wprev, *wnext;	/* peers[wait_slot].waiting */
	struct route_entry *uprev, *unext;	/* peers[from_slot].upstream */
	route_peer_t from;	/* sender's handle (ROUTE_LOCAL if local) */
	route_peer_t waiting;	/* peer asked now, ROUTE_LOCAL if none */
	int from_slot;		/* -1: local, or the sender has gone */
	int wait_slot;		/* -1: not linked in a waiting list */
	route_peer_t tried[ROUTE_TRIES_MAX];
	uint8_t ntried;
	route_peer_t avoid;	/* local: not to be picked (a retry) */
	uint8_t htl;		/* htl to forward with */
	bool insert;
	bool local;
	bool accepted;		/* the peer asked now sent ACCEPTED */
	bool ended;		/* answered; kept for loop detection */
	struct route_entry *eprev, *enext;	/* ended list, oldest first */
};

struct route_peer {
	bool used;
	bool dec_max, dec_min;
	uint8_t nfoaf;
	route_peer_t handle;
	double loc;
	double foaf[ROUTE_FOAF_MAX];
	struct route_entry *waiting;	/* ids waiting on this peer */
	struct route_entry *upstream;	/* ids this peer sent us */
	size_t nlive;			/* ... not ended yet */
};

struct route {
	double my_loc;
	struct route_peer *peers;
	size_t nslots;		/* slots allocated (used or not) */
	size_t npeers;		/* slots used */
	struct route_entry **buckets;
	size_t nbuckets;	/* a power of two */
	size_t count;
	struct route_entry **heap;
	size_t heap_len, heap_cap;
	struct route_entry *ended_head, *ended_tail;
};

/* ---- small helpers ---- */

static bool
route_location_ok(double loc)
{
	return loc >= 0.0 && loc < 1.0;	/* false for NaN too */
}

static int
route_slot_find(const struct route *r, route_peer_t p)
{
	for (size_t s = 0; s < r->nslots; s++)
		if (r->peers[s].used && r->peers[s].handle == p)
			return (int)s;
	return -1;
}

static void
route_emit(struct route_action *out, size_t *n, enum route_what what,
    route_peer_t peer, enum route_msg msg, const struct route_entry *e,
    uint8_t htl, int status, bool deep)
{
	struct route_action *a = &out[(*n)++];

	memset(a, 0, sizeof(*a));
	a->what = what;
	a->peer = peer;
	a->msg = msg;
	a->id = e->id;
	memcpy(a->rkey, e->rkey, ROUTE_RKEY_SIZE);
	a->htl = htl;
	a->status = status;
	a->deep = deep;
}

/* DONE says which kind of local operation ended in its msg field. */
static enum route_msg
route_kind(bool insert)
{
	return insert ? ROUTE_MSG_INSERT : ROUTE_MSG_REQUEST;
}

/* ---- the heap of deadlines ---- */

static void
route_heap_swap(struct route *r, size_t a, size_t b)
{
	struct route_entry *t = r->heap[a];

	r->heap[a] = r->heap[b];
	r->heap[b] = t;
	r->heap[a]->heap_idx = a;
	r->heap[b]->heap_idx = b;
}

static void
route_heap_fix(struct route *r, size_t i)
{
	while (i > 0 && r->heap[(i - 1) / 2]->deadline > r->heap[i]->deadline) {
		route_heap_swap(r, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < r->heap_len && r->heap[l]->deadline < r->heap[m]->deadline)
			m = l;
		if (l + 1 < r->heap_len &&
		    r->heap[l + 1]->deadline < r->heap[m]->deadline)
			m = l + 1;
		if (m == i)
			return;
		route_heap_swap(r, i, m);
		i = m;
	}
}

/* Recomputes e's deadline after a change of its timers. */
static void
route_entry_retime(struct route *r, struct route_entry *e)
{
	e->deadline = e->hop_deadline < e->expires ? e->hop_deadline : e->expires;
	route_heap_fix(r, e->heap_idx);
}

/* ---- the id table ---- */

static size_t
route_bucket(const struct route *r, uint64_t id)
{
	/* splitmix64's finaliser: ids are random, but mixing keeps a peer's
	 * sequential ids from sharing low bits. */
	id ^= id >> 30;
	id *= 0xbf58476d1ce4e5b9ULL;
	id ^= id >> 27;
	id *= 0x94d049bb133111ebULL;
	id ^= id >> 31;
	return (size_t)(id & (r->nbuckets - 1));
}

static struct route_entry *
route_entry_find(const struct route *r, uint64_t id)
{
	struct route_entry *e = r->buckets[route_bucket(r, id)];

	while (e != NULL && e->id != id)
		e = e->hnext;
	return e;
}

/* Doubles the buckets when the table is as full as it has buckets;
 * amortised O(1) per id, and bounded by ROUTE_TABLE_MAX. */
static int
route_table_grow(struct route *r)
{
	size_t nb = r->nbuckets * 2;
	struct route_entry **b = calloc(nb, sizeof(*b));
	struct route_entry **old = r->buckets;
	size_t oldn = r->nbuckets;

	if (b == NULL)
		return ROUTE_ENOMEM;
	r->buckets = b;
	r->nbuckets = nb;
	for (size_t i = 0; i < oldn; i++) {
		while (old[i] != NULL) {
			struct route_entry *e = old[i];
			size_t k = route_bucket(r, e->id);

			old[i] = e->hnext;
			e->hnext = b[k];
			b[k] = e;
		}
	}
	free(old);
	return ROUTE_OK;
}

static int
route_heap_grow(struct route *r)
{
	size_t nc = r->heap_cap ? r->heap_cap * 2 : 16;
	struct route_entry **h = realloc(r->heap, nc * sizeof(*h));

	if (h == NULL)
		return ROUTE_ENOMEM;
	r->heap = h;
	r->heap_cap = nc;
	return ROUTE_OK;
}

static void
route_list_unlink_wait(struct route *r, struct route_entry *e)
{
	if (e->wait_slot < 0)
		return;
	if (e->wprev != NULL)
		e->wprev->wnext = e->wnext;
	else
		r->peers[e->wait_slot].waiting = e->wnext;
	if (e->wnext != NULL)
		e->wnext->wprev = e->wprev;
	e->wprev = e->wnext = NULL;
	e->wait_slot = -1;
}

static void
route_list_unlink_upstream(struct route *r, struct route_entry *e)
{
	if (e->from_slot < 0)
		return;
	if (e->uprev != NULL)
		e->uprev->unext = e->unext;
	else
		r->peers[e->from_slot].upstream = e->unext;
	if (e->unext != NULL)
		e->unext->uprev = e->uprev;
	e->uprev = e->unext = NULL;
	e->from_slot = -1;
}

/* Makes the entry for a new id and puts it in the table, the heap and its
 * sender's list. NULL when out of memory. */
static struct route_entry *
route_entry_new(struct route *r, double now, uint64_t id,
    const uint8_t rkey[ROUTE_RKEY_SIZE], int from_slot, bool insert)
{
	struct route_entry *e;
	size_t k;

	if (r->count >= r->nbuckets && route_table_grow(r) != ROUTE_OK)
		return NULL;
	if (r->heap_len == r->heap_cap && route_heap_grow(r) != ROUTE_OK)
		return NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->id = id;
	memcpy(e->rkey, rkey, ROUTE_RKEY_SIZE);
	e->keyloc = location_of_rkey(rkey);
	e->expires = now + ROUTE_LIFETIME;
	e->hop_deadline = INFINITY;
	e->deadline = e->expires;
	e->insert = insert;
	e->local = from_slot < 0;
	e->from = e->local ? ROUTE_LOCAL : r->peers[from_slot].handle;
	e->from_slot = from_slot;
	e->wait_slot = -1;
	e->htl = ROUTE_HTL_MAX;
	if (from_slot >= 0) {
		r->peers[from_slot].nlive++;
		e->unext = r->peers[from_slot].upstream;
		if (e->unext != NULL)
			e->unext->uprev = e;
		r->peers[from_slot].upstream = e;
	}
	k = route_bucket(r, id);
	e->hnext = r->buckets[k];
	r->buckets[k] = e;
	r->count++;
	e->heap_idx = r->heap_len;
	r->heap[r->heap_len++] = e;
	route_heap_fix(r, e->heap_idx);
	return e;
}

static void
route_entry_free(struct route *r, struct route_entry *e)
{
	struct route_entry **pp = &r->buckets[route_bucket(r, e->id)];
	size_t i = e->heap_idx;

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	r->count--;
	if (e->ended) {
		if (e->eprev != NULL)
			e->eprev->enext = e->enext;
		else
			r->ended_head = e->enext;
		if (e->enext != NULL)
			e->enext->eprev = e->eprev;
		else
			r->ended_tail = e->eprev;
	} else if (e->from_slot >= 0) {
		r->peers[e->from_slot].nlive--;
	}
	route_list_unlink_wait(r, e);
	route_list_unlink_upstream(r, e);
	r->heap_len--;
	if (i != r->heap_len) {
		route_heap_swap(r, i, r->heap_len);
		route_heap_fix(r, i);
	}
	free(e);
}

/* ---- routing decisions ---- */

static bool
route_entry_tried(const struct route_entry *e, route_peer_t p)
{
	for (size_t i = 0; i < e->ntried; i++)
		if (e->tried[i] == p)
			return true;
	return false;
}

/* Where this id is known to have been, as seen from here: the sender's
 * location and those of the peers it was sent to (still linked). A FOAF
 * location among them draws nothing: the node there has the id already,
 * and would only answer LOOP. */
struct route_seen {
	double loc[ROUTE_TRIES_MAX + 1];
	size_t n;
};

static void
route_seen_of(const struct route *r, const struct route_entry *e,
    struct route_seen *seen)
{
	int s;

	seen->n = 0;
	if (e->from_slot >= 0)
		seen->loc[seen->n++] = r->peers[e->from_slot].loc;
	for (size_t i = 0; i < e->ntried; i++)
		if ((s = route_slot_find(r, e->tried[i])) >= 0)
			seen->loc[seen->n++] = r->peers[s].loc;
}

static bool
route_seen_has(const struct route_seen *seen, double loc)
{
	for (size_t i = 0; i < seen->n; i++)
		if (seen->loc[i] == loc)
			return true;
	return false;
}

/* A peer's score for a key: its own distance or, while the hop after it
 * still has HTL to go one further, the best of its peers' distances, not
 * counting the nodes this id has been at (seen). */
static double
route_peer_score(const struct route_peer *p, double keyloc, uint8_t htl,
    const struct route_seen *seen)
{
	double best = location_distance(p->loc, keyloc);

	for (size_t i = 0; htl > 1 && i < p->nfoaf; i++) {
		double d = location_distance(p->foaf[i], keyloc);

		/* Seen is looked in only for a location that would win. */
		if (d < best && !route_seen_has(seen, p->foaf[i]))
			best = d;
	}
	return best;
}

/*
 * The slot of the best untried peer for e that is not its sender, or -1:
 * the lowest score; of equal scores the peer itself closest to the key
 * (a node linked to us directly beats a peer that would pass it on to
 * it), then the lower slot, so the choice is deterministic. In a dense
 * network nearly every peer has the key's closest node among its FOAF,
 * so without the second rule the tie went to the lowest slot and a
 * request wandered; without `seen` every hop past that node was drawn
 * back to it (docs/protocol.md, "Routing").
 */
static int
route_pick_next(const struct route *r, const struct route_entry *e)
{
	double best = INFINITY, best_own = INFINITY;
	struct route_seen seen;
	int pick = -1;

	if (e->ntried >= ROUTE_TRIES_MAX)
		return -1;
	route_seen_of(r, e, &seen);
	for (size_t s = 0; s < r->nslots; s++) {
		const struct route_peer *p = &r->peers[s];
		double d, own;

		if (!p->used || (!e->local && p->handle == e->from) ||
		    p->handle == e->avoid || route_entry_tried(e, p->handle))
			continue;
		d = route_peer_score(p, e->keyloc, e->htl, &seen);
		own = location_distance(p->loc, e->keyloc);
		if (d < best || (d == best && own < best_own)) {
			best = d;
			best_own = own;
			pick = (int)s;
		}
	}
	return pick;
}

/* The htl a relay forwards with, by the coins of the peer it came from:
 * a peer's requests at 18 (or at 1) are always or never decremented, so
 * no hop learns whether its predecessor started the request. */
static uint8_t
route_htl_next(const struct route_peer *from, uint8_t htl)
{
	if (htl > ROUTE_HTL_MAX)
		htl = ROUTE_HTL_MAX;
	if (htl == ROUTE_HTL_MAX)
		return from->dec_max ? htl - 1 : htl;
	if (htl == 1)
		return from->dec_min ? 0 : 1;
	return htl == 0 ? 0 : htl - 1;
}

/* True when this node is closer to the key than every connected peer. */
static bool
route_is_sink(const struct route *r, double keyloc)
{
	double mine = location_distance(r->my_loc, keyloc);

	for (size_t s = 0; s < r->nslots; s++)
		if (r->peers[s].used &&
		    location_distance(r->peers[s].loc, keyloc) <= mine)
			return false;
	return true;
}

static void
route_stop_waiting(struct route *r, struct route_entry *e)
{
	route_list_unlink_wait(r, e);
	e->waiting = ROUTE_LOCAL;
	e->accepted = false;
	e->hop_deadline = INFINITY;
	route_entry_retime(r, e);
}

/* Ends e: `msg` to its sender, or DONE `status` if it is ours. A sender
 * that has gone gets nothing. The entry stays for loop detection. */
static void
route_finish(struct route *r, struct route_entry *e, enum route_msg msg,
    uint8_t htl, enum route_status status, struct route_action *out,
    size_t *n)
{
	route_stop_waiting(r, e);
	if (e->from_slot >= 0)
		r->peers[e->from_slot].nlive--;
	e->ended = true;
	e->eprev = r->ended_tail;
	if (r->ended_tail != NULL)
		r->ended_tail->enext = e;
	else
		r->ended_head = e;
	r->ended_tail = e;
	if (e->local)
		route_emit(out, n, ROUTE_DONE, ROUTE_LOCAL, route_kind(e->insert),
		    e, 0, (int)status, false);
	else if (e->from_slot >= 0)
		route_emit(out, n, ROUTE_SEND, e->from, msg, e, htl, 0, false);
}

/* No peer is left for e (or its htl is spent, for an insert). */
static void
route_give_up(struct route *r, struct route_entry *e,
    struct route_action *out, size_t *n)
{
	if (e->insert)
		route_finish(r, e, ROUTE_MSG_INSERT_OK, 0, ROUTE_STATUS_RNF,
		    out, n);
	else
		route_finish(r, e, ROUTE_MSG_RNF, e->htl, ROUTE_STATUS_RNF,
		    out, n);
}

/* Sends e on to its best untried peer, or gives up. */
static void
route_forward(struct route *r, double now, struct route_entry *e,
    struct route_action *out, size_t *n)
{
	int s = route_pick_next(r, e);
	struct route_peer *p;

	if (s < 0) {
		route_give_up(r, e, out, n);
		return;
	}
	p = &r->peers[s];
	e->tried[e->ntried++] = p->handle;
	e->waiting = p->handle;
	e->wait_slot = s;
	e->wprev = NULL;
	e->wnext = p->waiting;
	if (e->wnext != NULL)
		e->wnext->wprev = e;
	p->waiting = e;
	/* The hop must say ACCEPTED within ROUTE_ACCEPT_TIMEOUT; a linked
	 * but silent peer costs that much, and only this hop. */
	e->accepted = false;
	e->hop_deadline = now + ROUTE_ACCEPT_TIMEOUT;
	route_entry_retime(r, e);
	route_emit(out, n, ROUTE_SEND, p->handle,
	    e->insert ? ROUTE_MSG_INSERT : ROUTE_MSG_REQUEST, e, e->htl, 0,
	    false);
}

/* The peer asked for e will not deliver (RNF, LOOP, timeout, gone): try
 * the next one with the htl left. */
static void
route_retry(struct route *r, double now, struct route_entry *e, uint8_t htl,
    struct route_action *out, size_t *n)
{
	route_stop_waiting(r, e);
	if (htl < e->htl)
		e->htl = htl;	/* a peer may lower the htl, never raise it */
	if (e->htl == 0) {
		if (e->insert)
			route_give_up(r, e, out, n);
		else
			route_finish(r, e, ROUTE_MSG_DNF, 0, ROUTE_STATUS_DNF,
			    out, n);
		return;
	}
	route_forward(r, now, e, out, n);
}

/* ---- public calls ---- */

int
route_new(struct route **out, double my_location)
{
	struct route *r = NULL;

	*out = NULL;
	if (!route_location_ok(my_location))
		return ROUTE_EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto fail;
	r->my_loc = my_location;
	r->nbuckets = 16;
	if ((r->buckets = calloc(r->nbuckets, sizeof(*r->buckets))) == NULL)
		goto fail;
	*out = r;
	return ROUTE_OK;
fail:
	route_free(r);
	return ROUTE_ENOMEM;
}

void
route_free(struct route *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; r->buckets != NULL && i < r->nbuckets; i++) {
		while (r->buckets[i] != NULL) {
			struct route_entry *e = r->buckets[i];

			r->buckets[i] = e->hnext;
			free(e);
		}
	}
	free(r->buckets);
	free(r->heap);
	free(r->peers);
	free(r);
}

int
route_peer_add(struct route *r, route_peer_t p, double location,
    bool decrement_at_max, bool decrement_at_min)
{
	size_t s;

	if (p == ROUTE_LOCAL || !route_location_ok(location))
		return ROUTE_EINVAL;
	if (route_slot_find(r, p) >= 0)
		return ROUTE_EEXIST;
	if (r->npeers >= ROUTE_PEERS_MAX)
		return ROUTE_EFULL;
	for (s = 0; s < r->nslots && r->peers[s].used; s++)
		;
	if (s == r->nslots) {
		size_t ns = r->nslots ? r->nslots * 2 : 8;
		struct route_peer *np;

		if (ns > ROUTE_PEERS_MAX)
			ns = ROUTE_PEERS_MAX;
		if ((np = realloc(r->peers, ns * sizeof(*np))) == NULL)
			return ROUTE_ENOMEM;
		memset(np + r->nslots, 0, (ns - r->nslots) * sizeof(*np));
		r->peers = np;
		r->nslots = ns;
	}
	memset(&r->peers[s], 0, sizeof(r->peers[s]));
	r->peers[s].used = true;
	r->peers[s].handle = p;
	r->peers[s].loc = location;
	r->peers[s].dec_max = decrement_at_max;
	r->peers[s].dec_min = decrement_at_min;
	r->npeers++;
	return ROUTE_OK;
}

int
route_peer_foaf(struct route *r, route_peer_t p, const double *locations,
    size_t n)
{
	int s = route_slot_find(r, p);
	struct route_peer *peer;

	if (s < 0)
		return ROUTE_ENOENT;
	if (n > ROUTE_FOAF_MAX)
		return ROUTE_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!route_location_ok(locations[i]))
			return ROUTE_EINVAL;
	peer = &r->peers[s];
	peer->nfoaf = 0;
	for (size_t i = 0; i < n; i++)
		/* We are in our peers' lists; scoring a peer by our own
		 * location would make every peer look as good as us. */
		if (locations[i] != r->my_loc)
			peer->foaf[peer->nfoaf++] = locations[i];
	return ROUTE_OK;
}

size_t
route_peer_remove(struct route *r, double now, route_peer_t p,
    struct route_action *out, size_t max)
{
	int s = route_slot_find(r, p);
	struct route_peer *peer;

	if (s < 0)
		return 0;
	peer = &r->peers[s];
	/* Ids waiting on it time out now; route_tick() moves them on in
	 * deadline order, however many there are. */
	while (peer->waiting != NULL) {
		struct route_entry *e = peer->waiting;

		route_list_unlink_wait(r, e);
		e->hop_deadline = now;
		route_entry_retime(r, e);
	}
	while (peer->upstream != NULL)
		route_list_unlink_upstream(r, peer->upstream);
	peer->nlive = 0;
	peer->used = false;
	r->npeers--;
	return route_tick(r, now, out, max);
}

/* The common start of a REQUEST or INSERT: checks, loop and table bound.
 * Returns the new entry, or NULL when the event was answered (or dropped)
 * already; *htl_next gets the htl to forward with. */
static struct route_entry *
route_start(struct route *r, double now, route_peer_t from, uint64_t id,
    const uint8_t rkey[ROUTE_RKEY_SIZE], uint8_t htl, bool insert,
    uint8_t *htl_next, struct route_action *out, size_t *n)
{
	int s = -1;
	struct route_entry tmp, *e;

	memset(&tmp, 0, sizeof(tmp));
	tmp.id = id;
	memcpy(tmp.rkey, rkey, ROUTE_RKEY_SIZE);
	if (from != ROUTE_LOCAL && (s = route_slot_find(r, from)) < 0)
		return NULL;
	*htl_next = s < 0 ? ROUTE_HTL_MAX : route_htl_next(&r->peers[s], htl);
	if (route_entry_find(r, id) != NULL) {
		if (s < 0)
			route_emit(out, n, ROUTE_DONE, ROUTE_LOCAL,
			    route_kind(insert), &tmp, 0, ROUTE_STATUS_REFUSED,
			    false);
		else
			route_emit(out, n, ROUTE_SEND, from, ROUTE_MSG_LOOP,
			    &tmp, 0, 0, false);
		return NULL;
	}
	/* Ended ids are kept only to answer a looping copy with LOOP: the
	 * oldest of them makes room for a live one (not for one refused
	 * anyway, so a peer past its share cannot wipe loop detection). */
	if (r->count >= ROUTE_TABLE_MAX && r->ended_head != NULL &&
	    (s < 0 || r->peers[s].nlive < ROUTE_PEER_SHARE))
		route_entry_free(r, r->ended_head);
	if (r->count >= ROUTE_TABLE_MAX ||
	    (s >= 0 && r->peers[s].nlive >= ROUTE_PEER_SHARE) ||
	    (e = route_entry_new(r, now, id, rkey, s, insert)) == NULL) {
		/* Full, the sender's share used up, or out of memory: refuse
		 * without spending HTL, so the sender tries elsewhere. */
		if (s < 0)
			route_emit(out, n, ROUTE_DONE, ROUTE_LOCAL,
			    route_kind(insert), &tmp, 0, ROUTE_STATUS_REFUSED,
			    false);
		else
			route_emit(out, n, ROUTE_SEND, from, ROUTE_MSG_RNF,
			    &tmp, htl > ROUTE_HTL_MAX ? ROUTE_HTL_MAX : htl,
			    0, false);
		return NULL;
	}
	e->htl = *htl_next;
	/* Taken: tell the sender at once, so it waits on this hop for the
	 * id's lifetime instead of timing it out. */
	if (s >= 0)
		route_emit(out, n, ROUTE_SEND, from, ROUTE_MSG_ACCEPTED, e, 0,
		    0, false);
	return e;
}

/* route_request() and route_request_avoiding(): avoid, if not
 * ROUTE_LOCAL, counts as tried already. */
static size_t
route_request_from(struct route *r, double now, route_peer_t from,
    uint64_t id, const uint8_t rkey[ROUTE_RKEY_SIZE], uint8_t htl,
    route_peer_t avoid, struct route_action *out, size_t max)
{
	struct route_entry *e;
	uint8_t h;
	size_t n = 0;

	if (max < ROUTE_ACTIONS_MAX)
		return 0;
	e = route_start(r, now, from, id, rkey, htl, false, &h, out, &n);
	if (e == NULL)
		return n;
	if (avoid != ROUTE_LOCAL && r->npeers > 1 &&
	    route_slot_find(r, avoid) >= 0)
		e->avoid = avoid;
	if (h == 0)
		route_finish(r, e, ROUTE_MSG_DNF, 0, ROUTE_STATUS_DNF, out, &n);
	else
		route_forward(r, now, e, out, &n);
	return n;
}

size_t
route_request(struct route *r, double now, route_peer_t from, uint64_t id,
    const uint8_t rkey[ROUTE_RKEY_SIZE], uint8_t htl,
    struct route_action *out, size_t max)
{
	return route_request_from(r, now, from, id, rkey, htl, ROUTE_LOCAL,
	    out, max);
}

size_t
route_request_avoiding(struct route *r, double now, uint64_t id,
    const uint8_t rkey[ROUTE_RKEY_SIZE], route_peer_t avoid,
    struct route_action *out, size_t max)
{
	return route_request_from(r, now, ROUTE_LOCAL, id, rkey, 0, avoid,
	    out, max);
}

bool
route_lookup(const struct route *r, uint64_t id,
    uint8_t rkey[ROUTE_RKEY_SIZE])
{
	const struct route_entry *e = route_entry_find(r, id);

	if (e == NULL || e->ended)
		return false;
	memcpy(rkey, e->rkey, ROUTE_RKEY_SIZE);
	return true;
}

size_t
route_insert(struct route *r, double now, route_peer_t from, uint64_t id,
    const uint8_t rkey[ROUTE_RKEY_SIZE], uint8_t htl,
    struct route_action *out, size_t max)
{
	struct route_entry *e;
	uint8_t h;
	size_t n = 0;

	if (max < ROUTE_ACTIONS_MAX)
		return 0;
	e = route_start(r, now, from, id, rkey, htl, true, &h, out, &n);
	if (e == NULL)
		return n;
	if (!e->local)
		route_emit(out, &n, ROUTE_KEEP, ROUTE_LOCAL, ROUTE_MSG_INSERT,
		    e, 0, 0, route_is_sink(r, e->keyloc));
	if (h == 0)
		route_give_up(r, e, out, &n);	/* relays only: ends here */
	else
		route_forward(r, now, e, out, &n);
	return n;
}

size_t
route_reply(struct route *r, double now, route_peer_t from, uint64_t id,
    enum route_msg msg, uint8_t htl, struct route_action *out, size_t max)
{
	struct route_entry *e;
	size_t n = 0;

	if (max < ROUTE_ACTIONS_MAX)
		return 0;
	if ((e = route_entry_find(r, id)) == NULL || e->ended ||
	    from == ROUTE_LOCAL || route_slot_find(r, from) < 0)
		return 0;
	/* DATA is welcome from any peer we asked, also one that timed
	 * out; everything else only from the peer asked now. */
	if (msg == ROUTE_MSG_DATA) {
		if (e->insert || !route_entry_tried(e, from))
			return 0;
		if (!e->local)
			route_emit(out, &n, ROUTE_KEEP, ROUTE_LOCAL,
			    ROUTE_MSG_DATA, e, 0, 0, false);
		route_finish(r, e, ROUTE_MSG_DATA, 0, ROUTE_STATUS_FOUND,
		    out, &n);
		return n;
	}
	if (from != e->waiting)
		return 0;
	switch (msg) {
	case ROUTE_MSG_DNF:
		if (!e->insert)
			route_finish(r, e, ROUTE_MSG_DNF, 0, ROUTE_STATUS_DNF,
			    out, &n);
		break;
	case ROUTE_MSG_RNF:
		route_retry(r, now, e, htl, out, &n);
		break;
	case ROUTE_MSG_LOOP:
		route_retry(r, now, e, e->htl, out, &n);
		break;
	case ROUTE_MSG_ACCEPTED:
		/* The hop is alive and working on it: wait on it until the
		 * id's lifetime ends. A repeat changes nothing. */
		if (!e->accepted) {
			e->accepted = true;
			e->hop_deadline = e->expires;
			route_entry_retime(r, e);
		}
		break;
	case ROUTE_MSG_INSERT_OK:
		if (e->insert)
			route_finish(r, e, ROUTE_MSG_INSERT_OK, 0,
			    ROUTE_STATUS_STORED, out, &n);
		break;
	default:
		break;
	}
	return n;
}

size_t
route_tick(struct route *r, double now, struct route_action *out, size_t max)
{
	size_t n = 0;

	while (r->heap_len > 0 && r->heap[0]->deadline <= now &&
	    n + ROUTE_ACTIONS_MAX <= max) {
		struct route_entry *e = r->heap[0];

		if (e->expires <= now) {
			if (e->local && !e->ended)
				route_emit(out, &n, ROUTE_DONE, ROUTE_LOCAL,
				    route_kind(e->insert), e, 0,
				    ROUTE_STATUS_TIMEOUT, false);
			route_entry_free(r, e);
		} else {
			route_retry(r, now, e, e->htl, out, &n);
		}
	}
	return n;
}

double
route_next_wake(const struct route *r)
{
	return r->heap_len > 0 ? r->heap[0]->deadline : INFINITY;
}

size_t
route_peer_live(const struct route *r, route_peer_t p)
{
	int s = route_slot_find(r, p);

	return s < 0 ? 0 : r->peers[s].nlive;
}

size_t
route_table_count(const struct route *r)
{
	return r->count;
}
