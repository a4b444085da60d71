/* page.c - see page.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node/node.h"
#include "node/page.h"
#include "node/paths.h"
#include "node/prefetch.h"
#include "node/peers.h"
#include "node/reach.h"
#include "node/relay.h"
#include "node/transit.h"
#include "node/util.h"

/* The types the gateway knows: shown as they are (only those a browser
 * shows without running anything), or only once filtered. The name
 * counts when no type was stored with the document. */
static const struct {
	const char *ext, *type;
	enum page_filter filter;
} page_types[] = {
	{ "txt", "text/plain; charset=utf-8", PAGE_FILTER_NONE },
	{ "md", "text/plain; charset=utf-8", PAGE_FILTER_NONE },
	{ "png", "image/png", PAGE_FILTER_NONE },
	{ "jpg", "image/jpeg", PAGE_FILTER_NONE },
	{ "jpeg", "image/jpeg", PAGE_FILTER_NONE },
	{ "gif", "image/gif", PAGE_FILTER_NONE },
	{ "webp", "image/webp", PAGE_FILTER_NONE },
	{ "mp3", "audio/mpeg", PAGE_FILTER_NONE },
	{ "ogg", "audio/ogg", PAGE_FILTER_NONE },
	{ "mp4", "video/mp4", PAGE_FILTER_NONE },
	{ "webm", "video/webm", PAGE_FILTER_NONE },
	{ "pdf", "application/pdf", PAGE_FILTER_NONE },
	{ "html", "text/html", PAGE_FILTER_HTML },
	{ "htm", "text/html", PAGE_FILTER_HTML },
	{ "xhtml", "application/xhtml+xml", PAGE_FILTER_HTML },
	{ "css", "text/css", PAGE_FILTER_CSS },
};

/* The entry for a document, or -1. The type given at insert wins over the
 * name, which anyone can change in a link. */
static int
page_lookup(const char *name, const char *stored)
{
	const char *dot = strrchr(name, '.');
	size_t n;

	for (size_t i = 0; i < sizeof(page_types) / sizeof(*page_types); i++) {
		n = strcspn(page_types[i].type, ";");
		if (stored != NULL ? strlen(stored) == n &&
		    strncmp(stored, page_types[i].type, n) == 0 :
		    dot != NULL && strcasecmp(dot + 1, page_types[i].ext) == 0)
			return (int)i;
	}
	return -1;
}

const char *
page_content_type(const char *name, const char *stored, bool *show_inline)
{
	int i = page_lookup(name, stored);

	*show_inline = i >= 0 && page_types[i].filter == PAGE_FILTER_NONE;
	return *show_inline ? page_types[i].type : "application/octet-stream";
}

enum page_filter
page_filter_kind(const char *name, const char *stored)
{
	int i = page_lookup(name, stored);

	return i >= 0 ? page_types[i].filter : PAGE_FILTER_NONE;
}

static void
page_peer_row(void *arg, struct peer *p)
{
	/* Addresses and base64url names need no HTML escaping. */
	fprintf(arg, "<tr><td>%s</td><td>%.6f</td><td>%s%s</td><td>%zu</td>"
	    "<td><code>%.11s</code></td></tr>\n", peer_address(p),
	    peer_location(p), peer_inbound(p) ? "in" : "out",
	    peer_is_path_link(p) ? ", path link" : "", peer_queued(p),
	    peer_name(p));
}

static void
page_peers(FILE *f, struct node *node)
{
	size_t n = peers_count(node->peers);

	const char *addr = reach_address(node->reach);
	const char *advice = reach_advice(node->reach);
	enum reach_state r = reach_reachable(node->reach);

	fprintf(f, "<h2>Peers</h2>\n<p>%zu connected; links on %s; "
	    "announced as %s, %s.</p>\n", n, peers_listen_address(node->peers),
	    addr != NULL ? addr : "nothing",
	    r == REACH_YES ? "reachable (a peer dialed us back)" :
	    r == REACH_NO ? "not reachable: never offered as a relay" :
	    "reachability not known yet");
	/* The advice holds addresses and ASCII words only. */
	if (advice != NULL)
		fprintf(f, "<p>%s</p>\n", advice);
	if (n == 0)
		return;
	fprintf(f, "<div class=w><table>\n<tr><th>address</th><th>location"
	    "</th><th>link</th><th>queued</th><th>identity</th></tr>\n");
	peers_each(node->peers, page_peer_row, f);
	fprintf(f, "</table></div>\n");
}

static double
page_ratio(uint64_t part, uint64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static void
page_store(FILE *f, struct node *node, const struct store_stats *s)
{
	const struct relay_counters *r = relay_counters(node->relay);

	fprintf(f, "<h2>Store</h2>\n<table>\n"
	    "<tr><td>blocks</td><td>%llu (%llu own, %llu cached)</td></tr>\n"
	    "<tr><td>used</td><td>%.1f of %.1f MiB (%.0f%%)</td></tr>\n"
	    "<tr><td>hit rate</td><td>%.1f%% of %llu requests from peers "
	    "answered from here</td></tr>\n"
	    "<tr><td>evictions</td><td>%llu</td></tr>\n"
	    "<tr><td>pending inserts</td><td>%llu</td></tr>\n</table>\n",
	    (unsigned long long)s->blocks, (unsigned long long)s->client_blocks,
	    (unsigned long long)s->cache_blocks,
	    (double)s->bytes_used / 1048576.0, (double)s->bytes_max / 1048576.0,
	    page_ratio(s->bytes_used, s->bytes_max),
	    page_ratio(r->served, r->requests_in),
	    (unsigned long long)r->requests_in, (unsigned long long)s->evictions,
	    (unsigned long long)s->pending);
}

static void
page_paths(FILE *f, struct node *node)
{
	struct paths_info info[32];
	size_t n = paths_list(node->paths, info, 32);

	fprintf(f, "<h2>Onion paths</h2>\n<p>%zu of this node's own; it "
	    "relays %zu for others.</p>\n", n,
	    transit_count(node->transit));
	if (n == 0)
		return;
	fprintf(f, "<table>\n<tr><th>hops</th><th>state</th><th>age</th>"
	    "<th>streams</th></tr>\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "<tr><td>%u</td><td>%s</td><td>%.0f s</td>"
		    "<td>%u</td></tr>\n", info[i].hops,
		    info[i].ready ? "ready" : "building", info[i].age,
		    info[i].streams);
	fprintf(f, "</table>\n");
}

/* Only for the logged-in owner: which keys were asked for is private. */
static void
page_recent(FILE *f, struct node *node, const struct store_stats *s)
{
	const struct node_counters *c = &node->count;
	const struct node_recent *r;
	double now = util_now();

	fprintf(f, "<h2>Requests</h2>\n<p>%llu puts (%llu failed), %llu gets "
	    "(%llu found, %llu not found).</p>\n",
	    (unsigned long long)c->puts, (unsigned long long)c->puts_failed,
	    (unsigned long long)c->gets, (unsigned long long)c->gets_found,
	    (unsigned long long)c->gets_not_found);
	fprintf(f, "<p>%llu blocks kept of what this gateway fetched (never "
	    "served to peers).</p>\n", (unsigned long long)s->local_blocks);
	fprintf(f, "<div class=w><table>\n<tr><th>when</th><th>what</th>"
	    "<th>key</th><th>bytes</th><th>answer</th></tr>\n");
	for (unsigned i = 0; i < NODE_RECENT; i++) {
		r = &node->recent[(node->recent_next + NODE_RECENT - 1 - i) %
		    NODE_RECENT];
		if (r->when == 0.0)
			break;
		fprintf(f, "<tr><td>%.0f s ago</td><td>%s</td><td><code>%s"
		    "</code></td><td>%llu</td><td>%d</td></tr>\n",
		    now - r->when, r->put ? "put" : "get", r->key,
		    (unsigned long long)r->bytes, r->status);
	}
	fprintf(f, "</table></div>\n");
}

/* What a browser may do: open a key; once logged in, insert a file. */
static void
page_forms(FILE *f, const char *csrf)
{
	fprintf(f, "<h2>Open a key</h2>\n<form method=get action=\"/open\">"
	    "<input name=key placeholder=\"CHK@...\" required "
	    "autocomplete=off> <button>Open</button></form>\n");
	if (csrf == NULL) {
		fprintf(f, "<h2>Log in</h2>\n<p>To insert files from this page,"
		    " paste the node's API token (the file <code>api.token</code>"
		    " in its data directory).</p>\n<form method=post "
		    "action=\"/login\"><input type=password name=token "
		    "autocomplete=off required> <button>Log in</button></form>\n");
		return;
	}
	fprintf(f, "<h2>Insert a file</h2>\n<form method=post action=\"/upload\""
	    " enctype=\"multipart/form-data\"><input type=hidden name=csrf "
	    "value=\"%s\"><p><input name=type placeholder=\"media type "
	    "(optional), e.g. text/html\"></p><p><input type=file name=file "
	    "required></p><button>Insert</button></form>\n<form method=post "
	    "action=\"/logout\"><input type=hidden name=csrf value=\"%s\">"
	    "<p><button>Log out</button></p></form>\n", csrf, csrf);
}

/* Every page of ours opens alike: readable on a phone, one style. */
static void
page_open(FILE *f, const char *title, unsigned refresh)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=en><head><meta charset="
	    "\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,"
	    "initial-scale=1\">");
	if (refresh > 0)
		fprintf(f, "<meta http-equiv=\"refresh\" content=\"%u\">",
		    refresh);
	fprintf(f, "<title>%s</title><style>body{font-family:sans-serif;"
	    "max-width:46em;margin:1em auto;padding:0 1em;line-height:1.4}"
	    "td,th{padding:.2em .6em;text-align:left}.w{overflow-x:auto}"
	    "input{max-width:100%%;font-size:1em}input[name=key]{width:30em}"
	    "progress{width:100%%;height:1.5em}"
	    "code{word-break:break-all}</style></head><body>\n", title);
}

/* Ends f's page, a memstream writing to *html: the malloc'd string
 * (set only by the fclose), or NULL. */
static char *
page_close(FILE *f, char **html)
{
	fprintf(f, "</body></html>\n");
	if (fclose(f) != 0) {
		free(*html);
		return NULL;
	}
	return *html;
}

char *
page_small_html(const char *title, unsigned refresh, const char *body_html)
{
	char *html = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&html, &len);

	if (f == NULL)
		return NULL;
	page_open(f, title, refresh);
	fprintf(f, "<h1>%s</h1>\n%s\n<p><a href=\"/\">Back to the node</a>"
	    "</p>\n", title, body_html);
	return page_close(f, &html);
}

/* Text from outside (a document's name): every byte HTML could read as
 * markup escaped. */
static void
page_put_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

char *
page_progress_html(const char *name, const struct prefetch_info *in,
    const char *stream_href)
{
	char *html = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&html, &len);
	double mib = 1024.0 * 1024.0;

	if (f == NULL)
		return NULL;
	page_open(f, "Fetching", 1);
	fprintf(f, "<h1>Fetching</h1>\n<p><code>");
	page_put_text(f, *name != '\0' ? name : "(a document without a name)");
	fprintf(f, "</code></p>\n");
	if (in->length == 0)
		fprintf(f, "<p><progress></progress></p>\n<p>Looking for the "
		    "document in the network: %.0f s.</p>\n", in->elapsed);
	else
		fprintf(f, "<p><progress max=\"%llu\" value=\"%llu\">"
		    "</progress></p>\n<p>%.0f%%: %.1f of %.1f MiB in %.0f s "
		    "(%.2f MiB/s).</p>\n", (unsigned long long)in->length,
		    (unsigned long long)in->got, 100.0 * (double)in->got /
		    (double)in->length, (double)in->got / mib,
		    (double)in->length / mib, in->elapsed, in->elapsed > 0 ?
		    (double)in->got / mib / in->elapsed : 0.0);
	fprintf(f, "<p>The node is fetching it from the network into its "
	    "own cache (which it never serves to others). This page "
	    "reloads itself every second and shows the document once it is "
	    "all here (a document your browser saves rather than shows then "
	    "goes to your downloads, and this page stays as it is).</p>\n"
	    "<p><a href=\"%s\">Show it now, as it comes</a></p>\n<p><a href=\"/\">Back to the node</a></p>\n",
	    stream_href);
	return page_close(f, &html);
}

char *
page_status_html(struct node *node, const char *csrf)
{
	struct store_stats s;
	char *html = NULL;
	size_t len = 0;
	FILE *f;

	if (store_get_stats(node->store, &s) != 0 ||
	    (f = open_memstream(&html, &len)) == NULL)
		return NULL;
	page_open(f, "Umbra node", 0);
	fprintf(f, "<h1>Umbra node</h1>\n<table>\n"
	    "<tr><td>identity</td><td><code>%s</code></td></tr>\n"
	    "<tr><td>location</td><td>%.6f</td></tr>\n"
	    "<tr><td>version</td><td>%s</td></tr>\n"
	    "<tr><td>uptime</td><td>%.0f s</td></tr>\n</table>\n",
	    node->id.name, node->id.location, PACKAGE_VERSION,
	    util_now() - node->started);
	page_forms(f, csrf);
	page_peers(f, node);
	page_store(f, node, &s);
	page_paths(f, node);
	if (csrf != NULL)
		page_recent(f, node, &s);
	return page_close(f, &html);
}
