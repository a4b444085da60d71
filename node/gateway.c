/* gateway.c - what a browser gets from the node: the status page, pages
 * shown filtered, the progress page of a long get, other sites kept
 * out, and the forms (login, logout, upload, open a key). The server
 * itself, the API and streaming are in api.c; api_int.h is what the two
 * share. See docs/gateway.md. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "node/api_int.h"
#include "node/css.h"
#include "node/docput.h"
#include "node/fetch.h"
#include "node/html.h"
#include "node/log.h"
#include "node/node.h"
#include "node/page.h"
#include "node/params.h"
#include "node/prefetch.h"
#include "node/session.h"
#include "node/util.h"
#include "node/writer.h"

/* GET /: the status page. */
enum MHD_Result
gateway_status_page(struct api *a, struct MHD_Connection *conn)
{
	char csrf[SESSION_HEX + 1];
	char *html = page_status_html(a->node, session_find(a->sessions,
	    api_cookie(conn), util_now(), csrf) ? csrf : NULL);

	if (html == NULL)
		return api_reply_error(conn, 500, "cannot read the store");
	return api_queue(conn, 200, api_text_response(html,
	    "text/html; charset=utf-8", API_CSP_PAGE));
}

/* ---- pages shown filtered (node/html.h, node/css.h) ---- */

/* The filter is the guard; this policy is a second one, in the browser:
 * the page may load only the gateway's own images, media and styles. */
#define GATEWAY_CSP_FILTERED \
	"default-src 'none'; img-src 'self'; media-src 'self'; " \
	"style-src 'self' 'unsafe-inline'; form-action 'none'; " \
	"base-uri 'none'; frame-ancestors 'none'"

static void
gateway_filter_job_free(struct api_filter_job *j)
{
	j->api->filters--;
	free(j->doc);
	free(j);
}

/* On the filter thread: the document is replaced by what came out. */
static int
gateway_filter_job_run(void *arg)
{
	struct api_filter_job *j = arg;
	char *out = NULL;
	size_t n = 0;

	j->rc = j->kind == PAGE_FILTER_HTML ?
	    html_filter(j->doc, j->len, &out, &n) :
	    css_filter_sheet(j->doc, j->len, &out, &n);
	if (j->rc == 0) {
		free(j->doc);
		j->doc = out;
		j->len = n;
	}
	return j->rc;
}

static void
gateway_filter_job_done(void *arg, int rc)
{
	struct api_filter_job *j = arg;

	if (j->req == NULL) {
		gateway_filter_job_free(j);
		return;
	}
	if (rc == WRITER_ECANCELED)
		j->rc = rc;
	j->done = true;
	api_req_wake(j->req);
}

/* What came out of the filter; or, if the page was too much for its
 * bounds, the document as a download (never rendered). */
static enum MHD_Result
gateway_filter_reply(struct api_req *req)
{
	struct api_filter_job *j = req->job;
	bool html = j->kind == PAGE_FILTER_HTML;
	struct MHD_Response *r;

	if (j->rc == WRITER_ECANCELED)
		return api_reply_error(req->conn, 503, "the node is shutting "
		    "down");
	if (j->rc != 0)
		log_info("gateway: a page too much for the filter (%s) goes as "
		    "a download", html ? html_strerror(j->rc) :
		    css_strerror(j->rc));
	r = MHD_create_response_from_buffer(j->len, j->doc,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		return MHD_NO;
	j->doc = NULL;		/* the response frees it */
	if (j->rc != 0) {
		MHD_add_response_header(r, "Content-Type",
		    "application/octet-stream");
		MHD_add_response_header(r, "Content-Disposition", "attachment");
	} else {
		MHD_add_response_header(r, "Content-Type", html ?
		    "text/html; charset=utf-8" : "text/css; charset=utf-8");
	}
	api_add_common_headers(r, j->rc != 0 ? API_CSP : GATEWAY_CSP_FILTERED);
	return api_queue(req->conn, 200, r);
}

/* Reads the whole page, has it filtered, answers: each step may wait
 * (suspended) and is taken again on the wake. */
enum MHD_Result
gateway_filter_step(struct api_req *req)
{
	struct api_filter_job *j = req->job;
	ssize_t n;

	while (!j->started && j->len < j->want) {
		n = fetch_read(req->fetch, (uint8_t *)j->doc + j->len,
		    j->want - j->len);
		if (n == FETCH_AGAIN) {
			api_req_suspend(req);
			return MHD_YES;
		}
		if (n <= 0)
			return api_reply_error(req->conn, 404, "content not "
			    "found (a block of the page could not be had)");
		j->len += (size_t)n;
	}
	if (!j->started) {
		if (writer_submit(req->api->filterer, gateway_filter_job_run,
		    gateway_filter_job_done, j) != 0)
			return api_reply_error(req->conn, 500, "out of memory");
		j->started = true;
	}
	if (!j->done) {
		api_req_suspend(req);
		return MHD_YES;
	}
	return gateway_filter_reply(req);
}

enum MHD_Result
gateway_filter_start(struct api_req *req, enum page_filter kind, uint64_t len)
{
	struct api_filter_job *j;

	if (req->api->filters >= API_MAX_FILTERS)
		return api_reply_error(req->conn, 503, "too many pages being "
		    "filtered; try again");
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->doc = malloc((size_t)len + 1)) == NULL) {
		free(j);
		return api_reply_error(req->conn, 500, "out of memory");
	}
	j->api = req->api;
	j->req = req;
	j->kind = kind;
	j->want = (size_t)len;
	req->api->filters++;
	req->job = j;
	api_get_found(req, len);
	return gateway_filter_step(req);
}

void
gateway_filter_end(struct api_req *req)
{
	if (req->job != NULL && req->job->started && !req->job->done)
		req->job->req = NULL;	/* freed when the filter is done */
	else if (req->job != NULL)
		gateway_filter_job_free(req->job);
}

/* A page of another site may link to a key (a navigation: it gets a
 * page that asks first), but not load one (an image, a fetch): that
 * would let any site time what this node holds (its own documents, what
 * its reader fetched) and start fetches. Browsers say where a request
 * comes from in Sec-Fetch-Site; a request without it (not a browser, or
 * an old one) passes. MHD_YES/MHD_NO once answered; -1 if it may go on. */
static int
gateway_get_foreign(struct api_req *req, struct MHD_Connection *conn)
{
	const char *site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Sec-Fetch-Site");
	const char *mode = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Sec-Fetch-Mode");
	char uri[URI_MAX_LEN], *body = NULL;
	enum MHD_Result ret;

	if (site == NULL || strcmp(site, "none") == 0 ||
	    strcmp(site, "same-origin") == 0)
		return -1;
	if (mode == NULL || strcmp(mode, "navigate") != 0 ||
	    uri_format(&req->uri, uri, sizeof(uri)) != 0)
		return api_reply_error(conn, 403, "a page of another site may "
		    "not load documents from this node");
	/* The canonical URI holds only URL-safe characters and %XX. */
	if (asprintf(&body, "<p>A page of another site sent you here. Open "
	    "the document only if you meant to:</p><p><a href=\"/%s\"><code>"
	    "%s</code></a></p>", uri, uri) < 0)
		return MHD_NO;
	ret = api_reply_page(conn, 403, "Opened from another site", body);
	free(body);
	return ret;
}

/* A browser opening a document (a navigation: not an image, a style, a
 * media range; not asked for ?stream) is shown a progress page while
 * the node fetches it whole (node/prefetch.h), unless it is here
 * already. */
static bool
gateway_wants_progress(struct MHD_Connection *conn)
{
	const char *dest = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Sec-Fetch-Dest");

	return dest != NULL && strcmp(dest, "document") == 0 &&
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_RANGE) == NULL &&
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	    "stream") == NULL;
}

/* MHD_YES/MHD_NO once answered with a progress or error page; -1 to
 * serve the document as it comes. Only an answer with the document (or
 * a failure) counts as a get: the page reloads itself every second. */
static int
gateway_get_progress(struct api_req *req, struct MHD_Connection *conn, int hops)
{
	struct api *a = req->api;
	struct prefetch_info in;
	char href[64], body[FETCH_WHY_MAX + 64], *html;
	const char *why;
	unsigned status;

	prefetch_look(a->prefetch, &req->uri.root, (unsigned)hops, true, &in);
	if (in.state == PREFETCH_FAILED) {
		prefetch_forget(a->prefetch, &req->uri.root);
		a->node->count.gets++;
		why = api_get_failed(a->node, in.status, in.why, &status);
		/* The reasons are ours: no markup, nothing from outside. */
		snprintf(body, sizeof(body), "<p>It could not be fetched: %s."
		    "</p>", why);
		return api_reply_page(conn, status, "Not fetched", body);
	}
	if (in.state != PREFETCH_RUNNING)
		return -1;
	/* The same request as it came (hops checked), plus stream. */
	if (MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	    "hops") == NULL)
		snprintf(href, sizeof(href), "?stream=1");
	else
		snprintf(href, sizeof(href), "?hops=%d&amp;%sstream=1", hops,
		    hops == 0 ? "no_anonymity=1&amp;" : "");
	html = page_progress_html(req->uri.name, &in, href);
	return api_queue(conn, 200, api_text_response(html,
	    "text/html; charset=utf-8", API_CSP_PAGE));
}

int
gateway_get_intercept(struct api_req *req, struct MHD_Connection *conn,
    int hops)
{
	int shown = gateway_get_foreign(req, conn);

	if (shown < 0 && gateway_wants_progress(conn))
		shown = gateway_get_progress(req, conn, hops);
	return shown;
}

/* ---- a browser's forms: /login, /logout, /upload; and /open ---- */

#define GATEWAY_FORM_BUFFER (16 * 1024)

/* A browser says which page a form came from: only ours may act here (a
 * second lock after the SameSite cookie and the form token). */
static bool
gateway_origin_ok(const struct api *a, struct MHD_Connection *conn)
{
	const char *o = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Origin");

	if (o == NULL)
		return true;	/* not a browser, or an old one: tokens hold */
	if (strncmp(o, "http://", 7) != 0)
		return false;
	return api_host_ok(a, o + 7);
}

/* Appends a piece of a field's value; one too long is marked with
 * len = cap, which no check accepts. */
static void
gateway_form_append(char *buf, size_t cap, size_t *len, const char *data,
    size_t size)
{
	if (*len >= cap || size >= cap - *len) {
		*len = cap;
		return;
	}
	memcpy(buf + *len, data, size);
	*len += size;
	buf[*len] = '\0';
}

static void
gateway_form_fail(struct api_req *req, int status, const char *text)
{
	if (req->fail_status == 0) {
		req->fail_status = status;
		req->fail_text = text;
	}
}

/* The file's first byte: the form token and the type came before it (a
 * browser sends fields in the form's order), so the put can start. */
static bool
gateway_upload_begin(struct api_req *req, const char *filename)
{
	struct api *a = req->api;
	const char *name = "";

	if (req->secret_len > SESSION_HEX || !session_check_form(a->sessions,
	    api_cookie(req->conn), req->secret, util_now())) {
		gateway_form_fail(req, 403, "log in again: the session ended or "
		    "the form is not this node's");
		return false;
	}
	if (req->ftype_len > CHK_TYPE_MAX ||
	    params_check_type(req->ftype) != 0) {
		gateway_form_fail(req, 400, "the type must be a media type such "
		    "as text/html, or nothing");
		return false;
	}
	if (filename != NULL && uri_name_check(filename, strlen(filename)) == 0)
		name = filename;
	if (docput_new(&req->put, a->node, name, req->ftype, api_req_wake,
	    req) != 0) {
		gateway_form_fail(req, 500, "out of memory");
		return false;
	}
	req->kind = REQ_PUT;
	req->hops = PARAMS_HOPS_DEFAULT;
	return true;
}

static enum MHD_Result
gateway_form_field(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *ctype, const char *enc,
    const char *data, uint64_t off, size_t size)
{
	struct api_req *req = cls;
	const char *text;
	int st;

	(void)kind;
	(void)ctype;
	(void)enc;
	(void)off;
	if (req->form_kind == FORM_UPLOAD && strcmp(key, "file") == 0) {
		if (req->put == NULL && !gateway_upload_begin(req, filename))
			return MHD_NO;
		if (size > 0 && (st = docput_write(req->put,
		    (const uint8_t *)data, size)) != 0) {
			docput_result(req->put, &st, &text);
			gateway_form_fail(req, st, text);
			return MHD_NO;
		}
	} else if (strcmp(key, req->form_kind == FORM_LOGIN ? "token" :
	    "csrf") == 0) {
		gateway_form_append(req->secret, sizeof(req->secret),
		    &req->secret_len, data, size);
	} else if (req->form_kind == FORM_UPLOAD && strcmp(key, "type") == 0) {
		gateway_form_append(req->ftype, sizeof(req->ftype),
		    &req->ftype_len, data, size);
	}
	return MHD_YES;		/* other fields are ignored */
}

enum MHD_Result
gateway_form_start(struct api *a, struct api_req *req,
    struct MHD_Connection *conn, enum form_kind kind)
{
	if (!gateway_origin_ok(a, conn))
		return api_reply_error(conn, 403, "a form from another site");
	if (kind == FORM_UPLOAD && a->node->puts_active >= API_MAX_PUTS)
		return api_reply_error(conn, 503, "too many uploads in "
		    "progress; try again");
	req->form = MHD_create_post_processor(conn, GATEWAY_FORM_BUFFER,
	    gateway_form_field, req);
	if (req->form == NULL)
		return api_reply_error(conn, 400, "expected a form "
		    "(application/x-www-form-urlencoded or multipart/form-data)");
	req->form_kind = kind;
	req->kind = REQ_FORM;
	req->browser = true;
	return MHD_YES;
}

/* Feeds the form's body a piece at a time, as api_put_body does. */
enum MHD_Result
gateway_form_body(struct api_req *req, const char *data, size_t *size)
{
	size_t n;

	while (req->fail_status == 0 && *size > 0 &&
	    (req->put == NULL || !docput_busy(req->put))) {
		n = *size < API_PIECE ? *size : API_PIECE;
		if (MHD_post_process(req->form, data, n) != MHD_YES)
			gateway_form_fail(req, 400, "malformed form");
		data += n;
		*size -= n;
	}
	if (req->fail_status != 0) {
		if (!req->answered)
			req->answered = api_reply_error(req->conn,
			    (unsigned)req->fail_status, req->fail_text) ==
			    MHD_YES;
		*size = 0;
	}
	if (*size > 0)
		api_req_suspend(req);
	return MHD_YES;
}

static enum MHD_Result
gateway_login(struct api_req *req)
{
	struct api *a = req->api;
	char id[SESSION_HEX + 1], cookie[SESSION_HEX + 80];

	if (req->secret_len != API_TOKEN_HEX ||
	    sodium_memcmp(req->secret, a->token, API_TOKEN_HEX) != 0)
		return api_reply_page(req->conn, 403, "Wrong token", "<p>That "
		    "is not this node's API token (the file <code>api.token"
		    "</code> in its data directory, new at every start).</p>");
	session_open(a->sessions, util_now(), id);
	snprintf(cookie, sizeof(cookie), SESSION_COOKIE "=%s; HttpOnly; "
	    "SameSite=Strict; Path=/", id);
	sodium_memzero(id, sizeof(id));
	return api_reply_redirect(req->conn, "/", cookie);
}

/* The body is in: answers a login or logout, or goes on with the put. */
enum MHD_Result
gateway_form_end(struct api_req *req)
{
	struct api *a = req->api;
	const char *cookie = api_cookie(req->conn);

	if (req->form != NULL &&
	    MHD_destroy_post_processor(req->form) != MHD_YES)
		gateway_form_fail(req, 400, "malformed form");
	req->form = NULL;
	if (req->answered)
		return MHD_YES;
	if (req->fail_status != 0)
		return api_reply_error(req->conn, (unsigned)req->fail_status,
		    req->fail_text);
	switch (req->form_kind) {
	case FORM_LOGIN:
		return gateway_login(req);
	case FORM_LOGOUT:
		if (req->secret_len == SESSION_HEX && session_check_form(
		    a->sessions, cookie, req->secret, util_now()))
			session_close(a->sessions, cookie);
		return api_reply_redirect(req->conn, "/", SESSION_COOKIE "=; "
		    "Max-Age=0; HttpOnly; SameSite=Strict; Path=/");
	case FORM_UPLOAD:
		break;
	}
	if (req->put == NULL)
		return api_reply_error(req->conn, 400, "no file in the form");
	return api_put_end(req);
}

/* GET /open?key=CHK@...: the box on the status page. */
enum MHD_Result
gateway_open(struct MHD_Connection *conn)
{
	const char *raw = MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, "key");
	char text[URI_MAX_LEN], loc[URI_MAX_LEN + 1];
	struct uri u;
	size_t n;

	if (raw == NULL || params_decode(raw, strlen(raw), text, sizeof(text),
	    &n) != 0 || uri_parse(&u, text, n) != 0 ||
	    uri_format(&u, loc + 1, sizeof(loc) - 1) != 0)
		return api_reply_page(conn, 400, "Not a key", "<p>A key looks "
		    "like <code>CHK@...,...,...</code>, as <code>umbra put"
		    "</code> prints it.</p>");
	loc[0] = '/';
	return api_reply_redirect(conn, loc, NULL);
}
