/*
 * html.h - the HTML filter of the browser gateway (issue 7).
 *
 * html_filter() parses a document with gumbo (the HTML5 parsing
 * algorithm, so the tree is the one a browser builds) and writes a new
 * document from the parts of that tree an allow-list admits; nothing of
 * the input is copied as bytes. What it guarantees, for any input:
 *
 *   - the output is a complete HTML5 document, valid UTF-8 without a BOM,
 *     starting "<!DOCTYPE html>\n<html...><head><meta charset=\"utf-8\">"
 *     and ending "</body></html>": so no charset trick (UTF-7, UTF-16 BOM,
 *     <meta charset>, http-equiv) reaches the browser, and every <meta>
 *     of the input is dropped;
 *   - only allow-listed HTML elements and attributes (docs/gateway.md,
 *     "The filter"); scripts, styles-to-be, embeds, frames, forms, SVG,
 *     MathML, templates, <base>, <meta> and <noscript> are dropped with
 *     their content; other tags not on the list are written as <span>
 *     (which the parser treats alike), and so is an element whose start
 *     tag would close an open one when the output is read back (<li> in
 *     <a> in <li>: shapes the parser makes but would not read again);
 *   - every URL attribute (href, src, poster) is either "#fragment" (href
 *     of <a> only) or "/CHK@..." in the canonical form of crypto/uri.h: a
 *     link to a key, in any of the forms CHK@..., /CHK@... or
 *     http(s)://host[:port]/CHK@..., is rewritten to the gateway; any
 *     other URL is dropped, and <img>, <source>, <track> and <link> go
 *     with it; <link> is kept only as rel=stylesheet to a key;
 *   - style="" goes through css_filter_inline(), <style> through
 *     css_filter_sheet() (css.h): no url(), @import or '<' in either;
 *   - text and attribute values are escaped (& < > and, in attributes,
 *     " and '): the only tags in the output are the ones written here;
 *   - filtering the output again gives the same bytes. To that end the
 *     input is parsed in no-quirks mode, as the output will be (its own
 *     doctype is ignored): in quirks mode a <table> stays inside an open
 *     <p>, in no-quirks mode it closes it.
 *
 * Bounds, and what happens at each:
 *   - input over HTML_FILTER_MAX_INPUT: HTML_ETOOBIG at once (the caller
 *     serves such a document as a download);
 *   - gumbo's memory comes from a per-call arena of at most
 *     HTML_FILTER_MAX_ARENA bytes, its CPU time is at most about
 *     HTML_FILTER_MAX_CPU_MS (thread CPU time), its stack at most
 *     HTML_FILTER_MAX_STACK bytes below the caller's frame (gumbo frees
 *     some subtrees recursively): any of these hit ends the parse and the
 *     call returns HTML_ELIMIT; the arena is freed whole, nothing leaks;
 *   - output elements nested deeper than HTML_FILTER_MAX_DEPTH are
 *     dropped with their content; output over HTML_FILTER_MAX_OUTPUT
 *     bytes: HTML_ELIMIT.
 * The caller's thread needs HTML_FILTER_MAX_STACK plus about 64 KiB of
 * stack. No global mutable state: any thread may call it at any time.
 *
 * Ownership and errors: returns 0 and a malloc'd, NUL-terminated *out
 * (free() it) of length *out_len, or a negative HTML_E* code with *out
 * untouched. in may be NULL when len is 0; no byte past in[len - 1] is
 * read.
 */
#ifndef UMBRA_HTML_H
#define UMBRA_HTML_H

#include <stddef.h>

#define HTML_FILTER_MAX_INPUT ((size_t)2 << 20)
#define HTML_FILTER_MAX_ARENA ((size_t)64 << 20)
#define HTML_FILTER_MAX_CPU_MS 2000
#define HTML_FILTER_MAX_STACK ((size_t)256 << 10)
#define HTML_FILTER_MAX_DEPTH 256
#define HTML_FILTER_MAX_OUTPUT ((size_t)32 << 20)

enum html_err {
	HTML_OK = 0,
	HTML_ETOOBIG = -1,	/* input over HTML_FILTER_MAX_INPUT */
	HTML_ENOMEM = -2,
	HTML_ELIMIT = -3,	/* a bound on memory, time, stack or output */
};

int html_filter(const char *in, size_t len, char **out, size_t *out_len)
	__attribute__((warn_unused_result));
const char *html_strerror(int err);

#endif
