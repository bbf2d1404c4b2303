/* tls (core/tls.c): server sessions driven the way core/proxy.c drives them,
 * against real clients over a socket. The certificates are made at run time
 * with the openssl command into a temporary directory: two CAs, EC and
 * RSA-2048 server certificates, a client certificate with a CN, an O and
 * DNS, e-mail and URI subject alternative names, the same client signed by
 * the other CA, expired and not yet valid, a key that matches nothing and an
 * encrypted one.
 *
 * The client is core/tls.c's own (the health check's), in a child process
 * (this program run again with --client: the blocking client needs a process
 * of its own, and a fresh one draws its own randomness), or `openssl
 * s_client` where a client must do what that one cannot (close_notify, TLS
 * 1.1). The parent is the proxy's side: it reads the socket into
 * tls_rx_space in pieces of 1 byte, 7 bytes or all there is, and writes what
 * tls_out_take gives in the same pieces, so records and handshake messages
 * arrive cut at every place. It calls tls_read only when tls_readable says so
 * (as core/proxy.c does) and checks that a session which says no has nothing
 * to give.
 *
 * Rows: handshakes (EC, RSA, server-only TLS with a client that verifies
 * nothing), data both ways beyond one record, close_notify and a bare end of
 * stream both reading as -TLS_EOF, decrypted bytes kept across small reads,
 * tls_peer_is and tls_peer_subject, every refusal (with its reason and its
 * alert), clear text and TLS 1.1 at the door, tls_server_load's error lines,
 * and sessions outliving the server they were made from. A build made with
 * --without-tls prints a summary of nothing. The ASan build checks for leaks
 * in both processes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/tls.h"
#include "unit.h"

#define WAIT_MS 10000  /* the parent's bound on any one wait for the socket */
#define CLIENT_MS 5000 /* the child client's */

static char dir[64];

/* dir/name, in one of a few rotating buffers. */
static const char *file(const char *name)
{
    static char b[8][160];
    static int i;
    i = (i + 1) % 8;
    snprintf(b[i], sizeof(b[i]), "%s/%s", dir, name);
    return b[i];
}

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + (i >> 8) + 1); }

static bool is_pattern(const char *p, size_t n, size_t from)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] != pattern(from + i))
            return false;
    return true;
}

/* ---- the certificates ---- */

/* Runs one shell command in dir, its output in dir/openssl.log. */
static bool sh(const char *cmd)
{
    char line[2048];
    snprintf(line, sizeof(line), "cd %s && { %s ; } >>openssl.log 2>&1", dir, cmd);
    int r = system(line);
    if (r != 0) {
        printf("command failed (%d): %s\n", r, cmd);
        snprintf(line, sizeof(line), "tail -n 20 %s/openssl.log", dir);
        fflush(stdout);
        (void)system(line);
    }
    return r == 0;
}

#define EC "-newkey ec -pkeyopt ec_paramgen_curve:P-256"
#define REQ "openssl req -new -nodes "
#define SIGN "openssl x509 -req -days 365 "

static const char *const make_certs[] = {
    /* the two CAs */
    "openssl req -x509 -nodes " EC " -keyout ca.key -out ca.pem -subj /CN=test-ca -days 3650",
    "openssl req -x509 -nodes " EC " -keyout other-ca.key -out other-ca.pem -subj /CN=other-ca -days 3650",
    /* the server's, EC and RSA-2048 */
    "printf 'basicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\nsubjectAltName=DNS:proxy\\n' >server.ext",
    REQ EC " -keyout server.key -out server.csr -subj /CN=proxy",
    SIGN "-in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -extfile server.ext -out server.pem",
    REQ "-newkey rsa:2048 -keyout rsa.key -out rsa.csr -subj /CN=proxy-rsa",
    SIGN "-in rsa.csr -CA ca.pem -CAkey ca.key -set_serial 3 -extfile server.ext -out rsa.pem",
    /* the client's: a CN, an O and three kinds of subject alternative name */
    "printf 'basicConstraints=CA:FALSE\\nextendedKeyUsage=clientAuth\\nsubjectAltName=DNS:traefik.example,"
    "email:ops@example.org,URI:spiffe://example.org/traefik\\n' >client.ext",
    REQ EC " -keyout client.key -out client.csr -subj /CN=traefik/O=example",
    SIGN "-in client.csr -CA ca.pem -CAkey ca.key -set_serial 4 -extfile client.ext -out client.pem",
    /* the same client, signed by the other CA */
    SIGN "-in client.csr -CA other-ca.pem -CAkey other-ca.key -set_serial 5 -extfile client.ext -out stranger.pem",
    /* expired, and not yet valid: `openssl x509` (3.0) takes no dates, `openssl ca` does */
    "printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=index.txt\\nnew_certs_dir=.\\nserial=serial\\ndefault_md=sha256\\n"
    "policy=p\\nunique_subject=no\\n[p]\\ncommonName=supplied\\norganizationName=optional\\n' >ca.cnf && "
    ": >index.txt && echo 10 >serial",
    "openssl ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key -extfile client.ext -in client.csr "
    "-startdate 20200101000000Z -enddate 20200201000000Z -out expired.pem",
    "openssl ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key -extfile client.ext -in client.csr "
    "-startdate 20700101000000Z -enddate 20710101000000Z -out future.pem",
    /* a key of nothing here, the client's key encrypted, and a file of words */
    "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out wrong.key",
    "openssl pkey -in client.key -aes256 -passout pass:secret -out encrypted.key",
    "echo 'this is not a certificate' >garbage.pem",
};

/* ---- the proxy's side: a session on a non-blocking socket ---- */

typedef struct {
    int fd;
    tls_conn *t;
    size_t split;             /* bytes per read and per write; 0: as many as there are */
    char *pend;               /* ciphertext taken, not yet written */
    size_t pend_len, pend_off;
    bool eof;                 /* the socket's read side ended */
    int stalls;               /* tls_readable said no, yet tls_read gave something */
    int app_records, alerts;  /* records of each kind in the ciphertext taken */
    int in_alerts;            /* alert records read from the client */
    unsigned char in_head[5]; /* the header of the record being read */
    size_t in_have, in_left;
} pump;

/* Follows the records coming in, whatever the pieces they came in. */
static void saw(pump *p, const char *b, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (p->in_left) {
            size_t k = n - i < p->in_left ? n - i : p->in_left;
            p->in_left -= k;
            i += k;
            continue;
        }
        p->in_head[p->in_have++] = (unsigned char)b[i++];
        if (p->in_have == 5) {
            p->in_have = 0;
            p->in_left = (size_t)p->in_head[3] << 8 | p->in_head[4];
            p->in_alerts += p->in_head[0] == 0x15;
        }
    }
}

static void count_records(pump *p, const char *b, size_t n)
{
    size_t i = 0;
    while (i + 5 <= n) {
        unsigned char type = (unsigned char)b[i];
        size_t len = (unsigned char)b[i + 3] << 8 | (unsigned char)b[i + 4];
        if (type == 0x17)
            p->app_records++;
        if (type == 0x15)
            p->alerts++;
        i += 5 + len;
    }
}

static void write_some(pump *p)
{
    while (p->pend_off < p->pend_len) {
        size_t n = p->pend_len - p->pend_off;
        if (p->split && n > p->split)
            n = p->split;
        ssize_t w = send(p->fd, p->pend + p->pend_off, n, MSG_NOSIGNAL);
        if (w <= 0) {
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                p->pend_off = p->pend_len; /* the client went away: nothing more to send */
            return;
        }
        p->pend_off += (size_t)w;
    }
}

static void queue(pump *p, const char *b, size_t n)
{
    if (p->pend_off == p->pend_len)
        p->pend_off = p->pend_len = 0;
    p->pend = realloc(p->pend, p->pend_len + n);
    memcpy(p->pend + p->pend_len, b, n);
    p->pend_len += n;
}

/* Takes the session's ciphertext and writes what the socket takes now. */
static void flush(pump *p)
{
    size_t n;
    char *ct = tls_out_take(p->t, &n);
    if (ct) {
        count_records(p, ct, n);
        queue(p, ct, n);
        free(ct);
    }
    write_some(p);
}

static void read_some(pump *p)
{
    char *q;
    size_t room;
    tls_rx_space(p->t, &q, &room);
    if (p->split && room > p->split)
        room = p->split;
    ssize_t r = read(p->fd, q, room);
    if (r > 0) {
        saw(p, q, (size_t)r);
        tls_rx_commit(p->t, (size_t)r);
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        p->eof = true;
        tls_rx_eof(p->t);
    }
}

/* One wait for the socket: reads or writes what it can. -1: nothing came. */
static int pump_io(pump *p)
{
    char *q;
    size_t room;
    tls_rx_space(p->t, &q, &room);
    struct pollfd pfd = {.fd = p->fd};
    if (!p->eof && room > 0)
        pfd.events |= POLLIN;
    if (p->pend_off < p->pend_len)
        pfd.events |= POLLOUT;
    if (!pfd.events || poll(&pfd, 1, WAIT_MS) <= 0)
        return -1;
    if (pfd.revents & POLLOUT)
        write_some(p);
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
        read_some(p);
    return 0;
}

static void pump_init(pump *p, int fd, tls_conn *t, size_t split)
{
    *p = (pump){.fd = fd, .t = t, .split = split};
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Writes out everything taken. */
static void drain(pump *p)
{
    flush(p);
    while (p->pend_off < p->pend_len && pump_io(p) == 0)
        ;
}

static void pump_end(pump *p)
{
    tls_conn_free(p->t);
    free(p->pend);
    close(p->fd);
}

/* The handshake, as far as it goes. TLS_FAIL leaves the alert in the
 * session's output; TLS_AGAIN here means the socket went quiet or ended. */
static tls_status handshake(pump *p, char *why, size_t len)
{
    why[0] = 0;
    for (;;) {
        tls_status st = tls_handshake(p->t, why, len);
        if (st == TLS_FAIL)
            return st;
        flush(p);
        if (st == TLS_DONE)
            return st;
        if (p->eof || pump_io(p) < 0) {
            snprintf(why, len, "(test) the handshake is stuck: %s", p->eof ? "end of stream" : "timed out");
            return TLS_AGAIN;
        }
    }
}

/* Plain text as core/proxy.c's tls_pump reads it: tls_read when
 * tls_readable, else the socket. -100: the socket went quiet. */
static ssize_t srv_read(pump *p, char *out, size_t cap, char *why, size_t len)
{
    for (;;) {
        bool readable = tls_readable(p->t);
        ssize_t n = tls_read(p->t, out, cap, why, len);
        if (!readable && n != -TLS_AGAIN)
            p->stalls++;
        if (n != -TLS_AGAIN)
            return n;
        flush(p);
        if (pump_io(p) < 0)
            return -100;
    }
}

/* want bytes of the pattern, read cap at a time. */
static bool read_pattern(pump *p, size_t want, size_t cap, char *why, size_t len)
{
    char *buf = malloc(cap);
    size_t got = 0;
    while (got < want) {
        ssize_t n = srv_read(p, buf, cap < want - got ? cap : want - got, why, len);
        if (n <= 0) {
            if (!why[0] || n == -TLS_EOF || n == -100)
                snprintf(why, len, "(test) tls_read %zd after %zu of %zu bytes", n, got, want);
            break;
        }
        if (!is_pattern(buf, (size_t)n, got)) {
            snprintf(why, len, "(test) bytes %zu..%zu are not what was sent", got, got + (size_t)n);
            break;
        }
        got += (size_t)n;
    }
    free(buf);
    return got == want;
}

static int write_pattern(pump *p, size_t n)
{
    char *buf = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)pattern(i);
    int r = tls_write(p->t, buf, n);
    free(buf);
    return r;
}

/* ---- clients in child processes ---- */

typedef struct {
    const char *ca, *cert, *key; /* file names in dir; NULL: none */
    size_t send, recv;           /* bytes the client sends (one call), then reads */
    bool to_end;                 /* then reads until the server's close_notify */
} client_spec;

typedef struct {
    pid_t pid;
    int out;   /* the child's stdout: its result line */
    int in;    /* s_client's stdin */
} child;

/* The child: this program again, with --client FD CA CERT KEY SEND RECV TO_END
 * ("-" for no file). Prints "OK sent N got N end E" or "ERR why". */
static int client_main(char **argv)
{
    int fd = atoi(argv[2]);
    const char *ca = strcmp(argv[3], "-") ? argv[3] : NULL;
    const char *cert = strcmp(argv[4], "-") ? argv[4] : NULL;
    const char *key = strcmp(argv[5], "-") ? argv[5] : NULL;
    size_t send_n = strtoul(argv[6], NULL, 10), recv_n = strtoul(argv[7], NULL, 10);
    bool to_end = atoi(argv[8]);
    char err[512];
    tls_client *c = tls_client_open(fd, ca, NULL, cert, key, CLIENT_MS, err, sizeof(err));
    if (!c) {
        printf("ERR %s\n", err);
        close(fd);
        return 0;
    }
    size_t cap = (send_n > recv_n ? send_n : recv_n) + 1;
    char *buf = malloc(cap);
    for (size_t i = 0; i < send_n; i++)
        buf[i] = (char)pattern(i);
    ssize_t sent = send_n ? tls_client_send(c, buf, send_n) : 0;
    size_t got = 0;
    while (got < recv_n) {
        ssize_t n = tls_client_recv(c, buf + got, recv_n - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    bool same = is_pattern(buf, got, 0);
    ssize_t end = 1;
    if (to_end) {
        char b[64];
        while ((end = tls_client_recv(c, b, sizeof(b))) > 0)
            ;
    }
    printf("OK sent %zd got %zu%s end %zd\n", sent, got, same ? "" : " (wrong bytes)", end);
    free(buf);
    tls_client_close(c);
    close(fd);
    return 0;
}

static void cloexec(int fd)
{
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Starts a core/tls.c client on one end of a socketpair; *fd: the other end. */
static child spawn_client(const client_spec *cs, int *fd)
{
    child ch = {.pid = -1, .out = -1, .in = -1};
    int sv[2], out[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(out) < 0)
        return ch;
    char fdarg[16], sendarg[24], recvarg[24];
    snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
    snprintf(sendarg, sizeof(sendarg), "%zu", cs->send);
    snprintf(recvarg, sizeof(recvarg), "%zu", cs->recv);
    char ca[160], cert[160], key[160];
    snprintf(ca, sizeof(ca), "%s", cs->ca ? file(cs->ca) : "-");
    snprintf(cert, sizeof(cert), "%s", cs->cert ? file(cs->cert) : "-");
    snprintf(key, sizeof(key), "%s", cs->key ? file(cs->key) : "-");
    fflush(stdout);
    ch.pid = fork();
    if (ch.pid == 0) {
        close(sv[0]);
        close(out[0]);
        dup2(out[1], 1);
        close(out[1]);
        execl("/proc/self/exe", "test_tls", "--client", fdarg, ca, cert, key, sendarg, recvarg,
              cs->to_end ? "1" : "0", (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    close(out[1]);
    cloexec(sv[0]);
    cloexec(out[0]);
    ch.out = out[0];
    *fd = sv[0];
    return ch;
}

/* `openssl s_client ARGS` connected through a Unix socket in dir; *fd: the
 * accepted end. Its stdin is ch.in; its output goes to dir/s_client.log. */
static child spawn_s_client(const char *const *args, int *fd)
{
    child ch = {.pid = -1, .out = -1, .in = -1};
    *fd = -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", file("s.sock"));
    unlink(sa.sun_path);
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), in[2];
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 || pipe(in) < 0) {
        if (l >= 0)
            close(l);
        return ch;
    }
    const char *argv[24] = {"openssl", "s_client", "-unix", sa.sun_path};
    int n = 4;
    for (; *args && n < 23; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    char log[160];
    snprintf(log, sizeof(log), "%s", file("s_client.log"));
    fflush(stdout);
    ch.pid = fork();
    if (ch.pid == 0) {
        close(in[1]);
        dup2(in[0], 0);
        int o = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(o, 1);
        dup2(o, 2);
        execvp("openssl", (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    cloexec(in[1]);
    ch.in = in[1];
    struct pollfd pfd = {.fd = l, .events = POLLIN};
    if (poll(&pfd, 1, WAIT_MS) == 1)
        *fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    close(l);
    return ch;
}

/* Waits for the child; its result line in out. The exit status, or -1. */
static int child_end(child *ch, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    if (ch->in >= 0)
        close(ch->in);
    if (ch->out >= 0) {
        fcntl(ch->out, F_SETFL, fcntl(ch->out, F_GETFL) & ~O_NONBLOCK);
        ssize_t r;
        while (n + 1 < cap && (r = read(ch->out, out + n, cap - 1 - n)) > 0)
            n += (size_t)r;
        out[n] = 0;
        out[strcspn(out, "\n")] = 0;
        close(ch->out);
    }
    int st;
    if (ch->pid <= 0 || waitpid(ch->pid, &st, 0) != ch->pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- servers ---- */

static tls_server *load(const char *cert, const char *key, const char *ca, char *err, size_t len)
{
    tls_files f = {.cert_var = "SOCKET_PROXY_TLS_CERT", .key_var = "SOCKET_PROXY_TLS_KEY",
                   .ca_var = "SOCKET_PROXY_TLS_CA"};
    snprintf(f.cert, sizeof(f.cert), "%s", file(cert));
    snprintf(f.key, sizeof(f.key), "%s", file(key));
    if (ca)
        snprintf(f.ca, sizeof(f.ca), "%s", file(ca));
    err[0] = 0;
    return tls_server_load(&f, err, len);
}

static tls_server *ec_mtls, *rsa_mtls, *ec_only;

static const char *const split_name[] = {"whole", "1 byte", "7 bytes"};
static const size_t splits[] = {0, 1, 7};

/* ---- rows: a client that talks ---- */

/* The client sends `send` bytes, the server reads them `cap` at a time and
 * answers `recv` bytes (with close_notify when to_end); then the client goes
 * away without close_notify and the server reads -TLS_EOF. The session is
 * the caller's (NULL: a new one from srv); returns false if the handshake
 * failed. */
static bool talk(const char *label, tls_server *srv, tls_conn *t, size_t split, const client_spec *cs, size_t cap,
                 void (*after_handshake)(const char *label, tls_conn *t))
{
    int fd;
    child ch = spawn_client(cs, &fd);
    if (ch.pid < 0) {
        CHECK(0, "%s: spawn the client: %s", label, strerror(errno));
        return false;
    }
    pump p;
    pump_init(&p, fd, t ? t : tls_conn_new(srv), split);
    char why[256] = "";
    tls_status st = handshake(&p, why, sizeof(why));
    CHECK(st == TLS_DONE, "%s: handshake: %d %s", label, st, why);
    bool ok = st == TLS_DONE;
    if (ok) {
        if (after_handshake)
            after_handshake(label, p.t);
        why[0] = 0;
        CHECK(read_pattern(&p, cs->send, cap, why, sizeof(why)), "%s: read %zu bytes: %s", label, cs->send, why);
        int records = p.app_records;
        CHECK(write_pattern(&p, cs->recv) == 0, "%s: tls_write %zu bytes", label, cs->recv);
        if (cs->to_end) {
            tls_close_notify(p.t);
            tls_close_notify(p.t); /* once */
            CHECK(tls_write(p.t, "x", 1) == -1, "%s: tls_write after close_notify refused", label);
        }
        flush(&p);
        size_t want = (cs->recv + 16383) / 16384;
        CHECK(p.app_records - records == (int)want, "%s: %zu bytes went as %d records, want %zu", label, cs->recv,
              p.app_records - records, want);
        CHECK(p.alerts == (cs->to_end ? 1 : 0), "%s: %d alerts sent", label, p.alerts);
        drain(&p);
        why[0] = 0;
        char b[16];
        ssize_t n = srv_read(&p, b, sizeof(b), why, sizeof(why));
        CHECK(n == -TLS_EOF && p.in_alerts == 0, "%s: the client's end (no close_notify) reads as -TLS_EOF: %zd %s",
              label, n, why);
        CHECK(!tls_readable(p.t) && tls_read(p.t, b, sizeof(b), why, sizeof(why)) == -TLS_EOF,
              "%s: and stays at the end", label);
        CHECK(p.stalls == 0, "%s: tls_readable said no %d times when tls_read had something", label, p.stalls);
    }
    pump_end(&p);
    char res[512], want[128];
    int code = child_end(&ch, res, sizeof(res));
    if (ok)
        snprintf(want, sizeof(want), "OK sent %zu got %zu end %d", cs->send, cs->recv, cs->to_end ? 0 : 1);
    else
        snprintf(want, sizeof(want), "ERR");
    CHECK(code == 0 && strncmp(res, want, strlen(want)) == 0, "%s: the client: exit %d, \"%s\", want \"%s\"", label,
          code, res, want);
    return ok;
}

static void names(const char *label, tls_conn *t)
{
    static const char *const yes[] = {"traefik", "traefik.example", "ops@example.org", "spiffe://example.org/traefik"};
    static const char *const no[] = {
        "traefi", "traefik ", "Traefik", "TRAEFIK.EXAMPLE", "traefik.exampl", "traefik.example.", "ops@example",
        "OPS@example.org", "spiffe://example.org", "spiffe://example.org/traefik/", "example", "O=example",
        "CN=traefik", "test-ca", "proxy", "", "*",
    };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        CHECK(tls_peer_is(t, yes[i]), "%s: tls_peer_is(\"%s\")", label, yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        CHECK(!tls_peer_is(t, no[i]), "%s: not tls_peer_is(\"%s\")", label, no[i]);
    CHECK(strcmp(tls_peer_subject(t), "CN=traefik, O=example") == 0, "%s: subject \"%s\"", label,
          tls_peer_subject(t));
}

static void anonymous(const char *label, tls_conn *t)
{
    CHECK(!tls_peer_is(t, "traefik") && !tls_peer_is(t, "proxy") && !tls_peer_is(t, ""),
          "%s: no certificate names anybody", label);
    CHECK(strcmp(tls_peer_subject(t), "") == 0, "%s: subject \"%s\"", label, tls_peer_subject(t));
}

static const client_spec mtls_client = {.ca = "ca.pem", .cert = "client.pem", .key = "client.key"};

static void test_talk(void)
{
    char label[96];
    for (size_t i = 0; i < 3; i++) {
        client_spec cs = mtls_client;
        cs.send = 40000; /* three records each way */
        cs.recv = 40000;
        snprintf(label, sizeof(label), "EC, mutual, %s pieces, 40000 bytes each way", split_name[i]);
        talk(label, ec_mtls, NULL, splits[i], &cs, i == 2 ? 5 : 4096, names);
        cs.send = 300;
        cs.recv = 20000;
        cs.to_end = true;
        snprintf(label, sizeof(label), "RSA, mutual, %s pieces, then the server's close_notify", split_name[i]);
        talk(label, rsa_mtls, NULL, splits[i], &cs, 64, names);
    }
    client_spec anon = {.send = 100, .recv = 17000};
    talk("server-only TLS, a client with no CA and no certificate", ec_only, NULL, 7, &anon, 4096, anonymous);
    anon.ca = "ca.pem";
    talk("server-only TLS, a client that verifies the proxy", ec_only, NULL, 0, &anon, 4096, anonymous);
    anon = mtls_client;
    anon.send = anon.recv = 10;
    talk("server-only TLS, a client with a certificate it is not asked for", ec_only, NULL, 0, &anon, 4096,
         anonymous);
}

/* Decrypted bytes wait in the session: tls_readable says so with nothing on
 * the socket, and tls_read hands them over 5 at a time. */
static void test_readable(void)
{
    const char *label = "small reads";
    client_spec cs = mtls_client;
    cs.send = 16; /* one record */
    cs.recv = 1;  /* then waits for the answer */
    int fd;
    child ch = spawn_client(&cs, &fd);
    pump p;
    pump_init(&p, fd, tls_conn_new(ec_mtls), 0);
    char why[256], b[16];
    CHECK(!tls_readable(p.t), "%s: nothing readable before any byte", label);
    CHECK(handshake(&p, why, sizeof(why)) == TLS_DONE, "%s: handshake: %s", label, why);
    ssize_t n = srv_read(&p, b, 5, why, sizeof(why));
    CHECK(n == 5 && is_pattern(b, 5, 0), "%s: the first 5 bytes: %zd", label, n);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    CHECK(poll(&pfd, 1, 50) == 0, "%s: nothing more on the socket (the client waits)", label);
    size_t got = 5;
    for (int i = 0; i < 3; i++) {
        CHECK(tls_readable(p.t), "%s: readable after %zu of 16 bytes", label, got);
        n = tls_read(p.t, b, 5, why, sizeof(why));
        CHECK(n == (got + 5 <= 16 ? 5 : 16 - (ssize_t)got) && is_pattern(b, (size_t)n, got),
              "%s: tls_read after %zu: %zd", label, got, n);
        got += n > 0 ? (size_t)n : 0;
    }
    CHECK(got == 16, "%s: 16 bytes read, %zu", label, got);
    CHECK(!tls_readable(p.t), "%s: not readable once the record is read", label);
    CHECK(tls_read(p.t, b, 5, why, sizeof(why)) == -TLS_AGAIN, "%s: and tls_read says -TLS_AGAIN", label);
    CHECK(write_pattern(&p, 1) == 0, "%s: answer", label);
    drain(&p);
    n = srv_read(&p, b, 5, why, sizeof(why));
    CHECK(n == -TLS_EOF, "%s: then the end: %zd", label, n);
    CHECK(p.stalls == 0, "%s: %d stalls", label, p.stalls);
    pump_end(&p);
    char res[512];
    int code = child_end(&ch, res, sizeof(res));
    CHECK(code == 0 && strcmp(res, "OK sent 16 got 1 end 1") == 0, "%s: the client: %d \"%s\"", label, code, res);
}

static void feed(tls_conn *t, const void *p, size_t n);

/* A record that does not decrypt, after the handshake: -TLS_FAIL with the
 * reason, a bad_record_mac alert in the output, and the session ends. */
static void test_corrupt(void)
{
    const char *label = "a corrupt record";
    client_spec cs = mtls_client;
    cs.recv = 1; /* waits */
    int fd;
    child ch = spawn_client(&cs, &fd);
    pump p;
    pump_init(&p, fd, tls_conn_new(ec_mtls), 0);
    char why[256] = "", b[64];
    CHECK(handshake(&p, why, sizeof(why)) == TLS_DONE, "%s: handshake: %s", label, why);
    unsigned char rec[5 + 40] = {0x17, 0x03, 0x03, 0x00, 40};
    for (size_t i = 5; i < sizeof(rec); i++)
        rec[i] = (unsigned char)i;
    feed(p.t, rec, sizeof(rec));
    CHECK(tls_readable(p.t), "%s: readable", label);
    why[0] = 0;
    ssize_t n = tls_read(p.t, b, sizeof(b), why, sizeof(why));
    CHECK(n == -TLS_FAIL && strstr(why, "MAC"), "%s: %zd \"%s\"", label, n, why);
    size_t len;
    char *out = tls_out_take(p.t, &len);
    CHECK(out && len > 5 && out[0] == 0x15, "%s: an alert to send (%zu bytes)", label, len);
    free(out);
    CHECK(tls_read(p.t, b, sizeof(b), why, sizeof(why)) == -TLS_EOF && !tls_readable(p.t),
          "%s: then the end, and nothing readable", label);
    CHECK(tls_write(p.t, "x", 1) == -1, "%s: nothing more is written", label);
    tls_close_notify(p.t);
    CHECK(tls_out_take(p.t, &len) == NULL, "%s: not even close_notify", label);
    pump_end(&p);
    char res[512];
    int code = child_end(&ch, res, sizeof(res));
    CHECK(code == 0 && strncmp(res, "OK sent 0 got 0", 15) == 0, "%s: the client: %d \"%s\"", label, code, res);
}

/* ---- rows: refusals ---- */

/* The client fails its handshake; the server says why and has an alert to
 * send (sent, so that the client hears it). */
static void refused(const char *label, tls_server *srv, const client_spec *cs, const char *why_has,
                    const char *client_has)
{
    int fd;
    child ch = spawn_client(cs, &fd);
    pump p;
    pump_init(&p, fd, tls_conn_new(srv), 7);
    char why[256];
    tls_status st = handshake(&p, why, sizeof(why));
    CHECK(st == TLS_FAIL && strstr(why, why_has), "%s: refused (%d) with \"%s\", want \"%s\"", label, st, why,
          why_has);
    size_t n;
    char *out = tls_out_take(p.t, &n);
    if (!strstr(why_has, "fatal alert")) /* the client's alert: none to answer it with */
        CHECK(out && n >= 7 && out[0] == 0x15 && out[5] == 2, "%s: a fatal alert to send (%zu bytes, %02x)", label,
              n, out ? (unsigned char)out[0] : 0);
    if (out)
        queue(&p, out, n);
    free(out);
    drain(&p);
    /* as the proxy does (C_LINGER): the write side closed, the rest of the
     * client's flight read and dropped, so that it hears the alert */
    shutdown(fd, SHUT_WR);
    char sink[512];
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (poll(&pfd, 1, WAIT_MS) == 1 && read(fd, sink, sizeof(sink)) > 0)
        ;
    CHECK(tls_write(p.t, "x", 1) == -1, "%s: nothing more is written", label);
    pump_end(&p);
    char res[512];
    int code = child_end(&ch, res, sizeof(res));
    CHECK(code == 0 && strncmp(res, "ERR ", 4) == 0 && strstr(res, client_has), "%s: the client: %d \"%s\", want \"%s\"",
          label, code, res, client_has);
}

static void test_refusals(void)
{
    client_spec cs = {.ca = "ca.pem"};
    refused("no client certificate", ec_mtls, &cs, "no client certificate",
            "the proxy refused the handshake (it may require a client certificate");
    cs = mtls_client;
    cs.cert = "stranger.pem";
    refused("a certificate from the other CA", ec_mtls, &cs, "client certificate refused: ",
            "the proxy refused the handshake");
    cs.cert = "expired.pem";
    refused("an expired certificate", ec_mtls, &cs, "expired", "the proxy refused the handshake");
    cs.cert = "future.pem";
    refused("a certificate not yet valid", rsa_mtls, &cs, "future", "the proxy refused the handshake");
    cs = mtls_client;
    cs.ca = "other-ca.pem";
    refused("the client does not trust the proxy", ec_mtls, &cs, "the client sent a fatal alert",
            "the proxy's certificate is not trusted by ");
}

/* A TLS 1.1 ClientHello: record 16 03 01, client_version 03 02, two suites. */
static const unsigned char hello11[] = {
    0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x02,
    /* random */
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
    32,
    /* no session id; suites c013 c014 002f 0035; null compression */
    0x00, 0x00, 0x08, 0xc0, 0x13, 0xc0, 0x14, 0x00, 0x2f, 0x00, 0x35, 0x01, 0x00};

static void feed(tls_conn *t, const void *p, size_t n)
{
    char *q;
    size_t room;
    tls_rx_space(t, &q, &room);
    if (n > room)
        n = room;
    memcpy(q, p, n);
    tls_rx_commit(t, n);
}

/* Bytes fed straight into sessions: what comes first, and how it ends. */
static void test_door(void)
{
    char why[256];
    size_t n;
    tls_conn *t = tls_conn_new(ec_mtls);
    CHECK(tls_first_byte(t) == -1, "no first byte before any");
    tls_rx_commit(t, 0);
    CHECK(tls_first_byte(t) == -1, "nor after 0 bytes");
    feed(t, hello11, 1);
    CHECK(tls_first_byte(t) == 0x16, "a handshake begins with 0x16: %d", tls_first_byte(t));
    CHECK(tls_handshake(t, why, sizeof(why)) == TLS_AGAIN, "one byte: more is needed");
    feed(t, hello11 + 1, 9);
    CHECK(tls_handshake(t, why, sizeof(why)) == TLS_AGAIN, "ten bytes: more is needed");
    feed(t, hello11 + 10, sizeof(hello11) - 10);
    CHECK(tls_first_byte(t) == 0x16, "the first byte stays the first");
    CHECK(tls_handshake(t, why, sizeof(why)) == TLS_FAIL && strstr(why, "protocol version"),
          "a TLS 1.1 ClientHello is refused: \"%s\"", why);
    char *out = tls_out_take(t, &n);
    CHECK(out && n == 7 && out[0] == 0x15 && out[5] == 2 && out[6] == 70, "with a protocol_version alert (%zu bytes)",
          n);
    free(out);
    CHECK(tls_out_take(t, &n) == NULL && n == 0, "taken once");
    tls_conn_free(t);

    t = tls_conn_new(ec_mtls);
    static const char get[] = "GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n";
    feed(t, get, sizeof(get) - 1);
    CHECK(tls_first_byte(t) == 'G', "clear-text HTTP begins with a letter: %d", tls_first_byte(t));
    CHECK(tls_handshake(t, why, sizeof(why)) == TLS_FAIL, "and is no handshake: \"%s\"", why);
    tls_conn_free(t);

    t = tls_conn_new(ec_mtls);
    feed(t, hello11, 20);
    tls_rx_eof(t);
    CHECK(tls_readable(t), "the end of the stream is something to read");
    CHECK(tls_handshake(t, why, sizeof(why)) == TLS_FAIL && strstr(why, "closed the connection during the handshake"),
          "a ClientHello cut short by the end: \"%s\"", why);
    tls_conn_free(t);

    t = tls_conn_new(ec_mtls);
    tls_rx_eof(t);
    CHECK(tls_handshake(t, why, sizeof(why)) == TLS_FAIL && strstr(why, "closed the connection during the handshake"),
          "no byte at all: \"%s\"", why);
    CHECK(tls_out_take(t, &n) == NULL, "and nothing to send");
    tls_conn_free(t);

    /* the input holds what mbed TLS has not taken, and says when it is full */
    t = tls_conn_new(ec_mtls);
    char *q;
    size_t room;
    tls_rx_space(t, &q, &room);
    CHECK(room >= 16384, "room for a record's worth: %zu", room);
    memset(q, 0x16, room);
    tls_rx_commit(t, room);
    tls_rx_space(t, &q, &room);
    CHECK(room == 0, "full: %zu", room);
    tls_conn_free(t);
}

/* openssl s_client: close_notify after its data, and TLS 1.1 for real. */
static void test_s_client(void)
{
    const char *label = "s_client sends close_notify";
    const char *const args[] = {"-CAfile", file("ca.pem"), "-cert", file("client.pem"), "-key", file("client.key"),
                                "-no_ign_eof", NULL};
    int fd;
    child ch = spawn_s_client(args, &fd);
    CHECK(fd >= 0, "%s: connected", label);
    if (fd >= 0) {
        CHECK(write(ch.in, "hello\n", 6) == 6, "%s: its input", label);
        close(ch.in); /* its end of input: it sends close_notify */
        ch.in = -1;
        pump p;
        pump_init(&p, fd, tls_conn_new(ec_mtls), 1);
        char why[256], b[64];
        CHECK(handshake(&p, why, sizeof(why)) == TLS_DONE, "%s: handshake: %s", label, why);
        names(label, p.t);
        size_t got = 0;
        ssize_t n;
        while ((n = srv_read(&p, b + got, sizeof(b) - got, why, sizeof(why))) > 0)
            got += (size_t)n;
        CHECK(got == 6 && memcmp(b, "hello\n", 6) == 0, "%s: its data: %zu bytes", label, got);
        CHECK(n == -TLS_EOF && p.in_alerts == 1, "%s: then close_notify (%d alerts), read as -TLS_EOF: %zd %s", label,
              p.in_alerts, n, why);
        CHECK(p.stalls == 0, "%s: %d stalls", label, p.stalls);
        pump_end(&p);
    }
    char res[64];
    CHECK(child_end(&ch, res, sizeof(res)) == 0, "%s: s_client exit status", label);

    label = "s_client -tls1_1";
    const char *const old[] = {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", file("ca.pem"), NULL};
    ch = spawn_s_client(old, &fd);
    CHECK(fd >= 0, "%s: connected", label);
    if (fd >= 0) {
        pump p;
        pump_init(&p, fd, tls_conn_new(ec_mtls), 0);
        char why[256];
        tls_status st = handshake(&p, why, sizeof(why));
        CHECK(st == TLS_FAIL && strstr(why, "protocol version refused"), "%s: refused: %d \"%s\"", label, st, why);
        pump_end(&p);
    }
    child_end(&ch, res, sizeof(res));
}

/* ---- rows: certificates that do not load, and reference counts ---- */

static void load_fails(const char *label, const char *cert, const char *key, const char *ca, const char *has1,
                       const char *has2)
{
    char err[512];
    tls_server *s = load(cert, key, ca, err, sizeof(err));
    CHECK(!s && strstr(err, has1) && strstr(err, has2), "%s: \"%s\", want \"%s\" and \"%s\"", label, err, has1, has2);
    tls_server_unref(s);
}

static void test_load(void)
{
    char missing[200];
    snprintf(missing, sizeof(missing), "SOCKET_PROXY_TLS_CERT: cannot read %s: %s", file("nothing.pem"),
             strerror(ENOENT));
    load_fails("missing certificate", "nothing.pem", "server.key", "ca.pem", missing, "");
    load_fails("missing key", "server.pem", "nothing.key", "ca.pem", "SOCKET_PROXY_TLS_KEY: cannot read ",
               strerror(ENOENT));
    load_fails("missing CA", "server.pem", "server.key", "nothing.pem", "SOCKET_PROXY_TLS_CA: cannot read ",
               strerror(ENOENT));
    load_fails("a directory", "", "server.key", NULL, "SOCKET_PROXY_TLS_CERT: cannot read ", strerror(EISDIR));
    load_fails("garbage certificate", "garbage.pem", "server.key", "ca.pem", "SOCKET_PROXY_TLS_CERT: ",
               "is not a PEM certificate file");
    load_fails("garbage CA", "server.pem", "server.key", "garbage.pem", "SOCKET_PROXY_TLS_CA: ",
               "is not a PEM certificate file");
    load_fails("a key for a certificate", "server.pem", "server.pem", NULL, "SOCKET_PROXY_TLS_KEY: ",
               "not an unencrypted PEM private key");
    load_fails("the key of another certificate", "server.pem", "wrong.key", "ca.pem", "SOCKET_PROXY_TLS_KEY: ",
               "is not the private key of the certificate in");
    load_fails("the RSA key for the EC certificate", "server.pem", "rsa.key", NULL, "SOCKET_PROXY_TLS_KEY: ",
               "is not the private key");
    load_fails("an encrypted key", "client.pem", "encrypted.key", NULL, "SOCKET_PROXY_TLS_KEY: ",
               "not an unencrypted PEM private key");

    char d[512];
    tls_server_describe(ec_mtls, d, sizeof(d));
    CHECK(strstr(d, "certificate CN=proxy, valid until 20") &&
              strstr(d, "client certificates required, signed by CN=test-ca"),
          "describe: \"%s\"", d);
    tls_server_describe(ec_only, d, sizeof(d));
    CHECK(strstr(d, "no client certificates"), "describe: \"%s\"", d);
    CHECK(tls_server_verifies_clients(ec_mtls) && !tls_server_verifies_clients(ec_only), "verifies_clients");
    CHECK(strncmp(tls_library(), "mbed TLS 2.", 11) == 0 || strncmp(tls_library(), "mbed TLS 3.", 11) == 0,
          "tls_library: %s", tls_library());

    /* the client's files */
    char err[512];
    CHECK(!tls_client_open(-1, file("nothing.pem"), NULL, NULL, NULL, 100, err, sizeof(err)) &&
              strstr(err, "CA: cannot read "),
          "client: missing CA: %s", err);
    CHECK(!tls_client_open(-1, file("ca.pem"), NULL, file("client.pem"), file("encrypted.key"), 100, err, sizeof(err)) &&
              strstr(err, "client key: ") && strstr(err, "not an unencrypted"),
          "client: encrypted key: %s", err);
}

/* Sessions keep the server they were made from after its last other
 * reference is gone (a reload); the last session frees it (ASan: no leak,
 * no use after free). */
static void test_refs(void)
{
    char err[512];
    tls_server *s = load("server.pem", "server.key", "ca.pem", err, sizeof(err));
    CHECK(s != NULL, "load: %s", err);
    if (!s)
        return;
    tls_conn *a = tls_conn_new(s), *b = tls_conn_new(s);
    tls_server_unref(s);
    client_spec cs = mtls_client;
    cs.send = cs.recv = 1000;
    talk("a session made before the server's unref", NULL, a, 7, &cs, 4096, names);
    talk("another one, after the first was freed", NULL, b, 0, &cs, 4096, names);
    /* and a session freed without ever running */
    s = load("rsa.pem", "rsa.key", NULL, err, sizeof(err));
    a = tls_conn_new(s);
    tls_server_unref(s);
    tls_conn_free(a);
    tls_conn_free(NULL);
    tls_server_unref(NULL);
}

int main(int argc, char **argv)
{
    if (argc == 9 && strcmp(argv[1], "--client") == 0)
        return client_main(argv);
    if (!tls_available()) {
        printf("test_tls: 0 passed, 0 failed (built without TLS)\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    alarm(300);
    snprintf(dir, sizeof(dir), "/tmp/test-tls-XXXXXX");
    if (!mkdtemp(dir)) {
        printf("test_tls: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    bool made = true;
    for (size_t i = 0; made && i < sizeof(make_certs) / sizeof(make_certs[0]); i++)
        made = sh(make_certs[i]);
    CHECK(made, "the certificates are made (openssl)");
    if (made) {
        char err[512];
        ec_mtls = load("server.pem", "server.key", "ca.pem", err, sizeof(err));
        CHECK(ec_mtls, "EC server: %s", err);
        rsa_mtls = load("rsa.pem", "rsa.key", "ca.pem", err, sizeof(err));
        CHECK(rsa_mtls, "RSA server: %s", err);
        ec_only = load("server.pem", "server.key", NULL, err, sizeof(err));
        CHECK(ec_only, "server-only: %s", err);
        if (ec_mtls && rsa_mtls && ec_only) {
            test_load();
            test_door();
            test_talk();
            test_readable();
            test_corrupt();
            test_refusals();
            test_s_client();
            test_refs();
        }
        tls_server_unref(ec_mtls);
        tls_server_unref(rsa_mtls);
        tls_server_unref(ec_only);
    }
    char rm[128];
    snprintf(rm, sizeof(rm), "rm -rf %s", dir);
    if (!unit_failed)
        (void)system(rm);
    else
        printf("certificates and logs kept in %s\n", dir);
    return unit_summary("test_tls");
}
