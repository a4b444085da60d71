/* page.c - see page.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node/node.h"
#include "node/page.h"
#include "node/peers.h"
#include "node/util.h"

/* Only types a browser shows without running anything. */
static const struct {
	const char *ext, *type;
} page_types[] = {
	{ "txt", "text/plain; charset=utf-8" },
	{ "md", "text/plain; charset=utf-8" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "mp3", "audio/mpeg" },
	{ "ogg", "audio/ogg" },
	{ "mp4", "video/mp4" },
	{ "webm", "video/webm" },
	{ "pdf", "application/pdf" },
};

const char *
page_content_type(const char *name, const char *stored, bool *show_inline)
{
	const char *dot = strrchr(name, '.');
	size_t n;

	*show_inline = false;
	for (size_t i = 0; i < sizeof(page_types) / sizeof(*page_types); i++) {
		/* The type given at insert wins over the name, which anyone
		 * can change in a link. */
		n = strcspn(page_types[i].type, ";");
		if (stored != NULL ? strlen(stored) == n &&
		    strncmp(stored, page_types[i].type, n) == 0 :
		    dot != NULL && strcasecmp(dot + 1, page_types[i].ext) == 0) {
			*show_inline = true;
			return page_types[i].type;
		}
	}
	return "application/octet-stream";
}

static void
page_peer_row(void *arg, struct peer *p)
{
	/* Addresses and base64url names need no HTML escaping. */
	fprintf(arg, "<tr><td>%s</td><td>%.6f</td><td>%s</td>"
	    "<td><code>%s</code></td></tr>\n", peer_address(p),
	    peer_location(p), peer_inbound(p) ? "in" : "out", peer_name(p));
}

static void
page_peers(FILE *f, struct node *node)
{
	size_t n = peers_count(node->peers);

	fprintf(f, "<h2>Peers</h2>\n<p>%zu connected; links on %s.</p>\n", n,
	    peers_listen_address(node->peers));
	if (n == 0)
		return;
	fprintf(f, "<table>\n<tr><th>address</th><th>location</th>"
	    "<th>link</th><th>identity</th></tr>\n");
	peers_each(node->peers, page_peer_row, f);
	fprintf(f, "</table>\n");
}

char *
page_status_html(struct node *node)
{
	struct store_stats s;
	const struct node_counters *c = &node->count;
	char *html = NULL;
	size_t len = 0;
	FILE *f;

	if (store_get_stats(node->store, &s) != 0 ||
	    (f = open_memstream(&html, &len)) == NULL)
		return NULL;
	fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\">"
	    "<title>Umbra node</title><style>body{font-family:sans-serif;"
	    "max-width:40em;margin:1em auto;padding:0 1em}td{padding:.2em .6em}"
	    "code{word-break:break-all}</style></head><body>\n"
	    "<h1>Umbra node</h1>\n<table>\n");
	fprintf(f, "<tr><td>identity</td><td><code>%s</code></td></tr>\n"
	    "<tr><td>location</td><td>%.6f</td></tr>\n"
	    "<tr><td>version</td><td>%s</td></tr>\n"
	    "<tr><td>uptime</td><td>%.0f s</td></tr>\n</table>\n",
	    node->id.name, node->id.location, PACKAGE_VERSION,
	    util_now() - node->started);
	page_peers(f, node);
	fprintf(f, "<h2>Store</h2>\n<table>\n"
	    "<tr><td>blocks</td><td>%llu (%llu own, %llu cached)</td></tr>\n"
	    "<tr><td>used</td><td>%.1f of %.1f MiB</td></tr>\n"
	    "<tr><td>evictions</td><td>%llu</td></tr>\n"
	    "<tr><td>pending inserts</td><td>%llu</td></tr>\n</table>\n",
	    (unsigned long long)s.blocks, (unsigned long long)s.client_blocks,
	    (unsigned long long)s.cache_blocks, (double)s.bytes_used / 1048576.0,
	    (double)s.bytes_max / 1048576.0, (unsigned long long)s.evictions,
	    (unsigned long long)s.pending);
	fprintf(f, "<h2>Requests</h2>\n<table>\n"
	    "<tr><td>puts</td><td>%llu (%llu failed)</td></tr>\n"
	    "<tr><td>gets</td><td>%llu (%llu found, %llu not found)</td></tr>\n"
	    "</table>\n</body></html>\n",
	    (unsigned long long)c->puts, (unsigned long long)c->puts_failed,
	    (unsigned long long)c->gets, (unsigned long long)c->gets_found,
	    (unsigned long long)c->gets_not_found);
	if (fclose(f) != 0) {
		free(html);
		return NULL;
	}
	return html;
}
