/*
 * main.c - the umbra command: one binary, one subcommand per job.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "node/client.h"
#include "node/config.h"
#include "node/node.h"
#include "node/testnet.h"

static const char main_usage[] =
    "usage: umbra SUBCOMMAND [OPTIONS]\n"
    "An anonymous, content-addressed, peer-to-peer store.\n"
    "\n"
    "  umbra node    [--datadir DIR] [--listen HOST:PORT] [--api HOST:PORT]\n"
    "                [--announce HOST[:PORT]]\n"
    "                [--peer HOST:PORT[#PUBKEY]]... [--store-size SIZE]\n"
    "                [--max-peers N] [--config FILE] [--log-level LEVEL]\n"
    "  umbra put     [--datadir DIR | --api HOST:PORT] FILE|-\n"
    "  umbra get     [--datadir DIR | --api HOST:PORT] URI [-o FILE]\n"
    "  umbra status  [--datadir DIR | --api HOST:PORT] [--json]\n"
    "  umbra testnet --nodes N --dir DIR [--max-peers K] [--log-level LEVEL]\n"
    "  umbra --help, umbra SUBCOMMAND --help, umbra --version\n"
    "\n"
    "DIR defaults to $XDG_DATA_HOME/umbra (else ~/.local/share/umbra).\n"
    "Exit status: 0 ok, 1 failed, 2 bad usage or input, 3 no node.\n";

static const char node_usage[] =
    "usage: umbra node [--datadir DIR] [--listen HOST:PORT] [--api HOST:PORT]\n"
    "                  [--announce HOST[:PORT]]\n"
    "                  [--peer HOST:PORT[#PUBKEY]]... [--store-size SIZE]\n"
    "                  [--max-peers N] [--config FILE] [--log-level LEVEL]\n"
    "Runs a node in the foreground until SIGINT or SIGTERM.\n"
    "  --datadir DIR      identity, store and API files (default\n"
    "                     $XDG_DATA_HOME/umbra)\n"
    "  --api HOST:PORT    HTTP API and gateway (default " CONFIG_DEFAULT_API
    "; port 0 picks one)\n"
    "  --listen HOST:PORT peer links (default " CONFIG_DEFAULT_LISTEN ")\n"
    "  --announce HOST[:PORT]\n"
    "                     the address peers reach us at, as relays announce\n"
    "                     it (default: learned from what peers see, once one\n"
    "                     has dialed us back there; a specific --listen host\n"
    "                     is announced as it is)\n"
    "  --peer ADDR        a peer to link to, HOST:PORT[#PUBKEY] (repeatable)\n"
    "  --store-size SIZE  datastore limit, with K, M, G suffixes (default 1G)\n"
    "  --max-peers N      peer links up at a time, 1-192 (default 32)\n"
    "  --config FILE      'key = value' lines with the same names\n"
    "  --log-level LEVEL  debug, info, warn or error (default info)\n"
    "When ready it writes DIR/api (HOST:PORT), DIR/api.token (mode 0600)\n"
    "and DIR/address (HOST:PORT#PUBKEY, usable as another node's --peer).\n";

static int
main_node(int argc, char **argv)
{
	struct node_config cfg = { 0 };
	char why[512];
	int rc = config_from_args(&cfg, argc, argv, why, sizeof(why));

	if (rc == 1) {
		fputs(node_usage, stdout);
		config_free(&cfg);
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, "umbra node: %s\n", why);
		config_free(&cfg);
		return 2;
	}
	return node_run(&cfg);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} cmds[] = {
		{ "node", main_node },
		{ "put", client_put },
		{ "get", client_get },
		{ "status", client_status },
		{ "testnet", testnet_main },
	};
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(main_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("umbra %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = cmds[i].run(argc - 1, argv + 1);
		curl_global_cleanup();
		return rc;
	}
	fprintf(stderr, "umbra: unknown subcommand '%s' (see umbra --help)\n",
	    argv[1]);
	return 2;
}
