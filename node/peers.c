/*
 * peers.c - see peers.h and docs/protocol.md ("Links").
 *
 * One struct peer per TCP connection, from connect() or accept() until it
 * is freed, on a list in struct peers; the known-peer list is an array.
 * Each link has three events: read (persistent from the handshake on),
 * write (added only while output is pending, or while connect() is in
 * flight) and one timer, re-armed lazily for the link's next deadline
 * (handshake bound, PING, silence, stalled output): activity only moves
 * timestamps, so no tick scans every link and no frame touches the timer.
 *
 * Closing is deferred: peer_close() marks the link, removes its events,
 * closes its socket and activates the reap event, which calls cb->down and
 * frees it. So any callback may drop any link, the one being read
 * included, and input processing stops at the first frame after a drop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/util.h>
#include <sodium.h>

#include "crypto/link.h"
#include "node/config.h"
#include "node/log.h"
#include "node/peers.h"
#include "node/util.h"
#include "routing/location.h"

#define PEERS_HS_TIMEOUT 10.0	/* s for connect() and the handshake */
#define PEERS_HS_MAX 64		/* inbound handshakes, refused newcomers */
#define PEERS_LINGER 5.0	/* s a refused newcomer has to read PEERS */
#define PEERS_LINGER_HELLO 2.0	/* s to wait for a lingering peer's HELLO */
#define PEERS_NEWCOMER_EVERY 5.0	/* s between slots made for newcomers */
#define PEERS_PATH_LINKS_MAX 64	/* path links, beyond max_peers */
#define PEERS_PATH_IDLE 60.0	/* s a path link lives with no path */
#define PEERS_PROBES_MAX 8	/* dial-backs we make at a time */
#define PEERS_PROBE_EVERY 5.0	/* s between PROBEs a link may ask of us */
#define PEERS_PROBE_WAIT 15.0	/* s we wait for a dial-back we asked */
#define PEERS_READ_CHUNK (256 * 1024)
#define PEERS_READ_BUDGET (1024 * 1024)	/* per callback: fairness */
#define PEERS_ACCEPT_BUDGET 64	/* accept() calls per callback */
#define PEERS_DIAL_EVERY 1	/* s between dial rounds */
#define PEERS_DIAL_BURST 16	/* dials started per tick */
#define PEERS_HELLO_EVERY 5.0	/* s between HELLO rounds */
#define PEERS_SAVE_EVERY 10.0	/* s between writes of DIR/peers */
#define PEERS_BACKOFF_MAX 60u
#define PEERS_SHARE_MAX 32	/* addresses in one PEERS we send */
#define PEERS_MIN_DIST 1e-9	/* keeps 1/d finite */
#define PEERS_EVICT_FAILURES 3	/* a full list forgets such entries */
#define PEERS_FILE "peers"
#define PEERS_FILE_LINES 256
#define PEERS_FILE_MAX (1u << 20)
#define PEERS_ADDR_MAX (UTIL_HOST_MAX + 8)	/* "[host]:65535" */
#define PEERS_NAME_MAX 64
#define PEERS_LINE_MAX (PEERS_ADDR_MAX + PEERS_NAME_MAX + 2)

enum peer_state {
	PEER_CONNECTING,	/* outbound: connect() in flight */
	PEER_WAIT_MSG2,		/* initiator: msg1 sent */
	PEER_WAIT_MSG1,		/* responder: accepted */
	PEER_WAIT_MSG3,		/* responder: msg2 sent */
	PEER_UP,
	PEER_LINGER,		/* responder with no room: PEERS sent */
	PEER_PROBE,		/* a dial-back link: PROBED, then closed */
};

struct peer {
	struct peers *ps;
	struct peer *prev, *next;
	struct evbuffer_cb_entry *out_cb;	/* keeps ps->queued */
	int fd;
	enum peer_state state;
	bool inbound;
	bool closing;
	bool announced;		/* cb->up was called: cb->down is owed */
	bool shut;		/* LINGER: our half is shut down */
	bool refused;		/* LINGER: no room for it after all */
	bool newcomer;		/* took a slot as a newcomer with no links */
	bool path_link;		/* for onion paths only: outside max_peers */
	unsigned path_refs;	/* paths using the link (peer_path_hold) */
	double path_idle;	/* when path_refs last fell to 0 */
	bool pinned;
	uint8_t pin[LINK_PUBLICKEYBYTES];
	/* Dial-backs (docs/protocol.md, "Addresses"). A probe link is one
	 * we dialed to say probe_nonce for the link probe_for, or one that
	 * dialed us to say it; an up link that we asked to dial us back
	 * has probe_nonce and probe_until set. */
	bool probe;
	bool probe_said;	/* our PROBED is out */
	uint64_t probe_nonce;
	uint32_t probe_for;
	double probe_until;
	double probe_asked;	/* its last PROBE to us */
	struct event *rev, *wev, *timer;
	struct evbuffer *in, *out;
	struct link_hs hs;
	struct link_keys keys;
	uint8_t pk[LINK_PUBLICKEYBYTES];
	char name[PEERS_NAME_MAX];
	double location;
	uint32_t handle;
	struct sockaddr_storage remote;
	char addr[PEERS_ADDR_MAX];	/* peer_address() */
	char dialed[PEERS_ADDR_MAX];	/* outbound: the known entry */
	uint16_t listen_port;		/* dialed or from HELLO; 0: unknown */
	double started, last_recv, last_send, last_write;
	double foaf[LINK_HELLO_MAX_PEERS];
	size_t nfoaf;
};

struct peer_known {
	char addr[PEERS_ADDR_MAX];
	uint8_t pk[LINK_PUBLICKEYBYTES];
	double location;	/* of pk, when has_pk */
	double next_try;
	unsigned failures;
	bool has_pk;
	bool pinned;		/* a seed with #PUBKEY: dial with the pin */
	bool from_seed;		/* from the config: never evicted or moved */
};

struct peers {
	struct event_base *base;
	struct peers_callbacks cb;
	void *arg;
	const struct identity *id;
	unsigned max_peers;
	double last_newcomer;	/* a slot was last made for a newcomer */
	char *path;		/* DIR/peers */
	int listen_fd;
	uint16_t listen_port;
	uint16_t hello_port;	/* HELLO's: where we can be dialed, or 0 */
	char listen_addr[PEERS_ADDR_MAX];
	struct event *listen_ev, *resume_ev, *reap_ev, *dial_ev, *hello_ev,
	    *save_ev;
	struct peer *links;	/* every link, in any state */
	size_t nup;		/* links in PEER_UP and not closing */
	size_t npath;		/* ... of them path links */
	uint32_t last_handle;
	double last_hello, last_save;
	struct peer_known *known;
	size_t nknown, capknown;
	uint8_t *msgbuf;	/* LINK_MSG_MAX_BYTES: a body being sealed */
	uint8_t *sealbuf;	/* LINK_FRAME_MAX_BYTES: a block frame */
	bool running;		/* set up whole: peers_free saves DIR/peers */
	bool freeing;
	size_t queued;		/* bytes in every link's output */
	unsigned nprobes;	/* dial-backs we are making */
};

static void peer_close(struct peer *p, enum log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int peer_send_msg(struct peer *p, const struct link_msg *msg);
static void peer_arm(struct peer *p, double now);

/* ---- small helpers ---- */

static void
peers_timer_in(struct event *ev, double secs)
{
	struct timeval tv;

	if (secs < 0)
		secs = 0;
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	evtimer_add(ev, &tv);
}

static double
peers_min(double a, double b)
{
	return a < b ? a : b;
}

/* Uniform in [0, 1), from libsodium's generator. */
static double
peers_uniform(void)
{
	uint64_t x;

	randombytes_buf(&x, sizeof(x));
	return (double)(x >> 11) * 0x1.0p-53;
}

static void
peers_name_of(const uint8_t pk[LINK_PUBLICKEYBYTES], char out[PEERS_NAME_MAX])
{
	sodium_bin2base64(out, PEERS_NAME_MAX, pk, LINK_PUBLICKEYBYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool
peers_is_us(const struct peers *ps, const uint8_t *pk)
{
	return memcmp(pk, ps->id->pk, LINK_PUBLICKEYBYTES) == 0;
}

/* The IP of ss and its family, 4 or 6 (IPv4-mapped IPv6 counts as 4);
 * 0 for anything else. */
static int
peers_sa_ip(const struct sockaddr_storage *ss, uint8_t ip[16])
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	memset(ip, 0, 16);
	if (ss->ss_family == AF_INET) {
		memcpy(ip, &sin->sin_addr, 4);
		return 4;
	}
	if (ss->ss_family != AF_INET6)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(ip, sin6->sin6_addr.s6_addr + 12, 4);
		return 4;
	}
	memcpy(ip, &sin6->sin6_addr, 16);
	return 6;
}

static uint16_t
peers_sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)ss)->
		    sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->
		    sin6_port);
	return 0;
}

/* "IP:PORT", IPv6 in brackets. */
static void
peers_format_ip(int family, const uint8_t *ip, uint16_t port, char *out,
    size_t len)
{
	char s[INET6_ADDRSTRLEN];

	if (family == 4 && inet_ntop(AF_INET, ip, s, sizeof(s)) != NULL)
		snprintf(out, len, "%s:%u", s, (unsigned)port);
	else if (family == 6 && inet_ntop(AF_INET6, ip, s, sizeof(s)) != NULL)
		snprintf(out, len, "[%s]:%u", s, (unsigned)port);
	else
		snprintf(out, len, "?:%u", (unsigned)port);
}

static void
peers_format(const struct sockaddr_storage *ss, uint16_t port, char *out,
    size_t len)
{
	uint8_t ip[16];

	peers_format_ip(peers_sa_ip(ss, ip), ip, port, out, len);
}

/* A PEERS entry's address: numeric IPs only (a name means nothing to a
 * peer that would have to resolve it). */
static bool
peers_entry_from_addr(struct link_peer_addr *e, const char *addr)
{
	char host[UTIL_HOST_MAX];
	uint16_t port;

	memset(e->addr, 0, sizeof(e->addr));
	if (util_parse_hostport(addr, host, &port) != 0 || port == 0)
		return false;
	if (inet_pton(AF_INET, host, e->addr) == 1)
		e->family = 4;
	else if (inet_pton(AF_INET6, host, e->addr) == 1)
		e->family = 6;
	else
		return false;
	e->port = port;
	return true;
}

/* The string for a received PEERS entry; false for one never dialable. */
static bool
peers_entry_addr(const struct link_peer_addr *e, char *out, size_t len)
{
	if (e->port == 0 || sodium_is_zero(e->addr, e->family == 4 ? 4 : 16))
		return false;
	peers_format_ip(e->family, e->addr, e->port, out, len);
	return true;
}

/* 127/8, ::1, or 127/8 mapped into IPv6. */
static bool
peers_is_loopback(int family, const uint8_t *ip)
{
	static const uint8_t one[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (family == 4)
		return ip[0] == 127;
	return family == 6 && (memcmp(ip, one, 16) == 0 ||
	    (memcmp(ip, mapped, 12) == 0 && ip[12] == 127));
}

/* A loopback address means something only to a peer on this host: none
 * is sent to, or taken from, a peer elsewhere (which could otherwise
 * make us dial our own local services). */
static bool
peer_is_local(const struct peer *p)
{
	uint8_t ip[16];

	return peers_is_loopback(peers_sa_ip(&p->remote, ip), ip);
}

/* Non-blocking, close-on-exec, no Nagle: frames go out as sealed. */
static int
peers_socket_setup(int fd)
{
	int one = 1;

	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    evutil_make_socket_closeonexec(fd) != 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/* Wire size of the frame that carries a body of len bytes. */
static size_t
peers_frame_bytes(size_t len)
{
	for (uint8_t c = 0; c < LINK_FRAME_CLASSES; c++) {
		size_t total = link_frame_size(c);

		if (LINK_FRAME_HEADERBYTES + len <= total - 1 - LINK_ABYTES)
			return total;
	}
	return 0;
}

/* ---- the known-peer list ---- */

static struct peer_known *
known_by_addr(struct peers *ps, const char *addr)
{
	for (size_t i = 0; i < ps->nknown; i++)
		if (strcmp(ps->known[i].addr, addr) == 0)
			return &ps->known[i];
	return NULL;
}

static struct peer_known *
known_by_pk(struct peers *ps, const uint8_t *pk)
{
	for (size_t i = 0; i < ps->nknown; i++)
		if (ps->known[i].has_pk &&
		    memcmp(ps->known[i].pk, pk, LINK_PUBLICKEYBYTES) == 0)
			return &ps->known[i];
	return NULL;
}

/* Pointers into the list are good only until the next add or remove. */
static void
known_remove(struct peers *ps, struct peer_known *k)
{
	*k = ps->known[--ps->nknown];
}

static void
known_set_pk(struct peer_known *k, const uint8_t *pk)
{
	memcpy(k->pk, pk, LINK_PUBLICKEYBYTES);
	k->has_pk = true;
	k->location = location_of_identity(pk);
}

/* A full list makes room by forgetting its most failing learned entry. */
static bool
known_evict(struct peers *ps)
{
	struct peer_known *worst = NULL;

	for (size_t i = 0; i < ps->nknown; i++) {
		struct peer_known *k = &ps->known[i];

		if (!k->from_seed && k->failures >= PEERS_EVICT_FAILURES &&
		    (worst == NULL || k->failures > worst->failures))
			worst = k;
	}
	if (worst == NULL)
		return false;
	known_remove(ps, worst);
	return true;
}

static struct peer_known *
known_add(struct peers *ps, const char *addr)
{
	char host[UTIL_HOST_MAX];
	struct peer_known *k;
	uint16_t port;
	size_t cap;

	if (strlen(addr) >= PEERS_ADDR_MAX ||
	    util_parse_hostport(addr, host, &port) != 0 || port == 0)
		return NULL;
	if (ps->nknown == PEERS_KNOWN_MAX && !known_evict(ps))
		return NULL;
	if (ps->nknown == ps->capknown) {
		cap = ps->capknown ? 2 * ps->capknown : 16;
		if (cap > PEERS_KNOWN_MAX)
			cap = PEERS_KNOWN_MAX;
		if ((k = realloc(ps->known, cap * sizeof(*k))) == NULL)
			return NULL;
		ps->known = k;
		ps->capknown = cap;
	}
	k = &ps->known[ps->nknown++];
	memset(k, 0, sizeof(*k));
	snprintf(k->addr, sizeof(k->addr), "%s", addr);
	return k;
}

static void
known_backoff(struct peer_known *k, double now)
{
	unsigned delay;

	if (k->failures < 16)
		k->failures++;
	delay = k->failures >= 6 ? PEERS_BACKOFF_MAX : 1u << k->failures;
	if (delay > PEERS_BACKOFF_MAX)
		delay = PEERS_BACKOFF_MAX;
	/* Jitter, so peers that lost each other do not redial in step. */
	k->next_try = now + delay + randombytes_uniform(1000) / 1000.0;
}

/*
 * Records that pk is reachable at addr (learned from PEERS, a HELLO, a
 * link that came up or DIR/peers). One entry per peer: an entry for pk
 * moves to addr, an entry for addr takes pk. Seeds keep the address the
 * config gave them, and a pinned seed its key.
 */
static void
peers_note(struct peers *ps, const char *addr, const uint8_t *pk)
{
	struct peer_known *k = known_by_pk(ps, pk), *a;

	if (peers_is_us(ps, pk) || (k != NULL && k->from_seed))
		return;
	a = known_by_addr(ps, addr);
	if (k != NULL && a != NULL && k != a) {
		known_remove(ps, a->from_seed ? k : a);
		k = known_by_pk(ps, pk);
		a = known_by_addr(ps, addr);
	}
	if (k != NULL) {
		snprintf(k->addr, sizeof(k->addr), "%s", addr);
		return;
	}
	if (a != NULL) {
		if (!a->pinned)
			known_set_pk(a, pk);
		return;
	}
	if ((k = known_add(ps, addr)) != NULL)
		known_set_pk(k, pk);
}

/* ---- links: making, closing, freeing ---- */

static void
peer_free(struct peer *p)
{
	if (p->rev != NULL)
		event_free(p->rev);
	if (p->wev != NULL)
		event_free(p->wev);
	if (p->timer != NULL)
		event_free(p->timer);
	if (p->in != NULL)
		evbuffer_free(p->in);
	if (p->out != NULL) {
		if (p->out_cb != NULL) {
			evbuffer_remove_cb_entry(p->out, p->out_cb);
			p->ps->queued -= evbuffer_get_length(p->out);
		}
		evbuffer_free(p->out);
	}
	if (p->fd >= 0)
		close(p->fd);
	link_hs_wipe(&p->hs);
	link_keys_wipe(&p->keys);
	free(p);
}

static void peer_on_read(evutil_socket_t fd, short what, void *arg);
static void peer_on_write(evutil_socket_t fd, short what, void *arg);
static void peer_on_timer(evutil_socket_t fd, short what, void *arg);

/* A link on fd, not yet armed; NULL (fd left open) if out of memory. */
/* Keeps the count of bytes in all links' outputs as libevent adds and
 * drains them. */
static void
peer_on_out_change(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct peers *ps = arg;

	(void)buf;
	ps->queued += info->n_added;
	ps->queued -= info->n_deleted;
}

static struct peer *
peer_new(struct peers *ps, int fd, bool inbound)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->ps = ps;
	p->fd = fd;
	p->inbound = inbound;
	p->rev = event_new(ps->base, fd, EV_READ | EV_PERSIST, peer_on_read, p);
	p->wev = event_new(ps->base, fd, EV_WRITE | EV_PERSIST, peer_on_write,
	    p);
	p->timer = evtimer_new(ps->base, peer_on_timer, p);
	p->in = evbuffer_new();
	p->out = evbuffer_new();
	if (p->out != NULL)
		p->out_cb = evbuffer_add_cb(p->out, peer_on_out_change, ps);
	if (p->rev == NULL || p->wev == NULL || p->timer == NULL ||
	    p->in == NULL || p->out == NULL || p->out_cb == NULL) {
		p->fd = -1;
		peer_free(p);
		return NULL;
	}
	p->started = p->last_recv = p->last_send = p->last_write = util_now();
	p->probe_asked = p->started - PEERS_PROBE_EVERY;
	p->next = ps->links;
	if (ps->links != NULL)
		ps->links->prev = p;
	ps->links = p;
	return p;
}

static void
peer_unlink(struct peers *ps, struct peer *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		ps->links = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

/* Arms ev for every s after last, at the soonest min s from now; an
 * armed ev stays as it is. */
static void
peers_debounce(struct event *ev, double last, double every, double min)
{
	double in = last + every - util_now();

	if (!evtimer_pending(ev, NULL))
		peers_timer_in(ev, in < min ? min : in);
}

/* The links changed: a HELLO round (FOAF) and a save, both debounced. */
static void
peers_changed(struct peers *ps)
{
	if (ps->freeing)
		return;
	peers_debounce(ps->hello_ev, ps->last_hello, PEERS_HELLO_EVERY, 0.5);
	peers_debounce(ps->save_ev, ps->last_save, PEERS_SAVE_EVERY, 1.0);
}

/* The known entry a closing link counts against: the address dialed, or
 * for an inbound link the peer's key. */
static void
peer_backoff(struct peer *p)
{
	struct peer_known *k = NULL;

	if (!p->inbound)
		k = known_by_addr(p->ps, p->dialed);
	else if (p->state == PEER_UP)
		k = known_by_pk(p->ps, p->pk);
	if (k != NULL)
		known_backoff(k, util_now());
}

static void peers_probe_failed(struct peers *ps, uint32_t handle,
    uint64_t nonce);
static struct peer *peers_connect(struct peers *ps, const char *addr,
    const uint8_t *pin, double now, const char **why);

static void
peer_close(struct peer *p, enum log_level level, const char *fmt, ...)
{
	struct peers *ps = p->ps;
	char why[256];
	va_list ap;

	if (p->closing)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	p->closing = true;
	event_del(p->rev);
	event_del(p->wev);
	event_del(p->timer);
	/* Closed now, not at the reap: the peer sees EOF at once. */
	close(p->fd);
	p->fd = -1;
	if (p->state == PEER_UP) {
		ps->nup--;
		if (p->path_link)
			ps->npath--;
	}
	if (p->announced)
		log_info("link down: %s at %s: %s, %zu peers", p->name, p->addr,
		    why, ps->nup);
	else
		log_msg(p->probe ? LOG_DEBUG : level, "link %s: %s", p->addr,
		    why);
	if (p->probe && !p->inbound)
		ps->nprobes--;
	if (ps->freeing)
		return;
	if (p->probe && !p->inbound && !p->probe_said)
		peers_probe_failed(ps, p->probe_for, p->probe_nonce);
	if (!p->probe)
		peer_backoff(p);
	event_active(ps->reap_ev, EV_TIMEOUT, 1);
	event_active(ps->dial_ev, EV_TIMEOUT, 1);
	if (p->announced)
		peers_changed(ps);
}

void
peers_drop(struct peer *p, const char *why)
{
	if (p != NULL)
		peer_close(p, LOG_INFO, "%s", why != NULL ? why : "dropped");
}

/* Frees closed links, after cb->down for those that were up. A down
 * callback may drop more links: they are freed in a later pass. */
static void
peers_on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct peers *ps = arg;
	struct peer *p, *next;
	bool again = true;

	(void)fd;
	(void)what;
	while (again) {
		again = false;
		for (p = ps->links; p != NULL; p = next) {
			next = p->next;
			if (!p->closing)
				continue;
			peer_unlink(ps, p);
			if (p->announced && ps->cb.down != NULL)
				ps->cb.down(ps->arg, p);
			peer_free(p);
			again = true;
		}
	}
}

/* ---- output ---- */

/* Writes what the socket takes; the write event covers the rest. */
static void
peer_flush(struct peer *p)
{
	size_t left;
	int n;

	while (!p->closing && (left = evbuffer_get_length(p->out)) > 0) {
		n = evbuffer_write_atmost(p->out, p->fd, -1);
		if (n > 0) {
			p->last_write = util_now();
			if ((size_t)n < left)
				break;	/* the socket is full */
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			break;
		peer_close(p, LOG_INFO, "write: %s",
		    n < 0 ? strerror(errno) : "nothing written");
		return;
	}
	if (p->closing)
		return;
	if (evbuffer_get_length(p->out) > 0) {
		event_add(p->wev, NULL);
		return;
	}
	event_del(p->wev);
	if (p->state == PEER_LINGER && p->refused && !p->shut) {
		/* PEERS is out: a FIN, and we wait for the peer's. */
		shutdown(p->fd, SHUT_WR);
		p->shut = true;
	}
}

/* Handshake messages go out as they are. */
static void
peer_queue_raw(struct peer *p, const uint8_t *buf, size_t len)
{
	if (evbuffer_get_length(p->out) == 0)
		p->last_write = util_now();
	if (evbuffer_add(p->out, buf, len) != 0) {
		peer_close(p, LOG_WARN, "out of memory");
		return;
	}
	p->last_send = util_now();
	peer_flush(p);
}

/*
 * Seals the body in msgbuf into the output. Small frames are sealed in
 * place in reserved space. A block frame is sealed beside and added: a
 * reservation of 33297 bytes gets a chunk of its own (libevent rounds it
 * to 64 KiB and never puts the next block frame in the rest), which
 * would double the memory behind a full queue; evbuffer_add() packs.
 */
static int
peer_seal(struct peer *p, uint8_t type, size_t len)
{
	struct evbuffer_iovec v;
	size_t fsize = peers_frame_bytes(len);
	bool big = fsize > LINK_FRAME1_BYTES;
	int rc;

	if (big) {
		v.iov_base = p->ps->sealbuf;
		v.iov_len = LINK_FRAME_MAX_BYTES;
	} else if (evbuffer_reserve_space(p->out, (ev_ssize_t)fsize, &v, 1) !=
	    1) {
		peer_close(p, LOG_WARN, "out of memory");
		return -1;
	}
	rc = link_frame_seal(&p->keys, type, p->ps->msgbuf, len, v.iov_base,
	    v.iov_len, &v.iov_len);
	if (rc == LINK_OK && (big ? evbuffer_add(p->out, v.iov_base,
	    v.iov_len) : evbuffer_commit_space(p->out, &v, 1)) != 0)
		rc = LINK_ESPACE;
	if (rc != LINK_OK) {
		peer_close(p, LOG_WARN, "cannot queue a frame: %s",
		    link_strerror(rc));
		return -1;
	}
	return 0;
}

/* Past PEERS_QUEUE_TOTAL_MAX (counting only live links: a closing one's
 * output is on its way out), closes the link with the most queued, the
 * one furthest behind. Returns true if that was p. */
static bool
peers_shed(struct peers *ps, struct peer *p, size_t more)
{
	struct peer *worst = NULL;
	size_t total = more, n;

	for (struct peer *o = ps->links; o != NULL; o = o->next) {
		if (o->closing)
			continue;
		n = evbuffer_get_length(o->out);
		total += n;
		if (worst == NULL || n > evbuffer_get_length(worst->out))
			worst = o;
	}
	if (total <= PEERS_QUEUE_TOTAL_MAX || worst == NULL)
		return false;
	peer_close(worst, LOG_INFO, "furthest behind while the send queues "
	    "hold %zu MiB", total >> 20);
	return worst == p;
}

static int
peer_send_msg(struct peer *p, const struct link_msg *msg)
{
	size_t len, queued = evbuffer_get_length(p->out);
	int rc;

	rc = link_msg_encode(msg, p->ps->msgbuf, LINK_MSG_MAX_BYTES, &len);
	if (rc != LINK_OK) {
		/* Our caller's bug, not the peer's: the link stays. */
		log_warn("cannot encode a message of type %u for %s: %s",
		    (unsigned)msg->type, p->name, link_strerror(rc));
		return -1;
	}
	if (queued + peers_frame_bytes(len) > PEERS_QUEUE_MAX) {
		peer_close(p, LOG_INFO, "peer not reading (send queue full)");
		return -1;
	}
	if (p->ps->queued + peers_frame_bytes(len) > PEERS_QUEUE_TOTAL_MAX &&
	    peers_shed(p->ps, p, peers_frame_bytes(len)))
		return -1;
	if (peer_seal(p, msg->type, len) != 0)
		return -1;
	p->last_send = util_now();
	if (queued == 0) {
		/* Output was idle: write now rather than wait a loop turn. */
		p->last_write = p->last_send;
		peer_flush(p);
	}
	return p->closing ? -1 : 0;
}

int
peers_send(struct peer *p, const struct link_msg *msg)
{
	if (p == NULL || msg == NULL || p->closing || p->state != PEER_UP)
		return -1;
	return peer_send_msg(p, msg);
}

/* HELLO: our listen port and up to 32 of our other peers (FOAF). */
static int
peer_send_hello(struct peer *p)
{
	struct link_msg m;
	struct peer *o;

	m.type = LINK_MSG_HELLO;
	m.hello.port = p->ps->hello_port;
	m.hello.npeers = 0;
	for (o = p->ps->links; o != NULL; o = o->next) {
		if (m.hello.npeers == LINK_HELLO_MAX_PEERS)
			break;
		/* Not path links: our neighbours would learn the first
		 * relays of our paths. */
		if (o != p && o->state == PEER_UP && !o->closing &&
		    !o->path_link)
			memcpy(m.hello.peers[m.hello.npeers++], o->pk,
			    LINK_PUBLICKEYBYTES);
	}
	return peer_send_msg(p, &m);
}

static bool
peers_msg_has(const struct link_msg *m, const uint8_t *pk)
{
	for (size_t i = 0; i < m->peers.n; i++)
		if (memcmp(m->peers.peers[i].pk, pk, LINK_PUBLICKEYBYTES) == 0)
			return true;
	return false;
}

/* PEERS: addresses of our up links first (known to work), then known
 * entries with a key; never p itself. */
static int
peer_send_peers(struct peer *p)
{
	struct link_msg m;
	struct link_peer_addr *e;
	struct peer *o;
	bool local = peer_is_local(p);

	m.type = LINK_MSG_PEERS;
	m.peers.n = 0;
	for (o = p->ps->links; o != NULL && m.peers.n < PEERS_SHARE_MAX;
	    o = o->next) {
		if (o == p || o->state != PEER_UP || o->closing ||
		    o->listen_port == 0 || o->path_link)
			continue;
		e = &m.peers.peers[m.peers.n];
		e->family = (uint8_t)peers_sa_ip(&o->remote, e->addr);
		e->port = o->listen_port;
		memcpy(e->pk, o->pk, LINK_PUBLICKEYBYTES);
		if (e->family != 0 && !peers_msg_has(&m, o->pk) && (local ||
		    !peers_is_loopback(e->family, e->addr)))
			m.peers.n++;
	}
	for (size_t i = 0; i < p->ps->nknown && m.peers.n < PEERS_SHARE_MAX;
	    i++) {
		const struct peer_known *k = &p->ps->known[i];

		if (!k->has_pk || memcmp(k->pk, p->pk, LINK_PUBLICKEYBYTES) ==
		    0 || peers_msg_has(&m, k->pk))
			continue;
		e = &m.peers.peers[m.peers.n];
		memcpy(e->pk, k->pk, LINK_PUBLICKEYBYTES);
		if (peers_entry_from_addr(e, k->addr) && (local ||
		    !peers_is_loopback(e->family, e->addr)))
			m.peers.n++;
	}
	return peer_send_msg(p, &m);
}

/* SEEN: where we see p. The port only if we dialed it: the port an
 * inbound link comes from is not one p listens on. */
static int
peer_send_seen(struct peer *p)
{
	struct link_msg m;

	m.type = LINK_MSG_SEEN;
	if ((m.seen.family = (uint8_t)peers_sa_ip(&p->remote,
	    m.seen.addr)) == 0)
		return 0;
	m.seen.port = p->inbound ? 0 : peers_sa_port(&p->remote);
	return peer_send_msg(p, &m);
}

static void
peers_on_hello(evutil_socket_t fd, short what, void *arg)
{
	struct peers *ps = arg;

	(void)fd;
	(void)what;
	ps->last_hello = util_now();
	for (struct peer *p = ps->links; p != NULL; p = p->next)
		if (p->announced && !p->closing)
			(void)peer_send_hello(p);
}

/* ---- coming up ---- */

static void
peer_set_up(struct peer *p)
{
	struct peers *ps = p->ps;
	double now = util_now();

	p->state = PEER_UP;
	ps->nup++;
	if (p->path_link)
		ps->npath++;
	p->path_idle = now;
	if (++ps->last_handle == 0)
		++ps->last_handle;
	p->handle = ps->last_handle;
	p->last_recv = p->last_send = p->last_write = now;
	if (!p->inbound && !p->path_link)
		peers_note(ps, p->dialed, p->pk);
	log_info("link up: %s at %s (%s%s), %zu peers", p->name, p->addr,
	    p->inbound ? "inbound" : "outbound", p->path_link ? ", for paths" :
	    "", ps->nup);
	if (peer_send_hello(p) != 0 || peer_send_peers(p) != 0 ||
	    peer_send_seen(p) != 0)
		return;
	p->announced = true;
	peer_arm(p, now);
	peers_changed(ps);
	if (ps->cb.up != NULL)
		ps->cb.up(ps->arg, p);
}

/*
 * A second link to a peer already up: both ends keep the link that the
 * lower public key dialed, so both close the same one. Two links dialed
 * by the same side (it restarted, or knows us by two addresses): the newer
 * is kept, the older being likely dead. Returns true if p lost.
 */
static bool
peer_lost_duplicate(struct peer *p)
{
	struct peers *ps = p->ps;
	struct peer *o;
	bool keep_new, we_lower;

	for (o = ps->links; o != NULL; o = o->next)
		if (o != p && o->state == PEER_UP && !o->closing &&
		    memcmp(o->pk, p->pk, LINK_PUBLICKEYBYTES) == 0)
			break;
	if (o == NULL)
		return false;
	we_lower = memcmp(ps->id->pk, p->pk, LINK_PUBLICKEYBYTES) < 0;
	if (o->inbound == p->inbound)
		keep_new = true;
	else	/* we dialed p if it is outbound */
		keep_new = (!p->inbound) == we_lower;
	peer_close(keep_new ? o : p, LOG_DEBUG, "duplicate link");
	return !keep_new;
}

static void peer_on_hello(struct peer *p, const struct link_msg *m);
static void peer_promote_path(struct peer *p, const struct link_msg *m);

/* The linger's end: a FIN once PEERS is out, then the peer's FIN. */
static void
peer_refuse_final(struct peer *p)
{
	p->refused = true;
	if (evbuffer_get_length(p->out) == 0 && !p->shut) {
		shutdown(p->fd, SHUT_WR);
		p->shut = true;
	}
}

/* The up link whose peer has the most other links, if it has at least
 * one besides us: it loses least if we close ours. Never a path link:
 * closing one makes no room among the links max_peers counts. */
static struct peer *
peer_pick_victim(struct peers *ps)
{
	struct peer *o, *best = NULL;

	for (o = ps->links; o != NULL; o = o->next)
		if (o->state == PEER_UP && !o->closing && !o->path_link &&
		    o->nfoaf >= 1 && (best == NULL || o->nfoaf > best->nfoaf))
			best = o;
	return best;
}

/* Slots held by links that came in as newcomers and still claim no
 * other link: nobody can check the claim, and identities are free. */
static size_t
peers_newcomer_slots(const struct peers *ps)
{
	size_t n = 0;

	for (const struct peer *o = ps->links; o != NULL; o = o->next)
		if (o->state == PEER_UP && !o->closing && o->newcomer &&
		    o->nfoaf == 0)
			n++;
	return n;
}

/*
 * A refused peer's first words. A newcomer with no link at all would
 * otherwise find every node of a saturated network full and never join
 * (a node restarted after its peers filled up their slots): it gets a
 * slot, and the peer that has the most other links gives up its link to
 * us. Since anyone can claim to have no links, such slots are bounded: a
 * quarter of them (at least one) while their holders still claim none,
 * one taken every PEERS_NEWCOMER_EVERY seconds; so fresh identities
 * cannot push out every honest link. A refused peer whose first path
 * message is a BUILD becomes a path link (peer_promote_path). Anyone
 * else is refused when the linger ends.
 */
static void
peer_linger_msg(struct peer *p, const struct link_msg *m)
{
	struct peers *ps = p->ps;
	size_t cap = ps->max_peers / 4 > 1 ? ps->max_peers / 4 : 1;
	double now = util_now();
	struct peer *victim;

	if (p->refused)
		return;
	if (m->type == LINK_MSG_BUILD) {
		peer_promote_path(p, m);
		return;
	}
	/* Anything else waits for the linger's end (PEERS_LINGER_HELLO):
	 * a BUILD may still come, after the HELLO and PEERS a dialer sends
	 * first, and make it a path link. */
	if (m->type != LINK_MSG_HELLO || m->hello.npeers != 0 ||
	    peers_newcomer_slots(ps) >= cap ||
	    now - ps->last_newcomer < PEERS_NEWCOMER_EVERY ||
	    (victim = peer_pick_victim(ps)) == NULL)
		return;
	ps->last_newcomer = now;
	p->newcomer = true;
	peer_close(victim, LOG_INFO, "making room for a newcomer with no "
	    "links");
	peer_set_up(p);
	if (!p->closing)
		peer_on_hello(p, m);
}

/* A refused peer that wants a path through us: a path link, outside
 * max_peers, while there are fewer than PEERS_PATH_LINKS_MAX (so a relay
 * on a path need not already be linked to the hop before it). */
static void
peer_promote_path(struct peer *p, const struct link_msg *m)
{
	struct peers *ps = p->ps;

	if (ps->npath >= PEERS_PATH_LINKS_MAX) {
		peer_refuse_final(p);
		return;
	}
	p->path_link = true;
	peer_set_up(p);
	if (!p->closing && ps->cb.path != NULL)
		ps->cb.path(ps->arg, p, m);
}

/* No room: a newcomer still learns addresses to try; unless it has no
 * link at all (peer_linger_msg), we then close. */
static void
peer_refuse(struct peer *p)
{
	struct peers *ps = p->ps;

	log_debug("refusing %s at %s: %zu links up, at most %u", p->name,
	    p->addr, ps->nup, ps->max_peers);
	p->state = PEER_LINGER;
	p->started = util_now();
	peer_arm(p, p->started);
	(void)peer_send_peers(p);
}

/* ---- dial-backs (docs/protocol.md, "Addresses") ---- */

/* The up link to pk that we asked to dial us back, if its time is not
 * up: a link from pk now is that dial-back, not a second link. */
static struct peer *
peers_probe_asker(struct peers *ps, const uint8_t *pk)
{
	double now = util_now();

	for (struct peer *o = ps->links; o != NULL; o = o->next)
		if (o->state == PEER_UP && !o->closing && o->probe_until > now &&
		    memcmp(o->pk, pk, LINK_PUBLICKEYBYTES) == 0)
			return o;
	return NULL;
}

/* A probe link's handshake is done. Ours says the nonce and waits for
 * the other end to close; theirs waits for it (peer_on_probed). Neither
 * is a link up: no HELLO, no routing, no slot. */
static int
peer_probe_ready(struct peer *p)
{
	struct link_msg m;

	p->probe = true;
	p->state = PEER_PROBE;
	if (p->inbound)
		return 1;
	m.type = LINK_MSG_PROBED;
	m.probed.nonce = p->probe_nonce;
	if (peer_send_msg(p, &m) == 0)
		p->probe_said = true;
	return p->closing ? -1 : 1;
}

/* PROBED on a link that dialed us: the dial-back we asked of its
 * identity's up link, if the nonce is the one we gave it. */
static void
peer_on_probed(struct peer *p, const struct link_msg *m)
{
	struct peers *ps = p->ps;
	struct peer *o = peers_probe_asker(ps, p->pk);

	if (o != NULL && m->type == LINK_MSG_PROBED &&
	    m->probed.nonce == o->probe_nonce) {
		o->probe_until = 0;
		peer_close(p, LOG_DEBUG, "dial-back done");
		if (ps->cb.probed != NULL)
			ps->cb.probed(ps->arg, o, m->probed.nonce, true);
		return;
	}
	peer_close(p, LOG_INFO, "unexpected message %u on a dial-back",
	    (unsigned)m->type);
}

/* A dial-back we made for handle did not get through: tell it. */
static void
peers_probe_failed(struct peers *ps, uint32_t handle, uint64_t nonce)
{
	struct link_msg m;

	m.type = LINK_MSG_PROBE_FAIL;
	m.probe_fail.nonce = nonce;
	for (struct peer *o = ps->links; o != NULL; o = o->next)
		if (o->handle == handle && o->state == PEER_UP && !o->closing) {
			(void)peer_send_msg(o, &m);
			return;
		}
}

/*
 * p asks us to dial it back at an address (PROBE). One TCP connection
 * and a handshake pinned to p's identity, at most one per
 * PEERS_PROBE_EVERY s per link and PEERS_PROBES_MAX at a time, so a peer
 * cannot make us a scanner; never to a loopback address for a peer
 * elsewhere (our own local services). Anything refused: PROBE_FAIL.
 */
static void
peer_on_probe(struct peer *p, const struct link_msg *m)
{
	const struct link_netaddr *a = &m->probe.addr;
	struct peers *ps = p->ps;
	char addr[PEERS_ADDR_MAX];
	const char *why = "refused";
	double now = util_now();
	struct peer *q = NULL;

	if (now - p->probe_asked >= PEERS_PROBE_EVERY &&
	    ps->nprobes < PEERS_PROBES_MAX && a->port != 0 &&
	    !sodium_is_zero(a->addr, sizeof(a->addr)) &&
	    (peer_is_local(p) || !peers_is_loopback(a->family, a->addr))) {
		p->probe_asked = now;
		peers_format_ip(a->family, a->addr, a->port, addr, sizeof(addr));
		q = peers_connect(ps, addr, p->pk, now, &why);
	}
	if (q == NULL) {
		log_debug("no dial-back for %s: %s", p->name, why);
		peers_probe_failed(ps, p->handle, m->probe.nonce);
		return;
	}
	q->probe = true;
	q->probe_nonce = m->probe.nonce;
	q->probe_for = p->handle;
	ps->nprobes++;
}

int
peers_ask_probe(struct peer *p, uint64_t nonce, const struct link_netaddr *a)
{
	struct link_msg m;

	if (p == NULL || p->closing || p->state != PEER_UP)
		return -1;
	m.type = LINK_MSG_PROBE;
	m.probe.nonce = nonce;
	m.probe.addr = *a;
	p->probe_nonce = nonce;
	p->probe_until = util_now() + PEERS_PROBE_WAIT;
	return peer_send_msg(p, &m);
}

/* The peer's identity is verified. Returns 1, or -1 if p is closing. */
static int
peer_hs_done(struct peer *p)
{
	struct peers *ps = p->ps;
	struct peer_known *k;

	memcpy(p->pk, p->hs.peer_pk, sizeof(p->pk));
	link_hs_wipe(&p->hs);
	peers_name_of(p->pk, p->name);
	p->location = location_of_identity(p->pk);
	if (peers_is_us(ps, p->pk)) {
		if (!p->inbound && (k = known_by_addr(ps, p->dialed)) != NULL) {
			log_info("%s is our own address: forgotten", p->dialed);
			known_remove(ps, k);
		}
		peer_close(p, LOG_DEBUG, "our own identity");
		return -1;
	}
	if (p->probe || (p->inbound && peers_probe_asker(ps, p->pk) != NULL))
		return peer_probe_ready(p);
	if (peer_lost_duplicate(p))
		return -1;
	if (!p->path_link && ps->nup - ps->npath >= ps->max_peers) {
		if (p->inbound)
			peer_refuse(p);
		else
			peer_close(p, LOG_DEBUG, "no room: %zu links up",
			    ps->nup);
		return p->closing ? -1 : 1;
	}
	peer_set_up(p);
	return p->closing ? -1 : 1;
}

/* ---- input: handshake ---- */

/* Responder. Magic and version come first, so a peer of another version
 * is told from its first five bytes, whatever the size of its msg1. */
static int
peer_read_msg1(struct peer *p)
{
	const struct identity *id = p->ps->id;
	uint8_t m1[LINK_MSG1_BYTES], m2[LINK_MSG2_BYTES];
	size_t have = evbuffer_get_length(p->in);
	int rc;

	if (have < sizeof(m1)) {
		if (have < LINK_MAGICBYTES + 1)
			return 0;
		have = LINK_MAGICBYTES + 1;
		evbuffer_copyout(p->in, m1, have);
		if (memcmp(m1, LINK_MAGIC, LINK_MAGICBYTES) == 0 &&
		    m1[LINK_MAGICBYTES] == LINK_VERSION)
			return 0;
	} else {
		have = sizeof(m1);
		evbuffer_remove(p->in, m1, have);
	}
	rc = link_hs_respond(&p->hs, id->sk, id->pk, m1, have, m2);
	if (rc == LINK_EVERSION) {
		log_warn("peer %s speaks protocol version %u, we speak %d",
		    p->addr, (unsigned)p->hs.peer_version, LINK_VERSION);
		peer_close(p, LOG_DEBUG, "another protocol version");
		return -1;
	}
	if (rc != LINK_OK) {
		peer_close(p, LOG_INFO, "handshake failed: %s",
		    link_strerror(rc));
		return -1;
	}
	p->state = PEER_WAIT_MSG3;
	peer_queue_raw(p, m2, sizeof(m2));
	return p->closing ? -1 : 1;
}

/* Initiator: msg2 names and proves the responder; msg3 answers it. */
static int
peer_read_msg2(struct peer *p)
{
	uint8_t m2[LINK_MSG2_BYTES], m3[LINK_MSG3_BYTES];
	char who[PEERS_NAME_MAX], pin[PEERS_NAME_MAX];
	int rc;

	if (evbuffer_get_length(p->in) < sizeof(m2))
		return 0;
	evbuffer_remove(p->in, m2, sizeof(m2));
	rc = link_hs_read_msg2(&p->hs, m2, sizeof(m2), m3, &p->keys);
	if (rc == LINK_EPIN) {
		peers_name_of(p->hs.peer_pk, who);
		peers_name_of(p->pin, pin);
		log_warn("peer at %s is %s, not the pinned %s", p->addr, who,
		    pin);
		peer_close(p, LOG_DEBUG, "not the pinned identity");
		return -1;
	}
	if (rc != LINK_OK) {
		peer_close(p, LOG_INFO, "handshake failed: %s",
		    link_strerror(rc));
		return -1;
	}
	peer_queue_raw(p, m3, sizeof(m3));
	if (p->closing)
		return -1;
	return peer_hs_done(p);
}

static int
peer_read_msg3(struct peer *p)
{
	uint8_t m3[LINK_MSG3_BYTES];
	int rc;

	if (evbuffer_get_length(p->in) < sizeof(m3))
		return 0;
	evbuffer_remove(p->in, m3, sizeof(m3));
	rc = link_hs_read_msg3(&p->hs, m3, sizeof(m3), &p->keys);
	if (rc != LINK_OK) {
		peer_close(p, LOG_INFO, "handshake failed: %s",
		    link_strerror(rc));
		return -1;
	}
	return peer_hs_done(p);
}

/* ---- input: frames and messages ---- */

static void
peer_on_hello(struct peer *p, const struct link_msg *m)
{
	struct peers *ps = p->ps;
	struct peer_known *k;

	p->nfoaf = 0;
	for (size_t i = 0; i < m->hello.npeers && i < LINK_HELLO_MAX_PEERS;
	    i++)
		if (!peers_is_us(ps, m->hello.peers[i]))
			p->foaf[p->nfoaf++] =
			    location_of_identity(m->hello.peers[i]);
	if (p->inbound && m->hello.port != 0) {
		/* Its address for us: where it came from, where it listens. */
		p->listen_port = m->hello.port;
		peers_format(&p->remote, p->listen_port, p->addr,
		    sizeof(p->addr));
		peers_note(ps, p->addr, p->pk);
	}
	/* A peer with room says HELLO; one that refuses us does not. */
	if ((k = known_by_pk(ps, p->pk)) != NULL)
		k->failures = 0;
	if (ps->cb.foaf != NULL)
		ps->cb.foaf(ps->arg, p);
}

static void
peer_on_peers(struct peer *p, const struct link_msg *m)
{
	char addr[PEERS_ADDR_MAX];
	bool local = peer_is_local(p);

	for (size_t i = 0; i < m->peers.n; i++) {
		const struct link_peer_addr *e = &m->peers.peers[i];

		if (!peers_is_us(p->ps, e->pk) && (local ||
		    !peers_is_loopback(e->family, e->addr)) &&
		    peers_entry_addr(e, addr, sizeof(addr)))
			peers_note(p->ps, addr, e->pk);
	}
}

static void
peer_dispatch(struct peer *p, const struct link_msg *m)
{
	struct link_msg reply;

	if (p->state == PEER_LINGER) {
		peer_linger_msg(p, m);
		return;
	}
	if (p->state == PEER_PROBE) {
		peer_on_probed(p, m);
		return;
	}
	switch (m->type) {
	case LINK_MSG_PING:
		reply.type = LINK_MSG_PONG;
		reply.pong.cookie = m->ping.cookie;
		(void)peer_send_msg(p, &reply);
		break;
	case LINK_MSG_PONG:
		break;		/* its arrival was the point */
	case LINK_MSG_HELLO:
		peer_on_hello(p, m);
		break;
	case LINK_MSG_PEERS:
		peer_on_peers(p, m);
		break;
	case LINK_MSG_SEEN:
		if (p->ps->cb.seen != NULL)
			p->ps->cb.seen(p->ps->arg, p, &m->seen);
		break;
	case LINK_MSG_PROBE:
		peer_on_probe(p, m);
		break;
	case LINK_MSG_PROBE_FAIL:
		if (p->ps->cb.probed != NULL)
			p->ps->cb.probed(p->ps->arg, p, m->probe_fail.nonce,
			    false);
		break;
	case LINK_MSG_PROBED:
		break;	/* only on a dial-back link; a late one is harmless */
	case LINK_MSG_REQUEST: case LINK_MSG_DATA: case LINK_MSG_DNF:
	case LINK_MSG_RNF: case LINK_MSG_LOOP: case LINK_MSG_ACCEPTED:
	case LINK_MSG_INSERT: case LINK_MSG_INSERT_OK:
		if (p->ps->cb.message != NULL)
			p->ps->cb.message(p->ps->arg, p, m);
		break;
	case LINK_MSG_RELAYS:
		if (p->state == PEER_UP && p->ps->cb.relays != NULL)
			p->ps->cb.relays(p->ps->arg, p, m);
		break;
	case LINK_MSG_BUILD: case LINK_MSG_BUILT: case LINK_MSG_BUILD_FAIL:
	case LINK_MSG_CELL: case LINK_MSG_CELL_LARGE:
		if (p->ps->cb.path != NULL)
			p->ps->cb.path(p->ps->arg, p, m);
		else
			peer_close(p, LOG_INFO, "paths not served");
		break;
	default:
		peer_close(p, LOG_INFO, "unexpected message type %u",
		    (unsigned)m->type);
	}
}

/* One whole frame, if there is one: 1 read, 0 wait, -1 closed. It is
 * opened in place in the input buffer (pullup copies only a frame that
 * straddles two chunks), so the message's pointers stay good until the
 * drain after dispatch. */
static int
peer_read_frame(struct peer *p)
{
	uint8_t *frame, cls, type;
	const uint8_t *body;
	struct link_msg msg;
	size_t need, bodylen;
	int rc;

	if (evbuffer_copyout(p->in, &cls, 1) != 1)
		return 0;
	if ((need = link_frame_size(cls)) == 0) {
		peer_close(p, LOG_INFO, "unknown frame class %u",
		    (unsigned)cls);
		return -1;
	}
	if (evbuffer_get_length(p->in) < need)
		return 0;
	if ((frame = evbuffer_pullup(p->in, (ev_ssize_t)need)) == NULL) {
		peer_close(p, LOG_WARN, "out of memory");
		return -1;
	}
	rc = link_frame_open(&p->keys, frame, need, &type, &body, &bodylen);
	if (rc == LINK_OK && (rc = link_msg_decode(type, body, bodylen,
	    &msg)) != LINK_OK)
		peer_close(p, LOG_INFO, "bad message of type %u: %s",
		    (unsigned)type, link_strerror(rc));
	else if (rc != LINK_OK)
		peer_close(p, LOG_INFO, "bad frame: %s", link_strerror(rc));
	else
		peer_dispatch(p, &msg);
	evbuffer_drain(p->in, need);
	return p->closing ? -1 : 1;
}

/* Handles all complete input, so what stays buffered is less than one
 * frame: input per link is bounded by one read plus one frame. */
static void
peer_take_input(struct peer *p)
{
	int rc = 1;

	while (rc > 0 && !p->closing) {
		switch (p->state) {
		case PEER_WAIT_MSG1:
			rc = peer_read_msg1(p);
			break;
		case PEER_WAIT_MSG2:
			rc = peer_read_msg2(p);
			break;
		case PEER_WAIT_MSG3:
			rc = peer_read_msg3(p);
			break;
		case PEER_UP:
		case PEER_PROBE:
			rc = peer_read_frame(p);
			break;
		default:
			/* Refused: its words no longer matter. */
			if (p->state == PEER_LINGER && !p->refused) {
				rc = peer_read_frame(p);
				break;
			}
			evbuffer_drain(p->in, evbuffer_get_length(p->in));
			rc = 0;
		}
	}
}

/* evbuffer_read() reads at most 4 KiB a call in libevent 2.1
 * (EVBUFFER_MAX_READ), the very cap that rules out bufferevents; so
 * read straight into reserved buffer space. */
static ssize_t
peer_read_some(struct peer *p)
{
	struct evbuffer_iovec v[2];
	struct iovec iov[2];
	ssize_t n;
	size_t left;
	int nv, used = 0;

	nv = evbuffer_reserve_space(p->in, PEERS_READ_CHUNK, v, 2);
	if (nv <= 0) {
		errno = ENOMEM;
		return -1;
	}
	for (int i = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	if ((n = readv(p->fd, iov, nv)) <= 0)
		return n;
	for (left = (size_t)n; used < nv && left > 0; used++) {
		if (v[used].iov_len > left)
			v[used].iov_len = left;
		left -= v[used].iov_len;
	}
	if (evbuffer_commit_space(p->in, v, used) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return n;
}

static void
peer_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;
	size_t got = 0;
	ssize_t n;

	(void)fd;
	(void)what;
	while (!p->closing && got < PEERS_READ_BUDGET) {
		n = peer_read_some(p);
		if (n == 0) {
			peer_close(p, p->state == PEER_UP ? LOG_INFO : LOG_DEBUG,
			    "closed by peer");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				peer_close(p, LOG_INFO, "read: %s",
				    strerror(errno));
			return;
		}
		got += (size_t)n;
		p->last_recv = util_now();
		peer_take_input(p);
		if ((size_t)n < PEERS_READ_CHUNK)
			return;	/* drained: spare the read that says EAGAIN */
	}
}

/* ---- connecting, writing, timers ---- */

static void
peer_connected(struct peer *p)
{
	const struct identity *id = p->ps->id;
	struct peer_known *k;
	uint8_t m1[LINK_MSG1_BYTES];
	socklen_t len = sizeof(int);
	int err = 0, rc;

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		/* Said once at info; a peer that stays away, at debug. */
		k = known_by_addr(p->ps, p->dialed);
		peer_close(p, k == NULL || k->failures == 0 ? LOG_INFO :
		    LOG_DEBUG, "cannot connect: %s", strerror(err));
		return;
	}
	event_del(p->wev);
	rc = link_hs_init(&p->hs, id->sk, id->pk, p->pinned ? p->pin : NULL,
	    m1);
	if (rc != LINK_OK) {
		peer_close(p, LOG_WARN, "cannot start a handshake: %s",
		    link_strerror(rc));
		return;
	}
	p->state = PEER_WAIT_MSG2;
	event_add(p->rev, NULL);
	peer_queue_raw(p, m1, sizeof(m1));
}

static void
peer_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;

	(void)fd;
	(void)what;
	if (p->closing)
		return;
	if (p->state == PEER_CONNECTING)
		peer_connected(p);
	else
		peer_flush(p);
}

/* The timer for the link's next deadline; it may fire early (the
 * deadline moved with activity) and then just re-arms. */
static void
peer_arm(struct peer *p, double now)
{
	double next;

	switch (p->state) {
	case PEER_UP:
		next = peers_min(p->last_send + PEERS_PING_IDLE,
		    p->last_recv + PEERS_DEAD_AFTER);
		if (evbuffer_get_length(p->out) > 0)
			next = peers_min(next, p->last_write + PEERS_DEAD_AFTER);
		if (p->path_link && p->path_refs == 0)
			next = peers_min(next, p->path_idle + PEERS_PATH_IDLE);
		break;
	case PEER_LINGER:
		next = p->started + (p->refused ? PEERS_LINGER :
		    PEERS_LINGER_HELLO);
		break;
	default:
		next = p->started + PEERS_HS_TIMEOUT;
	}
	peers_timer_in(p->timer, next - now < 0.01 ? 0.01 : next - now);
}

/* Returns false if the link closed. */
static bool
peer_keepalive(struct peer *p, double now)
{
	struct link_msg m;

	if (now - p->last_recv >= PEERS_DEAD_AFTER) {
		peer_close(p, LOG_INFO, "peer silent for %.0f s",
		    now - p->last_recv);
		return false;
	}
	if (evbuffer_get_length(p->out) > 0 &&
	    now - p->last_write >= PEERS_DEAD_AFTER) {
		peer_close(p, LOG_INFO, "peer not reading for %.0f s",
		    now - p->last_write);
		return false;
	}
	if (p->path_link && p->path_refs == 0 &&
	    now - p->path_idle >= PEERS_PATH_IDLE) {
		peer_close(p, LOG_INFO, "no path for %.0f s", PEERS_PATH_IDLE);
		return false;
	}
	if (now - p->last_send >= PEERS_PING_IDLE) {
		m.type = LINK_MSG_PING;
		randombytes_buf(&m.ping.cookie, sizeof(m.ping.cookie));
		if (peer_send_msg(p, &m) != 0)
			return false;
	}
	return true;
}

static void
peer_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;
	double now = util_now();

	(void)fd;
	(void)what;
	if (p->closing)
		return;
	if (p->state == PEER_UP) {
		if (!peer_keepalive(p, now))
			return;
	} else if (p->state == PEER_LINGER) {
		if (!p->refused && now >= p->started + PEERS_LINGER_HELLO)
			peer_refuse_final(p);
		if (now >= p->started + PEERS_LINGER) {
			peer_close(p, LOG_DEBUG, "refused (no room)");
			return;
		}
	} else if (now >= p->started + PEERS_HS_TIMEOUT) {
		peer_close(p, LOG_INFO, "%s timed out",
		    p->state == PEER_CONNECTING ? "connect" :
		    p->state == PEER_PROBE ? "dial-back" : "handshake");
		return;
	}
	peer_arm(p, now);
}

/* ---- accepting ---- */

static size_t
peers_count_state(const struct peers *ps, bool inbound,
    enum peer_state a, enum peer_state b)
{
	size_t n = 0;

	for (const struct peer *p = ps->links; p != NULL; p = p->next)
		if (!p->closing && !p->probe && p->inbound == inbound &&
		    (p->state == a || p->state == b))
			n++;
	return n;
}

/* Inbound links not taken (yet): handshakes in progress and refused
 * newcomers lingering. They share PEERS_HS_MAX: a refused peer lingers up
 * to PEERS_LINGER s, so a stream of handshakes would otherwise hold a
 * descriptor per handshake made in the last PEERS_LINGER s. */
static bool
peer_is_pending_in(const struct peer *p)
{
	return !p->closing && p->inbound && (p->state == PEER_WAIT_MSG1 ||
	    p->state == PEER_WAIT_MSG3 || p->state == PEER_LINGER);
}

/* One of the n pending inbound links, at random. */
static struct peer *
peers_random_pending(struct peers *ps, size_t n)
{
	uint32_t k = randombytes_uniform((uint32_t)n);

	for (struct peer *p = ps->links; p != NULL; p = p->next)
		if (peer_is_pending_in(p) && k-- == 0)
			return p;
	return NULL;
}

static void
peers_accept_one(struct peers *ps, int fd, const struct sockaddr_storage *ss)
{
	char addr[PEERS_ADDR_MAX];
	struct peer *p;
	size_t n;

	peers_format(ss, peers_sa_port(ss), addr, sizeof(addr));
	/* Full of handshakes: one at random goes, not the newcomer. A real
	 * peer's handshake takes a round trip, so silent sockets held open
	 * to lock peers out are pushed out by the peers they would lock
	 * out; at random, so that no pattern of connections can push out
	 * every honest handshake. */
	n = 0;
	for (p = ps->links; p != NULL; p = p->next)
		n += peer_is_pending_in(p);
	if (n >= PEERS_HS_MAX && (p = peers_random_pending(ps, n)) != NULL)
		peer_close(p, LOG_DEBUG, "pushed out by a newer link (%d "
		    "handshakes or refused newcomers at most)", PEERS_HS_MAX);
	if (peers_socket_setup(fd) != 0 || (p = peer_new(ps, fd, true)) ==
	    NULL) {
		log_warn("cannot take a link from %s: %s", addr,
		    strerror(errno));
		close(fd);
		return;
	}
	p->remote = *ss;
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->state = PEER_WAIT_MSG1;
	event_add(p->rev, NULL);
	peer_arm(p, p->started);
	log_debug("link %s: accepted", addr);
}

static void
peers_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct peers *ps = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	(void)what;
	for (int i = 0; i < PEERS_ACCEPT_BUDGET; i++) {
		len = sizeof(ss);
		if ((fd = accept(lfd, (struct sockaddr *)&ss, &len)) >= 0) {
			peers_accept_one(ps, fd, &ss);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* The listener would fire again at once: rest. */
			log_warn("accept: %s; pausing for 1 s",
			    strerror(errno));
			event_del(ps->listen_ev);
			peers_timer_in(ps->resume_ev, 1.0);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warn("accept: %s", strerror(errno));
		return;
	}
}

static void
peers_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct peers *ps = arg;

	(void)fd;
	(void)what;
	event_add(ps->listen_ev, NULL);
}

static int
peers_bind(const struct addrinfo *ai)
{
	int one = 1, fd = socket(ai->ai_family, ai->ai_socktype, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    peers_socket_setup(fd) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int
peers_listen(struct peers *ps, const char *spec, char *why, size_t whylen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char host[UTIL_HOST_MAX], port[8];
	uint16_t portn;
	int rc, err = 0;

	if (util_parse_hostport(spec, host, &portn) != 0) {
		snprintf(why, whylen, "listen address '%s': expected "
		    "HOST:PORT", spec);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", (unsigned)portn);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(why, whylen, "listen address '%s': %s", spec,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && ps->listen_fd < 0; ai = ai->ai_next)
		if ((ps->listen_fd = peers_bind(ai)) < 0)
			err = errno;
	freeaddrinfo(res);
	if (ps->listen_fd < 0 || getsockname(ps->listen_fd,
	    (struct sockaddr *)&ss, &sslen) != 0) {
		snprintf(why, whylen, "cannot listen on %s: %s", spec,
		    strerror(err ? err : errno));
		return -1;
	}
	ps->listen_port = ps->hello_port = peers_sa_port(&ss);
	peers_format(&ss, ps->listen_port, ps->listen_addr,
	    sizeof(ps->listen_addr));
	ps->listen_ev = event_new(ps->base, ps->listen_fd, EV_READ | EV_PERSIST,
	    peers_on_accept, ps);
	if (ps->listen_ev == NULL || event_add(ps->listen_ev, NULL) != 0) {
		snprintf(why, whylen, "cannot listen on %s: event", spec);
		return -1;
	}
	return 0;
}

/* ---- dialing ---- */

/* Not backing off, not linked, not being dialed. */
static bool
peers_is_candidate(const struct peers *ps, const struct peer_known *k,
    double now)
{
	if (k->next_try > now)
		return false;
	for (const struct peer *p = ps->links; p != NULL; p = p->next) {
		if (p->closing)
			continue;
		if (!p->inbound && strcmp(p->dialed, k->addr) == 0)
			return false;
		if (p->state == PEER_UP && ((k->has_pk && memcmp(p->pk, k->pk,
		    LINK_PUBLICKEYBYTES) == 0) || strcmp(p->addr, k->addr) == 0))
			return false;
	}
	return true;
}

/*
 * A candidate with probability proportional to 1/d, d its distance to
 * us on the circle, so links follow the small-world law that greedy
 * routing needs (docs/protocol.md; prior-art/routing-sim.md). An address
 * whose key is unknown weighs as much as the closest candidate.
 */
static struct peer_known *
peers_pick(struct peers *ps, double now)
{
	double w[PEERS_KNOWN_MAX], total = 0, wmax = 0, r, d;
	size_t n = 0, last = 0;

	for (size_t i = 0; i < ps->nknown; i++) {
		struct peer_known *k = &ps->known[i];

		w[i] = 0;
		if (!peers_is_candidate(ps, k, now))
			continue;
		n++;
		w[i] = -1;	/* unknown key: wmax, below */
		if (!k->has_pk)
			continue;
		d = location_distance(ps->id->location, k->location);
		w[i] = 1.0 / (d > PEERS_MIN_DIST ? d : PEERS_MIN_DIST);
		if (w[i] > wmax)
			wmax = w[i];
	}
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < ps->nknown; i++) {
		if (w[i] < 0)
			w[i] = wmax > 0 ? wmax : 1.0;
		total += w[i];
	}
	r = peers_uniform() * total;
	for (size_t i = 0; i < ps->nknown; i++) {
		if (w[i] <= 0)
			continue;
		if (r < w[i])
			return &ps->known[i];
		r -= w[i];
		last = i;
	}
	return &ps->known[last];	/* rounding left r just past the end */
}

static void
peers_dial_failed(struct peer_known *k, double now, const char *why)
{
	log_msg(k->failures == 0 ? LOG_INFO : LOG_DEBUG,
	    "cannot dial %s: %s", k->addr, why);
	known_backoff(k, now);
}

/* connect() to addr, non-blocking, pinned to pin if not NULL; the write
 * event says how it went. A name is resolved here, blocking: seeds may be
 * names, learned ones are not. NULL with *why on failure. */
static struct peer *
peers_connect(struct peers *ps, const char *addr, const uint8_t *pin,
    double now, const char **why)
{
	struct addrinfo hints, *ai = NULL;
	char host[UTIL_HOST_MAX], port[8];
	struct peer *p;
	uint16_t portn;
	int fd, rc;

	if (util_parse_hostport(addr, host, &portn) != 0) {
		*why = "bad address";
		return NULL;
	}
	snprintf(port, sizeof(port), "%u", (unsigned)portn);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		*why = gai_strerror(rc);
		return NULL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || peers_socket_setup(fd) != 0 || (connect(fd, ai->ai_addr,
	    ai->ai_addrlen) != 0 && errno != EINPROGRESS) ||
	    (p = peer_new(ps, fd, false)) == NULL) {
		*why = strerror(errno);
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return NULL;
	}
	memcpy(&p->remote, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	snprintf(p->dialed, sizeof(p->dialed), "%s", addr);
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->listen_port = portn;
	p->pinned = pin != NULL;
	if (pin != NULL)
		memcpy(p->pin, pin, sizeof(p->pin));
	p->state = PEER_CONNECTING;
	event_add(p->wev, NULL);
	peer_arm(p, now);
	log_debug("link %s: dialing", addr);
	return p;
}

static void
peers_dial(struct peers *ps, struct peer_known *k, double now)
{
	const char *why;

	if (peers_connect(ps, k->addr, k->pinned ? k->pk : NULL, now,
	    &why) == NULL)
		peers_dial_failed(k, now, why);
}

/* Every second, and at once after a link closes: dial while there is
 * room for more links than are up or being dialed. */
static void
peers_on_dial(evutil_socket_t fd, short what, void *arg)
{
	struct peers *ps = arg;
	double now = util_now();
	size_t busy;
	struct peer_known *k;

	(void)fd;
	(void)what;
	if (ps->freeing)
		return;
	busy = ps->nup - ps->npath + peers_count_state(ps, false,
	    PEER_CONNECTING, PEER_WAIT_MSG2);
	for (int i = 0; i < PEERS_DIAL_BURST && busy < ps->max_peers;
	    i++, busy++) {
		if ((k = peers_pick(ps, now)) == NULL)
			break;
		peers_dial(ps, k, now);
	}
}

/* ---- DIR/peers ---- */

static void
peers_add_line(char *buf, size_t cap, size_t *len, size_t *lines,
    const char *addr, const uint8_t *pk)
{
	char name[PEERS_NAME_MAX];
	int n;

	if (*lines >= PEERS_FILE_LINES)
		return;
	peers_name_of(pk, name);
	n = snprintf(buf + *len, cap - *len, "%s#%s\n", addr, name);
	if (n > 0 && (size_t)n < cap - *len) {
		*len += (size_t)n;
		(*lines)++;
	}
}

static bool
peers_pk_up(const struct peers *ps, const uint8_t *pk)
{
	for (const struct peer *p = ps->links; p != NULL; p = p->next)
		if (p->state == PEER_UP && !p->closing &&
		    memcmp(p->pk, pk, LINK_PUBLICKEYBYTES) == 0)
			return true;
	return false;
}

/* Up links first (known to work), then known entries with a key. */
static void
peers_save(struct peers *ps)
{
	size_t cap = PEERS_FILE_LINES * PEERS_LINE_MAX, len = 0, lines = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		return;
	for (struct peer *p = ps->links; p != NULL; p = p->next)
		if (p->state == PEER_UP && !p->closing && p->listen_port != 0 &&
		    !p->path_link)
			peers_add_line(buf, cap, &len, &lines, p->addr, p->pk);
	for (size_t i = 0; i < ps->nknown; i++)
		if (ps->known[i].has_pk && !peers_pk_up(ps, ps->known[i].pk))
			peers_add_line(buf, cap, &len, &lines,
			    ps->known[i].addr, ps->known[i].pk);
	if (util_write_file(ps->path, buf, len, 0600) != 0)
		log_warn("cannot write %s: %s", ps->path, strerror(errno));
	ps->last_save = util_now();
	free(buf);
}

static void
peers_on_save(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	peers_save(arg);
}

static void
peers_load_line(struct peers *ps, char *line, size_t lineno)
{
	struct config_peer cp;

	line[strcspn(line, "\r")] = '\0';
	if (line[0] == '\0' || line[0] == '#')
		return;
	if (config_parse_peer(&cp, line) != 0) {
		log_warn("%s, line %zu: expected HOST:PORT#PUBKEY; ignored",
		    ps->path, lineno);
		return;
	}
	if (cp.pinned)
		peers_note(ps, cp.addr, cp.pubkey);
	else if (known_by_addr(ps, cp.addr) == NULL)
		(void)known_add(ps, cp.addr);
	free(cp.addr);
}

static void
peers_load(struct peers *ps)
{
	char *text = NULL, *line, *next;
	size_t len = 0, lineno = 0;

	if (util_read_file(ps->path, PEERS_FILE_MAX, &text, &len) != 0) {
		if (errno != ENOENT)
			log_warn("cannot read %s: %s", ps->path,
			    strerror(errno));
		return;
	}
	for (line = text; line != NULL && line < text + len; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		peers_load_line(ps, line, ++lineno);
	}
	free(text);
}

static void
peers_add_seeds(struct peers *ps, const struct peers_config *cfg)
{
	for (size_t i = 0; i < cfg->nseeds; i++) {
		const struct config_peer *s = &cfg->seeds[i];
		struct peer_known *k = NULL;

		if (s->addr != NULL && (k = known_by_addr(ps, s->addr)) == NULL)
			k = known_add(ps, s->addr);
		if (k == NULL) {
			log_warn("peer '%s': not HOST:PORT; ignored",
			    s->addr != NULL ? s->addr : "");
			continue;
		}
		k->from_seed = true;
		if (s->pinned) {
			k->pinned = true;
			known_set_pk(k, s->pubkey);
		}
	}
}

/* ---- the whole ---- */

static void
peers_destroy(struct peers *ps)
{
	struct event **evs[] = { &ps->listen_ev, &ps->resume_ev, &ps->reap_ev,
	    &ps->dial_ev, &ps->hello_ev, &ps->save_ev };

	for (size_t i = 0; i < sizeof(evs) / sizeof(*evs); i++)
		if (*evs[i] != NULL)
			event_free(*evs[i]);
	if (ps->listen_fd >= 0)
		close(ps->listen_fd);
	free(ps->msgbuf);
	free(ps->sealbuf);
	free(ps->known);
	free(ps->path);
	free(ps);
}

static int
peers_events(struct peers *ps)
{
	struct event_base *b = ps->base;
	struct timeval tick = { PEERS_DIAL_EVERY, 0 };

	ps->reap_ev = event_new(b, -1, 0, peers_on_reap, ps);
	ps->dial_ev = event_new(b, -1, EV_PERSIST, peers_on_dial, ps);
	ps->hello_ev = evtimer_new(b, peers_on_hello, ps);
	ps->save_ev = evtimer_new(b, peers_on_save, ps);
	ps->resume_ev = evtimer_new(b, peers_on_resume, ps);
	if (ps->reap_ev == NULL || ps->dial_ev == NULL || ps->hello_ev ==
	    NULL || ps->save_ev == NULL || ps->resume_ev == NULL ||
	    event_add(ps->dial_ev, &tick) != 0)
		return -1;
	return 0;
}

int
peers_new(struct peers **out, struct event_base *base,
    const struct peers_config *cfg, const struct peers_callbacks *cb,
    void *arg, char *why, size_t whylen)
{
	struct peers *ps;

	*out = NULL;
	if (base == NULL || cfg == NULL || cfg->id == NULL ||
	    cfg->datadir == NULL || cfg->listen == NULL) {
		snprintf(why, whylen, "peers: missing settings");
		return -1;
	}
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	ps->listen_fd = -1;
	ps->base = base;
	if (cb != NULL)
		ps->cb = *cb;
	ps->arg = arg;
	ps->id = cfg->id;
	ps->max_peers = cfg->max_peers ? cfg->max_peers :
	    CONFIG_DEFAULT_MAX_LINKS;
	ps->path = util_path(cfg->datadir, PEERS_FILE);
	ps->msgbuf = malloc(LINK_MSG_MAX_BYTES);
	ps->sealbuf = malloc(LINK_FRAME_MAX_BYTES);
	if (ps->path == NULL || ps->msgbuf == NULL || ps->sealbuf == NULL ||
	    peers_events(ps) != 0) {
		snprintf(why, whylen, "out of memory");
		peers_destroy(ps);
		return -1;
	}
	if (peers_listen(ps, cfg->listen, why, whylen) != 0) {
		peers_destroy(ps);
		return -1;
	}
	peers_add_seeds(ps, cfg);
	peers_load(ps);
	ps->last_save = util_now();
	ps->running = true;
	event_active(ps->dial_ev, EV_TIMEOUT, 1);
	log_info("peer links: listening on %s, %zu addresses known, at most "
	    "%u links", ps->listen_addr, ps->nknown, ps->max_peers);
	*out = ps;
	return 0;
}

void
peers_free(struct peers *ps)
{
	struct peer *p;

	if (ps == NULL)
		return;
	if (ps->running)
		peers_save(ps);
	ps->freeing = true;
	for (p = ps->links; p != NULL; p = p->next)
		peer_close(p, LOG_DEBUG, "node stopping");
	while ((p = ps->links) != NULL) {
		peer_unlink(ps, p);
		if (p->announced && ps->cb.down != NULL)
			ps->cb.down(ps->arg, p);
		peer_free(p);
	}
	peers_destroy(ps);
}

/* ---- accessors ---- */

const char *
peers_listen_address(const struct peers *ps)
{
	return ps->listen_addr;
}

size_t
peers_count(const struct peers *ps)
{
	return ps->nup;
}

void
peers_each(struct peers *ps, void (*fn)(void *arg, struct peer *p),
    void *arg)
{
	for (struct peer *p = ps->links; p != NULL; p = p->next)
		if (p->announced && !p->closing)
			fn(arg, p);
}

size_t
peer_queued(const struct peer *p)
{
	return evbuffer_get_length(p->out);
}

uint32_t
peer_handle(const struct peer *p)
{
	return p->handle;
}

const uint8_t *
peer_pk(const struct peer *p)
{
	return p->pk;
}

const char *
peer_name(const struct peer *p)
{
	return p->name;
}

double
peer_location(const struct peer *p)
{
	return p->location;
}

const char *
peer_address(const struct peer *p)
{
	return p->addr;
}

bool
peer_inbound(const struct peer *p)
{
	return p->inbound;
}

size_t
peer_foaf(const struct peer *p, double *locs, size_t max)
{
	size_t n = p->nfoaf < max ? p->nfoaf : max;

	memcpy(locs, p->foaf, n * sizeof(*locs));
	return n;
}

/* ---- path links ---- */

void
peers_set_hello_port(struct peers *ps, uint16_t port)
{
	if (port == ps->hello_port)
		return;
	ps->hello_port = port;
	peers_changed(ps);	/* a HELLO round says it */
}

struct peer *
peers_by_handle(struct peers *ps, uint32_t handle)
{
	for (struct peer *p = ps->links; p != NULL; p = p->next)
		if (p->handle == handle && p->state == PEER_UP && !p->closing)
			return p;
	return NULL;
}

struct peer *
peers_find(struct peers *ps, const uint8_t pk[LINK_PUBLICKEYBYTES])
{
	for (struct peer *p = ps->links; p != NULL; p = p->next)
		if (p->state == PEER_UP && !p->closing &&
		    memcmp(p->pk, pk, LINK_PUBLICKEYBYTES) == 0)
			return p;
	return NULL;
}

int
peers_dial_path(struct peers *ps, const uint8_t pk[LINK_PUBLICKEYBYTES],
    uint8_t family, const uint8_t ip[16], uint16_t port)
{
	char addr[PEERS_ADDR_MAX];
	const char *why;
	struct peer *p;
	size_t dialing = 0;

	peers_format_ip(family, ip, port, addr, sizeof(addr));
	if (peers_is_us(ps, pk) || (family != 4 && family != 6) || port == 0)
		return -1;
	for (p = ps->links; p != NULL; p = p->next) {
		if (p->closing || p->inbound)
			continue;
		if (p->state != PEER_UP && (strcmp(p->dialed, addr) == 0 ||
		    (p->pinned && memcmp(p->pin, pk, sizeof(p->pin)) == 0))) {
			p->path_link = true;	/* so it comes up if full */
			return 0;	/* on its way */
		}
		if (p->path_link && p->state != PEER_UP)
			dialing++;
	}
	if (peers_find(ps, pk) != NULL)
		return 0;
	if (ps->npath + dialing >= PEERS_PATH_LINKS_MAX) {
		log_info("no path link to %s: %d path links already", addr,
		    PEERS_PATH_LINKS_MAX);
		return -1;
	}
	if ((p = peers_connect(ps, addr, pk, util_now(), &why)) == NULL) {
		log_info("cannot dial %s for a path: %s", addr, why);
		return -1;
	}
	p->path_link = true;
	return 0;
}

bool
peers_dialing(const struct peers *ps, const uint8_t pk[LINK_PUBLICKEYBYTES],
    uint8_t family, const uint8_t ip[16], uint16_t port)
{
	char addr[PEERS_ADDR_MAX];

	peers_format_ip(family, ip, port, addr, sizeof(addr));
	for (const struct peer *p = ps->links; p != NULL; p = p->next)
		if (!p->closing && !p->inbound && !p->probe &&
		    p->state != PEER_UP &&
		    ((p->pinned && memcmp(p->pin, pk, sizeof(p->pin)) == 0) ||
		    strcmp(p->dialed, addr) == 0))
			return true;
	return false;
}

void
peer_path_hold(struct peer *p)
{
	p->path_refs++;
}

void
peer_path_release(struct peer *p)
{
	if (p->path_refs > 0 && --p->path_refs == 0) {
		p->path_idle = util_now();
		if (p->path_link && p->state == PEER_UP && !p->closing)
			peer_arm(p, p->path_idle);
	}
}

bool
peer_is_path_link(const struct peer *p)
{
	return p->path_link;
}
