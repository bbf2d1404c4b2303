/* Environment -> server configuration. One clear error line per mistake. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"
#include "rules/rules.h"

int64_t config_parse_duration(const char *s)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double mult;
    if (*end == '\0' || strcmp(end, "s") == 0)
        mult = 1000;
    else if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "m") == 0)
        mult = 60000;
    else if (strcmp(end, "h") == 0)
        mult = 3600000;
    else
        return -1;
    double ms = v * mult;
    if (ms > 1e12)
        return -1;
    return (int64_t)ms;
}

const char *const config_var_names[CV_COUNT + 1] = {
#define X(name, def, what) #name,
    CONFIG_VARS(X)
#undef X
    NULL,
};

static const char *const defaults[CV_COUNT] = {
#define X(name, def, what) def,
    CONFIG_VARS(X)
#undef X
};

const char *config_var_default(int var) { return var >= 0 && var < CV_COUNT ? defaults[var] : NULL; }

int config_fail(char *err, size_t errlen, const char *name, const char *value, const char *accepted)
{
    snprintf(err, errlen, "%s=\"%s\" is invalid: %s", name, value, accepted);
    return -1;
}

static int fail(char *err, size_t errlen, int var, const char *value, const char *accepted)
{
    return config_fail(err, errlen, config_var_names[var], value, accepted);
}

/* The environment's value, NULL when unset; an empty value reads as unset
 * and is recorded for the start-up notice (compose writes PORT=${PORT:-}). */
static const char *env_value(config *c, const char *(*get)(const char *), int var)
{
    const char *v = get(config_var_names[var]);
    if (v && !*v) {
        c->empty_ |= CBIT(var);
        return NULL;
    }
    return v;
}

/* The value to parse: the environment's, or the table's default. */
static const char *value_of(config *c, const char *(*get)(const char *), int var)
{
    const char *v = env_value(c, get, var);
    return v ? v : defaults[var];
}

static int get_duration(config *c, const char *(*get)(const char *), int var, bool zero_ok, uint64_t *out, char *err,
                        size_t errlen)
{
    const char *v = value_of(c, get, var);
    int64_t ms = config_parse_duration(v);
    if (ms < 0 || (ms == 0 && !zero_ok))
        return fail(err, errlen, var, v,
                    zero_ok ? "use a duration such as 30s, 500ms, 2m or 1h"
                            : "use a duration above zero, such as 30s, 500ms, 2m or 1h");
    *out = (uint64_t)ms;
    return 0;
}

int config_parse_uint(const char *name, const char *v, unsigned long min, unsigned long max, int base,
                      unsigned long *out, char *err, size_t errlen, const char *accepted)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, base);
    /* strtoul would skip blanks and take a sign */
    if (*v < '0' || *v > '9' || *end || errno || n < min || n > max)
        return config_fail(err, errlen, name, v, accepted);
    *out = n;
    return 0;
}

static int get_uint(config *c, const char *(*get)(const char *), int var, unsigned long min, unsigned long max,
                    int base, unsigned long *out, char *err, size_t errlen, const char *accepted)
{
    return config_parse_uint(config_var_names[var], value_of(c, get, var), min, max, base, out, err, errlen, accepted);
}

static int get_bool(config *c, const char *(*get)(const char *), int var, bool *out, char *err, size_t errlen)
{
    const char *v = value_of(c, get, var);
    int b = rules_parse_bool(v);
    if (b < 0)
        return fail(err, errlen, var, v, "use 1, true, yes, on or 0, false, no, off");
    *out = b;
    return 0;
}

/* "X.Y" with one to three digits each, or "0"/"off" for no floor (0, 0). */
static int parse_api_version(const char *s, unsigned *major, unsigned *minor)
{
    unsigned part[2] = {0, 0};
    if (strcmp(s, "0") != 0 && strcasecmp(s, "off") != 0) {
        for (int i = 0; i < 2; i++) {
            size_t n = strspn(s, "0123456789");
            if (n == 0 || n > 3 || s[n] != (i == 0 ? '.' : '\0'))
                return -1;
            part[i] = (unsigned)strtoul(s, NULL, 10);
            s += n + 1;
        }
    }
    *major = part[0];
    *minor = part[1];
    return 0;
}

/* "127.0.0.1:2375", "[::1]:2375", "0.0.0.0:2375" */
static int parse_listen(const char *s, size_t n, config_listen *l)
{
    char buf[96];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *colon = strrchr(buf, ':');
    if (!colon)
        return -1;
    *colon = '\0';
    char *host = buf;
    if (*host == '[') {
        size_t hl = strlen(host);
        if (hl < 2 || host[hl - 1] != ']')
            return -1;
        host[hl - 1] = '\0';
        host++;
        l->v6 = true;
    }
    unsigned char tmp[16];
    if (strlen(host) >= sizeof(l->host))
        return -1;
    if (l->v6 ? inet_pton(AF_INET6, host, tmp) != 1 : inet_pton(AF_INET, host, tmp) != 1)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 1 || port > 65535)
        return -1;
    memcpy(l->host, host, strlen(host) + 1);
    l->port = (int)port;
    return 0;
}

/* Unix listener: $SOCKET_PROXY_VOLUME/docker.sock; empty: off. */
static int load_volume(config *c, const char *(*get)(const char *), char *err, size_t errlen)
{
    const char *v = get(config_var_names[CV_SOCKET_PROXY_VOLUME]);
    if (v && !*v) {
        c->empty_ |= CBIT(CV_SOCKET_PROXY_VOLUME);
        return 0;
    }
    v = v ? v : defaults[CV_SOCKET_PROXY_VOLUME];
    return config_parse_volume(config_var_names[CV_SOCKET_PROXY_VOLUME], v, c->volume, c->unix_path, err, errlen);
}

int config_parse_volume(const char *name, const char *v, char *volume, char *unix_path, char *err, size_t errlen)
{
    char clean[108];
    size_t n = 0;
    /* One spelling per directory: "/x/", "/x//" and "//x" are "/x", so two
     * profiles cannot name one socket two ways. */
    for (const char *p = v; *p && n < sizeof(clean) - 1; p++)
        if (*p != '/' || n == 0 || clean[n - 1] != '/')
            clean[n++] = *p;
    while (n > 1 && clean[n - 1] == '/')
        n--;
    clean[n] = '\0';
    if (*v != '/' || strlen(v) >= sizeof(clean) || n + sizeof("/docker.sock") > 108)
        return config_fail(err, errlen, name, v,
                           "use an absolute directory path of at most 95 bytes, or empty for no Unix socket");
    memcpy(volume, clean, n + 1);
    size_t at = strcmp(clean, "/") == 0 ? 0 : n; /* n + 12 < 108: checked above */
    memcpy(unix_path, clean, at);
    memcpy(unix_path + at, "/docker.sock", sizeof("/docker.sock"));
    return 0;
}

/* SOCKET_PROXY_LISTEN's list v, comma-separated, blanks around the commas. */
int config_parse_listen_list(const char *name, const char *v, config_listen *out, int *nout, char *err, size_t errlen)
{
    const char *p = v;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && *p == ' ')
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if (*nout == CONFIG_MAX_LISTEN || parse_listen(p, n, &out[*nout]) < 0)
            return config_fail(err, errlen, name, v,
                               "use off or a comma-separated list of numeric addresses with ports, "
                               "such as 127.0.0.1:2375,[::1]:2375 (at most 8)");
        (*nout)++;
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return 0;
}

int config_parse_listen_one(const char *name, const char *v, config_listen *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (parse_listen(v, strlen(v), out) < 0)
        return config_fail(err, errlen, name, v,
                           "use off, or one numeric address with a port, such as 127.0.0.1:9100 or [::1]:9100");
    return 0;
}

/* The metrics listener: off unless set (empty is off too, the default). */
static int load_metrics(config *c, const char *(*get)(const char *), char *err, size_t errlen)
{
    const char *v = get(config_var_names[CV_SOCKET_PROXY_METRICS]);
    config_listen l;
    if (!v || !*v || strcasecmp(v, "off") == 0)
        return 0;
    if (config_parse_listen_one(config_var_names[CV_SOCKET_PROXY_METRICS], v, &l, err, errlen) < 0)
        return -1;
    /* parse_listen takes at most 95 bytes: it fits */
    snprintf(c->metrics_addr, sizeof(c->metrics_addr), "%s", v);
    return 0;
}

/* One TLS file: the variable's own (an absolute path), or `name` in the
 * directory, or "" when neither is given. */
static int tls_file(config *c, const char *(*get)(const char *), int var, const char *dir, const char *name,
                    char *out, size_t cap, const char **from, char *err, size_t errlen)
{
    const char *v = env_value(c, get, var);
    if (v && (*v != '/' || strlen(v) >= cap))
        return fail(err, errlen, var, v, "use an absolute file path of at most 255 bytes");
    if (v) {
        snprintf(out, cap, "%s", v);
        *from = config_var_names[var];
    } else if (dir) {
        snprintf(out, cap, "%s/%s", dir, name);
        *from = config_var_names[CV_SOCKET_PROXY_TLS_DIR];
    }
    return 0;
}

void config_tls_files_now(const config *c, tls_files *f)
{
    struct stat st;
    if (f != &c->tls_files)
        *f = c->tls_files;
    if (!c->tls_dir[0])
        return; /* the CA is SOCKET_PROXY_TLS_CA's, or there is none */
    snprintf(f->ca, sizeof(f->ca), "%s/ca.pem", c->tls_dir);
    f->ca_var = config_var_names[CV_SOCKET_PROXY_TLS_DIR];
    /* Only a file that is not there means "no CA": anything else (a dangling
     * link, no permission) is a CA that fails to load, with its reason. */
    if (lstat(f->ca, &st) != 0 && errno == ENOENT)
        f->ca[0] = '\0';
}

/* TLS: Docker's file names in SOCKET_PROXY_TLS_DIR, each overridable; the
 * files themselves are read by core/tls.c (tls_server_load). A directory
 * without ca.pem means server-only TLS. */
static int load_tls(config *c, const char *(*get)(const char *), char *err, size_t errlen)
{
    const char *dir = env_value(c, get, CV_SOCKET_PROXY_TLS_DIR);
    if (dir && (*dir != '/' || strlen(dir) > 200))
        return fail(err, errlen, CV_SOCKET_PROXY_TLS_DIR, dir,
                    "use an absolute directory path (at most 200 bytes) holding server-cert.pem, server-key.pem and, "
                    "for client certificates, ca.pem");
    tls_files *f = &c->tls_files;
    if (tls_file(c, get, CV_SOCKET_PROXY_TLS_CERT, dir, "server-cert.pem", f->cert, sizeof(f->cert), &f->cert_var,
                 err, errlen) < 0 ||
        tls_file(c, get, CV_SOCKET_PROXY_TLS_KEY, dir, "server-key.pem", f->key, sizeof(f->key), &f->key_var, err,
                 errlen) < 0 ||
        tls_file(c, get, CV_SOCKET_PROXY_TLS_CA, NULL, NULL, f->ca, sizeof(f->ca), &f->ca_var, err, errlen) < 0)
        return -1;
    if (!f->ca[0] && dir) {
        snprintf(c->tls_dir, sizeof(c->tls_dir), "%s", dir);
        config_tls_files_now(c, f);
    }
    if (!f->cert[0] && !f->key[0] && !f->ca[0])
        return 0;
    if (!f->cert[0] || !f->key[0]) {
        snprintf(err, errlen, "%s is set but %s is not: TLS needs both a certificate and its key (or "
                 "SOCKET_PROXY_TLS_DIR with server-cert.pem and server-key.pem)",
                 f->cert[0] ? f->cert_var : f->key_var ? f->key_var : f->ca_var,
                 f->cert[0] ? config_var_names[CV_SOCKET_PROXY_TLS_KEY] : config_var_names[CV_SOCKET_PROXY_TLS_CERT]);
        return -1;
    }
    c->tls = true;
    return 0;
}

/* TCP listeners: SOCKET_PROXY_LISTEN's, or PORT on [::] (0.0.0.0 with
 * DISABLE_IPV6); then, with the volume's result, that something listens.
 * With TLS, PORT's default is Docker's TLS port, 2376. */
static int load_listeners(config *c, const char *(*get)(const char *), char *err, size_t errlen)
{
    unsigned long port;
    bool no_v6 = false;
    if (get_uint(c, get, CV_PORT, 1, 65535, 10, &port, err, errlen, "use a port number from 1 to 65535") < 0 ||
        get_bool(c, get, CV_DISABLE_IPV6, &no_v6, err, errlen) < 0)
        return -1;
    if (c->tls && !env_value(c, get, CV_PORT))
        port = 2376;
    const char *v = get(config_var_names[CV_SOCKET_PROXY_LISTEN]);
    if (v && !*v) {
        /* Fail closed: empty is off, as for the volume, never every interface. */
        c->empty_ |= CBIT(CV_SOCKET_PROXY_LISTEN);
    } else if (v && strcasecmp(v, "off") == 0) {
        c->nlisten = 0;
    } else if (v) {
        if (config_parse_listen_list(config_var_names[CV_SOCKET_PROXY_LISTEN], v, c->listen, &c->nlisten, err, errlen) < 0)
            return -1;
    } else {
        config_listen *l = &c->listen[c->nlisten++];
        l->port = (int)port;
        l->v6 = !no_v6;
        l->fallback_v4 = !no_v6;
        snprintf(l->host, sizeof(l->host), "%s", no_v6 ? "0.0.0.0" : "::");
    }
    if (!c->unix_path[0] && c->nlisten == 0 && !c->profiles_spec)
        return fail(err, errlen, CV_SOCKET_PROXY_LISTEN, v ? v : "", "nothing to listen on: SOCKET_PROXY_VOLUME is empty too");
    return 0;
}

/* Upstream: Tecnativa's SOCKET_PATH or 11notes' SOCKET_PROXY_DOCKER_SOCKET. */
static int load_upstream(config *c, const char *(*get)(const char *), char *err, size_t errlen)
{
    const char *up = env_value(c, get, CV_SOCKET_PROXY_DOCKER_SOCKET);
    const char *up2 = env_value(c, get, CV_SOCKET_PATH);
    if (up && up2 && strcmp(up, up2) != 0) {
        snprintf(err, errlen, "SOCKET_PATH=\"%s\" and SOCKET_PROXY_DOCKER_SOCKET=\"%s\" disagree: set only one", up2, up);
        return -1;
    }
    int up_var = up ? CV_SOCKET_PROXY_DOCKER_SOCKET : CV_SOCKET_PATH;
    up = up ? up : up2;
    if (up) {
        if (*up != '/' || strlen(up) >= sizeof(c->upstream))
            return fail(err, errlen, up_var, up, "use an absolute path to the daemon's socket, at most 107 bytes");
        snprintf(c->upstream, sizeof(c->upstream), "%s", up);
    } else {
        struct stat st;
        const char *def = defaults[CV_SOCKET_PATH];
        snprintf(c->upstream, sizeof(c->upstream), "%s",
                 stat(def, &st) != 0 && stat("/run/docker.sock", &st) == 0 ? "/run/docker.sock" : def);
    }
    return 0;
}

static int load_timeouts(config *c, const char *(*get)(const char *), char *err, size_t errlen)
{
    if (get_duration(c, get, CV_SOCKET_PROXY_TIMEOUT, false, &c->dial_timeout_ms, err, errlen) < 0 ||
        get_duration(c, get, CV_SOCKET_PROXY_HEAD_TIMEOUT, false, &c->head_timeout_ms, err, errlen) < 0 ||
        get_duration(c, get, CV_SOCKET_PROXY_IDLE_TIMEOUT, true, &c->idle_timeout_ms, err, errlen) < 0 ||
        get_duration(c, get, CV_SOCKET_PROXY_SHUTDOWN_GRACE, true, &c->shutdown_grace_ms, err, errlen) < 0)
        return -1;
    return 0;
}

/* The head size limit, the API version floor, connections per client. */
static int load_limits(config *c, const char *(*get)(const char *), char *err, size_t errlen)
{
    unsigned long n;
    if (get_uint(c, get, CV_SOCKET_PROXY_MAX_HEAD, 1024, 1 << 20, 10, &n, err, errlen,
                 "use a byte count from 1024 to 1048576") < 0)
        return -1;
    c->max_head = n;
    if (get_uint(c, get, CV_SOCKET_PROXY_MAX_BODY, 1024, 64 << 20, 10, &n, err, errlen,
                 "use a byte count from 1024 to 67108864") < 0)
        return -1;
    c->max_body = n;
    const char *v = value_of(c, get, CV_SOCKET_PROXY_MIN_API_VERSION);
    if (parse_api_version(v, &c->min_api_major, &c->min_api_minor) < 0)
        return fail(err, errlen, CV_SOCKET_PROXY_MIN_API_VERSION, v,
                    "use an API version X.Y such as 1.24 or 1.41 (digits, one dot), or 0 or off for no floor");
    if (get_uint(c, get, CV_SOCKET_PROXY_MAX_CLIENT_CONNS, 0, 1000000, 10, &n, err, errlen,
                 "use a connection count from 1 to 1000000, or 0 for no limit") < 0)
        return -1;
    c->max_client_conns = n;
    return 0;
}

/* The user and group to switch to after binding, and the socket's mode. */
static int load_identity(config *c, const char *(*get)(const char *), char *err, size_t errlen)
{
    unsigned long n;
    if (get_uint(c, get, CV_SOCKET_PROXY_UID, 0, 0x7fffffff, 10, &n, err, errlen, "use a numeric user id (0 keeps root)") < 0)
        return -1;
    c->uid = (uid_t)n;
    if (get_uint(c, get, CV_SOCKET_PROXY_GID, 0, 0x7fffffff, 10, &n, err, errlen, "use a numeric group id (0 keeps root)") < 0)
        return -1;
    c->gid = (gid_t)n;
    if (get_uint(c, get, CV_SOCKET_PROXY_SOCKET_MODE, 0, 0777, 8, &n, err, errlen, "use an octal mode such as 0660") < 0)
        return -1;
    c->socket_mode = (mode_t)n;
    return 0;
}

/* Logging: Tecnativa's syslog names, plus warn/error; 11notes' DEBUG=true wins. */
static int load_logging(config *c, const char *(*get)(const char *), char *err, size_t errlen)
{
    bool debug = false;
    if (get_bool(c, get, CV_DEBUG, &debug, err, errlen) < 0)
        return -1;
    const char *v = value_of(c, get, CV_LOG_LEVEL);
    int lvl = -1;
    for (int i = 0; i < 8; i++)
        if (strcasecmp(v, log_level_names[i]) == 0)
            lvl = i;
    if (strcasecmp(v, "warn") == 0)
        lvl = LOG_WARNING;
    if (strcasecmp(v, "error") == 0)
        lvl = LOG_ERR;
    if (lvl < 0)
        return fail(err, errlen, CV_LOG_LEVEL, v, "use debug, info, notice, warning (warn), err (error), crit, alert or emerg");
    c->log_level = debug ? LOG_DEBUG : lvl;
    v = value_of(c, get, CV_LOG_FORMAT);
    if (strcasecmp(v, "json") == 0)
        c->log_json = true;
    else if (strcasecmp(v, "text") != 0)
        return fail(err, errlen, CV_LOG_FORMAT, v, "use text or json");
    v = value_of(c, get, CV_SOCKET_PROXY_MODE);
    if (strcasecmp(v, "learn") == 0)
        c->learn = true;
    else if (strcasecmp(v, "enforce") != 0)
        return fail(err, errlen, CV_SOCKET_PROXY_MODE, v, "use enforce or learn");
    return 0;
}

/* Profiles, the preset and admission, as given: core/profiles.c reads them.
 * Empty is unset (no profiles, no preset, anyone). */
static int load_profile_vars(config *c, const char *(*get)(const char *), char *err, size_t errlen)
{
    const char **out[] = {&c->profiles_spec, &c->preset, &c->allow_from, &c->peer_uids, &c->peer_gids};
    int vars[] = {CV_SOCKET_PROXY_PROFILES, CV_SOCKET_PROXY_PRESET, CV_SOCKET_PROXY_ALLOW_FROM,
                  CV_SOCKET_PROXY_PEER_UIDS, CV_SOCKET_PROXY_PEER_GIDS};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = get(config_var_names[vars[i]]);
        *out[i] = v && *v ? v : NULL;
    }
    return 0;
}

/* The groups in the order they are read: the first mistake is the one
 * reported, and the listeners' check needs the volume's and the profiles'. */
static int (*const load_steps[])(config *c, const char *(*get)(const char *), char *err, size_t errlen) = {
    load_profile_vars, load_volume, load_tls, load_listeners, load_upstream, load_timeouts, load_limits, load_identity, load_logging,
    load_metrics,
};

int config_load(config *c, const char *(*get)(const char *name), char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < sizeof(load_steps) / sizeof(load_steps[0]); i++)
        if (load_steps[i](c, get, err, errlen) < 0)
            return -1;
    return 0;
}
