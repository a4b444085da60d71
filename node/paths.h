/*
 * paths.h - the node's own onion paths: every block its gets and puts
 * ask of the network goes through here (docs/onion.md, "Paths in use").
 *
 * An operation (paths_request, paths_insert) names a hop count. With 0
 * it goes straight to the relay (node/relay.h: the node routes it
 * itself, and is seen doing so). With N >= 1 it goes as a stream on one
 * of the node's paths of N relays, and its exit routes it.
 *
 * The pool: for each hop count in use (PATHS_DEFAULT_HOPS always, others
 * while an operation used them in the last PATHS_LIFETIME s) the node
 * keeps PATHS_POOL paths built. Relays are drawn uniformly from the
 * descriptors it knows (node/relays.h), distinct, never two in one /16
 * (IPv4) or /32 (IPv6) outside loopback. A path is replaced after
 * PATHS_LIFETIME s (it takes no new streams, and ends when its last one
 * has), and at once when it fails: BUILD_FAIL, no BUILT within
 * PATHS_BUILD_WAIT s, its first link gone, a cell that does not open or
 * a block that does not match its key. The streams of a failed path go
 * again on another (at most PATHS_MOVES times): a failed relay costs a
 * rebuild, not the operation.
 *
 * Flow control: at most PATHS_WINDOW requests and PATHS_WINDOW inserts in
 * flight on a path (the exit refuses more than twice that); the rest
 * wait for room. An operation waits at most PATHS_WAIT s for a path to
 * exist (at once it fails if the node has no link), and
 * PATHS_OP_LIFETIME s for its answer
 * (longer than the exit's own routing bound, so the exit has always
 * finished a stream whose slot is used again). A stream that gets no
 * answer in that time fails, and its path ends: a relay on it drops
 * cells.
 *
 * No path: an operation fails at once with PATHS_STATUS_NOLINK when the
 * node has no link; with PATHS_STATUS_FEW after PATHS_FEW_WAIT s (time
 * for a new link's RELAYS to come) while no path of its count exists or
 * is being built and the relays known are too few for one (counted as
 * the builder draws them: paths_count_usable()); with
 * PATHS_STATUS_UNBUILT when there would be relays enough but no path was
 * built within PATHS_WAIT s; and with PATHS_STATUS_LOST when the paths it
 * went on failed more than PATHS_MOVES times. paths_describe() says each
 * in one line, with the counts of paths_counts().
 *
 * Callbacks: fn(arg, status, block) exactly once, from the loop and never
 * inside the call that started the operation; status is enum
 * route_status, as the exit (or with hops 0 the node's own routing)
 * ended it, or a PATHS_STATUS_* above; block the verified block for
 * ROUTE_STATUS_FOUND, valid during the call. While fn runs, paths_used()
 * still answers for its ticket. paths_cancel() before that means fn is
 * never called.
 *
 * Ownership: paths_new() / paths_free() (accepts NULL; ends every path,
 * calls no callback).
 */
#ifndef UMBRA_PATHS_H
#define UMBRA_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/chk.h"
#include "crypto/link.h"
#include "node/relay.h"

#define PATHS_DEFAULT_HOPS 3
#define PATHS_POOL 2		/* paths kept per hop count */
#define PATHS_LIFETIME 600.0	/* s before a path is replaced */
#define PATHS_BUILD_WAIT 10.0	/* s for the first link and BUILT */
#define PATHS_WINDOW 32		/* requests, and inserts, per path */
#define PATHS_WAIT 20.0		/* s an operation waits for a path */
#define PATHS_FEW_WAIT 10.0	/* ... when too few relays are known */
#define PATHS_OP_LIFETIME 70.0	/* s for an answer on a path */
#define PATHS_MOVES 3		/* paths an operation may lose */
#define PATHS_BUILDS_MAX 8	/* builds in flight */

struct node;
struct peer;
struct paths;

/* Why no path carried an operation: statuses beyond enum route_status
 * (whose values stay below 16, as an exit's FAIL carries them). */
enum paths_status {
	PATHS_STATUS_NOLINK = 16,	/* the node has no link at all */
	PATHS_STATUS_FEW,		/* too few relays known for a path */
	PATHS_STATUS_UNBUILT,		/* relays enough, no path built */
	PATHS_STATUS_LOST,		/* its paths failed, PATHS_MOVES + 1 */
};

/* What the node had for paths of one hop count, for paths_describe(). */
struct paths_counts {
	unsigned hops;
	size_t peers;			/* links up */
	size_t known;			/* relay descriptors held (never ours) */
	size_t usable;			/* how many one path could hold */
	const char *last_fail;		/* the last path failure, or NULL */
};

/* One of the node's paths, for status: never shown by a relay. */
struct paths_info {
	unsigned hops;
	double age;			/* s since it was built (or begun) */
	bool ready;
	unsigned streams;		/* in flight */
	uint8_t relays[ONION_MAX_HOPS][ONION_IDBYTES];	/* first hop first */
};

int paths_new(struct paths **out, struct node *node)
	__attribute__((warn_unused_result));
void paths_free(struct paths *ps);

/* Fetches the block with this routing key over a path of hops relays (0:
 * none). avoid is a paths_used() value of a failed try, or 0. Sets
 * *ticket. Returns 0, or -1 (out of memory, or hops > ONION_MAX_HOPS). */
int paths_request(struct paths *ps, unsigned hops,
    const uint8_t rkey[CHK_KEY_SIZE], uint64_t avoid, relay_done_fn fn,
    void *arg, uint64_t *ticket) __attribute__((warn_unused_result));
/* Inserts one block (copied). */
int paths_insert(struct paths *ps, unsigned hops,
    const uint8_t block[CHK_BLOCK_SIZE], relay_done_fn fn, void *arg,
    uint64_t *ticket) __attribute__((warn_unused_result));
void paths_cancel(struct paths *ps, uint64_t ticket);
/* What the operation went through (its path, or with hops 0 its first
 * hop), to avoid on the next try; 0 if nothing yet. */
uint64_t paths_used(const struct paths *ps, uint64_t ticket);

/* The links' events. */
void paths_peer_up(struct paths *ps, struct peer *p);
void paths_peer_down(struct paths *ps, struct peer *p);
/* BUILT, BUILD_FAIL, CELL or CELL_LARGE from p for one of our paths
 * (pathtab_find() gave path, kind PATHTAB_OWN). */
void paths_message(struct paths *ps, void *path, struct peer *p,
    const struct link_msg *m);

/* True if a path of hops relays is ready (not retiring). */
bool paths_have_ready(const struct paths *ps, unsigned hops);
/* Fills *c for paths of hops relays, as things are now. */
void paths_counts(struct paths *ps, unsigned hops, struct paths_counts *c);

/* Pure. How many of the n descriptors d one path could hold: distinct
 * ones, no two in one /16 (IPv4; a /24 in 198.18.0.0/15) or /32 (IPv6)
 * outside loopback; counts no further than max. */
size_t paths_count_usable(const struct onion_desc *d, size_t n, size_t max);
/* Pure. The relays known and needed, as "1 relay known, 3 needed" (or
 * "5 relays known but only 2 in distinct networks ..."), into buf. */
void paths_describe_relays(const struct paths_counts *c, char *buf,
    size_t len);
/* Pure. One line for a PATHS_STATUS_* status, into buf (a route status
 * gives ""): e.g. "no onion path of 3 hops: 1 relay known, 3 needed". */
void paths_describe(int status, const struct paths_counts *c, char *buf,
    size_t len);

/* Copies up to max of our paths' descriptions; returns how many. */
size_t paths_list(const struct paths *ps, struct paths_info *out,
    size_t max);

#endif
