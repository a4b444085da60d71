/* transit.c - see transit.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto/chk.h"
#include "node/log.h"
#include "node/node.h"
#include "node/peers.h"
#include "node/relay.h"
#include "node/relays.h"
#include "node/transit.h"
#include "node/util.h"
#include "routing/route.h"

enum transit_state {
	TRANSIT_LINKING,	/* waiting for a link to the next hop */
	TRANSIT_BUILDING,	/* BUILD sent on, waiting for BUILT */
	TRANSIT_OPEN,
};

struct transit_path;

/* The exit's routing for one stream. */
struct transit_stream {
	struct transit_stream *next;
	struct transit_path *tp;
	uint64_t op;			/* relay_request/relay_insert id */
	uint32_t stream;
};

struct transit_path {
	struct transit_path *prev_l, *next_l;
	struct transit *t;
	struct peer *prev, *next;	/* next: NULL at the exit or LINKING */
	uint64_t prev_id, next_id;
	enum transit_state state;
	bool exit;
	struct onion_instr instr;	/* LINKING: whom to link to */
	uint8_t *build;			/* LINKING: the BUILD to pass on */
	struct onion_hop_keys keys;
	struct onion_dir fwd, back;
	double started, last_cell;
	struct transit_stream *streams;
	unsigned nstreams;
};

/* A token bucket: BUILDs a link, or all links, may have opened now. */
struct transit_bucket {
	double tokens, last;
};

/* Per link: its bucket, and the exit's streams of paths from it. */
struct transit_link {
	uint32_t handle;
	struct transit_bucket bucket;
	unsigned streams;
};

struct transit {
	struct node *node;
	struct transit_path *paths;
	size_t count;
	struct transit_bucket all;
	struct transit_link *links;
	size_t nlinks, caplinks;
	double last_limited;		/* a refusal was last logged */
	struct event *sweep_ev;
	uint8_t *buf;			/* ONION_CELL_LARGE_BYTES */
	uint8_t *block;			/* CHK_BLOCK_SIZE, from the store */
};

static uint64_t
transit_wall(void)
{
	time_t t = time(NULL);

	return t < 0 ? 0 : (uint64_t)t;
}

static void
transit_send_id(struct peer *p, uint8_t type, uint64_t id)
{
	struct link_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.built.id = id;	/* BUILT and BUILD_FAIL: one layout */
	(void)peers_send(p, &m);
}

/* Queues a cell to p; -1 if the link cannot take it now. */
static int
transit_send_cell(struct peer *p, uint64_t id, const uint8_t *payload,
    size_t size)
{
	struct link_msg m;

	if (peer_queued(p) + size > TRANSIT_QUEUE_LIMIT)
		return -1;
	memset(&m, 0, sizeof(m));
	if (size == ONION_CELL_LARGE_BYTES) {
		m.type = LINK_MSG_CELL_LARGE;
		m.cell_large.path_id = id;
		m.cell_large.payload = payload;
	} else {
		m.type = LINK_MSG_CELL;
		m.cell.path_id = id;
		m.cell.payload = payload;
	}
	return peers_send(p, &m);
}

/* The record of link p, or NULL if it has none. */
static struct transit_link *
transit_link_find(const struct transit *t, const struct peer *p)
{
	uint32_t h = peer_handle(p);

	for (size_t i = 0; i < t->nlinks; i++)
		if (t->links[i].handle == h)
			return &t->links[i];
	return NULL;
}

/* The record of link p, made (with a full bucket) at its first use;
 * NULL if out of memory. */
static struct transit_link *
transit_link_of(struct transit *t, const struct peer *p)
{
	struct transit_link *l;

	if ((l = transit_link_find(t, p)) != NULL)
		return l;
	if (t->nlinks == t->caplinks) {
		size_t cap = t->caplinks ? 2 * t->caplinks : 16;

		if ((l = realloc(t->links, cap * sizeof(*l))) == NULL)
			return NULL;
		t->links = l;
		t->caplinks = cap;
	}
	l = &t->links[t->nlinks++];
	memset(l, 0, sizeof(*l));
	l->handle = peer_handle(p);
	l->bucket.tokens = TRANSIT_BUILD_BURST;
	l->bucket.last = util_now();
	return l;
}

static void
transit_stream_free(struct transit_path *tp, struct transit_stream *s)
{
	struct transit_stream **pp = &tp->streams;
	/* A stream was counted in the record of its path's link. */
	struct transit_link *l = transit_link_find(tp->t, tp->prev);

	while (*pp != NULL && *pp != s)
		pp = &(*pp)->next;
	if (*pp == s) {
		*pp = s->next;
		tp->nstreams--;
		if (l != NULL && l->streams > 0)
			l->streams--;
	}
	free(s);
}

static void
transit_path_free(struct transit_path *tp)
{
	free(tp->build);
	onion_hop_keys_wipe(&tp->keys);
	onion_dir_wipe(&tp->fwd);
	onion_dir_wipe(&tp->back);
	free(tp);
}

/*
 * Ends tp: BUILD_FAIL to each neighbour but `from` (the one that ended
 * it, or the link going down; NULL for none), ids out of the table, the
 * exit's routing cancelled, keys wiped. why NULL: a quiet end.
 */
static void
transit_end(struct transit_path *tp, struct peer *from, const char *why)
{
	struct transit *t = tp->t;
	struct node *node = t->node;
	struct transit_stream *s;

	if (why != NULL)
		log_info("path through us ended: %s", why);
	if (tp->prev != from)
		transit_send_id(tp->prev, LINK_MSG_BUILD_FAIL, tp->prev_id);
	pathtab_del(node->pathtab, peer_handle(tp->prev), tp->prev_id);
	peer_path_release(tp->prev);
	if (tp->next != NULL) {
		if (tp->next != from)
			transit_send_id(tp->next, LINK_MSG_BUILD_FAIL,
			    tp->next_id);
		pathtab_del(node->pathtab, peer_handle(tp->next), tp->next_id);
		peer_path_release(tp->next);
	}
	while ((s = tp->streams) != NULL) {
		relay_cancel(node->relay, s->op);
		transit_stream_free(tp, s);
	}
	if (tp->prev_l != NULL)
		tp->prev_l->next_l = tp->next_l;
	else
		t->paths = tp->next_l;
	if (tp->next_l != NULL)
		tp->next_l->prev_l = tp->prev_l;
	t->count--;
	transit_path_free(tp);
}

/* ---- building ---- */

/* Passes the BUILD on to np, under an id of ours on that link. */
static void
transit_extend(struct transit_path *tp, struct peer *np)
{
	struct node *node = tp->t->node;
	struct link_msg m;

	tp->next_id = pathtab_fresh_id(node->pathtab, peer_handle(np),
	    node->id.pk, peer_pk(np));
	if (tp->next_id == 0 || pathtab_add(node->pathtab, peer_handle(np),
	    tp->next_id, PATHTAB_NEXT, tp) != 0) {
		transit_end(tp, NULL, "out of memory");
		return;
	}
	tp->next = np;
	peer_path_hold(np);
	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_BUILD;
	m.build.path_id = tp->next_id;
	m.build.records = tp->build;
	tp->state = TRANSIT_BUILDING;
	tp->started = util_now();
	if (peers_send(np, &m) != 0)
		return;		/* the link closes: its down ends tp */
	free(tp->build);
	tp->build = NULL;
}

/* Takes a token if there is one, after refilling at rate up to burst. */
static bool
transit_bucket_take(struct transit_bucket *b, double rate, double burst,
    double now)
{
	b->tokens += (now - b->last) * rate;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last = now;
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

static size_t
transit_built_by(const struct transit *t, const struct peer *p)
{
	size_t n = 0;

	for (const struct transit_path *tp = t->paths; tp != NULL;
	    tp = tp->next_l)
		if (tp->prev == p)
			n++;
	return n;
}

/* Whether a BUILD from p may be opened now: the path bounds, then the
 * rates. A refusal is logged at most every 10 s, so that a flood does
 * not flood the log. */
static bool
transit_may_open(struct transit *t, const struct peer *p)
{
	double now = util_now();
	struct transit_link *l = transit_link_of(t, p);
	const char *why = NULL;

	if (t->count >= TRANSIT_MAX)
		why = "relaying as many paths as we can";
	else if (transit_built_by(t, p) >= TRANSIT_PER_PEER)
		why = "too many paths from that peer";
	else if (l == NULL || !transit_bucket_take(&l->bucket,
	    TRANSIT_BUILD_RATE, TRANSIT_BUILD_BURST, now))
		why = "too many BUILDs from that peer";
	else if (!transit_bucket_take(&t->all, TRANSIT_OPEN_RATE,
	    TRANSIT_OPEN_BURST, now))
		why = "too many BUILDs in all";
	if (why != NULL && now - t->last_limited >= 10) {
		log_info("path: a BUILD refused: %s", why);
		t->last_limited = now;
	}
	return why == NULL;
}

/* A BUILD from p that we take: checked ids, a record that opened. */
static struct transit_path *
transit_path_new(struct transit *t, struct peer *p, uint64_t id)
{
	struct transit_path *tp = calloc(1, sizeof(*tp));

	if (tp == NULL || (tp->build = malloc(ONION_BUILD_BYTES)) == NULL ||
	    pathtab_add(t->node->pathtab, peer_handle(p), id, PATHTAB_PREV,
	    tp) != 0) {
		if (tp != NULL)
			free(tp->build);
		free(tp);
		return NULL;
	}
	tp->t = t;
	tp->prev = p;
	tp->prev_id = id;
	tp->started = tp->last_cell = util_now();
	peer_path_hold(p);
	tp->next_l = t->paths;
	if (t->paths != NULL)
		t->paths->prev_l = tp;
	t->paths = tp;
	t->count++;
	return tp;
}

/* Opens the record; 0, or -1 with a reason logged and BUILD_FAIL sent. */
static int
transit_open(struct transit *t, struct transit_path *tp,
    const struct link_msg *m)
{
	int rc;

	memcpy(tp->build, m->build.records, ONION_BUILD_BYTES);
	rc = relays_open_build(t->node->relays, tp->build, &tp->instr,
	    &tp->keys, transit_wall(), util_now());
	if (rc != 0) {
		transit_end(tp, NULL, rc == RELAYS_REPLAY ?
		    "a replayed BUILD" : rc == RELAYS_NOMEM ? "out of memory" :
		    onion_strerror(rc));
		return -1;
	}
	onion_dir_init(&tp->fwd, tp->keys.k_dig);
	onion_dir_init(&tp->back, tp->keys.k_dig);
	tp->exit = (tp->instr.flags & ONION_FLAG_EXIT) != 0;
	return 0;
}

void
transit_build(struct transit *t, struct peer *p, const struct link_msg *m)
{
	struct node *node = t->node;
	uint64_t id = m->build.path_id;
	enum pathtab_kind kind;
	struct transit_path *tp;
	struct peer *np;

	if (id == 0 || pathtab_ours(node->id.pk, peer_pk(p), id)) {
		peers_drop(p, "BUILD with a path id that is ours to choose");
		return;
	}
	if (pathtab_find(node->pathtab, peer_handle(p), id, &kind) != NULL) {
		peers_drop(p, "BUILD with a path id already in use");
		return;
	}
	if (!transit_may_open(t, p) ||
	    (tp = transit_path_new(t, p, id)) == NULL) {
		transit_send_id(p, LINK_MSG_BUILD_FAIL, id);
		return;
	}
	if (transit_open(t, tp, m) != 0)
		return;
	if (tp->exit) {
		free(tp->build);
		tp->build = NULL;
		tp->state = TRANSIT_OPEN;
		transit_send_id(p, LINK_MSG_BUILT, id);
		return;
	}
	if (memcmp(tp->instr.next_id, peer_pk(p), ONION_IDBYTES) == 0 ||
	    memcmp(tp->instr.next_id, node->id.pk, ONION_IDBYTES) == 0) {
		transit_end(tp, NULL, "a BUILD whose next hop is its last");
		return;
	}
	if ((np = peers_find(node->peers, tp->instr.next_id)) != NULL) {
		transit_extend(tp, np);
		return;
	}
	tp->state = TRANSIT_LINKING;
	if (peers_dial_path(node->peers, tp->instr.next_id, tp->instr.family,
	    tp->instr.addr, tp->instr.port) != 0)
		transit_end(tp, NULL, "cannot link to the next hop");
}

void
transit_peer_up(struct transit *t, struct peer *p)
{
	struct transit_path *tp, *next;

	for (tp = t->paths; tp != NULL; tp = next) {
		next = tp->next_l;
		if (tp->state == TRANSIT_LINKING && memcmp(tp->instr.next_id,
		    peer_pk(p), ONION_IDBYTES) == 0)
			transit_extend(tp, p);
	}
}

void
transit_peer_down(struct transit *t, struct peer *p)
{
	struct transit_path *tp, *next;
	struct transit_link *l;

	for (tp = t->paths; tp != NULL; tp = next) {
		next = tp->next_l;
		if (tp->prev == p || tp->next == p)
			transit_end(tp, p, NULL);
	}
	if ((l = transit_link_find(t, p)) != NULL)
		*l = t->links[--t->nlinks];
}

/* ---- the exit ---- */

/* One cell back toward the origin from the exit: 0, or -1 (tp ended). */
static int
transit_reply(struct transit_path *tp, uint32_t stream, uint8_t cmd,
    const uint8_t *body, size_t len)
{
	struct transit *t = tp->t;
	size_t size = len + ONION_CELL_HEADER_BYTES > ONION_CELL_SMALL_BYTES ?
	    ONION_CELL_LARGE_BYTES : ONION_CELL_SMALL_BYTES;

	if (onion_cell_format(t->buf, size, cmd, stream, body, len) != 0 ||
	    onion_cell_seal_back(&tp->keys, &tp->back, t->buf, size) != 0 ||
	    transit_send_cell(tp->prev, tp->prev_id, t->buf, size) != 0) {
		transit_end(tp, NULL, "the link back cannot take more cells");
		return -1;
	}
	return 0;
}

static void
transit_on_done(void *arg, int status, const uint8_t *block)
{
	struct transit_stream *s = arg;
	struct transit_path *tp = s->tp;
	uint32_t stream = s->stream;
	uint8_t st = (uint8_t)status;

	transit_stream_free(tp, s);
	if (status == ROUTE_STATUS_FOUND && block != NULL)
		(void)transit_reply(tp, stream, ONION_CMD_DATA, block,
		    CHK_BLOCK_SIZE);
	else if (status == ROUTE_STATUS_STORED)
		(void)transit_reply(tp, stream, ONION_CMD_STORED, NULL, 0);
	else
		(void)transit_reply(tp, stream, ONION_CMD_FAIL, &st, 1);
}

/* A REQUEST the store can answer: only from its CACHE part, as a relay
 * answers a peer. Returns true if answered. */
static bool
transit_from_store(struct transit_path *tp, uint32_t stream,
    const uint8_t *rkey)
{
	struct transit *t = tp->t;

	if (node_get_servable(t->node, rkey, t->block) != 0)
		return false;
	(void)transit_reply(tp, stream, ONION_CMD_DATA, t->block,
	    CHK_BLOCK_SIZE);
	return true;
}

static void
transit_exit_cell(struct transit_path *tp, size_t size)
{
	struct transit *t = tp->t;
	static const uint8_t refused = ROUTE_STATUS_REFUSED;
	struct transit_stream *s;
	struct transit_link *l;
	const uint8_t *body;
	uint32_t stream;
	uint8_t cmd;
	size_t len;
	int rc;

	if (onion_cell_parse(t->buf, size, &cmd, &stream, &body, &len) != 0 ||
	    !((cmd == ONION_CMD_REQUEST && len == CHK_KEY_SIZE) ||
	    (cmd == ONION_CMD_INSERT && len == CHK_BLOCK_SIZE))) {
		transit_end(tp, NULL, "a malformed cell at the exit");
		return;
	}
	for (s = tp->streams; s != NULL; s = s->next)
		if (s->stream == stream)
			break;
	if (s != NULL || tp->nstreams >= TRANSIT_STREAMS_MAX) {
		transit_end(tp, NULL, s != NULL ? "a stream id in use" :
		    "too many streams in flight");
		return;
	}
	if (cmd == ONION_CMD_REQUEST && transit_from_store(tp, stream, body))
		return;
	if ((l = transit_link_of(t, tp->prev)) == NULL ||
	    l->streams >= TRANSIT_LINK_STREAMS || (cmd == ONION_CMD_INSERT &&
	    relay_held_count(t->node->relay) >= RELAY_HELD_MAX / 2)) {
		(void)transit_reply(tp, stream, ONION_CMD_FAIL, &refused, 1);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		transit_end(tp, NULL, "out of memory");
		return;
	}
	s->tp = tp;
	s->stream = stream;
	rc = cmd == ONION_CMD_REQUEST ?
	    relay_request(t->node->relay, body, 0, transit_on_done, s, &s->op) :
	    relay_insert(t->node->relay, body, transit_on_done, s, &s->op);
	if (rc != 0) {
		free(s);
		transit_end(tp, NULL, "out of memory");
		return;
	}
	s->next = tp->streams;
	tp->streams = s;
	tp->nstreams++;
	l->streams++;
}

/* ---- cells ---- */

static void
transit_cell(struct transit_path *tp, enum pathtab_kind side,
    const struct link_msg *m)
{
	struct transit *t = tp->t;
	size_t size = m->type == LINK_MSG_CELL_LARGE ? ONION_CELL_LARGE_BYTES :
	    ONION_CELL_SMALL_BYTES;
	int rc;

	if (tp->state != TRANSIT_OPEN) {
		transit_end(tp, NULL, "a cell before the path was built");
		return;
	}
	tp->last_cell = util_now();
	memcpy(t->buf, m->cell.payload, size);
	if (side == PATHTAB_NEXT) {
		if (onion_cell_wrap_back(&tp->keys, &tp->back, t->buf,
		    size) != 0 || transit_send_cell(tp->prev, tp->prev_id,
		    t->buf, size) != 0)
			transit_end(tp, NULL, "the link back cannot take more "
			    "cells");
		return;
	}
	rc = onion_cell_peel_fwd(&tp->keys, &tp->fwd, t->buf, size);
	if (rc == ONION_CELL_RECOGNIZED && tp->exit)
		transit_exit_cell(tp, size);
	else if (rc == ONION_CELL_PASS_ON && !tp->exit) {
		if (transit_send_cell(tp->next, tp->next_id, t->buf, size) != 0)
			transit_end(tp, NULL, "the next link cannot take more "
			    "cells");
	} else
		transit_end(tp, NULL, tp->exit ? "a cell that does not "
		    "verify at the exit (altered, replayed or reordered)" :
		    "a cell recognized short of the exit");
}

void
transit_message(struct transit *t, void *arg, enum pathtab_kind side,
    struct peer *p, const struct link_msg *m)
{
	struct transit_path *tp = arg;

	(void)t;
	switch (m->type) {
	case LINK_MSG_BUILT:
		if (side != PATHTAB_NEXT || tp->state != TRANSIT_BUILDING) {
			transit_end(tp, NULL, "BUILT out of turn");
			return;
		}
		tp->state = TRANSIT_OPEN;
		tp->last_cell = util_now();
		transit_send_id(tp->prev, LINK_MSG_BUILT, tp->prev_id);
		break;
	case LINK_MSG_BUILD_FAIL:
		transit_end(tp, p, NULL);
		break;
	case LINK_MSG_CELL: case LINK_MSG_CELL_LARGE:
		transit_cell(tp, side, m);
		break;
	default:
		break;
	}
}

/* ---- upkeep ---- */

static void
transit_on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct transit *t = arg;
	struct transit_path *tp, *next;
	double now = util_now();

	(void)fd;
	(void)what;
	for (tp = t->paths; tp != NULL; tp = next) {
		next = tp->next_l;
		if (tp->state == TRANSIT_LINKING && !peers_dialing(t->node->peers,
		    tp->instr.next_id, tp->instr.family, tp->instr.addr,
		    tp->instr.port))
			transit_end(tp, NULL, "cannot link to the next hop");
		else if (tp->state != TRANSIT_OPEN &&
		    now - tp->started >= TRANSIT_BUILD_WAIT)
			transit_end(tp, NULL, "the next hop did not answer");
		else if (tp->state == TRANSIT_OPEN && tp->nstreams == 0 &&
		    now - tp->last_cell >= TRANSIT_IDLE)
			transit_end(tp, NULL, NULL);
	}
}

int
transit_new(struct transit **out, struct node *node)
{
	struct transit *t = calloc(1, sizeof(*t));
	struct timeval every = { 1, 0 };

	*out = NULL;
	if (t == NULL)
		return -1;
	t->node = node;
	t->all.tokens = TRANSIT_OPEN_BURST;
	t->all.last = util_now();
	t->last_limited = -1e18;
	t->buf = malloc(ONION_CELL_LARGE_BYTES);
	t->block = malloc(CHK_BLOCK_SIZE);
	t->sweep_ev = event_new(node->base, -1, EV_PERSIST, transit_on_sweep,
	    t);
	if (t->buf == NULL || t->block == NULL || t->sweep_ev == NULL ||
	    event_add(t->sweep_ev, &every) != 0) {
		transit_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void
transit_free(struct transit *t)
{
	struct transit_path *tp;

	if (t == NULL)
		return;
	while ((tp = t->paths) != NULL) {
		/* Links are gone by now: nothing to send, only to free. */
		while (tp->streams != NULL) {
			relay_cancel(t->node->relay, tp->streams->op);
			transit_stream_free(tp, tp->streams);
		}
		t->paths = tp->next_l;
		transit_path_free(tp);
	}
	if (t->sweep_ev != NULL)
		event_free(t->sweep_ev);
	free(t->buf);
	free(t->block);
	free(t->links);
	free(t);
}

size_t
transit_count(const struct transit *t)
{
	return t->count;
}
