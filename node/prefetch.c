/* prefetch.c - see prefetch.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "node/fetch.h"
#include "node/log.h"
#include "node/node.h"
#include "node/prefetch.h"
#include "node/util.h"

#define PREFETCH_BUF 65536

struct prefetch_job {
	struct prefetch *t;
	bool used;
	struct chk_root root;
	struct fetch *f;		/* while running */
	struct event *ev;		/* runs prefetch_pump */
	bool typed;			/* the type record was read */
	struct prefetch_info info;
	double started, ended, asked;
};

struct prefetch {
	struct node *node;
	struct event *tick;		/* sweeps idle jobs */
	struct prefetch_job job[PREFETCH_SLOTS];
	uint8_t buf[PREFETCH_BUF];	/* what is read goes nowhere */
};

/* The whole root: a link with other lengths is another document. */
static bool
prefetch_same(const struct chk_root *a, const struct chk_root *b)
{
	return memcmp(a->ref.rkey, b->ref.rkey, CHK_KEY_SIZE) == 0 &&
	    memcmp(a->ref.ckey, b->ref.ckey, CHK_KEY_SIZE) == 0 &&
	    a->codec == b->codec && a->depth == b->depth &&
	    a->data_len == b->data_len && a->stream_len == b->stream_len &&
	    a->typed == b->typed;
}

/* A failure takes the fetch's own reason and status where it has one. */
static void
prefetch_end(struct prefetch_job *j, enum prefetch_state state, int status)
{
	const char *why = NULL;
	int st = 0;

	if (state == PREFETCH_FAILED && j->f != NULL &&
	    (why = fetch_why(j->f, &st)) != NULL && st != 0)
		status = st;
	snprintf(j->info.why, sizeof(j->info.why), "%s", why ? why : "");
	fetch_free(j->f);
	j->f = NULL;
	j->info.state = state;
	j->info.status = status;
	j->ended = util_now();
	if (state == PREFETCH_FAILED)
		log_info("gateway: a document was not fetched (%d): %s", status,
		    j->info.why);
}

static void
prefetch_clear(struct prefetch_job *j)
{
	fetch_free(j->f);
	j->f = NULL;
	if (j->ev != NULL)
		event_free(j->ev);
	j->ev = NULL;
	j->used = false;
}

/* Past the type record: the length, and whether it is kept at all. */
static int
prefetch_typed(struct prefetch_job *j)
{
	int rc = fetch_read_type(j->f);

	if (rc != 0)
		return rc;
	j->typed = true;
	j->info.length = fetch_length(j->f);
	if (!fetch_keeps(j->f))
		prefetch_end(j, PREFETCH_STREAM, 0);
	return 0;
}

static void
prefetch_pump(evutil_socket_t fd, short what, void *arg)
{
	struct prefetch_job *j = arg;
	uint64_t budget = PREFETCH_STEP;
	int st = j->f != NULL ? fetch_status(j->f) : 0;
	ssize_t n;

	(void)fd;
	(void)what;
	if (j->info.state != PREFETCH_RUNNING || st == 0)
		return;
	if (st != 200) {
		prefetch_end(j, PREFETCH_FAILED, st);
		return;
	}
	if (!j->typed && (st = prefetch_typed(j)) != 0) {
		if (st != FETCH_AGAIN)
			prefetch_end(j, PREFETCH_FAILED, 404);
		return;
	}
	while (j->info.state == PREFETCH_RUNNING && budget > 0) {
		n = fetch_read(j->f, j->t->buf, sizeof(j->t->buf));
		if (n == FETCH_AGAIN)
			return;
		if (n <= 0) {
			prefetch_end(j, n == 0 ? PREFETCH_DONE :
			    PREFETCH_FAILED, n == 0 ? 200 : 404);
			return;
		}
		j->info.got += (uint64_t)n;
		budget -= (uint64_t)n < budget ? (uint64_t)n : budget;
	}
	if (j->info.state == PREFETCH_RUNNING)
		event_active(j->ev, EV_TIMEOUT, 0);	/* the rest, later */
}

/* From fetch, inside the loop but perhaps inside paths: run later. */
static void
prefetch_wake(void *arg)
{
	struct prefetch_job *j = arg;

	event_active(j->ev, EV_TIMEOUT, 0);
}

static unsigned prefetch_sweep(struct prefetch *t, double now);

/* A browser that went away asks nothing more: its job must still end. */
static void
prefetch_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)prefetch_sweep(arg, util_now());
}

int
prefetch_new(struct prefetch **out, struct node *node)
{
	struct prefetch *t = calloc(1, sizeof(*t));
	struct timeval tv = { (time_t)PREFETCH_IDLE / 3, 0 };

	*out = NULL;
	if (t == NULL)
		return -1;
	t->node = node;
	if ((t->tick = event_new(node->base, -1, EV_PERSIST, prefetch_tick,
	    t)) == NULL || event_add(t->tick, &tv) != 0) {
		prefetch_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void
prefetch_free(struct prefetch *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < PREFETCH_SLOTS; i++)
		if (t->job[i].used)
			prefetch_clear(&t->job[i]);
	if (t->tick != NULL)
		event_free(t->tick);
	free(t);
}

/* Drops what has lived its time; counts the jobs still running. */
static unsigned
prefetch_sweep(struct prefetch *t, double now)
{
	struct prefetch_job *j;
	unsigned running = 0;

	for (size_t i = 0; i < PREFETCH_SLOTS; i++) {
		j = &t->job[i];
		if (!j->used)
			continue;
		if (j->info.state == PREFETCH_RUNNING ?
		    now - j->asked > PREFETCH_IDLE :
		    now - j->ended > (j->info.state == PREFETCH_FAILED ?
		    PREFETCH_FAILED_FOR : PREFETCH_DONE_FOR))
			prefetch_clear(j);
		else if (j->info.state == PREFETCH_RUNNING)
			running++;
	}
	return running;
}

/* A free slot, else the one that ended longest ago; NULL if all run. */
static struct prefetch_job *
prefetch_slot(struct prefetch *t)
{
	struct prefetch_job *best = NULL, *j;

	for (size_t i = 0; i < PREFETCH_SLOTS; i++) {
		j = &t->job[i];
		if (!j->used)
			return j;
		if (j->info.state != PREFETCH_RUNNING &&
		    (best == NULL || j->ended < best->ended))
			best = j;
	}
	if (best != NULL)
		prefetch_clear(best);
	return best;
}

static struct prefetch_job *
prefetch_start(struct prefetch *t, const struct chk_root *root,
    unsigned hops, double now)
{
	struct prefetch_job *j = prefetch_slot(t);

	if (j == NULL)
		return NULL;
	memset(j, 0, sizeof(*j));
	j->t = t;
	j->used = true;
	j->root = *root;
	j->info.state = PREFETCH_RUNNING;
	j->started = j->asked = now;
	if ((j->ev = event_new(t->node->base, -1, 0, prefetch_pump,
	    j)) == NULL || fetch_open(&j->f, t->node, root, hops, true,
	    prefetch_wake, j) != 0) {
		prefetch_clear(j);
		return NULL;
	}
	/* One turn now: a document all in the store is done at once (up to
	 * PREFETCH_STEP of it), and a root already here gives no wake. */
	prefetch_pump(-1, 0, j);
	return j;
}

static struct prefetch_job *
prefetch_find(struct prefetch *t, const struct chk_root *root)
{
	for (size_t i = 0; i < PREFETCH_SLOTS; i++)
		if (t->job[i].used && prefetch_same(&t->job[i].root, root))
			return &t->job[i];
	return NULL;
}

/* The node's own documents are all here, and never evicted. */
static bool
prefetch_own(struct prefetch *t, const struct chk_root *root)
{
	enum store_kind kind;

	return store_get_kind(t->node->store, root->ref.rkey, &kind) == 0 &&
	    kind == STORE_KIND_CLIENT;
}

void
prefetch_look(struct prefetch *t, const struct chk_root *root,
    unsigned hops, bool start, struct prefetch_info *out)
{
	double now = util_now();
	unsigned running = prefetch_sweep(t, now);
	struct prefetch_job *j = prefetch_find(t, root);

	if (j == NULL && start && running < PREFETCH_RUNNING_MAX &&
	    !prefetch_own(t, root))
		j = prefetch_start(t, root, hops, now);
	if (j == NULL) {
		memset(out, 0, sizeof(*out));
		out->state = PREFETCH_NONE;
		return;
	}
	j->asked = now;
	*out = j->info;
	out->elapsed = (j->info.state == PREFETCH_RUNNING ? now : j->ended) -
	    j->started;
}

void
prefetch_forget(struct prefetch *t, const struct chk_root *root)
{
	struct prefetch_job *j = prefetch_find(t, root);

	if (j != NULL)
		prefetch_clear(j);
}
