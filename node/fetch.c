/* fetch.c - see fetch.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/chk_decode.h"
#include "node/fetch.h"
#include "node/log.h"
#include "node/node.h"
#include "node/paths.h"
#include "node/peers.h"
#include "node/relay.h"
#include "node/util.h"
#include "routing/route.h"

enum slot_state { SLOT_FREE, SLOT_WAIT, SLOT_HAVE, SLOT_FAILED };

struct fetch_slot {
	struct fetch *f;
	enum slot_state state;
	struct chk_ref ref;
	uint64_t id;			/* SLOT_WAIT: the request's ticket */
	unsigned tries;
	double first_try;
	int status;			/* the last try's (paths.h) */
	unsigned npaths;		/* distinct paths its tries went by */
	uint64_t used[FETCH_TRIES];
	uint8_t *block;			/* SLOT_HAVE */
};

struct fetch {
	struct node *node;
	struct chk_root root;
	unsigned hops;
	struct chk_decoder *dec;
	fetch_wake_fn wake;
	void *arg;
	int status;
	char why[FETCH_WHY_MAX];	/* the failure, in one line */
	int why_status;			/* ... and its HTTP status */
	bool waiting;			/* fetch_read() said FETCH_AGAIN */
	bool network;			/* a block came from the network */
	bool keep;			/* keep what comes as LOCAL */
	struct fetch_slot slot[FETCH_WINDOW];
	uint8_t cipher[CHK_BLOCK_SIZE];
};

static void fetch_on_block(void *arg, int status, const uint8_t *block);

static struct fetch_slot *
fetch_slot_find(struct fetch *f, const uint8_t rkey[CHK_KEY_SIZE])
{
	for (size_t i = 0; i < FETCH_WINDOW; i++)
		if (f->slot[i].state != SLOT_FREE &&
		    memcmp(f->slot[i].ref.rkey, rkey, CHK_KEY_SIZE) == 0)
			return &f->slot[i];
	return NULL;
}

static void
fetch_slot_clear(struct fetch_slot *s)
{
	if (s->state == SLOT_WAIT)
		paths_cancel(s->f->node->paths, s->id);
	if (s->block != NULL)
		s->f->node->fetch_blocks--;
	free(s->block);
	s->block = NULL;
	s->state = SLOT_FREE;
}

/* Asks the network for the slot's block, avoiding the first hop of the
 * try before. */
static int
fetch_slot_ask(struct fetch_slot *s, uint64_t avoid)
{
	if (paths_request(s->f->node->paths, s->f->hops, s->ref.rkey, avoid,
	    fetch_on_block, s, &s->id) != 0)
		return -1;
	s->state = SLOT_WAIT;
	s->tries++;
	return 0;
}

/* Fills a free slot for ref: from the store if it is there, else asks. */
static int
fetch_slot_start(struct fetch *f, struct fetch_slot *s,
    const struct chk_ref *ref)
{
	s->f = f;
	s->ref = *ref;
	s->tries = 0;
	s->npaths = 0;
	s->first_try = util_now();
	if ((s->block = malloc(CHK_BLOCK_SIZE)) == NULL)
		return -1;
	f->node->fetch_blocks++;
	if (node_get_block(f->node, ref->rkey, s->block, NULL) == 0) {
		s->state = SLOT_HAVE;
		return 0;
	}
	f->network = true;
	return fetch_slot_ask(s, 0);
}

/* Starts every block of the window the decoder will want that has no
 * slot yet. Past FETCH_BLOCKS_MAX blocks in all gets, only the block
 * wanted now: many gets at once share the memory, each still moves. */
static void
fetch_pump(struct fetch *f)
{
	struct chk_ref refs[FETCH_WINDOW];
	size_t n = chk_decoder_upcoming(f->dec, refs, FETCH_WINDOW), j = 0;

	for (size_t i = 0; i < n; i++) {
		if (fetch_slot_find(f, refs[i].rkey) != NULL)
			continue;
		if (i > 0 && f->node->fetch_blocks >= FETCH_BLOCKS_MAX)
			return;
		while (j < FETCH_WINDOW && f->slot[j].state != SLOT_FREE)
			j++;
		if (j == FETCH_WINDOW)
			return;
		if (fetch_slot_start(f, &f->slot[j], &refs[i]) != 0) {
			fetch_slot_clear(&f->slot[j]);
			return;
		}
	}
}

static void fetch_fail(struct fetch *f, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Notes why f failed, and the HTTP status that says it. */
static void
fetch_fail(struct fetch *f, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	f->why_status = status;
}

/* Feeds the root: the status answers whether the URI's keys fit. */
static void
fetch_take_root(struct fetch *f, const uint8_t *cipher)
{
	f->status = chk_decoder_feed(f->dec, cipher) == 0 ? 200 : 422;
	if (f->status == 422)
		fetch_fail(f, 422, "the URI's decryption key does not match "
		    "the content (its root block was found, and does not "
		    "decrypt with that key)");
}

/* Whether another try could answer otherwise: not when there was no
 * path to be had (it waited for one already) or no link at all. */
static bool
fetch_retry_worth(int status)
{
	return status != PATHS_STATUS_NOLINK && status != PATHS_STATUS_FEW &&
	    status != PATHS_STATUS_UNBUILT;
}

/* The HTTP status of a block that could not be had, and why, in one
 * line: only a search that ran and found nothing is "not found". */
static int
fetch_describe(struct fetch *f, const struct fetch_slot *s, char *buf,
    size_t len)
{
	struct paths_counts c;
	char via[64];

	if (peers_count(f->node->peers) == 0) {
		snprintf(buf, len, "no peers: the document is not in this "
		    "node's store, and the node has no link to the network to "
		    "ask");
		return 503;
	}
	if (f->hops == 0)
		snprintf(via, sizeof(via), "routed by this node itself");
	else
		snprintf(via, sizeof(via), "over %u onion path%s of %u hops",
		    s->npaths, s->npaths == 1 ? "" : "s", f->hops);
	switch (s->status) {
	case ROUTE_STATUS_DNF:
	case ROUTE_STATUS_RNF:
		snprintf(buf, len, "content not found: %u tr%s %s found no "
		    "node that has it", s->tries, s->tries == 1 ? "y" : "ies",
		    via);
		return 404;
	case ROUTE_STATUS_TIMEOUT:
		snprintf(buf, len, "the network did not answer in time: %u "
		    "tr%s %s, the last with no answer within %.0f s", s->tries,
		    s->tries == 1 ? "y" : "ies", via, f->hops == 0 ?
		    ROUTE_LIFETIME : PATHS_OP_LIFETIME);
		return 504;
	case ROUTE_STATUS_REFUSED:
		snprintf(buf, len, "the network is too busy: a routing table "
		    "on the way is full (%u tr%s %s); try again", s->tries,
		    s->tries == 1 ? "y" : "ies", via);
		return 503;
	case PATHS_STATUS_NOLINK: case PATHS_STATUS_FEW:
	case PATHS_STATUS_UNBUILT: case PATHS_STATUS_LOST:
		paths_counts(f->node->paths, f->hops, &c);
		paths_describe(s->status, &c, buf, len);
		return 503;
	default:
		snprintf(buf, len, "the network failed to give it (status %d)",
		    s->status);
		return 500;
	}
}

static void
fetch_on_block(void *arg, int status, const uint8_t *block)
{
	struct fetch_slot *s = arg;
	struct fetch *f = s->f;
	bool root = f->status == 0;
	uint64_t hop = paths_used(f->node->paths, s->id);
	unsigned i;

	for (i = 0; i < s->npaths && s->used[i] != hop; i++)
		;
	if (hop != 0 && i == s->npaths && s->npaths < FETCH_TRIES)
		s->used[s->npaths++] = hop;
	s->status = status;
	if (status == ROUTE_STATUS_FOUND) {
		f->network = true;
		if (f->keep)
			relay_keep_local(f->node->relay, s->ref.rkey, block);
		memcpy(s->block, block, CHK_BLOCK_SIZE);
		s->state = SLOT_HAVE;
	} else if (fetch_retry_worth(status) && s->tries < FETCH_TRIES &&
	    util_now() - s->first_try < FETCH_RETRY_FOR &&
	    fetch_slot_ask(s, hop) == 0) {
		return;
	} else {
		s->state = SLOT_FAILED;
	}
	if (root) {
		if (s->state == SLOT_HAVE)
			fetch_take_root(f, s->block);
		else
			f->status = f->why_status = fetch_describe(f, s, f->why,
			    sizeof(f->why));
		fetch_slot_clear(s);
		f->wake(f->arg);
		return;
	}
	if (f->waiting) {
		f->waiting = false;
		f->wake(f->arg);
	}
}

/* A document larger than half the store would push the whole cache out
 * (LOCAL shares CACHE's LRU): not kept. data_len bounds its length. */
static bool
fetch_keep_worth(struct node *node, const struct chk_root *root)
{
	struct store_stats s;

	return store_get_stats(node->store, &s) == 0 &&
	    root->data_len <= s.bytes_max / 2;
}

int
fetch_open(struct fetch **out, struct node *node, const struct chk_root *root,
    unsigned hops, bool keep, fetch_wake_fn wake, void *arg)
{
	struct fetch *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (f == NULL)
		return -1;
	f->node = node;
	f->root = *root;
	f->hops = hops;
	f->keep = keep && fetch_keep_worth(node, root);
	f->wake = wake;
	f->arg = arg;
	if (chk_decoder_new(&f->dec, root) != 0) {
		free(f);
		return -1;
	}
	if (node_get_block(node, root->ref.rkey, f->cipher, NULL) == 0)
		fetch_take_root(f, f->cipher);
	else if (fetch_slot_start(f, &f->slot[0], &root->ref) != 0) {
		fetch_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

int
fetch_status(const struct fetch *f)
{
	return f->status;
}

const char *
fetch_why(const struct fetch *f, int *status)
{
	if (status != NULL)
		*status = f->why_status;
	return f->why[0] != '\0' ? f->why : NULL;
}

/* Gets the wanted block to the decoder: 0 fed, FETCH_AGAIN, or -1. */
static int
fetch_next(struct fetch *f, const struct chk_ref *ref)
{
	struct fetch_slot *s = fetch_slot_find(f, ref->rkey);
	int rc;

	if (s == NULL && !f->network &&
	    node_get_block(f->node, ref->rkey, f->cipher, NULL) == 0) {
		rc = chk_decoder_feed(f->dec, f->cipher);
	} else {
		if (s == NULL) {
			fetch_pump(f);
			if ((s = fetch_slot_find(f, ref->rkey)) == NULL) {
				fetch_fail(f, 500, "out of memory");
				return -1;
			}
		}
		if (s->state == SLOT_WAIT) {
			f->waiting = true;
			return FETCH_AGAIN;
		}
		if (s->state == SLOT_FAILED) {
			f->why_status = fetch_describe(f, s, f->why,
			    sizeof(f->why));
			log_warn("get: a block of the document could not be "
			    "had: %s", f->why);
			return -1;
		}
		rc = chk_decoder_feed(f->dec, s->block);
		fetch_slot_clear(s);
	}
	if (rc != 0) {
		fetch_fail(f, 500, "a block of the document does not decode: "
		    "%s", chk_strerror(rc));
		log_warn("get: %s", f->why);
		return -1;
	}
	if (f->network)
		fetch_pump(f);
	return 0;
}

int
fetch_read_type(struct fetch *f)
{
	struct chk_ref ref;
	size_t got;
	int rc;

	if (f->status != 200)
		return -1;
	while (f->root.typed && chk_decoder_type(f->dec) == NULL) {
		/* A read of 0 bytes reads the record and nothing more. */
		if ((rc = chk_decoder_read(f->dec, NULL, 0, &got)) != 0) {
			fetch_fail(f, 500, "the document's type record is "
			    "bad: %s", chk_strerror(rc));
			log_warn("get: %s", f->why);
			return -1;
		}
		if (chk_decoder_type(f->dec) != NULL)
			break;
		if (!chk_decoder_want(f->dec, &ref)) {
			fetch_fail(f, 500, "the document ends inside its type "
			    "record");
			return -1;
		}
		if ((rc = fetch_next(f, &ref)) != 0)
			return rc;
	}
	return 0;
}

bool
fetch_keeps(const struct fetch *f)
{
	return f->keep;
}

const char *
fetch_type(const struct fetch *f)
{
	return chk_decoder_type(f->dec);
}

uint64_t
fetch_length(const struct fetch *f)
{
	const char *type = chk_decoder_type(f->dec);

	return f->root.data_len - (type != NULL ? 1 + strlen(type) : 0);
}

int
fetch_seek(struct fetch *f, uint64_t pos)
{
	if (f->status != 200 || f->root.codec != CHK_CODEC_NONE)
		return -1;
	for (size_t i = 0; i < FETCH_WINDOW; i++)
		fetch_slot_clear(&f->slot[i]);
	f->waiting = false;
	return chk_decoder_seek(f->dec, pos) == 0 ? 0 : -1;
}

ssize_t
fetch_read(struct fetch *f, uint8_t *buf, size_t max)
{
	struct chk_ref ref;
	size_t got;
	int rc;

	if (f->status != 200)
		return -1;
	for (;;) {
		if ((rc = chk_decoder_read(f->dec, buf, max, &got)) != 0) {
			fetch_fail(f, 500, "the document does not decode: %s",
			    chk_strerror(rc));
			log_warn("get: %s", f->why);
			return -1;
		}
		if (got > 0 || max == 0)
			return (ssize_t)got;
		if (!chk_decoder_want(f->dec, &ref))
			return 0;
		if ((rc = fetch_next(f, &ref)) != 0)
			return rc;
	}
}

void
fetch_free(struct fetch *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < FETCH_WINDOW; i++)
		fetch_slot_clear(&f->slot[i]);
	chk_decoder_free(f->dec);
	free(f);
}
