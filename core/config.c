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

static int fail(char *err, size_t errlen, const char *name, const char *value, const char *accepted)
{
    snprintf(err, errlen, "%s=\"%s\" is invalid: %s", name, value, accepted);
    return -1;
}

static int get_duration(const char *(*get)(const char *), const char *name, uint64_t def, uint64_t *out, char *err,
                        size_t errlen)
{
    const char *v = get(name);
    *out = def;
    if (!v)
        return 0;
    int64_t ms = config_parse_duration(v);
    if (ms < 0)
        return fail(err, errlen, name, v, "use a duration such as 30s, 500ms, 2m or 1h");
    *out = (uint64_t)ms;
    return 0;
}

static int get_uint(const char *(*get)(const char *), const char *name, unsigned long def, unsigned long max,
                    int base, unsigned long *out, char *err, size_t errlen, const char *accepted)
{
    const char *v = get(name);
    *out = def;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, base);
    if (!*v || *end || errno || n > max || *v == '-' || *v == '+' || *v == ' ')
        return fail(err, errlen, name, v, accepted);
    *out = n;
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

static const char *const level_names[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};

int config_load(config *c, const char *(*get)(const char *name), char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    const char *v;

    /* Unix listener: $SOCKET_PROXY_VOLUME/docker.sock; empty disables. */
    v = get("SOCKET_PROXY_VOLUME");
    if (!v)
        v = "/run/proxy";
    if (*v) {
        if (*v != '/' || strlen(v) + sizeof("/docker.sock") > sizeof(c->unix_path))
            return fail(err, errlen, "SOCKET_PROXY_VOLUME", v, "use an absolute directory path of at most 95 bytes, or empty to disable");
        snprintf(c->volume, sizeof(c->volume), "%s", v);
        snprintf(c->unix_path, sizeof(c->unix_path), "%s/docker.sock", v);
    }

    /* TCP listeners. */
    unsigned long port;
    if (get_uint(get, "PORT", 2375, 65535, 10, &port, err, errlen, "use a port number from 1 to 65535") < 0)
        return -1;
    if (port == 0)
        return fail(err, errlen, "PORT", get("PORT"), "use a port number from 1 to 65535");
    bool no_v6 = false;
    if ((v = get("DISABLE_IPV6"))) {
        int b = rules_parse_bool(v);
        if (b < 0)
            return fail(err, errlen, "DISABLE_IPV6", v, "use 1, true, yes, on or 0, false, no, off");
        no_v6 = b;
    }
    v = get("SOCKET_PROXY_LISTEN");
    if (v && strcasecmp(v, "off") == 0) {
        c->nlisten = 0;
    } else if (v && *v) {
        const char *p = v;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            while (n && *p == ' ')
                p++, n--;
            while (n && p[n - 1] == ' ')
                n--;
            if (c->nlisten == CONFIG_MAX_LISTEN || parse_listen(p, n, &c->listen[c->nlisten]) < 0)
                return fail(err, errlen, "SOCKET_PROXY_LISTEN", v,
                            "use off or a comma-separated list of numeric addresses with ports, "
                            "such as 127.0.0.1:2375,[::1]:2375 (at most 8)");
            c->nlisten++;
            p += n;
            while (*p == ',' || *p == ' ')
                p++;
        }
    } else {
        config_listen *l = &c->listen[c->nlisten++];
        l->port = (int)port;
        l->v6 = !no_v6;
        l->fallback_v4 = !no_v6;
        snprintf(l->host, sizeof(l->host), "%s", no_v6 ? "0.0.0.0" : "::");
    }
    if (!c->unix_path[0] && c->nlisten == 0)
        return fail(err, errlen, "SOCKET_PROXY_LISTEN", v ? v : "", "nothing to listen on: SOCKET_PROXY_VOLUME is empty too");

    /* Upstream: Tecnativa's SOCKET_PATH or 11notes' SOCKET_PROXY_DOCKER_SOCKET. */
    const char *up = get("SOCKET_PROXY_DOCKER_SOCKET");
    const char *up2 = get("SOCKET_PATH");
    if (up && up2 && strcmp(up, up2) != 0) {
        snprintf(err, errlen, "SOCKET_PATH=\"%s\" and SOCKET_PROXY_DOCKER_SOCKET=\"%s\" disagree: set only one", up2, up);
        return -1;
    }
    up = up ? up : up2;
    if (up && *up) {
        if (*up != '/' || strlen(up) >= sizeof(c->upstream))
            return fail(err, errlen, up2 && !get("SOCKET_PROXY_DOCKER_SOCKET") ? "SOCKET_PATH" : "SOCKET_PROXY_DOCKER_SOCKET", up,
                        "use an absolute path to the daemon's socket, at most 107 bytes");
        snprintf(c->upstream, sizeof(c->upstream), "%s", up);
    } else {
        struct stat st;
        snprintf(c->upstream, sizeof(c->upstream), "%s",
                 stat("/var/run/docker.sock", &st) != 0 && stat("/run/docker.sock", &st) == 0 ? "/run/docker.sock"
                                                                                            : "/var/run/docker.sock");
    }

    if (get_duration(get, "SOCKET_PROXY_TIMEOUT", 30000, &c->dial_timeout_ms, err, errlen) < 0 ||
        get_duration(get, "SOCKET_PROXY_HEAD_TIMEOUT", 10000, &c->head_timeout_ms, err, errlen) < 0 ||
        get_duration(get, "SOCKET_PROXY_IDLE_TIMEOUT", 120000, &c->idle_timeout_ms, err, errlen) < 0 ||
        get_duration(get, "SOCKET_PROXY_SHUTDOWN_GRACE", 10000, &c->shutdown_grace_ms, err, errlen) < 0)
        return -1;
    if (c->dial_timeout_ms == 0)
        return fail(err, errlen, "SOCKET_PROXY_TIMEOUT", get("SOCKET_PROXY_TIMEOUT"), "use a duration above zero, such as 30s");
    if (c->head_timeout_ms == 0)
        return fail(err, errlen, "SOCKET_PROXY_HEAD_TIMEOUT", get("SOCKET_PROXY_HEAD_TIMEOUT"), "use a duration above zero, such as 10s");

    unsigned long n;
    if (get_uint(get, "SOCKET_PROXY_MAX_HEAD", 65536, 1 << 20, 10, &n, err, errlen,
                 "use a byte count from 1024 to 1048576") < 0)
        return -1;
    if (n < 1024)
        return fail(err, errlen, "SOCKET_PROXY_MAX_HEAD", get("SOCKET_PROXY_MAX_HEAD"), "use a byte count from 1024 to 1048576");
    c->max_head = n;
    if (get_uint(get, "SOCKET_PROXY_UID", 1000, 0x7fffffff, 10, &n, err, errlen, "use a numeric user id (0 keeps root)") < 0)
        return -1;
    c->uid = (uid_t)n;
    if (get_uint(get, "SOCKET_PROXY_GID", 1000, 0x7fffffff, 10, &n, err, errlen, "use a numeric group id (0 keeps root)") < 0)
        return -1;
    c->gid = (gid_t)n;
    if (get_uint(get, "SOCKET_PROXY_SOCKET_MODE", 0660, 0777, 8, &n, err, errlen, "use an octal mode such as 0660") < 0)
        return -1;
    c->socket_mode = (mode_t)n;

    if (get_uint(get, "SOCKET_PROXY_MAX_CLIENT_CONNS", 512, 1 << 30, 10, &n, err, errlen, "use a count (0: no limit)") < 0)
        return -1;
    c->max_client_conns = n; /* placeholder until the server-variable table lands */
    c->min_api_major = 1;
    c->min_api_minor = 24;

    /* Logging: Tecnativa's syslog names, plus warn/error; 11notes' DEBUG=true. */
    c->log_level = LOG_INFO;
    if ((v = get("DEBUG"))) {
        int b = rules_parse_bool(v);
        if (b < 0)
            return fail(err, errlen, "DEBUG", v, "use 1, true, yes, on or 0, false, no, off");
        if (b)
            c->log_level = LOG_DEBUG;
    }
    if ((v = get("LOG_LEVEL")) && *v) {
        int lvl = -1;
        for (int i = 0; i < 8; i++)
            if (strcasecmp(v, level_names[i]) == 0)
                lvl = i;
        if (strcasecmp(v, "warn") == 0)
            lvl = LOG_WARNING;
        if (strcasecmp(v, "error") == 0)
            lvl = LOG_ERR;
        if (lvl < 0)
            return fail(err, errlen, "LOG_LEVEL", v, "use debug, info, notice, warning (warn), err (error), crit, alert or emerg");
        if (!(get("DEBUG") && c->log_level == LOG_DEBUG))
            c->log_level = lvl;
    }
    if ((v = get("LOG_FORMAT")) && *v) {
        if (strcasecmp(v, "json") == 0)
            c->log_json = true;
        else if (strcasecmp(v, "text") != 0)
            return fail(err, errlen, "LOG_FORMAT", v, "use text or json");
    }
    return 0;
}
