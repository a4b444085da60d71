/* util.c - see util.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/util.h"

int
util_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	uint64_t v = 0;
	const char *p = s, *u;
	int shift = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0' && (u = strchr(units, *p == 'k' ? 'K' : *p)) != NULL) {
		shift = 10 * (int)(u - units + 1);
		p++;
		if (*p == 'i' && p[1] == 'B')
			p += 2;
		else if (*p == 'B')
			p++;
	} else if (*p == 'B') {
		p++;
	}
	if (*p != '\0' || (shift > 0 && v > (UINT64_MAX >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

static int
util_parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
util_parse_hostport(const char *s, char host[UTIL_HOST_MAX], uint16_t *port)
{
	const char *colon, *end;
	size_t n;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1;
		end = colon;
	}
	n = (size_t)(end - s);
	if (n == 0 || n >= UTIL_HOST_MAX)
		return -1;
	/* Printable ASCII only, whatever the signedness of char. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f ||
		    s[i] == '/' || s[i] == '[' || s[i] == ']' || s[i] == '#')
			return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	return util_parse_port(colon + 1, port);
}

int
util_parse_ip_port(const char *s, char host[UTIL_HOST_MAX], uint16_t *port)
{
	uint8_t ip[16];
	size_t n = strlen(s);

	if (util_parse_hostport(s, host, port) != 0) {
		*port = 0;
		if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
			s++;
			n -= 2;
		}
		if (n == 0 || n >= UTIL_HOST_MAX)
			return -1;
		memcpy(host, s, n);
		host[n] = '\0';
	}
	return inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1 ? 0 : -1;
}

char *
util_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

char *
util_datadir(const char *dir)
{
	const char *base;

	if (dir != NULL)
		return strdup(dir);
	base = getenv("XDG_DATA_HOME");
	if (base != NULL && base[0] == '/')
		return util_path(base, "umbra");
	base = getenv("HOME");
	if (base == NULL || base[0] != '/')
		return NULL;
	return util_path(base, ".local/share/umbra");
}

int
util_mkdirs(const char *path, unsigned mode)
{
	char *p = strdup(path);
	int rc = 0;

	if (p == NULL)
		return -1;
	for (char *q = p + 1; rc == 0; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char c = *q;

		*q = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST)
			rc = -1;
		*q = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

int
util_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
	size_t n = strlen(path) + 8;
	char *tmp = malloc(n);
	int fd = -1, saved;

	if (tmp == NULL)
		return -1;
	snprintf(tmp, n, "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode) != 0 ||
	    write(fd, data, len) != (ssize_t)len || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}

int
util_read_file(const char *path, size_t max, char **out, size_t *len)
{
	char *buf = malloc(max + 2);
	ssize_t got;
	size_t n = 0;
	int fd, saved;

	*out = NULL;
	if (buf == NULL)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		goto fail;
	while (n <= max && (got = read(fd, buf + n, max + 1 - n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto fail;
		n += (size_t)got;
	}
	close(fd);
	fd = -1;
	if (n > max) {
		errno = EFBIG;
		goto fail;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	errno = saved;
	return -1;
}

double
util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
