/* Server configuration from the environment (everything but the rules). */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tls.h"

#define CONFIG_MAX_LISTEN 8

/* Every server variable, in the order of the README's Server table:
 * X(name, default as a user would write it, meaning). config_load parses a
 * default as it parses the environment's value; an unset or empty variable
 * gets its default, except the two listeners, where empty means off.
 * SOCKET_PROXY_LISTEN's default is what PORT and DISABLE_IPV6 give by default. */
#define CONFIG_VARS(X)                                                                                               \
    X(SOCKET_PROXY_VOLUME, "/run/proxy", "directory of the Unix socket docker.sock; empty: no Unix socket")          \
    X(SOCKET_PROXY_LISTEN, "[::]:2375", "TCP addresses, comma-separated, or off; empty: off; unset: PORT on [::]")   \
    X(PORT, "2375", "the port of the default TCP listener")                                                          \
    X(DISABLE_IPV6, "0", "1 binds the default TCP listener to 0.0.0.0")                                              \
    X(SOCKET_PATH, "/var/run/docker.sock", "the daemon's socket (/run/docker.sock when only that exists)")           \
    X(SOCKET_PROXY_DOCKER_SOCKET, "/var/run/docker.sock", "the same, 11notes' name")                                 \
    X(SOCKET_PROXY_TLS_DIR, "",                                                                                      \
      "TLS on every TCP listener: a directory with Docker's file names ca.pem (client certificates required), "     \
      "server-cert.pem and server-key.pem; the default port becomes 2376")                                         \
    X(SOCKET_PROXY_TLS_CERT, "", "the server certificate file (PEM, with its chain): overrides the directory's")     \
    X(SOCKET_PROXY_TLS_KEY, "", "the server's private key file (PEM, unencrypted): overrides the directory's")       \
    X(SOCKET_PROXY_TLS_CA, "", "the CA file client certificates must be signed by: overrides the directory's")      \
    X(SOCKET_PROXY_TLS_CLIENT, "",                                                                                   \
      "client certificate names (CN or subject alternative name) the default TCP listener admits; empty: any "      \
      "certificate its CA signed")                                                                                  \
    X(SOCKET_PROXY_TIMEOUT, "30s", "bound on dialing the daemon")                                                    \
    X(SOCKET_PROXY_HEAD_TIMEOUT, "10s", "from a request head's first byte to its end; 408 beyond")                   \
    X(SOCKET_PROXY_IDLE_TIMEOUT, "120s", "an idle keep-alive connection is closed")                                  \
    X(SOCKET_PROXY_SHUTDOWN_GRACE, "10s", "on SIGTERM/SIGINT, in-flight requests may finish within it")              \
    X(SOCKET_PROXY_MAX_HEAD, "65536", "request head size limit in bytes; 431 beyond")                                \
    X(SOCKET_PROXY_MAX_BODY, "1048576", "a judged request body (container create, ...) is read whole up to it; 413 beyond") \
    X(SOCKET_PROXY_MIN_API_VERSION, "1.24",                                                                          \
      "a path's /vX.Y below it gets 400 (dockerd below API 1.24 applies a start body as the container's "            \
      "new HostConfig, and old versions mean other things elsewhere); 0 or off lifts the floor")                     \
    X(SOCKET_PROXY_MAX_CLIENT_CONNS, "512",                                                                          \
      "connections per client (per Unix peer uid, per TCP source address); 0: no limit")                             \
    X(SOCKET_PROXY_PROFILES, "",                                                                                     \
      "profile names, comma-separated: each gets its own socket and rules from its NAME__ variables")               \
    X(SOCKET_PROXY_PRESET, "", "a preset: the variables an application needs, as defaults (see Presets)")            \
    X(SOCKET_PROXY_ALLOW_FROM, "",                                                                                   \
      "TCP clients admitted: addresses, CIDRs and host names, comma-separated; empty: anyone")                      \
    X(SOCKET_PROXY_PEER_UIDS, "", "Unix-socket clients admitted by uid, comma-separated; empty: anyone")             \
    X(SOCKET_PROXY_PEER_GIDS, "", "Unix-socket clients admitted by gid, comma-separated; empty: anyone")             \
    X(SOCKET_PROXY_METRICS, "",                                                                                      \
      "Prometheus metrics (GET /metrics) on one numeric address with a port, such as 127.0.0.1:9100; empty or off: none") \
    X(SOCKET_PROXY_MODE, "enforce",                                                                                  \
      "enforce, or learn: requests the path rules deny are forwarded and logged learn-allow, and the least "         \
      "variables each client needs are reported")                                                                    \
    X(SOCKET_PROXY_UID, "1000", "user to switch to after binding (0 keeps root)")                                    \
    X(SOCKET_PROXY_GID, "1000", "group to switch to after binding")                                                  \
    X(SOCKET_PROXY_SOCKET_MODE, "0660", "mode of the proxy's socket")                                                \
    X(LOG_LEVEL, "info", "debug, info, notice, warning, err, crit, alert or emerg")                                  \
    X(LOG_FORMAT, "text", "text or json")                                                                            \
    X(DEBUG, "0", "1 means LOG_LEVEL=debug (11notes)")

enum config_var {
#define X(name, def, what) CV_##name,
    CONFIG_VARS(X)
#undef X
    CV_COUNT
};

typedef uint32_t config_mask;
#define CBIT(v) ((config_mask)1 << (v))
_Static_assert(CV_COUNT <= 32, "config_mask holds a bit per server variable");

/* The names, in table order and NULL-terminated (for rules_lint_env), and the
 * defaults as a user would write them. */
extern const char *const config_var_names[CV_COUNT + 1];
const char *config_var_default(int var);

typedef struct {
    char host[64];   /* numeric address, no brackets */
    int port;
    bool v6;
    bool fallback_v4; /* the default [::]: falls back to 0.0.0.0 when IPv6 is unavailable */
} config_listen;

typedef struct config {
    char unix_path[108];      /* "" when SOCKET_PROXY_VOLUME is empty */
    char volume[108];
    config_listen listen[CONFIG_MAX_LISTEN];
    int nlisten;
    char upstream[108];       /* the daemon's socket */
    uint64_t dial_timeout_ms; /* SOCKET_PROXY_TIMEOUT */
    uint64_t head_timeout_ms;
    uint64_t idle_timeout_ms;
    uint64_t shutdown_grace_ms;
    size_t max_head;
    size_t max_body;          /* SOCKET_PROXY_MAX_BODY */
    unsigned min_api_major, min_api_minor; /* SOCKET_PROXY_MIN_API_VERSION; 0,0: no floor */
    size_t max_client_conns;  /* SOCKET_PROXY_MAX_CLIENT_CONNS; 0: no limit */
    uid_t uid;
    gid_t gid;
    mode_t socket_mode;
    int log_level;            /* syslog numbering: 0 emerg .. 7 debug */
    bool log_json;
    char metrics_addr[96];    /* SOCKET_PROXY_METRICS as given, checked; "" when off */
    bool learn;               /* SOCKET_PROXY_MODE=learn */
    bool tls;                 /* SOCKET_PROXY_TLS_*: every TCP listener speaks TLS */
    tls_files tls_files;      /* ... with these files (checked when loaded: core/tls.c) */
    char tls_dir[208];        /* SOCKET_PROXY_TLS_DIR when the CA is looked for there ("": it is not) */
    config_mask empty_;       /* CBIT(CV_x): set but empty, so the default applies (off for the listeners) */
    /* Read as given (NULL when unset or empty); core/profiles.c checks them. */
    const char *profiles_spec, *preset, *allow_from, *peer_uids, *peer_gids;
} config;

/* Reads the environment through get (getenv-like). Returns 0, or -1 with one
 * line in err naming the variable and what it accepts. */
int config_load(config *c, const char *(*get)(const char *name), char *err, size_t errlen);

/* Parsers shared with the profiles' variables (core/profiles.c): each
 * returns 0, or -1 with one line in err naming the variable `name`. */
int config_fail(char *err, size_t errlen, const char *name, const char *value, const char *accepted);
int config_parse_uint(const char *name, const char *v, unsigned long min, unsigned long max, int base,
                      unsigned long *out, char *err, size_t errlen, const char *accepted);
/* A socket directory: volume = v, unix_path = v/docker.sock. */
int config_parse_volume(const char *name, const char *v, char *volume, char *unix_path, char *err, size_t errlen);
/* A comma-separated list of numeric addresses with ports. */
int config_parse_listen_list(const char *name, const char *v, config_listen *out, int *n, char *err, size_t errlen);

/* Exactly one numeric address with a port ("127.0.0.1:9100", "[::1]:9100"). */
int config_parse_listen_one(const char *name, const char *v, config_listen *out, char *err, size_t errlen);

/* The TLS files as they stand now, for a reload: SOCKET_PROXY_TLS_DIR's
 * ca.pem is looked for again (a CA put there later turns client
 * certificates on). f may be &c->tls_files (then only the CA is updated). */
void config_tls_files_now(const config *c, tls_files *f);

/* "30s", "500ms", "2m", "1h", or plain seconds. -1 on error. */
int64_t config_parse_duration(const char *s);

#endif
