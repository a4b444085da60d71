/* api.c - see api.h. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "node/api.h"
#include "node/api_int.h"
#include "node/docput.h"
#include "node/fetch.h"
#include "node/html.h"
#include "node/insert.h"
#include "node/log.h"
#include "node/node.h"
#include "node/page.h"
#include "node/params.h"
#include "node/prefetch.h"
#include "node/paths.h"
#include "node/peers.h"
#include "node/relay.h"
#include "node/reach.h"
#include "node/relays.h"
#include "node/session.h"
#include "node/transit.h"
#include "node/util.h"
#include "node/writer.h"

#define API_POOL_SIZE (128 * 1024)
#define API_IDLE_TIMEOUT 60		/* seconds */
#define API_GET_BLOCK (64 * 1024)
#define API_PREFIX "/api/v1/"

_Static_assert(API_TOKEN_HEX == SESSION_HEX, "one buffer holds either");

static void api_run(struct api *a);

/* ---- responses ---- */

void
api_add_common_headers(struct MHD_Response *r, const char *csp)
{
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy",
	    "same-origin");
	MHD_add_response_header(r, "Content-Security-Policy", csp);
}

/* A response that owns text (a string, freed with the response or here
 * if there is none), of the given type, with the common headers; or
 * NULL. */
struct MHD_Response *
api_text_response(char *text, const char *type, const char *csp)
{
	struct MHD_Response *r;

	if (text == NULL)
		return NULL;
	r = MHD_create_response_from_buffer(strlen(text), text,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return NULL;
	}
	MHD_add_response_header(r, "Content-Type", type);
	api_add_common_headers(r, csp);
	return r;
}

/* A JSON body, or NULL; takes ownership of doc. */
static struct MHD_Response *
api_json_response(json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	return api_text_response(text, "application/json", API_CSP);
}

/* Queues r (NULL: fails) with status, and lets go of it. */
enum MHD_Result
api_queue(struct MHD_Connection *conn, unsigned status,
    struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Queues a JSON body; takes ownership of doc. */
enum MHD_Result
api_reply_json(struct MHD_Connection *conn, unsigned status, json_t *doc)
{
	return api_queue(conn, status, api_json_response(doc));
}

enum MHD_Result
api_reply_error(struct MHD_Connection *conn, unsigned status,
    const char *msg)
{
	return api_reply_json(conn, status, json_pack("{s:s}", "error", msg));
}

/* A small HTML page: a title, body_html (ours: no outside text in it
 * unescaped) and the way back to the status page. */
enum MHD_Result
api_reply_page(struct MHD_Connection *conn, unsigned status,
    const char *title, const char *body_html)
{
	return api_queue(conn, status, api_text_response(page_small_html(title,
	    0, body_html), "text/html; charset=utf-8", API_CSP_PAGE));
}

/* A redirect to location (ours), with a cookie to set if not NULL. */
enum MHD_Result
api_reply_redirect(struct MHD_Connection *conn, const char *location,
    const char *cookie)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Location", location);
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	api_add_common_headers(r, API_CSP);
	return api_queue(conn, 303, r);
}

const char *
api_cookie(struct MHD_Connection *conn)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_COOKIE);
}

/* ---- request checks ---- */

struct header_tally {
	unsigned count;
	size_t bytes;
	unsigned empty, hosts, lengths; /* "", Host, Content-Length */
};

static enum MHD_Result
api_tally_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct header_tally *t = cls;

	(void)kind;
	t->count++;
	if (key == NULL || key[0] == '\0')
		t->empty++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
		t->hosts++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		t->lengths++;
	t->bytes += (key ? strlen(key) : 0) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

bool
api_host_ok(const struct api *a, const char *host)
{
	if (host == NULL)
		return false;
	for (size_t i = 0; i < sizeof(a->hosts) / sizeof(a->hosts[0]); i++)
		if (a->hosts[i][0] != '\0' && strcasecmp(host, a->hosts[i]) == 0)
			return true;
	return false;
}

static bool
api_token_ok(const struct api *a, const char *auth)
{
	static const char bearer[] = "Bearer ";
	size_t n = sizeof(bearer) - 1;

	if (auth == NULL || strncmp(auth, bearer, n) != 0 ||
	    strlen(auth + n) != API_TOKEN_HEX)
		return false;
	return sodium_memcmp(auth + n, a->token, API_TOKEN_HEX) == 0;
}

/* Returns 0 or the HTTP status to refuse the request with. */
static unsigned
api_check(struct api *a, struct MHD_Connection *conn, const char *url,
    const char **why)
{
	struct header_tally t = { 0, 0, 0, 0, 0 };

	MHD_get_connection_values(conn, MHD_HEADER_KIND, api_tally_header, &t);
	if (t.count > API_MAX_HEADERS || t.bytes > API_MAX_HEADER_BYTES) {
		*why = "too many or too large headers";
		return MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
	}
	/* libmicrohttpd lets these through; RFC 9110/9112 refuse them. */
	if (t.empty > 0 || t.hosts > 1 || t.lengths > 1) {
		*why = "malformed request: an empty header name, or Host or "
		    "Content-Length more than once";
		return MHD_HTTP_BAD_REQUEST;
	}
	if (!api_host_ok(a, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST))) {
		*why = "Host header is not this node's address";
		return MHD_HTTP_FORBIDDEN;
	}
	if (strncmp(url, API_PREFIX, strlen(API_PREFIX)) == 0 &&
	    !api_token_ok(a, MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION))) {
		*why = "missing or wrong API token (see DATADIR/api.token)";
		return MHD_HTTP_UNAUTHORIZED;
	}
	return 0;
}

/* ---- GET /api/v1/status ---- */

static json_t *
api_status_store(const struct store_stats *s)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "blocks", (json_int_t)s->blocks,
	    "bytes_used", (json_int_t)s->bytes_used,
	    "bytes_max", (json_int_t)s->bytes_max,
	    "own_blocks", (json_int_t)s->client_blocks,
	    "cached_blocks", (json_int_t)s->cache_blocks,
	    "fetched_blocks", (json_int_t)s->local_blocks,
	    "evictions", (json_int_t)s->evictions);
}

static json_t *
api_status_requests(const struct node_counters *c)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "puts", (json_int_t)c->puts,
	    "puts_failed", (json_int_t)c->puts_failed,
	    "put_bytes", (json_int_t)c->put_bytes,
	    "gets", (json_int_t)c->gets,
	    "gets_found", (json_int_t)c->gets_found,
	    "gets_not_found", (json_int_t)c->gets_not_found,
	    "get_bytes", (json_int_t)c->get_bytes);
}

/* What routing did: requests and inserts from peers and from here. */
static json_t *
api_status_routing(const struct relay_counters *c, size_t table)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "requests_in", (json_int_t)c->requests_in,
	    "served_from_store", (json_int_t)c->served,
	    "inserts_in", (json_int_t)c->inserts_in,
	    "local_requests", (json_int_t)c->local_requests,
	    "local_found", (json_int_t)c->local_found,
	    "local_inserts", (json_int_t)c->local_inserts,
	    "local_stored", (json_int_t)c->local_stored,
	    "bad_blocks", (json_int_t)c->bad_blocks,
	    "cached", (json_int_t)c->kept,
	    "flood_drops", (json_int_t)c->flood_drops,
	    "ids_in_table", (json_int_t)table);
}

static void
api_status_peer(void *arg, struct peer *p)
{
	json_array_append_new(arg, json_pack("{s:s,s:s,s:f,s:b,s:b,s:I}",
	    "identity", peer_name(p),
	    "address", peer_address(p),
	    "location", peer_location(p),
	    "inbound", peer_inbound(p),
	    "path_link", peer_is_path_link(p),
	    "queued_bytes", (json_int_t)peer_queued(p)));
}

/* Our own paths: hop count, age, state and relays (an origin may know its
 * relays; a relay shows only how many paths it carries). */
static json_t *
api_status_paths(struct node *node)
{
	struct paths_info info[32];
	size_t n = paths_list(node->paths, info, 32);
	json_t *arr = json_array(), *relays;
	char name[64];

	for (size_t i = 0; arr != NULL && i < n; i++) {
		if ((relays = json_array()) == NULL)
			break;
		for (unsigned h = 0; h < info[i].hops; h++) {
			sodium_bin2base64(name, sizeof(name), info[i].relays[h],
			    ONION_IDBYTES,
			    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
			json_array_append_new(relays, json_string(name));
		}
		json_array_append_new(arr, json_pack("{s:I,s:I,s:s,s:I,s:o}",
		    "hops", (json_int_t)info[i].hops,
		    "age", (json_int_t)info[i].age,
		    "state", info[i].ready ? "ready" : "building",
		    "streams", (json_int_t)info[i].streams,
		    "relays", relays));
	}
	return arr;
}

static json_t *
api_status_reachable(const struct reach *r)
{
	switch (reach_reachable(r)) {
	case REACH_YES: return json_true();
	case REACH_NO: return json_false();
	default: return json_null();
	}
}

static enum MHD_Result
api_status(struct api *a, struct MHD_Connection *conn)
{
	struct node *node = a->node;
	struct store_stats s;
	json_t *peers;

	if (store_get_stats(node->store, &s) != 0)
		return api_reply_error(conn, 500, "cannot read the store");
	if ((peers = json_array()) == NULL)
		return MHD_NO;
	peers_each(node->peers, api_status_peer, peers);
	return api_reply_json(conn, 200, json_pack(
	    "{s:s,s:s,s:f,s:s,s:s?,s:o,s:s?,s:I,s:o,s:o,s:I,s:I,s:o,s:o,s:I,"
	    "s:I,s:o,s:I}",
	    "version", PACKAGE_VERSION,
	    "identity", node->id.name,
	    "location", node->id.location,
	    "listen", peers_listen_address(node->peers),
	    "address", reach_address(node->reach),
	    "reachable", api_status_reachable(node->reach),
	    "reachability", reach_advice(node->reach),
	    "uptime", (json_int_t)(util_now() - node->started),
	    "peers", peers,
	    "store", api_status_store(&s),
	    "pending_inserts", (json_int_t)s.pending,
	    "puts_active", (json_int_t)node->puts_active,
	    "requests", api_status_requests(&node->count),
	    "routing", api_status_routing(relay_counters(node->relay),
	    relay_table_count(node->relay)),
	    "relays_known", (json_int_t)relays_count(node->relays),
	    "onion_key_age",
	    (json_int_t)relays_key_age(node->relays, util_now()),
	    "paths", api_status_paths(node),
	    "relayed_paths", (json_int_t)transit_count(node->transit)));
}

/* ---- GET /api/v1/get/CHK@... ---- */

/* Resumes a request suspended until its put or get can go on. */
void
api_req_wake(void *arg)
{
	struct api_req *req = arg;

	if (!req->suspended)
		return;
	req->suspended = false;
	MHD_resume_connection(req->conn);
	/* Let the loop run libmicrohttpd again, outside this callback. */
	event_active(req->api->ev_timer, EV_TIMEOUT, 0);
}

void
api_req_suspend(struct api_req *req)
{
	req->suspended = true;
	MHD_suspend_connection(req->conn);
}

/* The document, as the client reads it; waits (suspended) for blocks on
 * their way from the network. */
static ssize_t
api_get_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_req *req = cls;
	ssize_t n;

	(void)pos;	/* libmicrohttpd reads in order */
	/* A range of a compressed document: the bytes before it are read
	 * into buf and dropped. */
	while (req->skip > 0) {
		n = fetch_read(req->fetch, (uint8_t *)buf,
		    max < req->skip ? max : (size_t)req->skip);
		if (n <= 0)
			goto stop;
		req->skip -= (uint64_t)n;
	}
	if (max > req->left)
		max = (size_t)req->left;
	n = fetch_read(req->fetch, (uint8_t *)buf, max);
	if (n > 0) {
		req->left -= (uint64_t)n;
		return n;
	}
stop:
	if (n == FETCH_AGAIN) {
		api_req_suspend(req);
		return 0;
	}
	return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM :
	    MHD_CONTENT_READER_END_WITH_ERROR;
}

/* 416, with the length a range must fall in. */
static enum MHD_Result
api_reply_no_range(struct api_req *req, uint64_t len)
{
	struct MHD_Response *r = api_json_response(json_pack("{s:s}", "error",
	    "the range asked for is not in the document"));
	char cr[48];

	if (r == NULL)
		return MHD_NO;
	snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)len);
	MHD_add_response_header(r, "Content-Range", cr);
	return api_queue(req->conn, 416, r);
}

/* The document: whole (200), or one range of it (206: media players seek
 * with these), reached by a seek where the document is uncompressed. The
 * gateway names the stored type, else one from the URI's name, and sends
 * what a browser could run as a download. */
static enum MHD_Result
api_get_respond(struct api_req *req)
{
	const char *type = "application/octet-stream";
	uint64_t len = fetch_length(req->fetch), first = 0, last = 0;
	bool show_inline = false;
	enum page_filter filter;
	enum params_range rr;
	struct MHD_Response *r;
	char cr[80];

	if (req->gateway && len <= HTML_FILTER_MAX_INPUT &&
	    (filter = page_filter_kind(req->uri.name,
	    fetch_type(req->fetch))) != PAGE_FILTER_NONE)
		return gateway_filter_start(req, filter, len);
	rr = params_parse_range(MHD_lookup_connection_value(req->conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE), len, &first, &last);
	if (rr == PARAMS_RANGE_BAD)
		return api_reply_no_range(req, len);
	req->left = rr == PARAMS_RANGE_ONE ? last - first + 1 : len;
	if (first > 0 && fetch_seek(req->fetch, first) != 0)
		req->skip = first;
	api_get_found(req, req->left);
	r = MHD_create_response_from_callback(req->left, API_GET_BLOCK,
	    api_get_reader, req, NULL);
	if (r == NULL)
		return MHD_NO;
	if (req->gateway) {
		type = page_content_type(req->uri.name, fetch_type(req->fetch),
		    &show_inline);
		if (!show_inline)
			MHD_add_response_header(r, "Content-Disposition",
			    "attachment");
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Accept-Ranges", "bytes");
	if (rr == PARAMS_RANGE_ONE) {
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
		    (unsigned long long)first, (unsigned long long)last,
		    (unsigned long long)len);
		MHD_add_response_header(r, "Content-Range", cr);
	}
	api_add_common_headers(r, API_CSP);
	return api_queue(req->conn, rr == PARAMS_RANGE_ONE ? 206 : 200, r);
}

void
api_get_found(struct api_req *req, uint64_t bytes)
{
	struct node *node = req->api->node;

	node->count.gets_found++;
	node->count.get_bytes += bytes;
	node_note_request(node, false, 200, bytes, req->uri.root.ref.rkey);
}

const char *
api_get_failed(struct node *node, int st, const char *why, unsigned *status)
{
	*status = st == 404 || st == 422 || st == 503 || st == 504 ?
	    (unsigned)st : 500;
	if (st == 404)
		node->count.gets_not_found++;
	if (why != NULL && why[0] != '\0')
		return why;
	return st == 422 ? "the URI's decryption key does not match the "
	    "content" : st == 404 ? "content not found: the network did not "
	    "find it" : st == 503 ? "the document could not be asked for now "
	    "(no peers, no onion path, or the network too busy)" : st == 504 ?
	    "the network did not answer in time" : "cannot read the store";
}

/* Answers once the root block is in (and a typed document's record): the
 * status, or the document. */
static enum MHD_Result
api_get_answer(struct api_req *req)
{
	struct node *node = req->api->node;
	int st = fetch_status(req->fetch);
	const char *why;
	unsigned status;

	if (req->job != NULL)
		return gateway_filter_step(req);

	if (st == 0) {
		api_req_suspend(req);
		return MHD_YES;
	}
	if (st != 200) {
		why = api_get_failed(node, st, fetch_why(req->fetch, NULL),
		    &status);
		return api_reply_error(req->conn, status, why);
	}
	if ((st = fetch_read_type(req->fetch)) == FETCH_AGAIN) {
		api_req_suspend(req);
		return MHD_YES;
	}
	if (st != 0) {
		why = fetch_why(req->fetch, &st);
		why = api_get_failed(node, st, why, &status);
		return api_reply_error(req->conn, status, why);
	}
	return api_get_respond(req);
}

/* GET /api/v1/get/URI (gateway false) and GET /URI (gateway true): the
 * document, streamed, from the store or the network. */
static enum MHD_Result
api_get(struct api_req *req, struct MHD_Connection *conn, const char *path,
    bool gateway)
{
	const char *why;
	int hops, shown;

	if (params_parse_get(path, &req->uri, &why) != 0)
		return api_reply_json(conn, 400, json_pack("{s:s+}", "error",
		    "invalid URI: ", why));
	if (params_parse_hops(MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, "hops"), &hops) != 0)
		return api_reply_error(conn, 400, "hops must be a number from "
		    "0 to 8");
	if (params_check_hops(hops, MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, "no_anonymity"), &why) != 0)
		return api_reply_error(conn, 400, why);
	if (gateway && (shown = gateway_get_intercept(req, conn, hops)) >= 0)
		return (enum MHD_Result)shown;
	req->api->node->count.gets++;
	if (fetch_open(&req->fetch, req->api->node, &req->uri.root,
	    (unsigned)hops, gateway, api_req_wake, req) != 0)
		return api_reply_error(conn, 500, "out of memory");
	req->kind = REQ_GET;
	req->gateway = gateway;
	return api_get_answer(req);
}

/* ---- POST /api/v1/put ---- */

static enum MHD_Result
api_put_start(struct api *a, struct api_req *req, struct MHD_Connection *conn)
{
	char type[CHK_TYPE_MAX + 1];
	struct put_params pp;
	const char *why;

	if (a->node->puts_active >= API_MAX_PUTS)
		return api_reply_error(conn, 503, "too many uploads in "
		    "progress; try again");
	if (params_parse_put(MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, "name"), MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, "hops"), &pp, &why) != 0 ||
	    params_check_hops(pp.hops, MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, "no_anonymity"), &why) != 0 ||
	    params_parse_type(MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, "type"), type, &why) != 0)
		return api_reply_error(conn, 400, why);
	req->hops = (unsigned)pp.hops;
	if (docput_new(&req->put, a->node, pp.name, type, api_req_wake,
	    req) != 0)
		return api_reply_error(conn, 500, "out of memory");
	req->kind = REQ_PUT;
	return MHD_YES;
}

/* Feeds body bytes until the store thread falls behind, then suspends the
 * connection: libmicrohttpd stops reading it, and TCP slows the client. */
static enum MHD_Result
api_put_body(struct api_req *req, const char *data, size_t *size)
{
	const uint8_t *p = (const uint8_t *)data;
	size_t left = *size, n;
	const char *text;
	int st;

	while (req->fail_status == 0 && left > 0 && !docput_busy(req->put)) {
		n = left < API_PIECE ? left : API_PIECE;
		if ((st = docput_write(req->put, p, n)) != 0) {
			docput_result(req->put, &st, &text);
			req->fail_status = st;
			req->fail_text = text;
		}
		p += n;
		left -= n;
	}
	if (req->fail_status != 0 && !req->answered) {
		/* Answer now rather than read a body that can only fail;
		 * libmicrohttpd then closes the connection. If it refuses
		 * in this state, the rest is drained and answered at the end. */
		req->answered = api_reply_error(req->conn,
		    (unsigned)req->fail_status, req->fail_text) == MHD_YES;
	}
	if (req->fail_status != 0)
		left = 0;
	*size = left;
	if (left > 0)
		api_req_suspend(req);
	return MHD_YES;
}

/* The answer to a put that worked: JSON, or a page for a browser's
 * upload form. */
/* The answer to a put that worked: JSON, or a page for a browser's
 * upload form. A pending one carries why it is not in the network yet
 * (req->put_why: insert.h). */
static enum MHD_Result
api_put_reply(struct api_req *req, const char *uri, bool pending)
{
	char body[URI_MAX_LEN * 2 + INSERT_WHY_MAX + 256];

	if (!req->browser)
		return api_reply_json(req->conn, 200, pending ?
		    json_pack("{s:s,s:b,s:s}", "uri", uri, "pending", 1,
		    "warning", req->put_why) : json_pack("{s:s,s:b}", "uri",
		    uri, "pending", 0));
	/* A URI is base64url and %-escapes, and the reasons are ours: no
	 * markup, nothing from outside; nothing needs escaping. */
	snprintf(body, sizeof(body), "<p>Its key:</p><p><a href=\"/%s\">"
	    "<code>%s</code></a></p><p>%s%s</p>", uri, uri, pending ?
	    "It is kept on this node, which inserts it into the network as "
	    "soon as it can: " : "The network has it.", pending ?
	    req->put_why : "");
	return api_reply_page(req->conn, 200, "Inserted", body);
}

static void
api_put_inserted(void *arg, bool inserted, const char *why)
{
	struct api_req *req = arg;

	req->insert_done = true;
	req->inserted = inserted;
	if (!inserted)
		snprintf(req->put_why, sizeof(req->put_why), "%s", why);
	api_req_wake(req);
}

/* The document is durable here: hands it to the inserter and, with
 * peers, waits until the network has it (bounded: INSERT_WAIT_MAX). */
static enum MHD_Result
api_put_insert(struct api_req *req, const char *uri)
{
	struct node *node = req->api->node;
	bool wait = peers_count(node->peers) > 0;

	req->inserting = true;
	snprintf(req->put_why, sizeof(req->put_why), "%s",
	    INSERT_WHY_NO_PEERS);
	if (inserter_add(node->inserter, uri, req->hops, wait ?
	    api_put_inserted : NULL, req, &req->ticket) != 0) {
		log_warn("put: cannot queue the insert; it goes after a "
		    "restart");
		snprintf(req->put_why, sizeof(req->put_why), "not yet in the "
		    "network: the insert could not be queued (out of memory); "
		    "it is kept here and inserted after a restart");
		wait = false;
	}
	if (!wait) {
		req->insert_done = true;
		return api_put_reply(req, uri, true);
	}
	api_req_suspend(req);
	return MHD_YES;
}

enum MHD_Result
api_put_end(struct api_req *req)
{
	const char *text;
	int st;

	req->body_done = true;
	if (req->answered)
		return MHD_YES;
	if (req->fail_status != 0)
		return api_reply_error(req->conn, (unsigned)req->fail_status,
		    req->fail_text);
	if (!req->finishing) {
		req->finishing = true;
		if (docput_finish(req->put) != 0 &&
		    docput_result(req->put, &st, &text))
			return api_reply_error(req->conn, (unsigned)st, text);
	}
	if (!docput_result(req->put, &st, &text)) {
		api_req_suspend(req);
		return MHD_YES;
	}
	if (st != 200)
		return api_reply_error(req->conn, (unsigned)st, text);
	if (!req->inserting)
		return api_put_insert(req, text);
	if (!req->insert_done) {
		api_req_suspend(req);
		return MHD_YES;
	}
	return api_put_reply(req, text, !req->inserted);
}

/* ---- dispatch ---- */

static enum MHD_Result
api_route(struct api *a, struct api_req *req, struct MHD_Connection *conn,
    const char *url, const char *method)
{
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	const char *why = NULL;
	unsigned st;

	if ((st = api_check(a, conn, url, &why)) != 0)
		return api_reply_error(conn, st, why);
	if (strcmp(url, API_PREFIX "status") == 0)
		return get ? api_status(a, conn) :
		    api_reply_error(conn, 405, "use GET");
	if (strncmp(url, API_PREFIX "get/", strlen(API_PREFIX "get/")) == 0)
		return get ? api_get(req, conn, url + strlen(API_PREFIX "get/"),
		    false) : api_reply_error(conn, 405, "use GET");
	if (strcmp(url, "/") == 0)
		return get ? gateway_status_page(a, conn) :
		    api_reply_error(conn, 405, "use GET");
	if (strcmp(url, "/open") == 0)
		return get ? gateway_open(conn) : api_reply_error(conn, 405,
		    "use GET");
	if (strcmp(url, "/login") == 0 || strcmp(url, "/logout") == 0 ||
	    strcmp(url, "/upload") == 0)
		return strcmp(method, MHD_HTTP_METHOD_POST) == 0 ?
		    gateway_form_start(a, req, conn, url[1] == 'u' ? FORM_UPLOAD :
		    url[4] == 'o' ? FORM_LOGOUT : FORM_LOGIN) :
		    api_reply_error(conn, 405, "use POST");
	if (strncmp(url, "/CHK@", 5) == 0)
		return get ? api_get(req, conn, url + 1, true) :
		    api_reply_error(conn, 405, "use GET");
	if (strcmp(url, API_PREFIX "put") == 0)
		return strcmp(method, MHD_HTTP_METHOD_POST) == 0 ?
		    api_put_start(a, req, conn) :
		    api_reply_error(conn, 405, "use POST");
	return api_reply_error(conn, 404, "no such page");
}

static enum MHD_Result
api_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct api *a = cls;
	struct api_req *req = *con_cls;

	(void)version;
	if (req == NULL) {
		if ((req = calloc(1, sizeof(*req))) == NULL)
			return MHD_NO;
		req->api = a;
		req->conn = conn;
		req->next = a->reqs;
		if (a->reqs != NULL)
			a->reqs->prev = req;
		a->reqs = req;
		*con_cls = req;
		return api_route(a, req, conn, url, method);
	}
	if (req->form != NULL)
		return *upload_data_size > 0 ? gateway_form_body(req, upload_data,
		    upload_data_size) : gateway_form_end(req);
	if (req->kind == REQ_GET && *upload_data_size == 0)
		return api_get_answer(req);
	if (req->kind != REQ_PUT) {
		/* A body nobody asked for: drop it. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0)
		return api_put_body(req, upload_data, upload_data_size);
	return api_put_end(req);
}

static void
api_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api_req *req = *con_cls;
	struct api *a = cls;

	(void)conn;
	if (req == NULL)
		return;
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		a->reqs = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	if (req->put != NULL && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_info("api: upload ended early (%d); discarding it", (int)toe);
	docput_close(req->put);
	if (req->form != NULL)
		MHD_destroy_post_processor(req->form);
	sodium_memzero(req->secret, sizeof(req->secret));
	if (req->inserting && !req->insert_done)
		inserter_forget(a->node->inserter, req->ticket);
	fetch_free(req->fetch);
	gateway_filter_end(req);
	free(req);
	*con_cls = NULL;
}

/* Keeps the request path as sent: URIs carry their own %-escapes, and
 * query values are decoded by params.c. */
static size_t
api_unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void api_mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void
api_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char text[512];

	(void)cls;
	vsnprintf(text, sizeof(text), fmt, ap);
	text[strcspn(text, "\n")] = '\0';
	log_debug("http: %s", text);
}

/* ---- the event loop glue ---- */

/*
 * libmicrohttpd's epoll mode is edge-triggered and takes a short read as
 * "socket drained": when a client's last bytes and its FIN arrive together
 * it never reads the EOF, and an upload cut short would keep its slot
 * (API_MAX_PUTS) until the idle timeout. So after each run, an upload
 * still reading its body whose socket holds nothing but EOF is suspended
 * and resumed, which makes libmicrohttpd read again, see the EOF and end
 * the request. Returns true if it kicked one. (libmicrohttpd documents
 * suspend as safe from its callbacks; outside them it is safe here only
 * because everything runs on this one thread. Re-check on upgrade: 1.0
 * may make this workaround unneeded.)
 */
static bool
api_kick_closed(struct api *a)
{
	const union MHD_ConnectionInfo *ci;
	bool kicked = false;
	char c;

	for (struct api_req *r = a->reqs; r != NULL; r = r->next) {
		if (r->kind != REQ_PUT || r->body_done || r->suspended)
			continue;
		ci = MHD_get_connection_info(r->conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || recv(ci->connect_fd, &c, 1,
		    MSG_PEEK | MSG_DONTWAIT) != 0)
			continue;
		MHD_suspend_connection(r->conn);
		MHD_resume_connection(r->conn);
		kicked = true;
	}
	return kicked;
}

static void
api_run(struct api *a)
{
	MHD_UNSIGNED_LONG_LONG ms;
	struct timeval tv;

	/* Each kick is followed by a run, which reads the EOF it missed;
	 * bounded, so a connection that is not read cannot make a spin. */
	MHD_run(a->mhd);
	for (int i = 0; i < 3 && api_kick_closed(a); i++)
		MHD_run(a->mhd);
	if (MHD_get_timeout(a->mhd, &ms) == MHD_YES) {
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
		evtimer_add(a->ev_timer, &tv);
	}
}

static void
api_on_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	api_run(arg);
}

static int
api_listen(struct api *a, const char *addr, char *why, size_t whylen)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[UTIL_HOST_MAX], serv[8];
	uint16_t port;
	int one = 1, rc;

	if (util_parse_hostport(addr, host, &port) != 0) {
		snprintf(why, whylen, "bad API address '%s'", addr);
		return -1;
	}
	snprintf(serv, sizeof(serv), "%u", port);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, serv, &hints, &res)) != 0) {
		snprintf(why, whylen, "API address %s: %s", addr,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		a->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (a->fd < 0)
			continue;
		setsockopt(a->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(a->fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(a->fd, 64) == 0)
			break;
		close(a->fd);
		a->fd = -1;
	}
	freeaddrinfo(res);
	if (a->fd < 0 || getsockname(a->fd, (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(why, whylen, "cannot listen on %s: %s", addr,
		    strerror(errno));
		return -1;
	}
	port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	if (strchr(host, ':') != NULL)
		snprintf(a->address, sizeof(a->address), "[%s]:%u", host, port);
	else
		snprintf(a->address, sizeof(a->address), "%s:%u", host, port);
	snprintf(a->hosts[0], sizeof(a->hosts[0]), "%s", a->address);
	snprintf(a->hosts[1], sizeof(a->hosts[1]), "127.0.0.1:%u", port);
	snprintf(a->hosts[2], sizeof(a->hosts[2]), "localhost:%u", port);
	snprintf(a->hosts[3], sizeof(a->hosts[3]), "[::1]:%u", port);
	return 0;
}

static int
api_start_mhd(struct api *a)
{
	const union MHD_DaemonInfo *info;

	a->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, api_handler, a,
	    MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, a,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)a->fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_IDLE_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_POOL_SIZE,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_NOTIFY_COMPLETED, api_completed, a,
	    MHD_OPTION_UNESCAPE_CALLBACK, api_unescape_none, a,
	    MHD_OPTION_END);
	if (a->mhd == NULL)
		return -1;
	a->fd = -1;	/* libmicrohttpd owns and closes the socket now */
	info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL)
		return -1;
	a->ev_io = event_new(a->node->base, info->epoll_fd,
	    EV_READ | EV_PERSIST, api_on_event, a);
	a->ev_timer = evtimer_new(a->node->base, api_on_event, a);
	if (a->ev_io == NULL || a->ev_timer == NULL ||
	    event_add(a->ev_io, NULL) != 0)
		return -1;
	api_run(a);
	return 0;
}

int
api_start(struct api **out, struct node *node, const char *addr,
    const char *token, char *why, size_t whylen)
{
	struct api *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (a == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	a->node = node;
	a->fd = -1;
	snprintf(a->token, sizeof(a->token), "%s", token);
	if ((a->sessions = session_table_new()) == NULL ||
	    writer_new(&a->filterer, node->base) != 0 ||
	    prefetch_new(&a->prefetch, node) != 0) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	if (api_listen(a, addr, why, whylen) != 0)
		goto fail;
	if (api_start_mhd(a) != 0) {
		snprintf(why, whylen, "cannot start the HTTP server");
		goto fail;
	}
	*out = a;
	return 0;
fail:
	api_stop(a);
	return -1;
}

const char *
api_address(const struct api *a)
{
	return a->address;
}

void
api_stop(struct api *a)
{
	if (a == NULL)
		return;
	if (a->ev_io != NULL)
		event_free(a->ev_io);
	if (a->ev_timer != NULL)
		event_free(a->ev_timer);
	/* libmicrohttpd closes only connections that are not suspended;
	 * api_completed() then lets go of each put. */
	for (struct api_req *r = a->reqs; r != NULL; r = r->next) {
		if (r->suspended) {
			r->suspended = false;
			MHD_resume_connection(r->conn);
		}
	}
	if (a->mhd != NULL)
		MHD_stop_daemon(a->mhd);
	/* After the requests: a job whose request ended frees itself. */
	writer_free(a->filterer);
	prefetch_free(a->prefetch);
	if (a->fd >= 0)
		close(a->fd);
	sodium_memzero(a->token, sizeof(a->token));
	session_table_free(a->sessions);
	free(a);
}
