/*
 * docput.h - one document being inserted: encoder, batches, commits.
 *
 * Bytes come in (docput_write) from the HTTP body as they arrive; the
 * encoder turns them into blocks, which go to the store thread in batches
 * of DOCPUT_BATCH blocks, one durable transaction each (group commit),
 * written as TEMP. At most DOCPUT_INFLIGHT batches wait at a time: when
 * docput_busy() says so, the caller stops reading its client until wake
 * is called, so an upload of any size needs bounded memory (about
 * DOCPUT_INFLIGHT * 2 MiB plus the encoder's 1.5 MiB).
 *
 * docput_finish() ends the stream; once every batch is committed the tree
 * is walked and its blocks made the node's own (CLIENT) and the document
 * recorded as a pending insert, then wake is called and docput_result()
 * gives the URI. Only then has the put been made durable.
 *
 * docput_close() is the caller letting go, finished or not. An unfinished
 * put is given up: what it wrote becomes evictable CACHE. The struct frees
 * itself once the store thread holds nothing of it; wake is not called
 * after docput_close().
 */
#ifndef UMBRA_DOCPUT_H
#define UMBRA_DOCPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/uri.h"

#define DOCPUT_BATCH 64
#define DOCPUT_INFLIGHT 4

struct node;
struct docput;

typedef void (*docput_wake_fn)(void *arg);

/* name: the URI's name ("" or NULL for none); type: a media type stored
 * with the document (chk_encoder_set_type), "" or NULL for none. */
int docput_new(struct docput **out, struct node *node, const char *name,
    const char *type, docput_wake_fn wake, void *arg)
	__attribute__((warn_unused_result));
/* Takes len bytes. Fails (returns the HTTP status to answer) after an
 * earlier failure of this put. */
int docput_write(struct docput *p, const uint8_t *data, size_t len)
	__attribute__((warn_unused_result));
bool docput_busy(const struct docput *p);
int docput_finish(struct docput *p) __attribute__((warn_unused_result));
/* True once the put has ended; then *status is 200 or an HTTP error
 * status, and *text the URI (200) or a one-line error. */
bool docput_result(const struct docput *p, int *status, const char **text);
void docput_close(struct docput *p);

#endif
