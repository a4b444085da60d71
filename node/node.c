/* node.c - see node.h: start, serve, stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "crypto/chk.h"
#include "node/api.h"
#include "node/insert.h"
#include "node/log.h"
#include "node/node.h"
#include "node/pathtab.h"
#include "node/paths.h"
#include "node/peers.h"
#include "node/reach.h"
#include "node/relay.h"
#include "node/relays.h"
#include "node/transit.h"
#include "node/util.h"
#include "node/writer.h"

static void
node_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct node *node = arg;

	(void)what;
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopexit(node->base, NULL);
}

struct node_bad_block {
	struct node *node;
	uint8_t rkey[STORE_KEY_SIZE];
};

static int
node_bad_block_job(void *arg)
{
	struct node_bad_block *b = arg;

	return store_del_block(b->node->store, b->rkey);
}

static void
node_bad_block_done(void *arg, int rc)
{
	if (rc != 0 && rc != STORE_ENOTFOUND && rc != WRITER_ECANCELED)
		log_warn("store: a damaged block could not be removed: %s",
		    store_strerror(rc));
	free(arg);
}

int
node_get_block(struct node *node, const uint8_t rkey[STORE_KEY_SIZE],
    uint8_t *out, enum store_kind *kind)
{
	struct node_bad_block *b;
	int rc;

	rc = store_get_block(node->store, rkey, out, kind);
	if (rc != 0 || chk_block_verify(out, rkey) == 0)
		return rc;
	log_warn("store: a block does not match its key (damaged on disk); "
	    "removing it");
	if ((b = malloc(sizeof(*b))) != NULL) {
		b->node = node;
		memcpy(b->rkey, rkey, STORE_KEY_SIZE);
		if (writer_submit(node->writer, node_bad_block_job,
		    node_bad_block_done, b) != 0)
			free(b);
	}
	return STORE_ENOTFOUND;
}

int
node_get_servable(struct node *node, const uint8_t rkey[STORE_KEY_SIZE],
    uint8_t *out)
{
	enum store_kind kind;
	int rc = store_get_kind(node->store, rkey, &kind);

	if (rc != 0)
		return rc;
	if (kind != STORE_KIND_CACHE)
		return STORE_ENOTFOUND;
	rc = node_get_block(node, rkey, out, &kind);
	/* The kind may have changed between the two reads. */
	return rc == 0 && kind != STORE_KIND_CACHE ? STORE_ENOTFOUND : rc;
}

void
node_note_request(struct node *node, bool put, int status, uint64_t bytes,
    const uint8_t rkey[STORE_KEY_SIZE])
{
	struct node_recent *r = &node->recent[node->recent_next];
	char b64[sodium_base64_ENCODED_LEN(STORE_KEY_SIZE,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

	sodium_bin2base64(b64, sizeof(b64), rkey, STORE_KEY_SIZE,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	r->when = util_now();
	r->put = put;
	r->status = status;
	r->bytes = bytes;
	memcpy(r->key, b64, sizeof(r->key) - 1);
	r->key[sizeof(r->key) - 1] = '\0';
	node->recent_next = (node->recent_next + 1) % NODE_RECENT;
}

static int
node_open_store(struct node *node)
{
	char *dir = util_path(node->cfg.datadir, "store");
	struct store_stats s;
	int rc = -1;

	if (dir == NULL || util_mkdirs(dir, 0700) != 0) {
		log_err("cannot create %s: %s", dir ? dir : "store",
		    strerror(errno));
		goto out;
	}
	rc = store_open(&node->store, dir, node->cfg.store_size);
	if (rc == STORE_ECORRUPT)
		log_err("the store in %s is corrupt or unreadable; refusing to "
		    "start and leaving it untouched", dir);
	else if (rc == STORE_ELOCKED)
		log_err("another umbra node is using %s", node->cfg.datadir);
	else if (rc != 0)
		log_err("cannot open the store in %s: %s", dir,
		    store_strerror(rc));
	else if (store_get_stats(node->store, &s) == 0)
		log_info("store: %llu blocks, %llu of %llu MiB used, %llu "
		    "pending inserts", (unsigned long long)s.blocks,
		    (unsigned long long)(s.bytes_used >> 20),
		    (unsigned long long)(s.bytes_max >> 20),
		    (unsigned long long)s.pending);
out:
	free(dir);
	return rc == 0 ? 0 : -1;
}

/* DIR/address, our --peer line: the address we announce, else the one
 * we listen on. */
static int
node_write_address(struct node *node)
{
	char *path = util_path(node->cfg.datadir, "address");
	const char *a = reach_address(node->reach);
	char line[UTIL_HOST_MAX + 80];
	int rc = -1;

	if (path == NULL)
		return -1;
	snprintf(line, sizeof(line), "%s#%s\n", a != NULL ? a :
	    peers_listen_address(node->peers), node->id.name);
	rc = util_write_file(path, line, strlen(line), 0644);
	free(path);
	return rc;
}

/* Writes DIR/address (our --peer line), DIR/api.token, then DIR/api: a
 * client that finds DIR/api can count on the others being there. */
static int
node_write_api_files(struct node *node, const char *token)
{
	char *tok = util_path(node->cfg.datadir, "api.token");
	char *api = util_path(node->cfg.datadir, "api");
	char *addr = util_path(node->cfg.datadir, "address");
	char line[UTIL_HOST_MAX + 80];
	int rc = -1;

	if (tok == NULL || api == NULL || addr == NULL)
		goto out;
	if (node_write_address(node) != 0)
		goto fail;
	snprintf(line, sizeof(line), "%s\n", api_address(node->api));
	if (util_write_file(tok, token, strlen(token), 0600) != 0 ||
	    util_write_file(api, line, strlen(line), 0644) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	log_err("cannot write the files in %s: %s", node->cfg.datadir,
	    strerror(errno));
out:
	free(tok);
	free(api);
	free(addr);
	return rc;
}

static void
node_remove_api_files(struct node *node)
{
	static const char *const names[] = { "api", "api.token", "address" };
	char *path;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((path = util_path(node->cfg.datadir, names[i])) != NULL)
			unlink(path);
		free(path);
	}
}

static int
node_start_api(struct node *node)
{
	uint8_t raw[API_TOKEN_HEX / 2];
	char token[API_TOKEN_HEX + 1], why[256];
	int rc = -1;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(token, sizeof(token), raw, sizeof(raw));
	if (api_start(&node->api, node, node->cfg.api, token, why,
	    sizeof(why)) != 0)
		log_err("%s", why);
	else if (node_write_api_files(node, token) == 0)
		rc = 0;
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(token, sizeof(token));
	return rc;
}

/* ---- the links' events, to the relay and the inserter ---- */

static void
node_peer_up(void *arg, struct peer *p)
{
	struct node *node = arg;

	relay_peer_up(node->relay, p);
	reach_link_up(node->reach, peer_handle(p), util_now());
	relays_peer_up(node->relays, p);
	transit_peer_up(node->transit, p);
	paths_peer_up(node->paths, p);
	inserter_kick(node->inserter);
}

static void
node_peer_down(void *arg, struct peer *p)
{
	struct node *node = arg;

	relay_peer_down(node->relay, p);
	reach_link_down(node->reach, peer_handle(p), util_now());
	relays_peer_down(node->relays, p);
	transit_peer_down(node->transit, p);
	paths_peer_down(node->paths, p);
}

static void
node_peer_message(void *arg, struct peer *p, const struct link_msg *m)
{
	relay_peer_message(((struct node *)arg)->relay, p, m);
}

static void
node_peer_foaf(void *arg, struct peer *p)
{
	relay_peer_foaf(((struct node *)arg)->relay, p);
}

static void
node_peer_relays(void *arg, struct peer *p, const struct link_msg *m)
{
	relays_peer_message(((struct node *)arg)->relays, p, m);
}

/* A path message: a BUILD starts a path we relay; anything else names
 * a path by an id on p's link, one of ours or one we relay. */
static void
node_peer_path(void *arg, struct peer *p, const struct link_msg *m)
{
	struct node *node = arg;
	enum pathtab_kind kind;
	uint64_t id;
	void *path;

	if (m->type == LINK_MSG_BUILD) {
		transit_build(node->transit, p, m);
		return;
	}
	id = m->type == LINK_MSG_CELL || m->type == LINK_MSG_CELL_LARGE ?
	    m->cell.path_id : m->built.id;
	if ((path = pathtab_find(node->pathtab, peer_handle(p), id,
	    &kind)) == NULL) {
		log_debug("path message %u for no path", (unsigned)m->type);
		return;		/* a path ended while this was on its way */
	}
	if (kind == PATHTAB_OWN)
		paths_message(node->paths, path, p, m);
	else
		transit_message(node->transit, path, kind, p, m);
}

static void
node_peer_seen(void *arg, struct peer *p, const struct link_netaddr *a)
{
	reach_link_seen(((struct node *)arg)->reach, peer_handle(p), a,
	    util_now());
}

static void
node_peer_probed(void *arg, struct peer *p, uint64_t nonce, bool ok)
{
	reach_probed(((struct node *)arg)->reach, peer_handle(p), nonce, ok,
	    util_now());
}

/* ---- our address, to the relays ---- */

static int
node_reach_probe(void *arg, uint32_t handle, uint64_t nonce,
    const struct link_netaddr *a)
{
	struct node *node = arg;

	return peers_ask_probe(peers_by_handle(node->peers, handle), nonce, a);
}

/* The port of the address we announce, 0 if none. */
static uint16_t
node_announced_port(const struct node *node)
{
	const char *a = reach_address(node->reach);
	char host[UTIL_HOST_MAX];
	uint16_t port = 0;

	if (a == NULL || util_parse_hostport(a, host, &port) != 0)
		return 0;
	return port;
}

static void
node_reach_changed(void *arg)
{
	struct node *node = arg;

	peers_set_hello_port(node->peers, node_announced_port(node));
	relays_announce(node->relays, reach_address(node->reach));
	if (node->api != NULL && node_write_address(node) != 0)
		log_warn("cannot write %s/address: %s", node->cfg.datadir,
		    strerror(errno));
}

static int
node_start_reach(struct node *node)
{
	static const struct reach_callbacks cb = {
		node_reach_probe, node_reach_changed,
	};
	struct reach_config rc = {
		.listen = peers_listen_address(node->peers),
		.announce = node->cfg.announce,
	};
	char why[256];

	if (reach_new(&node->reach, &rc, &cb, node, why, sizeof(why)) != 0) {
		log_err("%s", why);
		return -1;
	}
	if (reach_start(node->reach, node->base) != 0) {
		log_err("out of memory");
		return -1;
	}
	relays_start(node->relays, node->peers);
	peers_set_hello_port(node->peers, node_announced_port(node));
	relays_announce(node->relays, reach_address(node->reach));
	return 0;
}

static int
node_start_network(struct node *node)
{
	static const struct peers_callbacks cb = {
		node_peer_up, node_peer_down, node_peer_message, node_peer_foaf,
		node_peer_relays, node_peer_path, node_peer_seen,
		node_peer_probed,
	};
	struct peers_config pc = {
		.datadir = node->cfg.datadir,
		.listen = node->cfg.listen,
		.seeds = node->cfg.peers,
		.nseeds = node->cfg.npeers,
		.max_peers = node->cfg.max_peers,
		.id = &node->id,
	};
	char why[256];

	if (relay_new(&node->relay, node) != 0 ||
	    inserter_new(&node->inserter, node) != 0 ||
	    relays_new(&node->relays, node->base, &node->id) != 0 ||
	    pathtab_new(&node->pathtab) != 0 ||
	    paths_new(&node->paths, node) != 0 ||
	    transit_new(&node->transit, node) != 0) {
		log_err("out of memory");
		return -1;
	}
	if (peers_new(&node->peers, node->base, &pc, &cb, node, why,
	    sizeof(why)) != 0) {
		log_err("%s", why);
		return -1;
	}
	return node_start_reach(node);
}

static int
node_start(struct node *node)
{
	const char *why;
	struct event *ev;

	if (util_mkdirs(node->cfg.datadir, 0700) != 0) {
		log_err("cannot create datadir %s: %s", node->cfg.datadir,
		    strerror(errno));
		return -1;
	}
	if (identity_load(&node->id, node->cfg.datadir, &why) != 0) {
		log_err("%s (in %s)", why, node->cfg.datadir);
		return -1;
	}
	if (node_open_store(node) != 0)
		return -1;
	if ((node->base = event_base_new()) == NULL ||
	    writer_new(&node->writer, node->base) != 0) {
		log_err("cannot start the event loop");
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		ev = evsignal_new(node->base, i ? SIGTERM : SIGINT,
		    node_on_signal, node);
		if (ev == NULL || event_add(ev, NULL) != 0)
			return -1;
		node->sig[i] = ev;
	}
	if (node_start_network(node) != 0)
		return -1;
	return node_start_api(node);
}

static void
node_stop(struct node *node)
{
	if (node->api != NULL)
		node_remove_api_files(node);
	api_stop(node->api);
	peers_free(node->peers);
	node->peers = NULL;
	/* After the HTTP server: given-up puts still hand jobs over; and
	 * before the relay and the inserter, whose jobs end here. */
	writer_free(node->writer);
	inserter_free(node->inserter);
	paths_free(node->paths);
	transit_free(node->transit);
	relay_free(node->relay);
	relays_free(node->relays);
	reach_free(node->reach);
	pathtab_free(node->pathtab);
	store_close(node->store);
	for (int i = 0; i < 2; i++)
		if (node->sig[i] != NULL)
			event_free(node->sig[i]);
	if (node->base != NULL)
		event_base_free(node->base);
	identity_wipe(&node->id);
	config_free(&node->cfg);
}

int
node_run(struct node_config *cfg)
{
	struct node node;
	int rc = 1;

	memset(&node, 0, sizeof(node));
	node.cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	node.started = util_now();
	log_set_level((enum log_level)node.cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		log_err("libsodium failed to start");
		goto out;
	}
	if (node_start(&node) != 0)
		goto out;
	log_info("node %s ready (location %.6f); links on %s; API on %s; "
	    "datadir %s", node.id.name, node.id.location,
	    peers_listen_address(node.peers), api_address(node.api),
	    node.cfg.datadir);
	if (event_base_dispatch(node.base) < 0)
		log_err("event loop failed");
	else
		rc = 0;
out:
	node_stop(&node);
	log_info("stopped");
	return rc;
}
