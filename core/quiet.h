/* Quiet logs under faults: a fault that repeats (the daemon unreachable, a
 * connection limit reached, a stranger knocking) is logged once in full,
 * then as one summary line every QUIET_WINDOW_S seconds while it lasts
 * ("daemon unreachable: 1,234 requests answered 502 in the last 10 s"), and
 * with one line when it ends where that is known (the daemon is back).
 * Every client still gets its answer; only the log is spared. */
#ifndef CORE_QUIET_H
#define CORE_QUIET_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define QUIET_WINDOW_S 10
#define QUIET_KEYS 8 /* addresses tracked at once per keyed kind; the oldest gives way */

typedef enum {
    QUIET_DAEMON,       /* a 502: the daemon cannot be reached */
    QUIET_LIMIT,        /* a connection refused: the proxy's own connection limit */
    QUIET_CLIENT_LIMIT, /* a connection refused: SOCKET_PROXY_MAX_CLIENT_CONNS, per client */
    QUIET_STRANGER,     /* a connection refused by ALLOW_FROM / PEER_UIDS / PEER_GIDS, per address */
    QUIET_TLS,          /* a TLS handshake refused (or a certificate no profile takes), per address */
    QUIET_KINDS
} quiet_kind;

typedef struct quiet quiet;

/* A summary timer on loop (unreferenced: it never keeps the loop alive).
 * NULL when memory is short (then every hit is logged, as before). */
quiet *quiet_new(uv_loop_t *loop);
/* Logs the pending summaries, stops the timer and frees q (on its close). */
void quiet_close(quiet *q);

/* One occurrence of kind (key: the client or address for the keyed kinds,
 * else NULL). True: log it in full now (the first of a burst); false: it was
 * counted for the next summary. q == NULL: always true. */
bool quiet_hit(quiet *q, quiet_kind kind, const char *key);

/* The fault of kind is over (the daemon answered): one line saying so, with
 * how many were answered meanwhile, when a burst was under way. */
void quiet_over(quiet *q, quiet_kind kind);

#endif
