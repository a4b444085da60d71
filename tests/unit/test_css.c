/*
 * test_css.c - the CSS tokenizer (node/css_token.h) and filter
 * (node/css.h) against hostile style sheets.
 *
 * Each input goes to the filter in a heap buffer of exactly its length
 * (no NUL after it), so AddressSanitizer and valgrind see any read past
 * len. Every output is also checked for the promises of css.h
 * (tests/filter_check.h: nothing that fetches, no '<', and the same
 * bytes when filtered again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/css.h"
#include "node/css_token.h"
#include "tests/filter_check.h"
#include "tests/tap.h"

static char *
copy_of(const char *s, size_t len)
{
	char *c = malloc(len ? len : 1);

	if (c == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	memcpy(c, s, len);
	return c;
}

/* ---- the tokenizer ---- */

static const char *const type_names[] = {
	"EOF", "IDENT", "FUNCTION", "AT", "HASH", "STRING", "BAD_STRING",
	"URL", "BAD_URL", "DELIM", "NUMBER", "PERCENT", "DIM", "WS", "CDO",
	"CDC", ":", ";", ",", "[", "]", "(", ")", "{", "}",
};

/* The tokens of s as "TYPE(value) ...", the value for the types that
 * have one. */
static void
tokens_of(const char *s, size_t len, char *buf, size_t cap)
{
	char *in = copy_of(s, len);
	struct css_lexer lx;
	struct css_token t;
	size_t n = 0;

	buf[0] = '\0';
	css_lexer_init(&lx, in, len);
	for (;;) {
		if (css_lexer_next(&lx, &t) != 0 || t.type == CSS_TOK_EOF)
			break;
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " " : "",
		    type_names[t.type]);
		if (t.type == CSS_TOK_NUMBER || t.type == CSS_TOK_PERCENTAGE ||
		    t.type == CSS_TOK_DIMENSION)
			n += (size_t)snprintf(buf + n, cap - n, "(%.*s%.*s)",
			    (int)t.numlen, t.num, (int)t.vlen, t.val);
		else if (t.vlen > 0)
			n += (size_t)snprintf(buf + n, cap - n, "(%.*s)",
			    (int)t.vlen, t.val);
		else if (t.type == CSS_TOK_DELIM)
			n += (size_t)snprintf(buf + n, cap - n, "(%c)",
			    (char)t.delim);
		if (n >= cap)
			break;
	}
	css_lexer_free(&lx);
	free(in);
}

static const struct {
	const char *in, *want;
} token_cases[] = {
	{ "url(x)", "URL(url)" },
	{ "u\\72l(x)", "URL(url)" },
	{ "URL( x )", "URL(URL)" },
	{ "url( \"x\" )", "FUNCTION(url) WS STRING(x) WS )" },
	{ "url(x y)", "BAD_URL(url)" },
	{ "url(x\"y) a", "BAD_URL(url) WS IDENT(a)" },
	{ "url(x\\)y) a", "URL(url) WS IDENT(a)" },
	{ "u/**/rl(x)", "IDENT(u) FUNCTION(rl) IDENT(x) )" },
	{ "\"a\nb\"", "BAD_STRING(a) WS IDENT(b) STRING" },
	{ "'a\\\nb'", "STRING(ab)" },
	{ "\"\\3c /style\\3e\"", "STRING(</style>)" },
	{ "@\\69mport", "AT(import)" },
	{ "@-x @1", "AT(-x) WS DELIM(@) NUMBER(1)" },
	{ "#1a #a1", "HASH(1a) WS HASH(a1)" },
	{ "1e3 1e3px 1\\65 3 1.5% -.5em +2", "NUMBER(1e3) WS DIM(1e3px) WS "
	    "DIM(1e3) WS PERCENT(1.5) WS DIM(-.5em) WS NUMBER(+2)" },
	{ "<!-- --> <b", "CDO WS CDC WS DELIM(<) IDENT(b)" },
	{ "\\0 \\110000 \\d800", "IDENT(\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd)" },
	{ "a\\\nb", "IDENT(a) DELIM(\\) WS IDENT(b)" },
	{ "/* open comment", "" },
	{ "a/**/b", "IDENT(a) IDENT(b)" },
	{ "-moz-binding:-->", "IDENT(-moz-binding) : CDC" },
	{ "--x:1", "IDENT(--x) : NUMBER(1)" },
	{ "expression(", "FUNCTION(expression)" },
	{ "a\r\nb\fc", "IDENT(a) WS IDENT(b) WS IDENT(c)" },
};

static void
test_tokens(void)
{
	char got[1024];

	for (size_t i = 0; i < sizeof(token_cases) / sizeof(token_cases[0]);
	    i++) {
		tokens_of(token_cases[i].in, strlen(token_cases[i].in), got,
		    sizeof(got));
		if (!TAP_OK(strcmp(got, token_cases[i].want) == 0,
		    "tokens of case %zu", i))
			printf("# want: %s\n#  got: %s\n", token_cases[i].want,
			    got);
	}
	/* A NUL and bytes that are not UTF-8 read as U+FFFD. */
	tokens_of("a\0b\xff", 4, got, sizeof(got));
	TAP_OK(strcmp(got, "IDENT(a\xef\xbf\xbd" "b\xef\xbf\xbd)") == 0,
	    "NUL and a stray byte become U+FFFD");
}

/* ---- the filter ---- */

struct css_case {
	const char *in, *want;
};

static const struct css_case sheet_cases[] = {
	/* plain rules come through, written canonically */
	{ "a { color : red ; }", "a{color:red}\n" },
	{ "p,h1 > em:not(.x) , q[lang|=\"en\"]{margin:0 auto!IMPORTANT}",
	    "p,h1 > em:not(.x) , q[lang|=\"en\"]{margin:0 auto!important}\n" },
	{ "a{font:12px/1.5 \"Times New Roman\",serif;color:#FfF}",
	    "a{font:12px/1.5 \"Times New Roman\",serif;color:#FfF}\n" },
	{ "a{width:calc(100% - 2*3px);color:rgb(1 2 3/50%)}",
	    "a{width:calc(100% - 2*3px);color:rgb(1 2 3/50%)}\n" },
	{ "A{COLOR:Red}", "A{color:Red}\n" },
	{ "a{color:red", "a{color:red}\n" },
	{ "li:nth-child(2n+1){color:red}", "li:nth-child(2n+1){color:red}\n" },
	/* @import in every spelling */
	{ "@import url(x.css);a{color:red}", "a{color:red}\n" },
	{ "@import \"x.css\";", "" },
	{ "@IMPORT 'x'; b{color:blue}", "b{color:blue}\n" },
	{ "@\\69mport \"x\"; a{color:red}", "a{color:red}\n" },
	{ "a{color:red}@import \"late\";", "a{color:red}\n" },
	/* url() in every spelling */
	{ "a{background:url(http://x/)}", "" },
	{ "a{background:url( \"http://x/\" )}", "" },
	{ "a{background:u\\72l(x)}", "" },
	{ "a{background:U\\52L(x)}", "" },
	{ "a{background:u/**/rl(x)}", "" },
	{ "a{background:url(x y);color:red}", "a{color:red}\n" },
	{ "a{background-image:url(x)!important;color:red}",
	    "a{color:red}\n" },
	{ "a{list-style:url(x)}", "" },
	/* other fetching or scripting functions and properties */
	{ "a{color:red;background-image:image-set(\"x.png\" 1x)}",
	    "a{color:red}\n" },
	{ "a{background-image:-webkit-image-set(url(x) 1x)}", "" },
	{ "a{width:expression(alert(1))}", "" },
	{ "a{width:expr\\65ssion(alert(1))}", "" },
	{ "a{-moz-binding:url(x.xml#xss)}", "" },
	{ "a{behavior:url(x.htc)}", "" },
	{ "a{color:var(--x)}", "" },
	{ "a{--x:url(y)}", "" },
	{ "a{background:element(#x)}", "" },
	{ "a{background:paint(x)}", "" },
	{ "a{background:cross-fade(url(a),url(b))}", "" },
	{ "a{content:url(x)}", "" },
	{ "a{content:attr(title)}", "" },
	{ "a{cursor:url(x),auto}", "" },
	{ "a{filter:url(#f)}", "" },
	{ "a{src:url(x)}", "" },
	{ "a{background-image:linear-gradient(red,url(x))}", "" },
	{ "a{background-image:linear-gradient(red,blue)}",
	    "a{background-image:linear-gradient(red,blue)}\n" },
	/* at-rules other than @media */
	{ "@font-face{font-family:x;src:url(x.woff)}a{font-family:x}",
	    "a{font-family:x}\n" },
	{ "@font-face{font-family:x;unicode-range:U+0-7F;src:local(x)}", "" },
	{ "@namespace url(x);@charset \"utf-7\";a{color:red}",
	    "a{color:red}\n" },
	{ "@supports (color:red){a{color:red}}", "" },
	{ "@keyframes k{from{color:red}}", "" },
	{ "@page{margin:0}", "" },
	{ "@document url(x){a{color:red}}", "" },
	/* @media: kept with its rules filtered */
	{ "@media screen{a{color:red}@import \"x\";b{background:url(x)}}",
	    "@media screen{a{color:red}}\n" },
	{ "@media (min-width:0) and (max-width: 9px){@media print{a{color:red}}}",
	    "@media (min-width:0) and (max-width: 9px){@media print{a{color:red}}}\n" },
	{ "@media url(x){a{color:red}}", "" },
	{ "@media (width < 9px){a{color:red}}", "" },
	{ "@media{a{color:red}", "@media{a{color:red}}\n" },
	{ "@media a{@media b{@media c{@media d{@media e{x{color:red}}}}}}",
	    "" },
	{ "@media a{@media b{@media c{@media d{x{color:red}}}}}",
	    "@media a{@media b{@media c{@media d{x{color:red}}}}}\n" },
	/* values and selectors that are not allowed */
	{ "a{position:fixed;position:relative}", "a{position:relative}\n" },
	{ "a{position:absolute !important}", "a{position:absolute!important}\n" },
	{ "a{color:red !ie}", "" },
	{ "a{color:red!important!important}", "" },
	{ "a{color:}", "" },
	{ "a{color:rgb(1,2,3}", "" },
	{ "a::slotted(b){color:red}", "" },
	{ "a:host-context(b){color:red}", "" },
	{ "a{color:red;b{color:blue}}", "a{color:red}\n" },
	{ "a{color:red;@media x{b{color:blue}}}", "a{color:red}\n" },
	{ "a{color:red}}b{color:blue}", "a{color:red}\n" },
	{ "a{color:red;}}b{color:blue}", "a{color:red}\n" },
	/* the HTML around a <style> */
	{ "<!-- a{color:red} -->", "a{color:red}\n" },
	{ "a{color:red}</style><script>alert(1)</script>", "a{color:red}\n" },
	{ "a{font-family:\"</style><script>\"}",
	    "a{font-family:\"\\3c /style>\\3c script>\"}\n" },
	{ ".\\3c script\\3e{color:red}", ".\\3c script\\3e {color:red}\n" },
	{ "a[title=\"<\"]{color:red}", "a[title=\"\\3c \"]{color:red}\n" },
	/* escapes decoded, then written back so they read the same */
	{ "a{color:\\72 ed}", "a{color:red}\n" },
	{ "a{width:1e3px;height:1\\65 3px}",
	    "a{width:1e3px;height:1\\65 3px}\n" },
	{ "a{margin:1px/**/2px}", "a{margin:1px/**/2px}\n" },
	{ "a{font-family:\\31 x,-\\31 x,\\-}",
	    "a{font-family:\\31 x,-\\31 x,\\2d }\n" },
	{ "a{font-family:\"a\\\"b\\\\c\\a d\"}",
	    "a{font-family:\"a\\\"b\\\\c\\a d\"}\n" },
	{ "#\\31 a{color:red}", "#1a{color:red}\n" },
	/* charset tricks: bytes that are not UTF-8 are U+FFFD */
	{ "a{font-family:\"\xff\xfe\"}",
	    "a{font-family:\"\xef\xbf\xbd\xef\xbf\xbd\"}\n" },
	{ "+ADw-style+AD4-", "" },
	/* what an HTML parser would not read back in a <style> */
	{ "a{font-family:\\85 \\fffe,\"\\9f\"}",
	    "a{font-family:\\85 \\fffe ,\"\\9f \"}\n" },
};

static const struct css_case inline_cases[] = {
	{ "color:red", "color:red" },
	{ " color : red ; margin : 0 auto !important ; ",
	    "color:red;margin:0 auto!important" },
	{ "color: red; background: url(x)", "color:red" },
	{ "background:url(javascript:alert(1))", "" },
	{ "background:url('javascript:alert(1)')", "" },
	{ "width:expression(alert(1))", "" },
	{ "-moz-binding:url(x)", "" },
	{ "behavior:url(x)", "" },
	{ "color:red;}a{color:blue", "color:red" },
	{ "color:red;x{background:url(x)};color:blue", "color:red;color:blue" },
	{ "@import \"x\"; color:red", "color:red" },
	{ "@media x{color:blue} color:red", "color:red" },
	{ "font-family:\"\\3c/style\\3e\"", "font-family:\"\\3c /style>\"" },
	{ "font-family:'a\"b'", "font-family:\"a\\\"b\"" },
	{ "color:red;position:fixed;top:0", "color:red;top:0" },
	{ "background-image:image-set(\"x\" 1x)", "" },
	{ "c\\olor:blue", "color:blue" },
	{ "color:blue;;;", "color:blue" },
	{ "", "" },
};

static void
run_case(const struct css_case *c, bool inl, size_t i)
{
	char *in = copy_of(c->in, strlen(c->in)), *out = NULL;
	size_t n = 0;
	const char *why;
	int rc = inl ? css_filter_inline(in, strlen(c->in), &out, &n) :
	    css_filter_sheet(in, strlen(c->in), &out, &n);

	free(in);
	if (!TAP_OK(rc == CSS_OK && strcmp(out, c->want) == 0,
	    "%s case %zu", inl ? "inline" : "sheet", i)) {
		printf("# in:   %s\n# want: %s\n# got:  %s (rc %d)\n", c->in,
		    c->want, rc == CSS_OK ? out : "", rc);
	}
	if (rc != CSS_OK)
		return;
	why = check_css_output(out, n, inl);
	if (why == NULL)
		why = check_css_again(out, n, inl);
	TAP_OK(why == NULL, "%s case %zu: output checks (%s)",
	    inl ? "inline" : "sheet", i, why ? why : "ok");
	free(out);
}

static void
test_bounds(void)
{
	size_t big = CSS_FILTER_MAX_INPUT + 1, n;
	char *in = malloc(big), *out = NULL;
	int rc;

	if (in == NULL)
		return;
	memset(in, ' ', big);
	TAP_OK(css_filter_sheet(in, big, &out, &n) == CSS_ETOOBIG,
	    "a sheet over CSS_FILTER_MAX_INPUT is refused");
	TAP_OK(css_filter_inline(in, big, &out, &n) == CSS_ETOOBIG,
	    "a style attribute over CSS_FILTER_MAX_INPUT is refused");
	/* 2 MiB of nested blocks: the rule before them stays, the rest is
	 * dropped, quickly and without recursion. */
	memcpy(in, "a{color:red}b{x:", 16);
	memset(in + 16, '(', CSS_FILTER_MAX_INPUT - 16);
	rc = css_filter_sheet(in, CSS_FILTER_MAX_INPUT, &out, &n);
	TAP_OK(rc == CSS_OK && strcmp(out, "a{color:red}\n") == 0,
	    "deeply nested blocks: the rest is dropped");
	if (rc == CSS_OK)
		free(out);
	/* The worst growth: every byte a '<' in a string, 4 bytes out. */
	memcpy(in, "a{font-family:\"", 15);
	memset(in + 15, '<', CSS_FILTER_MAX_INPUT - 15);
	rc = css_filter_sheet(in, CSS_FILTER_MAX_INPUT, &out, &n);
	TAP_OK(rc == CSS_OK && n <= 4 * (size_t)CSS_FILTER_MAX_INPUT + 64 &&
	    n > 3 * (size_t)CSS_FILTER_MAX_INPUT,
	    "output within 4 * len + 64 (%zu)", n);
	if (rc == CSS_OK)
		free(out);
	free(in);
	TAP_OK(css_filter_sheet(NULL, 0, &out, &n) == CSS_OK && n == 0,
	    "NULL and 0 is an empty sheet");
	free(out);
	TAP_OK(strcmp(css_strerror(CSS_ETOOBIG),
	    css_strerror(CSS_ENOMEM)) != 0, "css_strerror tells errors apart");
}

int
main(void)
{
	test_tokens();
	for (size_t i = 0; i < sizeof(sheet_cases) / sizeof(sheet_cases[0]);
	    i++)
		run_case(&sheet_cases[i], false, i);
	for (size_t i = 0; i < sizeof(inline_cases) / sizeof(inline_cases[0]);
	    i++)
		run_case(&inline_cases[i], true, i);
	test_bounds();
	return tap_done();
}
