/* The healthcheck client: blocking sockets bounded by one deadline, no
 * libuv, no child processes, one line on stderr when unhealthy. Three steps:
 * the options, the address to check, and the exchange (GET /_ping), whose
 * answer is read with the proxy's own response parser. With TLS on, a TCP
 * address is checked over TLS (core/tls.c's client): the proxy's certificate
 * must be the one in its configured certificate file, and --cert/--key, or
 * cert.pem / key.pem from SOCKET_PROXY_TLS_DIR when they are there (Docker's
 * client file names), are presented as the client certificate. */
#include "health.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/http1.h"
#include "core/log.h"
#include "core/tls.h"

/* Exit codes: healthy, unhealthy, bad usage. */
enum { HEALTHY = 0, UNHEALTHY = 1, USAGE = 2 };

typedef struct {
    int64_t timeout_ms;
    const char *socket; /* --socket PATH */
    const char *url;    /* --url tcp://HOST:PORT */
    const char *profile; /* --profile NAME */
    const char *cert, *key; /* --cert FILE --key FILE: a TLS client certificate */
} health_opts;

typedef struct {
    struct sockaddr_storage ss;
    socklen_t len;
    char where[160]; /* "unix:/run/proxy/docker.sock", "tcp:127.0.0.1:2375" */
} health_addr;

/* The connection: a socket, and its TLS session when there is one. */
typedef struct {
    int fd;
    tls_client *tls;
} health_conn;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line on stderr: "unhealthy: ..." or, for bad usage, "healthcheck: ...".
 * Returns the exit code. */
static int report(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int report(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(code == USAGE ? "healthcheck: " : "unhealthy: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* ---- options ---- */

static int parse_options(int argc, char **argv, health_opts *o)
{
    static const struct option longopts[] = {
        {"timeout", required_argument, NULL, 't'},
        {"socket", required_argument, NULL, 0},
        {"url", required_argument, NULL, 1},
        {"profile", required_argument, NULL, 2},
        {"cert", required_argument, NULL, 3},
        {"key", required_argument, NULL, 4},
        {NULL, 0, NULL, 0},
    };
    *o = (health_opts){.timeout_ms = 3000};
    opterr = 0; /* our own messages */
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
        switch (ch) {
        case 't':
            o->timeout_ms = config_parse_duration(optarg);
            if (o->timeout_ms <= 0)
                return report(USAGE, "--timeout=%s is invalid: use a duration such as 3s or 500ms", optarg);
            break;
        case 0: case 1: case 2: case 3: case 4: { /* the options with a text value, in longopts' order */
            const char **value[] = {&o->socket, &o->url, &o->profile, &o->cert, &o->key};
            *value[ch] = optarg;
            break;
        }
        case ':':
            return report(USAGE, "%s needs a value", argv[optind - 1]);
        default:
            return report(USAGE, "unknown option %s (use --timeout D, --socket PATH, --url tcp://HOST:PORT, --profile NAME, "
                          "--cert FILE --key FILE)",
                          argv[optind - 1]);
        }
    }
    if (optind < argc)
        return report(USAGE, "unknown argument %s (use --timeout D, --socket PATH, --url tcp://HOST:PORT, --profile NAME, "
                      "--cert FILE --key FILE)", argv[optind]);
    if (!o->cert != !o->key)
        return report(USAGE, "--cert and --key go together: a client certificate and its key");
    return HEALTHY;
}

/* ---- the address to check ---- */

static int unix_address(const char *path, health_addr *a)
{
    struct sockaddr_un *sa = (struct sockaddr_un *)&a->ss;
    if (strlen(path) >= sizeof(sa->sun_path))
        return report(USAGE, "socket path too long: %s", path);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, strlen(path) + 1);
    a->len = sizeof(*sa);
    snprintf(a->where, sizeof(a->where), "unix:%s", path);
    return HEALTHY;
}

static int tcp_address(const char *host, int port, health_addr *a)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        a->len = sizeof(*s4);
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        a->len = sizeof(*s6);
    } else {
        return report(USAGE, "%s is not a numeric address", host);
    }
    char at[80];
    snprintf(a->where, sizeof(a->where), "tcp:%s", log_hostport(at, sizeof(at), host, port));
    return HEALTHY;
}

/* "tcp://HOST:PORT" (or http://), HOST numeric, IPv6 in brackets. */
static int url_address(const char *url, health_addr *a)
{
    const char *p = url;
    if (strncmp(p, "tcp://", 6) == 0)
        p += 6;
    else if (strncmp(p, "http://", 7) == 0)
        p += 7;
    const char *colon = strrchr(p, ':'), *slash = strchr(p, '/');
    char host[80], *end = NULL;
    size_t hl = colon ? (size_t)(colon - p) : 0;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || hl == 0 || hl >= sizeof(host) || !colon[1] || *end || port <= 0 || port > 65535 ||
        (slash && slash < colon))
        return report(USAGE, "--url=%s is invalid: use tcp://HOST:PORT with a numeric address", url);
    memcpy(host, p, hl);
    host[hl] = '\0';
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    return tcp_address(host, (int)port, a);
}

/* The profile to check through: --profile's, else the first that listens. */
static const profile *choose_profile(const profiles *ps, const health_opts *o)
{
    if (o->profile) {
        const profile *p = profiles_find(ps, o->profile);
        if (!p)
            report(USAGE, "--profile=%s: no such profile (SOCKET_PROXY_PROFILES=%s)", o->profile, ps->names_text);
        return p;
    }
    for (int i = 0; i < ps->n; i++)
        if (ps->p[i].unix_path[0] || ps->p[i].nlisten)
            return &ps->p[i];
    return &ps->p[0];
}

/* --socket, --url, or the profile's socket, or its first TCP listener (a
 * wildcard address is checked through loopback). */
static int choose_address(const profiles *ps, const health_opts *o, health_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (o->socket)
        return unix_address(o->socket, a);
    if (o->url)
        return url_address(o->url, a);
    const profile *cfg = choose_profile(ps, o);
    if (!cfg)
        return USAGE;
    if (cfg->unix_path[0])
        return unix_address(cfg->unix_path, a);
    if (cfg->nlisten == 0)
        return report(USAGE, "nothing to check: no Unix socket and no TCP listener configured");
    const config_listen *l = &cfg->listen[0];
    const char *host = strcmp(l->host, "::") == 0 ? "::1" : strcmp(l->host, "0.0.0.0") == 0 ? "127.0.0.1" : l->host;
    return tcp_address(host, l->port, a);
}

/* ---- the exchange ---- */

/* Waits for fd to be ready for events until deadline; 0 ok, -1 timeout. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return 0; /* let the next syscall report it */
    }
}

static int connect_by(const health_addr *a, int64_t deadline, int *out)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return report(UNHEALTHY, "cannot create a socket: %s", strerror(errno));
    int e = 0;
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) != 0) {
        e = errno;
        if (e == EINPROGRESS || e == EAGAIN) {
            if (wait_fd(fd, POLLOUT, deadline) < 0) {
                close(fd);
                return report(UNHEALTHY, "timed out connecting to the proxy on %s", a->where);
            }
            socklen_t el = sizeof(e);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
        }
    }
    if (e) {
        close(fd);
        return report(UNHEALTHY, "proxy not listening on %s: %s", a->where, strerror(e));
    }
    *out = fd;
    return HEALTHY;
}

static int send_ping(const health_conn *hc, const health_addr *a, int64_t deadline)
{
    static const char req[] = "GET /_ping HTTP/1.1\r\nHost: socket-proxy\r\nUser-Agent: socket-proxy-healthcheck\r\n"
                              "Connection: close\r\n\r\n";
    int fd = hc->fd;
    if (hc->tls && tls_client_send(hc->tls, req, sizeof(req) - 1) < 0)
        return report(UNHEALTHY, "proxy on %s dropped the TLS connection", a->where);
    size_t off = hc->tls ? sizeof(req) - 1 : 0;
    while (off < sizeof(req) - 1) {
        if (wait_fd(fd, POLLOUT, deadline) < 0)
            return report(UNHEALTHY, "timed out sending to the proxy on %s", a->where);
        ssize_t w = send(fd, req + off, sizeof(req) - 1 - off, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return report(UNHEALTHY, "proxy on %s dropped the connection: %s", a->where, strerror(errno));
        off += w > 0 ? (size_t)w : 0;
    }
    return HEALTHY;
}

/* Reads the answer until its head is parsed and, unless it is a 200, until
 * its Content-Length body (the proxy's {"message": ...}) or the end. */
static int read_answer(const health_conn *hc, const health_addr *a, int64_t deadline, char *buf, size_t cap,
                       h1_response *res, ssize_t *head)
{
    int fd = hc->fd;
    size_t len = 0;
    *head = H1_INCOMPLETE;
    for (;;) {
        if (*head > 0 && (res->status == 200 || res->content_length < 0 ||
                          len >= (size_t)*head + (size_t)res->content_length))
            break;
        if (len == cap - 1)
            break;
        /* TLS may hold decrypted bytes already: its client waits for the socket itself. */
        if (!hc->tls && wait_fd(fd, POLLIN, deadline) < 0)
            return report(UNHEALTHY, "timed out waiting for /_ping through the proxy on %s", a->where);
        ssize_t r = hc->tls ? tls_client_recv(hc->tls, buf + len, cap - 1 - len) : recv(fd, buf + len, cap - 1 - len, 0);
        if (r < 0 && hc->tls && errno == ETIMEDOUT)
            return report(UNHEALTHY, "timed out waiting for /_ping through the proxy on %s", a->where);
        if (r < 0 && !hc->tls && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        if (*head <= 0) {
            *head = h1_parse_response(buf, len, cap - 1, res);
            if (*head == H1_ERROR)
                break;
        }
    }
    buf[len] = '\0';
    if (*head <= 0)
        return report(UNHEALTHY, "no HTTP answer from the proxy on %s", a->where);
    return HEALTHY;
}

/* The proxy's own errors carry {"message": "..."}: show it. */
static void answer_message(const char *body, char *out, size_t cap)
{
    out[0] = '\0';
    cJSON *o = cJSON_Parse(body);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "message");
    if (cJSON_IsString(m))
        snprintf(out, cap, "%s", m->valuestring);
    cJSON_Delete(o);
}

/* With TLS on, a TCP connection starts with the handshake: the proxy is
 * known by its own certificate file (pinned: whichever CA signed it), and a
 * client certificate comes from --cert/--key, else cert.pem/key.pem in
 * SOCKET_PROXY_TLS_DIR when they are there. */
static int start_tls(const config *cfg, const health_opts *o, health_conn *hc, const health_addr *a,
                     int64_t deadline)
{
    if (!cfg->tls || a->ss.ss_family == AF_UNIX)
        return HEALTHY;
    char cert[300] = "", key[300] = "", err[600];
    const char *dir = getenv("SOCKET_PROXY_TLS_DIR");
    if (o->cert) {
        snprintf(cert, sizeof(cert), "%s", o->cert);
        snprintf(key, sizeof(key), "%s", o->key);
    } else if (dir && *dir) {
        snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
        snprintf(key, sizeof(key), "%s/key.pem", dir);
        if (access(cert, R_OK) != 0 || access(key, R_OK) != 0)
            cert[0] = key[0] = '\0';
    }
    int64_t left = deadline - now_ms();
    hc->tls = tls_client_open(hc->fd, NULL, cfg->tls_files.cert, cert[0] ? cert : NULL, key[0] ? key : NULL,
                              left > 0 ? (int)left : 1, err, sizeof(err));
    if (!hc->tls)
        return report(UNHEALTHY, "proxy on %s: %s", a->where, err);
    return HEALTHY;
}

int health_main(const config *cfg, const profiles *ps, int argc, char **argv)
{
    health_opts o;
    health_addr a;
    int rc = parse_options(argc, argv, &o);
    if (rc == HEALTHY)
        rc = choose_address(ps, &o, &a);
    if (rc != HEALTHY)
        return rc;
    int64_t deadline = now_ms() + o.timeout_ms;
    health_conn hc = {.fd = -1};
    if ((rc = connect_by(&a, deadline, &hc.fd)) != HEALTHY)
        return rc;
    char buf[8192];
    h1_response res;
    ssize_t head;
    rc = start_tls(cfg, &o, &hc, &a, deadline);
    if (rc == HEALTHY)
        rc = send_ping(&hc, &a, deadline);
    if (rc == HEALTHY)
        rc = read_answer(&hc, &a, deadline, buf, sizeof(buf), &res, &head);
    tls_client_close(hc.tls);
    close(hc.fd);
    if (rc != HEALTHY)
        return rc;
    if (res.status == 200)
        return HEALTHY;
    char text[512];
    answer_message(buf + head, text, sizeof(text));
    /* "... (needs DOZZLE__PING=1)": name the profile's variable; a 403 for
     * another reason (PEER_UIDS) is not about PING at all. */
    const char *ping = strstr(text, "PING=1"), *var = ping;
    while (var && var > text && (isupper((unsigned char)var[-1]) || isdigit((unsigned char)var[-1]) || var[-1] == '_'))
        var--;
    if (res.status == 403 && ping)
        return report(UNHEALTHY, "/_ping is not granted (%.*s=0): %s", (int)(ping - var) + 4, var, text);
    if (res.status == 403)
        return report(UNHEALTHY, "/_ping was refused: %s", text);
    if (res.status == 502)
        return report(UNHEALTHY, "the Docker daemon is unreachable behind the proxy: %s", text);
    return report(UNHEALTHY, "/_ping answered %d %s", res.status, text);
}
