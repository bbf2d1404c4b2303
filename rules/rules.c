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
const char *rules_var_what(int var) { return vars[var].what; }

int rules_parse_bool(const char *v)
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

int rules_compile(rules_set *r, const char *(*get)(const char *name), char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    int tri[RV_COUNT];
    for (int i = 0; i < RV_COUNT; i++) {
        const char *v = get(vars[i].name);
        tri[i] = vars[i].def;
        if (v && !*v) {
            r->empty_ |= RBIT(i);
            v = NULL;
        }
        if (v) {
            int b = rules_parse_bool(v);
            if (b < 0) {
                snprintf(err, errlen, "%s=\"%s\" is not a boolean: use 1, true, yes, on to grant or 0, false, no, off to deny",
                         vars[i].name, v);
                return -1;
            }
            tri[i] = b;
            r->explicit_ |= RBIT(i);
        }
    }
    for (int i = 0; i < RV_COUNT; i++) {
        int b = tri[i] < 0 ? tri[RV_CONTAINERS] : tri[i];
        if (b)
            r->granted |= RBIT(i);
    }
    const char *key = get("API_KEY");
    r->api_key = key && *key ? key : NULL;
    if (r->api_key)
        for (const char *p = r->api_key; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                snprintf(err, errlen, "API_KEY holds a control character: use printable characters only");
                return -1;
            }
    return 0;
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

void rules_lint_env(char *const *env, const char *const *extra_names, void (*warn)(void *ctx, const char *line),
                    void *ctx)
{
    static const char *const none[] = {NULL};
    if (!extra_names)
        extra_names = none;
    for (; env && *env; env++) {
        const char *eq = strchr(*env, '=');
        char name[64];
        size_t n = eq ? (size_t)(eq - *env) : 0;
        if (!eq || n == 0 || n >= sizeof(name))
            continue;
        memcpy(name, *env, n);
        name[n] = '\0';
        /* Other programs' variables rarely hold a boolean; SOCKET_PROXY_ is our prefix. */
        if (rules_parse_bool(eq + 1) < 0 && strncmp(name, "SOCKET_PROXY_", 13) != 0)
            continue;
        bool ours = strcmp(name, "API_KEY") == 0;
        for (int i = 0; i < RV_COUNT && !ours; i++)
            ours = strcmp(name, vars[i].name) == 0;
        for (const char *const *o = extra_names; *o && !ours; o++)
            ours = strcmp(name, *o) == 0;
        if (ours)
            continue;
        const char *best = NULL;
        size_t best_d = 99;
        for (int i = 0; i < RV_COUNT; i++)
            closest(name, n, vars[i].name, true, &best, &best_d);
        closest(name, n, "API_KEY", false, &best, &best_d);
        for (const char *const *o = extra_names; *o; o++)
            closest(name, n, *o, false, &best, &best_d);
        if (best && best_d <= (n >= 6 ? 2u : 1u)) {
            char line[256];
            snprintf(line, sizeof(line), "%s is not a socket-proxy variable and is ignored; did you mean %s?", name, best);
            warn(ctx, line);
        }
    }
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

static void set_need(rules_verdict *v, const rules_set *r, rules_mask need, rules_mask alt)
{
    v->need = need;
    v->need_alt = alt;
    bool ok = (r->granted & need) == need || (alt && (r->granted & alt) == alt);
    v->status = ok ? RULES_ALLOW : RULES_DENY;
}

void rules_decide(const rules_set *r, const char *method, size_t mlen, const char *target, size_t tlen,
                  char *buf, size_t buflen, rules_verdict *v)
{
    memset(v, 0, sizeof(*v));
    long n = path_normalize(target, tlen, buf, buflen, &v->why);
    if (n < 0) {
        v->status = RULES_BAD;
        v->path = "";
        return;
    }
    const char *p = buf, *end = buf + n;
    p += path_version_prefix(p, (size_t)n);
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
    if (!sec->name) {
        v->status = RULES_DENY;
        v->why = "no variable grants it";
        return;
    }

    /* Last segment (the action: mux routes capture names with {name:.*}, so
     * the route is decided by the path's end) and how many segments follow
     * the section. */
    const char *rest = se;  /* "" or "/..." */
    const char *last = end;
    while (last > rest && last[-1] != '/')
        last--;
    size_t last_n = (size_t)(end - last);
    int nrest = 0;
    for (const char *q = rest; q < end; q++)
        nrest += *q == '/';
    if (nrest > 0 && last_n == 0)
        nrest--; /* a trailing slash adds no segment */

    bool read = (mlen == 3 && memcmp(method, "GET", 3) == 0) || (mlen == 4 && memcmp(method, "HEAD", 4) == 0);
    bool post = mlen == 4 && memcmp(method, "POST", 4) == 0;
    rules_mask write = read ? 0 : RBIT(RV_POST);
    rules_mask base = RBIT(sec->var) | write;
    int var = sec->var;

    if (var == RV_CONTAINERS || var == RV_LIBPOD_CONTAINERS) {
        rules_mask c = RBIT(var);
        if (nrest >= 2 && seg_is(last, last_n, "export")) {
            set_need(v, r, c | RBIT(RV_ALLOW_EXPORT) | write, 0);
        } else if (nrest >= 2 && seg_is(last, last_n, "archive")) {
            set_need(v, r, c | RBIT(RV_ALLOW_ARCHIVE) | write, 0);
        } else if (nrest >= 3 && seg_is(last, last_n, "ws") && last - rest >= 9 && memcmp(last - 8, "/attach/", 8) == 0) {
            set_need(v, r, c | RBIT(RV_POST), 0);
            v->flags |= RULES_F_STREAM | RULES_F_HIJACK;
        } else if (nrest >= 2 && seg_is(last, last_n, "exec")) {
            set_need(v, r, RBIT(libpod ? RV_LIBPOD_EXEC : RV_EXEC) | write, 0);
        } else if (!libpod && nrest >= 2 && post && seg_is(last, last_n, "start")) {
            set_need(v, r, RBIT(RV_ALLOW_START), base);
        } else if (!libpod && nrest >= 2 && post && seg_is(last, last_n, "stop")) {
            set_need(v, r, RBIT(r->granted & RBIT(RV_ALLOW_RESTARTS) ? RV_ALLOW_RESTARTS : RV_ALLOW_STOP), base);
        } else if (!libpod && nrest >= 2 && post && (seg_is(last, last_n, "restart") || seg_is(last, last_n, "kill"))) {
            set_need(v, r, RBIT(RV_ALLOW_RESTARTS), base);
        } else if (!libpod && nrest >= 2 && post && seg_is(last, last_n, "pause")) {
            set_need(v, r, RBIT(RV_ALLOW_PAUSE), base);
        } else if (!libpod && nrest >= 2 && post && seg_is(last, last_n, "unpause")) {
            set_need(v, r, RBIT(RV_ALLOW_UNPAUSE), base);
        } else if (!libpod && nrest >= 2 && read && seg_is(last, last_n, "logs")) {
            set_need(v, r, RBIT(RV_ALLOW_LOGS), 0);
        } else if (!libpod && nrest >= 2 && read && seg_is(last, last_n, "top")) {
            set_need(v, r, RBIT(RV_ALLOW_TOP), 0);
        } else if (!libpod && nrest >= 2 && read && seg_is(last, last_n, "changes")) {
            set_need(v, r, RBIT(RV_ALLOW_CHANGES), 0);
        } else {
            set_need(v, r, base, 0);
        }
        if (nrest >= 2 && (seg_is(last, last_n, "logs") || seg_is(last, last_n, "stats") ||
                           seg_is(last, last_n, "wait") || seg_is(last, last_n, "attach")))
            v->flags |= RULES_F_STREAM;
        if (nrest >= 2 && seg_is(last, last_n, "attach"))
            v->flags |= RULES_F_HIJACK;
    } else if (var == RV_IMAGES || var == RV_LIBPOD_IMAGES) {
        if (nrest >= 1 && (seg_is(last, last_n, "get") || (libpod && seg_is(last, last_n, "export"))))
            set_need(v, r, RBIT(var) | RBIT(RV_ALLOW_EXPORT) | write, 0);
        else
            set_need(v, r, base, 0);
    } else if (var == RV_SWARM && nrest == 1 && seg_is(last, last_n, "unlockkey")) {
        set_need(v, r, RBIT(RV_SWARM) | RBIT(RV_SECRETS) | write, 0);
    } else {
        set_need(v, r, base, 0);
        if (var == RV_EXEC || var == RV_LIBPOD_EXEC) {
            if (nrest >= 2 && seg_is(last, last_n, "start"))
                v->flags |= RULES_F_STREAM | RULES_F_HIJACK;
        } else if (var == RV_SESSION || var == RV_GRPC) {
            v->flags |= RULES_F_STREAM | RULES_F_HIJACK;
        } else if (var == RV_EVENTS || var == RV_LIBPOD_EVENTS) {
            v->flags |= RULES_F_STREAM;
        }
    }
}

static size_t mask_text(rules_mask m, char *out, size_t cap)
{
    size_t n = 0;
    int count = 0, total = __builtin_popcountll(m);
    for (int i = 0; i < RV_COUNT; i++) {
        if (!(m & RBIT(i)))
            continue;
        count++;
        const char *sep = count == 1 ? "" : (count == total ? " and " : ", ");
        int w = snprintf(out + n, cap > n ? cap - n : 0, "%s%s=1", sep, vars[i].name);
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
    size_t n = mask_text(v->need, out, cap);
    if (v->need_alt && n + 6 < cap) {
        memcpy(out + n, ", or ", 6);
        n += 5;
        n += mask_text(v->need_alt, out + n, cap - n);
    }
    return n;
}
