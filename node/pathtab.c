/* pathtab.c - see pathtab.h. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/pathtab.h"

#define PATHTAB_BUCKETS 8192	/* a power of two; chains stay short */

struct pathtab_entry {
	struct pathtab_entry *next;
	uint64_t id;
	uint32_t handle;
	enum pathtab_kind kind;
	void *ptr;
};

struct pathtab {
	struct pathtab_entry *bucket[PATHTAB_BUCKETS];
	uint8_t key[crypto_shorthash_KEYBYTES];
	size_t count;
};

int
pathtab_new(struct pathtab **out)
{
	struct pathtab *t = calloc(1, sizeof(*t));

	*out = t;
	if (t == NULL)
		return -1;
	randombytes_buf(t->key, sizeof(t->key));
	return 0;
}

void
pathtab_free(struct pathtab *t)
{
	struct pathtab_entry *e, *next;

	if (t == NULL)
		return;
	for (size_t i = 0; i < PATHTAB_BUCKETS; i++)
		for (e = t->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(t);
}

static struct pathtab_entry **
pathtab_slot(const struct pathtab *t, uint32_t handle, uint64_t id)
{
	uint8_t in[12], h[crypto_shorthash_BYTES];
	uint64_t v;
	struct pathtab_entry *const *pp;

	memcpy(in, &id, 8);
	memcpy(in + 8, &handle, 4);
	crypto_shorthash(h, in, sizeof(in), t->key);
	memcpy(&v, h, sizeof(v));
	pp = &t->bucket[v & (PATHTAB_BUCKETS - 1)];
	while (*pp != NULL && ((*pp)->id != id || (*pp)->handle != handle))
		pp = &(*pp)->next;
	return (struct pathtab_entry **)pp;
}

int
pathtab_add(struct pathtab *t, uint32_t handle, uint64_t id,
    enum pathtab_kind kind, void *ptr)
{
	struct pathtab_entry **pp = pathtab_slot(t, handle, id), *e;

	if (*pp != NULL || (e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->id = id;
	e->handle = handle;
	e->kind = kind;
	e->ptr = ptr;
	*pp = e;
	t->count++;
	return 0;
}

void *
pathtab_find(const struct pathtab *t, uint32_t handle, uint64_t id,
    enum pathtab_kind *kind)
{
	struct pathtab_entry *e = *pathtab_slot(t, handle, id);

	if (e == NULL)
		return NULL;
	*kind = e->kind;
	return e->ptr;
}

void
pathtab_del(struct pathtab *t, uint32_t handle, uint64_t id)
{
	struct pathtab_entry **pp = pathtab_slot(t, handle, id), *e = *pp;

	if (e == NULL)
		return;
	*pp = e->next;
	free(e);
	t->count--;
}

size_t
pathtab_count(const struct pathtab *t)
{
	return t->count;
}

bool
pathtab_ours(const uint8_t *our_pk, const uint8_t *peer_pk, uint64_t id)
{
	bool lower = memcmp(our_pk, peer_pk, crypto_sign_PUBLICKEYBYTES) < 0;

	return ((id & PATHTAB_SIDE_BIT) != 0) == lower;
}

uint64_t
pathtab_fresh_id(const struct pathtab *t, uint32_t handle,
    const uint8_t *our_pk, const uint8_t *peer_pk)
{
	bool lower = memcmp(our_pk, peer_pk, crypto_sign_PUBLICKEYBYTES) < 0;
	uint64_t id;

	/* 2^63 ids and at most a few thousand in use: a second round is
	 * already rare. */
	for (int i = 0; i < 64; i++) {
		randombytes_buf(&id, sizeof(id));
		id = lower ? id | PATHTAB_SIDE_BIT : id & ~PATHTAB_SIDE_BIT;
		if (id != 0 && *pathtab_slot(t, handle, id) == NULL)
			return id;
	}
	return 0;
}
