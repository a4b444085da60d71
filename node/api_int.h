/*
 * api_int.h - what node/api.c (the HTTP server, the /api/v1 interface)
 * and node/gateway.c (what a browser gets: pages, filtered documents,
 * progress, forms) share: the server's state, a request's, and the
 * answers both write. For those two files only.
 *
 * Every function here runs on the loop thread, inside libmicrohttpd's
 * callbacks or the node's events. An answer function queues a response
 * on conn and returns libmicrohttpd's verdict (MHD_NO: close it).
 */
#ifndef UMBRA_API_INT_H
#define UMBRA_API_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>
#include <microhttpd.h>

#include "crypto/chk.h"
#include "crypto/uri.h"
#include "node/api.h"
#include "node/insert.h"
#include "node/page.h"
#include "node/session.h"
#include "node/util.h"

#define API_PIECE (64 * 1024)	/* bytes fed to a put at a time */

/* Answers allow nothing to load; the status page adds its own style. */
#define API_CSP "default-src 'none'; frame-ancestors 'none'"
#define API_CSP_PAGE \
	"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; " \
	"frame-ancestors 'none'"

struct api_req;

struct api {
	struct node *node;
	struct api_req *reqs;		/* every live request */
	struct MHD_Daemon *mhd;
	int fd;
	struct event *ev_io, *ev_timer;
	char address[UTIL_HOST_MAX + 16];
	char hosts[4][UTIL_HOST_MAX + 16];	/* acceptable Host values */
	char token[API_TOKEN_HEX + 1];
	struct session_table *sessions;	/* browsers logged in */
	struct writer *filterer;	/* the HTML and CSS filters' thread */
	unsigned filters;		/* filter jobs not yet done */
	struct prefetch *prefetch;	/* documents a browser opened */
};

/* A document on its way through a filter. The job, not the request,
 * owns the buffers: a request can end while its job runs on the filter
 * thread, and then only loses its pointer (api_completed). */
struct api_filter_job {
	struct api *api;
	struct api_req *req;		/* NULL once the request has ended */
	enum page_filter kind;
	char *doc;			/* the document, then what came out */
	size_t len, want;
	int rc;				/* HTML_E* or CSS_E*, once done */
	bool started, done;
};

/* REQ_FORM is a browser's form (/login, /logout, /upload) while its
 * body is parsed; an upload becomes REQ_PUT at its file's first byte. */
enum req_kind { REQ_OTHER, REQ_PUT, REQ_GET, REQ_FORM };
enum form_kind { FORM_LOGIN, FORM_LOGOUT, FORM_UPLOAD };

/* Per-request state, owned by libmicrohttpd's con_cls slot. */
struct api_req {
	struct api *api;
	struct api_req *prev, *next;
	struct MHD_Connection *conn;
	enum req_kind kind;
	struct docput *put;
	struct fetch *fetch;		/* REQ_GET */
	bool gateway;			/* REQ_GET: GET /URI */
	struct uri uri;			/* REQ_GET */
	uint64_t skip;			/* REQ_GET: bytes to drop first */
	uint64_t left;			/* REQ_GET: bytes still to send */
	uint64_t ticket;		/* a put waiting for the inserter */
	unsigned hops;			/* onion path length */
	bool inserting, insert_done, inserted;
	bool suspended, finishing;
	bool answered;			/* an error answer is queued */
	bool body_done;			/* the whole body has arrived */
	int fail_status;		/* answer after the body is drained */
	const char *fail_text;
	char put_why[INSERT_WHY_MAX];	/* a pending put: why (insert.h) */
	struct MHD_PostProcessor *form;	/* a browser's form body */
	enum form_kind form_kind;
	char secret[SESSION_HEX + 1];	/* the form's token or csrf field */
	char ftype[CHK_TYPE_MAX + 1];	/* an upload's type field */
	size_t secret_len, ftype_len;
	bool browser;			/* answer the put with a page */
	struct api_filter_job *job;	/* REQ_GET of a page to filter */
};

/* ---- in api.c ---- */

void api_add_common_headers(struct MHD_Response *r, const char *csp);
/* A response that owns text (freed with it, or here if there is none),
 * of the given type, with the common headers; or NULL. */
struct MHD_Response *api_text_response(char *text, const char *type,
    const char *csp);
/* Queues r (NULL: fails) with status, and lets go of it. */
enum MHD_Result api_queue(struct MHD_Connection *conn, unsigned status,
    struct MHD_Response *r);
/* Queues a JSON body; takes ownership of doc. */
enum MHD_Result api_reply_json(struct MHD_Connection *conn, unsigned status,
    json_t *doc);
enum MHD_Result api_reply_error(struct MHD_Connection *conn,
    unsigned status, const char *msg);
/* A small HTML page of ours (page_small_html()). */
enum MHD_Result api_reply_page(struct MHD_Connection *conn, unsigned status,
    const char *title, const char *body_html);
/* A 303 to location (ours), with a cookie to set if not NULL. */
enum MHD_Result api_reply_redirect(struct MHD_Connection *conn,
    const char *location, const char *cookie);
/* The session cookie's value, or NULL. */
const char *api_cookie(struct MHD_Connection *conn);
/* Whether host (HOST:PORT) names this server. */
bool api_host_ok(const struct api *a, const char *host);
/* Parks req's connection until api_req_wake(req). */
void api_req_suspend(struct api_req *req);
void api_req_wake(void *arg);
/* A get about to answer with the document (bytes of it): counts it and
 * notes it for the status page. */
void api_get_found(struct api_req *req, uint64_t bytes);
/* A get that failed with fetch status st (node/fetch.h): counts it,
 * sets the HTTP status to answer, and returns the reason: why (the
 * fetch's, fetch_why()) if not NULL, else a generic one for st. */
const char *api_get_failed(struct node *node, int st, const char *why,
    unsigned *status);
/* An upload's body has all come: finishes the put and answers. */
enum MHD_Result api_put_end(struct api_req *req);

/* ---- in gateway.c ---- */

/* GET /: the status page. */
enum MHD_Result gateway_status_page(struct api *a,
    struct MHD_Connection *conn);
/* GET /open?key=...: to the key's page. */
enum MHD_Result gateway_open(struct MHD_Connection *conn);
/* Before a gateway GET opens its document: another site's request is
 * refused, a browser's navigation may get a progress page. MHD_YES or
 * MHD_NO once answered; -1 to go on and stream the document. */
int gateway_get_intercept(struct api_req *req, struct MHD_Connection *conn,
    int hops);
/* A page of len bytes to show filtered: read whole, filtered on the
 * filter thread, answered; gateway_filter_step() is called again on
 * each wake. */
enum MHD_Result gateway_filter_start(struct api_req *req,
    enum page_filter kind, uint64_t len);
enum MHD_Result gateway_filter_step(struct api_req *req);
/* The request ends: its filter job is freed, or let go of if it runs. */
void gateway_filter_end(struct api_req *req);
/* POST /login, /logout, /upload: the form's start, its body's pieces
 * and its end. */
enum MHD_Result gateway_form_start(struct api *a, struct api_req *req,
    struct MHD_Connection *conn, enum form_kind kind);
enum MHD_Result gateway_form_body(struct api_req *req, const char *data,
    size_t *size);
enum MHD_Result gateway_form_end(struct api_req *req);

#endif
