/* lookup: one GET to the daemon on the loop. See lookup.h.
 *
 * One timer serves every wait: the deadline while the connection talks, the
 * next attempt while the daemon's listen backlog is full, and the loop turn
 * that reports a failure found inside lookup_start (cb is never called from
 * within it). The pipe handle exists only once connected. Whatever ends the
 * lookup (answer, error, deadline, cancel) goes through finish(), which closes
 * both handles; the memory goes with the last close callback, so a pending
 * write's ECANCELED callback still finds it. */
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

typedef enum {
    L_DIAL,   /* waiting to connect again: the backlog was full */
    L_FAILED, /* failed before talking: `error` is reported at the next turn */
    L_OPEN,   /* connected: the timer is the deadline */
} lookup_stage;

struct lookup {
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_pipe_t pipe;
    uv_write_t write;
    lookup_cb cb; /* NULL once cancelled */
    void *arg;
    char *upstream;
    char *request;
    size_t request_len;
    uint64_t deadline; /* loop time */
    size_t max_body;
    lookup_stage stage;
    int error;
    int handles;   /* initialised and not yet closed: freed at 0 */
    bool finished; /* cb called (or cancelled): the handles are closing */
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

/* ---- the end ---- */

static void on_closed(uv_handle_t *h)
{
    lookup *l = h->data;
    if (--l->handles > 0)
        return;
    free(l->body);
    free(l->request);
    free(l->upstream);
    free(l);
}

/* Ends the lookup once: closes the handles, then tells the caller (unless
 * cancelled). The memory outlives the call: it is freed by on_closed. */
static void finish(lookup *l, int status)
{
    if (l->finished)
        return;
    l->finished = true;
    uv_close((uv_handle_t *)&l->timer, on_closed);
    if (l->handles > 1)
        uv_close((uv_handle_t *)&l->pipe, on_closed);
    bool body = status >= 0 && l->body;
    if (l->cb)
        l->cb(l->arg, status, body ? l->body : "", body ? l->body_len : 0);
}

/* A failure found where cb may not be called yet: reported at the next turn. */
static void fail_later(lookup *l, int error)
{
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
    if (done)
        finish(l, l->res.status); /* anything after the body is not ours */
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
    lookup *l = h->data;
    /* Head bytes accumulate; body bytes are decoded out at once. */
    *buf = uv_buf_init(l->in + l->in_len, (unsigned)(sizeof(l->in) - l->in_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    lookup *l = s->data;
    if (l->finished || n == 0)
        return;
    if (n == UV_EOF) {
        /* The end of the connection ends only a body that has no length. */
        bool ends = l->have_head && l->framing.mode == H1_BODY_CLOSE;
        finish(l, ends ? l->res.status : UV_EPROTO);
    } else if (n < 0) {
        finish(l, (int)n);
    } else if (l->have_head) {
        take_body(l, buf->base, (size_t)n);
    } else {
        l->in_len += (size_t)n;
        take_heads(l);
    }
}

/* ---- the question ---- */

static void on_written(uv_write_t *w, int status)
{
    lookup *l = w->data;
    if (status < 0)
        finish(l, status); /* a no-op after the end (ECANCELED from the close) */
}

static void on_timer(uv_timer_t *t)
{
    lookup *l = t->data;
    if (l->stage == L_DIAL)
        dial(l);
    else
        finish(l, l->stage == L_FAILED ? l->error : UV_ETIMEDOUT);
}

/* Talks on the connected descriptor fd: the request out, the answer in. */
static void talk(lookup *l, int fd)
{
    if (uv_pipe_init(l->loop, &l->pipe, 0) != 0) {
        close(fd);
        fail_later(l, UV_ENOMEM);
        return;
    }
    l->pipe.data = l->write.data = l;
    l->handles++;
    int rc = uv_pipe_open(&l->pipe, fd);
    if (rc < 0) {
        close(fd); /* not the handle's: uv_pipe_open failed */
        fail_later(l, rc);
        return;
    }
    uv_buf_t req = uv_buf_init(l->request, (unsigned)l->request_len);
    if ((rc = uv_write(&l->write, (uv_stream_t *)&l->pipe, &req, 1, on_written)) < 0 ||
        (rc = uv_read_start((uv_stream_t *)&l->pipe, on_alloc, on_read)) < 0) {
        fail_later(l, rc);
        return;
    }
    l->stage = L_OPEN;
    uint64_t now = uv_now(l->loop);
    uv_timer_start(&l->timer, on_timer, l->deadline > now ? l->deadline - now : 0, 0);
}

/* A Unix connect completes or fails at once (sys_unix_connect), so there is
 * no connect request to wait for; only a full backlog (EAGAIN) waits, and is
 * retried until the deadline. */
static void dial(lookup *l)
{
    int fd = sys_unix_connect(l->upstream);
    uint64_t now = uv_now(l->loop);
    if (fd == -EAGAIN && now < l->deadline) {
        uint64_t left = l->deadline - now;
        l->stage = L_DIAL;
        uv_timer_start(&l->timer, on_timer, left < LOOKUP_RETRY_MS ? left : LOOKUP_RETRY_MS, 0);
    } else if (fd < 0) {
        /* -errno is libuv's error code on Unix. */
        fail_later(l, fd == -EAGAIN ? UV_ETIMEDOUT : fd);
    } else {
        talk(l, fd);
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

#define REQUEST_FORMAT "GET %s HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n%s%s%s\r\n"

/* The request head, or NULL when memory runs out. */
static char *format_request(const char *target, const char *api_key, size_t *len)
{
    const char *k1 = api_key ? "X-Api-Key: " : "", *k2 = api_key ? api_key : "", *k3 = api_key ? "\r\n" : "";
    int n = snprintf(NULL, 0, REQUEST_FORMAT, target, k1, k2, k3);
    char *req = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (req)
        *len = (size_t)snprintf(req, (size_t)n + 1, REQUEST_FORMAT, target, k1, k2, k3);
    return req;
}

lookup *lookup_start(uv_loop_t *loop, const char *upstream, const char *target, const char *api_key,
                     uint64_t timeout_ms, size_t max_body, lookup_cb cb, void *arg)
{
    lookup *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->upstream = strdup(upstream);
    l->request = format_request(target, api_key, &l->request_len);
    if (!l->upstream || !l->request) {
        free(l->upstream);
        free(l->request);
        free(l);
        return NULL;
    }
    l->loop = loop;
    l->cb = cb;
    l->arg = arg;
    l->max_body = max_body;
    uint64_t now = uv_now(loop);
    l->deadline = timeout_ms < UINT64_MAX - now ? now + timeout_ms : UINT64_MAX;
    uv_timer_init(loop, &l->timer);
    l->timer.data = l;
    l->handles = 1;
    if (target[0] != '/' || !head_safe(target, false) || (api_key && !head_safe(api_key, true)))
        fail_later(l, UV_EINVAL);
    else
        dial(l);
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
