/* The TLS layer of a build made with `configure.py --without-tls`: loading
 * certificates fails with one line saying so, and nothing else is reached
 * (no listener speaks TLS, the health check never dials with it). */
#include "tls.h"

#include <stdio.h>

const char *tls_library(void) { return "none (built with configure.py --without-tls)"; }

bool tls_available(void) { return false; }

tls_server *tls_server_load(const tls_files *f, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: this build has no TLS (configure.py --without-tls); use a build with TLS",
             f->cert_var);
    return NULL;
}

void tls_server_unref(tls_server *s) { (void)s; }
void tls_server_describe(const tls_server *s, char *out, size_t cap) { snprintf(out, cap, "none"); }
bool tls_server_verifies_clients(const tls_server *s) { return false; }
tls_conn *tls_conn_new(tls_server *s) { return NULL; }
void tls_conn_free(tls_conn *t) { (void)t; }
void tls_rx_space(tls_conn *t, char **p, size_t *n) { *p = NULL, *n = 0; }
void tls_rx_commit(tls_conn *t, size_t n) { (void)t; }
void tls_rx_eof(tls_conn *t) { (void)t; }
size_t tls_rx_room(const tls_conn *t) { return 0; }
int tls_first_byte(const tls_conn *t) { return -1; }
tls_status tls_handshake(tls_conn *t, char *why, size_t len)
{
    snprintf(why, len, "no TLS in this build");
    return TLS_FAIL;
}
ssize_t tls_read(tls_conn *t, char *out, size_t cap, char *why, size_t len) { return -TLS_FAIL; }
bool tls_readable(const tls_conn *t) { return false; }
int tls_write(tls_conn *t, const char *p, size_t n) { return -1; }
void tls_close_notify(tls_conn *t) { (void)t; }
char *tls_out_take(tls_conn *t, size_t *len)
{
    *len = 0;
    return NULL;
}
const char *tls_peer_subject(const tls_conn *t) { return ""; }
bool tls_peer_is(const tls_conn *t, const char *name) { return false; }
tls_client *tls_client_open(int fd, const char *ca, const char *pin, const char *cert, const char *key,
                            int timeout_ms, char *err, size_t errlen)
{
    snprintf(err, errlen, "this build has no TLS (configure.py --without-tls)");
    return NULL;
}
ssize_t tls_client_send(tls_client *c, const char *p, size_t n) { return -1; }
ssize_t tls_client_recv(tls_client *c, char *p, size_t n) { return -1; }
void tls_client_close(tls_client *c) { (void)c; }
