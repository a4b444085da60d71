/* test_reach.c - node/reach.h: the address we announce, learned from what
 * peers see and confirmed by a dial-back, on a scripted clock. */
#include <arpa/inet.h>
#include <string.h>

#include <sodium.h>

#include "node/reach.h"
#include "tests/tap.h"

/* What the fake links were asked. */
static struct {
	unsigned probes, changed;
	uint32_t handle;
	uint64_t nonce;
	struct link_netaddr addr;
	int refuse;		/* probe() returns -1 */
} asked;

static int
fake_probe(void *arg, uint32_t handle, uint64_t nonce,
    const struct link_netaddr *a)
{
	(void)arg;
	asked.probes++;
	asked.handle = handle;
	asked.nonce = nonce;
	asked.addr = *a;
	return asked.refuse ? -1 : 0;
}

static void
fake_changed(void *arg)
{
	(void)arg;
	asked.changed++;
}

static const struct reach_callbacks cb = { fake_probe, fake_changed };

static struct link_netaddr
addr_of(const char *ip, uint16_t port)
{
	struct link_netaddr a;

	memset(&a, 0, sizeof(a));
	a.port = port;
	if (inet_pton(AF_INET, ip, a.addr) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, ip, a.addr) == 1)
		a.family = 6;
	return a;
}

static struct reach *
make(const char *listen, const char *announce)
{
	struct reach_config cfg = { listen, announce };
	struct reach *r;
	char why[256];

	memset(&asked, 0, sizeof(asked));
	if (reach_new(&r, &cfg, &cb, NULL, why, sizeof(why)) != 0) {
		printf("Bail out! reach_new: %s\n", why);
		exit(1);
	}
	return r;
}

static bool
addr_is(const struct reach *r, const char *want)
{
	const char *a = reach_address(r);

	return want == NULL ? a == NULL : a != NULL && strcmp(a, want) == 0;
}

/* Links 1..n up at time 0, each reporting ip (port 0: inbound). */
static void
links_report(struct reach *r, uint32_t from, uint32_t to, const char *ip)
{
	struct link_netaddr a = addr_of(ip, 0);

	for (uint32_t h = from; h <= to; h++) {
		reach_link_up(r, h, 0);
		reach_link_seen(r, h, &a, 0);
	}
}

static void
test_learned(void)
{
	struct reach *r = make("0.0.0.0:9479", NULL);

	TAP_OK(addr_is(r, NULL) && reach_reachable(r) == REACH_UNKNOWN &&
	    reach_advice(r) != NULL, "unspecified listen: no address, "
	    "reachability unknown, advice says why");
	links_report(r, 1, 1, "198.18.0.5");
	reach_tick(r, 1);
	TAP_OK(asked.probes == 0 && addr_is(r, NULL),
	    "one link's report: below the quorum, nobody asked");
	links_report(r, 2, 2, "198.18.0.5");
	reach_tick(r, 2);
	TAP_OK(asked.probes == 1 && asked.handle == 2 &&
	    asked.addr.port == 9479 && addr_is(r, NULL), "two agree: the "
	    "second (not the first reporter) asked to dial back at the "
	    "listen port; nothing announced yet");
	reach_probed(r, 2, asked.nonce + 1, true, 3);
	TAP_OK(addr_is(r, NULL), "a dial-back with another nonce: ignored");
	reach_probed(r, 1, asked.nonce, true, 3);
	TAP_OK(addr_is(r, NULL), "... or from another link: ignored");
	reach_probed(r, 2, asked.nonce, true, 3);
	TAP_OK(addr_is(r, "198.18.0.5:9479") &&
	    reach_reachable(r) == REACH_YES && reach_advice(r) == NULL &&
	    asked.changed == 1, "the dial-back came: announced, reachable, "
	    "changed said once");
	reach_tick(r, 4);
	TAP_OK(asked.probes == 1, "confirmed: no probe until the recheck");
	reach_tick(r, 3 + REACH_RECHECK);
	TAP_OK(asked.probes == 2, "probed again after REACH_RECHECK s");
	reach_probed(r, asked.handle, asked.nonce, true, 4 + REACH_RECHECK);
	TAP_OK(asked.changed == 1, "confirmed again: nothing changed");

	/* The node moves: its links go, new ones see it elsewhere. */
	reach_link_down(r, 1, 5000);
	reach_link_down(r, 2, 5000);
	links_report(r, 3, 4, "198.19.0.5");
	reach_tick(r, 5001);
	TAP_OK(asked.probes == 3 && asked.handle == 4 &&
	    addr_is(r, "198.18.0.5:9479"), "moved: the new address probed, "
	    "the old one announced meanwhile");
	reach_probed(r, 4, asked.nonce, true, 5002);
	TAP_OK(addr_is(r, "198.19.0.5:9479") && asked.changed == 2,
	    "the new address confirmed replaces the old");
	reach_free(r);
}

static void
test_liars(void)
{
	struct reach *r = make("0.0.0.0:9479", NULL);
	struct link_netaddr fake = addr_of("203.0.113.9", 80);
	unsigned before;

	links_report(r, 1, 3, "198.18.0.5");
	reach_link_up(r, 4, 0);
	reach_link_seen(r, 4, &fake, 0);
	reach_tick(r, 1);
	TAP_OK(asked.probes == 1 && asked.handle == 4 &&
	    asked.addr.port == 9479 && asked.addr.addr[0] == 198,
	    "three honest links and a liar: the majority's address, asked of "
	    "a link that reports another first");
	reach_free(r);

	r = make("0.0.0.0:9479", NULL);
	links_report(r, 1, 1, "198.18.0.5");
	for (uint32_t h = 2; h <= 3; h++) {
		reach_link_up(r, h, 0);
		reach_link_seen(r, h, &fake, 0);
	}
	reach_tick(r, 1);
	TAP_OK(asked.probes == 1 && asked.addr.port == 80 &&
	    asked.handle != 2, "two liars agree: their address is probed, "
	    "not by the first of them");
	reach_probed(r, asked.handle, asked.nonce, false, 2);
	TAP_OK(asked.probes == 2 && addr_is(r, NULL), "a PROBE_FAIL: the "
	    "next link asked, nothing announced");
	reach_tick(r, 2 + REACH_PROBE_WAIT);
	TAP_OK(asked.probes == 2 && addr_is(r, NULL) &&
	    reach_reachable(r) == REACH_NO, "no dial-back in time and nobody "
	    "left to ask: unreachable, the lie never announced");
	before = asked.probes;
	reach_tick(r, 3 + REACH_PROBE_WAIT);
	TAP_OK(asked.probes == before, "a failed round waits its back-off");
	reach_tick(r, 3 + REACH_PROBE_WAIT + REACH_RETRY_MIN);
	TAP_OK(asked.probes == before + 1, "... then tries again");
	reach_free(r);
}

static void
test_unreachable(void)
{
	struct reach *r = make("0.0.0.0:9479", NULL);

	links_report(r, 1, 5, "198.18.0.1");
	reach_tick(r, 1);
	for (int i = 0; i < REACH_TRIES; i++)
		reach_probed(r, asked.handle, asked.nonce, false, 2);
	TAP_OK(asked.probes == REACH_TRIES && reach_reachable(r) == REACH_NO &&
	    addr_is(r, NULL) && reach_advice(r) != NULL &&
	    strstr(reach_advice(r), "9479") != NULL, "behind a NAT: "
	    "REACH_TRIES links fail, unreachable, no address, advice names "
	    "the port");
	reach_free(r);

	r = make("0.0.0.0:9479", NULL);
	asked.refuse = 1;
	links_report(r, 1, 2, "198.18.0.1");
	reach_tick(r, 1);
	TAP_OK(reach_reachable(r) == REACH_NO && asked.probes == 1,
	    "the one link that may be asked cannot send: the round fails "
	    "at once");
	reach_free(r);
}

static void
test_by_hand(void)
{
	struct reach_config bad = { "0.0.0.0:9479", "example.org" };
	struct reach *r;
	char why[256];

	r = make("0.0.0.0:9479", "192.0.2.1:7000");
	TAP_OK(addr_is(r, "192.0.2.1:7000") &&
	    reach_reachable(r) == REACH_UNKNOWN, "--announce: announced at "
	    "once, reachability unknown");
	links_report(r, 1, 1, "198.18.0.5");
	reach_tick(r, 1);
	TAP_OK(asked.probes == 1 && asked.addr.port == 7000,
	    "--announce is probed by any link, no quorum needed");
	reach_probed(r, 1, asked.nonce, false, 2);
	TAP_OK(reach_reachable(r) == REACH_NO &&
	    addr_is(r, "192.0.2.1:7000"), "unreachable there: still "
	    "announced as told");
	reach_free(r);

	r = make("0.0.0.0:9479", "2001:2::1");
	TAP_OK(addr_is(r, "[2001:2::1]:9479"), "--announce IPv6 without a "
	    "port: the listen port");
	reach_free(r);
	r = make("127.0.0.1:5000", NULL);
	TAP_OK(addr_is(r, "127.0.0.1:5000"), "a specific listen address is "
	    "announced as it is");
	reach_free(r);
	TAP_OK(reach_new(&r, &bad, &cb, NULL, why, sizeof(why)) != 0 &&
	    strstr(why, "announce") != NULL, "--announce with a name: "
	    "refused, saying so");
}

static void
test_families(void)
{
	struct reach *r = make("[::]:9479", NULL);

	links_report(r, 1, 2, "2001:2::5");
	reach_tick(r, 1);
	reach_probed(r, asked.handle, asked.nonce, true, 2);
	TAP_OK(addr_is(r, "[2001:2::5]:9479"), "listening on ::, IPv6 "
	    "reports: the IPv6 address learned");
	reach_free(r);

	r = make("0.0.0.0:9479", NULL);
	links_report(r, 1, 3, "2001:2::5");
	reach_tick(r, 1);
	TAP_OK(asked.probes == 0, "listening on 0.0.0.0 (IPv4 only): IPv6 "
	    "reports are not counted");
	reach_free(r);
	reach_free(NULL);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_learned();
	test_liars();
	test_unreachable();
	test_by_hand();
	test_families();
	return tap_done();
}
