/*
 * fuzz_css.c - css_filter_sheet() and css_filter_inline() (node/css.h)
 * on arbitrary bytes, the whole input given to each.
 *
 * Invariants (abort() if broken): each answers 0 (CSS_ETOOBIG only past
 * CSS_FILTER_MAX_INPUT); its output is NUL-terminated at out_len, at
 * most 4 * len + 64 bytes, valid UTF-8, holds no '<', and tokenized
 * again holds no url or bad-url token, no bad string, no CDO/CDC, no
 * function outside the allow-list, no at-rule but @media (none at all,
 * and no braces, from the inline filter) and no stray '\' or '@';
 * filtering the output again gives the same bytes
 * (tests/filter_check.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "node/css.h"
#include "tests/filter_check.h"
#include "tests/fuzz/fuzz.h"

static void
one(const uint8_t *data, size_t size, bool inl)
{
	char *out = NULL;
	size_t n = 0;
	const char *why = NULL;
	int rc = inl ? css_filter_inline((const char *)data, size, &out, &n) :
	    css_filter_sheet((const char *)data, size, &out, &n);

	if (rc == CSS_ETOOBIG && size > CSS_FILTER_MAX_INPUT)
		return;
	if (rc != CSS_OK)
		why = css_strerror(rc);
	else if (n > 4 * size + 64)
		why = "output over 4 * len + 64";
	else if ((why = check_css_output(out, n, inl)) == NULL)
		why = check_css_again(out, n, inl);
	if (why != NULL) {
		fprintf(stderr, "fuzz_css (%s): %s\noutput: %s\n",
		    inl ? "inline" : "sheet", why, out ? out : "");
		abort();
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, false);
	one(data, size, true);
	return 0;
}
