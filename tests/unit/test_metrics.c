/* Metrics (core/metrics.c, core/metrics_listen.c). The counters: a known
 * sequence of hooks (a row each) and the exact text it renders, bucket
 * edges, streams left untimed, closed label sets (a client's method never
 * mints a series), label escaping, the series cap folding into
 * section="other", m == NULL as a no-op. The listener, on a real loop with
 * clients on the same loop: a row per request and its answer; the bound on
 * connections; metrics_close with connections open; the error lines. Every
 * handle closed (uv_loop_close) and every byte freed (the ASan build's leak
 * check). The process lines (RSS, descriptors) vary: checked by shape. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/metrics.h"
#include "unit.h"

#define PROM_TYPE "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"

/* ---- the counters ---- */

static const char *const names[] = {"", "traefik", "watch"};

static const metrics_request requests[] = {
    /* profile, method, section, decision, status, seconds */
    {0, "GET", "CONTAINERS", "allow", 200, 0.001},  /* on the edge: le="0.001" */
    {0, "GET", "CONTAINERS", "allow", 200, 0.005},  /* the same series; le="0.005" */
    {1, "POST", "POST", "deny", 403, 0.0005},
    {1, "PATCH", "CONTAINERS", "deny", 403, 10},    /* method "other"; le="10" */
    {2, "DELETE", NULL, "bad", 400, 10.5},          /* section "none"; only +Inf */
    {0, "HEAD", "PING", "allow", 204, 2.5},
    {0, "GET", "EVENTS", "allow", 200, -1},         /* a stream: counted, never timed */
    {0, "GET", "CONTAINERS", "error", 502, 0.25},
    {2, "PUT", "a\"b\\c\nd", "allow", 101, -1},     /* escaped; 1xx */
    {0, "get", "X", "weird", 700, 0},               /* methods and decisions are case-sensitive; 700: "other" */
    {0, NULL, NULL, NULL, 0, 0.5},
    {3, "GET", "CONTAINERS", "allow", 200, 1},      /* no such profile: not counted */
    {-1, "GET", "CONTAINERS", "allow", 200, 1},
    {0, "GET", "other", "allow", 200, 1},           /* "other" is the fold's own */
    {0, "GET", "S123456789012345678901234567890123456789012345678901234567890123", "allow", 200, 1}, /* too long */
    {1, "learn-allow" /* a method nobody sends */, "IMAGES", "learn-allow", 200, 0.05},
};

static const char *const expect_text =
    "# HELP socket_proxy_requests_total Requests answered, by profile, method, deciding section, decision and status class.\n"
    "# TYPE socket_proxy_requests_total counter\n"
    "socket_proxy_requests_total{profile=\"default\",method=\"GET\",section=\"CONTAINERS\",decision=\"allow\",code=\"2xx\"} 2\n"
    "socket_proxy_requests_total{profile=\"traefik\",method=\"POST\",section=\"POST\",decision=\"deny\",code=\"4xx\"} 1\n"
    "socket_proxy_requests_total{profile=\"traefik\",method=\"other\",section=\"CONTAINERS\",decision=\"deny\",code=\"4xx\"} 1\n"
    "socket_proxy_requests_total{profile=\"watch\",method=\"DELETE\",section=\"none\",decision=\"bad\",code=\"4xx\"} 1\n"
    "socket_proxy_requests_total{profile=\"default\",method=\"HEAD\",section=\"PING\",decision=\"allow\",code=\"2xx\"} 1\n"
    "socket_proxy_requests_total{profile=\"default\",method=\"GET\",section=\"EVENTS\",decision=\"allow\",code=\"2xx\"} 1\n"
    "socket_proxy_requests_total{profile=\"default\",method=\"GET\",section=\"CONTAINERS\",decision=\"error\",code=\"5xx\"} 1\n"
    "socket_proxy_requests_total{profile=\"watch\",method=\"PUT\",section=\"a\\\"b\\\\c\\nd\",decision=\"allow\",code=\"1xx\"} 1\n"
    "socket_proxy_requests_total{profile=\"default\",method=\"other\",section=\"X\",decision=\"other\",code=\"other\"} 1\n"
    "socket_proxy_requests_total{profile=\"default\",method=\"other\",section=\"none\",decision=\"other\",code=\"other\"} 1\n"
    "socket_proxy_requests_total{profile=\"traefik\",method=\"other\",section=\"IMAGES\",decision=\"learn-allow\",code=\"2xx\"} 1\n"
    "socket_proxy_requests_total{profile=\"default\",method=\"GET\",section=\"other\",decision=\"allow\",code=\"2xx\"} 2\n"
    "# HELP socket_proxy_request_duration_seconds Time from a request's head to the end of its answer; streams are not timed.\n"
    "# TYPE socket_proxy_request_duration_seconds histogram\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"0.001\"} 2\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"0.005\"} 3\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"0.01\"} 3\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"0.025\"} 3\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"0.05\"} 3\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"0.1\"} 3\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"0.25\"} 4\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"0.5\"} 5\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"1\"} 7\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"2.5\"} 8\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"5\"} 8\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"10\"} 8\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"default\",le=\"+Inf\"} 8\n"
    "socket_proxy_request_duration_seconds_sum{profile=\"default\"} 5.256\n"
    "socket_proxy_request_duration_seconds_count{profile=\"default\"} 8\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"0.001\"} 1\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"0.005\"} 1\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"0.01\"} 1\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"0.025\"} 1\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"0.05\"} 2\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"0.1\"} 2\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"0.25\"} 2\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"0.5\"} 2\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"1\"} 2\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"2.5\"} 2\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"5\"} 2\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"10\"} 3\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"traefik\",le=\"+Inf\"} 3\n"
    "socket_proxy_request_duration_seconds_sum{profile=\"traefik\"} 10.050500000000001\n" /* 0.0005 + 10 + 0.05 in doubles */
    "socket_proxy_request_duration_seconds_count{profile=\"traefik\"} 3\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"0.001\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"0.005\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"0.01\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"0.025\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"0.05\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"0.1\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"0.25\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"0.5\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"1\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"2.5\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"5\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"10\"} 0\n"
    "socket_proxy_request_duration_seconds_bucket{profile=\"watch\",le=\"+Inf\"} 1\n"
    "socket_proxy_request_duration_seconds_sum{profile=\"watch\"} 10.5\n"
    "socket_proxy_request_duration_seconds_count{profile=\"watch\"} 1\n"
    "# HELP socket_proxy_bytes_total Bytes carried: in from clients to the daemon, out from the daemon to clients.\n"
    "# TYPE socket_proxy_bytes_total counter\n"
    "socket_proxy_bytes_total{direction=\"in\"} 101\n"
    "socket_proxy_bytes_total{direction=\"out\"} 5000000001\n"
    "# HELP socket_proxy_client_connections Open client connections.\n"
    "# TYPE socket_proxy_client_connections gauge\n"
    "socket_proxy_client_connections 2\n"
    "# HELP socket_proxy_streams Open streams and tunnels (events, logs -f, attach, exec).\n"
    "# TYPE socket_proxy_streams gauge\n"
    "socket_proxy_streams 0\n"
    "# HELP socket_proxy_upstream_dial_failures_total Dials to the daemon that failed.\n"
    "# TYPE socket_proxy_upstream_dial_failures_total counter\n"
    "socket_proxy_upstream_dial_failures_total 2\n"
    "# HELP socket_proxy_bad_gateway_total 502 answers.\n"
    "# TYPE socket_proxy_bad_gateway_total counter\n"
    "socket_proxy_bad_gateway_total 1\n"
    "# HELP socket_proxy_refusals_total Requests and connections refused by the proxy itself, by status or reason.\n"
    "# TYPE socket_proxy_refusals_total counter\n"
    "socket_proxy_refusals_total{kind=\"400\"} 1\n"
    "socket_proxy_refusals_total{kind=\"403\"} 1\n"
    "socket_proxy_refusals_total{kind=\"408\"} 1\n"
    "socket_proxy_refusals_total{kind=\"413\"} 1\n"
    "socket_proxy_refusals_total{kind=\"431\"} 1\n"
    "socket_proxy_refusals_total{kind=\"503\"} 1\n"
    "socket_proxy_refusals_total{kind=\"allow_from\"} 3\n"
    "socket_proxy_refusals_total{kind=\"limit\"} 1\n"
    "socket_proxy_refusals_total{kind=\"tls\"} 1\n"
    "# HELP socket_proxy_build_info The running version; always 1.\n"
    "# TYPE socket_proxy_build_info gauge\n"
    "socket_proxy_build_info{version=\"" SOCKET_PROXY_VERSION "\"} 1\n";

/* The process lines (values vary): "# HELP name", "# TYPE name gauge" and
 * "name N" with N > 0, taken out of text. */
static void take_process_lines(char *text, const char *name)
{
    char want[128];
    snprintf(want, sizeof(want), "# HELP %s ", name);
    char *at = strstr(text, want);
    CHECK(at != NULL, "%s is rendered", name);
    if (!at)
        return;
    char *type = strchr(at, '\n') + 1, *value = strchr(type, '\n') + 1, *end = strchr(value, '\n') + 1;
    snprintf(want, sizeof(want), "# TYPE %s gauge\n%s ", name, name);
    CHECK(strncmp(type, want, strlen(want)) == 0, "%s: its TYPE line and sample", name);
    long long v = atoll(value + strlen(name) + 1);
    CHECK(v > 0, "%s is %lld", name, v);
    memmove(at, end, strlen(end) + 1);
}

static void test_known_sequence(void)
{
    metrics *m = metrics_new(3, names);
    CHECK(m != NULL, "metrics_new");
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
        metrics_count_request(m, &requests[i]);
    metrics_add_bytes(m, 100, 1);
    metrics_add_bytes(m, 1, 5000000000ull);
    metrics_gauge_add(m, METRICS_CLIENT_CONNS, 3);
    metrics_gauge_add(m, METRICS_CLIENT_CONNS, -1);
    metrics_gauge_add(m, METRICS_STREAMS, 1);
    metrics_gauge_add(m, METRICS_STREAMS, -1);
    metrics_gauge_add(m, METRICS_GAUGES, 7); /* not a gauge: ignored */
    for (int e = 0; e < METRICS_EVENTS; e++)
        metrics_event_add(m, (metrics_event)e);
    metrics_event_add(m, METRICS_DIAL_FAILURES);
    metrics_event_add(m, METRICS_REFUSED_FROM);
    metrics_event_add(m, METRICS_REFUSED_FROM);
    metrics_event_add(m, METRICS_EVENTS); /* not an event: ignored */
    char *text = NULL;
    size_t len = metrics_render(m, &text);
    CHECK(text != NULL && len == strlen(text), "rendered: %zu bytes", len);
    if (text) {
        take_process_lines(text, "process_resident_memory_bytes");
        take_process_lines(text, "process_open_fds");
        CHECK(strcmp(text, expect_text) == 0, "the exact text; got:\n%s", text);
    }
    free(text);
    metrics_free(m);
}

/* METRICS_MAX_SERIES sections fill the table; the next new ones count
 * under section="other", the old ones still count on. */
static void test_series_cap(void)
{
    const char *one[] = {"app"};
    metrics *m = metrics_new(1, one);
    char section[16];
    metrics_request r = {0, "GET", section, "allow", 200, -1};
    for (int i = 0; i < METRICS_MAX_SERIES; i++) {
        snprintf(section, sizeof(section), "S%04d", i);
        metrics_count_request(m, &r);
    }
    snprintf(section, sizeof(section), "S0000");
    metrics_count_request(m, &r);
    const char *late[] = {"LATE1", "LATE2", "S0001"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(section, sizeof(section), "%s", late[i]);
        r.method = i == 2 ? "POST" : "GET";
        metrics_count_request(m, &r);
    }
    char *text = NULL;
    metrics_render(m, &text);
    CHECK(text != NULL, "rendered");
    if (!text) {
        metrics_free(m);
        return;
    }
    size_t lines = 0;
    for (const char *p = text; (p = strstr(p, "\nsocket_proxy_requests_total{")); p++)
        lines++;
    CHECK(lines == METRICS_MAX_SERIES + 2, "%zu series lines: the table's and two folded", lines);
    CHECK(strstr(text, "{profile=\"app\",method=\"GET\",section=\"S0000\",decision=\"allow\",code=\"2xx\"} 2\n"),
          "an old series counts on");
    CHECK(strstr(text, "{profile=\"app\",method=\"GET\",section=\"S4095\",decision=\"allow\",code=\"2xx\"} 1\n"),
          "the last that fit");
    CHECK(!strstr(text, "LATE"), "no series for the late sections");
    CHECK(strstr(text, "{profile=\"app\",method=\"GET\",section=\"other\",decision=\"allow\",code=\"2xx\"} 2\n"),
          "two late GETs under section=\"other\"");
    CHECK(strstr(text, "{profile=\"app\",method=\"POST\",section=\"other\",decision=\"allow\",code=\"2xx\"} 1\n"),
          "a new combination with an old section folds too");
    free(text);
    metrics_free(m);
}

static void test_null_is_a_no_op(void)
{
    metrics_request r = {0, "GET", "PING", "allow", 200, 0.001};
    metrics_count_request(NULL, &r);
    metrics_add_bytes(NULL, 1, 2);
    metrics_gauge_add(NULL, METRICS_STREAMS, 1);
    metrics_event_add(NULL, METRICS_BAD_GATEWAY);
    char *text = (char *)"unchanged";
    CHECK(metrics_render(NULL, &text) == 0 && text == NULL, "nothing to render");
    metrics_free(NULL);
    metrics_close(NULL);
    metrics *m = metrics_new(0, NULL);
    CHECK(m != NULL, "no profiles at all");
    metrics_count_request(m, &r);
    metrics_count_request(m, NULL);
    size_t len = metrics_render(m, &text);
    CHECK(text && len && !strstr(text, "socket_proxy_requests_total{") && !strstr(text, "duration_seconds_bucket"),
          "no profile, no request series");
    free(text);
    metrics_free(m);
}

/* ---- the listener ---- */

static uv_loop_t loop;

typedef struct client {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    const char *request;
    size_t request_len;
    char got[1 << 16];
    size_t got_len;
    bool done;  /* the server closed (EOF or reset) and so did we */
} client;

static void client_closed(uv_handle_t *h)
{
    client *c = h->data;
    c->done = true;
}

static void client_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    client *c = h->data;
    *b = uv_buf_init(c->got + c->got_len, (unsigned)(sizeof(c->got) - c->got_len - 1));
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    client *c = s->data;
    if (n < 0) {
        c->got[c->got_len] = '\0';
        uv_close((uv_handle_t *)s, client_closed);
        return;
    }
    c->got_len += (size_t)n;
}

static void client_written(uv_write_t *w, int status) {}

static void client_connected(uv_connect_t *req, int status)
{
    client *c = req->data;
    CHECK(status == 0, "connect: %s", uv_strerror(status));
    if (status < 0) {
        uv_close((uv_handle_t *)&c->tcp, client_closed);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, client_alloc, client_read);
    if (c->request_len) {
        uv_buf_t b = uv_buf_init((char *)c->request, (unsigned)c->request_len);
        c->write.data = c;
        uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, client_written);
    }
}

static void client_start(client *c, int port, const char *request, size_t len)
{
    memset(c, 0, sizeof(*c));
    c->request = request;
    c->request_len = len;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    uv_tcp_init(&loop, &c->tcp);
    c->tcp.data = c->connect.data = c;
    uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&sa, client_connected);
}

static void run_until_done(client *c)
{
    while (!c->done)
        uv_run(&loop, UV_RUN_ONCE);
}

/* A port nothing listens on now: the kernel's choice for port 0. */
static int free_port(void)
{
    struct sockaddr_in sa;
    socklen_t n = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    uv_ip4_addr("127.0.0.1", 0, &sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || getsockname(fd, (struct sockaddr *)&sa, &n) < 0)
        printf("free_port: no socket\n");
    if (fd >= 0)
        close(fd);
    return ntohs(sa.sin_port);
}

static char *learned_text(void *arg, size_t *len)
{
    const char *text = arg;
    if (!text)
        return NULL;
    *len = strlen(text);
    return strdup(text);
}

enum { PLAIN, LEARNING, LEARNING_NOTHING, NLISTENERS }; /* the listeners the rows talk to */

typedef struct {
    const char *name;
    const char *request; /* NULL: big_head */
    int listener;
    const char *status;  /* the status line's start */
    const char *has[3];  /* in the answer */
    const char *not_has;
} lrow;

#define GET_METRICS "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
#define GET_LEARNED "GET /_socket-proxy/learned HTTP/1.1\r\nHost: x\r\n\r\n"
#define LEARNED "CONTAINERS=1\n"

static const lrow lrows[] = {
    {"GET /metrics", GET_METRICS, PLAIN, "HTTP/1.1 200 OK\r\n",
     {PROM_TYPE, "Connection: close\r\n", "\r\n\r\n# HELP socket_proxy_requests_total"}},
    {"with a query string", "GET /metrics?name[]=up HTTP/1.1\r\nHost: x\r\n\r\n", PLAIN, "HTTP/1.1 200 OK\r\n",
     {PROM_TYPE, "\nsocket_proxy_build_info{version=\"" SOCKET_PROXY_VERSION "\"} 1\n"}},
    {"HTTP/1.0, no Host", "GET /metrics HTTP/1.0\r\n\r\n", PLAIN, "HTTP/1.1 200 OK\r\n", {"\nprocess_open_fds "}},
    {"HEAD: the head alone", "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", PLAIN, "HTTP/1.1 200 OK\r\n",
     {PROM_TYPE, "Content-Length: "}, "# HELP"},
    {"POST with a body", "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", PLAIN,
     "HTTP/1.1 405 Method Not Allowed\r\n", {"Allow: GET, HEAD\r\n", "Connection: close\r\n"}, "# HELP"},
    {"DELETE", "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", PLAIN, "HTTP/1.1 405 ", {"Allow: GET, HEAD\r\n"}},
    {"a method in lower case (the parser knows none)", "get /metrics HTTP/1.1\r\nHost: x\r\n\r\n", PLAIN,
     "HTTP/1.1 501 "},
    {"another path", "GET /metrics/x HTTP/1.1\r\nHost: x\r\n\r\n", PLAIN, "HTTP/1.1 404 Not Found\r\n",
     {"Connection: close\r\n"}, "# HELP"},
    {"the root", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", PLAIN, "HTTP/1.1 404 "},
    {"a Docker path", "GET /v1.41/containers/json HTTP/1.1\r\nHost: x\r\n\r\n", PLAIN, "HTTP/1.1 404 "},
    {"learned, no callback", GET_LEARNED, PLAIN, "HTTP/1.1 404 "},
    {"learned", GET_LEARNED, LEARNING, "HTTP/1.1 200 OK\r\n",
     {"Content-Type: text/plain; charset=utf-8\r\n", "Content-Length: 13\r\n", "\r\n\r\n" LEARNED}},
    {"learned, POST", "POST /_socket-proxy/learned HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", LEARNING,
     "HTTP/1.1 405 "},
    {"learned, HEAD", "HEAD /_socket-proxy/learned HTTP/1.1\r\nHost: x\r\n\r\n", LEARNING, "HTTP/1.1 200 OK\r\n",
     {"Content-Length: 13\r\n"}, LEARNED},
    {"learned, nothing to say", GET_LEARNED, LEARNING_NOTHING, "HTTP/1.1 404 "},
    {"metrics beside learned", GET_METRICS, LEARNING, "HTTP/1.1 200 OK\r\n", {PROM_TYPE}},
    {"a bare LF", "GET /metrics HTTP/1.1\nHost: x\r\n\r\n", PLAIN, "HTTP/1.1 400 "},
    {"HTTP/1.1 without Host", "GET /metrics HTTP/1.1\r\n\r\n", PLAIN, "HTTP/1.1 400 "},
    {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", PLAIN, "HTTP/1.1 501 "},
    {"HTTP/1.2", "GET /metrics HTTP/1.2\r\nHost: x\r\n\r\n", PLAIN, "HTTP/1.1 505 "},
    {"a head over 8 KiB", NULL, PLAIN, "HTTP/1.1 431 "},
};

static char big_head[METRICS_HEAD_MAX + 1024];

typedef struct {
    metrics *m;
    metrics_listener *l[NLISTENERS];
    int port[NLISTENERS];
} listeners;

static void listeners_start(listeners *ls)
{
    static const char *const one[] = {""};
    metrics_learned_fn fn[NLISTENERS] = {NULL, learned_text, learned_text};
    void *arg[NLISTENERS] = {NULL, (void *)LEARNED, NULL};
    ls->m = metrics_new(1, one);
    for (int i = 0; i < NLISTENERS; i++) {
        char err[256], addr[32];
        ls->port[i] = free_port();
        snprintf(addr, sizeof(addr), "127.0.0.1:%d", ls->port[i]);
        ls->l[i] = metrics_listen(&loop, addr, ls->m, fn[i], arg[i], err, sizeof(err));
        CHECK(ls->l[i] != NULL, "listen on %s: %s", addr, err);
    }
}

static void listeners_stop(listeners *ls)
{
    for (int i = 0; i < NLISTENERS; i++)
        metrics_close(ls->l[i]);
    uv_run(&loop, UV_RUN_DEFAULT);
    metrics_free(ls->m);
}

static void test_listener_rows(void)
{
    listeners ls;
    listeners_start(&ls);
    memcpy(big_head, "GET /metrics HTTP/1.1\r\nX: ", 26);
    memset(big_head + 26, 'a', sizeof(big_head) - 27);
    static client c;
    for (size_t i = 0; i < sizeof(lrows) / sizeof(lrows[0]); i++) {
        const lrow *r = &lrows[i];
        const char *req = r->request ? r->request : big_head;
        client_start(&c, ls.port[r->listener], req, strlen(req));
        run_until_done(&c);
        CHECK(strncmp(c.got, r->status, strlen(r->status)) == 0, "%s: status; got %.80s", r->name, c.got);
        for (int k = 0; k < 3 && r->has[k]; k++)
            CHECK(strstr(c.got, r->has[k]) != NULL, "%s: has %s; got %.300s", r->name, r->has[k], c.got);
        CHECK(!r->not_has || !strstr(c.got, r->not_has), "%s: has no %s", r->name, r->not_has);
        const char *cl = strstr(c.got, "Content-Length: "), *body = strstr(c.got, "\r\n\r\n");
        bool head = strncmp(req, "HEAD ", 5) == 0;
        CHECK(cl && body && (head || (size_t)atol(cl + 16) == c.got_len - (size_t)(body + 4 - c.got)),
              "%s: the body is as long as its Content-Length (none for HEAD)", r->name);
        CHECK(!head || (size_t)(body + 4 - c.got) == c.got_len, "%s: HEAD has no body", r->name);
    }
    listeners_stop(&ls);
}

/* METRICS_MAX_CONNS connections with unfinished heads: the next is closed
 * at accept, unanswered; then metrics_close ends the held ones. */
static void test_listener_bound_and_close(void)
{
    listeners ls;
    listeners_start(&ls);
    static client held[METRICS_MAX_CONNS], extra;
    for (int i = 0; i < METRICS_MAX_CONNS; i++)
        client_start(&held[i], ls.port[PLAIN], "GET /metr", 9);
    for (int i = 0; i < 50; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    client_start(&extra, ls.port[PLAIN], "", 0);
    run_until_done(&extra);
    CHECK(extra.got_len == 0, "beyond the bound: closed unanswered (%zu bytes)", extra.got_len);
    int open = 0;
    for (int i = 0; i < METRICS_MAX_CONNS; i++)
        open += !held[i].done;
    CHECK(open == METRICS_MAX_CONNS, "the held ones are still open: %d", open);
    for (int i = 0; i < NLISTENERS; i++)
        metrics_close(ls.l[i]);
    for (int i = 0; i < METRICS_MAX_CONNS; i++) {
        run_until_done(&held[i]);
        CHECK(held[i].got_len == 0, "closed by metrics_close, unanswered");
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    metrics_free(ls.m);
}

static void test_listener_errors(void)
{
    static const char *const bad[] = {"localhost:9100", "127.0.0.1", "127.0.0.1:0", "[::1]", "::1:9100",
                                      "127.0.0.1:9100,[::1]:9100", "", " 127.0.0.1:9100"};
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CHECK(metrics_listen(&loop, bad[i], NULL, NULL, NULL, err, sizeof(err)) == NULL, "%s refused", bad[i]);
        CHECK(strncmp(err, "SOCKET_PROXY_METRICS=\"", 22) == 0 && strstr(err, "one numeric address with a port"),
              "%s: %s", bad[i], err);
    }
    listeners ls;
    listeners_start(&ls);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", ls.port[PLAIN]);
    CHECK(metrics_listen(&loop, addr, ls.m, NULL, NULL, err, sizeof(err)) == NULL, "a port in use");
    CHECK(strncmp(err, "SOCKET_PROXY_METRICS: cannot listen on 127.0.0.1:", 49) == 0 && strstr(err, "in use"),
          "the error names the variable and the address: %s", err);
    listeners_stop(&ls);
}

int main(void)
{
    uv_loop_init(&loop);
    test_known_sequence();
    test_series_cap();
    test_null_is_a_no_op();
    test_listener_rows();
    test_listener_bound_and_close();
    test_listener_errors();
    CHECK(uv_loop_close(&loop) == 0, "every handle closed");
    return unit_summary("test_metrics");
}
