/* Prometheus metrics (SOCKET_PROXY_METRICS): counters the connection code
 * feeds, rendered in Prometheus' text format on a listener of their own,
 * never on the proxy's sockets. Labels are bounded: profile, method, section
 * (the variable that decided), decision and status class; no targets, no
 * container IDs. Memory: one slot per combination seen, in a table that
 * stops growing at METRICS_MAX_SERIES (later combinations count under
 * section="other"). */
#ifndef CORE_METRICS_H
#define CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define METRICS_MAX_SERIES 4096

typedef struct metrics metrics;

/* names[0..n): the profiles' names as they appear in the label ("" is the
 * default profile: profile="default"). NULL when memory is short. */
metrics *metrics_new(int n, const char *const *names);
void metrics_free(metrics *m);

/* One finished request (its access line). */
typedef struct metrics_request {
    int profile;          /* index into the names */
    const char *method;   /* GET, HEAD, POST, PUT, DELETE; anything else counts as "other" */
    const char *section;  /* the variable that decided ("CONTAINERS"), or NULL: "none" */
    const char *decision; /* allow, deny, bad, error, learn-allow */
    int status;           /* the answer's status: counted by class (2xx, 3xx, 4xx, 5xx) */
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
    METRICS_EVENTS
} metrics_event;
void metrics_event_add(metrics *m, metrics_event e);

/* The Prometheus text exposition (version 0.0.4) of everything, with the
 * process's RSS and open descriptors and the build info: a malloc'd string
 * in *out, its length returned; 0 (and *out NULL) when memory is short. */
size_t metrics_render(const metrics *m, char **out);

/* What GET /_socket-proxy/learned answers (learn mode); NULL: 404. The text
 * is malloc'd and freed by the listener. */
typedef char *(*metrics_learned_fn)(void *arg, size_t *len);

/* Listens on addr ("127.0.0.1:9100", "[::1]:9100"): GET /metrics, and GET
 * /_socket-proxy/learned when learned is not NULL; anything else 404 (405
 * for another method on those paths); one request per connection, heads
 * bounded and timed. Returns 0, or -1 with one line in err naming
 * SOCKET_PROXY_METRICS. */
typedef struct metrics_listener metrics_listener;
metrics_listener *metrics_listen(uv_loop_t *loop, const char *addr, metrics *m, metrics_learned_fn learned,
                                 void *arg, char *err, size_t errlen);
/* Stops listening and closes its connections (shutdown). */
void metrics_close(metrics_listener *l);

#endif
