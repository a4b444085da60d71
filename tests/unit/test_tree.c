/*
 * test_tree.c - node/tree.[ch]: the iterator over a document's routing
 * keys in the local store.
 *
 * Documents are encoded with the streaming encoder and written to a store
 * in a temporary directory. The iterator must give every block once, the
 * root first, each index block before the blocks under it: the order in
 * which the decoder asks for them (test_chk checks that this order is the
 * tree's pre-order), so the two sequences must be equal.
 */
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/chk.h"
#include "crypto/chk_decode.h"
#include "crypto/chk_encode.h"
#include "node/tree.h"
#include "store/store.h"
#include "tests/tap.h"

#define BS CHK_BLOCK_SIZE
#define KEYS_MAX 1100	/* more than any document here has blocks */

static char test_root[] = "/tmp/umbra-test-tree-XXXXXX";

static uint64_t
rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* ---- a document: its root and every block the encoder emitted ---- */

struct doc {
	struct chk_root root;
	size_t n, cap;
	struct chk_ref *refs;
	uint8_t *cipher;	/* n blocks, in emit order */
};

static int
doc_emit(void *arg, const struct chk_ref *ref, const uint8_t cipher[BS])
{
	struct doc *d = arg;

	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 8;
		d->refs = realloc(d->refs, d->cap * sizeof(*d->refs));
		d->cipher = realloc(d->cipher, d->cap * BS);
		if (d->refs == NULL || d->cipher == NULL) {
			printf("Bail out! out of memory\n");
			exit(1);
		}
	}
	d->refs[d->n] = *ref;
	memcpy(d->cipher + d->n * BS, cipher, BS);
	d->n++;
	return 0;
}

static void
doc_free(struct doc *d)
{
	free(d->refs);
	free(d->cipher);
	memset(d, 0, sizeof(*d));
}

/* Encodes len pseudo-random bytes (random: no compression, so the size
 * says the shape) in pieces of 100000. */
static int
doc_make(struct doc *d, size_t len, uint64_t seed)
{
	uint8_t *data = tap_xmalloc(len);
	struct chk_encoder *enc;
	uint64_t s = seed, v = 0;
	size_t off = 0, piece;
	int rc;

	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = rng_next(&s);
		data[i] = (uint8_t)v;
		v >>= 8;
	}
	if ((rc = chk_encoder_new(&enc, doc_emit, d)) == 0) {
		for (; off < len && rc == 0; off += piece) {
			piece = len - off < 100000 ? len - off : 100000;
			rc = chk_encoder_write(enc, data + off, piece);
		}
		if (rc == 0)
			rc = chk_encoder_finish(enc, &d->root);
		chk_encoder_free(enc);
	}
	free(data);
	return rc;
}

/* The ciphertext of the block with this routing key, or NULL. */
static const uint8_t *
doc_block(const struct doc *d, const uint8_t rkey[CHK_KEY_SIZE])
{
	for (size_t i = 0; i < d->n; i++)
		if (memcmp(d->refs[i].rkey, rkey, CHK_KEY_SIZE) == 0)
			return d->cipher + i * BS;
	return NULL;
}

/* Writes every block but skip's (NULL: none), 64 per transaction. */
static int
doc_store(struct store *st, const struct doc *d, const uint8_t *skip)
{
	struct store_block b[64];
	size_t k = 0;
	int rc = 0;

	for (size_t i = 0; i < d->n && rc == 0; i++) {
		if (skip != NULL &&
		    memcmp(d->refs[i].rkey, skip, CHK_KEY_SIZE) == 0)
			continue;
		memcpy(b[k].key, d->refs[i].rkey, STORE_KEY_SIZE);
		b[k++].data = d->cipher + i * BS;
		if (k == 64) {
			rc = store_put_blocks(st, b, k, STORE_KIND_CACHE);
			k = 0;
		}
	}
	if (rc == 0 && k > 0)
		rc = store_put_blocks(st, b, k, STORE_KIND_CACHE);
	return rc;
}

/* Decodes the document from its own blocks, recording the routing key of
 * every block wanted, in order, and whether it is an index block (the
 * decoder wants more at once after it). Returns the count, or 0. */
static size_t
doc_wants(const struct doc *d, uint8_t (*keys)[CHK_KEY_SIZE],
    bool *is_index, size_t cap)
{
	struct chk_decoder *dec;
	struct chk_ref want;
	const uint8_t *c;
	uint8_t *buf = tap_xmalloc(BS);
	size_t n = 0, got;
	bool ok = chk_decoder_new(&dec, &d->root) == 0;

	while (ok) {
		if (chk_decoder_read(dec, buf, BS, &got) != 0)
			ok = false;
		else if (got > 0)
			continue;
		else if (!chk_decoder_want(dec, &want))
			break;
		else if (n == cap || (c = doc_block(d, want.rkey)) == NULL ||
		    chk_decoder_feed(dec, c) != 0)
			ok = false;
		else {
			memcpy(keys[n], want.rkey, CHK_KEY_SIZE);
			is_index[n++] = chk_decoder_want(dec, &want);
		}
	}
	chk_decoder_free(dec);
	free(buf);
	return ok ? n : 0;
}

/* Runs an iterator over root to its end (or cap keys): the keys into
 * keys, the count into *n; returns tree_iter_new's error, or the last
 * tree_iter_next result (0 at the end, or an error). */
static int
iter_all(struct store *st, const struct chk_root *root,
    uint8_t (*keys)[CHK_KEY_SIZE], size_t cap, size_t *n)
{
	struct tree_iter *it;
	int rc;

	*n = 0;
	if ((rc = tree_iter_new(&it, st, root)) != 0)
		return rc;
	while (*n < cap && (rc = tree_iter_next(it, keys[*n])) == 1)
		(*n)++;
	tree_iter_free(it);
	return rc;
}

static size_t
key_pos(uint8_t (*keys)[CHK_KEY_SIZE], size_t n,
    const uint8_t key[CHK_KEY_SIZE])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(keys[i], key, CHK_KEY_SIZE) == 0)
			return i;
	return SIZE_MAX;
}

/* True if every key is a block of the document and no key comes twice:
 * with n == d->n, exactly the document's blocks. */
static bool
keys_are_blocks(const struct doc *d, uint8_t (*keys)[CHK_KEY_SIZE], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (doc_block(d, keys[i]) == NULL ||
		    key_pos(keys, i, keys[i]) != SIZE_MAX)
			return false;
	return true;
}

/* Decrypts the index block with this key (the root if root) and parses
 * its used entries (the non-zero ones at the front) into kids. Returns
 * their number, or 0. */
static size_t
index_children(const struct doc *d, const uint8_t rkey[CHK_KEY_SIZE],
    bool root, uint8_t *plain, struct chk_ref *kids)
{
	uint8_t extra[CHK_EXTRA_SIZE];
	const struct chk_ref *ref = NULL;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < d->n && ref == NULL; i++)
		if (memcmp(d->refs[i].rkey, rkey, CHK_KEY_SIZE) == 0)
			ref = &d->refs[i];
	if (ref == NULL)
		return 0;
	chk_root_extra(&d->root, extra);
	rc = root ? chk_block_decode_root(doc_block(d, rkey), plain, ref,
	    extra) : chk_block_decode(doc_block(d, rkey), plain, ref);
	if (rc != 0)
		return 0;
	for (bool used = true; used && n < CHK_FANOUT; n += used) {
		used = false;
		for (size_t i = 0; i < CHK_ENTRY_SIZE && !used; i++)
			used = plain[n * CHK_ENTRY_SIZE + i] != 0;
	}
	return n > 0 && chk_index_parse(plain, n, kids) == 0 ? n : 0;
}

/* True if each index block comes before all of its children, and they
 * come in their order. */
static bool
parents_first(const struct doc *d, uint8_t (*keys)[CHK_KEY_SIZE],
    const bool *is_index, size_t n)
{
	uint8_t *plain = tap_xmalloc(BS);
	struct chk_ref *kids = tap_xmalloc(CHK_FANOUT * sizeof(*kids));
	size_t nk, last, at;
	bool ok = true;

	for (size_t p = 0; ok && p < n; p++) {
		if (!is_index[p])
			continue;
		nk = index_children(d, keys[p], p == 0, plain, kids);
		ok = nk > 0;
		last = p;
		for (size_t i = 0; ok && i < nk; i++) {
			at = key_pos(keys, n, kids[i].rkey);
			ok = at != SIZE_MAX && at > last;
			last = at;
		}
	}
	free(plain);
	free(kids);
	return ok;
}

/* ---- the tests ---- */

static void
check_doc(struct store *st, size_t len, uint64_t seed, int depth,
    const char *what)
{
	uint8_t (*keys)[CHK_KEY_SIZE] = tap_xmalloc(KEYS_MAX * sizeof(*keys));
	uint8_t (*wants)[CHK_KEY_SIZE] = tap_xmalloc(KEYS_MAX * sizeof(*wants));
	bool *is_index = tap_xmalloc(KEYS_MAX * sizeof(*is_index));
	struct tree_iter *it;
	struct doc d;
	size_t n = 0, nw = 0;
	int rc;

	rc = doc_make(&d, len, seed);
	TAP_OK(rc == 0 && d.root.depth == depth && d.n <= KEYS_MAX &&
	    doc_store(st, &d, NULL) == 0,
	    "%s: encoded (depth %d, %zu blocks) and stored", what, depth, d.n);
	if (rc != 0 || d.n > KEYS_MAX)
		goto out;
	nw = doc_wants(&d, wants, is_index, KEYS_MAX);
	rc = iter_all(st, &d.root, keys, KEYS_MAX, &n);
	TAP_OK(rc == 0 && n == d.n, "%s: %zu keys, then the end", what, n);
	TAP_OK(n > 0 && memcmp(keys[0], d.root.ref.rkey, CHK_KEY_SIZE) == 0,
	    "%s: the root first", what);
	TAP_OK(n == d.n && keys_are_blocks(&d, keys, n),
	    "%s: exactly the document's blocks, each once", what);
	TAP_OK(nw == d.n && n == nw &&
	    memcmp(keys, wants, n * sizeof(*keys)) == 0,
	    "%s: in the order the decoder wants them", what);
	TAP_OK(n == nw && parents_first(&d, keys, is_index, n),
	    "%s: each index block before its children, which keep their "
	    "order", what);
	if (tree_iter_new(&it, st, &d.root) == 0) {
		uint8_t k[CHK_KEY_SIZE];
		size_t i = 0;

		while (i <= n && tree_iter_next(it, k) == 1)
			i++;
		TAP_OK(i == n && tree_iter_next(it, k) == 0 &&
		    tree_iter_next(it, k) == 0,
		    "%s: after the end, 0 again", what);
		tree_iter_free(it);
	}
out:
	doc_free(&d);
	free(keys);
	free(wants);
	free(is_index);
}

/* The n-th key wanted (pre-order) of d, into key. */
static bool
nth_want(const struct doc *d, size_t nth, uint8_t key[CHK_KEY_SIZE])
{
	uint8_t (*wants)[CHK_KEY_SIZE] = tap_xmalloc(KEYS_MAX * sizeof(*wants));
	bool *is_index = tap_xmalloc(KEYS_MAX * sizeof(*is_index));
	size_t n = doc_wants(d, wants, is_index, KEYS_MAX);
	bool ok = nth < n;

	if (ok)
		memcpy(key, wants[nth], CHK_KEY_SIZE);
	free(wants);
	free(is_index);
	return ok;
}

/* A document stored without block skip_nth (in want order): the
 * iterator gives the keys up to it, then fails with want_rc for good;
 * or, with want_rc 0, gives them all. */
static void
check_missing(struct store *st, size_t len, uint64_t seed, size_t skip_nth,
    size_t want_keys, int want_rc, const char *what)
{
	uint8_t (*keys)[CHK_KEY_SIZE] = tap_xmalloc(KEYS_MAX * sizeof(*keys));
	uint8_t skip[CHK_KEY_SIZE], k[CHK_KEY_SIZE];
	struct tree_iter *it;
	struct doc d;
	size_t n = 0;
	bool ok;
	int rc = -100;

	ok = doc_make(&d, len, seed) == 0 && nth_want(&d, skip_nth, skip) &&
	    doc_store(st, &d, skip) == 0 &&
	    store_has_block(st, skip) == STORE_ENOTFOUND;
	TAP_OK(ok, "%s: stored without want %zu", what, skip_nth);
	if (ok && tree_iter_new(&it, st, &d.root) == 0) {
		while (n < KEYS_MAX && (rc = tree_iter_next(it, keys[n])) == 1)
			n++;
		TAP_OK(rc == want_rc && n == want_keys && (want_rc == 0 ||
		    (n > 0 && memcmp(keys[n - 1], skip, CHK_KEY_SIZE) == 0)),
		    "%s: %zu keys%s, then %s (got %zu, %d)", what, want_keys,
		    want_rc ? " (the missing one last)" : "",
		    want_rc ? store_strerror(want_rc) : "the end", n, rc);
		TAP_OK(tree_iter_next(it, k) == want_rc &&
		    tree_iter_next(it, k) == want_rc,
		    "%s: and the same again after that", what);
		tree_iter_free(it);
	}
	doc_free(&d);
	free(keys);
}

static void
test_iter(struct store *st)
{
	check_doc(st, 1000, 1, 0, "1 block");
	check_doc(st, 2 * BS + 100, 2, 1, "3 blocks");
	check_doc(st, 512 * (size_t)BS, 3, 1, "512 blocks");
	check_doc(st, 599 * (size_t)BS + 7, 4, 2, "600 blocks");
	check_doc(st, 1024 * (size_t)BS + 1, 5, 2, "1025 blocks");
}

static void
test_one_block(struct store *st)
{
	uint8_t k[CHK_KEY_SIZE];
	struct tree_iter *it;
	struct doc d;

	/* Not stored at all: a data block is never read. */
	if (doc_make(&d, 13, 6) != 0 || d.n != 1) {
		TAP_OK(0, "1-block document: encodes");
		doc_free(&d);
		return;
	}
	if (!TAP_OK(store_has_block(st, d.root.ref.rkey) == STORE_ENOTFOUND &&
	    tree_iter_new(&it, st, &d.root) == 0, "1-block document, not in "
	    "the store: iterator made")) {
		doc_free(&d);
		return;
	}
	TAP_OK(tree_iter_next(it, k) == 1 &&
	    memcmp(k, d.root.ref.rkey, CHK_KEY_SIZE) == 0 &&
	    tree_iter_next(it, k) == 0 && tree_iter_next(it, k) == 0,
	    "1-block document: its root, then 0, then 0");
	tree_iter_free(it);
	doc_free(&d);
}

static void
test_missing(struct store *st)
{
	/* 600 blocks: root, index 0, data 0..511, index 1 (want 514), data
	 * 512..599. */
	check_missing(st, 599 * (size_t)BS + 7, 10, 514, 515,
	    STORE_ENOTFOUND, "600 blocks, second index block missing");
	check_missing(st, 599 * (size_t)BS + 7, 11, 1, 2, STORE_ENOTFOUND,
	    "600 blocks, first index block missing");
	check_missing(st, 2 * BS + 100, 12, 0, 1, STORE_ENOTFOUND,
	    "3 blocks, root missing");
	check_missing(st, 2 * BS + 100, 13, 2, 4, 0,
	    "3 blocks, a data block missing (not read)");
}

static void
test_bad_root(struct store *st)
{
	uint8_t (*keys)[CHK_KEY_SIZE] = tap_xmalloc(KEYS_MAX * sizeof(*keys));
	static const struct { uint64_t len; int depth; } bad[] = {
		{ 1000, 1 }, { 0, 1 }, { 2 * BS + 100, 0 }, { 2 * BS + 100, 2 },
		{ 599 * (uint64_t)BS + 7, 1 }, { 599 * (uint64_t)BS + 7, 3 },
		{ CHK_MAX_STREAM, 3 }, { CHK_MAX_STREAM + 1, 4 },
		{ CHK_MAX_STREAM + 1, 5 }, { UINT64_MAX, 4 },
	};
	static char sentinel;
	struct tree_iter *it;
	struct chk_root r;
	struct doc d;
	size_t n;
	int rc;

	if (doc_make(&d, 2 * BS + 100, 20) != 0 ||
	    doc_store(st, &d, NULL) != 0) {
		TAP_OK(0, "bad roots: setup");
		goto out;
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = d.root;
		r.stream_len = r.data_len = bad[i].len;
		r.depth = (uint8_t)bad[i].depth;
		it = (void *)&sentinel;
		rc = tree_iter_new(&it, st, &r);
		TAP_OK(rc == STORE_EINVAL && it == NULL, "stream_len %llu, "
		    "depth %d: STORE_EINVAL, no iterator",
		    (unsigned long long)bad[i].len, bad[i].depth);
		if (rc == 0)
			tree_iter_free(it);
	}
	/* The largest stream has depth 4 (only the shape is checked). */
	r = d.root;
	r.stream_len = r.data_len = CHK_MAX_STREAM;
	r.depth = 4;
	TAP_OK(tree_iter_new(&it, st, &r) == 0 && it != NULL,
	    "stream_len 2^51, depth 4: accepted");
	tree_iter_free(it);
	/* The right shape, another description: the root does not decrypt
	 * (it is keyed with the description), so it cannot be read. */
	r = d.root;
	r.data_len++;
	rc = iter_all(st, &r, keys, KEYS_MAX, &n);
	TAP_OK(rc == STORE_ECORRUPT && n == 1 &&
	    memcmp(keys[0], d.root.ref.rkey, CHK_KEY_SIZE) == 0,
	    "data_len off by one: the root, then STORE_ECORRUPT");
	r = d.root;
	r.ref.ckey[0] ^= 1;
	rc = iter_all(st, &r, keys, KEYS_MAX, &n);
	TAP_OK(rc == STORE_ECORRUPT && n == 1,
	    "wrong ckey: the root, then STORE_ECORRUPT");
out:
	doc_free(&d);
	free(keys);
}

/* An index block whose stored bytes are another block's: it does not
 * decrypt, STORE_ECORRUPT for good. */
static void
test_corrupt(struct store *st)
{
	uint8_t (*keys)[CHK_KEY_SIZE] = tap_xmalloc(KEYS_MAX * sizeof(*keys));
	uint8_t idx[CHK_KEY_SIZE], k[CHK_KEY_SIZE];
	struct store_block b;
	struct tree_iter *it;
	struct doc d;
	size_t n = 0;
	int rc = -100;

	if (doc_make(&d, 599 * (size_t)BS + 7, 30) != 0 ||
	    !nth_want(&d, 514, idx) || doc_store(st, &d, idx) != 0) {
		TAP_OK(0, "corrupt index: setup");
		goto out;
	}
	memcpy(b.key, idx, STORE_KEY_SIZE);
	b.data = d.cipher;	/* the first block emitted: a data block */
	if (!TAP_OK(memcmp(d.refs[0].rkey, idx, CHK_KEY_SIZE) != 0 &&
	    store_put_blocks(st, &b, 1, STORE_KIND_CACHE) == 0 &&
	    tree_iter_new(&it, st, &d.root) == 0,
	    "corrupt index: stored under the second index block's key"))
		goto out;
	while (n < KEYS_MAX && (rc = tree_iter_next(it, keys[n])) == 1)
		n++;
	TAP_OK(rc == STORE_ECORRUPT && n == 515 &&
	    tree_iter_next(it, k) == STORE_ECORRUPT,
	    "corrupt index: 515 keys, then STORE_ECORRUPT, and again");
	tree_iter_free(it);
out:
	doc_free(&d);
	free(keys);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	struct store *st;

	if (mkdtemp(test_root) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	if (!TAP_OK(store_open(&st, test_root, (uint64_t)8192 * BS) == 0,
	    "store opened in %s", test_root)) {
		nftw(test_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		return tap_done();
	}
	test_iter(st);
	test_one_block(st);
	test_missing(st);
	test_bad_root(st);
	test_corrupt(st);
	store_close(st);
	TAP_OK(nftw(test_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0,
	    "temp directory removed");
	return tap_done();
}
