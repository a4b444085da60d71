/*
 * relays.h - the node's onion key and the relay descriptors it knows
 * (docs/onion.md, "Keys").
 *
 * A struct relays holds:
 *   - the node's X25519 onion key, made at start and rotated every
 *     ONION_KEY_LIFETIME s; the previous key is kept until the next
 *     rotation (so ONION_KEY_LIFETIME more), then wiped. Each key opens
 *     BUILDs (relays_open_build) and remembers them, against replays. Secrets live
 *     only in memory: never on disk, never in a log line or the API;
 *   - its own descriptor (identity, onion key, not_after = wall clock +
 *     RELAYS_DESC_LIFETIME, the address node/reach.h confirmed or was
 *     given), signed with the identity; none while there is no address;
 *   - a cache of other nodes' verified, unexpired descriptors, at most
 *     RELAYS_CACHE_MAX, keyed by identity: a later not_after replaces an
 *     entry, the soonest to expire goes out when full, ours never enters;
 *   - gossip over the links: RELAYS with our descriptor and up to 11
 *     cached ones on every link up, after every rotation, and every
 *     RELAYS_GOSSIP_MIN..MAX s, and RELAYS_GOSSIP_SOON s after a RELAYS
 *     taught us a descriptor (so a new network learns its relays in
 *     seconds, not minutes). Of a link's RELAYS at most one per
 *     RELAYS_READ_EVERY s is read; more than RELAYS_RATE_DROP in
 *     RELAYS_RATE_WINDOW s, or more than RELAYS_BAD_MAX invalid
 *     descriptors, and the link is dropped (the bound per peer).
 *
 * The core (relays_set_address .. relays_receive) takes the clocks as
 * arguments and needs no loop: tests call it with base NULL. The glue
 * (relays_start, relays_peer_*) ties it to node/peers.h.
 *
 * Ownership: relays_new() / relays_free() (accepts NULL; wipes the keys).
 * Pointers returned by relays_own() are valid until the next call that
 * changes r.
 */
#ifndef UMBRA_RELAYS_H
#define UMBRA_RELAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "crypto/link.h"
#include "crypto/onion.h"
#include "node/identity.h"

#define ONION_KEY_LIFETIME (24 * 3600)	/* s between rotations */
#define RELAYS_DESC_LIFETIME (48 * 3600) /* our not_after, from now */
#define RELAYS_CACHE_MAX 1024
#define RELAYS_READ_EVERY 5.0	/* s: one RELAYS read per link */
#define RELAYS_RATE_WINDOW 30.0	/* s over which RELAYS are counted */
#define RELAYS_RATE_DROP 10	/* more in one window: drop the link */
#define RELAYS_BAD_MAX 3	/* invalid descriptors a link may send */
#define RELAYS_GOSSIP_MIN 60.0	/* s between unprompted RELAYS, ... */
#define RELAYS_GOSSIP_MAX 90.0	/* ... uniformly in between */
#define RELAYS_GOSSIP_SOON 5.0	/* s: a round this soon after learning */
#define RELAYS_REPLAY_MAX 65536	/* BUILDs remembered per onion key */
#define RELAYS_SEEN_BYTES 16	/* ... each as a keyed hash this long */
#define RELAYS_REPLAY (-100)	/* relays_open_build(): a replayed BUILD */
#define RELAYS_NOMEM (-101)	/* ... out of memory */

struct relays;
struct peers;
struct peer;

enum relays_verdict {
	RELAYS_READ = 0,	/* read: valid descriptors taken in */
	RELAYS_IGNORED = 1,	/* within the window of the last one read */
	RELAYS_DROP = 2,	/* the link misbehaves: drop it */
};

/* base NULL: no timers (tests). id is kept by reference. Makes the first
 * onion key. Returns 0, or -1 out of memory. */
int relays_new(struct relays **out, struct event_base *base,
    const struct identity *id);
void relays_free(struct relays *r);

/* ---- the core ---- */

/* Sets the address our descriptor announces, HOST:PORT with a numeric
 * host (reach_address()), and signs it with not_after = now +
 * RELAYS_DESC_LIFETIME. An unspecified or unparsable host: no descriptor
 * (returns 1). 0 on success, -1 on a signing failure. */
int relays_set_address(struct relays *r, const char *hostport, uint64_t now);
/* Makes a new onion key (the current one becomes the previous; the old
 * previous is wiped) and re-signs our descriptor. mono is util_now(). */
int relays_rotate(struct relays *r, uint64_t now, double mono);
/* Our descriptor, or NULL if we announce none. */
const struct onion_desc *relays_own(const struct relays *r);

/* Verifies d at now and caches it: 0 taken (new or newer), 1 not taken
 * (ours, or not newer than the entry held), or a negative ONION_E* code
 * from onion_desc_verify(). */
int relays_add(struct relays *r, const struct onion_desc *d, uint64_t now);
/* Drops cached descriptors whose not_after < now. */
void relays_expire(struct relays *r, uint64_t now);
/* Descriptors cached (ours not counted). */
size_t relays_count(const struct relays *r);
/* Seconds since the current onion key was made, mono as util_now(). */
double relays_key_age(const struct relays *r, double mono);
/* The secret half of our current or previous onion key whose public half
 * is onion_pk: 0 and sk_out filled, or -1 (no such key). Secret: the
 * caller wipes sk_out. */
int relays_onion_secret(const struct relays *r,
    const uint8_t onion_pk[ONION_PUBLICKEYBYTES],
    uint8_t sk_out[ONION_SECRETKEYBYTES])
	__attribute__((warn_unused_result));
/* Opens record 0 of a BUILD (onion_build_open()) with the current onion
 * key, else the previous one; a BUILD whose ephemeral key either key
 * already opened is refused, RELAYS_REPLAY: each key remembers those it
 * opened, at most RELAYS_REPLAY_MAX (the current key's set full: the keys
 * rotate, at now and mono; the previous key's: it is dropped), so the
 * sets stay bounded. 0 with *instr and *keys filled and msg
 * rewritten for the next hop, or a negative ONION_E* code, RELAYS_REPLAY
 * or RELAYS_NOMEM; on failure keys hold nothing. */
int relays_open_build(struct relays *r, uint8_t msg[ONION_BUILD_BYTES],
    struct onion_instr *instr, struct onion_hop_keys *keys, uint64_t now,
    double mono) __attribute__((warn_unused_result));
/* For tests: remember max BUILDs per key instead of RELAYS_REPLAY_MAX
 * (forgets those remembered, and the previous key). */
void relays_set_replay_max(struct relays *r, size_t max);
/* Copies min(n, relays_count()) distinct cached descriptors, chosen
 * uniformly at random, to out; returns how many. */
size_t relays_pick(const struct relays *r, size_t n, struct onion_desc *out);

/* Fills m with a RELAYS: our descriptor and up to LINK_RELAYS_MAX - 1
 * random cached ones. Returns the count (0: nothing to send). */
size_t relays_build_msg(const struct relays *r, struct link_msg *m);
/* A RELAYS from the link with this handle (peer_handle()), at wall clock
 * now and monotonic mono: the verdict, and on RELAYS_DROP a reason in
 * *why (a static string). Each invalid descriptor is logged (debug). */
enum relays_verdict relays_receive(struct relays *r, uint32_t handle,
    const struct link_msg *m, uint64_t now, double mono, const char **why);
/* Forgets the per-link state of handle. */
void relays_forget(struct relays *r, uint32_t handle);

/* ---- the glue ---- */

/* After peers_new(): starts the timers; RELAYS go over ps's links. */
void relays_start(struct relays *r, struct peers *ps);
/* Announces hostport (NULL: none, we are not reachable) in a newly
 * signed descriptor, and sends RELAYS on every link at once. */
void relays_announce(struct relays *r, const char *hostport);
void relays_peer_up(struct relays *r, struct peer *p);
void relays_peer_down(struct relays *r, struct peer *p);
void relays_peer_message(struct relays *r, struct peer *p,
    const struct link_msg *m);

#endif
