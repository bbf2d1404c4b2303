/* Logging to stderr: leveled messages and one access line per request,
 * as text or JSON (LOG_FORMAT=json). The level is set once at start-up. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* syslog numbering */
#define LOG_EMERG 0
#define LOG_ALERT 1
#define LOG_CRIT 2
#define LOG_ERR 3
#define LOG_WARNING 4
#define LOG_NOTICE 5
#define LOG_INFO 6
#define LOG_DEBUG 7

/* "emerg" .. "debug", indexed by level. */
extern const char *const log_level_names[8];

/* An address as logs and messages show it: "127.0.0.1:2375", "[::1]:2375"
 * (a host with a colon is IPv6 and gets brackets). Returns out. */
const char *log_hostport(char *out, size_t n, const char *host, int port);

void log_setup(int level, bool json);
bool log_enabled(int level);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef struct {
    const char *client;   /* "127.0.0.1:4711" or "uid=1000 pid=42" */
    const char *profile;  /* the client's profile, or NULL when there are no profiles */
    const char *cert;     /* a TLS client certificate's subject, or NULL */
    const char *method;
    const char *target;
    const char *decision; /* "allow", "deny", "bad" */
    const char *rule;     /* the variables behind the decision, or the reason */
    int status;
    uint64_t bytes;       /* response bytes sent to the client */
    double ms;
} log_access_entry;

void log_access(const log_access_entry *e);

#endif
