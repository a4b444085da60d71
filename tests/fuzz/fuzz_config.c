/*
 * fuzz_config.c - the config file parser (node/config.h) on arbitrary
 * bytes.
 *
 * The input is the file's text, given twice to config_parse_text(): to
 * an empty struct node_config, and to one whose every single value is
 * already set (as by the command line, which wins over the file).
 * Invariants (abort() if broken): the result is 0 or -1, the same both
 * times, and -1 comes with a "line N: ..." reason; on success every
 * value holds what config.h allows (datadir not empty, listen and api
 * HOST:PORT, store-size at least 1 MiB, max-peers 1..192, a log level,
 * at most 256 peers each a valid HOST:PORT), values set before stay as
 * they were, and both parses give the same peers; nothing leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/config.h"
#include "node/util.h"

#include "tests/fuzz/fuzz.h"

#define PRE_DIR "/preset"
#define PRE_ADDR "192.0.2.1:1"
#define PRE_SIZE (7ULL << 20)
#define PRE_PEERS 5
#define PRE_LEVEL 3

static int
hostport_ok(const char *s)
{
	char host[UTIL_HOST_MAX];
	uint16_t port;

	return util_parse_hostport(s, host, &port) == 0;
}

static void
check_values(const struct node_config *c)
{
	struct config_peer p;

	if ((c->datadir != NULL && c->datadir[0] == '\0') ||
	    (c->listen != NULL && !hostport_ok(c->listen)) ||
	    (c->api != NULL && !hostport_ok(c->api)) ||
	    (c->store_size != 0 && c->store_size < CONFIG_MIN_STORE_SIZE) ||
	    c->max_peers > CONFIG_MAX_LINKS || c->log_level < -1 ||
	    c->log_level > 3 || c->npeers > CONFIG_MAX_PEERS ||
	    c->config_file != NULL)
		abort();
	for (size_t i = 0; i < c->npeers; i++) {
		if (c->peers[i].addr == NULL ||
		    config_parse_peer(&p, c->peers[i].addr) != 0 || p.pinned)
			abort();
		free(p.addr);
	}
}

static void
check_why(int rc, const char *why)
{
	if (rc != 0 && (rc != -1 || strncmp(why, "line ", 5) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_config cfg, pre;
	char why[256], why2[256];
	int rc, rc2;

	memset(&cfg, 0, sizeof(cfg));
	cfg.log_level = -1;
	why[0] = '\0';
	rc = config_parse_text(&cfg, (const char *)data, size, why,
	    sizeof(why));
	check_why(rc, why);

	memset(&pre, 0, sizeof(pre));
	if ((pre.datadir = strdup(PRE_DIR)) == NULL ||
	    (pre.listen = strdup(PRE_ADDR)) == NULL ||
	    (pre.api = strdup(PRE_ADDR)) == NULL)
		abort();
	pre.store_size = PRE_SIZE;
	pre.max_peers = PRE_PEERS;
	pre.log_level = PRE_LEVEL;
	why2[0] = '\0';
	rc2 = config_parse_text(&pre, (const char *)data, size, why2,
	    sizeof(why2));
	check_why(rc2, why2);
	if (rc2 != rc || (rc != 0 && strcmp(why, why2) != 0))
		abort();
	if (rc == 0) {
		check_values(&cfg);
		check_values(&pre);
		if (strcmp(pre.datadir, PRE_DIR) != 0 ||
		    strcmp(pre.listen, PRE_ADDR) != 0 ||
		    strcmp(pre.api, PRE_ADDR) != 0 ||
		    pre.store_size != PRE_SIZE || pre.max_peers != PRE_PEERS ||
		    pre.log_level != PRE_LEVEL || pre.npeers != cfg.npeers)
			abort();
		for (size_t i = 0; i < cfg.npeers; i++)
			if (strcmp(pre.peers[i].addr, cfg.peers[i].addr) != 0 ||
			    pre.peers[i].pinned != cfg.peers[i].pinned ||
			    memcmp(pre.peers[i].pubkey, cfg.peers[i].pubkey,
			    sizeof(cfg.peers[i].pubkey)) != 0)
				abort();
	}
	config_free(&cfg);
	config_free(&pre);
	return 0;
}
