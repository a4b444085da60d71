/*
 * api.h - the node's HTTP server: the /api/v1 interface the command line
 * uses (docs/http-api.md) and the browser gateway (node/gateway.c,
 * docs/gateway.md), on libmicrohttpd driven by the node's libevent loop.
 *
 * libmicrohttpd rather than libevent's evhttp: evhttp 2.1 reads a whole
 * request body into memory before the handler runs (libevent issue 1138),
 * so a 1 GiB put would need 1 GiB of RAM; libmicrohttpd hands the body
 * over as it arrives and lets a connection be suspended while the store
 * catches up, which gives real back-pressure. It runs in "external epoll"
 * mode: its one epoll descriptor is watched by the node's event loop, so
 * every handler runs on the loop thread and shares the node's state
 * without locks.
 *
 * Every request must carry Host equal to the server's own address or a
 * loopback name with its port (against DNS rebinding) and, under /api/,
 * "Authorization: Bearer TOKEN". Headers over API_MAX_HEADERS lines or
 * API_MAX_HEADER_BYTES in all get 431.
 *
 * Ownership: api_start() binds and starts serving; api_stop() closes every
 * connection (uploads in progress are given up) and accepts NULL.
 */
#ifndef UMBRA_API_H
#define UMBRA_API_H

#include <stdint.h>

#define API_MAX_HEADERS 100
#define API_MAX_HEADER_BYTES (64 * 1024)
#define API_MAX_CONNECTIONS 64
#define API_MAX_PUTS 4
#define API_TOKEN_HEX 64
/* HTML and CSS pages being filtered at once (each holds at most its
 * document, HTML_FILTER_MAX_INPUT, and its output); one runs at a time on
 * the filter thread. More: 503. */
#define API_MAX_FILTERS 4

struct node;
struct api;

/* Binds addr (HOST:PORT; port 0 picks one) and serves. On failure returns
 * -1 with a reason in why. */
int api_start(struct api **out, struct node *node, const char *addr,
    const char *token, char *why, size_t whylen);
/* The address actually bound, as HOST:PORT. */
const char *api_address(const struct api *a);
void api_stop(struct api *a);

#endif
