/* The connection state machine: one client, its upstream, one request at a time.
 *
 * Bytes are read into one buffer per side and written to the other side
 * straight from that buffer (no copies). While such a write is in flight, the
 * source buffer is busy and its side is not read: that is the backpressure,
 * and it bounds memory per connection to two buffers whatever the peers do.
 * The proxy's own answers go through the same write path and hold the
 * connection up the same way. Buffers are taken on demand and given back when
 * empty, so idle keep-alive connections and quiet streams hold none.
 * On Linux, the long runs of a clear-text connection (a Content-Length body
 * past its head, a tunnel's bulk) skip the buffers: they are spliced through
 * a pipe, one at a time per connection, with the same backpressure and counts
 * (see "splice" below).
 *
 * Every request head on the client side is parsed and decided; the body is
 * forwarded with its framing tracked (h1_body), so the proxy always knows
 * where the next request starts. The response head is parsed for framing
 * too; 101 (and Docker's older 200 raw-stream hijack) turns the pair into a
 * tunnel that carries half-close.
 *
 * The states of a connection, three machines that move together:
 *
 *   client (cstate)
 *     C_HEAD --allowed head sent, with a body--> C_BODY --body ended--> C_WAIT
 *     C_HEAD --allowed head sent, no body---------------------------> C_WAIT
 *     C_HEAD --refused or 502: answered--> C_HEAD (goes on) | C_WAIT (close_after)
 *     C_WAIT or C_BODY --response ended--> C_HEAD (keep-alive) | C_LINGER
 *     C_WAIT or C_BODY --101 or hijack--> C_TUNNEL --EOF both ways--> closed
 *     C_LINGER (answer flushed, write side shut) --client EOF or 2 s--> closed
 *     C_HEAD --allowed head of a judged body--> C_HOLD --whole (a service body:
 *            and the daemon's host network known), judged: allowed, head and
 *            body sent--> C_WAIT | --refused: answered--> C_WAIT (close_after)
 *     C_HEAD --allowed head of a scoped profile naming an object--> C_SCOPE
 *            --in scope: head re-targeted to the object's ID--> as C_HEAD's
 *            allowed head | --not in scope: 404 answered--> C_HEAD | C_WAIT
 *   response (rstate)
 *     R_IDLE --head sent--> R_HEAD --1xx--> R_HEAD
 *                           R_HEAD --final head--> R_BODY --body ended--> R_IDLE
 *                           R_HEAD --101 or hijack--> R_TUNNEL
 *                           R_HEAD --200 to be redacted--> R_HOLD --whole,
 *                                  redacted and sent--> R_IDLE
 *   upstream (upstate)
 *     UP_NONE --dial--> UP_OPEN --close_upstream--> UP_CLOSING --closed--> UP_NONE
 *     UP_NONE --backlog full--> UP_WAIT --10 ms--> UP_NONE (dial again)
 *     UP_NONE --a GET or HEAD: an idle connection from the pool--> UP_OPEN
 *     UP_OPEN --the client done, the connection clean: back to the pool--> UP_NONE
 *
 * check_states() lists the combinations that may meet; process() asserts
 * them each time it starts a round.
 */
#include "proxy.h"

#include <assert.h>
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http1.h"
#include "learn.h"
#include "log.h"
#include "lookup.h"
#include "quiet.h"
#include "rules/redact.h"
#include "rules/rules.h"
#include "splice.h"
#include "sys.h"
#include "tls.h"

typedef enum { CLIENT = 0, UPSTREAM = 1 } side;
#define OTHER(s) ((side)(1 - (s)))
#define OWN (-1) /* bytes the proxy wrote itself, in no connection buffer */

typedef enum {
    C_HEAD,   /* waiting for (more of) a request head */
    C_BODY,   /* forwarding a request body */
    C_WAIT,   /* request sent; waiting for the response to end */
    C_TUNNEL, /* raw bytes both ways */
    C_LINGER, /* response sent, write side shut: draining input before close */
    C_HOLD,   /* reading a request body the rules judge (container create, ...) whole */
    C_SCOPE,  /* the head waits for the daemon to say whether its object is in the profile's scope */
} client_state;
typedef enum { R_IDLE, R_HEAD, R_BODY, R_TUNNEL, R_HOLD /* read whole to be redacted */ } response_state;
typedef enum {
    UP_NONE,
    UP_WAIT, /* the daemon's backlog was full: dial again soon */
    UP_OPEN,
    UP_CLOSING,
} upstream_state;
typedef enum { T_NONE, T_IDLE, T_HEAD, T_DIAL, T_LINGER } timer_kind;

/* What a step of the state machine did. */
typedef enum {
    STEP_WAIT,     /* nothing more to do until an event */
    STEP_PROGRESS, /* bytes moved or the state changed: look again */
    STEP_CLOSED,   /* the connection is closing: touch nothing more */
} step;

typedef enum { DIAL_OPEN, DIAL_WAIT, DIAL_FAILED, DIAL_CLOSED } dial_result;

#define LOG_TARGET_MAX 256
#define LINGER_MS 2000
#define DIAL_RETRY_MS 10

typedef struct conn conn;

typedef struct buffer {
    char *p;
    size_t cap;      /* SERVER_BUF_SMALL or srv->buf_size */
    size_t pos, len; /* unconsumed bytes are p[pos..len) */
    bool busy;       /* a write from p is in flight */
} buffer;

/* A write in flight. Forwarded bytes stay in the buffer of side `owner`
 * (busy until written); the proxy's own bytes (owner OWN) are copied after
 * this struct when they cannot be written at once. */
typedef struct write_req {
    uv_write_t req;
    conn *c;
    side to;
    int owner;
    char *cipher;          /* TLS: the ciphertext being written (freed after) */
} write_req;

struct conn {
    server *srv;
    const listener *lis;   /* where it connected: its profile's admission */
    const profile *prof;   /* whose rules apply: the listener's, or the one a TLS client certificate chose */
    const rules_set *rules;
    tls_conn *tls;         /* a TLS listener's session (NULL in clear text) */
    bool handshaking;      /* ... its handshake is under way */
    bool tls_reading;      /* ... its socket is being read (ciphertext) */
    bool tls_pumping;      /* ... plain text is being handed to the state machine */
    bool tls_eof;          /* ... its socket's read side ended */
    bool hs_counted;       /* ... counted in srv->handshaking and srv->handshakes (hs_key) */
    client_key hs_key;
    conn *prev, *next;
    union {
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_handle_t handle;
    } cl;
    uv_pipe_t *up;         /* the daemon connection (UP_OPEN, UP_CLOSING), lent by the pool (core/lookup.h) */
    uv_timer_t timer;
    write_req fwd[2];      /* the forwarding write to each side (one at a time) */
    uv_shutdown_t sreq[2];
    buffer in[2];          /* bytes read from each side */
    h1_body body[2];       /* where what each side sends ends: the request body
                            * from CLIENT, the response body from UPSTREAM */
    int writes[2];         /* writes in flight to each side */
    bool reading[2];
    bool eof[2];           /* read EOF seen */
    bool full_read[2];     /* the last read from a side filled its buffer: a tunnel's bulk */
    struct splice_run *sp; /* bytes spliced from one side to the other (Linux, clear text), or NULL */
    bool no_splice;        /* a splice run could not start: this connection keeps its buffers */
    bool shut[2];          /* write side shut (shutdown requested) */
    client_state cstate;
    response_state rstate;
    upstream_state upstate;
    timer_kind timer_kind;
    int open_handles;
    bool closing;
    bool close_after;      /* close once the current response has been flushed */
    bool admitting;        /* waiting for ALLOW_FROM's names to be resolved again */

    /* current request */
    h1_progress head_prog; /* how far the head at in[CLIENT].pos has been checked */
    size_t pending_head;   /* length of the head at in[CLIENT].pos waiting for a dial */
    bool req_is_head, req_close;
    bool learned;          /* learn mode forwarded this request, which the path rules deny */
    unsigned rflags;       /* RULES_F_* of the verdict */
    /* upstream connection */
    uint64_t dial_t0;      /* when dialing began (uv_now), for SOCKET_PROXY_TIMEOUT */
    bool dial_retry;       /* dialing again after a full backlog: dial_t0 stands */
    unsigned up_requests;  /* requests sent on the current upstream connection */
    char *hold;            /* C_HOLD: the head and the judged body, read whole */
    size_t held;           /* bytes of srv->held this connection reserved (until its copy is written) */
    size_t hold_head, hold_len, hold_need; /* head length, bytes held, head + body length */
    body_kind hold_kind;
    bool hold_judged;      /* the held body was judged and allowed: it waits only for the daemon */
    lookup *hostnet_ask;   /* a service body waits for the daemon's host network ID */
    bool hostnet_asked;
    char hostnet[72];      /* its answer: the host network's ID, "" when it has none */
    struct scope_job *sj;  /* a scoped profile's request: its route, the daemon's answers, its new head */
    bool counted;          /* in the client-connections gauge */
    bool streaming;        /* in the streams gauge: a stream's answer or a tunnel is open */
    redact_kind redact;    /* this request's answer carries values to redact (REDACT_NONE: streamed) */
    unsigned redact_what;  /* REDACT_ENV, REDACT_JOIN_TOKENS */
    char *retry;           /* a GET/HEAD head sent on a reused upstream, kept until the answer starts */
    size_t retry_len;
    bool retry_pending;    /* resend `retry` once the old upstream has closed */
    /* current response */
    bool res_close;
    bool res_started;      /* response bytes already sent to the client */
    int status;

    /* access log */
    client_key client;     /* counted in srv->clients while this connection lives */
    bool log_pending;      /* a request is recorded and not yet logged */
    uint64_t t0;
    uint64_t bytes_out;
    rules_mask need, need_alt;
    const char *decision;
    char method[8];
    char target[LOG_TARGET_MAX];
    char peer[64];         /* filled on first use: see peer() */
};

/* A scoped profile's request (SCOPE_LABEL): what scoping means for its route,
 * the daemon's answers about the objects it names, and the head it goes with. */
typedef struct scope_job {
    scope_route route;
    size_t head_len;        /* the client's head, at in[CLIENT].pos until it is sent or held */
    body_kind kind;         /* the body judge's kind for it */
    bool expect_continue;
    char *full;             /* the normalised path with its version prefix ... */
    size_t vlen;            /* ... that long */
    const char *path;       /* full + vlen: what scope_route_of read */
    size_t plen;
    char *query;            /* the raw query after '?' ("" for none) */
    size_t qlen;
    char name[256];         /* the object asked about (decoded), for the daemon's words */
    scope_object asking;    /* what the lookup in flight asks about */
    bool exec_container;    /* asking about an exec's container (the exec was found) */
    lookup *ask;
    int answer;             /* 1 in scope, 0 not (or no such object), < 0: no usable answer (status or error) */
    bool answered;          /* answer holds the reply to refs.ref[next_ref] (a held body's reference) */
    char id[80];            /* the object's full ID from the daemon */
    char *rehead;           /* the head to send in place of the client's (the target re-written) */
    size_t rehead_len;
    bool body_read;         /* the held body's references are listed in refs */
    bool labelled;          /* SCOPE_OWN: the held body carries the labels */
    unsigned next_ref;
    scope_refs refs;
} scope_job;

static void conn_close(conn *c);
static void process(conn *c);
static void scope_job_free(conn *c);
static void resend(conn *c);
static void update_io(conn *c);
static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void on_upstream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *out);
static void set_reading(conn *c, side s, bool want);
static void on_timer(uv_timer_t *t);

#define SPLICE_MIN (256 * 1024)
#define SPLICE_PIPE (256 * 1024)

typedef struct splice_run {
    conn *c;
    side from;
    splice_pipe pipe;
    int fd[2];         /* dup()s of each side's socket, watched by poll[] */
    uv_poll_t poll[2]; /* poll[from] for reading, the other for writing */
    int watch[2];      /* the events poll[s] watches now (0: stopped) */
    int handles;       /* poll handles not yet closed */
    bool eof;          /* the source ended */
    bool stuck;        /* a fill found no room (a pipe's slots can run out before its bytes): wait for a drain */
} splice_run;

static bool splice_wanted(const conn *c, side from);
static step splice_start(conn *c, side from);
static void splice_end(conn *c);

static step outcome(const conn *c, bool progress)
{
    return c->closing ? STEP_CLOSED : progress ? STEP_PROGRESS : STEP_WAIT;
}

static uv_stream_t *stream_of(conn *c, side s)
{
    return s == CLIENT ? &c->cl.stream : (uv_stream_t *)c->up;
}

/* ---- who is connected, and the access log ---- */

/* Who is on the other end: "127.0.0.1:4711" or "uid=1000 pid=42" for the
 * log, and the key SOCKET_PROXY_MAX_CLIENT_CONNS counts by (the uid, or the
 * address; an IPv4-mapped IPv6 address is the IPv4 client). Looked up at
 * accept when that limit is on, else when a log line first needs it (it
 * costs a syscall). */
static void identify(conn *c)
{
    uv_os_fd_t fd;
    snprintf(c->peer, sizeof(c->peer), "?");
    if (uv_fileno(&c->cl.handle, &fd) != 0)
        return;
    if (c->cl.handle.type == UV_NAMED_PIPE) {
        struct ucred cr;
        socklen_t len = sizeof(cr);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0) {
            snprintf(c->peer, sizeof(c->peer), "uid=%u pid=%d", (unsigned)cr.uid, (int)cr.pid);
            c->client.kind = CLIENT_UID;
            memcpy(c->client.addr, &cr.uid, sizeof(cr.uid));
        }
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char ip[INET6_ADDRSTRLEN] = "?";
    if (uv_tcp_getpeername(&c->cl.tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    int port;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        uv_ip6_name(a6, ip, sizeof(ip));
        port = ntohs(a6->sin6_port);
        bool v4 = IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr);
        c->client.kind = v4 ? CLIENT_V4 : CLIENT_V6;
        memcpy(c->client.addr, a6->sin6_addr.s6_addr + (v4 ? 12 : 0), v4 ? 4 : 16);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        uv_ip4_name(a4, ip, sizeof(ip));
        port = ntohs(a4->sin_port);
        c->client.kind = CLIENT_V4;
        memcpy(c->client.addr, &a4->sin_addr, 4);
    }
    log_hostport(c->peer, sizeof(c->peer), ip, port);
}

static const char *peer(conn *c)
{
    if (!c->peer[0]) {
        client_key keep = c->client; /* counted at accept, or not at all */
        identify(c);
        c->client = keep;
    }
    return c->peer;
}

/* Who a repeated fault is about: the peer without its TCP port
 * ("127.0.0.1", "[::1]"), or a Unix peer's uid ("uid=1000"). */
static const char *source_key(conn *c, char *out, size_t cap)
{
    const char *p = peer(c);
    const char *end = strrchr(p, ':');
    if (c->lis->is_unix || !end)
        end = strchr(p, ' ') ? strchr(p, ' ') : p + strlen(p);
    size_t n = (size_t)(end - p) < cap - 1 ? (size_t)(end - p) : cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

/* Copies s (n bytes; NULL: "-") into out, cut to fit. No printf: this runs
 * for every request. */
static void copy_text(char *out, size_t cap, const h1_str *s)
{
    size_t n = s ? (s->n < cap - 1 ? s->n : cap - 1) : 1;
    memcpy(out, s ? s->p : "-", n);
    out[n] = '\0';
}

/* A new request starts: what the access log line will show. method and
 * target are NULL for a head that never arrived or could not be read. */
static void begin_request(conn *c, const h1_str *method, const h1_str *target)
{
    scope_job_free(c);
    c->t0 = uv_hrtime();
    c->bytes_out = 0;
    c->need = c->need_alt = 0;
    c->decision = NULL;
    c->status = 0;
    c->log_pending = true;
    c->req_is_head = method && method->n == 4 && memcmp(method->p, "HEAD", 4) == 0;
    copy_text(c->method, sizeof(c->method), method);
    copy_text(c->target, sizeof(c->target), target);
}

/* The variable that decided (the first of those the rules named), or NULL. */
static const char *section_of(const conn *c)
{
    if (!c->need || (c->decision && strcmp(c->decision, "bad") == 0))
        return NULL;
    return rules_var_name(__builtin_ctzll((unsigned long long)c->need));
}

/* The finished request, for SOCKET_PROXY_METRICS. A stranger refused at
 * accept is a connection refusal, not a request. */
static void count_request(conn *c)
{
    if (!c->srv->metrics || c->method[0] == '-')
        return;
    bool stream = c->streaming || (c->rflags & RULES_F_STREAM) || c->cstate == C_TUNNEL;
    metrics_request r = {
        .profile = (int)(c->prof - c->srv->profiles->p),
        .method = c->method,
        .section = section_of(c),
        .decision = c->decision ? c->decision : "allow",
        .status = c->status,
        .seconds = stream ? -1 : (double)(uv_hrtime() - c->t0) / 1e9,
    };
    metrics_count_request(c->srv->metrics, &r);
}

/* The streams gauge follows a stream's answer or a tunnel while it is open. */
static void set_streaming(conn *c, bool on)
{
    if (c->streaming == on)
        return;
    c->streaming = on;
    metrics_gauge_add(c->srv->metrics, METRICS_STREAMS, on ? 1 : -1);
}

/* Who learn mode says a client is: source_key, and for a TCP client the
 * ALLOW_FROM name its address resolves back to ("172.18.0.5 (traefik)"). */
static const char *learn_key(conn *c, char *out, size_t cap)
{
    source_key(c, out, cap);
    const admit_from *from = c->prof->allow_from;
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    const char *name = NULL;
    if (!c->lis->is_unix && from && uv_tcp_getpeername(&c->cl.tcp, (struct sockaddr *)&ss, &len) == 0)
        name = admit_from_name_of(from, (struct sockaddr *)&ss);
    if (name) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, " (%s)", name);
    }
    return out;
}

/* Learn mode: what an allowed (or learn-allowed) request needed. */
static void note_learned(conn *c)
{
    const char *d = c->decision ? c->decision : "allow";
    if (!c->srv->learn || !c->need || c->method[0] == '-' || (strcmp(d, "allow") != 0 && strcmp(d, "learn-allow") != 0))
        return;
    char key[320];
    learn_note(c->srv->learn, (int)(c->prof - c->srv->profiles->p), learn_key(c, key, sizeof(key)), c->need,
               c->need_alt, c->method, c->target);
}

static void access_log(conn *c, const char *rule_override)
{
    if (!c->log_pending)
        return;
    c->log_pending = false;
    count_request(c);
    note_learned(c);
    if (!log_enabled(LOG_INFO))
        return;
    char rule[512];
    if (rule_override) {
        snprintf(rule, sizeof(rule), "%s", rule_override);
    } else {
        rules_verdict v = {.need = c->need, .need_alt = c->need_alt, .why = "no variable grants it", .prefix = c->rules->prefix};
        rules_need_text(&v, rule, sizeof(rule));
    }
    log_access_entry e = {
        .client = peer(c),
        .profile = profile_log_name(c->srv->profiles, c->prof),
        .cert = c->tls && tls_peer_subject(c->tls)[0] ? tls_peer_subject(c->tls) : NULL,
        .method = c->method,
        .target = c->target,
        .decision = c->decision ? c->decision : "allow",
        .rule = rule,
        .status = c->status,
        .bytes = c->bytes_out,
        .ms = (double)(uv_hrtime() - c->t0) / 1e6,
    };
    log_access(&e);
}

/* ---- buffers and timers ---- */

static void buf_release_if_empty(conn *c, side s)
{
    buffer *b = &c->in[s];
    if (b->p && !b->busy && b->pos == b->len) {
        server_buf_put(c->srv, b->p, b->cap);
        b->p = NULL;
        b->pos = b->len = 0;
    }
}

static bool buf_has_bytes(const buffer *b)
{
    return b->p && b->pos < b->len;
}

static void set_timer(conn *c, timer_kind kind, uint64_t ms)
{
    if (c->closing)
        return;
    c->timer_kind = kind;
    if (kind == T_NONE)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* ---- writes ---- */

static void upstream_lost(conn *c);

/* A write finished. A failed write to the daemon before its answer began is
 * the daemon going away (see upstream_lost); one to a closed upstream was
 * cancelled and means nothing more. */
static void after_write(conn *c, side to, int status)
{
    if (c->closing)
        return;
    if (status < 0 && to == UPSTREAM && c->upstate != UP_OPEN)
        process(c);
    else if (status < 0 && to == UPSTREAM && c->rstate == R_HEAD && !c->res_started)
        upstream_lost(c);
    else if (status < 0)
        conn_close(c);
    else
        process(c);
}

/* A held body's memory is counted from the reservation until the last copy
 * of it (a write the daemon has not taken yet) is gone. */
static void hold_release(conn *c)
{
    c->srv->held -= c->held;
    c->held = 0;
}

static void hold_drop(conn *c)
{
    free(c->hold);
    c->hold = NULL;
    if (c->writes[UPSTREAM] == 0)
        hold_release(c);
}

static void on_written(uv_write_t *w, int status)
{
    write_req *r = (write_req *)w;
    conn *c = r->c;
    side to = r->to;
    c->writes[to]--;
    free(r->cipher);
    if (r->owner == OWN)
        free(r);
    else
        c->in[r->owner].busy = false;
    if (to == UPSTREAM && c->held && !c->hold && c->writes[UPSTREAM] == 0)
        hold_release(c);
    after_write(c, to, status);
}

/* Writes bufs to side `to`: every byte the proxy sends goes through here.
 * What can be written at once is (uv_try_write); the rest is queued behind
 * any pending write to that side. Forwarded bytes are queued in place, in
 * the buffer of side `owner`, which stays busy until they are written; the
 * proxy's own bytes (owner OWN) are copied. Returns 0 or a libuv error. */
static int tls_send(conn *c, uv_buf_t *bufs, unsigned nbufs, int owner);

/* Queues bufs to side `to` behind any write in flight, in r: c->fwd[to] for
 * forwarded bytes, whose buffer (owner) stays busy until they are written,
 * or the caller's allocation for the proxy's own (owner OWN), freed after.
 * cipher (TLS: the ciphertext bufs point into, or NULL) is freed with r. */
static int queue_write(conn *c, side to, write_req *r, uv_buf_t *bufs, unsigned nbufs, int owner, char *cipher)
{
    *r = (write_req){.c = c, .to = to, .owner = owner, .cipher = cipher};
    int e = uv_write(&r->req, stream_of(c, to), bufs, nbufs, on_written);
    if (e < 0) {
        free(cipher);
        if (owner == OWN)
            free(r);
        return e;
    }
    c->writes[to]++;
    if (owner != OWN)
        c->in[owner].busy = true;
    return 0;
}

/* n bytes are on their way to side `to`: the access log's and the metrics'
 * count. */
static void count_sent(conn *c, side to, size_t n)
{
    if (to == CLIENT)
        c->bytes_out += n;
    metrics_add_bytes(c->srv->metrics, to == UPSTREAM ? n : 0, to == CLIENT ? n : 0);
}

static int send_bytes(conn *c, side to, uv_buf_t *bufs, unsigned nbufs, int owner)
{
    uv_stream_t *dst = stream_of(c, to);
    size_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    count_sent(c, to, total);
    assert(!c->sp || to == c->sp->from); /* a run is the only writer to its sink */
    if (to == CLIENT && c->tls)
        return tls_send(c, bufs, nbufs, owner);
    int w = c->writes[to] == 0 ? uv_try_write(dst, bufs, nbufs) : UV_EAGAIN;
    if (w < 0 && w != UV_EAGAIN && w != UV_ENOSYS)
        return w;
    size_t done = w > 0 ? (size_t)w : 0;
    while (nbufs && done >= bufs[0].len) {
        done -= bufs[0].len;
        bufs++;
        nbufs--;
    }
    if (nbufs == 0)
        return 0;
    bufs[0].base += done;
    bufs[0].len -= done;
    write_req *r = &c->fwd[to];
    uv_buf_t copy;
    if (owner == OWN) {
        r = malloc(sizeof(*r) + total);
        if (!r)
            return UV_ENOMEM;
        copy = uv_buf_init((char *)(r + 1), 0);
        for (unsigned i = 0; i < nbufs; i++) {
            memcpy(copy.base + copy.len, bufs[i].base, bufs[i].len);
            copy.len += bufs[i].len;
        }
        bufs = &copy;
        nbufs = 1;
    }
    return queue_write(c, to, r, bufs, nbufs, owner, NULL);
}

/* Every answer the proxy writes itself is made here: Docker's error shape,
 * {"message": "socket-proxy: ..."}, framed by Content-Length. To a HEAD
 * request the same head goes out without the body (the Content-Length a GET
 * would have had). Returns the length written to out. */
#define ANSWER_MAX 3072
static const char *reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

static size_t answer_format(char *out, int status, const char *message, bool ours, bool head_only, bool close)
{
    char text[1024], body[2048];
    snprintf(text, sizeof(text), "%s%s", ours ? "socket-proxy: " : "", message);
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddStringToObject(o, "message", text) &&
              cJSON_PrintPreallocated(o, body, (int)sizeof(body) - 1, false);
    cJSON_Delete(o);
    if (!ok)
        snprintf(body, sizeof(body), "{\"message\":\"socket-proxy: %s\"}", reason_phrase(status));
    size_t blen = strlen(body);
    body[blen++] = '\n';
    int hn = snprintf(out, ANSWER_MAX, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n",
                      status, reason_phrase(status), blen, close ? "Connection: close\r\n" : "");
    if (head_only)
        return (size_t)hn;
    memcpy(out + hn, body, blen);
    return (size_t)hn + blen;
}

/* Sends an answer of the proxy's own. Like forwarded bytes, it holds up the
 * connection until it is flushed (client_step parses no further head and
 * update_io reads no more meanwhile): a client that never reads cannot make
 * the proxy keep a copy of every answer. */
/* The proxy's own answers by kind, for SOCKET_PROXY_METRICS. */
static void count_answer(metrics *m, int status)
{
    static const struct {
        int status;
        metrics_event e;
    } kinds[] = {{400, METRICS_REFUSED_400}, {403, METRICS_REFUSED_403}, {408, METRICS_REFUSED_408},
                 {413, METRICS_REFUSED_413}, {431, METRICS_REFUSED_431}, {503, METRICS_REFUSED_503},
                 {502, METRICS_BAD_GATEWAY}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].status == status)
            metrics_event_add(m, kinds[i].e);
}

/* ours: the message says it comes from socket-proxy; a scoped profile's 404
 * says what the daemon would say of an object that does not exist. */
static void respond_as(conn *c, int status, const char *message, bool ours, bool close)
{
    char out[ANSWER_MAX];
    uv_buf_t b = uv_buf_init(out, (unsigned)answer_format(out, status, message, ours, c->req_is_head, close));
    c->status = status;
    count_answer(c->srv->metrics, status);
    if (send_bytes(c, CLIENT, &b, 1, OWN) < 0) {
        conn_close(c);
        return;
    }
    if (close)
        c->close_after = true;
}

static void respond(conn *c, int status, const char *message, bool close)
{
    respond_as(c, status, message, true, close);
}

/* ---- closing ---- */

static void handshake_over(conn *c);

static void conn_free(conn *c)
{
    server *srv = c->srv;
    for (int s = 0; s < 2; s++)
        if (c->in[s].p)
            server_buf_put(srv, c->in[s].p, c->in[s].cap);
    free(c->retry);
    free(c->hold);
    handshake_over(c);
    tls_conn_free(c->tls);
    hold_release(c);
    scope_job_free(c);
    set_streaming(c, false);
    if (c->counted)
        metrics_gauge_add(srv->metrics, METRICS_CLIENT_CONNS, -1);
    if (c->client.kind != CLIENT_NONE)
        clients_leave(&srv->clients, &c->client);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    free(c);
    server_conn_closed(srv);
}

static void on_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->open_handles == 0)
        conn_free(c);
}

static void on_upstream_closed(uv_handle_t *h)
{
    conn *c = h->data;
    c->up = NULL;
    c->upstate = UP_NONE;
    if (--c->open_handles == 0)
        conn_free(c);
    else if (!c->closing && c->retry_pending)
        resend(c);
    else if (!c->closing)
        process(c); /* dials again for a waiting request */
}

/* The daemon connection is no longer this client's. */
static void upstream_forget(conn *c)
{
    c->reading[UPSTREAM] = false;
    c->eof[UPSTREAM] = c->shut[UPSTREAM] = false;
    c->in[UPSTREAM].pos = c->in[UPSTREAM].len; /* never read as an answer on the next upstream */
}

static void close_upstream_handle(conn *c)
{
    splice_end(c); /* every run reads or writes the daemon's side */
    c->upstate = UP_CLOSING;
    upstream_forget(c);
    lookup_pool_close_pipe(c->up, on_upstream_closed);
}

static void close_upstream(conn *c)
{
    if (c->upstate == UP_WAIT) {
        c->upstate = UP_NONE;
        c->dial_retry = false;
        set_timer(c, T_NONE, 0);
    } else if (c->upstate == UP_OPEN) {
        close_upstream_handle(c);
    }
}

/* Whether the daemon connection stands between two requests with nothing of
 * this client's on it: no request or answer half sent or half read, no
 * tunnel, no half-close, no `Connection: close` from the daemon. */
static bool upstream_clean(const conn *c)
{
    const buffer *ub = &c->in[UPSTREAM];
    return c->upstate == UP_OPEN && c->rstate == R_IDLE && c->cstate != C_BODY && c->cstate != C_TUNNEL &&
           !c->res_close && !c->eof[UPSTREAM] && !c->shut[UPSTREAM] && c->writes[UPSTREAM] == 0 && !ub->busy &&
           ub->pos == ub->len && !c->retry_pending && !c->srv->draining;
}

/* The client is done with its daemon connection: a clean one goes back to
 * the pool for another client's plain request (reading, so that the daemon
 * closing it is seen), anything else is closed. */
static void let_go_upstream(conn *c)
{
    if (!upstream_clean(c)) {
        close_upstream(c);
        return;
    }
    set_reading(c, UPSTREAM, true);
    upstream_forget(c);
    lookup_pool_put_pipe(c->up);
    c->up = NULL;
    c->upstate = UP_NONE;
    c->open_handles--; /* the client's and the timer's handles are still open */
}

static void conn_close(conn *c)
{
    if (c->closing)
        return;
    if (c->admitting)
        admit_from_cancel(c->prof->allow_from, c); /* the listener's, or the one a certificate chose */
    c->admitting = false;
    lookup_cancel(c->hostnet_ask);
    c->hostnet_ask = NULL;
    scope_job_free(c);
    access_log(c, NULL);
    c->closing = true;
    splice_end(c);
    let_go_upstream(c);
    uv_close(&c->cl.handle, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_client_shut(uv_shutdown_t *req, int status)
{
    conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0 || c->cstate != C_LINGER) {
        if (status < 0 || c->eof[CLIENT])
            conn_close(c);
        return;
    }
    /* Drain what the client still sends, so our response is not lost to a
     * reset, then close. */
    set_timer(c, T_LINGER, LINGER_MS);
    update_io(c);
}

static int tls_flush(conn *c, int owner);

/* The client's write side ends: over TLS, close_notify goes first (what Go's
 * crypto/tls CloseWrite sends), then the socket's FIN. */
static void shut_client(conn *c)
{
    if (c->tls && !c->handshaking) {
        tls_close_notify(c->tls);
        if (tls_flush(c, OWN) < 0) {
            conn_close(c);
            return;
        }
    }
    c->sreq[CLIENT].data = c;
    if (uv_shutdown(&c->sreq[CLIENT], &c->cl.stream, on_client_shut) < 0)
        conn_close(c);
    else
        c->shut[CLIENT] = true;
}

/* Response done and the connection must end: flush, shut, linger, close. */
static void finish_and_close(conn *c)
{
    c->close_after = true;
    if (c->writes[CLIENT] > 0 || c->closing || c->cstate == C_LINGER)
        return;
    access_log(c, NULL);
    let_go_upstream(c);
    c->cstate = C_LINGER;
    c->in[CLIENT].pos = c->in[CLIENT].len;
    if (c->eof[CLIENT] && c->tls && !c->handshaking) {
        tls_close_notify(c->tls); /* the answer ended by the close reads as whole, not cut */
        tls_flush(c, OWN);
    }
    if (c->eof[CLIENT])
        conn_close(c);
    else
        shut_client(c);
}

/* ---- upstream ---- */

/* The request waiting for the daemon gets a 502; the connection goes on
 * unless the request carried a body. */
static void dial_failed(conn *c, const char *why)
{
    metrics_event_add(c->srv->metrics, METRICS_DIAL_FAILURES);
    char msg[300];
    snprintf(msg, sizeof(msg), "cannot reach the Docker daemon at %s: %s", c->srv->cfg->upstream, why);
    if (quiet_hit(c->srv->quiet, QUIET_DAEMON, NULL))
        log_msg(LOG_WARNING, "%s (repeats are summed up every %d s)", msg, QUIET_WINDOW_S);
    c->upstate = UP_NONE;
    c->dial_retry = false;
    c->decision = "allow";
    c->rstate = R_IDLE;
    c->in[CLIENT].pos += c->pending_head;
    c->pending_head = 0;
    respond(c, 502, msg, c->body[CLIENT].mode != H1_BODY_NONE || c->req_close);
    access_log(c, "daemon unreachable");
    c->cstate = c->close_after ? C_WAIT : C_HEAD;
    set_timer(c, T_NONE, 0);
}

/* Connects to the daemon's socket. A Unix connect completes at once or fails
 * at once, so it is done synchronously (saving a loop turn and four
 * syscalls); only a full listen backlog (EAGAIN) is retried, every 10 ms,
 * until SOCKET_PROXY_TIMEOUT. */
static dial_result dial(conn *c)
{
    uv_loop_t *loop = c->srv->loop;
    if (!c->dial_retry)
        c->dial_t0 = uv_now(loop);
    int fd = sys_unix_connect(c->srv->cfg->upstream);
    if (fd == -EAGAIN && uv_now(loop) - c->dial_t0 < c->srv->cfg->dial_timeout_ms) {
        c->upstate = UP_WAIT;
        c->dial_retry = true;
        set_timer(c, T_DIAL, DIAL_RETRY_MS);
        return DIAL_WAIT;
    }
    if (fd < 0) {
        dial_failed(c, fd == -EAGAIN ? "timed out (the daemon accepts no connections)" : strerror(-fd));
        return c->closing ? DIAL_CLOSED : DIAL_FAILED;
    }
    c->dial_retry = false;
    int rc;
    c->up = lookup_pool_open_pipe(c->srv->lookups, fd, c, alloc_cb, on_upstream_read, &rc);
    if (!c->up) {
        conn_close(c);
        return DIAL_CLOSED;
    }
    c->open_handles++;
    c->reading[UPSTREAM] = true;
    c->upstate = UP_OPEN;
    quiet_over(c->srv->quiet, QUIET_DAEMON);
    c->up_requests = 0;
    return DIAL_OPEN;
}

/* The daemon's side ended before the first byte of an answer. A GET or HEAD
 * sent on a reused connection (keep_for_retry) goes once more on a fresh one:
 * the daemon closed an idle connection just as the request went out. Anything
 * else gets a 502: it may have been acted on. */
static void upstream_lost(conn *c)
{
    close_upstream(c);
    if (c->retry) {
        c->retry_pending = true; /* on_handle_closed calls resend */
        return;
    }
    c->rstate = R_IDLE;
    respond(c, 502, "the Docker daemon closed the connection without answering", true);
    c->cstate = C_WAIT;
    finish_and_close(c);
}

static void drop_retry(conn *c)
{
    free(c->retry);
    c->retry = NULL;
    c->retry_pending = false;
}

static void resend(conn *c)
{
    c->pending_head = 0; /* the head left the client buffer long ago */
    dial_result d = dial(c);
    if (d == DIAL_WAIT)
        return; /* the dial timer calls again */
    if (d != DIAL_OPEN) {
        drop_retry(c); /* dial_failed answered 502 */
        if (d == DIAL_FAILED)
            process(c); /* what comes next: the close, a pipelined head, the idle timer */
        return;
    }
    uv_buf_t b = uv_buf_init(c->retry, (unsigned)c->retry_len);
    c->up_requests = 1;
    int r = send_bytes(c, UPSTREAM, &b, 1, OWN);
    drop_retry(c);
    if (r < 0)
        upstream_lost(c); /* no second retry: 502 */
    else
        update_io(c);
}

/* ---- request heads ---- */

/* Answers the current request with the proxy's own status and ends the
 * connection once that is flushed; a held body is dropped. decision and rule
 * go to the access log. */
static void answer_and_close_as(conn *c, int status, const char *decision, const char *msg, bool ours,
                                const char *rule)
{
    if (c->hold)
        hold_drop(c);
    c->decision = decision;
    respond_as(c, status, msg, ours, true);
    access_log(c, rule);
    c->cstate = C_WAIT;
    finish_and_close(c);
}

static void answer_and_close(conn *c, int status, const char *decision, const char *msg, const char *rule)
{
    answer_and_close_as(c, status, decision, msg, true, rule);
}

static void reject(conn *c, int status, const char *why)
{
    answer_and_close(c, status, "bad", why, why);
}

/* The text of a refusal for verdict v: 400 (bad), 403 (deny), or 400 for a
 * body on an action only a bare ALLOW_* grants. Returns the status. */
static int refusal(conn *c, const rules_verdict *v, const h1_str *target, char *msg, size_t len, const char **why)
{
    char need[400];
    int plen = (int)(v->path_len < 300 ? v->path_len : 300);
    *why = NULL;
    if (v->status == RULES_BAD) {
        snprintf(msg, len, "%s (in %.*s)", v->why, (int)(target->n < 300 ? target->n : 300), target->p);
        c->decision = "bad";
        *why = v->why;
        return RULES_BAD;
    }
    if (v->status == RULES_DENY) {
        rules_need_text(v, need, sizeof(need));
        /* To HEAD, the head a GET would get (RFC 9110 9.3.2): same message, same length. */
        snprintf(msg, len, "%s %.*s is not allowed (%s%s)", c->req_is_head ? "GET" : c->method, plen, v->path,
                 v->need ? "needs " : "", need);
        c->decision = "deny";
        return RULES_DENY;
    }
    /* dockerd below API 1.24 applies a start body as the container's new
     * HostConfig: a bare action variable never carries one. */
    rules_verdict bare = *v;
    bare.need_alt = 0;
    rules_need_text(&bare, need, sizeof(need));
    snprintf(msg, len, "%s %.*s is allowed by %s only without a request body", c->method, plen, v->path, need);
    c->decision = "bad";
    *why = "request body on an action granted by an ALLOW_* variable";
    return RULES_BAD;
}

/* Whether the line (ll bytes, with its CRLF) is the header field `name`
 * (lower case, with its colon: "content-length:"). */
static bool field_is(const char *line, size_t ll, const char *name)
{
    size_t n = strlen(name);
    return ll > n && h1_token_eq(line, n, name);
}

/* The value of the header field `name` (as field_is) in the head h (n
 * bytes), without leading spaces and the CRLF; NULL when absent. */
static const char *head_value(const char *h, size_t n, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < n;) {
        const char *eol = memchr(h + i, '\n', n - i);
        size_t ll = eol ? (size_t)(eol - (h + i)) + 1 : n - i;
        if (i > 0 && field_is(h + i, ll, name)) {
            const char *v = h + i + nl, *end = h + i + ll;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
            *len = (size_t)(end - v);
            return v;
        }
        i += ll;
    }
    return NULL;
}

static bool head_has(const char *h, size_t n, const char *name)
{
    size_t len;
    return head_value(h, n, name, &len) != NULL;
}

/* Whether the answer to this request is read whole and redacted: the
 * containers', services' and tasks' Env values unless ALLOW_ENV, the swarm's
 * join tokens unless SECRETS. */
static void redact_choose(conn *c, const h1_request *req, const rules_verdict *v, bool allowed)
{
    rules_mask granted = c->rules->granted, shown = RBIT(RV_ALLOW_ENV) | RBIT(RV_SECRETS);
    /* both granted: nothing is redacted, no route to match */
    bool may = allowed && (granted & shown) != shown;
    redact_kind k = may ? redact_kind_of(req->method.p, req->method.n, v->path, v->path_len) : REDACT_NONE;
    unsigned what = 0;
    if (k == REDACT_SWARM)
        what = granted & RBIT(RV_SECRETS) ? 0 : REDACT_JOIN_TOKENS;
    else if (k != REDACT_NONE)
        what = granted & RBIT(RV_ALLOW_ENV) ? 0 : REDACT_ENV;
    c->redact = what ? k : REDACT_NONE;
    c->redact_what = what;
}

/* What the head alone says of a request whose body is not JSON: /build (its
 * networkmode), /plugins/create, libpod's play/kube, restore and secrets
 * (body_judge_head). */
static int judge_head(conn *c, const h1_request *req, size_t head_len, body_kind kind, char *msg, size_t len,
                      const char **why)
{
    const char *q = memchr(req->target.p, '?', req->target.n);
    size_t qlen = q ? req->target.n - (size_t)(q + 1 - req->target.p) : 0;
    size_t ctlen = 0;
    const char *ctype = head_value(req->method.p, head_len, "content-type:", &ctlen);
    body_verdict bv;
    body_judge_head(&c->rules->body, kind, q ? q + 1 : "", qlen, ctype, ctlen, &bv);
    if (bv.status == 0)
        return RULES_ALLOW;
    if (bv.var)
        snprintf(msg, len, "%s %.300s: %s (needs %s%s=1)", c->method, c->target, bv.why, c->rules->prefix, bv.var);
    else
        snprintf(msg, len, "%s %.300s: %s", c->method, c->target, bv.why);
    c->decision = bv.status == 403 ? "deny" : "bad";
    *why = bv.var ? bv.var : "request head";
    return bv.status;
}

/* Decides the request (method, target, body) against the rules. Returns
 * RULES_ALLOW, or the status of a refusal whose text is in msg. */
static int scope_prepare(conn *c, const h1_request *req, const rules_verdict *v, const char *normalized);

static int judge(conn *c, const h1_request *req, size_t head_len, char *msg, size_t len, const char **why,
                 body_kind *kind)
{
    char pathbuf[8192];
    char *path = req->target.n < sizeof(pathbuf) ? pathbuf : malloc(req->target.n + 1);
    if (!path)
        return -1;
    rules_verdict v;
    rules_decide(c->rules, req->method.p, req->method.n, req->target.p, req->target.n, path, req->target.n + 1, &v);
    c->need = v.need;
    c->need_alt = v.need_alt;
    c->rflags = v.flags;
    int status = v.status;
    bool bare_with_body = (v.flags & RULES_F_NO_BODY) && c->body[CLIENT].mode != H1_BODY_NONE;
    /* Learn mode forwards what the path rules deny (only which sections is
     * learned: framing, bodies and admission stay enforced). */
    c->learned = status == RULES_DENY && c->srv->learn && !bare_with_body;
    if (c->learned)
        status = RULES_ALLOW;
    if (status != RULES_ALLOW || bare_with_body)
        status = refusal(c, &v, &req->target, msg, len, why);
    *kind = status == RULES_ALLOW ? body_kind_of(req->method.p, req->method.n, v.path, v.path_len) : BODY_NONE;
    if (body_kind_on_head(*kind)) {
        status = judge_head(c, req, head_len, *kind, msg, len, why);
        *kind = BODY_NONE; /* the body (a tar stream, YAML, a secret) is forwarded as it comes */
    }
    redact_choose(c, req, &v, status == RULES_ALLOW);
    if (status == RULES_ALLOW && c->rules->scope.nlabels && scope_prepare(c, req, &v, path) < 0)
        status = -1;
    if (path != pathbuf)
        free(path);
    return status;
}

/* Answers the request whose head (n bytes) waits at in[CLIENT].pos: the
 * connection goes on after it, or (close) ends once it is flushed. ours: the
 * message says it comes from the proxy. rule goes to the access log. */
static step answer_head(conn *c, size_t n, int status, const char *msg, bool ours, const char *rule, bool close)
{
    c->in[CLIENT].pos += n;
    respond_as(c, status, msg, ours, close);
    access_log(c, rule);
    if (!close)
        return outcome(c, true);
    c->cstate = C_WAIT;
    finish_and_close(c);
    return outcome(c, false);
}

/* Answers a refused request. A refusal without a body lets the connection
 * go on; with a body we would have to read what we refused, and an
 * ambiguous spelling is not worth trusting further: both end it. */
static step refuse(conn *c, const h1_request *req, size_t n, int status, const char *msg, const char *why)
{
    bool close = c->body[CLIENT].mode != H1_BODY_NONE || req->conn_close || status != RULES_DENY;
    return answer_head(c, n, status, msg, true, why, close);
}

/* The parts of a validated head h[0..n) (a request's or a response's)
 * without the lines of the fields in drop (lower case with the colon,
 * NULL-terminated) and without the blank line that ends it. parts has room for
 * one more than the head has lines. Returns how many parts. */
static unsigned head_keep(const char *h, size_t n, const char *const *drop, uv_buf_t *parts)
{
    const char *end = h + n - 2, *seg = h, *p = (const char *)memchr(h, '\n', n) + 1;
    unsigned k = 0;
    while (p < end) {
        const char *next = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
        bool dropped = false;
        for (const char *const *d = drop; *d && !dropped; d++)
            dropped = field_is(p, (size_t)(next - p), *d);
        if (dropped) {
            if (p > seg)
                parts[k++] = uv_buf_init((char *)seg, (unsigned)(p - seg));
            seg = next;
        }
        p = next;
    }
    if (end > seg)
        parts[k++] = uv_buf_init((char *)seg, (unsigned)(end - seg));
    return k;
}

/* A GET or HEAD sent on an upstream connection that already carried a request
 * may meet that connection closing under it (the daemon's idle timeout, a
 * restart): keep a copy of what was sent, to send it once more on a fresh
 * connection. Anything else that meets a closed upstream gets a 502. */
static bool resendable(const conn *c)
{
    return (c->req_is_head || strcmp(c->method, "GET") == 0) && c->body[CLIENT].mode == H1_BODY_NONE;
}

static void keep_for_retry(conn *c, const uv_buf_t *bufs, unsigned nb)
{
    drop_retry(c);
    if (!resendable(c) || c->up_requests == 0)
        return;
    size_t total = 0;
    for (unsigned i = 0; i < nb; i++)
        total += bufs[i].len;
    c->retry = malloc(total);
    if (!c->retry)
        return;
    c->retry_len = 0;
    for (unsigned i = 0; i < nb; i++) {
        memcpy(c->retry + c->retry_len, bufs[i].base, bufs[i].len);
        c->retry_len += bufs[i].len;
    }
}

/* A GET or HEAD without a body goes on an idle daemon connection from the
 * pool when there is one (another client's, or a lookup's): it saves the
 * connect, the daemon's accept and the close. Such a request is kept for
 * one resend (keep_for_retry), since the daemon may close an idle connection
 * just as the request goes out; any other request dials its own. */
static bool take_pooled(conn *c)
{
    if (!resendable(c) || c->retry_pending)
        return false;
    c->up = lookup_pool_take_pipe(c->srv->lookups, c, alloc_cb, on_upstream_read);
    if (!c->up)
        return false;
    c->open_handles++;
    c->reading[UPSTREAM] = true;
    c->upstate = UP_OPEN;
    c->up_requests = 1; /* as a reused connection: the head is kept for a resend */
    return true;
}

/* Sends the allowed head (n bytes) to the open upstream, with X-Api-Key
 * handled: the head at the start of in[CLIENT], or (held) the head and the
 * judged body in c->hold, sent as they were judged. */
static step send_head(conn *c, size_t n, bool held)
{
    buffer *b = &c->in[CLIENT];
    char *h = held ? c->hold : b->p + b->pos;
    size_t hn = n;
    /* A scoped request goes with the object's ID in its target (scope_retarget). */
    bool retargeted = !held && c->sj && c->sj->rehead;
    if (retargeted) {
        h = c->sj->rehead;
        hn = c->sj->rehead_len;
    }
    uv_buf_t bufs[H1_MAX_HEADERS + 6];
    unsigned nb = 1;
    bufs[0] = uv_buf_init(h, (unsigned)hn);
    const char *key = c->rules->api_key;
    if (key) {
        /* The client's own X-Api-Key lines go: Go's Header.Get reads the first. */
        static const char *const api_key_field[] = {"x-api-key:", NULL};
        nb = head_keep(h, hn, api_key_field, bufs);
        bufs[nb++] = uv_buf_init("X-Api-Key: ", 11);
        bufs[nb++] = uv_buf_init((char *)key, (unsigned)strlen(key));
        bufs[nb++] = uv_buf_init("\r\n\r\n", 4);
    }
    if (held)
        bufs[nb++] = uv_buf_init(c->hold + n, (unsigned)(c->hold_need - n));
    keep_for_retry(c, bufs, nb);
    c->up_requests++;
    if (!held)
        b->pos += n;
    c->pending_head = 0;
    c->rstate = R_HEAD;
    c->res_started = false;
    c->cstate = c->body[CLIENT].mode != H1_BODY_NONE && !held ? C_BODY : C_WAIT;
    bool own = key || held || retargeted;
    if (c->cstate == C_BODY && !own) {
        /* Body bytes that came with the head go in the same write (what
         * relay would send next, framing checked the same way). */
        bool done = false;
        ssize_t k = h1_body_feed(&c->body[CLIENT], b->p + b->pos, b->len - b->pos, &done);
        if (k > 0) {
            bufs[0].len += (unsigned)k;
            b->pos += (size_t)k;
        }
        if (k >= 0 && done)
            c->cstate = C_WAIT;
    }
    /* With API_KEY the parts live partly outside the buffer, and a held body
     * in c->hold: they are copied. */
    int r = send_bytes(c, UPSTREAM, bufs, nb, own ? OWN : CLIENT);
    if (held)
        hold_drop(c);
    scope_job_free(c); /* the request is on its way */
    if (r < 0) {
        upstream_lost(c); /* the daemon closed it under us: retried or answered 502 */
        return outcome(c, false);
    }
    return outcome(c, true);
}

/* The allowed head (n bytes) goes to the daemon: over the open upstream, or
 * once one is dialed. A 502 for a daemon that cannot be reached lets the
 * connection go on. */
static step forward_head(conn *c, size_t n, bool held)
{
    if (c->upstate == UP_NONE && take_pooled(c))
        return send_head(c, n, held);
    if (c->upstate == UP_OPEN)
        return send_head(c, n, held);
    c->pending_head = held ? 0 : n;
    switch (dial(c)) {
    case DIAL_OPEN: return send_head(c, n, held);
    case DIAL_WAIT: return STEP_WAIT; /* the dial timer resumes */
    case DIAL_FAILED: return outcome(c, true);
    case DIAL_CLOSED: break;
    }
    return STEP_CLOSED;
}

/* ---- judged request bodies ---- */

/* c->hold grows to at least `want` bytes, its reservation with it. False
 * when that would pass the bound on all held bodies (or memory is short). */
static bool hold_room(conn *c, size_t want)
{
    if (c->hold && want <= c->held)
        return true;
    size_t cap = c->held ? c->held : want;
    while (cap < want)
        cap *= 2;
    size_t most = c->hold_head + c->srv->cfg->max_body + 1; /* one byte more tells "too large" */
    cap = cap > most && want <= most ? most : cap;
    server *srv = c->srv;
    if (srv->held - c->held + cap > srv->held_max)
        return false;
    char *p = realloc(c->hold, cap);
    if (!p)
        return false;
    c->hold = p;
    srv->held += cap - c->held;
    c->held = cap;
    return true;
}

typedef enum { TAKE_MORE, TAKE_DONE, TAKE_NO_ROOM, TAKE_BAD, TAKE_TOO_LARGE } take_result;

/* Decodes the body bytes buffered from `from` into c->hold (the request
 * body judged, or the answer redacted), so that the hold never passes `most`
 * bytes, head included. *k: the bytes taken from the buffer. TAKE_DONE: the
 * body ended; TAKE_NO_ROOM: the bound on all held bodies; TAKE_BAD: the
 * framing is broken (c->body[from].error); TAKE_TOO_LARGE: more than
 * SOCKET_PROXY_MAX_BODY. */
static take_result hold_take(conn *c, side from, size_t most, ssize_t *k)
{
    buffer *b = &c->in[from];
    size_t avail = b->len - b->pos;
    size_t take = avail < most - c->hold_len ? avail : most - c->hold_len;
    *k = 0;
    if (!hold_room(c, c->hold_len + take))
        return TAKE_NO_ROOM;
    size_t got;
    bool done;
    ssize_t used = h1_body_decode(&c->body[from], b->p + b->pos, take, c->hold + c->hold_len, &got, &done);
    if (used < 0)
        return TAKE_BAD;
    b->pos += (size_t)used;
    c->hold_len += got;
    *k = used;
    if (c->hold_len - c->hold_head > c->srv->cfg->max_body)
        return TAKE_TOO_LARGE;
    return done ? TAKE_DONE : TAKE_MORE;
}

static step hold_busy(conn *c)
{
    reject(c, 503, "too many request bodies are being judged at once (their memory is bounded); retry");
    return outcome(c, false);
}

static step hold_too_large(conn *c, uint64_t len)
{
    char why[200];
    snprintf(why, sizeof(why), "request body of %s%llu bytes: the proxy judges at most SOCKET_PROXY_MAX_BODY=%zu",
             c->body[CLIENT].mode == H1_BODY_CHUNKED ? "more than " : "", (unsigned long long)len,
             c->srv->cfg->max_body);
    reject(c, 413, why);
    return outcome(c, false);
}

/* Copies the head h (n bytes, ending in its blank line) to out without its
 * Content-Length and Transfer-Encoding lines and with "Content-Length:
 * body": a body read whole is sent framed by its length. out has room for
 * n + 40 bytes. Returns the new head's length. */
static size_t head_with_length(const char *h, size_t n, size_t body, char *out)
{
    static const char *const framing[] = {"content-length:", "transfer-encoding:", NULL};
    uv_buf_t parts[H1_MAX_HEADERS + 2];
    unsigned k = head_keep(h, n, framing, parts);
    size_t at = 0;
    for (unsigned i = 0; i < k; i++) {
        memcpy(out + at, parts[i].base, parts[i].len);
        at += parts[i].len;
    }
    at += (size_t)sprintf(out + at, "Content-Length: %zu\r\n\r\n", body);
    return at;
}

/* The held request becomes its head, framed by Content-Length, and body
 * (`body` bytes; it may point into the hold): a decoded chunked body, or a
 * scoped create's body with the labels added. */
static bool hold_set_body(conn *c, const char *body_bytes, size_t body)
{
    char *p = malloc(c->hold_head + 40 + body);
    if (!p)
        return false;
    size_t head = head_with_length(c->hold, c->hold_head, body, p);
    memcpy(p + head, body_bytes, body);
    free(c->hold);
    c->hold = p;
    c->hold_head = head;
    c->hold_len = c->hold_need = head + body;
    c->srv->held = c->srv->held - c->held + c->hold_len;
    c->held = c->hold_len;
    return true;
}

/* A body the rules judge (container create, exec, volume create, services,
 * plugin privileges) is read whole before a byte goes to the daemon: the head
 * (n bytes) and the body's data are copied into c->hold, judged when complete
 * (hold_step), then sent exactly as judged. A chunked body is decoded and sent
 * re-framed by Content-Length (what the daemon reads is what was judged). It
 * must fit SOCKET_PROXY_MAX_BODY and arrive within the head timeout; all held
 * bodies together fit srv->held_max. */
static step hold_body(conn *c, size_t n, body_kind kind, bool expect_continue)
{
    bool chunked = c->body[CLIENT].mode == H1_BODY_CHUNKED;
    uint64_t len = chunked ? 0 : c->body[CLIENT].left;
    if (head_has(c->in[CLIENT].p + c->in[CLIENT].pos, n, "content-encoding:")) {
        /* dockerd reads these bodies as they come; a compressed one is
         * not what the judge would read */
        reject(c, 415, "a compressed request body (Content-Encoding) cannot be judged: send it uncompressed");
        return outcome(c, false);
    }
    if (len > c->srv->cfg->max_body)
        return hold_too_large(c, len);
    buffer *b = &c->in[CLIENT];
    const char *head = b->p + b->pos;
    size_t hn = n;
    if (c->sj && c->sj->rehead) { /* a scoped request's target names the object's ID */
        head = c->sj->rehead;
        hn = c->sj->rehead_len;
    }
    c->hold_head = c->hold_len = hn;
    c->hold_need = chunked ? 0 : hn + (size_t)len; /* chunked: known at its end */
    if (!hold_room(c, chunked ? hn + 4096 : hn + (size_t)len))
        return hold_busy(c);
    memcpy(c->hold, head, hn);
    b->pos += n;
    c->hold_kind = kind;
    c->hold_judged = c->hostnet_asked = false;
    c->cstate = C_HOLD;
    if (expect_continue) {
        /* The client waits for this before it sends the body we wait for;
         * the daemon, which sees the same head later, may send its own. */
        uv_buf_t go = uv_buf_init("HTTP/1.1 100 Continue\r\n\r\n", 25);
        if (send_bytes(c, CLIENT, &go, 1, OWN) < 0) {
            conn_close(c);
            return STEP_CLOSED;
        }
    }
    set_timer(c, T_HEAD, c->srv->cfg->head_timeout_ms);
    return outcome(c, true);
}

/* The held body is refused: 403 naming the variable that would open it, or
 * 400 for a body that cannot be read the one way dockerd reads it. */
static step refuse_body(conn *c, const body_verdict *v)
{
    char msg[1024], rule[200];
    if (v->var)
        snprintf(rule, sizeof(rule), "%s%s", c->rules->prefix, v->var);
    snprintf(msg, sizeof(msg), "%s %.200s: %s%s%s%s", c->method, c->target, v->why, v->var ? " (needs " : "",
             v->var ? rule : "", v->var && strcmp(v->var, "ALLOW_BINDS") != 0 ? "=1)" : v->var ? ")" : "");
    answer_and_close(c, v->status, v->status == 403 ? "deny" : "bad", msg, v->var ? rule : v->why);
    return outcome(c, false);
}

/* The daemon's answer to GET /networks/host: services name networks by ID
 * (the CLI resolves --network host to it), so that ID is what the judge
 * must refuse. No host network (404): nothing to refuse. No answer: the
 * body cannot be judged, 502. */
static void on_hostnet(void *arg, int status, const char *body, size_t len)
{
    conn *c = arg;
    c->hostnet_ask = NULL;
    c->hostnet[0] = '\0';
    if (status == 200 && lookup_json_string(body, len, "Id", c->hostnet, sizeof(c->hostnet)) == 0) {
        process(c);
        return;
    }
    if (status == 404) {
        process(c);
        return;
    }
    char why[160];
    snprintf(why, sizeof(why), "the daemon did not say which network is the host's (%s), so the service body "
             "cannot be judged", status < 0 ? uv_strerror(status) : "unexpected answer");
    answer_and_close(c, 502, "error", why, why);
    process(c);
}

/* Learn mode: which body variables an allowed body used. Each switch that
 * is on is turned off in a copy of the policy: if the body is refused for
 * it, the body needed it. The host paths it bound come with the verdict. */
static void learn_body(conn *c, const body_policy *p, const body_verdict *allowed)
{
    static const struct {
        int var;
        size_t off;
    } sw[] = {{RV_ALLOW_PRIVILEGED, offsetof(body_policy, privileged)},
              {RV_ALLOW_HOST_NAMESPACES, offsetof(body_policy, host_namespaces)},
              {RV_ALLOW_CAPABILITIES, offsetof(body_policy, capabilities)},
              {RV_ALLOW_DEVICES, offsetof(body_policy, devices)}};
    rules_mask used = 0;
    body_policy *off = malloc(sizeof(*off));
    body_verdict *v = malloc(sizeof(*v));
    for (size_t i = 0; off && v && i < sizeof(sw) / sizeof(sw[0]); i++) {
        *off = *p;
        bool *flag = (bool *)((char *)off + sw[i].off);
        if (!*flag)
            continue;
        *flag = false;
        body_judge(off, c->hold_kind, c->hold + c->hold_head, c->hold_len - c->hold_head, v);
        if (v->status == 403 && v->var && strcmp(v->var, rules_var_name(sw[i].var)) == 0)
            used |= RBIT(sw[i].var);
    }
    free(off);
    free(v);
    const char *binds[8];
    for (unsigned i = 0; i < allowed->nhost; i++)
        binds[i] = allowed->host[i];
    char key[320];
    learn_note_body(c->srv->learn, (int)(c->prof - c->srv->profiles->p), learn_key(c, key, sizeof(key)), used,
                    binds, (int)allowed->nhost);
}

/* Judges the whole held body: allowed (hold_judged set), refused (answered),
 * or waiting for the daemon's host network ID (a service body). */
static bool scope_body_step(conn *c, step *st);

static step hold_judge(conn *c)
{
    step st;
    if (c->sj && c->sj->route.body != SCOPE_BODY_NONE && !scope_body_step(c, &st))
        return st; /* waiting for the daemon, or answered */
    if (c->hold_kind == BODY_NONE) { /* only scoping needed this body */
        c->hold_judged = true;
        return STEP_PROGRESS;
    }
    const body_policy *p = &c->rules->body;
    body_policy with_hostnet;
    if (c->hold_kind == BODY_SERVICE && !p->host_namespaces) {
        if (!c->hostnet_asked) {
            c->hostnet_asked = true;
            c->hostnet_ask = lookup_start(c->srv->lookups, "/networks/host", c->rules->api_key, c->srv->cfg->head_timeout_ms,
                                          65536, on_hostnet, c);
            if (!c->hostnet_ask) {
                conn_close(c);
                return STEP_CLOSED;
            }
        }
        if (c->hostnet_ask)
            return STEP_WAIT;
        with_hostnet = *p;
        memcpy(with_hostnet.hostnet, c->hostnet, sizeof(with_hostnet.hostnet));
        p = &with_hostnet;
    }
    body_verdict v;
    body_judge(p, c->hold_kind, c->hold + c->hold_head, c->hold_len - c->hold_head, &v);
    if (v.status != 0)
        return refuse_body(c, &v);
    if (c->srv->learn)
        learn_body(c, p, &v);
    c->hold_judged = true;
    return STEP_PROGRESS;
}

/* Takes body bytes into c->hold (decoded, when chunked); once it is whole,
 * judges and sends it. */
static step hold_step(conn *c)
{
    ssize_t k = 0;
    if (c->hold_need == 0 || c->hold_len < c->hold_need) {
        size_t most = c->hold_need ? c->hold_need : c->hold_head + c->srv->cfg->max_body + 1;
        switch (hold_take(c, CLIENT, most, &k)) {
        case TAKE_NO_ROOM: return hold_busy(c);
        case TAKE_BAD: reject(c, 400, c->body[CLIENT].error); return outcome(c, false);
        case TAKE_TOO_LARGE: return hold_too_large(c, c->hold_len - c->hold_head - 1);
        case TAKE_MORE: return outcome(c, k > 0);
        case TAKE_DONE: break;
        }
        set_timer(c, T_NONE, 0);
        if (c->hold_need == 0 && !hold_set_body(c, c->hold + c->hold_head, c->hold_len - c->hold_head)) {
            conn_close(c);
            return STEP_CLOSED;
        }
    }
    if (!c->hold_judged) {
        step st = hold_judge(c);
        if (!c->hold_judged) /* refused (answered), waiting for the daemon's answer, or closed */
            return st == STEP_CLOSED ? st : outcome(c, k > 0 || c->cstate != C_HOLD);
    }
    if (c->upstate == UP_WAIT || c->upstate == UP_CLOSING)
        return outcome(c, k > 0); /* the dial timer or the close callback resumes */
    return forward_head(c, c->hold_head, true);
}

/* ---- label scoping (SCOPE_LABEL) ---- */

#define SCOPE_ANSWER_MAX ((size_t)4 << 20) /* an inspect answer is read whole, up to this */
#define SCOPE_UNREADABLE (-100000)          /* j->answer: the daemon answered, but not as it does */

static void scope_job_free(conn *c)
{
    scope_job *j = c->sj;
    if (!j)
        return;
    lookup_cancel(j->ask);
    free(j->full);
    free(j->query);
    free(j->rehead);
    free(j);
    c->sj = NULL;
}

/* What scoping means for an allowed request of a scoped profile (judge):
 * nothing (no job), or a job for scope_start. -1 when memory runs out. */
static int scope_prepare(conn *c, const h1_request *req, const rules_verdict *v, const char *normalized)
{
    scope_route r;
    scope_route_of(&c->rules->scope, req->method.p, req->method.n, v->path, v->path_len, &r);
    if (r.what == SCOPE_PASS)
        return 0;
    scope_job *j = calloc(1, sizeof(*j));
    if (!j)
        return -1;
    c->sj = j;
    j->route = r;
    j->vlen = (size_t)(v->path - normalized);
    j->plen = v->path_len;
    j->full = malloc(j->vlen + j->plen + 1);
    const char *q = memchr(req->target.p, '?', req->target.n);
    j->qlen = q ? req->target.n - (size_t)(q + 1 - req->target.p) : 0;
    j->query = malloc(j->qlen + 1);
    if (!j->full || !j->query)
        return -1; /* freed with the connection */
    memcpy(j->full, normalized, j->vlen + j->plen);
    j->full[j->vlen + j->plen] = '\0';
    j->path = j->full + j->vlen;
    memcpy(j->query, q ? q + 1 : "", j->qlen);
    j->query[j->qlen] = '\0';
    return 0;
}

/* The request goes with target t (tlen bytes, malloc'd; taken) in place of
 * the client's: the head at in[CLIENT].pos with its request line re-written.
 * The access log shows the new target (the object's ID). */
static bool scope_retarget(conn *c, char *t, size_t tlen)
{
    scope_job *j = c->sj;
    const char *h = c->in[CLIENT].p + c->in[CLIENT].pos;
    const char *sp1 = memchr(h, ' ', j->head_len);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', j->head_len - (size_t)(sp1 + 1 - h)) : NULL;
    size_t before = (size_t)(sp1 + 1 - h), after = j->head_len - (size_t)(sp2 - h);
    free(j->rehead);
    j->rehead = sp2 ? malloc(before + tlen + after) : NULL;
    if (j->rehead) {
        memcpy(j->rehead, h, before);
        memcpy(j->rehead + before, t, tlen);
        memcpy(j->rehead + before + tlen, sp2, after);
        j->rehead_len = before + tlen + after;
        size_t n = tlen < sizeof(c->target) - 1 ? tlen : sizeof(c->target) - 1;
        memcpy(c->target, t, n);
        c->target[n] = '\0';
    }
    free(t);
    return j->rehead != NULL;
}

/* The profile's labels, for messages: "autoheal=true". */
static const char *scope_labels(const conn *c, char *out, size_t cap)
{
    scope_text(&c->rules->scope, out, cap);
    return out;
}

/* dockerd's words for an object that does not exist: a scoped client gets
 * them for an object out of its scope too, so it cannot tell the two apart. */
static void scope_missing_text(scope_object obj, const char *name, char *out, size_t cap)
{
    switch (obj) {
    case SCOPE_OBJ_EXEC: snprintf(out, cap, "No such exec instance: %s", name); break;
    case SCOPE_OBJ_NETWORK: snprintf(out, cap, "network %s not found", name); break;
    case SCOPE_OBJ_VOLUME: snprintf(out, cap, "get %s: no such volume", name); break;
    default: snprintf(out, cap, "No such container: %s", name); break;
    }
}

/* Answers a scoped request whose head still waits at in[CLIENT].pos, as
 * refuse() does: the connection goes on unless a body follows (or the client
 * asked to close, or the status is not a plain refusal). ours: the message
 * says it comes from the proxy (a 404 for an object out of scope does not). */
static step scope_answer_head(conn *c, int status, const char *decision, const char *msg, bool ours,
                              const char *rule)
{
    bool close = c->body[CLIENT].mode != H1_BODY_NONE || c->req_close || (status != 403 && status != 404);
    size_t n = c->sj->head_len;
    c->cstate = C_HEAD;
    scope_job_free(c);
    c->decision = decision;
    return answer_head(c, n, status, msg, ours, rule, close);
}

static void on_scope_answer(void *arg, int status, const char *body, size_t len);

static bool scope_creates(const scope_route *r)
{
    return r->body == SCOPE_BODY_CREATE_CONTAINER || r->body == SCOPE_BODY_CREATE_NETWORK ||
           r->body == SCOPE_BODY_CREATE_VOLUME;
}

/* Asks the daemon about the object `name` (its inspect), on a connection of
 * its own; on_scope_answer resumes. False when memory runs out. */
static bool scope_ask(conn *c, scope_object obj, const char *name)
{
    scope_job *j = c->sj;
    char target[1024];
    if (scope_lookup_target(obj, name, strlen(name), target, sizeof(target)) < 0) {
        j->answer = 0; /* a name that long names nothing */
        j->answered = true;
        return true;
    }
    j->asking = obj;
    j->ask = lookup_start(c->srv->lookups, target, c->rules->api_key, c->srv->cfg->head_timeout_ms, SCOPE_ANSWER_MAX,
                          on_scope_answer, c);
    return j->ask != NULL;
}

/* After the checks of the head: the request goes on, its body held when the
 * judge or scoping reads it. */
static step scope_forward(conn *c)
{
    scope_job *j = c->sj;
    bool body = c->body[CLIENT].mode != H1_BODY_NONE;
    if (!body && scope_creates(&j->route) && c->rules->scope.own) {
        char msg[1024], labels[400];
        snprintf(msg, sizeof(msg), "%s %.200s: a create by a profile scoped to %s with %sSCOPE_OWN=1 carries a JSON body",
                 c->method, c->target, scope_labels(c, labels, sizeof(labels)), c->rules->prefix);
        return scope_answer_head(c, 400, "bad", msg, true, "SCOPE_OWN");
    }
    if (body && (j->kind != BODY_NONE || j->route.body != SCOPE_BODY_NONE))
        return hold_body(c, j->head_len, j->kind, j->expect_continue);
    return forward_head(c, j->head_len, false);
}

/* The daemon answered about the object the path names (C_SCOPE): in scope,
 * the request goes with the object's ID; out of scope or missing, 404 in the
 * daemon's words; no usable answer, 502. */
/* How a request is answered when the daemon's answer about an object is not
 * "in scope": 404 in dockerd's words when it is missing or outside the scope
 * (the client cannot tell which), 502 when there was no usable answer. */
typedef struct {
    int status;
    const char *decision, *rule;
    bool ours;
} scope_refusal;

static scope_refusal scope_not_in(int answer, scope_object obj, const char *name, const char *where, char *msg,
                                  size_t cap)
{
    if (answer == 0) {
        scope_missing_text(obj, name, msg, cap);
        return (scope_refusal){404, "deny", "SCOPE_LABEL", false};
    }
    snprintf(msg, cap, "the daemon did not say whether %.256s%s%s%s is in this profile's scope (%s)", name,
             where ? " (" : "", where ? where : "", where ? ")" : "",
             answer == SCOPE_UNREADABLE ? "unexpected answer" : uv_strerror(answer));
    return (scope_refusal){502, "error", "scope lookup failed", true};
}

static step scope_object_done(conn *c)
{
    scope_job *j = c->sj;
    char msg[800];
    j->answered = false; /* taken: a held body's references get answers of their own */
    if (j->answer <= 0) {
        scope_refusal r = scope_not_in(j->answer, j->route.obj, j->name, NULL, msg, sizeof(msg));
        return scope_answer_head(c, r.status, r.decision, msg, r.ours, r.rule);
    }
    c->cstate = C_HEAD;
    if (j->route.obj != SCOPE_OBJ_EXEC) { /* an exec's ID names it for good: its target stays */
        char *t;
        size_t tl;
        if (scope_object_target(&j->route, j->full, j->vlen, j->path, j->plen, j->query, j->qlen, j->id, &t, &tl) < 0 ||
            !scope_retarget(c, t, tl)) {
            conn_close(c);
            return STEP_CLOSED;
        }
    }
    return scope_forward(c);
}

/* The lookup's outcome, into j->answer (and j->id). An exec in scope is
 * the first of two questions: its container decides. */
static void on_scope_answer(void *arg, int status, const char *body, size_t len)
{
    conn *c = arg;
    scope_job *j = c->sj;
    j->ask = NULL;
    int in = status == 404 ? 0 : status == 200 ? scope_answer(&c->rules->scope, j->asking, body, len, j->id, sizeof(j->id))
                                               : status < 0 ? status : SCOPE_UNREADABLE;
    if (in < 0 && status == 200)
        in = SCOPE_UNREADABLE;
    if (in == 1 && j->asking == SCOPE_OBJ_EXEC) {
        char cid[80];
        memcpy(cid, j->id, sizeof(cid));
        j->exec_container = true;
        if (!scope_ask(c, SCOPE_OBJ_CONTAINER, cid)) {
            conn_close(c);
            return;
        }
        if (j->ask)
            return;
        in = j->answer;
    }
    j->answer = in;
    j->answered = true;
    if (c->cstate == C_SCOPE && scope_object_done(c) == STEP_CLOSED)
        return;
    process(c); /* a held body's reference: hold_judge reads the answer */
}

/* A head the rules allowed, of a scoped profile: refused, re-targeted (a
 * list), or held until the daemon says whether its object is in scope. */
static step scope_start(conn *c, const h1_request *req, size_t n, body_kind kind)
{
    scope_job *j = c->sj;
    char msg[800], labels[400];
    j->head_len = n;
    j->kind = kind;
    j->expect_continue = req->expect_continue;
    scope_labels(c, labels, sizeof(labels));
    switch (j->route.what) {
    case SCOPE_PASS: break;
    case SCOPE_REFUSE:
        snprintf(msg, sizeof(msg), "%s %.200s is not allowed to a profile scoped to %s: %s", c->method, j->path, labels,
                 j->route.why);
        return scope_answer_head(c, 403, "deny", msg, true, "SCOPE_LABEL");
    case SCOPE_LIST: {
        if (c->body[CLIENT].mode != H1_BODY_NONE) {
            /* dockerd's ParseForm would read a form body's filters before the query's */
            snprintf(msg, sizeof(msg), "%s %.200s: a scoped list or prune carries no request body", c->method, j->path);
            return scope_answer_head(c, 400, "bad", msg, true, "request body on a scoped list");
        }
        char *t, why[300];
        size_t tl;
        int r = scope_list_target(&c->rules->scope, j->route.libpod, j->full, j->vlen, j->path, j->plen, j->query,
                                  j->qlen, &t, &tl, why, sizeof(why));
        if (r == 0 && !scope_retarget(c, t, tl))
            r = -1;
        if (r < 0) {
            conn_close(c);
            return STEP_CLOSED;
        }
        if (r) {
            snprintf(msg, sizeof(msg), "%s %.200s: %s", c->method, c->target, why);
            return scope_answer_head(c, 400, "bad", msg, true, why);
        }
        return scope_forward(c);
    }
    case SCOPE_CHECK:
        if (j->route.obj == SCOPE_OBJ_NONE)
            return scope_forward(c);
        if (j->route.query_key) {
            size_t ctlen = 0;
            const char *ctype = head_value(c->in[CLIENT].p + c->in[CLIENT].pos, n, "content-type:", &ctlen);
            int r = scope_query_param(j->query, j->qlen, j->route.query_key, j->name, sizeof(j->name));
            if (r > 0 && c->body[CLIENT].mode != H1_BODY_NONE &&
                scope_form_body(req->method.p, req->method.n, ctype, ctlen))
                r = -1; /* dockerd's FormValue would take the parameter from the form body first */
            if (r <= 0) {
                snprintf(msg, sizeof(msg), "%s %.200s: the %s query parameter must be given once, readably, to a "
                         "profile scoped to %s", c->method, c->target, j->route.query_key, labels);
                return scope_answer_head(c, 400, "bad", msg, true, "scoped query parameter");
            }
        } else {
            size_t sl = j->route.seg_len < sizeof(j->name) - 1 ? j->route.seg_len : sizeof(j->name) - 1;
            memcpy(j->name, j->path + j->route.seg_off, sl);
            j->name[sl] = '\0';
        }
        if (!scope_ask(c, j->route.obj, j->name)) {
            conn_close(c);
            return STEP_CLOSED;
        }
        if (!j->ask)
            return scope_object_done(c);
        c->cstate = C_SCOPE;
        return outcome(c, true);
    }
    return forward_head(c, n, false);
}

/* A held body a scoped profile reads (hold_judge): the objects it names
 * must be in scope, asked about one at a time; with SCOPE_OWN a create gets
 * the labels. True when that is done and the judge may go on; false with
 * *st when waiting for the daemon or answered. */
static bool scope_body_step(conn *c, step *st)
{
    scope_job *j = c->sj;
    const scope_policy *pol = &c->rules->scope;
    char msg[800];
    if (!j->body_read) {
        char why[400];
        int r = scope_body(pol, j->route.body, c->hold + c->hold_head, c->hold_len - c->hold_head, &j->refs, why,
                           sizeof(why));
        if (r) {
            snprintf(msg, sizeof(msg), "%s %.200s: %s", c->method, c->target, why);
            answer_and_close(c, r, r == 403 ? "deny" : "bad", msg, r == 403 ? "SCOPE_LABEL" : why);
            *st = outcome(c, false);
            return false;
        }
        j->body_read = true;
    }
    while (j->next_ref < j->refs.n) {
        if (j->ask) {
            *st = STEP_WAIT;
            return false;
        }
        if (!j->answered) {
            if (!scope_ask(c, j->refs.ref[j->next_ref].obj, j->refs.ref[j->next_ref].name)) {
                conn_close(c);
                *st = STEP_CLOSED;
                return false;
            }
            continue; /* a name too long to ask about is answered at once */
        }
        j->answered = false;
        if (j->answer <= 0) {
            const scope_ref *ref = &j->refs.ref[j->next_ref];
            scope_refusal r = scope_not_in(j->answer, ref->obj, ref->name, ref->where, msg, sizeof(msg));
            answer_and_close_as(c, r.status, r.decision, msg, r.ours, r.rule);
            *st = outcome(c, false);
            return false;
        }
        j->next_ref++;
    }
    if (pol->own && scope_creates(&j->route) && !j->labelled) {
        char *nb;
        size_t nl;
        if (scope_add_labels(pol, c->hold + c->hold_head, c->hold_len - c->hold_head, &nb, &nl) < 0) {
            conn_close(c);
            *st = STEP_CLOSED;
            return false;
        }
        bool ok = hold_set_body(c, nb, nl);
        free(nb);
        if (!ok) {
            conn_close(c);
            *st = STEP_CLOSED;
            return false;
        }
        j->labelled = true;
    }
    return true;
}

/* Reads, decides and forwards (or answers) the request head at the start of
 * in[CLIENT]. */
static step handle_head(conn *c)
{
    buffer *b = &c->in[CLIENT];
    const config *cfg = c->srv->cfg;
    h1_request req;
    /* Resumed where the last read stopped: a head fed a byte at a time costs
     * linear time, not quadratic. */
    ssize_t n = h1_parse_request_resume(b->p + b->pos, b->len - b->pos, cfg->max_head, &req, &c->head_prog);
    if (n == H1_INCOMPLETE) {
        if (c->timer_kind != T_HEAD)
            set_timer(c, T_HEAD, cfg->head_timeout_ms);
        return STEP_WAIT;
    }
    h1_progress_init(&c->head_prog); /* the next head starts afresh */
    set_timer(c, T_NONE, 0);
    if (n == H1_ERROR) {
        begin_request(c, NULL, NULL);
        c->req_is_head = req.method.n == 4 && memcmp(req.method.p, "HEAD", 4) == 0;
        reject(c, req.status, req.error);
        return outcome(c, false);
    }
    begin_request(c, &req.method, &req.target);
    h1_body_request(&c->body[CLIENT], &req);
    char msg[800];
    const char *why;
    body_kind kind;
    int status = judge(c, &req, (size_t)n, msg, sizeof(msg), &why, &kind);
    if (status < 0) {
        conn_close(c);
        return STEP_CLOSED;
    }
    if (status != RULES_ALLOW)
        return refuse(c, &req, (size_t)n, status, msg, why);
    c->decision = c->learned ? "learn-allow" : "allow";
    c->req_close = req.conn_close;
    if (c->sj)
        return scope_start(c, &req, (size_t)n, kind);
    if (kind != BODY_NONE && c->body[CLIENT].mode != H1_BODY_NONE)
        return hold_body(c, (size_t)n, kind, req.expect_continue);
    return forward_head(c, (size_t)n, false);
}

/* ---- bodies and tunnels ---- */

/* The bytes from `from` break their framing. Nothing past the last good byte
 * is forwarded: the daemon would read it as the rest of this body or as a new
 * request, the client as the rest of its answer. */
static step body_error(conn *c, side from)
{
    const char *error = c->body[from].error;
    if (from == UPSTREAM) {
        log_msg(LOG_ERR, "%s: bad chunked response from the daemon: %s", peer(c), error);
        conn_close(c);
        return STEP_CLOSED;
    }
    log_msg(LOG_NOTICE, "%s: bad chunked request body: %s", peer(c), error);
    if (c->res_started) {
        conn_close(c);
        return STEP_CLOSED;
    }
    close_upstream(c);
    c->rstate = R_IDLE;
    reject(c, 400, error);
    return outcome(c, false);
}

static void response_done(conn *c);
static step redact_send(conn *c);
static step redact_step(conn *c, bool eof);

/* Forwards the body bytes buffered from `from` to the other side: a request
 * body, a response body, or either direction of a tunnel. */
static step relay(conn *c, side from)
{
    buffer *b = &c->in[from];
    bool done;
    ssize_t k = h1_body_feed(&c->body[from], b->p + b->pos, b->len - b->pos, &done);
    if (k < 0)
        return body_error(c, from);
    uv_buf_t buf = uv_buf_init(b->p + b->pos, (unsigned)k);
    b->pos += (size_t)k;
    if (k > 0 && send_bytes(c, OTHER(from), &buf, 1, from) < 0) {
        conn_close(c);
        return STEP_CLOSED;
    }
    if (done && from == CLIENT)
        c->cstate = C_WAIT;
    else if (done)
        response_done(c);
    return outcome(c, k > 0 || done);
}

/* ---- responses ---- */

static void start_tunnel(conn *c)
{
    set_streaming(c, true);
    c->rstate = R_TUNNEL;
    c->cstate = C_TUNNEL;
    h1_body_close(&c->body[CLIENT]);
    h1_body_close(&c->body[UPSTREAM]);
    set_timer(c, T_NONE, 0);
    access_log(c, NULL);
}

/* The response ended: log it and get ready for the next request. */
static void response_done(conn *c)
{
    c->rstate = R_IDLE;
    access_log(c, NULL);
    set_streaming(c, false);
    /* A request body the daemon did not wait for leaves the framing unknown. */
    if (c->cstate == C_BODY || c->res_close || c->req_close || c->close_after || c->srv->draining)
        finish_and_close(c);
    else
        c->cstate = C_HEAD;
}

static step bad_response(conn *c, const char *error)
{
    log_msg(LOG_ERR, "%s: bad response from the daemon: %s", peer(c), error);
    c->in[UPSTREAM].pos = c->in[UPSTREAM].len;
    close_upstream(c);
    c->rstate = R_IDLE;
    if (c->res_started) {
        conn_close(c);
        return STEP_CLOSED;
    }
    char msg[200];
    snprintf(msg, sizeof(msg), "bad response from the Docker daemon: %s", error);
    respond(c, 502, msg, true);
    c->cstate = C_WAIT;
    finish_and_close(c);
    return outcome(c, true);
}

static bool is_tunnel(const conn *c, const h1_response *res)
{
    return res->status == 101 || (res->status == 200 && res->docker_stream && (c->rflags & RULES_F_HIJACK) &&
                                  !res->chunked && res->content_length < 0);
}

/* ---- redacted answers ---- */

/* An answer the client may not read whole (see redact_choose) fails closed:
 * 502, nothing of it forwarded. */
static step redact_fail(conn *c, const char *why)
{
    log_msg(LOG_ERR, "%s: %s", peer(c), why);
    if (c->hold)
        hold_drop(c);
    c->in[UPSTREAM].pos = c->in[UPSTREAM].len;
    close_upstream(c);
    c->rstate = R_IDLE;
    c->decision = "error";
    respond(c, 502, why, true);
    c->cstate = C_WAIT;
    finish_and_close(c);
    return outcome(c, true);
}

/* The answer's head (in `head`, still in in[UPSTREAM]) is kept in c->hold;
 * its body follows into it (redact_step), decoded, up to
 * SOCKET_PROXY_MAX_BODY. */
static step redact_hold(conn *c, const h1_response *res, uv_buf_t head)
{
    c->hold_head = c->hold_len = 0;
    c->hold_need = 0;
    if (!hold_room(c, head.len + 4096))
        return redact_fail(c, "too many answers are being redacted at once (their memory is bounded); retry");
    memcpy(c->hold, head.base, head.len);
    c->hold_head = c->hold_len = head.len;
    c->rstate = R_HOLD;
    h1_body_response(&c->body[UPSTREAM], res, false);
    c->res_close |= c->body[UPSTREAM].mode == H1_BODY_CLOSE;
    if (c->body[UPSTREAM].mode == H1_BODY_NONE)
        return redact_send(c);
    return outcome(c, true);
}

/* Takes the held answer's body; once whole, redacts and sends it. */
static step redact_step(conn *c, bool eof)
{
    if (!eof) {
        ssize_t k;
        switch (hold_take(c, UPSTREAM, c->hold_head + c->srv->cfg->max_body + 1, &k)) {
        case TAKE_NO_ROOM:
            return redact_fail(c, "too many answers are being redacted at once (their memory is bounded); retry");
        case TAKE_BAD: return redact_fail(c, "bad response from the Docker daemon: its framing is broken");
        case TAKE_TOO_LARGE:
            return redact_fail(c, "the daemon's answer is larger than SOCKET_PROXY_MAX_BODY: it cannot be redacted, "
                                  "and is not passed on unredacted");
        case TAKE_MORE: return outcome(c, k > 0);
        case TAKE_DONE: break;
        }
    }
    return redact_send(c);
}

/* Sends the held answer with its secrets replaced, framed by its new length. */
static step redact_send(conn *c)
{
    char *out;
    size_t outlen;
    unsigned replaced;
    if (redact(c->redact, c->redact_what, c->hold + c->hold_head, c->hold_len - c->hold_head, &out, &outlen,
               &replaced) < 0)
        return redact_fail(c, "the daemon's answer is not JSON the proxy can redact: not passed on");
    char *msg = malloc(c->hold_head + 40 + outlen);
    if (!msg) {
        free(out);
        conn_close(c);
        return STEP_CLOSED;
    }
    size_t n = head_with_length(c->hold, c->hold_head, outlen, msg);
    memcpy(msg + n, out, outlen);
    free(out);
    hold_drop(c);
    uv_buf_t buf = uv_buf_init(msg, (unsigned)(n + outlen));
    int r = send_bytes(c, CLIENT, &buf, 1, OWN);
    free(msg);
    if (r < 0) {
        conn_close(c);
        return STEP_CLOSED;
    }
    if (replaced)
        log_msg(LOG_DEBUG, "%s: %u value%s redacted in %s %s", peer(c), replaced, replaced == 1 ? "" : "s", c->method,
                c->target);
    response_done(c);
    return outcome(c, true);
}

/* Reads a response head and forwards it, with the body bytes that came
 * along in the same write. */
static step handle_response_head(conn *c)
{
    buffer *b = &c->in[UPSTREAM];
    h1_response res;
    ssize_t n = h1_parse_response(b->p + b->pos, b->len - b->pos, c->srv->buf_size, &res);
    if (n == H1_INCOMPLETE)
        return STEP_WAIT;
    if (n == H1_ERROR)
        return bad_response(c, res.error);
    c->status = res.status;
    c->res_close = res.conn_close;
    c->res_started = true;
    uv_buf_t buf = uv_buf_init(b->p + b->pos, (unsigned)n);
    b->pos += (size_t)n;
    bool done = false;
    ssize_t k = 0;
    if (is_tunnel(c, &res)) {
        start_tunnel(c);
    } else if (res.status == 200 && c->redact != REDACT_NONE && !c->req_is_head) {
        return redact_hold(c, &res, buf);
    } else if (res.status >= 200) { /* not an interim head (100 Continue): the body follows */
        c->rstate = R_BODY;
        if (c->rflags & RULES_F_STREAM)
            set_streaming(c, true);
        h1_body_response(&c->body[UPSTREAM], &res, c->req_is_head);
        c->res_close |= c->body[UPSTREAM].mode == H1_BODY_CLOSE;
        k = h1_body_feed(&c->body[UPSTREAM], b->p + b->pos, b->len - b->pos, &done);
        buf.len += k > 0 ? (unsigned)k : 0;
        b->pos += k > 0 ? (size_t)k : 0;
    }
    if (send_bytes(c, CLIENT, &buf, 1, UPSTREAM) < 0) {
        conn_close(c);
        return STEP_CLOSED;
    }
    if (k < 0)
        return body_error(c, UPSTREAM);
    if (done)
        response_done(c);
    return outcome(c, true);
}

/* ---- the driver ---- */

/* The combinations of states that may meet (see the diagram at the top). */
static void check_states(const conn *c)
{
    assert((c->cstate == C_TUNNEL) == (c->rstate == R_TUNNEL));
    assert(c->cstate != C_HEAD || c->rstate == R_IDLE);
    assert(c->cstate != C_HOLD || (c->rstate == R_IDLE && c->hold));
    assert(c->cstate != C_SCOPE || (c->rstate == R_IDLE && c->sj));
    assert(c->cstate != C_BODY || c->rstate == R_HEAD || c->rstate == R_BODY || c->rstate == R_HOLD ||
           c->close_after);
    assert(c->rstate != R_HOLD || c->hold);
    assert((c->rstate != R_BODY && c->rstate != R_TUNNEL) || c->upstate == UP_OPEN);
    assert(c->rstate != R_HEAD || c->upstate == UP_OPEN || c->retry_pending);
    assert(c->cstate != C_LINGER || (c->upstate != UP_OPEN && c->upstate != UP_WAIT));
    assert((c->upstate == UP_WAIT) == (c->timer_kind == T_DIAL));
    assert(c->upstate == UP_OPEN || !c->reading[UPSTREAM]);
    assert(!c->sp || (c->upstate == UP_OPEN && !c->tls));
    for (int s = 0; s < 2; s++) {
        assert(c->writes[s] >= 0);
        assert(!c->in[s].busy || c->writes[OTHER(s)] > 0);
    }
    (void)c;
}

/* Moves what the daemon sent on toward the client. */
static step upstream_step(conn *c)
{
    buffer *b = &c->in[UPSTREAM];
    if (splice_wanted(c, UPSTREAM))
        return splice_start(c, UPSTREAM);
    if (b->busy || !buf_has_bytes(b))
        return STEP_WAIT;
    switch (c->rstate) {
    case R_HEAD: return handle_response_head(c);
    case R_BODY:
    case R_TUNNEL: return relay(c, UPSTREAM);
    case R_HOLD: return redact_step(c, false);
    case R_IDLE: break;
    }
    /* Bytes nobody asked for: the framing is lost. */
    log_msg(LOG_ERR, "%s: unexpected bytes from the daemon between responses", peer(c));
    b->pos = b->len;
    close_upstream(c);
    return outcome(c, true);
}

/* Moves what the client sent on toward the daemon. */
static step client_step(conn *c)
{
    buffer *b = &c->in[CLIENT];
    /* A whole held body waits for no byte more: only for the daemon. */
    if (c->cstate == C_HOLD && c->hold_need && c->hold_len == c->hold_need)
        return hold_step(c);
    if (splice_wanted(c, CLIENT))
        return splice_start(c, CLIENT);
    if (b->busy || !buf_has_bytes(b))
        return STEP_WAIT;
    switch (c->cstate) {
    case C_HOLD: return hold_step(c);
    case C_HEAD:
        /* One request at a time, after our own answer is flushed, and after
         * the daemon's side is clear: bytes past its last answer are
         * unexpected (upstream_step), never the answer to the next request.
         * A head that waits for the upstream to be dialed again stays where
         * it is. */
        if (c->rstate != R_IDLE || c->close_after || c->writes[CLIENT] > 0 || c->upstate == UP_WAIT ||
            c->upstate == UP_CLOSING || buf_has_bytes(&c->in[UPSTREAM]))
            return STEP_WAIT;
        return handle_head(c);
    case C_BODY: return c->upstate == UP_OPEN ? relay(c, CLIENT) : STEP_WAIT;
    case C_TUNNEL: return c->shut[UPSTREAM] ? STEP_WAIT : relay(c, CLIENT);
    case C_SCOPE: /* the daemon's answer resumes (on_scope_answer) */
    case C_WAIT:
    case C_LINGER: break;
    }
    return STEP_WAIT;
}

/* The daemon closed during a body: once what came is flushed, that ends a
 * close-delimited body; any other body is truncated, and the client must not
 * mistake it for a whole one. */
static step upstream_eof_in_body(conn *c)
{
    buffer *b = &c->in[UPSTREAM];
    if ((c->rstate != R_BODY && c->rstate != R_HOLD) || !c->eof[UPSTREAM] || b->busy || buf_has_bytes(b))
        return STEP_WAIT;
    if (c->rstate == R_HOLD)
        return c->body[UPSTREAM].mode == H1_BODY_CLOSE ? redact_step(c, true)
                                                       : redact_fail(c, "the daemon closed the connection mid-answer");
    if (c->body[UPSTREAM].mode != H1_BODY_CLOSE) {
        conn_close(c);
        return STEP_CLOSED;
    }
    response_done(c);
    return outcome(c, true);
}

/* A client EOF is passed on to the daemon once the bytes before it are out:
 * half-close in a tunnel, cancellation for a pending request. */
static step pass_client_eof(conn *c)
{
    if (!c->eof[CLIENT] || c->shut[UPSTREAM] || c->upstate != UP_OPEN || c->rstate == R_IDLE ||
        c->writes[UPSTREAM] > 0 || buf_has_bytes(&c->in[CLIENT]))
        return STEP_WAIT;
    c->shut[UPSTREAM] = true;
    c->sreq[UPSTREAM].data = c;
    if (uv_shutdown(&c->sreq[UPSTREAM], (uv_stream_t *)c->up, NULL) < 0) {
        conn_close(c);
        return STEP_CLOSED;
    }
    return STEP_PROGRESS;
}

/* A tunnel passes the daemon's EOF on to the client, and ends when both
 * directions have. */
static step tunnel_ends(conn *c)
{
    bool flushed_up = c->writes[CLIENT] == 0 && !buf_has_bytes(&c->in[UPSTREAM]);
    if (c->eof[UPSTREAM] && !c->shut[CLIENT] && flushed_up) {
        shut_client(c);
        if (c->closing)
            return STEP_CLOSED;
    }
    if (c->eof[CLIENT] && c->eof[UPSTREAM] && c->writes[CLIENT] == 0 && c->writes[UPSTREAM] == 0) {
        conn_close(c);
        return STEP_CLOSED;
    }
    return STEP_WAIT;
}

/* Between requests: the keep-alive timer runs, and a draining server lets
 * the connection go. */
static step between_requests(conn *c)
{
    if (c->cstate != C_HEAD || c->rstate != R_IDLE || buf_has_bytes(&c->in[CLIENT]))
        return STEP_WAIT;
    if (c->upstate != UP_WAIT && c->timer_kind != T_HEAD && c->timer_kind != T_IDLE)
        set_timer(c, T_IDLE, c->srv->cfg->idle_timeout_ms);
    if (c->srv->draining && c->writes[CLIENT] == 0) {
        conn_close(c);
        return STEP_CLOSED;
    }
    return STEP_WAIT;
}

/* Runs the connection until neither side can move: every event ends here. */
static void process(conn *c)
{
    for (;;) {
        if (c->closing)
            return;
        check_states(c);
        step up = upstream_step(c);
        if (up == STEP_CLOSED)
            return;
        step cl = client_step(c);
        if (cl == STEP_CLOSED)
            return;
        if (up == STEP_WAIT && cl == STEP_WAIT)
            break;
    }
    if (upstream_eof_in_body(c) == STEP_CLOSED || pass_client_eof(c) == STEP_CLOSED)
        return;
    if (c->cstate == C_TUNNEL) {
        if (tunnel_ends(c) == STEP_CLOSED)
            return;
    } else if (c->close_after && c->writes[CLIENT] == 0 && c->cstate != C_LINGER && c->rstate != R_BODY &&
               c->rstate != R_HEAD && c->rstate != R_HOLD) {
        finish_and_close(c);
        if (c->closing)
            return;
    }
    if (between_requests(c) == STEP_CLOSED)
        return;
    update_io(c);
}

/* ---- reading ---- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    conn *c = h->data;
    buffer *b = &c->in[h == (uv_handle_t *)c->up ? UPSTREAM : CLIENT];
    size_t big = c->srv->buf_size;
    if (!b->p) {
        /* A client waiting for its next head gets a small buffer. */
        b->cap = b == &c->in[CLIENT] && c->cstate == C_HEAD ? SERVER_BUF_SMALL : big;
        b->p = server_buf_get(c->srv, b->cap);
        b->pos = b->len = 0;
    } else if (b->pos > 0 && !b->busy) {
        memmove(b->p, b->p + b->pos, b->len - b->pos);
        b->len -= b->pos;
        b->pos = 0;
    }
    /* A large head, or a body or tunnel behind a small buffer: go large. */
    if (b->p && b->cap < big && !b->busy && (b->len == b->cap || c->cstate != C_HEAD)) {
        char *p = server_buf_get(c->srv, big);
        if (p) {
            memcpy(p, b->p, b->len);
            server_buf_put(c->srv, b->p, b->cap);
            b->p = p;
            b->cap = big;
        }
    }
    *out = b->p ? uv_buf_init(b->p + b->len, (unsigned)(b->cap - b->len)) : uv_buf_init(NULL, 0);
}

static void tls_reading(conn *c, bool want);

static void set_reading(conn *c, side s, bool want)
{
    if (s == CLIENT && c->tls) {
        tls_reading(c, want);
        return;
    }
    if (want == c->reading[s])
        return;
    if (!want)
        uv_read_stop(stream_of(c, s));
    else
        uv_read_start(stream_of(c, s), alloc_cb, s == CLIENT ? on_client_read : on_upstream_read);
    c->reading[s] = want;
}

/* Starts or stops reading each side according to the state. */
static void update_io(conn *c)
{
    if (c->closing)
        return;
    buffer *cb = &c->in[CLIENT], *ub = &c->in[UPSTREAM];
    buf_release_if_empty(c, CLIENT);
    buf_release_if_empty(c, UPSTREAM);
    size_t cap = c->srv->buf_size;

    /* A side is read while its buffer is free and has room (a full small
     * buffer grows in alloc_cb): while a request waits for its response the
     * client is still read, to see it go away, up to a buffer's worth. */
    bool want_c = !c->eof[CLIENT] && !cb->busy && !(cb->p && cb->pos == 0 && cb->len == cap);
    if (c->cstate == C_HEAD && c->rstate == R_IDLE && c->writes[CLIENT] > 0)
        want_c = false; /* an answer to this client is still unflushed (see respond) */
    if (c->cstate == C_LINGER)
        want_c = !c->eof[CLIENT]; /* read and discard until the client's EOF */
    bool spliced[2] = {c->sp && c->sp->from == CLIENT, c->sp && c->sp->from == UPSTREAM}; /* the run reads it */
    set_reading(c, CLIENT, want_c && !spliced[CLIENT]);
    set_reading(c, UPSTREAM, c->upstate == UP_OPEN && !c->eof[UPSTREAM] && !ub->busy &&
                                 !(ub->p && ub->pos == 0 && ub->len == cap) && !spliced[UPSTREAM]);
}

/* The client's EOF outside a tunnel. A client gone from a stream (events,
 * logs -f), in the middle of sending its request, or between requests is
 * simply gone. With a request under way the EOF is passed on to the daemon,
 * as a direct client's would be: Go's server then cancels the request (a
 * build, a pull, `stop -t`), and an answer that still comes is delivered
 * before the connection ends. */
static void client_eof(conn *c)
{
    bool partial = buf_has_bytes(&c->in[CLIENT]);
    bool streaming = (c->rflags & RULES_F_STREAM) && c->rstate != R_IDLE;
    bool idle = c->rstate == R_IDLE && (partial || (c->writes[CLIENT] == 0 && !c->close_after));
    if (c->cstate == C_BODY || streaming || idle) {
        conn_close(c);
        return;
    }
    c->close_after = true;
    c->in[CLIENT].pos = c->in[CLIENT].len;
    process(c);
}

/* A read from a side ended: whether it filled the buffer (a tunnel with
 * that much to say goes on by splice). */
static void note_read(conn *c, side s, ssize_t n)
{
    buffer *b = &c->in[s];
    b->len += (size_t)n;
    c->full_read[s] = b->len == b->cap && b->cap == c->srv->buf_size;
}

/* The client's side ended (n: UV_EOF, or a read error), read by libuv or
 * by a splice run. */
static void client_ended(conn *c, ssize_t n)
{
    c->eof[CLIENT] = true;
    if (n != UV_EOF || c->cstate == C_LINGER)
        conn_close(c); /* an error (UV_ENOBUFS: no buffer), or the lingering client is done */
    else if (c->cstate == C_TUNNEL)
        process(c); /* passes the half-close on */
    else
        client_eof(c);
}

static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (c->closing || n == 0)
        return;
    if (n < 0) {
        client_ended(c, n);
        return;
    }
    if (c->cstate == C_LINGER)
        return; /* discarded */
    note_read(c, CLIENT, n);
    if (c->timer_kind == T_IDLE)
        set_timer(c, T_NONE, 0);
    process(c);
}

/* The daemon's side ended (n: UV_EOF, or a read error), read by libuv or
 * by a splice run. */
static void upstream_ended(conn *c, ssize_t n)
{
    c->eof[UPSTREAM] = true;
    set_reading(c, UPSTREAM, false);
    if (c->rstate == R_IDLE) {
        /* The daemon closed an idle keep-alive connection: dial anew next time. */
        close_upstream(c);
        update_io(c);
    } else if (c->rstate == R_HEAD && !c->res_started) {
        upstream_lost(c); /* a partial head freed the retry copy: 502 */
    } else if (c->rstate == R_HEAD || n != UV_EOF) {
        conn_close(c);
    } else {
        process(c); /* flushes, then ends the body or passes the half-close on */
    }
}

static void on_upstream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (c->closing || c->upstate != UP_OPEN || n == 0)
        return;
    if (n < 0) {
        upstream_ended(c, n);
        return;
    }
    note_read(c, UPSTREAM, n);
    drop_retry(c); /* the daemon answers: never send it twice */
    process(c);
}

/* ---- splice ----
 *
 * On Linux, a clear-text connection moves its long byte runs with splice(2)
 * through a pipe instead of through its buffers: a Content-Length body of
 * SPLICE_MIN bytes or more once its head (and what came with it) is out, and
 * a tunnel's direction once a read filled a whole buffer. While a run lasts,
 * libuv does not read its source; the run watches dup()s of both sockets with
 * uv_poll_t (epoll knows a descriptor by file and number, so the dup and
 * libuv's own watcher of the same socket do not meet) and counts as a write
 * in flight to its sink, so the state machine waits for it as for any
 * forwarded bytes. Exactly the body's remaining length is taken from the
 * source, never more than the pipe holds: a slow reader stops the run as a
 * busy buffer stops the read path. The run ends when the body is whole and
 * flushed, at the source's EOF (passed on as a read's would be), or on an
 * error; the pipe and the dups go with it. One run at a time per connection.
 */

/* Whether the bytes from `from` should go on by splice from here: nothing of
 * theirs is buffered or in flight, and a long run is ahead. */
static bool splice_wanted(const conn *c, side from)
{
#ifdef __linux__
    side to = OTHER(from);
    const buffer *b = &c->in[from];
    /* Unix to Unix only: spliced into a loopback TCP socket, the pages cost
     * the proxy more than a copy (bulk over a TCP listener measured 580 ->
     * 660 ms of CPU per GB with splice, a Unix one 380-530 -> 160-225). */
    if (!c->lis->is_unix)
        return false;
    if (c->sp || c->no_splice || c->tls || c->upstate != UP_OPEN || c->eof[from] || c->shut[to] ||
        c->writes[to] > 0 || b->busy || buf_has_bytes(b))
        return false;
    const h1_body *body = &c->body[from];
    if ((from == UPSTREAM && c->rstate == R_BODY) || (from == CLIENT && c->cstate == C_BODY))
        return body->mode == H1_BODY_LENGTH && body->left >= SPLICE_MIN;
    return c->cstate == C_TUNNEL && c->full_read[from];
#else
    (void)c, (void)from;
    return false;
#endif
}

static void on_splice_closed(uv_handle_t *h)
{
    splice_run *r = h->data;
    conn *c = r->c;
    if (--r->handles == 0)
        free(r);
    if (--c->open_handles == 0)
        conn_free(c);
}

static void splice_free(conn *c, splice_run *r)
{
    for (int s = 0; s < 2; s++) {
        if (s < r->handles)
            uv_close((uv_handle_t *)&r->poll[s], on_splice_closed); /* stops watching r->fd[s] */
        if (r->fd[s] >= 0)
            close(r->fd[s]);
    }
    splice_pipe_close(&r->pipe);
    if (r->handles == 0)
        free(r);
}

/* Ends the run (what the pipe still holds is dropped: only an error or the
 * connection's end stops a run before it is flushed). */
static void splice_end(conn *c)
{
    splice_run *r = c->sp;
    if (!r)
        return;
    c->sp = NULL;
    c->writes[OTHER(r->from)]--;
    splice_free(c, r);
}

static void on_splice_ready(uv_poll_t *h, int status, int events);

/* Starts a run from `from`; on failure the connection keeps its buffers. */
static step splice_start(conn *c, side from)
{
    splice_run *r = calloc(1, sizeof(*r));
    if (!r) {
        c->no_splice = true;
        return STEP_PROGRESS;
    }
    r->c = c;
    r->from = from;
    r->fd[0] = r->fd[1] = -1;
    int e = splice_pipe_open(&r->pipe, SPLICE_PIPE); /* -errno, as libuv's errors are on Unix */
    for (int s = 0; e == 0 && s < 2; s++) {
        uv_os_fd_t fd;
        e = uv_fileno((uv_handle_t *)stream_of(c, (side)s), &fd);
        if (e == 0 && (r->fd[s] = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
            e = -errno;
        if (e == 0 && (e = uv_poll_init(c->srv->loop, &r->poll[s], r->fd[s])) == 0) {
            r->poll[s].data = r;
            r->handles++;
            c->open_handles++;
        }
    }
    if (e == 0) {
        r->watch[from] = UV_READABLE;
        e = uv_poll_start(&r->poll[from], UV_READABLE, on_splice_ready);
    }
    if (e < 0) {
        log_msg(LOG_DEBUG, "%s: splice unavailable (%s): bodies go through buffers", peer(c), uv_strerror(e));
        c->no_splice = true;
        splice_free(c, r);
        return STEP_PROGRESS;
    }
    set_reading(c, from, false);
    buf_release_if_empty(c, from);
    c->writes[OTHER(from)]++;
    c->sp = r;
    return STEP_PROGRESS;
}

/* Watches for what would let the run go on: its source while the body has
 * bytes to come and the pipe room, its sink while the pipe holds bytes. */
static int splice_watch(splice_run *r, bool taking)
{
    int want[2];
    want[r->from] = taking && !r->stuck && r->pipe.held < r->pipe.cap ? UV_READABLE : 0;
    want[OTHER(r->from)] = r->pipe.held ? UV_WRITABLE : 0;
    for (int s = 0; s < 2; s++) {
        if (want[s] == r->watch[s])
            continue;
        int e = want[s] ? uv_poll_start(&r->poll[s], want[s], on_splice_ready) : uv_poll_stop(&r->poll[s]);
        if (e < 0)
            return e;
        r->watch[s] = want[s];
    }
    return 0;
}

/* Moves bytes until neither end of the pipe can, then watches or ends. */
static void on_splice_ready(uv_poll_t *h, int status, int events)
{
    splice_run *r = h->data;
    conn *c = r->c;
    if (c->closing || c->sp != r)
        return;
    side from = r->from, to = OTHER(from);
    h1_body *body = &c->body[from];
    bool moved = false, done = false;
    bool dry = false; /* a fill took less than it could: the source had no more then */
    ssize_t rerr = 0, werr = status < 0 ? status : 0;
    for (bool more = werr == 0; more;) {
        more = false;
        bool taking = !r->eof && !done && !dry && !(body->mode == H1_BODY_LENGTH && body->left == 0);
        if (taking) {
            size_t most = body->mode == H1_BODY_LENGTH && body->left < SIZE_MAX ? (size_t)body->left : SIZE_MAX;
            size_t room = r->pipe.cap - r->pipe.held;
            ssize_t k = splice_fill(&r->pipe, r->fd[from], most);
            if (k > 0) {
                /* What enters the pipe is the sink's, as queued bytes are. */
                count_sent(c, to, (size_t)k);
                h1_body_take(body, (size_t)k, &done);
                dry = (size_t)k < (most < room ? most : room); /* epoll says when more comes */
                more = moved = true;
            } else if (k == 0) {
                r->eof = true;
            } else if (k == -EAGAIN) {
                r->stuck = r->pipe.held > 0; /* an empty socket, or a full pipe: the drain tells */
            } else {
                rerr = k;
                break;
            }
        }
        if (r->pipe.held) {
            ssize_t k = splice_drain(&r->pipe, r->fd[to]);
            if (k > 0) {
                r->stuck = false;
                more = moved = true;
            } else if (k != -EAGAIN) {
                werr = k;
                break;
            }
        }
    }
    if (done && from == CLIENT)
        c->cstate = C_WAIT;
    else if (done)
        response_done(c); /* the run, a write in flight, holds up what comes next */
    if (c->closing)
        return;
    bool taking = !r->eof && !(body->mode == H1_BODY_LENGTH && body->left == 0);
    if (rerr == 0 && werr == 0 && (taking || r->pipe.held) && (werr = splice_watch(r, taking)) == 0) {
        if (moved)
            process(c);
        return;
    }
    bool eof = r->eof;
    splice_end(c);
    if (rerr < 0)
        from == CLIENT ? client_ended(c, rerr) : upstream_ended(c, rerr);
    else if (werr < 0)
        after_write(c, to, (int)werr);
    else if (eof)
        from == CLIENT ? client_ended(c, UV_EOF) : upstream_ended(c, UV_EOF);
    else
        process(c); /* the body is whole and flushed */
}

/* ---- TLS ----
 *
 * On a TLS listener the session sits between the client's socket and the
 * state machine: ciphertext is read into the session while the handshake
 * needs it or the machine would read the client (reading[CLIENT]), plain text
 * is decrypted into in[CLIENT] only while the machine reads, and what the
 * machine sends the client is encrypted on its way out (tls_send). A write of
 * ciphertext keeps its plain text's buffer busy until it has gone, as a clear
 * write does: backpressure and memory bounds are the same. Decrypted bytes
 * can wait inside the session with no socket event to come: turning
 * reading[CLIENT] back on hands them over (tls_pump). */

static void on_tls_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void on_tls_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    conn *c = h->data;
    char *p;
    size_t room;
    tls_rx_space(c->tls, &p, &room);
    *out = uv_buf_init(p, (unsigned)room);
}

/* Reads the socket while the handshake needs bytes or the machine wants
 * plain text, and the session has room for more ciphertext. */
static void tls_raw_io(conn *c)
{
    bool want = !c->closing && !c->tls_eof && tls_rx_room(c->tls) > 0 && (c->handshaking || c->reading[CLIENT]);
    if (want == c->tls_reading)
        return;
    if (want)
        uv_read_start(&c->cl.stream, on_tls_alloc, on_tls_read);
    else
        uv_read_stop(&c->cl.stream);
    c->tls_reading = want;
}

/* Hands decrypted bytes to the state machine while it reads the client. */
static void tls_pump(conn *c)
{
    if (c->tls_pumping || c->handshaking)
        return;
    c->tls_pumping = true;
    while (!c->closing && c->tls && c->reading[CLIENT] && c->cstate != C_LINGER && tls_readable(c->tls)) {
        uv_buf_t b;
        alloc_cb(&c->cl.handle, 0, &b);
        if (!b.base) {
            conn_close(c); /* no buffer: as UV_ENOBUFS in clear text */
            break;
        }
        if (!b.len)
            break;
        char why[256];
        ssize_t n = tls_read(c->tls, b.base, b.len, why, sizeof(why));
        if (n == -TLS_AGAIN) {
            buf_release_if_empty(c, CLIENT);
            break;
        }
        if (n == -TLS_FAIL) {
            log_msg(LOG_INFO, "%s: TLS: %s", peer(c), why);
            tls_flush(c, OWN); /* the alert, if it goes at once */
            conn_close(c);
            break;
        }
        on_client_read(&c->cl.stream, n > 0 ? n : UV_EOF, &b);
    }
    c->tls_pumping = false;
    if (!c->closing && c->tls)
        tls_raw_io(c);
}

/* set_reading for the client of a TLS listener. */
static void tls_reading(conn *c, bool want)
{
    c->reading[CLIENT] = want;
    if (want && !c->tls_pumping && tls_readable(c->tls))
        tls_pump(c);
    else
        tls_raw_io(c);
}

/* Writes the session's ciphertext: what cannot go at once is queued, and the
 * plain text's buffer (owner) stays busy until it has gone. */
static int tls_flush(conn *c, int owner)
{
    size_t len;
    char *ct = tls_out_take(c->tls, &len);
    if (!ct)
        return 0;
    uv_buf_t b = uv_buf_init(ct, (unsigned)len);
    int w = c->writes[CLIENT] == 0 ? uv_try_write(&c->cl.stream, &b, 1) : UV_EAGAIN;
    if ((w < 0 && w != UV_EAGAIN && w != UV_ENOSYS) || (w > 0 && (size_t)w == len)) {
        free(ct);
        return w < 0 ? w : 0;
    }
    size_t done = w > 0 ? (size_t)w : 0;
    b.base += done;
    b.len -= (unsigned)done;
    write_req *r = owner == OWN ? malloc(sizeof(*r)) : &c->fwd[CLIENT];
    if (!r) {
        free(ct);
        return UV_ENOMEM;
    }
    return queue_write(c, CLIENT, r, &b, 1, owner, ct);
}

/* send_bytes to the client of a TLS listener: encrypted, then written. */
static int tls_send(conn *c, uv_buf_t *bufs, unsigned nbufs, int owner)
{
    for (unsigned i = 0; i < nbufs; i++)
        if (tls_write(c->tls, bufs[i].base, bufs[i].len) < 0)
            return UV_EPROTO;
    return tls_flush(c, owner);
}

/* The session ends before it began: the connection goes on in clear text
 * only to be closed (a refusal's alert, or a clear-text 400, is written). */
/* The handshake is over (done, refused or cut): its slot is free. */
static void handshake_over(conn *c)
{
    c->handshaking = false;
    if (!c->hs_counted)
        return;
    c->hs_counted = false;
    c->srv->handshaking--;
    clients_leave(&c->srv->handshakes, &c->hs_key);
}

static void tls_drop(conn *c)
{
    if (c->tls_reading)
        uv_read_stop(&c->cl.stream);
    c->tls_reading = c->reading[CLIENT] = false;
    handshake_over(c);
    tls_conn_free(c->tls);
    c->tls = NULL;
    set_timer(c, T_NONE, 0);
}

/* A handshake that failed or timed out, or a certificate no profile takes:
 * an access line (a burst from one address: the first, then a summary every
 * 10 s), then the close. During the handshake its alert goes out; after it,
 * a 403 saying why (the client is waiting to send its first request and
 * reads it as the answer), then close_notify. */
static void tls_refuse(conn *c, const char *why)
{
    char text[700], key[64];
    snprintf(text, sizeof(text), "TLS: %s", why);
    uint64_t accepted = c->t0; /* the line's duration is the handshake's */
    begin_request(c, NULL, NULL);
    c->t0 = accepted;
    c->decision = "deny";
    c->status = c->handshaking ? 0 : 403;
    metrics_event_add(c->srv->metrics, METRICS_REFUSED_TLS);
    if (quiet_hit(c->srv->quiet, QUIET_TLS, source_key(c, key, sizeof(key))))
        access_log(c, text);
    else
        c->log_pending = false;
    if (c->handshaking) {
        if (tls_flush(c, OWN) < 0) {
            conn_close(c);
            return;
        }
        tls_drop(c);
    } else {
        respond(c, 403, why, true);
    }
    c->cstate = C_WAIT;
    finish_and_close(c);
}

/* Clear-text HTTP on a TLS port: a clear-text 400 saying so, then the close. */
static void tls_plain_http(conn *c)
{
    tls_drop(c);
    begin_request(c, NULL, NULL);
    c->decision = "bad";
    c->status = 400;
    access_log(c, "clear-text HTTP on a TLS port");
    respond(c, 400,
            "this port speaks TLS: connect with TLS (docker: --tlsverify or DOCKER_TLS_VERIFY=1, with "
            "DOCKER_CERT_PATH holding ca.pem, cert.pem and key.pem)",
            true);
    c->cstate = C_WAIT;
    finish_and_close(c);
}

static bool certificate_names(const void *t, const char *name) { return tls_peer_is(t, name); }

static const char *profile_var(const profile *p, char *out, size_t cap)
{
    snprintf(out, cap, "%sTLS_CLIENT", p->name[0] ? p->prefix : "SOCKET_PROXY_");
    return out;
}

/* The profile the client certificate chooses (TLS_CLIENT), else the
 * listener's, unless that profile takes certificates by name only. NULL, or
 * why the connection is refused. */
static const char *tls_choose_profile(conn *c, char *why, size_t len)
{
    const profile *also, *p = profiles_by_certificate(c->srv->profiles, certificate_names, c->tls, &also);
    const char *subject = tls_peer_subject(c->tls)[0] ? tls_peer_subject(c->tls) : "(no certificate)";
    char v1[64], v2[64];
    if (also) {
        snprintf(why, len, "the client certificate %s bears names of two profiles (%s and %s): it chooses neither",
                 subject, profile_var(p, v1, sizeof(v1)), profile_var(also, v2, sizeof(v2)));
        return why;
    }
    if (!p && c->lis->prof->ntls_client > 0) {
        snprintf(why, len, "the client certificate %s is none of %s's names", subject,
                 profile_var(c->lis->prof, v1, sizeof(v1)));
        return why;
    }
    if (p) {
        c->prof = p;
        c->rules = &p->rules;
    }
    return NULL;
}

static void start(conn *c);

/* A certificate chose a profile whose ALLOW_FROM the listener's did not
 * check: its answer (after a re-resolution, when the address is unknown). */
static void on_cert_admitted(void *data, bool yes)
{
    conn *c = data;
    c->admitting = false;
    char why[300];
    snprintf(why, sizeof(why), "the client certificate %s chooses profile %s, whose %s does not admit this address",
             tls_peer_subject(c->tls), c->prof->name[0] ? c->prof->name : "default", c->prof->from_var);
    if (yes)
        start(c);
    else
        tls_refuse(c, why);
}

static void cert_admit(conn *c)
{
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    if (!c->prof->allow_from || c->prof == c->lis->prof) {
        start(c);
        return;
    }
    if (uv_tcp_getpeername(&c->cl.tcp, (struct sockaddr *)&ss, &sl) != 0) {
        on_cert_admitted(c, false);
        return;
    }
    switch (admit_from_check(c->prof->allow_from, (struct sockaddr *)&ss, on_cert_admitted, c)) {
    case ADMIT_YES: start(c); break;
    case ADMIT_NO: on_cert_admitted(c, false); break;
    case ADMIT_WAIT: c->admitting = true; break;
    }
}

static void tls_handshake_step(conn *c)
{
    int first = tls_first_byte(c->tls);
    if (first >= 'A' && first <= 'Z') {
        tls_plain_http(c);
        return;
    }
    char why[600];
    tls_status st = tls_handshake(c->tls, why, sizeof(why));
    if (st == TLS_FAIL) {
        tls_refuse(c, why);
        return;
    }
    if (tls_flush(c, OWN) < 0) {
        conn_close(c);
        return;
    }
    if (st == TLS_AGAIN) {
        if (c->tls_eof && tls_first_byte(c->tls) < 0)
            conn_close(c); /* closed before a byte: a port probe, not a refusal */
        else if (c->tls_eof)
            tls_refuse(c, "the client closed the connection during the handshake");
        else
            tls_raw_io(c);
        return;
    }
    handshake_over(c);
    set_timer(c, T_NONE, 0);
    const char *no = tls_choose_profile(c, why, sizeof(why));
    if (no)
        tls_refuse(c, no);
    else
        cert_admit(c);
}

static void on_tls_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (c->closing)
        return;
    if (n == 0) {
        tls_rx_commit(c->tls, 0); /* nothing came: the buffer goes back */
        return;
    }
    if (n < 0) {
        /* The socket's end; the state machine hears of it from tls_read,
         * after the plain text before it. */
        c->tls_eof = true;
        if (n != UV_EOF || c->cstate == C_LINGER) {
            conn_close(c);
            return;
        }
        tls_rx_eof(c->tls);
        tls_raw_io(c);
    } else if (c->cstate == C_LINGER) {
        return; /* discarded */
    } else {
        tls_rx_commit(c->tls, (size_t)n);
    }
    if (c->handshaking)
        tls_handshake_step(c);
    else
        tls_pump(c);
}

/* A slot for one more handshake (SERVER_TLS_HANDSHAKES, and per client
 * address SERVER_TLS_HANDSHAKES_PER_CLIENT). */
static bool handshake_slot(conn *c)
{
    server *s = c->srv;
    client_key keep = c->client; /* counted at accept by its own limit, or not at all */
    identify(c);
    c->hs_key = c->client;
    c->client = keep;
    if (s->handshaking >= SERVER_TLS_HANDSHAKES ||
        !clients_enter(&s->handshakes, &c->hs_key, SERVER_TLS_HANDSHAKES_PER_CLIENT))
        return false;
    s->handshaking++;
    c->hs_counted = true;
    return true;
}

/* A TLS listener's connection, admitted: the handshake comes first, bounded
 * by SOCKET_PROXY_HEAD_TIMEOUT. */
static void tls_start(conn *c)
{
    c->tls = tls_conn_new(c->srv->tls);
    if (!c->tls) {
        log_msg(LOG_ERR, "%s: TLS: out of memory", peer(c));
        conn_close(c);
        return;
    }
    c->handshaking = true;
    if (!handshake_slot(c)) {
        tls_refuse(c, "too many TLS handshakes under way (from this address, or in all): try again");
        return;
    }
    set_timer(c, T_HEAD, c->srv->cfg->head_timeout_ms);
    tls_raw_io(c);
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->closing)
        return;
    timer_kind kind = c->timer_kind;
    c->timer_kind = T_NONE;
    switch (kind) {
    case T_IDLE:
    case T_LINGER:
        conn_close(c);
        break;
    case T_HEAD:
        if (c->handshaking) {
            tls_refuse(c, "the TLS handshake did not complete in time (SOCKET_PROXY_HEAD_TIMEOUT)");
            break;
        }
        if (c->cstate == C_HOLD) {
            reject(c, 408, "request body not received in time");
            break;
        }
        begin_request(c, NULL, NULL);
        reject(c, 408, "request head not received in time");
        break;
    case T_DIAL:
        if (c->upstate != UP_WAIT)
            break;
        c->upstate = UP_NONE; /* dial_retry stays set: the same deadline */
        if (c->retry_pending)
            resend(c);
        else
            process(c);
        break;
    case T_NONE:
        break;
    }
}

/* ---- accept / drain ---- */

/* The connection is admitted: its first request may come (over TLS, once
 * the handshake has chosen its profile). */
static void start(conn *c)
{
    if (c->lis->tls && !c->tls) {
        tls_start(c);
        return;
    }
    set_timer(c, T_IDLE, c->srv->cfg->idle_timeout_ms);
    update_io(c);
}

/* The access-log line of a TCP peer outside the profile's ALLOW_FROM. */
static void log_stranger(conn *c)
{
    char why[160];
    snprintf(why, sizeof(why), "not admitted by %s", c->lis->prof->from_var);
    uint64_t accepted = c->t0; /* the line's duration includes a wait for names */
    begin_request(c, NULL, NULL);
    c->t0 = accepted;
    c->decision = "deny";
    metrics_event_add(c->srv->metrics, METRICS_REFUSED_FROM);
    /* A stranger that keeps knocking gets one access line, then a summary. */
    char key[64];
    if (quiet_hit(c->srv->quiet, QUIET_STRANGER, source_key(c, key, sizeof(key))))
        access_log(c, why);
    else
        c->log_pending = false;
}

/* A TCP peer outside the profile's ALLOW_FROM: closed before a byte of it
 * is read, with an access-log line. */
static void refuse_source(conn *c)
{
    log_stranger(c);
    conn_close(c);
}

static void on_admitted(void *data, bool yes)
{
    conn *c = data;
    c->admitting = false;
    if (yes)
        start(c);
    else
        refuse_source(c);
}

/* A Unix peer the profile's PEER_UIDS / PEER_GIDS do not list gets a 403
 * naming its ids and the variable, then the connection closes. */
static bool peer_admitted(conn *c)
{
    const profile *p = c->lis->prof;
    uv_os_fd_t fd;
    struct ucred cr = {0};
    socklen_t len = sizeof(cr);
    if (uv_fileno(&c->cl.handle, &fd) == 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 &&
        admit_ids_match(&p->peers, cr.uid, cr.gid))
        return true;
    char msg[300], why[160];
    snprintf(msg, sizeof(msg), "uid %u (gid %u) may not use this socket: %s and %.*sPEER_GIDS list who may",
             (unsigned)cr.uid, (unsigned)cr.gid, p->peers_var, (int)(strlen(p->peers_var) - strlen("PEER_UIDS")),
             p->peers_var);
    snprintf(why, sizeof(why), "uid %u not admitted by %s", (unsigned)cr.uid, p->peers_var);
    begin_request(c, NULL, NULL);
    c->decision = "deny";
    c->status = 403;
    access_log(c, why); /* first: respond closes the connection if the peer is gone */
    respond(c, 403, msg, true);
    c->cstate = C_WAIT;
    finish_and_close(c);
    return false;
}

/* Admission by the listener's profile: PEER_UIDS/GIDS on a Unix socket,
 * ALLOW_FROM on TCP (which may wait for its host names to resolve). */
static void admit(conn *c)
{
    const profile *p = c->lis->prof;
    if (c->lis->is_unix) {
        if (!admit_ids_any(&p->peers) || peer_admitted(c))
            start(c);
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (!p->allow_from) {
        start(c);
        return;
    }
    if (uv_tcp_getpeername(&c->cl.tcp, (struct sockaddr *)&ss, &len) != 0) {
        refuse_source(c);
        return;
    }
    switch (admit_from_check(p->allow_from, (struct sockaddr *)&ss, on_admitted, c)) {
    case ADMIT_YES: start(c); break;
    case ADMIT_NO: refuse_source(c); break;
    case ADMIT_WAIT: c->admitting = true; break;
    }
}

static void on_refused_closed(uv_handle_t *h) { free(h->data); }

/* Returns why the connection just accepted on s must be refused, or NULL. */
static const char *refusal_at_accept(server *s, conn *c, char *msg, size_t len)
{
    if (s->nconns >= s->max_conns || s->draining) {
        metrics_event_add(s->metrics, METRICS_REFUSED_LIMIT);
        if (quiet_hit(s->quiet, QUIET_LIMIT, NULL))
            log_msg(LOG_WARNING, "connection refused: %zu connections open (the limit)", s->nconns);
        return "too many connections, try again";
    }
    if (!s->cfg->max_client_conns)
        return NULL;
    identify(c);
    if (c->client.kind == CLIENT_NONE || clients_enter(&s->clients, &c->client, s->cfg->max_client_conns))
        return NULL;
    c->client.kind = CLIENT_NONE;
    metrics_event_add(s->metrics, METRICS_REFUSED_LIMIT);
    char key[64];
    if (quiet_hit(s->quiet, QUIET_CLIENT_LIMIT, source_key(c, key, sizeof(key))))
        log_msg(LOG_WARNING, "connection from %s refused: it has %zu open (SOCKET_PROXY_MAX_CLIENT_CONNS)", c->peer,
                s->cfg->max_client_conns);
    snprintf(msg, len, "too many connections from this client (SOCKET_PROXY_MAX_CLIENT_CONNS=%zu), try again",
             s->cfg->max_client_conns);
    return msg;
}

/* A TCP peer that the listener's ALLOW_FROM does not admit as it stands
 * (no resolution, no waiting). */
static bool stranger(const listener *l, conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (l->is_unix || !l->prof->allow_from)
        return false;
    return uv_tcp_getpeername(&c->cl.tcp, (struct sockaddr *)&ss, &len) != 0 ||
           !admit_from_admits(l->prof->allow_from, (struct sockaddr *)&ss);
}

void proxy_accept(listener *l)
{
    server *s = l->srv;
    conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->srv = s; /* a refusal at accept logs through them */
    c->lis = l;
    c->prof = l->prof;
    if (l->is_unix)
        uv_pipe_init(s->loop, &c->cl.pipe, 0);
    else
        uv_tcp_init(s->loop, &c->cl.tcp);
    c->cl.handle.data = c;
    if (uv_accept(&l->h.stream, &c->cl.stream) < 0) {
        uv_close(&c->cl.handle, on_refused_closed);
        return;
    }
    c->t0 = uv_hrtime(); /* a stranger's log line times from here */
    char msg[200];
    const char *refused = refusal_at_accept(s, c, msg, sizeof(msg));
    if (refused && stranger(l, c)) {
        /* ALLOW_FROM's refusal comes first: not a byte, not even a 503. */
        c->lis = l;
        log_stranger(c);
    } else if (refused && !l->tls) {
        /* Written at once or not at all: a refused client gets no buffer
         * (a TLS client, no clear-text answer: only the close). */
        char out[ANSWER_MAX];
        uv_buf_t b = uv_buf_init(out, (unsigned)answer_format(out, 503, refused, true, false, true));
        uv_try_write(&c->cl.stream, &b, 1);
    }
    if (refused) {
        uv_close(&c->cl.handle, on_refused_closed);
        return;
    }
    c->srv = s;
    c->lis = l;
    c->prof = l->prof;
    c->rules = &l->prof->rules;
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    c->counted = true;
    metrics_gauge_add(s->metrics, METRICS_CLIENT_CONNS, 1);
    if (!l->is_unix)
        uv_tcp_nodelay(&c->cl.tcp, 1);
    admit(c);
}

void proxy_drain(server *s)
{
    conn *c = s->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->closing)
            continue;
        bool idle = c->cstate == C_HEAD && c->rstate == R_IDLE && !buf_has_bytes(&c->in[CLIENT]);
        bool stream = c->rstate == R_TUNNEL || ((c->rflags & RULES_F_STREAM) && c->rstate == R_BODY);
        if (idle || stream || c->cstate == C_LINGER)
            conn_close(c);
    }
}

void proxy_close_all(server *s)
{
    conn *c = s->conns, *next;
    for (; c; c = next) {
        next = c->next;
        conn_close(c);
    }
}
