/* test_paths.c - node/paths.h: how many relays a path could hold, and
 * the lines that say why no path carried an operation. */
#include <string.h>

#include "node/paths.h"
#include "routing/route.h"
#include "tests/tap.h"

/* A descriptor at a.b.c.d (IPv4) with identity byte id. */
static struct onion_desc
v4(uint8_t id, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct onion_desc x;

	memset(&x, 0, sizeof(x));
	x.identity[0] = id;
	x.family = 4;
	x.addr[0] = a;
	x.addr[1] = b;
	x.addr[2] = c;
	x.addr[3] = d;
	x.port = 9479;
	return x;
}

/* The same at an IPv6 address whose first 4 bytes are p, last byte d. */
static struct onion_desc
v6(uint8_t id, uint32_t p, uint8_t d)
{
	struct onion_desc x;

	memset(&x, 0, sizeof(x));
	x.identity[0] = id;
	x.family = 6;
	x.addr[0] = (uint8_t)(p >> 24);
	x.addr[1] = (uint8_t)(p >> 16);
	x.addr[2] = (uint8_t)(p >> 8);
	x.addr[3] = (uint8_t)p;
	x.addr[15] = d;
	x.port = 9479;
	return x;
}

static void
test_usable(void)
{
	struct onion_desc d[12];
	size_t n = 0;

	memset(d, 0, sizeof(d));
	TAP_OK(paths_count_usable(d, 0, 3) == 0, "no descriptors: 0 usable");
	for (n = 0; n < 5; n++)
		d[n] = v4((uint8_t)n, 127, 0, 0, 1);
	TAP_OK(paths_count_usable(d, 1, 3) == 1 &&
	    paths_count_usable(d, 2, 3) == 2,
	    "loopback: every relay counts (a test network shares 127/8)");
	TAP_OK(paths_count_usable(d, 5, 3) == 3 &&
	    paths_count_usable(d, 5, 8) == 5 &&
	    paths_count_usable(d, 5, 100) == 5,
	    "counts stop at max, and max stops at ONION_MAX_HOPS");
	n = 0;
	d[n++] = v4(1, 10, 18, 0, 1);
	d[n++] = v4(2, 10, 18, 7, 9);		/* the same /16 */
	d[n++] = v4(3, 10, 19, 0, 1);
	d[n++] = v4(4, 10, 18, 200, 2);	/* the same /16 again */
	TAP_OK(paths_count_usable(d, n, 8) == 2,
	    "IPv4: no two relays of a path in one /16 (4 known, 2 usable)");
	d[n++] = v4(5, 10, 1, 0, 1);
	TAP_OK(paths_count_usable(d, n, 8) == 3 &&
	    paths_count_usable(d, n, 2) == 2, "another /16 adds one");
	d[0] = v4(1, 198, 18, 0, 1);
	d[1] = v4(2, 198, 18, 0, 9);		/* the same /24 */
	d[2] = v4(3, 198, 18, 1, 1);
	d[3] = v4(4, 198, 19, 0, 2);
	TAP_OK(paths_count_usable(d, 4, 8) == 3, "198.18.0.0/15 "
	    "(benchmarking): a /24 is a network (4 known, 3 usable)");
	d[0] = v4(1, 198, 17, 0, 1);
	d[1] = v4(2, 198, 17, 1, 1);		/* outside the range */
	TAP_OK(paths_count_usable(d, 2, 8) == 1, "198.17/16, beside it: "
	    "one network");
	n = 0;
	d[n++] = v6(1, 0x20010db8, 1);
	d[n++] = v6(2, 0x20010db8, 2);		/* the same /32 */
	d[n++] = v6(3, 0x20010db9, 1);
	d[n++] = v4(4, 192, 0, 2, 1);
	TAP_OK(paths_count_usable(d, n, 8) == 3,
	    "IPv6: one relay per /32; IPv4 and IPv6 never collide");
	memset(&d[0], 0, sizeof(d[0]));
	d[0].family = 6;
	d[0].addr[15] = 1;			/* ::1 */
	d[1] = d[0];
	TAP_OK(paths_count_usable(d, 2, 8) == 2, "::1 counts like 127/8");
}

static void
test_describe(void)
{
	struct paths_counts c = { .hops = 3, .peers = 1, .known = 1,
	    .usable = 1 };
	char buf[256];

	paths_describe_relays(&c, buf, sizeof(buf));
	TAP_OK(strcmp(buf, "1 relay known, 3 needed") == 0,
	    "relays: \"%s\"", buf);
	paths_describe(PATHS_STATUS_FEW, &c, buf, sizeof(buf));
	TAP_OK(strcmp(buf, "no onion path of 3 hops: 1 relay known, "
	    "3 needed") == 0, "too few: \"%s\"", buf);
	c.known = c.usable = 2;
	paths_describe(PATHS_STATUS_FEW, &c, buf, sizeof(buf));
	TAP_OK(strcmp(buf, "no onion path of 3 hops: 2 relays known, "
	    "3 needed") == 0, "plural: \"%s\"", buf);
	c.known = 5;
	paths_describe_relays(&c, buf, sizeof(buf));
	TAP_OK(strstr(buf, "5 relays known but only 2 in distinct "
	    "networks") == buf && strstr(buf, "3 needed") != NULL,
	    "known but in too few networks: \"%s\"", buf);
	c.known = c.usable = 0;
	c.peers = 5;
	paths_describe_relays(&c, buf, sizeof(buf));
	TAP_OK(strstr(buf, "0 relays known") == buf &&
	    strstr(buf, "5 peers") != NULL,
	    "peers that announce no relay: \"%s\"", buf);
	paths_describe(PATHS_STATUS_NOLINK, &c, buf, sizeof(buf));
	TAP_OK(strncmp(buf, "no peers", 8) == 0, "no link: \"%s\"", buf);
	c.known = c.usable = 7;
	paths_describe(PATHS_STATUS_UNBUILT, &c, buf, sizeof(buf));
	TAP_OK(strstr(buf, "no onion path of 3 hops could be built within "
	    "20 s (7 relays known") == buf && strstr(buf, "under way"),
	    "none built, none failed yet: \"%s\"", buf);
	c.last_fail = "not built in time";
	paths_describe(PATHS_STATUS_UNBUILT, &c, buf, sizeof(buf));
	TAP_OK(strstr(buf, "the last attempt failed: not built in time)") !=
	    NULL, "none built, with the last failure: \"%s\"", buf);
	paths_describe(PATHS_STATUS_LOST, &c, buf, sizeof(buf));
	TAP_OK(strstr(buf, "failed 4 times (the last: not built in time)") !=
	    NULL, "paths lost: \"%s\"", buf);
	paths_describe(3, &c, buf, sizeof(buf));
	TAP_OK(buf[0] == '\0', "a route status: nothing to say here");
	paths_describe(PATHS_STATUS_FEW, &c, buf, 12);
	TAP_OK(strlen(buf) == 11, "a short buffer: cut, terminated");
	TAP_OK((int)PATHS_STATUS_NOLINK > (int)ROUTE_STATUS_REFUSED, "paths statuses stay clear of "
	    "route statuses (an exit's FAIL carries those)");
}

int
main(void)
{
	test_usable();
	test_describe();
	return tap_done();
}
