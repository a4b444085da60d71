/*
 * peers.h - the node's peer links: listening, dialing, handshakes, frames,
 * keep-alives, peer exchange and the saved peer list (docs/protocol.md,
 * "Links" and "Peers").
 *
 * One struct peers per node, on the node's event loop. It owns:
 *   - the listening TCP socket (cfg->listen; port 0 picks one);
 *   - every link, inbound or outbound: non-blocking socket driven by raw
 *     libevent events (not bufferevents: their 4 KiB reads cap a link near
 *     540 MB/s), the crypto/link.h handshake (10 s bound), then frames;
 *   - the known-peer list: seeds from cfg, DIR/peers from an earlier run,
 *     and addresses learned from peers (PEERS); dialed with back-off;
 *   - keep-alives: PING after PEERS_PING_IDLE s without sending; a link
 *     that delivers nothing for PEERS_DEAD_AFTER s is closed.
 *
 * A link is "up" once the handshake has verified the peer's identity. Then
 * the layer sends HELLO (our listen port and our peers' public keys, FOAF),
 * PEERS (addresses we know) and SEEN (where we see the peer), and answers
 * PING itself.
 *
 * Dial-backs (docs/protocol.md, "Addresses"): peers_ask_probe() asks a
 * link's peer to dial us back at an address; it opens a *probe link*
 * there, pinned to our identity, and says the nonce (PROBED); we take a
 * link from that identity while its dial-back is awaited as the probe,
 * not as a second link, and call cb->probed(ok). A PROBE from a peer is
 * served the same way (one per PEERS_PROBE_EVERY s per link, at most
 * PEERS_PROBES_MAX at a time), and PROBE_FAIL goes back when the dial
 * did not get through. Probe links never come up: no HELLO, no routing,
 * no slot. Messages of the
 * routing types (REQUEST .. INSERT_OK) go to cb->message, RELAYS to
 * cb->relays, the path types (BUILD .. CELL_LARGE) to cb->path; HELLO
 * updates the peer's FOAF list and calls cb->foaf.
 *
 * Path links (docs/onion.md, "The build message"): a relay must reach
 * the next hop of a path even when it has no link to it.
 * peers_dial_path() dials it as a *path link*, which comes up even when
 * max_peers links are up; a node full of links that is dialed keeps the
 * refused link if its first path message is a BUILD. Path links count
 * apart from max_peers (at most PEERS_PATH_LINKS_MAX) and are closed once
 * no path has used them (peer_path_hold/release) for PEERS_PATH_IDLE s.
 * They carry routing like any other link, but are never named to other
 * peers (HELLO, PEERS) nor saved in DIR/peers: that would tell our
 * neighbours the first relays of our paths.
 *
 * Bad input closes the one link it came on, with a log line: a failed
 * handshake, a frame that does not open (truncated, oversized, replayed,
 * unknown class or type), a body that does not decode, a peer speaking
 * another protocol version, a second link to a peer already linked (the
 * one the lower public key dialed is kept), our own identity. A peer that
 * stops reading: its send queue is capped at PEERS_QUEUE_MAX bytes; a
 * send beyond that closes the link. All send queues together are capped
 * at PEERS_QUEUE_TOTAL_MAX (96 links of 4 MiB would pass the node's
 * 256 MiB): a send that would pass it closes the link furthest behind.
 *
 * Callbacks run on the loop; a callback may call peers_send() and
 * peers_drop() on any peer. After cb->down(p) returns, p is freed: the
 * caller drops every pointer to it there. peers_free() calls cb->down for
 * every live link. A link may come up and go down at once: a full node
 * refuses us after the handshake (we are up once it is verified), or two
 * links to one peer raced and ours is the one closed; cb->down follows
 * cb->up exactly once either way, and handles are never reused.
 *
 * Ownership: peers_new() / peers_free() (accepts NULL; closes every link
 * and saves DIR/peers).
 */
#ifndef UMBRA_PEERS_H
#define UMBRA_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "crypto/link.h"
#include "node/config.h"
#include "node/identity.h"

#define PEERS_PING_IDLE 2.0	/* s without sending before a PING */
#define PEERS_DEAD_AFTER 8.0	/* s without receiving before closing */
#define PEERS_QUEUE_MAX (4u << 20)	/* bytes queued to one peer */
#define PEERS_QUEUE_TOTAL_MAX (32u << 20)	/* ... to all of them */
#define PEERS_KNOWN_MAX 1024	/* addresses remembered */

struct peers;
struct peer;

struct peers_callbacks {
	/* A link is up: authenticated, HELLO sent. */
	void (*up)(void *arg, struct peer *p);
	/* A link that was up is closing; p is freed after this returns. */
	void (*down)(void *arg, struct peer *p);
	/* A routing message (types 10 to 21), decoded; block pointers in it
	 * are valid only during the call. */
	void (*message)(void *arg, struct peer *p, const struct link_msg *m);
	/* The peer's HELLO arrived: peer_foaf() has its new FOAF list. */
	void (*foaf)(void *arg, struct peer *p);
	/* A RELAYS (type 5) on a link that is up, decoded, descriptors not
	 * yet verified; optional (NULL: RELAYS are ignored). */
	void (*relays)(void *arg, struct peer *p, const struct link_msg *m);
	/* BUILD, BUILT, BUILD_FAIL, CELL, CELL_LARGE, decoded; pointers in
	 * it valid during the call only. NULL: such messages close the
	 * link. */
	void (*path)(void *arg, struct peer *p, const struct link_msg *m);
	/* The peer's SEEN: where it sees us. Optional. */
	void (*seen)(void *arg, struct peer *p, const struct link_netaddr *a);
	/* The dial-back asked of p with nonce got through (ok), or p says
	 * it could not dial (PROBE_FAIL). Optional. */
	void (*probed)(void *arg, struct peer *p, uint64_t nonce, bool ok);
};

struct peers_config {
	const char *datadir;		/* DIR/peers lives here */
	const char *listen;		/* HOST:PORT */
	const struct config_peer *seeds;
	size_t nseeds;
	unsigned max_peers;		/* links up at a time, inbound included */
	const struct identity *id;	/* kept by reference */
};

/* Opens the listening socket and starts dialing. On failure returns -1
 * with a one-line reason in why. */
int peers_new(struct peers **out, struct event_base *base,
    const struct peers_config *cfg, const struct peers_callbacks *cb,
    void *arg, char *why, size_t whylen);
void peers_free(struct peers *ps);

/* The address actually listened on, HOST:PORT (port 0 resolved). */
const char *peers_listen_address(const struct peers *ps);
/* The port HELLO says we can be dialed at (the listen port at first):
 * 0 while we know of no address peers reach us at, so that nobody
 * passes on an address of ours that no one can dial. */
void peers_set_hello_port(struct peers *ps, uint16_t port);
/* Links up. */
size_t peers_count(const struct peers *ps);
/* Calls fn for every link up, in no particular order. */
void peers_each(struct peers *ps, void (*fn)(void *arg, struct peer *p),
    void *arg);

/* Seals and queues msg to p. Returns 0, or -1 if the link is closing or
 * its queue would pass PEERS_QUEUE_MAX (the link is then closed: a peer
 * that does not read). */
int peers_send(struct peer *p, const struct link_msg *msg);
/* Bytes queued to p and not yet written to its socket. */
size_t peer_queued(const struct peer *p);
/* Closes p's link (soon, from the loop: safe inside a callback), logging
 * why. The address is dialed again later only after back-off. */
void peers_drop(struct peer *p, const char *why);

/* Asks p to dial us back at a, saying nonce there (PROBE). A link from
 * p's identity within PEERS_PROBE_WAIT s is taken as that dial-back.
 * Returns 0, or -1 if p is not up or closes. */
int peers_ask_probe(struct peer *p, uint64_t nonce,
    const struct link_netaddr *a);
/* The link up with this handle, or NULL. */
struct peer *peers_by_handle(struct peers *ps, uint32_t handle);

/* The link up to the node with this identity, or NULL. */
struct peer *peers_find(struct peers *ps,
    const uint8_t pk[LINK_PUBLICKEYBYTES]);
/* Dials the node with identity pk at ip (family 4: its first 4 bytes;
 * or 6) and port as a path link, unless it is linked or being dialed;
 * cb->up says when it is up. Returns 0, or -1 (ourselves, too many path
 * links, a bad address: logged). */
int peers_dial_path(struct peers *ps, const uint8_t pk[LINK_PUBLICKEYBYTES],
    uint8_t family, const uint8_t ip[16], uint16_t port);
/* Whether a link to pk (at ip and port, as for peers_dial_path) is being
 * dialed: not up yet, not failed. */
bool peers_dialing(const struct peers *ps,
    const uint8_t pk[LINK_PUBLICKEYBYTES], uint8_t family,
    const uint8_t ip[16], uint16_t port);
/* A path starts or stops using p: a path link with none left is closed
 * after PEERS_PATH_IDLE s. */
void peer_path_hold(struct peer *p);
void peer_path_release(struct peer *p);
bool peer_is_path_link(const struct peer *p);

/* Nonzero, distinct among the links up, never reused by this process. */
uint32_t peer_handle(const struct peer *p);
const uint8_t *peer_pk(const struct peer *p);	/* LINK_PUBLICKEYBYTES */
const char *peer_name(const struct peer *p);	/* base64url of pk */
double peer_location(const struct peer *p);
/* The peer's address as we reach it: HOST:PORT with its listen port. */
const char *peer_address(const struct peer *p);
bool peer_inbound(const struct peer *p);
/* Copies up to max FOAF locations (from its last HELLO) into locs. */
size_t peer_foaf(const struct peer *p, double *locs, size_t max);

#endif
