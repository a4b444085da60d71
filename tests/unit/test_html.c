/*
 * test_html.c - the HTML filter (node/html.h) against hostile documents.
 *
 * Each case gives an input and the exact head and body content that
 * must come out (the frame around them is always the same); "$K" in
 * both stands for a valid key, CHK@... without the "/". Every output is
 * also parsed again and checked against an allow-list written from
 * html.h (tests/filter_check.h), and filtered again: the same bytes must
 * come back. Inputs are handed over in heap buffers of exactly their
 * length, so ASan and valgrind see a read past the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/uri.h"
#include "node/html.h"
#include "tests/filter_check.h"
#include "tests/tap.h"

#define FRAME_HEAD "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"

static char key[URI_MAX_LEN];

/* s with every "$K" replaced by the key. */
static char *
with_key(const char *s)
{
	size_t n = 0, klen = strlen(key);
	char *out = tap_xmalloc(strlen(s) * (klen + 1) + 1);

	for (; *s; s++) {
		if (s[0] == '$' && s[1] == 'K') {
			memcpy(out + n, key, klen);
			n += klen;
			s++;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
	return out;
}

static int
filter(const char *in, size_t len, char **out, size_t *out_len)
{
	char *copy = tap_xmalloc(len);
	int rc;

	memcpy(copy, in, len);
	rc = html_filter(copy, len, out, out_len);
	free(copy);
	return rc;
}

/* The output's own checks: allow-list on the parse of it, idempotence. */
static void
check_output(const char *out, size_t n, const char *what)
{
	const char *why = check_html_output(out, n);

	if (why == NULL)
		why = check_html_again(out, n);
	TAP_OK(why == NULL, "%s: output checks (%s)", what, why ? why : "ok");
}

struct html_case {
	const char *what, *in, *head, *body;
	size_t len;		/* 0: strlen(in) */
};

static const struct html_case cases[] = {
	/* scripts, anywhere */
	{ "script", "<script>alert(1)</script>x", "", "x", 0 },
	{ "script in svg", "<svg><script>alert(1)</script></svg>x", "", "x", 0 },
	{ "script in math", "<math><script>alert(1)</script></math>y", "",
	    "y", 0 },
	{ "svg onload", "<svg onload=alert(1)><circle r=1></svg>z", "", "z", 0 },
	{ "svg use href", "<svg><use href=\"http://x/#a\"/></svg>", "", "", 0 },
	{ "svg animate", "<svg><a><animate attributeName=href "
	    "values=javascript:alert(1) /><text>x</text></a></svg>", "", "", 0 },
	/* javascript: and friends */
	{ "javascript:", "<a href=\"javascript:alert(1)\">x</a>", "",
	    "<a>x</a>", 0 },
	{ "JaVaScRiPt:", "<a href=\"JaVaScRiPt:alert(1)\">x</a>", "",
	    "<a>x</a>", 0 },
	{ "java&#x09;script:", "<a href=\"java&#x09;script:alert(1)\">x</a>",
	    "", "<a>x</a>", 0 },
	{ "java tab script:", "<a href=\"java\tscript:alert(1)\">x</a>", "",
	    "<a>x</a>", 0 },
	{ "&#106;avascript:", "<a href=\"&#106;avascript:alert(1)\">x</a>",
	    "", "<a>x</a>", 0 },
	{ "&#0000106 padded", "<a href=\"&#0000106&#0000097vascript:a\">x</a>",
	    "", "<a>x</a>", 0 },
	{ "leading space and control", "<a href=\" \x01javascript:a\">x</a>",
	    "", "<a>x</a>", 0 },
	{ "data:", "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
	    "", "<a>x</a>", 0 },
	{ "vbscript:", "<a href=\"vbscript:msgbox(1)\">x</a>", "",
	    "<a>x</a>", 0 },
	{ "mailto, relative, protocol-relative",
	    "<a href=\"mailto:a@b\">1</a><a href=\"x.html\">2</a>"
	    "<a href=\"//evil.example/$K\">3</a><a href=\"../$K\">4</a>", "",
	    "<a>1</a><a>2</a><a>3</a><a>4</a>", 0 },
	{ "http to another path", "<a href=\"http://127.0.0.1:8888/x/$K\">"
	    "x</a>", "", "<a>x</a>", 0 },
	/* event handlers */
	{ "on* with odd spacing",
	    "<p onclick=\"alert(1)\" onmouseover =alert(1) ONLOAD= \"x\" "
	    "/onerror=alert(1)>x</p>", "", "<p>x</p>", 0 },
	{ "img onerror", "<img src=x onerror=alert(1)>", "", "", 0 },
	{ "img from a key, onerror", "<img src=\"$K\" onerror=alert(1) alt=a>",
	    "", "<img src=\"/$K\" alt=\"a\">", 0 },
	{ "body onload", "<body onload=alert(1) class=c>x", NULL,
	    FRAME_HEAD "</head><body class=\"c\">x</body></html>", 0 },
	{ "html manifest", "<html lang=en manifest=http://x/m>x", NULL,
	    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "</head><body>x</body></html>", 0 },
	/* base, srcset, meta */
	{ "base", "<base href=\"http://evil.example/\"><a href=\"x\">x</a>", "",
	    "<a>x</a>", 0 },
	{ "srcset", "<img src=\"$K\" srcset=\"http://x/a.png 2x\">", "",
	    "<img src=\"/$K\">", 0 },
	{ "picture source srcset", "<picture><source srcset=\"http://x/a\">"
	    "<img src=\"$K\"></picture>", "", "<span><img src=\"/$K\"></span>",
	    0 },
	{ "meta refresh", "<meta http-equiv=\"refresh\" "
	    "content=\"0;url=http://evil.example/\">x", "", "x", 0 },
	{ "meta refresh in body", "x<meta http-equiv=refresh content=0;url=y>",
	    "", "x", 0 },
	{ "meta charset utf-7", "<meta charset=\"utf-7\">+ADw-script+AD4-"
	    "alert(1)+ADw-/script+AD4-", "",
	    "+ADw-script+AD4-alert(1)+ADw-/script+AD4-", 0 },
	{ "http-equiv content-type", "<meta http-equiv=Content-Type "
	    "content=\"text/html; charset=utf-7\">+ADw-b+AD4-", "",
	    "+ADw-b+AD4-", 0 },
	{ "UTF-16 BOM", "\xff\xfe<\0s\0c\0r\0i\0p\0t\0>\0", "",
	    "\xef\xbf\xbd\xef\xbf\xbd&lt;script&gt;", 18 },
	{ "bytes that are not UTF-8", "<p title=\"\xc0\xaf\">\xed\xa0\x80</p>",
	    "", "<p title=\"\xef\xbf\xbd\xef\xbf\xbd\">\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd</p>", 0 },
	/* embedding */
	{ "iframe", "<iframe src=\"http://x\">y</iframe>x", "", "x", 0 },
	{ "iframe srcdoc", "<iframe srcdoc=\"<script>alert(1)</script>\">"
	    "</iframe>", "", "", 0 },
	{ "object, embed", "<object data=\"x\"><embed src=\"y\">z</object>w",
	    "", "w", 0 },
	{ "applet, frameset", "<applet code=x>a</applet><frameset><frame "
	    "src=x></frameset>", "", "", 0 },
	{ "form action, formaction", "<form action=\"http://x\"><input name=a>"
	    "<button formaction=\"http://y\">b</button></form>w", "", "w", 0 },
	{ "button formaction alone", "<button formaction=\"http://x\">b</button>"
	    "<input type=image src=\"$K\">", "", "", 0 },
	{ "isindex", "<isindex action=\"http://x\">", "", "", 0 },
	/* link */
	{ "link stylesheet elsewhere",
	    "<link rel=stylesheet href=\"http://x/a.css\">", "", "", 0 },
	{ "link stylesheet from a key",
	    "<link rel=\" StyleSheet \" href=\"$K\" media=print>",
	    "<link rel=\"stylesheet\" href=\"/$K\">", "", 0 },
	{ "link preload, prefetch, dns-prefetch, icon",
	    "<link rel=preload href=\"$K\"><link rel=prefetch href=\"$K\">"
	    "<link rel=dns-prefetch href=\"//x\"><link rel=icon href=\"$K\">"
	    "<link rel=\"alternate stylesheet\" href=\"$K\">", "", "", 0 },
	{ "a ping", "<a href=\"$K\" ping=\"http://x\">x</a>", "",
	    "<a href=\"/$K\">x</a>", 0 },
	{ "video poster elsewhere", "<video poster=\"http://x/p.png\" src=\"$K\" "
	    "controls autoplay></video>", "",
	    "<video src=\"/$K\" controls=\"\"></video>", 0 },
	{ "audio sources", "<audio src=\"$K\" controls><source "
	    "src=\"http://x/a.mp3\"><source src=\"$K\"><track src=\"http://x\">"
	    "</audio>", "",
	    "<audio src=\"/$K\" controls=\"\"><source src=\"/$K\"></audio>", 0 },
	{ "background attributes", "<table background=\"http://x\"><tr><td "
	    "background=\"http://y\" colspan=2>a</td></tr></table>", "",
	    "<table><tbody><tr><td colspan=\"2\">a</td></tr></tbody></table>",
	    0 },
	{ "dynsrc, lowsrc, xlink", "<img src=\"$K\" dynsrc=\"http://x\" "
	    "lowsrc=\"http://y\" xlink:href=\"http://z\" data-x=1>", "",
	    "<img src=\"/$K\">", 0 },
	/* CSS in HTML */
	{ "style @import url", "<style>@import url(x);a{color:red}</style>",
	    "<style>a{color:red}\n</style>", "", 0 },
	{ "style @import string", "<style>@import \"x\";</style>", "", "", 0 },
	{ "style attribute url", "<p style=\"background:url(http://x)\">y</p>",
	    "", "<p>y</p>", 0 },
	{ "style attribute kept", "<p style=\"color:red;behavior:url(x);"
	    "position:fixed\">y</p>", "", "<p style=\"color:red\">y</p>", 0 },
	{ "style attribute quotes", "<p style='font-family:\"a\"'>y</p>", "",
	    "<p style=\"font-family:&quot;a&quot;\">y</p>", 0 },
	{ "</style><script> inside a style",
	    "<style>a{font-family:\"</style><script>alert(1)</script>\"}</style>",
	    "<style>a{font-family:\"\"}\n</style>", "\"}", 0 },
	{ "style in body", "x<style>b{color:red}</style>", "",
	    "x<style>b{color:red}\n</style>", 0 },
	/* comments, CDATA, noscript, raw text */
	{ "comment", "<!-- <script>alert(1)</script> -->x", "", "x", 0 },
	{ "conditional comment", "<!--[if IE]><script>alert(1)</script>"
	    "<![endif]-->x", "", "x", 0 },
	{ "downlevel-revealed comment", "<![if !IE]><b>x</b><![endif]>", "",
	    "<b>x</b>", 0 },
	{ "CDATA in HTML", "<![CDATA[<script>alert(1)</script>]]>x", "",
	    "alert(1)]]&gt;x", 0 },
	{ "CDATA in svg", "<svg><![CDATA[</svg><script>alert(1)</script>]]>"
	    "</svg>x", "", "x", 0 },
	/* gumbo parses as with scripting off: the p is an element, its
	 * title text (a browser with scripting on reads the noscript as
	 * text and the img as an element: but it never sees this input) */
	{ "noscript attribute trick", "<noscript><p title=\"</noscript><img "
	    "src=x onerror=alert(1)>\"></noscript>", "",
	    "<p title=\"&lt;/noscript&gt;&lt;img src=x onerror=alert(1)&gt;\">"
	    "</p>", 0 },
	{ "noscript in body", "x<noscript><p title=\"</noscript><img "
	    "src=x onerror=alert(1)>\"></noscript>", "", "x", 0 },
	{ "noembed, noframes", "<noembed><img src=x onerror=1></noembed>"
	    "<noframes><img src=x onerror=1></noframes>k", "", "k", 0 },
	{ "xmp, plaintext", "<xmp><b>x</b></xmp><plaintext><a href=x>",
	    "", "<pre>&lt;b&gt;x&lt;/b&gt;</pre><pre>&lt;a href=x&gt;</pre>",
	    0 },
	{ "textarea", "<textarea></textarea><img src=x onerror=1>"
	    "</textarea>", "", "", 0 },
	{ "template", "<template><img src=x onerror=1></template>", "", "", 0 },
	/* mXSS classics */
	{ "svg p style", "<svg><p><style><img src=x onerror=alert(1)>", "",
	    "<p></p>", 0 },
	{ "math mtext table mglyph style",
	    "<math><mtext><table><mglyph><style><!--</style><img title=\""
	    "--&gt;&lt;img src=1 onerror=alert(1)&gt;\">", "", "", 0 },
	{ "title with a tag", "<title></title><img src=x onerror=1></title>",
	    "<title></title>", "", 0 },
	{ "escaped attribute", "<p title='a\"b<c>&amp;d&#39;'>x</p>", "",
	    "<p title=\"a&quot;b&lt;c&gt;&amp;d&#39;\">x</p>", 0 },
	{ "text entities", "&lt;script&gt;&amp;&nbsp;", "",
	    "&lt;script&gt;&amp;\xc2\xa0", 0 },
	/* gumbo reads a byte past its input here: under valgrind this
	 * checks that html_filter() gives it padding to read */
	{ "named reference at the very end of an attribute",
	    "<p title=\"&amp", "", "", 0 },	/* EOF in a tag: no tag */
	{ "named reference at the very end of the text", "x&amp", "",
	    "x&amp;", 0 },
	{ "controls from references", "a&#13;b&#1;<p title=\"&#13;&#x81;"
	    "&#xFFFF;\">", "", "a&#xD;b&#x1;<p title=\"&#xD;&#x81;&#xFFFF;\">"
	    "</p>", 0 },
	/* structure */
	{ "unknown tags as span, presentational ones without attributes",
	    "<foo class=c onclick=x><b>x</b></foo><font color=red>y</font>"
	    "<blink>z</blink>", "",
	    "<span class=\"c\"><b>x</b></span><font>y</font><span>z</span>",
	    0 },
	{ "unwrapping would let h2 close h1", "<h1><foo><h2>x</h2></foo></h1>",
	    "", "<h1><span><h2>x</h2></span></h1>", 0 },
	/* Shapes the parser makes and would not read back: the inner
	 * element is written as a span. */
	{ "li in main in li (foster parenting; gumbo: main not special)",
	    "<li><main><table><li>x", "",
	    "<li><main><span>x</span><table></table></main></li>", 0 },
	{ "li in li (foster parenting)", "<li><table><li>x", "",
	    "<li><span>x</span><table></table></li>", 0 },
	{ "h2 in h1 (foster parenting)", "<h1><table><h2>x", "",
	    "<h1><span>x</span><table></table></h1>", 0 },
	{ "dd in dt (foster parenting)", "<dl><dt><table><dd>x", "",
	    "<dl><dt><span>x</span><table></table></dt></dl>", 0 },
	{ "nested a through a table", "<a href=#1>x<table><a href=#2>y</table>",
	    "", "<a href=\"#1\">x<span>y</span><table></table></a>", 0 },
	{ "pre newline", "<pre>\n\nx</pre><pre><font>\ny</font></pre>", "",
	    "<pre>\n\nx</pre><pre><font>\ny</font></pre>", 0 },
	{ "table", "<table><tr><td>a<td>b</table>", "",
	    "<table><tbody><tr><td>a</td><td>b</td></tr></tbody></table>", 0 },
	{ "quirks: a table closes p (parsed as no-quirks, like the output)",
	    "<p>a<table><tr><td>b</table>", "",
	    "<p>a</p><table><tbody><tr><td>b</td></tr></tbody></table>", 0 },
	{ "doctype of the input ignored", "<!DOCTYPE html PUBLIC \"-//W3C//DTD "
	    "HTML 4.01 Transitional//EN\"><p>a<table></table>", "",
	    "<p>a</p><table></table>", 0 },
	{ "lists in menu", "<ul><li>a<menu><li>b</menu></ul>", "",
	    "<ul><li>a<menu><li>b</li></menu></li></ul>", 0 },
	{ "title kept as text", "<title>a<b></title>x",
	    "<title>a&lt;b&gt;</title>", "x", 0 },
	{ "frameset document", "<frameset><frame src=x></frameset>", "", "",
	    0 },
	{ "empty", "", "", "", 0 },
	/* links to keys */
	{ "key forms", "<a href=\"$K\">1</a><a href=\"/$K\">2</a>"
	    "<a href=\"http://127.0.0.1:8888/$K/a%20b.html#frag\">3</a>"
	    "<a href=\"HTTPS://gw.example/$K?type=text/html#x\">4</a>", "",
	    "<a href=\"/$K\">1</a><a href=\"/$K\">2</a>"
	    "<a href=\"/$K/a%20b.html#frag\">3</a><a href=\"/$K#x\">4</a>", 0 },
	{ "key name made canonical", "<a href=\"/$K/a+b%7e\">x</a>", "",
	    "<a href=\"/$K/a%2Bb~\">x</a>", 0 },
	{ "key with spaces and tabs", "<img src=\" \n$K\t \">", "",
	    "<img src=\"/$K\">", 0 },
	{ "key that does not parse", "<a href=\"CHK@AAAA,BBBB,CCCC\">x</a>"
	    "<a href=\"/CHK@$K\">y</a>", "", "<a>x</a><a>y</a>", 0 },
	{ "fragments", "<a href=\"#top\">1</a><a href=\"#a b&quot;<>\">2</a>"
	    "<img src=\"#x\">", "",
	    "<a href=\"#top\">1</a><a href=\"#a%20b%22%3C%3E\">2</a>", 0 },
	{ "fragment on a key", "<a href=\"$K#a b\">x</a>", "",
	    "<a href=\"/$K#a%20b\">x</a>", 0 },
};

static void
run_case(const struct html_case *c)
{
	char *in, *want, *out = NULL;
	size_t len, n = 0;
	int rc;

	if (c->len != 0) {	/* binary: NULs inside, no key */
		in = tap_xmalloc(c->len);
		memcpy(in, c->in, c->len);
		len = c->len;
	} else {
		in = with_key(c->in);
		len = strlen(in);
	}

	if (c->head == NULL) {
		want = with_key(c->body);
	} else {
		char *head = with_key(c->head), *body = with_key(c->body);

		want = tap_xmalloc(strlen(FRAME_HEAD) + strlen(head) +
		    strlen(body) + 64);
		sprintf(want, FRAME_HEAD "%s</head><body>%s</body></html>",
		    head, body);
		free(head);
		free(body);
	}
	rc = filter(in, len, &out, &n);
	if (!TAP_OK(rc == HTML_OK && strcmp(out, want) == 0, "%s", c->what))
		printf("# want: %s\n#  got: %s (rc %d)\n", want,
		    rc == HTML_OK ? out : "", rc);
	if (rc == HTML_OK) {
		check_output(out, n, c->what);
		free(out);
	}
	free(want);
	free(in);
}

/* n copies of s, then tail. */
static char *
repeat(const char *s, size_t n, const char *tail, size_t *len)
{
	size_t k = strlen(s), t = strlen(tail);
	char *p = tap_xmalloc(n * k + t + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(p + i * k, s, k);
	memcpy(p + n * k, tail, t + 1);
	*len = n * k + t;
	return p;
}

/* A bounded answer: HTML_ELIMIT, or a checked output of bounded size. */
static void
bounded(const char *what, const char *s, size_t n, const char *tail)
{
	size_t len, out_len = 0;
	char *in = repeat(s, n, tail, &len), *out = NULL;
	int rc = html_filter(in, len, &out, &out_len);

	TAP_OK(rc == HTML_ELIMIT || (rc == HTML_OK &&
	    out_len <= 8 * len + 4096), "%s: %s (%zu bytes out)", what,
	    html_strerror(rc), out_len);
	if (rc == HTML_OK) {
		const char *why = check_html_output(out, out_len);

		TAP_OK(why == NULL, "%s: output checks (%s)", what,
		    why ? why : "ok");
		free(out);
	}
	free(in);
}

static void
test_bounds(void)
{
	size_t len = HTML_FILTER_MAX_INPUT + 1, n;
	char *in = tap_xmalloc(len), *out = NULL;
	int rc;

	memset(in, 'a', len);
	TAP_OK(html_filter(in, len, &out, &n) == HTML_ETOOBIG,
	    "2 MiB + 1 is refused");
	rc = html_filter(in, 64 << 10, &out, &n);
	TAP_OK(rc == HTML_OK && n == (64 << 10) +
	    strlen(FRAME_HEAD "</head><body></body></html>"),
	    "64 KiB of text is filtered");
	if (rc == HTML_OK)
		free(out);
	/* Natively about 0.1 s; under valgrind, past the CPU bound. */
	rc = html_filter(in, len - 1, &out, &n);
	TAP_OK(rc == HTML_ELIMIT || (rc == HTML_OK && n == len - 1 +
	    strlen(FRAME_HEAD "</head><body></body></html>")),
	    "2 MiB of text is filtered, or hits the time bound (%s)",
	    html_strerror(rc));
	if (rc == HTML_OK)
		free(out);
	free(in);
	bounded("200 000 nested div", "<div>", 200000, "x");
	bounded("200 000 nested b", "<b>", 200000, "x");
	bounded("200 000 nested unknown", "<x>", 200000, "x");
	/* gumbo frees the body recursively for a late <frameset>. */
	bounded("deep nesting then frameset", "<x>", 200000, "<frameset>");
	bounded("distinct formatting elements reopened", "<b class=a>", 3000,
	    "<p>x<p>x<p>x<p>x<p>x<p>x<p>x<p>x<p>x<p>x<p>x<p>x<p>x<p>x<p>x");
	bounded("1000 nested tables", "<table><tr><td>", 1000, "x");
	TAP_OK(strcmp(html_strerror(HTML_ELIMIT),
	    html_strerror(HTML_ENOMEM)) != 0,
	    "html_strerror tells errors apart");
}

static void
test_depth(void)
{
	size_t len, n;
	char *in = repeat("<div>", HTML_FILTER_MAX_DEPTH + 10, "x", &len);
	char *out = NULL;
	int rc = html_filter(in, len, &out, &n), divs = 0;

	for (const char *p = out; rc == HTML_OK && (p = strstr(p, "<div>"));
	    p++)
		divs++;
	TAP_OK(rc == HTML_OK && divs == HTML_FILTER_MAX_DEPTH - 2 &&
	    strstr(out, "x") == NULL,
	    "elements past HTML_FILTER_MAX_DEPTH go with their content (%d)",
	    divs);
	if (rc == HTML_OK)
		check_output(out, n, "deep divs");
	free(out);
	free(in);
}

static int
make_key(void)
{
	struct uri u;

	memset(&u, 0, sizeof(u));
	memset(u.root.ref.rkey, 0x11, sizeof(u.root.ref.rkey));
	memset(u.root.ref.ckey, 0x22, sizeof(u.root.ref.ckey));
	u.root.codec = CHK_CODEC_NONE;
	u.root.data_len = u.root.stream_len = 5;
	if (uri_format(&u, key, sizeof(key)) != URI_OK ||
	    uri_parse(&u, key, strlen(key)) != URI_OK) {
		printf("Bail out! cannot make a test key\n");
		return -1;
	}
	return 0;
}

int
main(void)
{
	if (make_key() != 0)
		return 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_depth();
	test_bounds();
	return tap_done();
}
