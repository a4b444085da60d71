/* log.c - see log.h. The level is the process's one piece of logging state. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/log.h"

static enum log_level log_level = LOG_INFO;

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_parse_level(const char *s)
{
	static const char *names[] = { "debug", "info", "warn", "error" };

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	char when[32], text[1024];
	struct tm tm;
	time_t now;
	va_list ap;

	if (level < log_level)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* One write per line so lines from threads do not interleave. */
	fprintf(stderr, "%s umbra[%ld] %s: %s\n", when, (long)getpid(),
	    names[level], text);
}
