/* Server configuration from the environment (everything but the rules). */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONFIG_MAX_LISTEN 8

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
    uid_t uid;
    gid_t gid;
    mode_t socket_mode;
    size_t max_client_conns;  /* SOCKET_PROXY_MAX_CLIENT_CONNS; 0: no limit */
    unsigned min_api_major, min_api_minor; /* SOCKET_PROXY_MIN_API_VERSION; 0.0: no floor */
    int log_level;            /* syslog numbering: 0 emerg .. 7 debug */
    bool log_json;
} config;

/* Reads the environment through get (getenv-like). Returns 0, or -1 with one
 * line in err naming the variable and what it accepts. */
int config_load(config *c, const char *(*get)(const char *name), char *err, size_t errlen);

/* "30s", "500ms", "2m", "1h", or plain seconds. -1 on error. */
int64_t config_parse_duration(const char *s);

#endif
