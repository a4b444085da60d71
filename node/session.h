/*
 * session.h - browser sessions of the gateway: who may upload from the
 * status page.
 *
 * The API token cannot ride in a browser's URLs (history, logs) and a
 * page must not show it (any local user may fetch the status page). So a
 * browser logs in once by posting the token in a form; it gets a session
 * cookie (HttpOnly, SameSite=Strict: other sites' pages cannot send it)
 * and the page gets a per-session form token, which every form that acts
 * must carry back (a second lock against cross-site posts).
 *
 * At most SESSION_MAX sessions live, each SESSION_TTL seconds; a new one
 * past the limit ends the oldest. Ids and form tokens are 32 random bytes
 * in hex, compared in constant time. Nothing is kept across restarts.
 *
 * Ownership: session_table_new() / session_table_free() (accepts NULL;
 * wipes the ids).
 */
#ifndef UMBRA_SESSION_H
#define UMBRA_SESSION_H

#include <stdbool.h>

#define SESSION_MAX 8
#define SESSION_TTL (12 * 3600.0)
#define SESSION_HEX 64
#define SESSION_COOKIE "umbra_session"

struct session_table;

struct session_table *session_table_new(void);
void session_table_free(struct session_table *t);

/* Starts a session at time now: its id (for the cookie) into id. */
void session_open(struct session_table *t, double now,
    char id[SESSION_HEX + 1]);
/* The live session named by a Cookie header (NULL: none): true and its
 * form token in csrf, or false. */
bool session_find(struct session_table *t, const char *cookie, double now,
    char csrf[SESSION_HEX + 1]);
/* True if form (a field's value) is the form token of the live session
 * named by cookie. */
bool session_check_form(struct session_table *t, const char *cookie,
    const char *form, double now);
/* Ends the session named by cookie, if any. */
void session_close(struct session_table *t, const char *cookie);

#endif
