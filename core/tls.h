/* TLS on the TCP listeners (mbed TLS), and the client side of the health
 * check. Nothing here knows HTTP or libuv's streams: core/proxy.c feeds a
 * session the ciphertext it reads and writes out the ciphertext the session
 * makes, so backpressure and closing stay where they are for clear text.
 *
 * Built from core/tls.c, or from core/tls_none.c by `configure.py
 * --without-tls`, where loading certificates fails with one line saying so. */
#ifndef CORE_TLS_H
#define CORE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The files, as configured (SOCKET_PROXY_TLS_DIR or one by one), and the
 * variable each came from (for the error lines). ca[0] == 0: no client
 * certificates asked for (server-only TLS). */
typedef struct tls_files {
    char cert[256], key[256], ca[256];
    const char *cert_var, *key_var, *ca_var;
} tls_files;

/* "mbed TLS 2.28.3 (TLS 1.2)", or what this build lacks. */
const char *tls_library(void);
/* false in a --without-tls build. */
bool tls_available(void);

/* The server's certificate, key and client CA, with the protocol settings:
 * TLS 1.2 (and 1.3 where the library has it), ECDHE with AES-GCM or
 * ChaCha20-Poly1305 only, no renegotiation, no session tickets. Shared by
 * every connection that began under it (reference counted), so SIGHUP can
 * load new files while old connections keep theirs. */
typedef struct tls_server tls_server;

/* NULL with one line in err naming the file and what is wrong with it. */
tls_server *tls_server_load(const tls_files *f, char *err, size_t errlen);
void tls_server_unref(tls_server *s);
/* "CN=proxy, expires 2027-11-29; client certificates: CA CN=ca" */
void tls_server_describe(const tls_server *s, char *out, size_t cap);
bool tls_server_verifies_clients(const tls_server *s);

/* One connection's session. */
typedef struct tls_conn tls_conn;

typedef enum {
    TLS_DONE,  /* the handshake is complete */
    TLS_AGAIN, /* more ciphertext is needed (or output to flush) */
    TLS_EOF,   /* tls_read: the peer sent close_notify, or its stream ended */
    TLS_FAIL,  /* fatal: `why` says what; an alert may be waiting in the output */
} tls_status;

tls_conn *tls_conn_new(tls_server *s); /* takes a reference to s */
void tls_conn_free(tls_conn *t);

/* Ciphertext read from the socket goes at *p (room for *n bytes; *n == 0:
 * the input is full, stop reading; *p NULL: out of memory), then
 * tls_rx_commit says how much came. */
void tls_rx_space(tls_conn *t, char **p, size_t *n);
void tls_rx_commit(tls_conn *t, size_t n);
/* Room for ciphertext (whether or not the buffer is there yet). */
size_t tls_rx_room(const tls_conn *t);
void tls_rx_eof(tls_conn *t);                /* the socket's read side ended */
/* The first byte the client sent, or -1: a clear-text request on a TLS port
 * starts with a letter, a TLS handshake with 0x16. */
int tls_first_byte(const tls_conn *t);

tls_status tls_handshake(tls_conn *t, char *why, size_t len);
/* Plain text into out: > 0 bytes; or -TLS_AGAIN, -TLS_EOF, -TLS_FAIL. */
ssize_t tls_read(tls_conn *t, char *out, size_t cap, char *why, size_t len);
/* Decrypted bytes or unread ciphertext are waiting: tls_read may move. */
bool tls_readable(const tls_conn *t);

/* Encrypts into the output; 0 or -1 (out of memory, or a closed session). */
int tls_write(tls_conn *t, const char *p, size_t n);
/* Queues close_notify (once). */
void tls_close_notify(tls_conn *t);
/* The ciphertext waiting to be sent, taken: the caller frees it. NULL when
 * there is none. */
char *tls_out_take(tls_conn *t, size_t *len);

/* The client certificate's subject ("CN=traefik,O=example"), "" when none. */
const char *tls_peer_subject(const tls_conn *t);
/* The verified client certificate names `name` as its CN, or as a DNS,
 * e-mail or URI subject alternative name. */
bool tls_peer_is(const tls_conn *t, const char *name);

/* The health check's client: a blocking handshake on a connected socket.
 * The proxy is verified by the CA file ca (its chain; no host name check: the
 * health check dials an address it was given), or by pin: the certificate
 * file the proxy serves, compared byte for byte (the health check runs beside
 * the proxy and reads its files; a public CA need not be configured); both
 * NULL: no verification. An optional client certificate (cert, key or NULL).
 * Every wait for the socket, from now on, ends timeout_ms from now.
 * Returns a session for tls_client_send/recv, or NULL with err. */
typedef struct tls_client tls_client;
tls_client *tls_client_open(int fd, const char *ca, const char *pin, const char *cert, const char *key,
                            int timeout_ms, char *err, size_t errlen);
/* -1 with errno (ETIMEDOUT once timeout_ms from the open has passed, the
 * socket's error, or EPROTO); recv returns 0 at the end of the stream. */
ssize_t tls_client_send(tls_client *c, const char *p, size_t n);
ssize_t tls_client_recv(tls_client *c, char *p, size_t n);
void tls_client_close(tls_client *c);

#endif
