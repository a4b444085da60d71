/* session.c - see session.h. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/session.h"

struct session {
	char id[SESSION_HEX + 1];	/* "" when free */
	char csrf[SESSION_HEX + 1];
	double started;
};

struct session_table {
	struct session s[SESSION_MAX];
};

struct session_table *
session_table_new(void)
{
	return calloc(1, sizeof(struct session_table));
}

void
session_table_free(struct session_table *t)
{
	if (t == NULL)
		return;
	sodium_memzero(t, sizeof(*t));
	free(t);
}

static void
session_random_hex(char out[SESSION_HEX + 1])
{
	unsigned char raw[SESSION_HEX / 2];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, SESSION_HEX + 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

void
session_open(struct session_table *t, double now, char id[SESSION_HEX + 1])
{
	struct session *s = &t->s[0];

	/* A free slot, else the oldest. */
	for (size_t i = 0; i < SESSION_MAX && s->id[0] != '\0'; i++)
		if (t->s[i].id[0] == '\0' || t->s[i].started < s->started)
			s = &t->s[i];
	session_random_hex(s->id);
	session_random_hex(s->csrf);
	s->started = now;
	memcpy(id, s->id, SESSION_HEX + 1);
}

/* The value of our cookie in a Cookie header ("a=1; umbra_session=..."),
 * if it has exactly SESSION_HEX characters. */
static const char *
session_cookie_value(const char *cookie)
{
	static const char name[] = SESSION_COOKIE "=";
	const char *p = cookie;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " ");
		if (strncmp(p, name, sizeof(name) - 1) == 0) {
			p += sizeof(name) - 1;
			return strcspn(p, ";") == SESSION_HEX ? p : NULL;
		}
		if ((p = strchr(p, ';')) != NULL)
			p++;
	}
	return NULL;
}

static struct session *
session_lookup(struct session_table *t, const char *cookie, double now)
{
	const char *v = session_cookie_value(cookie);
	struct session *s;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < SESSION_MAX; i++) {
		s = &t->s[i];
		if (s->id[0] == '\0')
			continue;
		if (now - s->started > SESSION_TTL) {
			sodium_memzero(s, sizeof(*s));
			continue;
		}
		if (sodium_memcmp(s->id, v, SESSION_HEX) == 0)
			return s;
	}
	return NULL;
}

bool
session_find(struct session_table *t, const char *cookie, double now,
    char csrf[SESSION_HEX + 1])
{
	struct session *s = session_lookup(t, cookie, now);

	if (s == NULL)
		return false;
	memcpy(csrf, s->csrf, SESSION_HEX + 1);
	return true;
}

bool
session_check_form(struct session_table *t, const char *cookie,
    const char *form, double now)
{
	struct session *s = session_lookup(t, cookie, now);

	return s != NULL && form != NULL && strlen(form) == SESSION_HEX &&
	    sodium_memcmp(s->csrf, form, SESSION_HEX) == 0;
}

void
session_close(struct session_table *t, const char *cookie)
{
	struct session *s = session_lookup(t, cookie, 0.0);

	if (s != NULL)
		sodium_memzero(s, sizeof(*s));
}
