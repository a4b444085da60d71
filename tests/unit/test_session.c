/*
 * test_session.c - browser sessions (node/session.h): cookies found in
 * any place of the header, form tokens checked, ends by logout, by age
 * and by the limit.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "node/session.h"
#include "tests/tap.h"

static void
cookie_of(char *out, size_t len, const char *before, const char *id,
    const char *after)
{
	snprintf(out, len, "%s" SESSION_COOKIE "=%s%s", before, id, after);
}

int
main(void)
{
	struct session_table *t = session_table_new();
	char id[SESSION_HEX + 1], id2[SESSION_HEX + 1], csrf[SESSION_HEX + 1];
	char csrf2[SESSION_HEX + 1], cookie[1024];
	char ids[SESSION_MAX][SESSION_HEX + 1];
	bool ok = true;

	if (sodium_init() < 0 || t == NULL) {
		printf("Bail out! setup\n");
		return 1;
	}
	session_open(t, 100.0, id);
	TAP_OK(strlen(id) == SESSION_HEX && strspn(id, "0123456789abcdef") ==
	    SESSION_HEX, "a session id is 64 hex characters");
	cookie_of(cookie, sizeof(cookie), "", id, "");
	TAP_OK(session_find(t, cookie, 101.0, csrf) && strlen(csrf) ==
	    SESSION_HEX && strcmp(csrf, id) != 0,
	    "found by its cookie, with a form token unlike the id");
	cookie_of(cookie, sizeof(cookie), "a=1; b=2; ", id, "; c=3");
	TAP_OK(session_find(t, cookie, 101.0, csrf2) &&
	    strcmp(csrf, csrf2) == 0, "found among other cookies");
	TAP_OK(!session_find(t, NULL, 101.0, csrf2) &&
	    !session_find(t, "", 101.0, csrf2) &&
	    !session_find(t, SESSION_COOKIE "=", 101.0, csrf2),
	    "no cookie, an empty header, an empty value: none");
	cookie_of(cookie, sizeof(cookie), "", id, "0");
	TAP_OK(!session_find(t, cookie, 101.0, csrf2),
	    "an id one character long: none");
	id2[0] = '\0';
	snprintf(id2, sizeof(id2), "%.63s", id);
	cookie_of(cookie, sizeof(cookie), "", id2, "");
	TAP_OK(!session_find(t, cookie, 101.0, csrf2),
	    "an id one character short: none");
	cookie_of(cookie, sizeof(cookie), "x", id, "");
	TAP_OK(!session_find(t, cookie, 101.0, csrf2),
	    "a cookie whose name only ends in ours: none");
	cookie_of(cookie, sizeof(cookie), "", id, "");
	TAP_OK(session_check_form(t, cookie, csrf, 102.0) &&
	    !session_check_form(t, cookie, id, 102.0) &&
	    !session_check_form(t, cookie, NULL, 102.0) &&
	    !session_check_form(t, cookie, "", 102.0),
	    "the form token checks; the id, NULL or \"\" in its place do not");
	TAP_OK(!session_find(t, cookie, 100.0 + SESSION_TTL + 1, csrf2) &&
	    !session_find(t, cookie, 101.0, csrf2),
	    "a session ends after SESSION_TTL, for good");
	session_open(t, 200.0, id);
	cookie_of(cookie, sizeof(cookie), "", id, "");
	session_close(t, cookie);
	TAP_OK(!session_find(t, cookie, 201.0, csrf2), "logout ends it");
	for (int i = 0; i < SESSION_MAX; i++)
		session_open(t, 300.0 + i, ids[i]);
	session_open(t, 400.0, id);
	for (int i = 0; i < SESSION_MAX; i++) {
		cookie_of(cookie, sizeof(cookie), "", ids[i], "");
		ok &= session_find(t, cookie, 401.0, csrf2) == (i != 0);
	}
	cookie_of(cookie, sizeof(cookie), "", id, "");
	TAP_OK(ok && session_find(t, cookie, 401.0, csrf2),
	    "past %d sessions, a new one ends the oldest only", SESSION_MAX);
	session_table_free(t);
	session_table_free(NULL);
	return tap_done();
}
