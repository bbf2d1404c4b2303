/* Scoping by labels: see scope.h. The route table follows dockerd's and
 * podman's routers (method and path together); queries are read as Go's
 * url.ParseQuery reads them, filters as dockerd's filters.FromJSON and
 * podman's FiltersFromRequest do, bodies as encoding/json does (gojson.h).
 * Where two readings could differ, the request is refused (400). */
#include "rules/scope.h"
#include "rules/gojson.h"
#include "rules/rules.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int say(char *buf, size_t cap, int status, const char *fmt, ...)
{
    if (cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, cap, fmt, ap);
        va_end(ap);
    }
    return status;
}

static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

/* ---- the policy ------------------------------------------------------------ */

/* rules_parse_bool's words (kept here so that scope.o links alone). */
/* One item of SCOPE_LABEL, spaces around it dropped: s[0..n). */
static int label_item(scope_policy *p, const char *var, const char *s, size_t n, char *err, size_t errlen)
{
    const char *eq = memchr(s, '=', n);
    size_t kl = eq ? (size_t)(eq - s) : 0;
    if (!eq || kl == 0)
        return say(err, errlen, -1, "%s: \"%.*s\" is not key=value: use comma-separated key=value items "
                                    "(com.example.team=web,env=prod)", var, (int)(n > 80 ? 80 : n), s);
    /* Podman's label filter reads a key with '*' as a pattern and "key=" as
     * the key with any value: either would widen a list past the scope. */
    if (memchr(s, '*', kl))
        return say(err, errlen, -1, "%s: the key \"%.*s\" holds '*', which podman's label filter reads as a "
                                    "wildcard: use a plain key", var, (int)(kl > 80 ? 80 : kl), s);
    if (kl + 1 == n)
        return say(err, errlen, -1, "%s: \"%.*s\" has an empty value, which podman's label filter reads as any "
                                    "value: give it one", var, (int)(n > 80 ? 80 : n), s);
    if (n >= SCOPE_LABEL_MAX)
        return say(err, errlen, -1, "%s: an item longer than %d bytes", var, SCOPE_LABEL_MAX - 1);
    if (p->nlabels == SCOPE_MAX_LABELS)
        return say(err, errlen, -1, "%s: more than %d items", var, SCOPE_MAX_LABELS);
    for (unsigned i = 0; i < p->nlabels; i++)
        if (p->keylen[i] == kl && memcmp(p->label[i], s, kl) == 0)
            return say(err, errlen, -1, "%s: the key \"%.*s\" is given twice: give each key once", var,
                       (int)(kl > 80 ? 80 : kl), s);
    memcpy(p->label[p->nlabels], s, n);
    p->label[p->nlabels][n] = '\0';
    p->keylen[p->nlabels++] = (unsigned)kl;
    return 0;
}

static int parse_labels(scope_policy *p, const char *var, const char *v, char *err, size_t errlen)
{
    if (has_control(v, strlen(v)))
        return say(err, errlen, -1, "%s holds a control character: use printable characters only", var);
    if (!gojson_clean_bytes((const unsigned char *)v, strlen(v)))
        return say(err, errlen, -1, "%s is not valid UTF-8: labels are UTF-8 text", var);
    for (const char *s = v;;) {
        const char *e = strchr(s, ',');
        const char *a = s, *b = e ? e : s + strlen(s);
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        if (label_item(p, var, a, (size_t)(b - a), err, errlen) < 0)
            return -1;
        if (!e)
            return 0;
        s = e + 1;
    }
}

int scope_policy_compile(scope_policy *p, const char *prefix, const char *(*get)(const char *name), char *err,
                         size_t errlen)
{
    static const char *const switches[] = {"SCOPE_NETWORKS", "SCOPE_VOLUMES", "SCOPE_OWN"};
    static const char *const what[] = {"networks", "volumes", "creates"};
    bool *dst[] = {&p->networks, &p->volumes, &p->own};
    char var[96], sw[96];
    memset(p, 0, sizeof(*p));
    if (!prefix)
        prefix = "";
    snprintf(var, sizeof(var), "%sSCOPE_LABEL", prefix);
    const char *v = get(var);
    if (v && *v && parse_labels(p, var, v, err, errlen) < 0) {
        p->nlabels = 0;
        return -1;
    }
    for (size_t i = 0; i < 3; i++) {
        snprintf(sw, sizeof(sw), "%s%s", prefix, switches[i]);
        const char *s = get(sw);
        if (!s || !*s)
            continue;
        int b = rules_parse_bool(s);
        if (b < 0)
            return say(err, errlen, -1, "%s=\"%.40s\" is not a boolean: use 1, true, yes, on or 0, false, no, off",
                       sw, s);
        if (b && !p->nlabels)
            return say(err, errlen, -1, "%s=%s needs %s: it scopes %s to the labels that one names", sw, s, var,
                       what[i]);
        *dst[i] = b;
    }
    return 0;
}

size_t scope_text(const scope_policy *p, char *out, size_t cap)
{
    size_t n = 0;
    if (!cap)
        return 0;
    out[0] = '\0';
    for (unsigned i = 0; i < p->nlabels && n + 1 < cap; i++) {
        int w = snprintf(out + n, cap - n, "%s%s", i ? " and " : "", p->label[i]);
        n += w < 0 ? 0 : (size_t)w >= cap - n ? cap - n - 1 : (size_t)w;
    }
    return n;
}

/* ---- the route table ------------------------------------------------------- */

static bool method_is(const char *m, size_t ml, const char *want)
{
    return ml == strlen(want) && strncasecmp(m, want, ml) == 0;
}

static bool method_get(const char *m, size_t ml)
{
    return method_is(m, ml, "GET") || method_is(m, ml, "HEAD");
}

/* A path cut at its section: "/containers", "/libpod/networks"... */
typedef struct cut {
    const char *path;
    size_t n;            /* without one trailing '/' */
    size_t sect;         /* where the section's name ends */
    size_t seg, seglen;  /* the segment after it (seglen 0: none) */
} cut;

static bool cut_at(cut *c, const char *path, size_t n, size_t base, const char *sect)
{
    size_t sl = strlen(sect);
    if (n < base + sl || memcmp(path + base, sect, sl) != 0 || (n > base + sl && path[base + sl] != '/'))
        return false;
    c->path = path;
    c->n = n;
    c->sect = base + sl;
    c->seg = c->sect + 1;
    c->seglen = 0;
    while (c->seg + c->seglen < n && path[c->seg + c->seglen] != '/')
        c->seglen++;
    return true;
}

/* The path after the section is exactly "/" + word. */
static bool cut_is(const cut *c, const char *word)
{
    size_t wl = strlen(word);
    return c->n == c->sect + 1 + wl && memcmp(c->path + c->sect + 1, word, wl) == 0;
}

/* The path goes on past the segment and ends with suf ("/start"). */
static bool cut_ends(const cut *c, const char *suf)
{
    size_t sl = strlen(suf);
    return c->seglen && c->n >= c->seg + c->seglen + sl && memcmp(c->path + c->n - sl, suf, sl) == 0;
}

/* dockerd's routes capture a name with {name:.*}, which spans slashes:
 * /containers/web/db/logs is the logs of "web/db" (a legacy link alias).
 * The name runs up to the route's action, one of `actions` (the method's
 * "/logs", "/attach/ws", ...; NULL or none matching: the whole rest, as
 * DELETE /containers/{name:.*} and GET /volumes/{name:.*} read it). */
static void span_name(cut *c, const char *const *actions)
{
    if (!c->seglen)
        return; /* no name: no route */
    size_t rest = c->n > c->seg ? c->n - c->seg : 0;
    for (; actions && *actions; actions++) {
        size_t al = strlen(*actions);
        if (rest > al && memcmp(c->path + c->n - al, *actions, al) == 0) {
            c->seglen = rest - al;
            return;
        }
    }
    c->seglen = rest;
}

/* The actions of dockerd's container, exec and network routes, by method. */
static const char *const *actions_of(const char *section, const char *m, size_t ml)
{
    static const char *const container_get[] = {"/attach/ws", "/export", "/changes", "/json", "/top", "/logs",
                                                "/stats", "/archive", NULL};
    static const char *const container_post[] = {"/kill", "/pause", "/unpause", "/restart", "/start", "/stop",
                                                 "/wait", "/resize", "/attach", "/copy", "/exec", "/rename",
                                                 "/update", NULL};
    static const char *const container_put[] = {"/archive", NULL};
    static const char *const exec_get[] = {"/json", NULL};
    static const char *const exec_post[] = {"/start", "/resize", NULL};
    static const char *const network_post[] = {"/connect", "/disconnect", NULL};
    bool get = method_get(m, ml), post = method_is(m, ml, "POST");
    if (strcmp(section, "/containers") == 0)
        return get ? container_get : post ? container_post : method_is(m, ml, "PUT") ? container_put : NULL;
    if (strcmp(section, "/exec") == 0)
        return get ? exec_get : post ? exec_post : NULL;
    if (strcmp(section, "/networks") == 0)
        return post ? network_post : NULL;
    return NULL;
}

static void route_set(scope_route *r, scope_do what, scope_object obj, const cut *c, scope_body_kind body)
{
    r->what = what;
    r->obj = obj;
    if (obj != SCOPE_OBJ_NONE && c) {
        r->seg_off = c->seg;
        r->seg_len = c->seglen;
    }
    r->body = body;
}

static void refuse_route(scope_route *r, const char *why)
{
    r->what = SCOPE_REFUSE;
    r->why = why;
}

/* The object routes of a section whose fixed words are matched first: a
 * segment names one object (CHECK obj), no segment is no route (PASS). */
static void object_route(scope_route *r, const cut *c, scope_object obj)
{
    if (c->seglen)
        route_set(r, SCOPE_CHECK, obj, c, SCOPE_BODY_NONE);
}

/* The list routes of a section: GET of the bare section (get_word NULL) or
 * of get_word ("json"), and POST of "prune". */
static bool list_route(const cut *c, bool get, bool post, const char *get_word)
{
    return (get && (get_word ? cut_is(c, get_word) : c->n == c->sect)) || (post && cut_is(c, "prune"));
}

/* The routes Docker's API and podman's share below base (0, or 7 after
 * "/libpod"): exec, commit, events. False when the path is none of them. */
static bool shared_route(const char *m, size_t ml, const cut *c0, size_t base, scope_route *r)
{
    bool get = method_get(m, ml), post = method_is(m, ml, "POST");
    const char *rest = c0->path + base;
    size_t rn = c0->n - base;
    cut c;
    if (cut_at(&c, c0->path, c0->n, base, "/exec")) {
        span_name(&c, actions_of("/exec", m, ml));
        object_route(r, &c, SCOPE_OBJ_EXEC);
    } else if (post && rn == 7 && memcmp(rest, "/commit", 7) == 0) {
        route_set(r, SCOPE_CHECK, SCOPE_OBJ_CONTAINER, NULL, SCOPE_BODY_NONE);
        r->query_key = "container";
    } else if (get && rn == 7 && memcmp(rest, "/events", 7) == 0) {
        r->what = SCOPE_LIST;
    } else {
        return false;
    }
    return true;
}

static void docker_route(const scope_policy *p, const char *m, size_t ml, const cut *c0, scope_route *r)
{
    const char *path = c0->path;
    size_t n = c0->n;
    bool get = method_get(m, ml), post = method_is(m, ml, "POST");
    cut c;
    if (shared_route(m, ml, c0, 0, r))
        return;
    if (cut_at(&c, path, n, 0, "/containers")) {
        if (list_route(&c, get, post, "json"))
            r->what = SCOPE_LIST;
        else if (post && cut_is(&c, "create"))
            route_set(r, SCOPE_CHECK, SCOPE_OBJ_NONE, NULL, SCOPE_BODY_CREATE_CONTAINER);
        else if (c.seglen) {
            bool start = post && cut_ends(&c, "/start");
            span_name(&c, actions_of("/containers", m, ml));
            route_set(r, SCOPE_CHECK, SCOPE_OBJ_CONTAINER, &c, start ? SCOPE_BODY_HOSTCONFIG : SCOPE_BODY_NONE);
        }
    } else if (get && n == 10 && memcmp(path, "/system/df", 10) == 0) {
        refuse_route(r, "/system/df lists every container, volume and image");
    } else if (cut_at(&c, path, n, 0, "/networks")) {
        bool connect = post && (cut_ends(&c, "/connect") || cut_ends(&c, "/disconnect"));
        if (!p->networks) {
            if (connect)
                route_set(r, SCOPE_CHECK, SCOPE_OBJ_NONE, NULL, SCOPE_BODY_CONNECT);
        } else if (list_route(&c, get, post, NULL)) {
            r->what = SCOPE_LIST;
        } else if (post && cut_is(&c, "create")) {
            route_set(r, SCOPE_CHECK, SCOPE_OBJ_NONE, NULL, SCOPE_BODY_CREATE_NETWORK);
        } else if (c.seglen) {
            span_name(&c, actions_of("/networks", m, ml));
            route_set(r, SCOPE_CHECK, SCOPE_OBJ_NETWORK, &c, connect ? SCOPE_BODY_CONNECT : SCOPE_BODY_NONE);
        }
    } else if (p->volumes && cut_at(&c, path, n, 0, "/volumes")) {
        if (list_route(&c, get, post, NULL))
            r->what = SCOPE_LIST;
        else if (post && cut_is(&c, "create"))
            route_set(r, SCOPE_CHECK, SCOPE_OBJ_NONE, NULL, SCOPE_BODY_CREATE_VOLUME);
        else if (c.seglen) {
            span_name(&c, NULL);
            object_route(r, &c, SCOPE_OBJ_VOLUME);
        }
    }
}

/* Podman's own API: containers, exec and commit as Docker's; what creates
 * or shows containers in ways the scope does not read is refused. */
static void libpod_route(const scope_policy *p, const char *m, size_t ml, const cut *c0, scope_route *r)
{
    static const struct {
        const char *sect, *why;
    } refused[] = {
        {"/pods", "/libpod/pods: a pod's containers are not scoped one by one; refused to a scoped profile"},
        {"/play", "/libpod/play creates containers from Kubernetes YAML, which the scope does not read"},
        {"/kube", "/libpod/kube creates containers from Kubernetes YAML, which the scope does not read"},
        {"/generate", "/libpod/generate describes containers and pods by name, which the scope does not check"},
        {"/system/df", "/libpod/system/df lists every container, volume and image"},
        {"/system/prune", "/libpod/system/prune removes every unused container, pod, network and volume"},
    };
    const char *path = c0->path;
    size_t n = c0->n;
    bool get = method_get(m, ml), post = method_is(m, ml, "POST");
    cut c;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (cut_at(&c, path, n, 7, refused[i].sect)) {
            refuse_route(r, refused[i].why);
            return;
        }
    if (shared_route(m, ml, c0, 7, r))
        return;
    if (cut_at(&c, path, n, 7, "/containers")) {
        if (list_route(&c, get, post, "json"))
            r->what = SCOPE_LIST;
        else if (post && cut_is(&c, "create"))
            refuse_route(r, "libpod creates are not scoped yet: use the Docker API (/containers/create)");
        else if (get && cut_is(&c, "stats"))
            refuse_route(r, "/libpod/containers/stats reports on every container: ask for one, "
                            "/libpod/containers/{name}/stats");
        else if (get && cut_is(&c, "showmounted"))
            refuse_route(r, "/libpod/containers/showmounted lists every mounted container");
        else
            object_route(r, &c, SCOPE_OBJ_CONTAINER);
    } else if (cut_at(&c, path, n, 7, "/networks")) {
        if (post && (cut_ends(&c, "/connect") || cut_ends(&c, "/disconnect")))
            refuse_route(r, "libpod's network connect and disconnect name a container in a body this proxy does "
                            "not read: use the Docker API (/networks/{name}/connect)");
        else if (!p->networks)
            return;
        else if (list_route(&c, get, post, "json"))
            r->what = SCOPE_LIST;
        else if (post && cut_is(&c, "create"))
            refuse_route(r, "libpod network creates are not scoped yet: use the Docker API (/networks/create)");
        else
            object_route(r, &c, SCOPE_OBJ_NETWORK);
    } else if (p->volumes && cut_at(&c, path, n, 7, "/volumes")) {
        if (list_route(&c, get, post, "json"))
            r->what = SCOPE_LIST;
        else if (post && cut_is(&c, "create"))
            refuse_route(r, "libpod volume creates are not scoped yet: use the Docker API (/volumes/create)");
        else
            object_route(r, &c, SCOPE_OBJ_VOLUME);
    }
}

void scope_route_of(const scope_policy *p, const char *method, size_t mlen, const char *path, size_t plen,
                    scope_route *r)
{
    memset(r, 0, sizeof(*r));
    r->what = SCOPE_PASS;
    if (!p || !p->nlabels)
        return;
    /* The fixed routes are matched without one trailing slash, as body_kind_of
     * reads them: a router with strict-slash redirects (or another daemon)
     * may read "/containers/create/" as "/containers/create". */
    cut c = {.path = path, .n = plen > 1 && path[plen - 1] == '/' ? plen - 1 : plen};
    if (c.n >= 7 && memcmp(path, "/libpod", 7) == 0 && (c.n == 7 || path[7] == '/'))
    {
        libpod_route(p, method, mlen, &c, r);
        r->libpod = r->what == SCOPE_LIST;
    } else
        docker_route(p, method, mlen, &c, r);
}

bool scope_form_body(const char *method, size_t mlen, const char *ctype, size_t ctlen)
{
    static const char *const forms[] = {"application/x-www-form-urlencoded", "multipart/form-data"};
    if (!method_is(method, mlen, "POST") && !method_is(method, mlen, "PUT") && !method_is(method, mlen, "PATCH"))
        return false;
    while (ctlen && (*ctype == ' ' || *ctype == '\t'))
        ctype++, ctlen--;
    size_t n = 0;
    while (n < ctlen && ctype[n] != ';')
        n++;
    while (n && (ctype[n - 1] == ' ' || ctype[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < 2; i++)
        if (n == strlen(forms[i]) && strncasecmp(ctype, forms[i], n) == 0)
            return true;
    return false;
}

/* ---- queries ----------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) as url.QueryUnescape ('+' is a space) into out
 * (cap bytes, NUL-terminated; out NULL only checks). Returns the decoded
 * length, -1 on a bad escape, -2 when it does not fit. */
static long query_unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    bool fits = true;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = hi << 4 | lo;
            i += 2;
        } else if (ch == '+') {
            ch = ' ';
        }
        if (out && o + 1 >= cap)
            fits = false;
        if (out && fits)
            out[o] = (char)ch;
        o++;
    }
    if (!out)
        return (long)o;
    if (!fits)
        return -2;
    out[o] = '\0';
    return (long)o;
}

/* One '&'-separated piece of a query. */
typedef struct qpair {
    const char *raw; /* the piece as given */
    size_t len;
    size_t klen;     /* its key: raw[0..klen), the value after the '=' (if any) */
} qpair;

/* The next piece of q[*pos..n) (empty ones too): 1 with it, 0 at the end. */
static int query_next(const char *q, size_t n, size_t *pos, qpair *pr)
{
    if (*pos > n || (n == 0 && *pos == 0))
        return 0;
    size_t s = *pos, e = s;
    while (e < n && q[e] != '&')
        e++;
    pr->raw = q + s;
    pr->len = e - s;
    pr->klen = 0;
    while (pr->klen < pr->len && pr->raw[pr->klen] != '=')
        pr->klen++;
    *pos = e + 1;
    return 1;
}

static const char *pair_value(const qpair *pr, size_t *vlen)
{
    *vlen = pr->klen < pr->len ? pr->len - pr->klen - 1 : 0;
    return pr->raw + (pr->klen < pr->len ? pr->klen + 1 : pr->len);
}

/* Whether the piece's key decodes to key exactly (url.Values.Get). */
static bool pair_key_is(const qpair *pr, const char *key)
{
    char buf[64];
    size_t kl = strlen(key);
    if (kl >= sizeof(buf) || pr->len == 0)
        return false;
    long d = query_unescape(pr->raw, pr->klen, buf, kl + 2);
    return d == (long)kl && memcmp(buf, key, kl) == 0;
}

/* url.ParseQuery's errors: a ';' in a piece, a bad escape in a key or value.
 * Returns NULL, or what is wrong. */
static const char *query_problem(const char *q, size_t n)
{
    qpair pr;
    size_t pos = 0, vlen;
    while (query_next(q, n, &pos, &pr)) {
        if (memchr(pr.raw, ';', pr.len))
            return "the query has a ';' separator, which Go refuses";
        const char *v = pair_value(&pr, &vlen);
        if (query_unescape(pr.raw, pr.klen, NULL, 0) < 0 || query_unescape(v, vlen, NULL, 0) < 0)
            return "the query has a bad %-escape";
    }
    return NULL;
}

/* Counts the pieces whose key is key; *found is the last. */
static unsigned query_find(const char *q, size_t n, const char *key, qpair *found)
{
    qpair pr;
    size_t pos = 0;
    unsigned count = 0;
    while (query_next(q, n, &pos, &pr))
        if (pair_key_is(&pr, key)) {
            *found = pr;
            count++;
        }
    return count;
}

int scope_query_param(const char *query, size_t qlen, const char *key, char *out, size_t cap)
{
    qpair pr = {0};
    size_t vlen;
    if (cap)
        out[0] = '\0';
    if (query_problem(query, qlen))
        return -1;
    unsigned count = query_find(query, qlen, key, &pr);
    if (count == 0)
        return 0;
    if (count > 1 || !cap)
        return -1;
    const char *v = pair_value(&pr, &vlen);
    return query_unescape(v, vlen, out, cap) < 0 ? -1 : 1;
}

/* ---- building targets ---------------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t len, cap;
    bool oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (n >= b->cap - b->len || !b->p) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len <= n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = true;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_str(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/* What a path keeps as it is: unreserved, sub-delims, ':', '@', '/'. */
static bool path_keeps(unsigned char c)
{
    return unreserved(c) || (c && strchr("!$&'()*+,;=:@/", c));
}

/* s[0..n), every byte that keep refuses written as %XX. */
static void put_escaped(buf *b, const char *s, size_t n, bool (*keep)(unsigned char))
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (keep(c))
            continue;
        put(b, s + run, i - run);
        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
        put(b, e, 3);
        run = i + 1;
    }
    put(b, s + run, n - run);
}

static int finish(buf *b, char **out, size_t *outlen)
{
    if (!b->oom && !b->p)
        put(b, "", 0);
    if (b->oom) {
        free(b->p);
        return -1;
    }
    *out = b->p;
    *outlen = b->len;
    return 0;
}

/* ---- filters ------------------------------------------------------------------ */

/* Reads the client's filters (text[0..len), decoded) as both of dockerd's
 * forms: *client is the object (NULL: no filters), *form 1 for the map of
 * booleans, 2 for the lists of strings. Returns 0 or 400 with why. */
static int filters_read(const char *text, size_t len, cJSON **client, char *why, size_t whycap)
{
    const char *w, *first = NULL;
    int form = 0;
    *client = NULL;
    if (len == 0)
        return 0;
    cJSON *top = gojson_parse(text, len, &w);
    if (!top)
        return say(why, whycap, 400, "filters %s", w);
    if (cJSON_IsNull(top)) {
        cJSON_Delete(top);
        return 0;
    }
    if (!cJSON_IsObject(top)) {
        cJSON_Delete(top);
        return say(why, whycap, 400, "filters is not a JSON object");
    }
    for (const cJSON *c = top->child; c; c = c->next) {
        int status = 0;
        for (const cJSON *d = top->child; d != c && !status; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                status = say(why, whycap, 400, "filters: \"%.60s\" is given twice (Go keeps the last)", c->string);
        int f = cJSON_IsObject(c) ? 1 : cJSON_IsArray(c) ? 2 : cJSON_IsNull(c) ? 0 : -1;
        if (!status && has_control(c->string, strlen(c->string)))
            status = say(why, whycap, 400, "filters: a key holds a control character");
        for (const cJSON *e = f > 0 ? c->child : NULL; e && !status && f > 0; e = e->next) {
            const char *s = f == 1 ? e->string : cJSON_IsString(e) ? e->valuestring : NULL;
            if (f == 1 ? !(cJSON_IsBool(e) || cJSON_IsNull(e)) : !s)
                f = -1;
            else if (has_control(s, strlen(s)))
                status = say(why, whycap, 400, "filters: a value of \"%.60s\" holds a control character", c->string);
        }
        if (!status && f < 0)
            status = say(why, whycap, 400, "filters: the value of \"%.60s\" is neither a list of strings nor a map "
                                           "of booleans", c->string);
        if (!status && f && form && f != form)
            status = say(why, whycap, 400, "filters: \"%.60s\" and \"%.60s\" mix the map form and the list form",
                         first, c->string);
        if (status) {
            cJSON_Delete(top);
            return status;
        }
        if (f && !form) {
            form = f;
            first = c->string;
        }
    }
    *client = top;
    return 0;
}

/* Adds value v to key's set in the output (a map of true, or a list). */
static bool filters_add(cJSON *set, bool libpod, const char *v)
{
    if (!libpod) {
        if (cJSON_GetObjectItemCaseSensitive(set, v))
            return true;
        cJSON *t = cJSON_CreateTrue();
        return t && cJSON_AddItemToObject(set, v, t);
    }
    for (const cJSON *e = set->child; e; e = e->next)
        if (strcmp(e->valuestring, v) == 0)
            return true;
    cJSON *s = cJSON_CreateString(v);
    return s && cJSON_AddItemToArray(set, s);
}

static cJSON *filters_key(cJSON *m, bool libpod, const char *key)
{
    cJSON *set = libpod ? cJSON_CreateArray() : cJSON_CreateObject();
    if (set && !cJSON_AddItemToObject(m, key, set)) {
        cJSON_Delete(set);
        return NULL;
    }
    return set;
}

static bool filters_ours(const scope_policy *p, cJSON *set, bool libpod)
{
    for (unsigned i = 0; i < p->nlabels; i++)
        if (!filters_add(set, libpod, p->label[i]))
            return false;
    return true;
}

/* The client's filters with the scope's labels in "label", every key in the
 * output form. A map's false or null entries: dockerd keeps the key either
 * way (written true); podman drops them (libpod: left out). NULL: memory. */
static cJSON *filters_merge(const scope_policy *p, bool libpod, const cJSON *client)
{
    cJSON *m = cJSON_CreateObject();
    bool ok = m != NULL, label = false;
    for (const cJSON *c = client ? client->child : NULL; c && ok; c = c->next) {
        bool is_label = strcmp(c->string, "label") == 0;
        if (cJSON_IsNull(c) && !is_label)
            continue; /* no filter for that key */
        cJSON *set = filters_key(m, libpod, c->string);
        ok = set != NULL;
        for (const cJSON *e = c->child; e && ok; e = e->next) {
            if (cJSON_IsObject(c) && libpod && !cJSON_IsTrue(e))
                continue;
            ok = filters_add(set, libpod, cJSON_IsObject(c) ? e->string : e->valuestring);
        }
        if (ok && is_label) {
            ok = filters_ours(p, set, libpod);
            label = true;
        }
    }
    if (ok && !label) {
        cJSON *set = filters_key(m, libpod, "label");
        ok = set && filters_ours(p, set, libpod);
    }
    if (!ok) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

/* The merged filters as JSON text (malloc'd), or NULL with *status 400
 * (why) or -1 (memory). */
static char *filters_text(const scope_policy *p, bool libpod, const char *raw, size_t rawlen, int *status,
                          char *why, size_t whycap)
{
    char *text = malloc(rawlen + 1);
    cJSON *client = NULL;
    *status = -1;
    if (!text)
        return NULL;
    long n = query_unescape(raw, rawlen, text, rawlen + 1);
    int st = n < 0 ? say(why, whycap, 400, "the filters parameter has a bad %%-escape")
                   : filters_read(text, (size_t)n, &client, why, whycap);
    free(text);
    if (st) {
        *status = st;
        return NULL;
    }
    cJSON *m = filters_merge(p, libpod, client);
    cJSON_Delete(client);
    char *json = m ? cJSON_PrintUnformatted(m) : NULL;
    cJSON_Delete(m);
    return json;
}

int scope_list_target(const scope_policy *p, bool libpod, const char *vprefix, size_t vlen, const char *path,
                      size_t plen, const char *query, size_t qlen, char **out, size_t *outlen, char *why,
                      size_t whycap)
{
    qpair pr, filters = {0};
    size_t pos = 0, fvlen = 0;
    const char *fv = NULL;
    int status;
    *out = NULL;
    *outlen = 0;
    if (whycap)
        why[0] = '\0';
    const char *problem = query_problem(query, qlen);
    if (problem)
        return say(why, whycap, 400, "%s", problem);
    unsigned count = query_find(query, qlen, "filters", &filters);
    if (count > 1)
        return say(why, whycap, 400, "the filters parameter is given %u times", count);
    if (count)
        fv = pair_value(&filters, &fvlen);
    char *json = filters_text(p, libpod, fv ? fv : "", fvlen, &status, why, whycap);
    if (!json)
        return status;
    buf b = {0};
    put(&b, vprefix, vlen);
    put_escaped(&b, path, plen, path_keeps);
    put(&b, "?", 1);
    bool first = true;
    while (query_next(query, qlen, &pos, &pr)) {
        if (!first)
            put(&b, "&", 1);
        first = false;
        if (count && pr.raw == filters.raw) {
            put_str(&b, "filters=");
            put_escaped(&b, json, strlen(json), unreserved);
        } else {
            put(&b, pr.raw, pr.len);
        }
    }
    if (!count) {
        put_str(&b, first ? "filters=" : "&filters=");
        put_escaped(&b, json, strlen(json), unreserved);
    }
    free(json);
    return finish(&b, out, outlen);
}

/* ---- objects --------------------------------------------------------------------- */

int scope_lookup_target(scope_object obj, const char *name, size_t nlen, char *out, size_t cap)
{
    static const char *const pre[] = {[SCOPE_OBJ_CONTAINER] = "/containers/", [SCOPE_OBJ_EXEC] = "/exec/",
                                      [SCOPE_OBJ_NETWORK] = "/networks/", [SCOPE_OBJ_VOLUME] = "/volumes/"};
    static const char *const suf[] = {[SCOPE_OBJ_CONTAINER] = "/json", [SCOPE_OBJ_EXEC] = "/json",
                                      [SCOPE_OBJ_NETWORK] = "", [SCOPE_OBJ_VOLUME] = ""};
    if (obj <= SCOPE_OBJ_NONE || obj > SCOPE_OBJ_VOLUME || nlen == 0)
        return -1;
    buf b = {0};
    put_str(&b, pre[obj]);
    put_escaped(&b, name, nlen, unreserved);
    put_str(&b, suf[obj]);
    int n = -1;
    if (!b.oom && b.len < cap && b.len < INT32_MAX) {
        memcpy(out, b.p, b.len + 1);
        n = (int)b.len;
    }
    free(b.p);
    return n;
}

/* Every scope label in labels (a JSON object of strings), with its value. */
static bool labels_match(const scope_policy *p, const cJSON *labels)
{
    if (!cJSON_IsObject(labels))
        return false;
    for (unsigned i = 0; i < p->nlabels; i++) {
        char key[SCOPE_LABEL_MAX];
        memcpy(key, p->label[i], p->keylen[i]);
        key[p->keylen[i]] = '\0';
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, key);
        if (!cJSON_IsString(v) || strcmp(v->valuestring, p->label[i] + p->keylen[i] + 1) != 0)
            return false;
    }
    return true;
}

int scope_answer(const scope_policy *p, scope_object obj, const char *body, size_t len, char *id, size_t idcap)
{
    static const char *const idkey[] = {[SCOPE_OBJ_CONTAINER] = "Id", [SCOPE_OBJ_EXEC] = "ContainerID",
                                        [SCOPE_OBJ_NETWORK] = "Id", [SCOPE_OBJ_VOLUME] = "Name"};
    if (idcap)
        id[0] = '\0';
    /* cJSON ends a string at "\u0000", where the daemon's label goes on. */
    if (obj <= SCOPE_OBJ_NONE || obj > SCOPE_OBJ_VOLUME || !idcap || memmem(body, len, "\\u0000", 6))
        return -1;
    cJSON *top = cJSON_ParseWithLength(body, len);
    const cJSON *ident = cJSON_GetObjectItemCaseSensitive(top, idkey[obj]);
    int r = -1;
    if (cJSON_IsObject(top) && cJSON_IsString(ident) && *ident->valuestring && strlen(ident->valuestring) < idcap) {
        memcpy(id, ident->valuestring, strlen(ident->valuestring) + 1);
        const cJSON *holder = obj == SCOPE_OBJ_CONTAINER ? cJSON_GetObjectItemCaseSensitive(top, "Config") : top;
        r = obj == SCOPE_OBJ_EXEC || labels_match(p, cJSON_GetObjectItemCaseSensitive(holder, "Labels"));
    }
    cJSON_Delete(top);
    return r;
}

int scope_object_target(const scope_route *r, const char *vprefix, size_t vlen, const char *path, size_t plen,
                        const char *query, size_t qlen, const char *id, char **out, size_t *outlen)
{
    buf b = {0};
    *out = NULL;
    *outlen = 0;
    put(&b, vprefix, vlen);
    if (!r->query_key && r->seg_len && r->seg_off + r->seg_len <= plen) {
        put_escaped(&b, path, r->seg_off, path_keeps);
        put_escaped(&b, id, strlen(id), path_keeps);
        put_escaped(&b, path + r->seg_off + r->seg_len, plen - r->seg_off - r->seg_len, path_keeps);
    } else {
        put_escaped(&b, path, plen, path_keeps);
    }
    if (!r->query_key) {
        if (qlen) {
            put(&b, "?", 1);
            put(&b, query, qlen);
        }
        return finish(&b, out, outlen);
    }
    /* The parameter's value, everywhere it is given, is the checked ID. */
    qpair pr;
    size_t pos = 0;
    bool first = true, seen = false;
    put(&b, "?", 1);
    while (query_next(query, qlen, &pos, &pr)) {
        if (!first)
            put(&b, "&", 1);
        first = false;
        if (pair_key_is(&pr, r->query_key)) {
            put(&b, pr.raw, pr.klen);
            put(&b, "=", 1);
            put_escaped(&b, id, strlen(id), unreserved);
            seen = true;
        } else {
            put(&b, pr.raw, pr.len);
        }
    }
    if (!seen) {
        put_str(&b, first ? "" : "&");
        put_str(&b, r->query_key);
        put(&b, "=", 1);
        put_escaped(&b, id, strlen(id), unreserved);
    }
    return finish(&b, out, outlen);
}

/* ---- bodies ------------------------------------------------------------------------- */

typedef struct reader {
    const scope_policy *p;
    scope_refs *refs;
    char *why;
    size_t whycap;
    int status;
} reader;

/* Sets the status; returns false so that callers can `return fail(...)`. */
static bool fail(reader *r, int status, const char *fmt, ...)
{
    if (r->whycap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->why, r->whycap, fmt, ap);
        va_end(ap);
    }
    r->status = status;
    return false;
}

static bool add_ref(reader *r, scope_object obj, const char *name, size_t n, const char *where)
{
    scope_refs *refs = r->refs;
    if (n == 0)
        return fail(r, 400, "%s names no object", where);
    if (n >= sizeof(refs->ref[0].name))
        return fail(r, 400, "%s names an object with a name of %zu bytes", where, n);
    for (unsigned i = 0; i < refs->n; i++)
        if (refs->ref[i].obj == obj && strlen(refs->ref[i].name) == n && memcmp(refs->ref[i].name, name, n) == 0)
            return true;
    if (refs->n == SCOPE_MAX_REFS)
        return fail(r, 403, "the body names more than %d objects to check (%s)", SCOPE_MAX_REFS, where);
    refs->ref[refs->n].obj = obj;
    memcpy(refs->ref[refs->n].name, name, n);
    refs->ref[refs->n].name[n] = '\0';
    refs->ref[refs->n++].where = where;
    return true;
}

/* The member Go decodes into field name of o, of JSON type type (cJSON_String,
 * cJSON_Array of strings with strings, cJSON_Array, cJSON_Object); NULL when
 * absent or null. */
static bool member(reader *r, const cJSON *o, const char *where, const char *name, int type, bool strings,
                const cJSON **out)
{
    static const char *const what[] = {[cJSON_String] = "a string", [cJSON_Array] = "an array",
                                       [cJSON_Object] = "an object"};
    if (gojson_field(o, name, out) < 0)
        return fail(r, 400, "%s%s appears twice (keys match case-insensitively)", where, name);
    if (*out && ((*out)->type & 0xFF) != type)
        return fail(r, 400, "%s%s is not %s", where, name, what[type]);
    for (const cJSON *e = *out && strings ? (*out)->child : NULL; e; e = e->next)
        if (!cJSON_IsString(e))
            return fail(r, 400, "%s%s is not an array of strings", where, name);
    return true;
}

/* Where a reference was found: the names at the top of a create body (the
 * deprecated HostConfig fields) or in a HostConfig. */
enum { W_VOLUMESFROM, W_LINKS, W_NETWORKMODE, W_PIDMODE, W_IPCMODE, W_BINDS, W_MOUNTS, W_COUNT };
static const char *const wheres[2][W_COUNT] = {
    {"VolumesFrom", "Links", "NetworkMode", "PidMode", "IpcMode", "Binds", "Mounts"},
    {"HostConfig.VolumesFrom", "HostConfig.Links", "HostConfig.NetworkMode", "HostConfig.PidMode",
     "HostConfig.IpcMode", "HostConfig.Binds", "HostConfig.Mounts"},
};

/* A link, as opts.ParseLink reads it: "name", or "name:alias" where one
 * leading '/' of the name is dropped ("/web:/app/web" from an inspect). */
static bool link_ref(reader *r, const char *where, const char *l)
{
    const char *colon = strchr(l, ':');
    if (!*l || (colon && strchr(colon + 1, ':')))
        return fail(r, 400, "%s entry \"%.60s\" is not name:alias", where, l);
    if (!colon)
        return add_ref(r, SCOPE_OBJ_CONTAINER, l, strlen(l), where);
    size_t skip = l[0] == '/';
    return add_ref(r, SCOPE_OBJ_CONTAINER, l + skip, (size_t)(colon - l) - skip, where);
}

static bool links_ref(reader *r, const cJSON *o, const char *where, const char *name, const char *refwhere)
{
    const cJSON *a;
    if (!member(r, o, where, name, cJSON_Array, true, &a))
        return false;
    for (const cJSON *e = a ? a->child : NULL; e; e = e->next)
        if (!link_ref(r, refwhere, e->valuestring))
            return false;
    return true;
}

/* NetworkMode, PidMode, IpcMode: "container:<name>" joins that container's
 * namespace (dockerd reads the prefix in lower case only; another case is
 * refused rather than guessed). A NetworkMode may name a network. */
static bool mode_ref(reader *r, const cJSON *hc, const char *where, int at, int w, const char *name)
{
    const cJSON *m;
    if (!member(r, hc, where, name, cJSON_String, false, &m))
        return false;
    const char *s = m ? m->valuestring : "";
    if (strncmp(s, "container:", 10) == 0)
        return add_ref(r, SCOPE_OBJ_CONTAINER, s + 10, strlen(s + 10), wheres[at][w]);
    if (strncasecmp(s, "container:", 10) == 0)
        return fail(r, 400, "%s%s \"%.60s\": dockerd reads container: in lower case only", where, name, s);
    static const char *const builtin[] = {"", "bridge", "default", "host", "none"};
    if (w != W_NETWORKMODE || !r->p->networks)
        return true;
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        if (strcmp(s, builtin[i]) == 0)
            return true;
    return add_ref(r, SCOPE_OBJ_NETWORK, s, strlen(s), wheres[at][w]);
}

/* Named volumes: a Binds source that is not an absolute path, a Mounts
 * entry of type volume with a source. */
static bool volume_refs(reader *r, const cJSON *hc, const char *where, int at)
{
    const cJSON *a;
    char w[48];
    if (!member(r, hc, where, "Binds", cJSON_Array, true, &a))
        return false;
    for (const cJSON *e = a ? a->child : NULL; e; e = e->next) {
        const char *b = e->valuestring, *colon = strchr(b, ':');
        if (colon && b[0] != '/' && !add_ref(r, SCOPE_OBJ_VOLUME, b, (size_t)(colon - b), wheres[at][W_BINDS]))
            return false;
    }
    if (!member(r, hc, where, "Mounts", cJSON_Array, false, &a))
        return false;
    snprintf(w, sizeof(w), "%sMounts[].", where);
    for (const cJSON *m = a ? a->child : NULL; m; m = m->next) {
        const cJSON *type, *source;
        if (!cJSON_IsObject(m))
            return fail(r, 400, "%sMounts entry is not an object", where);
        if (!member(r, m, w, "Type", cJSON_String, false, &type) || !member(r, m, w, "Source", cJSON_String, false, &source))
            return false;
        if (type && strcasecmp(type->valuestring, "volume") == 0 && source && *source->valuestring &&
            !add_ref(r, SCOPE_OBJ_VOLUME, source->valuestring, strlen(source->valuestring), wheres[at][W_MOUNTS]))
            return false;
    }
    return true;
}

/* The references of a HostConfig (at 1), or of a create body's top level,
 * where dockerd reads the deprecated HostConfig fields (at 0). */
static bool hostconfig_refs(reader *r, const cJSON *hc, int at)
{
    const char *where = at ? "HostConfig." : "";
    const cJSON *a;
    if (!member(r, hc, where, "VolumesFrom", cJSON_Array, true, &a))
        return false;
    for (const cJSON *e = a ? a->child : NULL; e; e = e->next) {
        const char *colon = strchr(e->valuestring, ':');
        size_t n = colon ? (size_t)(colon - e->valuestring) : strlen(e->valuestring);
        if (!add_ref(r, SCOPE_OBJ_CONTAINER, e->valuestring, n, wheres[at][W_VOLUMESFROM]))
            return false;
    }
    if (!links_ref(r, hc, where, "Links", wheres[at][W_LINKS]) ||
        !mode_ref(r, hc, where, at, W_NETWORKMODE, "NetworkMode") || !mode_ref(r, hc, where, at, W_PIDMODE, "PidMode") ||
        !mode_ref(r, hc, where, at, W_IPCMODE, "IpcMode"))
        return false;
    return !r->p->volumes || volume_refs(r, hc, where, at);
}

/* NetworkingConfig.EndpointsConfig: its keys name networks, its Links containers. */
static bool endpoints_refs(reader *r, const cJSON *top)
{
    static const char *const builtin[] = {"bridge", "default", "host", "none"};
    const cJSON *nc, *ec;
    if (!member(r, top, "", "NetworkingConfig", cJSON_Object, false, &nc) ||
        (nc && !member(r, nc, "NetworkingConfig.", "EndpointsConfig", cJSON_Object, false, &ec)))
        return false;
    for (const cJSON *e = nc && ec ? ec->child : NULL; e; e = e->next) {
        bool named = r->p->networks;
        for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
            named = named && strcmp(e->string, builtin[i]) != 0;
        if (named && !add_ref(r, SCOPE_OBJ_NETWORK, e->string, strlen(e->string), "NetworkingConfig.EndpointsConfig"))
            return false;
        if (cJSON_IsNull(e))
            continue;
        if (!cJSON_IsObject(e))
            return fail(r, 400, "NetworkingConfig.EndpointsConfig.%.60s is not an object", e->string);
        if (!links_ref(r, e, "NetworkingConfig.EndpointsConfig.*.", "Links", "NetworkingConfig.EndpointsConfig.Links"))
            return false;
    }
    return true;
}

/* SCOPE_OWN: every member Go folds to "Labels" (it merges them into one map)
 * is an object of strings, and none gives a scope key another value. */
static bool own_labels(reader *r, const cJSON *top)
{
    const scope_policy *p = r->p;
    for (const cJSON *c = top->child; c; c = c->next) {
        if (!c->string || !gojson_key_is(c->string, "Labels") || cJSON_IsNull(c))
            continue;
        if (!cJSON_IsObject(c))
            return fail(r, 400, "%.20s is not an object", c->string);
        for (const cJSON *l = c->child; l; l = l->next) {
            if (!cJSON_IsString(l))
                return fail(r, 400, "%.20s.%.60s is not a string", c->string, l->string);
            for (unsigned i = 0; i < p->nlabels; i++) {
                const char *want = p->label[i] + p->keylen[i] + 1;
                if (strlen(l->string) == p->keylen[i] && memcmp(l->string, p->label[i], p->keylen[i]) == 0 &&
                    strcmp(l->valuestring, want) != 0)
                    return fail(r, 403, "%.20s sets %s=%.60s; this profile's scope is %s", c->string, l->string,
                                l->valuestring, p->label[i]);
            }
        }
    }
    return true;
}

static bool body_refs(reader *r, scope_body_kind k, const cJSON *top)
{
    const cJSON *hc, *c;
    switch (k) {
    case SCOPE_BODY_CREATE_CONTAINER:
        if (!hostconfig_refs(r, top, 0) || !member(r, top, "", "HostConfig", cJSON_Object, false, &hc) ||
            (hc && !hostconfig_refs(r, hc, 1)) || !endpoints_refs(r, top))
            return false;
        break;
    case SCOPE_BODY_CREATE_NETWORK:
        /* a network made from a config-only one reads that one's configuration */
        if (!member(r, top, "", "ConfigFrom", cJSON_Object, false, &hc) ||
            (hc && !member(r, hc, "ConfigFrom.", "Network", cJSON_String, false, &c)))
            return false;
        if (hc && c && *c->valuestring && r->p->networks &&
            !add_ref(r, SCOPE_OBJ_NETWORK, c->valuestring, strlen(c->valuestring), "ConfigFrom.Network"))
            return false;
        break;
    case SCOPE_BODY_CONNECT:
        if (!member(r, top, "", "Container", cJSON_String, false, &c))
            return false;
        if (!c || !*c->valuestring)
            return fail(r, 400, "Container is missing or empty");
        if (!add_ref(r, SCOPE_OBJ_CONTAINER, c->valuestring, strlen(c->valuestring), "Container") ||
            !member(r, top, "", "EndpointConfig", cJSON_Object, false, &hc) ||
            (hc && !links_ref(r, hc, "EndpointConfig.", "Links", "EndpointConfig.Links")))
            return false;
        break;
    case SCOPE_BODY_HOSTCONFIG:
        return hostconfig_refs(r, top, 1);
    default:
        break;
    }
    return !r->p->own || k == SCOPE_BODY_CONNECT || own_labels(r, top);
}

static bool create_kind(scope_body_kind k)
{
    return k == SCOPE_BODY_CREATE_CONTAINER || k == SCOPE_BODY_CREATE_NETWORK || k == SCOPE_BODY_CREATE_VOLUME;
}

int scope_body(const scope_policy *p, scope_body_kind k, const char *body, size_t len, scope_refs *refs, char *why,
               size_t whycap)
{
    reader r = {p, refs, why, whycap, 0};
    const char *w;
    refs->n = 0;
    if (whycap)
        why[0] = '\0';
    if (k == SCOPE_BODY_NONE || len == 0 || !p->nlabels)
        return 0;
    cJSON *top = gojson_parse(body, len, &w);
    if (!top)
        return say(why, whycap, 400, "the body %s", w);
    if (cJSON_IsNull(top) && p->own && create_kind(k))
        fail(&r, 400, "the body is null: with SCOPE_OWN a create body is a JSON object, for the scope's labels");
    else if (!cJSON_IsNull(top) && !cJSON_IsObject(top))
        fail(&r, 400, "the body is not a JSON object");
    else if (cJSON_IsObject(top))
        body_refs(&r, k, top);
    cJSON_Delete(top);
    if (r.status)
        refs->n = 0;
    return r.status;
}

/* A JSON string of s, escaped as JSON requires. */
static void put_json_string(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(b, e, 2);
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(b, e, 6);
        } else {
            put(b, s + i, 1);
        }
    }
    put(b, "\"", 1);
}

int scope_add_labels(const scope_policy *p, const char *body, size_t len, char **out, size_t *outlen)
{
    const char *w;
    *out = NULL;
    *outlen = 0;
    cJSON *top = len ? gojson_parse(body, len, &w) : NULL;
    bool object = cJSON_IsObject(top), empty = object && !top->child;
    cJSON_Delete(top);
    if (!object)
        return -1;
    size_t end = len;
    while (end && body[end - 1] != '}')
        end--;
    if (!end)
        return -1;
    end--;
    buf b = {0};
    put(&b, body, end);
    put_str(&b, empty ? "\"Labels\":{" : ",\"Labels\":{");
    for (unsigned i = 0; i < p->nlabels; i++) {
        if (i)
            put(&b, ",", 1);
        put_json_string(&b, p->label[i], p->keylen[i]);
        put(&b, ":", 1);
        put_json_string(&b, p->label[i] + p->keylen[i] + 1, strlen(p->label[i] + p->keylen[i] + 1));
    }
    put(&b, "}", 1);
    put(&b, body + end, len - end);
    return finish(&b, out, outlen);
}
