/* relays.c - see relays.h: onion keys, descriptors and their gossip. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "node/log.h"
#include "node/peers.h"
#include "node/relays.h"
#include "node/util.h"

/* The ephemeral keys of the BUILDs one onion key opened, as keyed
 * hashes in an open-addressing set of twice RELAYS_REPLAY_MAX slots. */
struct relays_seen {
	uint8_t (*slot)[RELAYS_SEEN_BYTES];	/* NULL until the first */
	size_t n;
};

struct relays_key {
	uint8_t pk[ONION_PUBLICKEYBYTES];
	uint8_t sk[ONION_SECRETKEYBYTES];
	double made;			/* util_now() */
	bool have;
	struct relays_seen seen;
};

/* What one link has sent us lately. */
struct relays_link {
	uint32_t handle;
	double window;		/* start of the current rate window */
	unsigned in_window;	/* RELAYS received in it */
	double last_read;	/* when one was last read; < 0: never */
	unsigned bad;		/* invalid descriptors so far */
};

struct relays {
	const struct identity *id;
	uint8_t seen_key[crypto_generichash_KEYBYTES];
	size_t replay_max;		/* RELAYS_REPLAY_MAX; tests lower it */
	struct event_base *base;
	struct peers *peers;
	struct event *rotate_ev, *gossip_ev;
	struct relays_key cur, prev;
	bool have_own;
	char hostport[UTIL_HOST_MAX + 8];
	struct onion_desc own;
	struct onion_desc *cache;	/* RELAYS_CACHE_MAX */
	size_t n;
	struct relays_link *links;
	size_t nlinks, caplinks;
};

static void
relays_key_wipe(struct relays_key *k)
{
	free(k->seen.slot);
	sodium_memzero(k, sizeof(*k));
}

static void
relays_key_make(struct relays_key *k, double mono)
{
	crypto_box_keypair(k->pk, k->sk);
	k->made = mono;
	k->have = true;
}

/* The host of HOST:PORT as a descriptor address: 0, or -1 (a name, or
 * an unspecified address: nothing to announce). */
static int
relays_parse_addr(const char *hostport, struct onion_desc *d)
{
	static const uint8_t zero[ONION_ADDRBYTES];
	char host[UTIL_HOST_MAX];
	uint16_t port;

	memset(d->addr, 0, sizeof(d->addr));
	if (util_parse_hostport(hostport, host, &port) != 0 || port == 0)
		return -1;
	if (inet_pton(AF_INET, host, d->addr) == 1)
		d->family = 4;
	else if (inet_pton(AF_INET6, host, d->addr) == 1)
		d->family = 6;
	else
		return -1;
	d->port = port;
	return memcmp(d->addr, zero, sizeof(zero)) == 0 ? -1 : 0;
}

static int
relays_sign_own(struct relays *r, uint64_t now)
{
	struct onion_desc *d = &r->own;

	r->have_own = false;
	if (r->hostport[0] == '\0')
		return 1;
	memset(d, 0, sizeof(*d));
	if (relays_parse_addr(r->hostport, d) != 0)
		return 1;
	memcpy(d->identity, r->id->pk, ONION_IDBYTES);
	memcpy(d->onion_pk, r->cur.pk, ONION_PUBLICKEYBYTES);
	d->not_after = now + RELAYS_DESC_LIFETIME;
	if (onion_desc_sign(d, r->id->sk) != ONION_OK)
		return -1;
	r->have_own = true;
	return 0;
}

int
relays_new(struct relays **out, struct event_base *base,
    const struct identity *id)
{
	struct relays *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->id = id;
	randombytes_buf(r->seen_key, sizeof(r->seen_key));
	r->replay_max = RELAYS_REPLAY_MAX;
	r->base = base;
	r->cache = calloc(RELAYS_CACHE_MAX, sizeof(*r->cache));
	if (r->cache == NULL) {
		free(r);
		return -1;
	}
	relays_key_make(&r->cur, util_now());
	*out = r;
	return 0;
}

void
relays_free(struct relays *r)
{
	if (r == NULL)
		return;
	if (r->rotate_ev != NULL)
		event_free(r->rotate_ev);
	if (r->gossip_ev != NULL)
		event_free(r->gossip_ev);
	relays_key_wipe(&r->cur);
	relays_key_wipe(&r->prev);
	free(r->cache);
	free(r->links);
	free(r);
}

/* ---- the core ---- */

int
relays_set_address(struct relays *r, const char *hostport, uint64_t now)
{
	snprintf(r->hostport, sizeof(r->hostport), "%s", hostport);
	return relays_sign_own(r, now);
}

int
relays_rotate(struct relays *r, uint64_t now, double mono)
{
	relays_key_wipe(&r->prev);
	r->prev = r->cur;
	sodium_memzero(&r->cur, sizeof(r->cur));	/* prev owns the set */
	relays_key_make(&r->cur, mono);
	return relays_sign_own(r, now) < 0 ? -1 : 0;
}

const struct onion_desc *
relays_own(const struct relays *r)
{
	return r->have_own ? &r->own : NULL;
}

static size_t
relays_find(const struct relays *r, const uint8_t *identity)
{
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->cache[i].identity, identity, ONION_IDBYTES) == 0)
			return i;
	return r->n;
}

int
relays_add(struct relays *r, const struct onion_desc *d, uint64_t now)
{
	size_t i, victim;
	int rc;

	if ((rc = onion_desc_verify(d, now)) != ONION_OK)
		return rc;
	if (memcmp(d->identity, r->id->pk, ONION_IDBYTES) == 0)
		return 1;
	if ((i = relays_find(r, d->identity)) < r->n) {
		if (d->not_after <= r->cache[i].not_after)
			return 1;
		r->cache[i] = *d;
		return 0;
	}
	if (r->n < RELAYS_CACHE_MAX) {
		r->cache[r->n++] = *d;
		return 0;
	}
	victim = 0;
	for (i = 1; i < r->n; i++)
		if (r->cache[i].not_after < r->cache[victim].not_after)
			victim = i;
	if (r->cache[victim].not_after >= d->not_after)
		return 1;	/* full of fresher ones */
	r->cache[victim] = *d;
	return 0;
}

void
relays_expire(struct relays *r, uint64_t now)
{
	for (size_t i = 0; i < r->n;)
		if (r->cache[i].not_after < now)
			r->cache[i] = r->cache[--r->n];
		else
			i++;
}

size_t
relays_count(const struct relays *r)
{
	return r->n;
}

double
relays_key_age(const struct relays *r, double mono)
{
	return mono - r->cur.made;
}

int
relays_onion_secret(const struct relays *r,
    const uint8_t onion_pk[ONION_PUBLICKEYBYTES],
    uint8_t sk_out[ONION_SECRETKEYBYTES])
{
	const struct relays_key *k[2] = { &r->cur, &r->prev };

	for (int i = 0; i < 2; i++)
		if (k[i]->have && sodium_memcmp(k[i]->pk, onion_pk,
		    ONION_PUBLICKEYBYTES) == 0) {
			memcpy(sk_out, k[i]->sk, ONION_SECRETKEYBYTES);
			return 0;
		}
	return -1;
}

/* Records e in k's set: 0 new, 1 seen before, -1 out of memory. */
static int
relays_seen_add(const struct relays *r, struct relays_key *k,
    const uint8_t e[ONION_PUBLICKEYBYTES])
{
	const size_t slots = 2 * r->replay_max;
	static const uint8_t empty[RELAYS_SEEN_BYTES];
	uint8_t h[RELAYS_SEEN_BYTES];
	uint64_t i;

	if (k->seen.slot == NULL &&
	    (k->seen.slot = calloc(slots, RELAYS_SEEN_BYTES)) == NULL)
		return -1;
	/* Keyed, so nobody can aim keys at one run of slots; an all-zero
	 * hash marks an empty slot and is taken as the one below it. */
	crypto_generichash(h, sizeof(h), e, ONION_PUBLICKEYBYTES, r->seen_key,
	    sizeof(r->seen_key));
	if (memcmp(h, empty, sizeof(h)) == 0)
		h[0] = 1;
	memcpy(&i, h, sizeof(i));
	for (size_t n = 0; n < slots; n++, i++) {
		uint8_t *s = k->seen.slot[i % slots];

		if (memcmp(s, h, sizeof(h)) == 0)
			return 1;
		if (memcmp(s, empty, sizeof(h)) == 0) {
			memcpy(s, h, sizeof(h));
			k->seen.n++;
			return 0;
		}
	}
	return -1;	/* not reached: a set is never over half full */
}

int
relays_open_build(struct relays *r, uint8_t msg[ONION_BUILD_BYTES],
    struct onion_instr *instr, struct onion_hop_keys *keys, uint64_t now,
    double mono)
{
	uint8_t e[ONION_PUBLICKEYBYTES];
	struct relays_key *k[2] = { &r->cur, &r->prev };
	int rc = ONION_EAUTH, seen;

	memcpy(e, msg, sizeof(e));
	/* The previous key's set is bounded too: full, the key goes early
	 * (BUILDs for it then fail to open, as they would a day later). */
	if (r->prev.have && r->prev.seen.n >= r->replay_max) {
		log_info("%zu builds under the previous onion key: dropping it",
		    r->replay_max);
		relays_key_wipe(&r->prev);
	}
	for (int i = 0; i < 2 && rc != ONION_OK; i++)
		if (k[i]->have && (rc = onion_build_open(k[i]->sk, msg, instr,
		    keys)) == ONION_OK) {
			if ((seen = relays_seen_add(r, k[i], e)) != 0) {
				onion_hop_keys_wipe(keys);
				return seen > 0 ? RELAYS_REPLAY : RELAYS_NOMEM;
			}
		}
	if (rc != ONION_OK)
		return rc;
	/* The set full: a new key starts a new one, and the oldest goes. */
	if (r->cur.seen.n >= r->replay_max) {
		log_info("%zu builds under one onion key: rotating it",
		    r->replay_max);
		if (relays_rotate(r, now, mono) != 0)
			log_warn("cannot sign our relay descriptor");
	}
	return ONION_OK;
}

void
relays_set_replay_max(struct relays *r, size_t max)
{
	relays_key_wipe(&r->prev);	/* sets of the old size go */
	free(r->cur.seen.slot);
	memset(&r->cur.seen, 0, sizeof(r->cur.seen));
	r->replay_max = max;
}

size_t
relays_pick(const struct relays *r, size_t n, struct onion_desc *out)
{
	uint16_t idx[RELAYS_CACHE_MAX];
	size_t i, j;
	uint16_t t;

	if (n > r->n)
		n = r->n;
	for (i = 0; i < r->n; i++)
		idx[i] = (uint16_t)i;
	for (i = 0; i < n; i++) {	/* a partial Fisher-Yates shuffle */
		j = i + randombytes_uniform((uint32_t)(r->n - i));
		t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
		out[i] = r->cache[idx[i]];
	}
	return n;
}

size_t
relays_build_msg(const struct relays *r, struct link_msg *m)
{
	size_t n = 0;

	memset(m, 0, sizeof(*m));
	m->type = LINK_MSG_RELAYS;
	if (r->have_own)
		m->relays.descs[n++] = r->own;
	n += relays_pick(r, LINK_RELAYS_MAX - 1, m->relays.descs + n);
	m->relays.n = (uint8_t)n;
	return n;
}

static struct relays_link *
relays_link(struct relays *r, uint32_t handle)
{
	struct relays_link *l;
	size_t cap;

	for (size_t i = 0; i < r->nlinks; i++)
		if (r->links[i].handle == handle)
			return &r->links[i];
	if (r->nlinks == r->caplinks) {
		cap = r->caplinks ? 2 * r->caplinks : 16;
		if ((l = realloc(r->links, cap * sizeof(*l))) == NULL)
			return NULL;
		r->links = l;
		r->caplinks = cap;
	}
	l = &r->links[r->nlinks++];
	memset(l, 0, sizeof(*l));
	l->handle = handle;
	l->window = -1e18;
	l->last_read = -1;
	return l;
}

void
relays_forget(struct relays *r, uint32_t handle)
{
	for (size_t i = 0; i < r->nlinks; i++)
		if (r->links[i].handle == handle) {
			r->links[i] = r->links[--r->nlinks];
			return;
		}
}

enum relays_verdict
relays_receive(struct relays *r, uint32_t handle, const struct link_msg *m,
    uint64_t now, double mono, const char **why)
{
	struct relays_link *l = relays_link(r, handle);
	int rc;

	*why = NULL;
	if (l == NULL)
		return RELAYS_IGNORED;	/* out of memory: read nothing */
	if (mono - l->window >= RELAYS_RATE_WINDOW) {
		l->window = mono;
		l->in_window = 0;
	}
	if (++l->in_window > RELAYS_RATE_DROP) {
		*why = "too many RELAYS";
		return RELAYS_DROP;
	}
	if (l->last_read >= 0 && mono - l->last_read < RELAYS_READ_EVERY)
		return RELAYS_IGNORED;
	l->last_read = mono;
	relays_expire(r, now);
	for (size_t i = 0; i < m->relays.n && i < LINK_RELAYS_MAX; i++) {
		if ((rc = relays_add(r, &m->relays.descs[i], now)) >= 0)
			continue;
		log_debug("RELAYS: descriptor %zu refused: %s", i,
		    onion_strerror(rc));
		if (++l->bad > RELAYS_BAD_MAX) {
			*why = "invalid relay descriptors";
			return RELAYS_DROP;
		}
	}
	return RELAYS_READ;
}

/* ---- the glue ---- */

static uint64_t
relays_wall(void)
{
	time_t t = time(NULL);

	return t < 0 ? 0 : (uint64_t)t;
}

static void
relays_send(struct relays *r, struct peer *p)
{
	struct link_msg m;

	if (relays_build_msg(r, &m) > 0)
		(void)peers_send(p, &m);
}

static void
relays_send_each(void *arg, struct peer *p)
{
	relays_send(arg, p);
}

static void
relays_arm_gossip(struct relays *r)
{
	double s = RELAYS_GOSSIP_MIN + (RELAYS_GOSSIP_MAX - RELAYS_GOSSIP_MIN) *
	    (randombytes_uniform(1000000) / 1e6);
	struct timeval tv = { (time_t)s, (suseconds_t)((s - (time_t)s) * 1e6) };

	event_add(r->gossip_ev, &tv);
}

/* Brings the next round forward to RELAYS_GOSSIP_SOON s from now, unless
 * it is due sooner: what we learned travels on at once, and a burst of
 * new descriptors still makes one round. */
static void
relays_gossip_soon(struct relays *r)
{
	struct timeval at, now, soon = { (time_t)RELAYS_GOSSIP_SOON, 0 }, by;

	/* event_pending() gives the wall-clock time the timer fires. */
	evutil_gettimeofday(&now, NULL);
	evutil_timeradd(&now, &soon, &by);
	if (event_pending(r->gossip_ev, EV_TIMEOUT, &at) &&
	    evutil_timercmp(&at, &by, <=))
		return;
	event_del(r->gossip_ev);
	event_add(r->gossip_ev, &soon);
}

static void
relays_on_rotate(evutil_socket_t fd, short what, void *arg)
{
	struct relays *r = arg;

	(void)fd;
	(void)what;
	if (relays_rotate(r, relays_wall(), util_now()) != 0)
		log_warn("cannot sign our relay descriptor");
	log_info("onion key rotated");
	if (r->peers != NULL)
		peers_each(r->peers, relays_send_each, r);
}

static void
relays_on_gossip(evutil_socket_t fd, short what, void *arg)
{
	struct relays *r = arg;

	(void)fd;
	(void)what;
	relays_expire(r, relays_wall());
	if (r->peers != NULL)
		peers_each(r->peers, relays_send_each, r);
	relays_arm_gossip(r);
}

void
relays_start(struct relays *r, struct peers *ps)
{
	struct timeval tv = { ONION_KEY_LIFETIME, 0 };

	r->peers = ps;
	if (r->base == NULL)
		return;
	r->rotate_ev = event_new(r->base, -1, EV_PERSIST, relays_on_rotate, r);
	r->gossip_ev = evtimer_new(r->base, relays_on_gossip, r);
	if (r->rotate_ev == NULL || r->gossip_ev == NULL) {
		log_warn("out of memory: no onion key rotation or gossip");
		return;
	}
	event_add(r->rotate_ev, &tv);
	relays_arm_gossip(r);
}

void
relays_announce(struct relays *r, const char *hostport)
{
	if (relays_set_address(r, hostport != NULL ? hostport : "",
	    relays_wall()) < 0)
		log_warn("cannot sign our relay descriptor");
	if (hostport == NULL)
		log_info("no relay descriptor announced: no address peers can "
		    "reach us at");
	else if (relays_own(r) != NULL)
		log_info("relay descriptor announced at %s", hostport);
	if (r->peers != NULL)
		peers_each(r->peers, relays_send_each, r);
}

void
relays_peer_up(struct relays *r, struct peer *p)
{
	relays_send(r, p);
}

void
relays_peer_down(struct relays *r, struct peer *p)
{
	relays_forget(r, peer_handle(p));
}

void
relays_peer_message(struct relays *r, struct peer *p,
    const struct link_msg *m)
{
	size_t before = relays_count(r);
	const char *why;

	if (relays_receive(r, peer_handle(p), m, relays_wall(), util_now(),
	    &why) == RELAYS_DROP) {
		peers_drop(p, why);
		return;
	}
	if (relays_count(r) > before && r->gossip_ev != NULL)
		relays_gossip_soon(r);
}
