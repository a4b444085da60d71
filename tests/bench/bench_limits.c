/*
 * bench_limits.c - the machine's own limits, for `make bench` (bench.sh).
 *
 * Measures, on this machine and in this run, what bounds a put and a get:
 * hash and cipher speed on 32 KiB blocks (the one we use and the
 * candidates), a whole block's encode and decode (chk.h), LMDB's batched
 * durable commit and its read (store.h), and zstd level 1 on text.
 *
 * Output: one machine-readable line per measurement, "NAME VALUE", VALUE in
 * MB/s (10^6 bytes of input per second) except names ending in "_ratio"
 * (a plain ratio); lines starting with '#' are for people. bench.sh parses
 * the first kind. Each measurement runs about BENCH_SECONDS (and at most a
 * fixed number of operations) after a short warm-up, and gives its best
 * BENCH_WINDOW window (the machine is often shared); lmdb_batch64 gives
 * the mean over all LMDB_BYTES. The whole program takes about 7 s here.
 * Exit status 0, or 1 if anything failed: every call is checked, and so
 * are the results (the two SHA-256s agree, decode and zstd round-trip,
 * reads return the block written).
 *
 * usage: bench_limits [TMPPARENT]
 *          the LMDB test store goes in a fresh directory under TMPPARENT
 *          (default $TMPDIR, else /tmp), removed at the end;
 *        bench_limits --text BYTES FILE
 *          writes BYTES of the deterministic pseudo-English text that
 *          zstd1_text measures (the same bytes from the start), for the
 *          text-file case of bench.sh.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <zstd.h>

#include "crypto/chk.h"
#include "crypto/chk_encode.h"
#include "store/store.h"

#define BLOCK CHK_BLOCK_SIZE
#define BENCH_SECONDS 0.5
#define BENCH_WINDOW 0.1		/* seconds; BENCH_SECONDS holds 5 */
#define BENCH_MAX_OPS (1u << 20)	/* per measurement, after warm-up */
#define BENCH_WARMUP 16

#define LMDB_BATCH 64			/* as DOCPUT_BATCH */
#define LMDB_BYTES (256ull << 20)	/* unless LMDB_MAX_SECONDS pass first */
#define LMDB_BLOCKS (LMDB_BYTES / BLOCK)
#define LMDB_MAX_SECONDS 30.0		/* a very slow disk: stop early */
#define LMDB_READ_MIN 2048		/* blocks: 64 MiB */

#define MEMCPY_POOL (64u << 20)		/* larger than any cache here */
#define TEXT_SAMPLE (16u << 20)
#define TEXT_SLICE (2u << 20)
#define TEXT_SEED 20240601u

static double
now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fail(const char *what)
{
	fprintf(stderr, "bench_limits: %s failed\n", what);
	exit(1);
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		fail("malloc");
	return p;
}

/* A measurement: bytes over time, in windows of BENCH_WINDOW seconds.
 * The machine line gives the best window, the machine's own speed when
 * other processes leave it alone (this bench often shares its cores);
 * the human line gives the mean too. */
struct meter {
	double t0, w0, best;
	uint64_t bytes, wbytes;
	int windows;
};

static void
meter_start(struct meter *m)
{
	memset(m, 0, sizeof(*m));
	m->t0 = m->w0 = now();
}

/* Counts bytes just done; returns the seconds since meter_start(). */
static double
meter_add(struct meter *m, uint64_t bytes)
{
	double t = now(), rate;

	m->bytes += bytes;
	m->wbytes += bytes;
	if (t - m->w0 >= BENCH_WINDOW) {
		rate = (double)m->wbytes / (t - m->w0) / 1e6;
		if (rate > m->best)
			m->best = rate;
		m->windows++;
		m->w0 = t;
		m->wbytes = 0;
	}
	return t - m->t0;
}

/* Prints "NAME MB/s" (the best window, or the mean if use_mean or if no
 * window was completed) and a human line. */
static void
meter_report(struct meter *m, const char *name, int use_mean,
    const char *note)
{
	double secs = now() - m->t0;
	double mean = secs > 0 ? (double)m->bytes / secs / 1e6 : 0.0;
	double value = use_mean || m->windows == 0 ? mean : m->best;

	printf("%-18s %.1f\n", name, value);
	if (use_mean || m->windows == 0)
		printf("#   %-16s %8.1f MB/s  (mean of %.0f MB in %.2f s; best "
		    "%.1f s window %.1f)", name, value, (double)m->bytes / 1e6,
		    secs, BENCH_WINDOW, m->best);
	else
		printf("#   %-16s %8.1f MB/s  (best %.1f s window; mean %.1f, "
		    "%.0f MB in %.2f s)", name, value, BENCH_WINDOW, mean,
		    (double)m->bytes / 1e6, secs);
	printf("%s%s\n", note ? "  " : "", note ? note : "");
	fflush(stdout);
}

/* Runs op (one op handles bytes_per_op bytes) BENCH_WARMUP times, then
 * until BENCH_SECONDS have passed or BENCH_MAX_OPS were done, and reports.
 * op returns 0, or non-zero on a failure, which ends the program. */
static void
bench_loop(const char *name, int (*op)(void *arg, uint64_t i), void *arg,
    size_t bytes_per_op, const char *note)
{
	struct meter m;
	uint64_t n;

	for (n = 0; n < BENCH_WARMUP; n++)
		if (op(arg, n) != 0)
			fail(name);
	meter_start(&m);
	for (n = 0; n < BENCH_MAX_OPS; n++) {
		if (op(arg, n) != 0)
			fail(name);
		if (meter_add(&m, bytes_per_op) >= BENCH_SECONDS)
			break;
	}
	meter_report(&m, name, 0, note);
}

/* ---- deterministic pseudo-English ---- */

/* Park-Miller minimal standard generator: products stay below 2^46, so
 * the same sequence is easy to reproduce in any language with doubles. */
struct rng {
	uint64_t x;
};

static uint32_t
rng_next(struct rng *r)
{
	r->x = r->x * 16807 % 2147483647;
	return (uint32_t)r->x;
}

static const char *const words[] = {
	"the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he",
	"was", "for", "on", "are", "with", "as", "I", "his", "they", "be",
	"at", "one", "have", "this", "from", "or", "had", "by", "not", "word",
	"but", "what", "some", "we", "can", "out", "other", "were", "all",
	"there", "when", "up", "use", "your", "how", "said", "an", "each",
	"she", "which", "do", "their", "time", "if", "will", "way", "about",
	"many", "then", "them", "write", "would", "like", "so", "these", "her",
	"long", "make", "thing", "see", "him", "two", "has", "look", "more",
	"day", "could", "go", "come", "did", "number", "sound", "no", "most",
	"people", "my", "over", "know", "water", "than", "call", "first",
	"who", "may", "down", "side", "been", "now", "find", "any", "new",
	"work", "part", "take", "get", "place", "made", "live", "where",
	"after", "back", "little", "only", "round", "man", "year", "came",
	"show", "every", "good", "me", "give", "our", "under", "name", "very",
	"through", "just", "form", "sentence", "great", "think", "say",
	"help", "low", "line", "differ", "turn", "cause", "much", "mean",
	"before", "move", "right", "boy", "old", "too", "same", "tell", "does",
	"set", "three", "want", "air", "well", "also", "play", "small", "end",
	"put", "home", "read", "hand", "port", "large", "spell", "add", "even",
	"land", "here", "must", "big", "high", "such", "follow", "act", "why",
	"ask", "men", "change", "went", "light", "kind", "off", "need",
	"house", "picture", "try", "us", "again", "animal", "point", "mother",
	"world", "near", "build", "self", "earth", "father", "head", "stand",
	"own", "page", "should", "country", "found", "answer", "school",
	"grow", "study", "still", "learn", "plant", "cover", "food", "sun",
	"four", "between", "state", "keep", "eye", "never", "last", "let",
	"thought", "city", "tree", "cross", "farm", "hard", "start", "might",
	"story", "saw", "far", "sea", "draw", "left", "late", "run", "while",
	"press", "close", "night", "real", "life", "few", "north", "open",
	"seem", "together", "next", "white", "children", "begin", "got",
	"walk", "example", "ease", "paper", "group", "always", "music",
	"those", "both", "mark", "often", "letter", "until", "mile", "river",
	"car", "feet", "care", "second", "book", "carry", "took", "science",
	"eat", "room", "friend", "began", "idea", "fish", "mountain", "stop",
	"once", "base", "hear", "horse", "cut", "sure", "watch", "color",
	"face", "wood", "main", "enough", "plain", "girl", "usual", "young",
	"ready", "above", "ever", "red", "list", "though", "feel", "talk",
	"bird", "soon", "body", "dog", "family", "direct", "pose", "leave",
	"song", "measure", "door", "product", "black", "short", "numeral",
	"class", "wind", "question", "happen", "complete", "ship", "area",
	"half", "rock", "order", "fire", "south", "problem", "piece", "told",
	"knew", "pass", "since", "top", "whole", "king", "space", "heard",
	"best", "hour", "better", "true", "during", "hundred", "five",
	"remember", "step", "early", "hold", "west", "ground", "interest",
	"reach", "fast", "verb", "sing", "listen", "six", "table", "travel",
	"less", "morning", "ten", "simple", "several", "vowel", "toward",
	"war", "lay", "against", "pattern", "slow", "center", "love", "person",
	"money", "serve", "appear", "road", "map", "rain", "rule", "govern",
	"pull", "cold", "notice", "voice", "unit", "power", "town", "fine",
	"certain", "fly", "fall", "lead", "cry", "dark", "machine", "note",
	"wait", "plan", "figure", "star", "box", "noun", "field", "rest",
	"correct", "able", "pound", "done", "beauty", "drive", "stood",
	"contain", "front", "teach", "week", "final", "gave", "green", "oh",
	"quick", "develop", "ocean", "warm", "free", "minute", "strong",
	"special", "mind", "behind", "clear", "tail", "produce", "fact",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

/* The text generator. A table of TEXT_PHRASES phrases of 1-4 words
 * (words skewed towards the common ones at the start of the list) is made
 * first; then sentences of 2-7 phrases, the first word capitalised, commas
 * now and then, '.', '?' or '!' at the end; paragraphs of 2-7 sentences
 * separated by an empty line. Phrases are picked with a skew too, so the
 * text repeats at the phrase level, as prose does, and zstd level 1 gets
 * a ratio of about 3 to 4 on it. */
#define TEXT_PHRASES 1024
#define TEXT_PHRASE_MAX 64

struct textgen {
	struct rng r;
	char phrase[TEXT_PHRASES][TEXT_PHRASE_MAX];
	int phrases_left;	/* in this sentence */
	int sentences_left;	/* in this paragraph */
};

/* A uniform double in [0, 1). */
static double
rng_unit(struct rng *r)
{
	return (double)(rng_next(r) - 1) / 2147483646.0;
}

static void
textgen_init(struct textgen *g)
{
	g->r.x = TEXT_SEED;
	for (size_t i = 0; i < TEXT_PHRASES; i++) {
		size_t len = 0, n = 1 + rng_next(&g->r) % 4;

		for (size_t j = 0; j < n; j++) {
			double u = rng_unit(&g->r);
			const char *w = words[(size_t)(u * u * (double)NWORDS)];
			size_t wl = strlen(w);

			if (len + wl + 2 > TEXT_PHRASE_MAX)
				break;
			if (len > 0)
				g->phrase[i][len++] = ' ';
			memcpy(g->phrase[i] + len, w, wl);
			len += wl;
		}
		g->phrase[i][len] = '\0';
	}
	g->phrases_left = 0;
	g->sentences_left = 0;
}

/* Appends one phrase with what follows it (at most TEXT_PHRASE_MAX + 2
 * bytes) at p. */
static size_t
textgen_word(struct textgen *g, char *p)
{
	double u = rng_unit(&g->r);
	const char *w = g->phrase[(size_t)(u * u * (double)TEXT_PHRASES)];
	size_t k = strlen(w);
	uint32_t v;
	int first = 0;

	if (g->sentences_left == 0)
		g->sentences_left = 2 + (int)(rng_next(&g->r) % 6);
	if (g->phrases_left == 0) {
		g->phrases_left = 2 + (int)(rng_next(&g->r) % 6);
		first = 1;
	}
	memcpy(p, w, k);
	if (first && p[0] >= 'a' && p[0] <= 'z')
		p[0] = (char)(p[0] - 'a' + 'A');
	if (--g->phrases_left > 0) {
		if (rng_next(&g->r) % 5 == 0)
			p[k++] = ',';
		p[k++] = ' ';
		return k;
	}
	v = rng_next(&g->r) % 10;
	p[k++] = v == 0 ? '?' : v == 1 ? '!' : '.';
	if (--g->sentences_left > 0) {
		p[k++] = ' ';
	} else {
		p[k++] = '\n';
		p[k++] = '\n';
	}
	return k;
}

/* Fills buf with exactly len bytes of text, continuing the stream; the
 * carry holds a word cut at the end of the previous call. */
struct textstream {
	struct textgen g;
	char carry[TEXT_PHRASE_MAX + 8];
	size_t carry_len, carry_off;
};

static void
textstream_fill(struct textstream *s, char *buf, size_t len)
{
	size_t off = 0, take;

	while (off < len) {
		if (s->carry_off == s->carry_len) {
			s->carry_len = textgen_word(&s->g, s->carry);
			s->carry_off = 0;
		}
		take = s->carry_len - s->carry_off;
		if (take > len - off)
			take = len - off;
		memcpy(buf + off, s->carry + s->carry_off, take);
		s->carry_off += take;
		off += take;
	}
}

static void
textstream_init(struct textstream *s)
{
	textgen_init(&s->g);
	s->carry_len = s->carry_off = 0;
}

static int
write_text(const char *bytes_arg, const char *path)
{
	char *end;
	unsigned long long total;
	size_t chunk = 1u << 20, n;
	static struct textstream s;
	char *buf;
	FILE *f;

	errno = 0;
	total = strtoull(bytes_arg, &end, 10);
	if (errno != 0 || end == bytes_arg || *end != '\0') {
		fprintf(stderr, "bench_limits: bad byte count '%s'\n", bytes_arg);
		return 2;
	}
	if ((f = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "bench_limits: %s: %s\n", path, strerror(errno));
		return 1;
	}
	buf = xmalloc(chunk);
	textstream_init(&s);
	while (total > 0) {
		n = total < chunk ? (size_t)total : chunk;
		textstream_fill(&s, buf, n);
		if (fwrite(buf, 1, n, f) != n)
			break;
		total -= n;
	}
	free(buf);
	if (total != 0 || fclose(f) != 0) {
		fprintf(stderr, "bench_limits: writing %s failed\n", path);
		return 1;
	}
	return 0;
}

/* ---- the operations ---- */

/* Random bytes in bulk: a ChaCha20 key stream under a random key (the
 * kernel's getrandom() is much slower for tens of MiB). */
static void
fill_random(void *buf, size_t len)
{
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = { 0 };

	randombytes_buf(key, sizeof(key));
	if (crypto_stream_chacha20(buf, len, nonce, key) != 0)
		fail("crypto_stream_chacha20");
	sodium_memzero(key, sizeof(key));
}

struct ctx {
	uint8_t *in, *out;		/* BLOCK bytes each */
	uint8_t key[32], digest[32];
	EVP_MD *sha256;
	EVP_MD_CTX *mdctx;
	EVP_CIPHER *chacha;
	EVP_CIPHER_CTX *cctx;
	struct chk_ref ref;
	uint8_t *pool;			/* memcpy: MEMCPY_POOL bytes */
};

static int
op_memcpy(void *arg, uint64_t i)
{
	struct ctx *c = arg;

	memcpy(c->out, c->pool + (i % (MEMCPY_POOL / BLOCK)) * BLOCK, BLOCK);
	/* Keep the copy from being optimised away. */
	__asm__ volatile("" : : "r"(c->out) : "memory");
	return 0;
}

/* SHA-256 through EVP as the CHK code does it, but with the digest
 * fetched once and the context reused: the primitive's own speed. */
static int
op_sha256_ossl(void *arg, uint64_t i)
{
	struct ctx *c = arg;
	unsigned int len = 0;

	c->in[0] = (uint8_t)i;
	return !(EVP_DigestInit_ex(c->mdctx, c->sha256, NULL) == 1 &&
	    EVP_DigestUpdate(c->mdctx, c->in, BLOCK) == 1 &&
	    EVP_DigestFinal_ex(c->mdctx, c->digest, &len) == 1 && len == 32);
}

static int
op_sha256_sodium(void *arg, uint64_t i)
{
	struct ctx *c = arg;

	c->in[0] = (uint8_t)i;
	return crypto_hash_sha256(c->digest, c->in, BLOCK);
}

static int
op_blake2b_sodium(void *arg, uint64_t i)
{
	struct ctx *c = arg;

	c->in[0] = (uint8_t)i;
	return crypto_generichash(c->digest, 32, c->in, BLOCK, NULL, 0);
}

/* ChaCha20 through EVP with a new key per block, as chk_cipher does. */
static int
op_chacha20_ossl(void *arg, uint64_t i)
{
	static const uint8_t iv[16];
	struct ctx *c = arg;
	int len = 0;

	c->key[0] = (uint8_t)i;
	return !(EVP_EncryptInit_ex(c->cctx, c->chacha, NULL, c->key, iv) == 1 &&
	    EVP_EncryptUpdate(c->cctx, c->out, &len, c->in, BLOCK) == 1 &&
	    len == BLOCK);
}

static int
op_xchacha20_sodium(void *arg, uint64_t i)
{
	static const uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES];
	struct ctx *c = arg;

	c->key[0] = (uint8_t)i;
	return crypto_stream_xchacha20_xor(c->out, c->in, BLOCK, nonce, c->key);
}

/* Encodes the previous round's ciphertext as the next plaintext: no copy
 * needed, and every round is a new block. */
static int
op_chk_encode(void *arg, uint64_t i)
{
	struct ctx *c = arg;

	(void)i;
	return chk_block_encode(c->in, &c->ref) != CHK_OK;
}

static int
op_chk_decode(void *arg, uint64_t i)
{
	struct ctx *c = arg;

	(void)i;
	return chk_block_decode(c->in, c->out, &c->ref) != CHK_OK;
}

/* The two SHA-256 implementations must agree, or a figure is not one of
 * SHA-256. */
static void
check_sha256(struct ctx *c)
{
	uint8_t a[32], b[32];
	unsigned int len = 0;

	randombytes_buf(c->in, BLOCK);
	if (EVP_Digest(c->in, BLOCK, a, &len, c->sha256, NULL) != 1 ||
	    len != 32 || crypto_hash_sha256(b, c->in, BLOCK) != 0)
		fail("sha256");
	if (memcmp(a, b, 32) != 0)
		fail("sha256 cross-check (OpenSSL and libsodium differ)");
}

static void
bench_crypto(void)
{
	struct ctx c = { 0 };
	uint8_t plain[BLOCK];

	c.in = xmalloc(BLOCK);
	c.out = xmalloc(BLOCK);
	c.pool = xmalloc(MEMCPY_POOL);
	fill_random(c.pool, MEMCPY_POOL);
	randombytes_buf(c.key, sizeof(c.key));
	if ((c.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (c.mdctx = EVP_MD_CTX_new()) == NULL ||
	    (c.chacha = EVP_CIPHER_fetch(NULL, "ChaCha20", NULL)) == NULL ||
	    (c.cctx = EVP_CIPHER_CTX_new()) == NULL)
		fail("OpenSSL setup");
	check_sha256(&c);

	bench_loop("memcpy", op_memcpy, &c, BLOCK, "32 KiB copies out of "
	    "64 MiB: memory bandwidth");
	bench_loop("sha256_ossl", op_sha256_ossl, &c, BLOCK,
	    "the hash we use (EVP, SHA-NI if the CPU has it)");
	bench_loop("sha256_sodium", op_sha256_sodium, &c, BLOCK,
	    "crypto_hash_sha256, for comparison");
	bench_loop("blake2b_sodium", op_blake2b_sodium, &c, BLOCK,
	    "crypto_generichash, 32-byte output, for comparison");
	bench_loop("chacha20_ossl", op_chacha20_ossl, &c, BLOCK,
	    "the cipher we use (EVP, new key per block)");
	bench_loop("xchacha20_sodium", op_xchacha20_sodium, &c, BLOCK,
	    "crypto_stream_xchacha20_xor, for comparison");

	randombytes_buf(c.in, BLOCK);
	bench_loop("chk_encode", op_chk_encode, &c, BLOCK,
	    "chk_block_encode: 2 x SHA-256 + ChaCha20 (put)");
	/* A fresh block and its reference to decode again and again. */
	randombytes_buf(c.in, BLOCK);
	memcpy(plain, c.in, BLOCK);
	if (chk_block_encode(c.in, &c.ref) != CHK_OK)
		fail("chk_block_encode");
	bench_loop("chk_decode", op_chk_decode, &c, BLOCK,
	    "chk_block_decode: SHA-256 + ChaCha20 (get)");
	if (memcmp(c.out, plain, BLOCK) != 0)
		fail("chk_block_decode round trip");

	EVP_CIPHER_CTX_free(c.cctx);
	EVP_CIPHER_free(c.chacha);
	EVP_MD_CTX_free(c.mdctx);
	EVP_MD_free(c.sha256);
	free(c.pool);
	free(c.out);
	free(c.in);
}

/* ---- zstd level 1 on text ---- */

/* Compresses the sample as the encoder does (level 1, window 2^19, fed in
 * 128 KiB pieces); returns the compressed size. */
static size_t
zstd_once(ZSTD_CCtx *cctx, const char *text, size_t len, uint8_t *out,
    size_t out_size)
{
	ZSTD_outBuffer ob = { out, out_size, 0 };
	size_t off = 0, left;

	if (ZSTD_isError(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only)))
		fail("ZSTD_CCtx_reset");
	while (off < len) {
		size_t n = len - off < CHK_ZSTD_PIECE ? len - off : CHK_ZSTD_PIECE;
		ZSTD_inBuffer in = { text + off, n, 0 };
		ZSTD_EndDirective mode = off + n == len ? ZSTD_e_end :
		    ZSTD_e_continue;

		do {
			left = ZSTD_compressStream2(cctx, &ob, &in, mode);
			if (ZSTD_isError(left) || ob.pos == ob.size)
				fail("ZSTD_compressStream2");
		} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
		off += n;
	}
	return ob.pos;
}

static void
bench_zstd(void)
{
	size_t out_size = ZSTD_compressBound(TEXT_SAMPLE), csize = 0, dsize;
	char *text = xmalloc(TEXT_SAMPLE), *back = xmalloc(TEXT_SAMPLE);
	uint8_t *out = xmalloc(out_size);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	static struct textstream s;
	struct meter m;
	uint64_t n;
	double ratio;
	char note[64];

	if (cctx == NULL || dctx == NULL ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel,
	    CHK_ZSTD_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog,
	    CHK_ZSTD_WINDOW_LOG)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0)))
		fail("zstd setup");
	textstream_init(&s);
	textstream_fill(&s, text, TEXT_SAMPLE);

	/* One pass over the sample gives the ratio and the frame to
	 * decompress; then slices of TEXT_SLICE bytes, one after the other,
	 * are compressed alone (each slice is long past zstd's window, so
	 * the speed and ratio are those of the whole stream). */
	csize = zstd_once(cctx, text, TEXT_SAMPLE, out, out_size);
	ratio = (double)TEXT_SAMPLE / (double)csize;
	meter_start(&m);
	for (n = 0; n < 1024; n++) {
		size_t off = (size_t)(n % (TEXT_SAMPLE / TEXT_SLICE)) * TEXT_SLICE;

		(void)zstd_once(cctx, text + off, TEXT_SLICE, (uint8_t *)back,
		    TEXT_SAMPLE);
		if (meter_add(&m, TEXT_SLICE) >= BENCH_SECONDS)
			break;
	}
	snprintf(note, sizeof(note), "level %d, ratio %.2f", CHK_ZSTD_LEVEL,
	    ratio);
	meter_report(&m, "zstd1_text", 0, note);
	printf("%-18s %.2f\n", "zstd1_text_ratio", ratio);

	meter_start(&m);
	for (n = 0; n < 1024; n++) {
		dsize = ZSTD_decompressDCtx(dctx, back, TEXT_SAMPLE, out, csize);
		if (ZSTD_isError(dsize) || dsize != TEXT_SAMPLE)
			fail("ZSTD_decompressDCtx");
		if (meter_add(&m, TEXT_SAMPLE) >= BENCH_SECONDS)
			break;
	}
	if (memcmp(back, text, TEXT_SAMPLE) != 0)
		fail("zstd round trip");
	meter_report(&m, "unzstd_text", 0, "decompression, MB of text out");

	ZSTD_freeDCtx(dctx);
	ZSTD_freeCCtx(cctx);
	free(out);
	free(back);
	free(text);
}

/* ---- LMDB: batched durable commits, then reads ---- */

static void
remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    e->d_name) >= sizeof(path) || unlink(path) != 0)
			fprintf(stderr, "bench_limits: cannot remove %s: %s\n",
			    path, strerror(errno));
	}
	closedir(d);
	if (rmdir(dir) != 0)
		fprintf(stderr, "bench_limits: cannot remove %s: %s\n", dir,
		    strerror(errno));
}

static char tmpdir_path[4096];

static void
cleanup_tmpdir(void)
{
	if (tmpdir_path[0] != '\0') {
		remove_tree(tmpdir_path);
		tmpdir_path[0] = '\0';
	}
}

static void
bench_lmdb(const char *parent)
{
	uint8_t (*keys)[STORE_KEY_SIZE] = xmalloc(LMDB_BLOCKS *
	    STORE_KEY_SIZE);
	uint8_t *data = xmalloc((size_t)LMDB_BATCH * BLOCK), *out;
	struct store_block batch[LMDB_BATCH];
	struct store *st = NULL;
	uint64_t done = 0, n;
	struct meter m;
	char note[128];
	int rc;

	snprintf(tmpdir_path, sizeof(tmpdir_path), "%s/umbra-bench-limits."
	    "XXXXXX", parent);
	if (mkdtemp(tmpdir_path) == NULL) {
		fprintf(stderr, "bench_limits: mkdtemp %s: %s\n", tmpdir_path,
		    strerror(errno));
		tmpdir_path[0] = '\0';
		exit(1);
	}
	atexit(cleanup_tmpdir);
	if ((rc = store_open(&st, tmpdir_path, 2 * LMDB_BYTES)) != 0) {
		fprintf(stderr, "bench_limits: store_open: %s\n",
		    store_strerror(rc));
		exit(1);
	}
	/* Random keys, as routing keys are; random (incompressible) data,
	 * one batch's worth reused with its first bytes changed per batch. */
	fill_random(keys, LMDB_BLOCKS * STORE_KEY_SIZE);
	fill_random(data, (size_t)LMDB_BATCH * BLOCK);
	meter_start(&m);
	while (done < LMDB_BLOCKS) {
		for (size_t j = 0; j < LMDB_BATCH; j++) {
			memcpy(batch[j].key, keys[done + j], STORE_KEY_SIZE);
			memcpy(data + j * BLOCK, &done, sizeof(done));
			batch[j].data = data + j * BLOCK;
		}
		if ((rc = store_put_blocks(st, batch, LMDB_BATCH,
		    STORE_KIND_TEMP)) != 0) {
			fprintf(stderr, "bench_limits: store_put_blocks: %s\n",
			    store_strerror(rc));
			exit(1);
		}
		done += LMDB_BATCH;
		if (meter_add(&m, (uint64_t)LMDB_BATCH * BLOCK) >=
		    LMDB_MAX_SECONDS)
			break;
	}
	/* The disk's throughput over the whole write, not its best burst. */
	snprintf(note, sizeof(note), "store_put_blocks, %d blocks per durable "
	    "commit, %.1f commits/s", LMDB_BATCH,
	    (double)(done / LMDB_BATCH) / (now() - m.t0));
	meter_report(&m, "lmdb_batch64", 1, note);

	/* Read back what was written, in the order written (random key
	 * order), for BENCH_SECONDS and at least LMDB_READ_MIN blocks: as a
	 * get reads a document, one store_get_block() per block. The first
	 * 8 bytes tell the block; every 64th is compared whole. */
	out = xmalloc(BLOCK);
	meter_start(&m);
	for (n = 0;; n++) {
		uint64_t i = n % done, batch_first = i / LMDB_BATCH * LMDB_BATCH;
		enum store_kind kind;
		double t;

		if ((rc = store_get_block(st, keys[i], out, &kind)) != 0) {
			fprintf(stderr, "bench_limits: store_get_block: %s\n",
			    store_strerror(rc));
			exit(1);
		}
		if (kind != STORE_KIND_TEMP ||
		    memcmp(out, &batch_first, sizeof(batch_first)) != 0 ||
		    ((n & 63) == 0 && memcmp(out + 8, data + (i % LMDB_BATCH) *
		    BLOCK + 8, BLOCK - 8) != 0))
			fail("store_get_block (wrong block)");
		t = meter_add(&m, BLOCK);
		if ((t >= BENCH_SECONDS && n + 1 >= LMDB_READ_MIN) ||
		    n + 1 >= 8 * done || t >= 5.0)
			break;
	}
	meter_report(&m, "lmdb_read", 0, "store_get_block of those blocks "
	    "(page cache warm)");
	free(out);
	store_close(st);
	cleanup_tmpdir();
	free(data);
	free(keys);
}

int
main(int argc, char **argv)
{
	const char *parent;
	double t0 = now();

	if (argc == 4 && strcmp(argv[1], "--text") == 0)
		return write_text(argv[2], argv[3]);
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: bench_limits [TMPPARENT]\n"
		    "       bench_limits --text BYTES FILE\n");
		return 2;
	}
	if (argc == 2)
		parent = argv[1];
	else if ((parent = getenv("TMPDIR")) == NULL || parent[0] == '\0')
		parent = "/tmp";
	if (access(parent, W_OK | X_OK) != 0) {
		fprintf(stderr, "bench_limits: %s: %s\n", parent, strerror(errno));
		return 1;
	}
	if (sodium_init() < 0)
		fail("sodium_init");
	printf("# bench_limits: 32 KiB blocks; NAME MB/s (10^6 bytes/s)\n");
	printf("# %s, libsodium %s, zstd %s\n", OpenSSL_version(OPENSSL_VERSION),
	    sodium_version_string(), ZSTD_versionString());
	bench_crypto();
	bench_zstd();
	bench_lmdb(parent);
	printf("# bench_limits: done in %.1f s\n", now() - t0);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
