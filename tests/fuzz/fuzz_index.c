/*
 * fuzz_index.c - chk_index_parse() on arbitrary index blocks.
 *
 * Input: 2 bytes big-endian choose n (the low 10 bits, so 0..1023, half
 * of them out of range; with the top bit set the whole 16-bit value),
 * the rest is the plaintext block, zero-padded or cut to CHK_BLOCK_SIZE.
 * The result must agree with a plain reference check, and an accepted
 * block must be exactly the re-serialised references.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/chk.h"
#include "tests/fuzz/fuzz.h"

static bool
all_zero(const uint8_t *p, size_t n)
{
	static const uint8_t zero[CHK_BLOCK_SIZE];

	return memcmp(p, zero, n) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t block[CHK_BLOCK_SIZE], again[CHK_BLOCK_SIZE];
	static struct chk_ref refs[CHK_FANOUT];
	size_t n, len;
	bool want_ok;
	int rc;

	if (size < 2)
		return 0;
	n = (size_t)data[0] << 8 | data[1];
	if (!(n & 0x8000))
		n &= 0x3ff;
	len = size - 2 < CHK_BLOCK_SIZE ? size - 2 : CHK_BLOCK_SIZE;
	memset(block, 0, sizeof(block));
	memcpy(block, data + 2, len);

	want_ok = n >= 1 && n <= CHK_FANOUT &&
	    all_zero(block + n * CHK_ENTRY_SIZE,
	    CHK_BLOCK_SIZE - n * CHK_ENTRY_SIZE);
	for (size_t i = 0; want_ok && i < n; i++)
		if (all_zero(block + i * CHK_ENTRY_SIZE, CHK_ENTRY_SIZE))
			want_ok = false;

	rc = chk_index_parse(block, n, refs);
	if (rc != CHK_OK && rc != CHK_EFORMAT)
		abort();
	if ((rc == CHK_OK) != want_ok)
		abort();
	if (rc != CHK_OK)
		return 0;
	memset(again, 0, sizeof(again));
	for (size_t i = 0; i < n; i++) {
		memcpy(again + i * CHK_ENTRY_SIZE, refs[i].rkey, CHK_KEY_SIZE);
		memcpy(again + i * CHK_ENTRY_SIZE + CHK_KEY_SIZE, refs[i].ckey,
		    CHK_KEY_SIZE);
	}
	if (memcmp(again, block, CHK_BLOCK_SIZE) != 0)
		abort();
	return 0;
}
