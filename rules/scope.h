/* Scoping by labels (issue 13): a profile with SCOPE_LABEL=key=value sees and
 * acts on the containers (and, with SCOPE_NETWORKS / SCOPE_VOLUMES, the
 * networks and volumes) that carry every one of its labels, and nothing else.
 *
 * The proxy asks this module, per allowed request:
 *   - scope_route_of: what scoping means for the route (dockerd's route table:
 *     method and path together): nothing, a refusal, a list whose `filters`
 *     query parameter gets the labels, or an object the daemon must be asked
 *     about first (its inspect answer says whether it is in scope and its full
 *     ID, which replaces the name in the forwarded target), and whether the
 *     body names further objects or gets the labels (SCOPE_OWN).
 *   - scope_list_target / scope_object_target: the target to forward.
 *   - scope_lookup_target, scope_answer: the inspect question and its answer.
 *   - scope_body, scope_add_labels: a held body's references and the labels.
 *
 * Pure: no libuv, no I/O, no globals; cJSON for parsing. Everything read from
 * a client is read the way dockerd's Go code reads it (url.ParseQuery,
 * encoding/json with case-insensitive field names and the last of repeated
 * keys), and where two readings could differ the request is refused (400). */
#ifndef RULES_SCOPE_H
#define RULES_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#define SCOPE_MAX_LABELS 8
#define SCOPE_LABEL_MAX 256 /* bytes of one "key=value", NUL included */

typedef struct scope_policy {
    unsigned nlabels;                           /* 0: the profile is not scoped */
    char label[SCOPE_MAX_LABELS][SCOPE_LABEL_MAX]; /* "key=value" as given (the filter form) */
    unsigned keylen[SCOPE_MAX_LABELS];          /* the key is label[i][0..keylen), the value follows the '=' */
    bool networks;                              /* SCOPE_NETWORKS */
    bool volumes;                               /* SCOPE_VOLUMES */
    bool own;                                   /* SCOPE_OWN: creates get the labels */
} scope_policy;

/* Reads <prefix>SCOPE_LABEL, <prefix>SCOPE_NETWORKS, <prefix>SCOPE_VOLUMES and
 * <prefix>SCOPE_OWN through the getenv-like get (prefix "" or "TRAEFIK__").
 * SCOPE_LABEL: comma-separated key=value items (spaces around an item are
 * dropped; key non-empty, split at the first '='; the value non-empty and
 * the key without '*': podman's label filter reads "key=" as any value and
 * a '*' in a key as a pattern, either wider than the scope; valid UTF-8, no
 * control bytes; at most SCOPE_MAX_LABELS items of < SCOPE_LABEL_MAX bytes;
 * a key given twice is an error). Empty or unset: not scoped. The three
 * switches are booleans (rules_parse_bool); set to 1 without SCOPE_LABEL they
 * are an error. Returns 0, or -1 with one line in err naming the variable
 * (with its prefix) and what is accepted. */
int scope_policy_compile(scope_policy *p, const char *prefix, const char *(*get)(const char *name), char *err,
                         size_t errlen);

typedef enum {
    SCOPE_PASS,   /* nothing to scope on this route (or the profile is not scoped) */
    SCOPE_REFUSE, /* the route would show or touch what is out of scope, and cannot be narrowed: 403 with why */
    SCOPE_LIST,   /* forward with the labels merged into the filters parameter (scope_list_target) */
    SCOPE_CHECK,  /* ask the daemon about the object the path (or query) names, and/or read the body */
} scope_do;

typedef enum {
    SCOPE_OBJ_NONE,
    SCOPE_OBJ_CONTAINER, /* inspect: GET /containers/{name}/json; labels at Config.Labels, ID at Id */
    SCOPE_OBJ_EXEC,      /* inspect: GET /exec/{id}/json; its container (ContainerID) decides */
    SCOPE_OBJ_NETWORK,   /* inspect: GET /networks/{name}; labels at Labels, ID at Id */
    SCOPE_OBJ_VOLUME,    /* inspect: GET /volumes/{name}; labels at Labels, ID at Name */
} scope_object;

typedef enum {
    SCOPE_BODY_NONE,             /* the body (if any) is forwarded as it comes */
    SCOPE_BODY_CREATE_CONTAINER, /* POST /containers/create: references; labels when own */
    SCOPE_BODY_CREATE_NETWORK,   /* POST /networks/create (SCOPE_NETWORKS): labels when own */
    SCOPE_BODY_CREATE_VOLUME,    /* POST /volumes/create (SCOPE_VOLUMES): labels when own */
    SCOPE_BODY_CONNECT,          /* POST /networks/{id}/connect, /disconnect: its Container */
    SCOPE_BODY_HOSTCONFIG,       /* POST /containers/{id}/start with a body (old APIs): a HostConfig's references */
} scope_body_kind;

typedef struct scope_route {
    scope_do what;
    bool libpod;            /* SCOPE_LIST: libpod's filter form {"label":["k=v"]} */
    scope_object obj;       /* SCOPE_CHECK: the object named by the path or query (NONE: only the body) */
    size_t seg_off, seg_len; /* its name: the path segment path[seg_off, seg_off+seg_len) ... */
    const char *query_key;  /* ... or, when not NULL, the value of this query parameter ("container") */
    scope_body_kind body;   /* SCOPE_CHECK: what the held body is read for */
    const char *why;        /* SCOPE_REFUSE: the reason, e.g. "/system/df lists every container" */
} scope_route;

/* What scoping means for one allowed request. path: normalised (rules'
 * path_normalize), version prefix removed, no query; p may be unscoped
 * (then always SCOPE_PASS). */
void scope_route_of(const scope_policy *p, const char *method, size_t mlen, const char *path, size_t plen,
                    scope_route *r);

/* The value of query parameter `key` (exact, as Go's url.Values.Get) in
 * query[0..qlen) (after the '?'), percent-decoded as url.QueryUnescape into
 * out (cap bytes, NUL-terminated). Returns 1 found, 0 absent, -1 when the
 * query cannot be read one way (a bad escape, a ';' separator, which Go
 * refuses) or the key is given more than once, or the value does not fit. */
int scope_query_param(const char *query, size_t qlen, const char *key, char *out, size_t cap);

/* The target to forward for a SCOPE_LIST route: vprefix (the "/v1.43" the
 * client sent, may be empty) + path, percent-encoded where it must be, + "?"
 * + the query with its filters parameter replaced by the client's filters
 * merged with the scope labels (added when there was none). Both of dockerd's
 * forms are read ({"label":["a=b"]} and {"label":{"a=b":true}}); the result is
 * written in the map-of-bools form, or, for libpod, the map-of-lists form.
 * Every other query parameter is copied byte for byte. *out is malloc'd,
 * NUL-terminated (*outlen without the NUL). Returns 0, or 400 with why: a
 * filters parameter given twice, a bad escape or ';' in the query, filters
 * that are not one JSON object of one of the two forms (mixed forms, a
 * repeated key, a value of another type, invalid UTF-8), or -1 when memory
 * runs out. */
int scope_list_target(const scope_policy *p, bool libpod, const char *vprefix, size_t vlen, const char *path,
                      size_t plen, const char *query, size_t qlen, char **out, size_t *outlen, char *why,
                      size_t whycap);

/* The daemon question for an object: "/containers/<name>/json",
 * "/exec/<id>/json", "/networks/<name>", "/volumes/<name>", the name
 * percent-encoded (every byte outside A-Z a-z 0-9 - . _ ~). Returns the
 * length written to out (NUL-terminated), or -1 when it does not fit. */
int scope_lookup_target(scope_object obj, const char *name, size_t nlen, char *out, size_t cap);

/* Reads the daemon's inspect answer for obj. Returns 1 when every scope label
 * is there with its value (for SCOPE_OBJ_EXEC: always 1, the container
 * decides), 0 when not, -1 when the answer is not what the daemon writes (not
 * a JSON object, the ID missing). id receives the object's full ID (Id; a
 * volume's Name; an exec's ContainerID), NUL-terminated. */
int scope_answer(const scope_policy *p, scope_object obj, const char *body, size_t len, char *id, size_t idcap);

/* The target to forward for a SCOPE_CHECK route whose object was found in
 * scope with full ID id: vprefix + path with the segment replaced by id
 * (percent-encoded where it must be) + "?" + query, or, with query_key, the
 * query with that parameter's value replaced by id. *out malloc'd and
 * NUL-terminated. Returns 0, or -1 when memory runs out. */
int scope_object_target(const scope_route *r, const char *vprefix, size_t vlen, const char *path, size_t plen,
                        const char *query, size_t qlen, const char *id, char **out, size_t *outlen);

#define SCOPE_MAX_REFS 16
typedef struct scope_ref {
    scope_object obj;
    char name[256];
    const char *where; /* "HostConfig.VolumesFrom", for messages (static) */
} scope_ref;
typedef struct scope_refs {
    unsigned n;
    scope_ref ref[SCOPE_MAX_REFS];
} scope_refs;

/* Reads a held body of kind k (len bytes, need not be NUL-terminated; empty:
 * nothing to read, 0) as dockerd's Go decoder reads it, and lists the
 * objects it names that must be in scope before the daemon acts:
 *   - containers (always): HostConfig.VolumesFrom ("name[:ro|rw]"),
 *     HostConfig.Links ("name:alias"), "container:<name>" in
 *     NetworkMode/PidMode/IpcMode, NetworkingConfig.EndpointsConfig.*.Links,
 *     the connect/disconnect body's Container; the deprecated top-level
 *     HostConfig fields of a create body too;
 *   - with p->volumes: named volumes in HostConfig.Binds ("name:/dst...",
 *     a source that is not an absolute path) and HostConfig.Mounts entries
 *     of Type "volume" with a Source;
 *   - with p->networks: NetworkMode naming a network (not bridge, default,
 *     host, none, container:...) and the keys of
 *     NetworkingConfig.EndpointsConfig (same exceptions).
 * With p->own and a create kind, a Labels member (any that Go folds to
 * "Labels") that gives a scope key another value is refused (403).
 * Returns 0, or 400 (not one JSON object as Go reads it, a field of the
 * wrong type, a field name matching twice) / 403 (a conflicting label, more
 * than SCOPE_MAX_REFS references) with why. */
int scope_body(const scope_policy *p, scope_body_kind k, const char *body, size_t len, scope_refs *refs, char *why,
               size_t whycap);

/* body with the scope labels added the way Go's decoder merges them: one
 * more top-level member "Labels":{"k":"v",...} after the last (Go decodes a
 * repeated map field into the map it already has, later keys winning). Every
 * byte of body is kept; the member is inserted before the closing brace.
 * body must be one JSON object (scope_body checked it). *out malloc'd.
 * Returns 0, or -1 (not an object, memory). */
int scope_add_labels(const scope_policy *p, const char *body, size_t len, char **out, size_t *outlen);

/* Whether dockerd's r.ParseForm would read this request's body as form
 * fields, which r.Form.Get("filters") (the prune routes) then takes BEFORE
 * the query's: a POST, PUT or PATCH whose Content-Type is
 * application/x-www-form-urlencoded (or, the stricter reading,
 * multipart/form-data), parameters and case aside. A SCOPE_LIST route (or a
 * query_key one) with such a body must be refused (400): the body would
 * replace the merged filters (or the pinned ID). ctype may be NULL (ctlen 0). */
bool scope_form_body(const char *method, size_t mlen, const char *ctype, size_t ctlen);

/* "autoheal=true" or "autoheal=true and team=a" for check and messages.
 * Returns the length written. */
size_t scope_text(const scope_policy *p, char *out, size_t cap);

#endif
