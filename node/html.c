/*
 * html.c - see html.h.
 *
 * Three parts: an arena that feeds gumbo and enforces the bounds (a
 * bound hit longjmps out of gumbo, which keeps all its state in the
 * arena, so freeing the arena whole is the only cleanup); the allow-list
 * (tag_rules, attr_defs, url_rewrite); and an iterative walk of gumbo's
 * tree that writes the new document (gumbo trees can be hundreds of
 * thousands of levels deep, so nothing here recurses).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gumbo.h>

#include "crypto/uri.h"
#include "node/css.h"
#include "node/html.h"
#include "node/sbuf.h"

/* ---- the arena ---- */

#if defined(__SANITIZE_ADDRESS__)
#define HTML_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HTML_ASAN 1
#endif
#endif

#ifdef HTML_ASAN
/* Red zones between blocks, so that an instrumented gumbo (a fuzz
 * build) overrunning one of its blocks is caught. */
#include <sanitizer/asan_interface.h>
#define ARENA_REDZONE 16
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ARENA_REDZONE 0
#endif

/* Chunks grow from 64 KiB (a small page costs no mmap()) to 1 MiB. */
#define ARENA_CHUNK_MIN ((size_t)64 << 10)
#define ARENA_CHUNK ((size_t)1 << 20)
#define ARENA_ALIGN 16

struct chunk {
	struct chunk *next;
	size_t size, used, pad;	/* pad: data starts 16-byte aligned */
	unsigned char data[];
};

_Static_assert(offsetof(struct chunk, data) % ARENA_ALIGN == 0,
    "arena blocks must be aligned");

struct arena {
	struct chunk *head;
	size_t total;		/* bytes of all chunks */
	size_t next;		/* size of the next chunk */
	int err;		/* why the last arena_alloc() failed */
};

static struct chunk *
arena_chunk_new(struct arena *a, size_t size)
{
	struct chunk *c;

	if (size > HTML_FILTER_MAX_ARENA - a->total) {
		a->err = HTML_ELIMIT;
		return NULL;
	}
	if ((c = malloc(sizeof(*c) + size)) == NULL) {
		a->err = HTML_ENOMEM;
		return NULL;
	}
	a->total += size;
	c->size = size;
	c->used = 0;
	ASAN_POISON_MEMORY_REGION(c->data, size);
	return c;
}

/* n bytes, 16-byte aligned, or NULL (a->err says why). */
static void *
arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->head;
	size_t need;
	void *p;

	if (n > HTML_FILTER_MAX_ARENA) {
		a->err = HTML_ELIMIT;
		return NULL;
	}
	need = (n + (n == 0) + ARENA_REDZONE + ARENA_ALIGN - 1) &
	    ~(size_t)(ARENA_ALIGN - 1);
	if (c == NULL || c->size - c->used < need) {
		if (a->next < ARENA_CHUNK_MIN)
			a->next = ARENA_CHUNK_MIN;
		if ((c = arena_chunk_new(a, need > a->next ? need :
		    a->next)) == NULL)
			return NULL;
		if (a->next < ARENA_CHUNK)
			a->next *= 2;
		/* A block bigger than a chunk gets a chunk of its own, kept
		 * behind the head so the head's free room stays in use. */
		if (need > c->size / 2 && a->head != NULL) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = c->data + c->used;
	c->used += need;
	ASAN_UNPOISON_MEMORY_REGION(p, n);
	return p;
}

static void
arena_free_all(struct arena *a)
{
	struct chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		ASAN_UNPOISON_MEMORY_REGION(c->data, c->size);
		free(c);
	}
	a->head = NULL;
	a->total = 0;
}

/* ---- one call's state, and the bounds gumbo runs under ---- */

struct html_ctx {
	struct arena arena;
	jmp_buf jmp;		/* back to html_parse() when a bound is hit */
	uintptr_t stack_base;	/* html_filter()'s frame */
	long long deadline_ms;	/* thread CPU time */
	unsigned ticks;
	int err;		/* why gumbo was stopped */
	struct sbuf out;
	int depth;		/* output elements open, html and body included */
	int open_a, open_nobr;	/* of these, <a> and <nobr> */
	bool pre_start;		/* just wrote <pre>: see put_text() */
};

static long long
cpu_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The clock is read every 64th tick: gumbo calls its allocator at
 * least once per token, and one token costs it at most a walk of its
 * stack of open elements. */
static int
ctx_out_of_time(struct html_ctx *cx)
{
	return (++cx->ticks & 63) == 0 && cpu_ms() > cx->deadline_ms;
}

static int
ctx_check(struct html_ctx *cx)
{
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	uintptr_t used = here < cx->stack_base ? cx->stack_base - here :
	    here - cx->stack_base;

	if (used > HTML_FILTER_MAX_STACK || ctx_out_of_time(cx))
		return HTML_ELIMIT;
	return 0;
}

/* gumbo's allocator: never returns NULL (gumbo does not check). */
static void *
gumbo_cb_alloc(void *userdata, size_t n)
{
	struct html_ctx *cx = userdata;
	void *p;

	if ((cx->err = ctx_check(cx)) != 0)
		longjmp(cx->jmp, 1);
	if ((p = arena_alloc(&cx->arena, n)) == NULL) {
		cx->err = cx->arena.err;
		longjmp(cx->jmp, 1);
	}
	return p;
}

/* Frees nothing (the arena goes whole); checks the bounds, since gumbo
 * frees subtrees recursively while parsing (a <frameset> after deep
 * nesting): that recursion is what the stack bound stops. */
static void
gumbo_cb_free(void *userdata, void *p)
{
	struct html_ctx *cx = userdata;

	(void)p;
	if ((cx->err = ctx_check(cx)) != 0)
		longjmp(cx->jmp, 1);
}

/* The parse, or NULL with cx->err set. The jump lands here: nothing of
 * this frame changes between setjmp() and longjmp(), and after a jump no
 * gumbo state is touched again (the arena holds it all). */
static GumboOutput *
html_parse(struct html_ctx *cx, const char *in, size_t len)
{
	GumboOptions opt = kGumboDefaultOptions;

	opt.allocator = gumbo_cb_alloc;
	opt.deallocator = gumbo_cb_free;
	opt.userdata = cx;
	opt.max_errors = 0;	/* keep no parse errors: memory */
	if (setjmp(cx->jmp) != 0)
		return NULL;
	return gumbo_parse_with_options(&opt, in, len);
}

/* ---- the allow-list ---- */

enum tag_act { ACT_SPAN = 0, ACT_KEEP, ACT_DROP };
enum tag_kind {
	K_PLAIN = 0,
	K_VOID,			/* no content, no end tag */
	K_NEEDS_SRC,		/* void, and dropped without a valid src */
	K_PRE,			/* a leading newline is doubled */
	K_STYLE,		/* content through css_filter_sheet() */
	K_LINK,			/* only rel=stylesheet to a key */
	K_NO_NEST,		/* inside one of its kind: a span */
};

/* Attributes beyond the global ones (id, class, title, lang, dir,
 * style), as bits of tag_rule.attrs. */
enum {
	A_HREF = 1 << 0, A_SRC = 1 << 1, A_POSTER = 1 << 2, A_NAME = 1 << 3,
	A_ALT = 1 << 4, A_WIDTH = 1 << 5, A_HEIGHT = 1 << 6,
	A_COLSPAN = 1 << 7, A_ROWSPAN = 1 << 8, A_START = 1 << 9,
	A_REVERSED = 1 << 10, A_TYPE = 1 << 11, A_VALUE = 1 << 12,
	A_CONTROLS = 1 << 13, A_LOOP = 1 << 14, A_MUTED = 1 << 15,
	A_KIND = 1 << 16, A_SRCLANG = 1 << 17, A_LABEL = 1 << 18,
	A_DATETIME = 1 << 19, A_SPAN = 1 << 20, A_OPEN = 1 << 21,
	A_SCOPE = 1 << 22,
};

struct tag_rule {
	unsigned char act, kind;
	unsigned attrs;
	const char *name;	/* written instead of the tag's own name */
};

#define KEEP(a) { ACT_KEEP, K_PLAIN, (a), NULL }
#define KEEP_VOID(a) { ACT_KEEP, K_VOID, (a), NULL }
#define DROP { ACT_DROP, 0, 0, NULL }

/*
 * The output must parse back into the tree we checked, so no element is
 * simply unwrapped (its tag dropped, its content kept): the parser's
 * rules look at the stack of open elements (an <li> inside <menu> does
 * not close the outer <li>, an <h2> right inside an <h1> closes it), and
 * taking an element out of the stack changes what they do. Instead:
 *   - every tag not listed, an "ordinary" element to the parser (unknown
 *     and custom elements, label, bdo, picture, ...), is written as a
 *     <span>, which the parser treats exactly alike, with only the
 *     global attributes;
 *   - "special" elements (the parser's term) are kept (center, marquee,
 *     dir, menu, fieldset, hgroup: harmless without attributes), renamed
 *     to one that parses alike (listing, xmp, plaintext: pre) or dropped
 *     with their content; the formatting elements (font, big, tt,
 *     strike, nobr, ...) are kept, without attributes;
 *   - an <a> or <nobr> inside another (the parser makes that only
 *     through a table, and would not read it back so) becomes a <span>.
 */
static const struct tag_rule tag_rules[GUMBO_TAG_LAST + 1] = {
	/* document structure: written by put_document(); elsewhere, drop */
	[GUMBO_TAG_HTML] = DROP, [GUMBO_TAG_HEAD] = DROP,
	[GUMBO_TAG_BODY] = DROP,
	[GUMBO_TAG_TITLE] = KEEP(0),
	[GUMBO_TAG_STYLE] = { ACT_KEEP, K_STYLE, 0, NULL },
	[GUMBO_TAG_LINK] = { ACT_KEEP, K_LINK, 0, NULL },
	/* sections and grouping */
	[GUMBO_TAG_ARTICLE] = KEEP(0), [GUMBO_TAG_SECTION] = KEEP(0),
	[GUMBO_TAG_NAV] = KEEP(0), [GUMBO_TAG_ASIDE] = KEEP(0),
	[GUMBO_TAG_H1] = KEEP(0), [GUMBO_TAG_H2] = KEEP(0),
	[GUMBO_TAG_H3] = KEEP(0), [GUMBO_TAG_H4] = KEEP(0),
	[GUMBO_TAG_H5] = KEEP(0), [GUMBO_TAG_H6] = KEEP(0),
	[GUMBO_TAG_HGROUP] = KEEP(0), [GUMBO_TAG_HEADER] = KEEP(0),
	[GUMBO_TAG_FOOTER] = KEEP(0), [GUMBO_TAG_ADDRESS] = KEEP(0),
	[GUMBO_TAG_MAIN] = KEEP(0), [GUMBO_TAG_DIV] = KEEP(0),
	[GUMBO_TAG_P] = KEEP(0), [GUMBO_TAG_HR] = KEEP_VOID(0),
	[GUMBO_TAG_PRE] = { ACT_KEEP, K_PRE, 0, NULL },
	[GUMBO_TAG_LISTING] = { ACT_KEEP, K_PRE, 0, "pre" },
	[GUMBO_TAG_XMP] = { ACT_KEEP, K_PRE, 0, "pre" },
	[GUMBO_TAG_PLAINTEXT] = { ACT_KEEP, K_PRE, 0, "pre" },
	[GUMBO_TAG_BLOCKQUOTE] = KEEP(0),
	[GUMBO_TAG_OL] = KEEP(A_START | A_REVERSED | A_TYPE),
	[GUMBO_TAG_UL] = KEEP(0), [GUMBO_TAG_LI] = KEEP(A_VALUE),
	[GUMBO_TAG_MENU] = KEEP(0), [GUMBO_TAG_DIR] = KEEP(0),
	[GUMBO_TAG_DL] = KEEP(0), [GUMBO_TAG_DT] = KEEP(0),
	[GUMBO_TAG_DD] = KEEP(0), [GUMBO_TAG_FIGURE] = KEEP(0),
	[GUMBO_TAG_FIGCAPTION] = KEEP(0), [GUMBO_TAG_CENTER] = KEEP(0),
	[GUMBO_TAG_MARQUEE] = KEEP(0), [GUMBO_TAG_FIELDSET] = KEEP(0),
	[GUMBO_TAG_LEGEND] = KEEP(0), [GUMBO_TAG_DETAILS] = KEEP(A_OPEN),
	[GUMBO_TAG_SUMMARY] = KEEP(0),
	/* text-level */
	[GUMBO_TAG_A] = { ACT_KEEP, K_NO_NEST, A_HREF | A_NAME, NULL },
	[GUMBO_TAG_NOBR] = { ACT_KEEP, K_NO_NEST, 0, NULL },
	[GUMBO_TAG_FONT] = KEEP(0), [GUMBO_TAG_BIG] = KEEP(0),
	[GUMBO_TAG_TT] = KEEP(0), [GUMBO_TAG_STRIKE] = KEEP(0),
	[GUMBO_TAG_EM] = KEEP(0), [GUMBO_TAG_STRONG] = KEEP(0),
	[GUMBO_TAG_SMALL] = KEEP(0), [GUMBO_TAG_S] = KEEP(0),
	[GUMBO_TAG_CITE] = KEEP(0), [GUMBO_TAG_Q] = KEEP(0),
	[GUMBO_TAG_DFN] = KEEP(0), [GUMBO_TAG_ABBR] = KEEP(0),
	[GUMBO_TAG_TIME] = KEEP(A_DATETIME), [GUMBO_TAG_CODE] = KEEP(0),
	[GUMBO_TAG_VAR] = KEEP(0), [GUMBO_TAG_SAMP] = KEEP(0),
	[GUMBO_TAG_KBD] = KEEP(0), [GUMBO_TAG_SUB] = KEEP(0),
	[GUMBO_TAG_SUP] = KEEP(0), [GUMBO_TAG_I] = KEEP(0),
	[GUMBO_TAG_B] = KEEP(0), [GUMBO_TAG_U] = KEEP(0),
	[GUMBO_TAG_MARK] = KEEP(0), [GUMBO_TAG_RUBY] = KEEP(0),
	[GUMBO_TAG_RT] = KEEP(0), [GUMBO_TAG_RP] = KEEP(0),
	[GUMBO_TAG_RB] = KEEP(0), [GUMBO_TAG_RTC] = KEEP(0),
	[GUMBO_TAG_BDI] = KEEP(0), [GUMBO_TAG_SPAN] = KEEP(0),
	[GUMBO_TAG_BR] = KEEP_VOID(0), [GUMBO_TAG_WBR] = KEEP_VOID(0),
	[GUMBO_TAG_INS] = KEEP(A_DATETIME), [GUMBO_TAG_DEL] = KEEP(A_DATETIME),
	/* media: only from keys */
	[GUMBO_TAG_IMG] = { ACT_KEEP, K_NEEDS_SRC,
	    A_SRC | A_ALT | A_WIDTH | A_HEIGHT, NULL },
	[GUMBO_TAG_AUDIO] = KEEP(A_SRC | A_CONTROLS | A_LOOP | A_MUTED),
	[GUMBO_TAG_VIDEO] = KEEP(A_SRC | A_POSTER | A_CONTROLS | A_LOOP |
	    A_MUTED | A_WIDTH | A_HEIGHT),
	[GUMBO_TAG_SOURCE] = { ACT_KEEP, K_NEEDS_SRC, A_SRC, NULL },
	[GUMBO_TAG_TRACK] = { ACT_KEEP, K_NEEDS_SRC,
	    A_SRC | A_KIND | A_SRCLANG | A_LABEL, NULL },
	/* tables */
	[GUMBO_TAG_TABLE] = KEEP(0), [GUMBO_TAG_CAPTION] = KEEP(0),
	[GUMBO_TAG_COLGROUP] = KEEP(A_SPAN), [GUMBO_TAG_COL] = KEEP_VOID(A_SPAN),
	[GUMBO_TAG_TBODY] = KEEP(0), [GUMBO_TAG_THEAD] = KEEP(0),
	[GUMBO_TAG_TFOOT] = KEEP(0), [GUMBO_TAG_TR] = KEEP(0),
	[GUMBO_TAG_TD] = KEEP(A_COLSPAN | A_ROWSPAN),
	[GUMBO_TAG_TH] = KEEP(A_COLSPAN | A_ROWSPAN | A_SCOPE),
	/* scripts, embeds, frames, forms, metadata: dropped with content */
	[GUMBO_TAG_BASE] = DROP, [GUMBO_TAG_META] = DROP,
	[GUMBO_TAG_SCRIPT] = DROP, [GUMBO_TAG_NOSCRIPT] = DROP,
	[GUMBO_TAG_TEMPLATE] = DROP, [GUMBO_TAG_IFRAME] = DROP,
	[GUMBO_TAG_EMBED] = DROP, [GUMBO_TAG_OBJECT] = DROP,
	[GUMBO_TAG_PARAM] = DROP, [GUMBO_TAG_APPLET] = DROP,
	[GUMBO_TAG_CANVAS] = DROP, [GUMBO_TAG_AREA] = DROP,
	[GUMBO_TAG_IMAGE] = DROP, [GUMBO_TAG_FRAME] = DROP,
	[GUMBO_TAG_FRAMESET] = DROP, [GUMBO_TAG_NOFRAMES] = DROP,
	[GUMBO_TAG_NOEMBED] = DROP, [GUMBO_TAG_BGSOUND] = DROP,
	[GUMBO_TAG_BASEFONT] = DROP, [GUMBO_TAG_NEXTID] = DROP,
	[GUMBO_TAG_FORM] = DROP, [GUMBO_TAG_INPUT] = DROP,
	[GUMBO_TAG_BUTTON] = DROP, [GUMBO_TAG_SELECT] = DROP,
	[GUMBO_TAG_DATALIST] = DROP, [GUMBO_TAG_OPTGROUP] = DROP,
	[GUMBO_TAG_OPTION] = DROP, [GUMBO_TAG_TEXTAREA] = DROP,
	[GUMBO_TAG_KEYGEN] = DROP, [GUMBO_TAG_ISINDEX] = DROP,
	[GUMBO_TAG_MENUITEM] = DROP,
	/* foreign content (also dropped by namespace) */
	[GUMBO_TAG_SVG] = DROP, [GUMBO_TAG_MATH] = DROP,
	[GUMBO_TAG_MI] = DROP, [GUMBO_TAG_MO] = DROP, [GUMBO_TAG_MN] = DROP,
	[GUMBO_TAG_MS] = DROP, [GUMBO_TAG_MTEXT] = DROP,
	[GUMBO_TAG_MGLYPH] = DROP, [GUMBO_TAG_MALIGNMARK] = DROP,
	[GUMBO_TAG_ANNOTATION_XML] = DROP, [GUMBO_TAG_FOREIGNOBJECT] = DROP,
	[GUMBO_TAG_DESC] = DROP,
};

/* What an ordinary element not on the list, or a nested <a>, becomes. */
static const struct tag_rule span_rule = { ACT_KEEP, K_PLAIN, 0, "span" };

enum attr_kind { AK_TEXT, AK_URL, AK_STYLE };

struct attr_def {
	const char *name;
	unsigned bit;		/* 0: on every kept element */
	enum attr_kind kind;
};

static const struct attr_def attr_defs[] = {
	{ "id", 0, AK_TEXT }, { "class", 0, AK_TEXT },
	{ "title", 0, AK_TEXT }, { "lang", 0, AK_TEXT },
	{ "dir", 0, AK_TEXT }, { "style", 0, AK_STYLE },
	{ "href", A_HREF, AK_URL }, { "src", A_SRC, AK_URL },
	{ "poster", A_POSTER, AK_URL }, { "name", A_NAME, AK_TEXT },
	{ "alt", A_ALT, AK_TEXT }, { "width", A_WIDTH, AK_TEXT },
	{ "height", A_HEIGHT, AK_TEXT }, { "colspan", A_COLSPAN, AK_TEXT },
	{ "rowspan", A_ROWSPAN, AK_TEXT }, { "start", A_START, AK_TEXT },
	{ "reversed", A_REVERSED, AK_TEXT }, { "type", A_TYPE, AK_TEXT },
	{ "value", A_VALUE, AK_TEXT }, { "controls", A_CONTROLS, AK_TEXT },
	{ "loop", A_LOOP, AK_TEXT }, { "muted", A_MUTED, AK_TEXT },
	{ "kind", A_KIND, AK_TEXT }, { "srclang", A_SRCLANG, AK_TEXT },
	{ "label", A_LABEL, AK_TEXT }, { "datetime", A_DATETIME, AK_TEXT },
	{ "span", A_SPAN, AK_TEXT }, { "open", A_OPEN, AK_TEXT },
	{ "scope", A_SCOPE, AK_TEXT },
};

static const struct attr_def *
attr_find(const char *name, unsigned allowed)
{
	for (size_t i = 0; i < sizeof(attr_defs) / sizeof(attr_defs[0]); i++)
		if (strcmp(attr_defs[i].name, name) == 0)
			return attr_defs[i].bit == 0 ||
			    (attr_defs[i].bit & allowed) ? &attr_defs[i] : NULL;
	return NULL;
}

/* ---- writing ---- */

/* Code points that a parser reading raw text does not keep: CR (read as
 * LF) and those gumbo turns into U+FFFD (controls but tab, LF and FF,
 * and noncharacters), while a character reference to them stays. */
static bool
needs_reference(uint32_t c)
{
	return (c < 0x20 && c != '\t' && c != '\n' && c != '\f') ||
	    (c >= 0x7f && c <= 0x9f) || (c >= 0xfdd0 && c <= 0xfdef) ||
	    (c & 0xfffe) == 0xfffe;
}

/* s escaped for text or (attr) a double-quoted attribute value; bytes
 * that are not UTF-8 and NUL become U+FFFD. */
static void
put_escaped(struct sbuf *b, const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), used;
	char ref[16];
	int32_t c;

	for (size_t i = 0; i < len; i += used) {
		used = 1;
		switch (p[i]) {
		case '&': sbuf_puts(b, "&amp;"); continue;
		case '<': sbuf_puts(b, "&lt;"); continue;
		case '>': sbuf_puts(b, "&gt;"); continue;
		case '"': sbuf_puts(b, attr ? "&quot;" : "\""); continue;
		case '\'': sbuf_puts(b, attr ? "&#39;" : "'"); continue;
		default: break;
		}
		if ((c = sbuf_utf8_decode(p + i, len - i, &used)) < 0) {
			sbuf_put_utf8(b, 0xfffd);
		} else if (needs_reference((uint32_t)c)) {
			snprintf(ref, sizeof(ref), "&#x%X;", (unsigned)c);
			sbuf_puts(b, ref);
		} else {
			sbuf_put(b, p + i, used);
		}
	}
}

static void
put_attr(struct sbuf *b, const char *name, const char *value)
{
	sbuf_putc(b, ' ');
	sbuf_puts(b, name);
	sbuf_puts(b, "=\"");
	put_escaped(b, value, true);
	sbuf_putc(b, '"');
}

/* A fragment as the browser would send it: the URL Standard's fragment
 * percent-encode set (controls, space, " < > `) encoded. */
static void
put_fragment(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || strchr("\"<>`", *p) != NULL) {
			sbuf_putc(b, '%');
			sbuf_putc(b, hex[*p >> 4]);
			sbuf_putc(b, hex[*p & 15]);
		} else {
			sbuf_putc(b, (char)*p);
		}
	}
}

/* ---- URLs ---- */

/* v as the URL parser reads it: ASCII tab and newline removed anywhere,
 * then C0 controls and spaces trimmed at both ends. */
static void
url_normalise(struct sbuf *t, const char *v)
{
	size_t start = 0;

	for (const char *p = v; *p; p++)
		if (*p != '\t' && *p != '\n' && *p != '\r')
			sbuf_putc(t, *p);
	sbuf_putc(t, '\0');
	if (t->err != SBUF_OK)
		return;
	while (start < t->len - 1 && (unsigned char)t->data[start] <= 0x20)
		start++;
	t->len--;
	while (t->len > start && (unsigned char)t->data[t->len - 1] <= 0x20)
		t->len--;
	memmove(t->data, t->data + start, t->len - start);
	t->len -= start;
	t->data[t->len] = '\0';
}

/* Where the key starts in CHK@..., /CHK@... or http(s)://host/CHK@...,
 * or NULL. The host is not checked: a link to a key through another
 * gateway is a link to the key. */
static const char *
url_key_start(const char *s)
{
	if (strncmp(s, "CHK@", 4) == 0)
		return s;
	if (s[0] == '/' && strncmp(s + 1, "CHK@", 4) == 0)
		return s + 1;
	if (strncasecmp(s, "http://", 7) == 0)
		s += 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		s += 8;
	else
		return NULL;
	s += strcspn(s, "/\\?#");
	return s[0] == '/' && strncmp(s + 1, "CHK@", 4) == 0 ? s + 1 : NULL;
}

/* Writes the gateway's form of URL v to b: 1; or 0 if v is not allowed
 * (anything but a key, or "#fragment" when fragment_ok); or HTML_ENOMEM. */
static int
url_rewrite(struct sbuf *b, const char *v, bool fragment_ok)
{
	char canon[URI_MAX_LEN];
	const char *key, *frag;
	struct sbuf t;
	struct uri u;
	int rc = 0;

	sbuf_init(&t, SIZE_MAX / 2);
	url_normalise(&t, v);
	if (t.err != SBUF_OK) {
		rc = HTML_ENOMEM;
		goto done;
	}
	if (t.data[0] == '#') {
		if (fragment_ok) {
			sbuf_putc(b, '#');
			put_fragment(b, t.data + 1);
			rc = 1;
		}
		goto done;
	}
	if ((key = url_key_start(t.data)) == NULL ||
	    uri_parse(&u, key, strcspn(key, "?#")) != URI_OK ||
	    uri_format(&u, canon, sizeof(canon)) != URI_OK)
		goto done;
	sbuf_putc(b, '/');
	sbuf_puts(b, canon);
	if ((frag = strchr(key, '#')) != NULL) {
		sbuf_putc(b, '#');
		put_fragment(b, frag + 1);
	}
	rc = 1;
done:
	sbuf_free(&t);
	return rc;
}

/* ---- elements ---- */

/* A URL attribute: 1 if written, 0 if refused, or HTML_ENOMEM. */
static int
put_url_attr(struct sbuf *b, const char *name, const char *value,
    bool fragment_ok)
{
	struct sbuf t;
	int rc;

	sbuf_init(&t, SIZE_MAX / 2);
	rc = url_rewrite(&t, value, fragment_ok);
	if (rc == 1 && t.err == SBUF_OK) {
		sbuf_putc(&t, '\0');
		if (t.err == SBUF_OK)
			put_attr(b, name, t.data);
	}
	if (t.err != SBUF_OK)
		rc = HTML_ENOMEM;
	sbuf_free(&t);
	return rc;
}

static int
put_style_attr(struct sbuf *b, const char *value)
{
	char *css;
	size_t n;
	int rc = css_filter_inline(value, strlen(value), &css, &n);

	if (rc == CSS_ENOMEM)
		return HTML_ENOMEM;
	if (rc != CSS_OK)
		return 0;
	if (n > 0)
		put_attr(b, "style", css);
	free(css);
	return 0;
}

/* The allowed attributes of el. *has_src: a src was written. */
static int
put_attrs(struct sbuf *b, const GumboElement *el, unsigned allowed,
    bool *has_src)
{
	for (unsigned i = 0; i < el->attributes.length; i++) {
		const GumboAttribute *a = el->attributes.data[i];
		const struct attr_def *d;
		int rc = 0;

		if (a->attr_namespace != GUMBO_ATTR_NAMESPACE_NONE ||
		    (d = attr_find(a->name, allowed)) == NULL)
			continue;
		if (d->kind == AK_TEXT) {
			put_attr(b, d->name, a->value);
		} else if (d->kind == AK_STYLE) {
			rc = put_style_attr(b, a->value);
		} else {
			rc = put_url_attr(b, d->name, a->value,
			    d->bit == A_HREF);
			if (rc == 1 && d->bit == A_SRC)
				*has_src = true;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* <style>: its text through the CSS filter; nothing if that is empty. */
static int
put_style(struct html_ctx *cx, const GumboNode *n)
{
	const GumboVector *kids = &n->v.element.children;
	struct sbuf text;
	char *css = NULL;
	size_t len = 0;
	int rc = 0;

	sbuf_init(&text, SIZE_MAX / 2);
	for (unsigned i = 0; i < kids->length; i++) {
		const GumboNode *k = kids->data[i];

		if (k->type == GUMBO_NODE_TEXT ||
		    k->type == GUMBO_NODE_WHITESPACE)
			sbuf_puts(&text, k->v.text.text);
	}
	if (text.err != SBUF_OK) {
		rc = HTML_ENOMEM;
		goto done;
	}
	rc = css_filter_sheet(text.data, text.len, &css, &len);
	if (rc == CSS_ENOMEM) {
		rc = HTML_ENOMEM;
		goto done;
	}
	if (rc == CSS_OK && len > 0) {
		/* No '<' in css (css.h): it cannot end the element. */
		sbuf_puts(&cx->out, "<style>");
		sbuf_put(&cx->out, css, len);
		sbuf_puts(&cx->out, "</style>");
		cx->pre_start = false;
	}
	rc = 0;
done:
	free(css);
	sbuf_free(&text);
	return rc;
}

/* <link>: kept only as a style sheet from a key, which the gateway will
 * filter in turn when the browser asks for it. */
static int
put_link(struct html_ctx *cx, const GumboNode *n)
{
	const GumboVector *attrs = &n->v.element.attributes;
	const GumboAttribute *rel = gumbo_get_attribute(attrs, "rel");
	const GumboAttribute *href = gumbo_get_attribute(attrs, "href");
	const char *r;
	size_t mark = cx->out.len, len;
	int rc;

	if (rel == NULL || href == NULL)
		return 0;
	r = rel->value + strspn(rel->value, " \t\n\f\r");
	len = strlen(r);
	while (len > 0 && strchr(" \t\n\f\r", r[len - 1]) != NULL)
		len--;
	if (len != 10 || strncasecmp(r, "stylesheet", 10) != 0)
		return 0;
	sbuf_puts(&cx->out, "<link rel=\"stylesheet\"");
	rc = put_url_attr(&cx->out, "href", href->value, false);
	if (rc != 1) {
		sbuf_truncate(&cx->out, mark);
		return rc < 0 ? rc : 0;
	}
	sbuf_putc(&cx->out, '>');
	cx->pre_start = false;
	return 0;
}

static const char *
tag_name(const GumboElement *el, const struct tag_rule *r)
{
	return r->name != NULL ? r->name : gumbo_normalized_tagname(el->tag);
}

/* The start tag of a kept element: 1 written, 0 dropped (no valid src
 * where one is needed), or an error. */
static int
put_start_tag(struct html_ctx *cx, const GumboElement *el,
    const struct tag_rule *r)
{
	size_t mark = cx->out.len;
	bool has_src = false;
	int rc;

	sbuf_putc(&cx->out, '<');
	sbuf_puts(&cx->out, tag_name(el, r));
	if ((rc = put_attrs(&cx->out, el, r->attrs, &has_src)) < 0)
		return rc;
	if (r->kind == K_NEEDS_SRC && !has_src) {
		sbuf_truncate(&cx->out, mark);
		return 0;
	}
	sbuf_putc(&cx->out, '>');
	cx->pre_start = r->kind == K_PRE;
	return 1;
}

/* Text. Right after <pre> the parser drops one leading newline, so a
 * text that starts with one gets another in front. */
static void
put_text(struct html_ctx *cx, const char *s)
{
	if (s[0] == '\0')
		return;
	if (cx->pre_start && s[0] == '\n')
		sbuf_putc(&cx->out, '\n');
	cx->pre_start = false;
	put_escaped(&cx->out, s, false);
}

/* ---- the walk ---- */

struct frame {
	const GumboNode *node;
	unsigned next;		/* the next child to visit */
	const struct tag_rule *open;	/* end tag to write, or NULL */
	GumboTag tag;		/* the element as written */
	int *nest;		/* cx->open_a or _nobr, or NULL */
};

struct walk {
	struct frame *f;
	size_t n, cap;
};

static int
walk_push(struct html_ctx *cx, struct walk *w, const GumboNode *node,
    const struct tag_rule *open, GumboTag tag, int *nest)
{
	struct frame *f;

	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;

		if ((f = arena_alloc(&cx->arena, cap * sizeof(*f))) == NULL)
			return cx->arena.err;
		if (w->n > 0)
			memcpy(f, w->f, w->n * sizeof(*f));
		w->f = f;
		w->cap = cap;
	}
	w->f[w->n++] = (struct frame){ node, 0, open, tag, nest };
	if (open != NULL)
		cx->depth++;
	if (nest != NULL)
		(*nest)++;
	return 0;
}

/* ---- how the parser will read the output back ----
 *
 * Trees the parser builds do not always read back the same from their
 * own serialisation: the adoption agency and foster parenting can put
 * an <li> inside an <a> inside an <li>, or a <div> inside a <b> inside a
 * <p>, and a start tag of these closes elements still open when read
 * again. So before writing a start tag we ask what the parser would do
 * with it given the elements we have open (the rules of "in body" that
 * pop elements on a start tag), and if it would close any, the element
 * is written as a <span>, which closes nothing. The output then reads
 * back as the tree that was checked, and filtering it again gives it
 * back unchanged.
 */

static bool
is_heading(GumboTag t)
{
	return t == GUMBO_TAG_H1 || t == GUMBO_TAG_H2 || t == GUMBO_TAG_H3 ||
	    t == GUMBO_TAG_H4 || t == GUMBO_TAG_H5 || t == GUMBO_TAG_H6;
}

/* Start tags that close an open <p> in button scope. */
static bool
closes_p(GumboTag t)
{
	switch (t) {
	case GUMBO_TAG_ADDRESS: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE:
	case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_CENTER:
	case GUMBO_TAG_DETAILS: case GUMBO_TAG_DIR: case GUMBO_TAG_DIV:
	case GUMBO_TAG_DL: case GUMBO_TAG_FIELDSET: case GUMBO_TAG_FIGCAPTION:
	case GUMBO_TAG_FIGURE: case GUMBO_TAG_FOOTER: case GUMBO_TAG_HEADER:
	case GUMBO_TAG_HGROUP: case GUMBO_TAG_MAIN: case GUMBO_TAG_MENU:
	case GUMBO_TAG_NAV: case GUMBO_TAG_OL: case GUMBO_TAG_P:
	case GUMBO_TAG_SECTION: case GUMBO_TAG_SUMMARY: case GUMBO_TAG_UL:
	case GUMBO_TAG_PRE: case GUMBO_TAG_LISTING: case GUMBO_TAG_TABLE:
	case GUMBO_TAG_HR: case GUMBO_TAG_LI: case GUMBO_TAG_DD:
	case GUMBO_TAG_DT:
		return true;
	default:
		return is_heading(t);
	}
}

/* Of the elements we write with content, the parser's "special" ones
 * (headings and closes_p() aside), as both gumbo and today's spec have
 * them: gumbo's list lacks <main>, so an <li> in <main> in <li> closes
 * the outer one for gumbo but not for a browser; treating <main> as
 * ordinary renames such an <li> for both. */
static bool
is_special(GumboTag t)
{
	if (t == GUMBO_TAG_MAIN)
		return false;
	switch (t) {
	case GUMBO_TAG_CAPTION: case GUMBO_TAG_COLGROUP:
	case GUMBO_TAG_MARQUEE: case GUMBO_TAG_STYLE: case GUMBO_TAG_TBODY:
	case GUMBO_TAG_TD: case GUMBO_TAG_TFOOT: case GUMBO_TAG_TH:
	case GUMBO_TAG_THEAD: case GUMBO_TAG_TITLE: case GUMBO_TAG_TR:
	case GUMBO_TAG_BODY: case GUMBO_TAG_HEAD: case GUMBO_TAG_HTML:
		return true;
	default:
		return closes_p(t);
	}
}

/* Where a search for an element "in scope" stops. */
static bool
is_scope_boundary(GumboTag t)
{
	return t == GUMBO_TAG_TABLE || t == GUMBO_TAG_TD ||
	    t == GUMBO_TAG_TH || t == GUMBO_TAG_CAPTION ||
	    t == GUMBO_TAG_MARQUEE || t == GUMBO_TAG_HTML;
}

/* Frame 0 is head or body, below every element written. */
static bool
in_scope(const struct walk *w, GumboTag target)
{
	for (size_t i = w->n; i-- > 1;) {
		if (w->f[i].tag == target)
			return true;
		if (is_scope_boundary(w->f[i].tag))
			return false;
	}
	return false;
}

/* The open <li> (or <dd>, <dt>) that a new one would close. */
static bool
item_open(const struct walk *w, GumboTag a, GumboTag b)
{
	for (size_t i = w->n; i-- > 1;) {
		GumboTag t = w->f[i].tag;

		if (t == a || t == b)
			return true;
		if (is_special(t) && t != GUMBO_TAG_ADDRESS &&
		    t != GUMBO_TAG_DIV && t != GUMBO_TAG_P)
			return false;
	}
	return false;
}

static GumboTag
top_tag(const struct walk *w)
{
	return w->n > 1 ? w->f[w->n - 1].tag : GUMBO_TAG_BODY;
}

/* Inside a table's own elements the parser keeps only their structure
 * (and whitespace, and <style>); anything else it moves out in front
 * of the table (foster parenting). And it ignores the table's parts
 * anywhere but in their place. The adoption agency can leave both kinds
 * in gumbo's tree, which would not read back so: such an element (or
 * text) is dropped. */
static bool
in_table_frame(GumboTag top)
{
	return top == GUMBO_TAG_TABLE || top == GUMBO_TAG_TBODY ||
	    top == GUMBO_TAG_THEAD || top == GUMBO_TAG_TFOOT ||
	    top == GUMBO_TAG_TR || top == GUMBO_TAG_COLGROUP;
}

static bool
table_place_ok(GumboTag top, GumboTag t)
{
	switch (t) {
	case GUMBO_TAG_CAPTION: case GUMBO_TAG_COLGROUP:
	case GUMBO_TAG_TBODY: case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT:
		return top == GUMBO_TAG_TABLE;
	case GUMBO_TAG_TR:
		return top == GUMBO_TAG_TBODY || top == GUMBO_TAG_THEAD ||
		    top == GUMBO_TAG_TFOOT;
	case GUMBO_TAG_TD: case GUMBO_TAG_TH:
		return top == GUMBO_TAG_TR;
	case GUMBO_TAG_COL:
		return top == GUMBO_TAG_COLGROUP;
	case GUMBO_TAG_STYLE:
		return top != GUMBO_TAG_COLGROUP;
	default:
		return !in_table_frame(top);
	}
}

/* Would a start tag t close an element we have open? */
static bool
would_close(const struct walk *w, GumboTag t)
{
	GumboTag top = top_tag(w);

	if (closes_p(t) && in_scope(w, GUMBO_TAG_P))
		return true;
	if (is_heading(t) && is_heading(top))
		return true;
	if (t == GUMBO_TAG_LI)
		return item_open(w, GUMBO_TAG_LI, GUMBO_TAG_LI);
	if (t == GUMBO_TAG_DD || t == GUMBO_TAG_DT)
		return item_open(w, GUMBO_TAG_DD, GUMBO_TAG_DT);
	if (t == GUMBO_TAG_RB || t == GUMBO_TAG_RTC || t == GUMBO_TAG_RP ||
	    t == GUMBO_TAG_RT)	/* "generate implied end tags" */
		return in_scope(w, GUMBO_TAG_RUBY) && (top == GUMBO_TAG_DD ||
		    top == GUMBO_TAG_DT || top == GUMBO_TAG_LI ||
		    top == GUMBO_TAG_P || top == GUMBO_TAG_RB ||
		    top == GUMBO_TAG_RP || top == GUMBO_TAG_RT ||
		    top == GUMBO_TAG_RTC);
	return false;
}

static GumboTag
out_tag(const GumboElement *el, const struct tag_rule *r)
{
	if (r == &span_rule)
		return GUMBO_TAG_SPAN;
	return r->kind == K_PRE ? GUMBO_TAG_PRE : el->tag;
}

static int
visit_element(struct html_ctx *cx, struct walk *w, const GumboNode *n)
{
	const GumboElement *el = &n->v.element;
	const struct tag_rule *r;
	int rc, *nest = NULL;

	if (el->tag_namespace != GUMBO_NAMESPACE_HTML ||
	    (unsigned)el->tag > GUMBO_TAG_LAST)
		return 0;
	r = &tag_rules[el->tag];
	if (r->act == ACT_DROP)
		return 0;
	if (r->act == ACT_SPAN)
		r = &span_rule;
	if (r->kind == K_NO_NEST) {
		nest = el->tag == GUMBO_TAG_A ? &cx->open_a : &cx->open_nobr;
		if (*nest > 0) {
			r = &span_rule;
			nest = NULL;
		}
	}
	if (cx->depth >= HTML_FILTER_MAX_DEPTH)
		return 0;	/* too deep: dropped with its content */
	if (!table_place_ok(top_tag(w), out_tag(el, r)))
		return 0;	/* see in_table_frame() */
	if (r->kind != K_STYLE && r->kind != K_LINK &&
	    would_close(w, out_tag(el, r))) {
		if (r->kind == K_VOID || el->tag == GUMBO_TAG_TABLE)
			return 0;	/* as a span they would lose all sense */
		r = &span_rule;
		nest = NULL;
	}
	if (r->kind == K_STYLE)
		return put_style(cx, n);
	if (r->kind == K_LINK)
		return put_link(cx, n);
	if ((rc = put_start_tag(cx, el, r)) <= 0)
		return rc;
	if (r->kind == K_VOID || r->kind == K_NEEDS_SRC)
		return 0;
	return walk_push(cx, w, n, r, out_tag(el, r), nest);
}

static int
visit(struct html_ctx *cx, struct walk *w, const GumboNode *n)
{
	if (ctx_out_of_time(cx))
		return HTML_ELIMIT;
	switch (n->type) {
	case GUMBO_NODE_TEXT:
		if (in_table_frame(top_tag(w)))
			return 0;	/* it would move out of the table */
		/* FALLTHROUGH */
	case GUMBO_NODE_WHITESPACE:
		put_text(cx, n->v.text.text);
		return 0;
	case GUMBO_NODE_ELEMENT:
		return visit_element(cx, w, n);
	default:		/* comments, CDATA, templates */
		return 0;
	}
}

/* The content of el (head or body), in document order. */
static int
walk_children(struct html_ctx *cx, const GumboNode *el)
{
	struct walk w = { NULL, 0, 0 };
	int rc;

	if ((rc = walk_push(cx, &w, el, NULL, el->v.element.tag, NULL)) != 0)
		return rc;
	while (w.n > 0) {
		struct frame *f = &w.f[w.n - 1];
		const GumboVector *kids = &f->node->v.element.children;

		if (f->next < kids->length) {
			if ((rc = visit(cx, &w, kids->data[f->next++])) != 0)
				return rc;
			continue;
		}
		if (f->open != NULL) {
			sbuf_puts(&cx->out, "</");
			sbuf_puts(&cx->out, tag_name(&f->node->v.element,
			    f->open));
			sbuf_putc(&cx->out, '>');
			cx->pre_start = false;
			cx->depth--;
		}
		if (f->nest != NULL)
			(*f->nest)--;
		w.n--;
	}
	return 0;
}

static const GumboNode *
child_element(const GumboNode *parent, GumboTag tag)
{
	const GumboVector *kids = &parent->v.element.children;

	for (unsigned i = 0; i < kids->length; i++) {
		const GumboNode *k = kids->data[i];

		if (k->type == GUMBO_NODE_ELEMENT && k->v.element.tag == tag)
			return k;
	}
	return NULL;
}

static int
put_document(struct html_ctx *cx, const GumboOutput *g)
{
	const GumboNode *head = child_element(g->root, GUMBO_TAG_HEAD);
	const GumboNode *body = child_element(g->root, GUMBO_TAG_BODY);
	bool unused;
	int rc;

	sbuf_puts(&cx->out, "<!DOCTYPE html>\n<html");
	if ((rc = put_attrs(&cx->out, &g->root->v.element, 0, &unused)) != 0)
		return rc;
	sbuf_puts(&cx->out, "><head><meta charset=\"utf-8\">");
	cx->depth = 2;
	if (head != NULL && (rc = walk_children(cx, head)) != 0)
		return rc;
	sbuf_puts(&cx->out, "</head><body");
	if (body != NULL &&
	    (rc = put_attrs(&cx->out, &body->v.element, 0, &unused)) != 0)
		return rc;
	sbuf_putc(&cx->out, '>');
	if (body != NULL && (rc = walk_children(cx, body)) != 0)
		return rc;
	sbuf_puts(&cx->out, "</body></html>");
	return 0;
}

/* ---- entry points ---- */

/*
 * The output is in no-quirks mode (it starts with <!DOCTYPE html>), so
 * the input is parsed in that mode too: our doctype goes in front of it
 * and any doctype of its own is ignored. Otherwise a document without
 * one would be parsed in quirks mode, where <table> does not close an
 * open <p>, and the browser would build another tree from our output
 * than the one we checked (a <p> around a <table> falls apart).
 */
#define HTML_DOCTYPE "<!DOCTYPE html>"

/*
 * gumbo 0.10.1 (Debian's too) reads one byte past the end of its input
 * when a named reference without ';' ends the input inside an attribute
 * value ("<p title=&amp" at EOF: consume_named_ref() looks at *te with
 * te == end), found by fuzzing with an instrumented gumbo. Our copy of
 * the input has zero bytes after it, so such a read stays in our memory
 * and reads a NUL, which is neither '=' nor alphanumeric: the answer a
 * correct EOF check gives.
 */
#define HTML_INPUT_PAD 16

int
html_filter(const char *in, size_t len, char **out, size_t *out_len)
{
	const size_t dl = strlen(HTML_DOCTYPE);
	struct html_ctx cx;
	GumboOutput *g;
	char *doc;
	int rc;

	if (len > HTML_FILTER_MAX_INPUT)
		return HTML_ETOOBIG;
	if ((doc = malloc(dl + len + HTML_INPUT_PAD)) == NULL)
		return HTML_ENOMEM;
	memcpy(doc, HTML_DOCTYPE, dl);
	if (len > 0)
		memcpy(doc + dl, in, len);
	memset(doc + dl + len, 0, HTML_INPUT_PAD);
	memset(&cx, 0, sizeof(cx));
	cx.stack_base = (uintptr_t)__builtin_frame_address(0);
	cx.deadline_ms = cpu_ms() + HTML_FILTER_MAX_CPU_MS;
	sbuf_init(&cx.out, HTML_FILTER_MAX_OUTPUT);
	if ((g = html_parse(&cx, doc, dl + len)) == NULL)
		rc = cx.err != 0 ? cx.err : HTML_ENOMEM;
	else
		rc = put_document(&cx, g);
	arena_free_all(&cx.arena);
	free(doc);
	if (rc == 0 && cx.out.err != SBUF_OK)
		rc = cx.out.err == SBUF_EFULL ? HTML_ELIMIT : HTML_ENOMEM;
	if (rc != 0) {
		sbuf_free(&cx.out);
		return rc;
	}
	return sbuf_take(&cx.out, out, out_len) == SBUF_OK ? HTML_OK :
	    HTML_ENOMEM;
}

const char *
html_strerror(int err)
{
	switch (err) {
	case HTML_OK: return "no error";
	case HTML_ETOOBIG: return "document too large to filter";
	case HTML_ENOMEM: return "out of memory";
	case HTML_ELIMIT: return "document too complex to filter";
	default: return "unknown HTML filter error";
	}
}
