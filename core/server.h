/* The running server: listeners, the connection list, signals, shutdown. */
#ifndef CORE_SERVER_H
#define CORE_SERVER_H

#include <stdbool.h>
#include <uv.h>

#include "clients.h"
#include "config.h"
#include "metrics.h"
#include "profiles.h"
#include "rules/rules.h"

struct conn;

typedef struct listener {
    union {
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    struct server *srv;
    const profile *prof;    /* whose rules and admission apply here */
    const char *log_name;   /* the profile's name in the access log, or NULL */
    char unix_path[108];    /* the socket file, removed on exit while `bound` */
    bool is_unix;
    bool tls;               /* a TCP listener while TLS is configured */
    bool open;
    bool bound;
} listener;

struct quiet;
struct lookup_pool;
struct tls_server;

/* Idle keep-alive connections to the daemon kept for the next request, and
 * for how long: lookups (core/lookup.h; a scoped profile asks the daemon
 * before most requests) and clients' plain GET and HEAD requests (core/proxy.c)
 * share them, which spares a new client connection the connect, the daemon's
 * accept and the close. The daemon spends a goroutine on each. */
#define SERVER_DAEMON_IDLE 32
#define SERVER_DAEMON_IDLE_MS 30000

typedef struct server {
    uv_loop_t *loop;
    struct quiet *quiet;      /* repeated faults logged once, then summed up (core/quiet.c) */
    struct lookup_pool *lookups; /* idle daemon connections, shared by lookups and requests */
    struct learn *learn;      /* SOCKET_PROXY_MODE=learn: what each client needed; NULL otherwise */
    const config *cfg;
    profiles *profiles;
    listener *listeners;      /* one per socket and TCP address of every profile */
    int nlisteners;
    struct conn *conns;       /* doubly linked list of live connections */
    size_t nconns;
    size_t max_conns;
    size_t closed_since_trim; /* connections closed since memory was last given back */
    bool draining;            /* SIGTERM seen: finish in-flight requests, then exit */
    clients clients;          /* connections per client (SOCKET_PROXY_MAX_CLIENT_CONNS) */
    uv_signal_t sig_term, sig_int, sig_chld;
    uv_signal_t sig_usr1;     /* learn mode: print what was learned */
    uv_signal_t sig_hup;      /* TLS: load the certificate files again */
    struct tls_server *tls;   /* TLS: what new connections use (old ones keep theirs); NULL in clear */
    size_t handshaking;       /* TLS handshakes under way, at most SERVER_TLS_HANDSHAKES ... */
    clients handshakes;       /* ... and SERVER_TLS_HANDSHAKES_PER_CLIENT from one address */
    uv_timer_t learn_warn;    /* learn mode: "not enforcing" every 10 minutes */
    uv_timer_t grace;
    void **buf_free[2];       /* recycled I/O buffers: [0] small, [1] large */
    size_t buf_nfree[2];
    size_t buf_size;          /* large: streaming, and the head limit */
    size_t held, held_max;    /* bytes of judged bodies held whole, and their bound */
    /* SOCKET_PROXY_METRICS: both NULL when it is off (the metrics_ hooks
     * take NULL as a no-op, so the connection code calls them regardless).
     * A request's metrics_request.profile is its profile's index in
     * profiles->p (l->prof - srv->profiles->p). */
    metrics *metrics;
    metrics_listener *metrics_l;
} server;

/* A TLS handshake costs milliseconds of CPU and ~40 KB before the client has
 * shown a certificate: handshakes under way are bounded, in all and per
 * client address; beyond, a new connection is closed at once. */
#define SERVER_TLS_HANDSHAKES 256
#define SERVER_TLS_HANDSHAKES_PER_CLIENT 32

/* Judged bodies held at once (read whole before they are sent) may take at
 * most this many times SOCKET_PROXY_MAX_BODY together: 512 slow clients
 * cannot pin 512 bodies' worth of memory. Beyond it: 503, retry. */
#define SERVER_HELD_BODIES 16

/* Binds every listener, drops privileges, serves until shutdown. tls: the
 * loaded certificates when SOCKET_PROXY_TLS_* is set (the server owns it),
 * else NULL. Returns the process exit code. */
int server_run(const config *cfg, profiles *ps, struct tls_server *tls);

/* Called by the connection code when a connection is gone. */
void server_conn_closed(server *s);

/* I/O buffers, recycled: SERVER_BUF_SMALL bytes for request heads (most are
 * a few hundred bytes, and a flood of slow clients must stay cheap), or
 * s->buf_size bytes for bodies, responses and large heads. */
#define SERVER_BUF_SMALL 4096
char *server_buf_get(server *s, size_t size);
void server_buf_put(server *s, char *b, size_t size);

#endif
