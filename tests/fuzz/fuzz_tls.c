/* libFuzzer: the TLS record input path (core/tls.c). The input is a
 * client's bytes, fed to a server session in pieces as core/proxy.c feeds
 * what it reads (tls_rx_space / tls_rx_commit, then tls_rx_eof at the end),
 * the session stepped after each piece.
 *
 * Input: byte 0 chooses the server (bit 0: client certificates required,
 * signed by the CA below; else server-only TLS) and what steps the session
 * (bit 1: tls_read, as a caller that never calls tls_handshake would; else
 * tls_handshake, as core/proxy.c does); bytes 1-4 are the sizes of the
 * pieces, in turn (0: as much as there is room for); the rest is the client.
 *
 * Invariants, beyond no crash, no undefined behaviour and no leak: the
 * handshake never completes and tls_read never returns plain text (the
 * server's key share is new each time: no input can know it); the session
 * takes everything it was given whenever it asks for more (else the proxy
 * would wait on a socket with the input full); tls_readable says yes when
 * bytes or the end just came; the end of the input ends the handshake (no
 * TLS_AGAIN after it); the first byte is the input's; no certificate is
 * verified; the output stays small (one server flight and an alert).
 *
 * The keys below are for this fuzzer only (openssl, EC P-256, valid until
 * 2126). mbed TLS is Debian's, not instrumented: coverage is core/tls.c's. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/tls.h"

static const char ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBezCCASGgAwIBAgIUVLb+sicWopo6Tde7fK6FO7uE1sowCgYIKoZIzj0EAwIw\n"
    "EjEQMA4GA1UEAwwHZnV6ei1jYTAgFw0yNjExMjkxODM4NTlaGA8yMTI2MTEwNTE4\n"
    "Mzg1OVowEjEQMA4GA1UEAwwHZnV6ei1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
    "A0IABFI8z/FxyNX7NaDupaf0uLy9E/p0D3gBPsEbutKBB9tHcM7h4Hbhcey6AOqD\n"
    "xGrwl6NiZ0xfX3oI4PmPKYNeBbKjUzBRMB0GA1UdDgQWBBRX5ViLADRTN9t5neEE\n"
    "vG/AEfcKzjAfBgNVHSMEGDAWgBRX5ViLADRTN9t5neEEvG/AEfcKzjAPBgNVHRMB\n"
    "Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIACCGq0R222RDHrB3I/LtX/5rswl\n"
    "fcuxPXhjgTztRUE9AiEA+cxGAcltz7W6Xm7AawvaoqRy0B2D+nmJtLI0IHcrs4g=\n"
    "-----END CERTIFICATE-----\n";

static const char cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBezCCASCgAwIBAgIBAjAKBggqhkjOPQQDAjASMRAwDgYDVQQDDAdmdXp6LWNh\n"
    "MCAXDTI2MTEyOTE4Mzg1OVoYDzIxMjYxMTA1MTgzODU5WjAVMRMwEQYDVQQDDApm\n"
    "dXp6LXByb3h5MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbDc746V1EisjMoQX\n"
    "b83/lalJA1hoMm/yfPPJyOVjoAWLFex6TsmgUMsKQ9OVmi47jci5bmUkHo1VKkjc\n"
    "iiwmcqNiMGAwCQYDVR0TBAIwADATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4E\n"
    "FgQUFxxsRPxnKORo8OehvXWI3/QHjY8wHwYDVR0jBBgwFoAUV+VYiwA0UzfbeZ3h\n"
    "BLxvwBH3Cs4wCgYIKoZIzj0EAwIDSQAwRgIhANjM0DMhzj9ff4ekSc/LEtdpIDVh\n"
    "ZKxd2LEgiPWfANAtAiEA2iGcFCN8d3AI7kEigFHXBCYzUSFNdx8DYKwkfFbYUnk=\n"
    "-----END CERTIFICATE-----\n";

static const char key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVZskapBgjtxzs2Pr\n"
    "p+4PfRxboECYFIvpqpbVZ+o84kyhRANCAARsNzvjpXUSKyMyhBdvzf+VqUkDWGgy\n"
    "b/J888nI5WOgBYsV7HpOyaBQywpD05WaLjuNyLluZSQejVUqSNyKLCZy\n"
    "-----END PRIVATE KEY-----\n";

#define OUT_BOUND (64 * 1024)

/* mbed TLS's big numbers make many short-lived allocations: ASan's default
 * quarantine (256 MB) turns each into fresh pages and halves the speed. The
 * library is not instrumented, so a long quarantine would catch little. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=16"; }

static tls_server *servers[2]; /* [0] server-only, [1] client certificates required */

static void put(const char *dir, const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "fuzz_tls: cannot write %s\n", path);
        abort();
    }
}

static void init(void)
{
    char dir[] = "/tmp/fuzz-tls-XXXXXX", err[512] = "";
    if (!mkdtemp(dir))
        abort();
    tls_files f = {.cert_var = "CERT", .key_var = "KEY", .ca_var = "CA"};
    put(dir, "cert.pem", cert_pem, f.cert, sizeof(f.cert));
    put(dir, "key.pem", key_pem, f.key, sizeof(f.key));
    servers[0] = tls_server_load(&f, err, sizeof(err));
    put(dir, "ca.pem", ca_pem, f.ca, sizeof(f.ca));
    if (servers[0])
        servers[1] = tls_server_load(&f, err, sizeof(err));
    unlink(f.cert);
    unlink(f.key);
    unlink(f.ca);
    rmdir(dir);
    if (!servers[0] || !servers[1]) {
        fprintf(stderr, "fuzz_tls: %s\n", err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!servers[0])
        init();
    if (size < 5)
        return 0;
    const uint8_t flags = data[0], *pieces = data + 1;
    data += 5;
    size -= 5;
    tls_conn *t = tls_conn_new(servers[flags & 1]);
    if (!t)
        abort();
    bool by_read = flags & 2;
    size_t pos = 0, out_total = 0;
    char why[256], plain[512];
    for (unsigned k = 0;; k++) {
        bool end = pos == size;
        if (end) {
            tls_rx_eof(t);
        } else {
            char *q;
            size_t room;
            tls_rx_space(t, &q, &room);
            if (room == 0)
                __builtin_trap(); /* it asked for more, yet holds a full input */
            size_t n = pieces[k % 4];
            if (n == 0 || n > room)
                n = room;
            if (n > size - pos)
                n = size - pos;
            memcpy(q, data + pos, n);
            tls_rx_commit(t, n);
            pos += n;
        }
        if (tls_first_byte(t) != (size ? data[0] : -1))
            __builtin_trap();
        if (!tls_readable(t))
            __builtin_trap(); /* bytes or the end just came */
        bool more;
        why[0] = 0;
        if (by_read) {
            ssize_t r = tls_read(t, plain, sizeof(plain), why, sizeof(why));
            if (r > 0)
                __builtin_trap(); /* plain text without a handshake */
            more = r == -TLS_AGAIN;
        } else {
            tls_status st = tls_handshake(t, why, sizeof(why));
            if (st == TLS_DONE)
                __builtin_trap(); /* a handshake no client could have made */
            more = st == TLS_AGAIN;
            if (!more && !why[0])
                __builtin_trap(); /* a failure says why */
        }
        size_t n;
        char *out = tls_out_take(t, &n);
        free(out);
        out_total += n;
        if (out_total > OUT_BOUND)
            __builtin_trap();
        if (tls_peer_subject(t)[0] || tls_peer_is(t, "fuzz-client") || tls_peer_is(t, ""))
            __builtin_trap(); /* nothing was verified */
        if (!more)
            break;
        if (end)
            __builtin_trap(); /* the input ended, and the session still waits */
    }
    tls_conn_free(t);
    return 0;
}
