/* The server: listeners, signals, privileges, graceful shutdown. */
#include "server.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "learn.h"
#include "log.h"
#include "lookup.h"
#include "proxy.h"
#include "quiet.h"
#include "sys.h"
#include "tls.h"

#define BUF_FREE_MAX 16

char *server_buf_get(server *s, size_t size)
{
    int k = size != SERVER_BUF_SMALL;
    if (s->buf_nfree[k] > 0)
        return s->buf_free[k][--s->buf_nfree[k]];
    return malloc(size);
}

void server_buf_put(server *s, char *b, size_t size)
{
    int k = size != SERVER_BUF_SMALL;
    if (s->buf_nfree[k] < BUF_FREE_MAX)
        s->buf_free[k][s->buf_nfree[k]++] = b;
    else
        free(b);
}

static void on_connection(uv_stream_t *h, int status)
{
    listener *l = h->data;
    if (status < 0) {
        log_msg(LOG_WARNING, "accept: %s", uv_strerror(status));
        return;
    }
    proxy_accept(l);
}

static void unlink_sockets(server *s)
{
    for (int i = 0; i < s->nlisteners; i++) {
        if (s->listeners[i].bound) {
            unlink(s->listeners[i].unix_path);
            s->listeners[i].bound = false;
        }
    }
}

static void close_listeners(server *s)
{
    metrics_close(s->metrics_l);
    s->metrics_l = NULL;
    for (int i = 0; i < s->nlisteners; i++) {
        if (s->listeners[i].open) {
            uv_close((uv_handle_t *)&s->listeners[i].h, NULL);
            s->listeners[i].open = false;
        }
    }
    unlink_sockets(s);
}

static void stop_if_done(server *s)
{
    if (s->draining && s->nconns == 0)
        uv_stop(s->loop);
}

/* After a flood of connections (10,000 opened and dropped), glibc keeps the
 * freed connection memory in its heap; give it back once the flood is over.
 * (musl, which the image ships, returns it by itself.) */
#define TRIM_AFTER_CLOSED 1024

void server_conn_closed(server *s)
{
#ifdef __GLIBC__
    if (++s->closed_since_trim >= TRIM_AFTER_CLOSED && s->nconns < 16) {
        s->closed_since_trim = 0;
        malloc_trim(0);
    }
#endif
    stop_if_done(s);
}

static void on_grace(uv_timer_t *t)
{
    server *s = t->data;
    log_msg(LOG_NOTICE, "grace period over: closing %zu connection(s)", s->nconns);
    proxy_close_all(s);
}

static void on_signal(uv_signal_t *h, int signum)
{
    server *s = h->data;
    if (signum == SIGCHLD) {
        sys_reap_children();
        return;
    }
    if (s->draining) {
        log_msg(LOG_NOTICE, "second signal: exiting now");
        unlink_sockets(s);
        _exit(0);
    }
    log_msg(LOG_NOTICE, "%s: shutting down (%zu connection(s), grace %llums)", signum == SIGTERM ? "SIGTERM" : "SIGINT",
            s->nconns, (unsigned long long)s->cfg->shutdown_grace_ms);
    s->draining = true;
    close_listeners(s);
    proxy_drain(s);
    uv_timer_start(&s->grace, on_grace, s->cfg->shutdown_grace_ms, 0);
    uv_unref((uv_handle_t *)&s->grace);
    stop_if_done(s);
}

/* mkdir -p: the volume's parents may be missing too (a bare image). var
 * names the variable behind it, for errors. */
static int make_volume(const profile *cfg, const char *var, char *err, size_t errlen)
{
    char dir[sizeof(cfg->volume)];
    snprintf(dir, sizeof(dir), "%s", cfg->volume);
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    }
    if (mkdir(cfg->volume, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s=%s: cannot create the directory: %s", var, cfg->volume, strerror(errno));
        return -1;
    }
    return 0;
}

/* Clears the socket path: a leftover socket is removed; anything else there,
 * or a socket that something still listens on, is an error. */
static int clear_stale_socket(const profile *cfg, const char *var, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(cfg->unix_path, &st) != 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s=%s: %s exists and is not a socket", var, cfg->volume, cfg->unix_path);
        return -1;
    }
    /* Stale, from an earlier run, unless something still answers on it. */
    int fd = sys_unix_connect(cfg->unix_path);
    bool live = fd >= 0 || fd == -EAGAIN;
    if (fd >= 0)
        close(fd);
    if (live) {
        snprintf(err, errlen, "%s=%s: another process is listening on %s", var, cfg->volume, cfg->unix_path);
        return -1;
    }
    unlink(cfg->unix_path);
    return 0;
}

/* Binds the pipe at path with the configured mode (through the umask) and,
 * as root, gives it to the configured owner. Returns 0 or a libuv error. */
static int bind_owned(uv_pipe_t *h, const profile *cfg, const char *path)
{
    mode_t old_umask = umask(~cfg->socket_mode & 0777);
    int r = uv_pipe_bind(h, path);
    umask(old_umask);
    if (r == 0 && geteuid() == 0 && lchown(path, cfg->uid, cfg->gid) != 0)
        r = uv_translate_sys_error(errno);
    return r;
}

/* The error line for libuv error r from binding, listening or renaming. */
static void unix_listen_error(const profile *cfg, const char *var, int r, char *err, size_t errlen)
{
    struct stat dst;
    if (r == UV_EACCES && geteuid() != 0 && stat(cfg->volume, &dst) == 0)
        snprintf(err, errlen,
                 "%s=%s: cannot create %s as uid %u: the directory belongs to uid %u with mode "
                 "%04o; start the container as root (the proxy drops to SOCKET_PROXY_UID itself) or give the "
                 "directory to uid %u",
                 var, cfg->volume, cfg->unix_path, (unsigned)geteuid(), (unsigned)dst.st_uid,
                 (unsigned)(dst.st_mode & 07777), (unsigned)geteuid());
    else
        snprintf(err, errlen, "%s=%s: cannot listen on %s: %s", var, cfg->volume, cfg->unix_path, uv_strerror(r));
}

static int bind_unix(server *s, const profile *cfg, char *err, size_t errlen)
{
    char var[64];
    snprintf(var, sizeof(var), "%sSOCKET_PROXY_VOLUME", cfg->prefix);
    if (make_volume(cfg, var, err, errlen) < 0 || clear_stale_socket(cfg, var, err, errlen) < 0)
        return -1;
    listener *l = &s->listeners[s->nlisteners];
    uv_pipe_init(s->loop, &l->h.pipe, 0);
    l->is_unix = true;
    /* Nothing here follows a symlink at the socket path (a client with the
     * volume mounted read-write could race one in): the mode comes from the
     * umask at bind, the owner from lchown, and the directory is left as it
     * is. The socket is made under a temporary name and renamed into place
     * once it accepts, so a client never finds a socket that refuses it.
     * After dropping root the socket may outlive us; the next start replaces
     * it. */
    char tmp[sizeof(cfg->volume) + sizeof("/.sock-new")]; /* shorter than /docker.sock: a valid path */
    size_t vl = strnlen(cfg->volume, sizeof(cfg->volume) - 1);
    memcpy(tmp, cfg->volume, vl);
    memcpy(tmp + vl, "/.sock-new", sizeof("/.sock-new"));
    unlink(tmp); /* left by a start that failed */
    int r = bind_owned(&l->h.pipe, cfg, tmp);
    if (r == 0)
        r = uv_listen(&l->h.stream, 511, on_connection);
    if (r == 0 && rename(tmp, cfg->unix_path) != 0)
        r = uv_translate_sys_error(errno);
    if (r < 0) {
        unix_listen_error(cfg, var, r, err, errlen);
        uv_close((uv_handle_t *)&l->h, NULL);
        return -1;
    }
    l->open = l->bound = true;
    memcpy(l->unix_path, cfg->unix_path, sizeof(l->unix_path));
    s->nlisteners++;
    log_msg(LOG_INFO, "listening on unix:%s (mode %04o)%s%s", cfg->unix_path, (unsigned)cfg->socket_mode,
            cfg->name[0] ? " for profile " : "", cfg->name);
    return 0;
}

static int bind_tcp(server *s, const profile *p, const config_listen *cl, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    listener *l = &s->listeners[s->nlisteners];
    int r;
    if (cl->v6)
        r = uv_ip6_addr(cl->host, cl->port, (struct sockaddr_in6 *)&ss);
    else
        r = uv_ip4_addr(cl->host, cl->port, (struct sockaddr_in *)&ss);
    if (r == 0)
        r = uv_tcp_init_ex(s->loop, &l->h.tcp, cl->v6 ? AF_INET6 : AF_INET);
    bool inited = r == 0; /* a handle whose init failed is not libuv's: never closed */
    if (r == 0)
        r = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen(&l->h.stream, 511, on_connection);
    if (r < 0) {
        if (inited) {
            /* Its memory belongs to libuv until the close completes: the
             * slot stays used (closed, not open), the fallback takes the
             * next one (open_listeners counts one spare per fallback). */
            uv_close((uv_handle_t *)&l->h, NULL);
            s->nlisteners++;
        }
        if (cl->fallback_v4 && (r == UV_EAFNOSUPPORT || r == UV_EADDRNOTAVAIL || r == UV_EINVAL)) {
            log_msg(LOG_WARNING, "IPv6 is not available here (%s): listening on 0.0.0.0:%d instead", uv_strerror(r),
                    cl->port);
            config_listen v4 = *cl;
            v4.v6 = false;
            v4.fallback_v4 = false;
            snprintf(v4.host, sizeof(v4.host), "0.0.0.0");
            return bind_tcp(s, p, &v4, err, errlen);
        }
        char at[80];
        snprintf(err, errlen, "%sSOCKET_PROXY_LISTEN: cannot listen on %s: %s", p->prefix,
                 log_hostport(at, sizeof(at), cl->host, cl->port), uv_strerror(r));
        return -1;
    }
    l->open = true;
    s->nlisteners++;
    char at[80];
    log_msg(LOG_INFO, "listening on tcp:%s%s%s%s", log_hostport(at, sizeof(at), cl->host, cl->port),
            s->tls ? " (TLS)" : "", p->name[0] ? " for profile " : "", p->name);
    return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* The loop and the server's own state; signals and listeners come later.
 * -1 when the loop cannot start (nothing to undo then). */
static int server_init(server *s, uv_loop_t *loop, const config *cfg)
{
    memset(s, 0, sizeof(*s));
    signal(SIGPIPE, SIG_IGN);
    size_t nofile = sys_raise_nofile();
    if (uv_loop_init(loop) != 0)
        return -1;
    s->loop = loop;
    s->cfg = cfg;
    s->buf_size = cfg->max_head > 65536 ? cfg->max_head : 65536;
    s->buf_free[0] = calloc(BUF_FREE_MAX, sizeof(void *));
    s->buf_free[1] = calloc(BUF_FREE_MAX, sizeof(void *));
    /* Each client needs an upstream descriptor too; keep a few for the loop
     * and the idle daemon connections. */
    s->max_conns = nofile > 64 + SERVER_DAEMON_IDLE ? (nofile - 32 - SERVER_DAEMON_IDLE) / 2 : 16;
    s->held_max = SERVER_HELD_BODIES * cfg->max_body;
    s->quiet = quiet_new(loop);
    s->lookups = lookup_pool_new(loop, cfg->upstream, SERVER_DAEMON_IDLE, SERVER_DAEMON_IDLE_MS);
    return 0;
}

/* Binds the socket and TCP addresses of profile p. */
static int open_profile(server *s, const profile *p, char *err, size_t errlen)
{
    int first = s->nlisteners;
    if (p->unix_path[0] && bind_unix(s, p, err, errlen) < 0)
        return -1;
    for (int i = 0; i < p->nlisten; i++)
        if (bind_tcp(s, p, &p->listen[i], err, errlen) < 0)
            return -1;
    for (int i = first; i < s->nlisteners; i++) {
        listener *l = &s->listeners[i];
        l->srv = s;
        l->prof = p;
        l->log_name = profile_log_name(s->profiles, p);
        l->tls = !l->is_unix && s->tls;
        l->h.stream.data = l;
    }
    return 0;
}

/* SOCKET_PROXY_METRICS: the counters and their listener, when set. Bound
 * with the proxy's listeners, before privileges drop (a low port works). */
/* ---- learn mode ---- */

#define LEARN_WARN_MS (10 * 60 * 1000)

static char *learned_text(void *arg, size_t *len)
{
    server *s = arg;
    return s->learn ? learn_report(s->learn, len) : NULL;
}

/* The report goes to standard output: it is for pasting, not a log line. */
static void print_learned(server *s)
{
    size_t len;
    char *text = learned_text(s, &len);
    if (text) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
    }
    free(text);
}

static void on_learn_warn(uv_timer_t *t)
{
    (void)t;
    log_msg(LOG_WARNING, "SOCKET_PROXY_MODE=learn: NOT ENFORCING the path rules; requests they deny are forwarded "
                         "and logged learn-allow (SIGUSR1 prints what each client needed)");
}

static void on_usr1(uv_signal_t *h, int signum)
{
    (void)signum;
    print_learned(h->data);
}

/* Learn mode's store, its warning (now and every 10 minutes) and SIGUSR1. */
static int start_learn(server *s)
{
    const char *names[PROFILES_MAX + 1], *prefixes[PROFILES_MAX + 1];
    if (!s->cfg->learn)
        return 0;
    for (int i = 0; i < s->profiles->n; i++) {
        names[i] = s->profiles->p[i].name;
        prefixes[i] = s->profiles->p[i].prefix;
    }
    if (!(s->learn = learn_new(s->profiles->n, names, prefixes)))
        return -1;
    uv_timer_init(s->loop, &s->learn_warn);
    uv_timer_start(&s->learn_warn, on_learn_warn, 0, LEARN_WARN_MS);
    uv_unref((uv_handle_t *)&s->learn_warn);
    uv_signal_init(s->loop, &s->sig_usr1);
    s->sig_usr1.data = s;
    uv_signal_start(&s->sig_usr1, on_usr1, SIGUSR1);
    uv_unref((uv_handle_t *)&s->sig_usr1);
    return 0;
}

static int start_metrics(server *s, char *err, size_t errlen)
{
    const char *names[PROFILES_MAX + 1];
    if (!s->cfg->metrics_addr[0])
        return 0;
    for (int i = 0; i < s->profiles->n; i++)
        names[i] = s->profiles->p[i].name;
    s->metrics = metrics_new(s->profiles->n, names);
    if (!s->metrics) {
        snprintf(err, errlen, "SOCKET_PROXY_METRICS: out of memory");
        return -1;
    }
    /* GET /_socket-proxy/learned: in learn mode, what was learned. */
    s->metrics_l = metrics_listen(s->loop, s->cfg->metrics_addr, s->metrics, s->cfg->learn ? learned_text : NULL, s,
                                  err, errlen);
    if (!s->metrics_l)
        return -1;
    log_msg(LOG_INFO, "metrics on tcp:%s (GET /metrics)", s->cfg->metrics_addr);
    return 0;
}

/* Binds every listener, then drops privileges. -1 with err set. */
static int open_listeners(server *s, char *err, size_t errlen)
{
    const config *cfg = s->cfg;
    /* Started unprivileged, the Docker socket's permissions are the likely
     * problem: say so before anything else can fail. */
    if (geteuid() != 0 && sys_check_upstream(cfg, err, errlen) < 0)
        return -1;
    int n = 0;
    for (int i = 0; i < s->profiles->n; i++)
        for (int k = 0; k < s->profiles->p[i].nlisten; k++)
            n += s->profiles->p[i].listen[k].fallback_v4 ? 2 : 1; /* a spare for the fallback */
    for (int i = 0; i < s->profiles->n; i++)
        n += s->profiles->p[i].unix_path[0] ? 1 : 0;
    s->listeners = calloc(n ? (size_t)n : 1, sizeof(listener));
    if (!s->listeners) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < s->profiles->n; i++) {
        if (open_profile(s, &s->profiles->p[i], err, errlen) < 0)
            return -1;
        if (s->profiles->p[i].allow_from)
            admit_from_start(s->profiles->p[i].allow_from, s->loop);
    }
    if (start_metrics(s, err, errlen) < 0)
        return -1;
    if (sys_drop_privileges(cfg, err, errlen) < 0 || sys_check_upstream(cfg, err, errlen) < 0)
        return -1;
    return 0;
}

/* ---- TLS certificates ---- */

/* SIGHUP: the certificate files again (cert-manager, Traefik or a cron job
 * rotated them). New connections get the new ones; open connections keep
 * theirs; a file that does not load keeps the old ones, with one line. The
 * files are read as SOCKET_PROXY_UID by then: they must be readable by it. */
static void on_hup(uv_signal_t *h, int signum)
{
    server *s = h->data;
    char err[512], what[600];
    tls_files f;
    (void)signum;
    if (!s->tls) {
        log_msg(LOG_NOTICE, "SIGHUP: nothing to reload (no TLS configured)");
        return;
    }
    config_tls_files_now(s->cfg, &f);
    if (!f.ca[0] && tls_server_verifies_clients(s->tls)) {
        log_msg(LOG_ERR, "SIGHUP: TLS certificates not reloaded, keeping the old ones: the CA file (%s/ca.pem) is "
                         "gone, and a reload never stops requiring client certificates (restart to do that)",
                s->cfg->tls_dir);
        return;
    }
    tls_server *t = tls_server_load(&f, err, sizeof(err));
    if (!t) {
        log_msg(LOG_ERR, "SIGHUP: TLS certificates not reloaded, keeping the old ones: %s", err);
        return;
    }
    tls_server_unref(s->tls);
    s->tls = t;
    tls_server_describe(t, what, sizeof(what));
    log_msg(LOG_NOTICE, "SIGHUP: TLS certificates reloaded: %s", what);
}

static void start_tls(server *s)
{
    char what[600];
    /* SIGHUP reloads the certificates; without TLS it is ignored (with a
     * line), never the end of the proxy. */
    uv_signal_init(s->loop, &s->sig_hup);
    s->sig_hup.data = s;
    uv_signal_start(&s->sig_hup, on_hup, SIGHUP);
    uv_unref((uv_handle_t *)&s->sig_hup);
    if (!s->tls)
        return;
    tls_server_describe(s->tls, what, sizeof(what));
    log_msg(LOG_INFO, "TLS on every TCP listener (%s): %s", tls_library(), what);
    if (!tls_server_verifies_clients(s->tls))
        log_msg(LOG_WARNING, "TLS without client certificates: anyone who reaches a TCP listener gets what its rules "
                             "grant; put a ca.pem in SOCKET_PROXY_TLS_DIR (or set SOCKET_PROXY_TLS_CA) to require "
                             "them");
}

/* SIGTERM and SIGINT start the shutdown; SIGCHLD reaps. */
static void start_signals(server *s)
{
    uv_signal_init(s->loop, &s->sig_term);
    uv_signal_init(s->loop, &s->sig_int);
    uv_signal_init(s->loop, &s->sig_chld);
    s->sig_term.data = s->sig_int.data = s->sig_chld.data = s;
    uv_signal_start(&s->sig_term, on_signal, SIGTERM);
    uv_signal_start(&s->sig_int, on_signal, SIGINT);
    uv_signal_start(&s->sig_chld, on_signal, SIGCHLD);
    uv_unref((uv_handle_t *)&s->sig_chld);
    uv_timer_init(s->loop, &s->grace);
    s->grace.data = s;
}

/* Closes everything still open, lets the loop finish the closes, frees. */
static void server_free(server *s)
{
    close_listeners(s);
    proxy_close_all(s);
    /* Before the walk below: admission lists and the fault summaries close
     * their own handles. */
    profiles_free(s->profiles);
    quiet_close(s->quiet);
    lookup_pool_close(s->lookups); /* after proxy_close_all: no lookup uses it now */
    uv_walk(s->loop, close_walk, NULL);
    uv_run(s->loop, UV_RUN_DEFAULT);
    uv_loop_close(s->loop);
    metrics_free(s->metrics); /* after the loop: the listener used it up to its last close callback */
    clients_clear(&s->clients);
    clients_clear(&s->handshakes);
    free(s->listeners);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < s->buf_nfree[k]; i++)
            free(s->buf_free[k][i]);
        free(s->buf_free[k]);
    }
}

int server_run(const config *cfg, profiles *ps, tls_server *tls)
{
    server s;
    uv_loop_t loop;
    char err[512];
    int rc = 1;

    if (server_init(&s, &loop, cfg) < 0) {
        log_msg(LOG_CRIT, "cannot start the event loop");
        return 1;
    }
    s.profiles = ps;
    s.tls = tls;
    if (!s.lookups) {
        log_msg(LOG_CRIT, "out of memory");
    } else if (start_learn(&s) < 0) {
        log_msg(LOG_CRIT, "SOCKET_PROXY_MODE=learn: out of memory");
    } else if (open_listeners(&s, err, sizeof(err)) < 0) {
        log_msg(LOG_CRIT, "%s", err);
    } else {
        start_signals(&s);
        start_tls(&s);
        log_msg(LOG_INFO, "forwarding to unix:%s; up to %zu connections", cfg->upstream, s.max_conns);
        uv_run(&loop, UV_RUN_DEFAULT);
        rc = 0;
        log_msg(LOG_NOTICE, "stopped");
        print_learned(&s); /* at exit: what this run learned */
    }
    server_free(&s);
    learn_free(s.learn);
    tls_server_unref(s.tls);
    return rc;
}
