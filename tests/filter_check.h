/*
 * filter_check.h - checks what the gateway's filters (node/html.h,
 * node/css.h) put out, for the unit tests and the fuzz targets.
 *
 * Written from the promises of html.h, css.h and docs/gateway.md, not
 * from the filters' tables: the HTML output is parsed again with gumbo
 * (as a browser would) and every element, attribute and URL must be in
 * the lists below; CSS output is tokenized again and must hold nothing
 * that can fetch. Each check returns NULL, or a static reason.
 * Header-only (static functions): include it in one file per program.
 */
#ifndef UMBRA_FILTER_CHECK_H
#define UMBRA_FILTER_CHECK_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "crypto/uri.h"
#include "node/css.h"
#include "node/css_token.h"
#include "node/html.h"
#include "node/sbuf.h"

/* Each program uses some of these. */
#define CHECK_FN static __attribute__((unused))

#define CHECK_HTML_HEAD "<!DOCTYPE html>\n<html"
#define CHECK_HTML_TAIL "</body></html>"

static const char *const check_css_functions[] = {
	"rgb", "rgba", "hsl", "hsla", "hwb", "calc", "min", "max", "clamp",
	"linear-gradient", "radial-gradient", "repeating-linear-gradient",
	"repeating-radial-gradient", "not", "is", "where", "has",
	"nth-child", "nth-last-child", "nth-of-type", "nth-last-of-type",
	"lang", "dir", NULL
};

CHECK_FN bool
check_in(const char *const *list, const char *s, size_t n)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == n && strncasecmp(*list, s, n) == 0)
			return true;
	return false;
}

CHECK_FN bool
check_utf8(const char *s, size_t len)
{
	size_t used;

	for (size_t i = 0; i < len; i += used)
		if (sbuf_utf8_decode((const unsigned char *)s + i, len - i,
		    &used) < 0)
			return false;
	return true;
}

/* CSS output of css_filter_sheet() (inline false) or _inline(). */
CHECK_FN const char *
check_css_output(const char *s, size_t len, bool inl)
{
	struct css_lexer lx;
	struct css_token t;
	const char *why = NULL;

	if (strlen(s) != len)
		return "css: length or NUL inside";
	if (memchr(s, '<', len) != NULL)
		return "css: '<' in output";
	if (!check_utf8(s, len))
		return "css: not UTF-8";
	css_lexer_init(&lx, s, len);
	do {
		if (css_lexer_next(&lx, &t) != 0) {
			why = "css: lexer out of memory";
			break;
		}
		switch (t.type) {
		case CSS_TOK_URL: why = "css: url token"; break;
		case CSS_TOK_BAD_URL: why = "css: bad url token"; break;
		case CSS_TOK_BAD_STRING: why = "css: bad string"; break;
		case CSS_TOK_CDO: case CSS_TOK_CDC: why = "css: CDO/CDC"; break;
		case CSS_TOK_FUNCTION:
			if (!check_in(check_css_functions, t.val, t.vlen))
				why = "css: function not allowed";
			break;
		case CSS_TOK_AT_KEYWORD:
			if (inl || t.vlen != 5 ||
			    strncasecmp(t.val, "media", 5) != 0)
				why = "css: at-rule not allowed";
			break;
		case CSS_TOK_DELIM:
			if (t.delim == '\\' || t.delim == '@' ||
			    t.delim == '<')
				why = "css: stray delim";
			break;
		case CSS_TOK_LBRACE: case CSS_TOK_RBRACE:
			if (inl)
				why = "css: block in a style attribute";
			break;
		default:
			break;
		}
	} while (why == NULL && t.type != CSS_TOK_EOF);
	css_lexer_free(&lx);
	return why;
}

/* Filtering the output again must give it back. */
CHECK_FN const char *
check_css_again(const char *s, size_t len, bool inl)
{
	char *again;
	size_t n;
	int rc = inl ? css_filter_inline(s, len, &again, &n) :
	    css_filter_sheet(s, len, &again, &n);
	const char *why = NULL;

	if (rc != CSS_OK)
		return "css: output refused on a second pass";
	if (n != len || memcmp(again, s, len) != 0)
		why = "css: not idempotent";
	free(again);
	return why;
}

struct check_tag {
	const char *name;
	const char *attrs;	/* space-separated, besides the global ones */
};

static const struct check_tag check_tags[] = {
	{ "title", "" }, { "style", "" }, { "link", "rel href" },
	{ "article", "" }, { "section", "" }, { "nav", "" }, { "aside", "" },
	{ "h1", "" }, { "h2", "" }, { "h3", "" }, { "h4", "" }, { "h5", "" },
	{ "h6", "" }, { "hgroup", "" }, { "header", "" }, { "footer", "" },
	{ "address", "" }, { "main", "" }, { "div", "" }, { "p", "" },
	{ "hr", "" }, { "pre", "" }, { "blockquote", "" },
	{ "ol", "start reversed type" }, { "ul", "" }, { "li", "value" },
	{ "menu", "" }, { "dir", "" }, { "dl", "" }, { "dt", "" },
	{ "dd", "" }, { "figure", "" }, { "figcaption", "" },
	{ "center", "" }, { "marquee", "" }, { "fieldset", "" },
	{ "legend", "" }, { "details", "open" }, { "summary", "" },
	{ "a", "href name" }, { "em", "" }, { "strong", "" },
	{ "small", "" }, { "s", "" }, { "cite", "" }, { "q", "" },
	{ "dfn", "" }, { "abbr", "" }, { "time", "datetime" },
	{ "code", "" }, { "var", "" }, { "samp", "" }, { "kbd", "" },
	{ "sub", "" }, { "sup", "" }, { "i", "" }, { "b", "" }, { "u", "" },
	{ "mark", "" }, { "ruby", "" }, { "rt", "" }, { "rp", "" },
	{ "rb", "" }, { "rtc", "" }, { "bdi", "" }, { "span", "" },
	{ "font", "" }, { "big", "" }, { "tt", "" }, { "strike", "" },
	{ "nobr", "" }, { "br", "" }, { "wbr", "" }, { "ins", "datetime" },
	{ "del", "datetime" }, { "img", "src alt width height" },
	{ "audio", "src controls loop muted" },
	{ "video", "src poster controls loop muted width height" },
	{ "source", "src" }, { "track", "src kind srclang label" },
	{ "table", "" }, { "caption", "" }, { "colgroup", "span" },
	{ "col", "span" }, { "tbody", "" }, { "thead", "" },
	{ "tfoot", "" }, { "tr", "" }, { "td", "colspan rowspan" },
	{ "th", "colspan rowspan scope" },
	{ NULL, NULL }
};

CHECK_FN bool
check_word_in(const char *words, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = words; *p != '\0';) {
		size_t k = strcspn(p, " ");

		if (k == n && strncmp(p, w, n) == 0)
			return true;
		p += k + (p[k] == ' ');
	}
	return false;
}

/* A URL attribute: "#..." (href of <a>) or "/CHK@<key>[#...]". */
CHECK_FN const char *
check_url(const char *tag, const char *v)
{
	char canon[URI_MAX_LEN];
	size_t klen;
	struct uri u;

	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return "html: URL with a space or control";
	if (v[0] == '#')
		return strcmp(tag, "a") == 0 ? NULL : "html: fragment URL";
	if (strncmp(v, "/CHK@", 5) != 0)
		return "html: URL not to a key";
	klen = strcspn(v + 1, "#");
	if (uri_parse(&u, v + 1, klen) != URI_OK ||
	    uri_format(&u, canon, sizeof(canon)) != URI_OK ||
	    strlen(canon) != klen || memcmp(canon, v + 1, klen) != 0)
		return "html: URL key not canonical";
	return NULL;
}

CHECK_FN const char *
check_attr(const char *tag, const struct check_tag *ct,
    const GumboAttribute *a)
{
	const char *n = a->name;

	if (a->attr_namespace != GUMBO_ATTR_NAMESPACE_NONE)
		return "html: namespaced attribute";
	if (strcmp(n, "style") == 0) {
		size_t len = strlen(a->value);
		const char *why = check_css_output(a->value, len, true);

		return why != NULL ? why : check_css_again(a->value, len, true);
	}
	if (!check_word_in("id class title lang dir", n) &&
	    (ct == NULL || !check_word_in(ct->attrs, n)))
		return "html: attribute not allowed";
	if (strcmp(n, "href") == 0 || strcmp(n, "src") == 0 ||
	    strcmp(n, "poster") == 0)
		return check_url(tag, a->value);
	if (strcmp(tag, "link") == 0 && strcmp(n, "rel") == 0 &&
	    strcmp(a->value, "stylesheet") != 0)
		return "html: link not a style sheet";
	return NULL;
}

CHECK_FN const char *
check_element(const GumboNode *node, bool *seen_meta)
{
	const GumboElement *el = &node->v.element;
	const char *tag = gumbo_normalized_tagname(el->tag);
	const struct check_tag *ct = NULL;
	const char *why;

	if (el->tag_namespace != GUMBO_NAMESPACE_HTML)
		return "html: foreign element";
	if (el->tag == GUMBO_TAG_META) {
		/* Only ours: the first thing in head. */
		if (*seen_meta || el->attributes.length != 1 ||
		    strcmp(((GumboAttribute *)el->attributes.data[0])->name,
		    "charset") != 0)
			return "html: a meta element";
		*seen_meta = true;
		return NULL;
	}
	if (el->tag == GUMBO_TAG_HTML || el->tag == GUMBO_TAG_HEAD ||
	    el->tag == GUMBO_TAG_BODY) {
		ct = NULL;
	} else {
		for (ct = check_tags; ct->name != NULL; ct++)
			if (strcmp(ct->name, tag) == 0)
				break;
		if (ct->name == NULL)
			return "html: element not allowed";
	}
	for (unsigned i = 0; i < el->attributes.length; i++)
		if ((why = check_attr(tag, ct, el->attributes.data[i])) != NULL)
			return why;
	if (el->tag == GUMBO_TAG_LINK &&
	    gumbo_get_attribute(&el->attributes, "href") == NULL)
		return "html: link without href";
	if ((el->tag == GUMBO_TAG_IMG || el->tag == GUMBO_TAG_SOURCE ||
	    el->tag == GUMBO_TAG_TRACK) &&
	    gumbo_get_attribute(&el->attributes, "src") == NULL)
		return "html: media element without src";
	if (el->tag == GUMBO_TAG_STYLE) {
		const GumboNode *k;
		size_t len;

		if (el->children.length != 1 ||
		    (k = el->children.data[0])->type != GUMBO_NODE_TEXT)
			return "html: style element not one text";
		len = strlen(k->v.text.text);
		if ((why = check_css_output(k->v.text.text, len, false)))
			return why;
		return check_css_again(k->v.text.text, len, false);
	}
	return NULL;
}

/* Every node of the parse of out, iteratively (deep trees). */
CHECK_FN const char *
check_tree(const GumboNode *root)
{
	const GumboNode **stack;
	unsigned *next;
	size_t n = 0, cap = 1024;
	bool seen_meta = false;
	const char *why = NULL;

	stack = malloc(cap * sizeof(*stack));
	next = malloc(cap * sizeof(*next));
	if (stack == NULL || next == NULL) {
		why = "check: out of memory";
		goto done;
	}
	stack[n] = root;
	next[n++] = 0;
	while (n > 0 && why == NULL) {
		const GumboNode *node = stack[n - 1];
		const GumboVector *kids = node->type == GUMBO_NODE_DOCUMENT ?
		    &node->v.document.children : &node->v.element.children;
		const GumboNode *k;

		if (next[n - 1] >= kids->length) {
			n--;
			continue;
		}
		k = kids->data[next[n - 1]++];
		if (k->type == GUMBO_NODE_COMMENT || k->type == GUMBO_NODE_CDATA ||
		    k->type == GUMBO_NODE_TEMPLATE) {
			why = "html: comment, CDATA or template";
		} else if (k->type == GUMBO_NODE_ELEMENT) {
			if ((why = check_element(k, &seen_meta)) != NULL)
				break;
			if (n == cap) {
				const GumboNode **s2;
				unsigned *n2;

				cap *= 2;
				s2 = realloc(stack, cap * sizeof(*stack));
				if (s2 != NULL)
					stack = s2;
				n2 = realloc(next, cap * sizeof(*next));
				if (n2 != NULL)
					next = n2;
				if (s2 == NULL || n2 == NULL) {
					why = "check: out of memory";
					break;
				}
			}
			stack[n] = k;
			next[n++] = 0;
		}
	}
	if (why == NULL && !seen_meta)
		why = "html: no meta charset";
done:
	free(stack);
	free(next);
	return why;
}

/* Output of html_filter(): its frame, then the parse of it. */
CHECK_FN const char *
check_html_output(const char *out, size_t len)
{
	const size_t hl = strlen(CHECK_HTML_HEAD), tl = strlen(CHECK_HTML_TAIL);
	GumboOutput *g;
	const char *why;

	if (strlen(out) != len)
		return "html: length or NUL inside";
	if (len < hl + tl || memcmp(out, CHECK_HTML_HEAD, hl) != 0 ||
	    memcmp(out + len - tl, CHECK_HTML_TAIL, tl) != 0)
		return "html: not our document frame";
	if (!check_utf8(out, len))
		return "html: not UTF-8";
	if ((g = gumbo_parse_with_options(&kGumboDefaultOptions, out,
	    len)) == NULL)
		return "check: gumbo failed";
	why = check_tree(g->document);
	gumbo_destroy_output(&kGumboDefaultOptions, g);
	return why;
}

/* Filtering the output again must give it back. */
CHECK_FN const char *
check_html_again(const char *out, size_t len)
{
	char *again;
	size_t n;
	const char *why = NULL;
	int rc = html_filter(out, len, &again, &n);

	if (rc == HTML_ELIMIT)
		return NULL;	/* a time bound on a loaded machine */
	if (rc != HTML_OK)
		return "html: output refused on a second pass";
	if (n != len || memcmp(again, out, len) != 0)
		why = "html: not idempotent";
	free(again);
	return why;
}

#endif
