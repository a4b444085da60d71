/*
 * transit.h - the paths this node relays for others, and the exit's
 * duties (docs/onion.md, "The build message", "Cells").
 *
 * A BUILD from a peer is opened with our onion key (node/relays.h, which
 * also refuses replays). Its record says whether we are the exit or which
 * node is next:
 *   - a middle relay links to the next hop (dialing it as a path link if
 *     need be), sends it the rewritten BUILD under a path id of its own,
 *     and passes BUILT back when it comes; cells are peeled (forward) or
 *     wrapped (backward) with this hop's layer and passed on;
 *   - the exit answers BUILT, and each cell it recognizes starts a stream:
 *     REQUEST is answered from the CACHE part of the store or routed as
 *     if this node had asked (node/relay.h); INSERT is routed the same
 *     way; each stream ends with one cell back (DATA, STORED or FAIL).
 * BUILD_FAIL tears a path down from either side and travels on to the
 * other (Tor's DESTROY).
 *
 * Bounds and bad input (each gets a log line): at most TRANSIT_MAX paths,
 * at most TRANSIT_PER_PEER of them built through one peer; past that a
 * BUILD gets BUILD_FAIL. Opening a BUILD costs an X25519 and a place in
 * the replay set (whose filling rotates the onion key), so BUILDs are
 * opened at TRANSIT_BUILD_RATE per s per link and TRANSIT_OPEN_RATE per
 * s in all (token buckets); past that, BUILD_FAIL without opening. A record that does not open or a replayed one:
 * BUILD_FAIL. A path id that is not the sender's to choose, or one
 * already live on the link: the link is dropped. A path whose next hop
 * cannot be linked (seen within a second) or does not answer within
 * TRANSIT_BUILD_WAIT s, a cell the exit
 * cannot recognize (altered, replayed, reordered: the layers' counters
 * and the digest no longer agree), a malformed cell, more than
 * TRANSIT_STREAMS_MAX streams in flight at the exit, or a link whose send
 * queue passes TRANSIT_QUEUE_LIMIT: the path is torn down (BUILD_FAIL to
 * both sides), never the link. A path without a cell for TRANSIT_IDLE s
 * ends quietly. The exit's routing is bounded like a peer's: at most
 * TRANSIT_LINK_STREAMS streams in flight on all the paths that came over
 * one link, and an INSERT only while the relay holds fewer than half of
 * RELAY_HELD_MAX blocks; past either, the stream gets FAIL (REFUSED) and
 * the path lives.
 *
 * A relay knows each path's neighbours and ids only: nothing here is
 * logged or shown that would name an origin.
 *
 * Ownership: transit_new() / transit_free() (accepts NULL; ends every path
 * without sending anything, cancelling the exit's routing).
 */
#ifndef UMBRA_TRANSIT_H
#define UMBRA_TRANSIT_H

#include <stddef.h>

#include "crypto/link.h"
#include "node/pathtab.h"

#define TRANSIT_MAX 4096
#define TRANSIT_PER_PEER 256
#define TRANSIT_BUILD_WAIT 10.0	/* s for the next hop's link and BUILT */
#define TRANSIT_IDLE 1200.0	/* s a path lives without a cell */
#define TRANSIT_STREAMS_MAX 64	/* exit: streams in flight on a path */
#define TRANSIT_LINK_STREAMS 256	/* ... on all paths from one link */
#define TRANSIT_QUEUE_LIMIT (3u << 20)	/* bytes queued to a link */
#define TRANSIT_BUILD_RATE 16.0	/* BUILDs opened per s from one link ... */
#define TRANSIT_BUILD_BURST 64.0	/* ... after a burst of this many */
#define TRANSIT_OPEN_RATE 200.0	/* BUILDs opened per s in all */
#define TRANSIT_OPEN_BURST 512.0

struct node;
struct peer;
struct transit;

int transit_new(struct transit **out, struct node *node)
	__attribute__((warn_unused_result));
void transit_free(struct transit *t);

/* A link came up: BUILDs waiting for it go on. */
void transit_peer_up(struct transit *t, struct peer *p);
/* A link is going: every path through it ends. */
void transit_peer_down(struct transit *t, struct peer *p);
/* A BUILD from p. */
void transit_build(struct transit *t, struct peer *p,
    const struct link_msg *m);
/* BUILT, BUILD_FAIL, CELL or CELL_LARGE from p for a path we relay: tp
 * and side are what pathtab_find() gave for (p, the message's path id). */
void transit_message(struct transit *t, void *tp, enum pathtab_kind side,
    struct peer *p, const struct link_msg *m);
/* Paths relayed, for status. */
size_t transit_count(const struct transit *t);

#endif
