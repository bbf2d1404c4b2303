/* Response redaction: a few daemon answers (container, service and task
 * inspects and lists, the swarm inspect) carry secrets a client of the proxy
 * should not read unless a variable opens them: the containers' environment
 * (passwords, API keys) and the swarm's join tokens (they let any host join
 * the cluster). The caller buffers such an answer whole and gets back a copy
 * in which those values are replaced by a marker and EVERY OTHER BYTE is the
 * daemon's: a strict byte-level JSON scanner walks the answer and copies raw
 * ranges, never parsing into numbers and printing again (dockerd writes
 * integers past 2^53, key order and spacing are kept).
 *
 * Pure: no libuv, no I/O, no globals. Not yet wired into the proxy. */
#ifndef RULES_REDACT_H
#define RULES_REDACT_H

#include <stddef.h>

/* What replaces a redacted value: no character in them needs a JSON escape.
 * An Env entry "NAME=value" becomes "NAME=" REDACT_MARKER_ENV; a join token
 * becomes REDACT_MARKER_TOKEN. They name the variable the wiring is to use. */
#define REDACT_MARKER_ENV "<redacted by socket-proxy: ALLOW_ENV=1 shows it>"
#define REDACT_MARKER_TOKEN "<redacted by socket-proxy: SECRETS=1 shows it>"

typedef enum {
    REDACT_NONE,      /* nothing to redact */
    REDACT_CONTAINER, /* GET /containers/{name}/json: Config.Env */
    REDACT_SERVICE,   /* GET /services/{id}: (Previous)Spec.TaskTemplate.ContainerSpec.Env */
    REDACT_SERVICES,  /* GET /services: the same in each element */
    REDACT_TASK,      /* GET /tasks/{id}: Spec.ContainerSpec.Env */
    REDACT_TASKS,     /* GET /tasks: the same in each element */
    REDACT_SWARM,     /* GET /swarm: JoinTokens.Worker and JoinTokens.Manager */
} redact_kind;

/* What to redact: the caller sets a bit unless its variable opens the values. */
enum {
    REDACT_ENV = 1,         /* the Env kinds */
    REDACT_JOIN_TOKENS = 2, /* REDACT_SWARM */
};

/* The kind of answer a request gets. method exactly "GET" (HEAD has no body);
 * path: cleaned, version prefix removed, no query ("/containers/abc/json").
 * One trailing slash is read as the route without it (dockerd answers 404,
 * another router may not: redacting an answer that has nothing costs nothing). */
redact_kind redact_kind_of(const char *method, size_t mlen, const char *path, size_t plen);

/* Copies in (len bytes, need not be NUL-terminated) to a malloc'd *out
 * (*outlen bytes plus a NUL the length leaves out; the caller frees it) with
 * the values of `kind` that `what` selects replaced, and counts them in
 * *replaced. Returns 0, or -1 with *out NULL and nothing allocated when in is
 * not exactly one RFC 8259 JSON value (whitespace around it allowed) in valid
 * UTF-8 nested at most 64 deep, when a selected target has a type the daemon
 * never writes (an Env that is not an array of strings or null, a token that
 * is not a string or null), when kind is unknown, or when memory runs out. */
int redact(redact_kind kind, unsigned what, const char *in, size_t len, char **out, size_t *outlen,
           unsigned *replaced);

#endif
