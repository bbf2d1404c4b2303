/* TLS load generator for bench/tls.py: blocking sockets, one thread per
 * connection, OpenSSL (a bench tool only: the proxy itself uses mbed TLS).
 *
 *   tlsload -t HOST:PORT [-m hs|ka|bulk] [-c CONNS] [-d SECONDS] [-r "METHOD PATH"]
 *           [-a CA -e CERT -k KEY] [-s CIPHERS] [-g GROUPS] [-p] [-q]
 *
 * Modes:
 *   hs    a new connection per request: connect, a full TLS handshake (no
 *         resumption: no tickets, no session kept), one request with
 *         "Connection: close", the whole response, read to the server's close,
 *         close_notify, close (default request GET /_ping)
 *   ka    keep-alive: each connection shakes hands once, then sends a request,
 *         reads the whole response, sends the next (default GET /_ping)
 *   bulk  like ka with a large answer (default GET /containers/bench/export);
 *         reports body MiB/s
 *
 * TLS 1.2 only, the cipher list -s (default ECDHE-ECDSA-AES128-GCM-SHA256) and
 * the ECDHE groups -g (default P-256). The server's chain is verified against
 * -a and its certificate must name HOST (an IP SAN); -e/-k is the client
 * certificate. -p: clear TCP instead of TLS. Every response is validated:
 * HTTP/1.x 200, framed by Content-Length or chunked encoding.
 *
 * Each connection runs until SECONDS have passed and finishes the request it
 * is in: every request begun is counted, and the time is until the last one
 * ended. The last line is machine-readable:
 *   RESULT mode=hs conns=N secs=S requests=N errors=N rps=R p50_us=L body_bytes=B
 *          mibps=M resumed=N version=TLSv1.2 cipher=... group=... lib=OpenSSL-3.0.x
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { M_HS, M_KA, M_BULK };
static const char *mode_names[] = {"hs", "ka", "bulk"};

static int mode = M_HS;
static int nconns = 1;
static double duration = 3.0;
static const char *req_line;
static const char *ca_file, *cert_file, *key_file;
static const char *ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
static const char *groups = "P-256";
static bool plain, quiet;
static char host[256];
static struct sockaddr_in addr;
static char *request;
static size_t request_len;

static atomic_int stop_flag;
static atomic_uint errors_printed;
static pthread_mutex_t info_lock = PTHREAD_MUTEX_INITIALIZER;
static char info_version[32] = "-", info_cipher[64] = "-", info_group[32] = "-";

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- one connection: a socket, maybe a TLS session, a read buffer ---- */

#define RBUF (1 << 16)

typedef struct worker {
    pthread_t th;
    SSL_CTX *ctx;
    int fd;
    SSL *ssl;
    char *buf;
    size_t pos, len; /* unread bytes: buf[pos, len) */
    bool eof;
    /* results */
    uint64_t requests, errors, body_bytes, resumed, t_end;
    uint64_t *lat;
    size_t nlat, caplat;
} worker;

static void fail(worker *w, const char *what)
{
    w->errors++;
    if (atomic_fetch_add(&errors_printed, 1) < 5) {
        fprintf(stderr, "tlsload: %s (errno %d: %s)\n", what, errno, strerror(errno));
        ERR_print_errors_fp(stderr);
    }
    ERR_clear_error();
}

static void conn_close(worker *w, bool clean)
{
    if (w->ssl) {
        if (clean)
            SSL_shutdown(w->ssl); /* close_notify; the server's is not waited for */
        SSL_free(w->ssl);
        w->ssl = NULL;
    }
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->pos = w->len = 0;
    w->eof = false;
    ERR_clear_error(); /* e.g. an EOF without close_notify, read after the answer */
}

static void note_session(SSL *ssl)
{
    pthread_mutex_lock(&info_lock);
    if (info_version[0] == '-') {
        snprintf(info_version, sizeof(info_version), "%s", SSL_get_version(ssl));
        snprintf(info_cipher, sizeof(info_cipher), "%s", SSL_get_cipher_name(ssl));
        EVP_PKEY *k = NULL;
        if (SSL_get_peer_tmp_key(ssl, &k) == 1) {
            size_t n = 0;
            if (EVP_PKEY_get_group_name(k, info_group, sizeof(info_group), &n) != 1 || n == 0)
                snprintf(info_group, sizeof(info_group), "%s", EVP_PKEY_get0_type_name(k));
            EVP_PKEY_free(k);
        }
    }
    pthread_mutex_unlock(&info_lock);
}

static bool conn_open(worker *w)
{
    w->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (w->fd < 0) {
        fail(w, "socket");
        return false;
    }
    int one = 1;
    setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = {.tv_sec = 10};
    setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(w->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        fail(w, "connect");
        conn_close(w, false);
        return false;
    }
    if (plain)
        return true;
    w->ssl = SSL_new(w->ctx);
    if (!w->ssl || !SSL_set_fd(w->ssl, w->fd) || !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(w->ssl), host)) {
        fail(w, "SSL_new");
        conn_close(w, false);
        return false;
    }
    if (SSL_connect(w->ssl) != 1) {
        fail(w, "TLS handshake");
        conn_close(w, false);
        return false;
    }
    if (SSL_session_reused(w->ssl))
        w->resumed++;
    note_session(w->ssl);
    return true;
}

/* Reads more into the buffer (compacted first); false at the end or on an error. */
static bool fill(worker *w)
{
    if (w->pos == w->len)
        w->pos = w->len = 0;
    else if (w->pos > 0 && w->len == RBUF) {
        memmove(w->buf, w->buf + w->pos, w->len - w->pos);
        w->len -= w->pos;
        w->pos = 0;
    }
    if (w->len == RBUF)
        return false;
    ssize_t n;
    if (w->ssl) {
        n = SSL_read(w->ssl, w->buf + w->len, (int)(RBUF - w->len));
        if (n <= 0 && SSL_get_error(w->ssl, (int)n) == SSL_ERROR_ZERO_RETURN)
            w->eof = true;
    } else {
        do
            n = recv(w->fd, w->buf + w->len, RBUF - w->len, 0);
        while (n < 0 && errno == EINTR);
        if (n == 0)
            w->eof = true;
    }
    if (n <= 0)
        return false;
    w->len += (size_t)n;
    return true;
}

static bool send_all(worker *w, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k;
        if (w->ssl)
            k = SSL_write(w->ssl, p, (int)n);
        else
            k = send(w->fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) {
            if (!w->ssl && k < 0 && errno == EINTR)
                continue;
            return false;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* A line ending in CRLF at buf[pos]: its length (without CRLF), reading more as
 * needed; -1 on an error or a line longer than the buffer. */
static ssize_t line(worker *w)
{
    size_t scan = w->pos;
    for (;;) {
        char *nl = memchr(w->buf + scan, '\n', w->len - scan);
        if (nl) {
            size_t n = (size_t)(nl - (w->buf + w->pos));
            return n > 0 && nl[-1] == '\r' ? (ssize_t)n - 1 : -1;
        }
        scan = w->len;
        size_t before = w->pos;
        if (!fill(w))
            return -1;
        scan -= before - w->pos; /* fill may have moved the bytes to the front */
    }
}

/* Drops n body bytes (reading them). */
static bool skip(worker *w, uint64_t n)
{
    while (n > 0) {
        if (w->pos == w->len && !fill(w))
            return false;
        size_t k = w->len - w->pos;
        if (k > n)
            k = (size_t)n;
        w->pos += k;
        n -= k;
        w->body_bytes += k;
    }
    return true;
}

/* One whole response: 200, framed by Content-Length or chunked. */
static bool response(worker *w)
{
    ssize_t n = line(w);
    if (n < 12 || strncmp(w->buf + w->pos, "HTTP/1.", 7) != 0 || strncmp(w->buf + w->pos + 8, " 200", 4) != 0) {
        errno = 0;
        return false;
    }
    w->pos += (size_t)n + 2;
    int64_t length = -1;
    bool chunked = false;
    while ((n = line(w)) > 0) {
        char *h = w->buf + w->pos;
        if (n > 15 && strncasecmp(h, "Content-Length:", 15) == 0)
            length = strtoll(h + 15, NULL, 10);
        else if (n > 18 && strncasecmp(h, "Transfer-Encoding:", 18) == 0 && memmem(h, (size_t)n, "chunked", 7))
            chunked = true;
        w->pos += (size_t)n + 2;
    }
    if (n < 0)
        return false;
    w->pos += 2;
    if (!chunked)
        return length >= 0 && skip(w, (uint64_t)length);
    for (;;) {
        n = line(w);
        if (n <= 0)
            return false;
        uint64_t size = strtoull(w->buf + w->pos, NULL, 16);
        w->pos += (size_t)n + 2;
        if (size == 0) {
            while ((n = line(w)) > 0) /* trailers */
                w->pos += (size_t)n + 2;
            if (n < 0)
                return false;
            w->pos += 2;
            return true;
        }
        if (!skip(w, size) || line(w) != 0)
            return false;
        w->pos += 2;
    }
}

static void record(worker *w, uint64_t t0)
{
    w->requests++;
    if (w->nlat == w->caplat) {
        w->caplat = w->caplat ? 2 * w->caplat : 4096;
        w->lat = realloc(w->lat, w->caplat * sizeof(uint64_t));
    }
    w->lat[w->nlat++] = now_ns() - t0;
}

static void *run(void *arg)
{
    worker *w = arg;
    while (!atomic_load(&stop_flag)) {
        uint64_t t0 = now_ns();
        if (w->fd < 0 && !conn_open(w)) {
            usleep(1000);
            continue;
        }
        if (!send_all(w, request, request_len)) {
            fail(w, "send");
            conn_close(w, false);
            continue;
        }
        if (!response(w)) {
            fail(w, "response");
            conn_close(w, false);
            continue;
        }
        record(w, t0);
        if (mode == M_HS) {
            /* the server closes after the answer: read to its end, so that
             * close() does not reset the connection */
            while (!w->eof && (w->pos < w->len || fill(w)))
                w->pos = w->len;
            conn_close(w, true);
        }
    }
    conn_close(w, true);
    w->t_end = now_ns();
    return NULL;
}

static SSL_CTX *make_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) || !SSL_CTX_set_cipher_list(ctx, ciphers) ||
        !SSL_CTX_set1_groups_list(ctx, groups) || !SSL_CTX_load_verify_locations(ctx, ca_file, NULL) ||
        (cert_file && SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) ||
        (key_file && SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)) {
        fprintf(stderr, "tlsload: TLS set-up failed\n");
        ERR_print_errors_fp(stderr);
        exit(2);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: tlsload -t HOST:PORT [-m hs|ka|bulk] [-c CONNS] [-d SECONDS] [-r \"METHOD PATH\"]\n"
                    "               [-a CA -e CERT -k KEY] [-s CIPHERS] [-g GROUPS] [-p] [-q]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int opt;
    const char *tcp = NULL;
    while ((opt = getopt(argc, argv, "t:m:c:d:r:a:e:k:s:g:pq")) != -1) {
        switch (opt) {
        case 't': tcp = optarg; break;
        case 'm':
            for (mode = M_BULK; mode >= 0 && strcmp(optarg, mode_names[mode]) != 0; mode--)
                ;
            if (mode < 0)
                usage();
            break;
        case 'c': nconns = atoi(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'r': req_line = optarg; break;
        case 'a': ca_file = optarg; break;
        case 'e': cert_file = optarg; break;
        case 'k': key_file = optarg; break;
        case 's': ciphers = optarg; break;
        case 'g': groups = optarg; break;
        case 'p': plain = true; break;
        case 'q': quiet = true; break;
        default: usage();
        }
    }
    const char *colon = tcp ? strrchr(tcp, ':') : NULL;
    if (!colon || (size_t)(colon - tcp) >= sizeof(host) || nconns < 1 || (!plain && !ca_file) ||
        (!cert_file) != (!key_file))
        usage();
    memcpy(host, tcp, (size_t)(colon - tcp));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "tlsload: need an IPv4 address: %s\n", host);
        return 2;
    }
    if (!req_line)
        req_line = mode == M_BULK ? "GET /containers/bench/export" : "GET /_ping";
    size_t cap = strlen(req_line) + 128;
    request = malloc(cap);
    request_len = (size_t)snprintf(request, cap, "%s HTTP/1.1\r\nHost: docker\r\n%s\r\n", req_line,
                                   mode == M_HS ? "Connection: close\r\n" : "");
    signal(SIGPIPE, SIG_IGN);

    worker *ws = calloc((size_t)nconns, sizeof(worker));
    for (int i = 0; i < nconns; i++) {
        ws[i].fd = -1;
        ws[i].buf = malloc(RBUF);
        ws[i].ctx = plain ? NULL : make_ctx(); /* one each: no lock shared between the threads */
    }
    uint64_t t0 = now_ns();
    for (int i = 0; i < nconns; i++)
        if (pthread_create(&ws[i].th, NULL, run, &ws[i]) != 0) {
            perror("tlsload: pthread_create");
            return 2;
        }
    struct timespec d = {.tv_sec = (time_t)duration, .tv_nsec = (long)((duration - (double)(time_t)duration) * 1e9)};
    while (nanosleep(&d, &d) != 0 && errno == EINTR)
        ;
    atomic_store(&stop_flag, 1);

    uint64_t requests = 0, errors = 0, body = 0, resumed = 0, t_end = t0, nlat = 0;
    for (int i = 0; i < nconns; i++) {
        pthread_join(ws[i].th, NULL);
        requests += ws[i].requests;
        errors += ws[i].errors;
        body += ws[i].body_bytes;
        resumed += ws[i].resumed;
        nlat += ws[i].nlat;
        if (ws[i].t_end > t_end)
            t_end = ws[i].t_end;
    }
    uint64_t *lat = malloc((nlat + 1) * sizeof(uint64_t));
    size_t k = 0;
    for (int i = 0; i < nconns; i++) {
        memcpy(lat + k, ws[i].lat, ws[i].nlat * sizeof(uint64_t));
        k += ws[i].nlat;
    }
    qsort(lat, nlat, sizeof(uint64_t), cmp_u64);
    double secs = (double)(t_end - t0) / 1e9;
    double rps = (double)requests / secs, mibps = (double)body / secs / 1048576.0;
    double p50 = nlat ? (double)lat[nlat / 2] / 1e3 : 0;
    if (!quiet)
        fprintf(stderr, "%s %s%s: %d conns, %.2f s: %llu requests, %.0f req/s, %.1f MiB/s, p50 %.1f us, %llu errors\n",
                mode_names[mode], plain ? "tcp:" : "tls:", tcp, nconns, secs, (unsigned long long)requests, rps, mibps,
                p50, (unsigned long long)errors);
    printf("RESULT mode=%s target=%s conns=%d secs=%.3f requests=%llu errors=%llu rps=%.1f p50_us=%.1f "
           "body_bytes=%llu mibps=%.1f resumed=%llu version=%s cipher=%s group=%s lib=OpenSSL-%s\n",
           mode_names[mode], tcp, nconns, secs, (unsigned long long)requests, (unsigned long long)errors, rps, p50,
           (unsigned long long)body, mibps, (unsigned long long)resumed, plain ? "clear" : info_version,
           plain ? "-" : info_cipher, plain ? "-" : info_group, OpenSSL_version(OPENSSL_VERSION_STRING));
    return errors ? 1 : 0;
}
