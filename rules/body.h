/* The request-body judge (issue 11): reads the JSON bodies that can turn a
 * POST into root on the host (container create/update/start, exec, services,
 * volumes, plugin privileges; and Podman's libpod container, pod, volume and
 * update bodies) the way dockerd and podman read them (Go encoding/json:
 * case-insensitive field names with Go's folds, the last of repeated keys, the
 * create body's deprecated top-level HostConfig fields) and refuses each
 * dangerous field unless its own variable opens it.
 *
 * Pure: no libuv, no I/O, no globals; cJSON for the parse. Not yet wired into
 * the proxy: the caller holds the request head, buffers the body (bounded),
 * asks body_kind_of for the route and body_judge for the verdict. */
#ifndef RULES_BODY_H
#define RULES_BODY_H

#include <stdbool.h>
#include <stddef.h>

/* What the variables open. Everything false / empty refuses every judged field. */
typedef struct body_policy {
    bool privileged;      /* ALLOW_PRIVILEGED */
    bool host_namespaces; /* ALLOW_HOST_NAMESPACES */
    bool capabilities;    /* ALLOW_CAPABILITIES */
    bool devices;         /* ALLOW_DEVICES */
    unsigned nbinds;      /* ALLOW_BINDS: 0 refuses every host path */
    char binds[16][256];  /* cleaned prefixes; "/" = all (the Docker socket still only by its exact path) */
    char upstream[108];   /* the daemon's socket: binding it needs ALLOW_BINDS to name it exactly */
    bool cgroupns_host_is_default; /* the daemon's cgroups are v1, where "host" is its default cgroupns mode */
    char hostnet[72];     /* the host network's ID when known ("" otherwise): services name networks by ID */
} body_policy;

/* Parses ALLOW_BINDS (value NULL or "" = unset: no host paths). A comma list of
 * absolute paths, each cleaned (".", "..", "//", a trailing "/"); "/" allows
 * every path. Returns 0, or -1 with one error line naming var in err. */
int body_policy_binds(body_policy *p, const char *var, const char *value, char *err, size_t errlen);

typedef enum {
    BODY_NONE,              /* not judged */
    BODY_CONTAINER_CREATE,  /* POST /containers/create */
    BODY_CONTAINER_UPDATE,  /* POST /containers/{id}/update */
    BODY_CONTAINER_START,   /* POST /containers/{id}/start (old API: the body is a HostConfig) */
    BODY_EXEC_CREATE,       /* POST /containers/{id}/exec */
    BODY_SERVICE,           /* POST /services/create, /services/{id}/update */
    BODY_VOLUME_CREATE,     /* POST /volumes/create */
    BODY_PLUGIN_PRIVILEGES, /* POST /plugins/pull, /plugins/{name}/upgrade */
    /* Podman's libpod API (its exec body is Docker's: BODY_EXEC_CREATE) */
    BODY_LIBPOD_CREATE,     /* POST /libpod/containers/create: a SpecGenerator */
    BODY_LIBPOD_UPDATE,     /* POST /libpod/containers/{id}/update: resources */
    BODY_LIBPOD_VOLUME,     /* POST /libpod/volumes/create */
    BODY_LIBPOD_POD,        /* POST /libpod/pods/create: a PodSpecGenerator */
    /* judged on the head alone (body_judge_head); their bodies are not JSON */
    BODY_BUILD,             /* POST /build: the networkmode query parameter */
    BODY_PLUGIN_CREATE,     /* POST /plugins/create: its config.json may ask for any privilege */
    BODY_LIBPOD_PLAY,       /* POST /libpod/play/..., /libpod/kube/...: Kubernetes YAML asks for anything */
    BODY_LIBPOD_RESTORE,    /* POST /libpod/containers/{id}/restore: import= brings a whole container config */
    BODY_LIBPOD_SECRET,     /* POST /libpod/secrets/create: driver= and driveropts= (the shell driver runs commands) */
} body_kind;

/* True for the kinds judged on the head alone (body_judge_head): their
 * bodies are forwarded as they come, never held. */
bool body_kind_on_head(body_kind kind);

/* The kind of body a request carries. path: cleaned, version prefix removed,
 * no query (e.g. "/containers/create", "/libpod/containers/create"). */
body_kind body_kind_of(const char *method, size_t mlen, const char *path, size_t plen);

typedef struct body_verdict {
    int status;      /* 0 allow, 403 refused field, 400 unreadable/ambiguous */
    const char *var; /* the variable that would open it ("ALLOW_PRIVILEGED"), or NULL */
    char why[256];   /* "HostConfig.Privileged is true" */
    unsigned nhost;  /* the host paths the body binds, cleaned (allowed or not, the first 8): learn mode */
    char host[8][256];
} body_verdict;

/* Judges what the head alone says of a request of a body_kind_on_head kind:
 * query (after the '?', qlen bytes, may be empty) read as Go's
 * url.ParseQuery reads it, every value of a key counted (dockerd takes the
 * first, podman's schema decoder the last; the stricter reading is any), and
 * the Content-Type (a form body's fields would take precedence over the
 * query in dockerd's FormValue). */
void body_judge_head(const body_policy *p, body_kind kind, const char *query, size_t qlen, const char *ctype,
                     size_t ctlen, body_verdict *v);

/* Judges one body (len bytes, need not be NUL-terminated). An empty body is
 * allowed (it carries nothing); otherwise it must be exactly one JSON value,
 * valid UTF-8, no "\u0000" escape. */
void body_judge(const body_policy *p, body_kind kind, const char *body, size_t len, body_verdict *v);

#endif
