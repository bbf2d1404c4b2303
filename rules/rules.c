/* Variables, compilation and the decision. See rules.h. */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "path.h"

static const struct {
    const char *name;
    int def;
    const char *what;
} vars[RV_COUNT] = {
#define X(name, def, what) {#name, def, what},
    RULES_VARS(X)
#undef X
};

const char *rules_var_name(int var) { return var >= 0 && var < RV_COUNT ? vars[var].name : NULL; }
int rules_var_default(int var) { return vars[var].def; }

const char *rules_var_follows(int var)
{
    return vars[var].def == -1 ? "CONTAINERS" : vars[var].def == -2 ? "POST" : NULL;
}
const char *rules_var_what(int var) { return vars[var].what; }

/* The value of variable `name` in src: the environment's, else the
 * preset's (1 or 0), else NULL. An empty value counts as unset. */
static const char *source_value(const rules_source *src, int var, const char *name, rules_set *r)
{
    const char *v = src->get(name);
    if (v && !*v) {
        r->empty_ |= RBIT(var);
        v = NULL;
    }
    if (v) {
        r->explicit_ |= RBIT(var);
        return v;
    }
    int p = r->preset >= 0 ? rules_preset_value(r->preset, var) : -1;
    if (p < 0)
        return NULL;
    r->preset_ |= RBIT(var);
    return p ? "1" : "0";
}

static int set_preset(rules_set *r, const rules_source *src, char *err, size_t errlen)
{
    r->preset = -1;
    if (!src->preset || !*src->preset)
        return 0;
    r->preset = rules_preset_find(src->preset);
    if (r->preset >= 0)
        return 0;
    char list[512];
    rules_preset_list(list, sizeof(list));
    snprintf(err, errlen, "%s=\"%s\" is not a preset: use one of %s", src->preset_var ? src->preset_var : "PRESET",
             src->preset, list);
    return -1;
}

int rules_compile_source(rules_set *r, const rules_source *src, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->prefix, sizeof(r->prefix), "%s", src->prefix ? src->prefix : "");
    if (set_preset(r, src, err, errlen) < 0)
        return -1;
    int tri[RV_COUNT];
    char name[96];
    for (int i = 0; i < RV_COUNT; i++) {
        snprintf(name, sizeof(name), "%s%s", r->prefix, vars[i].name);
        const char *v = source_value(src, i, name, r);
        tri[i] = v ? rules_parse_bool(v) : vars[i].def;
        if (v && tri[i] < 0) {
            snprintf(err, errlen, "%s=\"%s\" is not a boolean: use 1, true, yes, on to grant or 0, false, no, off to deny",
                     name, v);
            return -1;
        }
    }
    for (int i = 0; i < RV_COUNT; i++) {
        int b = tri[i] == -1 ? tri[RV_CONTAINERS] : tri[i] == -2 ? tri[RV_POST] : tri[i];
        if (b)
            r->granted |= RBIT(i);
    }
    r->body.privileged = r->granted & RBIT(RV_ALLOW_PRIVILEGED);
    r->body.host_namespaces = r->granted & RBIT(RV_ALLOW_HOST_NAMESPACES);
    r->body.capabilities = r->granted & RBIT(RV_ALLOW_CAPABILITIES);
    r->body.devices = r->granted & RBIT(RV_ALLOW_DEVICES);
    snprintf(name, sizeof(name), "%sALLOW_BINDS", r->prefix);
    if (body_policy_binds(&r->body, name, src->get(name), err, errlen) < 0)
        return -1;
    if (scope_policy_compile(&r->scope, r->prefix, src->get, err, errlen) < 0)
        return -1;
    snprintf(name, sizeof(name), "%sAPI_KEY", r->prefix);
    const char *key = src->get(name);
    r->api_key = key && *key ? key : NULL;
    if (r->api_key)
        for (const char *p = r->api_key; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                snprintf(err, errlen, "%s holds a control character: use printable characters only", name);
                return -1;
            }
    return 0;
}

int rules_compile(rules_set *r, const char *(*get)(const char *name), char *err, size_t errlen)
{
    rules_source src = {.get = get};
    return rules_compile_source(r, &src, err, errlen);
}

/* ---- look-alike warnings ---- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(size_t) * (lb + 1));
    }
    return prev[lb];
}

/* Keeps the closest of our names to name (n bytes) in *best. */
static void closest(const char *name, size_t n, const char *k, bool suffix_ok, const char **best, size_t *best_d)
{
    size_t d = strcasecmp(name, k) == 0 ? 0 : edit_distance(name, k);
    size_t kl = strlen(k);
    /* LOGS -> ALLOW_LOGS, PODS -> LIBPOD_PODS */
    if (suffix_ok && kl > n && k[kl - n - 1] == '_' && strcasecmp(k + kl - n, name) == 0)
        d = 1;
    if (d < *best_d) {
        *best_d = d;
        *best = k;
    }
}

static bool in_list(const char *name, const char *const *list)
{
    for (; list && *list; list++)
        if (strcmp(name, *list) == 0)
            return true;
    return false;
}

/* The variables of label scoping (rules/scope.c reads them). */
static const char *const scope_vars[] = {"SCOPE_LABEL", "SCOPE_NETWORKS", "SCOPE_VOLUMES", "SCOPE_OWN", NULL};

/* One of ours: a rules variable, API_KEY, ALLOW_BINDS, a scope variable, or one of extra. */
static bool ours(const char *name, const char *const *extra)
{
    for (int i = 0; i < RV_COUNT; i++)
        if (strcmp(name, vars[i].name) == 0)
            return true;
    return strcmp(name, "API_KEY") == 0 || strcmp(name, "ALLOW_BINDS") == 0 || in_list(name, scope_vars) ||
           in_list(name, extra);
}

/* Our name closest to name, if it is close enough to be a typo. */
static const char *look_alike(const char *name, const char *const *extra)
{
    size_t n = strlen(name), best_d = 99;
    const char *best = NULL;
    for (int i = 0; i < RV_COUNT; i++)
        closest(name, n, vars[i].name, true, &best, &best_d);
    closest(name, n, "API_KEY", false, &best, &best_d);
    closest(name, n, "ALLOW_BINDS", false, &best, &best_d);
    for (const char *const *o = scope_vars; *o; o++)
        closest(name, n, *o, false, &best, &best_d);
    for (const char *const *o = extra; o && *o; o++)
        closest(name, n, *o, false, &best, &best_d);
    return best && best_d <= (n >= 6 ? 2u : 1u) ? best : NULL;
}

/* Where PREFIX__NAME's prefix ends: after the longest profile prefix name
 * starts with (profiles a and a_ read A__ and A___), else after its first
 * "__"; 0 for none. */
static size_t profile_cut(const char *name, const rules_lint_opts *l)
{
    size_t best = 0;
    for (const char *const *p = l->profile_prefixes; p && *p; p++) {
        size_t n = strlen(*p);
        if (n > best && strncmp(name, *p, n) == 0 && name[n])
            best = n;
    }
    const char *cut = strstr(name, "__");
    if (!best && cut && cut > name && cut[2])
        best = (size_t)(cut - name) + 2;
    return best;
}

/* A profile's variable PREFIX__NAME: the name is checked against the
 * profile's variables whatever its value (everything under a profile's
 * prefix is ours: TRAEFIK__ALLOW_FORM=traefik would admit anyone), a
 * server-wide variable is said to need no prefix, and a prefix no profile
 * has is reported when the name is one of them (TRAFIK__CONTAINERS=1 for
 * profile traefik). */
static void lint_profile_var(const char *name, size_t cut, const rules_lint_opts *l, char *line, size_t cap,
                             bool *said)
{
    char prefix[64];
    const char *rest = name + cut;
    snprintf(prefix, sizeof(prefix), "%.*s", (int)cut, name);
    if (in_list(prefix, l->profile_prefixes)) {
        if (ours(rest, l->profile_names))
            return;
        bool server_wide = in_list(rest, l->extra_names);
        const char *best = server_wide ? NULL : look_alike(rest, l->profile_names);
        if (best)
            snprintf(line, cap, "%s is not a socket-proxy variable and is ignored; did you mean %s%s?", name, prefix, best);
        else if (server_wide)
            snprintf(line, cap, "%s is ignored: %s is set for the whole proxy, without a profile's prefix", name, rest);
        *said = best || server_wide;
        return;
    }
    if (!ours(rest, l->profile_names))
        return;
    for (char *p = prefix; *p; p++)
        *p = *p == '_' ? '-' : (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    prefix[cut - 2] = '\0';
    snprintf(line, cap, "%s is ignored: no profile %s (SOCKET_PROXY_PROFILES=%s)", name, prefix,
             l->profiles_text && *l->profiles_text ? l->profiles_text : "");
    *said = true;
}

void rules_lint(char *const *env, const rules_lint_opts *l, void (*warn)(void *ctx, const char *line), void *ctx)
{
    for (; env && *env; env++) {
        const char *eq = strchr(*env, '=');
        char name[128], line[400];
        size_t n = eq ? (size_t)(eq - *env) : 0;
        if (!eq || n == 0 || n >= sizeof(name))
            continue;
        memcpy(name, *env, n);
        name[n] = '\0';
        size_t cut = profile_cut(name, l);
        bool said = false;
        if (cut) {
            lint_profile_var(name, cut, l, line, sizeof(line), &said);
        } else if (!ours(name, l->extra_names) &&
                   /* Other programs' variables rarely hold a boolean; SOCKET_PROXY_ is our prefix. */
                   (rules_parse_bool(eq + 1) >= 0 || strncmp(name, "SOCKET_PROXY_", 13) == 0)) {
            const char *best = look_alike(name, l->extra_names);
            if (best)
                snprintf(line, sizeof(line), "%s is not a socket-proxy variable and is ignored; did you mean %s?", name,
                         best);
            said = best != NULL;
        }
        if (said)
            warn(ctx, line);
    }
}

void rules_lint_env(char *const *env, const char *const *extra_names, void (*warn)(void *ctx, const char *line),
                    void *ctx)
{
    rules_lint_opts l = {.extra_names = extra_names};
    rules_lint(env, &l, warn, ctx);
}

/* ---- the decision ---- */

typedef struct {
    const char *name;
    unsigned char len;
    unsigned char var;
} section;

#define S(n, v) {n, sizeof(n) - 1, RV_##v}
static const section docker_sections[] = {
    S("containers", CONTAINERS), S("images", IMAGES), S("_ping", PING), S("version", VERSION),
    S("events", EVENTS), S("info", INFO), S("networks", NETWORKS), S("volumes", VOLUMES),
    S("exec", EXEC), S("services", SERVICES), S("tasks", TASKS), S("nodes", NODES),
    S("swarm", SWARM), S("secrets", SECRETS), S("configs", CONFIGS), S("plugins", PLUGINS),
    S("system", SYSTEM), S("build", BUILD), S("commit", COMMIT), S("auth", AUTH),
    S("distribution", DISTRIBUTION), S("session", SESSION), S("grpc", GRPC), {NULL, 0, 0},
};
static const section libpod_sections[] = {
    S("_ping", LIBPOD_PING), S("version", LIBPOD_VERSION), S("events", LIBPOD_EVENTS),
    S("info", LIBPOD_INFO), S("containers", LIBPOD_CONTAINERS), S("images", LIBPOD_IMAGES),
    S("networks", LIBPOD_NETWORKS), S("volumes", LIBPOD_VOLUMES), S("pods", LIBPOD_PODS),
    S("exec", LIBPOD_EXEC), S("system", LIBPOD_SYSTEM), S("secrets", LIBPOD_SECRETS),
    S("manifests", LIBPOD_MANIFESTS), S("build", LIBPOD_BUILD), S("commit", LIBPOD_COMMIT),
    S("generate", LIBPOD_GENERATE), S("play", LIBPOD_PLAY), S("kube", LIBPOD_PLAY), {NULL, 0, 0},
};
#undef S

static bool seg_is(const char *p, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(p, word, n) == 0;
}

/* What one reading of a path needs: all of `need`, or (when non-zero) all of
 * `alt`; and how its answer behaves. */
typedef struct {
    rules_mask need, alt;
    unsigned flags;
} reading;

/* Methods as dockerd's router tells routes apart. HEAD reads like GET here:
 * where a router serves HEAD through the GET route (Go's http.ServeMux, other
 * daemons), the stricter reading decides. */
enum { M_GET = 1, M_HEAD = 2, M_POST = 4, M_PUT = 8, M_DELETE = 16, M_OPTIONS = 32, M_OTHER = 64 };
#define M_READ (M_GET | M_HEAD)

static int method_bit(const char *m, size_t n)
{
    if (n == 3 && memcmp(m, "GET", 3) == 0)
        return M_GET;
    if (n == 4 && memcmp(m, "HEAD", 4) == 0)
        return M_HEAD;
    if (n == 4 && memcmp(m, "POST", 4) == 0)
        return M_POST;
    if (n == 3 && memcmp(m, "PUT", 3) == 0)
        return M_PUT;
    if (n == 6 && memcmp(m, "DELETE", 6) == 0)
        return M_DELETE;
    if (n == 7 && memcmp(m, "OPTIONS", 7) == 0)
        return M_OPTIONS;
    return M_OTHER;
}

/* The path after the section: its last segment (the action, since mux
 * routes capture names with {name:.*}, so the route is decided by the
 * path's end), and how many segments follow the section. */
typedef struct {
    const char *rest; /* "" or "/..." after the section */
    const char *last;
    size_t last_n;
    int nrest;
} tail;

static tail tail_of(const char *rest, const char *end)
{
    tail t = {.rest = rest};
    const char *last = end;
    while (last > rest && last[-1] != '/')
        last--;
    t.last = last;
    t.last_n = (size_t)(end - last);
    for (const char *q = rest; q < end; q++)
        t.nrest += *q == '/';
    if (t.nrest > 0 && t.last_n == 0)
        t.nrest--; /* "/containers/" names nothing */
    return t;
}

static bool last_is(const tail *t, int min_rest, const char *word)
{
    return t->nrest >= min_rest && seg_is(t->last, t->last_n, word);
}

/* The action a path's last segment names, for the methods dockerd routes to
 * that action (from its route table, 20.10 to current). For any other
 * method the path is the object itself: DELETE /containers/web/exec removes
 * the container "web/exec", DELETE /images/team/get removes an image.
 * Returns false when the path names no action for this method. */
static bool action_reading(const rules_set *r, int var, bool libpod, int m, const tail *t, reading *a)
{
    rules_mask write = (m & M_READ) ? 0 : RBIT(RV_POST);
    rules_mask base = RBIT(var) | write;
    memset(a, 0, sizeof(*a));
    if (var == RV_CONTAINERS || var == RV_LIBPOD_CONTAINERS) {
        rules_mask c = RBIT(var);
        if ((m & M_READ) && last_is(t, 2, "export")) {
            a->need = c | RBIT(RV_ALLOW_EXPORT);
        } else if (((m & (M_READ | M_PUT)) && last_is(t, 2, "archive")) || (m == M_POST && last_is(t, 2, "copy"))) {
            /* POST .../copy: the archive download of API versions below 1.24 */
            a->need = c | RBIT(RV_ALLOW_ARCHIVE) | write;
        } else if ((m & M_READ) && last_is(t, 3, "ws") && t->last - t->rest >= 9 &&
                   memcmp(t->last - 8, "/attach/", 8) == 0) {
            /* a websocket carries stdin: a write, whatever its method */
            a->need = c | RBIT(RV_POST);
            a->flags = RULES_F_STREAM | RULES_F_HIJACK;
        } else if (m == M_POST && last_is(t, 2, "exec")) {
            a->need = RBIT(libpod ? RV_LIBPOD_EXEC : RV_EXEC) | write;
        } else if (!libpod && m == M_POST && last_is(t, 2, "start")) {
            a->need = RBIT(RV_ALLOW_START), a->alt = base;
        } else if (!libpod && m == M_POST && last_is(t, 2, "stop")) {
            a->need = RBIT(r->granted & RBIT(RV_ALLOW_RESTARTS) ? RV_ALLOW_RESTARTS : RV_ALLOW_STOP), a->alt = base;
        } else if (!libpod && m == M_POST && (last_is(t, 2, "restart") || last_is(t, 2, "kill"))) {
            a->need = RBIT(RV_ALLOW_RESTARTS), a->alt = base;
        } else if (!libpod && m == M_POST && last_is(t, 2, "pause")) {
            a->need = RBIT(RV_ALLOW_PAUSE), a->alt = base;
        } else if (!libpod && m == M_POST && last_is(t, 2, "unpause")) {
            a->need = RBIT(RV_ALLOW_UNPAUSE), a->alt = base;
        } else if (!libpod && (m & M_READ) && last_is(t, 2, "logs")) {
            a->need = RBIT(RV_ALLOW_LOGS);
            a->flags = RULES_F_STREAM;
        } else if (!libpod && (m & M_READ) && last_is(t, 2, "top")) {
            a->need = RBIT(RV_ALLOW_TOP);
        } else if (!libpod && (m & M_READ) && last_is(t, 2, "changes")) {
            a->need = RBIT(RV_ALLOW_CHANGES);
        } else if ((m & M_READ) && last_is(t, 2, "stats")) {
            a->need = base;
            a->flags = RULES_F_STREAM;
        } else if (m == M_POST && last_is(t, 2, "wait")) {
            a->need = base;
            a->flags = RULES_F_STREAM;
        } else if (m == M_POST && last_is(t, 2, "attach")) {
            a->need = base;
            a->flags = RULES_F_STREAM | RULES_F_HIJACK;
        } else {
            return false;
        }
        return true;
    }
    if (var == RV_IMAGES || var == RV_LIBPOD_IMAGES) {
        if ((m & M_READ) && (last_is(t, 1, "get") || (libpod && last_is(t, 1, "export")))) {
            a->need = RBIT(var) | RBIT(RV_ALLOW_EXPORT);
            return true;
        }
        return false;
    }
    if (var == RV_SWARM && (m & M_READ) && t->nrest == 1 && seg_is(t->last, t->last_n, "unlockkey")) {
        a->need = RBIT(RV_SWARM) | RBIT(RV_SECRETS);
        return true;
    }
    if ((var == RV_SERVICES || var == RV_TASKS) && (m & M_READ) && t->nrest == 2 && seg_is(t->last, t->last_n, "logs")) {
        a->need = base;
        a->flags = RULES_F_STREAM;
        return true;
    }
    if ((var == RV_EXEC || var == RV_LIBPOD_EXEC) && m == M_POST && last_is(t, 2, "start")) {
        a->need = base;
        a->flags = RULES_F_STREAM | RULES_F_HIJACK;
        return true;
    }
    return false;
}

/* Both readings must allow: (a.need or a.alt) and b. */
static reading stricter(reading a, rules_mask b)
{
    reading s = {.need = a.need | b, .alt = a.alt ? a.alt | b : 0, .flags = a.flags};
    if (s.alt && (s.alt & s.need) == s.alt) { /* the alternative is the weaker term: it decides */
        s.need = s.alt;
        s.alt = 0;
    }
    return s;
}

/* dockerd's versions.compare: dot-separated numbers, a missing or
 * unparsable one (Go's Atoi fails on overflow) counts as 0. */
static bool version_below(const char *v, size_t n, const unsigned floor[2])
{
    unsigned long long seg[2] = {0, 0};
    size_t k = 0;
    bool over = false;
    for (size_t i = 0; i <= n && k < 2; i++) {
        if (i == n || v[i] == '.') {
            if (over)
                seg[k] = 0;
            k++;
            over = false;
        } else if (!over) {
            unsigned d = (unsigned)(v[i] - '0');
            if (seg[k] > (9223372036854775807ULL - d) / 10)
                over = true;
            else
                seg[k] = seg[k] * 10 + d;
        }
    }
    if (seg[0] != floor[0])
        return seg[0] < floor[0];
    return seg[1] < floor[1];
}

void rules_set_min_api(rules_set *r, unsigned major, unsigned minor)
{
    r->min_api[0] = major;
    r->min_api[1] = minor;
    if (major || minor)
        snprintf(r->min_api_why, sizeof(r->min_api_why),
                 "API version below SOCKET_PROXY_MIN_API_VERSION=%u.%u (old API versions change what requests "
                 "mean; 0 or off lifts the floor)",
                 major, minor);
}

static const rules_mask action_vars = RBIT(RV_ALLOW_START) | RBIT(RV_ALLOW_STOP) | RBIT(RV_ALLOW_RESTARTS) |
                                      RBIT(RV_ALLOW_PAUSE) | RBIT(RV_ALLOW_UNPAUSE);

static void set_verdict(rules_verdict *v, const rules_set *r, reading rd)
{
    v->need = rd.need;
    v->need_alt = rd.alt;
    v->flags |= rd.flags;
    bool by_need = (r->granted & rd.need) == rd.need;
    bool by_alt = rd.alt && (r->granted & rd.alt) == rd.alt;
    v->status = by_need || by_alt ? RULES_ALLOW : RULES_DENY;
    /* linuxserver's action variables grant a bare action: never a body,
     * which old daemons would apply as the container's configuration. */
    if (by_need && !by_alt && (rd.need & action_vars))
        v->flags |= RULES_F_NO_BODY;
}

void rules_decide(const rules_set *r, const char *method, size_t mlen, const char *target, size_t tlen,
                  char *buf, size_t buflen, rules_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->prefix = r->prefix[0] ? r->prefix : NULL;
    long n = path_normalize(target, tlen, buf, buflen, &v->why);
    if (n < 0) {
        v->status = RULES_BAD;
        v->path = "";
        return;
    }
    const char *p = buf, *end = buf + n;
    size_t vp = path_version_prefix(p, (size_t)n);
    if (vp && (r->min_api[0] || r->min_api[1]) && version_below(p + 2, vp - 2, r->min_api)) {
        v->status = RULES_BAD;
        v->why = r->min_api_why;
        v->path = p;
        v->path_len = (size_t)n;
        return;
    }
    p += vp;
    v->path = p;
    v->path_len = (size_t)(end - p);

    /* First segment: the section. */
    const char *s = p + 1, *se = memchr(s, '/', (size_t)(end - s));
    se = se ? se : end;
    const section *table = docker_sections;
    bool libpod = seg_is(s, (size_t)(se - s), "libpod");
    if (libpod) {
        table = libpod_sections;
        s = se < end ? se + 1 : end;
        se = memchr(s, '/', (size_t)(end - s));
        se = se ? se : end;
    }
    const section *sec = table;
    while (sec->name && !(sec->len == (size_t)(se - s) && memcmp(sec->name, s, sec->len) == 0))
        sec++;
    int m = method_bit(method, mlen);
    /* dockerd answers OPTIONS on every path itself (CORS); no client needs it */
    if (!sec->name || m == M_OPTIONS) {
        v->status = RULES_DENY;
        v->why = "no variable grants it";
        return;
    }
    int var = sec->var;
    rules_mask base = RBIT(var) | ((m & M_READ) ? 0 : RBIT(RV_POST));
    reading rd = {.need = base}, a;
    tail t = tail_of(se, end);
    if (action_reading(r, var, libpod, m, &t, &a)) {
        rd = a;
    } else if (end - se > 1 && end[-1] == '/') {
        /* A trailing slash after an action: dockerd 20.10 answers 404, but a
         * router with strict-slash redirects (or another daemon) may read it
         * as the action. Where two readings differ, the stricter decides. */
        tail t2 = tail_of(se, end - 1);
        if (action_reading(r, var, libpod, m, &t2, &a))
            rd = stricter(a, base);
    }
    if (var == RV_EVENTS || var == RV_LIBPOD_EVENTS || var == RV_SESSION || var == RV_GRPC)
        rd.flags |= RULES_F_STREAM | (var == RV_SESSION || var == RV_GRPC ? RULES_F_HIJACK : 0);
    set_verdict(v, r, rd);
}

static size_t mask_text(rules_mask m, const char *prefix, char *out, size_t cap)
{
    size_t n = 0;
    int count = 0, total = __builtin_popcountll(m);
    for (int i = 0; i < RV_COUNT; i++) {
        if (!(m & RBIT(i)))
            continue;
        count++;
        const char *sep = count == 1 ? "" : (count == total ? " and " : ", ");
        int w = snprintf(out + n, cap > n ? cap - n : 0, "%s%s%s=1", sep, prefix ? prefix : "", vars[i].name);
        n += w > 0 ? (size_t)w : 0;
    }
    return n < cap ? n : (cap ? cap - 1 : 0);
}

size_t rules_need_text(const rules_verdict *v, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (!v->need) {
        int w = snprintf(out, cap, "%s", v->why ? v->why : "");
        return w < 0 ? 0 : ((size_t)w < cap ? (size_t)w : cap - 1);
    }
    size_t n = mask_text(v->need, v->prefix, out, cap);
    if (v->need_alt && n + 6 < cap) {
        memcpy(out + n, ", or ", 6);
        n += 5;
        n += mask_text(v->need_alt, v->prefix, out + n, cap - n);
    }
    return n;
}
