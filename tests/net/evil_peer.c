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
 * bad usage; prints one line saying why either way, and then what it
 * sent, "# sent: frames N requests N connections N" (evil_sent).
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
 *   liar       ARG IP:PORT (IPv4): SEEN says the node is there, and the
 *              link is held 40 s, every PROBE ignored; hostile liars are
 *              judged by what the node announces (tests/net/address.sh)
 *   probeflood ARG (default 100) PROBEs at once, to dial us back at
 *              127.0.0.1:1: one PROBE_FAIL for each within 15 s, the
 *              link up (PONG); the node dials at most one of them
 *   slowread   ARG COUNT:FILL:RKEY: COUNT links each keeping FILL DATA
 *              frames of RKEY queued at the node, read slowly: the node
 *              must close some (its send queues are capped in all,
 *              PEERS_QUEUE_TOTAL_MAX, below what COUNT links may each
 *              queue)
 *   swarm      ARG (default 500) connections at once, held 15 s: two
 *              fifths handshake and stay as idle live peers (refused
 *              ones send a BUILD: a path link if there is room), a fifth
 *              stop after msg2, two fifths are silent: at most 32 slots
 *              and 64 path links, kept; the refused closed within 5 s of
 *              PEERS, the rest within the 10 s handshake bound
 *   probe      a REQUEST for ARG (hex routing key), the root of a
 *              document put at the node: no DATA (DNF, RNF or LOOP)
 *   poison     two identities, the node's only peers: an insert id
 *              reused after the node forgot it, with another block;
 *              a REQUEST for that block's key: no DATA of the old one
 *
 * Onion paths (docs/onion.md), the node the exit of our 1-hop paths, its
 * onion key from its RELAYS:
 *   path        a BUILD: BUILT; a REQUEST cell for a random key: a FAIL
 *               cell that opens and parses; a cell for a path id never
 *               built: ignored; a second REQUEST: FAIL again
 *   buildforged records for another onion key, then random records:
 *               BUILD_FAIL each, the link up
 *   buildreplay a path built, its records again under a new path id:
 *               BUILD_FAIL, the link up
 *   buildshort  a BUILD body one byte short: close within 3 s
 *   buildlong   one byte long: the same
 *   buildside   a valid BUILD whose path id has the node's bit 63: the
 *               same
 *   buildreuse  a path built, another valid BUILD under its id: the same
 *   buildflood  ARG (default 300) BUILDs at once: each answered, 1 to
 *               256 BUILT (a rate bound may refuse many); then BUILDs
 *               paced under the rate bound up to 256 paths, and 10 more:
 *               BUILD_FAIL each (the bound per peer); the link up
 *   cellalter   a cell altered after wrapping: BUILD_FAIL, the link up
 *   cellorder   two cells sent in the wrong order: the same
 *   cellreplay  a cell sent twice: the same
 *   cellshort   a CELL body one byte short: close within 3 s
 *   cellflood   ARG (default 3) paths, each with 100 INSERT cells on 100
 *               streams, of random blocks nearer us than the node's
 *               other peers (its INSERTs come to us, and we hold them):
 *               each path torn down, the link up
 *
 * Every bad frame is checked against our own opener first (the frame
 * fails in link_frame_open() or link_msg_decode() exactly the intended
 * way), so a pass means the node refused that flaw and not another.
 * Everything the node sends is read through link_frame_open() and
 * link_msg_decode(); a frame from the node that fails them fails the
 * scenario. Every wait has a deadline and every loop a count; alarm()
 * ends the program if all of that were wrong.
 */
#include <arpa/inet.h>
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/chk.h"
#include "crypto/link.h"
#include "crypto/uri.h"
#include "crypto/wire.h"
#include "routing/location.h"
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

struct evil_paths;

struct evil {
	const char *addr;	/* HOST:PORT[#PUBKEY] as given */
	int fd;
	uint8_t pk[LINK_PUBLICKEYBYTES], sk[LINK_SECRETKEYBYTES];
	uint8_t node_pk[LINK_PUBLICKEYBYTES];	/* after the handshake */
	uint8_t onion_pk[ONION_PUBLICKEYBYTES];	/* from the node's RELAYS */
	bool have_onion;
	const char *relays_bad;	/* why the node's RELAYS gave no key */
	/* The node's peers as its last HELLO named them. */
	uint8_t node_peers[LINK_HELLO_MAX_PEERS][LINK_PUBLICKEYBYTES];
	size_t node_npeers;
	struct evil_paths *paths;	/* the path scenarios' state, or NULL */
	bool hold_inserts;	/* the node's INSERTs: ACCEPTED, then nothing */
	struct link_keys keys;
	bool answer_ping;	/* PONG the node's PINGs while waiting */
	double last_send;
	uint8_t in[LINK_FRAME_MAX_BYTES];	/* the frame being read */
	size_t inlen;
	unsigned long got[256];	/* frames received, by message type */
	const char *why_bad;	/* after EVIL_IO_BAD */
};

static const char *evil_scenario_name = "?";
static int evil_rcvbuf;		/* SO_RCVBUF for new sockets, if not 0 */

/*
 * What the run sent, printed last by main() as "# sent: frames N
 * requests N connections N" for hostile.sh's totals: frames are link
 * frames written (bad and truncated ones included, the handshake's
 * messages not), requests are REQUEST and INSERT messages and REQUEST and
 * INSERT cells on our paths, connections are TCP connections made.
 */
static struct {
	unsigned long frames, requests, conns;
} evil_sent;

static void evil_path_note(struct evil *e, const struct link_msg *m);
static uint64_t evil_path_id(const struct evil *e, bool wrong_side);

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
	if (evil_rcvbuf > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &evil_rcvbuf,
		    sizeof(evil_rcvbuf));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
	    errno != EINPROGRESS)
		goto fail;
	if (!evil_wait(fd, POLLOUT, evil_now() + EVIL_CONNECT_SECS) ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
		goto fail;
	freeaddrinfo(ai);
	evil_sent.conns++;
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
	e->have_onion = false;
	e->relays_bad = NULL;
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
	memcpy(e->node_pk, hs.peer_pk, LINK_PUBLICKEYBYTES);
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

/* Sends the n bytes of one frame (or of part of one: truncated) and
 * counts it. */
static int
evil_send_frame(struct evil *e, const uint8_t *frame, size_t n,
    double deadline)
{
	int rc = evil_send_all(e, frame, n, deadline);

	if (rc == EVIL_IO_OK)
		evil_sent.frames++;
	return rc;
}

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
	return evil_send_frame(e, frame, n, deadline);
}

static int
evil_send_msg(struct evil *e, const struct link_msg *m, double deadline)
{
	static uint8_t body[LINK_MSG_MAX_BYTES];
	size_t n;

	int rc;

	if (link_msg_encode(m, body, sizeof(body), &n) != 0)
		return EVIL_IO_BAD;
	rc = evil_send_raw(e, m->type, body, n, deadline);
	if (rc == EVIL_IO_OK && (m->type == LINK_MSG_REQUEST ||
	    m->type == LINK_MSG_INSERT))
		evil_sent.requests++;
	return rc;
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
	evil_path_note(e, m);
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

/* A set of message types under 32 for evil_expect() (BUILD_FAIL and
 * the cells are not: see evil_path_wait()). */
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

/* Handshake, then the node's first frame, which must be its HELLO (a
 * RELAYS before it is let pass): proof that the node took our msg3, so a
 * later close is the scenario's. */
static int
evil_link_up(struct evil *e, const char **why)
{
	struct link_msg m;
	int rc, i = 0;

	if (evil_handshake(e, false, why) != 0)
		return -1;
	/* The node's first frames go out as it takes msg3; a node busy
	 * with 31 floods on two shared cores has been seen to take over 5 s,
	 * so they get the handshake's own bound. */
	do
		rc = evil_next_msg(e, evil_now() + EVIL_HS_SECS, &m);
	while (rc == EVIL_IO_OK && m.type == LINK_MSG_RELAYS && ++i < 2);
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
	    evil_send_frame(e, frame, n / 2, t0 + 5.0), "half a frame");
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
	return evil_close(e, t0, EVIL_CLOSE_SECS, evil_send_frame(e, frame,
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
	rc = evil_send_frame(e, frame, n, t0 + 5.0);
	if (rc == EVIL_IO_OK)
		rc = evil_send_frame(e, frame, n, t0 + 5.0);
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
	return evil_close(e, t0, EVIL_CLOSE_SECS, evil_send_frame(e, frame,
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
	return evil_close(e, t0, EVIL_CLOSE_SECS, evil_send_frame(e, frame, n,
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
		if (off == n) {
			(*sent)++;
			evil_sent.frames++;
			evil_sent.requests++;
		}
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

/*
 * A peer that lies about where it sees the node (docs/protocol.md,
 * "Addresses"): SEEN with ARG's address, then the link held
 * EVIL_LIAR_HOLD s, answering PINGs, never a PROBE (a liar asked to
 * dial back would not help the truth). Passes if the node keeps the
 * link: what it announces is for the test to judge.
 */
#define EVIL_LIAR_HOLD 40.0

static int
evil_liar(struct evil *e, const char *arg)
{
	struct link_msg m, seen = { .type = LINK_MSG_SEEN };
	char host[64];
	const char *colon = arg != NULL ? strrchr(arg, ':') : NULL;
	const char *why;
	long port;
	int rc;

	if (colon == NULL || (size_t)(colon - arg) >= sizeof(host) ||
	    (port = strtol(colon + 1, NULL, 10)) < 1 || port > 65535)
		return evil_verdict(false, "ARG: IPv4:PORT");
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = '\0';
	seen.seen.family = 4;
	seen.seen.port = (uint16_t)port;
	if (inet_pton(AF_INET, host, seen.seen.addr) != 1)
		return evil_verdict(false, "ARG: IPv4:PORT");
	if (evil_handshake(e, false, &why) != 0)
		return evil_verdict(false, "handshake: %s", why);
	e->answer_ping = true;
	if (evil_greet(e) != 0 ||
	    evil_send_msg(e, &seen, evil_now() + 5.0) != EVIL_IO_OK)
		return evil_verdict(false, "cannot send HELLO, PEERS and SEEN");
	rc = evil_expect(e, 0, evil_now() + EVIL_LIAR_HOLD, &m);
	if (rc != EVIL_IO_TIMEOUT)
		return evil_verdict(false, "lost the link: %s", rc ==
		    EVIL_IO_BAD ? e->why_bad : evil_io_str(rc));
	return evil_verdict(true, "said the node is at %s for %.0f s", arg,
	    EVIL_LIAR_HOLD);
}

/*
 * A flood of dial-back requests: the node must not become a scanner
 * (one dial-back per link per 5 s) nor queue them, and must answer each
 * (PROBE_FAIL) so an honest asker moves on.
 */
static int
evil_probeflood(struct evil *e, const char *arg)
{
	long n = arg != NULL ? strtol(arg, NULL, 10) : 100;
	struct link_msg m, probe = { .type = LINK_MSG_PROBE };
	const char *why;
	long fails = 0;
	double deadline;
	int rc = EVIL_IO_OK;

	if (n < 1 || n > 10000)
		return evil_verdict(false, "ARG: 1 to 10000 PROBEs");
	if (evil_handshake(e, false, &why) != 0)
		return evil_verdict(false, "handshake: %s", why);
	e->answer_ping = true;
	if (evil_greet(e) != 0)
		return evil_verdict(false, "cannot send HELLO and PEERS");
	probe.probe.addr.family = 4;
	memcpy(probe.probe.addr.addr, (const uint8_t[]){ 127, 0, 0, 1 }, 4);
	probe.probe.addr.port = 1;
	deadline = evil_now() + 15.0;
	for (long i = 0; i < n && rc == EVIL_IO_OK; i++) {
		probe.probe.nonce = (uint64_t)i;
		rc = evil_send_msg(e, &probe, deadline);
	}
	while (rc == EVIL_IO_OK && fails < n) {
		rc = evil_expect(e, EVIL_BIT(LINK_MSG_PROBE_FAIL), deadline,
		    &m);
		if (rc == EVIL_IO_OK)
			fails++;
	}
	if (rc == EVIL_IO_OK)
		rc = evil_send_ping(e, 7, evil_now() + 5.0);
	if (rc == EVIL_IO_OK)
		rc = evil_expect(e, EVIL_BIT(LINK_MSG_PONG), evil_now() + 5.0,
		    &m);
	return evil_verdict(rc == EVIL_IO_OK, "%ld PROBEs: %ld PROBE_FAIL "
	    "back, the link %s", n, fails, rc == EVIL_IO_OK ? "up (PONG)" :
	    rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc));
}

/* ---- hundreds of connections at once ---- */

#define EVIL_SWARM_MAX 1000
#define EVIL_SWARM_HOLD 15.0	/* s the swarm is held */
#define EVIL_SWARM_SHOW 3.0	/* s held more after saying "held" */
#define EVIL_SWARM_DRAIN 13.0	/* s more for the last closes, at most */
#define EVIL_SWARM_DIAL 10.0	/* s for every connect() */
#define EVIL_SWARM_WAVE 1.0	/* s before the later full handshakes */
#define EVIL_SWARM_SLOTS 32	/* the node's default --max-peers */
#define EVIL_SWARM_PATH_LINKS 64	/* PEERS_PATH_LINKS_MAX */
#define EVIL_HS_BOUND 12.0	/* PEERS_HS_TIMEOUT (10 s) + 2 s */
#define EVIL_LINGER_BOUND 7.0	/* PEERS_LINGER (5 s) + 2 s */

enum evil_kind { EVIL_FULL, EVIL_HALF, EVIL_SILENT };

enum evil_conn_state {
	EVIL_C_LATER,		/* a later wave: not dialed yet */
	EVIL_C_DIALING,		/* connect() in flight */
	EVIL_C_MSG2,		/* msg1 sent */
	EVIL_C_FRAMES,		/* full: msg3 sent, frames read */
	EVIL_C_IDLE,		/* half: msg2 read; silent: connected */
	EVIL_C_GONE,		/* closed, by the node unless dial_failed */
};

/* One connection of the swarm. */
struct evil_conn {
	int fd;
	enum evil_kind kind;
	enum evil_conn_state st;
	double t_dial;		/* connect() started, or to start */
	double t_up;		/* connect() done */
	double t_msg2;		/* msg2 read: the node had accepted it */
	double t_mark;		/* full: its first HELLO or PEERS */
	double t_gone;
	uint8_t msg2[LINK_MSG2_BYTES];
	size_t have;
	struct link_hs hs;
	struct evil *e;		/* full: its link, identity and keys */
	bool dial_failed;
	bool linked;		/* full: HELLO, a slot under --max-peers */
	bool refused;		/* full: PEERS before any HELLO: no room */
	bool asked_path;	/* refused, then sent a BUILD */
	bool path_link;		/* ... and HELLO after it: a path link */
	const char *bad;	/* what the node did that it must not */
};

struct evil_swarm {
	struct evil_conn *c;
	size_t n;
	const struct addrinfo *ai;
	const uint8_t *pin;	/* the node's identity, if in the address */
	const uint8_t *pk, *sk;	/* the half handshakes' identity */
	double t0;
	size_t slots_max;	/* most slots held at once */
	size_t paths_max;	/* most path links held at once */
};

/* Raises our own descriptor limit to need, within the hard limit. */
static int
evil_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		return -1;
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static void
evil_conn_gone(struct evil_conn *c, const char *bad)
{
	if (c->bad == NULL)
		c->bad = bad;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->e != NULL)
		c->e->fd = -1;
	c->st = EVIL_C_GONE;
	c->t_gone = evil_now();
	link_hs_wipe(&c->hs);
}

/* Sends the whole of a handshake message on a fresh socket (it fits in
 * any send buffer); 0, or -1 if the node has closed. */
static int
evil_conn_send(struct evil_conn *c, const uint8_t *p, size_t n)
{
	ssize_t w;

	do
		w = send(c->fd, p, n, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)n ? 0 : -1;
}

/* connect() is done: full and half handshakes send msg1. */
static void
evil_conn_dialed(struct evil_swarm *sw, struct evil_conn *c)
{
	uint8_t msg1[LINK_MSG1_BYTES];
	socklen_t len = sizeof(int);
	int err = 0, rc;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
	    err != 0) {
		c->dial_failed = true;
		evil_conn_gone(c, NULL);
		return;
	}
	evil_sent.conns++;
	c->t_up = evil_now();
	if (c->kind == EVIL_SILENT) {
		c->st = EVIL_C_IDLE;
		return;
	}
	rc = c->kind == EVIL_FULL ? link_hs_init(&c->hs, c->e->sk, c->e->pk,
	    sw->pin, msg1) : link_hs_init(&c->hs, sw->sk, sw->pk, sw->pin,
	    msg1);
	if (rc != 0) {
		evil_conn_gone(c, "internal: link_hs_init failed");
		return;
	}
	c->st = EVIL_C_MSG2;
	if (evil_conn_send(c, msg1, sizeof(msg1)) != 0)
		evil_conn_gone(c, NULL);	/* pushed out already */
}

/* msg2 bytes: a full handshake sends msg3, a half one stops there. */
static void
evil_conn_msg2(struct evil_conn *c)
{
	uint8_t msg3[LINK_MSG3_BYTES];
	struct link_keys keys;
	ssize_t r;
	int rc;

	r = recv(c->fd, c->msg2 + c->have, sizeof(c->msg2) - c->have, 0);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (r <= 0) {
		evil_conn_gone(c, NULL);
		return;
	}
	if ((c->have += (size_t)r) < sizeof(c->msg2))
		return;
	rc = link_hs_read_msg2(&c->hs, c->msg2, c->have, msg3,
	    c->kind == EVIL_FULL ? &c->e->keys : &keys);
	if (c->kind == EVIL_HALF)
		link_keys_wipe(&keys);
	if (rc != 0) {
		evil_conn_gone(c, "a msg2 that does not verify");
		return;
	}
	c->t_msg2 = evil_now();
	if (c->kind == EVIL_HALF) {
		link_hs_wipe(&c->hs);
		c->st = EVIL_C_IDLE;
		return;
	}
	memcpy(c->e->node_pk, c->hs.peer_pk, LINK_PUBLICKEYBYTES);
	link_hs_wipe(&c->hs);
	c->st = EVIL_C_FRAMES;
	if (evil_conn_send(c, msg3, sizeof(msg3)) != 0)
		evil_conn_gone(c, NULL);
}

/* A half or silent connection: the only right thing is a close. */
static void
evil_conn_idle(struct evil_conn *c)
{
	uint8_t b;
	ssize_t r = recv(c->fd, &b, 1, 0);

	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	evil_conn_gone(c, r > 0 ? (c->kind == EVIL_HALF ? "bytes after "
	    "msg2 to a peer that never sent msg3" : "bytes to a connection "
	    "that never sent one") : NULL);
}

/* The answer of an idle, honest peer to what a linked node sends. */
static int
evil_conn_answer(struct evil *e, const struct link_msg *m)
{
	struct link_msg r = { .type = LINK_MSG_ACCEPTED };
	double deadline = evil_now() + 2.0;
	int rc = EVIL_IO_OK;

	switch (m->type) {
	case LINK_MSG_PING:
		r.type = LINK_MSG_PONG;
		r.pong.cookie = m->ping.cookie;
		return evil_send_msg(e, &r, deadline);
	case LINK_MSG_BUILD:
		r.type = LINK_MSG_BUILD_FAIL;
		r.build_fail.id = m->build.path_id;
		return evil_send_msg(e, &r, deadline);
	case LINK_MSG_REQUEST:
		r.accepted.id = m->request.id;
		rc = evil_send_msg(e, &r, deadline);
		r = (struct link_msg){ .type = LINK_MSG_DNF };
		r.dnf.id = m->request.id;
		break;
	case LINK_MSG_INSERT:
		r.accepted.id = m->insert.id;
		rc = evil_send_msg(e, &r, deadline);
		r = (struct link_msg){ .type = LINK_MSG_RNF };
		r.rnf.id = m->insert.id;
		r.rnf.htl = m->insert.htl;
		break;
	default:
		return EVIL_IO_OK;
	}
	return rc == EVIL_IO_OK ? evil_send_msg(e, &r, deadline) : rc;
}

/* A refused peer asks for a path through the node: a BUILD whose
 * records open nowhere. Its first path message makes it a path link
 * while the node has fewer than 64; the BUILD itself gets BUILD_FAIL. */
static int
evil_conn_ask_path(struct evil *e)
{
	static uint8_t records[ONION_BUILD_BYTES];
	struct link_msg m = { .type = LINK_MSG_BUILD };

	randombytes_buf(records, sizeof(records));
	m.build.path_id = evil_path_id(e, false);
	m.build.records = records;
	return evil_send_msg(e, &m, evil_now() + 2.0);
}

/* A full handshake's first HELLO or PEERS (RELAYS may come before
 * either): we greet as a dialer does, claiming no other link, and a
 * refused peer then asks for a path. */
static int
evil_conn_first(struct evil_conn *c, const struct link_msg *m)
{
	if (m->type != LINK_MSG_HELLO && m->type != LINK_MSG_PEERS)
		return EVIL_IO_BAD;
	c->t_mark = evil_now();
	c->linked = m->type == LINK_MSG_HELLO;
	c->refused = !c->linked;
	if (evil_greet(c->e) != 0)
		return EVIL_IO_CLOSED;
	if (c->linked)
		return EVIL_IO_OK;
	c->asked_path = true;
	return evil_conn_ask_path(c->e);
}

/* A full handshake's frames, answered as a live peer does. */
static void
evil_conn_frames(struct evil_conn *c)
{
	struct evil *e = c->e;
	struct link_msg m;
	int rc;

	for (int i = 0; i < 64; i++) {
		rc = evil_next_msg(e, 0, &m);
		if (rc == EVIL_IO_TIMEOUT)
			return;
		if (rc == EVIL_IO_OK && !c->linked && !c->refused &&
		    m.type != LINK_MSG_RELAYS) {
			rc = evil_conn_first(c, &m);
			e->why_bad = "a first frame that is neither HELLO nor "
			    "PEERS";
		} else if (rc == EVIL_IO_OK && m.type == LINK_MSG_HELLO &&
		    c->refused) {
			/* Promoted: a path link (we asked), or a
			 * newcomer's slot (we claim no links). */
			c->path_link = c->asked_path;
			c->linked = !c->asked_path;
		}
		if (rc == EVIL_IO_OK)
			rc = evil_conn_answer(e, &m);
		if (rc != EVIL_IO_OK) {
			evil_conn_gone(c, rc == EVIL_IO_BAD ? e->why_bad :
			    NULL);
			return;
		}
	}
}

static void
evil_conn_step(struct evil_swarm *sw, struct evil_conn *c)
{
	switch (c->st) {
	case EVIL_C_DIALING: evil_conn_dialed(sw, c); break;
	case EVIL_C_MSG2: evil_conn_msg2(c); break;
	case EVIL_C_FRAMES: evil_conn_frames(c); break;
	case EVIL_C_IDLE: evil_conn_idle(c); break;
	default: break;
	}
}

/* Starts one connect(). */
static void
evil_conn_dial(struct evil_swarm *sw, struct evil_conn *c)
{
	const struct addrinfo *ai = sw->ai;
	int one = 1;

	c->t_dial = evil_now();
	c->st = EVIL_C_DIALING;
	c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
	    ai->ai_protocol);
	if (c->fd >= 0) {
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			if (c->e != NULL)
				c->e->fd = c->fd;
			return;
		}
	}
	c->dial_failed = true;
	evil_conn_gone(c, NULL);
}

/*
 * Every connection's kind and identity: two fifths full handshakes, one
 * fifth half, two fifths silent. A quarter of the connections (full
 * ones) and every half and silent one are dialed at once; the other full
 * ones EVIL_SWARM_WAVE s later, 8 every 0.1 s, when the half and silent
 * ones hold every handshake place: they must push those out and get a
 * slot, a path link or a refusal, not be locked out.
 */
static int
evil_swarm_dial(struct evil_swarm *sw)
{
	struct evil_conn *c;
	size_t later = 0, first = 0;

	for (size_t i = 0; i < sw->n; i++)
		sw->c[i].fd = -1;
	for (size_t i = 0; i < sw->n; i++) {
		c = &sw->c[i];
		c->kind = i % 5 < 2 ? EVIL_FULL : i % 5 == 2 ? EVIL_HALF :
		    EVIL_SILENT;
		c->st = EVIL_C_LATER;
		c->t_dial = sw->t0;
		if (c->kind != EVIL_FULL)
			continue;
		if ((c->e = calloc(1, sizeof(*c->e))) == NULL)
			return -1;
		c->e->fd = -1;
		c->e->addr = "";
		crypto_sign_keypair(c->e->pk, c->e->sk);
		if (first++ >= sw->n / 4)
			c->t_dial = sw->t0 + EVIL_SWARM_WAVE +
			    0.1 * (double)(later++ / 8);
	}
	for (size_t i = 0; i < sw->n; i++)
		if (sw->c[i].t_dial <= sw->t0)
			evil_conn_dial(sw, &sw->c[i]);
	return 0;
}

/* One poll round over every open connection, then keep-alives. */
static void
evil_swarm_round(struct evil_swarm *sw, struct pollfd *pfd, size_t *idx)
{
	struct evil_conn *c;
	size_t np = 0, slots = 0, paths = 0;
	double now = evil_now();

	for (size_t i = 0; i < sw->n; i++) {
		c = &sw->c[i];
		if (c->st == EVIL_C_LATER && now >= c->t_dial)
			evil_conn_dial(sw, c);
		if (c->st == EVIL_C_DIALING &&
		    now > c->t_dial + EVIL_SWARM_DIAL) {
			c->dial_failed = true;
			evil_conn_gone(c, NULL);
		}
		if (c->st == EVIL_C_GONE || c->st == EVIL_C_LATER)
			continue;
		pfd[np] = (struct pollfd){ .fd = c->fd, .events =
		    c->st == EVIL_C_DIALING ? POLLOUT : POLLIN };
		idx[np++] = i;
	}
	if (poll(pfd, np, 100) < 0 && errno != EINTR)
		return;
	for (size_t k = 0; k < np; k++)
		if (pfd[k].revents != 0)
			evil_conn_step(sw, &sw->c[idx[k]]);
	for (size_t i = 0; i < sw->n; i++) {
		c = &sw->c[i];
		if (c->st != EVIL_C_FRAMES || !(c->linked || c->path_link))
			continue;
		slots += c->linked;
		paths += c->path_link;
		if (evil_now() - c->e->last_send > EVIL_KEEPALIVE &&
		    evil_send_ping(c->e, 0, evil_now() + 2.0) != EVIL_IO_OK)
			evil_conn_gone(c, NULL);
	}
	sw->slots_max = slots > sw->slots_max ? slots : sw->slots_max;
	sw->paths_max = paths > sw->paths_max ? paths : sw->paths_max;
}

/* What the swarm met, for the verdict. */
struct evil_swarm_count {
	size_t conns, failed;
	size_t linked, paths, held;	/* slots, path links, kept of both */
	size_t refused, pushed;
	size_t late;		/* closed past its bound, or open past it */
	size_t open;		/* neither linked nor closed */
	size_t unseen;		/* no word from the node ... */
	size_t unseen_open;	/* ... and still open */
	/* The longest waits for a close: a refused peer's from PEERS, the
	 * others' from msg2, and those that never had msg2 from connect(). */
	double w_refused, w_hs, w_unseen;
	const char *bad;
};

/*
 * When a connection the node did not link must be closed by: PEERS_LINGER
 * after PEERS, the handshake's bound after msg2 (which says that the node
 * had accepted it). 0 for one that never had a word from the node: its
 * connect() may have returned here while the kernel's accept queue was
 * full, and a SYN cookie whose last ACK met a full queue leaves no state
 * at the node at all, so a silent client stays "connected" to nothing.
 * hostile.sh counts the node's descriptors for those.
 */
static double
evil_conn_deadline(const struct evil_conn *c)
{
	if (c->refused)
		return c->t_mark + EVIL_LINGER_BOUND;
	return c->t_msg2 > 0 ? c->t_msg2 + EVIL_HS_BOUND : 0;
}

static void
evil_swarm_count(const struct evil_swarm *sw, struct evil_swarm_count *k)
{
	const struct evil_conn *c;
	double now = evil_now(), by, from, *w;

	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < sw->n; i++) {
		c = &sw->c[i];
		if (c->dial_failed || c->st == EVIL_C_LATER) {
			k->failed++;
			continue;
		}
		k->conns++;
		if (c->bad != NULL && k->bad == NULL)
			k->bad = c->bad;
		k->linked += c->linked;
		k->paths += c->path_link;
		k->held += (c->linked || c->path_link) &&
		    c->st != EVIL_C_GONE;
		k->pushed += c->kind == EVIL_FULL && !c->linked &&
		    !c->refused;
		if (c->linked || c->path_link)
			continue;	/* ours until we go */
		k->refused += c->refused;
		by = evil_conn_deadline(c);
		if (by == 0) {
			k->unseen++;
			k->unseen_open += c->st != EVIL_C_GONE;
		}
		if (c->st != EVIL_C_GONE) {
			k->open++;
			k->late += by > 0 && now > by;
			continue;
		}
		k->late += by > 0 && c->t_gone > by;
		from = c->refused ? c->t_mark : by > 0 ? c->t_msg2 : c->t_up;
		w = c->refused ? &k->w_refused : by > 0 ? &k->w_hs :
		    &k->w_unseen;
		*w = c->t_gone - from > *w ? c->t_gone - from : *w;
	}
}

/* After the hold: true once no connection the node spoke to and did not
 * link is still open within its bound. */
static bool
evil_swarm_drained(const struct evil_swarm *sw)
{
	const struct evil_conn *c;
	double now = evil_now(), by;

	for (size_t i = 0; i < sw->n; i++) {
		c = &sw->c[i];
		by = evil_conn_deadline(c);
		if (!c->linked && !c->path_link && c->st != EVIL_C_GONE &&
		    c->st != EVIL_C_LATER && by > 0 && now <= by)
			return false;
	}
	return true;
}

static void
evil_swarm_free(struct evil_swarm *sw)
{
	for (size_t i = 0; i < sw->n; i++) {
		if (sw->c[i].fd >= 0)
			close(sw->c[i].fd);
		link_hs_wipe(&sw->c[i].hs);
		if (sw->c[i].e != NULL) {
			link_keys_wipe(&sw->c[i].e->keys);
			sodium_memzero(sw->c[i].e->sk, sizeof(sw->c[i].e->sk));
			free(sw->c[i].e);
		}
	}
	free(sw->c);
}

/* The rounds: the hold, a line for hostile.sh (which counts the node's
 * descriptors and asks its status then, EVIL_SWARM_SHOW s before the
 * drain), the drain. */
static void
evil_swarm_run(struct evil_swarm *sw)
{
	static struct pollfd pfd[EVIL_SWARM_MAX];
	static size_t idx[EVIL_SWARM_MAX];
	struct evil_swarm_count k;

	while (evil_now() < sw->t0 + EVIL_SWARM_HOLD)
		evil_swarm_round(sw, pfd, idx);
	evil_swarm_count(sw, &k);
	printf("# held %.0f s: %zu slots and %zu path links up, %zu others "
	    "open (%zu with no word from the node)\n", EVIL_SWARM_HOLD,
	    k.held - k.paths, k.paths, k.open, k.unseen_open);
	fflush(stdout);
	while (evil_now() < sw->t0 + EVIL_SWARM_HOLD + EVIL_SWARM_SHOW ||
	    (evil_now() < sw->t0 + EVIL_SWARM_HOLD + EVIL_SWARM_DRAIN &&
	    !evil_swarm_drained(sw)))
		evil_swarm_round(sw, pfd, idx);
}

/*
 * ARG (default 500) connections opened at once and held EVIL_SWARM_HOLD
 * s: two fifths complete the handshake and stay as idle, live peers
 * (they answer PINGs and what the node routes to them), one fifth stop
 * after msg2, two fifths never send a byte. A full handshake refused for
 * want of a slot sends a BUILD, which makes it a path link if there is
 * room. The node must give at most its --max-peers (default 32) slots and
 * 64 path links, keep the peers it linked, close each refused one within
 * its linger (5 s), each half one within the handshake bound (10 s) or
 * sooner, pushed out by newer ones (64 handshakes at most). hostile.sh
 * watches the node's descriptors, its honest client and its memory.
 */
static int
evil_swarm(struct evil *e, const char *arg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	long n = arg != NULL ? strtol(arg, NULL, 10) : 500;
	uint8_t pin[LINK_PUBLICKEYBYTES];
	char host[256], port[16];
	struct evil_swarm sw = { .pk = e->pk, .sk = e->sk };
	struct evil_swarm_count k;
	bool pinned, ok;

	if (n < 5 || n > EVIL_SWARM_MAX)
		return evil_verdict(false, "ARG: 5 to %d connections",
		    EVIL_SWARM_MAX);
	if (evil_nofile((rlim_t)n + 32) != 0)
		return evil_verdict(false, "cannot raise our descriptor limit "
		    "to %ld (ulimit -Hn)", n + 32);
	if (evil_parse_addr(e->addr, host, sizeof(host), port, sizeof(port),
	    pin, &pinned) != 0 || getaddrinfo(host, port, &hints, &ai) != 0)
		return evil_verdict(false, "cannot resolve %s", e->addr);
	crypto_sign_keypair(e->pk, e->sk);
	sw.ai = ai;
	sw.pin = pinned ? pin : NULL;
	sw.n = (size_t)n;
	sw.t0 = evil_now();
	if ((sw.c = calloc(sw.n, sizeof(*sw.c))) == NULL ||
	    evil_swarm_dial(&sw) != 0) {
		freeaddrinfo(ai);
		if (sw.c != NULL)
			evil_swarm_free(&sw);
		return evil_verdict(false, "out of memory");
	}
	evil_swarm_run(&sw);
	freeaddrinfo(ai);
	evil_swarm_count(&sw, &k);
	evil_swarm_free(&sw);
	if (k.bad != NULL)
		return evil_verdict(false, "the node sent %s", k.bad);
	ok = k.linked >= 1 && sw.slots_max <= EVIL_SWARM_SLOTS &&
	    sw.paths_max <= EVIL_SWARM_PATH_LINKS &&
	    k.held == k.linked + k.paths && k.late == 0 &&
	    k.failed * 10 <= sw.n;
	return evil_verdict(ok, "%zu of %ld connections made (%zu failed), "
	    "%.1f s in all; full handshakes: %zu slots (%zu at once at most, "
	    "%d allowed), %zu path links (%zu at once, %d allowed), %zu of "
	    "both kept to the end; %zu refused (closed within %.1f s of "
	    "PEERS), %zu closed in the handshake; the others closed within "
	    "%.1f s of msg2; %zu had no word from the node, closed within "
	    "%.1f s of connect() but %zu (no state at the node: SYN "
	    "cookies); %zu closed past their bound", k.conns, n, k.failed,
	    evil_now() - sw.t0, k.linked, sw.slots_max, EVIL_SWARM_SLOTS,
	    k.paths, sw.paths_max, EVIL_SWARM_PATH_LINKS, k.held, k.refused,
	    k.w_refused, k.pushed, k.w_hs, k.unseen, k.w_unseen,
	    k.unseen_open, k.late);
}

/* ---- queues held just under their cap ---- */

#define EVIL_SLOW_LINKS_MAX 256
#define EVIL_SLOW_FILL_MAX 400	/* DATA frames outstanding per link */
#define EVIL_SLOW_SECS 30.0	/* s of the fill and the hold */
#define EVIL_SLOW_READ (256 * 1024)	/* bytes read a second, at most */

/* Reads what fd holds, up to n bytes, for at most 5 ms: the bytes
 * read, or -1 if the node has closed. */
static long
evil_slow_drain(int fd, uint8_t *buf, size_t n)
{
	double until = evil_now() + 0.005;
	size_t got = 0;
	ssize_t r;

	while (got < n && evil_now() < until) {
		r = recv(fd, buf, n - got > 65536 ? 65536 : n - got,
		    MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != EINTR))
			return -1;
		if (r > 0)
			got += (size_t)r;
	}
	return (long)got;
}

/*
 * ARG is COUNT:FILL:RKEY, RKEY a routing key in hex of a block the node
 * caches: COUNT links (95: 31 slots beside one honest peer and 64 path
 * links, a refused peer asking for a path with a BUILD that opens
 * nowhere), each with a small receive buffer, each asking for FILL DATA
 * frames of RKEY at once, then reading EVIL_SLOW_READ bytes a second and
 * asking for as many frames again: the node's send queue to each stays
 * where FILL put it, under its 4 MiB cap (the kernel's send buffer takes
 * the first few MiB) and never idle for 8 s, so no bound of one link
 * closes it. Passes if every link is still up after EVIL_SLOW_SECS s.
 * Not run by hostile.sh: it is the reproducer for the node's memory
 * bound in docs/limits.md ("Memory, worst case"), which 95 links with a
 * FILL of 180 take past 256 MiB today.
 */
static int
evil_slowread(struct evil *e, const char *arg)
{
	static struct evil links[EVIL_SLOW_LINKS_MAX];
	static uint8_t junk[EVIL_SLOW_READ];
	static unsigned long asked[EVIL_SLOW_LINKS_MAX];
	static unsigned long read_bytes[EVIL_SLOW_LINKS_MAX];
	struct link_msg m = { .type = LINK_MSG_REQUEST };
	char *end = NULL, *end2 = NULL;
	long n = arg != NULL ? strtol(arg, &end, 10) : 0;
	unsigned long fill = end != NULL && *end == ':' ?
	    strtoul(end + 1, &end2, 10) : 0;
	size_t up = 0, paths = 0, alive;
	double t0, next;
	const char *why;
	long got;
	int rc;

	if (n < 1 || n > EVIL_SLOW_LINKS_MAX || fill < 1 ||
	    fill > EVIL_SLOW_FILL_MAX || end2 == NULL || *end2 != ':' ||
	    evil_arg_rkey(end2 + 1, m.request.rkey) != 0)
		return evil_verdict(false, "ARG: COUNT:FILL:RKEY, 1 to %d "
		    "links, 1 to %d frames", EVIL_SLOW_LINKS_MAX,
		    EVIL_SLOW_FILL_MAX);
	if (evil_nofile((rlim_t)n + 32) != 0)
		return evil_verdict(false, "cannot raise our descriptor limit");
	evil_rcvbuf = 16384;
	for (long i = 0; i < n; i++) {
		links[i].fd = -1;
		links[i].addr = e->addr;
		if (evil_handshake(&links[i], false, &why) != 0)
			break;
		rc = evil_next_msg(&links[i], evil_now() + 5.0, &m);
		while (rc == EVIL_IO_OK && m.type == LINK_MSG_RELAYS)
			rc = evil_next_msg(&links[i], evil_now() + 5.0, &m);
		if (rc != EVIL_IO_OK)
			break;
		if (evil_greet(&links[i]) != 0)
			break;
		if (m.type == LINK_MSG_PEERS) {
			/* Refused: a path link, if there is room. */
			if (evil_conn_ask_path(&links[i]) != 0)
				break;
			do
				rc = evil_next_msg(&links[i], evil_now() + 3.0,
				    &m);
			while (rc == EVIL_IO_OK && m.type != LINK_MSG_HELLO);
			if (rc != EVIL_IO_OK)
				break;
			paths++;
		}
		up++;
	}
	(void)evil_arg_rkey(end2 + 1, m.request.rkey);
	m.type = LINK_MSG_REQUEST;
	m.request.htl = EVIL_HTL;
	printf("# slowread: %zu links up (%zu path links), each to ask for "
	    "%lu DATA frames\n", up, paths, fill);
	fflush(stdout);
	t0 = next = evil_now();
	while (evil_now() < t0 + EVIL_SLOW_SECS) {
		next += 1.0;
		if (next > evil_now())	/* a negative timeout: forever */
			(void)poll(NULL, 0, (int)((next - evil_now()) * 1000));
		for (size_t i = 0; i < up; i++) {
			if (links[i].fd < 0)
				continue;
			/* EVIL_SLOW_READ bytes read, as many frames asked
			 * for again: the queue stays where it is. */
			if ((got = evil_slow_drain(links[i].fd, junk,
			    EVIL_SLOW_READ)) < 0) {
				close(links[i].fd);
				links[i].fd = -1;
				continue;
			}
			/* The fill goes 32 a round, so that every link is
			 * read every second from the start. */
			read_bytes[i] += (unsigned long)got;
			for (int k = 0; k < 32 && asked[i] < fill +
			    read_bytes[i] / LINK_FRAME2_BYTES &&
			    links[i].fd >= 0; k++, asked[i]++) {
				m.request.id = randombytes_random() | 1;
				if (evil_send_msg(&links[i], &m, evil_now() +
				    0.5) == EVIL_IO_OK)
					continue;
				close(links[i].fd);
				links[i].fd = -1;
			}
		}
	}
	alive = 0;
	for (size_t i = 0; i < up; i++)
		if (links[i].fd >= 0) {
			alive++;
			close(links[i].fd);
			link_keys_wipe(&links[i].keys);
		}
	return evil_verdict(up == (size_t)n && alive < up, "%zu of %ld links "
	    "up (%zu path links), %zu still up after %.0f s of queues held "
	    "near their cap", up, n, paths, alive, EVIL_SLOW_SECS);
}

/* ---- onion paths (docs/onion.md) ---- */

/*
 * We are the origin of 1-hop paths whose exit is the node: its onion key
 * comes from its RELAYS (its own descriptor first), BUILDs are made by
 * onion_build_make() and cells by onion_cell_wrap_fwd(), and the node's
 * cells back are opened with onion_cell_open_back(). We hold the exit's
 * hop keys, so its forward state is mirrored here: every cell meant to
 * break the chain is first checked to break it (PASS_ON at the exit), and
 * every good one to be recognized.
 *
 * evil_path_note() notes every path message the node sends as it is read,
 * whatever the scenario waits for. The exit routes its streams through
 * its peers, us among them: its REQUESTs and INSERTs to us are answered
 * (ACCEPTED, then DNF or RNF) from a queue, between our frames, as a peer
 * with nothing would; a BUILD to us gets BUILD_FAIL.
 */

#define EVIL_PATHS_MAX 1024
#define EVIL_PATH_BOUND 256	/* paths built through one peer */
#define EVIL_FLOOD_BUILDS 320	/* at most, at once, in buildflood */
#define EVIL_PACE_RATE 12.0	/* BUILDs a s: under the node's 16 a link */
#define EVIL_BOUND_EXTRA 10	/* BUILDs past the bound, 0.5 s apart */
#define EVIL_BUILD_SECS 10.0	/* an origin's build timeout */
#define EVIL_CELL_SECS 30.0	/* a stream's answer: a miss, routed */
#define EVIL_TEAR_SECS 5.0	/* a broken chain to BUILD_FAIL */
#define EVIL_ANSWERS_MAX 512
#define EVIL_FLOOD_STREAMS 100	/* INSERTs on one path in cellflood */
#define EVIL_FLOOD_ROUNDS 10

enum evil_path_state {
	EVIL_PATH_SENT = 0,	/* BUILD sent, no answer yet */
	EVIL_PATH_BUILT,	/* BUILT */
	EVIL_PATH_REFUSED,	/* BUILD_FAIL for the BUILD */
	EVIL_PATH_DOWN,		/* BUILD_FAIL after BUILT: torn down */
};

/* One path of ours. Its keys are secret (test paths, but wiped all the
 * same, at the end of main()). */
struct evil_path {
	uint64_t id;
	enum evil_path_state state;
	double t_sent, t_answer, t_down;
	struct onion_hop_keys keys;
	struct onion_dir fwd, back;	/* ours, the origin's */
	struct onion_dir exit_fwd;	/* the exit's, mirrored */
	unsigned long cells;		/* cells back that opened and parsed */
	unsigned long bad;		/* cells back that did not */
	unsigned long late;		/* cells after its BUILD_FAIL */
	unsigned long early;		/* cells before its BUILT */
	unsigned long cmds[8];		/* opened cells by cmd, 0: others */
	uint8_t last_cmd;
	uint32_t last_stream;
	size_t last_len;
	int last_status;		/* the last FAIL's byte, else -1 */
};

/* Something the node sent that a peer answers. */
struct evil_answer {
	uint8_t type;		/* REQUEST, INSERT, BUILD or PING */
	uint64_t id;		/* its id, path id or cookie */
	uint8_t htl;
};

struct evil_paths {
	struct evil_path p[EVIL_PATHS_MAX];
	size_t n;
	unsigned long stray;	/* path messages for no path of ours */
	unsigned long dup;	/* a second answer to one BUILD */
	uint64_t pong;		/* the last PONG's cookie */
	struct evil_answer ans[EVIL_ANSWERS_MAX];
	size_t nans;
};

/* Our side of a path id on this link: bit 63 set iff our identity is the
 * lower (memcmp); wrong_side gives the node's side instead. Never 0. */
static uint64_t
evil_path_id(const struct evil *e, bool wrong_side)
{
	const uint64_t side = UINT64_C(1) << 63;
	bool low = memcmp(e->pk, e->node_pk, LINK_PUBLICKEYBYTES) < 0;
	uint64_t id;

	randombytes_buf(&id, sizeof(id));
	id = (id & ~side) | 1;
	return low != wrong_side ? id | side : id;
}

static struct evil_path *
evil_path_find(struct evil_paths *ps, uint64_t id)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].id == id)
			return &ps->p[i];
	return NULL;
}

/* The node's RELAYS: its own descriptor must come first and verify. */
static void
evil_relays_note(struct evil *e, const struct link_msg *m)
{
	const struct onion_desc *d = &m->relays.descs[0];

	if (e->have_onion)
		return;
	if (memcmp(d->identity, e->node_pk, ONION_IDBYTES) != 0) {
		e->relays_bad = "the node's RELAYS does not start with its own "
		    "descriptor";
	} else if (onion_desc_verify(d, (uint64_t)time(NULL)) != 0) {
		e->relays_bad = "the node's own descriptor does not verify";
	} else {
		memcpy(e->onion_pk, d->onion_pk, ONION_PUBLICKEYBYTES);
		e->have_onion = true;
	}
}

/* A cell back on p: opened and parsed, or counted as not. */
static void
evil_path_cell(struct evil_path *p, const uint8_t *payload, size_t size)
{
	static uint8_t buf[ONION_CELL_LARGE_BYTES];
	const uint8_t *body;
	uint32_t stream;
	uint8_t cmd;
	size_t len;

	if (p->state == EVIL_PATH_REFUSED || p->state == EVIL_PATH_DOWN) {
		p->late++;
		return;
	}
	if (p->state == EVIL_PATH_SENT) {
		p->early++;
		return;
	}
	memcpy(buf, payload, size);
	if (onion_cell_open_back(&p->keys, 1, &p->back, buf, size) != 0 ||
	    onion_cell_parse(buf, size, &cmd, &stream, &body, &len) != 0) {
		p->bad++;
		return;
	}
	p->cells++;
	p->cmds[cmd < 8 ? cmd : 0]++;
	p->last_cmd = cmd;
	p->last_stream = stream;
	p->last_len = len;
	p->last_status = cmd == ONION_CMD_FAIL && len >= 1 ? body[0] : -1;
}

static void
evil_answer_queue(struct evil_paths *ps, uint8_t type, uint64_t id,
    uint8_t htl)
{
	if (ps->nans < EVIL_ANSWERS_MAX)	/* else the node times it out */
		ps->ans[ps->nans++] = (struct evil_answer){ type, id, htl };
}

/* Called by evil_open() on every message from the node. */
static void
evil_path_note(struct evil *e, const struct link_msg *m)
{
	struct evil_paths *ps = e->paths;
	struct evil_path *p;
	uint64_t id;

	if (m->type == LINK_MSG_RELAYS)
		evil_relays_note(e, m);
	if (m->type == LINK_MSG_HELLO) {
		e->node_npeers = m->hello.npeers;
		memcpy(e->node_peers, m->hello.peers,
		    m->hello.npeers * sizeof(e->node_peers[0]));
	}
	if (ps == NULL)
		return;
	switch (m->type) {
	case LINK_MSG_BUILT:
	case LINK_MSG_BUILD_FAIL:
		id = m->type == LINK_MSG_BUILT ? m->built.id :
		    m->build_fail.id;
		if ((p = evil_path_find(ps, id)) == NULL) {
			ps->stray++;
		} else if (p->state == EVIL_PATH_SENT) {
			p->state = m->type == LINK_MSG_BUILT ?
			    EVIL_PATH_BUILT : EVIL_PATH_REFUSED;
			p->t_answer = evil_now();
		} else if (p->state == EVIL_PATH_BUILT &&
		    m->type == LINK_MSG_BUILD_FAIL) {
			p->state = EVIL_PATH_DOWN;
			p->t_down = evil_now();
		} else {
			ps->dup++;
		}
		break;
	case LINK_MSG_CELL:
		if ((p = evil_path_find(ps, m->cell.path_id)) == NULL)
			ps->stray++;
		else
			evil_path_cell(p, m->cell.payload,
			    ONION_CELL_SMALL_BYTES);
		break;
	case LINK_MSG_CELL_LARGE:
		if ((p = evil_path_find(ps, m->cell_large.path_id)) == NULL)
			ps->stray++;
		else
			evil_path_cell(p, m->cell_large.payload,
			    ONION_CELL_LARGE_BYTES);
		break;
	case LINK_MSG_PONG:
		ps->pong = m->pong.cookie;
		break;
	case LINK_MSG_REQUEST:
		evil_answer_queue(ps, m->type, m->request.id, 0);
		break;
	case LINK_MSG_INSERT:
		evil_answer_queue(ps, m->type, m->insert.id, m->insert.htl);
		break;
	case LINK_MSG_BUILD:
		evil_answer_queue(ps, m->type, m->build.path_id, 0);
		break;
	default:
		break;
	}
}

/* The answer to a in r[]: one or two messages (ACCEPTED first); how
 * many. An INSERT held (e->hold_inserts) gets ACCEPTED only, and so
 * stays in flight at the node until its route's lifetime ends. */
static size_t
evil_answer_msgs(const struct evil *e, const struct evil_answer *a,
    struct link_msg r[2])
{
	memset(r, 0, 2 * sizeof(r[0]));
	switch (a->type) {
	case LINK_MSG_PING:
		r[0].type = LINK_MSG_PONG;
		r[0].pong.cookie = a->id;
		return 1;
	case LINK_MSG_BUILD:
		r[0].type = LINK_MSG_BUILD_FAIL;
		r[0].build_fail.id = a->id;
		return 1;
	case LINK_MSG_REQUEST:
		r[1].type = LINK_MSG_DNF;
		r[1].dnf.id = a->id;
		break;
	default:	/* INSERT */
		r[1].type = LINK_MSG_RNF;
		r[1].rnf.id = a->id;
		r[1].rnf.htl = a->htl;
		break;
	}
	r[0].type = LINK_MSG_ACCEPTED;
	r[0].accepted.id = a->id;
	return a->type == LINK_MSG_INSERT && e->hold_inserts ? 1 : 2;
}

/* Sends the queued answers. */
static int
evil_answers_flush(struct evil *e, double deadline)
{
	struct evil_paths *ps = e->paths;
	struct link_msg r[2];
	int rc = EVIL_IO_OK;
	size_t n;

	for (size_t i = 0; i < ps->nans && rc == EVIL_IO_OK; i++) {
		n = evil_answer_msgs(e, &ps->ans[i], r);
		for (size_t j = 0; j < n && rc == EVIL_IO_OK; j++)
			rc = evil_send_msg(e, &r[j], deadline);
	}
	ps->nans = 0;
	return rc;
}

/* Reads what the socket holds now (at most 1024 frames), queueing PONGs
 * for the node's PINGs. */
static int
evil_path_read_ready(struct evil *e)
{
	struct link_msg m;
	int rc = EVIL_IO_OK;

	for (int i = 0; i < 1024 && rc == EVIL_IO_OK; i++) {
		rc = evil_next_msg(e, 0, &m);
		if (rc == EVIL_IO_OK && m.type == LINK_MSG_PING)
			evil_answer_queue(e->paths, m.type, m.ping.cookie, 0);
	}
	return rc == EVIL_IO_TIMEOUT ? EVIL_IO_OK : rc;
}

/* Seals and sends one frame, reading everything the node sends
 * meanwhile (a 33 KiB cell at a time must not make us a peer that does
 * not read), then the queued answers. */
static int
evil_path_send(struct evil *e, uint8_t type, const uint8_t *body, size_t len,
    double deadline)
{
	static uint8_t frame[LINK_FRAME_MAX_BYTES];
	struct pollfd pfd = { .fd = e->fd, .events = POLLIN | POLLOUT };
	size_t n, off = 0;
	ssize_t w;
	int rc;

	e->why_bad = "internal: cannot seal a frame";
	if (link_frame_seal(&e->keys, type, body, len, frame, sizeof(frame),
	    &n) != 0)
		return EVIL_IO_BAD;
	while (off < n) {
		if (evil_now() >= deadline)
			return EVIL_IO_TIMEOUT;
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			return EVIL_IO_CLOSED;
		if ((pfd.revents & (POLLIN | POLLERR | POLLHUP)) &&
		    (rc = evil_path_read_ready(e)) != EVIL_IO_OK)
			return rc;
		if (!(pfd.revents & POLLOUT))
			continue;
		w = send(e->fd, frame + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return EVIL_IO_CLOSED;
		off += w > 0 ? (size_t)w : 0;
	}
	e->last_send = evil_now();
	evil_sent.frames++;
	return evil_answers_flush(e, deadline);
}

static int
evil_path_send_msg(struct evil *e, const struct link_msg *m, double deadline)
{
	static uint8_t body[LINK_MSG_MAX_BYTES];
	size_t n;

	e->why_bad = "internal: cannot encode a message";
	if (link_msg_encode(m, body, sizeof(body), &n) != 0)
		return EVIL_IO_BAD;
	return evil_path_send(e, m->type, body, n, deadline);
}

typedef bool (*evil_cond)(const struct evil *e, const void *arg);

/* Reads (noting, answering) until done(e, arg) or the deadline. */
static int
evil_path_wait(struct evil *e, evil_cond done, const void *arg,
    double deadline)
{
	const uint32_t want = EVIL_BIT(LINK_MSG_BUILT) |
	    EVIL_BIT(LINK_MSG_PONG) | EVIL_BIT(LINK_MSG_REQUEST) |
	    EVIL_BIT(LINK_MSG_INSERT) | EVIL_BIT(LINK_MSG_BUILD);
	struct link_msg m;
	double slice;
	int rc;

	while (!done(e, arg)) {
		if (evil_now() >= deadline)
			return EVIL_IO_TIMEOUT;
		/* BUILD_FAIL and cells (types 32 to 34) are past EVIL_BIT:
		 * short slices. */
		slice = evil_now() + 0.1;
		rc = evil_expect(e, want, slice < deadline ? slice : deadline,
		    &m);
		if (rc == EVIL_IO_OK || rc == EVIL_IO_TIMEOUT)
			rc = evil_answers_flush(e, evil_now() + 5.0);
		if (rc != EVIL_IO_OK)
			return rc;
	}
	return EVIL_IO_OK;
}

static bool
evil_have_onion(const struct evil *e, const void *arg)
{
	(void)arg;
	return e->have_onion;
}

static bool
evil_answered(const struct evil *e, const void *arg)
{
	const struct evil_path *p = arg;

	(void)e;
	return p->state != EVIL_PATH_SENT;
}

static bool
evil_all_answered(const struct evil *e, const void *arg)
{
	(void)arg;
	for (size_t i = 0; i < e->paths->n; i++)
		if (e->paths->p[i].state == EVIL_PATH_SENT)
			return false;
	return true;
}

static bool
evil_not_built(const struct evil *e, const void *arg)
{
	const struct evil_path *p = arg;

	(void)e;
	return p->state != EVIL_PATH_BUILT;
}

/* A cell back on arg's path beyond arg's count, or the path gone. */
struct evil_until {
	const struct evil_path *p;
	unsigned long cells;
};

static bool
evil_cell_back(const struct evil *e, const void *arg)
{
	const struct evil_until *u = arg;

	(void)e;
	return u->p->cells + u->p->bad > u->cells ||
	    u->p->state != EVIL_PATH_BUILT;
}

static bool
evil_ponged(const struct evil *e, const void *arg)
{
	return e->paths->pong == *(const uint64_t *)arg;
}

/* A PING answered within 5 s: the link is up and the node reads it.
 * 0, or -1 with *why. */
static int
evil_path_ping(struct evil *e, double *took, const char **why)
{
	struct link_msg m = { .type = LINK_MSG_PING };
	double t0 = evil_now();
	int rc;

	randombytes_buf(&m.ping.cookie, sizeof(m.ping.cookie));
	m.ping.cookie |= 1;	/* never 0, our keep-alives' cookie */
	rc = evil_path_send_msg(e, &m, t0 + 5.0);
	if (rc == EVIL_IO_OK)
		rc = evil_path_wait(e, evil_ponged, &m.ping.cookie, t0 + 5.0);
	*took = evil_now() - t0;
	*why = rc == EVIL_IO_BAD ? e->why_bad : rc == EVIL_IO_TIMEOUT ?
	    "no PONG within 5 s" : evil_io_str(rc);
	return rc == EVIL_IO_OK ? 0 : -1;
}

/* The link up, greeted, and the node's onion key from its RELAYS. */
static int
evil_path_up(struct evil *e, const char **why)
{
	static struct evil_paths paths;
	int rc;

	memset(&paths, 0, sizeof(paths));
	if (evil_link_up(e, why) != 0)
		return -1;
	e->answer_ping = true;
	e->paths = &paths;
	*why = "cannot send HELLO and PEERS";
	if (evil_greet(e) != 0)
		return -1;
	rc = evil_path_wait(e, evil_have_onion, NULL, evil_now() + 10.0);
	*why = e->relays_bad != NULL ? e->relays_bad : rc == EVIL_IO_TIMEOUT ?
	    "no RELAYS from the node within 10 s of link up" :
	    rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc);
	return rc == EVIL_IO_OK ? 0 : -1;
}

/* A new path of ours (not sent). NULL if the table is full. */
static struct evil_path *
evil_path_new(struct evil *e, bool wrong_side)
{
	struct evil_paths *ps = e->paths;
	struct evil_path *p;

	if (ps->n == EVIL_PATHS_MAX)
		return NULL;
	p = &ps->p[ps->n++];
	memset(p, 0, sizeof(*p));
	p->id = evil_path_id(e, wrong_side);
	p->last_status = -1;
	return p;
}

/* The 1-hop BUILD records with the node (onion_pk) as exit, p's keys and
 * directions. 0 or -1. */
static int
evil_path_make(struct evil_path *p, const uint8_t onion_pk[32],
    uint8_t records[ONION_BUILD_BYTES])
{
	struct onion_build_hop hop = { .instr.flags = ONION_FLAG_EXIT };

	memcpy(hop.onion_pk, onion_pk, ONION_PUBLICKEYBYTES);
	if (onion_build_make(&hop, 1, records, &p->keys) != 0)
		return -1;
	onion_dir_init(&p->fwd, p->keys.k_dig);
	onion_dir_init(&p->back, p->keys.k_dig);
	onion_dir_init(&p->exit_fwd, p->keys.k_dig);
	return 0;
}

static int
evil_build_send(struct evil *e, uint64_t id,
    const uint8_t records[ONION_BUILD_BYTES], double deadline)
{
	struct link_msg m = { .type = LINK_MSG_BUILD };

	m.build.path_id = id;
	m.build.records = records;
	return evil_path_send_msg(e, &m, deadline);
}

/* Builds a path with the node as exit and waits for BUILT; the records
 * sent go to records. 0, or -1 with *why. */
static int
evil_path_open(struct evil *e, struct evil_path **out,
    uint8_t records[ONION_BUILD_BYTES], const char **why)
{
	static char buf[160];
	struct evil_path *p;
	int rc;

	*why = "internal: cannot make a BUILD";
	if ((p = *out = evil_path_new(e, false)) == NULL ||
	    evil_path_make(p, e->onion_pk, records) != 0)
		return -1;
	p->t_sent = evil_now();
	rc = evil_build_send(e, p->id, records, p->t_sent + 5.0);
	if (rc == EVIL_IO_OK)
		rc = evil_path_wait(e, evil_answered, p,
		    p->t_sent + EVIL_BUILD_SECS);
	if (rc == EVIL_IO_OK && p->state == EVIL_PATH_BUILT)
		return 0;
	snprintf(buf, sizeof(buf), "a valid 1-hop BUILD got %s",
	    rc != EVIL_IO_OK ? (rc == EVIL_IO_BAD ? e->why_bad :
	    rc == EVIL_IO_TIMEOUT ? "no answer within 10 s" :
	    evil_io_str(rc)) : "BUILD_FAIL");
	*why = buf;
	return -1;
}

/* Formats and wraps a cell of cmd on p (size: a cell size). */
static int
evil_cell_wrap(struct evil_path *p, uint8_t cmd, uint32_t stream,
    const uint8_t *body, size_t len, uint8_t *payload, size_t size)
{
	if (onion_cell_format(payload, size, cmd, stream, body, len) != 0 ||
	    onion_cell_wrap_fwd(&p->keys, 1, &p->fwd, payload, size) != 0)
		return -1;
	return 0;
}

/* What the exit makes of payload (on a copy): ONION_CELL_RECOGNIZED or
 * ONION_CELL_PASS_ON. With take, the mirror takes the cell in, as the
 * exit will. */
static int
evil_exit_sees(struct evil_path *p, const uint8_t *payload, size_t size,
    bool take)
{
	static uint8_t copy[ONION_CELL_LARGE_BYTES];
	struct onion_dir d = p->exit_fwd;
	int rc;

	memcpy(copy, payload, size);
	rc = onion_cell_peel_fwd(&p->keys, &d, copy, size);
	if (take)
		p->exit_fwd = d;
	sodium_memzero(&d, sizeof(d));
	return rc;
}

static int
evil_cell_send(struct evil *e, uint64_t id, const uint8_t *payload,
    size_t size, double deadline)
{
	struct link_msg m = { .type = LINK_MSG_CELL };

	if (size == ONION_CELL_LARGE_BYTES) {
		m.type = LINK_MSG_CELL_LARGE;
		m.cell_large.path_id = id;
		m.cell_large.payload = payload;
	} else {
		m.cell.path_id = id;
		m.cell.payload = payload;
	}
	return evil_path_send_msg(e, &m, deadline);
}

static const char *
evil_cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case ONION_CMD_REQUEST: return "REQUEST";
	case ONION_CMD_DATA: return "DATA";
	case ONION_CMD_FAIL: return "FAIL";
	case ONION_CMD_INSERT: return "INSERT";
	case ONION_CMD_STORED: return "STORED";
	default: return "an unknown command";
	}
}

/*
 * A REQUEST for a random key (nobody has it) on stream: the exit must
 * answer with a FAIL cell on that stream, one status byte, that opens
 * and parses. 0 with *took, or -1 with *why.
 */
static int
evil_path_request(struct evil *e, struct evil_path *p, uint32_t stream,
    double *took, const char **why)
{
	static uint8_t payload[ONION_CELL_SMALL_BYTES];
	static char buf[200];
	uint8_t rkey[LINK_RKEY_BYTES];
	struct evil_until u = { p, p->cells + p->bad };
	double t0 = evil_now();
	int rc;

	randombytes_buf(rkey, sizeof(rkey));
	*why = "internal: a good REQUEST cell is not recognized by the exit";
	if (evil_cell_wrap(p, ONION_CMD_REQUEST, stream, rkey, sizeof(rkey),
	    payload, sizeof(payload)) != 0 || evil_exit_sees(p, payload,
	    sizeof(payload), true) != ONION_CELL_RECOGNIZED)
		return -1;
	rc = evil_cell_send(e, p->id, payload, sizeof(payload), t0 + 5.0);
	evil_sent.requests += rc == EVIL_IO_OK;
	if (rc == EVIL_IO_OK)
		rc = evil_path_wait(e, evil_cell_back, &u, t0 + EVIL_CELL_SECS);
	*took = evil_now() - t0;
	*why = buf;
	if (rc != EVIL_IO_OK)
		snprintf(buf, sizeof(buf), "REQUEST cell on stream %u: no "
		    "answer within %.0f s: %s", stream, EVIL_CELL_SECS,
		    rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc));
	else if (p->state != EVIL_PATH_BUILT)
		snprintf(buf, sizeof(buf), "BUILD_FAIL for our path after a "
		    "good REQUEST cell");
	else if (p->bad > 0)
		snprintf(buf, sizeof(buf), "the answer to a REQUEST cell does "
		    "not open (onion_cell_open_back) or parse");
	else if (p->last_cmd != ONION_CMD_FAIL || p->last_stream != stream ||
	    p->last_len != 1)
		snprintf(buf, sizeof(buf), "a REQUEST for a key nobody has got "
		    "%s on stream %u with %zu body bytes, not FAIL on stream "
		    "%u with 1", evil_cmd_name(p->last_cmd), p->last_stream,
		    p->last_len, stream);
	else
		return 0;
	return -1;
}

/*
 * Build a path, REQUEST a key nobody has (FAIL back, which opens and
 * parses), send a cell for a path id never built (ignored: no
 * BUILD_FAIL, nothing closed), then REQUEST again on the path: the chain
 * is intact.
 */
static int
evil_path(struct evil *e, const char *arg)
{
	static uint8_t records[ONION_BUILD_BYTES];
	static uint8_t junk[ONION_CELL_SMALL_BYTES];
	struct evil_path *p;
	const char *why;
	double t1, t2, tp;
	int st;

	(void)arg;
	if (evil_path_up(e, &why) != 0 ||
	    evil_path_open(e, &p, records, &why) != 0)
		return evil_verdict(false, "%s", why);
	if (evil_path_request(e, p, 1, &t1, &why) != 0)
		return evil_verdict(false, "%s", why);
	st = p->last_status;
	randombytes_buf(junk, sizeof(junk));
	if (evil_cell_send(e, evil_path_id(e, false), junk, sizeof(junk),
	    evil_now() + 5.0) != EVIL_IO_OK || evil_path_ping(e, &tp,
	    &why) != 0)
		return evil_verdict(false, "after a cell for an unknown path "
		    "id: %s", why);
	if (evil_path_request(e, p, 2, &t2, &why) != 0)
		return evil_verdict(false, "after a cell for an unknown path "
		    "id: %s", why);
	if (e->paths->stray > 0 || e->paths->dup > 0)
		return evil_verdict(false, "%lu BUILT, BUILD_FAIL or cells for "
		    "path ids we never built or answered", e->paths->stray +
		    e->paths->dup);
	return evil_verdict(true, "BUILT in %.2f s; a REQUEST for a key "
	    "nobody has: FAIL (status %d) in %.2f s; a cell for an unknown "
	    "path id ignored; a second REQUEST: FAIL in %.2f s",
	    p->t_answer - p->t_sent, st, t1, t2);
}

/* Sends one BUILD on a new path and waits for its answer: 0 (the state
 * is in the path), or an EVIL_IO error. */
static int
evil_build_once(struct evil *e, struct evil_path *p,
    const uint8_t records[ONION_BUILD_BYTES])
{
	int rc;

	p->t_sent = evil_now();
	rc = evil_build_send(e, p->id, records, p->t_sent + 5.0);
	if (rc == EVIL_IO_OK)
		rc = evil_path_wait(e, evil_answered, p,
		    p->t_sent + EVIL_BUILD_SECS);
	return rc;
}

static const char *
evil_state_str(const struct evil_path *p)
{
	switch (p->state) {
	case EVIL_PATH_SENT: return "no answer";
	case EVIL_PATH_BUILT: return "BUILT";
	default: return "BUILD_FAIL";
	}
}

/*
 * Two BUILDs whose records do not open at the node: made for another
 * onion key, and random bytes. Each must get BUILD_FAIL; the link stays.
 */
static int
evil_buildforged(struct evil *e, const char *arg)
{
	static uint8_t records[ONION_BUILD_BYTES];
	uint8_t other_pk[32], other_sk[32];
	struct evil_path *p1, *p2;
	const char *why;
	double tp;
	int rc;

	(void)arg;
	if (evil_path_up(e, &why) != 0)
		return evil_verdict(false, "%s", why);
	crypto_box_keypair(other_pk, other_sk);
	sodium_memzero(other_sk, sizeof(other_sk));
	if ((p1 = evil_path_new(e, false)) == NULL ||
	    (p2 = evil_path_new(e, false)) == NULL ||
	    evil_path_make(p1, other_pk, records) != 0)
		return evil_verdict(false, "internal: cannot make a BUILD");
	rc = evil_build_once(e, p1, records);
	if (rc == EVIL_IO_OK) {
		randombytes_buf(records, sizeof(records));
		rc = evil_build_once(e, p2, records);
	}
	if (rc != EVIL_IO_OK)
		return evil_verdict(false, "a BUILD that does not open: %s",
		    rc == EVIL_IO_BAD ? e->why_bad : rc == EVIL_IO_TIMEOUT ?
		    "no answer within 10 s" : evil_io_str(rc));
	if (p1->state != EVIL_PATH_REFUSED || p2->state != EVIL_PATH_REFUSED)
		return evil_verdict(false, "records for another onion key got "
		    "%s, random records %s: both must be BUILD_FAIL",
		    evil_state_str(p1), evil_state_str(p2));
	if (evil_path_ping(e, &tp, &why) != 0)
		return evil_verdict(false, "after two BUILD_FAILs: %s", why);
	return evil_verdict(true, "BUILD_FAIL in %.2f s for records made for "
	    "another onion key, in %.2f s for random ones; link up (PONG in "
	    "%.2f s)", p1->t_answer - p1->t_sent, p2->t_answer - p2->t_sent,
	    tp);
}

/*
 * A path built, then its BUILD's records again under a new path id (the
 * same e_i): BUILD_FAIL, the first path untouched, the link up.
 */
static int
evil_buildreplay(struct evil *e, const char *arg)
{
	static uint8_t records[ONION_BUILD_BYTES];
	struct evil_path *p1, *p2;
	const char *why;
	double tp;
	int rc;

	(void)arg;
	if (evil_path_up(e, &why) != 0 ||
	    evil_path_open(e, &p1, records, &why) != 0)
		return evil_verdict(false, "%s", why);
	if ((p2 = evil_path_new(e, false)) == NULL)
		return evil_verdict(false, "internal: no path left");
	rc = evil_build_once(e, p2, records);
	if (rc != EVIL_IO_OK)
		return evil_verdict(false, "a replayed BUILD: %s",
		    rc == EVIL_IO_BAD ? e->why_bad : rc == EVIL_IO_TIMEOUT ?
		    "no answer within 10 s" : evil_io_str(rc));
	if (p2->state != EVIL_PATH_REFUSED)
		return evil_verdict(false, "a BUILD replayed under a new path "
		    "id got BUILT: the replay set let the same e_i in twice");
	if (evil_path_ping(e, &tp, &why) != 0)
		return evil_verdict(false, "after the replay: %s", why);
	if (p1->state != EVIL_PATH_BUILT)
		return evil_verdict(false, "the replay tore down the first "
		    "path");
	return evil_verdict(true, "BUILT, then the same records under a new "
	    "path id: BUILD_FAIL in %.2f s; first path kept, link up",
	    p2->t_answer - p2->t_sent);
}

/* A BUILD of a real path whose body is delta bytes off its size: it
 * fails link_msg_decode(), so the node must close the link. */
static int
evil_build_size(struct evil *e, int delta, const char *what)
{
	static uint8_t records[ONION_BUILD_BYTES], frame[LINK_FRAME1_BYTES];
	static uint8_t body[LINK_BUILD_BYTES + 1];
	struct evil_path *p;
	size_t n, len = (size_t)((int)LINK_BUILD_BYTES + delta);
	const char *why;
	double t0;

	if (evil_path_up(e, &why) != 0)
		return evil_verdict(false, "%s", why);
	if ((p = evil_path_new(e, false)) == NULL ||
	    evil_path_make(p, e->onion_pk, records) != 0)
		return evil_verdict(false, "internal: cannot make a BUILD");
	wire_put_u64(body, p->id);
	memcpy(body + LINK_PATH_ID_BYTES, records, sizeof(records));
	body[LINK_BUILD_BYTES] = 0;
	if (link_frame_seal(&e->keys, LINK_MSG_BUILD, body, len, frame,
	    sizeof(frame), &n) != 0 || !evil_selfcheck(e, frame, n,
	    e->keys.send_ctr - 1, LINK_EFORMAT))
		return evil_verdict(false, "internal: %s decodes", what);
	t0 = evil_now();
	return evil_close(e, t0, EVIL_CLOSE_SECS, evil_send_frame(e, frame, n,
	    t0 + 5.0), what);
}

static int
evil_buildshort(struct evil *e, const char *arg)
{
	(void)arg;
	return evil_build_size(e, -1, "a BUILD body one byte short");
}

static int
evil_buildlong(struct evil *e, const char *arg)
{
	(void)arg;
	return evil_build_size(e, 1, "a BUILD body one byte long");
}

/* A valid BUILD whose path id has the node's bit 63: close. */
static int
evil_buildside(struct evil *e, const char *arg)
{
	static uint8_t records[ONION_BUILD_BYTES];
	struct evil_path *p;
	const char *why;
	double t0;

	(void)arg;
	if (evil_path_up(e, &why) != 0)
		return evil_verdict(false, "%s", why);
	if ((p = evil_path_new(e, true)) == NULL ||
	    evil_path_make(p, e->onion_pk, records) != 0)
		return evil_verdict(false, "internal: cannot make a BUILD");
	t0 = evil_now();
	return evil_close(e, t0, EVIL_CLOSE_SECS, evil_build_send(e, p->id,
	    records, t0 + 5.0), "a BUILD whose path id has the node's side "
	    "of bit 63");
}

/* A path built, then a new valid BUILD under its live path id: close. */
static int
evil_buildreuse(struct evil *e, const char *arg)
{
	static uint8_t records[ONION_BUILD_BYTES];
	static struct evil_path q;
	struct evil_path *p;
	const char *why;
	double t0;
	int rc;

	(void)arg;
	if (evil_path_up(e, &why) != 0 ||
	    evil_path_open(e, &p, records, &why) != 0)
		return evil_verdict(false, "%s", why);
	rc = evil_path_make(&q, e->onion_pk, records);
	sodium_memzero(&q, sizeof(q));
	if (rc != 0)
		return evil_verdict(false, "internal: cannot make a BUILD");
	t0 = evil_now();
	return evil_close(e, t0, EVIL_CLOSE_SECS, evil_build_send(e, p->id,
	    records, t0 + 5.0), "a second BUILD under a live path id");
}

static void
evil_count(const struct evil_paths *ps, unsigned long *built,
    unsigned long *refused, unsigned long *none)
{
	*built = *refused = *none = 0;
	for (size_t i = 0; i < ps->n; i++) {
		*built += ps->p[i].state == EVIL_PATH_BUILT;
		*none += ps->p[i].state == EVIL_PATH_SENT;
		*refused += ps->p[i].state == EVIL_PATH_REFUSED ||
		    ps->p[i].state == EVIL_PATH_DOWN;
	}
}

static bool
evil_never(const struct evil *e, const void *arg)
{
	(void)e;
	(void)arg;
	return false;
}

/* Lets the time until `until` pass on a live link, reading and
 * answering. */
static int
evil_path_pause(struct evil *e, double until)
{
	int rc = evil_path_wait(e, evil_never, NULL, until);

	return rc == EVIL_IO_TIMEOUT ? EVIL_IO_OK : rc;
}

/* A BUILD of a new valid path, its answer awaited: EVIL_IO_OK with the
 * path in *out (BUILT or BUILD_FAIL), or why not. */
static int
evil_build_new(struct evil *e, struct evil_path **out)
{
	static uint8_t records[ONION_BUILD_BYTES];
	int rc;

	e->why_bad = "internal: cannot make a BUILD";
	if ((*out = evil_path_new(e, false)) == NULL ||
	    evil_path_make(*out, e->onion_pk, records) != 0)
		return EVIL_IO_BAD;
	rc = evil_build_once(e, *out, records);
	return rc == EVIL_IO_OK && (*out)->state == EVIL_PATH_SENT ?
	    EVIL_IO_TIMEOUT : rc;
}

/*
 * Up to EVIL_PATH_BOUND paths through us, BUILDs paced under the node's
 * rate bound (halving the pace at each BUILD_FAIL on the way), within
 * 60 s. EVIL_IO_OK with *refused the BUILD_FAILs met, or why not.
 */
static int
evil_build_fill(struct evil *e, double *rate, unsigned long *refused)
{
	unsigned long built, none, r;
	double t0 = evil_now(), next = t0;
	struct evil_path *p;
	int rc = EVIL_IO_OK;

	*refused = 0;
	evil_count(e->paths, &built, &r, &none);
	while (built < EVIL_PATH_BOUND && rc == EVIL_IO_OK &&
	    evil_now() < t0 + 60.0 &&
	    e->paths->n < EVIL_PATHS_MAX - EVIL_BOUND_EXTRA) {
		rc = evil_build_new(e, &p);
		if (rc == EVIL_IO_OK && p->state == EVIL_PATH_BUILT) {
			built++;
		} else if (rc == EVIL_IO_OK) {
			(*refused)++;
			*rate = *rate / 2 < 2 ? 2 : *rate / 2;
		}
		next += 1 / *rate;
		if (rc == EVIL_IO_OK)
			rc = evil_path_pause(e, next);
	}
	return rc;
}

/* EVIL_BOUND_EXTRA BUILDs, 0.5 s apart (no rate bound refuses them):
 * how many got BUILT, or -1 with *why. */
static long
evil_build_past(struct evil *e, const char **why)
{
	struct evil_path *p;
	long built = 0;
	int rc = EVIL_IO_OK;

	for (int i = 0; i < EVIL_BOUND_EXTRA && rc == EVIL_IO_OK; i++) {
		rc = evil_path_pause(e, evil_now() + 0.5);
		if (rc == EVIL_IO_OK)
			rc = evil_build_new(e, &p);
		if (rc == EVIL_IO_OK && p->state == EVIL_PATH_BUILT)
			built++;
	}
	*why = rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc);
	return rc == EVIL_IO_OK ? built : -1;
}

/*
 * ARG (default 300) valid BUILDs on one link at once: every one answered,
 * at most EVIL_PATH_BOUND BUILT (a rate bound may refuse most: the node
 * opens 16 a second from one link after a burst of 64). Then BUILDs
 * paced under that rate until EVIL_PATH_BOUND paths are built through us,
 * and EVIL_BOUND_EXTRA more, 0.5 s apart: BUILD_FAIL each, the bound per
 * peer. The link then still answers a PING.
 */
static int
evil_buildflood(struct evil *e, const char *arg)
{
	static uint8_t records[ONION_BUILD_BYTES];
	long count = arg != NULL ? strtol(arg, NULL, 10) : 300, past;
	unsigned long b1, f1, n1, built, refused, none, paced_refused = 0;
	double t0, t1, tp, rate = EVIL_PACE_RATE;
	struct evil_path *p;
	const char *why;
	int rc = EVIL_IO_OK;

	if (count < 1 || count > EVIL_FLOOD_BUILDS)
		return evil_verdict(false, "ARG: 1 to %d BUILDs",
		    EVIL_FLOOD_BUILDS);
	if (evil_path_up(e, &why) != 0)
		return evil_verdict(false, "%s", why);
	t0 = evil_now();
	for (long i = 0; i < count && rc == EVIL_IO_OK; i++) {
		if ((p = evil_path_new(e, false)) == NULL ||
		    evil_path_make(p, e->onion_pk, records) != 0)
			return evil_verdict(false, "internal: cannot make a "
			    "BUILD");
		p->t_sent = evil_now();
		rc = evil_build_send(e, p->id, records, t0 + 30.0);
	}
	if (rc == EVIL_IO_OK)
		rc = evil_path_wait(e, evil_all_answered, NULL, t0 + 40.0);
	t1 = evil_now() - t0;
	evil_count(e->paths, &b1, &f1, &n1);
	if (rc != EVIL_IO_OK || b1 > EVIL_PATH_BOUND || b1 == 0)
		return evil_verdict(false, "%ld BUILDs at once: BUILT %lu, "
		    "BUILD_FAIL %lu, no answer %lu (want every one answered, "
		    "1 to %d BUILT): %s", count, b1, f1, n1, EVIL_PATH_BOUND,
		    rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc));
	rc = evil_build_fill(e, &rate, &paced_refused);
	evil_count(e->paths, &built, &refused, &none);
	if (rc != EVIL_IO_OK || built != EVIL_PATH_BOUND)
		return evil_verdict(false, "%ld BUILDs at once: BUILT %lu; "
		    "then paced (down to %.0f/s): %lu paths built through us "
		    "in all, not %d: %s", count, b1, rate, built,
		    EVIL_PATH_BOUND, rc == EVIL_IO_OK ? "BUILD_FAIL too soon" :
		    rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc));
	if ((past = evil_build_past(e, &why)) != 0)
		return evil_verdict(false, "%d BUILDs past the bound of %d "
		    "paths per peer, 0.5 s apart: %s", EVIL_BOUND_EXTRA,
		    EVIL_PATH_BOUND, past < 0 ? why : "some got BUILT");
	if (evil_path_ping(e, &tp, &why) != 0)
		return evil_verdict(false, "with %d paths through us: %s",
		    EVIL_PATH_BOUND, why);
	return evil_verdict(e->paths->stray == 0 && e->paths->dup == 0,
	    "%ld BUILDs at once: BUILT %lu, BUILD_FAIL %lu, all answered in "
	    "%.2f s; paced at %.0f/s up to %d paths (BUILD_FAIL on the way "
	    "%lu); %d more 0.5 s apart: BUILD_FAIL each; stray answers %lu; "
	    "link up (PONG in %.2f s)", count, b1, f1, t1, rate,
	    EVIL_PATH_BOUND, paced_refused, EVIL_BOUND_EXTRA,
	    e->paths->stray + e->paths->dup, tp);
}

/* Sends cells (n of them, in the order given) on a built path p and
 * waits EVIL_TEAR_SECS for its BUILD_FAIL; the link must then answer a
 * PING. what says what was wrong with them. */
static int
evil_cells_tear(struct evil *e, struct evil_path *p, uint8_t *const *cells,
    size_t n, const char *what)
{
	const char *why;
	double t0 = evil_now(), tp;
	int rc = EVIL_IO_OK;

	for (size_t i = 0; i < n && rc == EVIL_IO_OK; i++) {
		rc = evil_cell_send(e, p->id, cells[i],
		    ONION_CELL_SMALL_BYTES, t0 + 5.0);
		evil_sent.requests += rc == EVIL_IO_OK; /* REQUEST cells */
	}
	if (rc == EVIL_IO_OK)
		rc = evil_path_wait(e, evil_not_built, p, t0 + EVIL_TEAR_SECS);
	if (rc == EVIL_IO_TIMEOUT)
		return evil_verdict(false, "no BUILD_FAIL within %.0f s of %s "
		    "(%lu cells back)", EVIL_TEAR_SECS, what, p->cells);
	if (rc != EVIL_IO_OK)
		return evil_verdict(false, "after %s: %s", what,
		    rc == EVIL_IO_BAD ? e->why_bad : evil_io_str(rc));
	if (evil_path_ping(e, &tp, &why) != 0)
		return evil_verdict(false, "after %s and BUILD_FAIL: %s", what,
		    why);
	return evil_verdict(p->bad == 0, "BUILD_FAIL %.2f s after %s (%lu "
	    "cells back before it, %lu not opening); link up (PONG in %.2f "
	    "s)", p->t_down - t0, what, p->cells, p->bad, tp);
}

/* A REQUEST cell with one byte flipped after wrapping: the exit's digest
 * does not match, so it must tear the path down. */
static int
evil_cellalter(struct evil *e, const char *arg)
{
	static uint8_t records[ONION_BUILD_BYTES];
	static uint8_t cell[ONION_CELL_SMALL_BYTES];
	uint8_t *cells[1] = { cell }, rkey[LINK_RKEY_BYTES];
	struct evil_path *p;
	const char *why;

	(void)arg;
	if (evil_path_up(e, &why) != 0 ||
	    evil_path_open(e, &p, records, &why) != 0)
		return evil_verdict(false, "%s", why);
	randombytes_buf(rkey, sizeof(rkey));
	if (evil_cell_wrap(p, ONION_CMD_REQUEST, 1, rkey, sizeof(rkey), cell,
	    sizeof(cell)) != 0 || evil_exit_sees(p, cell, sizeof(cell),
	    false) != ONION_CELL_RECOGNIZED)
		return evil_verdict(false, "internal: a good cell is not "
		    "recognized");
	cell[ONION_CELL_HEADER_BYTES + 5] ^= 0x20;	/* a key byte */
	if (evil_exit_sees(p, cell, sizeof(cell), false) !=
	    ONION_CELL_PASS_ON)
		return evil_verdict(false, "internal: the altered cell is "
		    "recognized");
	return evil_cells_tear(e, p, cells, 1, "a cell with one byte altered");
}

/* Two REQUEST cells wrapped in order and sent in the other. */
static int
evil_cellorder(struct evil *e, const char *arg)
{
	static uint8_t records[ONION_BUILD_BYTES];
	static uint8_t c1[ONION_CELL_SMALL_BYTES], c2[ONION_CELL_SMALL_BYTES];
	uint8_t *cells[2] = { c2, c1 }, rkey[LINK_RKEY_BYTES];
	struct evil_path *p;
	const char *why;

	(void)arg;
	if (evil_path_up(e, &why) != 0 ||
	    evil_path_open(e, &p, records, &why) != 0)
		return evil_verdict(false, "%s", why);
	randombytes_buf(rkey, sizeof(rkey));
	if (evil_cell_wrap(p, ONION_CMD_REQUEST, 1, rkey, sizeof(rkey), c1,
	    sizeof(c1)) != 0 || evil_cell_wrap(p, ONION_CMD_REQUEST, 2, rkey,
	    sizeof(rkey), c2, sizeof(c2)) != 0)
		return evil_verdict(false, "internal: cannot wrap");
	if (evil_exit_sees(p, c1, sizeof(c1), false) != ONION_CELL_RECOGNIZED ||
	    evil_exit_sees(p, c2, sizeof(c2), false) != ONION_CELL_PASS_ON)
		return evil_verdict(false, "internal: the second cell first is "
		    "recognized, or the first is not");
	return evil_cells_tear(e, p, cells, 2,
	    "two cells sent in the wrong order");
}

/* One good REQUEST cell sent twice. */
static int
evil_cellreplay(struct evil *e, const char *arg)
{
	static uint8_t records[ONION_BUILD_BYTES];
	static uint8_t cell[ONION_CELL_SMALL_BYTES];
	uint8_t *cells[2] = { cell, cell }, rkey[LINK_RKEY_BYTES];
	struct evil_path *p;
	const char *why;

	(void)arg;
	if (evil_path_up(e, &why) != 0 ||
	    evil_path_open(e, &p, records, &why) != 0)
		return evil_verdict(false, "%s", why);
	randombytes_buf(rkey, sizeof(rkey));
	if (evil_cell_wrap(p, ONION_CMD_REQUEST, 1, rkey, sizeof(rkey), cell,
	    sizeof(cell)) != 0 || evil_exit_sees(p, cell, sizeof(cell),
	    true) != ONION_CELL_RECOGNIZED || evil_exit_sees(p, cell,
	    sizeof(cell), false) != ONION_CELL_PASS_ON)
		return evil_verdict(false, "internal: the replayed cell is "
		    "recognized, or the first is not");
	return evil_cells_tear(e, p, cells, 2, "a good cell sent twice");
}

/* A CELL on a built path whose body is one byte short: it fails
 * link_msg_decode(), so the node must close the link. */
static int
evil_cellshort(struct evil *e, const char *arg)
{
	static uint8_t records[ONION_BUILD_BYTES], frame[LINK_FRAME1_BYTES];
	static uint8_t body[LINK_CELL_BYTES];
	struct evil_path *p;
	const char *why;
	size_t n;
	double t0;

	(void)arg;
	if (evil_path_up(e, &why) != 0 ||
	    evil_path_open(e, &p, records, &why) != 0)
		return evil_verdict(false, "%s", why);
	wire_put_u64(body, p->id);
	randombytes_buf(body + LINK_PATH_ID_BYTES, ONION_CELL_SMALL_BYTES);
	if (link_frame_seal(&e->keys, LINK_MSG_CELL, body, sizeof(body) - 1,
	    frame, sizeof(frame), &n) != 0 || !evil_selfcheck(e, frame, n,
	    e->keys.send_ctr - 1, LINK_EFORMAT))
		return evil_verdict(false, "internal: a short CELL decodes");
	t0 = evil_now();
	return evil_close(e, t0, EVIL_CLOSE_SECS, evil_send_frame(e, frame, n,
	    t0 + 5.0), "a CELL body one byte short");
}

#define EVIL_GRIND_MAX 20000

/*
 * A random block whose routing key is closer to our location than to
 * every other peer the node named in its HELLO: the node's greedy
 * routing sends its INSERT to us first, and we hold it (hold_inserts), so
 * the exit's stream stays in flight however fast the rest of the network
 * is. 0, or -1 if none was found in EVIL_GRIND_MAX tries.
 */
static int
evil_block_near_us(const struct evil *e, uint8_t block[LINK_BLOCK_BYTES])
{
	uint8_t rkey[CHK_KEY_SIZE];
	double us = location_of_identity(e->pk), at, d;
	bool nearest;

	for (int i = 0; i < EVIL_GRIND_MAX; i++) {
		randombytes_buf(block, LINK_BLOCK_BYTES);
		if (chk_block_rkey(block, rkey) != 0)
			return -1;
		at = location_of_rkey(rkey);
		d = location_distance(at, us);
		nearest = true;
		for (size_t j = 0; j < e->node_npeers && nearest; j++)
			nearest = memcmp(e->node_peers[j], e->pk,
			    LINK_PUBLICKEYBYTES) == 0 || location_distance(at,
			    location_of_identity(e->node_peers[j])) > d;
		if (nearest)
			return 0;
	}
	return -1;
}

/* One round of cellflood: a path, EVIL_FLOOD_STREAMS INSERT cells of
 * blocks near us (made first) on as many streams, sent without waiting;
 * the exit must tear the path down (more than 64 streams in flight). */
static int
evil_cellflood_round(struct evil *e, struct evil_path **out, double *took,
    const char **why)
{
	static uint8_t records[ONION_BUILD_BYTES];
	static uint8_t blocks[EVIL_FLOOD_STREAMS][LINK_BLOCK_BYTES];
	static uint8_t cell[ONION_CELL_LARGE_BYTES];
	static char buf[200];
	struct evil_path *p;
	double t0;
	int rc = EVIL_IO_OK;

	*why = "internal: no block near us in 20000 tries";
	for (size_t i = 0; i < EVIL_FLOOD_STREAMS; i++)
		if (evil_block_near_us(e, blocks[i]) != 0)
			return -1;
	if (evil_path_open(e, out, records, why) != 0)
		return -1;
	p = *out;
	t0 = evil_now();
	for (uint32_t s = 1; s <= EVIL_FLOOD_STREAMS && rc == EVIL_IO_OK;
	    s++) {
		*why = "internal: cannot wrap an INSERT cell";
		if (evil_cell_wrap(p, ONION_CMD_INSERT, s, blocks[s - 1],
		    LINK_BLOCK_BYTES, cell, sizeof(cell)) != 0)
			return -1;
		rc = evil_cell_send(e, p->id, cell, sizeof(cell), t0 + 30.0);
		evil_sent.requests += rc == EVIL_IO_OK;
	}
	if (rc == EVIL_IO_OK)
		rc = evil_path_wait(e, evil_not_built, p, t0 + 30.0);
	*took = evil_now() - t0;
	*why = buf;
	if (rc == EVIL_IO_TIMEOUT)
		snprintf(buf, sizeof(buf), "%d INSERT cells on one path: no "
		    "BUILD_FAIL within 30 s (cells back: STORED %lu, FAIL %lu, "
		    "other %lu, not opening %lu)", EVIL_FLOOD_STREAMS,
		    p->cmds[ONION_CMD_STORED], p->cmds[ONION_CMD_FAIL],
		    p->cells - p->cmds[ONION_CMD_STORED] -
		    p->cmds[ONION_CMD_FAIL], p->bad);
	else if (rc != EVIL_IO_OK)
		snprintf(buf, sizeof(buf), "during %d INSERT cells on one "
		    "path: %s", EVIL_FLOOD_STREAMS, rc == EVIL_IO_BAD ?
		    e->why_bad : evil_io_str(rc));
	else if (p->bad > 0)
		snprintf(buf, sizeof(buf), "%lu cells back on the flooded path "
		    "do not open or parse", p->bad);
	else
		return 0;
	return -1;
}

/*
 * ARG rounds (default 3) of cellflood_round on one link; the link must
 * then still answer a PING. hostile.sh checks the node's peak RSS.
 */
static int
evil_cellflood(struct evil *e, const char *arg)
{
	long rounds = arg != NULL ? strtol(arg, NULL, 10) : 3;
	unsigned long stored = 0, failed = 0, late = 0;
	double took, worst = 0, tp;
	struct evil_path *p;
	const char *why;

	if (rounds < 1 || rounds > EVIL_FLOOD_ROUNDS)
		return evil_verdict(false, "ARG: 1 to %d rounds",
		    EVIL_FLOOD_ROUNDS);
	if (evil_path_up(e, &why) != 0)
		return evil_verdict(false, "%s", why);
	e->hold_inserts = true;
	for (long r = 0; r < rounds; r++) {
		if (evil_cellflood_round(e, &p, &took, &why) != 0)
			return evil_verdict(false, "round %ld: %s", r + 1, why);
		stored += p->cmds[ONION_CMD_STORED];
		failed += p->cmds[ONION_CMD_FAIL];
		worst = took > worst ? took : worst;
	}
	if (evil_path_ping(e, &tp, &why) != 0)
		return evil_verdict(false, "after the floods: %s", why);
	for (size_t i = 0; i < e->paths->n; i++)
		late += e->paths->p[i].late;
	return evil_verdict(true, "%ld paths of %d INSERT cells each: each "
	    "torn down (BUILD_FAIL within %.2f s of its first cell); before "
	    "that STORED %lu, FAIL %lu; cells after BUILD_FAIL %lu; INSERTs "
	    "the node routed to us (held) %lu; link up (PONG in %.2f s)",
	    rounds, EVIL_FLOOD_STREAMS, worst, stored, failed, late,
	    e->got[LINK_MSG_INSERT], tp);
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
	{ "liar", evil_liar },
	{ "probeflood", evil_probeflood },
	{ "swarm", evil_swarm },
	{ "slowread", evil_slowread },
	{ "probe", evil_probe },
	{ "poison", evil_poison },
	{ "path", evil_path },
	{ "buildforged", evil_buildforged },
	{ "buildreplay", evil_buildreplay },
	{ "buildshort", evil_buildshort },
	{ "buildlong", evil_buildlong },
	{ "buildside", evil_buildside },
	{ "buildreuse", evil_buildreuse },
	{ "buildflood", evil_buildflood },
	{ "cellalter", evil_cellalter },
	{ "cellorder", evil_cellorder },
	{ "cellreplay", evil_cellreplay },
	{ "cellshort", evil_cellshort },
	{ "cellflood", evil_cellflood },
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
	printf("# sent: frames %lu requests %lu connections %lu\n",
	    evil_sent.frames, evil_sent.requests, evil_sent.conns);
	fflush(stdout);
	if (ev.fd >= 0)
		close(ev.fd);
	link_keys_wipe(&ev.keys);
	sodium_memzero(ev.sk, sizeof(ev.sk));
	if (ev.paths != NULL)
		sodium_memzero(ev.paths, sizeof(*ev.paths));
	return rc;
}
