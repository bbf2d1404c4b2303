/* TLS with mbed TLS (see tls.h). Sessions read ciphertext from a buffer the
 * connection code fills and write ciphertext into one it takes: mbed TLS
 * never touches a socket of the proxy's, so its writes never block and the
 * connection code keeps its one-write-at-a-time backpressure.
 *
 * The protocol settings are made here at run time, so the dynamic builds
 * (Debian's libmbedtls, its stock configuration) and the static build (mbed
 * TLS from Debian's source, trimmed by core/tls_mbedtls_config.h) behave the
 * same: TLS 1.2 only (mbed TLS 2.28 has no finished 1.3), ECDHE key exchange
 * with AES-GCM or ChaCha20-Poly1305, X25519 / P-256 / P-384, no
 * renegotiation, no tickets, no session cache. */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#define RX_CAP 16384 /* ciphertext read and not yet taken by mbed TLS */

/* In the server's order of preference: ChaCha20-Poly1305 first, as mbed TLS
 * 2.28 computes GCM 16 bytes at a time (bench/tls.py: 3.9 ms of CPU per MiB
 * against 5.9 with AES-128-GCM). */
static const int suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    0,
};
static const mbedtls_ecp_group_id curves[] = {
    MBEDTLS_ECP_DP_CURVE25519,
    MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_NONE,
};

/* ---- shared: randomness, words for errors, common settings ---- */

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static bool seeded;

static int seed(void)
{
    if (seeded)
        return 0;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    static const char who[] = "socket-proxy";
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)who, sizeof(who) - 1))
        return -1;
    seeded = true;
    return 0;
}

/* mbed TLS's words for an error code, with the code (the static build may
 * leave its error strings out). */
static void error_text(int code, char *out, size_t cap)
{
    char words[160] = "";
#if defined(MBEDTLS_ERROR_C)
    mbedtls_strerror(code, words, sizeof(words));
#endif
    if (words[0] && !strstr(words, "UNKNOWN ERROR CODE"))
        snprintf(out, cap, "%s (mbed TLS -0x%04x)", words, (unsigned)-code);
    else
        snprintf(out, cap, "mbed TLS error -0x%04x", (unsigned)-code);
}

/* What a failed handshake or read means, for the log. */
static void failure(mbedtls_ssl_context *ssl, int code, char *why, size_t len)
{
    switch (code) {
    case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
        snprintf(why, len, "no client certificate (this listener requires one signed by its CA)");
        return;
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
        snprintf(why, len, "protocol version refused (TLS 1.2 is the only one served)");
        return;
    case MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN:
    case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE:
        snprintf(why, len, "no cipher suite in common (ECDHE with AES-GCM or ChaCha20-Poly1305 is served)");
        return;
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
        snprintf(why, len, "the client sent a fatal alert (it refused the server's certificate?)");
        return;
    default:
        break;
    }
    /* A certificate the checks refused (chain, dates, key usage): their words. */
    uint32_t flags = mbedtls_ssl_get_verify_result(ssl);
    if (code == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || (flags != 0 && flags != (uint32_t)-1)) {
        char info[200] = "";
        mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
        for (char *p = info; *p; p++)
            if (*p == '\n')
                *p = *(p + 1) ? ';' : '\0';
        snprintf(why, len, "client certificate refused: %s", info[0] ? info : "verification failed");
        return;
    }
    char t[200];
    error_text(code, t, sizeof(t));
    snprintf(why, len, "%s", t);
}

static void common_settings(mbedtls_ssl_config *conf)
{
    mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(conf, suites);
    mbedtls_ssl_conf_curves(conf, curves);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
}

/* The file is there and readable (mbed TLS says only "file I/O error"), and
 * no directory (mbed TLS would take its size from ftell, 2^63 - 1 on ext4,
 * and fail to allocate that: an abort under ASan). */
static int readable(const char *var, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        fd = -1;
        errno = EISDIR;
    }
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot read %s: %s", var, path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

static int load_certs(mbedtls_x509_crt *crt, const char *var, const char *path, char *err, size_t errlen)
{
    if (readable(var, path, err, errlen) < 0)
        return -1;
    int r = mbedtls_x509_crt_parse_file(crt, path);
    if (r != 0) {
        char t[200];
        if (r > 0)
            snprintf(t, sizeof(t), "%d of its certificates could not be parsed", r);
        else
            error_text(r, t, sizeof(t));
        snprintf(err, errlen, "%s: %s is not a PEM certificate file: %s", var, path, t);
        return -1;
    }
    return 0;
}

static int load_key(mbedtls_pk_context *pk, const char *var, const char *path, char *err, size_t errlen)
{
    if (readable(var, path, err, errlen) < 0)
        return -1;
    int r = mbedtls_pk_parse_keyfile(pk, path, NULL);
    if (r != 0) {
        char t[200];
        error_text(r, t, sizeof(t));
        snprintf(err, errlen, "%s: %s is not an unencrypted PEM private key (PKCS#8, SEC1 or PKCS#1): %s", var, path,
                 t);
        return -1;
    }
    return 0;
}

const char *tls_library(void)
{
    static char v[64];
    if (!v[0]) {
        char num[18];
        mbedtls_version_get_string(num);
        snprintf(v, sizeof(v), "mbed TLS %s (TLS 1.2)", num);
    }
    return v;
}

bool tls_available(void) { return true; }

/* ---- the server's certificates ---- */

struct tls_server {
    int refs;
    bool has_ca;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cert, ca;
    mbedtls_pk_context key;
};

static void server_free(tls_server *s)
{
    mbedtls_ssl_config_free(&s->conf);
    mbedtls_x509_crt_free(&s->cert);
    mbedtls_x509_crt_free(&s->ca);
    mbedtls_pk_free(&s->key);
    free(s);
}

tls_server *tls_server_load(const tls_files *f, char *err, size_t errlen)
{
    if (seed() < 0) {
        snprintf(err, errlen, "TLS: cannot seed the random generator");
        return NULL;
    }
    tls_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "TLS: out of memory");
        return NULL;
    }
    s->refs = 1;
    mbedtls_ssl_config_init(&s->conf);
    mbedtls_x509_crt_init(&s->cert);
    mbedtls_x509_crt_init(&s->ca);
    mbedtls_pk_init(&s->key);
    s->has_ca = f->ca[0] != 0;
    if (load_certs(&s->cert, f->cert_var, f->cert, err, errlen) < 0 ||
        load_key(&s->key, f->key_var, f->key, err, errlen) < 0 ||
        (s->has_ca && load_certs(&s->ca, f->ca_var, f->ca, err, errlen) < 0))
        goto fail;
    if (mbedtls_pk_check_pair(&s->cert.pk, &s->key) != 0) {
        snprintf(err, errlen, "%s: %s is not the private key of the certificate in %s", f->key_var, f->key, f->cert);
        goto fail;
    }
    int r = mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
    if (r == 0)
        r = mbedtls_ssl_conf_own_cert(&s->conf, &s->cert, &s->key);
    if (r != 0) {
        char t[200];
        error_text(r, t, sizeof(t));
        snprintf(err, errlen, "%s: %s cannot serve: %s", f->cert_var, f->cert, t);
        goto fail;
    }
    common_settings(&s->conf);
    if (s->has_ca) {
        mbedtls_ssl_conf_ca_chain(&s->conf, &s->ca, NULL);
        mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    } else {
        mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_NONE);
    }
    return s;
fail:
    server_free(s);
    return NULL;
}

void tls_server_unref(tls_server *s)
{
    if (s && --s->refs == 0)
        server_free(s);
}

bool tls_server_verifies_clients(const tls_server *s) { return s->has_ca; }

static void name_of(const mbedtls_x509_name *dn, char *out, size_t cap)
{
    if (mbedtls_x509_dn_gets(out, cap, dn) < 0)
        snprintf(out, cap, "(a subject longer than %zu bytes)", cap - 1);
}

void tls_server_describe(const tls_server *s, char *out, size_t cap)
{
    char subject[200], ca[200] = "";
    name_of(&s->cert.subject, subject, sizeof(subject));
    const mbedtls_x509_time *t = &s->cert.valid_to;
    if (s->has_ca)
        name_of(&s->ca.subject, ca, sizeof(ca));
    snprintf(out, cap, "certificate %s, valid until %04d-%02d-%02d; %s%s", subject, t->year, t->mon, t->day,
             s->has_ca ? "client certificates required, signed by " : "no client certificates (no CA given)",
             ca);
}

/* ---- sessions ---- */

struct tls_conn {
    tls_server *srv;
    mbedtls_ssl_context ssl;
    char *rx;
    size_t rx_pos, rx_len;
    bool rx_eof, eof_told, failed;
    int first;          /* the first byte received, -1 before */
    char *out;          /* ciphertext to send */
    size_t out_len, out_cap;
    bool closed_notify;
    char subject[512];
};

static int bio_send(void *ctx, const unsigned char *p, size_t n)
{
    tls_conn *t = ctx;
    if (t->out_len + n > t->out_cap) {
        size_t cap = t->out_cap ? t->out_cap : 4096;
        while (cap < t->out_len + n)
            cap *= 2;
        char *q = realloc(t->out, cap);
        if (!q)
            return MBEDTLS_ERR_SSL_ALLOC_FAILED;
        t->out = q;
        t->out_cap = cap;
    }
    memcpy(t->out + t->out_len, p, n);
    t->out_len += n;
    return (int)n;
}

static int bio_recv(void *ctx, unsigned char *p, size_t n)
{
    tls_conn *t = ctx;
    size_t have = t->rx_len - t->rx_pos;
    if (have == 0)
        return t->rx_eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
    if (n > have)
        n = have;
    memcpy(p, t->rx + t->rx_pos, n);
    t->rx_pos += n;
    if (t->rx_pos == t->rx_len)
        t->rx_pos = t->rx_len = 0;
    return (int)n;
}

tls_conn *tls_conn_new(tls_server *s)
{
    tls_conn *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    mbedtls_ssl_init(&t->ssl);
    if (mbedtls_ssl_setup(&t->ssl, &s->conf) != 0) {
        mbedtls_ssl_free(&t->ssl);
        free(t);
        return NULL;
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    t->srv = s;
    s->refs++;
    t->first = -1;
    return t;
}

void tls_conn_free(tls_conn *t)
{
    if (!t)
        return;
    mbedtls_ssl_free(&t->ssl);
    tls_server_unref(t->srv);
    free(t->rx);
    free(t->out);
    free(t);
}

/* The ciphertext buffer is taken when a read needs it and given back once
 * mbed TLS has taken every byte (an idle connection holds none). */
static void rx_release_if_empty(tls_conn *t)
{
    if (t->rx && t->rx_pos == t->rx_len) {
        free(t->rx);
        t->rx = NULL;
        t->rx_pos = t->rx_len = 0;
    }
}

void tls_rx_space(tls_conn *t, char **p, size_t *n)
{
    if (!t->rx && !(t->rx = malloc(RX_CAP))) {
        *p = NULL;
        *n = 0;
        return;
    }
    if (t->rx_pos > 0) {
        memmove(t->rx, t->rx + t->rx_pos, t->rx_len - t->rx_pos);
        t->rx_len -= t->rx_pos;
        t->rx_pos = 0;
    }
    *p = t->rx + t->rx_len;
    *n = RX_CAP - t->rx_len;
}

size_t tls_rx_room(const tls_conn *t) { return t->rx ? RX_CAP - (t->rx_len - t->rx_pos) : RX_CAP; }

void tls_rx_commit(tls_conn *t, size_t n)
{
    if (n == 0) {
        rx_release_if_empty(t); /* a read that found nothing */
        return;
    }
    if (n && t->first < 0)
        t->first = (unsigned char)t->rx[t->rx_len];
    t->rx_len += n;
}

void tls_rx_eof(tls_conn *t) { t->rx_eof = true; }

int tls_first_byte(const tls_conn *t) { return t->first; }

tls_status tls_handshake(tls_conn *t, char *why, size_t len)
{
    int r = mbedtls_ssl_handshake(&t->ssl);
    if (r == 0) {
        rx_release_if_empty(t);
        const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
        if (peer)
            name_of(&peer->subject, t->subject, sizeof(t->subject));
        return TLS_DONE;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
        rx_release_if_empty(t);
        return TLS_AGAIN;
    }
    if (t->rx_eof && t->rx_pos == t->rx_len && r == MBEDTLS_ERR_SSL_CONN_EOF) {
        snprintf(why, len, "the client closed the connection during the handshake");
        t->failed = true;
        return TLS_FAIL;
    }
    failure(&t->ssl, r, why, len);
    /* mbed TLS 2.28 closes a handshake without a client certificate silently:
     * say why, as a TLS 1.2 server does. */
    if (r == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE)
        mbedtls_ssl_send_alert_message(&t->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                       MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
    t->failed = true;
    return TLS_FAIL;
}

ssize_t tls_read(tls_conn *t, char *out, size_t cap, char *why, size_t len)
{
    if (t->eof_told)
        return -TLS_EOF;
    size_t out_before = t->out_len;
    int r = mbedtls_ssl_read(&t->ssl, (unsigned char *)out, cap);
    bool refused = r < 0 && r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE &&
                   r != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY && r != MBEDTLS_ERR_SSL_CONN_EOF;
    if (t->out_len != out_before && !refused) {
        /* Reading made output: the client sent a handshake message after the
         * handshake (renegotiation), answered with an alert. Refused whole:
         * a client could otherwise make the proxy write without reading. */
        snprintf(why, len, "the client asked to renegotiate (refused)");
        t->failed = true;
        t->eof_told = true;
        return -TLS_FAIL;
    }
    if (r > 0)
        return r;
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
        rx_release_if_empty(t);
        return -TLS_AGAIN;
    }
    if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF) {
        t->eof_told = true;
        return -TLS_EOF;
    }
    failure(&t->ssl, r, why, len);
    t->failed = true;
    t->eof_told = true;
    return -TLS_FAIL;
}

bool tls_readable(const tls_conn *t)
{
    if (t->eof_told)
        return false;
    return t->rx_len > t->rx_pos || t->rx_eof || mbedtls_ssl_get_bytes_avail(&t->ssl) > 0 ||
           mbedtls_ssl_check_pending(&t->ssl);
}

/* Room for n more bytes of ciphertext, exactly (no doubling: a 64 KiB write
 * is about 64 KiB of records). */
static int out_reserve(tls_conn *t, size_t n)
{
    if (t->out_len + n <= t->out_cap)
        return 0;
    char *q = realloc(t->out, t->out_len + n);
    if (!q)
        return -1;
    t->out = q;
    t->out_cap = t->out_len + n;
    return 0;
}

int tls_write(tls_conn *t, const char *p, size_t n)
{
    if (t->failed || t->closed_notify)
        return -1;
    /* a record header and tag (and explicit nonce) per 16 KiB */
    if (out_reserve(t, n + (n / 16384 + 1) * 64) < 0)
        return -1;
    while (n > 0) {
        int r = mbedtls_ssl_write(&t->ssl, (const unsigned char *)p, n);
        if (r <= 0) {
            t->failed = true;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

void tls_close_notify(tls_conn *t)
{
    if (t->closed_notify || t->failed)
        return;
    t->closed_notify = true;
    mbedtls_ssl_close_notify(&t->ssl);
}

char *tls_out_take(tls_conn *t, size_t *len)
{
    if (!t->out_len) {
        *len = 0;
        return NULL;
    }
    char *p = t->out;
    *len = t->out_len;
    t->out = NULL;
    t->out_len = t->out_cap = 0;
    return p;
}

const char *tls_peer_subject(const tls_conn *t) { return t->subject; }

static bool same(const unsigned char *p, size_t n, const char *name)
{
    return n == strlen(name) && memcmp(p, name, n) == 0;
}

bool tls_peer_is(const tls_conn *t, const char *name)
{
    if (!t->srv->has_ca)
        return false; /* nothing was verified */
    const mbedtls_x509_crt *c = mbedtls_ssl_get_peer_cert(&t->ssl);
    if (!c || mbedtls_ssl_get_verify_result(&t->ssl) != 0)
        return false;
    for (const mbedtls_x509_name *n = &c->subject; n; n = n->next)
        if (n->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 && same(n->val.p, n->val.len, name))
            return true;
    for (const mbedtls_x509_sequence *s = &c->subject_alt_names; s; s = s->next) {
        int tag = s->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
        if (s->buf.p && (tag == MBEDTLS_X509_SAN_DNS_NAME || tag == MBEDTLS_X509_SAN_RFC822_NAME ||
                         tag == MBEDTLS_X509_SAN_UNIFORM_RESOURCE_IDENTIFIER) &&
            same(s->buf.p, s->buf.len, name))
            return true;
    }
    return false;
}

/* ---- the health check's client ---- */

struct tls_client {
    int fd;
    int64_t deadline;   /* CLOCK_MONOTONIC ms: every wait for the socket ends by then */
    int sys_errno;      /* the socket's error, or ETIMEDOUT, behind a failure */
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca, cert;
    mbedtls_pk_context key;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the socket until the deadline: false (sys_errno ETIMEDOUT) when it passed. */
static bool client_wait(tls_client *c, short events)
{
    for (;;) {
        int64_t left = c->deadline - now_ms();
        struct pollfd p = {.fd = c->fd, .events = events};
        int r = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (r > 0)
            return true;
        if (r == 0) {
            c->sys_errno = ETIMEDOUT;
            return false;
        }
        if (errno != EINTR) {
            c->sys_errno = errno;
            return false;
        }
    }
}

static int client_send(void *ctx, const unsigned char *p, size_t n)
{
    tls_client *c = ctx;
    if (!client_wait(c, POLLOUT))
        return MBEDTLS_ERR_SSL_TIMEOUT;
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR))
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (w < 0)
        c->sys_errno = errno;
    return w < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)w;
}

static int client_recv(void *ctx, unsigned char *p, size_t n)
{
    tls_client *c = ctx;
    if (!client_wait(c, POLLIN))
        return MBEDTLS_ERR_SSL_TIMEOUT;
    ssize_t r = recv(c->fd, p, n, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (r < 0)
        c->sys_errno = errno;
    return r < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)r;
}

/* The proxy presented the certificate in the file pin (its first), byte for byte. */
static int check_pin(tls_client *c, const char *pin, char *err, size_t errlen)
{
    mbedtls_x509_crt want;
    mbedtls_x509_crt_init(&want);
    int r = load_certs(&want, "server certificate", pin, err, errlen);
    const mbedtls_x509_crt *got = mbedtls_ssl_get_peer_cert(&c->ssl);
    if (r == 0 && (!got || got->raw.len != want.raw.len || memcmp(got->raw.p, want.raw.p, want.raw.len) != 0)) {
        snprintf(err, errlen, "TLS handshake: the server's certificate is not the one in %s", pin);
        r = -1;
    }
    mbedtls_x509_crt_free(&want);
    return r;
}

tls_client *tls_client_open(int fd, const char *ca, const char *pin, const char *cert, const char *key,
                            int timeout_ms, char *err, size_t errlen)
{
    if (seed() < 0) {
        snprintf(err, errlen, "cannot seed the random generator");
        return NULL;
    }
    tls_client *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->fd = fd;
    c->deadline = now_ms() + timeout_ms;
    mbedtls_ssl_init(&c->ssl);
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->ca);
    mbedtls_x509_crt_init(&c->cert);
    mbedtls_pk_init(&c->key);
    if ((ca && load_certs(&c->ca, "CA", ca, err, errlen) < 0) ||
        (cert && (load_certs(&c->cert, "client certificate", cert, err, errlen) < 0 ||
                  load_key(&c->key, "client key", key, err, errlen) < 0)))
        goto fail;
    int r = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
    if (r == 0 && cert)
        r = mbedtls_ssl_conf_own_cert(&c->conf, &c->cert, &c->key);
    if (r == 0) {
        common_settings(&c->conf);
        mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
        /* Without a CA the certificate is checked by pin (after the handshake), or not at all. */
        mbedtls_ssl_conf_authmode(&c->conf, ca ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE);
        r = mbedtls_ssl_setup(&c->ssl, &c->conf);
    }
    if (r == 0) {
        mbedtls_ssl_set_bio(&c->ssl, c, client_send, client_recv, NULL);
        while ((r = mbedtls_ssl_handshake(&c->ssl)) == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
            ;
    }
    if (r != 0) {
        char t[300];
        if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
            char info[200] = "";
            mbedtls_x509_crt_verify_info(info, sizeof(info), "", mbedtls_ssl_get_verify_result(&c->ssl));
            info[strcspn(info, "\n")] = 0;
            snprintf(t, sizeof(t), "the proxy's certificate is not trusted by %s: %s", ca, info);
        } else if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
            snprintf(t, sizeof(t), "the proxy refused the handshake%s", cert ? "" : " (it may require a client "
                                                                                  "certificate: cert.pem and key.pem)");
        } else if (c->sys_errno) {
            snprintf(t, sizeof(t), "%s", strerror(c->sys_errno)); /* timed out, reset, ... */
        } else {
            error_text(r, t, sizeof(t));
        }
        snprintf(err, errlen, "TLS handshake failed: %s", t);
        goto fail;
    }
    if (pin && check_pin(c, pin, err, errlen) < 0)
        goto fail;
    return c;
fail:
    tls_client_close(c);
    return NULL;
}

/* errno for a failed send or recv: the socket's, or EPROTO for TLS itself. */
static ssize_t client_failed(tls_client *c)
{
    errno = c->sys_errno ? c->sys_errno : EPROTO;
    return -1;
}

ssize_t tls_client_send(tls_client *c, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        int r = mbedtls_ssl_write(&c->ssl, (const unsigned char *)p + done, n - done);
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (r <= 0)
            return client_failed(c);
        done += (size_t)r;
    }
    return (ssize_t)done;
}

ssize_t tls_client_recv(tls_client *c, char *p, size_t n)
{
    for (;;) {
        int r = mbedtls_ssl_read(&c->ssl, (unsigned char *)p, n);
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF || r == 0)
            return 0; /* the end, with close_notify or without */
        return r < 0 ? client_failed(c) : r;
    }
}

void tls_client_close(tls_client *c)
{
    if (!c)
        return;
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->ca);
    mbedtls_x509_crt_free(&c->cert);
    mbedtls_pk_free(&c->key);
    free(c);
}
