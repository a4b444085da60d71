/*
 * location.h - positions on the routing circle [0, 1).
 *
 * A node's location comes from its identity key and a block's from its
 * routing key, both through SHA-256 with distinct tags, so neither can be
 * chosen without grinding keys. Distance is circular: the shorter way
 * round. Pure functions; no state.
 */
#ifndef UMBRA_LOCATION_H
#define UMBRA_LOCATION_H

#include <stddef.h>
#include <stdint.h>

/* Location of a node from its 32-byte public identity key. */
double location_of_identity(const uint8_t pubkey[32]);
/* Location of a block from its 32-byte routing key. */
double location_of_rkey(const uint8_t rkey[32]);
/* Circular distance in [0, 0.5]. */
double location_distance(double a, double b);

#endif
