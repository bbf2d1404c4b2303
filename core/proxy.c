/* The connection state machine: one client, its upstream, one request at a time.
 *
 * Bytes are read into one buffer per side and written to the other side
 * straight from that buffer (no copies). While such a write is in flight, the
 * source buffer is busy and its side is not read: that is the backpressure,
 * and it bounds memory per connection to two buffers whatever the peers do.
 * Buffers are taken on demand and given back when empty, so idle keep-alive
 * connections and quiet streams hold none.
 *
 * Every request head on the client side is parsed and decided; the body is
 * forwarded with its framing tracked, so the proxy always knows where the next
 * request starts. The response head is parsed for framing too; 101 (and
 * Docker's older 200 raw-stream hijack) turns the pair into a tunnel that
 * carries half-close.
 */
#include "proxy.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "http1.h"
#include "log.h"
#include "rules/rules.h"
#include "sys.h"

enum { SC = 0, SU = 1 }; /* sides: client, upstream */

enum cstate {
    C_HEAD,   /* waiting for (more of) a request head */
    C_BODY,   /* forwarding a request body */
    C_WAIT,   /* request sent; waiting for the response to end */
    C_TUNNEL, /* raw bytes both ways */
    C_LINGER, /* response sent, write side shut: draining input before close */
};
enum rstate { R_IDLE, R_HEAD, R_BODY, R_TUNNEL };
enum upstate { UP_NONE, UP_WAIT /* daemon backlog full: retry soon */, UP_OPEN, UP_CLOSING };
enum rmode { RM_NONE, RM_LENGTH, RM_CHUNKED, RM_CLOSE };
enum timer_kind { T_NONE, T_IDLE, T_HEAD, T_DIAL, T_LINGER };

#define LOG_TARGET_MAX 256
#define LINGER_MS 2000

typedef struct buffer {
    char *p;
    size_t cap;      /* SERVER_BUF_SMALL or srv->buf_size */
    size_t pos, len; /* unconsumed bytes are p[pos..len) */
    bool busy;       /* a write from p is in flight */
} buffer;

typedef struct conn {
    server *srv;
    const rules_set *rules;
    struct conn *prev, *next;
    union {
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_handle_t handle;
    } cl;
    uv_pipe_t up;
    uv_timer_t timer;
    uv_write_t wreq[2];    /* forwarding writes, to [SC] client and [SU] upstream */
    uv_shutdown_t sreq[2];
    buffer in[2];          /* bytes read from [SC] client and [SU] upstream */
    int writes[2];         /* writes in flight to each side */
    bool reading[2];
    bool eof[2];           /* read EOF seen */
    bool shut[2];          /* write side shut (shutdown requested) */
    int cstate, rstate, upstate, timer_kind;
    int open_handles;
    bool closing;
    bool close_after;      /* close once the current response has been flushed */

    /* current request */
    h1_progress head_prog; /* how far the head at in[SC].pos has been checked (reset per head) */
    bool req_is_head, req_close, req_has_body;
    char *retry;           /* a GET/HEAD head sent on a reused upstream, kept until the answer starts */
    size_t retry_len;
    bool retry_pending;    /* resend `retry` once the old upstream has closed */
    unsigned up_requests;  /* requests sent on the current upstream connection */
    client_key client;     /* counted in srv->clients while this connection lives */
    unsigned rflags;
    int64_t body_left;
    bool body_chunked;
    h1_chunked ch;
    /* current response */
    size_t head_len;       /* of the request waiting for a dial */
    uint64_t dial_t0;      /* when dialing began (uv_now), for SOCKET_PROXY_TIMEOUT */
    bool dial_retry;
    int rmode;
    int64_t rbody_left;
    h1_chunked rch;
    bool res_close;
    bool res_started;      /* response bytes already sent to the client */
    int status;

    /* access log */
    uint64_t t0;
    uint64_t bytes_out;
    rules_mask need, need_alt;
    const char *decision;
    char method[8];
    char target[LOG_TARGET_MAX];
    char peer[64];         /* filled on first use: see peer() */
} conn;

static void conn_close(conn *c);
static void process(conn *c);
static void resend(conn *c);
static void update_io(conn *c);
static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void on_upstream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static const char *reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 408: return "Request Timeout";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

/* ---- access log ---- */

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
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        uv_ip6_name(a6, ip, sizeof(ip));
        snprintf(c->peer, sizeof(c->peer), "[%s]:%d", ip, ntohs(a6->sin6_port));
        if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
            c->client.kind = CLIENT_V4;
            memcpy(c->client.addr, a6->sin6_addr.s6_addr + 12, 4);
        } else {
            c->client.kind = CLIENT_V6;
            memcpy(c->client.addr, a6->sin6_addr.s6_addr, 16);
        }
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        uv_ip4_name(a4, ip, sizeof(ip));
        snprintf(c->peer, sizeof(c->peer), "%s:%d", ip, ntohs(a4->sin_port));
        c->client.kind = CLIENT_V4;
        memcpy(c->client.addr, &a4->sin_addr, 4);
    }
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

static void access_log(conn *c, const char *rule_override)
{
    if (!log_enabled(LOG_INFO) || !c->method[0])
        return;
    char rule[512];
    if (rule_override) {
        snprintf(rule, sizeof(rule), "%s", rule_override);
    } else {
        rules_verdict v = {.need = c->need, .need_alt = c->need_alt, .why = "no variable grants it"};
        rules_need_text(&v, rule, sizeof(rule));
    }
    log_access_entry e = {
        .client = peer(c),
        .method = c->method,
        .target = c->target,
        .decision = c->decision ? c->decision : "allow",
        .rule = rule,
        .status = c->status,
        .bytes = c->bytes_out,
        .ms = (double)(uv_hrtime() - c->t0) / 1e6,
    };
    log_access(&e);
    c->method[0] = '\0';
}

/* ---- buffers ---- */

static void buf_release_if_empty(conn *c, int side)
{
    buffer *b = &c->in[side];
    if (b->p && !b->busy && b->pos == b->len) {
        server_buf_put(c->srv, b->p, b->cap);
        b->p = NULL;
        b->pos = b->len = 0;
    }
}

static void buf_consume(conn *c, int side, size_t n)
{
    c->in[side].pos += n;
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t);

static void set_timer(conn *c, int kind, uint64_t ms)
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

typedef struct genwrite {
    uv_write_t req;
    conn *c;
    int side;
    char data[];
} genwrite;

static void on_forward_written(uv_write_t *w, int status);

/* Writes bufs to side `to`, the bytes living in in[from] (which stays busy
 * until the write completes). Tries a synchronous write first. */
static int forward(conn *c, int to, int from, uv_buf_t *bufs, unsigned nbufs)
{
    uv_stream_t *dst = to == SC ? &c->cl.stream : (uv_stream_t *)&c->up;
    size_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    if (to == SC)
        c->bytes_out += total;
    int w = c->writes[to] == 0 ? uv_try_write(dst, bufs, nbufs) : UV_EAGAIN;
    if (w == UV_EAGAIN || w == UV_ENOSYS)
        w = 0;
    if (w < 0)
        return w;
    size_t done = (size_t)w;
    while (nbufs && done >= bufs[0].len) {
        done -= bufs[0].len;
        bufs++;
        nbufs--;
    }
    if (nbufs == 0)
        return 0;
    bufs[0].base += done;
    bufs[0].len -= done;
    c->wreq[to].data = c;
    int r = uv_write(&c->wreq[to], dst, bufs, nbufs, on_forward_written);
    if (r < 0)
        return r;
    c->writes[to]++;
    c->in[from].busy = true;
    return 0;
}

static void upstream_lost(conn *c);

/* A write finished. A failed write to the daemon before its answer began is
 * the daemon going away (see upstream_lost); one to a closed upstream was
 * cancelled and means nothing more. */
static void after_write(conn *c, int to, int status)
{
    if (c->closing)
        return;
    if (status < 0 && to == SU && c->upstate != UP_OPEN) {
        process(c);
        return;
    }
    if (status < 0 && to == SU && c->rstate == R_HEAD && !c->res_started) {
        upstream_lost(c);
        return;
    }
    if (status < 0) {
        conn_close(c);
        return;
    }
    process(c);
}

static void on_forward_written(uv_write_t *w, int status)
{
    conn *c = w->data;
    int to = w == &c->wreq[SC] ? SC : SU;
    c->writes[to]--;
    c->in[to == SC ? SU : SC].busy = false;
    after_write(c, to, status);
}

static void on_gen_written(uv_write_t *w, int status)
{
    genwrite *g = (genwrite *)w;
    conn *c = g->c;
    int to = g->side;
    c->writes[to]--;
    free(g);
    after_write(c, to, status);
}

/* Writes bytes that do not live in a connection buffer (our own answers, a
 * head with X-Api-Key added): what cannot be written now is copied and queued
 * behind any pending write to that side. Returns 0 or a libuv error. */
static int send_copy(conn *c, int to, uv_buf_t *bufs, unsigned nbufs)
{
    uv_stream_t *dst = to == SC ? &c->cl.stream : (uv_stream_t *)&c->up;
    size_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    int w = c->writes[to] == 0 ? uv_try_write(dst, bufs, nbufs) : UV_EAGAIN;
    if (w < 0 && w != UV_EAGAIN)
        return w;
    size_t done = w > 0 ? (size_t)w : 0;
    if (done == total)
        return 0;
    genwrite *g = malloc(sizeof(*g) + total - done);
    if (!g)
        return UV_ENOMEM;
    size_t off = 0;
    for (unsigned i = 0; i < nbufs; i++) {
        size_t skip = done > bufs[i].len ? bufs[i].len : done;
        done -= skip;
        memcpy(g->data + off, bufs[i].base + skip, bufs[i].len - skip);
        off += bufs[i].len - skip;
    }
    g->c = c;
    g->side = to;
    uv_buf_t gb = uv_buf_init(g->data, (unsigned)off);
    int r = uv_write(&g->req, dst, &gb, 1, on_gen_written);
    if (r < 0) {
        free(g);
        return r;
    }
    c->writes[to]++;
    return 0;
}

/* Every answer the proxy writes itself is made here: Docker's error shape,
 * {"message": "..."}, framed by Content-Length. To a HEAD request the same
 * head goes out without the body (the Content-Length a GET would have had).
 * Returns the length written to out. */
#define ANSWER_MAX 3072
static size_t answer_format(char *out, int status, const char *message, bool head_only, bool close)
{
    char body[2048];
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddStringToObject(o, "message", message) &&
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
 * connection until it is flushed (process() parses no further head and
 * update_io() reads no more meanwhile): a client that never reads cannot make
 * the proxy keep a copy of every answer. */
static void respond(conn *c, int status, const char *message, bool close)
{
    char out[ANSWER_MAX];
    size_t n = answer_format(out, status, message, c->req_is_head, close);
    uv_buf_t b = uv_buf_init(out, (unsigned)n);
    c->status = status;
    c->bytes_out += n;
    if (send_copy(c, SC, &b, 1) < 0) {
        conn_close(c);
        return;
    }
    if (close)
        c->close_after = true;
}

/* ---- closing ---- */

static void on_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (h == (uv_handle_t *)&c->up)
        c->upstate = UP_NONE;
    if (--c->open_handles > 0) {
        if (h == (uv_handle_t *)&c->up && !c->closing) {
            if (c->retry_pending)
                resend(c);
            else
                process(c); /* re-dial for a waiting request */
        }
        return;
    }
    for (int s = 0; s < 2; s++)
        if (c->in[s].p)
            server_buf_put(c->srv, c->in[s].p, c->in[s].cap);
    free(c->retry);
    server *srv = c->srv;
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

static void close_upstream(conn *c)
{
    if (c->upstate == UP_WAIT) {
        c->upstate = UP_NONE;
        c->dial_retry = false;
    } else if (c->upstate == UP_OPEN) {
        c->upstate = UP_CLOSING;
        c->reading[SU] = false;
        c->eof[SU] = c->shut[SU] = false;
        uv_close((uv_handle_t *)&c->up, on_handle_closed);
    }
}

static void conn_close(conn *c)
{
    if (c->closing)
        return;
    access_log(c, NULL);
    c->closing = true;
    close_upstream(c);
    uv_close(&c->cl.handle, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_client_shut(uv_shutdown_t *req, int status)
{
    conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0 || c->cstate != C_LINGER) {
        if (status < 0 || c->eof[SC])
            conn_close(c);
        return;
    }
    /* Drain what the client still sends, so our response is not lost to a
     * reset, then close. */
    set_timer(c, T_LINGER, LINGER_MS);
    update_io(c);
}

/* Response done and the connection must end: flush, shut, linger, close. */
static void finish_and_close(conn *c)
{
    c->close_after = true;
    if (c->writes[SC] > 0 || c->closing || c->cstate == C_LINGER)
        return;
    access_log(c, NULL);
    close_upstream(c);
    c->cstate = C_LINGER;
    c->in[SC].pos = c->in[SC].len;
    if (c->eof[SC]) {
        conn_close(c);
        return;
    }
    c->sreq[SC].data = c;
    if (uv_shutdown(&c->sreq[SC], &c->cl.stream, on_client_shut) < 0)
        conn_close(c);
    else
        c->shut[SC] = true;
}

/* ---- upstream ---- */

/* The request waiting for the daemon gets a 502; the connection goes on
 * unless the request carried a body. */
static void dial_failed(conn *c, const char *why)
{
    char msg[300];
    snprintf(msg, sizeof(msg), "socket-proxy: cannot reach the Docker daemon at %s: %s", c->srv->cfg->upstream, why);
    log_msg(LOG_WARNING, "%s", msg + 14);
    c->upstate = UP_NONE;
    c->dial_retry = false;
    c->decision = "allow";
    c->rstate = R_IDLE;
    c->in[SC].pos += c->head_len;
    respond(c, 502, msg, c->req_has_body || c->req_close);
    access_log(c, "daemon unreachable");
    c->cstate = c->close_after ? C_WAIT : C_HEAD;
    set_timer(c, T_NONE, 0);
}

/* Connects to the daemon's socket. A Unix connect completes at once or fails
 * at once, so it is done synchronously (saving a loop turn and four
 * syscalls); only a full listen backlog (EAGAIN) is retried, every 10 ms,
 * until SOCKET_PROXY_TIMEOUT. Returns true when the upstream is open. */
static bool dial(conn *c)
{
    uv_loop_t *loop = c->srv->loop;
    if (!c->dial_retry)
        c->dial_t0 = uv_now(loop);
    int fd = sys_unix_connect(c->srv->cfg->upstream);
    if (fd < 0) {
        int e = -fd;
        if (e == EAGAIN && uv_now(loop) - c->dial_t0 < c->srv->cfg->dial_timeout_ms) {
            c->upstate = UP_WAIT;
            c->dial_retry = true;
            set_timer(c, T_DIAL, 10);
            return false;
        }
        dial_failed(c, e == EAGAIN ? "timed out (the daemon accepts no connections)" : strerror(e));
        return false;
    }
    uv_pipe_init(loop, &c->up, 0);
    c->up.data = c;
    c->open_handles++;
    if (uv_pipe_open(&c->up, fd) != 0) {
        close(fd);
        c->upstate = UP_OPEN; /* so that close_upstream closes the handle */
        close_upstream(c);
        conn_close(c);
        return false;
    }
    c->upstate = UP_OPEN;
    c->dial_retry = false;
    c->up_requests = 0;
    return true;
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
    respond(c, 502, "socket-proxy: the Docker daemon closed the connection without answering", true);
    c->cstate = C_WAIT;
    finish_and_close(c);
}

static void resend(conn *c)
{
    c->head_len = 0; /* the head left the client buffer long ago */
    if (!dial(c)) {
        if (c->upstate == UP_WAIT)
            return; /* the dial timer calls again */
        c->retry_pending = false; /* dial_failed answered 502 */
        free(c->retry);
        c->retry = NULL;
        return;
    }
    c->retry_pending = false;
    uv_buf_t b = uv_buf_init(c->retry, (unsigned)c->retry_len);
    c->up_requests = 1;
    int r = send_copy(c, SU, &b, 1);
    free(c->retry);
    c->retry = NULL;
    if (r < 0)
        upstream_lost(c); /* no second retry: 502 */
    else
        update_io(c);
}

/* ---- request side ---- */

static void reject(conn *c, int status, const char *why)
{
    char msg[400];
    snprintf(msg, sizeof(msg), "socket-proxy: %s", why);
    c->decision = "bad";
    respond(c, status, msg, true);
    access_log(c, why);
    c->cstate = C_WAIT;
    finish_and_close(c);
}

/* The parts of a validated head h[0..n) without its client-sent X-Api-Key
 * lines and without the blank line that ends it (API_KEY set: ours follows). */
static unsigned head_without_api_key(char *h, size_t n, uv_buf_t *parts)
{
    char *end = h + n - 2, *seg = h, *p = (char *)memchr(h, '\n', n) + 1;
    unsigned k = 0;
    while (p < end) {
        char *next = (char *)memchr(p, '\n', (size_t)(end - p)) + 1;
        if (next - p > 10 && p[9] == ':' && h1_token_eq(p, 9, "x-api-key")) {
            if (p > seg)
                parts[k++] = uv_buf_init(seg, (unsigned)(p - seg));
            seg = next;
        }
        p = next;
    }
    if (end > seg)
        parts[k++] = uv_buf_init(seg, (unsigned)(end - seg));
    return k;
}

/* A GET or HEAD sent on an upstream connection that already carried a request
 * may meet that connection closing under it (the daemon's idle timeout, a
 * restart): keep a copy of what was sent, to send it once more on a fresh
 * connection. Anything else that meets a closed upstream gets a 502. */
static void keep_for_retry(conn *c, const uv_buf_t *bufs, unsigned nb, bool idempotent)
{
    free(c->retry);
    c->retry = NULL;
    if (!idempotent || c->req_has_body || c->up_requests == 0)
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

/* Sends the allowed head at the start of in[SC] (n bytes) to the open
 * upstream, with X-Api-Key handled. Returns false when the connection ended. */
static bool send_head(conn *c, size_t n)
{
    buffer *b = &c->in[SC];
    char *h = b->p + b->pos;
    uv_buf_t bufs[H1_MAX_HEADERS + 5];
    unsigned nb = 1;
    bufs[0] = uv_buf_init(h, (unsigned)n);
    const char *key = c->rules->api_key;
    if (key) {
        /* The client's own X-Api-Key lines go: Go's Header.Get reads the first. */
        nb = head_without_api_key(h, n, bufs);
        bufs[nb++] = uv_buf_init("X-Api-Key: ", 11);
        bufs[nb++] = uv_buf_init((char *)key, (unsigned)strlen(key));
        bufs[nb++] = uv_buf_init("\r\n\r\n", 4);
    }
    keep_for_retry(c, bufs, nb, c->req_is_head || strcmp(c->method, "GET") == 0);
    c->up_requests++;
    b->pos += n;
    c->rstate = R_HEAD;
    c->res_started = false;
    c->cstate = c->req_has_body ? C_BODY : C_WAIT;
    /* with API_KEY the parts live partly outside the buffer: send_copy keeps what it cannot write now */
    if (key ? send_copy(c, SU, bufs, nb) < 0 : forward(c, SU, SC, bufs, nb) < 0) {
        upstream_lost(c); /* the daemon closed it under us: retried or answered 502 */
        return !c->closing && c->cstate == C_HEAD;
    }
    return true;
}

/* Answers a refused request (403 deny, 400 bad, 400 body on a bare action).
 * Returns true when the connection goes on. */
static bool refuse(conn *c, const h1_request *req, size_t n, int status, const char *msg, const char *why)
{
    /* A refusal without a body lets the connection go on; with a body we
     * would have to read what we refused, and an ambiguous spelling is not
     * worth trusting further: both end the connection. */
    bool close = c->req_has_body || req->conn_close || status != RULES_DENY;
    c->in[SC].pos += n;
    respond(c, status, msg, close);
    access_log(c, why);
    if (close) {
        c->cstate = C_WAIT;
        finish_and_close(c);
        return false;
    }
    return !c->closing;
}

/* Parses and decides the request head at the start of in[SC]. Returns true
 * when processing can go on. */
static bool handle_head(conn *c)
{
    buffer *b = &c->in[SC];
    const config *cfg = c->srv->cfg;
    h1_request req;
    /* Resumed where the last read stopped: a head fed a byte at a time costs
     * linear time, not quadratic. */
    ssize_t n = h1_parse_request_resume(b->p + b->pos, b->len - b->pos, cfg->max_head, &req, &c->head_prog);
    if (n == H1_INCOMPLETE) {
        if (c->timer_kind != T_HEAD)
            set_timer(c, T_HEAD, cfg->head_timeout_ms);
        return false;
    }
    h1_progress_init(&c->head_prog); /* the next head starts afresh */
    c->t0 = uv_hrtime();
    c->bytes_out = 0;
    c->need = c->need_alt = 0;
    c->decision = NULL;
    c->status = 0;
    c->req_is_head = req.method.n == 4 && memcmp(req.method.p, "HEAD", 4) == 0;
    if (n == H1_ERROR) {
        snprintf(c->method, sizeof(c->method), "-");
        snprintf(c->target, sizeof(c->target), "-");
        reject(c, req.status, req.error);
        return false;
    }
    set_timer(c, T_NONE, 0);
    size_t mn = req.method.n < sizeof(c->method) - 1 ? req.method.n : sizeof(c->method) - 1;
    memcpy(c->method, req.method.p, mn);
    c->method[mn] = '\0';
    size_t tn = req.target.n < LOG_TARGET_MAX - 1 ? req.target.n : LOG_TARGET_MAX - 1;
    memcpy(c->target, req.target.p, tn);
    c->target[tn] = '\0';

    char pathbuf[8192];
    char *path = req.target.n < sizeof(pathbuf) ? pathbuf : malloc(req.target.n + 1);
    if (!path) {
        conn_close(c);
        return false;
    }
    rules_verdict v;
    rules_decide(c->rules, req.method.p, req.method.n, req.target.p, req.target.n, path, req.target.n + 1, &v);
    c->need = v.need;
    c->need_alt = v.need_alt;
    c->req_has_body = req.chunked || req.content_length > 0;
    char need[400], msg[800];
    const char *why = NULL;
    int status = v.status;
    if (v.status == RULES_BAD) {
        snprintf(msg, sizeof(msg), "socket-proxy: %s (in %.*s)", v.why, (int)(req.target.n < 300 ? req.target.n : 300),
                 req.target.p);
        c->decision = "bad";
        why = v.why;
    } else if (v.status == RULES_DENY) {
        rules_need_text(&v, need, sizeof(need));
        /* To HEAD, the head a GET would get (RFC 9110 9.3.2): same message, same length. */
        snprintf(msg, sizeof(msg), "socket-proxy: %s %.*s is not allowed (%s%s)", c->req_is_head ? "GET" : c->method,
                 (int)(v.path_len < 300 ? v.path_len : 300), v.path, v.need ? "needs " : "", need);
        c->decision = "deny";
    } else if ((v.flags & RULES_F_NO_BODY) && c->req_has_body) {
        /* dockerd below API 1.24 applies a start body as the container's new
         * HostConfig: a bare action variable never carries one. */
        rules_verdict bare = v;
        bare.need_alt = 0;
        rules_need_text(&bare, need, sizeof(need));
        snprintf(msg, sizeof(msg), "socket-proxy: %s %.*s is allowed by %s only without a request body", c->method,
                 (int)(v.path_len < 300 ? v.path_len : 300), v.path, need);
        c->decision = "bad";
        why = "request body on an action granted by an ALLOW_* variable";
        status = RULES_BAD;
    }
    if (path != pathbuf)
        free(path);
    if (status != RULES_ALLOW)
        return refuse(c, &req, (size_t)n, status, msg, why);

    c->decision = "allow";
    c->rflags = v.flags;
    c->req_close = req.conn_close;
    c->body_chunked = req.chunked;
    c->body_left = req.content_length > 0 ? req.content_length : 0;
    if (req.chunked)
        h1_chunked_init(&c->ch, false);

    if (c->upstate != UP_OPEN) {
        c->head_len = (size_t)n;
        if (c->upstate != UP_NONE)
            return false; /* the retry timer (or the close callback) resumes */
        if (!dial(c))
            return !c->closing && c->upstate == UP_NONE; /* a 502 went out: go on */
    }
    return send_head(c, (size_t)n);
}

/* Forwards request body bytes. Returns true when processing can go on. */
static bool handle_body(conn *c)
{
    buffer *b = &c->in[SC];
    size_t avail = b->len - b->pos;
    if (avail == 0)
        return false;
    size_t n;
    bool done;
    if (c->body_chunked) {
        ssize_t k = h1_chunked_feed(&c->ch, b->p + b->pos, avail, &done);
        if (k < 0) {
            /* Never forward bytes past a framing error: the daemon would read
             * them as the rest of this body or as a new request. */
            log_msg(LOG_NOTICE, "%s: bad chunked request body: %s", peer(c), c->ch.error);
            if (!c->res_started) {
                close_upstream(c);
                c->rstate = R_IDLE;
                reject(c, 400, c->ch.error);
            } else {
                conn_close(c);
            }
            return false;
        }
        n = (size_t)k;
    } else {
        n = avail < (uint64_t)c->body_left ? avail : (size_t)c->body_left;
        c->body_left -= (int64_t)n;
        done = c->body_left == 0;
    }
    uv_buf_t buf = uv_buf_init(b->p + b->pos, (unsigned)n);
    buf_consume(c, SC, n);
    if (done)
        c->cstate = C_WAIT;
    if (n && forward(c, SU, SC, &buf, 1) < 0) {
        conn_close(c);
        return false;
    }
    return true;
}

/* ---- response side ---- */

static void start_tunnel(conn *c)
{
    c->rstate = R_TUNNEL;
    c->cstate = C_TUNNEL;
    set_timer(c, T_NONE, 0);
    access_log(c, NULL);
}

/* The response ended: log it and get ready for the next request. */
static void response_done(conn *c)
{
    c->rstate = R_IDLE;
    access_log(c, NULL);
    if (c->cstate == C_BODY || c->res_close || c->req_close || c->close_after || c->srv->draining) {
        /* A body the daemon did not wait for leaves the framing unknown. */
        finish_and_close(c);
        return;
    }
    c->cstate = C_HEAD;
}

static bool handle_response_head(conn *c)
{
    buffer *b = &c->in[SU];
    h1_response res;
    ssize_t n = h1_parse_response(b->p + b->pos, b->len - b->pos, c->srv->buf_size, &res);
    if (n == H1_INCOMPLETE)
        return false;
    if (n == H1_ERROR) {
        log_msg(LOG_ERR, "%s: bad response from the daemon: %s", peer(c), res.error);
        close_upstream(c);
        c->rstate = R_IDLE;
        if (c->res_started) {
            conn_close(c);
        } else {
            char msg[200];
            snprintf(msg, sizeof(msg), "socket-proxy: bad response from the Docker daemon: %s", res.error);
            respond(c, 502, msg, true);
            c->cstate = C_WAIT;
            finish_and_close(c);
        }
        return false;
    }
    c->status = res.status;
    c->res_close = res.conn_close;
    uv_buf_t buf = uv_buf_init(b->p + b->pos, (unsigned)n);
    buf_consume(c, SU, (size_t)n);
    c->res_started = true;
    if (res.status == 101 || (res.status == 200 && res.docker_stream && (c->rflags & RULES_F_HIJACK) &&
                              !res.chunked && res.content_length < 0)) {
        start_tunnel(c);
    } else if (res.status >= 100 && res.status < 200) {
        /* interim (100 Continue): another head follows */
    } else if (c->req_is_head || res.status == 204 || res.status == 304) {
        c->rmode = RM_NONE;
    } else if (res.chunked) {
        c->rmode = RM_CHUNKED;
        h1_chunked_init(&c->rch, true);
    } else if (res.content_length >= 0) {
        c->rmode = RM_LENGTH;
        c->rbody_left = res.content_length;
    } else {
        c->rmode = RM_CLOSE;
        c->res_close = true;
    }
    if (c->rstate == R_HEAD && res.status >= 200)
        c->rstate = R_BODY;
    /* Body bytes that came with the head go out in the same write. */
    if (c->rstate == R_BODY && c->rmode == RM_LENGTH && c->rbody_left > 0 && b->len > b->pos) {
        size_t avail = b->len - b->pos;
        size_t k = avail < (uint64_t)c->rbody_left ? avail : (size_t)c->rbody_left;
        c->rbody_left -= (int64_t)k;
        buf.len += k;
        buf_consume(c, SU, k);
    }
    if (forward(c, SC, SU, &buf, 1) < 0) {
        conn_close(c);
        return false;
    }
    if (c->rstate == R_BODY && (c->rmode == RM_NONE || (c->rmode == RM_LENGTH && c->rbody_left == 0)))
        response_done(c);
    return true;
}

static bool handle_response_body(conn *c)
{
    buffer *b = &c->in[SU];
    size_t avail = b->len - b->pos;
    if (avail == 0)
        return false;
    size_t n = avail;
    bool done = false;
    if (c->rmode == RM_CHUNKED) {
        ssize_t k = h1_chunked_feed(&c->rch, b->p + b->pos, avail, &done);
        if (k < 0) {
            log_msg(LOG_ERR, "%s: bad chunked response from the daemon: %s", peer(c), c->rch.error);
            conn_close(c);
            return false;
        }
        n = (size_t)k;
    } else if (c->rmode == RM_LENGTH) {
        n = avail < (uint64_t)c->rbody_left ? avail : (size_t)c->rbody_left;
        c->rbody_left -= (int64_t)n;
        done = c->rbody_left == 0;
    }
    uv_buf_t buf = uv_buf_init(b->p + b->pos, (unsigned)n);
    buf_consume(c, SU, n);
    if (forward(c, SC, SU, &buf, 1) < 0) {
        conn_close(c);
        return false;
    }
    if (done)
        response_done(c);
    return true;
}

/* ---- the driver ---- */

static void process(conn *c)
{
    for (;;) {
        if (c->closing)
            return;
        bool progress = false;
        buffer *cb = &c->in[SC], *ub = &c->in[SU];

        /* Upstream -> client. */
        if (!ub->busy && ub->p && ub->pos < ub->len) {
            if (c->rstate == R_HEAD)
                progress = handle_response_head(c);
            else if (c->rstate == R_BODY)
                progress = handle_response_body(c);
            else if (c->rstate == R_TUNNEL) {
                uv_buf_t buf = uv_buf_init(ub->p + ub->pos, (unsigned)(ub->len - ub->pos));
                buf_consume(c, SU, buf.len);
                if (forward(c, SC, SU, &buf, 1) < 0) {
                    conn_close(c);
                    return;
                }
                progress = true;
            } else {
                /* Bytes nobody asked for: the framing is lost. */
                log_msg(LOG_ERR, "%s: unexpected bytes from the daemon between responses", c->peer);
                ub->pos = ub->len;
                close_upstream(c);
                progress = true;
            }
            if (c->closing)
                return;
        }

        /* Client -> upstream. */
        if (!cb->busy && cb->p && cb->pos < cb->len && c->cstate != C_LINGER) {
            if (c->cstate == C_HEAD && c->rstate == R_IDLE && !c->close_after && c->writes[SC] == 0) {
                progress |= handle_head(c);
            } else if (c->cstate == C_BODY && c->upstate == UP_OPEN) {
                progress |= handle_body(c);
            } else if (c->cstate == C_TUNNEL && !c->shut[SU]) {
                uv_buf_t buf = uv_buf_init(cb->p + cb->pos, (unsigned)(cb->len - cb->pos));
                buf_consume(c, SC, buf.len);
                if (forward(c, SU, SC, &buf, 1) < 0) {
                    conn_close(c);
                    return;
                }
                progress = true;
            }
            if (c->closing)
                return;
        }
        if (!progress)
            break;
    }
    if (c->closing)
        return;

    /* The daemon closed during a body: once what came is flushed, that ends a
     * close-delimited body; any other body is truncated, and the client must
     * not mistake it for a whole one. */
    if (c->rstate == R_BODY && c->eof[SU] && !c->in[SU].busy && c->in[SU].pos == c->in[SU].len) {
        if (c->rmode != RM_CLOSE) {
            conn_close(c);
            return;
        }
        response_done(c);
        if (c->closing)
            return;
    }

    /* A client EOF is passed on to the daemon once the bytes before it are
     * out: half-close in a tunnel, cancellation for a pending request. */
    if (c->eof[SC] && !c->shut[SU] && c->upstate == UP_OPEN && c->rstate != R_IDLE && c->writes[SU] == 0 &&
        c->in[SC].pos == c->in[SC].len) {
        c->shut[SU] = true;
        c->sreq[SU].data = c;
        if (uv_shutdown(&c->sreq[SU], (uv_stream_t *)&c->up, NULL) < 0) {
            conn_close(c);
            return;
        }
    }
    if (c->cstate == C_TUNNEL) {
        if (c->eof[SU] && !c->shut[SC] && c->writes[SC] == 0 && c->in[SU].pos == c->in[SU].len) {
            c->shut[SC] = true;
            c->sreq[SC].data = c;
            if (uv_shutdown(&c->sreq[SC], &c->cl.stream, on_client_shut) < 0) {
                conn_close(c);
                return;
            }
        }
        if (c->eof[SC] && c->eof[SU] && c->writes[SC] == 0 && c->writes[SU] == 0) {
            conn_close(c);
            return;
        }
    } else if (c->close_after && c->writes[SC] == 0 && c->cstate != C_LINGER && c->rstate != R_BODY &&
               c->rstate != R_HEAD) {
        finish_and_close(c);
        if (c->closing)
            return;
    }

    /* Idle between requests: start the keep-alive timer. */
    if (c->cstate == C_HEAD && c->rstate == R_IDLE && c->upstate != UP_WAIT && c->timer_kind != T_HEAD &&
        c->timer_kind != T_IDLE && c->in[SC].pos == c->in[SC].len) {
        set_timer(c, T_IDLE, c->srv->cfg->idle_timeout_ms);
    }
    if (c->srv->draining && c->cstate == C_HEAD && c->rstate == R_IDLE && c->writes[SC] == 0 &&
        c->in[SC].pos == c->in[SC].len) {
        conn_close(c);
        return;
    }
    update_io(c);
}

/* ---- reading ---- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    conn *c = h->data;
    int side = h == (uv_handle_t *)&c->up ? SU : SC;
    buffer *b = &c->in[side];
    size_t big = c->srv->buf_size;
    if (!b->p) {
        /* A client waiting for its next head gets a small buffer. */
        b->cap = side == SC && c->cstate == C_HEAD ? SERVER_BUF_SMALL : big;
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
    if (!b->p) {
        *out = uv_buf_init(NULL, 0);
        return;
    }
    *out = uv_buf_init(b->p + b->len, (unsigned)(b->cap - b->len));
}

/* Starts or stops reading each side according to the state. */
static void update_io(conn *c)
{
    if (c->closing)
        return;
    buffer *cb = &c->in[SC], *ub = &c->in[SU];
    buf_release_if_empty(c, SC);
    buf_release_if_empty(c, SU);
    size_t cap = c->srv->buf_size;

    /* Read while there is room (a full small buffer grows in alloc_cb). */
    bool want_c = !c->eof[SC] && !cb->busy && !(cb->p && cb->pos == 0 && cb->len == cap);
    /* An answer to this client is still unflushed: read nothing more (see respond). */
    if (c->cstate == C_HEAD && c->rstate == R_IDLE && c->writes[SC] > 0)
        want_c = false;
    /* While a request waits for its response, keep reading the client (to see
     * it go away), but only until a head's worth is buffered. */
    if (c->cstate == C_LINGER)
        want_c = !c->eof[SC];
    if (want_c != c->reading[SC]) {
        if (want_c)
            uv_read_start(&c->cl.stream, alloc_cb, on_client_read);
        else
            uv_read_stop(&c->cl.stream);
        c->reading[SC] = want_c;
    }
    bool want_u = c->upstate == UP_OPEN && !c->eof[SU] && !ub->busy &&
                  !(ub->p && ub->pos == 0 && ub->len == cap);
    if (want_u != c->reading[SU]) {
        if (want_u)
            uv_read_start((uv_stream_t *)&c->up, alloc_cb, on_upstream_read);
        else
            uv_read_stop((uv_stream_t *)&c->up);
        c->reading[SU] = want_u;
    }
}

static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (c->closing)
        return;
    if (n > 0) {
        if (c->cstate == C_LINGER)
            return; /* discarded */
        c->in[SC].len += (size_t)n;
        if (c->timer_kind == T_IDLE)
            set_timer(c, T_NONE, 0);
        process(c);
        return;
    }
    if (n == 0)
        return;
    if (n == UV_ENOBUFS) {
        conn_close(c);
        return;
    }
    /* EOF or error. */
    c->eof[SC] = true;
    if (n != UV_EOF || c->cstate == C_LINGER) {
        conn_close(c);
        return;
    }
    if (c->cstate == C_TUNNEL) {
        process(c); /* passes the half-close on */
        return;
    }
    /* Outside a tunnel: a client gone from a stream (events, logs -f), in
     * the middle of sending its request, or between requests is simply gone.
     * With a request under way the EOF is passed on to the daemon, as a
     * direct client's would be: Go's server then cancels the request (a
     * build, a pull, `stop -t`), and an answer that still comes is
     * delivered before the connection ends. */
    bool partial = c->in[SC].pos < c->in[SC].len;
    if (c->cstate == C_BODY || (c->rflags & RULES_F_STREAM && c->rstate != R_IDLE) ||
        (c->rstate == R_IDLE && (partial || (c->writes[SC] == 0 && !c->close_after)))) {
        conn_close(c);
        return;
    }
    c->close_after = true;
    c->in[SC].pos = c->in[SC].len;
    process(c);
}

static void on_upstream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (c->closing || c->upstate != UP_OPEN)
        return;
    if (n > 0) {
        c->in[SU].len += (size_t)n;
        if (c->retry) { /* the daemon answers: never send it twice */
            free(c->retry);
            c->retry = NULL;
        }
        process(c);
        return;
    }
    if (n == 0)
        return;
    c->eof[SU] = true;
    uv_read_stop(s);
    c->reading[SU] = false;
    switch (c->rstate) {
    case R_IDLE:
        /* The daemon closed an idle keep-alive connection: dial anew next time. */
        close_upstream(c);
        update_io(c);
        return;
    case R_HEAD:
        if (!c->res_started) {
            upstream_lost(c); /* a partial head freed the retry copy: 502 */
            return;
        }
        conn_close(c);
        return;
    case R_BODY:
        if (n != UV_EOF) {
            conn_close(c);
            return;
        }
        process(c); /* flushes, then ends the response (see there) */
        return;
    case R_TUNNEL:
        if (n != UV_EOF) {
            conn_close(c);
            return;
        }
        process(c);
        return;
    }
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->closing)
        return;
    int kind = c->timer_kind;
    c->timer_kind = T_NONE;
    switch (kind) {
    case T_IDLE:
    case T_LINGER:
        conn_close(c);
        break;
    case T_HEAD:
        snprintf(c->method, sizeof(c->method), "-");
        snprintf(c->target, sizeof(c->target), "-");
        c->t0 = uv_hrtime();
        c->req_is_head = false;
        reject(c, 408, "request head not received in time");
        break;
    case T_DIAL:
        if (c->upstate == UP_WAIT) {
            c->upstate = UP_NONE; /* dial_retry stays set: the same deadline */
            if (c->retry_pending)
                resend(c);
            else
                process(c);
        }
        break;
    }
}

/* ---- accept / drain ---- */

static void on_refused_closed(uv_handle_t *h) { free(h->data); }

void proxy_accept(listener *l)
{
    server *s = l->srv;
    conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    if (l->is_unix)
        uv_pipe_init(s->loop, &c->cl.pipe, 0);
    else
        uv_tcp_init(s->loop, &c->cl.tcp);
    c->cl.handle.data = c;
    if (uv_accept(&l->h.stream, &c->cl.stream) < 0) {
        uv_close(&c->cl.handle, on_refused_closed);
        return;
    }
    const char *refused = NULL;
    char msg[200];
    if (s->nconns >= s->max_conns || s->draining) {
        refused = "socket-proxy: too many connections, try again";
        log_msg(LOG_WARNING, "connection refused: %zu connections open (the limit)", s->nconns);
    } else if (s->cfg->max_client_conns) {
        identify(c);
        if (c->client.kind != CLIENT_NONE && !clients_enter(&s->clients, &c->client, s->cfg->max_client_conns)) {
            snprintf(msg, sizeof(msg),
                     "socket-proxy: too many connections from this client (SOCKET_PROXY_MAX_CLIENT_CONNS=%zu), try again",
                     s->cfg->max_client_conns);
            refused = msg;
            log_msg(LOG_WARNING, "connection from %s refused: it has %zu open (SOCKET_PROXY_MAX_CLIENT_CONNS)", c->peer,
                    s->cfg->max_client_conns);
            c->client.kind = CLIENT_NONE;
        }
    }
    if (refused) {
        /* Written at once or not at all: a refused client gets no buffer. */
        char out[ANSWER_MAX];
        uv_buf_t b = uv_buf_init(out, (unsigned)answer_format(out, 503, refused, false, true));
        uv_try_write(&c->cl.stream, &b, 1);
        uv_close(&c->cl.handle, on_refused_closed);
        return;
    }
    c->srv = s;
    c->rules = l->rules;
    c->cl.handle.data = c;
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;

    if (!l->is_unix)
        uv_tcp_nodelay(&c->cl.tcp, 1);
    set_timer(c, T_IDLE, s->cfg->idle_timeout_ms);
    update_io(c);
}

void proxy_drain(server *s)
{
    conn *c = s->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->closing)
            continue;
        bool idle = c->cstate == C_HEAD && c->rstate == R_IDLE && c->in[SC].pos == c->in[SC].len;
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
