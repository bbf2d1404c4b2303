/* lookup: one GET to the daemon on the loop. See lookup.h.
 *
 * A lookup owns one timer, which serves every wait: the deadline while a
 * connection talks, the next attempt while the daemon's listen backlog is
 * full, and the loop turn that reports a failure found inside lookup_start
 * (cb is never called from within it). Connections (dconn) are objects of
 * their own, since they outlive a lookup in the pool: a lookup borrows one
 * (`owner`), and gives it back to the pool or closes it when it ends.
 * Whatever ends the lookup (answer, error, deadline, cancel) goes through
 * finish(). Memory goes with close callbacks: a lookup's with its timer's, a
 * connection's with its pipe's (after its pending write's ECANCELED), the
 * pool's with the last of its timer, its connections and its lookups. */
#include "lookup.h"

#include <cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http1.h"
#include "sys.h"

/* The daemon's answer heads are a few hundred bytes. */
#define LOOKUP_MAX_HEAD 16384
/* As the proxy's own dial: a full backlog is retried this often. */
#define LOOKUP_RETRY_MS 10

typedef struct dconn dconn;

struct lookup_pool {
    uv_loop_t *loop;
    char *upstream;
    unsigned max_idle, nidle;
    uint64_t idle_ms;
    uv_timer_t timer;      /* closes connections idle for idle_ms; never holds the loop */
    dconn *newest, *oldest; /* the idle connections */
    size_t refs;           /* the timer (until closed), every dconn and lookup not yet freed */
    bool closed;
    char spare[64];        /* what idle connections read (any byte closes them) */
};

/* One connection to the daemon. */
struct dconn {
    uv_pipe_t pipe;         /* first: the pipe is the connection (dconn_of) */
    uv_write_t write;
    lookup_pool *pool;
    lookup *owner;          /* the lookup talking on it; NULL when idle, lent or closing */
    bool lent;              /* the proxy's: its data, its reading (lookup_pool_take_pipe) */
    uv_close_cb closed_cb;  /* the proxy's close callback, called before the memory goes */
    dconn *newer, *older;   /* the idle list */
    uint64_t idle_since;    /* loop time */
    bool writing;           /* a write is pending */
    bool closing;
};

typedef enum {
    L_DIAL,   /* waiting to connect again: the backlog was full */
    L_FAILED, /* failed before talking: `error` is reported at the next turn */
    L_OPEN,   /* connected: the timer is the deadline */
} lookup_stage;

struct lookup {
    lookup_pool *pool;
    uv_timer_t timer;
    dconn *c; /* the connection talking, or NULL */
    lookup_cb cb; /* NULL once cancelled */
    void *arg;
    char *request;
    size_t request_len;
    uint64_t deadline; /* loop time */
    size_t max_body;
    lookup_stage stage;
    int error;
    bool finished; /* cb called (or cancelled): the timer is closing */
    bool reused;   /* c came from the pool: a close before any answer is retried */
    bool answering; /* a byte of the answer came */
    bool reusable; /* the answer ended cleanly where its framing said */
    bool have_head;
    h1_response res;
    h1_body framing;
    char *body; /* decoded, NUL-terminated */
    size_t body_len, body_cap;
    size_t in_len; /* head bytes in `in` (before the head is complete) */
    char in[LOOKUP_MAX_HEAD];
};

static void dial(lookup *l);
static void on_timer(uv_timer_t *t);
static void conn_lost(lookup *l, int error);

/* ---- the pool ---- */

static void pool_unref(lookup_pool *p)
{
    if (--p->refs > 0)
        return;
    free(p->upstream);
    free(p);
}

static void on_pool_timer_closed(uv_handle_t *h) { pool_unref(h->data); }

static dconn *dconn_of(uv_handle_t *h) { return (dconn *)(void *)h; }

static void on_conn_closed(uv_handle_t *h)
{
    dconn *c = dconn_of(h);
    lookup_pool *p = c->pool;
    if (c->closed_cb)
        c->closed_cb(h);
    free(c);
    pool_unref(p);
}

static void conn_close(dconn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->owner = NULL;
    uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void idle_remove(dconn *c)
{
    lookup_pool *p = c->pool;
    if (c->newer)
        c->newer->older = c->older;
    else
        p->newest = c->older;
    if (c->older)
        c->older->newer = c->newer;
    else
        p->oldest = c->newer;
    c->newer = c->older = NULL;
    p->nidle--;
}

/* Closes the connections idle for idle_ms; waits for the oldest of the rest. */
static void on_idle_timer(uv_timer_t *t)
{
    lookup_pool *p = t->data;
    uint64_t now = uv_now(p->loop);
    while (p->oldest && now - p->oldest->idle_since >= p->idle_ms) {
        dconn *c = p->oldest;
        idle_remove(c);
        conn_close(c);
    }
    if (p->oldest)
        uv_timer_start(&p->timer, on_idle_timer, p->oldest->idle_since + p->idle_ms - now, 0);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* A connection whose answer ended cleanly: kept when there is room, newest
 * first (the least likely to have been closed by the daemon). One the proxy
 * gives back is read by the pool again (any byte or EOF closes it). */
static void pool_put(dconn *c)
{
    lookup_pool *p = c->pool;
    c->owner = NULL;
    if (c->lent) {
        /* Read by the pool again: the callbacks swapped back (see lend), or
         * the reading started where the proxy had stopped it. */
        c->lent = false;
        c->closed_cb = NULL;
        c->pipe.data = c;
        c->pipe.alloc_cb = on_alloc;
        c->pipe.read_cb = on_read;
        if (!uv_is_active((uv_handle_t *)&c->pipe) && uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0)
            c->writing = true; /* cannot be read: closed below */
    }
    if (p->closed || p->nidle >= p->max_idle || c->writing) {
        conn_close(c);
        return;
    }
    c->idle_since = uv_now(p->loop);
    c->older = p->newest;
    c->newer = NULL;
    if (p->newest)
        p->newest->newer = c;
    else
        p->oldest = c;
    p->newest = c;
    p->nidle++;
    uv_unref((uv_handle_t *)&c->pipe);
    if (!uv_is_active((uv_handle_t *)&p->timer))
        uv_timer_start(&p->timer, on_idle_timer, p->idle_ms, 0);
}

/* The newest idle connection, or NULL. */
static dconn *pool_take(lookup_pool *p)
{
    dconn *c = p->newest;
    if (c) {
        idle_remove(c);
        uv_ref((uv_handle_t *)&c->pipe);
    }
    return c;
}

lookup_pool *lookup_pool_new(uv_loop_t *loop, const char *upstream, unsigned max_idle, uint64_t idle_ms)
{
    lookup_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->upstream = strdup(upstream);
    if (!p->upstream) {
        free(p);
        return NULL;
    }
    p->loop = loop;
    p->max_idle = max_idle;
    p->idle_ms = idle_ms;
    uv_timer_init(loop, &p->timer);
    uv_unref((uv_handle_t *)&p->timer);
    p->timer.data = p;
    p->refs = 1;
    return p;
}

void lookup_pool_close(lookup_pool *p)
{
    if (!p || p->closed)
        return;
    p->closed = true;
    while (p->newest) {
        dconn *c = p->newest;
        idle_remove(c);
        conn_close(c);
    }
    uv_close((uv_handle_t *)&p->timer, on_pool_timer_closed);
}

unsigned lookup_pool_idle(const lookup_pool *p) { return p->nidle; }

/* ---- the proxy's connections ---- */

/* Hands a reading connection over: its reads go to the proxy's callbacks
 * from now on. The callbacks are swapped, not the reading stopped and
 * started, which would cost two epoll_ctl calls each way. */
static uv_pipe_t *lend(dconn *c, void *data, uv_alloc_cb alloc, uv_read_cb read)
{
    c->lent = true;
    c->pipe.data = data;
    c->pipe.alloc_cb = alloc;
    c->pipe.read_cb = read;
    return &c->pipe;
}

uv_pipe_t *lookup_pool_take_pipe(lookup_pool *p, void *data, uv_alloc_cb alloc, uv_read_cb read)
{
    dconn *c = p->closed ? NULL : pool_take(p);
    return c ? lend(c, data, alloc, read) : NULL;
}

static dconn *conn_open(lookup_pool *p, int fd, int *rc);

uv_pipe_t *lookup_pool_open_pipe(lookup_pool *p, int fd, void *data, uv_alloc_cb alloc, uv_read_cb read, int *rc)
{
    dconn *c = conn_open(p, fd, rc);
    return c ? lend(c, data, alloc, read) : NULL;
}

void lookup_pool_put_pipe(uv_pipe_t *pipe) { pool_put(dconn_of((uv_handle_t *)pipe)); }

void lookup_pool_close_pipe(uv_pipe_t *pipe, uv_close_cb cb)
{
    dconn *c = dconn_of((uv_handle_t *)pipe);
    c->closed_cb = cb;
    conn_close(c);
}

/* ---- the end ---- */

static void on_closed(uv_handle_t *h)
{
    lookup *l = h->data;
    lookup_pool *p = l->pool;
    free(l->body);
    free(l->request);
    free(l);
    pool_unref(p);
}

/* Lets go of the connection: back to the pool after a clean answer, closed
 * otherwise. */
static void release(lookup *l)
{
    dconn *c = l->c;
    if (!c)
        return;
    l->c = NULL;
    if (l->reusable)
        pool_put(c);
    else
        conn_close(c);
}

/* Ends the lookup once: lets go of the connection, closes the timer, then
 * tells the caller (unless cancelled). The memory outlives the call: it is
 * freed by on_closed. */
static void finish(lookup *l, int status)
{
    if (l->finished)
        return;
    l->finished = true;
    if (status < 0)
        l->reusable = false;
    release(l);
    uv_close((uv_handle_t *)&l->timer, on_closed);
    bool body = status >= 0 && l->body;
    if (l->cb)
        l->cb(l->arg, status, body ? l->body : "", body ? l->body_len : 0);
}

/* A failure found where cb may not be called yet: reported at the next turn. */
static void fail_later(lookup *l, int error)
{
    l->reusable = false;
    release(l);
    l->stage = L_FAILED;
    l->error = error;
    uv_timer_start(&l->timer, on_timer, 0, 0);
}

void lookup_cancel(lookup *l)
{
    if (!l || l->finished)
        return;
    l->cb = NULL;
    finish(l, UV_ECANCELED);
}

/* ---- the answer ---- */

/* Appends decoded body bytes, within max_body. Returns 0 or a libuv error. */
static int keep(lookup *l, const char *p, size_t n)
{
    if (n > l->max_body - l->body_len)
        return UV_EPROTO;
    size_t need = l->body_len + n + 1; /* with the NUL */
    if (need > l->body_cap) {
        size_t cap = l->body_cap ? l->body_cap * 2 : 1024;
        if (cap > l->max_body + 1)
            cap = l->max_body + 1;
        if (cap < need)
            cap = need;
        char *b = realloc(l->body, cap);
        if (!b)
            return UV_ENOMEM;
        l->body = b;
        l->body_cap = cap;
    }
    memcpy(l->body + l->body_len, p, n);
    l->body_len += n;
    l->body[l->body_len] = '\0';
    return 0;
}

/* Feeds a prefix of p[0..n) to the framing and keeps its data (without
 * chunked framing). Returns the bytes consumed, or a libuv error. */
static ssize_t feed(lookup *l, const char *p, size_t n, bool *done)
{
    char data[4096];
    size_t got, k = n < sizeof(data) ? n : sizeof(data);
    ssize_t used = h1_body_decode(&l->framing, p, k, data, &got, done);
    if (used < 0)
        return UV_EPROTO;
    int rc = keep(l, data, got);
    return rc < 0 ? rc : used;
}

/* Body bytes p[0..n): the lookup ends when the body does. */
static void take_body(lookup *l, const char *p, size_t n)
{
    bool done = l->framing.mode == H1_BODY_NONE;
    size_t off = 0;
    while (!done && off < n) {
        ssize_t used = feed(l, p + off, n - off, &done);
        if (used < 0) {
            finish(l, (int)used);
            return;
        }
        off += (size_t)used;
    }
    if (done) {
        /* Anything after the body is not ours, and leaves the connection
         * somewhere we cannot follow. */
        l->reusable = off == n && !l->res.conn_close;
        finish(l, l->res.status);
    }
}

/* Parses the heads in `in`: interim (1xx) heads are dropped, the final one
 * sets the body's framing, and the bytes after it are body bytes. */
static void take_heads(lookup *l)
{
    for (;;) {
        ssize_t head = h1_parse_response(l->in, l->in_len, sizeof(l->in), &l->res);
        if (head == H1_INCOMPLETE)
            return;
        /* 101: we asked for no upgrade, and what follows is not HTTP. */
        if (head < 0 || l->res.status == 101) {
            finish(l, UV_EPROTO);
            return;
        }
        size_t rest = l->in_len - (size_t)head;
        if (l->res.status < 200) {
            memmove(l->in, l->in + head, rest);
            l->in_len = rest;
            continue;
        }
        h1_body_response(&l->framing, &l->res, false);
        if (l->res.content_length > 0 && (uint64_t)l->res.content_length > l->max_body) {
            finish(l, UV_EPROTO);
            return;
        }
        l->have_head = true;
        l->in_len = 0;
        take_body(l, l->in + head, rest);
        return;
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    dconn *c = dconn_of(h);
    lookup *l = c->owner;
    if (!l)
        *buf = uv_buf_init(c->pool->spare, sizeof(c->pool->spare));
    else /* head bytes accumulate; body bytes are decoded out at once */
        *buf = uv_buf_init(l->in + l->in_len, (unsigned)(sizeof(l->in) - l->in_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    dconn *c = dconn_of((uv_handle_t *)s);
    lookup *l = c->owner;
    if (n == 0 || c->closing)
        return;
    if (!l) {
        /* Idle: nobody asked, so EOF, an error or any byte ends it. */
        idle_remove(c);
        conn_close(c);
    } else if (n < 0) {
        conn_lost(l, (int)n);
    } else {
        l->answering = true;
        if (l->have_head) {
            take_body(l, buf->base, (size_t)n);
        } else {
            l->in_len += (size_t)n;
            take_heads(l);
        }
    }
}

/* ---- the question ---- */

/* Whether error, on a connection from the pool before any answer, means the
 * daemon had closed it: the GET goes once more on a new one. */
static bool retry(const lookup *l, int error)
{
    return l->reused && !l->answering &&
           (error == UV_EOF || error == UV_ECONNRESET || error == UV_EPIPE);
}

/* The connection failed (a read or write error, or EOF). */
static void conn_lost(lookup *l, int error)
{
    if (retry(l, error)) {
        l->reused = false;
        release(l);
        dial(l); /* reports its failures at a later turn */
        return;
    }
    /* The end of the connection ends only a body that has no length. */
    if (error == UV_EOF)
        finish(l, l->have_head && l->framing.mode == H1_BODY_CLOSE ? l->res.status : UV_EPROTO);
    else
        finish(l, error);
}

static void on_written(uv_write_t *w, int status)
{
    dconn *c = w->data;
    c->writing = false;
    if (status < 0 && c->owner) /* no owner: closing (ECANCELED), or the answer came first */
        conn_lost(c->owner, status);
}

static void on_timer(uv_timer_t *t)
{
    lookup *l = t->data;
    if (l->stage == L_DIAL)
        dial(l);
    else
        finish(l, l->stage == L_FAILED ? l->error : UV_ETIMEDOUT);
}

/* Sends the request on c, which reads already; the timer becomes the deadline. */
static void talk(lookup *l, dconn *c)
{
    l->c = c;
    c->owner = l;
    uv_buf_t req = uv_buf_init(l->request, (unsigned)l->request_len);
    int rc = uv_write(&c->write, (uv_stream_t *)&c->pipe, &req, 1, on_written);
    if (rc < 0) {
        if (retry(l, rc)) {
            l->reused = false;
            release(l);
            dial(l);
        } else {
            fail_later(l, rc);
        }
        return;
    }
    c->writing = true;
    l->stage = L_OPEN;
    uint64_t now = uv_now(l->pool->loop);
    uv_timer_start(&l->timer, on_timer, l->deadline > now ? l->deadline - now : 0, 0);
}

/* A connection on the connected descriptor fd, reading, or NULL with *rc set. */
static dconn *conn_open(lookup_pool *p, int fd, int *rc)
{
    dconn *c = calloc(1, sizeof(*c));
    if (!c || uv_pipe_init(p->loop, &c->pipe, 0) != 0) {
        free(c);
        close(fd);
        *rc = UV_ENOMEM;
        return NULL;
    }
    c->pool = p;
    c->pipe.data = c->write.data = c;
    p->refs++;
    if ((*rc = uv_pipe_open(&c->pipe, fd)) < 0) {
        close(fd); /* not the handle's: uv_pipe_open failed */
        conn_close(c);
        return NULL;
    }
    if ((*rc = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read)) < 0) {
        conn_close(c);
        return NULL;
    }
    return c;
}

/* A Unix connect completes or fails at once (sys_unix_connect), so there is
 * no connect request to wait for; only a full backlog (EAGAIN) waits, and is
 * retried until the deadline. */
static void dial(lookup *l)
{
    int fd = sys_unix_connect(l->pool->upstream);
    uint64_t now = uv_now(l->pool->loop);
    if (fd == -EAGAIN && now < l->deadline) {
        uint64_t left = l->deadline - now;
        l->stage = L_DIAL;
        uv_timer_start(&l->timer, on_timer, left < LOOKUP_RETRY_MS ? left : LOOKUP_RETRY_MS, 0);
    } else if (fd < 0) {
        /* -errno is libuv's error code on Unix. */
        fail_later(l, fd == -EAGAIN ? UV_ETIMEDOUT : fd);
    } else {
        int rc;
        dconn *c = conn_open(l->pool, fd, &rc);
        if (c)
            talk(l, c);
        else
            fail_later(l, rc);
    }
}

/* No byte that would end a line or field (CR, LF, NUL, other controls): a
 * target is visible ASCII, a key may hold spaces too. */
static bool head_safe(const char *s, bool spaces)
{
    for (; *s; s++)
        if ((unsigned char)*s < (spaces ? 0x20 : 0x21) || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

#define REQUEST_FORMAT "GET %s HTTP/1.1\r\nHost: docker\r\n%s%s%s%s\r\n"

/* The request head, or NULL when memory runs out. */
static char *format_request(const char *target, const char *api_key, bool ask_close, size_t *len)
{
    const char *c = ask_close ? "Connection: close\r\n" : "";
    const char *k1 = api_key ? "X-Api-Key: " : "", *k2 = api_key ? api_key : "", *k3 = api_key ? "\r\n" : "";
    int n = snprintf(NULL, 0, REQUEST_FORMAT, target, c, k1, k2, k3);
    char *req = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (req)
        *len = (size_t)snprintf(req, (size_t)n + 1, REQUEST_FORMAT, target, c, k1, k2, k3);
    return req;
}

lookup *lookup_start(lookup_pool *pool, const char *target, const char *api_key, uint64_t timeout_ms,
                     size_t max_body, lookup_cb cb, void *arg)
{
    lookup *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->request = format_request(target, api_key, pool->max_idle == 0, &l->request_len);
    if (!l->request) {
        free(l);
        return NULL;
    }
    l->pool = pool;
    pool->refs++;
    l->cb = cb;
    l->arg = arg;
    l->max_body = max_body;
    uv_loop_t *loop = pool->loop;
    uint64_t now = uv_now(loop);
    l->deadline = timeout_ms < UINT64_MAX - now ? now + timeout_ms : UINT64_MAX;
    uv_timer_init(loop, &l->timer);
    l->timer.data = l;
    if (target[0] != '/' || !head_safe(target, false) || (api_key && !head_safe(api_key, true))) {
        fail_later(l, UV_EINVAL);
    } else {
        dconn *c = pool_take(pool);
        l->reused = c != NULL;
        if (c)
            talk(l, c);
        else
            dial(l);
    }
    return l;
}

/* ---- the answer's meaning ---- */

int lookup_json_string(const char *body, size_t len, const char *name, char *out, size_t outlen)
{
    const char *end = NULL;
    cJSON *top = cJSON_ParseWithLengthOpts(body, len, &end, false);
    /* One value, as the daemon writes it (a newline after it at most). */
    while (top && end < body + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    const cJSON *v = cJSON_IsObject(top) && end == body + len ? cJSON_GetObjectItemCaseSensitive(top, name) : NULL;
    int rc = -1;
    if (cJSON_IsString(v) && strlen(v->valuestring) < outlen) {
        memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
        rc = 0;
    }
    cJSON_Delete(top);
    return rc;
}
