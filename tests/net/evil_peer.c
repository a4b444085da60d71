/*
 * evil_peer.c - a hostile peer, for tests/net/hostile.sh.
 *
 *   evil_peer SCENARIO HOST:PORT[#PUBKEY] [ARG]
 *   evil_peer rkey URI            prints the URI's routing key in hex
 *
 * Connects to a node as a link initiator with a fresh identity (pinning
 * PUBKEY if given, as in DIR/address), speaks or breaks the protocol of
 * docs/protocol.md in one named way, and checks that the node reacts as
 * SPEC "Errors and bad input" says: bad input costs the sender its link,
 * fast, and nothing worse. Exits 0 if the node behaved, 1 if not, 2 on
 * bad usage; prints one line saying why either way.
 *
 * Scenarios (what we send: what the node must do):
 *   version    msg1 of version 2: close within 3 s, sending nothing
 *   garbage    4 KiB of random bytes for msg1: the same
 *   badsig     a msg3 that opens but whose signature is wrong: the same
 *   truncated  half a frame, then silence: close within 10 s
 *   class      frame class 7: close within 3 s
 *   replay     one PING frame twice: close within 3 s
 *   padding    nonzero padding under a valid tag: close within 3 s
 *   type       message type 99: close within 3 s
 *   ping       a PING: PONG with its cookie (the control case)
 *   flood      20000 REQUESTs, reading all: finish within 60 s, the
 *              link up and answering or closed
 *   noread     REQUESTs for the block ARG (hex routing key), never
 *              reading: close (the queue cap) within 30 s
 *   badblock   unasked DATA (ignore or close), a random INSERT (answer),
 *              then, waiting up to ARG s for the node's REQUEST, DATA
 *              that does not match its key: close
 *   relay      wait up to ARG s for a REQUEST: the node still routes
 *   slowloris  ARG silent connections held: a new peer still links
 *   hold       claim no links (an empty HELLO) and hold the link ARG s
 *   probe      a REQUEST for ARG (hex routing key), the root of a
 *              document put at the node: no DATA (DNF, RNF or LOOP)
 *   poison     two identities, the node's only peers: an insert id
 *              reused after the node forgot it, with another block;
 *              a REQUEST for that block's key: no DATA of the old one
 *
 * Every bad frame is checked against our own opener first (the frame
 * fails in link_frame_open() or link_msg_decode() exactly the intended
 * way), so a pass means the node refused that flaw and not another.
 * Everything the node sends is read through link_frame_open() and
 * link_msg_decode(); a frame from the node that fails them fails the
 * scenario. Every wait has a deadline and every loop a count; alarm()
 * ends the program if all of that were wrong.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/chk.h"
#include "crypto/link.h"
#include "crypto/uri.h"
#include "crypto/wire.h"
#include "routing/route.h"

#define EVIL_ALARM 120		/* s: hard stop, past every deadline */
#define EVIL_CONNECT_SECS 5.0
#define EVIL_HS_SECS 10.0	/* the node's own handshake bound */
#define EVIL_CLOSE_SECS 3.0	/* a node closes a bad link this fast */
#define EVIL_DEAD_SECS 10.0	/* PEERS_DEAD_AFTER (8 s) + 2 s */
#define EVIL_KEEPALIVE 2.0	/* s without sending before our PING */
#define EVIL_FLOOD_COUNT 20000
#define EVIL_FLOOD_SECS 45.0	/* then 10 s for a last PING: under 60 */
#define EVIL_NOREAD_MAX 5000	/* 165 MB of DATA asked for */
#define EVIL_NOREAD_SECS 30.0
#define EVIL_HTL 18

enum evil_io {
	EVIL_IO_OK = 0,
	EVIL_IO_CLOSED = -1,	/* EOF, reset or any socket error */
	EVIL_IO_TIMEOUT = -2,
	EVIL_IO_BAD = -3,	/* the node sent a frame that does not open */
};

struct evil {
	const char *addr;	/* HOST:PORT[#PUBKEY] as given */
	int fd;
	uint8_t pk[LINK_PUBLICKEYBYTES], sk[LINK_SECRETKEYBYTES];
	struct link_keys keys;
	bool answer_ping;	/* PONG the node's PINGs while waiting */
	double last_send;
	uint8_t in[LINK_FRAME_MAX_BYTES];	/* the frame being read */
	size_t inlen;
	unsigned long got[256];	/* frames received, by message type */
	const char *why_bad;	/* after EVIL_IO_BAD */
};

static const char *evil_scenario_name = "?";

static double
evil_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints the one line and gives the exit status. */
static int evil_verdict(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int
evil_verdict(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s: ", ok ? "ok" : "FAIL", evil_scenario_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return ok ? 0 : 1;
}

static const char *
evil_io_str(int rc)
{
	switch (rc) {
	case EVIL_IO_OK: return "ok";
	case EVIL_IO_CLOSED: return "the node closed the link";
	case EVIL_IO_TIMEOUT: return "timed out";
	default: return "the node sent a frame that does not open";
	}
}

/* ARG as seconds to wait, 1 to 60; -1 if it is not. */
static double
evil_secs(const char *arg)
{
	char *end;
	double secs;

	if (arg == NULL)
		return -1;
	secs = strtod(arg, &end);
	return *end == '\0' && secs >= 1 && secs <= 60 ? secs : -1;
}

/* ARG as a routing key in hex: 0, or -1 if it is not one. */
static int
evil_arg_rkey(const char *arg, uint8_t rkey[LINK_RKEY_BYTES])
{
	if (arg == NULL || strlen(arg) != 2 * LINK_RKEY_BYTES)
		return -1;
	return sodium_hex2bin(rkey, LINK_RKEY_BYTES, arg, strlen(arg), NULL,
	    NULL, NULL) == 0 ? 0 : -1;
}

/* Waits for events on fd until deadline: 1 ready (or an error or hangup
 * to be found by the next call), 0 at the deadline. */
static int
evil_wait(int fd, short events, double deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	double left;
	int rc;

	for (;;) {
		left = deadline - evil_now();
		if (left <= 0)
			return 0;
		rc = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return 1;	/* the caller's send/recv says why */
	}
}

/* Sends all n bytes before deadline. A reset or a closed socket
 * (EPIPE, ECONNRESET) is EVIL_IO_CLOSED: what the node does to a peer it
 * dropped. */
static int
evil_send_all(struct evil *e, const uint8_t *p, size_t n, double deadline)
{
	ssize_t w;

	while (n > 0) {
		w = send(e->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return EVIL_IO_CLOSED;
		if (!evil_wait(e->fd, POLLOUT, deadline))
			return EVIL_IO_TIMEOUT;
	}
	e->last_send = evil_now();
	return EVIL_IO_OK;
}

/* Reads exactly n bytes before deadline (the handshake's msg2). */
static int
evil_recv_all(struct evil *e, uint8_t *p, size_t n, double deadline)
{
	ssize_t r;

	while (n > 0) {
		r = recv(e->fd, p, n, 0);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return EVIL_IO_CLOSED;
		if (!evil_wait(e->fd, POLLIN, deadline))
			return EVIL_IO_TIMEOUT;
	}
	return EVIL_IO_OK;
}

/* ---- connecting ---- */

/* Splits HOST:PORT[#PUBKEY]; a pubkey, if any, goes to pin. */
static int
evil_parse_addr(const char *s, char *host, size_t hostlen, char *port,
    size_t portlen, uint8_t pin[LINK_PUBLICKEYBYTES], bool *pinned)
{
	const char *hash = strchr(s, '#'), *end, *colon;
	size_t binlen;

	end = hash != NULL ? hash : s + strlen(s);
	*pinned = false;
	for (colon = end; colon > s && colon[-1] != ':'; colon--)
		;
	if (colon == s || (size_t)(colon - 1 - s) >= hostlen ||
	    (size_t)(end - colon) >= portlen || end == colon)
		return -1;
	memcpy(host, s, (size_t)(colon - 1 - s));
	host[colon - 1 - s] = '\0';
	memcpy(port, colon, (size_t)(end - colon));
	port[end - colon] = '\0';
	if (hash == NULL)
		return 0;
	if (sodium_base642bin(pin, LINK_PUBLICKEYBYTES, hash + 1,
	    strlen(hash + 1), NULL, &binlen, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    binlen != LINK_PUBLICKEYBYTES)
		return -1;
	*pinned = true;
	return 0;
}

/* A non-blocking TCP connection to host:port within EVIL_CONNECT_SECS. */
static int
evil_dial(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	int fd = -1, err = 0, one = 1;
	socklen_t len = sizeof(err);

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
	    ai->ai_protocol);
	if (fd < 0)
		goto fail;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
	    errno != EINPROGRESS)
		goto fail;
	if (!evil_wait(fd, POLLOUT, evil_now() + EVIL_CONNECT_SECS) ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
		goto fail;
	freeaddrinfo(ai);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

/* Connects with a fresh identity; the handshake is the scenario's. */
static int
evil_connect(struct evil *e, uint8_t pin[LINK_PUBLICKEYBYTES], bool *pinned)
{
	char host[256], port[16];

	if (evil_parse_addr(e->addr, host, sizeof(host), port, sizeof(port),
	    pin, pinned) != 0)
		return -1;
	if (e->fd >= 0)
		close(e->fd);
	e->inlen = 0;
	link_keys_wipe(&e->keys);
	crypto_sign_keypair(e->pk, e->sk);
	e->fd = evil_dial(host, port);
	return e->fd >= 0 ? 0 : -1;
}

/* ---- the handshake, done right or with a forged signature ---- */

/* BLAKE2b-256 keyed with dh over h | label (docs/protocol.md). */
static void
evil_kdf(uint8_t out[32], const uint8_t dh[32], const uint8_t h[32],
    const char *label)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, dh, 32, 32);
	crypto_generichash_update(&st, h, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_final(&st, out, 32);
}

/*
 * msg3 made by hand from the protocol text, not by link.c: the only way
 * to send a box that opens (right key, right tag) around a signature that
 * does not verify. With corrupt false it must equal link.c's msg3, which
 * the caller checks; with corrupt true one bit of the signature flips.
 */
static int
evil_make_msg3(const struct evil *e, const uint8_t e_sk[32],
    const uint8_t msg1[LINK_MSG1_BYTES], const uint8_t msg2[LINK_MSG2_BYTES],
    bool corrupt, uint8_t out[LINK_MSG3_BYTES])
{
	static const char ctx[] = "umbra link v1 initiator";
	static const uint8_t nonce0[12];
	crypto_generichash_state st;
	uint8_t dh[32], h1[32], h2[32], k_i[32], sm[sizeof(ctx) - 1 + 32];
	uint8_t plain[LINK_SIGNED_BYTES];

	if (crypto_scalarmult(dh, e_sk, msg2) != 0)
		return -1;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)"umbra link v1", 13);
	crypto_generichash_update(&st, msg1, LINK_MSG1_BYTES);
	crypto_generichash_update(&st, msg2, LINK_EPHEMERALBYTES);
	crypto_generichash_final(&st, h1, 32);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, h1, 32);
	crypto_generichash_update(&st, msg2, LINK_MSG2_BYTES);
	crypto_generichash_final(&st, h2, 32);
	evil_kdf(k_i, dh, h1, "init");
	memcpy(sm, ctx, sizeof(ctx) - 1);
	memcpy(sm + sizeof(ctx) - 1, h2, 32);
	memcpy(plain, e->pk, LINK_PUBLICKEYBYTES);
	crypto_sign_detached(plain + LINK_PUBLICKEYBYTES, NULL, sm, sizeof(sm),
	    e->sk);
	if (corrupt)
		plain[LINK_PUBLICKEYBYTES + 7] ^= 0x01;
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, plain,
	    sizeof(plain), h2, 32, NULL, nonce0, k_i);
	sodium_memzero(dh, sizeof(dh));
	sodium_memzero(k_i, sizeof(k_i));
	return 0;
}

/* The initiator's side; badsig sends a msg3 whose signature is wrong.
 * Returns 0, or -1 with *why set. */
static int
evil_handshake(struct evil *e, bool badsig, const char **why)
{
	uint8_t e_sk[32], msg1[LINK_MSG1_BYTES], msg2[LINK_MSG2_BYTES];
	uint8_t msg3[LINK_MSG3_BYTES], mine[LINK_MSG3_BYTES], pin[32];
	double deadline = evil_now() + EVIL_HS_SECS;
	struct link_hs hs;
	bool pinned;
	int rc;

	*why = "cannot connect";
	if (evil_connect(e, pin, &pinned) != 0)
		return -1;
	/* Our own ephemeral, so that evil_make_msg3() can derive k_i. */
	randombytes_buf(e_sk, sizeof(e_sk));
	*why = "internal: link_hs_init failed";
	if (link_hs_init_with_ephemeral(&hs, e->sk, e->pk,
	    pinned ? pin : NULL, e_sk, msg1) != 0)
		goto fail;
	*why = "the node closed the link or timed out during the handshake";
	if (evil_send_all(e, msg1, sizeof(msg1), deadline) != 0 ||
	    evil_recv_all(e, msg2, sizeof(msg2), deadline) != 0)
		goto fail;
	rc = link_hs_read_msg2(&hs, msg2, sizeof(msg2), msg3, &e->keys);
	*why = rc == LINK_EPIN ? "the node is not the identity in its address" :
	    "the node's msg2 does not verify";
	if (rc != 0)
		goto fail;
	*why = "internal: msg3 made by hand differs from link.c's";
	if (evil_make_msg3(e, e_sk, msg1, msg2, false, mine) != 0 ||
	    memcmp(mine, msg3, sizeof(msg3)) != 0 || (badsig &&
	    evil_make_msg3(e, e_sk, msg1, msg2, true, msg3) != 0))
		goto fail;
	sodium_memzero(e_sk, sizeof(e_sk));
	*why = "the node closed the link before msg3";
	return evil_send_all(e, msg3, sizeof(msg3), deadline) == 0 ? 0 : -1;
fail:
	sodium_memzero(e_sk, sizeof(e_sk));
	link_hs_wipe(&hs);
	return -1;
}

/* ---- frames ---- */

/* Seals one frame of any type and body and sends it. */
static int
evil_send_raw(struct evil *e, uint8_t type, const uint8_t *body, size_t len,
    double deadline)
{
	static uint8_t frame[LINK_FRAME_MAX_BYTES];
	size_t n;

	e->why_bad = "internal: cannot seal a frame";
	if (link_frame_seal(&e->keys, type, body, len, frame, sizeof(frame),
	    &n) != 0)
		return EVIL_IO_BAD;
	return evil_send_all(e, frame, n, deadline);
}

static int
evil_send_msg(struct evil *e, const struct link_msg *m, double deadline)
{
	static uint8_t body[LINK_MSG_MAX_BYTES];
	size_t n;

	if (link_msg_encode(m, body, sizeof(body), &n) != 0)
		return EVIL_IO_BAD;
	return evil_send_raw(e, m->type, body, n, deadline);
}

static int
evil_send_ping(struct evil *e, uint64_t cookie, double deadline)
{
	struct link_msg m = { .type = LINK_MSG_PING, .ping.cookie = cookie };

	return evil_send_msg(e, &m, deadline);
}

/* Opens and decodes the complete frame in e->in; counts it. */
static int
evil_open(struct evil *e, struct link_msg *m)
{
	const uint8_t *body;
	uint8_t type;
	size_t len;

	e->why_bad = "a frame from the node does not open";
	if (link_frame_open(&e->keys, e->in, e->inlen, &type, &body,
	    &len) != 0)
		return EVIL_IO_BAD;
	e->inlen = 0;
	e->why_bad = "a body from the node does not decode";
	if (link_msg_decode(type, body, len, m) != 0)
		return EVIL_IO_BAD;
	e->got[type]++;
	return EVIL_IO_OK;
}

/* The next message from the node, waiting until deadline. A DATA
 * block in *m points into e->in: valid until the next call. */
static int
evil_next_msg(struct evil *e, double deadline, struct link_msg *m)
{
	size_t need;
	ssize_t r;

	for (;;) {
		need = e->inlen == 0 ? 1 : link_frame_size(e->in[0]);
		e->why_bad = "the node sent an unknown frame class";
		if (need == 0)
			return EVIL_IO_BAD;
		if (e->inlen == need)
			return evil_open(e, m);
		r = recv(e->fd, e->in + e->inlen, need - e->inlen, 0);
		if (r > 0) {
			e->inlen += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return EVIL_IO_CLOSED;
		if (!evil_wait(e->fd, POLLIN, deadline))
			return EVIL_IO_TIMEOUT;
	}
}

/* A set of message types (all are under 32) for evil_expect(). */
#define EVIL_BIT(type) (UINT32_C(1) << (type))

/*
 * Waits for a message of a type in the set want, handling the rest as a
 * live peer would: PONG to the node's PING (if e->answer_ping) and a PING
 * of ours after EVIL_KEEPALIVE s of silence, so that waiting never looks
 * like a dead peer.
 */
static int
evil_expect(struct evil *e, uint32_t want, double deadline, struct link_msg *m)
{
	struct link_msg pong = { .type = LINK_MSG_PONG };
	double slice;
	int rc;

	for (;;) {
		/* A node that never stops talking must not hold us past the
		 * deadline either. */
		if (evil_now() >= deadline)
			return EVIL_IO_TIMEOUT;
		slice = evil_now() + 0.5;
		rc = evil_next_msg(e, slice < deadline ? slice : deadline, m);
		if (rc == EVIL_IO_OK && m->type < 32 &&
		    (want & EVIL_BIT(m->type)))
			return rc;
		if (rc == EVIL_IO_OK && m->type == LINK_MSG_PING &&
		    e->answer_ping) {
			pong.pong.cookie = m->ping.cookie;
			rc = evil_send_msg(e, &pong, deadline);
		} else if (rc == EVIL_IO_TIMEOUT && evil_now() < deadline &&
		    e->answer_ping &&
		    evil_now() - e->last_send > EVIL_KEEPALIVE) {
			rc = evil_send_ping(e, 0, deadline);
		} else if (rc == EVIL_IO_TIMEOUT && evil_now() < deadline) {
			rc = EVIL_IO_OK;
		}
		if (rc != EVIL_IO_OK)
			return rc;
	}
}

/* Reads (and checks) what the node sends until it closes the link:
 * EVIL_IO_CLOSED with *took seconds, or EVIL_IO_TIMEOUT at start + secs,
 * or EVIL_IO_BAD. */
static int
evil_await_close(struct evil *e, double start, double secs, double *took)
{
	struct link_msg m;
	int rc;

	do
		rc = evil_next_msg(e, start + secs, &m);
	while (rc == EVIL_IO_OK && evil_now() < start + secs);
	*took = evil_now() - start;
	return rc == EVIL_IO_OK ? EVIL_IO_TIMEOUT : rc;
}

/* Before the link is up nothing can be opened: discards raw bytes until
 * the node closes. 0 with *took and *bytes, or -1 at the deadline. */
static int
evil_await_close_raw(struct evil *e, double start, double secs, double *took,
    size_t *bytes)
{
	static uint8_t buf[65536];
	ssize_t r;

	*bytes = 0;
	for (;;) {
		r = recv(e->fd, buf, sizeof(buf), 0);
		*took = evil_now() - start;
		if (r > 0 && *took > secs)	/* talking is not closing */
			return -1;
		if (r > 0) {
			*bytes += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return 0;
		if (!evil_wait(e->fd, POLLIN, start + secs))
			return -1;
	}
}

/* Handshake, then the node's first frame, which must be its HELLO: proof
 * that the node took our msg3, so a later close is the scenario's. */
static int
evil_link_up(struct evil *e, const char **why)
{
	struct link_msg m;
	int rc;

	if (evil_handshake(e, false, why) != 0)
		return -1;
	rc = evil_next_msg(e, evil_now() + 5.0, &m);
	if (rc != EVIL_IO_OK) {
		*why = rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc);
		return -1;
	}
	if (m.type != LINK_MSG_HELLO) {
		/* A full node sends a newcomer PEERS only, then closes. */
		*why = m.type == LINK_MSG_PEERS ? "the node has no room for us "
		    "(PEERS without HELLO)" : "the node's first frame is not "
		    "HELLO";
		return -1;
	}
	return 0;
}

/* What a well-behaved peer sends once the link is up: HELLO (we do not
 * listen: port 0, no peers) and an empty PEERS. */
static int
evil_greet(struct evil *e)
{
	struct link_msg hello = { .type = LINK_MSG_HELLO };
	struct link_msg peers = { .type = LINK_MSG_PEERS };
	double deadline = evil_now() + 5.0;

	if (evil_send_msg(e, &hello, deadline) != 0 ||
	    evil_send_msg(e, &peers, deadline) != 0)
		return -1;
	return 0;
}

/* Our own opener on a frame we sealed with counter ctr: it must fail
 * with want, so that the node is tested on the flaw we meant and no
 * other. */
static bool
evil_selfcheck(const struct evil *e, const uint8_t *frame, size_t len,
    uint64_t ctr, int want)
{
	static uint8_t copy[LINK_FRAME_MAX_BYTES];
	struct link_keys k = { .recv_ctr = ctr };
	struct link_msg m;
	const uint8_t *body;
	uint8_t type;
	size_t bl;
	int rc;

	memcpy(k.recv_key, e->keys.send_key, sizeof(k.recv_key));
	memcpy(copy, frame, len);
	rc = link_frame_open(&k, copy, len, &type, &body, &bl);
	if (rc == 0)
		rc = link_msg_decode(type, body, bl, &m);
	sodium_memzero(&k, sizeof(k));
	return rc == want;
}

/* ---- verdicts shared by the scenarios that expect a close ---- */

/* Before the link is up: the node must close within EVIL_CLOSE_SECS and
 * send nothing first (not a msg2 to a bad msg1, not a frame to a bad
 * msg3). send_rc is how sending the bad input went. */
static int
evil_close_raw(struct evil *e, double t0, int send_rc, const char *what)
{
	double took = evil_now() - t0;
	size_t bytes = 0;

	if (send_rc == EVIL_IO_CLOSED)
		return evil_verdict(true, "closed %.2f s after %s (while we "
		    "sent)", took, what);
	if (send_rc != EVIL_IO_OK)
		return evil_verdict(false, "cannot send %s: %s", what,
		    evil_io_str(send_rc));
	if (evil_await_close_raw(e, t0, EVIL_CLOSE_SECS, &took, &bytes) != 0)
		return evil_verdict(false, "link still open %.0f s after %s",
		    EVIL_CLOSE_SECS, what);
	if (bytes > 0)
		return evil_verdict(false, "the node sent %zu bytes after %s",
		    bytes, what);
	return evil_verdict(true, "closed %.2f s after %s", took, what);
}

/* After the link is up: the node must close within secs. */
static int
evil_close(struct evil *e, double t0, double secs, int send_rc,
    const char *what)
{
	double took = evil_now() - t0;
	int rc;

	if (send_rc == EVIL_IO_CLOSED)
		return evil_verdict(true, "closed %.2f s after %s (while we "
		    "sent)", took, what);
	if (send_rc != EVIL_IO_OK)
		return evil_verdict(false, "cannot send %s: %s", what,
		    evil_io_str(send_rc));
	rc = evil_await_close(e, t0, secs, &took);
	if (rc == EVIL_IO_BAD)
		return evil_verdict(false, "after %s: %s", what, e->why_bad);
	if (rc != EVIL_IO_CLOSED)
		return evil_verdict(false, "link still open %.0f s after %s",
		    secs, what);
	return evil_verdict(true, "closed %.2f s after %s", took, what);
}

/* ---- the handshake scenarios ---- */

static int
evil_version(struct evil *e, const char *arg)
{
	uint8_t pin[LINK_PUBLICKEYBYTES], msg1[LINK_MSG1_BYTES];
	struct link_hs hs;
	bool pinned;
	double t0;

	(void)arg;
	if (evil_connect(e, pin, &pinned) != 0)
		return evil_verdict(false, "cannot connect to %s", e->addr);
	if (link_hs_init(&hs, e->sk, e->pk, NULL, msg1) != 0)
		return evil_verdict(false, "internal: link_hs_init failed");
	link_hs_wipe(&hs);
	msg1[4] = 2;
	t0 = evil_now();
	return evil_close_raw(e, t0, evil_send_all(e, msg1, sizeof(msg1),
	    t0 + EVIL_CLOSE_SECS), "a msg1 of version 2");
}

static int
evil_garbage(struct evil *e, const char *arg)
{
	static uint8_t junk[4096];
	uint8_t pin[LINK_PUBLICKEYBYTES];
	bool pinned;
	double t0;

	(void)arg;
	if (evil_connect(e, pin, &pinned) != 0)
		return evil_verdict(false, "cannot connect to %s", e->addr);
	randombytes_buf(junk, sizeof(junk));
	junk[0] = 'X';		/* never the magic, not even by chance */
	t0 = evil_now();
	return evil_close_raw(e, t0, evil_send_all(e, junk, sizeof(junk),
	    t0 + EVIL_CLOSE_SECS), "4096 random bytes for msg1");
}

static int
evil_badsig(struct evil *e, const char *arg)
{
	const char *why;
	double t0 = evil_now();

	(void)arg;
	if (evil_handshake(e, true, &why) != 0)
		return evil_verdict(false, "handshake: %s", why);
	return evil_close_raw(e, t0, EVIL_IO_OK,
	    "a msg3 whose signature is wrong");
}

/* ---- bad frames after a good handshake ---- */

static int
evil_truncated(struct evil *e, const char *arg)
{
	static uint8_t frame[LINK_FRAME0_BYTES];
	uint8_t body[8] = { 0 };
	const char *why;
	size_t n;
	double t0;

	(void)arg;
	if (evil_link_up(e, &why) != 0)
		return evil_verdict(false, "link not up: %s", why);
	if (link_frame_seal(&e->keys, LINK_MSG_PING, body, sizeof(body),
	    frame, sizeof(frame), &n) != 0)
		return evil_verdict(false, "internal: cannot seal");
	/* Half a frame and then silence: only the idle timeout can end it. */
	t0 = evil_now();
	return evil_close(e, t0, EVIL_DEAD_SECS,
	    evil_send_all(e, frame, n / 2, t0 + 5.0), "half a frame");
}

static int
evil_class(struct evil *e, const char *arg)
{
	static uint8_t frame[LINK_FRAME0_BYTES];
	const char *why;
	double t0;

	(void)arg;
	if (evil_link_up(e, &why) != 0)
		return evil_verdict(false, "link not up: %s", why);
	randombytes_buf(frame, sizeof(frame));
	frame[0] = 7;
	if (!evil_selfcheck(e, frame, sizeof(frame), e->keys.send_ctr,
	    LINK_ECLASS))
		return evil_verdict(false, "internal: class 7 opens");
	t0 = evil_now();
	return evil_close(e, t0, EVIL_CLOSE_SECS, evil_send_all(e, frame,
	    sizeof(frame), t0 + 5.0), "a frame of class 7");
}

static int
evil_replay(struct evil *e, const char *arg)
{
	static uint8_t frame[LINK_FRAME0_BYTES];
	uint8_t body[8];
	const char *why;
	size_t n;
	double t0;
	int rc;

	(void)arg;
	if (evil_link_up(e, &why) != 0)
		return evil_verdict(false, "link not up: %s", why);
	randombytes_buf(body, sizeof(body));
	if (link_frame_seal(&e->keys, LINK_MSG_PING, body, sizeof(body),
	    frame, sizeof(frame), &n) != 0 ||
	    !evil_selfcheck(e, frame, n, e->keys.send_ctr, LINK_EAUTH))
		return evil_verdict(false, "internal: a replay would open");
	t0 = evil_now();
	rc = evil_send_all(e, frame, n, t0 + 5.0);
	if (rc == EVIL_IO_OK)
		rc = evil_send_all(e, frame, n, t0 + 5.0);
	return evil_close(e, t0, EVIL_CLOSE_SECS, rc,
	    "a PING sent twice, byte for byte");
}

/* The 12-byte IETF nonce of a frame: the counter little-endian. */
static void
evil_nonce(uint8_t nonce[12], uint64_t ctr)
{
	memset(nonce, 0, 12);
	for (size_t i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(ctr >> (8 * i));
}

/* A PING sealed by hand, as link_frame_seal() would but for one nonzero
 * padding byte: the tag is right, so only the padding check can refuse
 * it. */
static int
evil_padding(struct evil *e, const char *arg)
{
	static uint8_t plain[LINK_PLAIN0_BYTES], frame[LINK_FRAME0_BYTES];
	uint8_t nonce[12];
	const char *why;
	uint64_t ctr;
	double t0;

	(void)arg;
	if (evil_link_up(e, &why) != 0)
		return evil_verdict(false, "link not up: %s", why);
	memset(plain, 0, sizeof(plain));
	plain[0] = LINK_MSG_PING;
	wire_put_u16(plain + 1, 8);
	randombytes_buf(plain + LINK_FRAME_HEADERBYTES, 8);
	plain[sizeof(plain) - 1] = 0x5a;
	frame[0] = 0;
	ctr = e->keys.send_ctr++;
	evil_nonce(nonce, ctr);
	crypto_aead_chacha20poly1305_ietf_encrypt(frame + 1, NULL, plain,
	    sizeof(plain), frame, 1, NULL, nonce, e->keys.send_key);
	if (!evil_selfcheck(e, frame, sizeof(frame), ctr, LINK_EPADDING))
		return evil_verdict(false, "internal: the frame is not "
		    "LINK_EPADDING");
	t0 = evil_now();
	return evil_close(e, t0, EVIL_CLOSE_SECS, evil_send_all(e, frame,
	    sizeof(frame), t0 + 5.0), "a frame with nonzero padding");
}

static int
evil_type(struct evil *e, const char *arg)
{
	static uint8_t frame[LINK_FRAME0_BYTES];
	uint8_t body[8];
	const char *why;
	size_t n;
	double t0;

	(void)arg;
	if (evil_link_up(e, &why) != 0)
		return evil_verdict(false, "link not up: %s", why);
	randombytes_buf(body, sizeof(body));
	if (link_frame_seal(&e->keys, 99, body, sizeof(body), frame,
	    sizeof(frame), &n) != 0 ||
	    !evil_selfcheck(e, frame, n, e->keys.send_ctr - 1, LINK_ETYPE))
		return evil_verdict(false, "internal: type 99 decodes");
	t0 = evil_now();
	return evil_close(e, t0, EVIL_CLOSE_SECS, evil_send_all(e, frame, n,
	    t0 + 5.0), "a frame of message type 99");
}

/* ---- a well-behaved peer, the control case ---- */

static int
evil_ping(struct evil *e, const char *arg)
{
	struct link_msg m;
	const char *why;
	uint64_t cookie;
	double t0;
	int rc;

	(void)arg;
	if (evil_link_up(e, &why) != 0)
		return evil_verdict(false, "link not up: %s", why);
	e->answer_ping = true;
	if (evil_greet(e) != 0)
		return evil_verdict(false, "cannot send HELLO and PEERS");
	randombytes_buf(&cookie, sizeof(cookie));
	cookie |= 1;		/* never 0, the cookie of our keep-alives */
	t0 = evil_now();
	if ((rc = evil_send_ping(e, cookie, t0 + 5.0)) != EVIL_IO_OK)
		return evil_verdict(false, "cannot send PING: %s",
		    evil_io_str(rc));
	do
		rc = evil_expect(e, EVIL_BIT(LINK_MSG_PONG), t0 + 5.0, &m);
	while (rc == EVIL_IO_OK && m.pong.cookie == 0);
	if (rc != EVIL_IO_OK)
		return evil_verdict(false, "no PONG within 5 s: %s",
		    rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc));
	if (m.pong.cookie != cookie)
		return evil_verdict(false, "PONG with another cookie");
	return evil_verdict(true, "PONG with our cookie in %.3f s (HELLO %lu, "
	    "PEERS %lu)", evil_now() - t0, e->got[LINK_MSG_HELLO],
	    e->got[LINK_MSG_PEERS]);
}

/* ---- load ---- */

/* Reads the frames the socket holds now (at most 1024), without
 * waiting. */
static int
evil_read_ready(struct evil *e)
{
	struct link_msg m;
	int rc = EVIL_IO_OK;

	for (int i = 0; i < 1024 && rc == EVIL_IO_OK; i++)
		rc = evil_next_msg(e, 0, &m);
	return rc == EVIL_IO_TIMEOUT ? EVIL_IO_OK : rc;
}

/* Answers that end a request: DATA, DNF, RNF, LOOP. */
static unsigned long
evil_answers(const struct evil *e)
{
	return e->got[LINK_MSG_DATA] + e->got[LINK_MSG_DNF] +
	    e->got[LINK_MSG_RNF] + e->got[LINK_MSG_LOOP];
}

/* Sends count REQUESTs (ids 1.., random keys, the given htl) as fast as
 * the socket takes them, reading everything the node sends meanwhile, so
 * that only the node's own limits are tested, not our backlog. */
static int
evil_flood_send(struct evil *e, unsigned long count, uint8_t htl,
    unsigned long *sent, double deadline)
{
	static uint8_t body[LINK_MSG_MAX_BYTES], frame[LINK_FRAME0_BYTES];
	struct link_msg m = { .type = LINK_MSG_REQUEST };
	struct pollfd pfd = { .fd = e->fd, .events = POLLIN | POLLOUT };
	size_t n = 0, off = 0, blen;
	ssize_t w;
	int rc;

	while (*sent < count && evil_now() < deadline) {
		if (off == n) {
			m.request.id = *sent + 1;
			m.request.htl = htl;
			randombytes_buf(m.request.rkey, LINK_RKEY_BYTES);
			if (link_msg_encode(&m, body, sizeof(body), &blen) ||
			    link_frame_seal(&e->keys, m.type, body, blen, frame,
			    sizeof(frame), &n))
				return EVIL_IO_BAD;
			off = 0;
		}
		if (poll(&pfd, 1, 500) < 0 && errno != EINTR)
			return EVIL_IO_CLOSED;
		if ((pfd.revents & (POLLIN | POLLERR | POLLHUP)) &&
		    (rc = evil_read_ready(e)) != EVIL_IO_OK)
			return rc;
		if (!(pfd.revents & POLLOUT))
			continue;
		w = send(e->fd, frame + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return EVIL_IO_CLOSED;
		off += w > 0 ? (size_t)w : 0;
		if (off == n)
			(*sent)++;
	}
	e->last_send = evil_now();
	return *sent == count ? EVIL_IO_OK : EVIL_IO_TIMEOUT;
}

/* Reads answers until every request has one, or 5 s pass in silence. */
static int
evil_flood_drain(struct evil *e, unsigned long sent, double deadline)
{
	struct link_msg m;
	double quiet = evil_now() + 5.0;
	int rc = EVIL_IO_OK;

	while (evil_answers(e) < sent && evil_now() < deadline) {
		rc = evil_next_msg(e, quiet < deadline ? quiet : deadline, &m);
		if (rc == EVIL_IO_TIMEOUT)
			return EVIL_IO_OK;
		if (rc != EVIL_IO_OK)
			return rc;
		quiet = evil_now() + 5.0;
	}
	return rc;
}

/* After the flood, a link still up must still answer a PING. */
static int
evil_flood_ping(struct evil *e, char *end, size_t endlen)
{
	struct link_msg m;
	double t0 = evil_now();
	int rc;

	rc = evil_send_ping(e, 1, t0 + 10.0);
	if (rc == EVIL_IO_OK)
		rc = evil_expect(e, EVIL_BIT(LINK_MSG_PONG), t0 + 10.0, &m);
	if (rc == EVIL_IO_OK)
		snprintf(end, endlen, "link up, PONG in %.2f s",
		    evil_now() - t0);
	else if (rc == EVIL_IO_TIMEOUT)
		snprintf(end, endlen, "link up but no PONG within 10 s");
	return rc;
}

static int
evil_flood(struct evil *e, const char *arg)
{
	unsigned long sent = 0;
	const char *why;
	char end[128] = "";
	bool wedged = false;
	double t0, ts;
	int rc;

	(void)arg;
	if (evil_link_up(e, &why) != 0)
		return evil_verdict(false, "link not up: %s", why);
	e->answer_ping = true;
	if (evil_greet(e) != 0)
		return evil_verdict(false, "cannot send HELLO and PEERS");
	t0 = evil_now();
	rc = evil_flood_send(e, EVIL_FLOOD_COUNT, EVIL_HTL, &sent,
	    t0 + EVIL_FLOOD_SECS);
	ts = evil_now() - t0;
	if (rc == EVIL_IO_OK)
		rc = evil_flood_drain(e, sent, t0 + EVIL_FLOOD_SECS);
	if (rc == EVIL_IO_OK) {
		rc = evil_flood_ping(e, end, sizeof(end));
		wedged = rc == EVIL_IO_TIMEOUT;
	} else if (rc == EVIL_IO_TIMEOUT) {
		/* No PING then: a frame of ours may be half sent. */
		snprintf(end, sizeof(end), "the node stopped reading us");
	}
	if (rc == EVIL_IO_CLOSED)
		snprintf(end, sizeof(end), "the node closed the link");
	if (rc == EVIL_IO_BAD)
		return evil_verdict(false, "%s", e->why_bad);
	/* Up or closed are both fine; up and deaf is not. */
	return evil_verdict(!wedged, "sent %lu REQUESTs in %.1f s; got "
	    "ACCEPTED %lu, DATA %lu, DNF %lu, RNF %lu, LOOP %lu, PING %lu; "
	    "%s; %.1f s in all", sent, ts,
	    e->got[LINK_MSG_ACCEPTED], e->got[LINK_MSG_DATA],
	    e->got[LINK_MSG_DNF], e->got[LINK_MSG_RNF], e->got[LINK_MSG_LOOP],
	    e->got[LINK_MSG_PING], end, evil_now() - t0);
}

/* One write of the noread scenario: REQUEST number i while i is under
 * EVIL_NOREAD_MAX, then a PING every 0.2 s, so that we keep writing (a
 * closed link shows as a reset on a write, unread data or not) and
 * never look idle. */
static int
evil_noread_step(struct evil *e, struct link_msg *m, unsigned long i,
    double deadline)
{
	if (i >= EVIL_NOREAD_MAX) {
		(void)poll(NULL, 0, 200);
		return evil_send_ping(e, i, deadline);
	}
	m->request.id = i + 1;
	m->request.htl = EVIL_HTL;
	return evil_send_msg(e, m, deadline);
}

/*
 * REQUESTs for a block the node holds, never reading: each asks for a
 * 33 KiB DATA frame, so the node's queue to us must pass its cap and the
 * node must drop us.
 */
static int
evil_noread(struct evil *e, const char *arg)
{
	struct link_msg m = { .type = LINK_MSG_REQUEST };
	double t0, deadline, last;
	const char *why;
	unsigned long i;
	int rc = EVIL_IO_OK;

	if (evil_arg_rkey(arg, m.request.rkey) != 0)
		return evil_verdict(false, "ARG must be a routing key in hex");
	if (evil_link_up(e, &why) != 0)
		return evil_verdict(false, "link not up: %s", why);
	if (evil_greet(e) != 0)
		return evil_verdict(false, "cannot send HELLO and PEERS");
	t0 = last = evil_now();
	deadline = t0 + EVIL_NOREAD_SECS;
	for (i = 0; rc == EVIL_IO_OK && evil_now() < deadline; i++) {
		rc = evil_noread_step(e, &m, i, deadline);
		last = rc == EVIL_IO_OK ? evil_now() : last;
	}
	if (rc != EVIL_IO_CLOSED)
		return evil_verdict(false, "link still open %.1f s after %lu "
		    "REQUESTs we never read (our writes %s)", evil_now() - t0,
		    i < EVIL_NOREAD_MAX ? i : EVIL_NOREAD_MAX,
		    rc == EVIL_IO_TIMEOUT ? "blocked" : "still taken");
	/* Our writes stalled for longer than the idle timeout before the
	 * close: the node stopped reading us and timed us out, instead of
	 * capping its queue to us as the contract says. */
	if (evil_now() - last > 6.0)
		return evil_verdict(false, "closed only after our writes "
		    "stalled %.1f s: an idle timeout, not the queue cap",
		    evil_now() - last);
	return evil_verdict(true, "closed %.1f s after the first of %lu "
	    "REQUESTs we never read", evil_now() - t0,
	    i < EVIL_NOREAD_MAX ? i : EVIL_NOREAD_MAX);
}

/* ---- blocks that do not match ---- */

static int
evil_send_block(struct evil *e, uint8_t type, uint64_t id, uint8_t htl)
{
	static uint8_t block[LINK_BLOCK_BYTES];
	struct link_msg m = { .type = type };

	randombytes_buf(block, sizeof(block));
	if (type == LINK_MSG_DATA) {
		m.data.id = id;
		m.data.block = block;
	} else {
		m.insert.id = id;
		m.insert.htl = htl;
		m.insert.block = block;
	}
	return evil_send_msg(e, &m, evil_now() + 5.0);
}

/* DATA for an id the node never asked us for: nothing can be checked
 * against it, so ignoring it and dropping us are both right. */
static int
evil_unasked_data(struct evil *e, const char **said)
{
	double t0 = evil_now();
	struct link_msg m;
	const char *why;
	int rc;

	rc = evil_send_block(e, LINK_MSG_DATA, randombytes_random(), 0);
	if (rc == EVIL_IO_OK)
		rc = evil_send_ping(e, 2, t0 + 5.0);
	if (rc == EVIL_IO_OK)
		rc = evil_expect(e, EVIL_BIT(LINK_MSG_PONG), t0 + 5.0, &m);
	*said = rc == EVIL_IO_OK ? "ignored" : "dropped us for";
	if (rc != EVIL_IO_CLOSED)
		return rc;
	/* Dropped: a new link for the rest. */
	if (evil_link_up(e, &why) != 0 || evil_greet(e) != 0)
		return EVIL_IO_CLOSED;
	return EVIL_IO_OK;
}

/* Waits up to secs for a REQUEST from the node (hostile.sh makes one
 * with a get through the node) and answers it with a block that does
 * not hash to its key: the node must drop us. */
static int
evil_bad_answer(struct evil *e, double secs)
{
	struct link_msg m, acc = { .type = LINK_MSG_ACCEPTED };
	double t0 = evil_now();
	uint64_t id;
	int rc;

	rc = evil_expect(e, EVIL_BIT(LINK_MSG_REQUEST), t0 + secs, &m);
	if (rc != EVIL_IO_OK)
		return evil_verdict(false, "no REQUEST from the node within "
		    "%.0f s: %s", secs, rc == EVIL_IO_BAD ? e->why_bad :
		    evil_io_str(rc));
	id = m.request.id;
	acc.accepted.id = id;
	rc = evil_send_msg(e, &acc, evil_now() + 5.0);
	if (rc == EVIL_IO_OK)
		rc = evil_send_block(e, LINK_MSG_DATA, id, 0);
	return evil_close(e, evil_now(), EVIL_CLOSE_SECS, rc,
	    "DATA that does not hash to the requested key");
}

/*
 * Three blocks: DATA never asked for (ignore or drop), an INSERT of
 * random bytes (a valid block: INSERT carries no key, its key is its
 * hash, so the node must take it and answer), and, if ARG gives seconds
 * to wait, DATA answering the node's own REQUEST with a block that does
 * not match the key (drop).
 */
static int
evil_badblock(struct evil *e, const char *arg)
{
	double wait = arg != NULL ? evil_secs(arg) : 0, t0;
	const char *why, *said;
	char ins[160];
	struct link_msg m;
	int rc;

	if (wait < 0)
		return evil_verdict(false, "ARG: seconds to wait, 1 to 60");
	if (evil_link_up(e, &why) != 0)
		return evil_verdict(false, "link not up: %s", why);
	e->answer_ping = true;
	if (evil_greet(e) != 0)
		return evil_verdict(false, "cannot send HELLO and PEERS");
	if ((rc = evil_unasked_data(e, &said)) != EVIL_IO_OK)
		return evil_verdict(false, "after DATA never asked for: %s",
		    rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc));
	/* The insert ends with INSERT_OK, or RNF when no peer is left. */
	t0 = evil_now();
	rc = evil_send_block(e, LINK_MSG_INSERT, randombytes_random(), 1);
	if (rc == EVIL_IO_OK)
		rc = evil_expect(e, EVIL_BIT(LINK_MSG_INSERT_OK) |
		    EVIL_BIT(LINK_MSG_RNF), t0 + 15.0, &m);
	if (rc != EVIL_IO_OK)
		return evil_verdict(false, "an INSERT of a random block (a "
		    "valid one) got no INSERT_OK or RNF: %s",
		    rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc));
	snprintf(ins, sizeof(ins), "the node %s DATA never asked for; our "
	    "INSERT got %s%s in %.2f s", said, e->got[LINK_MSG_ACCEPTED] ?
	    "ACCEPTED, " : "", m.type == LINK_MSG_RNF ? "RNF" : "INSERT_OK",
	    evil_now() - t0);
	if (wait == 0)
		return evil_verdict(true, "%s", ins);
	printf("# %s\n", ins);
	return evil_bad_answer(e, wait);
}

/* ---- routing for others ---- */

/*
 * A new peer that the node must still route to, after whatever came
 * before (a flood): waits up to ARG s for a REQUEST (hostile.sh makes
 * one with gets through the node) and answers ACCEPTED, DNF.
 */
static int
evil_relay(struct evil *e, const char *arg)
{
	struct link_msg m, r = { .type = LINK_MSG_ACCEPTED };
	double wait = evil_secs(arg), t0;
	const char *why;
	int rc;

	if (wait < 0)
		return evil_verdict(false, "ARG: seconds to wait, 1 to 60");
	if (evil_link_up(e, &why) != 0)
		return evil_verdict(false, "link not up: %s", why);
	e->answer_ping = true;
	if (evil_greet(e) != 0)
		return evil_verdict(false, "cannot send HELLO and PEERS");
	t0 = evil_now();
	rc = evil_expect(e, EVIL_BIT(LINK_MSG_REQUEST), t0 + wait, &m);
	if (rc != EVIL_IO_OK)
		return evil_verdict(false, "no REQUEST from the node within "
		    "%.0f s: %s", wait, rc == EVIL_IO_BAD ? e->why_bad :
		    evil_io_str(rc));
	r.accepted.id = m.request.id;
	(void)evil_send_msg(e, &r, evil_now() + 5.0);
	r.type = LINK_MSG_DNF;
	(void)evil_send_msg(e, &r, evil_now() + 5.0);
	return evil_verdict(true, "the node sent a REQUEST %.1f s after the "
	    "link came up", evil_now() - t0);
}

/* ---- what a node must not serve ---- */

#define EVIL_POISON_ID UINT64_C(0x1122334455667788)
/* REQUESTs that end at once, to push an ended id out of the table. */
#define EVIL_EVICT_COUNT (ROUTE_TABLE_MAX + 104)

/* Lets secs pass on a live link (PINGs answered): 0, or why not. */
static int
evil_pause(struct evil *e, double secs)
{
	struct link_msg m;
	int rc;

	rc = evil_expect(e, 0, evil_now() + secs, &m);
	return rc == EVIL_IO_TIMEOUT ? EVIL_IO_OK : rc;
}

/* REQUESTs rkey and waits up to 10 s for the answer that ends it: DATA,
 * DNF, RNF or LOOP in *m; for DATA, *m's block hashed into got. */
static int
evil_ask(struct evil *e, const uint8_t rkey[LINK_RKEY_BYTES], uint8_t htl,
    struct link_msg *m, uint8_t got[CHK_KEY_SIZE])
{
	struct link_msg r = { .type = LINK_MSG_REQUEST };
	double deadline = evil_now() + 10.0;
	int rc;

	r.request.id = randombytes_random() | 1;
	r.request.htl = htl;
	memcpy(r.request.rkey, rkey, LINK_RKEY_BYTES);
	rc = evil_send_msg(e, &r, deadline);
	if (rc == EVIL_IO_OK)
		rc = evil_expect(e, EVIL_BIT(LINK_MSG_DATA) |
		    EVIL_BIT(LINK_MSG_DNF) | EVIL_BIT(LINK_MSG_RNF) |
		    EVIL_BIT(LINK_MSG_LOOP), deadline, m);
	memset(got, 0, CHK_KEY_SIZE);
	if (rc == EVIL_IO_OK && m->type == LINK_MSG_DATA &&
	    chk_block_rkey(m->data.block, got) != 0)
		return EVIL_IO_BAD;
	return rc;
}

static const char *
evil_msg_name(uint8_t type)
{
	switch (type) {
	case LINK_MSG_DATA: return "DATA";
	case LINK_MSG_DNF: return "DNF";
	case LINK_MSG_RNF: return "RNF";
	case LINK_MSG_LOOP: return "LOOP";
	case LINK_MSG_INSERT_OK: return "INSERT_OK";
	default: return "?";
	}
}

/*
 * The root of a document put at the node (ARG, its routing key in hex;
 * hostile.sh puts it at a node with no peers): a REQUEST for it must not
 * get DATA, or any neighbour could tell who published it. The node
 * routes it on like a miss: DNF, RNF or LOOP.
 */
static int
evil_probe(struct evil *e, const char *arg)
{
	uint8_t rkey[LINK_RKEY_BYTES], got[CHK_KEY_SIZE];
	struct link_msg m;
	const char *why;
	double t0;
	int rc;

	if (evil_arg_rkey(arg, rkey) != 0)
		return evil_verdict(false, "ARG must be a routing key in hex");
	if (evil_link_up(e, &why) != 0)
		return evil_verdict(false, "link not up: %s", why);
	e->answer_ping = true;
	if (evil_greet(e) != 0)
		return evil_verdict(false, "cannot send HELLO and PEERS");
	t0 = evil_now();
	rc = evil_ask(e, rkey, EVIL_HTL, &m, got);
	if (rc != EVIL_IO_OK)
		return evil_verdict(false, "no answer to a REQUEST for the "
		    "node's own document within 10 s: %s",
		    rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc));
	if (m.type == LINK_MSG_DATA)
		return evil_verdict(false, "DATA for the root of the node's "
		    "own document: it names the node as its publisher");
	return evil_verdict(true, "a REQUEST for the node's own document "
	    "got %s in %.2f s, not DATA", evil_msg_name(m.type),
	    evil_now() - t0);
}

/* A INSERTs b1 as EVIL_POISON_ID; the node must forward it to C, its
 * only other peer, who accepts it. 0, or -1 with *why. */
static int
evil_poison_forward(struct evil *a, struct evil *c, const uint8_t *b1,
    uint64_t *cid, const char **why)
{
	struct link_msg m, s = { .type = LINK_MSG_INSERT };
	int rc;

	s.insert.id = EVIL_POISON_ID;
	s.insert.htl = 10;
	s.insert.block = b1;
	*why = "A cannot send its INSERT";
	if (evil_send_msg(a, &s, evil_now() + 5.0) != EVIL_IO_OK)
		return -1;
	rc = evil_expect(c, EVIL_BIT(LINK_MSG_INSERT), evil_now() + 10.0, &m);
	*why = rc == EVIL_IO_BAD ? c->why_bad : "A's INSERT did not reach C "
	    "within 10 s (does the node have other peers?)";
	if (rc != EVIL_IO_OK)
		return -1;
	*cid = m.insert.id;
	s = (struct link_msg){ .type = LINK_MSG_ACCEPTED };
	s.accepted.id = *cid;
	*why = "C cannot send ACCEPTED";
	return evil_send_msg(c, &s, evil_now() + 5.0) == EVIL_IO_OK ? 0 : -1;
}

/* With A gone, C ends the insert (INSERT_OK) and sends REQUESTs that end
 * at once (htl 0) until the insert's ended id has left the table. */
static int
evil_poison_forget(struct evil *a, struct evil *c, uint64_t cid,
    const char **why)
{
	struct link_msg s = { .type = LINK_MSG_INSERT_OK };
	double deadline;
	unsigned long sent = 0;
	int rc;

	close(a->fd);
	a->fd = -1;
	*why = "C lost its link";
	if (evil_pause(c, 1.0) != EVIL_IO_OK)
		return -1;
	s.insert_ok.id = cid;
	if (evil_send_msg(c, &s, evil_now() + 5.0) != EVIL_IO_OK)
		return -1;
	deadline = evil_now() + 40.0;
	rc = evil_flood_send(c, EVIL_EVICT_COUNT, 0, &sent, deadline);
	if (rc == EVIL_IO_OK)
		rc = evil_flood_drain(c, sent, deadline);
	*why = rc == EVIL_IO_BAD ? c->why_bad : "C's htl-0 REQUESTs failed";
	return rc == EVIL_IO_OK ? 0 : -1;
}

static int
evil_poison_run(struct evil *a, struct evil *c)
{
	static uint8_t b1[LINK_BLOCK_BYTES], b2[LINK_BLOCK_BYTES];
	uint8_t rk1[CHK_KEY_SIZE], rk2[CHK_KEY_SIZE], got[CHK_KEY_SIZE];
	struct link_msg m, s = { .type = LINK_MSG_INSERT };
	const char *why, *ins;
	uint64_t cid;
	int rc;

	randombytes_buf(b1, sizeof(b1));
	randombytes_buf(b2, sizeof(b2));
	if (chk_block_rkey(b1, rk1) != 0 || chk_block_rkey(b2, rk2) != 0)
		return evil_verdict(false, "internal: chk_block_rkey failed");
	c->addr = a->addr;
	if (evil_link_up(c, &why) != 0 || evil_greet(c) != 0)
		return evil_verdict(false, "C's link not up: %s", why);
	c->answer_ping = a->answer_ping = true;
	if (evil_link_up(a, &why) != 0 || evil_greet(a) != 0 ||
	    evil_pause(a, 1.0) != EVIL_IO_OK)
		return evil_verdict(false, "A's link not up: %s", why);
	if (evil_poison_forward(a, c, b1, &cid, &why) != 0 ||
	    evil_poison_forget(a, c, cid, &why) != 0)
		return evil_verdict(false, "%s", why);
	/* C reuses the id for another block, then asks for that block. */
	s.insert.id = EVIL_POISON_ID;
	s.insert.htl = 1;
	s.insert.block = b2;
	rc = evil_send_msg(c, &s, evil_now() + 5.0);
	if (rc == EVIL_IO_OK)
		rc = evil_expect(c, EVIL_BIT(LINK_MSG_INSERT_OK) |
		    EVIL_BIT(LINK_MSG_RNF) | EVIL_BIT(LINK_MSG_LOOP),
		    evil_now() + 15.0, &m);
	ins = rc == EVIL_IO_OK ? evil_msg_name(m.type) : evil_io_str(rc);
	if (rc == EVIL_IO_OK || rc == EVIL_IO_TIMEOUT)
		rc = evil_pause(c, 2.0);	/* a kept B2 is in the store */
	if (rc == EVIL_IO_OK)
		rc = evil_ask(c, rk2, 5, &m, got);
	if (rc != EVIL_IO_OK)
		return evil_verdict(false, "C's REQUEST for B2 (the id's second "
		    "INSERT got %s): %s", ins, rc == EVIL_IO_BAD ? c->why_bad :
		    evil_io_str(rc));
	if (m.type == LINK_MSG_DATA && memcmp(got, rk1, CHK_KEY_SIZE) == 0)
		return evil_verdict(false, "poisoned: DATA for B2's key is B1, "
		    "the old block of the reused insert id");
	if (m.type == LINK_MSG_DATA && memcmp(got, rk2, CHK_KEY_SIZE) != 0)
		return evil_verdict(false, "DATA for B2's key hashes to "
		    "another key");
	return evil_verdict(true, "the reused insert id's INSERT got %s; a "
	    "REQUEST for its block got %s, not the old block", ins,
	    evil_msg_name(m.type));
}

/*
 * Two identities, A and C, the node's only peers: A INSERTs block B1
 * under an id, the node forwards it to C, A leaves, C ends the insert
 * and floods REQUESTs that end at once until the table forgets the id;
 * then C INSERTs another block B2 under the same id and REQUESTs B2's
 * key. The node must not answer with B1 (a held block is used only for
 * its own key and dropped when its insert is forgotten).
 */
static int
evil_poison(struct evil *a, const char *arg)
{
	static struct evil c = { .fd = -1 };
	int rc;

	(void)arg;
	rc = evil_poison_run(a, &c);
	if (c.fd >= 0)
		close(c.fd);
	link_keys_wipe(&c.keys);
	sodium_memzero(c.sk, sizeof(c.sk));
	return rc;
}

/* ---- idle connections ---- */

#define EVIL_IDLE_MAX 1000

/* Opens n connections that never send a byte; 0, or -1 with all that
 * was opened closed again. */
static int
evil_open_idle(const struct evil *e, int *fds, size_t n)
{
	uint8_t pin[LINK_PUBLICKEYBYTES];
	char host[256], port[16];
	double deadline = evil_now() + 20.0;
	bool pinned;
	size_t i;

	if (evil_parse_addr(e->addr, host, sizeof(host), port, sizeof(port),
	    pin, &pinned) != 0)
		return -1;
	for (i = 0; i < n && evil_now() < deadline; i++)
		if ((fds[i] = evil_dial(host, port)) < 0)
			break;
	if (i == n)
		return 0;
	while (i-- > 0)
		close(fds[i]);
	return -1;
}

/*
 * ARG (default 200) connections that never say a word, held while a
 * new peer links: idle handshakes must not lock newcomers out (the node
 * times each out after 10 s, but an attacker simply opens more).
 */
static int
evil_slowloris(struct evil *e, const char *arg)
{
	static int fds[EVIL_IDLE_MAX];
	long n = arg != NULL ? strtol(arg, NULL, 10) : 200;
	struct link_msg m;
	const char *why = "";
	int rc = EVIL_IO_BAD, ok = 0;

	if (n < 1 || n > EVIL_IDLE_MAX)
		return evil_verdict(false, "ARG: 1 to %d connections",
		    EVIL_IDLE_MAX);
	if (evil_open_idle(e, fds, (size_t)n) != 0)
		return evil_verdict(false, "cannot open %ld connections", n);
	if (evil_link_up(e, &why) != 0)
		goto done;
	e->answer_ping = true;
	rc = evil_send_ping(e, 3, evil_now() + 5.0);
	if (rc == EVIL_IO_OK)
		rc = evil_expect(e, EVIL_BIT(LINK_MSG_PONG), evil_now() + 5.0,
		    &m);
	ok = rc == EVIL_IO_OK;
	why = ok ? "" : evil_io_str(rc);
done:
	for (long i = 0; i < n; i++)
		close(fds[i]);
	return evil_verdict(ok, "with %ld idle connections open, a new peer "
	    "%s%s", n, ok ? "links and gets PONG" : "cannot link: ", why);
}

/*
 * A newcomer that claims to have no links (HELLO with no peers; nobody
 * can check) and holds its link ARG s, answering PINGs: what an attacker
 * does with many fresh identities to take every slot of a node. Passes
 * if the node keeps us linked; hostile.sh checks what that cost others.
 */
static int
evil_hold(struct evil *e, const char *arg)
{
	double secs = evil_secs(arg), t0;
	struct link_msg m;
	const char *why;
	int rc;

	if (secs < 0)
		return evil_verdict(false, "ARG: seconds to hold, 1 to 60");
	if (evil_handshake(e, false, &why) != 0)
		return evil_verdict(false, "handshake: %s", why);
	/* A full node sends PEERS and waits for our HELLO before HELLO. */
	e->answer_ping = true;
	if (evil_greet(e) != 0)
		return evil_verdict(false, "cannot send HELLO and PEERS");
	rc = evil_expect(e, EVIL_BIT(LINK_MSG_HELLO), evil_now() + 5.0, &m);
	if (rc != EVIL_IO_OK)
		return evil_verdict(false, "no HELLO from the node: %s",
		    rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc));
	t0 = evil_now();
	rc = evil_expect(e, 0, t0 + secs, &m);
	if (rc != EVIL_IO_TIMEOUT)
		return evil_verdict(false, "lost the link after %.1f s: %s",
		    evil_now() - t0, rc == EVIL_IO_BAD ? e->why_bad :
		    evil_io_str(rc));
	return evil_verdict(true, "held a slot for %.0f s", secs);
}

/* ---- the table and main ---- */

static const struct evil_scenario {
	const char *name;
	int (*run)(struct evil *e, const char *arg);
} evil_scenarios[] = {
	{ "version", evil_version },
	{ "garbage", evil_garbage },
	{ "badsig", evil_badsig },
	{ "truncated", evil_truncated },
	{ "class", evil_class },
	{ "replay", evil_replay },
	{ "padding", evil_padding },
	{ "type", evil_type },
	{ "ping", evil_ping },
	{ "flood", evil_flood },
	{ "noread", evil_noread },
	{ "badblock", evil_badblock },
	{ "relay", evil_relay },
	{ "slowloris", evil_slowloris },
	{ "hold", evil_hold },
	{ "probe", evil_probe },
	{ "poison", evil_poison },
};

/* evil_peer rkey URI: the routing key of the URI's root, in hex. */
static int
evil_rkey(const char *s)
{
	char hex[2 * LINK_RKEY_BYTES + 1];
	struct uri u;

	if (uri_parse(&u, s, strlen(s)) != 0) {
		fprintf(stderr, "evil_peer: invalid URI: %s\n", u.why);
		return 2;
	}
	sodium_bin2hex(hex, sizeof(hex), u.root.ref.rkey, LINK_RKEY_BYTES);
	printf("%s\n", hex);
	return 0;
}

/* The hard stop: a deadline we forgot still ends in one line and 1. */
static void
evil_alarm(int sig)
{
	static const char msg[] = "FAIL: hard time limit reached\n";

	(void)sig;
	(void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

static void
evil_usage(void)
{
	fprintf(stderr, "usage: evil_peer SCENARIO HOST:PORT[#PUBKEY] [ARG]\n"
	    "       evil_peer rkey URI\nscenarios:");
	for (size_t i = 0; i < sizeof(evil_scenarios) /
	    sizeof(evil_scenarios[0]); i++)
		fprintf(stderr, " %s", evil_scenarios[i].name);
	fprintf(stderr, "\n");
}

int
main(int argc, char **argv)
{
	static struct evil ev = { .fd = -1 };
	const struct evil_scenario *sc = NULL;
	int rc;

	if (sodium_init() < 0)
		return 2;
	if (argc == 3 && strcmp(argv[1], "rkey") == 0)
		return evil_rkey(argv[2]);
	for (size_t i = 0; argc >= 3 && argc <= 4 && i <
	    sizeof(evil_scenarios) / sizeof(evil_scenarios[0]); i++)
		if (strcmp(argv[1], evil_scenarios[i].name) == 0)
			sc = &evil_scenarios[i];
	if (sc == NULL) {
		evil_usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, evil_alarm);
	alarm(EVIL_ALARM);
	evil_scenario_name = sc->name;
	ev.addr = argv[2];
	rc = sc->run(&ev, argc == 4 ? argv[3] : NULL);
	if (ev.fd >= 0)
		close(ev.fd);
	link_keys_wipe(&ev.keys);
	sodium_memzero(ev.sk, sizeof(ev.sk));
	return rc;
}
