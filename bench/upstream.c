/* A fast fake Docker daemon for benchmarks: one thread, epoll, a Unix socket.
 *
 *   upstream SOCKET_PATH [-s DEFAULT_BULK_BYTES]
 *
 * Answers, keep-alive (HTTP/1.1; "Connection: close" or HTTP/1.0 closes after
 * the response), requests may be pipelined:
 *   .../_ping                      200 "OK" (Content-Length), headers like dockerd's
 *   .../events                     200, an endless chunked stream: one small JSON
 *                                  chunk per second
 *   path ending in /export, or a
 *   query holding size=N           200 with a body of N bytes (Content-Length);
 *                                  default N is 200 MiB (or -s)
 *   anything else                  200 with a small JSON body
 * HEAD gets the same heads without a body. Request bodies (Content-Length) are
 * read and dropped. Prints "READY" on stdout once it listens.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define INBUF 16384
#define BULK_CHUNK (1 << 20)

enum out_kind { OUT_NONE, OUT_BUF, OUT_BULK, OUT_STREAM };

typedef struct conn {
    int fd;
    char in[INBUF];
    size_t inlen;
    int64_t drop; /* request body bytes still to drop */
    /* pending output */
    char *out;       /* heap copy of a head (and small body) */
    size_t outpos, outlen;
    int64_t bulk_left; /* body bytes still to send after out */
    bool stream;       /* an events stream: never ends */
    bool close_after;
    bool want_out;     /* EPOLLOUT registered */
    bool dead;         /* closed; freed at the end of the event batch */
    struct conn *dnext;
    struct conn *snext, *sprev; /* list of streams */
} conn;

static int ep;
static char *bulkbuf;
static int64_t default_bulk = 200LL << 20;
static conn *streams;
static conn *deadlist;
static unsigned long long tick;

static _Noreturn void die(const char *m)
{
    perror(m);
    exit(1);
}

static void set_events(conn *c, bool out)
{
    if (c->want_out == out || c->dead)
        return;
    /* while a response is pending, only write: pipelined requests wait in the socket */
    struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

static void conn_free(conn *c)
{
    if (c->stream) {
        if (c->sprev)
            c->sprev->snext = c->snext;
        else
            streams = c->snext;
        if (c->snext)
            c->snext->sprev = c->sprev;
    }
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->dead = true;
    c->stream = false;
    c->dnext = deadlist;
    deadlist = c;
}

static void reap(void)
{
    while (deadlist) {
        conn *c = deadlist;
        deadlist = c->dnext;
        free(c->out);
        free(c);
    }
}

static void queue(conn *c, const char *p, size_t n)
{
    if (c->outpos == c->outlen) {
        c->outpos = c->outlen = 0;
    }
    c->out = realloc(c->out, c->outlen + n);
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
}

/* Writes what is pending: queued bytes first, then the synthetic bulk body.
 * Returns -1 when the connection is gone (freed). */
static int flush(conn *c)
{
    for (;;) {
        bool queued = c->outpos < c->outlen;
        if (!queued && c->bulk_left <= 0)
            break;
        size_t n = queued ? c->outlen - c->outpos
                          : (c->bulk_left > BULK_CHUNK ? BULK_CHUNK : (size_t)c->bulk_left);
        ssize_t w = send(c->fd, queued ? c->out + c->outpos : bulkbuf, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN) {
                set_events(c, true);
                return 0;
            }
            if (errno == EINTR)
                continue;
            conn_free(c);
            return -1;
        }
        if (queued)
            c->outpos += (size_t)w;
        else
            c->bulk_left -= w;
    }
    set_events(c, false);
    if (c->close_after && !c->stream) {
        conn_free(c);
        return -1;
    }
    return 0;
}

static bool busy(const conn *c) { return c->outpos < c->outlen || c->bulk_left > 0 || c->stream; }

static const char *find_header(const char *head, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = memchr(head, '\n', len);
    const char *end = head + len;
    while (p && p + 1 < end) {
        p++;
        if ((size_t)(end - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            const char *e = memchr(v, '\r', (size_t)(end - v));
            if (!e)
                e = end;
            *vlen = (size_t)(e - v);
            return v;
        }
        p = memchr(p, '\n', (size_t)(end - p));
    }
    return NULL;
}

#define PING_HEAD                                                                                  \
    "HTTP/1.1 200 OK\r\nApi-Version: 1.45\r\nCache-Control: no-cache, no-store, must-revalidate\r\n" \
    "Content-Type: text/plain; charset=utf-8\r\nDocker-Experimental: false\r\nOstype: linux\r\n"     \
    "Pragma: no-cache\r\nServer: Docker/26.1.5 (linux)\r\nContent-Length: 2\r\n"

/* Handles one complete request head of length hl at c->in. */
static void answer(conn *c, size_t hl)
{
    const char *h = c->in;
    const char *sp1 = memchr(h, ' ', hl);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', hl - (size_t)(sp1 + 1 - h)) : NULL;
    if (!sp1 || !sp2) {
        static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        queue(c, bad, sizeof(bad) - 1);
        c->close_after = true;
        return;
    }
    bool head = (sp1 - h) == 4 && memcmp(h, "HEAD", 4) == 0;
    const char *path = sp1 + 1;
    size_t plen = (size_t)(sp2 - path);
    const char *q = memchr(path, '?', plen);
    size_t pathonly = q ? (size_t)(q - path) : plen;
    if (memcmp(sp2 + 1, "HTTP/1.0", 8) == 0)
        c->close_after = true;
    size_t vl;
    const char *v = find_header(h, hl, "Connection", &vl);
    if (v && vl >= 5 && strncasecmp(v, "close", 5) == 0)
        c->close_after = true;
    v = find_header(h, hl, "Content-Length", &vl);
    if (v)
        c->drop = strtoll(v, NULL, 10);

    char buf[512];
    int n;
    const char *conn_hdr = c->close_after ? "Connection: close\r\n" : "";
    int64_t size = -1;
    if (q) {
        const char *s = memmem(q, plen - pathonly, "size=", 5);
        if (s)
            size = strtoll(s + 5, NULL, 10);
    }
    if (size < 0 && pathonly >= 7 && memcmp(path + pathonly - 7, "/export", 7) == 0)
        size = default_bulk;

    if (pathonly >= 6 && memcmp(path + pathonly - 6, "/_ping", 6) == 0) {
        n = snprintf(buf, sizeof(buf), PING_HEAD "%s\r\n%s", conn_hdr, head ? "" : "OK");
        queue(c, buf, (size_t)n);
    } else if (pathonly >= 7 && memcmp(path + pathonly - 7, "/events", 7) == 0) {
        n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 200 OK\r\nApi-Version: 1.45\r\nContent-Type: application/json\r\n"
                     "Server: Docker/26.1.5 (linux)\r\nTransfer-Encoding: chunked\r\n%s\r\n",
                     conn_hdr);
        queue(c, buf, (size_t)n);
        if (head) {
            queue(c, "0\r\n\r\n", 5);
        } else {
            c->stream = true;
            c->sprev = NULL;
            c->snext = streams;
            if (streams)
                streams->sprev = c;
            streams = c;
        }
    } else if (size >= 0) {
        n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nServer: Docker/26.1.5 (linux)\r\n"
                     "Content-Length: %lld\r\n%s\r\n",
                     (long long)size, conn_hdr);
        queue(c, buf, (size_t)n);
        if (!head)
            c->bulk_left = size;
    } else {
        static const char body[] = "{\"ApiVersion\":\"1.45\",\"Os\":\"linux\",\"Version\":\"26.1.5\"}\n";
        n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 200 OK\r\nApi-Version: 1.45\r\nContent-Type: application/json\r\n"
                     "Server: Docker/26.1.5 (linux)\r\nContent-Length: %zu\r\n%s\r\n%s",
                     sizeof(body) - 1, conn_hdr, head ? "" : body);
        queue(c, buf, (size_t)n);
    }
}

/* Parses and answers whatever complete requests are buffered, one at a time
 * (the next only once the previous response is fully written). */
static int process(conn *c)
{
    for (;;) {
        if (c->drop > 0 && c->inlen > 0) {
            size_t d = c->drop < (int64_t)c->inlen ? (size_t)c->drop : c->inlen;
            memmove(c->in, c->in + d, c->inlen - d);
            c->inlen -= d;
            c->drop -= (int64_t)d;
        }
        if (busy(c) || c->close_after || c->drop > 0 || c->inlen == 0)
            return 0;
        char *e = memmem(c->in, c->inlen, "\r\n\r\n", 4);
        if (!e) {
            if (c->inlen == INBUF) {
                conn_free(c);
                return -1;
            }
            return 0;
        }
        size_t hl = (size_t)(e + 4 - c->in);
        answer(c, hl);
        memmove(c->in, c->in + hl, c->inlen - hl);
        c->inlen -= hl;
        if (flush(c) < 0)
            return -1;
    }
}

static void on_readable(conn *c)
{
    for (;;) {
        if (c->dead || c->want_out || c->inlen == INBUF)
            return; /* reading resumes when the pending response has drained */
        ssize_t r = recv(c->fd, c->in + c->inlen, INBUF - c->inlen, 0);
        if (r == 0) {
            conn_free(c);
            return;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) {
                conn_free(c);
                return;
            }
            break;
        }
        c->inlen += (size_t)r;
        if (c->stream) {
            c->inlen = 0; /* nothing more is expected on a stream */
            continue;
        }
        if (process(c) < 0)
            return;
        if ((size_t)r < INBUF)
            break;
    }
}

static void on_tick(int tfd)
{
    uint64_t x;
    if (read(tfd, &x, sizeof(x)) < 0)
        return;
    tick++;
    char chunk[256], body[200];
    int bl = snprintf(body, sizeof(body),
                      "{\"status\":\"tick\",\"id\":\"bench\",\"Type\":\"container\",\"Action\":\"tick\","
                      "\"time\":%llu}\n",
                      tick);
    int n = snprintf(chunk, sizeof(chunk), "%x\r\n%s\r\n", bl, body);
    for (conn *c = streams, *next; c; c = next) {
        next = c->snext;
        if (c->outlen - c->outpos > 65536)
            continue; /* slow reader: skip this tick */
        queue(c, chunk, (size_t)n);
        flush(c);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SOCKET_PATH [-s DEFAULT_BULK_BYTES]\n", argv[0]);
        return 2;
    }
    if (argc >= 4 && strcmp(argv[2], "-s") == 0)
        default_bulk = strtoll(argv[3], NULL, 10);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    bulkbuf = malloc(BULK_CHUNK);
    memset(bulkbuf, 'x', BULK_CHUNK);

    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "socket path too long\n");
        return 2;
    }
    strcpy(sa.sun_path, argv[1]);
    unlink(argv[1]);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("bind");
    if (listen(lfd, 4096) < 0)
        die("listen");
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
    timerfd_settime(tfd, 0, &its, NULL);
    static int tmark;
    ev.data.ptr = &tmark;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    printf("READY\n");
    fflush(stdout);

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == NULL) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0)
                        break;
                    conn *c = calloc(1, sizeof(*c));
                    c->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            if (p == &tmark) {
                on_tick(tfd);
                continue;
            }
            conn *c = p;
            if (c->dead)
                continue;
            if (evs[i].events & EPOLLOUT) {
                if (flush(c) < 0)
                    continue;
                if (process(c) < 0)
                    continue;
            }
            if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                on_readable(c);
        }
        reap();
    }
}
