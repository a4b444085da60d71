/*
 * test_route.c - unit tests for routing/route.[ch]: each scenario drives an
 * engine with a scripted clock and checks the exact actions; then a small
 * in-process network of 1000 engines (Kleinberg links, FOAF, a FIFO of
 * messages) checks that requests find keys held by the closest node, and
 * one of 100 densely linked engines (as `make bignet` runs) that blocks
 * inserted there are still found after 30% of the nodes died.
 */
#include "routing/route.h"
#include "routing/location.h"
#include "tests/tap.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTN 64

static struct route_action out[OUTN];
static uint8_t rkey[32];
static double kl;	/* location of rkey */

/* A location `off` away from the key, on the circle. */
static double
at(double off)
{
	double x = fmod(kl + off + 2.0, 1.0);

	return x >= 1.0 ? 0.0 : x;
}

static void
key_make(unsigned seed, uint8_t k[32])
{
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(seed * 131u + (unsigned)i * 7u + 1u);
}

/* True when action a is exactly this. */
static int
is(const struct route_action *a, enum route_what what, route_peer_t peer,
    enum route_msg msg, uint64_t id, int htl)
{
	if (a->what != what || a->id != id)
		return 0;
	if (what == ROUTE_SEND && (a->peer != peer || a->msg != msg))
		return 0;
	if (what == ROUTE_SEND && htl >= 0 && a->htl != htl)
		return 0;
	if (what == ROUTE_SEND && msg == ROUTE_MSG_REQUEST &&
	    memcmp(a->rkey, rkey, 32) != 0)
		return 0;
	return 1;
}

/* True when action a is SEND ACCEPTED for id to peer. */
static int
is_acc(const struct route_action *a, route_peer_t peer, uint64_t id)
{
	return is(a, ROUTE_SEND, peer, ROUTE_MSG_ACCEPTED, id, -1);
}

static int
is_done(const struct route_action *a, uint64_t id, int status)
{
	return a->what == ROUTE_DONE && a->id == id && a->status == status;
}

static int
is_keep(const struct route_action *a, uint64_t id, bool deep)
{
	return a->what == ROUTE_KEEP && a->id == id && a->deep == deep &&
	    memcmp(a->rkey, rkey, 32) == 0;
}

/* An engine at `me` off the key with peers 1..4 at +0.1, -0.05, +0.2,
 * +0.25 (so greedy order is 2, 1, 3, 4), all with the given coins. */
static struct route *
engine_make(double me, bool dmax, bool dmin)
{
	static const double offs[] = { 0.1, -0.05, 0.2, 0.25 };
	struct route *r;

	if (route_new(&r, at(me)) != 0)
		return NULL;
	for (int i = 0; i < 4; i++)
		route_peer_add(r, (route_peer_t)(i + 1), at(offs[i]), dmax,
		    dmin);
	return r;
}

static void
test_args(void)
{
	struct route *r;
	double many[ROUTE_FOAF_MAX + 1] = { 0 };

	TAP_OK(route_new(&r, 1.0) == ROUTE_EINVAL && r == NULL,
	    "route_new rejects location 1.0");
	TAP_OK(route_new(&r, NAN) == ROUTE_EINVAL, "route_new rejects NaN");
	route_free(NULL);
	r = engine_make(0.3, true, true);
	TAP_OK(route_peer_add(r, ROUTE_LOCAL, 0.5, 0, 0) == ROUTE_EINVAL,
	    "peer handle 0 refused");
	TAP_OK(route_peer_add(r, 2, 0.5, 0, 0) == ROUTE_EEXIST,
	    "duplicate peer refused");
	TAP_OK(route_peer_add(r, 9, -0.1, 0, 0) == ROUTE_EINVAL,
	    "bad peer location refused");
	TAP_OK(route_peer_foaf(r, 9, many, 1) == ROUTE_ENOENT,
	    "foaf of unknown peer");
	TAP_OK(route_peer_foaf(r, 1, many, ROUTE_FOAF_MAX + 1) == ROUTE_EINVAL,
	    "foaf longer than 32 refused");
	TAP_OK(route_request(r, 0, ROUTE_LOCAL, 1, rkey, 0, out, 1) == 0 &&
	    route_table_count(r) == 0, "max < ROUTE_ACTIONS_MAX does nothing");
	TAP_OK(route_insert(r, 0, 1, 1, rkey, 5, out, ROUTE_ACTIONS_MAX - 1) ==
	    0 && route_table_count(r) == 0,
	    "max ROUTE_ACTIONS_MAX - 1 does nothing either");
	TAP_OK(route_reply(r, 0, 1, 999, ROUTE_MSG_ACCEPTED, 0, out, OUTN) ==
	    0, "ACCEPTED for unknown id dropped");
	TAP_OK(route_request(r, 0, 77, 1, rkey, 5, out, OUTN) == 0,
	    "request from unknown peer dropped");
	TAP_OK(route_reply(r, 0, 1, 999, ROUTE_MSG_DATA, 0, out, OUTN) == 0,
	    "reply for unknown id dropped");
	TAP_OK(route_next_wake(r) == INFINITY, "idle engine never wakes");
	route_free(r);
}

static void
test_greedy(void)
{
	struct route *r = engine_make(0.3, true, true);
	double foaf[] = { at(0.01), at(0.3) };
	size_t n;

	n = route_request(r, 100, ROUTE_LOCAL, 1, rkey, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 1, 18),
	    "local request goes to the closest peer at htl 18");
	TAP_OK(route_next_wake(r) == 100 + ROUTE_ACCEPT_TIMEOUT,
	    "wakes at the ACCEPTED deadline");
	/* Peer 4 is far, but one of its peers is closest of all. Our own
	 * location in its list is ignored. */
	TAP_OK(route_peer_foaf(r, 4, foaf, 2) == 0, "foaf set");
	n = route_request(r, 100, ROUTE_LOCAL, 2, rkey, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 4, ROUTE_MSG_REQUEST, 2, 18),
	    "FOAF location makes a far peer the best");
	/* From peer 1 at htl 2: forwarded at 1, where FOAF no longer counts. */
	n = route_request(r, 100, 1, 3, rkey, 2, out, OUTN);
	TAP_OK(n == 2 && is_acc(&out[0], 1, 3) &&
	    is(&out[1], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 3, 1),
	    "FOAF ignored when forwarding at htl 1");
	/* From peer 4 (whose FOAF is best): never back to the sender. */
	n = route_request(r, 100, 4, 4, rkey, 10, out, OUTN);
	TAP_OK(n == 2 && is_acc(&out[0], 4, 4) &&
	    is(&out[1], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 4, 9),
	    "not back to the sender; htl 10 -> 9");
	n = route_request(r, 100, 2, 5, rkey, 10, out, OUTN);
	TAP_OK(n == 2 && is_acc(&out[0], 2, 5) &&
	    is(&out[1], ROUTE_SEND, 4, ROUTE_MSG_REQUEST, 5, 9),
	    "closest peer as sender is skipped");
	route_free(r);
}

static void
test_backtrack(void)
{
	struct route *r = engine_make(0.3, true, true);
	size_t n;

	route_request(r, 0, ROUTE_LOCAL, 1, rkey, 0, out, OUTN);
	n = route_reply(r, 1, 1, 1, ROUTE_MSG_RNF, 15, out, OUTN);
	TAP_OK(n == 0, "RNF from a peer not asked is ignored");
	n = route_reply(r, 1, 2, 1, ROUTE_MSG_RNF, 15, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 1, 15),
	    "RNF: next best peer with the htl returned");
	n = route_reply(r, 1, 1, 1, ROUTE_MSG_RNF, 17, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 3, ROUTE_MSG_REQUEST, 1, 15),
	    "RNF cannot raise the htl");
	n = route_reply(r, 1, 3, 1, ROUTE_MSG_LOOP, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 4, ROUTE_MSG_REQUEST, 1, 15),
	    "LOOP: next best peer, same htl");
	n = route_reply(r, 1, 4, 1, ROUTE_MSG_RNF, 9, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 1, ROUTE_STATUS_RNF) &&
	    out[0].msg == ROUTE_MSG_REQUEST,
	    "no peer left: local request DONE RNF");
	n = route_reply(r, 1, 4, 1, ROUTE_MSG_DATA, 0, out, OUTN);
	TAP_OK(n == 0, "reply after the end is ignored");

	/* A relay: RNF upstream with the htl left. */
	route_request(r, 2, 1, 2, rkey, 12, out, OUTN);	/* -> 2 at 11 */
	route_reply(r, 2, 2, 2, ROUTE_MSG_RNF, 8, out, OUTN);	/* -> 3 */
	route_reply(r, 2, 3, 2, ROUTE_MSG_LOOP, 0, out, OUTN);	/* -> 4 */
	n = route_reply(r, 2, 4, 2, ROUTE_MSG_RNF, 7, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_RNF, 2, 7),
	    "no peer left: relay sends RNF upstream with htl left");
	/* RNF with htl 0 is the end of the road: DNF. */
	route_request(r, 3, 1, 3, rkey, 12, out, OUTN);
	n = route_reply(r, 3, 2, 3, ROUTE_MSG_RNF, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_DNF, 3, -1),
	    "RNF with htl 0 becomes DNF upstream");
	/* DNF is terminal. */
	route_request(r, 3, 1, 4, rkey, 12, out, OUTN);
	n = route_reply(r, 3, 2, 4, ROUTE_MSG_DNF, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_DNF, 4, -1),
	    "DNF goes upstream, no backtracking");
	route_request(r, 3, ROUTE_LOCAL, 5, rkey, 0, out, OUTN);
	n = route_reply(r, 3, 2, 5, ROUTE_MSG_DNF, 0, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 5, ROUTE_STATUS_DNF),
	    "DNF ends a local request");
	route_free(r);
}

static void
test_htl(void)
{
	static const struct { bool dmax, dmin; int in, fwd; const char *what; }
	c[] = {
		{ true, false, 18, 17, "htl 18, coin yes: 17" },
		{ false, false, 18, 18, "htl 18, coin no: stays 18" },
		{ false, true, 25, 18, "htl 25 clamps to 18, coin no: 18" },
		{ false, true, 1, 0, "htl 1, coin yes: DNF" },
		{ true, false, 1, 1, "htl 1, coin no: stays 1" },
		{ false, false, 7, 6, "htl 7: 6 whatever the coins" },
		{ true, true, 0, 0, "htl 0 from a peer: DNF" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct route *r = engine_make(0.3, c[i].dmax, c[i].dmin);
		size_t n = route_request(r, 0, 1, 50 + i, rkey,
		    (uint8_t)c[i].in, out, OUTN);

		if (c[i].fwd == 0)
			TAP_OK(n == 2 && is_acc(&out[0], 1, 50 + i) &&
			    is(&out[1], ROUTE_SEND, 1,
			    ROUTE_MSG_DNF, 50 + i, -1), "%s", c[i].what);
		else
			TAP_OK(n == 2 && is_acc(&out[0], 1, 50 + i) &&
			    is(&out[1], ROUTE_SEND, 2,
			    ROUTE_MSG_REQUEST, 50 + i, c[i].fwd), "%s",
			    c[i].what);
		route_free(r);
	}
	/* Coins are per sender: peer 1 decrements at 18, peer 3 does not. */
	{
		struct route *r;

		route_new(&r, at(0.3));
		route_peer_add(r, 1, at(0.1), true, false);
		route_peer_add(r, 2, at(-0.05), false, false);
		route_peer_add(r, 3, at(0.2), false, true);
		route_request(r, 0, 1, 1, rkey, 18, out, OUTN);
		TAP_OK(is(&out[1], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 1, 17),
		    "coin of sender 1 (decrement at 18)");
		route_request(r, 0, 3, 2, rkey, 18, out, OUTN);
		TAP_OK(is(&out[1], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 2, 18),
		    "coin of sender 3 (keep 18)");
		route_request(r, 0, 1, 3, rkey, 1, out, OUTN);
		TAP_OK(is(&out[1], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 3, 1),
		    "coin of sender 1 (keep 1)");
		route_request(r, 0, 3, 4, rkey, 1, out, OUTN);
		TAP_OK(is(&out[1], ROUTE_SEND, 3, ROUTE_MSG_DNF, 4, -1),
		    "coin of sender 3 (decrement at 1: DNF)");
		route_free(r);
	}
}

static void
test_loop(void)
{
	struct route *r = engine_make(0.3, true, true);
	size_t n;

	n = route_request(r, 0, 1, 7, rkey, 10, out, OUTN);
	TAP_OK(n == 2 && is_acc(&out[0], 1, 7) &&
	    is(&out[1], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 7, 9),
	    "new request from a peer: ACCEPTED to it first, then forward");
	n = route_request(r, 1, 3, 7, rkey, 9, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 3, ROUTE_MSG_LOOP, 7, -1),
	    "repeated id: LOOP to its sender, no ACCEPTED");
	n = route_insert(r, 1, 4, 7, rkey, 9, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 4, ROUTE_MSG_LOOP, 7, -1),
	    "repeated id as insert: LOOP, no ACCEPTED");
	n = route_request(r, 1, ROUTE_LOCAL, 7, rkey, 0, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 7, ROUTE_STATUS_REFUSED),
	    "local request with an id in the table: REFUSED");
	/* Ended ids stay until their lifetime is over. */
	route_reply(r, 2, 2, 7, ROUTE_MSG_DNF, 0, out, OUTN);
	n = route_request(r, 59, 2, 7, rkey, 9, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 2, ROUTE_MSG_LOOP, 7, -1),
	    "ended id still answers LOOP within its lifetime");
	TAP_OK(route_next_wake(r) == ROUTE_LIFETIME, "wakes at the lifetime");
	n = route_tick(r, 60, out, OUTN);
	TAP_OK(n == 0 && route_table_count(r) == 0,
	    "lifetime over: dropped silently");
	n = route_request(r, 61, 2, 7, rkey, 9, out, OUTN);
	TAP_OK(n == 2 && is_acc(&out[0], 2, 7) &&
	    is(&out[1], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 7, 8),
	    "after the lifetime the id is new again");
	route_free(r);
}

static void
test_timeout(void)
{
	struct route *r = engine_make(0.3, true, true);
	size_t n;

	route_request(r, 100, ROUTE_LOCAL, 1, rkey, 0, out, OUTN);
	route_reply(r, 101, 2, 1, ROUTE_MSG_RNF, 16, out, OUTN); /* -> 1 */
	TAP_OK(route_next_wake(r) == 101 + ROUTE_ACCEPT_TIMEOUT,
	    "ACCEPTED deadline restarts per hop");
	n = route_tick(r, 105.9, out, OUTN);
	TAP_OK(n == 0, "nothing before the ACCEPTED deadline");
	n = route_tick(r, 106, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 3, ROUTE_MSG_REQUEST, 1, 16),
	    "no ACCEPTED in time: next peer, htl kept");
	n = route_reply(r, 107, 1, 1, ROUTE_MSG_ACCEPTED, 0, out, OUTN);
	TAP_OK(n == 0 && route_next_wake(r) == 111,
	    "late ACCEPTED from a timed-out peer ignored");
	n = route_reply(r, 107, 4, 1, ROUTE_MSG_ACCEPTED, 0, out, OUTN);
	TAP_OK(n == 0 && route_next_wake(r) == 111,
	    "ACCEPTED from a peer not asked ignored");
	n = route_reply(r, 112, 1, 1, ROUTE_MSG_RNF, 5, out, OUTN);
	TAP_OK(n == 0, "RNF from a timed-out peer ignored");
	n = route_reply(r, 112, 1, 1, ROUTE_MSG_DATA, 0, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 1, ROUTE_STATUS_FOUND),
	    "late DATA from a timed-out peer still counts");
	n = route_reply(r, 112, 3, 1, ROUTE_MSG_ACCEPTED, 0, out, OUTN);
	TAP_OK(n == 0, "ACCEPTED for an ended id ignored");
	route_free(r);

	/* Relay, all peers silent: RNF upstream after the last timeout. */
	r = engine_make(0.3, true, true);
	route_request(r, 0, 4, 2, rkey, 10, out, OUTN);
	route_tick(r, 5, out, OUTN);
	route_tick(r, 10, out, OUTN);
	n = route_tick(r, 15, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 4, ROUTE_MSG_RNF, 2, 9),
	    "relay: no hop said ACCEPTED, RNF upstream");
	route_free(r);

	/* An accepted hop is waited on until the lifetime, then RNF after
	 * ACCEPTED moves on with a fresh ACCEPTED deadline. */
	r = engine_make(0.3, true, true);
	route_request(r, 0, ROUTE_LOCAL, 3, rkey, 0, out, OUTN);	/* -> 2 */
	n = route_reply(r, 1, 2, 3, ROUTE_MSG_ACCEPTED, 0, out, OUTN);
	TAP_OK(n == 0 && route_next_wake(r) == ROUTE_LIFETIME,
	    "ACCEPTED: the hop is waited on until the lifetime");
	n = route_reply(r, 2, 2, 3, ROUTE_MSG_ACCEPTED, 0, out, OUTN);
	TAP_OK(n == 0 && route_next_wake(r) == ROUTE_LIFETIME,
	    "a repeated ACCEPTED changes nothing");
	n = route_tick(r, 30, out, OUTN);
	TAP_OK(n == 0, "accepted hop: no timeout after the ACCEPTED deadline");
	n = route_reply(r, 40, 2, 3, ROUTE_MSG_RNF, 12, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 3, 12) &&
	    route_next_wake(r) == 40 + ROUTE_ACCEPT_TIMEOUT,
	    "RNF after ACCEPTED: next peer, ACCEPTED deadline again");
	n = route_tick(r, 45, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 3, ROUTE_MSG_REQUEST, 3, 12),
	    "the next hop's ACCEPTED is not inherited");
	route_free(r);

	/* Accepted, then the peer goes: next peer at once. */
	r = engine_make(0.3, true, true);
	route_request(r, 0, 4, 4, rkey, 10, out, OUTN);	/* -> 2 */
	route_reply(r, 1, 2, 4, ROUTE_MSG_ACCEPTED, 0, out, OUTN);
	n = route_peer_remove(r, 20, 2, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 4, 9),
	    "accepted hop removed: next peer");
	route_free(r);
}

static void
test_accepted_sent(void)
{
	struct route *r = engine_make(0.3, true, true);
	size_t n;

	n = route_request(r, 0, 3, 1, rkey, 10, out, OUTN);
	TAP_OK(n == 2 && is_acc(&out[0], 3, 1) &&
	    is(&out[1], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 1, 9),
	    "new request: ACCEPTED to the sender, then REQUEST");
	n = route_insert(r, 0, 3, 2, rkey, 10, out, OUTN);
	TAP_OK(n == 3 && is_acc(&out[0], 3, 2) && is_keep(&out[1], 2, false) &&
	    is(&out[2], ROUTE_SEND, 2, ROUTE_MSG_INSERT, 2, 9),
	    "new insert: ACCEPTED to the sender, KEEP, then INSERT");
	n = route_request(r, 0, 4, 1, rkey, 9, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 4, ROUTE_MSG_LOOP, 1, -1),
	    "LOOP: no ACCEPTED");
	n = route_insert(r, 0, 4, 2, rkey, 9, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 4, ROUTE_MSG_LOOP, 2, -1),
	    "insert LOOP: no ACCEPTED");
	n = route_request(r, 0, ROUTE_LOCAL, 3, rkey, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 3, 18),
	    "local request: no ACCEPTED");
	/* Ends at once (htl 0): still ACCEPTED first, then DNF. */
	n = route_request(r, 0, 3, 4, rkey, 0, out, OUTN);
	TAP_OK(n == 2 && is_acc(&out[0], 3, 4) &&
	    is(&out[1], ROUTE_SEND, 3, ROUTE_MSG_DNF, 4, -1),
	    "taken and ended at once: ACCEPTED, then DNF");
	route_free(r);
}

static void
test_lifetime(void)
{
	struct route *r;
	size_t n, sends = 0;

	/* Eight peers, the first five silent: ACCEPTED timeouts at 5..25,
	 * then the sixth accepts and is waited on until the lifetime ends
	 * the request at 60. */
	route_new(&r, at(0.4));
	for (int i = 1; i <= 8; i++)
		route_peer_add(r, (route_peer_t)i, at(0.01 * i), true, true);
	route_request(r, 0, ROUTE_LOCAL, 9, rkey, 0, out, OUTN);
	for (int t = 5; t <= 25; t += 5)
		sends += route_tick(r, t, out, OUTN);
	TAP_OK(sends == 5 && is(&out[0], ROUTE_SEND, 6, ROUTE_MSG_REQUEST, 9,
	    18), "five ACCEPTED timeouts, five next peers");
	n = route_reply(r, 26, 6, 9, ROUTE_MSG_ACCEPTED, 0, out, OUTN);
	TAP_OK(n == 0 && route_next_wake(r) == ROUTE_LIFETIME,
	    "sixth peer accepts: next wake is the lifetime");
	n = route_tick(r, 59.9, out, OUTN);
	TAP_OK(n == 0, "accepted: no timeout before the lifetime");
	n = route_tick(r, 60, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 9, ROUTE_STATUS_TIMEOUT) &&
	    route_table_count(r) == 0, "local request at its lifetime: DONE TIMEOUT");
	TAP_OK(route_next_wake(r) == INFINITY, "nothing left to wake for");
	route_free(r);
}

static void
test_remove(void)
{
	struct route *r = engine_make(0.3, true, true);
	size_t n;

	route_request(r, 0, ROUTE_LOCAL, 1, rkey, 0, out, OUTN);	/* -> 2 */
	route_request(r, 0, 3, 2, rkey, 10, out, OUTN);	/* -> 2 */
	n = route_peer_remove(r, 5, 2, out, OUTN);
	TAP_OK(n == 2 && ((is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 1, 18)
	    && is(&out[1], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 2, 9)) ||
	    (is(&out[1], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 1, 18) &&
	    is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 2, 9))),
	    "peer removed mid-request: both ids move to the next peer");
	TAP_OK(route_next_wake(r) == 5 + ROUTE_ACCEPT_TIMEOUT,
	    "new ACCEPTED deadline after removal");
	TAP_OK(route_peer_remove(r, 5, 2, out, OUTN) == 0,
	    "removing an unknown peer does nothing");
	n = route_reply(r, 6, 2, 1, ROUTE_MSG_DATA, 0, out, OUTN);
	TAP_OK(n == 0, "reply from a removed peer ignored");
	/* The sender of id 2 goes: its answer goes nowhere, but is cached. */
	route_peer_remove(r, 6, 3, out, OUTN);
	n = route_reply(r, 7, 1, 2, ROUTE_MSG_DATA, 0, out, OUTN);
	TAP_OK(n == 1 && is_keep(&out[0], 2, false),
	    "sender gone: DATA kept, nothing sent");
	/* A re-added peer is a new peer: it may be tried again. */
	route_peer_add(r, 2, at(-0.05), true, true);
	route_request(r, 8, ROUTE_LOCAL, 3, rkey, 0, out, OUTN);
	TAP_OK(is(&out[0], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 3, 18),
	    "re-added peer is used again");
	route_free(r);
}

static void
test_cache(void)
{
	struct route *r = engine_make(0.3, true, true);
	size_t n;

	route_request(r, 0, 1, 1, rkey, 10, out, OUTN);	/* -> 2 */
	n = route_reply(r, 1, 3, 1, ROUTE_MSG_DATA, 0, out, OUTN);
	TAP_OK(n == 0, "DATA from a peer never asked is ignored");
	n = route_reply(r, 1, 2, 1, ROUTE_MSG_DATA, 0, out, OUTN);
	TAP_OK(n == 2 && is_keep(&out[0], 1, false) &&
	    out[0].msg == ROUTE_MSG_DATA &&
	    is(&out[1], ROUTE_SEND, 1, ROUTE_MSG_DATA, 1, -1),
	    "relay: DATA cached (KEEP cache) and sent upstream");
	route_request(r, 0, ROUTE_LOCAL, 2, rkey, 0, out, OUTN);
	n = route_reply(r, 1, 2, 2, ROUTE_MSG_DATA, 0, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 2, ROUTE_STATUS_FOUND) &&
	    out[0].msg == ROUTE_MSG_REQUEST,
	    "local: DONE FOUND, own traffic not cached");
	route_free(r);
}

static void
test_insert(void)
{
	struct route *r;
	size_t n;

	/* Sink: we are closer to the key than every peer. */
	r = engine_make(0.01, true, true);
	n = route_insert(r, 0, 1, 1, rkey, 10, out, OUTN);
	TAP_OK(n == 3 && is_acc(&out[0], 1, 1) && is_keep(&out[1], 1, true) &&
	    out[1].msg == ROUTE_MSG_INSERT &&
	    is(&out[2], ROUTE_SEND, 2, ROUTE_MSG_INSERT, 1, 9),
	    "sink: ACCEPTED, KEEP deep, then forward");
	n = route_reply(r, 1, 2, 1, ROUTE_MSG_INSERT_OK, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_INSERT_OK, 1, -1),
	    "INSERT_OK goes upstream");
	route_free(r);

	/* Not the sink: cache. Refusal (RNF) and LOOP move it on. */
	r = engine_make(0.3, true, true);
	n = route_insert(r, 0, 1, 2, rkey, 10, out, OUTN);
	TAP_OK(n == 3 && is_acc(&out[0], 1, 2) && is_keep(&out[1], 2, false) &&
	    is(&out[2], ROUTE_SEND, 2, ROUTE_MSG_INSERT, 2, 9),
	    "not the sink: ACCEPTED, KEEP cache, then forward");
	n = route_reply(r, 1, 2, 2, ROUTE_MSG_RNF, 9, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 3, ROUTE_MSG_INSERT, 2, 9),
	    "insert refused (RNF): next peer");
	n = route_reply(r, 1, 3, 2, ROUTE_MSG_LOOP, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 4, ROUTE_MSG_INSERT, 2, 9),
	    "insert LOOP: next peer");
	n = route_tick(r, 11, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_INSERT_OK, 2, -1),
	    "insert: no peer left ends it, INSERT_OK upstream");
	/* HTL runs out here. */
	n = route_insert(r, 20, 1, 3, rkey, 1, out, OUTN);
	TAP_OK(n == 3 && is_acc(&out[0], 1, 3) && is_keep(&out[1], 3, false) &&
	    is(&out[2], ROUTE_SEND, 1, ROUTE_MSG_INSERT_OK, 3, -1),
	    "insert at htl 0: ACCEPTED, KEEP, INSERT_OK upstream");
	/* Local insert: no KEEP; DONE STORED. */
	n = route_insert(r, 20, ROUTE_LOCAL, 4, rkey, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 2, ROUTE_MSG_INSERT, 4, 18),
	    "local insert: forward at 18, no KEEP");
	n = route_reply(r, 21, 2, 4, ROUTE_MSG_DATA, 0, out, OUTN);
	TAP_OK(n == 0, "DATA for an insert ignored");
	n = route_reply(r, 21, 2, 4, ROUTE_MSG_INSERT_OK, 0, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 4, ROUTE_STATUS_STORED) &&
	    out[0].msg == ROUTE_MSG_INSERT, "local insert: DONE STORED");
	route_free(r);

	/* Sink with the sender as the only (farther) peer. */
	route_new(&r, at(0.001));
	route_peer_add(r, 5, at(0.2), true, true);
	n = route_insert(r, 0, 5, 5, rkey, 10, out, OUTN);
	TAP_OK(n == 3 && is_acc(&out[0], 5, 5) && is_keep(&out[1], 5, true) &&
	    is(&out[2], ROUTE_SEND, 5, ROUTE_MSG_INSERT_OK, 5, -1),
	    "lone sink: ACCEPTED, KEEP deep, INSERT_OK back");
	n = route_insert(r, 0, ROUTE_LOCAL, 6, rkey, 0, out, OUTN);
	n = route_reply(r, 1, 5, 6, ROUTE_MSG_RNF, 18, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 6, ROUTE_STATUS_RNF),
	    "local insert nobody took: DONE RNF");
	route_free(r);
}

static void
test_bound(void)
{
	struct route *r = engine_make(0.3, true, true);
	size_t n, ok = 0, rounds = 0;
	uint8_t k[32];

	/* Local ids: no peer's share applies, so they can fill it all. */
	for (uint64_t id = 1; id <= ROUTE_TABLE_MAX; id++) {
		n = route_request(r, 0, ROUTE_LOCAL, id, rkey, 0, out, OUTN);
		ok += n == 1 && is(&out[0], ROUTE_SEND, 2, ROUTE_MSG_REQUEST,
		    id, -1);
	}
	TAP_OK(ok == ROUTE_TABLE_MAX && route_table_count(r) == ROUTE_TABLE_MAX,
	    "table holds %d live ids", ROUTE_TABLE_MAX);
	n = route_request(r, 0, 1, 99999, rkey, 10, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_RNF, 99999, 10),
	    "table full: peer's request gets RNF (no ACCEPTED), htl untouched");
	n = route_request(r, 0, ROUTE_LOCAL, 99998, rkey, 0, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 99998, ROUTE_STATUS_REFUSED),
	    "table full: local request REFUSED");
	n = route_reply(r, 1, 2, 4000, ROUTE_MSG_DATA, 0, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 4000, ROUTE_STATUS_FOUND),
	    "lookups work in a full table");
	n = route_request(r, 2, 1, 100000, rkey, 10, out, OUTN);
	TAP_OK(n == 2 && is_acc(&out[0], 1, 100000) &&
	    route_table_count(r) == ROUTE_TABLE_MAX &&
	    !route_lookup(r, 4000, k) && route_lookup(r, 100000, k),
	    "full, with an ended id: the ended one makes room for a new one");
	/* Drain with a small out array: everything ends and leaves. */
	n = 0;
	for (double t = 0; t <= 70 && rounds < 100000; rounds++) {
		n += route_tick(r, t, out, 5);
		if (route_next_wake(r) > t)
			t = route_next_wake(r);
	}
	TAP_OK(route_table_count(r) == 0 && route_next_wake(r) == INFINITY,
	    "all ids leave after their lifetime (%zu actions)", n);
	route_free(r);
}

/* One peer's flood cannot take the table from the others. */
static void
test_share(void)
{
	struct route *r = engine_make(0.3, true, true);
	size_t n, ok = 0;

	for (uint64_t id = 1; id <= ROUTE_PEER_SHARE; id++) {
		n = route_request(r, 0, 1, id, rkey, 10, out, OUTN);
		ok += n == 2 && is_acc(&out[0], 1, id);
	}
	TAP_OK(ok == ROUTE_PEER_SHARE && route_peer_live(r, 1) ==
	    ROUTE_PEER_SHARE, "a peer may have %d live ids",
	    ROUTE_PEER_SHARE);
	n = route_request(r, 0, 1, 50000, rkey, 10, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_RNF, 50000, 10),
	    "past its share: RNF, htl untouched, no ACCEPTED");
	n = route_request(r, 0, 3, 50001, rkey, 10, out, OUTN);
	TAP_OK(n == 2 && is_acc(&out[0], 3, 50001),
	    "another peer is still served");
	n = route_reply(r, 1, 2, 7, ROUTE_MSG_DNF, 0, out, OUTN);
	TAP_OK(n == 1 && route_peer_live(r, 1) == ROUTE_PEER_SHARE - 1,
	    "an id that ends leaves the share (%zu live)",
	    route_peer_live(r, 1));
	n = route_request(r, 1, 1, 50002, rkey, 10, out, OUTN);
	TAP_OK(n == 2 && is_acc(&out[0], 1, 50002),
	    "... and the peer may send one more");
	route_peer_remove(r, 2, 1, out, OUTN);
	TAP_OK(route_peer_live(r, 1) == 0, "a peer gone has no share");
	route_free(r);
}

static void
test_avoiding(void)
{
	struct route *r;
	size_t n;

	/* Peer 2 is closest to the key, then 1. */
	route_new(&r, at(0.3));
	route_peer_add(r, 1, at(0.1), true, true);
	route_peer_add(r, 2, at(-0.05), true, true);
	n = route_request(r, 0, ROUTE_LOCAL, 1, rkey, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 1, 18),
	    "avoiding: without it, peer 2 (closest) goes first");
	n = route_request_avoiding(r, 0, 2, rkey, 2, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 2, 18),
	    "avoiding the closest peer: the other one first, htl 18");
	n = route_reply(r, 1, 1, 2, ROUTE_MSG_RNF, 17, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 2, ROUTE_STATUS_RNF),
	    "avoiding: the avoided peer counts as tried, so RNF ends it");
	n = route_request_avoiding(r, 2, 3, rkey, 1, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 3, 18),
	    "avoiding the farther peer: the closest first");
	n = route_reply(r, 3, 2, 3, ROUTE_MSG_DNF, 0, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 3, ROUTE_STATUS_DNF),
	    "avoiding: DNF ends it, no backtracking to the avoided peer");
	n = route_request_avoiding(r, 4, 4, rkey, 9, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 4, 18),
	    "avoiding an unknown peer changes nothing");
	n = route_request_avoiding(r, 4, 5, rkey, ROUTE_LOCAL, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 5, 18),
	    "avoiding ROUTE_LOCAL changes nothing");
	n = route_request_avoiding(r, 4, 2, rkey, 2, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 2, ROUTE_STATUS_REFUSED),
	    "avoiding: an id in the table is REFUSED");
	n = route_request_avoiding(r, 4, 6, rkey, 2, out,
	    ROUTE_ACTIONS_MAX - 1);
	TAP_OK(n == 0 && route_table_count(r) == 5,
	    "avoiding: max < ROUTE_ACTIONS_MAX does nothing");
	/* Peer 2 leaves: 1 is the only peer, so avoiding it is ignored. */
	route_peer_remove(r, 5, 2, out, OUTN);
	n = route_request_avoiding(r, 5, 7, rkey, 1, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 7, 18),
	    "avoiding the only peer left: it is asked all the same");
	route_free(r);

	route_new(&r, at(0.3));
	route_peer_add(r, 1, at(0.1), true, true);
	n = route_request_avoiding(r, 0, 1, rkey, 1, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 1, 18),
	    "one peer: avoid is ignored, the request goes to it");
	n = route_reply(r, 1, 1, 1, ROUTE_MSG_DATA, 0, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 1, ROUTE_STATUS_FOUND),
	    "one peer: its DATA ends the request FOUND");
	route_free(r);

	route_new(&r, at(0.3));
	n = route_request_avoiding(r, 0, 1, rkey, 1, out, OUTN);
	TAP_OK(n == 1 && is_done(&out[0], 1, ROUTE_STATUS_RNF),
	    "no peers: avoiding ends at once with RNF");
	route_free(r);
}

static void
test_lookup(void)
{
	struct route *r = engine_make(0.3, true, true);
	uint8_t k2[32], got[32];
	route_peer_t p2, p3;
	bool ok;

	key_make(2, k2);
	memset(got, 0, sizeof(got));
	TAP_OK(!route_lookup(r, 1, got), "lookup: unknown id, empty table");
	route_request(r, 0, ROUTE_LOCAL, 1, rkey, 0, out, OUTN); /* -> 2 */
	route_request(r, 0, ROUTE_LOCAL, 2, k2, 0, out, OUTN);
	p2 = out[0].peer;
	route_request(r, 0, 1, 3, k2, 10, out, OUTN);		/* relay */
	p3 = out[1].peer;
	route_insert(r, 0, ROUTE_LOCAL, 4, rkey, 0, out, OUTN);
	TAP_OK(route_lookup(r, 1, got) && memcmp(got, rkey, 32) == 0,
	    "lookup: a live local request gives its rkey");
	TAP_OK(route_lookup(r, 2, got) && memcmp(got, k2, 32) == 0,
	    "lookup: another live id gives its own rkey");
	TAP_OK(route_lookup(r, 3, got) && memcmp(got, k2, 32) == 0,
	    "lookup: a live relayed request too");
	TAP_OK(route_lookup(r, 4, got) && memcmp(got, rkey, 32) == 0,
	    "lookup: a live insert is in the table too");
	TAP_OK(!route_lookup(r, 5, got) && !route_lookup(r, 0, got) &&
	    !route_lookup(r, UINT64_MAX, got), "lookup: unknown ids");

	route_reply(r, 1, 2, 1, ROUTE_MSG_ACCEPTED, 0, out, OUTN);
	TAP_OK(route_lookup(r, 1, got), "lookup: still live after ACCEPTED");
	TAP_OK(route_reply(r, 2, 2, 1, ROUTE_MSG_DATA, 0, out, OUTN) == 1 &&
	    is_done(&out[0], 1, ROUTE_STATUS_FOUND) && !route_lookup(r, 1, got),
	    "lookup: false once DATA came back");
	TAP_OK(route_reply(r, 2, p2, 2, ROUTE_MSG_DNF, 0, out, OUTN) == 1 &&
	    is_done(&out[0], 2, ROUTE_STATUS_DNF) && !route_lookup(r, 2, got),
	    "lookup: false after DNF");
	ok = route_lookup(r, 3, got);
	TAP_OK(ok && route_reply(r, 2, p3, 3, ROUTE_MSG_DATA, 0, out, OUTN) ==
	    2 && !route_lookup(r, 3, got),
	    "lookup: false once a relayed request was answered");
	TAP_OK(route_table_count(r) == 4,
	    "lookup: the ended ids are still in the table (loop detection)");

	/* Every peer says RNF: the request ends; and one that times out. */
	route_request(r, 3, ROUTE_LOCAL, 6, rkey, 0, out, OUTN); /* -> 2 */
	route_reply(r, 3, 2, 6, ROUTE_MSG_RNF, 17, out, OUTN);	/* -> 1 */
	route_reply(r, 3, 1, 6, ROUTE_MSG_RNF, 16, out, OUTN);	/* -> 3 */
	route_reply(r, 3, 3, 6, ROUTE_MSG_RNF, 15, out, OUTN);	/* -> 4 */
	TAP_OK(route_lookup(r, 6, got) &&
	    route_reply(r, 3, 4, 6, ROUTE_MSG_RNF, 14, out, OUTN) == 1 &&
	    is_done(&out[0], 6, ROUTE_STATUS_RNF) && !route_lookup(r, 6, got),
	    "lookup: live while peers are tried, false after RNF from all");
	route_request(r, 10, ROUTE_LOCAL, 7, rkey, 0, out, OUTN); /* -> 2 */
	route_reply(r, 10, 2, 7, ROUTE_MSG_ACCEPTED, 0, out, OUTN);
	TAP_OK(route_tick(r, 69.9, out, OUTN) > 0 && route_lookup(r, 7, got),
	    "lookup: an accepted request is live until its lifetime");
	TAP_OK(route_tick(r, 70, out, OUTN) == 1 &&
	    is_done(&out[0], 7, ROUTE_STATUS_TIMEOUT) &&
	    !route_lookup(r, 7, got), "lookup: false after DONE TIMEOUT");
	route_free(r);
}

/* Ties: in a dense network nearly every peer has the key's closest node
 * among its FOAF, so many peers share the best score. */
static void
test_ties(void)
{
	struct route *r = engine_make(0.3, true, true);
	double near = at(0.01), foaf[] = { at(0.01) };
	size_t n;

	/* Peer 5 sits at 0.01, linked last (the highest slot); peer 1 (slot
	 * 0) has it among its FOAF: both score 0.01. */
	TAP_OK(route_peer_add(r, 5, near, true, true) == 0 &&
	    route_peer_foaf(r, 1, foaf, 1) == 0, "ties: peer 5 and FOAF set");
	n = route_request(r, 0, ROUTE_LOCAL, 1, rkey, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 5, ROUTE_MSG_REQUEST, 1, 18),
	    "ties: the node itself beats a peer that would pass it on");
	/* It answers LOOP: it has the id. Peer 1's way to it draws no more:
	 * the next is the closest by its own location, peer 2. */
	n = route_reply(r, 1, 5, 1, ROUTE_MSG_LOOP, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 1, 18),
	    "ties: a FOAF location already tried draws nothing");
	/* From peer 5 itself: its location in peer 1's FOAF is the
	 * sender's, so not a reason to go to peer 1. */
	n = route_request(r, 2, 5, 2, rkey, 10, out, OUTN);
	TAP_OK(n == 2 && is_acc(&out[0], 5, 2) &&
	    is(&out[1], ROUTE_SEND, 2, ROUTE_MSG_REQUEST, 2, 9),
	    "ties: the sender's location in a FOAF draws nothing");
	/* Without peer 5 linked, its location in peer 1's FOAF counts. */
	route_peer_remove(r, 3, 5, out, OUTN);
	n = route_request(r, 3, ROUTE_LOCAL, 3, rkey, 0, out, OUTN);
	TAP_OK(n == 1 && is(&out[0], ROUTE_SEND, 1, ROUTE_MSG_REQUEST, 3, 18),
	    "ties: a FOAF location not seen still draws");
	route_free(r);
}

/* ---- the simulator ---- */

#define SIM_MAX 1000	/* nodes at most */
#define SIM_LONG 4	/* long links each node starts; mean degree ~10 */
#define SIM_REQ 300
#define SIM_DEG_MAX 64

static uint64_t sim_rng = 0x2545f4914f6cdd1dULL;

static uint64_t
sim_rand(void)
{
	sim_rng ^= sim_rng << 13;
	sim_rng ^= sim_rng >> 7;
	sim_rng ^= sim_rng << 17;
	return sim_rng;
}

static double
sim_unif(void)
{
	return (double)(sim_rand() >> 11) / 9007199254740992.0;
}

struct sim_node {
	double loc;
	struct route *r;
	int nlinks;
	int links[SIM_DEG_MAX];
};

struct sim_msg {
	int to, from;
	enum route_msg msg;
	uint64_t id;
	uint8_t htl;
};

static struct sim_node *sim;
static int sim_n;		/* nodes in the network */
static int sim_order[SIM_MAX];	/* node indices by location */
static struct sim_msg *q;
static size_t q_head, q_tail, q_cap;
static bool sim_dead[SIM_MAX];	/* gone: removed from their peers */
static bool sim_silent[SIM_MAX];	/* still linked, never answer */
static bool sim_has[SIM_MAX];	/* its store holds the key asked now */
static bool sim_keeping;	/* KEEP puts the key in sim_has */

static int
sim_cmp(const void *a, const void *b)
{
	double x = sim[*(const int *)a].loc, y = sim[*(const int *)b].loc;

	return x < y ? -1 : x > y;
}

/* The node closest to location x. */
static int
sim_nearest(double x)
{
	int lo = 0, hi = sim_n;	/* first with loc >= x */
	int a, b;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (sim[sim_order[mid]].loc < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	a = sim_order[lo % sim_n];
	b = sim_order[(lo + sim_n - 1) % sim_n];
	return location_distance(sim[a].loc, x) <
	    location_distance(sim[b].loc, x) ? a : b;
}

static bool
sim_linked(int a, int b)
{
	for (int i = 0; i < sim[a].nlinks; i++)
		if (sim[a].links[i] == b)
			return true;
	return false;
}

static void
sim_link(int a, int b)
{
	if (a == b || sim[a].nlinks >= SIM_DEG_MAX ||
	    sim[b].nlinks >= SIM_DEG_MAX || sim_linked(a, b))
		return;
	sim[a].links[sim[a].nlinks++] = b;
	sim[b].links[sim[b].nlinks++] = a;
}

/* n nodes at random locations, no links yet. */
static void
sim_new(int n)
{
	sim_n = n;
	sim = calloc((size_t)n, sizeof(*sim));
	memset(sim_dead, 0, sizeof(sim_dead));
	memset(sim_silent, 0, sizeof(sim_silent));
	for (int i = 0; i < n; i++) {
		sim[i].loc = sim_unif();
		sim_order[i] = i;
	}
	qsort(sim_order, (size_t)n, sizeof(int), sim_cmp);
}

/* Node i's view of its live peers' FOAF: their live links, as a HELLO
 * round tells them. */
static void
sim_foaf(int i)
{
	for (int j = 0; j < sim[i].nlinks; j++) {
		int p = sim[i].links[j];
		double f[ROUTE_FOAF_MAX];
		int nf = 0;

		if (sim_dead[p])
			continue;
		for (int k = 0; k < sim[p].nlinks && nf < ROUTE_FOAF_MAX; k++)
			if (!sim_dead[sim[p].links[k]])
				f[nf++] = sim[sim[p].links[k]].loc;
		route_peer_foaf(sim[i].r, (route_peer_t)p + 1, f, (size_t)nf);
	}
}

/* An engine per node with its links as peers, and their FOAF. */
static void
sim_engines(void)
{
	for (int i = 0; i < sim_n; i++) {
		route_new(&sim[i].r, sim[i].loc);
		for (int j = 0; j < sim[i].nlinks; j++) {
			int p = sim[i].links[j];

			route_peer_add(sim[i].r, (route_peer_t)p + 1, sim[p].loc,
			    sim_rand() & 1, (sim_rand() & 3) == 0);
		}
	}
	for (int i = 0; i < sim_n; i++)
		sim_foaf(i);
}

/* Kleinberg's small world: a ring, and SIM_LONG long links per node at
 * distances drawn by 1/d. */
static void
sim_build_kleinberg(int n)
{
	double lo = log(1.0 / n), hi = log(0.5);

	sim_new(n);
	for (int k = 0; k < n; k++)
		sim_link(sim_order[k], sim_order[(k + 1) % n]);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < SIM_LONG; j++) {
			double d = exp(lo + (hi - lo) * sim_unif());
			double x = sim[i].loc + (sim_rand() & 1 ? d : -d);

			x = fmod(x + 1.0, 1.0);
			sim_link(i, sim_nearest(x >= 1.0 ? 0.0 : x));
		}
	}
	sim_engines();
}

/* As node/peers.c links a small network: every node dials until it has
 * deg links, each to a node with room drawn with probability 1/d. */
static void
sim_build_dense(int n, int deg)
{
	static double w[SIM_MAX];

	sim_new(n);
	for (int round = 0; round < deg; round++) {
		for (int a = 0; a < n; a++) {
			double sum = 0, x;
			int b;

			if (sim[a].nlinks >= deg)
				continue;
			for (b = 0; b < n; b++) {
				w[b] = b == a || sim[b].nlinks >= deg ||
				    sim_linked(a, b) ? 0 : 1.0 /
				    location_distance(sim[a].loc, sim[b].loc);
				sum += w[b];
			}
			x = sim_unif() * sum;
			for (b = 0; b < n && (w[b] == 0 || (x -= w[b]) > 0);
			    b++)
				;
			if (b < n)
				sim_link(a, b);
		}
	}
	sim_engines();
}

static void
sim_free(void)
{
	for (int i = 0; i < sim_n; i++)
		route_free(sim[i].r);
	free(sim);
	sim = NULL;
	sim_n = 0;
}

static void
sim_push(int to, int from, enum route_msg msg, uint64_t id, uint8_t htl)
{
	if (q_tail == q_cap) {
		q_cap = q_cap ? q_cap * 2 : 1024;
		q = realloc(q, q_cap * sizeof(*q));
	}
	q[q_tail++] = (struct sim_msg){ to, from, msg, id, htl };
}

/* What one request or insert did in the simulated network. */
struct sim_result {
	int status;	/* of the origin's DONE, -1 if none */
	int path;	/* DATA hops back to the origin */
	int asked;	/* REQUESTs delivered */
	int keeps, deep;	/* KEEP actions, and how many deep */
	int watch;	/* a node to watch ... */
	bool watch_deep;	/* ... and whether it did KEEP deep */
	long msgs;	/* messages delivered, all told */
	long msgs_done;	/* ... of them before the origin's DONE */
	int ticks;	/* route_tick() calls that did something */
};

/* Carries out node `node`'s actions. */
static void
sim_act(int node, const struct route_action *a, size_t n,
    struct sim_result *res)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i].what == ROUTE_SEND) {
			sim_push((int)a[i].peer - 1, node, a[i].msg, a[i].id,
			    a[i].htl);
		} else if (a[i].what == ROUTE_DONE) {
			res->status = a[i].status;
		} else {
			res->keeps++;
			if (sim_keeping)
				sim_has[node] = true;
			if (a[i].deep) {
				res->deep++;
				res->watch_deep |= node == res->watch;
			}
		}
	}
}

static double sim_now = 1.0;

/* Runs the earliest timer of any engine; false when there is none. */
static bool
sim_tick(struct sim_result *res)
{
	double wake = INFINITY;
	int who = -1;

	for (int i = 0; i < sim_n; i++)
		if (!sim_dead[i] && !sim_silent[i] &&
		    route_next_wake(sim[i].r) < wake) {
			wake = route_next_wake(sim[i].r);
			who = i;
		}
	if (who < 0)
		return false;
	if (wake > sim_now)
		sim_now = wake;
	sim_act(who, out, route_tick(sim[who].r, sim_now, out, OUTN), res);
	res->ticks++;
	return true;
}

/* Delivers one message of request `id` (key k, in the stores of
 * sim_has). */
static void
sim_deliver(const struct sim_msg *m, uint64_t id, const uint8_t k[32],
    struct sim_result *res)
{
	struct route *r = sim[m->to].r;
	route_peer_t from = (route_peer_t)m->from + 1;
	size_t n;

	res->msgs++;
	if (res->status < 0)
		res->msgs_done++;
	sim_now += 1e-4;
	if (m->msg == ROUTE_MSG_REQUEST)
		res->asked++;
	if (m->msg == ROUTE_MSG_REQUEST && sim_has[m->to]) {
		/* The node's store has it: the node answers DATA. */
		sim_push(m->from, m->to, ROUTE_MSG_DATA, id, 0);
		return;
	}
	if (m->msg == ROUTE_MSG_REQUEST)
		n = route_request(r, sim_now, from, m->id, k, m->htl, out, OUTN);
	else if (m->msg == ROUTE_MSG_INSERT)
		n = route_insert(r, sim_now, from, m->id, k, m->htl, out, OUTN);
	else
		n = route_reply(r, sim_now, from, m->id, m->msg, m->htl, out,
		    OUTN);
	if (m->msg == ROUTE_MSG_DATA && n > 0 && res->status < 0)
		res->path++;
	sim_act(m->to, out, n, res);
}

/* Runs one request (or insert) for key k from `origin` until the whole
 * network is quiet again (every table empty), so requests never overlap
 * and stray branches are counted; the nodes of sim_has have the key in
 * their stores. */
static void
sim_run(int origin, uint64_t id, const uint8_t k[32], bool insert,
    struct sim_result *res)
{
	int watch = res->watch;
	size_t n;

	memset(res, 0, sizeof(*res));
	res->status = -1;
	res->watch = watch;
	n = (insert ? route_insert : route_request)(sim[origin].r, sim_now,
	    ROUTE_LOCAL, id, k, 0, out, OUTN);
	sim_act(origin, out, n, res);
	while (q_head < q_tail || sim_tick(res)) {
		struct sim_msg m;

		if (q_head == q_tail)
			continue;
		m = q[q_head++];
		if (!sim_silent[m.to] && !sim_dead[m.to])
			sim_deliver(&m, id, k, res);
	}
	q_head = q_tail = 0;
}

static int
int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* The live node closest to location x (a scan: tests only). */
static int
sim_nearest_alive(double x)
{
	int best = -1;

	for (int i = 0; i < sim_n; i++)
		if (!sim_dead[i] && !sim_silent[i] && (best < 0 ||
		    location_distance(sim[i].loc, x) <
		    location_distance(sim[best].loc, x)))
			best = i;
	return best;
}

/* How many of the `count` nodes closest to x (dead ones too) are in
 * sim_has. */
static int
sim_has_closest(double x, int count)
{
	int rank[SIM_MAX], got = 0;

	for (int i = 0; i < sim_n; i++) {
		rank[i] = 0;
		for (int j = 0; j < sim_n; j++)
			rank[i] += location_distance(sim[j].loc, x) <
			    location_distance(sim[i].loc, x);
	}
	for (int i = 0; i < sim_n; i++)
		got += sim_has[i] && rank[i] < count;
	return got;
}

static int
sim_origin(int not)
{
	int o;

	do
		o = (int)(sim_rand() % (uint64_t)sim_n);
	while (o == not || sim_dead[o] || sim_silent[o]);
	return o;
}

static void
sim_key(uint64_t id, uint8_t k[32])
{
	key_make((unsigned)(sim_rand() & 0xffffff) + 1000u, k);
	for (int i = 0; i < 8; i++)
		k[i] = (uint8_t)(id >> (8 * i));
}

/* SIM_REQ requests for keys held by the closest live node; all messages
 * (ACCEPTED too, and stray branches after DONE) are counted. */
static void
sim_requests(const char *what, uint64_t id0, int min_pct, int max_median,
    double max_msgs)
{
	int found = 0, hops[SIM_REQ], nh = 0, keeps = 0, ticks = 0;
	long msgs = 0, msgs_done = 0;
	uint8_t k[32];

	for (uint64_t id = id0; id < id0 + SIM_REQ; id++) {
		struct sim_result res;
		int holder;

		sim_key(id, k);
		holder = sim_nearest_alive(location_of_rkey(k));
		sim_has[holder] = true;
		res.watch = -1;
		sim_run(sim_origin(holder), id, k, false, &res);
		sim_has[holder] = false;
		msgs += res.msgs;
		msgs_done += res.msgs_done;
		keeps += res.keeps;
		ticks += res.ticks;
		if (res.status == ROUTE_STATUS_FOUND) {
			found++;
			hops[nh++] = res.path;
		}
	}
	qsort(hops, (size_t)nh, sizeof(int), int_cmp);
	printf("# sim %s: %d requests, %d found (%.1f%%), hops median %d "
	    "p90 %d; per request %.1f messages (%.1f before DONE), %.1f cache "
	    "KEEPs; %d timer runs\n", what, SIM_REQ, found,
	    100.0 * found / SIM_REQ, nh ? hops[nh / 2] : -1,
	    nh ? hops[nh * 9 / 10] : -1, (double)msgs / SIM_REQ,
	    (double)msgs_done / SIM_REQ, (double)keeps / SIM_REQ, ticks);
	TAP_OK(found * 100 >= SIM_REQ * min_pct, "sim %s: >= %d%% found",
	    what, min_pct);
	TAP_OK(nh > 0 && hops[nh / 2] <= max_median,
	    "sim %s: median hops <= %d", what, max_median);
	TAP_OK((double)msgs / SIM_REQ < max_msgs,
	    "sim %s: < %.0f messages per request", what, max_msgs);
}

/* Inserts: the node closest to the key must be among the sinks. */
static void
sim_inserts(uint64_t id0, int count)
{
	int stored = 0, at_closest = 0, deep = 0, keeps = 0;
	uint8_t k[32];

	for (uint64_t id = id0; id < id0 + (uint64_t)count; id++) {
		struct sim_result res;
		int closest;

		sim_key(id, k);
		closest = sim_nearest_alive(location_of_rkey(k));
		res.watch = closest;
		sim_run(sim_origin(-1), id, k, true, &res);
		stored += res.status == ROUTE_STATUS_STORED;
		deep += res.deep;
		keeps += res.keeps;
		at_closest += res.watch_deep;
	}
	printf("# sim inserts: %d, %d INSERT_OK, %d reached the closest node "
	    "as a sink, %.1f deep and %.1f cache KEEPs per insert\n", count,
	    stored, at_closest, (double)deep / count,
	    (double)(keeps - deep) / count);
	TAP_OK(stored == count, "sim inserts: all end with DONE STORED");
	TAP_OK(at_closest * 100 >= count * 95,
	    "sim inserts: >= 95%% stored deep at the closest node");
}

/* `count` random live nodes leave: their neighbours' engines are told,
 * and (with foaf) relearn their peers' FOAF, as a HELLO round does.
 * Returns the actions the removals emitted. */
static size_t
sim_kill(int count, bool foaf)
{
	size_t acts = 0;

	for (int i = 0; i < count; i++) {
		int d = sim_origin(-1);

		sim_dead[d] = true;
		for (int j = 0; j < sim[d].nlinks; j++) {
			int nb = sim[d].links[j];

			acts += route_peer_remove(sim[nb].r, sim_now,
			    (route_peer_t)d + 1, out, OUTN);
		}
	}
	for (int i = 0; foaf && i < sim_n; i++)
		if (!sim_dead[i])
			sim_foaf(i);
	return acts;
}

static void
test_sim(void)
{
	long degsum = 0;

	sim_build_kleinberg(SIM_MAX);
	for (int i = 0; i < sim_n; i++)
		degsum += sim[i].nlinks;
	printf("# sim: N=%d, Kleinberg links, mean degree %.1f, FOAF\n", sim_n,
	    (double)degsum / sim_n);
	sim_requests("requests", 1, 95, 8, 50);
	sim_inserts(100001, 100);
	/* 10% of nodes leave. */
	TAP_OK(sim_kill(sim_n / 10, false) == 0,
	    "sim: removing idle peers emits nothing");
	sim_requests("10% nodes gone", 200001, 90, 8, 50);
	for (int i = 0; i < sim_n / 20; i++)
		sim_silent[sim_origin(-1)] = true;
	/* Linked but never answering, not even ACCEPTED: only the hop
	 * before a silent node waits (ROUTE_ACCEPT_TIMEOUT) and moves on;
	 * without ACCEPTED this was ~1247 messages per request. */
	sim_requests("and 5% silent", 300001, 90, 8, 50);
	sim_free();
}

/*
 * `make bignet`'s network in miniature (issue 14, "A hundred nodes"):
 * 100 nodes of 32 links each, SIM_DENSE_KEYS blocks inserted from random
 * nodes and kept where the inserts' KEEP says, 30% of the nodes killed,
 * then each block asked from 3 random live nodes with nothing cached by
 * the gets before (the first get after the loss: the worst case). In so
 * dense a network nearly every peer's FOAF holds the key's closest node:
 * before ties went to the peer itself closest and FOAF locations already
 * seen were skipped, inserts and requests wandered from tie to tie: a
 * block was kept at 8.7 of the 10 closest nodes, and a request asked 4
 * nodes at the 90th percentile, 9 at most (now 9.9, 1 and 3). In the
 * real network that wandering left 5 gets in 100 short (protocol.md,
 * "Routing").
 */
#define SIM_DENSE_N 100
#define SIM_DENSE_KEYS 180	/* 20 documents of 9 blocks */

static void
test_sim_dense(void)
{
	static bool held[SIM_DENSE_KEYS][SIM_DENSE_N];
	uint8_t keys[SIM_DENSE_KEYS][32];
	int closest = 0, stored = 0, found = 0, asks = 0, at_first = 0;
	int asked[3 * SIM_DENSE_KEYS], lost = 0;
	uint64_t id = 500001;

	sim_build_dense(SIM_DENSE_N, 32);
	sim_keeping = true;
	for (int k = 0; k < SIM_DENSE_KEYS; k++) {
		struct sim_result res;

		sim_key(id, keys[k]);
		memset(sim_has, 0, sizeof(sim_has));
		res.watch = -1;
		sim_run(sim_origin(-1), id++, keys[k], true, &res);
		stored += res.status == ROUTE_STATUS_STORED;
		closest += sim_has_closest(location_of_rkey(keys[k]), 10);
		memcpy(held[k], sim_has, sizeof(held[k]));
	}
	sim_keeping = false;
	printf("# sim dense: N=%d, 32 links by 1/d; %d inserts, %d STORED, "
	    "kept at %.1f of the 10 nodes closest to the key\n", sim_n,
	    SIM_DENSE_KEYS, stored, (double)closest / SIM_DENSE_KEYS);
	TAP_OK(stored == SIM_DENSE_KEYS, "sim dense: all inserts STORED");
	TAP_OK(closest >= SIM_DENSE_KEYS * 95 / 10,
	    "sim dense: a block is kept at >= 9.5 of the 10 closest nodes");
	sim_kill(sim_n * 30 / 100, true);
	for (int k = 0; k < SIM_DENSE_KEYS; k++) {
		bool any = false;

		memcpy(sim_has, held[k], sizeof(held[k]));
		for (int i = 0; i < sim_n; i++)
			any |= sim_has[i] && !sim_dead[i];
		if (!any) {
			lost++;
			continue;
		}
		at_first += sim_has[sim_nearest_alive(
		    location_of_rkey(keys[k]))];
		for (int g = 0; g < 3; g++) {
			struct sim_result res;
			int o = sim_origin(-1);

			res.watch = -1;
			if (sim_has[o]) {	/* in the exit's own store */
				found++;
				asked[asks++] = 0;
				continue;
			}
			sim_run(o, id++, keys[k], false, &res);
			found += res.status == ROUTE_STATUS_FOUND;
			asked[asks++] = res.asked;
		}
	}
	qsort(asked, (size_t)asks, sizeof(int), int_cmp);
	printf("# sim dense: 30%% killed: %d blocks lost; of the rest %d "
	    "held by the closest live node; %d requests, %d found (%.1f%%), "
	    "nodes asked median %d p90 %d max %d\n", lost,
	    at_first, asks, found, 100.0 * found / (asks ? asks : 1),
	    asks ? asked[asks / 2] : -1, asks ? asked[asks * 9 / 10] : -1,
	    asks ? asked[asks - 1] : -1);
	TAP_OK(found * 1000 >= asks * 999, "sim dense: >= 99.9%% found "
	    "after 30%% of the nodes died");
	TAP_OK(asks > 0 && asked[asks * 9 / 10] <= 2,
	    "sim dense: 90%% of requests ask at most 2 nodes");
	memset(sim_has, 0, sizeof(sim_has));
	sim_free();
	free(q);
}

int
main(void)
{
	key_make(1, rkey);
	kl = location_of_rkey(rkey);
	test_args();
	test_greedy();
	test_backtrack();
	test_htl();
	test_loop();
	test_timeout();
	test_accepted_sent();
	test_lifetime();
	test_remove();
	test_cache();
	test_insert();
	test_bound();
	test_share();
	test_avoiding();
	test_lookup();
	test_ties();
	test_sim();
	test_sim_dense();
	return tap_done();
}
