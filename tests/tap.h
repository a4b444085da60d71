/*
 * tap.h - a minimal TAP producer for the unit tests.
 *
 * Each check prints "ok N - name" or "not ok N - name" so that automake's
 * tap-driver counts every check, not every program. tap_done() prints the
 * plan and returns the exit status for main().
 */
#ifndef UMBRA_TAP_H
#define UMBRA_TAP_H

#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>

static int tap_n, tap_failed;

static inline int tap_check(int ok, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline int
tap_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", ok ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok) {
		tap_failed++;
		printf("# failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return ok;
}

#define TAP_OK(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* malloc that ends the test with TAP's "Bail out!" when it fails. */
static inline void *
tap_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return p;
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
