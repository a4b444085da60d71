/*
 * insert.h - sends the node's own documents into the network.
 *
 * A put leaves its document in the store as CLIENT blocks with a pending
 * record (docput.h). The inserter walks each pending document's tree
 * (tree.h) and inserts every block over a path of the put's hop count
 * (node/paths.h; a record found at start goes by PATHS_DEFAULT_HOPS: the
 * count is not stored), INSERT_WINDOW at a time; a block that no peer
 * took is tried again up to INSERT_TRIES times.
 * When every block is acknowledged (INSERT_OK came back) the pending record
 * is deleted, durably: the document no longer depends on this node. A
 * document whose insert fails is tried again later, with back-off, and
 * whenever a link comes up (inserter_kick); nothing is lost, since its
 * record stays. Documents go one at a time, in the order they came;
 * pending records found at start are queued first.
 *
 * A block that found no onion path (node/paths.h: no link, too few
 * relays, none built) is not tried again: its document waits, and goes
 * as soon as a path of its count is ready (or after its back-off); the
 * other documents of that count wait with it.
 *
 * A put that waits for its document passes fn: it is called once, from
 * the loop, with true when the network has the document, or false when the
 * attempt failed or INSERT_WAIT_MAX seconds passed (the insert goes on
 * without it). With false comes why, one line that starts "not yet in the
 * network: " and says what happened (no peers; no path, with the relays
 * known and needed; blocks not acknowledged, and what came back; the
 * documents ahead of it), valid during the call. inserter_forget() is
 * the waiter leaving first.
 *
 * Ownership: inserter_new() / inserter_free() (accepts NULL; stops the
 * work, records stay; waiters are not called).
 */
#ifndef UMBRA_INSERT_H
#define UMBRA_INSERT_H

#include <stdbool.h>
#include <stdint.h>

#define INSERT_WINDOW 32
#define INSERT_TRIES 3
#define INSERT_WAIT_MAX 110.0	/* s a put waits for the network */
#define INSERT_RETRY_MIN 15.0	/* s before a failed document goes again */
#define INSERT_RETRY_MAX 600.0
#define INSERT_WHY_MAX 512	/* a waiter's why, with its NUL */
#define INSERT_WHY_NO_PEERS "not yet in the network: this node has no " \
	"peers; it is kept here and inserted when it has one"

struct node;
struct inserter;

typedef void (*insert_done_fn)(void *arg, bool inserted, const char *why);

int inserter_new(struct inserter **out, struct node *node)
	__attribute__((warn_unused_result));
void inserter_free(struct inserter *ins);
/* Queues the document with this URI (its pending record written). fn may
 * be NULL; else *ticket names the waiter for inserter_forget(). */
int inserter_add(struct inserter *ins, const char *uri, unsigned hops,
    insert_done_fn fn, void *arg, uint64_t *ticket)
	__attribute__((warn_unused_result));
void inserter_forget(struct inserter *ins, uint64_t ticket);
/* A link came up: documents waiting for peers go now. */
void inserter_kick(struct inserter *ins);

#endif
