/*
 * wire.h - the one bounds-checked reader for bytes from outside.
 *
 * Every parser of outside input (URIs, index blocks, later peer frames)
 * reads its fields through a struct wire_reader: a short read yields zeros
 * (or NULL) and sets r->bad, so a parser reads all its fields and checks
 * r->bad once at the end; no length arithmetic happens anywhere else.
 * Writers use the wire_put_* helpers on buffers whose size they own.
 */
#ifndef UMBRA_WIRE_H
#define UMBRA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire_reader {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static inline void
wire_reader_init(struct wire_reader *r, const void *buf, size_t len)
{
	r->p = buf;
	r->left = len;
	r->bad = false;
}

/* Returns a pointer to the next n bytes and moves past them, or NULL (and
 * sets r->bad) if fewer than n are left. */
const uint8_t *wire_read_bytes(struct wire_reader *r, size_t n);
uint8_t wire_read_u8(struct wire_reader *r);
uint16_t wire_read_u16(struct wire_reader *r);	/* big-endian */
uint32_t wire_read_u32(struct wire_reader *r);
uint64_t wire_read_u64(struct wire_reader *r);
/* True when every byte left is zero (canonical padding); consumes them. */
bool wire_read_zeros(struct wire_reader *r);

void wire_put_u16(uint8_t *p, uint16_t v);
void wire_put_u32(uint8_t *p, uint32_t v);
void wire_put_u64(uint8_t *p, uint64_t v);

#endif
