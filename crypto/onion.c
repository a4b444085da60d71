/* onion.c - see onion.h and docs/onion.md ("Keys", "The build message",
 * "Cells"). */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/link.h"
#include "crypto/onion.h"
#include "crypto/wire.h"

_Static_assert(ONION_RECORD_BYTES == 248 && ONION_BUILD_BYTES == 1984 &&
    ONION_RESERVED_BYTES == 148, "record sizes of docs/onion.md");
_Static_assert(ONION_CELL_LARGE_BYTES >=
    ONION_CELL_HEADER_BYTES + LINK_BLOCK_BYTES, "a block fits a large cell");
_Static_assert(ONION_CELL_SMALL_BYTES + ONION_PATH_ID_BYTES ==
    LINK_PLAIN1_BYTES - LINK_FRAME_HEADERBYTES &&
    ONION_CELL_LARGE_BYTES + ONION_PATH_ID_BYTES == LINK_BODY_MAX,
    "a small cell fills a class-1 frame, a large one a class-2 frame");
_Static_assert(ONION_DESC_SIGNED_BYTES == 91 && ONION_DESC_BYTES == 155 &&
    sizeof(ONION_DESC_CONTEXT) - 1 == ONION_DESC_CONTEXTBYTES,
    "descriptor sizes of docs/onion.md");

#define ONION_NONCEBYTES crypto_aead_chacha20poly1305_ietf_NPUBBYTES
#define ONION_HASHBYTES 32
#define OFF_DIGEST 2		/* after recognized u16 */

/* Every key of one hop; rec and peel never leave this file. */
struct onion_keyset {
	uint8_t rec[ONION_KEYBYTES];
	uint8_t peel[ONION_KEYBYTES];
	struct onion_hop_keys cell;
};

static const uint8_t nonce0[ONION_NONCEBYTES];

/* k = BLAKE2b-256 keyed with s over h | label. */
static void
onion_kdf(uint8_t out[ONION_KEYBYTES], const uint8_t s[ONION_KEYBYTES],
    const uint8_t h[ONION_HASHBYTES], const char *label)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, s, ONION_KEYBYTES, ONION_KEYBYTES);
	crypto_generichash_update(&st, h, ONION_HASHBYTES);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_final(&st, out, ONION_KEYBYTES);
	sodium_memzero(&st, sizeof(st));
}

/* s = X25519(sk, pk), all zeros refused; then the five keys. */
static int
onion_derive(struct onion_keyset *ks, const uint8_t sk[32],
    const uint8_t pk[32], const uint8_t e_pub[32], const uint8_t onion_pk[32])
{
	uint8_t s[crypto_scalarmult_BYTES], h[ONION_HASHBYTES];
	crypto_generichash_state st;
	int rc = ONION_OK;

	if (crypto_scalarmult(s, sk, pk) != 0 ||
	    sodium_is_zero(s, sizeof(s))) {
		rc = ONION_EKEY;
		goto out;
	}
	crypto_generichash_init(&st, NULL, 0, ONION_HASHBYTES);
	crypto_generichash_update(&st, e_pub, ONION_PUBLICKEYBYTES);
	crypto_generichash_update(&st, onion_pk, ONION_PUBLICKEYBYTES);
	crypto_generichash_final(&st, h, ONION_HASHBYTES);
	onion_kdf(ks->rec, s, h, "rec");
	onion_kdf(ks->peel, s, h, "peel");
	onion_kdf(ks->cell.k_fwd, s, h, "fwd");
	onion_kdf(ks->cell.k_back, s, h, "back");
	onion_kdf(ks->cell.k_dig, s, h, "dig");
out:
	sodium_memzero(s, sizeof(s));
	return rc;
}

static void
onion_instr_encode(uint8_t plain[ONION_PLAIN_BYTES],
    const struct onion_instr *in)
{
	uint8_t *p = plain;

	memset(plain, 0, ONION_PLAIN_BYTES);
	*p++ = in->flags;
	memcpy(p, in->next_id, ONION_IDBYTES);
	p += ONION_IDBYTES;
	*p++ = in->family;
	memcpy(p, in->addr, ONION_ADDRBYTES);
	p += ONION_ADDRBYTES;
	wire_put_u16(p, in->port);
}

static int
onion_instr_decode(struct onion_instr *out,
    const uint8_t plain[ONION_PLAIN_BYTES])
{
	struct wire_reader r;
	struct onion_instr in;
	const uint8_t *id, *addr;

	wire_reader_init(&r, plain, ONION_PLAIN_BYTES);
	in.flags = wire_read_u8(&r);
	id = wire_read_bytes(&r, ONION_IDBYTES);
	in.family = wire_read_u8(&r);
	addr = wire_read_bytes(&r, ONION_ADDRBYTES);
	in.port = wire_read_u16(&r);
	if (r.bad || !wire_read_zeros(&r) ||
	    (in.flags & ~ONION_FLAG_EXIT) != 0)
		return ONION_EFORMAT;
	memcpy(in.next_id, id, ONION_IDBYTES);
	memcpy(in.addr, addr, ONION_ADDRBYTES);
	*out = in;
	return ONION_OK;
}

/* rec = e_pub | AEAD(k_rec, nonce 0, aad e_pub, instruction). */
static void
onion_record_seal(uint8_t rec[ONION_RECORD_BYTES], const uint8_t e_pub[32],
    const uint8_t k_rec[ONION_KEYBYTES], const struct onion_instr *in)
{
	uint8_t plain[ONION_PLAIN_BYTES];

	onion_instr_encode(plain, in);
	memcpy(rec, e_pub, ONION_PUBLICKEYBYTES);
	crypto_aead_chacha20poly1305_ietf_encrypt(rec + ONION_PUBLICKEYBYTES,
	    NULL, plain, sizeof(plain), e_pub, ONION_PUBLICKEYBYTES, NULL,
	    nonce0, k_rec);
	sodium_memzero(plain, sizeof(plain));
}

/* Record i goes out masked with the k_peel stream of every hop j < i, at
 * the offset where hop j's XOR will meet it: (i - 1 - j) records in. */
static void
onion_premask(uint8_t msg[ONION_BUILD_BYTES],
    uint8_t peel[ONION_MAX_HOPS][ONION_KEYBYTES], size_t n)
{
	uint8_t s[ONION_PEEL_BYTES];

	for (size_t j = 0; j + 1 < n; j++) {
		crypto_stream_chacha20_ietf(s, sizeof(s), nonce0, peel[j]);
		for (size_t i = j + 1; i < n; i++) {
			uint8_t *rec = msg + i * ONION_RECORD_BYTES;
			const uint8_t *ks = s + (i - 1 - j) * ONION_RECORD_BYTES;

			for (size_t q = 0; q < ONION_RECORD_BYTES; q++)
				rec[q] ^= ks[q];
		}
	}
	sodium_memzero(s, sizeof(s));
}

static int
onion_make_args(const struct onion_build_hop *hops, size_t n,
    const void *e_sk, const uint8_t *unused, const uint8_t *msg,
    const struct onion_hop_keys *keys)
{
	if (hops == NULL || n < 1 || n > ONION_MAX_HOPS || e_sk == NULL ||
	    msg == NULL || keys == NULL || (n < ONION_MAX_HOPS && unused == NULL))
		return ONION_EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((hops[i].instr.flags & ~ONION_FLAG_EXIT) != 0)
			return ONION_EINVAL;
	return ONION_OK;
}

int
onion_build_make_with_ephemeral(const struct onion_build_hop *hops,
    size_t n, const uint8_t (*e_sk)[ONION_SECRETKEYBYTES],
    const uint8_t *unused, uint8_t msg[ONION_BUILD_BYTES],
    struct onion_hop_keys *keys)
{
	uint8_t peel[ONION_MAX_HOPS][ONION_KEYBYTES];
	uint8_t e_pub[ONION_PUBLICKEYBYTES];
	struct onion_keyset ks;
	int rc;

	if ((rc = onion_make_args(hops, n, e_sk, unused, msg, keys)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		crypto_scalarmult_base(e_pub, e_sk[i]);
		rc = onion_derive(&ks, e_sk[i], hops[i].onion_pk, e_pub,
		    hops[i].onion_pk);
		if (rc != ONION_OK)
			goto fail;
		onion_record_seal(msg + i * ONION_RECORD_BYTES, e_pub, ks.rec,
		    &hops[i].instr);
		memcpy(peel[i], ks.peel, ONION_KEYBYTES);
		keys[i] = ks.cell;
	}
	if (n < ONION_MAX_HOPS)
		memcpy(msg + n * ONION_RECORD_BYTES, unused,
		    (ONION_MAX_HOPS - n) * ONION_RECORD_BYTES);
	onion_premask(msg, peel, n);
	goto out;
fail:
	sodium_memzero(msg, ONION_BUILD_BYTES);
	sodium_memzero(keys, n * sizeof(*keys));
out:
	sodium_memzero(&ks, sizeof(ks));
	sodium_memzero(peel, sizeof(peel));
	return rc;
}

int
onion_build_make(const struct onion_build_hop *hops, size_t n,
    uint8_t msg[ONION_BUILD_BYTES], struct onion_hop_keys *keys)
{
	uint8_t e_sk[ONION_MAX_HOPS][ONION_SECRETKEYBYTES];
	uint8_t unused[ONION_BUILD_BYTES];
	int rc;

	randombytes_buf(e_sk, sizeof(e_sk));
	randombytes_buf(unused, sizeof(unused));
	rc = onion_build_make_with_ephemeral(hops, n,
	    (const uint8_t (*)[ONION_SECRETKEYBYTES])e_sk, unused, msg, keys);
	sodium_memzero(e_sk, sizeof(e_sk));
	return rc;
}

/* Drops record 0, shifts, appends the filler, XORs with k_peel's stream. */
static void
onion_rewrite(uint8_t msg[ONION_BUILD_BYTES], const uint8_t *filler,
    const uint8_t k_peel[ONION_KEYBYTES])
{
	memmove(msg, msg + ONION_RECORD_BYTES, ONION_PEEL_BYTES);
	memcpy(msg + ONION_PEEL_BYTES, filler, ONION_RECORD_BYTES);
	crypto_stream_chacha20_ietf_xor(msg, msg, ONION_PEEL_BYTES, nonce0,
	    k_peel);
}

int
onion_build_open_with_filler(const uint8_t onion_sk[ONION_SECRETKEYBYTES],
    uint8_t msg[ONION_BUILD_BYTES], const uint8_t filler[ONION_RECORD_BYTES],
    struct onion_instr *instr, struct onion_hop_keys *keys)
{
	uint8_t onion_pk[ONION_PUBLICKEYBYTES], plain[ONION_PLAIN_BYTES];
	struct onion_keyset ks;
	struct wire_reader r;
	const uint8_t *e_pub, *box;
	int rc;

	if (onion_sk == NULL || msg == NULL || filler == NULL ||
	    instr == NULL || keys == NULL)
		return ONION_EINVAL;
	wire_reader_init(&r, msg, ONION_BUILD_BYTES);
	e_pub = wire_read_bytes(&r, ONION_PUBLICKEYBYTES);
	box = wire_read_bytes(&r, ONION_PLAIN_BYTES + ONION_ABYTES);
	if (r.bad)
		return ONION_EINVAL;	/* cannot happen: sizes are fixed */
	crypto_scalarmult_base(onion_pk, onion_sk);
	if ((rc = onion_derive(&ks, onion_sk, e_pub, e_pub, onion_pk)) != 0)
		goto out;
	if (crypto_aead_chacha20poly1305_ietf_decrypt(plain, NULL, NULL, box,
	    ONION_PLAIN_BYTES + ONION_ABYTES, e_pub, ONION_PUBLICKEYBYTES,
	    nonce0, ks.rec) != 0) {
		rc = ONION_EAUTH;
		goto out;
	}
	if ((rc = onion_instr_decode(instr, plain)) != ONION_OK)
		goto out;
	onion_rewrite(msg, filler, ks.peel);
	*keys = ks.cell;
out:
	sodium_memzero(&ks, sizeof(ks));
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

int
onion_build_open(const uint8_t onion_sk[ONION_SECRETKEYBYTES],
    uint8_t msg[ONION_BUILD_BYTES], struct onion_instr *instr,
    struct onion_hop_keys *keys)
{
	uint8_t filler[ONION_RECORD_BYTES];

	randombytes_buf(filler, sizeof(filler));
	return onion_build_open_with_filler(onion_sk, msg, filler, instr,
	    keys);
}

void
onion_dir_init(struct onion_dir *d, const uint8_t k_dig[ONION_KEYBYTES])
{
	memset(d, 0, sizeof(*d));
	crypto_generichash_init(&d->dig, k_dig, ONION_KEYBYTES,
	    ONION_HASHBYTES);
	d->ctr = 0;
}

void
onion_dir_wipe(struct onion_dir *d)
{
	sodium_memzero(d, sizeof(*d));
}

void
onion_hop_keys_wipe(struct onion_hop_keys *keys)
{
	sodium_memzero(keys, sizeof(*keys));
}

static bool
onion_cell_size_ok(const uint8_t *payload, size_t size)
{
	return payload != NULL &&
	    (size == ONION_CELL_SMALL_BYTES || size == ONION_CELL_LARGE_BYTES);
}

/* Takes the payload (digest field as zeros) into *st and writes the first
 * 8 bytes of the hash so far to out. */
static void
onion_digest(crypto_generichash_state *st, const uint8_t *payload,
    size_t size, uint8_t out[ONION_DIGEST_BYTES])
{
	static const uint8_t zero[ONION_DIGEST_BYTES];
	crypto_generichash_state fin;
	uint8_t h[ONION_HASHBYTES];

	crypto_generichash_update(st, payload, OFF_DIGEST);
	crypto_generichash_update(st, zero, sizeof(zero));
	crypto_generichash_update(st, payload + OFF_DIGEST + ONION_DIGEST_BYTES,
	    size - OFF_DIGEST - ONION_DIGEST_BYTES);
	fin = *st;
	crypto_generichash_final(&fin, h, sizeof(h));
	memcpy(out, h, ONION_DIGEST_BYTES);
	sodium_memzero(&fin, sizeof(fin));
	sodium_memzero(h, sizeof(h));
}

/*
 * One ChaCha20 layer, nonce = ctr little-endian in the 12-byte nonce,
 * block counter 0. OpenSSL's ChaCha20 runs three times as fast as
 * libsodium's here (docs/bench.md: chacha20_ossl), and a relay's work on
 * a cell is mostly this; its IV is the 32-bit block counter, then the
 * nonce. Should OpenSSL fail (out of memory), libsodium's stream, the
 * same bytes, serves.
 */
static void
onion_layer(uint8_t *payload, size_t size, uint64_t ctr,
    const uint8_t k[ONION_KEYBYTES])
{
	uint8_t iv[4 + ONION_NONCEBYTES] = { 0 };
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0;
	bool ok;

	for (size_t i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(ctr >> (8 * i));
	ok = ctx != NULL && size <= INT_MAX &&
	    EVP_EncryptInit_ex(ctx, EVP_chacha20(), NULL, k, iv) == 1 &&
	    EVP_EncryptUpdate(ctx, payload, &len, payload, (int)size) == 1 &&
	    (size_t)len == size;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		crypto_stream_chacha20_ietf_xor(payload, payload, size, iv + 4,
		    k);
}

/* recognized == 0 and the digest matches: the cell is taken into *d. */
static bool
onion_recognize(struct onion_dir *d, const uint8_t *payload, size_t size)
{
	crypto_generichash_state trial = d->dig;
	uint8_t want[ONION_DIGEST_BYTES];
	bool ok;

	onion_digest(&trial, payload, size, want);
	ok = payload[0] == 0 && payload[1] == 0 &&
	    sodium_memcmp(want, payload + OFF_DIGEST, sizeof(want)) == 0;
	if (ok)
		d->dig = trial;
	sodium_memzero(&trial, sizeof(trial));
	return ok;
}

int
onion_cell_wrap_fwd(const struct onion_hop_keys *keys, size_t n,
    struct onion_dir *fwd, uint8_t *payload, size_t size)
{
	if (keys == NULL || fwd == NULL || n < 1 || n > ONION_MAX_HOPS)
		return ONION_EINVAL;
	if (!onion_cell_size_ok(payload, size))
		return ONION_ELEN;
	onion_digest(&fwd->dig, payload, size, payload + OFF_DIGEST);
	for (size_t i = n; i-- > 0;)
		onion_layer(payload, size, fwd->ctr, keys[i].k_fwd);
	fwd->ctr++;
	return ONION_OK;
}

int
onion_cell_peel_fwd(const struct onion_hop_keys *keys,
    struct onion_dir *fwd, uint8_t *payload, size_t size)
{
	if (keys == NULL || fwd == NULL)
		return ONION_EINVAL;
	if (!onion_cell_size_ok(payload, size))
		return ONION_ELEN;
	onion_layer(payload, size, fwd->ctr++, keys->k_fwd);
	return onion_recognize(fwd, payload, size) ? ONION_CELL_RECOGNIZED :
	    ONION_CELL_PASS_ON;
}

int
onion_cell_seal_back(const struct onion_hop_keys *keys,
    struct onion_dir *back, uint8_t *payload, size_t size)
{
	if (keys == NULL || back == NULL)
		return ONION_EINVAL;
	if (!onion_cell_size_ok(payload, size))
		return ONION_ELEN;
	onion_digest(&back->dig, payload, size, payload + OFF_DIGEST);
	onion_layer(payload, size, back->ctr++, keys->k_back);
	return ONION_OK;
}

int
onion_cell_wrap_back(const struct onion_hop_keys *keys,
    struct onion_dir *back, uint8_t *payload, size_t size)
{
	if (keys == NULL || back == NULL)
		return ONION_EINVAL;
	if (!onion_cell_size_ok(payload, size))
		return ONION_ELEN;
	onion_layer(payload, size, back->ctr++, keys->k_back);
	return ONION_OK;
}

int
onion_cell_open_back(const struct onion_hop_keys *keys, size_t n,
    struct onion_dir *back, uint8_t *payload, size_t size)
{
	if (keys == NULL || back == NULL || n < 1 || n > ONION_MAX_HOPS)
		return ONION_EINVAL;
	if (!onion_cell_size_ok(payload, size))
		return ONION_ELEN;
	for (size_t i = 0; i < n; i++)
		onion_layer(payload, size, back->ctr, keys[i].k_back);
	back->ctr++;
	return onion_recognize(back, payload, size) ? ONION_OK : ONION_EAUTH;
}

int
onion_cell_format(uint8_t *payload, size_t size, uint8_t cmd,
    uint32_t stream, const uint8_t *body, size_t len)
{
	if (!onion_cell_size_ok(payload, size))
		return ONION_ELEN;
	if (len > size - ONION_CELL_HEADER_BYTES || len > UINT16_MAX ||
	    (len > 0 && body == NULL))
		return ONION_EFORMAT;
	memset(payload, 0, size);
	wire_put_u32(payload + 10, stream);
	payload[14] = cmd;
	wire_put_u16(payload + 15, (uint16_t)len);
	if (len > 0)
		memcpy(payload + ONION_CELL_HEADER_BYTES, body, len);
	return ONION_OK;
}

int
onion_cell_parse(const uint8_t *payload, size_t size, uint8_t *cmd,
    uint32_t *stream, const uint8_t **body, size_t *len)
{
	struct wire_reader r;
	uint16_t recognized, n;
	uint32_t st;
	uint8_t c;
	const uint8_t *b;

	if (!onion_cell_size_ok(payload, size))
		return ONION_ELEN;
	wire_reader_init(&r, payload, size);
	recognized = wire_read_u16(&r);
	(void)wire_read_bytes(&r, ONION_DIGEST_BYTES);
	st = wire_read_u32(&r);
	c = wire_read_u8(&r);
	n = wire_read_u16(&r);
	b = wire_read_bytes(&r, n);
	if (r.bad || recognized != 0)
		return ONION_EFORMAT;
	if (!wire_read_zeros(&r))
		return ONION_EPADDING;
	*cmd = c;
	*stream = st;
	*body = b;
	*len = n;
	return ONION_OK;
}

/* Relay descriptors. */

/* Family 4 or 6, and an IPv4 address zero past its 4 bytes. */
static bool
onion_desc_addr_ok(const struct onion_desc *d)
{
	if (d->family == 6)
		return true;
	return d->family == 4 &&
	    sodium_is_zero(d->addr + 4, ONION_ADDRBYTES - 4);
}

int
onion_desc_encode(const struct onion_desc *d, uint8_t out[ONION_DESC_BYTES])
{
	uint8_t *p = out;

	if (d == NULL || out == NULL)
		return ONION_EINVAL;
	if (!onion_desc_addr_ok(d))
		return ONION_EFORMAT;
	memcpy(p, d->identity, ONION_IDBYTES);
	p += ONION_IDBYTES;
	memcpy(p, d->onion_pk, ONION_PUBLICKEYBYTES);
	p += ONION_PUBLICKEYBYTES;
	wire_put_u64(p, d->not_after);
	p += 8;
	*p++ = d->family;
	memcpy(p, d->addr, ONION_ADDRBYTES);
	p += ONION_ADDRBYTES;
	wire_put_u16(p, d->port);
	p += 2;
	memcpy(p, d->sig, ONION_SIGBYTES);
	return ONION_OK;
}

static void
onion_read_copy(struct wire_reader *r, void *dst, size_t n)
{
	const uint8_t *p = wire_read_bytes(r, n);

	if (p != NULL)
		memcpy(dst, p, n);
}

int
onion_desc_decode(const uint8_t *in, size_t len, struct onion_desc *d)
{
	struct wire_reader r;

	if (d == NULL || (in == NULL && len != 0))
		return ONION_EINVAL;
	memset(d, 0, sizeof(*d));
	wire_reader_init(&r, in, len);
	onion_read_copy(&r, d->identity, ONION_IDBYTES);
	onion_read_copy(&r, d->onion_pk, ONION_PUBLICKEYBYTES);
	d->not_after = wire_read_u64(&r);
	d->family = wire_read_u8(&r);
	onion_read_copy(&r, d->addr, ONION_ADDRBYTES);
	d->port = wire_read_u16(&r);
	onion_read_copy(&r, d->sig, ONION_SIGBYTES);
	if (r.bad || r.left != 0 || !onion_desc_addr_ok(d)) {
		memset(d, 0, sizeof(*d));
		return ONION_EFORMAT;
	}
	return ONION_OK;
}

/* The signed message: the context, then the fields before the signature. */
static int
onion_desc_message(const struct onion_desc *d,
    uint8_t m[ONION_DESC_CONTEXTBYTES + ONION_DESC_BYTES])
{
	memcpy(m, ONION_DESC_CONTEXT, ONION_DESC_CONTEXTBYTES);
	return onion_desc_encode(d, m + ONION_DESC_CONTEXTBYTES);
}

#define ONION_DESC_MSGBYTES (ONION_DESC_CONTEXTBYTES + ONION_DESC_SIGNED_BYTES)

int
onion_desc_sign(struct onion_desc *d,
    const uint8_t identity_sk[crypto_sign_SECRETKEYBYTES])
{
	uint8_t m[ONION_DESC_CONTEXTBYTES + ONION_DESC_BYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	int rc;

	if (d == NULL || identity_sk == NULL)
		return ONION_EINVAL;
	if (crypto_sign_ed25519_sk_to_pk(pk, identity_sk) != 0 ||
	    sodium_memcmp(pk, d->identity, sizeof(pk)) != 0)
		return ONION_EINVAL;
	if ((rc = onion_desc_message(d, m)) != 0)
		return rc;
	crypto_sign_detached(d->sig, NULL, m, ONION_DESC_MSGBYTES,
	    identity_sk);
	return ONION_OK;
}

int
onion_desc_verify(const struct onion_desc *d, uint64_t now)
{
	uint8_t m[ONION_DESC_CONTEXTBYTES + ONION_DESC_BYTES];
	int rc;

	if (d == NULL)
		return ONION_EINVAL;
	if ((rc = onion_desc_message(d, m)) != 0)
		return rc;
	if (d->not_after < now)
		return ONION_EEXPIRED;
	if (crypto_sign_verify_detached(d->sig, m, ONION_DESC_MSGBYTES,
	    d->identity) != 0)
		return ONION_ESIG;
	return ONION_OK;
}

const char *
onion_strerror(int err)
{
	switch (err) {
	case ONION_OK: return "ok";
	case ONION_EINVAL: return "invalid argument";
	case ONION_EKEY: return "low-order key";
	case ONION_EAUTH: return "does not open or not recognized";
	case ONION_EFORMAT: return "malformed record or cell";
	case ONION_EPADDING: return "nonzero cell padding";
	case ONION_ELEN: return "wrong cell size";
	case ONION_ESIG: return "bad descriptor signature";
	case ONION_EEXPIRED: return "descriptor expired";
	}
	return "unknown onion error";
}
