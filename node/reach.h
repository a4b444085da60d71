/*
 * reach.h - the address this node announces, and whether peers can reach
 * it there (docs/protocol.md, "Addresses"; SPEC "Nodes on real networks").
 *
 * Each peer tells us, once its link is up, the address it sees us at
 * (SEEN). A node listening on an unspecified address (0.0.0.0, ::) takes
 * the address that the most links report, once at least REACH_QUORUM
 * distinct links agree on it, asks a link other than the first to report
 * it to dial us back there (PROBE; the dial-back link says the nonce,
 * PROBED), and only when that dial-back arrives announces it. An address
 * given by hand (--announce, or a specific --listen host) is announced at
 * once and only probed, to know whether it is reachable. A round of
 * probes asks up to REACH_TRIES links, each given REACH_PROBE_WAIT s;
 * when all fail the node is unreachable (a learned address is withdrawn)
 * and the round is tried again after a back-off (REACH_RETRY_MIN doubling
 * to REACH_RETRY_MAX). A confirmed address is probed again every
 * REACH_RECHECK s, and as soon as another address wins the reports (the
 * node moved): the new one replaces it once it is confirmed.
 *
 * Why one peer cannot make us announce a wrong address: its report is one
 * vote of the REACH_QUORUM needed, and the winner is still announced only
 * after a dial-back there reached us, asked of another link.
 *
 * The core (reach_link_* .. reach_tick) takes the time as an argument
 * and does no I/O: it asks through cb->probe and says through
 * cb->changed, so a unit test drives it with a scripted clock. The glue
 * (reach_start) ticks it every second on the loop.
 *
 * Ownership: reach_new() / reach_free() (accepts NULL). Strings returned
 * are valid until the next call that changes r.
 */
#ifndef UMBRA_REACH_H
#define UMBRA_REACH_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "crypto/link.h"

#define REACH_QUORUM 2		/* distinct links that must agree */
#define REACH_TRIES 3		/* links asked to dial back, per round */
#define REACH_PROBE_WAIT 12.0	/* s for one dial-back to arrive */
#define REACH_RETRY_MIN 30.0	/* s after a failed round, doubling ... */
#define REACH_RETRY_MAX 1800.0	/* ... up to this */
#define REACH_RECHECK 1800.0	/* s between probes of a confirmed address */
#define REACH_LINKS_MAX 320	/* links followed: max_peers + path links */
#define REACH_ADDR_MAX 64	/* "[v6]:port" */

enum reach_state {
	REACH_UNKNOWN = -1,	/* not probed yet */
	REACH_NO = 0,		/* a whole round of dial-backs failed */
	REACH_YES = 1,		/* a dial-back reached us */
};

struct reach_callbacks {
	/* Asks the link with this handle to dial us back at a with nonce
	 * (PROBE). Returns 0, or -1 if it cannot (another link is tried). */
	int (*probe)(void *arg, uint32_t handle, uint64_t nonce,
	    const struct link_netaddr *a);
	/* reach_address() or reach_reachable() changed. */
	void (*changed)(void *arg);
};

struct reach_config {
	const char *listen;	/* HOST:PORT listened on, port resolved */
	const char *announce;	/* HOST[:PORT] given by hand, or NULL */
};

struct reach;

/* Returns 0, or -1 with a one-line reason in why (an announce or listen
 * address that is not a numeric IP, out of memory). */
int reach_new(struct reach **out, const struct reach_config *cfg,
    const struct reach_callbacks *cb, void *arg, char *why, size_t whylen);
void reach_free(struct reach *r);

/* ---- the core ---- */

void reach_link_up(struct reach *r, uint32_t handle, double now);
void reach_link_down(struct reach *r, uint32_t handle, double now);
/* The link's SEEN: where it sees us (port 0: it did not dial us). */
void reach_link_seen(struct reach *r, uint32_t handle,
    const struct link_netaddr *a, double now);
/* The answer to a probe asked of handle: ok when its dial-back said the
 * nonce, not ok when the link answered PROBE_FAIL. Others are ignored. */
void reach_probed(struct reach *r, uint32_t handle, uint64_t nonce, bool ok,
    double now);
/* Times probes out and starts the next one when one is due. */
void reach_tick(struct reach *r, double now);

/* The address we announce, HOST:PORT, or NULL. */
const char *reach_address(const struct reach *r);
enum reach_state reach_reachable(const struct reach *r);
/* What the user can do about it, one line (status pages); NULL when
 * nothing is wrong. */
const char *reach_advice(const struct reach *r);

/* ---- the glue ---- */

/* Ticks r every second on base. Returns 0, or -1 out of memory. */
int reach_start(struct reach *r, struct event_base *base);

#endif
