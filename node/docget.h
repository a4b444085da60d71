/*
 * docget.h - one document being read back, streaming, in order.
 *
 * Drives a chk_decoder (crypto/chk_decode.h) from the node's store: each
 * block is read when the decoder names it and checked against its key,
 * so the document is never whole in memory. This is the single-node
 * fetcher; blocks not held locally are not found.
 *
 * Ownership: docget_open() / docget_free() (accepts NULL).
 */
#ifndef UMBRA_DOCGET_H
#define UMBRA_DOCGET_H

#include <sys/types.h>

#include "crypto/chk.h"

struct node;
struct docget;

/* 0, or an HTTP status: 404 if the root block is not held, 422 if it
 * does not decrypt with the root's key (a wrong or altered URI), 500. */
int docget_open(struct docget **out, struct node *node,
    const struct chk_root *root) __attribute__((warn_unused_result));
/* Up to max bytes into buf: > 0 bytes, 0 at the verified end, -1 on a
 * failure (logged; the document cannot be completed). */
ssize_t docget_read(struct docget *g, uint8_t *buf, size_t max);
void docget_free(struct docget *g);

#endif
