/*
 * css.c - see css.h.
 *
 * One pass over the token stream, no tree: each item (a selector, an
 * @media prelude, a declaration) is written to the output as its tokens
 * arrive and cut off again (sbuf_truncate) if a later token shows it is
 * not allowed; the rest of a refused item is skipped by the same rules a
 * browser uses to find where it ends (CSS Syntax 3, section 5: blocks
 * nest, ';' and '{' end items only outside them). What is written is
 * built from the decoded tokens, so the browser reads back exactly the
 * tokens that were checked.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "node/css.h"
#include "node/css_token.h"
#include "node/sbuf.h"

/* How an item ended; which tokens end it (outside nested blocks). */
enum item_end { END_SEMI, END_BLOCK, END_CLOSE, END_EOF };
#define ENDS_SEMI 1		/* ';', consumed */
#define ENDS_BRACE 2		/* '{', consumed: a block follows */
#define ENDS_CLOSE 4		/* '}', left for the enclosing block */

/* Token classes for the table of CSS Syntax 3 section 9: which adjacent
 * pairs need a comment between them to stay two tokens. */
enum sep {
	S_NONE, S_IDENT, S_FUNCTION, S_ATKW, S_HASH, S_DIM, S_NUMBER,
	S_PERCENT, S_MINUS, S_DOT, S_PLUS, S_SLASH, S_STAR, S_LPAREN, S_OTHER
};

struct item {
	char closers[CSS_FILTER_MAX_NESTING];	/* of the open blocks */
	int depth;
	bool popped;		/* the last token closed one of them */
	enum item_end end;
};

struct parser {
	struct css_lexer lx;
	struct css_token tok;
	bool unget;		/* hand tok out again */
	bool stop;		/* nesting bound or no memory: act as at EOF */
	bool nomem;
	struct sbuf out;
	enum sep last;		/* class of the last token written */
	bool pending_ws;	/* whitespace to write before the next token */
	int nemit;		/* tokens written in the current item */
};

/* ---- the token stream, and items over it ---- */

static const struct css_token *
p_next(struct parser *p)
{
	if (p->unget) {
		p->unget = false;
		return &p->tok;
	}
	if (p->stop) {
		memset(&p->tok, 0, sizeof(p->tok));
		return &p->tok;
	}
	if (css_lexer_next(&p->lx, &p->tok) != 0) {
		p->nomem = p->stop = true;
		memset(&p->tok, 0, sizeof(p->tok));
	}
	return &p->tok;
}

static char
closer_of(enum css_tok_type t)
{
	switch (t) {
	case CSS_TOK_FUNCTION:
	case CSS_TOK_LPAREN: return ')';
	case CSS_TOK_LBRACKET: return ']';
	case CSS_TOK_LBRACE: return '}';
	default: return 0;
	}
}

static char
closing(enum css_tok_type t)
{
	switch (t) {
	case CSS_TOK_RPAREN: return ')';
	case CSS_TOK_RBRACKET: return ']';
	case CSS_TOK_RBRACE: return '}';
	default: return 0;
	}
}

/* The item's next token, or NULL at its end (it->end says which). */
static const struct css_token *
item_next(struct parser *p, struct item *it, int ends)
{
	const struct css_token *t = p_next(p);
	char c;

	it->popped = false;
	if (t->type == CSS_TOK_EOF) {
		it->end = END_EOF;
		return NULL;
	}
	if (it->depth == 0) {
		if (t->type == CSS_TOK_SEMICOLON && (ends & ENDS_SEMI)) {
			it->end = END_SEMI;
			return NULL;
		}
		if (t->type == CSS_TOK_LBRACE && (ends & ENDS_BRACE)) {
			it->end = END_BLOCK;
			return NULL;
		}
		if (t->type == CSS_TOK_RBRACE && (ends & ENDS_CLOSE)) {
			p->unget = true;
			it->end = END_CLOSE;
			return NULL;
		}
	}
	if ((c = closer_of(t->type)) != 0) {
		if (it->depth == CSS_FILTER_MAX_NESTING) {
			/* Past here we could not tell where blocks end. */
			p->stop = true;
			it->end = END_EOF;
			return NULL;
		}
		it->closers[it->depth++] = c;
	} else if (it->depth > 0 && closing(t->type) ==
	    it->closers[it->depth - 1]) {
		it->depth--;
		it->popped = true;
	}
	return t;
}

static void
skip_item(struct parser *p, struct item *it, int ends)
{
	while (item_next(p, it, ends) != NULL)
		;
}

/* After a '{': up to and with its '}'. */
static void
skip_block(struct parser *p)
{
	struct item it = { .depth = 0 };

	skip_item(p, &it, ENDS_CLOSE);
	if (it.end == END_CLOSE)
		(void)p_next(p);
}

/* ---- writing tokens ---- */

static bool
is_digit(uint32_t c)
{
	return c >= '0' && c <= '9';
}

static void
put_hex_escape(struct sbuf *b, uint32_t cp)
{
	char esc[12];

	snprintf(esc, sizeof(esc), "\\%x ", (unsigned)cp);
	sbuf_puts(b, esc);
}

/* Written as escapes although CSS would take them raw: an HTML parser
 * reading a <style> element turns them into U+FFFD (C1 controls,
 * noncharacters), and '<' could end the element. */
static bool
needs_escape(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '<' ||
	    (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe;
}

enum name_kind { NAME_IDENT, NAME_UNIT, NAME_HASH };

/* An ident sequence, written so that it reads back as the same value:
 * name code points as they are, anything else as a hex escape; as an
 * ident (or a unit), also a leading digit, a digit after a leading '-'
 * and a lone '-'; as a unit, an 'e' that would read as an exponent. */
static void
put_name(struct sbuf *b, const char *val, size_t vlen, enum name_kind kind)
{
	const unsigned char *s = (const unsigned char *)val;
	size_t i = 0, used;

	for (int k = 0; i < vlen; k++, i += used) {
		int32_t c = sbuf_utf8_decode(s + i, vlen - i, &used);
		uint32_t u = c < 0 ? 0xfffd : (uint32_t)c;
		bool esc = !css_is_name_cp(u) || needs_escape(u);

		if (kind != NAME_HASH && ((k == 0 && is_digit(u)) ||
		    (k == 1 && s[0] == '-' && is_digit(u)) ||
		    (k == 0 && u == '-' && vlen == 1)))
			esc = true;
		if (kind == NAME_UNIT && k == 0 && (u == 'e' || u == 'E') &&
		    vlen > 1 && (is_digit(s[1]) || ((s[1] == '+' ||
		    s[1] == '-') && vlen > 2 && is_digit(s[2]))))
			esc = true;
		if (esc)
			put_hex_escape(b, u);
		else
			sbuf_put(b, s + i, used);
	}
}

static void
put_string(struct sbuf *b, const char *val, size_t vlen)
{
	const unsigned char *s = (const unsigned char *)val;
	size_t i = 0, used;

	sbuf_putc(b, '"');
	for (; i < vlen; i += used) {
		int32_t c = sbuf_utf8_decode(s + i, vlen - i, &used);
		uint32_t u = c < 0 ? 0xfffd : (uint32_t)c;

		if (u == '"' || u == '\\') {
			sbuf_putc(b, '\\');
			sbuf_putc(b, (char)u);
		} else if (needs_escape(u)) {
			put_hex_escape(b, u);
		} else {
			sbuf_put(b, s + i, used);
		}
	}
	sbuf_putc(b, '"');
}

static enum sep
sep_of(const struct css_token *t)
{
	switch (t->type) {
	case CSS_TOK_IDENT: return S_IDENT;
	case CSS_TOK_FUNCTION: return S_FUNCTION;
	case CSS_TOK_AT_KEYWORD: return S_ATKW;
	case CSS_TOK_HASH: return S_HASH;
	case CSS_TOK_DIMENSION: return S_DIM;
	case CSS_TOK_NUMBER: return S_NUMBER;
	case CSS_TOK_PERCENTAGE: return S_PERCENT;
	case CSS_TOK_LPAREN: return S_LPAREN;
	case CSS_TOK_DELIM:
		switch (t->delim) {
		case '-': return S_MINUS;
		case '.': return S_DOT;
		case '+': return S_PLUS;
		case '/': return S_SLASH;
		case '*': return S_STAR;
		default: return S_OTHER;
		}
	default: return S_OTHER;
	}
}

static bool
needs_comment(enum sep a, enum sep b)
{
	bool word = b == S_IDENT || b == S_FUNCTION || b == S_MINUS ||
	    b == S_NUMBER || b == S_PERCENT || b == S_DIM;
	bool num = b == S_NUMBER || b == S_PERCENT || b == S_DIM;

	switch (a) {
	case S_IDENT: return word || b == S_LPAREN;
	case S_ATKW: case S_HASH: case S_DIM: case S_MINUS: return word;
	case S_NUMBER: return word && b != S_MINUS;
	case S_DOT: case S_PLUS: return num;
	case S_SLASH: return b == S_STAR;
	default: return false;
	}
}

/* A number written with a '+' sign cannot merge with what is before
 * it ('+' is no name code point, and a number never ends in a digit
 * that it could extend), so the table's rows for numbers do not apply:
 * "2n+1" stays as it is. */
static bool
plus_number(const struct css_token *t)
{
	return (t->type == CSS_TOK_NUMBER || t->type == CSS_TOK_PERCENTAGE ||
	    t->type == CSS_TOK_DIMENSION) && t->numlen > 0 && t->num[0] == '+';
}

static void
item_begin(struct parser *p)
{
	p->last = S_NONE;
	p->pending_ws = false;
	p->nemit = 0;
}

static void
emit_raw(struct parser *p, const char *s, enum sep cls)
{
	sbuf_puts(&p->out, s);
	p->last = cls;
}

/* Writes t; a function as the canonical name fname. */
static void
emit(struct parser *p, const struct css_token *t, const char *fname)
{
	struct sbuf *b = &p->out;
	enum sep cls = sep_of(t);

	if (p->pending_ws) {
		sbuf_putc(b, ' ');
		p->pending_ws = false;
	} else if (needs_comment(p->last, cls) && !plus_number(t)) {
		sbuf_puts(b, "/**/");
	}
	switch (t->type) {
	case CSS_TOK_IDENT: put_name(b, t->val, t->vlen, NAME_IDENT); break;
	case CSS_TOK_FUNCTION: sbuf_puts(b, fname); sbuf_putc(b, '('); break;
	case CSS_TOK_HASH:
		sbuf_putc(b, '#');
		put_name(b, t->val, t->vlen, NAME_HASH);
		break;
	case CSS_TOK_STRING: put_string(b, t->val, t->vlen); break;
	case CSS_TOK_NUMBER: sbuf_put(b, t->num, t->numlen); break;
	case CSS_TOK_PERCENTAGE:
		sbuf_put(b, t->num, t->numlen);
		sbuf_putc(b, '%');
		break;
	case CSS_TOK_DIMENSION:
		sbuf_put(b, t->num, t->numlen);
		put_name(b, t->val, t->vlen, NAME_UNIT);
		break;
	case CSS_TOK_DELIM: sbuf_putc(b, (char)t->delim); break;
	case CSS_TOK_COLON: sbuf_putc(b, ':'); break;
	case CSS_TOK_COMMA: sbuf_putc(b, ','); break;
	case CSS_TOK_LPAREN: sbuf_putc(b, '('); break;
	case CSS_TOK_RPAREN: sbuf_putc(b, ')'); break;
	case CSS_TOK_LBRACKET: sbuf_putc(b, '['); break;
	case CSS_TOK_RBRACKET: sbuf_putc(b, ']'); break;
	default: break;		/* never asked to */
	}
	p->last = cls;
	p->nemit++;
}

/* ---- what is allowed ---- */

/* The canonical (lower-case) name in list equal to val ignoring ASCII
 * case, or NULL. */
static const char *
name_in(const char *const *list, const char *val, size_t vlen)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == vlen && strncasecmp(*list, val, vlen) == 0)
			return *list;
	return NULL;
}

static const char *const sel_functions[] = {
	"not", "is", "where", "has", "nth-child", "nth-last-child",
	"nth-of-type", "nth-last-of-type", "lang", "dir", NULL
};

/* None of these can name anything outside the sheet. */
static const char *const value_functions[] = {
	"rgb", "rgba", "hsl", "hsla", "hwb", "calc", "min", "max", "clamp",
	"linear-gradient", "radial-gradient", "repeating-linear-gradient",
	"repeating-radial-gradient", NULL
};

/* Properties whose every value is made of the tokens val_token()
 * admits; none of them takes a URL except through url() or image(),
 * which never pass. Not here, among others: content (text and attr()),
 * cursor, list-style-image, border-image, mask, filter, behavior,
 * -moz-binding, src, custom properties (var() is refused anyway). */
static const char *const properties[] = {
	"color", "opacity", "visibility", "display", "float", "clear",
	"z-index", "overflow", "overflow-x", "overflow-y", "position",
	"top", "right", "bottom", "left",
	"width", "height", "min-width", "min-height", "max-width",
	"max-height", "box-sizing",
	"margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
	"padding", "padding-top", "padding-right", "padding-bottom",
	"padding-left",
	"border", "border-top", "border-right", "border-bottom", "border-left",
	"border-width", "border-style", "border-color",
	"border-top-width", "border-right-width", "border-bottom-width",
	"border-left-width", "border-top-style", "border-right-style",
	"border-bottom-style", "border-left-style", "border-top-color",
	"border-right-color", "border-bottom-color", "border-left-color",
	"border-radius", "border-top-left-radius", "border-top-right-radius",
	"border-bottom-left-radius", "border-bottom-right-radius",
	"border-collapse", "border-spacing",
	"outline", "outline-color", "outline-style", "outline-width",
	"outline-offset", "box-shadow",
	"background", "background-color", "background-image",
	"background-position", "background-repeat", "background-size",
	"background-clip", "background-origin",
	"font", "font-family", "font-size", "font-style", "font-weight",
	"font-variant", "font-stretch", "line-height", "letter-spacing",
	"word-spacing",
	"text-align", "text-decoration", "text-decoration-line",
	"text-decoration-color", "text-decoration-style", "text-indent",
	"text-transform", "text-shadow", "text-overflow", "white-space",
	"word-break", "word-wrap", "overflow-wrap", "hyphens",
	"vertical-align",
	"list-style", "list-style-type", "list-style-position",
	"table-layout", "caption-side", "empty-cells",
	"flex", "flex-direction", "flex-wrap", "flex-flow", "flex-grow",
	"flex-shrink", "flex-basis", "justify-content", "align-items",
	"align-content", "align-self", "order", "gap", "row-gap",
	"column-gap",
	NULL
};

/* position: fixed pins an element over the page whatever the reader
 * scrolls to: the classic fake dialog or fake gateway bar. */
static const char *const positions[] = {
	"static", "relative", "absolute", "sticky", NULL
};

/* What one kind of prelude or value may hold: tokens written as they
 * are, closing brackets (only when they close a block the item opened),
 * delimiters and functions from a list. Anything else refuses it. */
struct token_rule {
	uint32_t plain;			/* 1 << type: written as they are */
	uint32_t closing;		/* 1 << type: if they close a block */
	const char *delims;		/* ASCII delimiters allowed */
	const char *const *functions;	/* names allowed, or NULL */
};

#define TOK(t) (UINT32_C(1) << (t))

static const struct token_rule sel_rule = {
	TOK(CSS_TOK_IDENT) | TOK(CSS_TOK_HASH) | TOK(CSS_TOK_STRING) |
	    TOK(CSS_TOK_NUMBER) | TOK(CSS_TOK_PERCENTAGE) |
	    TOK(CSS_TOK_DIMENSION) | TOK(CSS_TOK_COLON) | TOK(CSS_TOK_COMMA) |
	    TOK(CSS_TOK_LBRACKET),
	TOK(CSS_TOK_RBRACKET) | TOK(CSS_TOK_RPAREN),
	"*.>+~|=^$&-", sel_functions
};

/* Not '<': it could not be written inside <style>. */
static const struct token_rule media_rule = {
	TOK(CSS_TOK_IDENT) | TOK(CSS_TOK_NUMBER) | TOK(CSS_TOK_DIMENSION) |
	    TOK(CSS_TOK_COLON) | TOK(CSS_TOK_COMMA) | TOK(CSS_TOK_LPAREN),
	TOK(CSS_TOK_RPAREN), "/>=", NULL
};

static const struct token_rule val_rule = {
	TOK(CSS_TOK_IDENT) | TOK(CSS_TOK_NUMBER) | TOK(CSS_TOK_PERCENTAGE) |
	    TOK(CSS_TOK_DIMENSION) | TOK(CSS_TOK_STRING) | TOK(CSS_TOK_HASH) |
	    TOK(CSS_TOK_COMMA) | TOK(CSS_TOK_LPAREN),
	TOK(CSS_TOK_RPAREN), "/+-*", value_functions
};

_Static_assert(CSS_TOK_RBRACE < 32, "token types fit the rule masks");

/* Writes t if rule allows it (whitespace: one space before the next
 * token written); false if it refuses the item. */
static bool
rule_token(struct parser *p, const struct token_rule *rule,
    const struct item *it, const struct css_token *t)
{
	const char *f = NULL;

	if (t->type == CSS_TOK_WHITESPACE) {
		if (p->nemit > 0)
			p->pending_ws = true;
		return true;
	}
	if ((unsigned)t->type >= 32)
		return false;
	if (rule->closing & TOK(t->type)) {
		if (!it->popped)
			return false;
	} else if (t->type == CSS_TOK_DELIM) {
		if (t->delim == 0 || t->delim >= 0x80 ||
		    strchr(rule->delims, (int)t->delim) == NULL)
			return false;
	} else if (t->type == CSS_TOK_FUNCTION) {
		if (rule->functions == NULL ||
		    (f = name_in(rule->functions, t->val, t->vlen)) == NULL)
			return false;
	} else if (!(rule->plain & TOK(t->type))) {
		return false;
	}
	emit(p, t, f);
	return true;
}

struct vstate {
	bool position;		/* the property is position */
	int bang;		/* 1 after '!', 2 after "!important" */
};

static bool
val_token(struct parser *p, struct vstate *v, const struct item *it,
    const struct css_token *t)
{
	if (t->type == CSS_TOK_WHITESPACE) {
		if (p->nemit > 0)
			p->pending_ws = true;
		return true;
	}
	if (v->bang == 1 && t->type == CSS_TOK_IDENT && t->vlen == 9 &&
	    strncasecmp(t->val, "important", 9) == 0) {
		v->bang = 2;
		p->pending_ws = false;
		emit_raw(p, "!important", S_IDENT);
		return true;
	}
	if (v->bang != 0)
		return false;
	if (t->type == CSS_TOK_DELIM && t->delim == '!' && it->depth == 0 &&
	    p->nemit > 0) {
		v->bang = 1;
		return true;
	}
	if (v->position)	/* exactly one ident, from the list */
		return t->type == CSS_TOK_IDENT && p->nemit == 0 &&
		    name_in(positions, t->val, t->vlen) != NULL &&
		    (emit(p, t, NULL), true);
	return rule_token(p, &val_rule, it, t);
}

/* ---- rules and declarations ---- */

/* After the name token: the rest of one declaration. Writes it (";"
 * first unless first) and returns true if it is allowed. */
static bool
decl(struct parser *p, const struct css_token *name, int ends, bool first)
{
	const char *prop = name_in(properties, name->val, name->vlen);
	struct vstate v = { .position = prop != NULL &&
	    strcmp(prop, "position") == 0 };
	struct item it = { .depth = 0 };
	const struct css_token *t;
	size_t mark = p->out.len;
	bool ok = prop != NULL, colon = false;

	if (ok) {
		if (!first)
			sbuf_putc(&p->out, ';');
		sbuf_puts(&p->out, prop);
		sbuf_putc(&p->out, ':');
		item_begin(p);
	}
	while ((t = item_next(p, &it, ends)) != NULL) {
		if (!ok)
			continue;
		if (colon)
			ok = val_token(p, &v, &it, t);
		else if (t->type == CSS_TOK_COLON)
			colon = true;
		else if (t->type != CSS_TOK_WHITESPACE)
			ok = false;
	}
	if (ok && colon && p->nemit > 0 && v.bang != 1 && it.depth == 0)
		return true;
	sbuf_truncate(&p->out, mark);
	return false;
}

/* Declarations up to the block's '}' (consumed) or EOF; in a style
 * attribute (!in_block) up to EOF. Returns how many were written. */
static int
decl_list(struct parser *p, bool in_block)
{
	int ends = ENDS_SEMI | (in_block ? ENDS_CLOSE : 0), n = 0;
	struct item it = { .depth = 0 };
	const struct css_token *t;

	for (;;) {
		t = p_next(p);
		switch (t->type) {
		case CSS_TOK_EOF:
			return n;
		case CSS_TOK_WHITESPACE: case CSS_TOK_SEMICOLON:
			continue;
		case CSS_TOK_IDENT:
			n += decl(p, t, ends, n == 0);
			continue;
		case CSS_TOK_AT_KEYWORD:	/* nested at-rules: none kept */
			it.depth = 0;
			skip_item(p, &it, ends | ENDS_BRACE);
			if (it.end == END_BLOCK)
				skip_block(p);
			continue;
		case CSS_TOK_RBRACE:
			if (in_block)
				return n;
			/* FALLTHROUGH */
		default:		/* not a declaration: skip it */
			p->unget = true;
			it.depth = 0;
			skip_item(p, &it, ends);
			continue;
		}
	}
}

static void rule_list(struct parser *p, int media_depth, bool top);

static void
qualified_rule(struct parser *p, bool top)
{
	int ends = ENDS_BRACE | (top ? 0 : ENDS_CLOSE);
	struct item it = { .depth = 0 };
	const struct css_token *t;
	size_t mark = p->out.len;
	bool ok = true;

	item_begin(p);
	while ((t = item_next(p, &it, ends)) != NULL)
		if (ok)
			ok = rule_token(p, &sel_rule, &it, t);
	if (it.end != END_BLOCK) {
		sbuf_truncate(&p->out, mark);
		return;
	}
	if (!ok || p->nemit == 0 || it.depth != 0) {
		sbuf_truncate(&p->out, mark);
		skip_block(p);
		return;
	}
	sbuf_putc(&p->out, '{');
	if (decl_list(p, true) == 0) {
		sbuf_truncate(&p->out, mark);
		return;
	}
	sbuf_puts(&p->out, top ? "}\n" : "}");
}

static void
at_rule(struct parser *p, const struct css_token *t, int media_depth,
    bool top)
{
	int ends = ENDS_SEMI | ENDS_BRACE | (top ? 0 : ENDS_CLOSE);
	struct item it = { .depth = 0 };
	size_t mark = p->out.len, inner;
	bool ok = t->vlen == 5 && strncasecmp(t->val, "media", 5) == 0 &&
	    media_depth < CSS_FILTER_MAX_MEDIA_DEPTH;

	if (ok) {
		item_begin(p);
		emit_raw(p, "@media", S_ATKW);
		p->pending_ws = true;	/* before the first query token */
	}
	while ((t = item_next(p, &it, ends)) != NULL)
		if (ok)
			ok = rule_token(p, &media_rule, &it, t);
	if (!ok || it.end != END_BLOCK || it.depth != 0) {
		sbuf_truncate(&p->out, mark);
		if (it.end == END_BLOCK)
			skip_block(p);
		return;
	}
	sbuf_putc(&p->out, '{');
	inner = p->out.len;
	rule_list(p, media_depth + 1, false);
	(void)p_next(p);	/* its '}', or EOF again */
	if (p->out.len == inner)
		sbuf_truncate(&p->out, mark);
	else
		sbuf_puts(&p->out, top ? "}\n" : "}");
}

/* Rules up to EOF, or (!top) up to the enclosing block's '}', which is
 * left for the caller. */
static void
rule_list(struct parser *p, int media_depth, bool top)
{
	const struct css_token *t;

	for (;;) {
		t = p_next(p);
		switch (t->type) {
		case CSS_TOK_EOF:
			return;
		case CSS_TOK_WHITESPACE:
			continue;
		case CSS_TOK_CDO: case CSS_TOK_CDC:
			if (top)	/* HTML comment markers: ignored */
				continue;
			break;
		case CSS_TOK_RBRACE:
			if (!top) {
				p->unget = true;
				return;
			}
			break;
		case CSS_TOK_AT_KEYWORD:
			at_rule(p, t, media_depth, top);
			continue;
		default:
			break;
		}
		p->unget = true;
		qualified_rule(p, top);
	}
}

/* ---- entry points ---- */

static int
css_run(const char *in, size_t len, char **out, size_t *out_len,
    bool sheet)
{
	struct parser p;
	int rc;

	if (len > CSS_FILTER_MAX_INPUT)
		return CSS_ETOOBIG;
	memset(&p, 0, sizeof(p));
	css_lexer_init(&p.lx, in, len);
	sbuf_init(&p.out, 4 * len + 64);
	if (sheet)
		rule_list(&p, 0, true);
	else
		(void)decl_list(&p, false);
	css_lexer_free(&p.lx);
	if (p.nomem) {
		sbuf_free(&p.out);
		return CSS_ENOMEM;
	}
	/* SBUF_EFULL would break the documented bound: a bug; say so as
	 * no memory rather than hand out a cut sheet. */
	rc = sbuf_take(&p.out, out, out_len);
	return rc == SBUF_OK ? CSS_OK : CSS_ENOMEM;
}

int
css_filter_sheet(const char *in, size_t len, char **out, size_t *out_len)
{
	return css_run(in, len, out, out_len, true);
}

int
css_filter_inline(const char *in, size_t len, char **out, size_t *out_len)
{
	return css_run(in, len, out, out_len, false);
}

const char *
css_strerror(int err)
{
	switch (err) {
	case CSS_OK: return "no error";
	case CSS_ENOMEM: return "out of memory";
	case CSS_ETOOBIG: return "style sheet too large to filter";
	default: return "unknown CSS filter error";
	}
}
