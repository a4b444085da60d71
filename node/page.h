/*
 * page.h - the pages the node serves to a browser: the status page at /,
 * and how a document is shown: as it is (types a browser runs nothing
 * in), filtered (HTML, CSS: node/html.h, node/css.h) or as a download
 * (anything else, and unknown types: never sniffed into HTML).
 */
#ifndef UMBRA_PAGE_H
#define UMBRA_PAGE_H

#include <stdbool.h>

struct node;

/* The status page: the node, a box to open a key, peers, store, onion
 * paths; with csrf (the form token of a logged-in session,
 * node/session.h) also the form to insert a file and the recent
 * requests, else a login form. A malloc'd string, or NULL without memory
 * or when the store cannot be read. */
char *page_status_html(struct node *node, const char *csrf);

/* A small page of ours: title as <title> and <h1>, body_html, and the
 * way back to the status page; it reloads itself every refresh seconds
 * if refresh > 0. title and body_html are ours (HTML, with nothing from
 * outside unescaped). A malloc'd string, or NULL without memory. */
char *page_small_html(const char *title, unsigned refresh,
    const char *body_html);

/* The page that shows a document on its way (node/prefetch.h): its name
 * (from the URI: any bytes, escaped here), how far it is, and a link to
 * stream_href (ours) to have it as it comes instead. It reloads itself
 * every second. A malloc'd string, or NULL. */
struct prefetch_info;
char *page_progress_html(const char *name, const struct prefetch_info *in,
    const char *stream_href);

/* Documents the gateway shows only filtered (node/html.h, node/css.h). */
enum page_filter {
	PAGE_FILTER_NONE = 0,
	PAGE_FILTER_HTML,
	PAGE_FILTER_CSS,
};
/* Which filter a document called name, with the stored media type stored
 * (NULL if none; it wins over the name), goes through. */
enum page_filter page_filter_kind(const char *name, const char *stored);

/* The Content-Type for a document called name ("" if none) whose insert
 * stored the media type stored (NULL if none; it wins over the name),
 * and whether a browser may show it inline (false: Content-Disposition:
 * attachment, as application/octet-stream). */
const char *page_content_type(const char *name, const char *stored,
    bool *show_inline);

#endif
