/* css_token.c - see css_token.h. Section numbers are CSS Syntax 3's. */
#include <string.h>
#include <strings.h>

#include "node/css_token.h"

#define CP_EOF (-1)
#define CP_REPLACEMENT 0xfffd

void
css_lexer_init(struct css_lexer *lx, const char *in, size_t len)
{
	lx->in = (const unsigned char *)(in != NULL ? in : "");
	lx->len = in != NULL ? len : 0;
	lx->pos = 0;
	sbuf_init(&lx->val, SIZE_MAX / 2);
}

void
css_lexer_free(struct css_lexer *lx)
{
	sbuf_free(&lx->val);
}

/* The code point at byte pos after preprocessing (3.3), and its length
 * in bytes in *adv; CP_EOF at the end. */
static int32_t
lx_cp_at(const struct css_lexer *lx, size_t pos, size_t *adv)
{
	const unsigned char *s = lx->in + pos;
	int32_t cp;

	*adv = 0;
	if (pos >= lx->len)
		return CP_EOF;
	*adv = 1;
	if (s[0] == '\r') {
		if (lx->len - pos > 1 && s[1] == '\n')
			*adv = 2;
		return '\n';
	}
	if (s[0] == '\f')
		return '\n';
	if (s[0] == '\0')
		return CP_REPLACEMENT;
	cp = sbuf_utf8_decode(s, lx->len - pos, adv);
	return cp < 0 ? CP_REPLACEMENT : cp;
}

/* The k-th code point ahead (k = 0 is the next one). */
static int32_t
lx_peek(const struct css_lexer *lx, int k)
{
	size_t pos = lx->pos, adv;
	int32_t cp = CP_EOF;

	for (int i = 0; i <= k; i++) {
		cp = lx_cp_at(lx, pos, &adv);
		pos += adv;
	}
	return cp;
}

static int32_t
lx_take(struct css_lexer *lx)
{
	size_t adv;
	int32_t cp = lx_cp_at(lx, lx->pos, &adv);

	lx->pos += adv;
	return cp;
}

static bool
is_digit(int32_t c)
{
	return c >= '0' && c <= '9';
}

static bool
is_hex(int32_t c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_ws(int32_t c)
{
	return c == '\n' || c == '\t' || c == ' ';
}

static bool
is_nonprintable(int32_t c)
{
	return (c >= 0 && c <= 8) || c == 0x0b || (c >= 0x0e && c <= 0x1f) ||
	    c == 0x7f;
}

bool
css_is_name_start_cp(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    c >= 0x80 || c == '_';
}

bool
css_is_name_cp(uint32_t c)
{
	return css_is_name_start_cp(c) || is_digit((int32_t)c) || c == '-';
}

static bool
name_start(int32_t c)
{
	return c >= 0 && css_is_name_start_cp((uint32_t)c);
}

static bool
name_cp(int32_t c)
{
	return c >= 0 && css_is_name_cp((uint32_t)c);
}

/* 4.3.8 */
static bool
valid_escape(int32_t a, int32_t b)
{
	return a == '\\' && b != '\n';
}

/* 4.3.9 */
static bool
starts_ident(int32_t a, int32_t b, int32_t c)
{
	if (a == '-')
		return name_start(b) || b == '-' || valid_escape(b, c);
	if (name_start(a))
		return true;
	return a == '\\' && valid_escape(a, b);
}

/* 4.3.10 */
static bool
starts_number(int32_t a, int32_t b, int32_t c)
{
	if (a == '+' || a == '-')
		return is_digit(b) || (b == '.' && is_digit(c));
	if (a == '.')
		return is_digit(b);
	return is_digit(a);
}

static bool
lx_starts_ident(const struct css_lexer *lx)
{
	return starts_ident(lx_peek(lx, 0), lx_peek(lx, 1), lx_peek(lx, 2));
}

/* 4.3.7: after the backslash. */
static uint32_t
lx_escaped(struct css_lexer *lx)
{
	int32_t c = lx_take(lx);
	uint32_t v = 0;

	if (c == CP_EOF)
		return CP_REPLACEMENT;
	if (!is_hex(c))
		return (uint32_t)c;
	for (int n = 0;; n++) {
		v = v * 16 + (uint32_t)(is_digit(c) ? c - '0' :
		    (c | 0x20) - 'a' + 10);
		if (n == 5 || !is_hex(lx_peek(lx, 0)))
			break;
		c = lx_take(lx);
	}
	if (is_ws(lx_peek(lx, 0)))
		(void)lx_take(lx);
	if (v == 0 || (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return CP_REPLACEMENT;
	return v;
}

/* 4.3.11: appends an ident sequence to the value. */
static void
lx_ident_seq(struct css_lexer *lx)
{
	for (;;) {
		int32_t c = lx_peek(lx, 0);

		if (name_cp(c)) {
			sbuf_put_utf8(&lx->val, (uint32_t)lx_take(lx));
		} else if (valid_escape(c, lx_peek(lx, 1))) {
			(void)lx_take(lx);
			sbuf_put_utf8(&lx->val, lx_escaped(lx));
		} else {
			return;
		}
	}
}

/* 4.3.12: the number's text is a slice of the input (ASCII). */
static void
lx_number(struct css_lexer *lx, struct css_token *tok)
{
	size_t start = lx->pos;

	if (lx_peek(lx, 0) == '+' || lx_peek(lx, 0) == '-')
		(void)lx_take(lx);
	while (is_digit(lx_peek(lx, 0)))
		(void)lx_take(lx);
	if (lx_peek(lx, 0) == '.' && is_digit(lx_peek(lx, 1))) {
		(void)lx_take(lx);
		while (is_digit(lx_peek(lx, 0)))
			(void)lx_take(lx);
	}
	if ((lx_peek(lx, 0) == 'e' || lx_peek(lx, 0) == 'E') &&
	    (is_digit(lx_peek(lx, 1)) || ((lx_peek(lx, 1) == '+' ||
	    lx_peek(lx, 1) == '-') && is_digit(lx_peek(lx, 2))))) {
		(void)lx_take(lx);
		(void)lx_take(lx);
		while (is_digit(lx_peek(lx, 0)))
			(void)lx_take(lx);
	}
	tok->num = (const char *)lx->in + start;
	tok->numlen = lx->pos - start;
}

/* 4.3.3 */
static void
lx_numeric(struct css_lexer *lx, struct css_token *tok)
{
	lx_number(lx, tok);
	if (lx_starts_ident(lx)) {
		lx_ident_seq(lx);
		tok->type = CSS_TOK_DIMENSION;
	} else if (lx_peek(lx, 0) == '%') {
		(void)lx_take(lx);
		tok->type = CSS_TOK_PERCENTAGE;
	} else {
		tok->type = CSS_TOK_NUMBER;
	}
}

/* 4.3.14: the rest of a bad url, up to and with its ')'. */
static void
lx_bad_url_rest(struct css_lexer *lx)
{
	for (;;) {
		int32_t c = lx_take(lx);

		if (c == ')' || c == CP_EOF)
			return;
		if (valid_escape(c, lx_peek(lx, 0)))
			(void)lx_escaped(lx);
	}
}

/* 4.3.6: after "url(" and its whitespace. The value is not kept: the
 * filter refuses every url token. */
static enum css_tok_type
lx_url(struct css_lexer *lx)
{
	for (;;) {
		int32_t c = lx_take(lx);

		if (c == ')' || c == CP_EOF)
			return CSS_TOK_URL;
		if (is_ws(c)) {
			while (is_ws(lx_peek(lx, 0)))
				(void)lx_take(lx);
			c = lx_peek(lx, 0);
			if (c == ')' || c == CP_EOF) {
				(void)lx_take(lx);
				return CSS_TOK_URL;
			}
			lx_bad_url_rest(lx);
			return CSS_TOK_BAD_URL;
		}
		if (c == '"' || c == '\'' || c == '(' || is_nonprintable(c)) {
			lx_bad_url_rest(lx);
			return CSS_TOK_BAD_URL;
		}
		if (c == '\\') {
			if (!valid_escape(c, lx_peek(lx, 0))) {
				lx_bad_url_rest(lx);
				return CSS_TOK_BAD_URL;
			}
			(void)lx_escaped(lx);
		}
	}
}

/* 4.3.4 */
static enum css_tok_type
lx_ident_like(struct css_lexer *lx)
{
	lx_ident_seq(lx);
	if (lx_peek(lx, 0) != '(')
		return CSS_TOK_IDENT;
	(void)lx_take(lx);
	if (lx->val.len == 3 && strncasecmp(lx->val.data, "url", 3) == 0) {
		while (is_ws(lx_peek(lx, 0)) && is_ws(lx_peek(lx, 1)))
			(void)lx_take(lx);
		int32_t a = lx_peek(lx, 0), b = lx_peek(lx, 1);
		if (a == '"' || a == '\'' || (is_ws(a) &&
		    (b == '"' || b == '\'')))
			return CSS_TOK_FUNCTION;
		while (is_ws(lx_peek(lx, 0)))
			(void)lx_take(lx);
		return lx_url(lx);
	}
	return CSS_TOK_FUNCTION;
}

/* 4.3.5: after the opening quote. */
static enum css_tok_type
lx_string(struct css_lexer *lx, int32_t quote)
{
	for (;;) {
		int32_t c = lx_peek(lx, 0);

		if (c == CP_EOF)
			return CSS_TOK_STRING;
		if (c == '\n')
			return CSS_TOK_BAD_STRING;	/* the newline stays */
		(void)lx_take(lx);
		if (c == quote)
			return CSS_TOK_STRING;
		if (c != '\\') {
			sbuf_put_utf8(&lx->val, (uint32_t)c);
		} else if (lx_peek(lx, 0) == '\n') {
			(void)lx_take(lx);
		} else if (lx_peek(lx, 0) != CP_EOF) {
			sbuf_put_utf8(&lx->val, lx_escaped(lx));
		}
	}
}

/* 4.3.2 */
static void
lx_comments(struct css_lexer *lx)
{
	while (lx_peek(lx, 0) == '/' && lx_peek(lx, 1) == '*') {
		lx->pos += 2;
		for (;;) {
			int32_t c = lx_take(lx);

			if (c == CP_EOF)
				return;
			if (c == '*' && lx_peek(lx, 0) == '/') {
				(void)lx_take(lx);
				break;
			}
		}
	}
}

static enum css_tok_type
lx_punct(int32_t c)
{
	switch (c) {
	case '(': return CSS_TOK_LPAREN;
	case ')': return CSS_TOK_RPAREN;
	case ',': return CSS_TOK_COMMA;
	case ':': return CSS_TOK_COLON;
	case ';': return CSS_TOK_SEMICOLON;
	case '[': return CSS_TOK_LBRACKET;
	case ']': return CSS_TOK_RBRACKET;
	case '{': return CSS_TOK_LBRACE;
	case '}': return CSS_TOK_RBRACE;
	default: return CSS_TOK_DELIM;
	}
}

/* 4.3.1, for a code point c already taken. */
static enum css_tok_type
lx_dispatch(struct css_lexer *lx, int32_t c, size_t at,
    struct css_token *tok)
{
	int32_t a = lx_peek(lx, 0), b = lx_peek(lx, 1);

	if (is_ws(c)) {
		while (is_ws(lx_peek(lx, 0)))
			(void)lx_take(lx);
		return CSS_TOK_WHITESPACE;
	}
	if (c == '"' || c == '\'')
		return lx_string(lx, c);
	if (c == '#' && (name_cp(a) || valid_escape(a, b))) {
		tok->hash_id = starts_ident(a, b, lx_peek(lx, 2));
		lx_ident_seq(lx);
		return CSS_TOK_HASH;
	}
	if ((c == '+' || c == '-' || c == '.') && starts_number(c, a, b)) {
		lx->pos = at;
		lx_numeric(lx, tok);
		return tok->type;
	}
	if (c == '-' && a == '-' && b == '>') {
		lx->pos += 2;
		return CSS_TOK_CDC;
	}
	if (c == '<' && a == '!' && b == '-' && lx_peek(lx, 2) == '-') {
		lx->pos += 3;
		return CSS_TOK_CDO;
	}
	if (c == '@' && starts_ident(a, b, lx_peek(lx, 2))) {
		lx_ident_seq(lx);
		return CSS_TOK_AT_KEYWORD;
	}
	if (is_digit(c)) {
		lx->pos = at;
		lx_numeric(lx, tok);
		return tok->type;
	}
	if (name_start(c) || (c == '-' && starts_ident(c, a, b)) ||
	    valid_escape(c, a)) {
		lx->pos = at;
		return lx_ident_like(lx);
	}
	tok->delim = (uint32_t)c;
	return lx_punct(c);
}

int
css_lexer_next(struct css_lexer *lx, struct css_token *tok)
{
	size_t at;
	int32_t c;

	memset(tok, 0, sizeof(*tok));
	sbuf_truncate(&lx->val, 0);
	lx_comments(lx);
	at = lx->pos;
	if ((c = lx_take(lx)) == CP_EOF) {
		tok->type = CSS_TOK_EOF;
		return 0;
	}
	tok->type = lx_dispatch(lx, c, at, tok);
	if (lx->val.err != SBUF_OK)
		return -1;
	tok->val = lx->val.data != NULL ? lx->val.data : "";
	tok->vlen = lx->val.len;
	return 0;
}
