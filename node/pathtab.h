/*
 * pathtab.h - which path a path id on a link names (docs/onion.md,
 * "Path ids").
 *
 * A path id is chosen by the node that sends the BUILD on a link, and
 * both ends name the path by it. So that the ids the two ends of a link
 * choose never collide, the chooser sets bit 63 when its identity is the
 * lower (memcmp) of the two, and clears it otherwise
 * (pathtab_ours()). A node's table maps (link handle, id) to what the id
 * stands for there: one of its own paths (kind PATHTAB_OWN, whose first
 * hop is that link), or a path it relays, seen from the hop before it
 * (PATHTAB_PREV) or from the hop after it (PATHTAB_NEXT).
 *
 * A pure module: a hash table with a random SipHash key (so a peer cannot
 * pick ids that pile into one bucket), no clock, no sockets.
 *
 * Ownership: pathtab_new() / pathtab_free() (accepts NULL); the table
 * holds pointers it does not own.
 */
#ifndef UMBRA_PATHTAB_H
#define UMBRA_PATHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PATHTAB_SIDE_BIT (UINT64_C(1) << 63)

enum pathtab_kind {
	PATHTAB_OWN = 1,	/* node/paths.h: a path of ours */
	PATHTAB_PREV = 2,	/* node/transit.h: relayed, toward the origin */
	PATHTAB_NEXT = 3,	/* ... toward the exit */
};

struct pathtab;

int pathtab_new(struct pathtab **out) __attribute__((warn_unused_result));
void pathtab_free(struct pathtab *t);

/* Maps (handle, id) to ptr of kind. Returns 0, or -1 if the pair is taken
 * or out of memory. */
int pathtab_add(struct pathtab *t, uint32_t handle, uint64_t id,
    enum pathtab_kind kind, void *ptr) __attribute__((warn_unused_result));
/* What (handle, id) stands for, its kind in *kind; NULL if nothing. */
void *pathtab_find(const struct pathtab *t, uint32_t handle, uint64_t id,
    enum pathtab_kind *kind);
void pathtab_del(struct pathtab *t, uint32_t handle, uint64_t id);
size_t pathtab_count(const struct pathtab *t);

/* Whether an id with this bit 63 is one we choose on a link between our
 * identity and the peer's (32-byte public keys). */
bool pathtab_ours(const uint8_t *our_pk, const uint8_t *peer_pk, uint64_t id);
/* A random id free on the link, with our bit 63; 0 (never an id) if
 * none was found (a table this full cannot be). */
uint64_t pathtab_fresh_id(const struct pathtab *t, uint32_t handle,
    const uint8_t *our_pk, const uint8_t *peer_pk);

#endif
