/* The rules core: environment variables compiled once into a rule set, and
 * the per-request decision. Pure C over bytes: no libuv, no allocation on the
 * decision path. A rule set is a value (a listener points to one), never a
 * global, so several profiles can coexist later. */
#ifndef RULES_RULES_H
#define RULES_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <strings.h>
#include <stddef.h>
#include <stdint.h>

#include "body.h"
#include "scope.h"

/* Every boolean variable, in the order of the README's table. */
#define RULES_VARS(X)                                                          \
    X(AUTH, 0, "/auth")                                                        \
    X(BUILD, 0, "/build")                                                      \
    X(COMMIT, 0, "/commit")                                                    \
    X(CONFIGS, 0, "/configs")                                                  \
    X(CONTAINERS, 0, "/containers")                                            \
    X(DISTRIBUTION, 0, "/distribution")                                        \
    X(EVENTS, 1, "/events")                                                    \
    X(EXEC, 0, "/exec and POST /containers/{id}/exec")                         \
    X(GRPC, 0, "/grpc (BuildKit)")                                             \
    X(IMAGES, 0, "/images")                                                    \
    X(INFO, 0, "/info")                                                        \
    X(NETWORKS, 0, "/networks")                                                \
    X(NODES, 0, "/nodes")                                                      \
    X(PING, 1, "/_ping")                                                       \
    X(PLUGINS, 0, "/plugins")                                                  \
    X(POST, 0, "methods other than GET and HEAD, in granted sections")         \
    X(SECRETS, 0, "/secrets")                                                  \
    X(SERVICES, 0, "/services")                                                \
    X(SESSION, 0, "/session (BuildKit)")                                       \
    X(SWARM, 0, "/swarm")                                                      \
    X(SYSTEM, 0, "/system")                                                    \
    X(TASKS, 0, "/tasks")                                                      \
    X(VERSION, 1, "/version")                                                  \
    X(VOLUMES, 0, "/volumes")                                                  \
    X(ALLOW_START, 0, "POST /containers/{id}/start, even with POST=0")         \
    X(ALLOW_STOP, 0, "POST /containers/{id}/stop, even with POST=0")           \
    X(ALLOW_RESTARTS, 0, "POST /containers/{id}/stop, restart, kill, even with POST=0") \
    X(ALLOW_PAUSE, 0, "POST /containers/{id}/pause, even with POST=0")         \
    X(ALLOW_UNPAUSE, 0, "POST /containers/{id}/unpause, even with POST=0")     \
    X(ALLOW_LOGS, -1, "GET /containers/{id}/logs; unset follows CONTAINERS")   \
    X(ALLOW_TOP, -1, "GET /containers/{id}/top; unset follows CONTAINERS")     \
    X(ALLOW_CHANGES, -1, "GET /containers/{id}/changes; unset follows CONTAINERS") \
    X(ALLOW_ARCHIVE, 0, "/containers/{id}/archive (docker cp); also needs CONTAINERS=1") \
    X(ALLOW_EXPORT, 0, "/containers/{id}/export, /images/{name}/get, /images/get; also needs CONTAINERS=1 or IMAGES=1") \
    X(ALLOW_PRIVILEGED, 0, "request bodies: HostConfig.Privileged, exec Privileged, plugin privileges; libpod privileged, play/kube, restore import, secret drivers") \
    X(ALLOW_HOST_NAMESPACES, 0, "request bodies: host network, pid, ipc, uts, userns, cgroupns modes, container: forms") \
    X(ALLOW_CAPABILITIES, 0, "request bodies: CapAdd, unconfined SecurityOpt, Sysctls, MaskedPaths/ReadonlyPaths") \
    X(ALLOW_DEVICES, 0, "request bodies: Devices, DeviceRequests (GPUs), DeviceCgroupRules") \
    X(ALLOW_ENV, -2, "answers: containers', services' and tasks' Env values shown, not redacted; unset follows POST") \
    X(LIBPOD_PING, 1, "/libpod/_ping")                                         \
    X(LIBPOD_VERSION, 1, "/libpod/version")                                    \
    X(LIBPOD_EVENTS, 0, "/libpod/events")                                      \
    X(LIBPOD_INFO, 0, "/libpod/info")                                          \
    X(LIBPOD_CONTAINERS, 0, "/libpod/containers")                              \
    X(LIBPOD_IMAGES, 0, "/libpod/images")                                      \
    X(LIBPOD_NETWORKS, 0, "/libpod/networks")                                  \
    X(LIBPOD_VOLUMES, 0, "/libpod/volumes")                                    \
    X(LIBPOD_PODS, 0, "/libpod/pods")                                          \
    X(LIBPOD_EXEC, 0, "/libpod/exec and /libpod/containers/{id}/exec")         \
    X(LIBPOD_SYSTEM, 0, "/libpod/system")                                      \
    X(LIBPOD_SECRETS, 0, "/libpod/secrets")                                    \
    X(LIBPOD_MANIFESTS, 0, "/libpod/manifests")                                \
    X(LIBPOD_BUILD, 0, "/libpod/build")                                        \
    X(LIBPOD_COMMIT, 0, "/libpod/commit")                                      \
    X(LIBPOD_GENERATE, 0, "/libpod/generate")                                  \
    X(LIBPOD_PLAY, 0, "/libpod/play and /libpod/kube")

enum rules_var {
#define X(name, def, what) RV_##name,
    RULES_VARS(X)
#undef X
    RV_COUNT
};

typedef uint64_t rules_mask;
_Static_assert(RV_COUNT <= 64, "every variable needs a bit of rules_mask");
#define RBIT(v) ((rules_mask)1 << (v))

typedef struct rules_set {
    rules_mask granted;   /* effective value of every variable */
    rules_mask explicit_; /* variables the environment set */
    rules_mask empty_;    /* variables set but empty: read as unset, so the default applies */
    rules_mask preset_;   /* variables whose value the preset gave */
    int preset;           /* the preset (rules_preset_find), or -1 */
    char prefix[40];      /* "" or a profile's "TRAEFIK__": variables are named with it */
    const char *api_key;  /* API_KEY: added as X-Api-Key upstream; NULL when unset */
    body_policy body;     /* what request bodies may ask for: the ALLOW_* body switches and ALLOW_BINDS */
    scope_policy scope;   /* SCOPE_LABEL, SCOPE_NETWORKS, SCOPE_VOLUMES, SCOPE_OWN (rules/scope.h) */
    unsigned min_api[2];  /* SOCKET_PROXY_MIN_API_VERSION (major, minor); 0.0: no floor */
    char min_api_why[160];
} rules_set;

/* Reads variables with getenv-like `get`. Returns 0, or -1 with one line in
 * err naming the variable and the accepted values. An empty value is unset
 * (compose writes POST=${POST:-}): the default applies and the variable's bit
 * goes to r->empty_, for the caller to tell the user. */
int rules_compile(rules_set *r, const char *(*get)(const char *name), char *err, size_t errlen);

/* Where a rule set's variables come from: rules_compile reads the plain
 * names with no preset; a profile reads its own prefixed names. */
typedef struct rules_source {
    const char *(*get)(const char *name); /* getenv-like */
    const char *prefix;                   /* prepended to every name; NULL or "" for none */
    const char *preset;                   /* NULL, or a preset whose values replace the built-in defaults */
    const char *preset_var;               /* the variable that named the preset, for errors */
} rules_source;

/* rules_compile from src. An unknown preset is an error naming preset_var
 * and listing the presets. */
int rules_compile_source(rules_set *r, const rules_source *src, char *err, size_t errlen);

/* Presets (rules/presets.c): the variables an application needs, as
 * defaults. Each is backed by a replay of the application's own calls. */
int rules_preset_count(void);
int rules_preset_find(const char *name);   /* its index, or -1 */
const char *rules_preset_name(int preset);
const char *rules_preset_what(int preset); /* one line: who it is for */
/* The preset's value for var: 1, 0, or -1 when it leaves the default. */
int rules_preset_value(int preset, int var);
/* Its values as written: "CONTAINERS=1 ALLOW_LOGS=0 ..." (NULL out of range). */
const char *rules_preset_vars(int preset);
/* "traefik, traefik-swarm, ..." */
size_t rules_preset_list(char *out, size_t cap);

/* Requests whose path carries a /vX.Y prefix below major.minor are refused
 * with 400 (0, 0: no floor). rules_compile sets no floor. */
void rules_set_min_api(rules_set *r, unsigned major, unsigned minor);

/* Calls warn(line) for each environment entry that looks like one of our
 * variables but is not (CONTAINER=1 -> "did you mean CONTAINERS?"). Ours are
 * the rules variables, API_KEY and extra_names (NULL-terminated, may be NULL:
 * the server's variables, which rules/ does not know). */
void rules_lint_env(char *const *environ_, const char *const *extra_names, void (*warn)(void *ctx, const char *line),
                    void *ctx);

/* rules_lint_env with profiles: a name PREFIX__NAME whose prefix is a
 * profile's is checked against the rules variables, API_KEY and
 * profile_names (TRAEFIK__CONTAINER=1 -> "did you mean TRAEFIK__CONTAINERS?");
 * one whose prefix is no profile's, but whose NAME is one of those, is
 * reported as naming a profile that does not exist. */
typedef struct rules_lint_opts {
    const char *const *extra_names;      /* the server's variables (NULL-terminated, may be NULL) */
    const char *const *profile_prefixes; /* "TRAEFIK__", ... (NULL-terminated, may be NULL) */
    const char *const *profile_names;    /* the server variables a profile may set, without prefix */
    const char *profiles_text;           /* SOCKET_PROXY_PROFILES as given, for the message */
} rules_lint_opts;
void rules_lint(char *const *environ_, const rules_lint_opts *l, void (*warn)(void *ctx, const char *line), void *ctx);

/* Parses a boolean value: 1 for 1/true/yes/on, 0 for 0/false/no/off
 * (case-insensitive), -1 for anything else. Inline: rules/scope.c reads its
 * switches with it without linking the rules. */
static inline int rules_parse_bool(const char *v)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
        if (strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

enum rules_status { RULES_ALLOW = 0, RULES_DENY = 403, RULES_BAD = 400 };

#define RULES_F_STREAM 1u /* the answer may stay open for hours (events, logs, attach) */
#define RULES_F_HIJACK 2u /* attach / exec start / BuildKit: the answer may turn into a tunnel */
#define RULES_F_NO_BODY 4u /* granted only by an ALLOW_* action variable: a body must be refused */

typedef struct rules_verdict {
    int status;           /* enum rules_status */
    unsigned flags;
    rules_mask need;      /* all of these ... */
    rules_mask need_alt;  /* ... or, when non-zero, all of these */
    const char *why;      /* for RULES_BAD: what is ambiguous; for a path no variable
                           * grants: NULL need and why = "no variable grants it" */
    const char *path;     /* the decided path, version prefix removed (points into buf) */
    size_t path_len;
    const char *prefix;   /* the rule set's variable prefix (NULL: none), for rules_need_text */
} rules_verdict;

/* Decides one request. buf (at least tlen + 1 bytes) receives the normalised
 * path that verdict->path points to. */
void rules_decide(const rules_set *r, const char *method, size_t mlen, const char *target, size_t tlen,
                  char *buf, size_t buflen, rules_verdict *v);

/* "CONTAINERS=1 and POST=1", "ALLOW_START=1, or CONTAINERS=1 and POST=1",
 * or "no variable grants it"; a profile's names carry its prefix
 * ("WATCHTOWER__POST=1"). Returns the length written. */
size_t rules_need_text(const rules_verdict *v, char *out, size_t cap);

/* The variable's name and default (-1: follows CONTAINERS). */
const char *rules_var_name(int var);
int rules_var_default(int var);
/* The variable an unset one follows ("CONTAINERS" for a default of -1,
 * "POST" for -2), or NULL. */
const char *rules_var_follows(int var);
const char *rules_var_what(int var);

#endif
