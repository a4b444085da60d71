/* testnet.c - see testnet.h. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "node/client.h"
#include "node/config.h"
#include "node/log.h"
#include "node/paths.h"
#include "node/testnet.h"
#include "node/util.h"

#define TESTNET_TICK_MS 100L		/* between two polls */
#define TESTNET_STATUS_TIMEOUT 3L	/* s for one status request */
#define TESTNET_LINE_MAX (UTIL_HOST_MAX + 64)	/* HOST:PORT#PUBKEY */
#define TESTNET_ARGV_MAX 20

struct testnet_node {
	pid_t pid;			/* 0: not running (or reaped) */
	char *dir;			/* DIR/nodeI */
	char *log;			/* DIR/nodeI/log */
	char api[TESTNET_LINE_MAX];	/* from DIR/nodeI/api */
	char address[TESTNET_LINE_MAX];	/* from DIR/nodeI/address */
	size_t peers;			/* links up, at the last poll */
	size_t relays;			/* relays known, at the last poll */
	bool path_ready;		/* a path of its own is built */
};

struct testnet {
	unsigned n, max_peers;
	const char *dir_opt, *log_level;
	char *dir;			/* DIR, absolute */
	pid_t self;
	sigset_t waitset, oldmask;
	bool ready;			/* the network came up */
	bool stopping;			/* exits are expected now */
	bool failed;			/* a node died during startup */
	bool interrupted;		/* SIGINT or SIGTERM arrived */
	unsigned alive;
	struct testnet_node nodes[TESTNET_NODES_MAX];
};

static const char testnet_usage[] =
    "usage: umbra testnet --nodes N --dir DIR [--max-peers K]\n"
    "                     [--log-level LEVEL]\n"
    "Runs a local network of N nodes on 127.0.0.1 until SIGINT or SIGTERM.\n"
    "  --nodes N          how many nodes, 2 to 64\n"
    "  --dir DIR          node I's datadir is DIR/nodeI, its log\n"
    "                     DIR/nodeI/log; a second run reuses them\n"
    "  --max-peers K      peer links per node (default 4: not a full mesh,\n"
    "                     so requests travel over several hops)\n"
    "  --log-level LEVEL  the nodes' log level: debug, info, warn, error\n"
    "Once every node has linked to peers it prints one line per node\n"
    "(pid, datadir, API address, peers), then 'testnet ready'. Use node I\n"
    "with e.g. 'umbra put --datadir DIR/nodeI FILE'.\n"
    "Exit status: 0 stopped by a signal, 1 failed, 2 bad usage.\n";

static int testnet_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* One line on stderr; returns -1 for the caller's failure path. */
static int
testnet_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("umbra testnet: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* A decimal number in [lo, hi], digits only. */
static int
testnet_parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Returns 0, 1 for --help, or 2 (bad usage, reported). */
static int
testnet_parse_args(struct testnet *tn, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'd' },
		{ "max-peers", required_argument, NULL, 'm' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, bad = 0;

	optind = 1;
	opterr = 0;
	while (!bad && (ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (testnet_parse_uint(optarg, TESTNET_NODES_MIN,
			    TESTNET_NODES_MAX, &tn->n) != 0)
				bad = testnet_fail("--nodes: expected a number "
				    "from %d to %d, got '%s'", TESTNET_NODES_MIN,
				    TESTNET_NODES_MAX, optarg);
			break;
		case 'd': tn->dir_opt = optarg; break;
		case 'm':
			if (testnet_parse_uint(optarg, 1, CONFIG_MAX_LINKS,
			    &tn->max_peers) != 0)
				bad = testnet_fail("--max-peers: expected a "
				    "number from 1 to %d, got '%s'",
				    CONFIG_MAX_LINKS, optarg);
			break;
		case 'l':
			tn->log_level = optarg;
			if (log_parse_level(optarg) < 0)
				bad = testnet_fail("--log-level: expected debug, "
				    "info, warn or error, got '%s'", optarg);
			break;
		case 'h': return 1;
		default:
			bad = testnet_fail("bad option %s (see umbra testnet "
			    "--help)", argv[optind - 1]);
		}
	}
	if (!bad && optind < argc)
		bad = testnet_fail("unexpected argument '%s'", argv[optind]);
	if (!bad && (tn->n == 0 || tn->dir_opt == NULL))
		bad = testnet_fail("--nodes N and --dir DIR are required (see "
		    "umbra testnet --help)");
	return bad ? 2 : 0;
}

/* Never runs: the signals stay blocked and are taken by sigtimedwait().
 * It exists because a shell starts a background job with SIGINT
 * ignored, and an ignored signal is discarded instead of left pending. */
static void
testnet_on_signal(int sig)
{
	(void)sig;
}

static int
testnet_signals(struct testnet *tn)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGCHLD };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = testnet_on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&tn->waitset);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&tn->waitset, sigs[i]);
	/* Blocked before handled: one arriving in between would run the
	 * empty handler and be lost. */
	if (sigprocmask(SIG_BLOCK, &tn->waitset, &tn->oldmask) != 0)
		return testnet_fail("cannot block signals: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return testnet_fail("cannot handle signals: %s",
			    strerror(errno));
	return 0;
}

static void
testnet_describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "ended");
}

/* Records that pid ended; reports it unless it is a clean stop. */
static void
testnet_exited(struct testnet *tn, pid_t pid, int status)
{
	struct testnet_node *nd = NULL;
	unsigned num = 0;		/* the node's number, 1..n */
	char how[64];

	for (unsigned i = 0; i < tn->n && nd == NULL; i++)
		if (tn->nodes[i].pid == pid) {
			nd = &tn->nodes[i];
			num = i + 1;
		}
	if (nd == NULL)
		return;
	nd->pid = 0;
	tn->alive--;
	if (tn->stopping && status == 0)
		return;
	if (!tn->ready)
		tn->failed = true;
	testnet_describe_exit(status, how, sizeof(how));
	testnet_fail("node %u (pid %ld) %s%s; see %s%s", num, (long)pid, how,
	    tn->ready || tn->stopping ? "" : " before the network was ready",
	    nd->log, tn->ready && !tn->stopping ?
	    "; the other nodes keep running" : "");
}

/* Reaps every child that has ended, without waiting. */
static void
testnet_reap(struct testnet *tn)
{
	int status;
	pid_t pid;

	/* Each node ends once: at most n exits to collect. */
	for (unsigned k = 0; k <= tn->n; k++) {
		if ((pid = waitpid(-1, &status, WNOHANG)) <= 0)
			return;
		testnet_exited(tn, pid, status);
	}
}

/* Sleeps up to ms milliseconds, waking at once for a signal, and reaps
 * the nodes that ended. Returns -1 once SIGINT or SIGTERM has arrived or
 * a node died during startup. */
static int
testnet_tick(struct testnet *tn, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	int sig = sigtimedwait(&tn->waitset, NULL, &ts);

	if (sig == SIGINT || sig == SIGTERM)
		tn->interrupted = true;
	testnet_reap(tn);
	return tn->interrupted || tn->failed ? -1 : 0;
}

/* Makes DIR and DIR/nodeI (0700), and clears each node's readiness files
 * from an earlier run so that only fresh ones count. */
static int
testnet_make_dirs(struct testnet *tn)
{
	char name[32], *api = NULL, *addr = NULL;
	int rc = -1;

	if (util_mkdirs(tn->dir_opt, 0700) != 0 ||
	    (tn->dir = realpath(tn->dir_opt, NULL)) == NULL)
		return testnet_fail("cannot create %s: %s", tn->dir_opt,
		    strerror(errno));
	for (unsigned i = 0; i < tn->n; i++) {
		struct testnet_node *nd = &tn->nodes[i];

		snprintf(name, sizeof(name), "node%u", i + 1);
		if ((nd->dir = util_path(tn->dir, name)) == NULL ||
		    (nd->log = util_path(nd->dir, "log")) == NULL ||
		    (api = util_path(nd->dir, "api")) == NULL ||
		    (addr = util_path(nd->dir, "address")) == NULL) {
			testnet_fail("out of memory");
			goto fail;
		}
		if (util_mkdirs(nd->dir, 0700) != 0 ||
		    (unlink(api) != 0 && errno != ENOENT) ||
		    (unlink(addr) != 0 && errno != ENOENT)) {
			testnet_fail("cannot prepare %s: %s", nd->dir,
			    strerror(errno));
			goto fail;
		}
		free(api);
		free(addr);
		api = addr = NULL;
	}
	rc = 0;
fail:
	free(api);
	free(addr);
	return rc;
}

/* Reads the first line of DIR/nodeI/NAME into buf; -1 if it is missing,
 * empty or too long. */
static int
testnet_read_line(const struct testnet_node *nd, const char *name,
    char *buf, size_t len)
{
	char *path = util_path(nd->dir, name), *text = NULL;
	size_t got = 0;
	int rc = -1;

	if (path != NULL && util_read_file(path, len - 1, &text, &got) == 0) {
		text[strcspn(text, "\r\n")] = '\0';
		snprintf(buf, len, "%s", text);
		rc = buf[0] != '\0' ? 0 : -1;
	}
	free(path);
	free(text);
	return rc;
}

/* What node nd has yet to write: "api", "address" (HOST:PORT#PUBKEY,
 * usable as a --peer value), or NULL once both are there. */
static const char *
testnet_files_missing(struct testnet_node *nd)
{
	struct config_peer peer;
	bool ok;

	if (testnet_read_line(nd, "api", nd->api, sizeof(nd->api)) != 0)
		return "api";
	if (testnet_read_line(nd, "address", nd->address,
	    sizeof(nd->address)) != 0)
		return "address";
	ok = config_parse_peer(&peer, nd->address) == 0;
	free(peer.addr);
	return ok ? NULL : "address";
}

/* Waits (TESTNET_FILE_WAIT s at most) for node i's files. */
static int
testnet_wait_files(struct testnet *tn, unsigned i)
{
	struct testnet_node *nd = &tn->nodes[i];
	double deadline = util_now() + TESTNET_FILE_WAIT;
	unsigned rounds = (unsigned)(TESTNET_FILE_WAIT * 1000 / 50) + 1;
	const char *missing = "api";

	for (unsigned k = 0; k < rounds; k++) {
		if ((missing = testnet_files_missing(nd)) == NULL)
			return 0;
		if (testnet_tick(tn, 50) != 0 || util_now() > deadline)
			break;
	}
	if (tn->interrupted || tn->failed)
		return -1;
	return testnet_fail("node %u wrote no valid %s/%s within %.0f s; "
	    "see %s", i + 1, nd->dir, missing, TESTNET_FILE_WAIT, nd->log);
}

/* Runs in the child: from fork() to the node's execv(). */
static void __attribute__((noreturn))
testnet_child(const struct testnet *tn, int logfd, int nullfd, char **argv)
{
	static const char msg[] = "umbra testnet: cannot run /proc/self/exe\n";

	/* Ends with the testnet even if it is killed outright: no orphan
	 * nodes left holding their datadirs. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != tn->self)
		_exit(127);
	/* Its own process group: Ctrl-C reaches the testnet only, which
	 * then stops the nodes itself and tells their exits apart. */
	setpgid(0, 0);
	if (dup2(nullfd, STDIN_FILENO) < 0 || dup2(logfd, STDOUT_FILENO) < 0 ||
	    dup2(logfd, STDERR_FILENO) < 0)
		_exit(127);
	sigprocmask(SIG_SETMASK, &tn->oldmask, NULL);
	execv("/proc/self/exe", argv);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

/* Forks node i with argv, its stdout and stderr appended to its log. */
static int
testnet_spawn(struct testnet *tn, unsigned i, char **argv)
{
	struct testnet_node *nd = &tn->nodes[i];
	int logfd = open(nd->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t pid = -1;

	if (logfd < 0 || nullfd < 0) {
		testnet_fail("cannot open %s: %s", logfd < 0 ? nd->log :
		    "/dev/null", strerror(errno));
		goto out;
	}
	fflush(NULL);
	if ((pid = fork()) == 0)
		testnet_child(tn, logfd, nullfd, argv);
	if (pid < 0) {
		testnet_fail("cannot start node %u: %s", i + 1,
		    strerror(errno));
		goto out;
	}
	setpgid(pid, pid);	/* also here: no window for a Ctrl-C */
	nd->pid = pid;
	tn->alive++;
out:
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	return pid > 0 ? 0 : -1;
}

/* Starts node i: seeded with node i-1 and one other random earlier
 * node, so the seed graph is connected but sparse. */
static int
testnet_start_node(struct testnet *tn, unsigned i)
{
	char kbuf[16], *argv[TESTNET_ARGV_MAX];
	size_t a = 0;

	snprintf(kbuf, sizeof(kbuf), "%u", tn->max_peers);
	argv[a++] = "umbra";
	argv[a++] = "node";
	argv[a++] = "--datadir";
	argv[a++] = tn->nodes[i].dir;
	argv[a++] = "--listen";
	argv[a++] = "127.0.0.1:0";
	argv[a++] = "--api";
	argv[a++] = "127.0.0.1:0";
	argv[a++] = "--max-peers";
	argv[a++] = kbuf;
	if (tn->log_level != NULL) {
		argv[a++] = "--log-level";
		argv[a++] = (char *)tn->log_level;
	}
	if (i >= 1) {
		argv[a++] = "--peer";
		argv[a++] = tn->nodes[i - 1].address;
	}
	if (i >= 2) {
		argv[a++] = "--peer";
		argv[a++] = tn->nodes[randombytes_uniform(i - 1)].address;
	}
	argv[a] = NULL;
	if (testnet_spawn(tn, i, argv) != 0)
		return -1;
	return testnet_wait_files(tn, i);
}

/* Polls node i's status for its links up, the relays it knows and
 * whether it has a path built. */
static void
testnet_poll_peers(struct testnet *tn, unsigned i)
{
	struct testnet_node *nd = &tn->nodes[i];
	json_t *doc = NULL, *path;
	size_t k;

	if (client_fetch_status(nd->dir, TESTNET_STATUS_TIMEOUT, &doc) ==
	    CLIENT_OK) {
		nd->peers = json_array_size(json_object_get(doc, "peers"));
		nd->relays = (size_t)json_integer_value(json_object_get(doc,
		    "relays_known"));
		nd->path_ready = false;
		json_array_foreach(json_object_get(doc, "paths"), k, path)
			if (json_is_string(json_object_get(path, "state")) &&
			    strcmp(json_string_value(json_object_get(path,
			    "state")), "ready") == 0)
				nd->path_ready = true;
	}
	json_decref(doc);
}

/* Node i is part of the network: min(2, N-1, K) links, and where N
 * allows a path of PATHS_DEFAULT_HOPS, the relays for one and one built
 * (so a put or get with the default hops can start at once). */
static bool
testnet_node_ready(const struct testnet *tn, unsigned i, size_t need)
{
	const struct testnet_node *nd = &tn->nodes[i];

	if (nd->peers < need)
		return false;
	return tn->n - 1 < PATHS_DEFAULT_HOPS ||
	    (nd->relays >= PATHS_DEFAULT_HOPS && nd->path_ready);
}

/* Waits (TESTNET_PEERS_WAIT s at most) until every node is ready. */
static int
testnet_wait_peers(struct testnet *tn)
{
	size_t need = tn->n - 1 < 2 ? tn->n - 1 : 2;
	double deadline = util_now() + TESTNET_PEERS_WAIT;
	unsigned rounds = (unsigned)(TESTNET_PEERS_WAIT * 1000 /
	    TESTNET_TICK_MS) + 1, ready = 0, lag = 0;

	if (need > tn->max_peers)
		need = tn->max_peers;
	for (unsigned k = 0; k < rounds; k++) {
		ready = 0;
		for (unsigned i = 0; i < tn->n; i++) {
			testnet_poll_peers(tn, i);
			if (testnet_node_ready(tn, i, need))
				ready++;
			else
				lag = i;
		}
		if (ready == tn->n)
			return 0;
		if (testnet_tick(tn, TESTNET_TICK_MS) != 0 ||
		    util_now() > deadline)
			break;
	}
	if (tn->interrupted || tn->failed)
		return -1;
	return testnet_fail("after %.0f s only %u of %u nodes have %zu peers "
	    "or more and an onion path (node %u has %zu peers, knows %zu "
	    "relays; see %s)", TESTNET_PEERS_WAIT, ready, tn->n, need, lag + 1,
	    tn->nodes[lag].peers, tn->nodes[lag].relays, tn->nodes[lag].log);
}

static int
testnet_start(struct testnet *tn)
{
	for (unsigned i = 0; i < tn->n; i++)
		if (testnet_start_node(tn, i) != 0)
			goto fail;
	if (testnet_wait_peers(tn) != 0)
		goto fail;
	for (unsigned i = 0; i < tn->n; i++)
		printf("node %u: pid %ld datadir %s api %s peers %zu\n", i + 1,
		    (long)tn->nodes[i].pid, tn->nodes[i].dir, tn->nodes[i].api,
		    tn->nodes[i].peers);
	printf("testnet ready: %u nodes (Ctrl-C stops them)\n", tn->n);
	if (fflush(stdout) != 0)
		return testnet_fail("cannot write to stdout: %s",
		    strerror(errno));
	tn->ready = true;
	return 0;
fail:
	if (tn->interrupted)
		testnet_fail("interrupted before the network was ready");
	return -1;
}

/* Runs until SIGINT or SIGTERM; reports nodes that exit meanwhile.
 * Returns -1 if every node has exited. */
static int
testnet_serve(struct testnet *tn)
{
	int sig;

	/* Unbounded on purpose: the network runs until the user stops it.
	 * Each turn sleeps until a signal; nothing polls. */
	for (;;) {
		sig = sigwaitinfo(&tn->waitset, NULL);
		if (sig == SIGINT || sig == SIGTERM)
			return 0;
		testnet_reap(tn);
		if (tn->alive == 0)
			return testnet_fail("every node has exited");
	}
}

/* SIGTERM to every node, TESTNET_STOP_WAIT s for all to exit, then
 * SIGKILL for the rest; reaps them all. */
static void
testnet_stop(struct testnet *tn)
{
	double deadline = util_now() + TESTNET_STOP_WAIT;
	unsigned rounds = (unsigned)(TESTNET_STOP_WAIT * 1000 /
	    TESTNET_TICK_MS) + 1;
	int status;

	tn->stopping = true;
	for (unsigned i = 0; i < tn->n; i++)
		if (tn->nodes[i].pid > 0)
			kill(tn->nodes[i].pid, SIGTERM);
	for (unsigned k = 0; k < rounds && tn->alive > 0 &&
	    util_now() < deadline; k++)
		(void)testnet_tick(tn, TESTNET_TICK_MS);
	for (unsigned i = 0; i < tn->n; i++) {
		pid_t pid = tn->nodes[i].pid;

		if (pid <= 0)
			continue;
		testnet_fail("node %u (pid %ld) did not stop within %.0f s: "
		    "killing it", i + 1, (long)pid, TESTNET_STOP_WAIT);
		kill(pid, SIGKILL);
		/* Bounded: SIGKILL cannot be caught or ignored. */
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		tn->nodes[i].pid = 0;
		tn->alive--;
	}
}

static void
testnet_free(struct testnet *tn)
{
	for (unsigned i = 0; i < TESTNET_NODES_MAX; i++) {
		free(tn->nodes[i].dir);
		free(tn->nodes[i].log);
	}
	free(tn->dir);
}

int
testnet_main(int argc, char **argv)
{
	static struct testnet tn;	/* 64 nodes' lines: off the stack */
	int rc;

	memset(&tn, 0, sizeof(tn));
	tn.max_peers = TESTNET_DEFAULT_MAX_PEERS;
	tn.self = getpid();
	if ((rc = testnet_parse_args(&tn, argc, argv)) != 0) {
		if (rc == 1)
			fputs(testnet_usage, stdout);
		return rc == 1 ? 0 : rc;
	}
	/* Each node's token is in its datadir; one in the environment
	 * belongs to some other node. */
	unsetenv("UMBRA_API_TOKEN");
	rc = 1;
	if (sodium_init() < 0) {
		testnet_fail("libsodium failed to start");
		goto out;
	}
	if (testnet_signals(&tn) != 0 || testnet_make_dirs(&tn) != 0)
		goto out;
	if (testnet_start(&tn) == 0 && testnet_serve(&tn) == 0)
		rc = 0;
	testnet_stop(&tn);
	printf("testnet stopped\n");
	fflush(stdout);
out:
	testnet_free(&tn);
	return rc;
}
