/* paths.c - see paths.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/log.h"
#include "node/node.h"
#include "node/pathtab.h"
#include "node/paths.h"
#include "node/peers.h"
#include "node/relays.h"
#include "node/transit.h"
#include "node/util.h"
#include "routing/route.h"

#define PATHS_SLOTS (2 * PATHS_WINDOW)	/* streams a path can carry */
#define PATHS_SLOT_BITS 6		/* log2(PATHS_SLOTS) */
#define PATHS_PICK 64			/* descriptors drawn per build */

enum path_state { PATH_LINKING, PATH_BUILDING, PATH_READY };

struct path;

struct paths_op {
	struct paths_op *prev, *next;	/* ps->ops, oldest first */
	struct paths_op *dnext;		/* ps->done */
	struct paths *ps;
	uint64_t ticket;
	unsigned hops;
	bool insert;
	bool cancelled;			/* its slot waits for the answer */
	bool done_queued, calling;
	int status;			/* done_queued: for fn */
	uint8_t rkey[CHK_KEY_SIZE];
	uint8_t *block;			/* insert: a copy */
	relay_done_fn fn;
	void *arg;
	uint64_t relay_id;		/* hops 0 */
	struct path *path;		/* on a path, in slot stream & 63 */
	uint32_t stream;
	uint64_t avoid, used;
	double queued, sent;
	unsigned moves;
};

struct path {
	struct path *prev_l, *next_l;
	struct paths *ps;
	uint64_t serial;		/* ours, never 0; paths_used() */
	unsigned hops;
	enum path_state state;
	bool retiring;
	struct peer *first;		/* NULL while LINKING */
	uint64_t id;			/* on the first link */
	struct onion_desc relay[ONION_MAX_HOPS];
	struct onion_hop_keys keys[ONION_MAX_HOPS];
	struct onion_dir fwd, back;
	uint8_t *build;			/* LINKING: the BUILD to send */
	double started, ready_at;
	struct paths_op *slot[PATHS_SLOTS];
	unsigned nreq, nins;
	uint32_t gen;
};

struct paths {
	struct node *node;
	struct path *paths;
	struct paths_op *ops, *ops_tail;
	struct paths_op *done, *done_tail;
	uint64_t last_ticket, last_serial;
	double wanted[ONION_MAX_HOPS + 1];	/* last use of each hop count */
	double last_short;		/* "too few relays" last logged */
	const char *last_fail;		/* why the last path failed */
	struct event *kick_ev, *done_ev, *tick_ev;
	uint8_t *buf;			/* ONION_CELL_LARGE_BYTES */
};

static void paths_path_end(struct path *pa, struct peer *from,
    const char *why);

/* ---- operations ---- */

static struct paths_op *
paths_op_find(const struct paths *ps, uint64_t ticket)
{
	for (struct paths_op *op = ps->ops; op != NULL; op = op->next)
		if (op->ticket == ticket)
			return op;
	return NULL;
}

static void
paths_op_free(struct paths *ps, struct paths_op *op)
{
	struct paths_op **pp;

	if (op->done_queued) {
		for (pp = &ps->done; *pp != op; pp = &(*pp)->dnext)
			;
		*pp = op->dnext;
		if (ps->done_tail == op) {
			ps->done_tail = NULL;
			for (struct paths_op *o = ps->done; o != NULL;
			    o = o->dnext)
				ps->done_tail = o;
		}
	}
	if (op->prev != NULL)
		op->prev->next = op->next;
	else
		ps->ops = op->next;
	if (op->next != NULL)
		op->next->prev = op->prev;
	else
		ps->ops_tail = op->prev;
	free(op->block);
	free(op);
}

/* Takes op off its path's slot. */
static void
paths_op_unslot(struct paths_op *op)
{
	struct path *pa = op->path;

	if (pa == NULL)
		return;
	pa->slot[op->stream & (PATHS_SLOTS - 1)] = NULL;
	if (op->insert)
		pa->nins--;
	else
		pa->nreq--;
	op->path = NULL;
}

/* Ends op with status through the done event (fn never runs inside the
 * caller's call); a cancelled one just goes. */
static void
paths_op_finish(struct paths *ps, struct paths_op *op, int status)
{
	paths_op_unslot(op);
	if (op->cancelled) {
		paths_op_free(ps, op);
		return;
	}
	if (op->done_queued)
		return;
	op->done_queued = true;
	op->status = status;
	op->dnext = NULL;
	if (ps->done_tail != NULL)
		ps->done_tail->dnext = op;
	else
		ps->done = op;
	ps->done_tail = op;
	event_active(ps->done_ev, EV_TIMEOUT, 0);
}

static void
paths_on_done(evutil_socket_t fd, short what, void *arg)
{
	struct paths *ps = arg;
	struct paths_op *op;

	(void)fd;
	(void)what;
	while ((op = ps->done) != NULL) {
		ps->done = op->dnext;
		if (ps->done == NULL)
			ps->done_tail = NULL;
		op->done_queued = false;
		op->calling = true;
		op->fn(op->arg, op->status, NULL);
		paths_op_free(ps, op);
	}
}

/* The hops-0 answer from the relay. */
static void
paths_on_relay(void *arg, int status, const uint8_t *block)
{
	struct paths_op *op = arg;

	op->calling = true;
	op->fn(op->arg, status, block);
	paths_op_free(op->ps, op);
}

static struct paths_op *
paths_op_new(struct paths *ps, unsigned hops, relay_done_fn fn, void *arg,
    uint64_t *ticket)
{
	struct paths_op *op;

	if (hops > ONION_MAX_HOPS || (op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	op->ps = ps;
	op->ticket = ++ps->last_ticket;
	op->hops = hops;
	op->fn = fn;
	op->arg = arg;
	op->queued = util_now();
	op->prev = ps->ops_tail;
	if (ps->ops_tail != NULL)
		ps->ops_tail->next = op;
	else
		ps->ops = op;
	ps->ops_tail = op;
	*ticket = op->ticket;
	if (hops > 0) {
		ps->wanted[hops] = op->queued;
		event_active(ps->kick_ev, EV_TIMEOUT, 0);
	}
	return op;
}

int
paths_request(struct paths *ps, unsigned hops,
    const uint8_t rkey[CHK_KEY_SIZE], uint64_t avoid, relay_done_fn fn,
    void *arg, uint64_t *ticket)
{
	struct paths_op *op = paths_op_new(ps, hops, fn, arg, ticket);

	if (op == NULL)
		return -1;
	memcpy(op->rkey, rkey, CHK_KEY_SIZE);
	op->avoid = avoid;
	if (hops == 0 && relay_request(ps->node->relay, rkey,
	    (uint32_t)avoid, paths_on_relay, op, &op->relay_id) != 0) {
		paths_op_free(ps, op);
		return -1;
	}
	return 0;
}

int
paths_insert(struct paths *ps, unsigned hops,
    const uint8_t block[CHK_BLOCK_SIZE], relay_done_fn fn, void *arg,
    uint64_t *ticket)
{
	struct paths_op *op = paths_op_new(ps, hops, fn, arg, ticket);

	if (op == NULL)
		return -1;
	op->insert = true;
	if (hops == 0) {
		if (relay_insert(ps->node->relay, block, paths_on_relay, op,
		    &op->relay_id) != 0) {
			paths_op_free(ps, op);
			return -1;
		}
		return 0;
	}
	if ((op->block = malloc(CHK_BLOCK_SIZE)) == NULL ||
	    chk_block_rkey(block, op->rkey) != 0) {
		paths_op_free(ps, op);
		return -1;
	}
	memcpy(op->block, block, CHK_BLOCK_SIZE);
	return 0;
}

void
paths_cancel(struct paths *ps, uint64_t ticket)
{
	struct paths_op *op = paths_op_find(ps, ticket);

	if (op == NULL || op->calling)
		return;
	if (op->hops == 0) {
		relay_cancel(ps->node->relay, op->relay_id);
		paths_op_free(ps, op);
	} else if (op->path != NULL) {
		op->cancelled = true;	/* the exit still runs it */
	} else {
		paths_op_free(ps, op);
	}
}

uint64_t
paths_used(const struct paths *ps, uint64_t ticket)
{
	const struct paths_op *op = paths_op_find(ps, ticket);

	if (op == NULL)
		return 0;
	if (op->hops == 0)
		return relay_first_hop(ps->node->relay, op->relay_id);
	return op->used;
}

/* ---- paths: building ---- */

/* The /16 (IPv4) or /32 (IPv6) of a descriptor, tagged by family, or 0
 * on loopback, where every node of a test network shares one. In
 * 198.18.0.0/15 (RFC 2544: benchmarking, never routed on the Internet)
 * a /24 stands for a network, so that a test network there can hold
 * many (it has only two /16s) and still meets the rule. */
static uint64_t
paths_net_of(const struct onion_desc *d)
{
	uint32_t v;

	if (d->family == 4) {
		if (d->addr[0] == 127)
			return 0;
		if (d->addr[0] == 198 && (d->addr[1] & 0xfe) == 18)
			return (5ull << 32) | ((uint32_t)d->addr[1] << 8) |
			    d->addr[2];
		return (4ull << 32) | ((uint32_t)d->addr[0] << 8) | d->addr[1];
	}
	if (memcmp(d->addr, &in6addr_loopback, 16) == 0)
		return 0;
	memcpy(&v, d->addr, 4);
	return (6ull << 32) | ntohl(v);
}

/* The first of the n descriptors d that one path may hold together (no
 * two in one network), at most max: copied to out unless it is NULL;
 * returns how many. */
static size_t
paths_distinct(const struct onion_desc *d, size_t n, size_t max,
    struct onion_desc *out)
{
	uint64_t nets[ONION_MAX_HOPS];
	size_t k = 0;

	if (max > ONION_MAX_HOPS)
		max = ONION_MAX_HOPS;
	for (size_t i = 0; i < n && k < max; i++) {
		uint64_t net = paths_net_of(&d[i]);
		size_t j;

		for (j = 0; j < k && (net == 0 || nets[j] != net); j++)
			;
		if (j < k)
			continue;
		if (out != NULL)
			out[k] = d[i];
		nets[k++] = net;
	}
	return k;
}

size_t
paths_count_usable(const struct onion_desc *d, size_t n, size_t max)
{
	return paths_distinct(d, n, max, NULL);
}

/* Draws the relays of a new path: n distinct ones, no two in one
 * network. Returns false if the node knows too few. */
static bool
paths_choose(struct paths *ps, struct path *pa, unsigned n)
{
	struct onion_desc cand[PATHS_PICK];
	size_t got = relays_pick(ps->node->relays, PATHS_PICK, cand);

	return paths_distinct(cand, got, n, pa->relay) == n;
}

static struct path *
paths_path_new(struct paths *ps, unsigned hops)
{
	struct onion_build_hop bh[ONION_MAX_HOPS];
	struct path *pa = calloc(1, sizeof(*pa));

	if (pa == NULL || (pa->build = malloc(ONION_BUILD_BYTES)) == NULL)
		goto fail;
	pa->ps = ps;
	pa->hops = hops;
	if (!paths_choose(ps, pa, hops)) {
		if (util_now() - ps->last_short >= 60) {
			struct paths_counts c;
			char why[160];

			paths_counts(ps, hops, &c);
			paths_describe_relays(&c, why, sizeof(why));
			log_info("paths: no path of %u hops can be built: %s",
			    hops, why);
			ps->last_short = util_now();
		}
		goto fail;
	}
	memset(bh, 0, sizeof(bh));
	for (unsigned i = 0; i < hops; i++) {
		memcpy(bh[i].onion_pk, pa->relay[i].onion_pk,
		    ONION_PUBLICKEYBYTES);
		if (i + 1 == hops) {
			bh[i].instr.flags = ONION_FLAG_EXIT;
			continue;
		}
		memcpy(bh[i].instr.next_id, pa->relay[i + 1].identity,
		    ONION_IDBYTES);
		bh[i].instr.family = pa->relay[i + 1].family;
		memcpy(bh[i].instr.addr, pa->relay[i + 1].addr, ONION_ADDRBYTES);
		bh[i].instr.port = pa->relay[i + 1].port;
	}
	if (onion_build_make(bh, hops, pa->build, pa->keys) != 0)
		goto fail;
	sodium_memzero(bh, sizeof(bh));
	onion_dir_init(&pa->fwd, pa->keys[hops - 1].k_dig);
	onion_dir_init(&pa->back, pa->keys[hops - 1].k_dig);
	pa->serial = ++ps->last_serial;
	pa->started = util_now();
	pa->state = PATH_LINKING;
	pa->next_l = ps->paths;
	if (ps->paths != NULL)
		ps->paths->prev_l = pa;
	ps->paths = pa;
	return pa;
fail:
	sodium_memzero(bh, sizeof(bh));
	if (pa != NULL) {
		free(pa->build);
		sodium_memzero(pa->keys, sizeof(pa->keys));
	}
	free(pa);
	return NULL;
}

/* The first hop's link is up: send the BUILD. */
static void
paths_path_send(struct path *pa, struct peer *p)
{
	struct node *node = pa->ps->node;
	struct link_msg m;

	pa->id = pathtab_fresh_id(node->pathtab, peer_handle(p), node->id.pk,
	    peer_pk(p));
	if (pa->id == 0 || pathtab_add(node->pathtab, peer_handle(p), pa->id,
	    PATHTAB_OWN, pa) != 0) {
		paths_path_end(pa, NULL, "out of memory");
		return;
	}
	pa->first = p;
	peer_path_hold(p);
	pa->state = PATH_BUILDING;
	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_BUILD;
	m.build.path_id = pa->id;
	m.build.records = pa->build;
	(void)peers_send(p, &m);	/* a failure closes p: its down ends pa */
	free(pa->build);
	pa->build = NULL;
}

static void
paths_build(struct paths *ps, unsigned hops)
{
	struct path *pa = paths_path_new(ps, hops);
	struct peer *p;

	if (pa == NULL)
		return;
	log_debug("paths: building a path of %u", hops);
	if ((p = peers_find(ps->node->peers, pa->relay[0].identity)) != NULL)
		paths_path_send(pa, p);
	else if (peers_dial_path(ps->node->peers, pa->relay[0].identity,
	    pa->relay[0].family, pa->relay[0].addr, pa->relay[0].port) != 0)
		paths_path_end(pa, NULL, "cannot link to its first relay");
}

/* ---- paths: ending ---- */

static void
paths_path_free(struct path *pa)
{
	free(pa->build);
	sodium_memzero(pa->keys, sizeof(pa->keys));
	onion_dir_wipe(&pa->fwd);
	onion_dir_wipe(&pa->back);
	free(pa);
}

/* Ends pa: a teardown to the first hop unless from (the link that ended
 * it, or is going), and its streams go again elsewhere. why NULL: a
 * quiet end (retired, or at exit). */
static void
paths_path_end(struct path *pa, struct peer *from, const char *why)
{
	struct paths *ps = pa->ps;
	struct node *node = ps->node;
	struct paths_op *op;

	if (why != NULL) {
		log_info("paths: a path of %u failed: %s", pa->hops, why);
		ps->last_fail = why;
	}
	if (pa->first != NULL) {
		if (pa->first != from) {
			struct link_msg m;

			memset(&m, 0, sizeof(m));
			m.type = LINK_MSG_BUILD_FAIL;
			m.build_fail.id = pa->id;
			(void)peers_send(pa->first, &m);
		}
		pathtab_del(node->pathtab, peer_handle(pa->first), pa->id);
		peer_path_release(pa->first);
	}
	for (size_t i = 0; i < PATHS_SLOTS; i++) {
		if ((op = pa->slot[i]) == NULL)
			continue;
		paths_op_unslot(op);
		if (op->cancelled)
			paths_op_free(ps, op);
		else if (++op->moves > PATHS_MOVES)
			paths_op_finish(ps, op, PATHS_STATUS_LOST);
		else
			op->queued = util_now();	/* waits again */
	}
	if (pa->prev_l != NULL)
		pa->prev_l->next_l = pa->next_l;
	else
		ps->paths = pa->next_l;
	if (pa->next_l != NULL)
		pa->next_l->prev_l = pa->prev_l;
	paths_path_free(pa);
	event_active(ps->kick_ev, EV_TIMEOUT, 0);
}

/* ---- paths: streams ---- */

/* Sends op as a stream on pa: 0, or -1 if pa cannot take it now. */
static int
paths_op_send(struct paths *ps, struct path *pa, struct paths_op *op)
{
	size_t size = op->insert ? ONION_CELL_LARGE_BYTES :
	    ONION_CELL_SMALL_BYTES;
	struct link_msg m;
	unsigned i;

	for (i = 0; i < PATHS_SLOTS && pa->slot[i] != NULL; i++)
		;
	if (i == PATHS_SLOTS || peer_queued(pa->first) + size >
	    TRANSIT_QUEUE_LIMIT)
		return -1;
	op->stream = (++pa->gen << PATHS_SLOT_BITS) | i;
	if (onion_cell_format(ps->buf, size, op->insert ? ONION_CMD_INSERT :
	    ONION_CMD_REQUEST, op->stream, op->insert ? op->block : op->rkey,
	    op->insert ? CHK_BLOCK_SIZE : CHK_KEY_SIZE) != 0 ||
	    onion_cell_wrap_fwd(pa->keys, pa->hops, &pa->fwd, ps->buf,
	    size) != 0)
		return -1;
	memset(&m, 0, sizeof(m));
	m.type = op->insert ? LINK_MSG_CELL_LARGE : LINK_MSG_CELL;
	m.cell.path_id = pa->id;
	m.cell.payload = ps->buf;
	pa->slot[i] = op;
	op->path = pa;
	op->used = pa->serial;
	op->sent = util_now();
	if (op->insert)
		pa->nins++;
	else
		pa->nreq++;
	(void)peers_send(pa->first, &m);	/* a failure: pa ends at down */
	return 0;
}

/* The least busy ready path for op, not the one to avoid unless it is
 * the only one there is or will be. */
static struct path *
paths_pick(struct paths *ps, const struct paths_op *op)
{
	struct path *best = NULL, *avoided = NULL;
	bool coming = false;

	for (struct path *pa = ps->paths; pa != NULL; pa = pa->next_l) {
		if (pa->hops != op->hops || pa->retiring)
			continue;
		if (pa->state != PATH_READY) {
			coming = true;
			continue;
		}
		if ((op->insert ? pa->nins : pa->nreq) >= PATHS_WINDOW)
			continue;
		if (pa->serial == op->avoid) {
			avoided = pa;
			continue;
		}
		if (best == NULL || pa->nreq + pa->nins <
		    best->nreq + best->nins)
			best = pa;
	}
	return best != NULL ? best : coming ? NULL : avoided;
}


/* How many relays one path could hold now, drawn as paths_choose()
 * draws them. */
static size_t
paths_usable(struct paths *ps)
{
	struct onion_desc cand[PATHS_PICK];
	size_t got = relays_pick(ps->node->relays, PATHS_PICK, cand);

	return paths_count_usable(cand, got, ONION_MAX_HOPS);
}

/* Waiting operations onto paths. One waits for room on a path as long as
 * it takes (streams end within PATHS_OP_LIFETIME), but for a path to
 * exist at most PATHS_WAIT s, PATHS_FEW_WAIT s while none can be built
 * for want of relays, and not at all with no link. */
static void
paths_dispatch(struct paths *ps, double now)
{
	struct paths_op *op, *next;
	struct path *pa;
	bool linked = peers_count(ps->node->peers) > 0;
	bool ready[ONION_MAX_HOPS + 1] = { false };
	bool coming[ONION_MAX_HOPS + 1] = { false };
	size_t usable = SIZE_MAX;	/* not counted yet */

	/* Sending streams changes no path's state: this holds throughout. */
	for (pa = ps->paths; pa != NULL; pa = pa->next_l) {
		if (pa->retiring)
			continue;
		if (pa->state == PATH_READY)
			ready[pa->hops] = true;
		else
			coming[pa->hops] = true;
	}
	for (op = ps->ops; op != NULL; op = next) {
		next = op->next;
		if (op->hops == 0 || op->path != NULL || op->done_queued)
			continue;
		if ((pa = paths_pick(ps, op)) != NULL &&
		    paths_op_send(ps, pa, op) == 0)
			continue;
		if (ready[op->hops]) {
			op->queued = now;
			continue;
		}
		if (!linked) {
			paths_op_finish(ps, op, PATHS_STATUS_NOLINK);
			continue;
		}
		if (now - op->queued >= PATHS_FEW_WAIT && !coming[op->hops]) {
			if (usable == SIZE_MAX)
				usable = paths_usable(ps);
			if (usable < op->hops) {
				paths_op_finish(ps, op, PATHS_STATUS_FEW);
				continue;
			}
		}
		if (now - op->queued >= PATHS_WAIT)
			paths_op_finish(ps, op, PATHS_STATUS_UNBUILT);
	}
}

/* Keeps PATHS_POOL paths of each hop count in use; retires old ones. */
static void
paths_maintain(struct paths *ps, double now)
{
	unsigned have[ONION_MAX_HOPS + 1] = { 0 }, building = 0;
	struct path *pa, *next;

	for (pa = ps->paths; pa != NULL; pa = next) {
		next = pa->next_l;
		if (pa->state == PATH_LINKING && !peers_dialing(
		    ps->node->peers, pa->relay[0].identity, pa->relay[0].family,
		    pa->relay[0].addr, pa->relay[0].port)) {
			paths_path_end(pa, NULL, "cannot link to its first relay");
			continue;
		}
		if (pa->state != PATH_READY && now - pa->started >=
		    PATHS_BUILD_WAIT) {
			paths_path_end(pa, NULL, "not built in time");
			continue;
		}
		if (pa->state == PATH_READY && now - pa->ready_at >=
		    PATHS_LIFETIME)
			pa->retiring = true;
		if (pa->retiring && pa->nreq + pa->nins == 0) {
			paths_path_end(pa, NULL, NULL);
			continue;
		}
		if (!pa->retiring)
			have[pa->hops]++;
		if (pa->state != PATH_READY)
			building++;
	}
	if (peers_count(ps->node->peers) == 0)
		return;
	for (unsigned h = 1; h <= ONION_MAX_HOPS; h++) {
		if (h != PATHS_DEFAULT_HOPS && (ps->wanted[h] == 0 ||
		    now - ps->wanted[h] >= PATHS_LIFETIME))
			continue;
		for (; have[h] < PATHS_POOL && building < PATHS_BUILDS_MAX;
		    have[h]++, building++)
			paths_build(ps, h);
	}
}

static void
paths_on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct paths *ps = arg;
	double now = util_now();

	(void)fd;
	(void)what;
	paths_maintain(ps, now);
	paths_dispatch(ps, now);
}

/* Every second: an answer overdue on a path (the exit answers every
 * stream within its routing bound, so a relay on it drops cells) fails
 * its stream and ends the path; then as a kick. */
static void
paths_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct paths *ps = arg;
	double now = util_now();
	struct paths_op *op;
	struct path *pa;

	/* Each round ends a path, so the rounds are bounded. */
	for (;;) {
		for (op = ps->ops; op != NULL; op = op->next)
			if (op->path != NULL && now - op->sent >=
			    PATHS_OP_LIFETIME)
				break;
		if (op == NULL)
			break;
		pa = op->path;
		paths_op_finish(ps, op, ROUTE_STATUS_TIMEOUT);
		paths_path_end(pa, NULL, "no answer in time");
	}
	paths_on_kick(fd, what, arg);
}

/* ---- paths: what comes back ---- */

/* A cell of pa that opened: its stream's answer. */
static void
paths_answer(struct paths *ps, struct path *pa, size_t size)
{
	struct paths_op *op;
	const uint8_t *body;
	uint8_t cmd, rkey[CHK_KEY_SIZE];
	uint32_t stream;
	size_t len;

	if (onion_cell_parse(ps->buf, size, &cmd, &stream, &body, &len) != 0) {
		paths_path_end(pa, NULL, "a malformed cell");
		return;
	}
	op = pa->slot[stream & (PATHS_SLOTS - 1)];
	if (op == NULL || op->stream != stream)
		return;		/* we gave up on it (PATHS_OP_LIFETIME) */
	if (cmd == ONION_CMD_DATA && !op->insert && len == CHK_BLOCK_SIZE) {
		if (chk_block_rkey(body, rkey) != 0 ||
		    sodium_memcmp(rkey, op->rkey, CHK_KEY_SIZE) != 0) {
			paths_path_end(pa, NULL, "a block that is not the "
			    "one asked for");
			return;
		}
		paths_op_unslot(op);
		if (op->cancelled) {
			paths_op_free(ps, op);
			return;
		}
		op->calling = true;
		op->fn(op->arg, ROUTE_STATUS_FOUND, body);
		paths_op_free(ps, op);
	} else if (cmd == ONION_CMD_STORED && op->insert && len == 0) {
		paths_op_finish(ps, op, ROUTE_STATUS_STORED);
	} else if (cmd == ONION_CMD_FAIL && len == 1 &&
	    body[0] != ROUTE_STATUS_FOUND && body[0] != ROUTE_STATUS_STORED &&
	    body[0] <= ROUTE_STATUS_REFUSED) {
		paths_op_finish(ps, op, body[0]);
	} else {
		paths_path_end(pa, NULL, "an answer that does not fit");
		return;
	}
	event_active(ps->kick_ev, EV_TIMEOUT, 0);	/* room on pa */
}

void
paths_message(struct paths *ps, void *path, struct peer *p,
    const struct link_msg *m)
{
	struct path *pa = path;
	size_t size = m->type == LINK_MSG_CELL_LARGE ? ONION_CELL_LARGE_BYTES :
	    ONION_CELL_SMALL_BYTES;

	switch (m->type) {
	case LINK_MSG_BUILT:
		if (pa->state != PATH_BUILDING) {
			paths_path_end(pa, NULL, "BUILT out of turn");
			return;
		}
		pa->state = PATH_READY;
		pa->ready_at = util_now();
		log_debug("paths: a path of %u is built (%.0f ms)", pa->hops,
		    (pa->ready_at - pa->started) * 1e3);
		event_active(ps->kick_ev, EV_TIMEOUT, 0);
		break;
	case LINK_MSG_BUILD_FAIL:
		paths_path_end(pa, p, pa->state == PATH_READY ?
		    "torn down by a relay" : "a relay refused it or could not "
		    "reach the next");
		break;
	case LINK_MSG_CELL: case LINK_MSG_CELL_LARGE:
		if (pa->state != PATH_READY) {
			paths_path_end(pa, NULL, "a cell before BUILT");
			return;
		}
		memcpy(ps->buf, m->cell.payload, size);
		if (onion_cell_open_back(pa->keys, pa->hops, &pa->back,
		    ps->buf, size) != 0) {
			paths_path_end(pa, NULL, "a cell that does not open");
			return;
		}
		paths_answer(ps, pa, size);
		break;
	default:
		break;
	}
}

void
paths_peer_up(struct paths *ps, struct peer *p)
{
	struct path *pa, *next;

	for (pa = ps->paths; pa != NULL; pa = next) {
		next = pa->next_l;
		if (pa->state == PATH_LINKING && memcmp(pa->relay[0].identity,
		    peer_pk(p), ONION_IDBYTES) == 0)
			paths_path_send(pa, p);
	}
	event_active(ps->kick_ev, EV_TIMEOUT, 0);
}

void
paths_peer_down(struct paths *ps, struct peer *p)
{
	struct path *pa, *next;

	for (pa = ps->paths; pa != NULL; pa = next) {
		next = pa->next_l;
		if (pa->first == p)
			paths_path_end(pa, p, "its first link went down");
	}
}

bool
paths_have_ready(const struct paths *ps, unsigned hops)
{
	for (const struct path *pa = ps->paths; pa != NULL; pa = pa->next_l)
		if (pa->hops == hops && pa->state == PATH_READY &&
		    !pa->retiring)
			return true;
	return false;
}

void
paths_counts(struct paths *ps, unsigned hops, struct paths_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->hops = hops;
	c->peers = peers_count(ps->node->peers);
	c->known = relays_count(ps->node->relays);
	c->usable = paths_usable(ps);
	c->last_fail = ps->last_fail;
}

void
paths_describe_relays(const struct paths_counts *c, char *buf, size_t len)
{
	if (c->known == 0 && c->peers > 0)
		snprintf(buf, len, "0 relays known (none of its %zu peer%s "
		    "announces itself as one), %u needed", c->peers,
		    c->peers == 1 ? "" : "s", c->hops);
	else if (c->usable < c->known)
		snprintf(buf, len, "%zu relays known but only %zu in distinct "
		    "networks (no two relays of a path share a /16), %u needed",
		    c->known, c->usable, c->hops);
	else
		snprintf(buf, len, "%zu relay%s known, %u needed", c->known,
		    c->known == 1 ? "" : "s", c->hops);
}

void
paths_describe(int status, const struct paths_counts *c, char *buf,
    size_t len)
{
	char relays[160];

	paths_describe_relays(c, relays, sizeof(relays));
	switch (status) {
	case PATHS_STATUS_NOLINK:
		snprintf(buf, len, "no peers: this node has no link to the "
		    "network");
		break;
	case PATHS_STATUS_FEW:
		snprintf(buf, len, "no onion path of %u hops: %s", c->hops,
		    relays);
		break;
	case PATHS_STATUS_UNBUILT:
		snprintf(buf, len, "no onion path of %u hops could be built "
		    "within %.0f s (%zu relay%s known; %s%s)", c->hops,
		    PATHS_WAIT, c->known, c->known == 1 ? "" : "s",
		    c->last_fail != NULL ? "the last attempt failed: " :
		    "the builds are still under way",
		    c->last_fail != NULL ? c->last_fail : "");
		break;
	case PATHS_STATUS_LOST:
		snprintf(buf, len, "the onion paths of %u hops it went on "
		    "failed %d times (the last: %s)", c->hops, PATHS_MOVES + 1,
		    c->last_fail != NULL ? c->last_fail : "unknown");
		break;
	default:
		if (len > 0)
			buf[0] = '\0';
		break;
	}
}

size_t
paths_list(const struct paths *ps, struct paths_info *out, size_t max)
{
	double now = util_now();
	size_t n = 0;

	for (const struct path *pa = ps->paths; pa != NULL && n < max;
	    pa = pa->next_l, n++) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].hops = pa->hops;
		out[n].ready = pa->state == PATH_READY;
		out[n].age = now - (out[n].ready ? pa->ready_at : pa->started);
		out[n].streams = pa->nreq + pa->nins;
		for (unsigned i = 0; i < pa->hops; i++)
			memcpy(out[n].relays[i], pa->relay[i].identity,
			    ONION_IDBYTES);
	}
	return n;
}

/* ---- life ---- */

int
paths_new(struct paths **out, struct node *node)
{
	struct paths *ps = calloc(1, sizeof(*ps));
	struct timeval every = { 1, 0 };

	*out = NULL;
	if (ps == NULL)
		return -1;
	ps->node = node;
	ps->last_short = -1e18;
	ps->buf = malloc(ONION_CELL_LARGE_BYTES);
	ps->kick_ev = event_new(node->base, -1, 0, paths_on_kick, ps);
	ps->done_ev = event_new(node->base, -1, 0, paths_on_done, ps);
	ps->tick_ev = event_new(node->base, -1, EV_PERSIST, paths_on_tick, ps);
	if (ps->buf == NULL || ps->kick_ev == NULL || ps->done_ev == NULL ||
	    ps->tick_ev == NULL || event_add(ps->tick_ev, &every) != 0) {
		paths_free(ps);
		return -1;
	}
	*out = ps;
	return 0;
}

void
paths_free(struct paths *ps)
{
	struct path *pa;

	if (ps == NULL)
		return;
	while (ps->ops != NULL) {
		if (ps->ops->hops == 0)
			relay_cancel(ps->node->relay, ps->ops->relay_id);
		ps->ops->done_queued = false;
		paths_op_free(ps, ps->ops);
	}
	while ((pa = ps->paths) != NULL) {
		ps->paths = pa->next_l;
		paths_path_free(pa);
	}
	if (ps->kick_ev != NULL)
		event_free(ps->kick_ev);
	if (ps->done_ev != NULL)
		event_free(ps->done_ev);
	if (ps->tick_ev != NULL)
		event_free(ps->tick_ev);
	free(ps->buf);
	free(ps);
}
