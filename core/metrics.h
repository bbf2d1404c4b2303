/* Prometheus metrics (SOCKET_PROXY_METRICS): counters the connection code
 * feeds, rendered in Prometheus' text format on a listener of their own,
 * never on the proxy's sockets. Labels are bounded: profile, method, section
 * (the variable that decided), decision and status class; no targets, no
 * container IDs. Memory: one slot per combination seen, in a table that
 * stops growing at METRICS_MAX_SERIES (later combinations count under
 * section="other").
 *
 * Metrics off costs nothing: the server allocates no metrics then, and every
 * hook below (metrics_count_request, metrics_add_bytes, metrics_gauge_add,
 * metrics_event_add) and metrics_free accept m == NULL as a no-op, so the
 * connection code calls them unconditionally. Single-threaded, like the loop. */
#ifndef CORE_METRICS_H
#define CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define METRICS_MAX_SERIES 4096
/* A section label longer than this counts under section="other". */
#define METRICS_SECTION_MAX 63

typedef struct metrics metrics;

/* names[0..n): the profiles' names as they appear in the label ("" is the
 * default profile: profile="default"). NULL when memory is short. */
metrics *metrics_new(int n, const char *const *names);
void metrics_free(metrics *m);

/* One finished request (its access line). */
typedef struct metrics_request {
    int profile;          /* index into the names; outside [0, n): not counted */
    const char *method;   /* GET, HEAD, POST, PUT, DELETE; anything else counts as "other" */
    const char *section;  /* the variable that decided ("CONTAINERS"), or NULL: "none" */
    const char *decision; /* allow, deny, bad, error, learn-allow; anything else (NULL too) counts as "other" */
    int status;           /* the answer's status: counted by class (1xx .. 5xx; anything else "other") */
    double seconds;       /* head to end of answer; < 0 for a stream (events, logs -f, tunnels): not timed */
} metrics_request;
void metrics_count_request(metrics *m, const metrics_request *r);

/* Bytes from clients to the daemon (in) and from the daemon to clients (out). */
void metrics_add_bytes(metrics *m, uint64_t in, uint64_t out);

typedef enum {
    METRICS_CLIENT_CONNS, /* open client connections */
    METRICS_STREAMS,      /* open streams and tunnels */
    METRICS_GAUGES
} metrics_gauge;
void metrics_gauge_add(metrics *m, metrics_gauge g, int delta);

typedef enum {
    METRICS_DIAL_FAILURES,   /* a dial to the daemon failed */
    METRICS_BAD_GATEWAY,     /* 502 answered */
    METRICS_REFUSED_400,
    METRICS_REFUSED_403,
    METRICS_REFUSED_408,
    METRICS_REFUSED_413,
    METRICS_REFUSED_431,
    METRICS_REFUSED_503,
    METRICS_REFUSED_FROM,    /* a connection refused by ALLOW_FROM / PEER_UIDS / PEER_GIDS */
    METRICS_REFUSED_LIMIT,   /* a connection refused at a connection limit */
    METRICS_REFUSED_TLS,     /* a TLS handshake failed, or its certificate chose no profile */
    METRICS_EVENTS
} metrics_event;
void metrics_event_add(metrics *m, metrics_event e);

/* The Prometheus text exposition (version 0.0.4) of everything, with the
 * process's RSS and open descriptors and the build info: a malloc'd string
 * in *out, its length returned; 0 (and *out NULL) when memory is short or m
 * is NULL. Series come in the order they were first counted, so the text
 * for a known sequence of hooks is known. */
size_t metrics_render(const metrics *m, char **out);

/* What GET /_socket-proxy/learned answers (learn mode); NULL: 404. The text
 * is malloc'd and freed by the listener. */
typedef char *(*metrics_learned_fn)(void *arg, size_t *len);

/* The listener's bounds: a request head must end within METRICS_HEAD_MAX
 * bytes (431 beyond) and arrive within METRICS_HEAD_TIMEOUT_MS (408); the
 * answer is written within METRICS_ANSWER_TIMEOUT_MS; beyond
 * METRICS_MAX_CONNS connections at once, a new one is closed at accept. */
#define METRICS_HEAD_MAX 8192
#define METRICS_HEAD_TIMEOUT_MS 5000
#define METRICS_ANSWER_TIMEOUT_MS 10000
#define METRICS_MAX_CONNS 16

/* Listens on addr ("127.0.0.1:9100", "[::1]:9100"): GET /metrics (a query
 * string ignored), and GET /_socket-proxy/learned when learned is not NULL;
 * HEAD as GET without the body; anything else 404 (405 for another method
 * on those paths); one request per connection (Connection: close). Returns
 * the listener, or NULL with one line in err naming SOCKET_PROXY_METRICS. */
typedef struct metrics_listener metrics_listener;
metrics_listener *metrics_listen(uv_loop_t *loop, const char *addr, metrics *m, metrics_learned_fn learned,
                                 void *arg, char *err, size_t errlen);
/* Stops listening and closes its connections (shutdown); the memory goes
 * with the last close callback, so the loop must run on. NULL is a no-op. */
void metrics_close(metrics_listener *l);

#endif
