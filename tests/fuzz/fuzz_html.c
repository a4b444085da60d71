/*
 * fuzz_html.c - html_filter() (node/html.h) on arbitrary bytes.
 *
 * Invariants (abort() if broken): the filter answers 0 or HTML_ELIMIT (a
 * work bound; HTML_ETOOBIG only past HTML_FILTER_MAX_INPUT); its output
 * is NUL-terminated at out_len, valid UTF-8, in our frame, and its parse
 * by gumbo (as a browser would read it) holds only allow-listed elements
 * and attributes, URL attributes that are "#..." or a parsing "/CHK@...",
 * no comment, no meta but our charset, style attributes and elements
 * that pass the CSS checks; filtering the output again gives the same
 * bytes (tests/filter_check.h has the lists, written from html.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "node/html.h"
#include "tests/filter_check.h"
#include "tests/fuzz/fuzz.h"

static void
fail(const char *why)
{
	fprintf(stderr, "fuzz_html: %s\n", why);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t n = 0;
	const char *why;
	int rc = html_filter((const char *)data, size, &out, &n);

	if (rc == HTML_ELIMIT ||
	    (rc == HTML_ETOOBIG && size > HTML_FILTER_MAX_INPUT))
		return 0;
	if (rc != HTML_OK)
		fail(html_strerror(rc));
	if ((why = check_html_output(out, n)) != NULL ||
	    (why = check_html_again(out, n)) != NULL) {
		fprintf(stderr, "output: %s\n", out);
		fail(why);
	}
	free(out);
	return 0;
}
