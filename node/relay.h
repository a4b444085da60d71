/*
 * relay.h - the node's routing: the pure engine (routing/route.h) joined
 * to the peer links (node/peers.h) and the store.
 *
 * The relay is fed the links' events (relay_peer_*) and does what the
 * engine says: sends messages, keeps blocks, ends local requests. Its own
 * duties, which the engine leaves to the node (route.h, "The caller's
 * duties"):
 *   - a REQUEST for a block the store holds is answered with DATA here;
 *   - every block from a peer is checked against its routing key before
 *     the engine sees it (DATA against the id's key, INSERT against the
 *     hash of the block itself); a bad block closes that link;
 *   - an insert's block is held, with its routing key, until the insert
 *     ends here or the engine forgets it (its sender gone), at most
 *     RELAY_HELD_MAX at a time and RELAY_HELD_MAX / 8 from one peer;
 *     beyond that, or with the keep queue full, an INSERT is refused with
 *     RNF, its htl unchanged, so the sender tries elsewhere. An INSERT
 *     whose id this node holds a block for gets LOOP: a new block never
 *     takes an old id's place;
 *   - blocks to keep go to the store thread in batches (group commit), at
 *     most RELAY_KEEP_MAX waiting: caching DATA is best effort, and a
 *     node that cannot keep up skips it rather than grow. An INSERT_OK
 *     for a block still waiting is sent only once its batch is durable
 *     (RNF with no htl left if the write failed). The store has one LRU
 *     for what the network brings: a sink's copy ("deep") and a cached
 *     one are both kept as CACHE;
 *   - only CACHE blocks answer peers' requests: the node's own documents
 *     and puts in progress would tell a prober who published them, and
 *     what its reader fetched (LOCAL, relay_keep_local) what was read;
 *   - HTL coins are tossed once per link;
 *   - a peer past its share of the routing table (ROUTE_PEER_SHARE) is
 *     refused by the engine; the relay logs it, and drops a peer refused
 *     RELAY_FLOOD_DROP times in a minute.
 *
 * Local work: relay_request() fetches a block by routing key,
 * relay_insert() sends one into the network. Each calls fn(arg, status,
 * block) exactly once, later, from the loop (never from inside the call):
 * status is enum route_status; block is the verified ciphertext for
 * ROUTE_STATUS_FOUND (valid during the call only), else NULL. A caller
 * that goes away first calls relay_cancel() with the id it was given; fn
 * is then never called.
 *
 * Ownership: relay_new() / relay_free() (accepts NULL; cancels every
 * local waiter without calling it).
 */
#ifndef UMBRA_RELAY_H
#define UMBRA_RELAY_H

#include <stdint.h>

#include "crypto/chk.h"
#include "crypto/link.h"

#define RELAY_HELD_MAX 512	/* insert blocks held (16 MiB) */
#define RELAY_KEEP_MAX 256	/* blocks waiting for the store (8 MiB) */

struct node;
struct peer;
struct relay;

struct relay_counters {
	uint64_t requests_in;	/* REQUESTs from peers */
	uint64_t served;	/* ... answered from the store */
	uint64_t inserts_in;	/* INSERTs from peers */
	uint64_t local_requests, local_found;
	uint64_t local_inserts, local_stored;
	uint64_t bad_blocks;	/* blocks that failed verification */
	uint64_t kept, keep_skipped;
	uint64_t flood_drops;	/* links dropped for flooding */
};

typedef void (*relay_done_fn)(void *arg, int status, const uint8_t *block);

int relay_new(struct relay **out, struct node *node)
	__attribute__((warn_unused_result));
void relay_free(struct relay *r);

/* The peers.h callbacks. */
void relay_peer_up(struct relay *r, struct peer *p);
void relay_peer_down(struct relay *r, struct peer *p);
void relay_peer_foaf(struct relay *r, struct peer *p);
void relay_peer_message(struct relay *r, struct peer *p,
    const struct link_msg *m);

/* Starts fetching the block with this routing key from the network
 * (the caller looked in the store). avoid, if not 0, is a peer handle
 * not to ask first (the one a failed try went to; see relay_first_hop).
 * Sets *id. Returns 0, or -1 if it cannot start (out of memory). */
int relay_request(struct relay *r, const uint8_t rkey[CHK_KEY_SIZE],
    uint32_t avoid, relay_done_fn fn, void *arg, uint64_t *id)
	__attribute__((warn_unused_result));
/* Inserts one block (copied) into the network. */
int relay_insert(struct relay *r, const uint8_t block[CHK_BLOCK_SIZE],
    relay_done_fn fn, void *arg, uint64_t *id)
	__attribute__((warn_unused_result));
void relay_cancel(struct relay *r, uint64_t id);
/* Keeps a verified block this node fetched for its own reader, as LOCAL
 * (store.h): in the same batches as DATA, best effort, skipped once the
 * queue is half full (the other half stays for peers' inserts). */
void relay_keep_local(struct relay *r, const uint8_t rkey[CHK_KEY_SIZE],
    const uint8_t block[CHK_BLOCK_SIZE]);
/* The peer a local request went to first, or 0; valid until fn runs. */
uint32_t relay_first_hop(const struct relay *r, uint64_t id);

const struct relay_counters *relay_counters(const struct relay *r);
/* Insert blocks held now (at most RELAY_HELD_MAX from peers). */
size_t relay_held_count(const struct relay *r);
/* Ids in the routing table, for status. */
size_t relay_table_count(const struct relay *r);

#endif
