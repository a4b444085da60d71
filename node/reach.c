/*
 * reach.c - the address we announce and whether we are reachable there
 * (reach.h; docs/protocol.md, "Addresses").
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/log.h"
#include "node/reach.h"
#include "node/util.h"

struct reach_link {
	uint32_t handle;	/* 0: a free slot */
	bool seen;		/* addr holds its SEEN */
	bool tried;		/* asked to dial back in this round */
	uint64_t seq;		/* when its SEEN came: the first reporter */
	struct link_netaddr addr;	/* where it sees us, port filled in */
};

struct reach {
	struct reach_callbacks cb;
	void *arg;
	struct reach_link links[REACH_LINKS_MAX];
	uint64_t seq;
	uint16_t listen_port;
	bool v4, v6;		/* families we listen on */
	bool fixed;		/* given by hand: announced, only probed */
	struct link_netaddr fixed_addr;
	bool confirmed;		/* a learned address a dial-back reached */
	struct link_netaddr addr;	/* ... that address */
	double checked;		/* when addr was last confirmed */
	enum reach_state state;
	/* The probe round under way, if round. */
	bool round, waiting;
	struct link_netaddr target;
	unsigned asked;
	uint32_t wait_handle;
	uint64_t nonce;
	double deadline;
	double retry_at, backoff;	/* after a failed round */
	char text[REACH_ADDR_MAX];	/* reach_address() */
	char advice[320];		/* reach_advice() */
	struct event *tick_ev;
};

/* ---- addresses ---- */

static bool
reach_addr_eq(const struct link_netaddr *a, const struct link_netaddr *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static void
reach_format(const struct link_netaddr *a, char *out, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, s,
	    sizeof(s)) == NULL)
		snprintf(s, sizeof(s), "?");
	snprintf(out, len, a->family == 4 ? "%s:%u" : "[%s]:%u", s,
	    (unsigned)a->port);
}

/* A numeric host into a: 1 unspecified (0.0.0.0, ::), 0 an address,
 * -1 not a numeric IP. */
static int
reach_parse_host(const char *host, uint16_t port, struct link_netaddr *a)
{
	memset(a, 0, sizeof(*a));
	a->port = port;
	if (inet_pton(AF_INET, host, a->addr) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, host, a->addr) == 1)
		a->family = 6;
	else
		return -1;
	return sodium_is_zero(a->addr, sizeof(a->addr)) ? 1 : 0;
}

/* --announce HOST[:PORT]: a numeric IP; no port, the listen port. */
static int
reach_parse_announce(struct reach *r, const char *s)
{
	char host[UTIL_HOST_MAX];
	uint16_t port;

	if (util_parse_ip_port(s, host, &port) != 0)
		return -1;
	if (port == 0)
		port = r->listen_port;
	if (port == 0 || reach_parse_host(host, port, &r->fixed_addr) != 0)
		return -1;
	r->fixed = true;
	return 0;
}

/* The listen address: a specific host is ours by hand; an unspecified
 * one says which families peers can reach us in. */
static int
reach_parse_listen(struct reach *r, const char *s)
{
	char host[UTIL_HOST_MAX];
	struct link_netaddr a;
	int rc;

	if (util_parse_hostport(s, host, &r->listen_port) != 0)
		return -1;
	rc = reach_parse_host(host, r->listen_port, &a);
	if (rc == 0) {
		r->fixed = true;
		r->fixed_addr = a;
	}
	/* A name may be either; :: takes IPv4 as well (Linux binds it
	 * dual-stack), 0.0.0.0 only IPv4. */
	r->v4 = rc < 0 || a.family == 4 || rc == 1;
	r->v6 = rc < 0 || a.family == 6;
	return 0;
}

int
reach_new(struct reach **out, const struct reach_config *cfg,
    const struct reach_callbacks *cb, void *arg, char *why, size_t whylen)
{
	struct reach *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	r->cb = *cb;
	r->arg = arg;
	r->state = REACH_UNKNOWN;
	r->backoff = REACH_RETRY_MIN;
	if (reach_parse_listen(r, cfg->listen) != 0) {
		snprintf(why, whylen, "listen address '%s': expected HOST:PORT",
		    cfg->listen);
		goto fail;
	}
	if (cfg->announce != NULL && reach_parse_announce(r, cfg->announce)
	    != 0) {
		snprintf(why, whylen, "--announce: expected a numeric IP "
		    "address, with :PORT if it is not the listen port, got "
		    "'%s'", cfg->announce);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	free(r);
	return -1;
}

void
reach_free(struct reach *r)
{
	if (r == NULL)
		return;
	if (r->tick_ev != NULL)
		event_free(r->tick_ev);
	free(r);
}

/* ---- links ---- */

static struct reach_link *
reach_find(struct reach *r, uint32_t handle)
{
	for (size_t i = 0; i < REACH_LINKS_MAX; i++)
		if (r->links[i].handle == handle)
			return &r->links[i];
	return NULL;
}

void
reach_link_up(struct reach *r, uint32_t handle, double now)
{
	struct reach_link *l;

	(void)now;
	if (handle == 0 || reach_find(r, handle) != NULL ||
	    (l = reach_find(r, 0)) == NULL)
		return;		/* more links than followed: one less voter */
	memset(l, 0, sizeof(*l));
	l->handle = handle;
}

void
reach_link_seen(struct reach *r, uint32_t handle,
    const struct link_netaddr *a, double now)
{
	struct reach_link *l = reach_find(r, handle);

	(void)now;
	if (l == NULL || handle == 0 || (a->family == 4 && !r->v4) ||
	    (a->family == 6 && !r->v6) ||
	    sodium_is_zero(a->addr, sizeof(a->addr)))
		return;
	l->addr = *a;
	if (l->addr.port == 0)
		l->addr.port = r->listen_port;
	if (!l->seen)
		l->seq = ++r->seq;
	l->seen = true;
}

/* ---- the winner of the reports ---- */

/* Links that report a, and the handle of the first of them. */
static unsigned
reach_votes(const struct reach *r, const struct link_netaddr *a,
    uint32_t *first)
{
	uint64_t seq = UINT64_MAX;
	unsigned n = 0;

	for (size_t i = 0; i < REACH_LINKS_MAX; i++) {
		const struct reach_link *l = &r->links[i];

		if (l->handle == 0 || !l->seen || !reach_addr_eq(&l->addr, a))
			continue;
		n++;
		if (l->seq < seq) {
			seq = l->seq;
			*first = l->handle;
		}
	}
	return n;
}

/* The address to probe: ours by hand, else the one most links report if
 * at least REACH_QUORUM do (the confirmed one wins a tie). first gets
 * its first reporter, which is not asked to dial back. */
static bool
reach_target(const struct reach *r, struct link_netaddr *t, uint32_t *first)
{
	unsigned best = 0, n;
	uint32_t f = 0;

	*first = 0;
	if (r->fixed) {
		*t = r->fixed_addr;
		return true;
	}
	if (r->confirmed && (best = reach_votes(r, &r->addr, first)) > 0)
		*t = r->addr;
	for (size_t i = 0; i < REACH_LINKS_MAX; i++) {
		const struct reach_link *l = &r->links[i];

		if (l->handle == 0 || !l->seen)
			continue;
		if ((n = reach_votes(r, &l->addr, &f)) > best) {
			best = n;
			*t = l->addr;
			*first = f;
		}
	}
	return best >= REACH_QUORUM;
}

/* ---- probe rounds ---- */

static void
reach_set(struct reach *r, enum reach_state state, bool confirmed,
    const struct link_netaddr *addr)
{
	bool changed = r->state != state || r->confirmed != confirmed ||
	    (confirmed && !reach_addr_eq(&r->addr, addr));

	r->state = state;
	r->confirmed = confirmed;
	if (confirmed)
		r->addr = *addr;
	if (changed && r->cb.changed != NULL)
		r->cb.changed(r->arg);
}

static void
reach_round_ok(struct reach *r, double now)
{
	char s[REACH_ADDR_MAX];

	r->round = r->waiting = false;
	r->checked = now;
	r->backoff = REACH_RETRY_MIN;
	reach_format(&r->target, s, sizeof(s));
	if (r->state != REACH_YES || (!r->fixed && (!r->confirmed ||
	    !reach_addr_eq(&r->addr, &r->target))))
		log_info("reachable at %s: a peer dialed us back there", s);
	reach_set(r, REACH_YES, !r->fixed, &r->target);
}

/* Every link asked failed: unreachable there. A learned address is
 * withdrawn unless it is still reported while another one was probed. */
static void
reach_round_failed(struct reach *r, double now)
{
	uint32_t first;
	char s[REACH_ADDR_MAX];
	bool keep = r->confirmed && !reach_addr_eq(&r->addr, &r->target) &&
	    reach_votes(r, &r->addr, &first) > 0;

	r->round = r->waiting = false;
	r->retry_at = now + r->backoff;
	r->backoff = r->backoff * 2 < REACH_RETRY_MAX ? r->backoff * 2 :
	    REACH_RETRY_MAX;
	reach_format(&r->target, s, sizeof(s));
	if (keep) {
		log_info("not reachable at %s (no dial-back came); keeping "
		    "the address we had", s);
		return;
	}
	if (r->state != REACH_NO)
		log_warn("not reachable at %s: no peer could dial us back "
		    "there; %s", s, r->fixed ? "announcing it as told" :
		    "not offered as a relay");
	reach_set(r, REACH_NO, false, NULL);
}

/* Asks the next link: not tried this round, not the target's first
 * reporter, a link that reports another address first. */
static void
reach_ask_next(struct reach *r, uint32_t first, double now)
{
	struct reach_link *pick;
	int pass;

	while (r->asked < REACH_TRIES) {
		pick = NULL;
		for (pass = 0; pass < 2 && pick == NULL; pass++)
			for (size_t i = 0; i < REACH_LINKS_MAX; i++) {
				struct reach_link *l = &r->links[i];

				if (l->handle == 0 || l->tried ||
				    l->handle == first || (pass == 0 &&
				    l->seen && reach_addr_eq(&l->addr,
				    &r->target)))
					continue;
				pick = l;
				break;
			}
		if (pick == NULL)
			break;
		pick->tried = true;
		r->asked++;
		randombytes_buf(&r->nonce, sizeof(r->nonce));
		if (r->cb.probe(r->arg, pick->handle, r->nonce, &r->target)
		    != 0)
			continue;
		r->waiting = true;
		r->wait_handle = pick->handle;
		r->deadline = now + REACH_PROBE_WAIT;
		return;
	}
	if (r->asked > 0)
		reach_round_failed(r, now);
	else
		r->round = false;	/* nobody to ask yet */
}

void
reach_probed(struct reach *r, uint32_t handle, uint64_t nonce, bool ok,
    double now)
{
	struct link_netaddr t;
	uint32_t first;

	if (!r->waiting || handle != r->wait_handle || nonce != r->nonce)
		return;
	r->waiting = false;
	if (ok) {
		reach_round_ok(r, now);
		return;
	}
	if (!reach_target(r, &t, &first) || !reach_addr_eq(&t, &r->target))
		first = 0;
	reach_ask_next(r, first, now);
}

void
reach_link_down(struct reach *r, uint32_t handle, double now)
{
	struct reach_link *l = reach_find(r, handle);

	if (handle == 0 || l == NULL)
		return;
	memset(l, 0, sizeof(*l));
	if (r->waiting && r->wait_handle == handle)
		reach_probed(r, handle, r->nonce, false, now);
}

void
reach_tick(struct reach *r, double now)
{
	struct link_netaddr t;
	uint32_t first;

	if (r->waiting && now >= r->deadline)
		reach_probed(r, r->wait_handle, r->nonce, false, now);
	if (r->round || !reach_target(r, &t, &first))
		return;
	if (r->state == REACH_YES && (r->fixed || (r->confirmed &&
	    reach_addr_eq(&t, &r->addr))) && now < r->checked + REACH_RECHECK)
		return;
	/* A failed round waits its back-off, unless the reports moved. */
	if (now < r->retry_at && reach_addr_eq(&t, &r->target))
		return;
	r->round = true;
	r->target = t;
	r->asked = 0;
	for (size_t i = 0; i < REACH_LINKS_MAX; i++)
		r->links[i].tried = false;
	reach_ask_next(r, first, now);
}

/* ---- what it says ---- */

const char *
reach_address(const struct reach *r)
{
	struct reach *w = (struct reach *)r;	/* the text is a cache */

	if (r->fixed)
		reach_format(&r->fixed_addr, w->text, sizeof(w->text));
	else if (r->confirmed)
		reach_format(&r->addr, w->text, sizeof(w->text));
	else
		return NULL;
	return r->text;
}

enum reach_state
reach_reachable(const struct reach *r)
{
	return r->state;
}

const char *
reach_advice(const struct reach *r)
{
	struct reach *w = (struct reach *)r;
	char s[REACH_ADDR_MAX];

	if (r->state == REACH_YES)
		return NULL;
	if (r->state == REACH_NO) {
		reach_format(&r->target, s, sizeof(s));
		snprintf(w->advice, sizeof(w->advice), "peers cannot reach "
		    "this node at %s: open or forward TCP port %u to it (and "
		    "give --announce with the outside address), or run it as "
		    "it is, a client: it puts, gets and routes, but relays no "
		    "paths", s, (unsigned)r->target.port);
		return r->advice;
	}
	return "address not known yet: learned from peers (at least 2 must "
	    "agree) and confirmed by one dialing back";
}

/* ---- the glue ---- */

static void
reach_on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reach_tick(arg, util_now());
}

int
reach_start(struct reach *r, struct event_base *base)
{
	struct timeval tv = { 1, 0 };

	r->tick_ev = event_new(base, -1, EV_PERSIST, reach_on_tick, r);
	if (r->tick_ev == NULL || event_add(r->tick_ev, &tv) != 0)
		return -1;
	return 0;
}
