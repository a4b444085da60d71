/*
 * node.h - the running daemon: what every part of node/ shares.
 *
 * One struct node lives for the life of `umbra node`; node_run() builds
 * it from the settings, serves until SIGINT or SIGTERM, and takes it down
 * in order: HTTP, then the links, then the store thread (whose last
 * callbacks still reach the relay and the inserter), then those two, then
 * the store.
 */
#ifndef UMBRA_NODE_H
#define UMBRA_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "node/config.h"
#include "node/identity.h"
#include "store/store.h"

struct api;
struct inserter;
struct pathtab;
struct paths;
struct peers;
struct reach;
struct relay;
struct relays;
struct transit;
struct writer;

struct node_counters {
	uint64_t puts, puts_failed, put_bytes;
	uint64_t gets, gets_found, gets_not_found, get_bytes;
};

/* A request the status page lists (to its logged-in owner only). */
#define NODE_RECENT 16
struct node_recent {
	double when;			/* util_now(); 0: unused */
	bool put;
	int status;			/* the HTTP answer */
	uint64_t bytes;
	char key[12];			/* the routing key's first 11 chars */
};

struct node {
	struct node_config cfg;
	struct event_base *base;
	struct store *store;
	struct writer *writer;
	struct api *api;
	struct peers *peers;
	struct relay *relay;
	struct relays *relays;		/* onion key, descriptors */
	struct reach *reach;		/* our address, reachability */
	struct pathtab *pathtab;	/* path ids on links */
	struct paths *paths;		/* our own paths */
	struct transit *transit;	/* paths we relay */
	struct inserter *inserter;
	struct identity id;
	struct event *sig[2];		/* SIGINT, SIGTERM */
	double started;			/* util_now() at start */
	unsigned puts_active;
	size_t fetch_blocks;		/* held by gets (fetch.h) */
	bool release_wanted;		/* a put failed: release TEMP blocks */
	bool release_queued;		/* ... and the job to do it is queued */
	struct node_counters count;
	struct node_recent recent[NODE_RECENT];	/* a ring */
	unsigned recent_next;
};

/* Reads a block from the store as store_get_block() does, and checks it
 * against its routing key first: the disk can rot or be tampered with,
 * and a damaged block passed on would cost our links (peers verify) or
 * fail a get that the network could serve. A block that does not match
 * is logged, read as absent (STORE_ENOTFOUND) and removed on the store
 * thread, so it is fetched again like any missing block. */
int node_get_block(struct node *node, const uint8_t rkey[STORE_KEY_SIZE],
    uint8_t *out, enum store_kind *kind) __attribute__((warn_unused_result));

/* A block a peer (or a path's exit) may be given: only CACHE, what the
 * network gave this node. The node's own documents (CLIENT), puts in
 * progress (TEMP) and what its reader fetched (LOCAL) are exactly what a
 * neighbour probing for the author or the reader would ask for; they
 * read as absent, and the kind is looked at before the block is read,
 * so that such a request costs what a miss costs. */
int node_get_servable(struct node *node, const uint8_t rkey[STORE_KEY_SIZE],
    uint8_t *out) __attribute__((warn_unused_result));

/* Notes a get or put of the document with routing key rkey for the
 * status page. */
void node_note_request(struct node *node, bool put, int status,
    uint64_t bytes, const uint8_t rkey[STORE_KEY_SIZE]);

/* Runs the daemon with cfg (taken over by the node). Returns the exit
 * status for main(). */
int node_run(struct node_config *cfg);

#endif
