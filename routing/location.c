/* location.c - see location.h. */
#include <sodium.h>

#include "routing/location.h"

/* The first 53 bits of SHA-256(tag || key), as a fraction: exactly
 * representable in a double, uniform on [0, 1). */
static double
location_hash(const char *tag, size_t taglen, const uint8_t key[32])
{
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];
	uint64_t v = 0;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)tag, taglen);
	crypto_hash_sha256_update(&st, key, 32);
	crypto_hash_sha256_final(&st, h);
	for (int i = 0; i < 8; i++)
		v = (v << 8) | h[i];
	return (double)(v >> 11) / 9007199254740992.0;	/* 2^53 */
}

double
location_of_identity(const uint8_t pubkey[32])
{
	static const char tag[] = "umbra location v1 node";

	return location_hash(tag, sizeof(tag) - 1, pubkey);
}

double
location_of_rkey(const uint8_t rkey[32])
{
	static const char tag[] = "umbra location v1 key";

	return location_hash(tag, sizeof(tag) - 1, rkey);
}

double
location_distance(double a, double b)
{
	double d = a > b ? a - b : b - a;

	return d > 0.5 ? 1.0 - d : d;
}
