/*
 * store.c - the block datastore on LMDB. The layout, and why it is so, is
 * in docs/store.md; keep the two in step.
 */
#include "store/store.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lmdb.h>

/* A value of 32752 bytes plus LMDB's 16-byte overflow page header fills
 * exactly 8 pages of 4096; the other 16 bytes ride in the meta record. */
#define STORE_HEAD_SIZE 32752
#define STORE_TAIL_SIZE (STORE_BLOCK_SIZE - STORE_HEAD_SIZE)
#define STORE_PAGE_HDR 16
#define STORE_META_SIZE 32
#define STORE_META_TAIL 16	/* offset of the tail in a meta record */
#define STORE_SEQ_SIZE 8
#define STORE_COUNTS_SIZE 40
#define STORE_COUNTS_OLD_SIZE 32	/* before LOCAL: no LOCAL count */
#define STORE_FORMAT 2	/* 1: before LOCAL (a 32-byte "counts") */
#define STORE_MAXDBS 8
#define STORE_MAXREADERS 126
#define STORE_TOUCH_MAX 1024
#define STORE_UNMAP_EVERY 128	/* block reads: 4 MiB */
#define STORE_UNMAP_WRITE 32	/* a write transaction counts as 32 */
#define STORE_MIB ((size_t)1 << 20)
#define STORE_MAP_SLACK (64 * STORE_MIB)
#define STORE_NOSPACE_BYTES (4 * STORE_MIB)	/* see store_err_commit */

static const char store_key_format[] = "format";
static const char store_key_counts[] = "counts";

/* The counters kept in "info", exact at every commit. */
struct store_counts {
	uint64_t kind[STORE_KIND_LOCAL + 1];	/* blocks per kind */
	uint64_t next_seq;			/* next LRU stamp */
};

/* A decoded "meta" record. */
struct store_meta {
	enum store_kind kind;
	uint64_t seq;		/* LRU stamp; 0 unless CACHE or LOCAL */
	uint8_t tail[STORE_TAIL_SIZE];
};

struct store {
	MDB_env *env;
	MDB_dbi blocks, meta, lru, pending, info;
	int lock_fd;
	uint64_t max_blocks;
	pthread_mutex_t mutex;	/* guards evictions, touch, unmap_units */
	void *map;		/* LMDB's map of data.mdb, if found */
	size_t map_len;
	unsigned unmap_units;
	uint64_t evictions;
	/* Keys of CACHE blocks read since the last write. Readers cannot
	 * write, so the next write transaction moves them to the LRU end. */
	size_t ntouch;
	uint8_t touch[STORE_TOUCH_MAX][STORE_KEY_SIZE];
	/* The writer's copy of touch; LMDB serialises writers, so it is
	 * only used inside a write transaction. */
	uint8_t touch_copy[STORE_TOUCH_MAX][STORE_KEY_SIZE];
};

/* A write transaction and the counters it keeps exact. */
struct store_wtxn {
	MDB_txn *txn;
	struct store_counts counts;
	uint64_t evicted;
};

static void
store_be64_put(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
store_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Maps an LMDB or errno code to a STORE_E* code. */
static int
store_err(int rc)
{
	switch (rc) {
	case 0:
		return STORE_OK;
	case MDB_NOTFOUND:
		return STORE_ENOTFOUND;
	case MDB_MAP_FULL:
		return STORE_EFULL;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH:
	case MDB_BAD_TXN:
	case MDB_INCOMPATIBLE:
	/* We only insert with MDB_NOOVERWRITE where the record cannot
	 * exist unless the databases disagree. */
	case MDB_KEYEXIST:
		return STORE_ECORRUPT;
	case ENOMEM:
		return STORE_ENOMEM;
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		return STORE_EINVAL;	/* dir must be an existing directory */
	case ENOSPC:
	case EDQUOT:
		return STORE_ENOSPC;
	case EROFS:
	case EACCES:
	case EPERM:
		return STORE_EROFS;
	default:
		return STORE_EIO;	/* EIO, MDB_PANIC, ... */
	}
}

/* Deletes a record that the other databases say exists. */
static int
store_del_expected(MDB_txn *txn, MDB_dbi dbi, MDB_val *key)
{
	int rc = mdb_del(txn, dbi, key, NULL);

	return rc == MDB_NOTFOUND ? STORE_ECORRUPT : store_err(rc);
}

static int
store_kind_valid(enum store_kind kind)
{
	return kind == STORE_KIND_CACHE || kind == STORE_KIND_TEMP ||
	    kind == STORE_KIND_CLIENT || kind == STORE_KIND_LOCAL;
}

/* The kinds that may be evicted: those with an "lru" record. */
static bool
store_kind_lru(enum store_kind kind)
{
	return kind == STORE_KIND_CACHE || kind == STORE_KIND_LOCAL;
}

/* The order in which a put may raise a kind: LOCAL < CACHE < TEMP <
 * CLIENT. A block this node's reader fetched (LOCAL) that then passes
 * through as a relay's copy becomes CACHE, as if never read here. */
static int
store_kind_rank(enum store_kind kind)
{
	return kind == STORE_KIND_LOCAL ? -1 : (int)kind;
}

static uint64_t
store_total(const struct store_counts *c)
{
	return c->kind[STORE_KIND_CACHE] + c->kind[STORE_KIND_TEMP] +
	    c->kind[STORE_KIND_CLIENT] + c->kind[STORE_KIND_LOCAL];
}

static int
store_meta_decode(const MDB_val *v, struct store_meta *m)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != STORE_META_SIZE || p[0] > STORE_KIND_LOCAL)
		return STORE_ECORRUPT;
	m->kind = (enum store_kind)p[0];
	m->seq = store_be64_get(p + 8);
	memcpy(m->tail, p + STORE_META_TAIL, STORE_TAIL_SIZE);
	return 0;
}

static void
store_meta_encode(const struct store_meta *m, uint8_t rec[STORE_META_SIZE])
{
	memset(rec, 0, STORE_META_SIZE);
	rec[0] = (uint8_t)m->kind;
	store_be64_put(rec + 8, m->seq);
	memcpy(rec + STORE_META_TAIL, m->tail, STORE_TAIL_SIZE);
}

static int
store_meta_get(struct store *st, MDB_txn *txn,
    const uint8_t key[STORE_KEY_SIZE], struct store_meta *m)
{
	MDB_val k = { STORE_KEY_SIZE, (void *)key }, v;
	int rc;

	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc != 0)
		return store_err(rc);
	return store_meta_decode(&v, m);
}

static int
store_meta_put(struct store *st, MDB_txn *txn,
    const uint8_t key[STORE_KEY_SIZE], const struct store_meta *m)
{
	uint8_t rec[STORE_META_SIZE];
	MDB_val k = { STORE_KEY_SIZE, (void *)key };
	MDB_val v = { STORE_META_SIZE, rec };

	store_meta_encode(m, rec);
	return store_err(mdb_put(txn, st->meta, &k, &v, 0));
}

static int
store_counts_get(struct store *st, MDB_txn *txn, struct store_counts *c)
{
	MDB_val k = { sizeof(store_key_counts) - 1, (void *)store_key_counts };
	MDB_val v;
	const uint8_t *p;
	int rc;

	rc = mdb_get(txn, st->info, &k, &v);
	if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != STORE_COUNTS_SIZE &&
	    v.mv_size != STORE_COUNTS_OLD_SIZE))
		return STORE_ECORRUPT;
	if (rc != 0)
		return store_err(rc);
	p = v.mv_data;
	c->kind[STORE_KIND_CACHE] = store_be64_get(p);
	c->kind[STORE_KIND_TEMP] = store_be64_get(p + 8);
	c->kind[STORE_KIND_CLIENT] = store_be64_get(p + 16);
	c->next_seq = store_be64_get(p + 24);
	c->kind[STORE_KIND_LOCAL] = v.mv_size == STORE_COUNTS_SIZE ?
	    store_be64_get(p + 32) : 0;
	return 0;
}

static int
store_counts_put(struct store *st, MDB_txn *txn, const struct store_counts *c)
{
	uint8_t rec[STORE_COUNTS_SIZE];
	MDB_val k = { sizeof(store_key_counts) - 1, (void *)store_key_counts };
	MDB_val v = { sizeof(rec), rec };

	store_be64_put(rec, c->kind[STORE_KIND_CACHE]);
	store_be64_put(rec + 8, c->kind[STORE_KIND_TEMP]);
	store_be64_put(rec + 16, c->kind[STORE_KIND_CLIENT]);
	store_be64_put(rec + 24, c->next_seq);
	store_be64_put(rec + 32, c->kind[STORE_KIND_LOCAL]);
	return store_err(mdb_put(txn, st->info, &k, &v, 0));
}

/* Gives a CACHE or LOCAL block the newest LRU stamp. */
static int
store_lru_add(struct store *st, struct store_wtxn *w,
    const uint8_t key[STORE_KEY_SIZE], struct store_meta *m)
{
	uint8_t seq[STORE_SEQ_SIZE];
	MDB_val k = { sizeof(seq), seq };
	MDB_val v = { STORE_KEY_SIZE, (void *)key };

	m->seq = w->counts.next_seq++;
	store_be64_put(seq, m->seq);
	return store_err(mdb_put(w->txn, st->lru, &k, &v, MDB_NOOVERWRITE));
}

static int
store_lru_del(struct store *st, struct store_wtxn *w,
    const struct store_meta *m)
{
	uint8_t seq[STORE_SEQ_SIZE];
	MDB_val k = { sizeof(seq), seq };

	store_be64_put(seq, m->seq);
	return store_del_expected(w->txn, st->lru, &k);
}

/* Sets m to kind, keeping "lru" and the counters in step; the caller
 * writes m back. CACHE to CACHE (LOCAL to LOCAL) moves the block to the
 * LRU end. */
static int
store_kind_change(struct store *st, struct store_wtxn *w,
    const uint8_t key[STORE_KEY_SIZE], struct store_meta *m,
    enum store_kind kind)
{
	int rc;

	if (store_kind_lru(m->kind)) {
		rc = store_lru_del(st, w, m);
		if (rc != 0)
			return rc;
	}
	w->counts.kind[m->kind]--;
	w->counts.kind[kind]++;
	m->kind = kind;
	m->seq = 0;
	if (store_kind_lru(kind))
		return store_lru_add(st, w, key, m);
	return 0;
}

static int
store_touch_one(struct store *st, struct store_wtxn *w,
    const uint8_t key[STORE_KEY_SIZE])
{
	struct store_meta m;
	int rc;

	rc = store_meta_get(st, w->txn, key, &m);
	if (rc == STORE_ENOTFOUND)
		return 0;	/* evicted since it was read */
	if (rc != 0 || !store_kind_lru(m.kind))
		return rc;	/* or no longer evictable: not in "lru" */
	rc = store_kind_change(st, w, key, &m, m.kind);
	if (rc != 0)
		return rc;
	return store_meta_put(st, w->txn, key, &m);
}

/* Moves the CACHE blocks read since the last write to the LRU end. A
 * touch is a hint: one lost with an aborted transaction costs nothing
 * but LRU precision. */
static int
store_touch_apply(struct store *st, struct store_wtxn *w)
{
	size_t i, n;
	int rc;

	pthread_mutex_lock(&st->mutex);
	n = st->ntouch;
	memcpy(st->touch_copy, st->touch, n * STORE_KEY_SIZE);
	st->ntouch = 0;
	pthread_mutex_unlock(&st->mutex);
	for (i = 0; i < n; i++) {
		rc = store_touch_one(st, w, st->touch_copy[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Remembers a CACHE block read; when the list is full the touch is
 * dropped, which only costs LRU precision. */
static void
store_touch_note(struct store *st, const uint8_t key[STORE_KEY_SIZE])
{
	size_t i;

	pthread_mutex_lock(&st->mutex);
	for (i = 0; i < st->ntouch; i++)
		if (memcmp(st->touch[i], key, STORE_KEY_SIZE) == 0)
			break;
	if (i == st->ntouch && st->ntouch < STORE_TOUCH_MAX)
		memcpy(st->touch[st->ntouch++], key, STORE_KEY_SIZE);
	pthread_mutex_unlock(&st->mutex);
}

static void
store_wtxn_abort(struct store_wtxn *w)
{
	if (w->txn != NULL)
		mdb_txn_abort(w->txn);
	w->txn = NULL;
}

/* LMDB reports a short write as EIO, and a disk that fills up in the
 * middle of a commit gives just that: it is named for what it is when the
 * file system has (almost) no room left, so the user learns what to fix.
 * The margin is more than one commit of 64 blocks writes. */
static int
store_err_commit(struct store *st, int mdb_rc)
{
	struct statvfs vs;
	int rc = store_err(mdb_rc);

	if (rc == STORE_EIO && fstatvfs(st->lock_fd, &vs) == 0 &&
	    (uint64_t)vs.f_bavail * vs.f_frsize < STORE_NOSPACE_BYTES)
		rc = STORE_ENOSPC;
	return rc;
}

static int
store_wtxn_commit(struct store *st, struct store_wtxn *w)
{
	MDB_txn *txn = w->txn;
	int rc;

	rc = store_counts_put(st, txn, &w->counts);
	if (rc != 0)
		goto fail;
	w->txn = NULL;	/* mdb_txn_commit frees it, even when it fails */
	rc = store_err_commit(st, mdb_txn_commit(txn));
	if (rc != 0)
		goto fail;
	pthread_mutex_lock(&st->mutex);
	st->evictions += w->evicted;
	pthread_mutex_unlock(&st->mutex);
	return 0;
fail:
	store_wtxn_abort(w);
	return rc;
}

/* Ends a write transaction: commits it if rc is 0, else aborts it. */
static void store_unmap_note(struct store *st, unsigned units);

static int
store_wtxn_end(struct store *st, struct store_wtxn *w, int rc)
{
	if (rc == 0)
		rc = store_wtxn_commit(st, w);
	else
		store_wtxn_abort(w);
	store_unmap_note(st, STORE_UNMAP_WRITE);
	return rc;
}

static int
store_wtxn_begin(struct store *st, struct store_wtxn *w)
{
	int rc;

	w->txn = NULL;
	w->evicted = 0;
	rc = store_err(mdb_txn_begin(st->env, NULL, 0, &w->txn));
	if (rc != 0)
		goto fail;
	rc = store_counts_get(st, w->txn, &w->counts);
	if (rc != 0)
		goto fail;
	rc = store_touch_apply(st, w);
	if (rc != 0)
		goto fail;
	return 0;
fail:
	store_wtxn_abort(w);
	return rc;
}

/* Evicts the least recently used CACHE or LOCAL block; STORE_EFULL if
 * none. */
static int
store_evict_one(struct store *st, struct store_wtxn *w)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint8_t key[STORE_KEY_SIZE];
	struct store_meta m;
	int rc;

	rc = store_err(mdb_cursor_open(w->txn, st->lru, &cur));
	if (rc != 0)
		goto fail;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	rc = rc == MDB_NOTFOUND ? STORE_EFULL : store_err(rc);
	if (rc == 0 && (k.mv_size != STORE_SEQ_SIZE ||
	    v.mv_size != STORE_KEY_SIZE))
		rc = STORE_ECORRUPT;
	if (rc != 0)
		goto fail;
	memcpy(key, v.mv_data, STORE_KEY_SIZE);
	rc = store_meta_get(st, w->txn, key, &m);
	rc = rc == STORE_ENOTFOUND ? STORE_ECORRUPT : rc;
	if (rc == 0 && !store_kind_lru(m.kind))
		rc = STORE_ECORRUPT;
	if (rc == 0)
		rc = store_err(mdb_cursor_del(cur, 0));
	if (rc != 0)
		goto fail;
	k.mv_size = STORE_KEY_SIZE;
	k.mv_data = key;
	rc = store_del_expected(w->txn, st->blocks, &k);
	if (rc == 0)
		rc = store_del_expected(w->txn, st->meta, &k);
	if (rc != 0)
		goto fail;
	w->counts.kind[m.kind]--;
	w->evicted++;
fail:
	if (cur != NULL)
		mdb_cursor_close(cur);
	return rc;
}

static int
store_put_new(struct store *st, struct store_wtxn *w,
    const struct store_block *b, enum store_kind kind)
{
	MDB_val k = { STORE_KEY_SIZE, (void *)b->key };
	MDB_val v = { STORE_HEAD_SIZE, (void *)b->data };
	struct store_meta m = { .kind = kind };
	int rc;

	/* A loop, not an if: max_bytes may have shrunk since the last open. */
	while (store_total(&w->counts) >= st->max_blocks) {
		rc = store_evict_one(st, w);
		if (rc != 0)
			return rc;
	}
	rc = store_err(mdb_put(w->txn, st->blocks, &k, &v, MDB_NOOVERWRITE));
	if (rc != 0)
		return rc;
	memcpy(m.tail, b->data + STORE_HEAD_SIZE, STORE_TAIL_SIZE);
	w->counts.kind[kind]++;
	if (store_kind_lru(kind)) {
		rc = store_lru_add(st, w, b->key, &m);
		if (rc != 0)
			return rc;
	}
	return store_meta_put(st, w->txn, b->key, &m);
}

static int
store_put_one(struct store *st, struct store_wtxn *w,
    const struct store_block *b, enum store_kind kind)
{
	struct store_meta m;
	int rc;

	rc = store_meta_get(st, w->txn, b->key, &m);
	if (rc == STORE_ENOTFOUND)
		return store_put_new(st, w, b, kind);
	if (rc != 0)
		return rc;
	/* Present: keep the bytes, never lower the kind; CACHE over CACHE
	 * (LOCAL over LOCAL) marks the block recently used. */
	if (store_kind_rank(kind) < store_kind_rank(m.kind) ||
	    (kind == m.kind && !store_kind_lru(kind)))
		return 0;
	rc = store_kind_change(st, w, b->key, &m, kind);
	if (rc != 0)
		return rc;
	return store_meta_put(st, w->txn, b->key, &m);
}

int
store_put_blocks(struct store *st, const struct store_block *blocks,
    size_t n, enum store_kind kind)
{
	struct store_wtxn w;
	size_t i;
	int rc;

	if (st == NULL || (blocks == NULL && n > 0) || !store_kind_valid(kind))
		return STORE_EINVAL;
	for (i = 0; i < n; i++)
		if (blocks[i].data == NULL)
			return STORE_EINVAL;
	if (n == 0)
		return 0;
	rc = store_wtxn_begin(st, &w);
	if (rc != 0)
		return rc;
	for (i = 0; rc == 0 && i < n; i++)
		rc = store_put_one(st, &w, &blocks[i], kind);
	return store_wtxn_end(st, &w, rc);
}

static int
store_set_kind_one(struct store *st, struct store_wtxn *w,
    const uint8_t key[STORE_KEY_SIZE], enum store_kind kind, int from,
    size_t *absent)
{
	struct store_meta m;
	int rc;

	rc = store_meta_get(st, w->txn, key, &m);
	if (rc == STORE_ENOTFOUND) {
		(*absent)++;
		return 0;
	}
	if (rc != 0 || m.kind == kind || (from >= 0 && (int)m.kind != from))
		return rc;
	rc = store_kind_change(st, w, key, &m, kind);
	if (rc != 0)
		return rc;
	return store_meta_put(st, w->txn, key, &m);
}

/* Sets kind on each block whose kind is from (any kind if from < 0). */
static int
store_set_kinds(struct store *st, const uint8_t (*keys)[STORE_KEY_SIZE],
    size_t n, enum store_kind kind, int from, size_t *missing)
{
	struct store_wtxn w;
	size_t i, absent = 0;
	int rc;

	if (st == NULL || (keys == NULL && n > 0) || !store_kind_valid(kind))
		return STORE_EINVAL;
	if (n > 0) {
		rc = store_wtxn_begin(st, &w);
		if (rc != 0)
			return rc;
		for (i = 0; rc == 0 && i < n; i++)
			rc = store_set_kind_one(st, &w, keys[i], kind, from,
			    &absent);
		rc = store_wtxn_end(st, &w, rc);
		if (rc != 0)
			return rc;
	}
	if (missing != NULL)
		*missing = absent;
	return 0;
}

int
store_set_kind(struct store *st, const uint8_t (*keys)[STORE_KEY_SIZE],
    size_t n, enum store_kind kind, size_t *missing)
{
	return store_set_kinds(st, keys, n, kind, -1, missing);
}


/* LMDB reads through its map, so what this process touches stays
 * resident, and the kernel maps up to 64 KiB around each page it faults
 * in: reads of blocks and of the B-tree (every put looks up its keys)
 * would make RSS grow toward the size of the store. Nothing is kept
 * pointing into the map (reads copy out), so the whole map is dropped
 * from our page tables once STORE_UNMAP_EVERY units of work have been
 * done since the last time: a block read is one unit, a write
 * transaction (which looks up up to 64 keys in three trees) is
 * STORE_UNMAP_WRITE. The kernel keeps the pages cached and faults them
 * back in on use. One madvise() costs a TLB shootdown and a walk of the
 * map (about 0.5 ms for a 4 GiB store here): per block it took most of a
 * get's time, per write transaction 6% of a put's. */
static void
store_unmap_note(struct store *st, unsigned units)
{
	bool now;

	pthread_mutex_lock(&st->mutex);
	st->unmap_units += units;
	now = st->unmap_units >= STORE_UNMAP_EVERY;
	if (now)
		st->unmap_units = 0;
	pthread_mutex_unlock(&st->mutex);
	if (now && st->map_len > 0)
		(void)madvise(st->map, st->map_len, MADV_DONTNEED);
}

/* LMDB does not say where its map lies: find data.mdb in our mappings.
 * Without /proc (not Linux) nothing is found and nothing is dropped. */
static void
store_find_map(struct store *st, const char *dir)
{
	char want[PATH_MAX + 16], real[PATH_MAX], line[PATH_MAX + 128];
	char path[PATH_MAX + 1];
	unsigned long lo, hi;
	FILE *f;

	if (realpath(dir, real) == NULL ||
	    (f = fopen("/proc/self/maps", "re")) == NULL)
		return;
	snprintf(want, sizeof(want), "%s/data.mdb", real);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4096s", &lo, &hi,
		    path) == 3 && strcmp(path, want) == 0) {
			st->map = (void *)lo;
			st->map_len = hi - lo;
			break;
		}
	}
	fclose(f);
}

int
store_get_block(struct store *st, const uint8_t key[STORE_KEY_SIZE],
    uint8_t *out, enum store_kind *kind_out)
{
	MDB_txn *txn = NULL;
	MDB_val k = { STORE_KEY_SIZE, (void *)key }, v;
	struct store_meta m;
	int rc;

	if (st == NULL || key == NULL || out == NULL)
		return STORE_EINVAL;
	rc = store_err(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		goto fail;
	rc = store_meta_get(st, txn, key, &m);
	if (rc != 0)
		goto fail;
	rc = mdb_get(txn, st->blocks, &k, &v);
	/* meta says the block is here, so both misses are damage */
	if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size != STORE_HEAD_SIZE))
		rc = MDB_CORRUPTED;
	rc = store_err(rc);
	if (rc != 0)
		goto fail;
	memcpy(out, v.mv_data, STORE_HEAD_SIZE);
	memcpy(out + STORE_HEAD_SIZE, m.tail, STORE_TAIL_SIZE);
	mdb_txn_abort(txn);
	store_unmap_note(st, 1);
	if (store_kind_lru(m.kind))
		store_touch_note(st, key);
	if (kind_out != NULL)
		*kind_out = m.kind;
	return 0;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

int
store_del_block(struct store *st, const uint8_t key[STORE_KEY_SIZE])
{
	MDB_val k = { STORE_KEY_SIZE, (void *)key };
	struct store_wtxn w;
	struct store_meta m;
	int rc;

	if (st == NULL || key == NULL)
		return STORE_EINVAL;
	rc = store_wtxn_begin(st, &w);
	if (rc != 0)
		return rc;
	rc = store_meta_get(st, w.txn, key, &m);
	if (rc == 0 && store_kind_lru(m.kind))
		rc = store_lru_del(st, &w, &m);
	if (rc == 0) {
		/* A record without its head is what a damaged store may
		 * hold; removing the rest is the repair. */
		rc = mdb_del(w.txn, st->blocks, &k, NULL);
		rc = rc == MDB_NOTFOUND ? 0 : store_err(rc);
	}
	if (rc == 0)
		rc = store_del_expected(w.txn, st->meta, &k);
	if (rc == 0)
		w.counts.kind[m.kind]--;
	return store_wtxn_end(st, &w, rc);
}

int
store_get_kind(struct store *st, const uint8_t key[STORE_KEY_SIZE],
    enum store_kind *kind_out)
{
	MDB_txn *txn = NULL;
	struct store_meta m;
	int rc;

	if (st == NULL || key == NULL)
		return STORE_EINVAL;
	rc = store_err(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		return rc;
	rc = store_meta_get(st, txn, key, &m);
	mdb_txn_abort(txn);
	if (rc == 0 && kind_out != NULL)
		*kind_out = m.kind;
	return rc;
}

int
store_has_block(struct store *st, const uint8_t key[STORE_KEY_SIZE])
{
	return store_get_kind(st, key, NULL);
}

int
store_add_pending(struct store *st, const uint8_t key[STORE_KEY_SIZE],
    const char *uri)
{
	struct store_wtxn w;
	MDB_val k = { STORE_KEY_SIZE, (void *)key }, v;
	int rc;

	if (st == NULL || key == NULL || uri == NULL)
		return STORE_EINVAL;
	v.mv_size = strnlen(uri, STORE_PENDING_MAX + 1);
	v.mv_data = (void *)uri;
	if (v.mv_size == 0 || v.mv_size > STORE_PENDING_MAX)
		return STORE_EINVAL;
	rc = store_wtxn_begin(st, &w);
	if (rc != 0)
		return rc;
	rc = store_err(mdb_put(w.txn, st->pending, &k, &v, 0));
	return store_wtxn_end(st, &w, rc);
}

int
store_del_pending(struct store *st, const uint8_t key[STORE_KEY_SIZE])
{
	struct store_wtxn w;
	MDB_val k = { STORE_KEY_SIZE, (void *)key };
	int rc;

	if (st == NULL || key == NULL)
		return STORE_EINVAL;
	rc = store_wtxn_begin(st, &w);
	if (rc != 0)
		return rc;
	rc = store_err(mdb_del(w.txn, st->pending, &k, NULL));
	return store_wtxn_end(st, &w, rc);
}

/* Calls visit with each record of dbi, in key order, in one read
 * transaction, until it returns non-zero (which is then returned).
 * MDB_NOTLS lets visit start write transactions on this thread while
 * this read transaction is open. */
static int
store_walk(struct store *st, MDB_dbi dbi,
    int (*visit)(void *ctx, MDB_txn *txn, const MDB_val *k, const MDB_val *v),
    void *ctx)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_cursor_op op = MDB_FIRST;
	MDB_val k, v;
	int rc;

	rc = store_err(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc == 0)
		rc = store_err(mdb_cursor_open(txn, dbi, &cur));
	while (rc == 0) {
		if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0) {
			rc = rc == MDB_NOTFOUND ? 0 : store_err(rc);
			break;
		}
		op = MDB_NEXT;
		rc = visit(ctx, txn, &k, &v);
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

struct store_pending_walk {
	int (*fn)(void *, const uint8_t *, const char *);
	void *arg;
};

/* Copies a pending record out of LMDB memory and calls fn. */
static int
store_pending_visit(void *ctx, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v)
{
	struct store_pending_walk *pw = ctx;
	uint8_t key[STORE_KEY_SIZE];
	char uri[STORE_PENDING_MAX + 1];

	(void)txn;
	if (k->mv_size != STORE_KEY_SIZE || v->mv_size > STORE_PENDING_MAX)
		return STORE_ECORRUPT;
	memcpy(key, k->mv_data, STORE_KEY_SIZE);
	memcpy(uri, v->mv_data, v->mv_size);
	uri[v->mv_size] = '\0';
	return pw->fn(pw->arg, key, uri);
}

int
store_each_pending(struct store *st,
    int (*fn)(void *arg, const uint8_t key[STORE_KEY_SIZE], const char *uri),
    void *arg)
{
	struct store_pending_walk pw = { fn, arg };

	if (st == NULL || fn == NULL)
		return STORE_EINVAL;
	return store_walk(st, st->pending, store_pending_visit, &pw);
}

struct store_block_walk {
	struct store *st;
	uint8_t *buf;			/* STORE_BLOCK_SIZE */
	int (*fn)(void *, const uint8_t *, const uint8_t *, enum store_kind);
	void *arg;
};

/* One meta record for store_each_block: the block's head from
 * "blocks", its tail from the record. */
static int
store_block_visit(void *ctx, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v)
{
	struct store_block_walk *bw = ctx;
	struct store_meta m;
	MDB_val hv;
	int rc;

	store_unmap_note(bw->st, 1);
	if (k->mv_size != STORE_KEY_SIZE || store_meta_decode(v, &m) != 0)
		return STORE_ECORRUPT;
	rc = mdb_get(txn, bw->st->blocks, (MDB_val *)k, &hv);
	if (rc == MDB_NOTFOUND || (rc == 0 && hv.mv_size != STORE_HEAD_SIZE))
		return STORE_ECORRUPT;
	if (rc != 0)
		return store_err(rc);
	memcpy(bw->buf, hv.mv_data, STORE_HEAD_SIZE);
	memcpy(bw->buf + STORE_HEAD_SIZE, m.tail, STORE_TAIL_SIZE);
	return bw->fn(bw->arg, k->mv_data, bw->buf, m.kind);
}

int
store_each_block(struct store *st,
    int (*fn)(void *arg, const uint8_t key[STORE_KEY_SIZE],
    const uint8_t *data, enum store_kind kind), void *arg)
{
	struct store_block_walk bw = { st, NULL, fn, arg };
	int rc;

	if (st == NULL || fn == NULL)
		return STORE_EINVAL;
	if ((bw.buf = malloc(STORE_BLOCK_SIZE)) == NULL)
		return STORE_ENOMEM;
	rc = store_walk(st, st->meta, store_block_visit, &bw);
	free(bw.buf);
	return rc;
}

int
store_get_stats(struct store *st, struct store_stats *out)
{
	MDB_txn *txn = NULL;
	struct store_counts c;
	MDB_stat ps;
	int rc;

	if (st == NULL || out == NULL)
		return STORE_EINVAL;
	rc = store_err(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		goto fail;
	rc = store_counts_get(st, txn, &c);
	if (rc == 0)
		rc = store_err(mdb_stat(txn, st->pending, &ps));
	if (rc != 0)
		goto fail;
	memset(out, 0, sizeof(*out));
	out->cache_blocks = c.kind[STORE_KIND_CACHE];
	out->temp_blocks = c.kind[STORE_KIND_TEMP];
	out->client_blocks = c.kind[STORE_KIND_CLIENT];
	out->local_blocks = c.kind[STORE_KIND_LOCAL];
	out->blocks = store_total(&c);
	out->bytes_used = out->blocks * STORE_BLOCK_SIZE;
	out->bytes_max = st->max_blocks * STORE_BLOCK_SIZE;
	out->pending = ps.ms_entries;
	pthread_mutex_lock(&st->mutex);
	out->evictions = st->evictions;
	pthread_mutex_unlock(&st->mutex);
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

/* Turns the cursor's block into CACHE if it is TEMP. */
static int
store_temp_recover_one(struct store *st, struct store_wtxn *w,
    MDB_cursor *cur, const MDB_val *k, const MDB_val *v)
{
	struct store_meta m;
	uint8_t key[STORE_KEY_SIZE], rec[STORE_META_SIZE];
	MDB_val nk = { STORE_KEY_SIZE, key }, nv = { STORE_META_SIZE, rec };
	int rc;

	if (k->mv_size != STORE_KEY_SIZE)
		return STORE_ECORRUPT;
	rc = store_meta_decode(v, &m);
	if (rc != 0 || m.kind != STORE_KIND_TEMP)
		return rc;
	memcpy(key, k->mv_data, STORE_KEY_SIZE);
	rc = store_kind_change(st, w, key, &m, STORE_KIND_CACHE);
	if (rc != 0)
		return rc;
	store_meta_encode(&m, rec);
	return store_err(mdb_cursor_put(cur, &nk, &nv, MDB_CURRENT));
}

/* Turns the TEMP blocks a crash left behind into CACHE: no put survives
 * a restart, and TEMP blocks are never evicted. */
static int
store_temp_recover(struct store *st, struct store_wtxn *w)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_cursor_op op = MDB_FIRST;
	int rc;

	if (w->counts.kind[STORE_KIND_TEMP] == 0)
		return 0;
	rc = store_err(mdb_cursor_open(w->txn, st->meta, &cur));
	if (rc != 0)
		goto fail;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		rc = store_temp_recover_one(st, w, cur, &k, &v);
		if (rc != 0)
			goto fail;
	}
	rc = rc == MDB_NOTFOUND ? 0 : store_err(rc);
	if (rc == 0 && w->counts.kind[STORE_KIND_TEMP] != 0)
		rc = STORE_ECORRUPT;	/* the counter disagrees with "meta" */
fail:
	if (cur != NULL)
		mdb_cursor_close(cur);
	return rc;
}

int
store_release_temp(struct store *st)
{
	struct store_wtxn w;
	int rc;

	if (st == NULL)
		return STORE_EINVAL;
	if ((rc = store_wtxn_begin(st, &w)) != 0)
		return rc;
	return store_wtxn_end(st, &w, store_temp_recover(st, &w));
}

/* The counters must agree with the databases they count (mdb_stat is
 * cheap); a mismatch means the file is not what we wrote. */
static int
store_counts_check(struct store *st, struct store_wtxn *w)
{
	MDB_stat sb, sm, sl;
	uint64_t total = store_total(&w->counts);
	int rc;

	rc = store_err(mdb_stat(w->txn, st->blocks, &sb));
	if (rc == 0)
		rc = store_err(mdb_stat(w->txn, st->meta, &sm));
	if (rc == 0)
		rc = store_err(mdb_stat(w->txn, st->lru, &sl));
	if (rc != 0)
		return rc;
	if (sb.ms_entries != total || sm.ms_entries != total ||
	    sl.ms_entries != w->counts.kind[STORE_KIND_CACHE] +
	    w->counts.kind[STORE_KIND_LOCAL])
		return STORE_ECORRUPT;
	return 0;
}

/* Opens the named databases; creates them only in an empty environment,
 * so that a foreign or damaged file is reported, not written over. */
static int
store_dbs_open(struct store *st, MDB_txn *txn, int *fresh)
{
	MDB_dbi main_dbi;
	MDB_stat ms;
	unsigned int flags;
	int rc;

	rc = mdb_dbi_open(txn, "info", 0, &st->info);
	*fresh = rc == MDB_NOTFOUND;
	if (*fresh) {
		rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
		if (rc == 0)
			rc = mdb_stat(txn, main_dbi, &ms);
		if (rc == 0 && ms.ms_entries != 0)
			return STORE_ECORRUPT;
		if (rc == 0)
			rc = mdb_dbi_open(txn, "info", MDB_CREATE, &st->info);
	}
	flags = *fresh ? MDB_CREATE : 0;
	if (rc == 0)
		rc = mdb_dbi_open(txn, "blocks", flags, &st->blocks);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "meta", flags, &st->meta);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "lru", flags, &st->lru);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "pending", flags, &st->pending);
	/* An existing store missing one of its databases is damaged. */
	return rc == MDB_NOTFOUND ? STORE_ECORRUPT : store_err(rc);
}

/* Writes the format record of a new store, or checks an existing one. */
static int
store_format_check(struct store *st, struct store_wtxn *w, int fresh)
{
	uint8_t rec[4] = { 0, 0, 0, STORE_FORMAT };
	MDB_val k = { sizeof(store_key_format) - 1, (void *)store_key_format };
	MDB_val v = { sizeof(rec), rec };
	int rc;

	if (fresh) {
		memset(&w->counts, 0, sizeof(w->counts));
		w->counts.next_seq = 1;
		return store_err(mdb_put(w->txn, st->info, &k, &v, 0));
	}
	rc = mdb_get(w->txn, st->info, &k, &v);
	if (rc == MDB_NOTFOUND || (rc == 0 && (v.mv_size != sizeof(rec) ||
	    memcmp(v.mv_data, rec, 3) != 0 || ((uint8_t *)v.mv_data)[3] < 1 ||
	    ((uint8_t *)v.mv_data)[3] > STORE_FORMAT)))
		return STORE_ECORRUPT;
	if (rc != 0)
		return store_err(rc);
	rc = store_counts_get(st, w->txn, &w->counts);
	/* A format 1 store is format 2 from this commit on ("counts" is
	 * written in its new layout with it). */
	v.mv_size = sizeof(rec);
	v.mv_data = rec;
	return rc != 0 ? rc : store_err(mdb_put(w->txn, st->info, &k, &v, 0));
}

/* One write transaction at open: databases, format, crash recovery. */
static int
store_init(struct store *st)
{
	struct store_wtxn w = { 0 };
	int fresh, rc;

	rc = store_err(mdb_txn_begin(st->env, NULL, 0, &w.txn));
	if (rc != 0)
		goto fail;
	rc = store_dbs_open(st, w.txn, &fresh);
	if (rc == 0)
		rc = store_format_check(st, &w, fresh);
	if (rc == 0)
		rc = store_temp_recover(st, &w);
	if (rc == 0)
		rc = store_counts_check(st, &w);
	if (rc != 0)
		goto fail;
	return store_wtxn_commit(st, &w);
fail:
	store_wtxn_abort(&w);
	return rc;
}

/* Sizes the map for max_blocks. The page size is 4096 on the systems we
 * measured; any other size only changes the pages a block costs here. */
static int
store_map_size(struct store *st)
{
	MDB_stat ms;
	MDB_envinfo ei;
	size_t psize, per_block, size, used;
	int rc;

	rc = mdb_env_stat(st->env, &ms);
	if (rc == 0)
		rc = mdb_env_info(st->env, &ei);
	if (rc != 0)
		return store_err(rc);
	psize = ms.ms_psize;
	per_block = (STORE_HEAD_SIZE + STORE_PAGE_HDR + psize - 1) / psize *
	    psize;
	if (st->max_blocks > SIZE_MAX / 4 / per_block)
		return STORE_EINVAL;
	/* Half again as much for copy-on-write, the freelist and pages
	 * still held by readers; the slack covers the small databases. */
	size = (size_t)st->max_blocks * per_block / 2 * 3 + STORE_MAP_SLACK;
	/* A store reopened with a smaller max_bytes still needs room to
	 * evict down to it. */
	used = (ei.me_last_pgno + 1) * psize + STORE_MAP_SLACK;
	if (size < used)
		size = used;
	size = (size + STORE_MIB - 1) / STORE_MIB * STORE_MIB;
	return store_err(mdb_env_set_mapsize(st->env, size));
}

/* A data file shorter than its own last page was cut (a bad copy, a
 * disk gone wrong). LMDB reads pages through its map, where a page past
 * the end of the file is a SIGBUS, not an error: it is caught here,
 * before the first read of a tree. */
static int
store_size_check(struct store *st)
{
	mdb_filehandle_t fd;
	MDB_envinfo ei;
	MDB_stat ms;
	struct stat sb;
	int rc;

	rc = mdb_env_get_fd(st->env, &fd);
	if (rc == 0)
		rc = mdb_env_info(st->env, &ei);
	if (rc == 0)
		rc = mdb_env_stat(st->env, &ms);
	if (rc != 0)
		return store_err(rc);
	if (fstat(fd, &sb) != 0)
		return store_err(errno);
	if ((uint64_t)sb.st_size <
	    ((uint64_t)ei.me_last_pgno + 1) * ms.ms_psize)
		return STORE_ECORRUPT;
	return 0;
}

static int
store_env_open(struct store *st, const char *dir)
{
	int rc;

	rc = mdb_env_create(&st->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(st->env, STORE_MAXDBS);
	if (rc == 0)
		rc = mdb_env_set_maxreaders(st->env, STORE_MAXREADERS);
	/* No MDB_WRITEMAP (a full disk would SIGBUS us) and no MDB_NOSYNC or
	 * MDB_NOMETASYNC: a write returns only once it is durable. */
	if (rc == 0)
		rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600);
	if (rc != 0)
		return store_err(rc);
	if ((rc = store_size_check(st)) == 0 && (rc = store_map_size(st)) == 0)
		store_find_map(st, dir);
	return rc;
}

/* Locks dir against a second node: LMDB would let two processes share
 * the environment, and two nodes must never share one datadir. */
static int
store_lock(struct store *st, const char *dir)
{
	char path[PATH_MAX];
	int n;

	n = snprintf(path, sizeof(path), "%s/store.lock", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return STORE_EINVAL;
	st->lock_fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (st->lock_fd < 0)
		return store_err(errno);
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0)
		return errno == EWOULDBLOCK ? STORE_ELOCKED : store_err(errno);
	return 0;
}

static struct store *
store_new(uint64_t max_blocks)
{
	struct store *st;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	if (pthread_mutex_init(&st->mutex, NULL) != 0) {
		free(st);
		return NULL;
	}
	st->lock_fd = -1;
	st->max_blocks = max_blocks;
	return st;
}

int
store_open(struct store **out, const char *dir, uint64_t max_bytes)
{
	struct store *st;
	int rc;

	if (out == NULL || dir == NULL)
		return STORE_EINVAL;
	*out = NULL;
	if (max_bytes < STORE_BLOCK_SIZE)
		return STORE_EINVAL;
	st = store_new(max_bytes / STORE_BLOCK_SIZE);
	if (st == NULL)
		return STORE_ENOMEM;
	/* The lock comes first: a second opener must not touch LMDB. */
	rc = store_lock(st, dir);
	if (rc == 0)
		rc = store_env_open(st, dir);
	if (rc == 0)
		rc = store_init(st);
	if (rc != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return rc;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	/* The environment is closed before the lock is released. */
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	pthread_mutex_destroy(&st->mutex);
	free(st);
}

const char *
store_strerror(int err)
{
	switch (err) {
	case STORE_OK:
		return "success";
	case STORE_ENOTFOUND:
		return "no such block or record";
	case STORE_EFULL:
		return "store is full";
	case STORE_ECORRUPT:
		return "store is corrupt or unreadable";
	case STORE_EIO:
		return "store I/O error (is the disk failing?)";
	case STORE_ENOSPC:
		return "the disk holding the store is full";
	case STORE_EROFS:
		return "the store cannot be written (read-only file system or "
		    "permissions)";
	case STORE_ELOCKED:
		return "datadir is in use by another node";
	case STORE_EINVAL:
		return "invalid argument to the store";
	case STORE_ENOMEM:
		return "out of memory";
	default:
		return "unknown store error";
	}
}
