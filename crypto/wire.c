/* wire.c - see wire.h. */
#include "crypto/wire.h"

const uint8_t *
wire_read_bytes(struct wire_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static uint64_t
wire_read_be(struct wire_reader *r, size_t n)
{
	const uint8_t *p = wire_read_bytes(r, n);
	uint64_t v = 0;

	if (p == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

uint8_t wire_read_u8(struct wire_reader *r) { return (uint8_t)wire_read_be(r, 1); }
uint16_t wire_read_u16(struct wire_reader *r) { return (uint16_t)wire_read_be(r, 2); }
uint32_t wire_read_u32(struct wire_reader *r) { return (uint32_t)wire_read_be(r, 4); }
uint64_t wire_read_u64(struct wire_reader *r) { return wire_read_be(r, 8); }

bool
wire_read_zeros(struct wire_reader *r)
{
	size_t n = r->left;
	const uint8_t *p = wire_read_bytes(r, n);
	uint8_t acc = 0;

	for (size_t i = 0; p != NULL && i < n; i++)
		acc |= p[i];
	return !r->bad && acc == 0;
}

static void
wire_put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

void wire_put_u16(uint8_t *p, uint16_t v) { wire_put_be(p, v, 2); }
void wire_put_u32(uint8_t *p, uint32_t v) { wire_put_be(p, v, 4); }
void wire_put_u64(uint8_t *p, uint64_t v) { wire_put_be(p, v, 8); }
