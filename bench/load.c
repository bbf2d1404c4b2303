/* Load generator for the socket-proxy benchmark: one thread, epoll.
 *
 *   load [-u SOCKET | -t HOST:PORT] [-m MODE] [-c CONNS] [-d SECONDS]
 *        [-r "METHOD PATH"] [-H HOST] [-C] [-n REPS] [-q] [-- COMMAND ARGS...]
 *
 * Modes:
 *   ka       keep-alive: each connection sends a request, reads the whole
 *            response, sends the next (default)
 *   new      a new connection per request (connect, request, response, close)
 *   bulk     keep-alive, large read buffers; reports body MB/s
 *   idle     opens CONNS keep-alive connections, one request each, prints
 *            "READY ..." and holds them for SECONDS (or until SIGTERM), then
 *            sends one more request on each to check they are still served
 *   streams  opens CONNS streams (default request "GET /events"), prints
 *            "READY ..." once every response head is in, holds them for SECONDS
 *   startup  spawns COMMAND (the environment is inherited), polls the target
 *            with GET /_ping as fast as it can, reports the time from the spawn
 *            to the first 200; REPS times (SIGTERM and wait between)
 *
 * Every response is validated: HTTP/1.x status 200, framing by Content-Length,
 * chunked encoding (with trailers) or close; bytes after a response that was
 * not asked for count as errors. Latency is from the request's first byte
 * (ka, bulk) or from connect() (new) to the response's last byte.
 *
 * The last line is machine-readable: RESULT key=value ...
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum mode { M_KA, M_NEW, M_BULK, M_IDLE, M_STREAMS, M_STARTUP };
static const char *mode_names[] = {"ka", "new", "bulk", "idle", "streams", "startup"};

enum cst { S_OFF, S_RETRY, S_CONNECTING, S_ACTIVE, S_HELD, S_DONE, S_FAILED };
enum pst { P_IDLE, P_HEAD, P_BODY, P_CSIZE, P_CDATA, P_CCRLF, P_TRAILER, P_EOFBODY };

#define MAX_HEAD 16384

typedef struct conn {
    int fd;
    uint32_t idx, gen;
    int st;
    bool want_out;
    const char *out;
    size_t outpos, outlen;
    char *rbuf;
    size_t rlen;
    size_t scan; /* head search resumes here */
    /* response parser */
    int ps;
    int64_t left;
    int status;
    bool close_resp, bad, head_req;
    uint64_t t_start;
    uint32_t nresp;
    bool verifying;
} conn;

/* ---- options and global state ---- */

static int mode = M_KA;
static int nconns = 1;
static double duration = 3.0;
static const char *req_line = NULL;
static const char *host = "docker";
static bool add_close;
static bool quiet;
static int reps = 5;
static struct sockaddr_storage addr;
static socklen_t addrlen;
static int family;
static char target_name[300];

static char *request;
static size_t request_len;
static size_t rbuf_size = 16384;

static int ep;
static conn *conns;
static uint64_t t_begin, t_deadline;
static volatile sig_atomic_t stop_flag;

/* counters */
static uint64_t n_requests, n_errors, n_reconnects, n_retries, body_bytes, n_chunks;
static uint64_t n_held, n_failed, n_verified, n_heads;
static unsigned errors_printed;

/* ---- time and histogram ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define HBUCKETS (128 + 57 * 64)
static uint64_t hist[HBUCKETS];
static uint64_t hist_n, hist_max;

static int hidx(uint64_t v)
{
    if (v < 128)
        return (int)v;
    int e = 63 - __builtin_clzll(v); /* >= 7 */
    int sub = (int)((v >> (e - 6)) & 63);
    return 128 + (e - 7) * 64 + sub;
}

static uint64_t hval(int i) /* middle of the bucket */
{
    if (i < 128)
        return (uint64_t)i;
    int e = (i - 128) / 64 + 7, sub = (i - 128) % 64;
    uint64_t lo = (uint64_t)(64 + sub) << (e - 6);
    return lo + ((1ull << (e - 6)) >> 1);
}

static void hist_add(uint64_t v)
{
    hist[hidx(v)]++;
    hist_n++;
    if (v > hist_max)
        hist_max = v;
}

static double hist_pct(double p)
{
    if (!hist_n)
        return 0;
    uint64_t want = (uint64_t)(p * (double)hist_n + 0.5), acc = 0;
    if (want < 1)
        want = 1;
    for (int i = 0; i < HBUCKETS; i++) {
        acc += hist[i];
        if (acc >= want)
            return (double)hval(i);
    }
    return (double)hist_max;
}

/* ---- errors ---- */

static void err(conn *c, const char *fmt, ...)
{
    n_errors++;
    if (errors_printed < 10 && !quiet) {
        errors_printed++;
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "load: conn %u: ", c ? c->idx : 0);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
}

/* ---- connections ---- */

static uint64_t ev_data(conn *c) { return ((uint64_t)c->gen << 32) | c->idx; }

static void set_out(conn *c, bool out)
{
    if (c->want_out == out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.u64 = ev_data(c)};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

static void conn_close(conn *c, int st)
{
    if (c->fd >= 0) {
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
    }
    c->gen++;
    c->st = st;
    c->rlen = 0;
    c->scan = 0;
    c->ps = P_IDLE;
    c->want_out = false;
}

static void conn_start(conn *c);

static int send_more(conn *c)
{
    while (c->outpos < c->outlen) {
        ssize_t w = send(c->fd, c->out + c->outpos, c->outlen - c->outpos, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                set_out(c, true);
                return 0;
            }
            err(c, "send: %s", strerror(errno));
            return -1;
        }
        c->outpos += (size_t)w;
    }
    set_out(c, false);
    return 0;
}

static void fail(conn *c);

static void send_request(conn *c)
{
    if (mode != M_NEW)
        c->t_start = now_ns();
    c->out = request;
    c->outpos = 0;
    c->outlen = request_len;
    c->ps = P_HEAD;
    c->scan = 0;
    c->bad = false;
    c->close_resp = false;
    if (send_more(c) < 0)
        fail(c);
}

static bool running(void) { return !stop_flag && now_ns() < t_deadline; }

/* A connection broke (or was refused): count it and, in the load modes, start
 * again. */
static void fail(conn *c)
{
    conn_close(c, S_FAILED);
    if ((mode == M_KA || mode == M_NEW || mode == M_BULK) && running()) {
        c->st = S_RETRY; /* retried from the main loop, not in a tight loop */
        n_retries++;
    } else if (mode == M_IDLE || mode == M_STREAMS) {
        n_failed++;
    }
}

static void conn_start(conn *c)
{
    c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        err(c, "socket: %s", strerror(errno));
        c->st = S_FAILED;
        if (mode == M_IDLE || mode == M_STREAMS)
            n_failed++;
        return;
    }
    if (family != AF_UNIX) {
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (mode == M_NEW)
        c->t_start = now_ns();
    int r = connect(c->fd, (struct sockaddr *)&addr, addrlen);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ev_data(c)};
    if (r == 0) {
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        c->st = S_ACTIVE;
        send_request(c);
        return;
    }
    if (errno == EINPROGRESS) {
        ev.events = EPOLLOUT;
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        c->st = S_CONNECTING;
        return;
    }
    if (errno == EAGAIN) { /* Unix socket backlog full: try again shortly */
        conn_close(c, S_RETRY);
        n_retries++;
        return;
    }
    err(c, "connect: %s", strerror(errno));
    fail(c);
}

static void on_connected(conn *c)
{
    int e = 0;
    socklen_t l = sizeof(e);
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l);
    if (e) {
        err(c, "connect: %s", strerror(e));
        fail(c);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ev_data(c)};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = false;
    c->st = S_ACTIVE;
    send_request(c);
}

/* ---- response handling ---- */

static void on_head(conn *c)
{
    if (mode == M_STREAMS && c->st == S_ACTIVE) {
        if (c->status == 200) {
            c->st = S_HELD;
            n_held++;
        }
        n_heads++;
    }
}

/* A whole response is in. May close or restart the connection. */
static void on_response(conn *c, bool extra)
{
    uint64_t t = now_ns();
    c->ps = P_IDLE;
    c->nresp++;
    if (extra) {
        err(c, "bytes after the response");
        c->bad = true;
    }
    bool ok = !c->bad;
    switch (mode) {
    case M_KA:
    case M_BULK:
    case M_NEW:
        if (t < t_deadline && !stop_flag) {
            if (ok) {
                n_requests++;
                hist_add(t - c->t_start);
            }
        }
        if (!running()) {
            conn_close(c, S_DONE);
            return;
        }
        if (mode == M_NEW) {
            conn_close(c, S_OFF);
            conn_start(c);
            return;
        }
        if (c->close_resp || extra) {
            conn_close(c, S_OFF);
            n_reconnects++;
            conn_start(c);
            return;
        }
        send_request(c);
        return;
    case M_IDLE:
        if (c->verifying) {
            c->verifying = false;
            if (ok) {
                n_verified++;
                hist_add(t - c->t_start);
            }
            c->st = S_DONE;
            return;
        }
        if (ok && !c->close_resp) {
            c->st = S_HELD;
            n_held++;
            hist_add(t - c->t_start);
        } else {
            if (ok)
                err(c, "the server closes after the response: cannot hold");
            conn_close(c, S_FAILED);
            n_failed++;
        }
        return;
    case M_STREAMS:
        err(c, "the stream ended");
        if (c->st == S_HELD)
            n_held--;
        conn_close(c, S_FAILED);
        n_failed++;
        return;
    }
}

static int parse_head(conn *c, const char *h, size_t hl)
{
    if (hl < 12 || memcmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ') {
        err(c, "bad status line");
        return -1;
    }
    c->status = atoi(h + 9);
    bool chunked = false, has_cl = false;
    int64_t cl = 0;
    c->close_resp = h[7] == '0';
    const char *p = memchr(h, '\n', hl), *end = h + hl;
    while (p && p + 1 < end) {
        p++;
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol || eol == p)
            break;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon) {
            size_t nl = (size_t)(colon - p);
            const char *v = colon + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            size_t vl = (size_t)(eol - v);
            if (nl == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
                char *e;
                cl = strtoll(v, &e, 10);
                if (e == v || cl < 0) {
                    err(c, "bad Content-Length");
                    return -1;
                }
                has_cl = true;
            } else if (nl == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
                if (vl >= 7 && strncasecmp(eol - 7, "chunked", 7) == 0)
                    chunked = true;
            } else if (nl == 10 && strncasecmp(p, "Connection", 10) == 0) {
                if (vl >= 5 && strncasecmp(v, "close", 5) == 0)
                    c->close_resp = true;
            }
        }
        p = memchr(eol, '\n', (size_t)(end - eol));
    }
    if (chunked && has_cl) {
        err(c, "both Content-Length and chunked");
        return -1;
    }
    if (c->status != 200) {
        err(c, "status %d", c->status);
        c->bad = true;
    }
    if (c->head_req || c->status == 204 || c->status == 304 || (c->status >= 100 && c->status < 200)) {
        c->ps = P_IDLE;
        c->left = 0;
        return 1; /* complete */
    }
    if (chunked) {
        c->ps = P_CSIZE;
    } else if (has_cl) {
        c->left = cl;
        c->ps = P_BODY;
        if (cl == 0)
            return 1;
    } else {
        c->ps = P_EOFBODY;
        c->close_resp = true;
    }
    return 0;
}

/* Parses what is in rbuf. Returns -1 if the connection was closed or replaced. */
static int parse(conn *c)
{
    size_t pos = 0;
    uint32_t gen = c->gen;
    while (pos < c->rlen) {
        char *b = c->rbuf + pos;
        size_t avail = c->rlen - pos;
        bool done = false;
        switch (c->ps) {
        case P_IDLE:
            err(c, "unsolicited bytes");
            fail(c);
            return -1;
        case P_HEAD: {
            size_t from = c->scan > pos + 3 ? c->scan - 3 : pos;
            char *e = memmem(c->rbuf + from, c->rlen - from, "\r\n\r\n", 4);
            if (!e) {
                if (avail > MAX_HEAD) {
                    err(c, "response head too long");
                    fail(c);
                    return -1;
                }
                c->scan = c->rlen;
                goto more;
            }
            size_t hl = (size_t)(e + 4 - b);
            int r = parse_head(c, b, hl);
            if (r < 0) {
                fail(c);
                return -1;
            }
            pos += hl;
            c->scan = 0;
            on_head(c);
            done = r == 1;
            break;
        }
        case P_BODY:
        case P_CDATA: {
            size_t n = (int64_t)avail < c->left ? avail : (size_t)c->left;
            pos += n;
            c->left -= (int64_t)n;
            body_bytes += n;
            if (c->left == 0) {
                if (c->ps == P_BODY)
                    done = true;
                else
                    c->ps = P_CCRLF;
            }
            break;
        }
        case P_CCRLF:
            if (avail < 2)
                goto more;
            if (b[0] != '\r' || b[1] != '\n') {
                err(c, "bad chunk end");
                fail(c);
                return -1;
            }
            pos += 2;
            c->ps = P_CSIZE;
            break;
        case P_CSIZE: {
            char *nl = memchr(b, '\n', avail);
            if (!nl) {
                if (avail > 1024) {
                    err(c, "chunk size line too long");
                    fail(c);
                    return -1;
                }
                goto more;
            }
            char *e;
            long long sz = strtoll(b, &e, 16);
            if (e == b || sz < 0 || (*e != '\r' && *e != ';')) {
                err(c, "bad chunk size");
                fail(c);
                return -1;
            }
            pos += (size_t)(nl + 1 - b);
            if (sz == 0) {
                c->ps = P_TRAILER;
            } else {
                c->left = sz;
                c->ps = P_CDATA;
                n_chunks++;
            }
            break;
        }
        case P_TRAILER: {
            char *nl = memchr(b, '\n', avail);
            if (!nl)
                goto more;
            size_t ll = (size_t)(nl + 1 - b);
            pos += ll;
            if (ll <= 2)
                done = true;
            break;
        }
        case P_EOFBODY:
            body_bytes += avail;
            pos = c->rlen;
            break;
        }
        if (done) {
            bool extra = pos < c->rlen;
            on_response(c, extra);
            if (c->gen != gen || c->fd < 0)
                return -1;
            if (extra) {
                c->rlen = 0;
                return 0;
            }
        }
    }
more:
    if (pos > 0) {
        memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
        c->rlen -= pos;
        if (c->scan >= pos)
            c->scan -= pos;
        else
            c->scan = 0;
    }
    return 0;
}

static void on_readable(conn *c)
{
    uint32_t gen = c->gen;
    for (int rounds = 0; rounds < 16; rounds++) {
        if (c->rlen == rbuf_size) {
            err(c, "read buffer full");
            fail(c);
            return;
        }
        ssize_t r = recv(c->fd, c->rbuf + c->rlen, rbuf_size - c->rlen, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            if (c->ps == P_IDLE && (mode == M_KA || mode == M_BULK)) {
                n_reconnects++; /* the server dropped an idle keep-alive connection */
                conn_close(c, S_OFF);
                conn_start(c);
                return;
            }
            err(c, "recv: %s", strerror(errno));
            fail(c);
            return;
        }
        if (r == 0) {
            if (c->ps == P_EOFBODY) {
                on_response(c, false);
                if (c->gen == gen && c->fd >= 0) {
                    conn_close(c, S_OFF);
                    if (running() && mode != M_IDLE)
                        conn_start(c);
                }
                return;
            }
            if (c->ps == P_IDLE && (mode == M_KA || mode == M_BULK)) {
                n_reconnects++;
                conn_close(c, S_OFF);
                if (running())
                    conn_start(c);
                else
                    c->st = S_DONE;
                return;
            }
            if (c->ps == P_IDLE && mode == M_NEW)
                return;
            err(c, "connection closed by the server%s", c->ps == P_IDLE ? " (while held)" : " mid-response");
            if (c->st == S_HELD && n_held > 0)
                n_held--;
            fail(c);
            return;
        }
        c->rlen += (size_t)r;
        if (parse(c) < 0)
            return;
        if (c->gen != gen)
            return;
        if ((size_t)r < rbuf_size / 2)
            return;
    }
}

static void handle(struct epoll_event *e)
{
    uint32_t idx = (uint32_t)e->data.u64, gen = (uint32_t)(e->data.u64 >> 32);
    conn *c = &conns[idx];
    if (c->gen != gen || c->fd < 0)
        return; /* stale event for a closed socket */
    if (c->st == S_CONNECTING) {
        if (e->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(c);
        return;
    }
    if (e->events & EPOLLOUT) {
        if (send_more(c) < 0) {
            fail(c);
            return;
        }
    }
    if (e->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(c);
}

/* Runs the loop until `until` (ns) or until pred() is true. */
static void loop(uint64_t until, bool (*pred)(void))
{
    struct epoll_event evs[512];
    for (;;) {
        uint64_t t = now_ns();
        if (t >= until || stop_flag || (pred && pred()))
            return;
        bool retry = false;
        for (int i = 0; i < nconns; i++) {
            if (conns[i].st == S_RETRY) {
                if (mode != M_IDLE && mode != M_STREAMS && !running())
                    conns[i].st = S_DONE;
                else
                    retry = true;
            }
        }
        int timeout = (int)((until - t) / 1000000) + 1;
        if (retry)
            timeout = 1;
        int n = epoll_wait(ep, evs, 512, timeout);
        for (int i = 0; i < n; i++)
            handle(&evs[i]);
        if (retry) {
            for (int i = 0; i < nconns; i++)
                if (conns[i].st == S_RETRY)
                    conn_start(&conns[i]);
        }
    }
}

static bool all_settled(void) { return n_held + n_failed >= (uint64_t)nconns; }

static bool all_verified(void)
{
    for (int i = 0; i < nconns; i++)
        if (conns[i].verifying && conns[i].fd >= 0)
            return false;
    return true;
}

static void on_signal(int s)
{
    (void)s;
    stop_flag = 1;
}

/* ---- startup mode ---- */

static int probe_once(void)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, addrlen) < 0) {
        close(fd);
        return 0;
    }
    if (send(fd, request, request_len, MSG_NOSIGNAL) != (ssize_t)request_len) {
        close(fd);
        return 0;
    }
    char buf[4096];
    size_t len = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (len < sizeof(buf) - 1) {
        if (poll(&p, 1, 2000) <= 0)
            break;
        ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = 0;
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
    close(fd);
    buf[len] = 0;
    if (len >= 12 && memcmp(buf, "HTTP/1.", 7) == 0 && atoi(buf + 9) == 200)
        return 1;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run_startup(char **cmd)
{
    prctl(PR_SET_TIMERSLACK, 1UL);
    double *ms = calloc((size_t)reps, sizeof(double));
    int got = 0;
    for (int r = 0; r < reps; r++) {
        pid_t pid;
        uint64_t t0 = now_ns();
        if (posix_spawnp(&pid, cmd[0], NULL, NULL, cmd, environ) != 0) {
            perror("posix_spawnp");
            return 1;
        }
        int ok = 0;
        uint64_t limit = t0 + 10000000000ull;
        while (now_ns() < limit) {
            ok = probe_once();
            if (ok == 1)
                break;
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                fprintf(stderr, "load: the command exited (status %d) before serving\n", st);
                pid = -1;
                break;
            }
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
        uint64_t t1 = now_ns();
        if (pid > 0) {
            kill(pid, SIGTERM);
            int st;
            uint64_t wlimit = now_ns() + 5000000000ull;
            while (waitpid(pid, &st, WNOHANG) == 0) {
                if (now_ns() > wlimit) {
                    kill(pid, SIGKILL);
                    waitpid(pid, &st, 0);
                    break;
                }
                usleep(1000);
            }
        }
        if (ok == 1) {
            ms[got++] = (double)(t1 - t0) / 1e6;
            if (!quiet)
                fprintf(stderr, "startup %d: %.3f ms\n", r + 1, ms[got - 1]);
        } else {
            n_errors++;
        }
    }
    qsort(ms, (size_t)got, sizeof(double), cmp_double);
    printf("RESULT mode=startup target=%s reps=%d ok=%d errors=%llu min_ms=%.3f median_ms=%.3f max_ms=%.3f\n",
           target_name, reps, got, (unsigned long long)n_errors, got ? ms[0] : 0, got ? ms[got / 2] : 0,
           got ? ms[got - 1] : 0);
    free(ms);
    return got ? 0 : 1;
}

/* ---- main ---- */

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: load [-u SOCKET | -t HOST:PORT] [-m ka|new|bulk|idle|streams|startup] [-c CONNS]\n"
                    "            [-d SECONDS] [-r \"METHOD PATH\"] [-H HOST] [-C] [-n REPS] [-q] [-- COMMAND...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int opt;
    const char *unix_path = NULL, *tcp = NULL;
    while ((opt = getopt(argc, argv, "u:t:m:c:d:r:H:Cn:q")) != -1) {
        switch (opt) {
        case 'u': unix_path = optarg; break;
        case 't': tcp = optarg; break;
        case 'm': {
            int m;
            for (m = 0; m <= M_STARTUP; m++)
                if (strcmp(optarg, mode_names[m]) == 0)
                    break;
            if (m > M_STARTUP)
                usage();
            mode = m;
            break;
        }
        case 'c': nconns = atoi(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'r': req_line = optarg; break;
        case 'H': host = optarg; break;
        case 'C': add_close = true; break;
        case 'n': reps = atoi(optarg); break;
        case 'q': quiet = true; break;
        default: usage();
        }
    }
    if ((!unix_path) == (!tcp) || nconns < 1 || reps < 1)
        usage();
    if (unix_path) {
        struct sockaddr_un *sa = (struct sockaddr_un *)&addr;
        if (strlen(unix_path) >= sizeof(sa->sun_path)) {
            fprintf(stderr, "load: socket path too long\n");
            return 2;
        }
        sa->sun_family = AF_UNIX;
        strcpy(sa->sun_path, unix_path);
        addrlen = sizeof(*sa);
        family = AF_UNIX;
        snprintf(target_name, sizeof(target_name), "unix:%s", unix_path);
    } else {
        char h[256];
        const char *colon = strrchr(tcp, ':');
        if (!colon || (size_t)(colon - tcp) >= sizeof(h))
            usage();
        memcpy(h, tcp, (size_t)(colon - tcp));
        h[colon - tcp] = 0;
        struct sockaddr_in *sa = (struct sockaddr_in *)&addr;
        sa->sin_family = AF_INET;
        sa->sin_port = htons((uint16_t)atoi(colon + 1));
        if (inet_pton(AF_INET, h, &sa->sin_addr) != 1) {
            fprintf(stderr, "load: need an IPv4 address: %s\n", h);
            return 2;
        }
        addrlen = sizeof(*sa);
        family = AF_INET;
        snprintf(target_name, sizeof(target_name), "tcp:%s", tcp);
    }
    if (!req_line)
        req_line = mode == M_STREAMS ? "GET /events" : mode == M_BULK ? "GET /containers/bench/export" : "GET /_ping";
    size_t cap = strlen(req_line) + strlen(host) + 128;
    request = malloc(cap);
    request_len = (size_t)snprintf(request, cap, "%s HTTP/1.1\r\n%s%s%s%s\r\n", req_line, host[0] ? "Host: " : "", host,
                                   host[0] ? "\r\n" : "", add_close ? "Connection: close\r\n" : "");
    bool head_req = strncmp(req_line, "HEAD ", 5) == 0;

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    if (mode == M_STARTUP) {
        if (optind >= argc)
            usage();
        return run_startup(argv + optind);
    }

    if (mode == M_BULK)
        rbuf_size = 1 << 20;
    ep = epoll_create1(EPOLL_CLOEXEC);
    conns = calloc((size_t)nconns, sizeof(conn));
    for (int i = 0; i < nconns; i++) {
        conns[i].fd = -1;
        conns[i].idx = (uint32_t)i;
        conns[i].head_req = head_req;
        conns[i].rbuf = malloc(rbuf_size);
    }

    uint64_t dur_ns = (uint64_t)(duration * 1e9);
    char extra[256] = "";
    double elapsed;

    if (mode == M_KA || mode == M_NEW || mode == M_BULK) {
        t_begin = now_ns();
        t_deadline = t_begin + dur_ns;
        for (int i = 0; i < nconns; i++)
            conn_start(&conns[i]);
        loop(t_deadline, NULL);
        uint64_t t_end = now_ns();
        if (t_end > t_deadline)
            t_end = t_deadline;
        elapsed = (double)(t_end - t_begin) / 1e9;
        for (int i = 0; i < nconns; i++)
            conn_close(&conns[i], S_DONE);
    } else {
        /* idle and streams: connect everything, report READY, hold */
        t_begin = now_ns();
        t_deadline = UINT64_MAX;
        for (int i = 0; i < nconns; i++)
            conn_start(&conns[i]);
        loop(t_begin + 60000000000ull, all_settled);
        double setup = (double)(now_ns() - t_begin) / 1e9;
        printf("READY mode=%s held=%llu failed=%llu setup_s=%.3f\n", mode_names[mode], (unsigned long long)n_held,
               (unsigned long long)n_failed, setup);
        fflush(stdout);
        uint64_t h0 = now_ns();
        loop(h0 + dur_ns, NULL);
        elapsed = (double)(now_ns() - h0) / 1e9;
        uint64_t held_end = n_held;
        if (mode == M_IDLE) {
            /* still served? one more request on each held connection */
            stop_flag = 0;
            for (int i = 0; i < nconns; i++) {
                if (conns[i].st == S_HELD && conns[i].fd >= 0) {
                    conns[i].verifying = true;
                    conns[i].st = S_ACTIVE;
                    send_request(&conns[i]);
                }
            }
            loop(now_ns() + 10000000000ull, all_verified);
            snprintf(extra, sizeof(extra), " held=%llu failed=%llu verified=%llu setup_s=%.3f",
                     (unsigned long long)held_end, (unsigned long long)n_failed, (unsigned long long)n_verified,
                     setup);
        } else {
            snprintf(extra, sizeof(extra), " held=%llu failed=%llu heads=%llu chunks=%llu setup_s=%.3f",
                     (unsigned long long)held_end, (unsigned long long)n_failed, (unsigned long long)n_heads,
                     (unsigned long long)n_chunks, setup);
        }
        for (int i = 0; i < nconns; i++)
            conn_close(&conns[i], S_DONE);
    }

    double rps = elapsed > 0 ? (double)n_requests / elapsed : 0;
    double mbps = elapsed > 0 ? (double)body_bytes / elapsed / 1e6 : 0;
    double p50 = hist_pct(0.50) / 1e3, p99 = hist_pct(0.99) / 1e3, mx = (double)hist_max / 1e3;
    if (!quiet)
        fprintf(stderr, "%s %s: %d conns, %.2f s: %llu requests, %.0f req/s, %.1f MB/s, p50 %.1f us, p99 %.1f us, "
                        "max %.1f us, %llu errors, %llu reconnects\n",
                mode_names[mode], target_name, nconns, elapsed, (unsigned long long)n_requests, rps, mbps, p50, p99,
                mx, (unsigned long long)n_errors, (unsigned long long)n_reconnects);
    printf("RESULT mode=%s target=%s conns=%d secs=%.3f requests=%llu errors=%llu rps=%.0f p50_us=%.1f p99_us=%.1f "
           "max_us=%.1f body_bytes=%llu mbps=%.1f reconnects=%llu retries=%llu%s\n",
           mode_names[mode], target_name, nconns, elapsed, (unsigned long long)n_requests,
           (unsigned long long)n_errors, rps, p50, p99, mx, (unsigned long long)body_bytes, mbps,
           (unsigned long long)n_reconnects, (unsigned long long)n_retries, extra);
    return n_errors ? 1 : 0;
}
