/*
 * identity.h - the node's long-term Ed25519 identity.
 *
 * Kept in DATADIR/identity.key (mode 0600, 64-byte libsodium secret key
 * in hex); made on first start. The public key, in unpadded URL-safe
 * base64, is the node's name in status output; its location on the
 * routing circle derives from it (routing/location.h).
 */
#ifndef UMBRA_IDENTITY_H
#define UMBRA_IDENTITY_H

#include <stdint.h>

#include <sodium.h>

struct identity {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char name[64];		/* base64url of pk */
	double location;
};

/* Loads or creates the identity in datadir. On failure returns -1 with a
 * reason in *why (a static string). */
int identity_load(struct identity *id, const char *datadir, const char **why);
/* Wipes the secret key. */
void identity_wipe(struct identity *id);

#endif
