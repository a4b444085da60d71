/*
 * css.h - the CSS filter of the browser gateway (issue 7).
 *
 * Turns a style sheet (a <style> element's text, or a text/css document)
 * or a style="" attribute's value into CSS that cannot make the browser
 * fetch anything: the input is tokenized as CSS Syntax Level 3 says (what
 * the browser sees, escapes decoded: css_token.h), and what comes out is
 * written anew from the tokens that passed an allow-list, never copied:
 *
 *   - rules: style rules whose selector uses only plain selector tokens
 *     and the functions not, is, where, has, nth-*, lang, dir; @media
 *     (nested at most CSS_FILTER_MAX_MEDIA_DEPTH deep) holding such rules;
 *     every other at-rule (@import, @font-face, @namespace, @charset,
 *     @supports, @keyframes, @page, ...) is dropped with its block;
 *   - declarations: only allow-listed properties (css.c), and only values
 *     made of idents, numbers, strings, hashes, commas, the operators
 *     / + - *, parentheses, !important and the functions rgb, rgba, hsl,
 *     hsla, hwb, calc, min, max, clamp and the four gradients: any url(),
 *     bad url, bad string, other function (image-set, expression, var,
 *     element, paint, attr, ...) or other token drops the declaration;
 *     position: fixed is dropped (it pins an overlay over the page);
 *   - output: ASCII punctuation is written only where it is syntax;
 *     idents and strings are escaped so that they read back as the same
 *     tokens, and '<' is always written as the escape "\3c ", so the
 *     output never holds '<' and cannot end a <style> element; it is
 *     valid UTF-8; filtering it again gives it back byte for byte.
 *
 * Bounds: input at most CSS_FILTER_MAX_INPUT bytes (else CSS_ETOOBIG);
 * work linear in the input; blocks nested at most CSS_FILTER_MAX_NESTING
 * deep (deeper: the rest of the input is dropped, what came before is
 * kept); output at most 4 * len + 64 bytes. No global mutable state:
 * safe on any thread.
 *
 * Ownership and errors: each function returns 0 and a malloc'd,
 * NUL-terminated *out (possibly empty; free() it) of length *out_len, or
 * a negative CSS_E* code with *out untouched. in may be NULL when len is
 * 0; no byte past in[len - 1] is read.
 */
#ifndef UMBRA_CSS_H
#define UMBRA_CSS_H

#include <stddef.h>

#define CSS_FILTER_MAX_INPUT ((size_t)2 << 20)
#define CSS_FILTER_MAX_NESTING 32
#define CSS_FILTER_MAX_MEDIA_DEPTH 4

enum css_err {
	CSS_OK = 0,
	CSS_ENOMEM = -1,
	CSS_ETOOBIG = -2,	/* input over CSS_FILTER_MAX_INPUT */
};

/* A style sheet: rules. */
int css_filter_sheet(const char *in, size_t len, char **out, size_t *out_len)
	__attribute__((warn_unused_result));
/* A style attribute: declarations only; output "name:value;..." */
int css_filter_inline(const char *in, size_t len, char **out,
    size_t *out_len) __attribute__((warn_unused_result));
const char *css_strerror(int err);

#endif
