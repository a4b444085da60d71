/*
 * config.h - the node's settings, from the command line and the optional
 * config file.
 *
 * The file holds one "key = value" per line ('#' starts a comment); keys
 * are the long option names: datadir, listen, announce, api, peer
 * (repeatable), store-size, max-peers, log-level. Command-line options win over the file; peers
 * from both are kept. Every value is checked here, so the daemon starts
 * only with settings it can use.
 *
 * Ownership: strings in struct node_config are malloc'd and freed by
 * config_free(); a zeroed struct is empty and valid to free.
 */
#ifndef UMBRA_CONFIG_H
#define UMBRA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_PEERS 256
#define CONFIG_DEFAULT_API "127.0.0.1:9480"
#define CONFIG_DEFAULT_LISTEN "0.0.0.0:9479"
#define CONFIG_DEFAULT_STORE_SIZE (1ULL << 30)
#define CONFIG_MIN_STORE_SIZE (1ULL << 20)
#define CONFIG_DEFAULT_MAX_LINKS 32	/* peer links up at a time */
/* --max-peers at most: routing takes ROUTE_PEERS_MAX (256) links, and 64
 * of those are kept for path links (node/peers.h). */
#define CONFIG_MAX_LINKS 192

struct config_peer {
	char *addr;		/* HOST:PORT */
	uint8_t pubkey[32];
	int pinned;		/* a #PUBKEY was given */
};

struct node_config {
	char *datadir;
	char *listen;
	char *announce;			/* HOST[:PORT], or NULL: learned */
	char *api;
	char *config_file;
	uint64_t store_size;
	unsigned max_peers;		/* links up at a time */
	int log_level;			/* enum log_level, -1 = unset */
	struct config_peer peers[CONFIG_MAX_PEERS];
	size_t npeers;
};

/* Fills cfg from argv (argv[0] is "node"). On error returns -1 and
 * writes a one-line reason into why. Returns 1 if --help was asked. */
int config_from_args(struct node_config *cfg, int argc, char **argv,
    char *why, size_t whylen);
/* Parses config file text (len bytes, need not be NUL-terminated) into
 * cfg, leaving values already set alone. */
int config_parse_text(struct node_config *cfg, const char *text,
    size_t len, char *why, size_t whylen);
/* Sets one key. A value from_file does not replace one already set. */
int config_set(struct node_config *cfg, const char *key, const char *value,
    int from_file, char *why, size_t whylen);
/* Fills defaults for whatever is unset. */
int config_finish(struct node_config *cfg, char *why, size_t whylen);
void config_free(struct node_config *cfg);

/* HOST:PORT[#PUBKEY]; PUBKEY is 43 chars of unpadded URL-safe base64. */
int config_parse_peer(struct config_peer *peer, const char *s);

#endif
