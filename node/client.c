/* client.c - see client.h. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "crypto/uri.h"
#include "node/client.h"
#include "node/params.h"
#include "node/util.h"

#define CLIENT_BODY_MAX (64 * 1024)	/* JSON answers and errors */
#define CLIENT_TOKEN_MAX 128
#define CLIENT_CONNECT_TIMEOUT 5L
/* Give up on a transfer that moves nothing for this long: above the
 * node's own 120 s bound for content not found in the network. */
#define CLIENT_STALL_TIMEOUT 150L

struct client {
	const char *cmd;
	char api[UTIL_HOST_MAX + 16];
	char auth[CLIENT_TOKEN_MAX + 32];
	CURL *curl;
	struct curl_slist *headers;
	bool progress;
	bool quiet;			/* client_fetch_status: polls print nothing */
	double started, shown;
	char body[CLIENT_BODY_MAX + 1];
	size_t body_len;
	int in_fd;			/* put: the document */
	bool in_failed;
	int in_errno;
	int out_fd;			/* get: where the document goes */
	bool out_failed;
	int out_errno;
};

static int client_fail(const struct client *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
client_fail(const struct client *c, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return code;
	if (c->progress)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "umbra %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* Reads the token: $UMBRA_API_TOKEN, else DATADIR/api.token. */
static int
client_load_token(struct client *c, const char *datadir)
{
	const char *env = getenv("UMBRA_API_TOKEN");
	char *path, *text = NULL;
	size_t len = 0;
	int rc;

	if (env != NULL && env[0] != '\0' && strlen(env) < CLIENT_TOKEN_MAX) {
		snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s",
		    env);
		return 0;
	}
	if ((path = util_path(datadir, "api.token")) == NULL)
		return -1;
	rc = util_read_file(path, CLIENT_TOKEN_MAX, &text, &len);
	free(path);
	if (rc != 0)
		return -1;
	text[strcspn(text, "\r\n")] = '\0';
	snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", text);
	free(text);
	return 0;
}

/* Finds the node: --api, else DATADIR/api; and its token. */
static int
client_locate(struct client *c, const char *datadir_opt, const char *api_opt)
{
	char *datadir = util_datadir(datadir_opt), *path = NULL, *text = NULL;
	char host[UTIL_HOST_MAX];
	size_t len = 0;
	uint16_t port;
	int rc = CLIENT_ENONODE;

	if (datadir == NULL)
		return client_fail(c, CLIENT_EUSAGE, "no --datadir and no $HOME");
	if (api_opt != NULL) {
		snprintf(c->api, sizeof(c->api), "%s", api_opt);
	} else if ((path = util_path(datadir, "api")) == NULL ||
	    util_read_file(path, sizeof(c->api) - 1, &text, &len) != 0) {
		rc = client_fail(c, CLIENT_ENONODE, "no node running (no %s; "
		    "start one with 'umbra node')", path ? path : "api file");
		goto out;
	} else {
		text[strcspn(text, "\r\n")] = '\0';
		snprintf(c->api, sizeof(c->api), "%s", text);
	}
	if (util_parse_hostport(c->api, host, &port) != 0) {
		rc = client_fail(c, api_opt ? CLIENT_EUSAGE : CLIENT_ENONODE,
		    "bad API address '%s'", c->api);
		goto out;
	}
	/* With --api the node may be elsewhere: go without a token and let
	 * it answer, so "no node" and "refused" stay distinct errors. */
	if (client_load_token(c, datadir) != 0 && api_opt == NULL) {
		rc = client_fail(c, CLIENT_ENONODE, "no API token: cannot read "
		    "%s/api.token (or set UMBRA_API_TOKEN)", datadir);
		goto out;
	}
	rc = CLIENT_OK;
out:
	free(datadir);
	free(path);
	free(text);
	return rc;
}

static size_t
client_keep_body(char *data, size_t size, size_t n, void *arg)
{
	struct client *c = arg;
	size_t len = size * n, room = CLIENT_BODY_MAX - c->body_len;

	if (len > room)
		return 0;	/* an answer this long is not ours: abort */
	memcpy(c->body + c->body_len, data, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
	return len;
}

static int
client_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct client *c = arg;
	double now = util_now(), secs = now - c->started;
	curl_off_t done = dlnow > ulnow ? dlnow : ulnow;
	curl_off_t total = dltotal > ultotal ? dltotal : ultotal;

	if (!c->progress || now - c->shown < 0.25)
		return 0;
	c->shown = now;
	fprintf(stderr, "\r\033[K%s: %.1f", c->cmd, (double)done / 1048576.0);
	if (total > 0)
		fprintf(stderr, " of %.1f", (double)total / 1048576.0);
	fprintf(stderr, " MiB, %.1f MB/s", secs > 0 ? (double)done / secs / 1e6 :
	    0.0);
	return 0;
}

static int
client_init(struct client *c, const char *path, const char *extra_header)
{
	char url[UTIL_HOST_MAX + URI_MAX_LEN + 64];

	snprintf(url, sizeof(url), "http://%s%s", c->api, path);
	if ((c->curl = curl_easy_init()) == NULL)
		return -1;
	c->headers = curl_slist_append(NULL, "Expect:");
	if (c->auth[0] != '\0')
		c->headers = curl_slist_append(c->headers, c->auth);
	if (extra_header != NULL)
		c->headers = curl_slist_append(c->headers, extra_header);
	if (c->headers == NULL)
		return -1;
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, CLIENT_CONNECT_TIMEOUT);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, CLIENT_STALL_TIMEOUT);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_keep_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	c->progress = isatty(STDERR_FILENO);
	c->started = util_now();
	curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, client_progress);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	return 0;
}

static void
client_cleanup(struct client *c)
{
	if (c->progress && c->shown > 0)
		fputs("\r\033[K", stderr);
	curl_slist_free_all(c->headers);
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
}

/* The node's {"error": "..."} text, or the raw status. */
static const char *
client_error_text(struct client *c, long status, char *buf, size_t len)
{
	json_t *doc = json_loadb(c->body, c->body_len, 0, NULL);
	const char *msg = json_string_value(json_object_get(doc, "error"));

	if (msg != NULL)
		snprintf(buf, len, "%s", msg);
	else
		snprintf(buf, len, "the node answered HTTP %ld", status);
	json_decref(doc);
	return buf;
}

/* Whether the node still takes connections (after a transfer was cut:
 * a node that stopped, or one that could not fetch the rest). */
static bool
client_node_up(const struct client *c)
{
	char url[UTIL_HOST_MAX + 32];
	CURL *h = curl_easy_init();
	bool up;

	if (h == NULL)
		return true;
	snprintf(url, sizeof(url), "http://%s/", c->api);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 2L);
	up = curl_easy_perform(h) == CURLE_OK;
	curl_easy_cleanup(h);
	return up;
}

/* A get cut short after its answer began: how far it came, and why as
 * far as the client can tell (the node logs the block that failed). */
static int
client_cut_fail(struct client *c)
{
	curl_off_t got = 0, len = -1;

	curl_easy_getinfo(c->curl, CURLINFO_SIZE_DOWNLOAD_T, &got);
	curl_easy_getinfo(c->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	if (!client_node_up(c))
		return client_fail(c, CLIENT_EFAIL, "the document came only in "
		    "part (%lld of %lld bytes): the node at %s stopped during "
		    "the transfer", (long long)got, (long long)len, c->api);
	return client_fail(c, CLIENT_EFAIL, "the document came only in part "
	    "(%lld of %lld bytes): the node at %s could not fetch a block of "
	    "the rest (its log says why: not found, no path or peers, or no "
	    "answer in time)", (long long)got, (long long)len, c->api);
}

/* Runs the request; returns the HTTP status, or -1 after reporting a
 * transport failure in *code. */
static long
client_perform(struct client *c, int *code)
{
	CURLcode rc = curl_easy_perform(c->curl);
	long status = 0;

	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK)
		return status;
	if (c->in_failed)
		*code = client_fail(c, CLIENT_EUSAGE, "cannot read the input: %s",
		    strerror(c->in_errno));
	else if (c->out_failed)
		*code = client_fail(c, CLIENT_EFAIL, "cannot write the output: %s",
		    strerror(c->out_errno));
	else if (rc == CURLE_COULDNT_CONNECT)
		*code = client_fail(c, CLIENT_ENONODE, "no node running at %s "
		    "(connection refused)", c->api);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		*code = client_fail(c, CLIENT_EFAIL, "the node at %s stopped "
		    "answering (timed out)", c->api);
	else if (rc == CURLE_PARTIAL_FILE && status == 200)
		/* A get streams as it fetches: a block that cannot be had
		 * after the answer began can only cut it short. */
		*code = client_cut_fail(c);
	else
		*code = client_fail(c, CLIENT_EFAIL, "transfer with the node at %s "
		    "failed: %s", c->api, curl_easy_strerror(rc));
	return -1;
}

/* Maps a non-200 answer to an exit code and a one-line error. */
static int
client_http_fail(struct client *c, long status, const char *what)
{
	char msg[512];

	client_error_text(c, status, msg, sizeof(msg));
	if (status == 401 || status == 403)
		return client_fail(c, CLIENT_ENONODE, "the node refused us: %s",
		    msg);
	if (status == 400)
		return client_fail(c, CLIENT_EUSAGE, "%s", msg);
	if (status == 404)
		return client_fail(c, CLIENT_EFAIL, "%s: %s", what, msg);
	return client_fail(c, CLIENT_EFAIL, "%s", msg);
}

/* ---- usage ---- */

static const char *const client_usages[][2] = {
	{ "put", "usage: umbra put [--datadir DIR | --api HOST:PORT] [--hops N]\n"
	    "                 [--no-anonymity] [--name NAME] [--type TYPE] FILE|-\n"
	    "Inserts FILE (or standard input) and prints its URI on one line.\n"
	    "  --hops N     onion path length, 0-8 (default 3); 0 needs\n"
	    "               --no-anonymity\n"
	    "  --no-anonymity  allow --hops 0: peers see this node insert\n"
	    "  --name NAME  the name in the URI (default: FILE's name)\n"
	    "  --type TYPE  a media type (e.g. text/html) stored with the\n"
	    "               document; the gateway serves it as that type\n" },
	{ "get", "usage: umbra get [--datadir DIR | --api HOST:PORT] [--hops N]\n"
	    "                 [--no-anonymity] URI [-o FILE]\n"
	    "Writes the document with key URI to standard output or FILE.\n"
	    "  -o FILE      write to FILE (made complete or not at all)\n"
	    "  --hops N     onion path length, 0-8 (default 3); 0 needs\n"
	    "               --no-anonymity\n"
	    "  --no-anonymity  allow --hops 0: peers see this node ask\n" },
	{ "status", "usage: umbra status [--datadir DIR | --api HOST:PORT] "
	    "[--json]\n"
	    "Shows the node: identity, peers, store and pending inserts.\n"
	    "  --json       print the node's JSON answer as it is\n" },
};

static int
client_usage(const char *cmd)
{
	for (size_t i = 0; i < sizeof(client_usages) / sizeof(*client_usages);
	    i++)
		if (strcmp(cmd, client_usages[i][0]) == 0)
			printf("%s", client_usages[i][1]);
	printf("%s", "  --datadir DIR  the node's datadir (default "
	    "$XDG_DATA_HOME/umbra)\n"
	    "  --api HOST:PORT  the node's API address (token from "
	    "$UMBRA_API_TOKEN or DIR)\n"
	    "Exit status: 0 ok, 1 failed, 2 bad usage or input, 3 no node.\n");
	return CLIENT_OK;
}

/* --hops 0 sends without an onion path: only when the user said so. */
static int
client_parse_hops(struct client *c, const char *hops, bool no_anonymity)
{
	int n;

	if (params_parse_hops(hops, &n) != 0)
		return client_fail(c, CLIENT_EUSAGE, "--hops must be 0 to %d",
		    PARAMS_HOPS_MAX);
	if (n == 0 && !no_anonymity)
		return client_fail(c, CLIENT_EUSAGE, "--hops 0 sends without "
		    "an onion path, so peers see this node at work; add "
		    "--no-anonymity to mean it");
	if (n == 0)
		client_fail(c, 0, "warning: --hops 0 --no-anonymity: no onion "
		    "path; the nodes next to this one can tell it is the "
		    "origin");
	return 0;
}

/* The query for checked hops: hops=N, and no_anonymity=1 when N is 0. */
static void
client_hops_query(const char *hops, char out[32])
{
	int n = PARAMS_HOPS_DEFAULT;

	(void)params_parse_hops(hops, &n);
	snprintf(out, 32, "hops=%d%s", n, n == 0 ? "&no_anonymity=1" : "");
}

/* ---- umbra put ---- */

static size_t
client_read_input(char *buf, size_t size, size_t n, void *arg)
{
	struct client *c = arg;
	ssize_t got;

	do
		got = read(c->in_fd, buf, size * n);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		c->in_failed = true;
		c->in_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

struct put_opts {
	const char *datadir, *api, *name, *file;
	const char *hops, *type;
	bool no_anonymity;
};

static int
client_put_opts(struct client *c, int argc, char **argv, struct put_opts *o)
{
	static const struct option opts[] = {
		{ "datadir", required_argument, NULL, 'd' },
		{ "api", required_argument, NULL, 'a' },
		{ "hops", required_argument, NULL, 'H' },
		{ "no-anonymity", no_argument, NULL, 'N' },
		{ "name", required_argument, NULL, 'n' },
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->datadir = optarg; break;
		case 'a': o->api = optarg; break;
		case 'H': o->hops = optarg; break;
		case 'N': o->no_anonymity = true; break;
		case 'n': o->name = optarg; break;
		case 't': o->type = optarg; break;
		case 'h': return -1;
		default:
			return client_fail(c, CLIENT_EUSAGE, "bad option %s (see "
			    "umbra put --help)", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return client_fail(c, CLIENT_EUSAGE, "expected one FILE or '-' "
		    "(see umbra put --help)");
	o->file = argv[optind];
	/* Checked here so a bad type is a usage error before any byte is
	 * sent; lower case only, the one spelling stored under the keys. */
	if (o->type != NULL && chk_type_check(o->type, strlen(o->type)) != 0)
		return client_fail(c, CLIENT_EUSAGE, "bad type '%s': a media "
		    "type such as text/html, in lower case", o->type);
	return 0;
}

/* Opens the document; fills the name from the file's if none was given. */
static int
client_put_open(struct client *c, struct put_opts *o, char *namebuf,
    size_t namelen, curl_off_t *size)
{
	struct stat sb;
	char *copy;

	*size = -1;
	if (strcmp(o->file, "-") == 0) {
		c->in_fd = STDIN_FILENO;
	} else if ((c->in_fd = open(o->file, O_RDONLY | O_CLOEXEC)) < 0) {
		return client_fail(c, CLIENT_EUSAGE, "cannot read %s: %s",
		    o->file, strerror(errno));
	}
	if (fstat(c->in_fd, &sb) == 0 && S_ISDIR(sb.st_mode))
		return client_fail(c, CLIENT_EUSAGE, "cannot read %s: it is a "
		    "directory", o->file);
	if (fstat(c->in_fd, &sb) == 0 && S_ISREG(sb.st_mode))
		*size = (curl_off_t)sb.st_size;
	if (o->name == NULL && c->in_fd != STDIN_FILENO &&
	    (copy = strdup(o->file)) != NULL) {
		snprintf(namebuf, namelen, "%s", basename(copy));
		free(copy);
		o->name = namebuf;
	}
	if (o->name != NULL && uri_name_check(o->name, strlen(o->name)) != 0)
		return client_fail(c, CLIENT_EUSAGE, "bad name '%s': 1 to 255 "
		    "bytes without '/' or control characters", o->name);
	return 0;
}

/* The request path: /api/v1/put?hops=N[&name=%-encoded][&type=...]. The
 * name and type were checked (at most URI_NAME_MAX and CHK_TYPE_MAX
 * bytes), so path has room for both, each byte escaped. */
static void
client_put_path(const struct put_opts *o, char *path, size_t len)
{
	char q[32];
	size_t n;

	client_hops_query(o->hops, q);
	n = (size_t)snprintf(path, len, "/api/v1/put?%s", q);
	if (o->name != NULL && n + 6 + 3 * strlen(o->name) < len) {
		n += (size_t)snprintf(path + n, len - n, "&name=");
		n += uri_escape_name(o->name, path + n);
	}
	if (o->type != NULL && n + 6 + 3 * strlen(o->type) < len) {
		n += (size_t)snprintf(path + n, len - n, "&type=");
		uri_escape_name(o->type, path + n);
	}
}

static int
client_put_answer(struct client *c)
{
	json_t *doc = json_loadb(c->body, c->body_len, 0, NULL);
	const char *uri = json_string_value(json_object_get(doc, "uri"));
	const char *warning = json_string_value(json_object_get(doc,
	    "warning"));
	struct uri u;
	int rc = CLIENT_OK;

	if (uri == NULL || uri_parse(&u, uri, strlen(uri)) != 0) {
		rc = client_fail(c, CLIENT_EFAIL, "the node's answer holds no "
		    "valid URI");
	} else {
		/* The node says why it is pending (docs/http-api.md). */
		if (json_is_true(json_object_get(doc, "pending")))
			client_fail(c, 0, "warning: %s", warning != NULL ?
			    warning : "not yet in the network; it is kept on "
			    "this node, which inserts it as soon as it can");
		printf("%s\n", uri);
		if (fflush(stdout) != 0 || ferror(stdout))
			rc = client_fail(c, CLIENT_EFAIL, "cannot write the URI: %s",
			    strerror(errno));
	}
	json_decref(doc);
	return rc;
}

int
client_put(int argc, char **argv)
{
	struct client c = { .cmd = "put", .in_fd = -1 };
	struct put_opts o = { 0 };
	char namebuf[URI_NAME_MAX + 1];
	char path[3 * URI_NAME_MAX + 3 * CHK_TYPE_MAX + 64];
	curl_off_t size;
	long status;
	int rc;

	if ((rc = client_put_opts(&c, argc, argv, &o)) != 0)
		return rc < 0 ? client_usage("put") : rc;
	if ((rc = client_parse_hops(&c, o.hops, o.no_anonymity)) != 0 ||
	    (rc = client_put_open(&c, &o, namebuf, sizeof(namebuf), &size)) != 0 ||
	    (rc = client_locate(&c, o.datadir, o.api)) != 0)
		goto out;
	client_put_path(&o, path, sizeof(path));
	/* Unknown length (a pipe): chunked, which the node streams too. */
	if (client_init(&c, path, size < 0 ? "Transfer-Encoding: chunked" :
	    NULL) != 0) {
		rc = client_fail(&c, CLIENT_EFAIL, "cannot set up libcurl");
		goto out;
	}
	curl_easy_setopt(c.curl, CURLOPT_POST, 1L);
	curl_easy_setopt(c.curl, CURLOPT_READFUNCTION, client_read_input);
	curl_easy_setopt(c.curl, CURLOPT_READDATA, &c);
	if (size >= 0)
		curl_easy_setopt(c.curl, CURLOPT_POSTFIELDSIZE_LARGE, size);
	if ((status = client_perform(&c, &rc)) < 0)
		goto out;
	rc = status == 200 ? client_put_answer(&c) :
	    client_http_fail(&c, status, "put failed");
out:
	client_cleanup(&c);
	if (c.in_fd > STDIN_FILENO)
		close(c.in_fd);
	return rc;
}

/* ---- umbra get ---- */

static size_t
client_write_output(char *data, size_t size, size_t n, void *arg)
{
	struct client *c = arg;
	size_t len = size * n, done = 0;
	long status = 0;
	ssize_t w;

	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return client_keep_body(data, size, n, arg);
	while (done < len) {
		w = write(c->out_fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			c->out_failed = true;
			c->out_errno = w < 0 ? errno : EIO;
			return 0;
		}
		done += (size_t)w;
	}
	return len;
}

struct get_opts {
	const char *datadir, *api, *out, *uri, *hops;
	bool no_anonymity;
};

static int
client_get_opts(struct client *c, int argc, char **argv, struct get_opts *o)
{
	static const struct option opts[] = {
		{ "datadir", required_argument, NULL, 'd' },
		{ "api", required_argument, NULL, 'a' },
		{ "hops", required_argument, NULL, 'H' },
		{ "no-anonymity", no_argument, NULL, 'N' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->datadir = optarg; break;
		case 'a': o->api = optarg; break;
		case 'H': o->hops = optarg; break;
		case 'N': o->no_anonymity = true; break;
		case 'o': o->out = optarg; break;
		case 'h': return -1;
		default:
			return client_fail(c, CLIENT_EUSAGE, "bad option %s (see "
			    "umbra get --help)", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return client_fail(c, CLIENT_EUSAGE, "expected one URI (see "
		    "umbra get --help)");
	o->uri = argv[optind];
	return client_parse_hops(c, o->hops, o->no_anonymity);
}

/* -o FILE: write beside it and rename at the end, so FILE is either the
 * whole document or untouched. A FILE that exists and is not a regular
 * file (/dev/null, a FIFO, a terminal) is written as it is: renaming over
 * it would replace a device with a file. */
static int
client_get_open(struct client *c, const char *out, char *tmp, size_t len)
{
	struct stat st;

	c->out_fd = STDOUT_FILENO;
	if (out == NULL)
		return 0;
	if (stat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
		tmp[0] = '\0';
		if ((c->out_fd = open(out, O_WRONLY | O_CLOEXEC)) < 0)
			return client_fail(c, CLIENT_EFAIL, "cannot write %s: "
			    "%s", out, strerror(errno));
		return 0;
	}
	snprintf(tmp, len, "%s.umbra-XXXXXX", out);
	if ((c->out_fd = mkstemp(tmp)) < 0) {
		tmp[0] = '\0';
		return client_fail(c, CLIENT_EFAIL, "cannot write %s: %s", out,
		    strerror(errno));
	}
	fchmod(c->out_fd, 0644 & ~umask(umask(0)));
	return 0;
}

static int
client_get_close(struct client *c, const char *out, const char *tmp, int rc)
{
	if (out == NULL)
		return rc;
	if (tmp[0] == '\0') {		/* written in place, or never opened */
		if (c->out_fd >= 0 && close(c->out_fd) != 0 && rc == CLIENT_OK)
			rc = client_fail(c, CLIENT_EFAIL, "cannot write %s: %s",
			    out, strerror(errno));
		return rc;
	}
	if (rc == CLIENT_OK && (fsync(c->out_fd) != 0 || close(c->out_fd) != 0 ||
	    rename(tmp, out) != 0)) {
		rc = client_fail(c, CLIENT_EFAIL, "cannot write %s: %s", out,
		    strerror(errno));
		unlink(tmp);
		return rc;
	}
	if (rc != CLIENT_OK) {
		close(c->out_fd);
		unlink(tmp);
	}
	return rc;
}

int
client_get(int argc, char **argv)
{
	struct client c = { .cmd = "get", .out_fd = -1 };
	struct get_opts o = { 0 };
	char canon[URI_MAX_LEN], path[URI_MAX_LEN + 64], tmp[4096] = "", q[32];
	struct uri u;
	long status;
	int rc;

	if ((rc = client_get_opts(&c, argc, argv, &o)) != 0)
		return rc < 0 ? client_usage("get") : rc;
	if (uri_parse(&u, o.uri, strlen(o.uri)) != 0)
		return client_fail(&c, CLIENT_EUSAGE, "invalid URI: %s", u.why);
	if (uri_format(&u, canon, sizeof(canon)) != 0)
		return client_fail(&c, CLIENT_EUSAGE, "invalid URI");
	if ((rc = client_locate(&c, o.datadir, o.api)) != 0)
		return rc;
	client_hops_query(o.hops, q);
	snprintf(path, sizeof(path), "/api/v1/get/%s?%s", canon, q);
	if ((rc = client_get_open(&c, o.out, tmp, sizeof(tmp))) != 0)
		return rc;
	if (client_init(&c, path, NULL) != 0) {
		rc = client_fail(&c, CLIENT_EFAIL, "cannot set up libcurl");
		goto out;
	}
	curl_easy_setopt(c.curl, CURLOPT_WRITEFUNCTION, client_write_output);
	if ((status = client_perform(&c, &rc)) < 0)
		goto out;
	rc = status == 200 ? CLIENT_OK :
	    client_http_fail(&c, status, "cannot get the document");
out:
	client_cleanup(&c);
	return client_get_close(&c, o.out, tmp, rc);
}

/* ---- umbra status ---- */

/* A string member, or "?" when the node left it out. */
static const char *
client_json_str(json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return v != NULL ? v : "?";
}

/* The address we announce and whether peers reach us there, with what
 * to do about it when they do not. */
static void
client_status_address(json_t *doc)
{
	const char *addr = json_string_value(json_object_get(doc, "address"));
	const char *advice = json_string_value(json_object_get(doc,
	    "reachability"));
	json_t *r = json_object_get(doc, "reachable");

	printf("address    %s, %s\n", addr != NULL ? addr : "none announced",
	    json_is_true(r) ? "reachable: peers dial us back there" :
	    json_is_false(r) ? "not reachable: never offered as a relay" :
	    "reachability not known yet");
	if (advice != NULL)
		printf("  %s\n", advice);
}

static void
client_status_print(json_t *doc)
{
	json_t *store = json_object_get(doc, "store");
	json_t *peers = json_object_get(doc, "peers");
	json_t *paths = json_object_get(doc, "paths");
	json_t *routing = json_object_get(doc, "routing");
	json_int_t used = json_integer_value(json_object_get(store,
	    "bytes_used")), max = json_integer_value(json_object_get(store,
	    "bytes_max"));
	size_t i;
	json_t *p;

	printf("node       %s\n", client_json_str(doc, "identity"));
	printf("version    %s\n", client_json_str(doc, "version"));
	printf("location   %.6f\n", json_real_value(json_object_get(doc,
	    "location")));
	printf("uptime     %lld s\n", (long long)json_integer_value(
	    json_object_get(doc, "uptime")));
	client_status_address(doc);
	printf("peers      %zu\n", json_array_size(peers));
	json_array_foreach(peers, i, p)
		printf("  %s  location %.6f%s\n", client_json_str(p, "address"),
		    json_real_value(json_object_get(p, "location")),
		    json_is_true(json_object_get(p, "path_link")) ?
		    "  (for paths)" : "");
	printf("paths      %zu of our own, %lld relayed for others, %lld "
	    "relays known\n", json_array_size(paths), (long long)
	    json_integer_value(json_object_get(doc, "relayed_paths")),
	    (long long)json_integer_value(json_object_get(doc,
	    "relays_known")));
	json_array_foreach(paths, i, p)
		printf("  %lld hops, %s, %lld s old, %lld streams\n",
		    (long long)json_integer_value(json_object_get(p, "hops")),
		    client_json_str(p, "state"),
		    (long long)json_integer_value(json_object_get(p, "age")),
		    (long long)json_integer_value(json_object_get(p,
		    "streams")));
	printf("routing    %lld requests and %lld inserts from peers, %lld "
	    "served from the store\n",
	    (long long)json_integer_value(json_object_get(routing,
	    "requests_in")),
	    (long long)json_integer_value(json_object_get(routing,
	    "inserts_in")),
	    (long long)json_integer_value(json_object_get(routing,
	    "served_from_store")));
	printf("store      %lld blocks, %.1f of %.1f MiB used (%.1f%%)\n",
	    (long long)json_integer_value(json_object_get(store, "blocks")),
	    (double)used / 1048576.0, (double)max / 1048576.0,
	    max > 0 ? 100.0 * (double)used / (double)max : 0.0);
	printf("pending    %lld inserts waiting for the network\n",
	    (long long)json_integer_value(json_object_get(doc,
	    "pending_inserts")));
}

int
client_fetch_status(const char *datadir, long timeout, json_t **out)
{
	struct client c = { .cmd = "status", .quiet = true };
	long status;
	int rc;

	*out = NULL;
	if ((rc = client_locate(&c, datadir, NULL)) != 0)
		return rc;
	if (client_init(&c, "/api/v1/status", NULL) != 0) {
		rc = CLIENT_EFAIL;
		goto out;
	}
	c.progress = false;
	curl_easy_setopt(c.curl, CURLOPT_TIMEOUT, timeout);
	if ((status = client_perform(&c, &rc)) < 0)
		goto out;
	if (status == 401 || status == 403)
		rc = CLIENT_ENONODE;
	else if (status != 200 ||
	    (*out = json_loadb(c.body, c.body_len, 0, NULL)) == NULL)
		rc = CLIENT_EFAIL;
	else
		rc = CLIENT_OK;
out:
	client_cleanup(&c);
	return rc;
}

int
client_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "datadir", required_argument, NULL, 'd' },
		{ "api", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct client c = { .cmd = "status" };
	const char *datadir = NULL, *api = NULL;
	bool as_json = false;
	json_t *doc;
	long status;
	int ch, rc;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': datadir = optarg; break;
		case 'a': api = optarg; break;
		case 'j': as_json = true; break;
		case 'h': return client_usage("status");
		default:
			return client_fail(&c, CLIENT_EUSAGE, "bad option %s (see "
			    "umbra status --help)", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return client_fail(&c, CLIENT_EUSAGE, "unexpected argument '%s'",
		    argv[optind]);
	if ((rc = client_locate(&c, datadir, api)) != 0)
		return rc;
	if (client_init(&c, "/api/v1/status", NULL) != 0) {
		rc = client_fail(&c, CLIENT_EFAIL, "cannot set up libcurl");
		goto out;
	}
	c.progress = false;
	if ((status = client_perform(&c, &rc)) < 0)
		goto out;
	if (status != 200) {
		rc = client_http_fail(&c, status, "status failed");
		goto out;
	}
	if ((doc = json_loadb(c.body, c.body_len, 0, NULL)) == NULL) {
		rc = client_fail(&c, CLIENT_EFAIL, "the node's answer is not JSON");
		goto out;
	}
	if (as_json)
		printf("%s\n", c.body);
	else
		client_status_print(doc);
	json_decref(doc);
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = client_fail(&c, CLIENT_EFAIL, "cannot write the output: %s",
		    strerror(errno));
out:
	client_cleanup(&c);
	return rc;
}
