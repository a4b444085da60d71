/*
 * standalone.c - runs a fuzz target over files when libFuzzer is not
 * available: each argument is a file or a directory (not recursive, dot
 * files skipped, names sorted); each file (at most 1 MiB is read) goes
 * through LLVMFuzzerTestOneInput once. Prints TAP, one line per input;
 * a broken invariant aborts the program, which the harness reports.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"
#include "tests/tap.h"

#define FUZZ_MAX_INPUT (1024 * 1024)

static const char *target = "fuzz";

static void
run_file(const char *path)
{
	static uint8_t buf[FUZZ_MAX_INPUT];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc;

	if (f == NULL) {
		TAP_OK(0, "%s: %s: cannot open", target, path);
		return;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f)) {
		fclose(f);
		TAP_OK(0, "%s: %s: read error", target, path);
		return;
	}
	fclose(f);
	/* A copy of exactly n bytes, so ASan sees reads past the input. */
	uint8_t *copy = malloc(n ? n : 1);
	if (copy == NULL) {
		TAP_OK(0, "%s: %s: out of memory", target, path);
		return;
	}
	memcpy(copy, buf, n);
	rc = LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	TAP_OK(rc == 0, "%s: %s", target, path);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, *path;
	size_t n = 0, cap = 0;
	struct stat st;

	if (d == NULL) {
		TAP_OK(0, "%s: %s: cannot open directory", target, dir);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				abort();
		}
		if ((names[n++] = strdup(e->d_name)) == NULL)
			abort();
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 2;

		if ((path = malloc(len)) == NULL)
			abort();
		snprintf(path, len, "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			run_file(path);
		free(path);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	struct stat st;
	const char *slash;

	if (argc > 0 && argv[0] != NULL) {
		slash = strrchr(argv[0], '/');
		target = slash != NULL ? slash + 1 : argv[0];
	}
	if (argc < 2) {
		/* No corpus: at least the empty input. */
		TAP_OK(LLVMFuzzerTestOneInput((const uint8_t *)"", 0) == 0,
		    "%s: empty input", target);
		return tap_done();
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0)
			TAP_OK(0, "%s: %s: no such file", target, argv[i]);
		else if (S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_file(argv[i]);
	}
	return tap_done();
}
