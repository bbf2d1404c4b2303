/* Learn mode's store and report. See learn.h.
 *
 * The least set per client is a set cover: each request kind offers one or
 * two alternatives (need, need_alt), and the set must hold all of one of
 * them. The exact minimum is NP-hard in general; here a greedy does, in
 * three passes over the kinds in the order they were first seen:
 *   1. a kind with one alternative leaves no choice: its variables go in;
 *   2. a kind with two that the set does not cover yet takes the one that
 *      adds fewer variables (a tie takes `need`, the narrower action
 *      variable such as ALLOW_START);
 *   3. a variable whose every request is covered without it is dropped,
 *      the last in RULES_VARS order first (the ALLOW_* ones before the
 *      sections).
 * "Covered" means what a proxy with exactly those variables set to 1 would
 * grant: the variables whose default is 1 and the unset ones that follow a
 * chosen variable (ALLOW_LOGS with CONTAINERS=1) come free and are never
 * reported. */
#include "learn.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/profiles.h"

#define EXAMPLE_MAX 100 /* bytes of one example as reported, "..." included */
#define KEY_MAX 300     /* bytes of a client's key, NUL included ("172.18.0.5 (traefik)") */
#define BIND_MAX 256    /* bytes of one ALLOW_BINDS path, NUL included (rules/body.h) */
#define ITEM_INDENT "      - "

_Static_assert(LEARN_MAX_PROFILES == PROFILES_MAX + 1, "a learn store holds every profile");

/* One kind of request: the same alternatives, however often. */
typedef struct learn_need {
    rules_mask need, alt; /* alt 0: one alternative; need 0: no variable grants it */
    uint64_t count;
    int nex;
    char ex[LEARN_EXAMPLES][EXAMPLE_MAX];
} learn_need;

typedef struct learn_client {
    char key[KEY_MAX];
    uint64_t requests;
    uint64_t dropped; /* requests of kinds past LEARN_MAX_NEEDS: not kept */
    learn_need *needs;
    int nneeds, capneeds;
    uint64_t body_hits[RV_COUNT]; /* request bodies that asked for each body variable */
    char (*binds)[BIND_MAX];      /* LEARN_MAX_BINDS host paths, allocated on the first */
    int nbinds;
    uint64_t bind_hits;     /* request bodies that bound host paths */
    uint64_t binds_over;    /* host paths bound past LEARN_MAX_BINDS */
    uint64_t binds_unnamed; /* bodies refused for host paths nobody named to us */
    bool binds_widened;     /* a path ALLOW_BINDS cannot hold was kept as its parent */
} learn_client;

typedef struct learn_prof {
    char name[KEY_MAX], prefix[KEY_MAX];
    learn_client *clients; /* LEARN_MAX_CLIENTS, allocated on first use */
    int nclients;
    learn_client *other; /* every client past LEARN_MAX_CLIENTS, together */
} learn_prof;

struct learn {
    learn_prof p[LEARN_MAX_PROFILES];
    int n;
};

learn *learn_new(int n, const char *const *names, const char *const *prefixes)
{
    learn *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->n = n < 0 ? 0 : n > LEARN_MAX_PROFILES ? LEARN_MAX_PROFILES : n;
    for (int i = 0; i < l->n; i++) {
        snprintf(l->p[i].name, KEY_MAX, "%s", names && names[i] ? names[i] : "");
        snprintf(l->p[i].prefix, KEY_MAX, "%s", prefixes && prefixes[i] ? prefixes[i] : "");
    }
    return l;
}

static void client_free(learn_client *c)
{
    free(c->needs);
    free(c->binds);
}

void learn_free(learn *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n; i++) {
        for (int k = 0; k < l->p[i].nclients; k++)
            client_free(&l->p[i].clients[k]);
        free(l->p[i].clients);
        if (l->p[i].other)
            client_free(l->p[i].other);
        free(l->p[i].other);
    }
    free(l);
}

bool learn_prefix(const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (n == 0 || strcmp(name, "default") == 0) {
        if (cap)
            out[0] = '\0';
        return cap > 0;
    }
    if (n > PROFILE_NAME_MAX || n + 3 > cap)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return false;
    }
    profile_prefix(name, n, out);
    return true;
}

int learn_profile(learn *l, const char *name)
{
    char prefix[KEY_MAX];
    if (!learn_prefix(name, prefix, sizeof(prefix)))
        return -1;
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->p[i].prefix, prefix) == 0)
            return i;
    if (l->n == LEARN_MAX_PROFILES)
        return -1;
    learn_prof *p = &l->p[l->n];
    snprintf(p->name, KEY_MAX, "%s", name);
    memcpy(p->prefix, prefix, sizeof(prefix));
    return l->n++;
}

/* The client keyed `key` in the profile, added when new (past
 * LEARN_MAX_CLIENTS: the "other clients" entry). NULL for a profile out of
 * range, or when memory is short. */
static learn_client *client_of(learn *l, int prof, const char *key)
{
    if (!l || prof < 0 || prof >= l->n)
        return NULL;
    learn_prof *p = &l->p[prof];
    char k[KEY_MAX];
    snprintf(k, sizeof(k), "%s", key && *key ? key : "?");
    for (int i = 0; i < p->nclients; i++)
        if (strcmp(p->clients[i].key, k) == 0)
            return &p->clients[i];
    if (p->nclients < LEARN_MAX_CLIENTS) {
        if (!p->clients && !(p->clients = calloc(LEARN_MAX_CLIENTS, sizeof(*p->clients))))
            return NULL;
        learn_client *c = &p->clients[p->nclients++];
        memcpy(c->key, k, sizeof(k));
        return c;
    }
    if (!p->other)
        p->other = calloc(1, sizeof(*p->other));
    return p->other;
}

/* The kind (need, alt) of c, added when new; NULL past LEARN_MAX_NEEDS or
 * when memory is short. */
static learn_need *need_of(learn_client *c, rules_mask need, rules_mask alt)
{
    for (int i = 0; i < c->nneeds; i++)
        if (c->needs[i].need == need && c->needs[i].alt == alt)
            return &c->needs[i];
    if (c->nneeds == LEARN_MAX_NEEDS)
        return NULL;
    if (c->nneeds == c->capneeds) {
        int cap = c->capneeds ? c->capneeds * 2 : 8;
        learn_need *grown = realloc(c->needs, (size_t)cap * sizeof(*grown));
        if (!grown)
            return NULL;
        c->needs = grown;
        c->capneeds = cap;
    }
    learn_need *n = &c->needs[c->nneeds++];
    memset(n, 0, sizeof(*n));
    n->need = need;
    n->alt = alt;
    return n;
}

static void add_example(learn_need *n, const char *ex)
{
    for (int i = 0; i < n->nex; i++)
        if (strcmp(n->ex[i], ex) == 0)
            return;
    if (n->nex < LEARN_EXAMPLES)
        snprintf(n->ex[n->nex++], EXAMPLE_MAX, "%s", ex);
}

/* s escaped into out at *n: printable ASCII as it is, '\\' doubled, any
 * other byte as \xHH, so a report line stays one line of plain text. Stops
 * while 4 bytes are left (room for "..."); false when s did not fit. */
static bool put_escaped(char *out, size_t cap, size_t *n, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char e[4] = {(char)*p, '\\'};
        size_t k = *p == '\\' ? 2 : 1;
        if (*p < 0x20 || *p > 0x7e) {
            e[1] = 'x';
            e[2] = hex[*p >> 4];
            e[3] = hex[*p & 15];
            e[0] = '\\';
            k = 4;
        }
        if (*n + k + 4 > cap)
            return false;
        memcpy(out + *n, e, k);
        *n += k;
    }
    return true;
}

/* "GET /v1.41/containers/json", escaped, cut with "..." to fit. */
static void example_text(char *out, size_t cap, const char *method, const char *target)
{
    size_t n = 0;
    bool fit = put_escaped(out, cap, &n, method ? method : "-");
    if (fit && n + 5 <= cap)
        out[n++] = ' ';
    else
        fit = false;
    if (!fit || !put_escaped(out, cap, &n, target ? target : "-")) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

void learn_note(learn *l, int prof, const char *client, rules_mask need, rules_mask need_alt, const char *method,
                const char *target)
{
    /* The weaker of two nested alternatives decides (rules.c's stricter()
     * does the same): keeping both would only make the cover guess. */
    if (!need || (need_alt && (need_alt & need) == need_alt)) {
        need = need_alt;
        need_alt = 0;
    }
    if (need_alt && (need & need_alt) == need)
        need_alt = 0;
    learn_client *c = client_of(l, prof, client);
    if (!c)
        return;
    c->requests++;
    learn_need *n = need_of(c, need, need_alt);
    if (!n) {
        c->dropped++;
        return;
    }
    n->count++;
    if (n->nex < LEARN_EXAMPLES) {
        char ex[EXAMPLE_MAX];
        example_text(ex, sizeof(ex), method, target);
        add_example(n, ex);
    }
}

/* path as ALLOW_BINDS can hold it, in out: itself, or when it holds a
 * comma (the list's separator) or a byte outside printable ASCII, or is
 * longer than an entry, its deepest parent that does not (*widened set).
 * False for a path that is not absolute. */
static bool bind_form(const char *path, char *out, bool *widened)
{
    if (path[0] != '/')
        return false;
    size_t n = 0;
    while (path[n] && n < BIND_MAX - 1 && path[n] != ',' && path[n] >= 0x20 && path[n] <= 0x7e)
        n++;
    if (path[n]) {
        *widened = true;
        while (n > 0 && path[n] != '/')
            n--;
    }
    n = n ? n : 1;
    memcpy(out, path, n);
    out[n] = '\0';
    return true;
}

/* False for a path that is not a host path (not absolute). */
static bool add_bind(learn_client *c, const char *path)
{
    char form[BIND_MAX];
    if (!path || !bind_form(path, form, &c->binds_widened))
        return false;
    for (int i = 0; i < c->nbinds; i++)
        if (strcmp(c->binds[i], form) == 0)
            return true;
    if (!c->binds && !(c->binds = calloc(LEARN_MAX_BINDS, sizeof(*c->binds))))
        return true;
    if (c->nbinds == LEARN_MAX_BINDS)
        c->binds_over++;
    else
        memcpy(c->binds[c->nbinds++], form, sizeof(form));
    return true;
}

void learn_note_body(learn *l, int prof, const char *client, rules_mask vars, const char *const *binds,
                     int nbinds)
{
    learn_client *c = client_of(l, prof, client);
    if (!c)
        return;
    for (int v = 0; v < RV_COUNT; v++)
        if (vars & LEARN_BODY_VARS & RBIT(v))
            c->body_hits[v]++;
    if (nbinds < 0) {
        c->binds_unnamed++;
        return;
    }
    bool bound = false;
    for (int i = 0; i < nbinds && binds; i++)
        bound = add_bind(c, binds[i]) || bound;
    c->bind_hits += bound;
}

/* ---- the least set ---- */

/* What the variables' defaults say, read once per report. */
typedef struct vars_info {
    rules_mask defaults; /* variables whose default grants */
    int follows[RV_COUNT]; /* the variable an unset one follows, or -1 */
} vars_info;

static void vars_info_init(vars_info *vi)
{
    vi->defaults = 0;
    for (int v = 0; v < RV_COUNT; v++) {
        const char *f = rules_var_follows(v);
        vi->follows[v] = -1;
        for (int k = 0; f && k < RV_COUNT; k++)
            if (strcmp(rules_var_name(k), f) == 0)
                vi->follows[v] = k;
        if (rules_var_default(v) == 1)
            vi->defaults |= RBIT(v);
    }
}

/* What a proxy with exactly the variables s set to 1 grants. */
static rules_mask granted_by(const vars_info *vi, rules_mask s)
{
    rules_mask g = s | vi->defaults;
    for (int v = 0; v < RV_COUNT; v++)
        if (vi->follows[v] >= 0 && (s & RBIT(vi->follows[v])))
            g |= RBIT(v);
    return g;
}

static bool covered(const learn_need *n, rules_mask g)
{
    return (n->need & ~g) == 0 || (n->alt && (n->alt & ~g) == 0);
}

static bool covers_all(const learn_client *c, rules_mask g)
{
    for (int i = 0; i < c->nneeds; i++)
        if (c->needs[i].need && !covered(&c->needs[i], g))
            return false;
    return true;
}

/* The greedy of the file's head comment. */
static rules_mask least_set(const vars_info *vi, const learn_client *c)
{
    rules_mask s = 0;
    for (int i = 0; i < c->nneeds; i++)
        if (!c->needs[i].alt)
            s |= c->needs[i].need & ~granted_by(vi, s);
    for (int i = 0; i < c->nneeds; i++) {
        const learn_need *n = &c->needs[i];
        rules_mask g = granted_by(vi, s);
        if (!n->alt || covered(n, g))
            continue;
        int a = __builtin_popcountll(n->need & ~g), b = __builtin_popcountll(n->alt & ~g);
        s |= (b < a ? n->alt : n->need) & ~g;
    }
    for (int v = RV_COUNT - 1; v >= 0; v--)
        if ((s & RBIT(v)) && covers_all(c, granted_by(vi, s & ~RBIT(v))))
            s &= ~RBIT(v);
    return s;
}

/* ---- the report ---- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (int tries = 0; tries < 2 && !b->oom; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = true;
        } else if (b->p && (size_t)w < b->cap - b->n) {
            b->n += (size_t)w;
            return;
        } else {
            size_t cap = b->cap * 2 > b->n + (size_t)w + 1 ? b->cap * 2 : b->n + (size_t)w + 4096;
            char *grown = realloc(b->p, cap);
            if (!grown)
                b->oom = true;
            else
                b->p = grown, b->cap = cap;
        }
    }
    b->oom = true; /* still did not fit after growing: cannot happen, but never lose a line silently */
}

/* Which requests each reported variable stands for. */
typedef struct credit {
    uint64_t hits[RV_COUNT];
    const char *ex[RV_COUNT][LEARN_EXAMPLES];
    int nex[RV_COUNT];
    uint64_t ungrantable; /* requests no variable grants */
    const learn_need *none;
} credit;

static void credit_var(credit *cr, int v, const learn_need *n)
{
    cr->hits[v] += n->count;
    for (int k = 0; k < n->nex && cr->nex[v] < LEARN_EXAMPLES; k++) {
        bool seen = false;
        for (int j = 0; j < cr->nex[v]; j++)
            seen = seen || strcmp(cr->ex[v][j], n->ex[k]) == 0;
        if (!seen)
            cr->ex[v][cr->nex[v]++] = n->ex[k];
    }
}

/* Each kind's requests go to the variables of s that grant its covered
 * alternative: a variable itself, or the one an unset variable follows
 * (GET .../logs counts for CONTAINERS); defaults take none. */
static void credit_all(const vars_info *vi, const learn_client *c, rules_mask s, credit *cr)
{
    rules_mask g = granted_by(vi, s);
    for (int i = 0; i < c->nneeds; i++) {
        const learn_need *n = &c->needs[i];
        if (!n->need) {
            cr->ungrantable += n->count;
            cr->none = n;
            continue;
        }
        rules_mask alt = (n->need & ~g) == 0 ? n->need : n->alt, to = 0;
        for (int v = 0; v < RV_COUNT; v++)
            if (alt & RBIT(v))
                to |= (s & RBIT(v)) ? RBIT(v) : vi->follows[v] >= 0 ? (s & RBIT(vi->follows[v])) : 0;
        for (int v = 0; v < RV_COUNT; v++)
            if (to & RBIT(v))
                credit_var(cr, v, n);
    }
}

static const char *plural(uint64_t n, const char *one, const char *many) { return n == 1 ? one : many; }

static void put_examples(sbuf *b, const char *const *ex, int nex)
{
    for (int k = 0; k < nex; k++)
        sb_printf(b, "%s%s", k ? ", " : "", ex[k]);
}

/* "      - NAME=1", padded to width, then its comment. */
static void put_var(sbuf *b, const char *prefix, int v, int width, const credit *cr, const learn_client *c)
{
    int w = (int)(strlen(prefix) + strlen(rules_var_name(v))) + 2;
    sb_printf(b, ITEM_INDENT "%s%s=1%*s  # ", prefix, rules_var_name(v), width > w ? width - w : 0, "");
    if (cr->hits[v]) {
        sb_printf(b, "%llu %s: ", (unsigned long long)cr->hits[v], plural(cr->hits[v], "request", "requests"));
        put_examples(b, cr->ex[v], cr->nex[v]);
    } else {
        sb_printf(b, "%llu request %s asked for it", (unsigned long long)c->body_hits[v],
                  plural(c->body_hits[v], "body", "bodies"));
    }
    sb_printf(b, "\n");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* "ALLOW_BINDS=/a,/b", the paths sorted; the whole item double-quoted when a
 * byte of it could mean something else to YAML (a space, '#', ':'). */
static void put_binds(sbuf *b, const char *prefix, const learn_client *c)
{
    const char *sorted[LEARN_MAX_BINDS];
    bool quote = false;
    for (int i = 0; i < c->nbinds; i++) {
        sorted[i] = c->binds[i];
        for (const char *p = c->binds[i]; *p; p++)
            quote = quote || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+~@%", *p);
    }
    qsort(sorted, (size_t)c->nbinds, sizeof(sorted[0]), cmp_str);
    sb_printf(b, ITEM_INDENT "%s%sALLOW_BINDS=", quote ? "\"" : "", prefix);
    for (int i = 0; i < c->nbinds; i++) {
        sb_printf(b, "%s", i ? "," : "");
        for (const char *p = sorted[i]; *p; p++)
            sb_printf(b, "%s%c", quote && (*p == '"' || *p == '\\') ? "\\" : "", *p);
    }
    sb_printf(b, "%s  # %llu request %s bound %s\n", quote ? "\"" : "", (unsigned long long)c->bind_hits,
              plural(c->bind_hits, "body", "bodies"), plural((uint64_t)c->nbinds, "this host path", "these host paths"));
}

/* The comment lines under a block: what the set could not say. */
static void put_notes(sbuf *b, const char *prefix, const learn_client *c, const credit *cr, bool nothing)
{
    if (nothing)
        sb_printf(b, "#   nothing to add: %s\n", cr->ungrantable ? "the defaults allowed every request a variable can grant"
                                                                 : "the defaults allowed every request");
    if (cr->ungrantable) {
        sb_printf(b, "#   %llu %s that no variable grants (refused whatever is set): ", (unsigned long long)cr->ungrantable,
                  plural(cr->ungrantable, "request", "requests"));
        const char *ex[LEARN_EXAMPLES];
        for (int k = 0; k < cr->none->nex; k++)
            ex[k] = cr->none->ex[k];
        put_examples(b, ex, cr->none->nex);
        sb_printf(b, "\n");
    }
    if (c->dropped)
        sb_printf(b, "#   %llu requests of kinds past the first %d were not kept: the lines above may miss what they "
                     "needed\n", (unsigned long long)c->dropped, LEARN_MAX_NEEDS);
    if (c->binds_unnamed)
        sb_printf(b, "#   %llu request %s refused for host paths the log does not name: add them to %sALLOW_BINDS "
                     "(each 403 names its path)\n", (unsigned long long)c->binds_unnamed,
                  plural(c->binds_unnamed, "body was", "bodies were"), prefix);
    if (c->binds_over)
        sb_printf(b, "#   %llu more host paths were bound than ALLOW_BINDS lists (%d): name a directory that holds "
                     "them\n", (unsigned long long)c->binds_over, LEARN_MAX_BINDS);
    if (c->binds_widened)
        sb_printf(b, "#   a path ALLOW_BINDS cannot hold exactly (a comma, a byte outside printable ASCII, over %d "
                     "bytes) is listed as its parent directory\n", BIND_MAX - 1);
}

/* One block: the title, the lines to paste, the notes. */
static void put_client(sbuf *b, const vars_info *vi, const char *prefix, const char *who, const learn_client *c)
{
    rules_mask s = least_set(vi, c), shown = s;
    credit cr;
    memset(&cr, 0, sizeof(cr));
    credit_all(vi, c, s, &cr);
    int width = 0;
    for (int v = 0; v < RV_COUNT; v++) {
        if (c->body_hits[v])
            shown |= RBIT(v);
        int w = (int)(strlen(prefix) + strlen(rules_var_name(v))) + 2;
        if ((shown & RBIT(v)) && w > width)
            width = w;
    }
    sb_printf(b, "# %s: %llu %s\n", who, (unsigned long long)c->requests, plural(c->requests, "request", "requests"));
    for (int v = 0; v < RV_COUNT; v++)
        if (shown & RBIT(v))
            put_var(b, prefix, v, width, &cr, c);
    if (c->nbinds)
        put_binds(b, prefix, c);
    put_notes(b, prefix, c, &cr, !shown && !c->nbinds && !c->binds_unnamed);
}

/* "profile traefik, " ("profile default, " beside named profiles; "" when
 * the default is the only one) at out[0]; returns its length. */
static size_t profile_text(char *out, size_t cap, const learn *l, const learn_prof *p)
{
    const char *name = p->name[0] ? p->name : l->n > 1 ? "default" : NULL;
    int n = snprintf(out, cap, "%s%s%s", name ? "profile " : "", name ? name : "", name ? ", " : "");
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* The block's title: "client 10.0.0.5", "profile traefik, client uid=0",
 * "profile traefik, other clients (past the first 64)". */
static void who_text(char *out, size_t cap, const learn *l, const learn_prof *p, const learn_client *c)
{
    size_t n = profile_text(out, cap, l, p);
    if (c == p->other) {
        snprintf(out + n, cap - n, "other clients (past the first %d)", LEARN_MAX_CLIENTS);
        return;
    }
    n += (size_t)snprintf(out + n, cap - n, "client ");
    if (!put_escaped(out, cap, &n, c->key))
        memcpy(out + n, "...", 3), n += 3;
    out[n] = '\0';
}

/* c's kinds, bodies and binds added to dst's. */
static void client_merge(learn_client *dst, const learn_client *c)
{
    dst->requests += c->requests;
    dst->dropped += c->dropped;
    for (int i = 0; i < c->nneeds; i++) {
        const learn_need *n = &c->needs[i];
        learn_need *d = need_of(dst, n->need, n->alt);
        if (!d) {
            dst->dropped += n->count;
            continue;
        }
        d->count += n->count;
        for (int k = 0; k < n->nex; k++)
            add_example(d, n->ex[k]);
    }
    for (int v = 0; v < RV_COUNT; v++)
        dst->body_hits[v] += c->body_hits[v];
    for (int i = 0; i < c->nbinds; i++)
        add_bind(dst, c->binds[i]);
    dst->bind_hits += c->bind_hits;
    dst->binds_over += c->binds_over;
    dst->binds_unnamed += c->binds_unnamed;
    dst->binds_widened = dst->binds_widened || c->binds_widened;
}

/* A profile's clients one block each, then, when there are several, the
 * block for all of them: what the profile's environment needs. */
static void put_profile(sbuf *b, const vars_info *vi, const learn *l, const learn_prof *p)
{
    char who[KEY_MAX * 4 + 64];
    int nblocks = p->nclients + (p->other != NULL);
    learn_client all;
    memset(&all, 0, sizeof(all));
    for (int i = 0; i < nblocks; i++) {
        const learn_client *c = i < p->nclients ? &p->clients[i] : p->other;
        who_text(who, sizeof(who), l, p, c);
        sb_printf(b, "\n");
        put_client(b, vi, p->prefix, who, c);
        if (nblocks > 1)
            client_merge(&all, c);
    }
    if (nblocks > 1) {
        size_t n = profile_text(who, sizeof(who), l, p);
        if (p->other) /* how many it folded is not kept */
            snprintf(who + n, sizeof(who) - n, "all clients together");
        else
            snprintf(who + n, sizeof(who) - n, "all %d clients together", nblocks);
        sb_printf(b, "\n");
        put_client(b, vi, p->prefix, who, &all);
    }
    client_free(&all);
}

char *learn_report(const learn *l, size_t *len)
{
    sbuf b = {0};
    vars_info vi;
    vars_info_init(&vi);
    sb_printf(&b, "# socket-proxy learn: the least variables that allow what each client did\n"
                  "# Paste a block's \"- NAME=1\" lines into the socket-proxy service's environment list.\n"
                  "# Built-in defaults assumed: a variable they grant, or one that follows a listed\n"
                  "# one (ALLOW_LOGS follows CONTAINERS), is left out.\n");
    int blocks = 0;
    for (int i = 0; l && i < l->n; i++) {
        put_profile(&b, &vi, l, &l->p[i]);
        blocks += l->p[i].nclients;
    }
    if (!blocks)
        sb_printf(&b, "\n# no requests seen\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.n;
    return b.p;
}
