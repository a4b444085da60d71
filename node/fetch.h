/*
 * fetch.h - one document being read, from the store or else the network.
 *
 * The root block is needed before anything is answered (a wrong
 * decryption key or content not found is then a status, not a transfer cut
 * short): fetch_status() is 0 while it is on its way, then 200, 404 (not
 * found: the store lacks it, and requests that reached the network found
 * no node that has it), 422 (the URI's keys do not match the content),
 * 503 (it could not be asked: no peers, no onion path (paths.h), or a
 * routing table full on the way), 504 (the network did not answer in
 * time) or 500. fetch_why() says which in one line, naming what was
 * tried: never "not found" unless the network was searched.
 *
 * Then fetch_read() hands out the document in order. A block the store
 * lacks is requested from the network over a path of hops relays
 * (node/paths.h; 0: routed by this node itself); once one is, the
 * next FETCH_WINDOW blocks the decoder will want are requested in
 * parallel, and each arrives into its slot of the window, so memory is
 * bounded by FETCH_WINDOW blocks whatever the document's size (and by
 * FETCH_BLOCKS_MAX for all gets together: past it a get asks only for
 * the block it needs now). A block
 * that is not found is asked again, by another first hop, up to
 * FETCH_TRIES times while its first try is under FETCH_RETRY_FOR seconds
 * old; so a document that cannot be had fails within about
 * FETCH_RETRY_FOR + ROUTE_LIFETIME seconds (110 s). A block that found no
 * path (paths.h: no link, too few relays, none built) is not asked again:
 * it waited for one already, so such a get fails within PATHS_WAIT s.
 *
 * Keeping: with keep, every block that comes from the network is kept
 * in the store as LOCAL (store.h: evictable, never served to peers), so
 * that the browser's next read of the document (a reload, a seek, the
 * page after node/prefetch.h's progress page) is served from the store.
 * A document larger than half the store is not kept (it would push out
 * the whole cache; decided at open, by the length the URI gives).
 * Without keep nothing is kept: the origin caches nothing it fetches
 * (docs/onion.md).
 *
 * Waking: fetch_open() and fetch_read() never call wake. It is called
 * (from the loop) when fetch_status() leaves 0, and after fetch_read()
 * returned FETCH_AGAIN once the wanted block has come or failed.
 *
 * Ownership: fetch_open() / fetch_free() (accepts NULL; cancels the
 * requests in flight).
 */
#ifndef UMBRA_FETCH_H
#define UMBRA_FETCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "crypto/chk.h"

#define FETCH_WINDOW 32
#define FETCH_BLOCKS_MAX 512	/* blocks held by all gets (16 MiB) */
#define FETCH_TRIES 3
#define FETCH_RETRY_FOR 50.0
#define FETCH_AGAIN (-2)
#define FETCH_WHY_MAX 256

struct node;
struct fetch;

typedef void (*fetch_wake_fn)(void *arg);

int fetch_open(struct fetch **out, struct node *node,
    const struct chk_root *root, unsigned hops, bool keep,
    fetch_wake_fn wake, void *arg)
	__attribute__((warn_unused_result));
int fetch_status(const struct fetch *f);
/* After a failure (a status other than 0 and 200, or a read or
 * fetch_read_type() that returned -1): why, in one line, and in *status
 * (unless NULL) the HTTP status that says it (as fetch_status()); else
 * NULL. Valid until fetch_free(). */
const char *fetch_why(const struct fetch *f, int *status);
/* After status 200: reads a typed document's type record (chk.h,
 * CHK_FORMAT_TYPED), so an answer can name the type before the first
 * byte. 0 once done (at once for an untyped one), FETCH_AGAIN (wait for
 * wake), or -1 (failed: logged). */
int fetch_read_type(struct fetch *f) __attribute__((warn_unused_result));
/* Whether what comes is kept (keep was asked, and the document is not
 * too large for it). */
bool fetch_keeps(const struct fetch *f);
/* After fetch_read_type(): the stored media type, or NULL if none. */
const char *fetch_type(const struct fetch *f);
/* After fetch_read_type(): the document's length in bytes. */
uint64_t fetch_length(const struct fetch *f);
/* After fetch_read_type(): moves to document byte pos, dropping the
 * blocks in flight, so that a range costs the blocks of the range and
 * the few index blocks above it. -1 if the document is compressed (read
 * and drop the bytes before pos instead) or pos is past its end. */
int fetch_seek(struct fetch *f, uint64_t pos)
	__attribute__((warn_unused_result));
/* Up to max document bytes into buf: the count, 0 at the end, FETCH_AGAIN
 * (wait for wake), or -1 (failed: logged). */
ssize_t fetch_read(struct fetch *f, uint8_t *buf, size_t max);
void fetch_free(struct fetch *f);

#endif
