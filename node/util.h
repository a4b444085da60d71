/*
 * util.h - small helpers shared by the daemon and the client: sizes,
 * HOST:PORT strings, the datadir, and files written whole.
 *
 * Errors: 0 or -1 with errno set (file helpers) or a static message in
 * *why (parsers). Parsers take outside input and check every byte.
 */
#ifndef UMBRA_UTIL_H
#define UMBRA_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* "1048576", "512K", "64M", "1G", "2T" (powers of 1024; an optional
 * trailing "B" or "iB"). Rejects empty, signs, overflow, junk. */
int util_parse_size(const char *s, uint64_t *out);

/* HOST:PORT with HOST a name, an IPv4 address or [IPv6] (1..255 bytes
 * of printable ASCII without space, '/', '[', ']' or '#'); PORT 0..65535.
 * host gets the host without brackets. */
#define UTIL_HOST_MAX 256
int util_parse_hostport(const char *s, char host[UTIL_HOST_MAX],
    uint16_t *port);
/* HOST[:PORT] where HOST is a numeric IPv4 or IPv6 address (in brackets
 * when a port follows); *port is 0 when none is given. */
int util_parse_ip_port(const char *s, char host[UTIL_HOST_MAX],
    uint16_t *port);

/* The datadir: dir if not NULL, else $XDG_DATA_HOME/umbra, else
 * $HOME/.local/share/umbra. Returns a malloc'd path or NULL. */
char *util_datadir(const char *dir);
/* mkdir -p with mode for each created component. */
int util_mkdirs(const char *path, unsigned mode);
/* Joins dir and name with '/'; malloc'd, NULL on failure. */
char *util_path(const char *dir, const char *name);

/* Writes data to path atomically (temporary file, fsync, rename) with
 * the given mode. */
int util_write_file(const char *path, const void *data, size_t len,
    unsigned mode);
/* Reads at most max bytes of path into a malloc'd NUL-terminated buffer;
 * fails with EFBIG if the file is longer. */
int util_read_file(const char *path, size_t max, char **out, size_t *len);

/* Monotonic time in seconds. */
double util_now(void);

#endif
