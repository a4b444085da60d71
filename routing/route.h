/*
 * route.h - the request and insert routing engine (docs/protocol.md,
 * "Routing"): greedy routing on the location circle with backtracking,
 * hops-to-live, loop detection and the store/cache decision.
 *
 * A pure engine in the style of jech/dht: no sockets, no clock, no
 * randomness, no global state. The node feeds it events (a peer came or
 * went, a REQUEST / INSERT / reply arrived, time passed) with the current
 * time `now` (seconds, any origin, never decreasing) and gets back actions
 * to carry out, in order, in a caller-provided array:
 *   ROUTE_SEND  send `msg` for `id` to `peer`; `rkey` and `htl` fill the
 *               REQUEST / INSERT / RNF bodies (other messages, ACCEPTED
 *               among them, ignore them);
 *   ROUTE_DONE  a request or insert this node started (from ROUTE_LOCAL)
 *               ended with `status` (enum route_status); `msg` is
 *               ROUTE_MSG_REQUEST or ROUTE_MSG_INSERT; said once per id;
 *   ROUTE_KEEP  write the block of `id` / `rkey` to the store: `deep` true
 *               for the long-term store (this node is the insert's sink),
 *               false for the cache; `msg` is ROUTE_MSG_DATA or
 *               ROUTE_MSG_INSERT (how the block came). Never emitted for the node's own
 *               requests or inserts: a node does not cache its own traffic,
 *               so its cache tells a prober nothing about what it fetched.
 *
 * The caller's duties:
 *   - look in its own store before route_request(); a hit is answered with
 *     DATA by the caller (no ACCEPTED needed: DATA ends the hop) and never
 *     reaches the engine;
 *   - verify a DATA block against its routing key before route_reply();
 *   - for an insert, hold the block from route_insert() until the id's
 *     INSERT_OK or DONE is emitted, or at most ROUTE_LIFETIME seconds;
 *   - toss the two HTL coins (p = 1/2 and 1/4) once per peer connection;
 *   - give each connected peer a distinct nonzero handle, and re-add a
 *     reconnected peer as new (route_peer_remove, then route_peer_add);
 *   - call route_tick() at route_next_wake(), and again right away while
 *     route_next_wake() <= now (more was due than `max` had room for).
 *
 * Every event call except route_tick() and route_peer_remove() emits at
 * most ROUTE_ACTIONS_MAX actions; given less room (max < ROUTE_ACTIONS_MAX)
 * it does nothing and returns 0. Malformed or unexpected input from a peer
 * (unknown peer, unknown or finished id, a reply from a peer not asked) is
 * dropped: it returns 0 actions and changes nothing. Nothing here asserts
 * on peer input.
 *
 * Table. Each id is kept for ROUTE_LIFETIME seconds from its arrival, also
 * after it has ended (so a looping copy still gets LOOP), except that when
 * ROUTE_TABLE_MAX ids are kept the oldest ended one makes room for a new
 * one: ended ids bound nothing but loop detection, and keeping them all
 * would cap a node at ROUTE_TABLE_MAX ids a minute. Live ids are bounded
 * twice: ROUTE_TABLE_MAX in all, and ROUTE_PEER_SHARE sent by any one
 * peer, so one peer's flood cannot fill the table for everyone. Past
 * either, a peer's new REQUEST or INSERT is answered RNF with its htl
 * unchanged (so the sender tries another peer) and a local one ends with
 * DONE ROUTE_STATUS_REFUSED. The engine's
 * memory is O(peers + ids); each event costs O(1) table work plus a scan
 * of the peers (at most ROUTE_PEERS_MAX, each with <= ROUTE_FOAF_MAX FOAF
 * locations) and one for each peer the id tried (at most
 * ROUTE_TRIES_MAX); timers sit in a binary heap.
 *
 * Each id tries at most ROUTE_TRIES_MAX peers; then it counts as having no
 * peer left.
 *
 * The next hop (docs/protocol.md, "Routing"): of the peers not tried for
 * the id and not its sender, the one with the lowest score, its own
 * distance to the key or, while HTL > 1, the least of its FOAF locations'
 * distances; a FOAF location that is the sender's or a tried peer's does
 * not count (that node has the id). Of equal scores the peer itself
 * closest to the key wins, then the lower slot.
 *
 * ACCEPTED (docs/protocol.md, "Routing"): a node that takes a peer's
 * REQUEST or INSERT into its table sends ACCEPTED for it to that peer at
 * once, before anything else for that id (not for LOOP, nor for the RNF of
 * a full table). A hop asked for an id has ROUTE_ACCEPT_TIMEOUT seconds to
 * say ACCEPTED, else it counts as RNF (htl kept); once it has, it is
 * waited on until the id's lifetime ends (ROUTE_LIFETIME from the id's
 * arrival here), since it is alive and working. So a linked but silent
 * peer costs ROUTE_ACCEPT_TIMEOUT at the one hop before it, and the hops
 * upstream, which were accepted, do not time out and branch.
 *
 * Ownership: route_new() makes a struct route; route_free() ends it and
 * accepts NULL. Actions are plain values; nothing points into the engine.
 * Errors: the int-returning calls return 0 or a negative ROUTE_E* code.
 */
#ifndef UMBRA_ROUTE_H
#define UMBRA_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTE_HTL_MAX 18
#define ROUTE_ACCEPT_TIMEOUT 5.0	/* s a hop has to say ACCEPTED */
#define ROUTE_LIFETIME 60.0	/* s an id stays in the table */
#define ROUTE_FOAF_MAX 32	/* FOAF locations per peer (HELLO carries 32) */
#define ROUTE_PEERS_MAX 256	/* connected peers */
#define ROUTE_TABLE_MAX 4096	/* ids in the table, live and ended */
#define ROUTE_PEER_SHARE 512	/* live ids one peer may have sent us */
#define ROUTE_TRIES_MAX 32	/* peers tried per id */
#define ROUTE_ACTIONS_MAX 3	/* actions one event call may emit */
#define ROUTE_RKEY_SIZE 32

typedef uint32_t route_peer_t;	/* the node's handle for a connected peer */
#define ROUTE_LOCAL ((route_peer_t)0)	/* "this node", as a sender */

enum route_err {
	ROUTE_OK = 0,
	ROUTE_EINVAL = -1,	/* bad argument (handle 0, location out of range) */
	ROUTE_EEXIST = -2,	/* peer handle already added */
	ROUTE_ENOENT = -3,	/* no such peer */
	ROUTE_EFULL = -4,	/* ROUTE_PEERS_MAX peers already */
	ROUTE_ENOMEM = -5,
};

enum route_msg {
	ROUTE_MSG_REQUEST,
	ROUTE_MSG_DATA,
	ROUTE_MSG_DNF,
	ROUTE_MSG_RNF,
	ROUTE_MSG_LOOP,
	ROUTE_MSG_INSERT,
	ROUTE_MSG_INSERT_OK,
	ROUTE_MSG_ACCEPTED,	/* the next hop took a REQUEST / INSERT */
};

enum route_what {
	ROUTE_SEND,
	ROUTE_DONE,
	ROUTE_KEEP,
};

enum route_status {
	ROUTE_STATUS_FOUND = 0,	/* request: DATA came back */
	ROUTE_STATUS_STORED,	/* insert: INSERT_OK came back */
	ROUTE_STATUS_DNF,	/* request: HTL ran out downstream */
	ROUTE_STATUS_RNF,	/* every peer tried (or none connected) */
	ROUTE_STATUS_TIMEOUT,	/* ROUTE_LIFETIME passed */
	ROUTE_STATUS_REFUSED,	/* table full, or the id is already in it */
};

struct route_action {
	enum route_what what;
	route_peer_t peer;	/* SEND: to whom */
	enum route_msg msg;	/* SEND */
	uint64_t id;
	uint8_t rkey[ROUTE_RKEY_SIZE];
	uint8_t htl;		/* SEND REQUEST / INSERT / RNF */
	int status;		/* DONE: enum route_status */
	bool deep;		/* KEEP: store (true) or cache (false) */
};

struct route;

/* Makes an engine for a node at my_location in [0, 1).
 * Returns 0, ROUTE_EINVAL or ROUTE_ENOMEM. */
int route_new(struct route **out, double my_location);
void route_free(struct route *r);

/* Adds a connected peer at `location` in [0, 1). The two coins say whether
 * requests from this peer are decremented at HTL 18 (tossed with p = 1/2)
 * and at HTL 1 (p = 1/4). Returns 0, ROUTE_EINVAL (p == ROUTE_LOCAL or a
 * bad location), ROUTE_EEXIST, ROUTE_EFULL or ROUTE_ENOMEM. */
int route_peer_add(struct route *r, route_peer_t p, double location,
    bool decrement_at_max, bool decrement_at_min);

/* Replaces peer p's FOAF locations (its own peers, from its HELLO) with
 * locations[0..n); n <= ROUTE_FOAF_MAX. Our own location is ignored in
 * them. Returns 0, ROUTE_ENOENT or ROUTE_EINVAL (n too big, or a location
 * out of range: then nothing changes). */
int route_peer_foaf(struct route *r, route_peer_t p, const double *locations,
    size_t n);

/* Peer p is gone. Ids waiting on it go on to their next peer as if it had
 * answered RNF (keeping their htl); ids it sent us still run, but their
 * answer is not sent anywhere. Works through route_tick(now): emits up to
 * max actions; if route_next_wake() <= now afterwards, call route_tick()
 * for the rest. Unknown p: 0. */
size_t route_peer_remove(struct route *r, double now, route_peer_t p,
    struct route_action *out, size_t max);

/* A REQUEST for rkey from peer `from` with `htl`, or from ROUTE_LOCAL to
 * start one (htl is then ignored: ROUTE_HTL_MAX). Called only when the
 * node's store does not hold rkey. From a peer, a new id first emits SEND
 * ACCEPTED to `from`; then SEND REQUEST to the next hop, or SEND RNF / DNF
 * back to `from`. A repeated id gets only SEND LOOP, a full table only
 * SEND RNF; a local request may end at once with DONE. */
size_t route_request(struct route *r, double now, route_peer_t from,
    uint64_t id, const uint8_t rkey[ROUTE_RKEY_SIZE], uint8_t htl,
    struct route_action *out, size_t max);

/* A local request (as route_request() from ROUTE_LOCAL) that counts peer
 * `avoid` as tried already, so a retry after a failure leaves by another
 * first hop; avoid is ignored while it is the only peer. */
size_t route_request_avoiding(struct route *r, double now, uint64_t id,
    const uint8_t rkey[ROUTE_RKEY_SIZE], route_peer_t avoid,
    struct route_action *out, size_t max);

/* True, with the routing key in rkey, if id is in the table and has not
 * ended: what a DATA reply for it must be checked against. */
bool route_lookup(const struct route *r, uint64_t id,
    uint8_t rkey[ROUTE_RKEY_SIZE]);

/* An INSERT of the block with routing key rkey (the caller holds it and has
 * verified it). A relay emits SEND ACCEPTED to `from` (as for a request:
 * not on LOOP or a full table), KEEP (deep at the sink, else cache), then
 * SEND INSERT to the next hop, or SEND INSERT_OK back when the insert ends
 * here (htl 0 or no peer left). A local insert emits no KEEP; it ends with
 * DONE STORED when INSERT_OK returns, DONE RNF if no peer took it. */
size_t route_insert(struct route *r, double now, route_peer_t from,
    uint64_t id, const uint8_t rkey[ROUTE_RKEY_SIZE], uint8_t htl,
    struct route_action *out, size_t max);

/* A reply for id from peer `from`: DATA (block verified by the caller;
 * accepted from any peer this id has tried), DNF, RNF with the htl left,
 * LOOP, INSERT_OK or ACCEPTED (accepted only from the peer being waited
 * on). ACCEPTED emits nothing: it moves that hop's deadline from
 * ROUTE_ACCEPT_TIMEOUT to the id's lifetime end; a repeat, or one that
 * comes after its hop timed out, is dropped. `htl` is read for RNF only. */
size_t route_reply(struct route *r, double now, route_peer_t from,
    uint64_t id, enum route_msg msg, uint8_t htl,
    struct route_action *out, size_t max);

/* Runs the timers due at `now`: a hop that did not say ACCEPTED within
 * ROUTE_ACCEPT_TIMEOUT counts as RNF from that peer (htl kept); an
 * accepted hop is not timed out, but an id ROUTE_LIFETIME old leaves
 * the table, silently, except a local one still running, which ends with
 * DONE TIMEOUT. Stops when nothing more is due or fewer than
 * ROUTE_ACTIONS_MAX slots of `out` are left; route_next_wake() <= now
 * then says more is due. Returns the number of actions. */
size_t route_tick(struct route *r, double now, struct route_action *out,
    size_t max);

/* Absolute time of the next deadline, or INFINITY when there is none. */
double route_next_wake(const struct route *r);

/* Live ids peer p sent us (0 for an unknown peer): the node watches it
 * to name a peer that floods. */
size_t route_peer_live(const struct route *r, route_peer_t p);

/* Ids in the table (live and ended), for tests and status. */
size_t route_table_count(const struct route *r);

#endif
