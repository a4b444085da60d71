/* config.c - see config.h. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/config.h"
#include "node/log.h"
#include "node/util.h"

#define CONFIG_FILE_MAX (64 * 1024)
#define CONFIG_LINE_MAX 1024

int
config_parse_peer(struct config_peer *peer, const char *s)
{
	char host[UTIL_HOST_MAX], addr[UTIL_HOST_MAX + 8];
	const char *hash = strchr(s, '#');
	size_t n = hash ? (size_t)(hash - s) : strlen(s), got = 0;
	uint16_t port;

	memset(peer, 0, sizeof(*peer));
	if (n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (util_parse_hostport(addr, host, &port) != 0 || port == 0)
		return -1;
	if (hash != NULL) {
		/* The alphabet first: libsodium 1.0.18 decodes every byte
		 * from 0x80 up as '_' (its char is signed). */
		if (strlen(hash + 1) != 43 ||
		    strspn(hash + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_") != 43 ||
		    sodium_base642bin(peer->pubkey, sizeof(peer->pubkey),
		    hash + 1, 43, NULL, &got, NULL,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
		    got != sizeof(peer->pubkey))
			return -1;
		peer->pinned = 1;
	}
	peer->addr = strdup(addr);
	return peer->addr == NULL ? -1 : 0;
}

static int config_fail(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
config_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
config_set_string(char **slot, const char *value, int from_file)
{
	if (*slot != NULL && from_file)
		return 0;
	free(*slot);
	*slot = strdup(value);
	return *slot == NULL ? -1 : 0;
}

static int
config_set_addr(char **slot, const char *key, const char *value,
    int from_file, char *why, size_t whylen)
{
	char host[UTIL_HOST_MAX];
	uint16_t port;

	if (util_parse_hostport(value, host, &port) != 0)
		return config_fail(why, whylen, "--%s: expected HOST:PORT", key);
	return config_set_string(slot, value, from_file);
}

int
config_set(struct node_config *cfg, const char *key, const char *value,
    int from_file, char *why, size_t whylen)
{
	uint64_t size;
	int level;

	if (strcmp(key, "datadir") == 0)
		return value[0] == '\0' ? config_fail(why, whylen,
		    "--%s: empty path", key) :
		    config_set_string(&cfg->datadir, value, from_file);
	if (strcmp(key, "listen") == 0 || strcmp(key, "api") == 0)
		return config_set_addr(key[0] == 'l' ? &cfg->listen : &cfg->api,
		    key, value, from_file, why, whylen);
	if (strcmp(key, "announce") == 0) {
		char host[UTIL_HOST_MAX];
		uint16_t port;

		if (util_parse_ip_port(value, host, &port) != 0)
			return config_fail(why, whylen, "--announce: expected a "
			    "numeric IP address, [IPv6]:PORT or IPv4:PORT, got "
			    "'%s'", value);
		return config_set_string(&cfg->announce, value, from_file);
	}
	if (strcmp(key, "peer") == 0) {
		if (cfg->npeers == CONFIG_MAX_PEERS)
			return config_fail(why, whylen, "too many peers (%s)",
			    value);
		if (config_parse_peer(&cfg->peers[cfg->npeers], value) != 0)
			return config_fail(why, whylen, "--peer: expected "
			    "HOST:PORT[#PUBKEY], got '%s'", value);
		cfg->npeers++;
		return 0;
	}
	if (strcmp(key, "store-size") == 0) {
		if (util_parse_size(value, &size) != 0 ||
		    size < CONFIG_MIN_STORE_SIZE)
			return config_fail(why, whylen, "--store-size: expected "
			    "a size of at least 1M (K, M, G suffixes), got '%s'",
			    value);
		if (cfg->store_size == 0 || !from_file)
			cfg->store_size = size;
		return 0;
	}
	if (strcmp(key, "max-peers") == 0) {
		if (util_parse_size(value, &size) != 0 || size < 1 ||
		    size > CONFIG_MAX_LINKS || strspn(value, "0123456789") !=
		    strlen(value))
			return config_fail(why, whylen, "--max-peers: expected "
			    "a number from 1 to %d, got '%s'", CONFIG_MAX_LINKS,
			    value);
		if (cfg->max_peers == 0 || !from_file)
			cfg->max_peers = (unsigned)size;
		return 0;
	}
	if (strcmp(key, "log-level") == 0) {
		if ((level = log_parse_level(value)) < 0)
			return config_fail(why, whylen, "--log-level: expected "
			    "debug, info, warn or error, got '%s'", value);
		if (cfg->log_level < 0 || !from_file)
			cfg->log_level = level;
		return 0;
	}
	return config_fail(why, whylen, "unknown setting '%s'", key);
}

/* Splits one line into key and value in place; empty lines give key "". */
static int
config_split(char *line, char **key, char **value)
{
	char *p = strchr(line, '#'), *end;

	if (p != NULL)
		*p = '\0';
	p = line + strspn(line, " \t\r");
	*key = p;
	p += strcspn(p, " \t\r=");
	end = p;
	p += strspn(p, " \t\r");
	if (*p == '=')
		p++;
	p += strspn(p, " \t\r");
	*end = '\0';
	*value = p;
	for (end = p + strlen(p); end > p && strchr(" \t\r", end[-1]); end--)
		end[-1] = '\0';
	if (**key == '\0')
		return **value == '\0' ? 0 : -1;
	return **value == '\0' ? -1 : 0;
}

int
config_parse_text(struct node_config *cfg, const char *text, size_t len,
    char *why, size_t whylen)
{
	char line[CONFIG_LINE_MAX + 1], *key, *value, msg[256];
	size_t start = 0, end, lineno = 0;

	while (start < len) {
		lineno++;
		for (end = start; end < len && text[end] != '\n'; end++)
			;
		if (end - start > CONFIG_LINE_MAX ||
		    memchr(text + start, '\0', end - start) != NULL) {
			snprintf(why, whylen, "line %zu: too long or binary",
			    lineno);
			return -1;
		}
		memcpy(line, text + start, end - start);
		line[end - start] = '\0';
		start = end + 1;
		if (config_split(line, &key, &value) != 0) {
			snprintf(why, whylen, "line %zu: expected 'key = value'",
			    lineno);
			return -1;
		}
		if (*key != '\0' &&
		    config_set(cfg, key, value, 1, msg, sizeof(msg)) != 0) {
			snprintf(why, whylen, "line %zu: %s", lineno, msg);
			return -1;
		}
	}
	return 0;
}

static int
config_load_file(struct node_config *cfg, char *why, size_t whylen)
{
	char *text = NULL, msg[256];
	size_t len;
	int rc;

	if (util_read_file(cfg->config_file, CONFIG_FILE_MAX, &text, &len)
	    != 0)
		return config_fail(why, whylen, "cannot read config file %s",
		    cfg->config_file);
	rc = config_parse_text(cfg, text, len, msg, sizeof(msg));
	free(text);
	if (rc != 0)
		snprintf(why, whylen, "%s: %s", cfg->config_file, msg);
	return rc;
}

int
config_from_args(struct node_config *cfg, int argc, char **argv,
    char *why, size_t whylen)
{
	static const struct option opts[] = {
		{ "datadir", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "announce", required_argument, NULL, 'A' },
		{ "api", required_argument, NULL, 'a' },
		{ "peer", required_argument, NULL, 'p' },
		{ "store-size", required_argument, NULL, 's' },
		{ "max-peers", required_argument, NULL, 'm' },
		{ "config", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, idx;

	cfg->log_level = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, &idx)) != -1) {
		if (c == 'h')
			return 1;
		if (c == ':')
			return config_fail(why, whylen, "option %s needs a value",
			    argv[optind - 1]);
		if (c == '?')
			return config_fail(why, whylen, "unknown option %s",
			    argv[optind - 1]);
		if (c == 'c') {
			if (config_set_string(&cfg->config_file, optarg, 0) != 0)
				return config_fail(why, whylen, "%s", "no memory");
			continue;
		}
		if (config_set(cfg, opts[idx].name, optarg, 0, why, whylen) != 0)
			return -1;
	}
	if (optind < argc)
		return config_fail(why, whylen, "unexpected argument '%s'",
		    argv[optind]);
	if (cfg->config_file != NULL && config_load_file(cfg, why, whylen) != 0)
		return -1;
	return config_finish(cfg, why, whylen);
}

int
config_finish(struct node_config *cfg, char *why, size_t whylen)
{
	char *dir = util_datadir(cfg->datadir);

	if (dir == NULL)
		return config_fail(why, whylen, "%s", "no --datadir and no "
		    "$HOME or $XDG_DATA_HOME to put one in");
	free(cfg->datadir);
	cfg->datadir = dir;
	if ((cfg->api == NULL &&
	    (cfg->api = strdup(CONFIG_DEFAULT_API)) == NULL) ||
	    (cfg->listen == NULL &&
	    (cfg->listen = strdup(CONFIG_DEFAULT_LISTEN)) == NULL))
		return config_fail(why, whylen, "%s", "no memory");
	if (cfg->store_size == 0)
		cfg->store_size = CONFIG_DEFAULT_STORE_SIZE;
	if (cfg->max_peers == 0)
		cfg->max_peers = CONFIG_DEFAULT_MAX_LINKS;
	if (cfg->log_level < 0)
		cfg->log_level = LOG_INFO;
	return 0;
}

void
config_free(struct node_config *cfg)
{
	free(cfg->datadir);
	free(cfg->listen);
	free(cfg->announce);
	free(cfg->api);
	free(cfg->config_file);
	for (size_t i = 0; i < cfg->npeers; i++)
		free(cfg->peers[i].addr);
	memset(cfg, 0, sizeof(*cfg));
}
