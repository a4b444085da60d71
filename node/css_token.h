/*
 * css_token.h - a CSS tokenizer, as CSS Syntax Level 3 section 4 says
 * (https://www.w3.org/TR/css-syntax-3/#tokenization).
 *
 * It sees what a browser sees: the input is preprocessed (CR LF, CR and
 * FF become LF, NUL and bytes that are not UTF-8 become U+FFFD), escapes
 * are decoded (so `u\72l(` is a url token), comments vanish, and url(,
 * bad-url and bad-string tokens come out as the browser would make them.
 * The filter in css.c decides on these tokens, never on raw bytes.
 *
 * A token's val (ident, function, at-keyword, hash, string, dimension
 * unit; decoded, valid UTF-8, not NUL-terminated) and num (the number's
 * text, taken from the input: ASCII only) point into the lexer or the
 * input and stay valid until the next css_lexer_next() call. delim is the
 * code point of a delim token.
 *
 * Work is linear in the input; memory is one buffer as long as the
 * longest token. css_lexer_next() never reads past len.
 * Errors: css_lexer_next() returns 0, or -1 when it could not grow its
 * buffer (out of memory); EOF is a token (CSS_TOK_EOF), returned again on
 * every later call. css_lexer_free() accepts a lexer that never grew.
 */
#ifndef UMBRA_CSS_TOKEN_H
#define UMBRA_CSS_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/sbuf.h"

enum css_tok_type {
	CSS_TOK_EOF = 0,
	CSS_TOK_IDENT, CSS_TOK_FUNCTION, CSS_TOK_AT_KEYWORD, CSS_TOK_HASH,
	CSS_TOK_STRING, CSS_TOK_BAD_STRING, CSS_TOK_URL, CSS_TOK_BAD_URL,
	CSS_TOK_DELIM, CSS_TOK_NUMBER, CSS_TOK_PERCENTAGE, CSS_TOK_DIMENSION,
	CSS_TOK_WHITESPACE, CSS_TOK_CDO, CSS_TOK_CDC, CSS_TOK_COLON,
	CSS_TOK_SEMICOLON, CSS_TOK_COMMA, CSS_TOK_LBRACKET, CSS_TOK_RBRACKET,
	CSS_TOK_LPAREN, CSS_TOK_RPAREN, CSS_TOK_LBRACE, CSS_TOK_RBRACE,
};

struct css_token {
	enum css_tok_type type;
	const char *val;	/* decoded value; see above */
	size_t vlen;
	const char *num;	/* number, percentage, dimension: its text */
	size_t numlen;
	uint32_t delim;		/* CSS_TOK_DELIM: the code point */
	bool hash_id;		/* CSS_TOK_HASH: type flag "id" */
};

struct css_lexer {
	const unsigned char *in;
	size_t len, pos;
	struct sbuf val;	/* the current token's decoded value */
};

void css_lexer_init(struct css_lexer *lx, const char *in, size_t len);
void css_lexer_free(struct css_lexer *lx);
int css_lexer_next(struct css_lexer *lx, struct css_token *tok)
	__attribute__((warn_unused_result));

/* Whether cp may appear unescaped in an ident sequence (name code
 * point), and whether it may start one (ident-start code point). */
bool css_is_name_cp(uint32_t cp);
bool css_is_name_start_cp(uint32_t cp);

#endif
