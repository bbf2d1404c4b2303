/* The healthcheck client: blocking sockets bounded by one deadline, no
 * libuv, no child processes, one line on stderr when unhealthy. */
#include "health.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "unhealthy: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

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

int health_main(const config *cfg, int argc, char **argv)
{
    int64_t timeout = 3000;
    const char *sock = NULL, *url = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        if (eq)
            v = eq + 1;
        else if (i + 1 < argc)
            v = argv[i + 1];
        if ((n == 9 && strncmp(a, "--timeout", n) == 0) || (n == 8 && strncmp(a, "--socket", n) == 0) ||
            (n == 5 && strncmp(a, "--url", n) == 0)) {
            if (!v) {
                fprintf(stderr, "healthcheck: %.*s needs a value\n", (int)n, a);
                return 2;
            }
            if (!eq)
                i++;
            if (a[2] == 't') {
                timeout = config_parse_duration(v);
                if (timeout <= 0) {
                    fprintf(stderr, "healthcheck: --timeout=%s is invalid: use a duration such as 3s or 500ms\n", v);
                    return 2;
                }
            } else if (a[2] == 's') {
                sock = v;
            } else {
                url = v;
            }
        } else {
            fprintf(stderr, "healthcheck: unknown option %s (use --timeout D, --socket PATH, --url tcp://HOST:PORT)\n", a);
            return 2;
        }
    }
    int64_t deadline = now_ms() + timeout;

    /* Where to connect: --socket, --url, our own socket, or our first TCP listener. */
    struct sockaddr_storage ss;
    socklen_t slen;
    char where[160];
    memset(&ss, 0, sizeof(ss));
    if (!sock && !url && cfg->unix_path[0])
        sock = cfg->unix_path;
    if (sock) {
        struct sockaddr_un *sa = (struct sockaddr_un *)&ss;
        if (strlen(sock) >= sizeof(sa->sun_path)) {
            fprintf(stderr, "healthcheck: socket path too long: %s\n", sock);
            return 2;
        }
        sa->sun_family = AF_UNIX;
        strcpy(sa->sun_path, sock);
        slen = sizeof(*sa);
        snprintf(where, sizeof(where), "unix:%s", sock);
    } else {
        char host[80];
        int port;
        if (url) {
            const char *p = url;
            if (strncmp(p, "tcp://", 6) == 0)
                p += 6;
            else if (strncmp(p, "http://", 7) == 0)
                p += 7;
            const char *colon = strrchr(p, ':');
            const char *slash = strchr(p, '/');
            size_t hl = colon ? (size_t)(colon - p) : 0;
            port = colon ? atoi(colon + 1) : 0;
            if (!colon || hl == 0 || hl >= sizeof(host) || port <= 0 || port > 65535 || (slash && slash < colon)) {
                fprintf(stderr, "healthcheck: --url=%s is invalid: use tcp://HOST:PORT with a numeric address\n", url);
                return 2;
            }
            memcpy(host, p, hl);
            host[hl] = '\0';
            if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
                memmove(host, host + 1, hl - 2);
                host[hl - 2] = '\0';
            }
        } else if (cfg->nlisten > 0) {
            const config_listen *l = &cfg->listen[0];
            snprintf(host, sizeof(host), "%s", strcmp(l->host, "::") == 0 ? "::1"
                                              : strcmp(l->host, "0.0.0.0") == 0 ? "127.0.0.1" : l->host);
            port = l->port;
        } else {
            fprintf(stderr, "healthcheck: nothing to check: no Unix socket and no TCP listener configured\n");
            return 2;
        }
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
            s4->sin_family = AF_INET;
            s4->sin_port = htons((uint16_t)port);
            slen = sizeof(*s4);
        } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons((uint16_t)port);
            slen = sizeof(*s6);
        } else {
            fprintf(stderr, "healthcheck: %s is not a numeric address\n", host);
            return 2;
        }
        snprintf(where, sizeof(where), strchr(host, ':') ? "tcp:[%s]:%d" : "tcp:%s:%d", host, port);
    }

    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return fail("cannot create a socket: %s%s", strerror(errno), "");
    if (connect(fd, (struct sockaddr *)&ss, slen) != 0) {
        if (errno != EINPROGRESS && errno != EAGAIN) {
            int e = errno;
            close(fd);
            return fail("proxy not listening on %s: %s", where, strerror(e));
        }
        if (wait_fd(fd, POLLOUT, deadline) < 0) {
            close(fd);
            return fail("timed out connecting to the proxy on %s%s", where, "");
        }
        int e = 0;
        socklen_t el = sizeof(e);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) {
            close(fd);
            return fail("proxy not listening on %s: %s", where, strerror(e));
        }
    }
    static const char req[] = "GET /_ping HTTP/1.1\r\nHost: socket-proxy\r\nUser-Agent: socket-proxy-healthcheck\r\n"
                              "Connection: close\r\n\r\n";
    size_t off = 0;
    while (off < sizeof(req) - 1) {
        if (wait_fd(fd, POLLOUT, deadline) < 0) {
            close(fd);
            return fail("timed out sending to the proxy on %s%s", where, "");
        }
        ssize_t w = send(fd, req + off, sizeof(req) - 1 - off, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            int e = errno;
            close(fd);
            return fail("proxy on %s dropped the connection: %s", where, strerror(e));
        }
        off += w > 0 ? (size_t)w : 0;
    }
    char resp[4096];
    size_t len = 0;
    for (;;) {
        if (len == sizeof(resp) - 1)
            break;
        if (wait_fd(fd, POLLIN, deadline) < 0) {
            close(fd);
            return fail("timed out waiting for /_ping through the proxy on %s%s", where, "");
        }
        ssize_t r = recv(fd, resp + len, sizeof(resp) - 1 - len, 0);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            break;
        }
        len += (size_t)r;
        resp[len] = '\0';
        char *end = strstr(resp, "\r\n\r\n");
        if (end && strncmp(resp, "HTTP/1.", 7) == 0 && strncmp(resp + 9, "200", 3) == 0)
            break; /* healthy; no need for the body */
    }
    close(fd);
    resp[len] = '\0';
    if (len < 12 || strncmp(resp, "HTTP/1.", 7) != 0)
        return fail("no HTTP answer from the proxy on %s%s", where, "");
    int status = atoi(resp + 9);
    if (status == 200)
        return 0;
    /* The proxy's own errors carry {"message": "..."}: show it. */
    const char *msg = strstr(resp, "\"message\":\"");
    char text[512] = "";
    if (msg) {
        msg += 11;
        size_t i = 0;
        while (msg[i] && msg[i] != '"' && i < sizeof(text) - 1) {
            text[i] = msg[i];
            i++;
        }
        text[i] = '\0';
    }
    if (status == 403)
        return fail("/_ping is not granted (PING=0): %s%s", text, "");
    if (status == 502)
        return fail("the Docker daemon is unreachable behind the proxy: %s%s", text, "");
    char code[16];
    snprintf(code, sizeof(code), "%d", status);
    return fail("/_ping answered %s %s", code, text);
}
