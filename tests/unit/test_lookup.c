/* lookup (core/lookup.c) on a real libuv loop against a fake daemon: a Unix
 * socket in a temporary directory, served on the same loop, that reads the
 * request head and answers with scripted pieces PIECE_MS apart (so that they
 * arrive as separate reads), then hangs up or holds the connection. Checks:
 * the status and decoded body of each answer, the request bytes exactly as the
 * daemon received them, cb called once and never from within lookup_start,
 * the deadline, connect errors, and cancel at every stage; every handle closed
 * (uv_loop_close) and every byte freed (the ASan build's leak check). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/lookup.h"
#include "core/sys.h"
#include "unit.h"

#define PIECE_MS 20
#define TARGET "/networks/host"
#define REQUEST "GET " TARGET " HTTP/1.1\r\nHost: docker\r\n"
#define CLOSE "Connection: close\r\n"

static uv_loop_t loop;
static char dir[32], sock[64];

/* ---- the fake daemon ---- */

typedef struct {
    uv_pipe_t server, conn;
    uv_timer_t pace;
    const char *const *pieces; /* NULL-terminated */
    bool hold;                 /* after the pieces, keep the connection open */
    int next, accepted;
    bool has_conn, answering;
    char got[8192];
    size_t got_len;
} fake;

static void fake_hang_up(fake *f)
{
    if (!f->has_conn)
        return;
    f->has_conn = false;
    uv_timer_stop(&f->pace);
    uv_close((uv_handle_t *)&f->conn, NULL);
}

static void fake_written(uv_write_t *w, int status) { free(w); }

/* Writes the next piece, or hangs up after the last unless told to hold. */
static void fake_pace(uv_timer_t *t)
{
    fake *f = t->data;
    const char *p = f->pieces[f->next];
    if (!p) {
        if (!f->hold)
            fake_hang_up(f);
        return;
    }
    f->next++;
    uv_write_t *w = malloc(sizeof(*w));
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)strlen(p));
    if (!w || uv_write(w, (uv_stream_t *)&f->conn, &b, 1, fake_written) < 0)
        free(w);
    uv_timer_start(&f->pace, fake_pace, PIECE_MS, 0);
}

static void fake_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    fake *f = h->data;
    *b = uv_buf_init(f->got + f->got_len, (unsigned)(sizeof(f->got) - f->got_len));
}

/* Answers once the request head is in; the client's end (EOF) hangs up. */
static void fake_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    fake *f = s->data;
    if (n < 0) {
        fake_hang_up(f);
        return;
    }
    f->got_len += (size_t)n;
    if (!f->answering && memmem(f->got, f->got_len, "\r\n\r\n", 4)) {
        f->answering = true;
        uv_timer_start(&f->pace, fake_pace, 0, 0);
    }
}

static void fake_accept(uv_stream_t *server, int status)
{
    fake *f = server->data;
    if (status < 0 || f->has_conn)
        return;
    uv_pipe_init(&loop, &f->conn, 0);
    f->conn.data = f;
    f->has_conn = true;
    f->accepted++;
    if (uv_accept(server, (uv_stream_t *)&f->conn) == 0)
        uv_read_start((uv_stream_t *)&f->conn, fake_alloc, fake_read);
    else
        fake_hang_up(f);
}

static void fake_start(fake *f, const char *const *pieces, bool hold)
{
    memset(f, 0, sizeof(*f));
    f->pieces = pieces;
    f->hold = hold;
    uv_pipe_init(&loop, &f->server, 0);
    uv_timer_init(&loop, &f->pace);
    f->server.data = f->pace.data = f;
    int rc = uv_pipe_bind(&f->server, sock);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&f->server, 8, fake_accept);
    CHECK(rc == 0, "fake daemon listens on %s: %s", sock, uv_strerror(rc));
}

static void fake_stop(fake *f)
{
    fake_hang_up(f);
    uv_close((uv_handle_t *)&f->server, NULL);
    uv_close((uv_handle_t *)&f->pace, NULL);
    unlink(sock);
}

/* ---- the caller ---- */

typedef struct {
    int calls, status;
    char body[8192];
    size_t len;
    bool nul;       /* body[len] was NUL */
    uint64_t t0, at; /* loop time at start and at the answer */
    lookup *cancel; /* cancelled from within cb, when set */
    lookup_pool *pool;
    unsigned idle;  /* the pool's idle connections when cb was called */
} answer;

static void on_answer(void *arg, int status, const char *body, size_t len)
{
    answer *a = arg;
    a->calls++;
    a->status = status;
    a->len = len;
    memcpy(a->body, body, len < sizeof(a->body) ? len : sizeof(a->body) - 1);
    a->nul = body[len] == '\0';
    uv_update_time(&loop);
    a->at = uv_now(&loop);
    a->idle = lookup_pool_idle(a->pool);
    if (a->cancel)
        lookup_cancel(a->cancel); /* a no-op from within cb */
}

static lookup *start(lookup_pool *p, const char *target, const char *key, uint64_t ms, size_t max, answer *a)
{
    uv_update_time(&loop);
    a->t0 = uv_now(&loop);
    a->pool = p;
    lookup *l = lookup_start(p, target, key, ms, max, on_answer, a);
    CHECK(l != NULL, "lookup_start");
    CHECK(a->calls == 0, "cb is never called from within lookup_start");
    return l;
}

/* Runs the loop until the lookup has answered and the fake has hung up. */
static void run_until(const answer *a, const fake *f)
{
    while (a->calls == 0 || (f && f->has_conn))
        uv_run(&loop, UV_RUN_ONCE);
}

/* ---- answers: a row per case ---- */

typedef struct {
    const char *name;
    const char *pieces[6];
    bool hold;           /* the daemon keeps the connection open after the pieces */
    const char *api_key; /* sent as X-Api-Key */
    size_t max_body;     /* 0: 4096 */
    uint64_t timeout_ms; /* 0: 2000 */
    int status;
    const char *body; /* the decoded body of an answer (errors have none) */
    bool kept;        /* the connection may serve the next lookup */
} row;

static char big_head[20000]; /* filled in main: a head over lookup's bound */

#define OK_HEAD "HTTP/1.1 200 OK\r\n"
#define NET "{\"Name\":\"host\",\"Id\":\"2f1d9c\"}\n"

static const row rows[] = {
    {"Content-Length", {OK_HEAD "Content-Type: application/json\r\nContent-Length: 30\r\n\r\n" NET}, .status = 200,
     .body = NET, .kept = true},
    {"Content-Length, with the key", {OK_HEAD "Content-Length: 30\r\n\r\n" NET}, .api_key = "s3cret key",
     .status = 200, .body = NET, .kept = true},
    {"chunked, split inside heads, sizes and data",
     {"HTTP/1.1 2", "00 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r", "\nhel",
      "lo\r\n7;ext=1\r\n, w\r\nor\r\n1\r\nd\r\n0\r\nX-Trailer: 1\r\n\r", "\n"},
     .status = 200, .body = "hello, w\r\nord", .kept = true},
    {"chunked, in one piece", {OK_HEAD "Transfer-Encoding: chunked\r\n\r\n3\r\n\n\r\n\r\n0\r\n\r\n"}, .status = 200,
     .body = "\n\r\n", .kept = true},
    {"100 Continue first", {"HTTP/1.1 100 Continue\r\n\r\n", OK_HEAD "Content-Length: 2\r\n\r\nok"}, .status = 200,
     .body = "ok", .kept = true},
    {"102 and 103 with the answer in one piece",
     {"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" OK_HEAD "Content-Length: 2\r\n\r\nok"},
     .status = 200, .body = "ok", .kept = true},
    {"404 with JSON",
     {"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n"
      "{\"message\":\"network host not found\"}\n"},
     .status = 404, .body = "{\"message\":\"network host not found\"}\n", .kept = true},
    {"204: no body", {"HTTP/1.1 204 No Content\r\n\r\n"}, .hold = true, .status = 204, .body = "", .kept = true},
    {"Connection: close from the daemon", {OK_HEAD "Connection: close\r\nContent-Length: 2\r\n\r\nok"}, .hold = true,
     .status = 200, .body = "ok"},
    {"HTTP/1.0 with a length", {"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"}, .hold = true, .status = 200,
     .body = "ok"},
    {"to the end of the connection", {"HTTP/1.0 200 OK\r\n\r\nuntil ", "the end"}, .status = 200,
     .body = "until the end"},
    {"bytes after the body are not ours", {OK_HEAD "Content-Length: 2\r\n\r\nokHTTP/1.1 500 No\r\n\r\n"},
     .status = 200, .body = "ok"},
    {"exactly max_body", {OK_HEAD "Content-Length: 10\r\n\r\n0123456789"}, .max_body = 10, .status = 200,
     .body = "0123456789", .kept = true},
    {"closed without an answer", {NULL}, .status = UV_EPROTO},
    {"closed inside the head", {"HTTP/1.1 200 OK\r\nContent-Le"}, .status = UV_EPROTO},
    {"closed inside a Content-Length body", {OK_HEAD "Content-Length: 10\r\n\r\n01234"}, .status = UV_EPROTO},
    {"closed inside a chunked body", {OK_HEAD "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"},
     .status = UV_EPROTO},
    {"malformed status line", {"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n"}, .status = UV_EPROTO},
    {"not HTTP", {"SSH-2.0-OpenSSH_9.2\r\n\r\n"}, .status = UV_EPROTO},
    {"bare LF in the head", {"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"}, .status = UV_EPROTO},
    {"Content-Length and chunked", {OK_HEAD "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
     .status = UV_EPROTO},
    {"bad chunk framing", {OK_HEAD "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n"},
     .status = UV_EPROTO},
    {"101: an upgrade nobody asked for", {"HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r\nraw"}, .hold = true,
     .status = UV_EPROTO},
    {"head over the bound", {big_head}, .hold = true, .status = UV_EPROTO},
    {"Content-Length over max_body", {OK_HEAD "Content-Length: 11\r\n\r\n"}, .hold = true, .max_body = 10,
     .status = UV_EPROTO},
    {"chunked over max_body", {OK_HEAD "Transfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n", "5\r\n6789a\r\n"},
     .hold = true, .max_body = 10, .status = UV_EPROTO},
    {"to the end, over max_body", {"HTTP/1.1 200 OK\r\n\r\n0123456789", "a"}, .hold = true, .max_body = 10,
     .status = UV_EPROTO},
    {"never answers", {NULL}, .hold = true, .timeout_ms = 100, .status = UV_ETIMEDOUT},
    {"stops inside the body", {OK_HEAD "Content-Length: 10\r\n\r\n01234"}, .hold = true, .timeout_ms = 100,
     .status = UV_ETIMEDOUT},
};

/* Each row twice: with a pool that keeps nothing (the request asks for
 * Connection: close) and with one that keeps one connection (it does not,
 * and keeps the connection only after a clean answer: r->kept). */
static void test_row(const row *r, unsigned max_idle)
{
    fake f;
    fake_start(&f, r->pieces, r->hold);
    lookup_pool *p = lookup_pool_new(&loop, sock, max_idle, 10000);
    CHECK(p != NULL, "lookup_pool_new");
    answer a = {0};
    uint64_t ms = r->timeout_ms ? r->timeout_ms : 2000;
    start(p, TARGET, r->api_key, ms, r->max_body ? r->max_body : 4096, &a);
    while (a.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    lookup_pool_close(p);
    while (f.has_conn)
        uv_run(&loop, UV_RUN_ONCE);
    CHECK(a.calls == 1 && a.status == r->status, "%s (%u): status %d (%s), want %d", r->name, max_idle, a.status,
          a.status < 0 ? uv_err_name(a.status) : "HTTP", r->status);
    const char *body = r->status < 0 ? "" : r->body; /* an error has no body, even a partial one */
    CHECK(a.len == strlen(body) && memcmp(a.body, body, a.len) == 0 && a.nul, "%s: body [%.*s]", r->name, (int)a.len,
          a.body);
    CHECK(a.idle == (max_idle && r->kept), "%s (%u): %u idle after the answer", r->name, max_idle, a.idle);
    char want[256];
    snprintf(want, sizeof(want), REQUEST "%s%s%s%s\r\n", max_idle ? "" : CLOSE, r->api_key ? "X-Api-Key: " : "",
             r->api_key ? r->api_key : "", r->api_key ? "\r\n" : "");
    CHECK(f.accepted == 1 && f.got_len == strlen(want) && memcmp(f.got, want, f.got_len) == 0,
          "%s: the daemon got [%.*s]", r->name, (int)f.got_len, f.got);
    if (r->status == UV_ETIMEDOUT)
        CHECK(a.at - a.t0 >= ms && a.at - a.t0 < ms + 500, "%s: at the deadline: %llu ms", r->name,
              (unsigned long long)(a.at - a.t0));
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
}

/* ---- no daemon to talk to ---- */

/* A Unix socket bound to path (sock or shorter), not listening: -1 on error. */
static int bound(const char *path, struct sockaddr_un *sa)
{
    *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
    memcpy(sa->sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && bind(fd, (struct sockaddr *)sa, sizeof(*sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Failures found at once are still reported on a later turn. */
static void test_no_daemon(void)
{
    char stale[64], longpath[200];
    struct sockaddr_un sa;
    snprintf(stale, sizeof(stale), "%s/stale.sock", dir);
    int fd = bound(stale, &sa); /* a socket file with nobody listening */
    CHECK(fd >= 0, "stale socket %s", stale);
    close(fd);
    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    const struct {
        const char *name, *path, *target, *key;
        int status;
    } cases[] = {
        {"no socket file", sock, TARGET, NULL, UV_ENOENT},
        {"nobody listening", stale, TARGET, NULL, UV_ECONNREFUSED},
        {"path too long for a Unix socket", longpath, TARGET, NULL, UV_ENAMETOOLONG},
        {"a target with a space", sock, "/networks/a b", NULL, UV_EINVAL},
        {"a target with CRLF", sock, "/x HTTP/1.1\r\nX-Evil: 1\r\n", NULL, UV_EINVAL},
        {"an empty target", sock, "", NULL, UV_EINVAL},
        {"a target not in origin form", sock, "networks/host", NULL, UV_EINVAL},
        {"a key with LF", sock, TARGET, "k\nX-Evil: 1", UV_EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        answer a = {0};
        lookup_pool *p = lookup_pool_new(&loop, cases[i].path, 8, 10000);
        start(p, cases[i].target, cases[i].key, 10000, 4096, &a);
        lookup_pool_close(p); /* the lookup in flight stays valid */
        uv_run(&loop, UV_RUN_DEFAULT);
        CHECK(a.calls == 1 && a.status == cases[i].status, "%s: %d calls, status %s", cases[i].name, a.calls,
              uv_err_name(a.status));
        CHECK(a.at - a.t0 < 2000, "%s: at once, not at the deadline: %llu ms", cases[i].name, (unsigned long long)(a.at - a.t0));
    }
    unlink(stale);
}

/* A listener whose backlog (0: one connection) is taken and that never
 * accepts: the lookup keeps trying until the deadline. */
static int full_backlog(int *filler)
{
    struct sockaddr_un sa;
    int fd = bound(sock, &sa);
    *filler = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    bool ok = fd >= 0 && *filler >= 0 && listen(fd, 0) == 0 && connect(*filler, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ok = ok && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno == EAGAIN;
    close(probe);
    CHECK(ok, "a listener with a full backlog");
    return fd;
}

static void test_full_backlog(void)
{
    int filler, fd = full_backlog(&filler);
    answer a = {0};
    lookup_pool *p = lookup_pool_new(&loop, sock, 8, 10000);
    start(p, TARGET, NULL, 100, 4096, &a);
    uv_run(&loop, UV_RUN_DEFAULT);
    lookup_pool_close(p);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(a.calls == 1 && a.status == UV_ETIMEDOUT, "full backlog: %d calls, status %s", a.calls,
          uv_err_name(a.status));
    CHECK(a.at - a.t0 >= 100 && a.at - a.t0 < 600, "full backlog: at the deadline: %llu ms",
          (unsigned long long)(a.at - a.t0));
    close(filler);
    close(fd);
    unlink(sock);
}

/* ---- cancel ---- */

static void cancel_now(uv_timer_t *t) { lookup_cancel(t->data); }

/* Cancels l after ms of loop time, runs the loop until the fake daemon (if
 * any) has seen the connection end, and checks cb was never called
 * (uv_loop_close and ASan check the rest at the end). */
static void cancel_after(lookup *l, uint64_t ms, const answer *a, const fake *f, const char *name)
{
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    t.data = l;
    uv_timer_start(&t, cancel_now, ms, 0);
    while (uv_is_active((uv_handle_t *)&t) || (f && (!f->accepted || f->has_conn)))
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(a->calls == 0, "%s: cancelled, cb not called (%d)", name, a->calls);
}

static void test_cancel(void)
{
    static const char *const answer_later[] = {NULL};
    static const char *const half[] = {OK_HEAD "Content-Length: 100\r\n\r\nthe first part", NULL};
    fake f;
    answer a = {0};
    lookup_pool *p = lookup_pool_new(&loop, sock, 8, 10000);

    /* At once: connected, the request written, nothing read yet. */
    fake_start(&f, answer_later, true);
    lookup_cancel(start(p, TARGET, NULL, 1000, 4096, &a));
    while (!f.accepted || f.has_conn)
        uv_run(&loop, UV_RUN_ONCE);
    CHECK(a.calls == 0, "cancelled at once: cb not called");
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);

    /* Mid-response: the head and part of the body read. */
    fake_start(&f, half, true);
    cancel_after(start(p, TARGET, NULL, 2000, 4096, &a), 60, &a, &f, "mid-response");
    CHECK(f.next == 1, "mid-response: the first piece was sent before the cancel (%d)", f.next);
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);

    /* Before it could connect: waiting on a full backlog. */
    int filler, fd = full_backlog(&filler);
    cancel_after(start(p, TARGET, NULL, 1000, 4096, &a), 30, &a, NULL, "waiting on a full backlog");
    uv_run(&loop, UV_RUN_DEFAULT);
    close(filler);
    close(fd);
    unlink(sock);

    /* Failed, before the failure is reported. */
    lookup_cancel(start(p, TARGET, NULL, 1000, 4096, &a));
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(a.calls == 0, "failed (no socket), cancelled before the report: cb not called");
    lookup_cancel(NULL);
    CHECK(lookup_pool_idle(p) == 0, "cancelled: no connection kept");
    lookup_pool_close(p);
    lookup_pool_close(NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
}

/* Cancel from within cb is a no-op: cb has been called, the memory is the loop's. */
static void test_cancel_in_cb(void)
{
    static const char *const ok[] = {OK_HEAD "Content-Length: 2\r\n\r\nok", NULL};
    fake f;
    fake_start(&f, ok, false);
    answer a = {0};
    lookup_pool *p = lookup_pool_new(&loop, sock, 8, 10000);
    a.cancel = start(p, TARGET, NULL, 1000, 4096, &a);
    run_until(&a, &f);
    lookup_pool_close(p);
    CHECK(a.calls == 1 && a.status == 200, "cancel within cb: %d calls, status %d", a.calls, a.status);
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
}

/* ---- the pool: a keep-alive daemon ---- */

/* Serves any number of connections, each any number of requests: every
 * request head is answered with `reply` after delay_ms, then the connection
 * stays open unless close_after. Requests numbered drop_from to drop_to
 * (counted over all connections, from 1) are not answered: the connection
 * closes as soon as one is read, as a daemon closing an idle connection just
 * as the request arrives. */
typedef struct kd kd;
typedef struct {
    uv_pipe_t pipe;
    uv_timer_t delay;
    kd *d;
    char got[2048];
    size_t got_len;
    int pending; /* request heads read, not yet answered */
    bool closing;
} kd_conn;

struct kd {
    uv_pipe_t server;
    const char *reply;
    uint64_t delay_ms;
    bool close_after;
    int drop_from, drop_to;
    int accepted, requests, open;
};

static void kd_freed(uv_handle_t *h) { free(h->data); }

static void kd_pipe_closed(uv_handle_t *h)
{
    kd_conn *k = h->data;
    k->d->open--;
    uv_close((uv_handle_t *)&k->delay, kd_freed);
}

static void kd_close(kd_conn *k)
{
    if (k->closing)
        return;
    k->closing = true;
    uv_close((uv_handle_t *)&k->pipe, kd_pipe_closed);
}

static void kd_answer(uv_timer_t *t)
{
    kd_conn *k = t->data;
    while (k->pending > 0 && !k->closing) {
        k->pending--;
        uv_write_t *w = malloc(sizeof(*w));
        uv_buf_t b = uv_buf_init((char *)k->d->reply, (unsigned)strlen(k->d->reply));
        if (!w || uv_write(w, (uv_stream_t *)&k->pipe, &b, 1, fake_written) < 0)
            free(w);
        if (k->d->close_after)
            kd_close(k);
    }
}

static void kd_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    kd_conn *k = h->data;
    *b = uv_buf_init(k->got + k->got_len, (unsigned)(sizeof(k->got) - k->got_len));
}

static void kd_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    kd_conn *k = s->data;
    if (n < 0) {
        kd_close(k);
        return;
    }
    k->got_len += (size_t)n;
    char *end;
    while (!k->closing && (end = memmem(k->got, k->got_len, "\r\n\r\n", 4))) {
        size_t head = (size_t)(end + 4 - k->got);
        memmove(k->got, k->got + head, k->got_len - head);
        k->got_len -= head;
        int nreq = ++k->d->requests;
        if (nreq >= k->d->drop_from && nreq <= k->d->drop_to) {
            kd_close(k);
            return;
        }
        k->pending++;
        uv_timer_start(&k->delay, kd_answer, k->d->delay_ms, 0);
    }
}

static void kd_accept(uv_stream_t *server, int status)
{
    kd *d = server->data;
    kd_conn *k = calloc(1, sizeof(*k));
    if (status < 0 || !k) {
        free(k);
        return;
    }
    k->d = d;
    uv_pipe_init(&loop, &k->pipe, 0);
    uv_timer_init(&loop, &k->delay);
    k->pipe.data = k->delay.data = k;
    d->accepted++;
    d->open++;
    if (uv_accept(server, (uv_stream_t *)&k->pipe) == 0)
        uv_read_start((uv_stream_t *)&k->pipe, kd_alloc, kd_read);
    else
        kd_close(k);
}

static void kd_start(kd *d, const char *reply)
{
    memset(d, 0, sizeof(*d));
    d->reply = reply;
    uv_pipe_init(&loop, &d->server, 0);
    d->server.data = d;
    int rc = uv_pipe_bind(&d->server, sock);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&d->server, 16, kd_accept);
    CHECK(rc == 0, "keep-alive daemon listens on %s: %s", sock, uv_strerror(rc));
}

/* Stops listening; the connections still open end when the lookups' do. */
static void kd_stop(kd *d)
{
    uv_close((uv_handle_t *)&d->server, NULL);
    unlink(sock);
    while (d->open > 0)
        uv_run(&loop, UV_RUN_ONCE);
    uv_run(&loop, UV_RUN_NOWAIT); /* the server's close completes: d may be reused */
}

#define KEEP_ALIVE OK_HEAD "Content-Length: 30\r\n\r\n" NET

/* Runs n lookups one after the other on p; each must answer 200 with NET. */
static void sequential(lookup_pool *p, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        answer a = {0};
        start(p, TARGET, NULL, 2000, 4096, &a);
        while (a.calls == 0)
            uv_run(&loop, UV_RUN_ONCE);
        CHECK(a.status == 200 && a.len == strlen(NET) && memcmp(a.body, NET, a.len) == 0, "%s: lookup %d: status %d",
              name, i, a.status);
    }
}

static void tick(uv_timer_t *t) {}

/* Runs the loop until cond holds or ms of loop time passed. */
#define RUN_UNTIL(cond, ms)                                                                                            \
    do {                                                                                                               \
        uv_update_time(&loop);                                                                                         \
        uint64_t until_ = uv_now(&loop) + (ms);                                                                        \
        uv_timer_t tick_;                                                                                              \
        uv_timer_init(&loop, &tick_);                                                                                  \
        while (!(cond) && uv_now(&loop) < until_) {                                                                    \
            uv_timer_start(&tick_, tick, 5, 0);                                                                        \
            uv_run(&loop, UV_RUN_ONCE);                                                                                \
        }                                                                                                              \
        uv_close((uv_handle_t *)&tick_, NULL);                                                                         \
        uv_run(&loop, UV_RUN_NOWAIT); /* the close completes while tick_ is in scope */                                \
    } while (0)

static void test_pool(void)
{
    kd d;
    lookup_pool *p;

    /* One connection serves lookup after lookup. */
    kd_start(&d, KEEP_ALIVE);
    p = lookup_pool_new(&loop, sock, 8, 10000);
    sequential(p, 5, "sequential");
    CHECK(d.accepted == 1 && d.requests == 5 && lookup_pool_idle(p) == 1, "sequential: %d connections, %d requests",
          d.accepted, d.requests);
    /* Closing the pool closes its idle connections and frees it. */
    lookup_pool_close(p);
    kd_stop(&d);

    /* The daemon says Connection: close: not kept, though it holds on. */
    kd_start(&d, OK_HEAD "Connection: close\r\nContent-Length: 30\r\n\r\n" NET);
    p = lookup_pool_new(&loop, sock, 8, 10000);
    sequential(p, 3, "Connection: close");
    CHECK(d.accepted == 3 && lookup_pool_idle(p) == 0, "Connection: close: %d connections", d.accepted);
    lookup_pool_close(p);
    kd_stop(&d);

    /* The daemon closes an idle connection: it leaves the pool, and the next
     * lookup dials anew. */
    kd_start(&d, KEEP_ALIVE);
    d.close_after = true;
    p = lookup_pool_new(&loop, sock, 8, 10000);
    sequential(p, 1, "closed when idle");
    RUN_UNTIL(lookup_pool_idle(p) == 0, 1000);
    CHECK(lookup_pool_idle(p) == 0, "closed when idle: out of the pool");
    sequential(p, 1, "closed when idle");
    CHECK(d.accepted == 2 && d.requests == 2, "closed when idle: %d connections, %d requests", d.accepted,
          d.requests);
    lookup_pool_close(p);
    kd_stop(&d);

    /* The daemon closes a kept connection as the request comes: the GET goes
     * once more, on a new connection. */
    kd_start(&d, KEEP_ALIVE);
    d.drop_from = d.drop_to = 2;
    p = lookup_pool_new(&loop, sock, 8, 10000);
    sequential(p, 2, "closed as the request comes");
    CHECK(d.accepted == 2 && d.requests == 3, "closed as the request comes: %d connections, %d requests", d.accepted,
          d.requests);
    /* Only once: a new connection that closes too is an error. */
    d.drop_from = 4; /* the kept connection's, then the new one's */
    d.drop_to = 5;
    answer a = {0};
    start(p, TARGET, NULL, 2000, 4096, &a);
    while (a.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    CHECK(a.status == UV_EPROTO && d.accepted == 3 && d.requests == 5, "retried once: status %s, %d connections",
          uv_err_name(a.status), d.accepted);
    lookup_pool_close(p);
    kd_stop(&d);

    /* Idle too long: closed by the pool's timer. */
    kd_start(&d, KEEP_ALIVE);
    p = lookup_pool_new(&loop, sock, 8, 50);
    sequential(p, 1, "idle too long");
    RUN_UNTIL(d.open == 0, 1000);
    CHECK(d.open == 0 && lookup_pool_idle(p) == 0, "idle too long: closed (%d open)", d.open);
    lookup_pool_close(p);
    kd_stop(&d);

    /* Cancelled mid-answer: that connection is closed, not kept. */
    kd_start(&d, KEEP_ALIVE);
    p = lookup_pool_new(&loop, sock, 8, 10000);
    sequential(p, 1, "cancel mid-answer");
    d.reply = OK_HEAD "Content-Length: 100\r\n\r\nthe first part";
    memset(&a, 0, sizeof(a));
    cancel_after(start(p, TARGET, NULL, 2000, 4096, &a), 60, &a, NULL, "cancel mid-answer");
    RUN_UNTIL(d.open == 0, 1000);
    CHECK(d.open == 0 && lookup_pool_idle(p) == 0, "cancel mid-answer: closed (%d open)", d.open);
    d.reply = KEEP_ALIVE;
    sequential(p, 1, "cancel mid-answer");
    CHECK(d.accepted == 2, "cancel mid-answer: the next lookup dials (%d connections)", d.accepted);
    lookup_pool_close(p);
    kd_stop(&d);

    /* Concurrent lookups each dial; the pool keeps max_idle of them. */
    kd_start(&d, KEEP_ALIVE);
    d.delay_ms = PIECE_MS;
    p = lookup_pool_new(&loop, sock, 2, 10000);
    answer many[5] = {0};
    for (int i = 0; i < 5; i++)
        start(p, TARGET, NULL, 2000, 4096, &many[i]);
    for (int i = 0; i < 5; i++) {
        while (many[i].calls == 0)
            uv_run(&loop, UV_RUN_ONCE);
        CHECK(many[i].status == 200, "concurrent: lookup %d: status %d", i, many[i].status);
    }
    RUN_UNTIL(d.open == 2, 1000);
    CHECK(d.accepted == 5 && d.open == 2 && lookup_pool_idle(p) == 2, "concurrent: %d connections, %d open, %u idle",
          d.accepted, d.open, lookup_pool_idle(p));
    sequential(p, 3, "concurrent, then one by one");
    CHECK(d.accepted == 5, "concurrent, then one by one: kept connections serve (%d)", d.accepted);
    /* Closed with lookups in flight: they end as usual, their connections
     * are not kept. */
    for (int i = 0; i < 3; i++) {
        memset(&many[i], 0, sizeof(many[i]));
        start(p, TARGET, NULL, 2000, 4096, &many[i]);
    }
    lookup_pool_close(p);
    for (int i = 0; i < 3; i++) {
        while (many[i].calls == 0)
            uv_run(&loop, UV_RUN_ONCE);
        CHECK(many[i].status == 200 && many[i].idle == 0, "closed in flight: lookup %d: status %d", i,
              many[i].status);
    }
    kd_stop(&d);
    uv_run(&loop, UV_RUN_DEFAULT);
}

/* ---- reading the answer ---- */

/* ---- the proxy's connections (lookup_pool_take_pipe and the rest) ---- */

typedef struct {
    char got[4096];
    size_t len;
    int eof, closed;
} lender;

static void lent_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    lender *t = h->data;
    *b = uv_buf_init(t->got + t->len, (unsigned)(sizeof(t->got) - t->len));
}

static void lent_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    lender *t = s->data;
    if (n > 0)
        t->len += (size_t)n;
    else if (n < 0)
        t->eof++;
}

static void lent_closed(uv_handle_t *h) { ((lender *)h->data)->closed++; }

/* One request on a lent pipe, read by the lender's own callbacks. */
static void lent_ask(uv_pipe_t *pipe, lender *t, const char *name)
{
    static char req[] = "GET " TARGET " HTTP/1.1\r\nHost: docker\r\n\r\n";
    uv_write_t w;
    uv_buf_t b = uv_buf_init(req, sizeof(req) - 1);
    t->len = 0;
    CHECK(uv_write(&w, (uv_stream_t *)pipe, &b, 1, NULL) == 0, "%s: written", name);
    RUN_UNTIL(t->len >= strlen(KEEP_ALIVE), 1000);
    CHECK(t->len == strlen(KEEP_ALIVE) && memcmp(t->got, KEEP_ALIVE, t->len) == 0,
          "%s: the answer reached the lender's callbacks (%zu bytes)", name, t->len);
}

static void test_lent(void)
{
    kd d;
    lender t = {0};
    int rc = 0;

    /* A lookup's idle connection is lent (reading goes to the lender's
     * callbacks), given back, and serves the next lookup. */
    kd_start(&d, KEEP_ALIVE);
    lookup_pool *p = lookup_pool_new(&loop, sock, 2, 10000);
    sequential(p, 1, "lent");
    uv_pipe_t *pipe = lookup_pool_take_pipe(p, &t, lent_alloc, lent_read);
    CHECK(pipe && pipe->data == &t && lookup_pool_idle(p) == 0, "lent: taken from the pool");
    lent_ask(pipe, &t, "lent");
    lookup_pool_put_pipe(pipe);
    CHECK(lookup_pool_idle(p) == 1, "lent: back in the pool");
    sequential(p, 1, "lent, given back");
    CHECK(d.accepted == 1 && d.requests == 3, "lent: one connection served all (%d connections, %d requests)",
          d.accepted, d.requests);

    /* A new connection opened for the lender; given back while the pool is
     * full (max 2), the third is closed. One whose lender had stopped reading
     * is given back too (the pool starts reading it again). */
    uv_pipe_t *opened[3];
    lender ts[3];
    memset(ts, 0, sizeof(ts));
    for (int i = 0; i < 3; i++) {
        int fd = sys_unix_connect(sock);
        opened[i] = fd >= 0 ? lookup_pool_open_pipe(p, fd, &ts[i], lent_alloc, lent_read, &rc) : NULL;
        CHECK(opened[i] != NULL, "opened %d: %s", i, opened[i] ? "ok" : uv_err_name(rc));
    }
    uv_pipe_t *held = lookup_pool_take_pipe(p, &t, lent_alloc, lent_read); /* empties the pool */
    RUN_UNTIL(d.open == 4, 1000);
    CHECK(held && d.open == 4, "1 lent + 3 opened: %d open", d.open);
    lent_ask(opened[0], &ts[0], "opened");
    uv_read_stop((uv_stream_t *)opened[1]);
    for (int i = 0; i < 3; i++)
        lookup_pool_put_pipe(opened[i]);
    RUN_UNTIL(d.open == 3, 1000);
    CHECK(lookup_pool_idle(p) == 2 && d.open == 3, "full pool: %u idle, %d open (one lent)", lookup_pool_idle(p),
          d.open);
    CHECK(ts[0].eof == 0 && ts[2].eof == 0, "given back: the lender's callbacks are no longer called");

    /* Closed by its lender: the callback comes with the lender's data. */
    int fd = sys_unix_connect(sock);
    lender tc = {0};
    pipe = fd >= 0 ? lookup_pool_open_pipe(p, fd, &tc, lent_alloc, lent_read, &rc) : NULL;
    CHECK(pipe != NULL, "opened to close");
    if (pipe)
        lookup_pool_close_pipe(pipe, lent_closed);
    RUN_UNTIL(tc.closed == 1, 1000);
    CHECK(tc.closed == 1, "closed by the lender: its callback ran");

    /* Given back after the pool closed: closed, not kept. */
    fd = sys_unix_connect(sock);
    lender tl = {0};
    pipe = fd >= 0 ? lookup_pool_open_pipe(p, fd, &tl, lent_alloc, lent_read, &rc) : NULL;
    lookup_pool_close(p);
    if (pipe)
        lookup_pool_put_pipe(pipe);
    if (held)
        lookup_pool_put_pipe(held);
    kd_stop(&d);
    CHECK(d.open == 0, "after the pool closed: every connection closed (%d open)", d.open);
}

static void test_json_string(void)
{
    const struct {
        const char *body, *name;
        size_t outlen;
        int rc;
        const char *out;
    } cases[] = {
        {"{\"Name\":\"host\",\"Id\":\"2f1d9c\",\"Driver\":\"host\"}\n", "Id", 65, 0, "2f1d9c"},
        {"  {\"Id\":\"\"}\r\n", "Id", 65, 0, ""},
        {"{\"Id\":\"2f1d9c\"}", "Id", 7, 0, "2f1d9c"},
        {"{\"Id\":\"2f1d9c\"}", "Id", 6, -1, NULL},
        {"{\"Id\":\"a\",\"Id\":\"b\"}", "Id", 65, 0, "a"},
        {"{\"id\":\"2f1d9c\"}", "Id", 65, -1, NULL},
        {"{\"Name\":\"host\"}", "Id", 65, -1, NULL},
        {"{\"Id\":7}", "Id", 65, -1, NULL},
        {"{\"Id\":null}", "Id", 65, -1, NULL},
        {"{\"Network\":{\"Id\":\"x\"}}", "Id", 65, -1, NULL},
        {"[{\"Id\":\"x\"}]", "Id", 65, -1, NULL},
        {"\"Id\"", "Id", 65, -1, NULL},
        {"{\"Id\":\"x\"} {}", "Id", 65, -1, NULL},
        {"{\"Id\":\"x\"", "Id", 65, -1, NULL},
        {"", "Id", 65, -1, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[65] = "unchanged";
        int rc = lookup_json_string(cases[i].body, strlen(cases[i].body), cases[i].name, out, cases[i].outlen);
        CHECK(rc == cases[i].rc && (!cases[i].out || strcmp(out, cases[i].out) == 0), "json %s: %d [%s]",
              cases[i].body, rc, out);
    }
    /* Only len bytes are read: what follows is not part of the body. */
    const char *b = "{\"Id\":\"abc\"}{\"Id\":\"z\"}";
    char out[8];
    CHECK(lookup_json_string(b, 12, "Id", out, sizeof(out)) == 0 && strcmp(out, "abc") == 0, "json: len bounds it");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the fake writes to lookups that went away */
    alarm(60);
    snprintf(dir, sizeof(dir), "/tmp/test-lookup-XXXXXX");
    if (!mkdtemp(dir)) {
        printf("test_lookup: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    snprintf(sock, sizeof(sock), "%s/docker.sock", dir);
    snprintf(big_head, sizeof(big_head), OK_HEAD "X-Pad: ");
    size_t n = strlen(big_head);
    memset(big_head + n, 'a', sizeof(big_head) - n - 1);
    uv_loop_init(&loop);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        test_row(&rows[i], 0);
        test_row(&rows[i], 1);
    }
    test_no_daemon();
    test_full_backlog();
    test_cancel();
    test_cancel_in_cb();
    test_pool();
    test_lent();
    test_json_string();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0, "every handle closed");
    rmdir(dir);
    return unit_summary("test_lookup");
}
