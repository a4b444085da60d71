/*
 * test_peers.c - node/peers.c on loopback.
 *
 * Several nodes (struct peers with a fresh identity and datadir each)
 * share one event loop on 127.0.0.1 with port 0; a "raw" peer speaks the
 * link protocol through crypto/link.h on a plain socket, to do what a
 * node would not (stop reading, send a bad frame). Every wait runs the
 * loop in bounded turns under a wall-clock limit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <event2/event.h>
#include <sodium.h>

#include "crypto/link.h"
#include "node/config.h"
#include "node/identity.h"
#include "node/log.h"
#include "node/peers.h"
#include "node/util.h"
#include "tests/tap.h"

#define BURST 40		/* DATA frames sent back to back */

struct tnode {
	char dir[64];
	struct identity id;
	struct peers *ps;
	struct config_peer seed;
	int ups, downs, foafs, nmsg;
	uint8_t down_pk[16][32];	/* the last links down, by key */
	size_t ndown;
	struct link_msg last;		/* the last routing message */
	uint8_t block[LINK_BLOCK_BYTES];	/* the last DATA's block */
	uint64_t ids[BURST];		/* DATA ids in arrival order */
	size_t nids;
	bool blocks_ok;			/* each DATA block matched its id */
};

static struct event_base *base;

/* ---- callbacks ---- */

static void
on_up(void *arg, struct peer *p)
{
	struct tnode *n = arg;

	(void)p;
	n->ups++;
}

static void
on_down(void *arg, struct peer *p)
{
	struct tnode *n = arg;

	memcpy(n->down_pk[n->ndown++ % 16], peer_pk(p), 32);
	n->downs++;
}

/* n said down for a link to pk. */
static bool
went_down(const struct tnode *n, const uint8_t *pk)
{
	for (size_t i = 0; i < 16 && i < n->ndown; i++)
		if (memcmp(n->down_pk[i], pk, 32) == 0)
			return true;
	return false;
}

static void
fill_block(uint8_t *block, uint64_t id)
{
	uint8_t seed[randombytes_SEEDBYTES] = { 0 };

	memcpy(seed, &id, sizeof(id));
	randombytes_buf_deterministic(block, LINK_BLOCK_BYTES, seed);
}

static void
on_message(void *arg, struct peer *p, const struct link_msg *m)
{
	struct tnode *n = arg;
	static uint8_t want[LINK_BLOCK_BYTES];

	(void)p;
	n->nmsg++;
	n->last = *m;
	if (m->type != LINK_MSG_DATA)
		return;
	memcpy(n->block, m->data.block, LINK_BLOCK_BYTES);
	n->last.data.block = n->block;
	fill_block(want, m->data.id);
	if (memcmp(want, m->data.block, LINK_BLOCK_BYTES) != 0)
		n->blocks_ok = false;
	if (n->nids < BURST)
		n->ids[n->nids++] = m->data.id;
}

static void
on_foaf(void *arg, struct peer *p)
{
	struct tnode *n = arg;

	(void)p;
	n->foafs++;
}

static const struct peers_callbacks callbacks = {
	.up = on_up, .down = on_down, .message = on_message, .foaf = on_foaf,
};

/* ---- nodes ---- */

/* Starts n listening on listen, seeded with seed (HOST:PORT) if not
 * NULL, pinned to pin if not NULL. */
static bool
node_start_at(struct tnode *n, const char *listen, const char *seed,
    const uint8_t *pin, unsigned max_peers)
{
	struct peers_config cfg;
	char spec[UTIL_HOST_MAX + 64], b64[64], why[256];
	const char *err = NULL;

	memset(n, 0, sizeof(*n));
	n->blocks_ok = true;
	snprintf(n->dir, sizeof(n->dir), "/tmp/umbra-test-peers-XXXXXX");
	if (mkdtemp(n->dir) == NULL || identity_load(&n->id, n->dir, &err) != 0)
		return false;
	memset(&cfg, 0, sizeof(cfg));
	if (seed != NULL) {
		snprintf(spec, sizeof(spec), "%s", seed);
		if (pin != NULL) {
			sodium_bin2base64(b64, sizeof(b64), pin, 32,
			    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
			strcat(spec, "#");
			strcat(spec, b64);
		}
		if (config_parse_peer(&n->seed, spec) != 0)
			return false;
		cfg.seeds = &n->seed;
		cfg.nseeds = 1;
	}
	cfg.datadir = n->dir;
	cfg.listen = listen;
	cfg.max_peers = max_peers;
	cfg.id = &n->id;
	if (peers_new(&n->ps, base, &cfg, &callbacks, n, why,
	    sizeof(why)) != 0) {
		printf("# peers_new: %s\n", why);
		return false;
	}
	return true;
}

static bool
node_start(struct tnode *n, const struct tnode *seed, const uint8_t *pin,
    unsigned max_peers)
{
	return node_start_at(n, "127.0.0.1:0", seed != NULL ?
	    peers_listen_address(seed->ps) : NULL, pin, max_peers);
}

static void
node_stop(struct tnode *n)
{
	peers_free(n->ps);
	n->ps = NULL;
	identity_wipe(&n->id);
	free(n->seed.addr);
	n->seed.addr = NULL;
}

static void
node_rmdir(struct tnode *n)
{
	DIR *d = opendir(n->dir);
	struct dirent *e;
	char path[512];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", n->dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(n->dir);
}

struct find { const uint8_t *pk; struct peer *found; };

static void
find_one(void *arg, struct peer *p)
{
	struct find *f = arg;

	if (memcmp(peer_pk(p), f->pk, 32) == 0)
		f->found = p;
}

/* n's link to the peer with key pk, if up. */
static struct peer *
link_to(struct tnode *n, const uint8_t *pk)
{
	struct find f = { pk, NULL };

	if (n->ps != NULL)
		peers_each(n->ps, find_one, &f);
	return f.found;
}

/* ---- the loop, bounded ---- */

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

typedef bool (*cond_fn)(void *arg);

/* Runs the loop until cond holds or secs pass; cond NULL runs secs. */
static bool
run_until(cond_fn cond, void *arg, double secs)
{
	double end = util_now() + secs;

	for (int i = 0; i < 1000000 && util_now() < end; i++) {
		if (cond != NULL && cond(arg))
			return true;
		event_base_loop(base, EVLOOP_ONCE);
	}
	return cond != NULL && cond(arg);
}

struct pair { struct tnode *a, *b; };

static bool
linked(void *arg)
{
	struct pair *x = arg;

	return link_to(x->a, x->b->id.pk) != NULL &&
	    link_to(x->b, x->a->id.pk) != NULL;
}

static bool
unlinked(void *arg)
{
	struct pair *x = arg;

	return link_to(x->a, x->b->id.pk) == NULL &&
	    link_to(x->b, x->a->id.pk) == NULL;
}

/* b's link to a shows a's listen address: a's HELLO arrived. */
static bool
hello_seen(void *arg)
{
	struct pair *x = arg;
	struct peer *p = link_to(x->b, x->a->id.pk);

	return p != NULL && strcmp(peer_address(p),
	    peers_listen_address(x->a->ps)) == 0;
}

static bool
got_msgs(void *arg)
{
	struct tnode *n = arg;

	return n->nmsg > 0;
}

static bool
got_burst(void *arg)
{
	struct tnode *n = arg;

	return n->nids == BURST;
}

/* ---- a raw peer: the protocol by hand ---- */

struct raw {
	int fd;
	uint8_t pk[32], sk[64];
	struct link_hs hs;
	struct link_keys keys;
	uint8_t buf[LINK_FRAME_MAX_BYTES];
};

static int
raw_connect(const char *addr)
{
	char host[UTIL_HOST_MAX];
	struct sockaddr_in sin;
	uint16_t port;
	int fd;

	if (util_parse_hostport(addr, host, &port) != 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads exactly n bytes into r->buf at offset at, running the loop. */
static bool
raw_read(struct raw *r, size_t at, size_t n, double secs)
{
	double end = util_now() + secs;
	size_t have = 0;
	ssize_t got;

	while (have < n && util_now() < end) {
		got = read(r->fd, r->buf + at + have, n - have);
		if (got > 0)
			have += (size_t)got;
		else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return false;
		else
			event_base_loop(base, EVLOOP_ONCE);
	}
	return have == n;
}

static bool
raw_write(struct raw *r, const uint8_t *buf, size_t n)
{
	size_t done = 0;
	ssize_t w;

	for (int i = 0; i < 1000 && done < n; i++) {
		w = write(r->fd, buf + done, n - done);
		if (w > 0)
			done += (size_t)w;
		else
			event_base_loop(base, EVLOOP_ONCE);
	}
	return done == n;
}

/* Dials node n as an initiator and completes the handshake. */
static bool
raw_handshake(struct raw *r, struct tnode *n)
{
	uint8_t m1[LINK_MSG1_BYTES], m3[LINK_MSG3_BYTES];

	memset(r, 0, sizeof(*r));
	crypto_sign_keypair(r->pk, r->sk);
	if ((r->fd = raw_connect(peers_listen_address(n->ps))) < 0)
		return false;
	if (link_hs_init(&r->hs, r->sk, r->pk, n->id.pk, m1) != 0 ||
	    !raw_write(r, m1, sizeof(m1)) ||
	    !raw_read(r, 0, LINK_MSG2_BYTES, 5))
		return false;
	if (link_hs_read_msg2(&r->hs, r->buf, LINK_MSG2_BYTES, m3,
	    &r->keys) != 0)
		return false;
	return raw_write(r, m3, sizeof(m3));
}

static bool
raw_send(struct raw *r, const struct link_msg *m)
{
	uint8_t body[LINK_MSG_MAX_BYTES], frame[LINK_FRAME_MAX_BYTES];
	size_t len, flen;

	return link_msg_encode(m, body, sizeof(body), &len) == 0 &&
	    link_frame_seal(&r->keys, m->type, body, len, frame,
	    sizeof(frame), &flen) == 0 && raw_write(r, frame, flen);
}

/* Reads frames until one of the given type; fills *m. */
static bool
raw_expect(struct raw *r, uint8_t type, struct link_msg *m)
{
	const uint8_t *body;
	size_t size, len;
	uint8_t t;

	for (int i = 0; i < 16; i++) {
		if (!raw_read(r, 0, 1, 5) ||
		    (size = link_frame_size(r->buf[0])) == 0 ||
		    !raw_read(r, 1, size - 1, 5))
			return false;
		if (link_frame_open(&r->keys, r->buf, size, &t, &body, &len) !=
		    0 || link_msg_decode(t, body, len, m) != 0)
			return false;
		if (t == type)
			return true;
	}
	return false;
}

/* True once the socket reads EOF (or a reset), within secs. */
static bool
raw_closed(int fd, double secs)
{
	double end = util_now() + secs;
	uint8_t buf[4096];
	ssize_t n;

	while (util_now() < end) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return true;
		if (n < 0)
			event_base_loop(base, EVLOOP_ONCE);
	}
	return false;
}

/* ---- the scenarios ---- */

static void
test_up(struct tnode *a, struct tnode *b)
{
	struct pair ab = { a, b };
	struct peer *pa, *pb;

	TAP_OK(linked(&ab) || run_until(linked, &ab, 10), "A and B link up");
	pa = link_to(a, b->id.pk);
	pb = link_to(b, a->id.pk);
	if (pa == NULL || pb == NULL)
		return;
	TAP_OK(a->ups == 1 && b->ups == 1, "one up callback each (%d, %d)",
	    a->ups, b->ups);
	TAP_OK(peers_count(a->ps) == 1 && peers_count(b->ps) == 1,
	    "peers_count 1 on each side");
	TAP_OK(peer_location(pa) == b->id.location &&
	    peer_location(pb) == a->id.location,
	    "each side sees the other's location");
	TAP_OK(strcmp(peer_name(pa), b->id.name) == 0 &&
	    strcmp(peer_name(pb), a->id.name) == 0, "peer_name is the identity");
	TAP_OK(!peer_inbound(pa) && peer_inbound(pb), "A dialed, B accepted");
	TAP_OK(peer_handle(pa) != 0 && peer_handle(pb) != 0, "handles nonzero");
	TAP_OK(strcmp(peer_address(pa), peers_listen_address(b->ps)) == 0,
	    "outbound address is the one dialed (%s)", peer_address(pa));
	TAP_OK(run_until(hello_seen, &ab, 5),
	    "inbound address becomes remote IP + HELLO's port (%s)",
	    peer_address(pb));
}

static void
test_messages(struct tnode *a, struct tnode *b)
{
	struct peer *pa = link_to(a, b->id.pk), *pb = link_to(b, a->id.pk);
	static uint8_t block[LINK_BLOCK_BYTES];
	struct link_msg m;
	bool sent = true;

	if (pa == NULL || pb == NULL) {
		TAP_OK(0, "messages: no link");
		return;
	}
	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_REQUEST;
	m.request.id = 0x1122334455667788ULL;
	randombytes_buf(m.request.rkey, sizeof(m.request.rkey));
	m.request.htl = 18;
	TAP_OK(peers_send(pa, &m) == 0, "A sends REQUEST");
	TAP_OK(run_until(got_msgs, b, 5) && b->last.type == LINK_MSG_REQUEST &&
	    b->last.request.id == m.request.id && b->last.request.htl == 18 &&
	    memcmp(b->last.request.rkey, m.request.rkey, 32) == 0,
	    "B gets the REQUEST intact");
	m.type = LINK_MSG_DATA;
	m.data.id = 7;
	fill_block(block, 7);
	m.data.block = block;
	TAP_OK(peers_send(pb, &m) == 0, "B sends DATA");
	TAP_OK(run_until(got_msgs, a, 5) && a->last.type == LINK_MSG_DATA &&
	    a->last.data.id == 7 && memcmp(a->block, block, sizeof(block)) ==
	    0, "A gets the 32 KiB block intact");
	m.type = LINK_MSG_RNF;
	m.rnf.id = 9;
	m.rnf.htl = 3;
	a->nmsg = 0;
	TAP_OK(peers_send(pb, &m) == 0 && run_until(got_msgs, a, 5) &&
	    a->last.type == LINK_MSG_RNF && a->last.rnf.htl == 3,
	    "B to A: RNF");
	b->nids = 0;
	for (uint64_t i = 0; i < BURST; i++) {
		fill_block(block, 100 + i);
		m.type = LINK_MSG_DATA;
		m.data.id = 100 + i;
		m.data.block = block;
		sent = sent && peers_send(pa, &m) == 0;
	}
	TAP_OK(sent && peer_queued(pa) <= PEERS_QUEUE_MAX,
	    "A queues %d DATA frames (%zu bytes left queued)", BURST,
	    peer_queued(pa));
	TAP_OK(run_until(got_burst, b, 10) && b->blocks_ok,
	    "B gets all %d blocks intact", BURST);
	sent = true;
	for (size_t i = 0; i < b->nids; i++)
		sent = sent && b->ids[i] == 100 + i;
	TAP_OK(sent, "in the order sent");
}

struct foaf_wait { struct tnode *a, *b, *c; };

static bool
foaf_has_c(void *arg)
{
	struct foaf_wait *w = arg;
	struct peer *p = link_to(w->a, w->b->id.pk);
	double locs[LINK_HELLO_MAX_PEERS];
	size_t n;

	if (p == NULL)
		return false;
	n = peer_foaf(p, locs, LINK_HELLO_MAX_PEERS);
	for (size_t i = 0; i < n; i++)
		if (locs[i] == w->c->id.location)
			return true;
	return false;
}

static void
test_foaf(struct tnode *a, struct tnode *b, struct tnode *c)
{
	struct foaf_wait w = { a, b, c };
	struct pair cb = { c, b };

	TAP_OK(run_until(linked, &cb, 10), "C (seeded with B) links to B");
	TAP_OK(run_until(foaf_has_c, &w, 10),
	    "A's peer B lists C's location in its FOAF");
	TAP_OK(a->foafs > 0, "A got foaf callbacks (%d)", a->foafs);
}

struct downs { struct tnode *a, *b; int da, db; };

static bool
both_down(void *arg)
{
	struct downs *d = arg;

	return d->a->downs > d->da && d->b->downs > d->db;
}

static void
test_drop(struct tnode *a, struct tnode *b)
{
	struct pair ab = { a, b };
	struct downs d = { a, b, a->downs, b->downs };
	struct peer *pa = link_to(a, b->id.pk);
	uint32_t old;
	double t0 = util_now();
	bool ok;

	if (pa == NULL) {
		TAP_OK(0, "drop: no link");
		return;
	}
	old = peer_handle(pa);
	peers_drop(pa, "test drop");
	TAP_OK(link_to(a, b->id.pk) == NULL, "a dropped link is gone at once");
	TAP_OK(peers_send(pa, &(struct link_msg){ .type = LINK_MSG_DNF }) ==
	    -1, "sending on a closing link fails");
	ok = run_until(both_down, &d, PEERS_DEAD_AFTER);
	TAP_OK(ok, "down on both sides (%.2f s)", util_now() - t0);
	TAP_OK(unlinked(&ab), "no link left between A and B");
	ok = run_until(linked, &ab, 15);
	TAP_OK(ok, "A and B link again after back-off (%.2f s)",
	    util_now() - t0);
	pa = link_to(a, b->id.pk);
	TAP_OK(pa != NULL && peer_handle(pa) != old, "with a new handle");
}

static void
test_wrong_pin(struct tnode *d, struct tnode *b, struct tnode *c)
{
	if (!node_start(d, b, c->id.pk, 8)) {
		TAP_OK(0, "start D");
		return;
	}
	run_until(NULL, NULL, 1.5);
	TAP_OK(d->ups == 0 && peers_count(d->ps) == 0 &&
	    link_to(b, d->id.pk) == NULL,
	    "a seed pinned to another key never comes up");
	node_stop(d);
}

static void
test_raw_bad(struct tnode *b)
{
	uint8_t m1[LINK_MSG1_BYTES] = { 'U', 'M', 'B', 'R', 2 };
	int fd;

	fd = raw_connect(peers_listen_address(b->ps));
	TAP_OK(fd >= 0 && write(fd, m1, sizeof(m1)) == (ssize_t)sizeof(m1) &&
	    raw_closed(fd, 2), "msg1 of version 2: closed");
	if (fd >= 0)
		close(fd);
	randombytes_buf(m1, sizeof(m1));
	m1[0] = 'X';
	fd = raw_connect(peers_listen_address(b->ps));
	TAP_OK(fd >= 0 && write(fd, m1, sizeof(m1)) == (ssize_t)sizeof(m1) &&
	    raw_closed(fd, 2), "garbage instead of msg1: closed");
	if (fd >= 0)
		close(fd);
}

static void
test_raw_peer(struct tnode *b)
{
	static struct raw r;
	struct link_msg m, got;
	uint8_t junk[LINK_FRAME0_BYTES];
	TAP_OK(raw_handshake(&r, b), "a raw peer completes the handshake");
	TAP_OK(raw_expect(&r, LINK_MSG_HELLO, &got) && got.hello.port ==
	    (uint16_t)atoi(strrchr(peers_listen_address(b->ps), ':') + 1),
	    "B's first frame is HELLO with its listen port");
	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_PING;
	m.ping.cookie = 0xfeedfacecafebeefULL;
	TAP_OK(raw_send(&r, &m) && raw_expect(&r, LINK_MSG_PONG, &got) &&
	    got.pong.cookie == m.ping.cookie, "PING is answered by PONG");
	randombytes_buf(junk, sizeof(junk));
	junk[0] = 0;
	TAP_OK(raw_write(&r, junk, sizeof(junk)) && raw_closed(r.fd, 2),
	    "a frame that does not open closes the link");
	run_until(NULL, NULL, 0.05);
	TAP_OK(went_down(b, r.pk), "B says down for it");
	close(r.fd);
	link_keys_wipe(&r.keys);
}

/* A peer that stops reading: its queue fills and the link closes. */
static void
test_queue_full(struct tnode *b)
{
	static struct raw r;
	static uint8_t block[LINK_BLOCK_BYTES];
	struct link_msg m;
	struct peer *p;
	size_t queued = 0;
	int i;

	if (raw_handshake(&r, b))
		run_until(NULL, NULL, 0.1);
	if ((p = link_to(b, r.pk)) == NULL) {
		TAP_OK(0, "queue: raw peer up");
		return;
	}
	memset(&m, 0, sizeof(m));
	m.type = LINK_MSG_DATA;
	m.data.block = block;
	for (i = 0; i < 2000; i++) {
		queued = peer_queued(p);
		if (peers_send(p, &m) != 0)
			break;
	}
	TAP_OK(i < 2000 && queued + LINK_FRAME2_BYTES > PEERS_QUEUE_MAX &&
	    queued <= PEERS_QUEUE_MAX, "send fails when the queue would pass "
	    "%u bytes (%zu queued after %d sends)", PEERS_QUEUE_MAX, queued, i);
	run_until(NULL, NULL, 0.05);
	TAP_OK(went_down(b, r.pk) && link_to(b, r.pk) == NULL,
	    "and the link is closed");
	close(r.fd);
	link_keys_wipe(&r.keys);
}

/* A node with room for one link refuses a second peer but tells it of
 * the first, which it then links to. */
static void
test_full(void)
{
	static struct tnode f, h, g;
	struct pair hf = { &h, &f }, gh = { &g, &h }, gf = { &g, &f };

	if (!node_start(&f, NULL, NULL, 1) || !node_start(&h, &f, NULL, 8)) {
		TAP_OK(0, "start F, H");
		return;
	}
	TAP_OK(run_until(linked, &hf, 10) && run_until(hello_seen, &hf, 5),
	    "H links to F (max 1 link)");
	if (!node_start(&g, &f, NULL, 8)) {
		TAP_OK(0, "start G");
		return;
	}
	TAP_OK(run_until(linked, &gh, 10),
	    "G, refused by F, learns H from F's PEERS and links to it");
	TAP_OK(peers_count(f.ps) == 1 && link_to(&f, g.id.pk) == NULL &&
	    !linked(&gf), "F still has one link");
	node_stop(&g);
	node_stop(&h);
	node_stop(&f);
	node_rmdir(&g);
	node_rmdir(&h);
	node_rmdir(&f);
}

/* A free port on 127.0.0.1, as "127.0.0.1:PORT" (racy, fine here). */
static bool
free_port(char *out, size_t len)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	snprintf(out, len, "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
	return true;
}

/* X and Y seeded with each other dial at once: both ends keep the same
 * one link, the one the lower key dialed. */
static void
test_duplicate(void)
{
	static struct tnode x, y;
	char ax[64], ay[64];
	struct pair xy = { &x, &y };
	struct tnode *lo;
	struct peer *p;

	if (!free_port(ax, sizeof(ax)) || !free_port(ay, sizeof(ay)) ||
	    !node_start_at(&x, ax, ay, NULL, 8) ||
	    !node_start_at(&y, ay, ax, NULL, 8)) {
		TAP_OK(0, "start X and Y");
		return;
	}
	TAP_OK(run_until(linked, &xy, 10), "X and Y, dialing each other, link");
	run_until(NULL, NULL, 1.0);
	TAP_OK(peers_count(x.ps) == 1 && peers_count(y.ps) == 1 &&
	    x.ups - x.downs == 1 && y.ups - y.downs == 1,
	    "one link each side after 1 s (X %d up %d down, Y %d up %d down)",
	    x.ups, x.downs, y.ups, y.downs);
	lo = memcmp(x.id.pk, y.id.pk, 32) < 0 ? &x : &y;
	p = link_to(lo, (lo == &x ? &y : &x)->id.pk);
	TAP_OK(p != NULL && !peer_inbound(p),
	    "the link kept is the one the lower key dialed");
	node_stop(&x);
	node_stop(&y);
	node_rmdir(&x);
	node_rmdir(&y);
}

struct silent { struct raw *r; struct tnode *b; };

static bool
silent_gone(void *arg)
{
	struct silent *s = arg;

	return went_down(s->b, s->r->pk);
}

/* A raw peer that says nothing after its handshake (started early). */
static void
test_silent_end(struct raw *r, struct tnode *b, double started)
{
	struct silent s = { r, b };
	double took;
	bool ok;

	ok = run_until(silent_gone, &s, PEERS_DEAD_AFTER + 3 -
	    (util_now() - started));
	took = util_now() - started;
	TAP_OK(ok && took >= PEERS_DEAD_AFTER - 0.5 && link_to(b, r->pk) ==
	    NULL, "a silent peer is closed after %.0f s (%.2f s)",
	    PEERS_DEAD_AFTER, took);
	close(r->fd);
	link_keys_wipe(&r->keys);
}

static void
test_file(struct tnode *a, struct tnode *b)
{
	char *path = util_path(a->dir, "peers"), *text = NULL, line[512];
	size_t len = 0, up = peers_count(a->ps);
	int downs = a->downs;
	struct stat sb;

	node_stop(a);
	TAP_OK(a->downs == downs + (int)up, "peers_free says down for each of "
	    "the %zu links", up);
	TAP_OK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "DIR/peers written with mode 0600");
	snprintf(line, sizeof(line), "%s#%s\n", peers_listen_address(b->ps),
	    b->id.name);
	TAP_OK(util_read_file(path, 1 << 20, &text, &len) == 0 &&
	    strstr(text, line) != NULL, "it has B's line: %.*s",
	    (int)strcspn(line, "\n"), line);
	free(text);
	free(path);
}

int
main(void)
{
	static struct tnode a, b, c, d;
	static struct raw silent;
	double silent_t0;
	struct event *tick;
	struct timeval tv = { 0, 20000 };

	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		return 1;
	log_set_level(getenv("TEST_PEERS_DEBUG") ? LOG_DEBUG : LOG_ERR);
	base = event_base_new();
	tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	event_add(tick, &tv);

	TAP_OK(node_start(&b, NULL, NULL, 8), "start B");
	TAP_OK(node_start(&a, &b, b.id.pk, 8), "start A, seeded with B, pinned");
	if (a.ps == NULL || b.ps == NULL)
		return tap_done();
	test_up(&a, &b);
	silent_t0 = util_now();
	TAP_OK(raw_handshake(&silent, &b), "a silent raw peer links to B");
	test_messages(&a, &b);
	TAP_OK(node_start(&c, &b, NULL, 8), "start C, seeded with B");
	test_foaf(&a, &b, &c);
	test_drop(&a, &b);
	test_wrong_pin(&d, &b, &c);
	test_raw_bad(&b);
	test_raw_peer(&b);
	test_queue_full(&b);
	test_full();
	test_duplicate();
	test_silent_end(&silent, &b, silent_t0);
	test_file(&a, &b);
	node_stop(&c);
	node_stop(&b);
	node_rmdir(&a);
	node_rmdir(&b);
	node_rmdir(&c);
	node_rmdir(&d);
	event_free(tick);
	event_base_free(base);
	return tap_done();
}
