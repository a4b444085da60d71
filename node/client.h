/*
 * client.h - the command-line clients: umbra put, get and status.
 *
 * Each talks to a running node over its HTTP API (docs/http-api.md),
 * found through DATADIR/api and DATADIR/api.token, or --api HOST:PORT
 * with the token from $UMBRA_API_TOKEN or the datadir. Bytes stream both
 * ways; nothing holds a whole document in memory.
 *
 * Exit codes (also in `umbra --help`):
 *   0 success; 1 the operation failed (content not found, store full,
 *   interrupted transfer, output not writable); 2 bad usage or input
 *   (unknown option, invalid URI, unreadable file); 3 no node to talk to
 *   (none running, refused token).
 */
#ifndef UMBRA_CLIENT_H
#define UMBRA_CLIENT_H

enum client_exit {
	CLIENT_OK = 0,
	CLIENT_EFAIL = 1,
	CLIENT_EUSAGE = 2,
	CLIENT_ENONODE = 3,
};

/* argv[0] is the subcommand name. */
int client_put(int argc, char **argv);
int client_get(int argc, char **argv);
int client_status(int argc, char **argv);

struct json_t;
/* GET /api/v1/status of the node whose datadir is datadir (DIR/api and
 * the token: $UMBRA_API_TOKEN, else DIR/api.token), bounded by timeout
 * seconds. Prints nothing, for callers that poll (umbra testnet). On
 * CLIENT_OK *out is the parsed answer, for json_decref(); otherwise
 * *out is NULL and the return value is a CLIENT_E* code. */
int client_fetch_status(const char *datadir, long timeout,
    struct json_t **out);

#endif
