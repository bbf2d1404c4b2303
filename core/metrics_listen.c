/* The metrics listener (core/metrics.h): a TCP socket of its own, one
 * request per connection, answered from metrics_render. Small on purpose:
 * a scraper sends one GET and reads one answer; anything else is refused
 * or closed, and every connection is bounded in bytes, time and number. */
#include "metrics.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http1.h"
#include "log.h"

#define METRICS_VAR "SOCKET_PROXY_METRICS"
#define TYPE_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"
#define TYPE_TEXT "text/plain; charset=utf-8"

typedef enum {
    MC_HEAD,   /* reading the request head */
    MC_ANSWER, /* writing the answer; what the client sends is discarded */
    MC_LINGER, /* answer written and our side shut: waiting for the client's close */
} mconn_state;

typedef struct mconn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t write;
    uv_shutdown_t shutdown;
    struct metrics_listener *l;
    int slot;         /* its place in l->conns */
    int open_handles; /* close callbacks still to come before it is freed */
    bool eof, closing;
    mconn_state state;
    h1_progress prog;
    size_t len;
    char head[METRICS_HEAD_MAX]; /* the request head; later, discarded bytes */
    char answer_head[256];
    char *owned;                 /* the answer's body when malloc'd, freed after the write */
} mconn;

struct metrics_listener {
    uv_tcp_t tcp;
    metrics *m;
    metrics_learned_fn learned;
    void *arg;
    mconn *conns[METRICS_MAX_CONNS]; /* NULL: a free slot */
    int nconns;
    bool closing, tcp_closed;
};

static void listener_free_if_done(metrics_listener *l)
{
    if (l->closing && l->tcp_closed && l->nconns == 0)
        free(l);
}

static void on_listener_closed(uv_handle_t *h)
{
    metrics_listener *l = h->data;
    l->tcp_closed = true;
    listener_free_if_done(l);
}

static void on_conn_closed(uv_handle_t *h)
{
    mconn *c = h->data;
    if (--c->open_handles > 0)
        return;
    metrics_listener *l = c->l;
    l->conns[c->slot] = NULL;
    l->nconns--;
    free(c->owned);
    free(c);
    listener_free_if_done(l);
}

static void conn_close(mconn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Internal Server Error";
    }
}

static void on_timeout(uv_timer_t *t);

static void on_shutdown(uv_shutdown_t *req, int status)
{
    mconn *c = req->data;
    /* Closing only once the client has read and closed keeps an unread
     * request body from turning our close into a reset that loses the answer. */
    if (status < 0 || c->eof)
        conn_close(c);
}

static void on_written(uv_write_t *req, int status)
{
    mconn *c = req->data;
    free(c->owned);
    c->owned = NULL;
    if (status < 0 || c->closing) {
        conn_close(c);
        return;
    }
    c->state = MC_LINGER;
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
        conn_close(c);
}

/* Sends the answer: head, then body[0..len) unless `with_body` is false
 * (HEAD). owned: body is malloc'd and ours now. Connection: close. */
static void answer(mconn *c, int status, const char *type, const char *body, size_t len, char *owned, bool with_body)
{
    c->state = MC_ANSWER;
    c->owned = owned;
    uv_timer_start(&c->timer, on_timeout, METRICS_ANSWER_TIMEOUT_MS, 0);
    int n = snprintf(c->answer_head, sizeof(c->answer_head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
                     status, reason(status), type, len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
    uv_buf_t bufs[2] = {uv_buf_init(c->answer_head, (unsigned)n), uv_buf_init((char *)body, (unsigned)len)};
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, bufs, with_body && len ? 2 : 1, on_written) < 0) {
        free(c->owned);
        c->owned = NULL;
        conn_close(c);
    }
}

/* A short text answer: the status's reason phrase as the body. */
static void answer_status(mconn *c, int status, bool with_body)
{
    char *body = malloc(64);
    if (!body) {
        conn_close(c);
        return;
    }
    int n = snprintf(body, 64, "%s\n", reason(status));
    answer(c, status, TYPE_TEXT, body, (size_t)n, body, with_body);
}

static bool token_is(const char *p, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(p, word, n) == 0;
}

typedef enum { PATH_OTHER, PATH_METRICS, PATH_LEARNED } mpath;

/* Which of our paths the target is; a query string does not matter. */
static mpath path_of(const metrics_listener *l, h1_str target)
{
    const char *q = memchr(target.p, '?', target.n);
    size_t n = q ? (size_t)(q - target.p) : target.n;
    if (token_is(target.p, n, "/metrics"))
        return PATH_METRICS;
    if (l->learned && token_is(target.p, n, "/_socket-proxy/learned"))
        return PATH_LEARNED;
    return PATH_OTHER;
}

static void route(mconn *c, const h1_request *req)
{
    metrics_listener *l = c->l;
    bool get = token_is(req->method.p, req->method.n, "GET"), head = token_is(req->method.p, req->method.n, "HEAD");
    mpath p = path_of(l, req->target);
    if (p == PATH_OTHER || (!get && !head)) {
        answer_status(c, p == PATH_OTHER ? 404 : 405, !head);
        return;
    }
    size_t len = 0;
    char *body = NULL;
    if (p == PATH_METRICS)
        len = metrics_render(l->m, &body);
    else
        body = l->learned(l->arg, &len);
    if (!body) {
        answer_status(c, p == PATH_METRICS ? 500 : 404, get);
        return;
    }
    answer(c, 200, p == PATH_METRICS ? TYPE_PROMETHEUS : TYPE_TEXT, body, len, body, get);
}

static void on_timeout(uv_timer_t *t)
{
    mconn *c = t->data;
    if (c->state == MC_HEAD)
        answer_status(c, 408, true);
    else
        conn_close(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    mconn *c = h->data;
    /* After the head, what the client sends is read into the same bytes and dropped. */
    size_t at = c->state == MC_HEAD ? c->len : 0;
    *b = uv_buf_init(c->head + at, (unsigned)(sizeof(c->head) - at));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    mconn *c = s->data;
    if (n == UV_EOF) {
        c->eof = true;
        uv_read_stop(s);
        /* Answering, the write ends the connection; else nothing is left to do. */
        if (c->state != MC_ANSWER)
            conn_close(c);
        return;
    }
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n == 0 || c->state != MC_HEAD || c->closing)
        return;
    c->len += (size_t)n;
    h1_request req;
    ssize_t r = h1_parse_request_resume(c->head, c->len, sizeof(c->head), &req, &c->prog);
    if (r == H1_ERROR)
        answer_status(c, req.status ? req.status : 400, true);
    else if (r > 0)
        route(c, &req);
    else if (c->len == sizeof(c->head)) /* the parser says 431 first; never wait on a full buffer */
        answer_status(c, 431, true);
}

static void free_handle(uv_handle_t *h) { free(h); }

/* Over the bound: accepted only to be closed, so the backlog moves on. */
static void refuse(uv_stream_t *server)
{
    uv_tcp_t *t = malloc(sizeof(*t));
    if (!t) {
        log_msg(LOG_WARNING, "metrics: out of memory accepting a connection");
        return;
    }
    uv_tcp_init(server->loop, t);
    uv_accept(server, (uv_stream_t *)t);
    uv_close((uv_handle_t *)t, free_handle);
}

static void on_accept(uv_stream_t *server, int status)
{
    metrics_listener *l = server->data;
    if (status < 0 || l->closing)
        return;
    mconn *c = l->nconns < METRICS_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
    if (!c) {
        refuse(server);
        return;
    }
    c->l = l;
    c->open_handles = 2;
    uv_tcp_init(server->loop, &c->tcp);
    uv_timer_init(server->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    while (l->conns[c->slot]) /* nconns < METRICS_MAX_CONNS: one is free */
        c->slot++;
    l->conns[c->slot] = c;
    l->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 || uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_timeout, METRICS_HEAD_TIMEOUT_MS, 0);
}

/* Binds and listens; the error line names the variable and the address. */
static int listen_on(metrics_listener *l, uv_loop_t *loop, const config_listen *a, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int r = a->v6 ? uv_ip6_addr(a->host, a->port, (struct sockaddr_in6 *)&ss)
                  : uv_ip4_addr(a->host, a->port, (struct sockaddr_in *)&ss);
    if (r == 0)
        r = uv_tcp_init_ex(loop, &l->tcp, a->v6 ? AF_INET6 : AF_INET);
    if (r < 0) {
        free(l); /* never libuv's: its init failed or never ran */
        snprintf(err, errlen, "%s: cannot listen: %s", METRICS_VAR, uv_strerror(r));
        return -1;
    }
    l->tcp.data = l;
    r = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&l->tcp, 64, on_accept);
    if (r < 0) {
        char at[80];
        snprintf(err, errlen, "%s: cannot listen on %s: %s", METRICS_VAR, log_hostport(at, sizeof(at), a->host, a->port),
                 uv_strerror(r));
        l->closing = true;
        uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
        return -1;
    }
    return 0;
}

metrics_listener *metrics_listen(uv_loop_t *loop, const char *addr, metrics *m, metrics_learned_fn learned,
                                 void *arg, char *err, size_t errlen)
{
    config_listen a;
    if (config_parse_listen_one(METRICS_VAR, addr, &a, err, errlen) < 0)
        return NULL;
    metrics_listener *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "%s: out of memory", METRICS_VAR);
        return NULL;
    }
    l->m = m;
    l->learned = learned;
    l->arg = arg;
    return listen_on(l, loop, &a, err, errlen) < 0 ? NULL : l;
}

void metrics_close(metrics_listener *l)
{
    if (!l || l->closing)
        return;
    l->closing = true;
    uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
    for (int i = 0; i < METRICS_MAX_CONNS; i++)
        if (l->conns[i])
            conn_close(l->conns[i]);
}
