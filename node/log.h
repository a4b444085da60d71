/*
 * log.h - leveled logging to stderr for the daemon and the client.
 *
 * Lines look like "2026-11-24T21:00:00Z umbra[1234] warn: text". The level
 * is set once at start (log_set_level); messages below it are dropped.
 * Never pass secrets (keys, tokens, URIs' decryption keys) to these.
 */
#ifndef UMBRA_LOG_H
#define UMBRA_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERR = 3 };

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn" or "error"; -1 if none of them. */
int log_parse_level(const char *s);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)

#endif
