/*
 * test_wire.c - the bounds-checked reader and the big-endian writers.
 */
#include <stdint.h>
#include <string.h>

#include "crypto/wire.h"
#include "tests/tap.h"

static void
test_exact_reads(void)
{
	static const uint8_t buf[] = {
		0x01,
		0x02, 0x03,
		0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0xfe, 0xff,
	};
	struct wire_reader r;
	const uint8_t *p;

	wire_reader_init(&r, buf, sizeof(buf));
	TAP_OK(!r.bad && r.left == sizeof(buf) && r.p == buf,
	    "wire_reader_init sets p, left, bad");
	TAP_OK(wire_read_u8(&r) == 0x01, "u8");
	TAP_OK(wire_read_u16(&r) == 0x0203, "u16 is big-endian");
	TAP_OK(wire_read_u32(&r) == 0x04050607u, "u32 is big-endian");
	TAP_OK(wire_read_u64(&r) == UINT64_C(0x08090a0b0c0d0e0f),
	    "u64 is big-endian");
	TAP_OK(r.left == 2 && !r.bad, "15 bytes consumed, 2 left");
	p = wire_read_bytes(&r, 2);
	TAP_OK(p == buf + 15 && p[0] == 0xfe && p[1] == 0xff,
	    "bytes: exact read of the rest returns the right pointer");
	TAP_OK(r.left == 0 && !r.bad, "reader at the end, not bad");
	p = wire_read_bytes(&r, 0);
	TAP_OK(p != NULL && !r.bad && r.left == 0,
	    "a zero-length read at the end succeeds");
	TAP_OK(wire_read_zeros(&r) && !r.bad,
	    "wire_read_zeros on nothing left is true");
	TAP_OK(wire_read_u8(&r) == 0 && r.bad, "u8 past the end: 0, bad");
}

static void
test_high_values(void)
{
	static const uint8_t ff[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff };
	static const uint8_t msb[8] = { 0x80, 0, 0, 0, 0, 0, 0, 0x01 };
	struct wire_reader r;

	wire_reader_init(&r, ff, 8);
	TAP_OK(wire_read_u64(&r) == UINT64_MAX && !r.bad, "u64 all ones");
	wire_reader_init(&r, ff, 8);
	TAP_OK(wire_read_u16(&r) == 0xffff && wire_read_u32(&r) == 0xffffffffu &&
	    wire_read_u8(&r) == 0xff && wire_read_u8(&r) == 0xff && !r.bad,
	    "u16, u32, u8, u8 all ones");
	wire_reader_init(&r, msb, 8);
	TAP_OK(wire_read_u64(&r) == UINT64_C(0x8000000000000001),
	    "u64 top and bottom bits in the right places");
	wire_reader_init(&r, msb, 8);
	TAP_OK(wire_read_u32(&r) == 0x80000000u && wire_read_u32(&r) == 1,
	    "u32 pair from the same bytes");
}

/* A read of n bytes from a buffer of n - 1 fails, sets bad, returns zero,
 * and every later read fails too, even one that would fit. */
static void
test_short_reads(void)
{
	static const uint8_t buf[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13, 14, 15, 16 };
	static const size_t widths[] = { 1, 2, 4, 8 };
	struct wire_reader r;
	uint64_t v = 0;

	for (size_t k = 0; k < sizeof(widths) / sizeof(widths[0]); k++) {
		size_t w = widths[k];

		wire_reader_init(&r, buf, w - 1);
		switch (w) {
		case 1: v = wire_read_u8(&r); break;
		case 2: v = wire_read_u16(&r); break;
		case 4: v = wire_read_u32(&r); break;
		case 8: v = wire_read_u64(&r); break;
		}
		TAP_OK(v == 0 && r.bad, "u%zu from %zu bytes: 0 and bad",
		    w * 8, w - 1);
		TAP_OK(wire_read_bytes(&r, 0) == NULL && r.bad,
		    "after a short u%zu even a 0-byte read fails", w * 8);

		wire_reader_init(&r, buf, w);
		switch (w) {
		case 1: v = wire_read_u8(&r); break;
		case 2: v = wire_read_u16(&r); break;
		case 4: v = wire_read_u32(&r); break;
		case 8: v = wire_read_u64(&r); break;
		}
		TAP_OK(v != 0 && !r.bad && r.left == 0,
		    "u%zu from exactly %zu bytes succeeds", w * 8, w);
	}

	wire_reader_init(&r, buf, 5);
	TAP_OK(wire_read_bytes(&r, 6) == NULL && r.bad,
	    "bytes: 6 from 5 gives NULL and bad");
	TAP_OK(wire_read_u8(&r) == 0 && wire_read_u16(&r) == 0 &&
	    wire_read_u32(&r) == 0 && wire_read_u64(&r) == 0,
	    "all later reads give 0");
	TAP_OK(wire_read_bytes(&r, 1) == NULL && r.bad,
	    "a later 1-byte read that would have fitted fails");
	TAP_OK(!wire_read_zeros(&r) && r.bad, "wire_read_zeros on a bad reader "
	    "is false");

	wire_reader_init(&r, buf, 5);
	TAP_OK(wire_read_u32(&r) == 0x01020304u && !r.bad,
	    "u32 from 5 bytes ok");
	TAP_OK(wire_read_u16(&r) == 0 && r.bad, "then u16 from 1 byte fails");
	TAP_OK(wire_read_u8(&r) == 0 && r.bad,
	    "then u8 fails although 1 byte was left");

	wire_reader_init(&r, buf, 4);
	TAP_OK(wire_read_bytes(&r, SIZE_MAX) == NULL && r.bad,
	    "bytes: SIZE_MAX gives NULL (no wrap-around)");

	wire_reader_init(&r, NULL, 0);
	TAP_OK(wire_read_u8(&r) == 0 && r.bad, "empty reader: u8 fails");
}

static void
test_zeros(void)
{
	uint8_t buf[64];
	struct wire_reader r;

	memset(buf, 0, sizeof(buf));
	wire_reader_init(&r, buf, sizeof(buf));
	TAP_OK(wire_read_zeros(&r) && !r.bad && r.left == 0,
	    "zeros: all-zero buffer true, consumed");

	buf[0] = 7;
	wire_reader_init(&r, buf, sizeof(buf));
	(void)wire_read_u8(&r);
	TAP_OK(wire_read_zeros(&r) && r.left == 0,
	    "zeros: looks only at what is left");

	wire_reader_init(&r, buf, sizeof(buf));
	TAP_OK(!wire_read_zeros(&r) && !r.bad && r.left == 0,
	    "zeros: non-zero first byte false (not bad), consumed");

	buf[0] = 0;
	buf[63] = 0x80;
	wire_reader_init(&r, buf, sizeof(buf));
	TAP_OK(!wire_read_zeros(&r), "zeros: non-zero last byte false");

	buf[63] = 0;
	buf[31] = 1;
	wire_reader_init(&r, buf, sizeof(buf));
	TAP_OK(!wire_read_zeros(&r), "zeros: non-zero middle byte false");

	wire_reader_init(&r, buf, 31);
	TAP_OK(wire_read_zeros(&r), "zeros: bounded by the reader's length");
}

static void
test_put(void)
{
	uint8_t buf[16];
	struct wire_reader r;
	static const uint8_t want[14] = { 0x12, 0x34, 0x89, 0xab, 0xcd, 0xef,
	    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

	memset(buf, 0xaa, sizeof(buf));
	wire_put_u16(buf, 0x1234);
	wire_put_u32(buf + 2, 0x89abcdefu);
	wire_put_u64(buf + 6, UINT64_C(0x0123456789abcdef));
	TAP_OK(memcmp(buf, want, sizeof(want)) == 0,
	    "put u16, u32, u64 write big-endian");
	TAP_OK(buf[14] == 0xaa && buf[15] == 0xaa,
	    "put writes no byte past its field");

	wire_reader_init(&r, buf, 14);
	TAP_OK(wire_read_u16(&r) == 0x1234 &&
	    wire_read_u32(&r) == 0x89abcdefu &&
	    wire_read_u64(&r) == UINT64_C(0x0123456789abcdef) &&
	    !r.bad && r.left == 0, "put/read round trip");

	/* A spread of values through every width. */
	{
		uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
		int ok = 1;

		for (int i = 0; i < 1000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			wire_put_u16(buf, (uint16_t)x);
			wire_put_u32(buf + 2, (uint32_t)x);
			wire_put_u64(buf + 6, x);
			wire_reader_init(&r, buf, 14);
			if (wire_read_u16(&r) != (uint16_t)x ||
			    wire_read_u32(&r) != (uint32_t)x ||
			    wire_read_u64(&r) != x || r.bad)
				ok = 0;
		}
		TAP_OK(ok, "1000 pseudo-random values round trip");
	}
	wire_put_u64(buf, 0);
	wire_reader_init(&r, buf, 8);
	TAP_OK(wire_read_u64(&r) == 0 && !r.bad, "0 round trips");
	wire_put_u64(buf, UINT64_MAX);
	wire_reader_init(&r, buf, 8);
	TAP_OK(wire_read_u64(&r) == UINT64_MAX && !r.bad,
	    "UINT64_MAX round trips");
}

int
main(void)
{
	test_exact_reads();
	test_high_values();
	test_short_reads();
	test_zeros();
	test_put();
	return tap_done();
}
