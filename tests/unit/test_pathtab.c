/* test_pathtab.c - node/pathtab.h: path ids on links. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/pathtab.h"
#include "tests/tap.h"

int
main(void)
{
	uint8_t lo[32], hi[32];
	struct pathtab *t;
	enum pathtab_kind kind = 0;
	int a = 1, b = 2, ok = 1;
	uint64_t id;

	if (sodium_init() < 0 || pathtab_new(&t) != 0)
		return 1;
	memset(lo, 0x11, sizeof(lo));
	memset(hi, 0x22, sizeof(hi));

	TAP_OK(pathtab_add(t, 1, 42, PATHTAB_OWN, &a) == 0 &&
	    pathtab_add(t, 2, 42, PATHTAB_PREV, &b) == 0 &&
	    pathtab_count(t) == 2, "one id on two links: two entries");
	TAP_OK(pathtab_add(t, 1, 42, PATHTAB_NEXT, &b) != 0,
	    "the same id on the same link again: refused");
	TAP_OK(pathtab_find(t, 1, 42, &kind) == &a && kind == PATHTAB_OWN &&
	    pathtab_find(t, 2, 42, &kind) == &b && kind == PATHTAB_PREV,
	    "each found with its kind");
	TAP_OK(pathtab_find(t, 3, 42, &kind) == NULL &&
	    pathtab_find(t, 1, 43, &kind) == NULL, "others are not found");
	pathtab_del(t, 1, 42);
	pathtab_del(t, 1, 42);
	TAP_OK(pathtab_find(t, 1, 42, &kind) == NULL &&
	    pathtab_find(t, 2, 42, &kind) == &b && pathtab_count(t) == 1,
	    "deleted (twice: harmless), the other stays");

	for (int i = 0; i < 1000 && ok; i++) {
		id = pathtab_fresh_id(t, 7, lo, hi);
		ok = id != 0 && (id & PATHTAB_SIDE_BIT) != 0 &&
		    pathtab_ours(lo, hi, id) && !pathtab_ours(hi, lo, id) &&
		    pathtab_add(t, 7, id, PATHTAB_NEXT, &a) == 0;
		id = pathtab_fresh_id(t, 7, hi, lo);
		ok = ok && id != 0 && (id & PATHTAB_SIDE_BIT) == 0 &&
		    pathtab_ours(hi, lo, id) && !pathtab_ours(lo, hi, id) &&
		    pathtab_add(t, 7, id, PATHTAB_PREV, &b) == 0;
	}
	TAP_OK(ok && pathtab_count(t) == 2001, "2000 fresh ids: each side's "
	    "bit 63, all distinct, the lower key's set");
	pathtab_free(t);
	pathtab_free(NULL);
	return tap_done();
}
