/* The decision table: a row per case. Every variable on and off, every
 * default, the action and sub-path rules, exfiltration, libpod, and the
 * spellings of forbidden paths that must never get through. */
#include <stdlib.h>
#include <string.h>

#include "fake_env.h"
#include "rules/path.h"
#include "rules/rules.h"
#include "unit.h"

/* ---- a getenv over "A=1 B=0" strings (fake_env points at envbuf) ---- */
static char envbuf[512];

/* MIN_API=X.Y in env sets the version floor (the server reads it from
 * SOCKET_PROXY_MIN_API_VERSION and hands it to the rule set). */
static int compile(rules_set *r, const char *env)
{
    char err[256];
    snprintf(envbuf, sizeof(envbuf), "%s", env);
    int rc = rules_compile(r, fake_get, err, sizeof(err));
    const char *min = fake_get("MIN_API");
    unsigned major = 0, minor = 0;
    if (rc == 0 && min && sscanf(min, "%u.%u", &major, &minor) >= 1)
        rules_set_min_api(r, major, minor);
    return rc;
}

#define A 0
#define D 403
#define B 400

typedef struct {
    const char *env;
    const char *method;
    const char *target;
    int expect;
    const char *need; /* expected need text for denials, or NULL */
} row;

static const row rows[] = {
    /* defaults */
    {"", "GET", "/_ping", A},
    {"", "HEAD", "/_ping", A},
    {"", "GET", "/v1.41/_ping", A},
    {"", "GET", "/version", A},
    {"", "GET", "/v1.45/version", A},
    {"", "GET", "/events", A},
    {"", "GET", "/v1.41/events?filters=%7B%7D", A},
    {"", "GET", "/containers/json", D, "CONTAINERS=1"},
    {"", "GET", "/info", D, "INFO=1"},
    {"", "POST", "/_ping", D, "PING=1 and POST=1"},
    {"", "GET", "/", D, "no variable grants it"},
    {"", "GET", "/foo", D, "no variable grants it"},
    {"", "GET", "/libpod/_ping", A},
    {"", "GET", "/v4.0.0/libpod/version", A},
    {"", "GET", "/libpod/containers/json", D, "LIBPOD_CONTAINERS=1"},
    {"PING=0", "GET", "/_ping", D, "PING=1"},
    {"VERSION=0", "GET", "/version", D},
    {"EVENTS=0", "GET", "/events", D},
    {"PING=false EVENTS=no VERSION=off", "HEAD", "/_ping", D},

    /* empty is unset (compose's POST=${POST:-}): the default applies */
    {"POST=", "GET", "/_ping", A},
    {"CONTAINERS=1 POST=", "POST", "/containers/create", D, "CONTAINERS=1 and POST=1"},
    {"CONTAINERS=1 POST=", "GET", "/containers/json", A},
    {"PING=", "GET", "/_ping", A},
    {"CONTAINERS=", "GET", "/containers/json", D, "CONTAINERS=1"},
    {"CONTAINERS=1 ALLOW_LOGS=", "GET", "/containers/abc/logs", A},
    {"ALLOW_LOGS=", "GET", "/containers/abc/logs", D},
    {"ALLOW_START=", "POST", "/containers/abc/start", D},

    /* POST gates every method but GET and HEAD */
    {"CONTAINERS=1", "POST", "/containers/create", D, "CONTAINERS=1 and POST=1"},
    {"CONTAINERS=1 POST=1", "POST", "/containers/create", A},
    {"CONTAINERS=1 POST=1", "POST", "/v1.41/containers/create?name=x", A},
    {"CONTAINERS=1", "DELETE", "/containers/abc", D},
    {"CONTAINERS=1 POST=1", "DELETE", "/containers/abc?force=1", A},
    {"CONTAINERS=1", "PUT", "/containers/abc/archive?path=/", D},
    {"POST=1", "GET", "/containers/json", D},
    {"POST=1", "POST", "/containers/create", D},
    {"CONTAINERS=1", "OPTIONS", "/containers/json", D},
    {"CONTAINERS=1", "PATCH", "/containers/json", D},
    {"NETWORKS=1 POST=1", "POST", "/networks/create", A},
    {"NETWORKS=1 POST=1", "DELETE", "/v1.41/networks/abc", A},
    {"NETWORKS=1", "POST", "/networks/create", D},
    {"VOLUMES=1 POST=1", "POST", "/volumes/create", A},
    {"IMAGES=1 POST=1", "POST", "/images/create?fromImage=busybox", A},
    {"IMAGES=1", "POST", "/images/create?fromImage=busybox", D},
    {"BUILD=1 POST=1", "POST", "/build?t=x", A},
    {"BUILD=1", "POST", "/build", D},
    {"COMMIT=1 POST=1", "POST", "/commit?container=x", A},
    {"AUTH=1 POST=1", "POST", "/auth", A},
    {"SESSION=1 POST=1", "POST", "/session", A},
    {"GRPC=1 POST=1", "POST", "/grpc", A},
    {"SESSION=1", "POST", "/session", D},
    {"SYSTEM=1", "GET", "/system/df", A},
    {"SYSTEM=1 POST=1", "POST", "/containers/prune", D},
    {"DISTRIBUTION=1", "GET", "/distribution/busybox/json", A},
    {"PLUGINS=1", "GET", "/plugins", A},
    {"NODES=1", "GET", "/nodes", A},
    {"TASKS=1", "GET", "/tasks", A},
    {"SERVICES=1", "GET", "/services", A},
    {"SECRETS=1", "GET", "/secrets", A},
    {"CONFIGS=1", "GET", "/configs", A},
    {"SWARM=1", "GET", "/swarm", A},
    {"INFO=1", "GET", "/info", A},
    {"INFO=1", "HEAD", "/info", A},

    /* images: names carry slashes, colons and registry ports */
    {"IMAGES=1", "GET", "/images/json", A},
    {"IMAGES=1", "GET", "/images/getmeili/meilisearch:v1.6/json", A},
    {"IMAGES=1", "GET", "/v1.41/images/registry.local:5000/team/app:1/json", A},
    {"IMAGES=1", "GET", "/images/busybox/history", A},
    {"IMAGES=1", "GET", "/images/get/json", A},
    {"IMAGES=1", "GET", "/images/busybox/get", D, "IMAGES=1 and ALLOW_EXPORT=1"},
    {"IMAGES=1", "GET", "/images/get?names=busybox", D, "IMAGES=1 and ALLOW_EXPORT=1"},
    {"IMAGES=1", "GET", "/images/registry.local:5000/team/app:1/get", D},
    {"IMAGES=1", "GET", "/images/a/b/c/get", D},
    {"IMAGES=1 ALLOW_EXPORT=1", "GET", "/images/busybox/get", A},
    {"IMAGES=1 ALLOW_EXPORT=1", "GET", "/images/get?names=a", A},
    {"ALLOW_EXPORT=1", "GET", "/images/get", D},
    {"IMAGES=1 POST=1", "DELETE", "/images/getmeili/meilisearch:v1.6", A},
    {"IMAGES=1 POST=1", "POST", "/images/busybox/tag?repo=x", A},

    /* container actions (linuxserver): granted even with POST=0 */
    {"ALLOW_START=1", "POST", "/containers/abc/start", A},
    {"ALLOW_START=1", "POST", "/v1.41/containers/abc/start", A},
    {"ALLOW_START=1", "POST", "/containers/abc/stop", D, "ALLOW_STOP=1, or CONTAINERS=1 and POST=1"},
    {"ALLOW_START=1", "GET", "/containers/abc/start", D},
    {"ALLOW_START=1", "POST", "/containers/create", D},
    {"ALLOW_START=1", "POST", "/containers/start", D},
    {"ALLOW_STOP=1", "POST", "/containers/abc/stop?t=10", A},
    {"ALLOW_STOP=1", "POST", "/containers/abc/restart", D},
    {"ALLOW_STOP=1", "POST", "/containers/abc/kill", D},
    {"ALLOW_RESTARTS=1", "POST", "/containers/abc/stop", A},
    {"ALLOW_RESTARTS=1", "POST", "/containers/abc/restart", A},
    {"ALLOW_RESTARTS=1", "POST", "/containers/abc/kill?signal=HUP", A},
    {"ALLOW_RESTARTS=1", "POST", "/containers/abc/start", D},
    {"ALLOW_RESTARTS=1", "POST", "/containers/abc/pause", D},
    {"ALLOW_PAUSE=1", "POST", "/containers/abc/pause", A},
    {"ALLOW_PAUSE=1", "POST", "/containers/abc/unpause", D},
    {"ALLOW_UNPAUSE=1", "POST", "/containers/abc/unpause", A},
    {"ALLOW_START=1", "POST", "/containers/web/db/start", A},
    {"ALLOW_START=1", "POST", "/containers/abc/exec", D},
    {"ALLOW_START=1", "DELETE", "/containers/abc/start", D},
    {"CONTAINERS=1 POST=1", "POST", "/containers/abc/start", A},
    {"CONTAINERS=1 POST=1", "POST", "/containers/abc/kill", A},
    {"CONTAINERS=1", "POST", "/containers/abc/start", D},

    /* read-only sub-paths follow CONTAINERS unless set */
    {"CONTAINERS=1", "GET", "/containers/abc/logs?follow=1", A},
    {"CONTAINERS=1 ALLOW_LOGS=0", "GET", "/containers/abc/logs", D, "ALLOW_LOGS=1"},
    {"CONTAINERS=1 ALLOW_LOGS=0", "GET", "/containers/abc/json", A},
    {"CONTAINERS=1 ALLOW_TOP=0", "GET", "/containers/abc/top", D},
    {"CONTAINERS=1 ALLOW_CHANGES=0", "GET", "/containers/abc/changes", D},
    {"CONTAINERS=1 ALLOW_TOP=0", "GET", "/containers/abc/logs", A},
    {"ALLOW_LOGS=1", "GET", "/containers/abc/logs", A},
    {"ALLOW_LOGS=1", "GET", "/containers/json", D},
    {"", "GET", "/containers/abc/logs", D},
    {"CONTAINERS=1", "GET", "/containers/abc/top", A},
    {"CONTAINERS=1", "GET", "/containers/abc/changes", A},
    {"CONTAINERS=1", "GET", "/containers/abc/stats?stream=0", A},

    /* exfiltration stays shut unless asked for */
    {"CONTAINERS=1", "GET", "/containers/abc/export", D, "CONTAINERS=1 and ALLOW_EXPORT=1"},
    {"CONTAINERS=1 POST=1", "GET", "/containers/abc/export", D},
    {"CONTAINERS=1 ALLOW_EXPORT=1", "GET", "/containers/abc/export", A},
    {"ALLOW_EXPORT=1", "GET", "/containers/abc/export", D},
    {"CONTAINERS=1", "GET", "/containers/abc/archive?path=/etc", D, "CONTAINERS=1 and ALLOW_ARCHIVE=1"},
    {"CONTAINERS=1", "HEAD", "/containers/abc/archive?path=/etc", D},
    {"CONTAINERS=1 ALLOW_ARCHIVE=1", "GET", "/containers/abc/archive?path=/etc", A},
    {"CONTAINERS=1 ALLOW_ARCHIVE=1", "HEAD", "/containers/abc/archive?path=/etc", A},
    {"CONTAINERS=1 ALLOW_ARCHIVE=1", "PUT", "/containers/abc/archive?path=/", D, "CONTAINERS=1, POST=1 and ALLOW_ARCHIVE=1"},
    {"CONTAINERS=1 ALLOW_ARCHIVE=1 POST=1", "PUT", "/containers/abc/archive?path=/", A},
    {"CONTAINERS=1", "GET", "/containers/abc/attach/ws", D, "CONTAINERS=1 and POST=1"},
    {"CONTAINERS=1 POST=1", "GET", "/containers/abc/attach/ws", A},
    {"CONTAINERS=1", "GET", "/containers/a/b/export", D},
    {"CONTAINERS=1", "GET", "/containers/export/json", A},
    {"CONTAINERS=1", "GET", "/containers/export", A}, /* no name: not the export route (dockerd: 404) */
    {"CONTAINERS=1", "GET", "/_ping/../containers/a/%65xport", D},
    {"CONTAINERS=1", "GET", "/containers/archive/json", A},
    {"SWARM=1", "GET", "/swarm/unlockkey", D, "SECRETS=1 and SWARM=1"},
    {"SWARM=1 SECRETS=1", "GET", "/swarm/unlockkey", A},
    {"SWARM=1", "GET", "/swarm", A},

    /* exec */
    {"CONTAINERS=1 POST=1", "POST", "/containers/abc/exec", D, "EXEC=1 and POST=1"},
    {"EXEC=1 POST=1", "POST", "/containers/abc/exec", A},
    {"EXEC=1", "POST", "/containers/abc/exec", D},
    {"EXEC=1 POST=1", "POST", "/exec/123/start", A},
    {"EXEC=1", "GET", "/exec/123/json", A},
    {"CONTAINERS=1 POST=1", "POST", "/exec/123/start", D},
    {"CONTAINERS=1 EXEC=1 POST=1", "POST", "/v1.41/exec/123/resize?h=1&w=1", A},

    /* libpod */
    {"LIBPOD_CONTAINERS=1", "GET", "/libpod/containers/json", A},
    {"LIBPOD_CONTAINERS=1", "GET", "/v4.9.3/libpod/containers/json", A},
    {"LIBPOD_CONTAINERS=1", "POST", "/libpod/containers/create", D},
    {"LIBPOD_CONTAINERS=1 POST=1", "POST", "/libpod/containers/create", A},
    {"LIBPOD_CONTAINERS=1", "GET", "/libpod/containers/abc/export", D},
    {"LIBPOD_CONTAINERS=1 ALLOW_EXPORT=1", "GET", "/libpod/containers/abc/export", A},
    {"LIBPOD_CONTAINERS=1", "GET", "/libpod/containers/abc/archive", D},
    {"LIBPOD_IMAGES=1", "GET", "/libpod/images/json", A},
    {"LIBPOD_IMAGES=1", "GET", "/libpod/images/export", D},
    {"LIBPOD_IMAGES=1", "GET", "/libpod/images/abc/get", D},
    {"LIBPOD_PODS=1", "GET", "/libpod/pods/json", A},
    {"LIBPOD_PING=0", "GET", "/libpod/_ping", D},
    {"LIBPOD_PLAY=1 POST=1", "POST", "/libpod/play/kube", A},
    {"LIBPOD_PLAY=1 POST=1", "POST", "/libpod/kube/play", A},
    {"CONTAINERS=1", "GET", "/libpod/containers/json", D},
    {"LIBPOD_CONTAINERS=1", "GET", "/containers/json", D},
    {"", "GET", "/libpod", D},
    {"", "GET", "/libpod/", D},

    /* spellings of forbidden paths: decoded and cleaned as dockerd reads them */
    {"", "GET", "/containers/json", D},
    {"", "GET", "/%63ontainers/json", D},
    {"", "GET", "/%63%6f%6e%74%61%69%6e%65%72%73/json", D},
    {"", "GET", "/_ping/../containers/json", D},
    {"", "GET", "/_ping/%2e%2e/containers/json", D},
    {"", "GET", "/_ping/%2E%2E/containers/json", D},
    {"", "GET", "/_ping/.%2e/containers/json", D},
    {"", "GET", "/_ping%2f..%2fcontainers/json", D},
    {"", "GET", "/_ping%2F..%2Fcontainers%2Fjson", D},
    {"", "GET", "/version/../../containers/json", D},
    {"", "GET", "/v1.41/_ping/../containers/json", D},
    {"", "GET", "/v1.41/../containers/json", D},
    {"", "GET", "//containers/json", D},
    {"", "GET", "///containers/json", D},
    {"", "GET", "/./containers/json", D},
    {"", "GET", "/%2e/containers/json", D},
    {"", "GET", "/_ping/./../containers/json", D},
    {"", "GET", "/events/..", D},
    {"", "GET", "/events/../info", D},
    {"", "GET", "/v1.41/v1.41/_ping", D},
    {"", "GET", "/v1.41//containers/json", D},
    {"", "GET", "/V1.41/_ping", D},
    {"", "GET", "/v/_ping", D},
    {"", "GET", "/vX/_ping", D},
    {"", "GET", "/v1.41", D},
    {"", "GET", "/_PING", D},
    {"", "GET", "/Version", D},
    {"", "GET", "/Events", D},
    {"", "GET", "/_pingx", D},
    {"", "GET", "/versions", D},
    {"", "GET", "/eventsfoo", D},
    {"CONTAINERS=1", "GET", "/CONTAINERS/abc/export", D},
    {"CONTAINERS=1", "GET", "/containers/abc/%65xport", D},
    {"CONTAINERS=1", "GET", "/containers/abc/EXPORT", A}, /* dockerd: 404, no such route */
    /* a trailing slash after an action is that action (dockerd 20.10: 404; other routers: the action) */
    {"CONTAINERS=1", "GET", "/containers/abc/export/", D, "CONTAINERS=1 and ALLOW_EXPORT=1"},
    {"CONTAINERS=1", "HEAD", "/containers/abc/archive/?path=/", D, "CONTAINERS=1 and ALLOW_ARCHIVE=1"},
    {"CONTAINERS=1 POST=1", "PUT", "/containers/abc/archive/", D, "CONTAINERS=1, POST=1 and ALLOW_ARCHIVE=1"},
    {"IMAGES=1", "GET", "/images/abc/get/", D, "IMAGES=1 and ALLOW_EXPORT=1"},
    {"IMAGES=1", "GET", "/images/get/", D},
    {"SWARM=1", "GET", "/swarm/unlockkey/", D, "SECRETS=1 and SWARM=1"},
    {"CONTAINERS=1 ALLOW_LOGS=0", "GET", "/containers/abc/logs/", D, "CONTAINERS=1 and ALLOW_LOGS=1"},
    {"CONTAINERS=1", "GET", "/containers/abc/logs/", A},
    {"ALLOW_LOGS=1", "GET", "/containers/abc/logs/", D, "CONTAINERS=1 and ALLOW_LOGS=1"},
    {"ALLOW_START=1", "POST", "/containers/abc/start/", D, "CONTAINERS=1 and POST=1"},
    {"CONTAINERS=1 POST=1", "POST", "/containers/abc/start/", A},
    {"ALLOW_RESTARTS=1", "POST", "/containers/abc/kill/", D},
    {"CONTAINERS=1 POST=1", "POST", "/containers/abc/exec/", D, "CONTAINERS=1, EXEC=1 and POST=1"},
    {"CONTAINERS=1 EXEC=1 POST=1", "POST", "/containers/abc/exec/", A},
    {"CONTAINERS=1 POST=1", "DELETE", "/containers/abc/export/", A}, /* removal of "abc/export/" */
    {"CONTAINERS=1", "GET", "/containers/abc/json/", A},

    /* actions are actions only for the methods dockerd routes to them */
    {"EXEC=1 POST=1", "DELETE", "/containers/web/exec", D, "CONTAINERS=1 and POST=1"},
    {"CONTAINERS=1 POST=1", "DELETE", "/containers/web/exec", A},
    {"IMAGES=1 POST=1", "DELETE", "/images/team/get", A},
    {"IMAGES=1 ALLOW_EXPORT=1", "DELETE", "/images/team/get", D, "IMAGES=1 and POST=1"},
    {"CONTAINERS=1 POST=1", "DELETE", "/containers/x/export", A},
    {"CONTAINERS=1 POST=1", "DELETE", "/containers/x/archive", A},
    {"CONTAINERS=1 POST=1", "DELETE", "/containers/x/attach/ws", A},
    {"ALLOW_START=1", "DELETE", "/containers/x/start", D, "CONTAINERS=1 and POST=1"},
    {"CONTAINERS=1 POST=1", "POST", "/containers/x/export", A}, /* dockerd: no such route */
    {"CONTAINERS=1 POST=1", "PUT", "/containers/x/archive", D, "CONTAINERS=1, POST=1 and ALLOW_ARCHIVE=1"},
    {"CONTAINERS=1 ALLOW_LOGS=0", "DELETE", "/containers/x/logs", D, "CONTAINERS=1 and POST=1"},
    {"CONTAINERS=1 ALLOW_LOGS=0 POST=1", "DELETE", "/containers/x/logs", A},
    {"LIBPOD_CONTAINERS=1 POST=1", "DELETE", "/libpod/containers/x/exec", A},
    {"LIBPOD_EXEC=1 POST=1", "DELETE", "/libpod/containers/x/exec", D},
    {"SWARM=1 POST=1", "DELETE", "/swarm/unlockkey", A},
    {"CONTAINERS=1 POST=1", "OPTIONS", "/containers/json", D, "no variable grants it"}, /* dockerd answers OPTIONS itself */
    {"PING=1 POST=1", "OPTIONS", "/_ping", D, "no variable grants it"},
    {"CONTAINERS=1 POST=1", "POST", "/containers/x/copy", D, "CONTAINERS=1, POST=1 and ALLOW_ARCHIVE=1"}, /* API < 1.24 cp */
    {"CONTAINERS=1 POST=1 ALLOW_ARCHIVE=1", "POST", "/containers/x/copy", A},
    {"SERVICES=1", "GET", "/services/x/logs?follow=1", A},
    {"TASKS=1", "GET", "/tasks/x/logs", A},

    /* SOCKET_PROXY_MIN_API_VERSION (default 1.24, set by the server) */
    {"ALLOW_START=1 MIN_API=1.24", "POST", "/v1.23/containers/victim/start", B},
    {"ALLOW_START=1 MIN_API=1.24", "POST", "/v1.20/containers/victim/start", B},
    {"ALLOW_START=1 MIN_API=1.24", "POST", "/v1.24/containers/victim/start", A},
    {"ALLOW_START=1 MIN_API=1.24", "POST", "/containers/victim/start", A},
    {"MIN_API=1.24", "GET", "/v1.23/_ping", B},
    {"MIN_API=1.24", "GET", "/v1.12/version", B},
    {"MIN_API=1.24", "GET", "/v1/_ping", B},
    {"MIN_API=1.24", "GET", "/v1.9/_ping", B},
    {"MIN_API=1.24", "GET", "/v1.023/_ping", B},
    {"MIN_API=1.24", "GET", "/v1..24/_ping", B},
    {"MIN_API=1.24", "GET", "/v.24/_ping", B},
    {"MIN_API=1.24", "GET", "/v1.99999999999999999999/_ping", B}, /* Go's Atoi overflows: 1.0 */
    {"MIN_API=1.24", "GET", "/v1.24.0/_ping", A},
    {"MIN_API=1.24", "GET", "/v1.024/_ping", A},
    {"MIN_API=1.24", "GET", "/v1.100/_ping", A},
    {"MIN_API=1.24", "GET", "/v2/_ping", A},
    {"MIN_API=1.24", "GET", "/v1.41/_ping", A},
    {"MIN_API=1.24", "GET", "/_ping/../v1.20/_ping", B}, /* decided on the cleaned path */
    {"MIN_API=1.24", "GET", "/v1.20", D},
    {"MIN_API=1.24 LIBPOD_CONTAINERS=1", "GET", "/v4.9.3/libpod/containers/json", A},
    {"MIN_API=1.44", "GET", "/v1.43/_ping", B},
    {"MIN_API=1.44", "GET", "/v1.44/_ping", A},
    {"MIN_API=0.0", "GET", "/v1.12/_ping", A},
    {"CONTAINERS=1", "GET", "/containers/abc/export/.", D},
    {"CONTAINERS=1", "GET", "/containers/abc/export/x/..", D},
    {"CONTAINERS=1", "GET", "/containers/abc/json/../export", D},
    {"CONTAINERS=1", "GET", "/containers/abc/json%2F..%2Fexport", D},
    {"CONTAINERS=1", "GET", "/containers/abc/archive%3Fpath=/", A}, /* "archive?path=/" is a name, not the route */
    {"CONTAINERS=1", "GET", "/containers/abc/attach/ws/", D, "CONTAINERS=1 and POST=1"},
    {"CONTAINERS=1", "GET", "/containers/abc/attach%2Fws", D},
    {"CONTAINERS=1", "GET", "/containers/abc/attach//ws", D},
    {"CONTAINERS=1", "GET", "/containers/abc/./attach/ws", D},
    {"IMAGES=1", "GET", "/images/busybox/%67et", D},
    {"IMAGES=1", "GET", "/images/busybox/json/../get", D},
    {"IMAGES=1", "GET", "/images//get", D},
    {"SWARM=1", "GET", "/swarm/%75nlockkey", D},
    {"SWARM=1", "GET", "/swarm//unlockkey", D},
    {"ALLOW_START=1", "POST", "/containers/abc/%73tart", A},
    {"ALLOW_START=1", "POST", "/containers/abc/start/../../create", D},
    {"ALLOW_START=1", "POST", "/containers/abc/start/..", D},
    {"ALLOW_START=1", "POST", "/containers/../build/x/start", D},
    {"ALLOW_START=1", "POST", "/containers/x/../../build?x=/containers/a/start", D},
    {"ALLOW_LOGS=1", "GET", "/containers/abc/logs/../json", D},
    {"ALLOW_LOGS=1", "GET", "/containers/abc/json?x=/logs", D},
    {"", "GET", "/_ping?/../containers/json", A}, /* the query is not the path */
    {"", "GET", "/_ping?x=%2F..%2Fcontainers", A},

    /* ambiguous spellings are refused with 400 */
    {"", "GET", "/_ping%", B},
    {"", "GET", "/_ping%2", B},
    {"", "GET", "/_ping%zz", B},
    {"", "GET", "/_ping%%32%65", B},
    {"", "GET", "/_ping%00", B},
    {"", "GET", "/_ping%0a", B},
    {"", "GET", "/_ping%0D%0A", B},
    {"", "GET", "/_ping%7f", B},
    {"", "GET", "/%09_ping", B},
    {"", "GET", "_ping", B},
    {"", "GET", "", B},

    /* clients that omit the version, and HEAD */
    {"CONTAINERS=1", "GET", "/containers/json?all=1", A},
    {"CONTAINERS=1", "HEAD", "/containers/json", A},
    {"CONTAINERS=1", "GET", "/v1.24/containers/json", A},
    {"CONTAINERS=1", "GET", "/v1.51/containers/abc/json", A},
    {"CONTAINERS=1", "GET", "/v1/containers/json", A},
    {"", "HEAD", "/v1.41/_ping", A},
};

static void test_rows(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row *r = &rows[i];
        rules_set rs;
        if (compile(&rs, r->env) != 0) {
            CHECK(0, "row %zu: env %s does not compile", i, r->env);
            continue;
        }
        size_t tl = strlen(r->target);
        char *buf = malloc(tl + 1);
        rules_verdict v;
        rules_decide(&rs, r->method, strlen(r->method), r->target, tl, buf, tl + 1, &v);
        char need[256];
        rules_need_text(&v, need, sizeof(need));
        CHECK(v.status == r->expect, "row %zu [%s] %s %s: expected %d, got %d (%s)", i, r->env, r->method, r->target,
              r->expect, v.status, need);
        if (r->need && v.status == r->expect)
            CHECK(strcmp(need, r->need) == 0, "row %zu [%s] %s %s: need \"%s\", expected \"%s\"", i, r->env,
                  r->method, r->target, need, r->need);
        free(buf);
    }
}

/* Every section variable, on and off, with every method: generated rows. */
static void test_sections_matrix(void)
{
    static const struct {
        const char *var, *path;
    } sec[] = {
        {"AUTH", "/auth"}, {"BUILD", "/build"}, {"COMMIT", "/commit"}, {"CONFIGS", "/configs"},
        {"CONTAINERS", "/containers/json"}, {"DISTRIBUTION", "/distribution/x/json"}, {"EVENTS", "/events"},
        {"EXEC", "/exec/1/json"}, {"GRPC", "/grpc"}, {"IMAGES", "/images/json"}, {"INFO", "/info"},
        {"NETWORKS", "/networks"}, {"NODES", "/nodes"}, {"PING", "/_ping"}, {"PLUGINS", "/plugins"},
        {"SECRETS", "/secrets"}, {"SERVICES", "/services"}, {"SESSION", "/session"}, {"SWARM", "/swarm"},
        {"SYSTEM", "/system/df"}, {"TASKS", "/tasks"}, {"VERSION", "/version"}, {"VOLUMES", "/volumes"},
        {"LIBPOD_EVENTS", "/libpod/events"}, {"LIBPOD_INFO", "/libpod/info"},
        {"LIBPOD_NETWORKS", "/libpod/networks/json"}, {"LIBPOD_VOLUMES", "/libpod/volumes/json"},
        {"LIBPOD_EXEC", "/libpod/exec/1/json"}, {"LIBPOD_SYSTEM", "/libpod/system/df"},
        {"LIBPOD_SECRETS", "/libpod/secrets/json"}, {"LIBPOD_MANIFESTS", "/libpod/manifests/x/json"},
        {"LIBPOD_BUILD", "/libpod/build"}, {"LIBPOD_COMMIT", "/libpod/commit"},
        {"LIBPOD_GENERATE", "/libpod/generate/x/systemd"},
    };
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE"};
    for (size_t s = 0; s < sizeof(sec) / sizeof(sec[0]); s++) {
        for (int on = 0; on < 2; on++) {
            for (int post = 0; post < 2; post++) {
                char env[128];
                snprintf(env, sizeof(env), "%s=%d POST=%d", sec[s].var, on, post);
                rules_set rs;
                compile(&rs, env);
                for (size_t m = 0; m < 5; m++) {
                    bool read = m < 2;
                    for (int ver = 0; ver < 2; ver++) {
                        char target[128];
                        snprintf(target, sizeof(target), "%s%s", ver ? "/v1.43" : "", sec[s].path);
                        char buf[128];
                        rules_verdict v;
                        rules_decide(&rs, methods[m], strlen(methods[m]), target, strlen(target), buf, sizeof(buf), &v);
                        int expect = on && (read || post) ? A : D;
                        CHECK(v.status == expect, "matrix [%s] %s %s: expected %d got %d", env, methods[m], target,
                              expect, v.status);
                    }
                }
            }
        }
    }
}

/* Granted only through an ALLOW_* action variable: the proxy must refuse a body. */
static void test_no_body_flag(void)
{
    static const struct {
        const char *env, *method, *target;
        bool no_body;
    } f[] = {
        {"ALLOW_START=1", "POST", "/v1.41/containers/x/start", true},
        {"ALLOW_STOP=1", "POST", "/containers/x/stop?t=1", true},
        {"ALLOW_RESTARTS=1", "POST", "/containers/x/restart", true},
        {"ALLOW_RESTARTS=1", "POST", "/containers/x/kill", true},
        {"ALLOW_PAUSE=1", "POST", "/containers/x/pause", true},
        {"ALLOW_UNPAUSE=1", "POST", "/containers/x/unpause", true},
        {"ALLOW_START=1 CONTAINERS=1 POST=1", "POST", "/containers/x/start", false},
        {"CONTAINERS=1 POST=1", "POST", "/containers/x/start", false},
        {"CONTAINERS=1 POST=1", "POST", "/containers/create", false},
        {"ALLOW_LOGS=1", "GET", "/containers/x/logs", false},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        rules_set rs;
        compile(&rs, f[i].env);
        char buf[128];
        rules_verdict v;
        rules_decide(&rs, f[i].method, strlen(f[i].method), f[i].target, strlen(f[i].target), buf, sizeof(buf), &v);
        CHECK(v.status == A && !!(v.flags & RULES_F_NO_BODY) == f[i].no_body, "[%s] %s %s: allowed %s a body",
              f[i].env, f[i].method, f[i].target, f[i].no_body ? "without" : "with");
    }
    rules_set rs;
    compile(&rs, "MIN_API=1.24");
    char buf[64];
    rules_verdict v;
    rules_decide(&rs, "GET", 3, "/v1.23/_ping", 12, buf, sizeof(buf), &v);
    CHECK(v.status == B && strstr(v.why, "SOCKET_PROXY_MIN_API_VERSION=1.24"), "old API 400 names the variable: %s", v.why);
}

static void test_values(void)
{
    static const struct {
        const char *v;
        int b;
    } vals[] = {
        {"1", 1}, {"true", 1}, {"TRUE", 1}, {"True", 1}, {"yes", 1}, {"YES", 1}, {"on", 1}, {"On", 1},
        {"0", 0}, {"false", 0}, {"FALSE", 0}, {"no", 0}, {"No", 0}, {"off", 0}, {"OFF", 0},
        {"", -1}, {"2", -1}, {"y", -1}, {"n", -1}, {"enable", -1}, {" 1", -1}, {"1 ", -1}, {"tru", -1}, {"-1", -1},
    };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        CHECK(rules_parse_bool(vals[i].v) == vals[i].b, "bool \"%s\" -> %d", vals[i].v, vals[i].b);

    rules_set rs;
    char err[256];
    snprintf(envbuf, sizeof(envbuf), "CONTAINERS=maybe");
    CHECK(rules_compile(&rs, fake_get, err, sizeof(err)) == -1 && strstr(err, "CONTAINERS") && strstr(err, "true"),
          "bad value names the variable and the accepted values: %s", err);
    snprintf(envbuf, sizeof(envbuf), "ALLOW_LOGS=2");
    CHECK(rules_compile(&rs, fake_get, err, sizeof(err)) == -1 && strstr(err, "ALLOW_LOGS"), "ALLOW_LOGS=2 refused");

    /* every default */
    CHECK(compile(&rs, "") == 0, "empty env compiles");
    for (int i = 0; i < RV_COUNT; i++) {
        int d = rules_var_default(i);
        int expect = d < 0 ? 0 : d; /* tri-state follows CONTAINERS=0 */
        CHECK(((rs.granted >> i) & 1) == (unsigned)expect, "default of %s is %d", rules_var_name(i), expect);
    }
    compile(&rs, "CONTAINERS=1");
    CHECK(rs.granted & RBIT(RV_ALLOW_LOGS), "ALLOW_LOGS unset follows CONTAINERS=1");
    CHECK(!(rs.granted & RBIT(RV_ALLOW_ENV)), "ALLOW_ENV unset does not follow CONTAINERS=1");
    compile(&rs, "CONTAINERS=1 POST=1");
    CHECK(rs.granted & RBIT(RV_ALLOW_ENV), "ALLOW_ENV unset follows POST=1");
    compile(&rs, "CONTAINERS=1 POST=1 ALLOW_ENV=0");
    CHECK(!(rs.granted & RBIT(RV_ALLOW_ENV)), "ALLOW_ENV=0 wins over POST=1");
    compile(&rs, "CONTAINERS=1 ALLOW_ENV=1");
    CHECK(rs.granted & RBIT(RV_ALLOW_ENV), "ALLOW_ENV=1 wins over POST=0");
    compile(&rs, "API_KEY=secret");
    CHECK(rs.api_key && strcmp(rs.api_key, "secret") == 0, "API_KEY read");

    /* empty is unset, and reported by name */
    CHECK(compile(&rs, "POST= CONTAINERS=1 ALLOW_LOGS= API_KEY=") == 0, "empty values compile");
    CHECK(rs.empty_ == (RBIT(RV_POST) | RBIT(RV_ALLOW_LOGS)), "empty_ names POST and ALLOW_LOGS only");
    CHECK(rs.explicit_ == RBIT(RV_CONTAINERS), "an empty variable is not explicit");
    CHECK(!(rs.granted & RBIT(RV_POST)) && (rs.granted & RBIT(RV_ALLOW_LOGS)), "empty: POST default, ALLOW_LOGS follows");
    CHECK(rs.api_key == NULL, "API_KEY= is unset");
    compile(&rs, "POST=0 CONTAINERS=1");
    CHECK(rs.empty_ == 0, "nothing empty");
}

/* ---- rules_compile_source: a profile's prefix, a preset's defaults ---- */

static int compile_source(rules_set *r, const char *env, const char *prefix, const char *preset, char *err,
                          size_t errlen)
{
    snprintf(envbuf, sizeof(envbuf), "%s", env);
    rules_source src = {.get = fake_get, .prefix = prefix, .preset = preset, .preset_var = "SOCKET_PROXY_PRESET"};
    err[0] = '\0';
    return rules_compile_source(r, &src, err, errlen);
}

static bool granted(const rules_set *r, int var) { return (r->granted >> var) & 1; }

static void test_source_prefix(void)
{
    rules_set rs;
    char err[256];
    CHECK(compile_source(&rs, "TRAEFIK__CONTAINERS=1 CONTAINERS=0 POST=1", "TRAEFIK__", NULL, err, sizeof(err)) == 0,
          "prefixed env compiles: %s", err);
    CHECK(granted(&rs, RV_CONTAINERS) && !granted(&rs, RV_POST), "TRAEFIK__CONTAINERS=1 read, unprefixed POST=1 ignored");
    CHECK(rs.explicit_ == RBIT(RV_CONTAINERS), "only the prefixed variable is explicit");
    CHECK(strcmp(rs.prefix, "TRAEFIK__") == 0 && rs.preset == -1, "prefix kept, no preset");
    compile_source(&rs, "CONTAINERS=1 EVENTS=0", "TRAEFIK__", NULL, err, sizeof(err));
    CHECK(!granted(&rs, RV_CONTAINERS) && granted(&rs, RV_EVENTS) && rs.explicit_ == 0,
          "a prefixed source ignores unprefixed variables: defaults apply");
    CHECK(compile_source(&rs, "TRAEFIK__POST=maybe", "TRAEFIK__", NULL, err, sizeof(err)) == -1 &&
              strstr(err, "TRAEFIK__POST=\"maybe\" is not a boolean"),
          "a bad value names the prefixed variable: %s", err);
    CHECK(compile_source(&rs, "POST=maybe", "TRAEFIK__", NULL, err, sizeof(err)) == 0,
          "a bad unprefixed value does not concern a prefixed source: %s", err);
    compile_source(&rs, "TRAEFIK__API_KEY=k1 API_KEY=k2", "TRAEFIK__", NULL, err, sizeof(err));
    CHECK(rs.api_key && strcmp(rs.api_key, "k1") == 0, "API_KEY prefixed");
    compile_source(&rs, "API_KEY=k2", "TRAEFIK__", NULL, err, sizeof(err));
    CHECK(rs.api_key == NULL, "unprefixed API_KEY ignored by a prefixed source");
    compile_source(&rs, "TRAEFIK__ALLOW_LOGS= TRAEFIK__CONTAINERS=1", "TRAEFIK__", NULL, err, sizeof(err));
    CHECK(rs.empty_ == RBIT(RV_ALLOW_LOGS) && granted(&rs, RV_ALLOW_LOGS), "empty prefixed value: the default (follows)");
    compile_source(&rs, "CONTAINERS=1", "", NULL, err, sizeof(err));
    CHECK(granted(&rs, RV_CONTAINERS) && rs.prefix[0] == '\0', "empty prefix is no prefix");
}

static void test_source_preset(void)
{
    rules_set rs;
    char err[512];
    int traefik = rules_preset_find("traefik");
    CHECK(traefik >= 0, "traefik is a preset");
    CHECK(compile_source(&rs, "", NULL, "traefik", err, sizeof(err)) == 0, "preset compiles: %s", err);
    CHECK(rs.preset == traefik && granted(&rs, RV_CONTAINERS) && !granted(&rs, RV_ALLOW_LOGS) &&
              !granted(&rs, RV_POST) && granted(&rs, RV_EVENTS),
          "traefik: CONTAINERS=1, ALLOW_LOGS=0, POST and EVENTS at their defaults");
    CHECK(rs.explicit_ == 0 && (rs.preset_ & RBIT(RV_CONTAINERS)) && (rs.preset_ & RBIT(RV_ALLOW_LOGS)) &&
              !(rs.preset_ & RBIT(RV_POST)),
          "preset_ names the preset's variables only");
    /* an explicit variable wins, either way */
    compile_source(&rs, "CONTAINERS=0 ALLOW_LOGS=1", NULL, "traefik", err, sizeof(err));
    CHECK(!granted(&rs, RV_CONTAINERS) && granted(&rs, RV_ALLOW_LOGS), "explicit CONTAINERS=0, ALLOW_LOGS=1 override");
    CHECK(rs.explicit_ == (RBIT(RV_CONTAINERS) | RBIT(RV_ALLOW_LOGS)) &&
              !(rs.preset_ & (RBIT(RV_CONTAINERS) | RBIT(RV_ALLOW_LOGS))),
          "overridden variables are explicit, not preset");
    /* empty: the preset's value, else the default */
    compile_source(&rs, "CONTAINERS= ALLOW_TOP= POST=", NULL, "traefik", err, sizeof(err));
    CHECK(granted(&rs, RV_CONTAINERS) && !granted(&rs, RV_ALLOW_TOP) && !granted(&rs, RV_POST),
          "empty values take the preset's value, else the default");
    CHECK(rs.empty_ == (RBIT(RV_CONTAINERS) | RBIT(RV_ALLOW_TOP) | RBIT(RV_POST)) && rs.explicit_ == 0,
          "empty values are reported, not explicit");
    /* a preset with a prefix: the prefixed variables override it */
    compile_source(&rs, "DOZZLE__INFO=0 INFO=1", "DOZZLE__", "dozzle", err, sizeof(err));
    CHECK(!granted(&rs, RV_INFO) && granted(&rs, RV_CONTAINERS), "DOZZLE__INFO=0 overrides the dozzle preset");
    /* a bad value still names its variable under a preset */
    CHECK(compile_source(&rs, "CONTAINERS=2", NULL, "traefik", err, sizeof(err)) == -1 && strstr(err, "CONTAINERS=\"2\""),
          "bad value under a preset: %s", err);
    /* no preset */
    compile_source(&rs, "", NULL, "", err, sizeof(err));
    CHECK(rs.preset == -1 && !granted(&rs, RV_CONTAINERS) && rs.preset_ == 0, "empty preset name: no preset");
    compile_source(&rs, "", NULL, NULL, err, sizeof(err));
    CHECK(rs.preset == -1 && rs.preset_ == 0, "NULL preset: no preset");
    /* unknown */
    CHECK(compile_source(&rs, "", NULL, "traefk", err, sizeof(err)) == -1, "unknown preset refused");
    CHECK(strstr(err, "SOCKET_PROXY_PRESET=\"traefk\" is not a preset: use one of traefik, traefik-swarm, ") &&
              strstr(err, ", read-only") && !strchr(err, '\n'),
          "unknown preset: one line naming the variable and listing the presets: %s", err);
    snprintf(envbuf, sizeof(envbuf), "%s", "");
    rules_source anon = {.get = fake_get, .preset = "nope"};
    CHECK(rules_compile_source(&rs, &anon, err, sizeof(err)) == -1 && strstr(err, "PRESET=\"nope\" is not a preset"),
          "unknown preset without preset_var: %s", err);
    CHECK(compile_source(&rs, "", NULL, "Traefik", err, sizeof(err)) == -1, "preset names are case-sensitive");
}

/* Every preset: a name, a line, values that name real variables with 0 or 1
 * and that rules_preset_value reads back; the list names them all. */
static void test_preset_table(void)
{
    char list[512] = "";
    size_t n = rules_preset_list(list, sizeof(list));
    CHECK(n == strlen(list) && rules_preset_count() >= 10, "preset list: %s", list);
    for (int p = 0; p < rules_preset_count(); p++) {
        const char *name = rules_preset_name(p), *what = rules_preset_what(p), *vars = rules_preset_vars(p);
        CHECK(name && what && *what && vars && rules_preset_find(name) == p, "preset %d has a name, a line, values", p);
        CHECK(name && strstr(list, name), "list names %s", name);
        int count = 0;
        for (const char *t = vars; t && *t;) {
            size_t len = strcspn(t, " ");
            const char *eq = memchr(t, '=', len);
            int var = -1;
            for (int i = 0; eq && i < RV_COUNT; i++)
                if (strlen(rules_var_name(i)) == (size_t)(eq - t) && memcmp(rules_var_name(i), t, (size_t)(eq - t)) == 0)
                    var = i;
            bool good = var >= 0 && eq + 2 == t + len && (eq[1] == '0' || eq[1] == '1');
            CHECK(good && rules_preset_value(p, var) == eq[1] - '0', "preset %s: \"%.*s\" is a variable set to 0 or 1",
                  name, (int)len, t);
            count++;
            t += len;
            t += strspn(t, " ");
        }
        int set = 0;
        for (int i = 0; i < RV_COUNT; i++)
            set += rules_preset_value(p, i) >= 0;
        CHECK(set == count, "preset %s: %d values written, %d read", name, count, set);
    }
    CHECK(rules_preset_find("") == -1 && rules_preset_find("TRAEFIK") == -1, "no such presets");
    CHECK(!rules_preset_name(-1) && !rules_preset_name(rules_preset_count()) && !rules_preset_vars(-1) &&
              rules_preset_value(-1, RV_CONTAINERS) == -1 && rules_preset_value(0, RV_COUNT) == -1,
          "out of range");
    char small[12];
    n = rules_preset_list(small, sizeof(small));
    CHECK(n < sizeof(small) && strlen(small) == n && strncmp(small, list, n) == 0, "a short buffer is cut: %s", small);
    CHECK(rules_preset_list(small, 0) == 0, "no buffer");
}

/* What some presets decide (the integration test replays the applications). */
static void test_preset_rows(void)
{
    static const struct {
        const char *preset, *env, *method, *target;
        int expect;
    } prows[] = {
        {"traefik", "", "GET", "/v1.41/containers/json", A},
        {"traefik", "", "GET", "/v1.41/events", A},
        {"traefik", "", "GET", "/v1.41/containers/x/logs", D},
        {"traefik", "", "POST", "/v1.41/containers/create", D},
        {"traefik", "CONTAINERS=0", "GET", "/v1.41/containers/json", D},
        {"traefik-swarm", "", "GET", "/v1.41/nodes/abc", A},
        {"traefik-swarm", "", "GET", "/v1.41/containers/json", D},
        {"traefik-swarm", "", "GET", "/v1.41/events", D},
        {"watchtower", "", "POST", "/v1.41/containers/create", A},
        {"watchtower", "", "POST", "/v1.41/networks/n/connect", A},
        {"watchtower", "", "POST", "/v1.41/containers/x/exec", D},
        {"watchtower", "EXEC=1", "POST", "/v1.41/containers/x/exec", A},
        {"dozzle", "", "GET", "/v1.41/containers/x/logs", A},
        {"dozzle", "", "GET", "/v1.41/info", A},
        {"dozzle", "", "POST", "/v1.41/containers/x/stop", D},
        {"homepage", "", "GET", "/containers/x/stats", A},
        {"homepage", "", "GET", "/containers/x/logs", D},
        {"autoheal", "", "POST", "/containers/x/restart", A},
        {"autoheal", "", "POST", "/containers/x/start", D},
        {"uptime-kuma", "", "GET", "/containers/x/json", A},
        {"uptime-kuma", "", "GET", "/events", D},
        {"portainer", "", "GET", "/v1.41/images/get", A},
        {"portainer", "", "POST", "/v1.41/session", D},
        {"compose", "", "POST", "/v1.41/volumes/create", A},
        {"compose", "", "POST", "/v1.41/containers/x/exec", D},
        {"read-only", "", "GET", "/v1.41/swarm", A},
        {"read-only", "", "GET", "/v1.41/exec/x/json", A},
        {"read-only", "", "GET", "/v1.41/swarm/unlockkey", D},
        {"read-only", "", "GET", "/v1.41/secrets", D},
        {"read-only", "", "GET", "/v1.41/configs", D},
        {"read-only", "", "GET", "/v1.41/containers/x/export", D},
        {"read-only", "", "GET", "/v1.41/containers/x/archive", D},
        {"read-only", "", "GET", "/v1.41/images/x/get", D},
        {"read-only", "", "POST", "/v1.41/exec/x/start", D},
        {"read-only", "POST=1", "POST", "/v1.41/exec/x/start", A},
    };
    for (size_t i = 0; i < sizeof(prows) / sizeof(prows[0]); i++) {
        rules_set rs;
        char err[512], buf[128];
        if (compile_source(&rs, prows[i].env, NULL, prows[i].preset, err, sizeof(err)) != 0) {
            CHECK(0, "preset %s [%s] does not compile: %s", prows[i].preset, prows[i].env, err);
            continue;
        }
        rules_verdict v;
        rules_decide(&rs, prows[i].method, strlen(prows[i].method), prows[i].target, strlen(prows[i].target), buf,
                     sizeof(buf), &v);
        CHECK(v.status == prows[i].expect, "preset %s [%s] %s %s: expected %d, got %d", prows[i].preset, prows[i].env,
              prows[i].method, prows[i].target, prows[i].expect, v.status);
    }
}

/* A profile's refusals name its own variables. */
static void test_need_text_prefix(void)
{
    rules_set rs;
    char err[256], buf[128], need[256];
    rules_verdict v;
    compile_source(&rs, "", "WATCHTOWER__", NULL, err, sizeof(err));
    rules_decide(&rs, "POST", 4, "/v1.41/containers/create", 24, buf, sizeof(buf), &v);
    rules_need_text(&v, need, sizeof(need));
    CHECK(v.status == D && strcmp(need, "WATCHTOWER__CONTAINERS=1 and WATCHTOWER__POST=1") == 0, "prefixed need: %s", need);
    rules_decide(&rs, "POST", 4, "/containers/x/start", 19, buf, sizeof(buf), &v);
    rules_need_text(&v, need, sizeof(need));
    CHECK(strcmp(need, "WATCHTOWER__ALLOW_START=1, or WATCHTOWER__CONTAINERS=1 and WATCHTOWER__POST=1") == 0,
          "prefixed alternative: %s", need);
    compile_source(&rs, "", NULL, "traefik", err, sizeof(err));
    rules_decide(&rs, "GET", 3, "/containers/x/logs", 18, buf, sizeof(buf), &v);
    rules_need_text(&v, need, sizeof(need));
    CHECK(v.status == D && strcmp(need, "ALLOW_LOGS=1") == 0, "a preset's refusal names the plain variable: %s", need);
    rules_decide(&rs, "GET", 3, "/nothing", 8, buf, sizeof(buf), &v);
    rules_need_text(&v, need, sizeof(need));
    CHECK(v.status == D && strcmp(need, "no variable grants it") == 0, "no variable: %s", need);
    compile_source(&rs, "", "P__", NULL, err, sizeof(err));
    rules_decide(&rs, "GET", 3, "/v1.41/info", 11, buf, sizeof(buf), &v);
    CHECK(rules_need_text(&v, need, 8) == 7 && strcmp(need, "P__INFO") == 0, "a short buffer is cut: %s", need);
}

static void collect(void *ctx, const char *line)
{
    char *out = ctx;
    strncat(out, line, 1000 - strlen(out));
    strncat(out, "\n", 1000 - strlen(out));
}

static void test_lint(void)
{
    static const struct {
        const char *entry, *suggest;
    } cases[] = {
        {"CONTAINER=1", "CONTAINERS"}, {"ALLOW_RESTART=1", "ALLOW_RESTARTS"}, {"LOGS=1", "ALLOW_LOGS"},
        {"IMAGE=true", "IMAGES"}, {"NETWORK=1", "NETWORKS"}, {"VOLUME=1", "VOLUMES"}, {"SECRET=0", "SECRETS"},
        {"EXECS=1", "EXEC"}, {"ALLOW_STARTS=1", "ALLOW_START"}, {"containers=1", "CONTAINERS"},
        /* the caller's names (the server's) */
        {"PORTS=1", "did you mean PORT?"}, {"SOCKET_PROXY_VOLUMES=1", "did you mean SOCKET_PROXY_VOLUME?"},
        {"SOCKET_PROXY_VOLUMES=/run/proxy", "did you mean SOCKET_PROXY_VOLUME?"}, {"DEBUGS=0", "did you mean DEBUG?"},
        {"API_KEYS=1", "did you mean API_KEY?"},
    };
    static const char *const extra[] = {"PORT", "DEBUG", "SOCKET_PROXY_VOLUME", NULL};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[1024] = "";
        char *env[] = {(char *)cases[i].entry, NULL};
        rules_lint_env(env, extra, collect, out);
        CHECK(strstr(out, cases[i].suggest) != NULL, "lint %s suggests %s (got: %s)", cases[i].entry, cases[i].suggest, out);
    }
    char out[1024] = "";
    char *quiet[] = {"CONTAINERS=1", "PATH=/bin", "HOME=/root", "TZ=UTC", "HOSTNAME=abc", "SHLVL=1", "DEBUG=1",
                     "PORT=1", "SOCKET_PROXY_VOLUME=/run/proxy", "API_KEY=1", "IMAGE=nginx", NULL};
    rules_lint_env(quiet, extra, collect, out);
    CHECK(out[0] == '\0', "no warning for real or unrelated variables (got: %s)", out);
    char *server[] = {"PORTS=1", NULL};
    out[0] = '\0';
    rules_lint_env(server, NULL, collect, out);
    CHECK(strstr(out, "PORT?") == NULL, "without extra names PORT is unknown (got: %s)", out);
}

static void test_paths(void)
{
    static const struct {
        const char *in, *out;
    } p[] = {
        {"/", "/"}, {"/a", "/a"}, {"/a/", "/a/"}, {"//a", "/a"}, {"/a//b", "/a/b"}, {"/a/./b", "/a/b"},
        {"/a/../b", "/b"}, {"/../a", "/a"}, {"/a/..", "/"}, {"/a/b/..", "/a"}, {"/a/b/../", "/a/"},
        {"/a/.", "/a"}, {"/a/./", "/a/"}, {"/%2e%2e/a", "/a"}, {"/a%2fb", "/a/b"}, {"/a%2F", "/a/"},
        {"/a?b/../c", "/a"}, {"/a/b?", "/a/b"}, {"/...", "/..."}, {"/a/.../b", "/a/.../b"}, {"/.a", "/.a"},
        {"/a/..b", "/a/..b"}, {"/%41", "/A"}, {"/a+b", "/a+b"}, {"/a%20b", "/a b"}, {"/..", "/"}, {"/./", "/"},
    };
    for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
        char out[64];
        const char *why = NULL;
        long n = path_normalize(p[i].in, strlen(p[i].in), out, strlen(p[i].in) + 1, &why);
        CHECK(n >= 0 && strcmp(out, p[i].out) == 0, "normalize %s -> %s (got %s)", p[i].in, p[i].out, n >= 0 ? out : why);
    }
    CHECK(path_version_prefix("/v1.41/x", 8) == 6, "version prefix");
    CHECK(path_version_prefix("/v1.41", 6) == 0, "bare version is no prefix");
    CHECK(path_version_prefix("/version", 8) == 0, "/version is no prefix");
    CHECK(path_version_prefix("/v/x", 4) == 0, "/v/ is no prefix");
}

int main(void)
{
    fake_env = envbuf;
    test_rows();
    test_sections_matrix();
    test_no_body_flag();
    test_values();
    test_source_prefix();
    test_source_preset();
    test_preset_table();
    test_preset_rows();
    test_need_text_prefix();
    test_lint();
    test_paths();
    printf("decision rows: %zu explicit + matrix\n", sizeof(rows) / sizeof(rows[0]));
    return unit_summary("test_rules");
}
