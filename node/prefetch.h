/*
 * prefetch.h - documents a browser opened, fetched whole into the node's
 * own cache while a progress page shows how far they are.
 *
 * A browser that opens a key (a navigation, not an image or a range)
 * would otherwise wait with nothing on screen until the first bytes
 * come, and a filtered page until its last. Instead the gateway starts
 * a job here and answers a progress page that reloads itself, unless
 * the job is done in its first turn (a document already in the store,
 * read up to PREFETCH_STEP at once) or the document is the node's own
 * (its root is CLIENT: all of it is here for good); the job reads the
 * document through
 * node/fetch.h with keep set, so every block lands in the store as LOCAL
 * (store.h: evictable, never served to peers), and the reload that finds
 * the job done is served from the store at once, as a reload or a seek
 * later is (FProxy does the same with its progress page).
 *
 * Bounds: at most PREFETCH_SLOTS jobs are known, PREFETCH_RUNNING_MAX of them
 * running; more: prefetch_look() says PREFETCH_NONE and the document is
 * streamed as it comes, as without this. A running job nobody asked
 * about for PREFETCH_IDLE seconds (the browser went away) is cancelled; a
 * finished one is remembered for PREFETCH_DONE_FOR seconds, a failed one
 * for PREFETCH_FAILED_FOR; a sweep every PREFETCH_IDLE / 3 seconds does
 * it when nobody asks. A document larger than half the store is not
 * kept (fetch.h; PREFETCH_STREAM: streamed as it comes).
 *
 * All from the loop thread. Ownership: prefetch_new() / prefetch_free()
 * (accepts NULL; cancels the jobs).
 */
#ifndef UMBRA_PREFETCH_H
#define UMBRA_PREFETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/chk.h"
#include "node/fetch.h"

#define PREFETCH_SLOTS 16
#define PREFETCH_RUNNING_MAX 4
#define PREFETCH_IDLE 30.0
#define PREFETCH_DONE_FOR 600.0
#define PREFETCH_FAILED_FOR 60.0
/* Document bytes read in one turn of the loop: a document already in
 * the store never makes a read wait, and must not hold the loop. */
#define PREFETCH_STEP (4u << 20)

struct node;
struct prefetch;

enum prefetch_state {
	PREFETCH_NONE,		/* no job (and none started) */
	PREFETCH_RUNNING,	/* on its way: show progress */
	PREFETCH_DONE,		/* all of it is in the store */
	PREFETCH_STREAM,	/* too large to keep: stream it */
	PREFETCH_FAILED,	/* status says why */
};

struct prefetch_info {
	enum prefetch_state state;
	int status;		/* FAILED: 404, 422, 503, 504 or 500 (fetch.h) */
	char why[FETCH_WHY_MAX]; /* FAILED: why, in one line (fetch_why()) */
	uint64_t got;		/* document bytes read so far */
	uint64_t length;	/* the document's length; 0 until known */
	double elapsed;		/* seconds since the job started */
};

int prefetch_new(struct prefetch **out, struct node *node)
	__attribute__((warn_unused_result));
void prefetch_free(struct prefetch *t);

/* What is known of the document with this root: its job's state, which
 * counts as asked about now. With start, a job is started (fetching over
 * paths of hops relays) when there is none, there is room and the
 * document is not the node's own, and runs its first turn at once; the
 * state is then that of the job. PREFETCH_NONE: serve it as it comes. */
void prefetch_look(struct prefetch *t, const struct chk_root *root,
    unsigned hops, bool start, struct prefetch_info *out);
/* Forgets the job of this root, if any (a failure, once shown). */
void prefetch_forget(struct prefetch *t, const struct chk_root *root);

#endif
