/* identity.c - see identity.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/identity.h"
#include "node/util.h"
#include "routing/location.h"

#define IDENTITY_FILE "identity.key"
#define IDENTITY_HEX (2 * crypto_sign_SECRETKEYBYTES)

static int
identity_read(struct identity *id, const char *path, const char **why)
{
	struct stat sb;
	size_t len = 0;
	char *hex = NULL;
	int rc = -1;

	if (stat(path, &sb) == 0 && (sb.st_mode & 077) != 0) {
		*why = "identity.key is readable by others (must be mode 0600)";
		return -1;
	}
	if (util_read_file(path, IDENTITY_HEX + 1, &hex, &len) != 0) {
		*why = "cannot read identity.key";
		return -1;
	}
	while (len > 0 && (hex[len - 1] == '\n' || hex[len - 1] == '\r'))
		len--;
	if (len != IDENTITY_HEX ||
	    sodium_hex2bin(id->sk, sizeof(id->sk), hex, len, NULL, NULL,
	    NULL) != 0 || crypto_sign_ed25519_sk_to_pk(id->pk, id->sk) != 0)
		*why = "identity.key is malformed";
	else
		rc = 0;
	sodium_memzero(hex, len);
	free(hex);
	return rc;
}

static int
identity_create(struct identity *id, const char *path, const char **why)
{
	char hex[IDENTITY_HEX + 2];
	int rc;

	crypto_sign_keypair(id->pk, id->sk);
	sodium_bin2hex(hex, sizeof(hex), id->sk, sizeof(id->sk));
	hex[IDENTITY_HEX] = '\n';
	rc = util_write_file(path, hex, IDENTITY_HEX + 1, 0600);
	sodium_memzero(hex, sizeof(hex));
	if (rc != 0)
		*why = "cannot write identity.key";
	return rc;
}

int
identity_load(struct identity *id, const char *datadir, const char **why)
{
	char *path = util_path(datadir, IDENTITY_FILE);
	struct stat sb;
	int rc;

	memset(id, 0, sizeof(*id));
	if (path == NULL) {
		*why = "out of memory";
		return -1;
	}
	if (stat(path, &sb) == 0)
		rc = identity_read(id, path, why);
	else if (errno == ENOENT)
		rc = identity_create(id, path, why);
	else {
		*why = "cannot stat identity.key";
		rc = -1;
	}
	free(path);
	if (rc != 0)
		return rc;
	sodium_bin2base64(id->name, sizeof(id->name), id->pk, sizeof(id->pk),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	id->location = location_of_identity(id->pk);
	return 0;
}

void
identity_wipe(struct identity *id)
{
	sodium_memzero(id->sk, sizeof(id->sk));
}
