/* Response redaction: see redact.h. One recursive-descent pass over the raw
 * bytes validates the whole document and follows, beside it, the key paths
 * that lead to the targets; the output is the input copied in raw ranges,
 * with only each target string spliced. Nothing is re-encoded, so a number,
 * an escape or a space comes back exactly as the daemon wrote it. */
#include "rules/redact.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 64 /* dockerd's answers nest fewer than 10 deep; deeper is an error */
#define NTARGETS 2   /* per kind */
#define NO_EQ SIZE_MAX
#define KEY_NONE SIZE_MAX /* a key that matches no path step */

typedef enum { T_ENV, T_TOKEN } target_type;

/* A path step that matches every element of an array (by address: a key
 * spelled "[]" is a key like any other). */
static const char EACH[] = "[]";

typedef struct target {
    unsigned what;           /* the REDACT_* bit that selects it */
    target_type type;        /* an Env array of "NAME=value", or one token string */
    const char *const *path; /* keys from the top, NULL-terminated; NULL: no target */
} target;

static const char *const container_env[] = {"Config", "Env", NULL};
static const char *const service_env[] = {"Spec", "TaskTemplate", "ContainerSpec", "Env", NULL};
static const char *const service_prev_env[] = {"PreviousSpec", "TaskTemplate", "ContainerSpec", "Env", NULL};
static const char *const services_env[] = {EACH, "Spec", "TaskTemplate", "ContainerSpec", "Env", NULL};
static const char *const services_prev_env[] = {EACH, "PreviousSpec", "TaskTemplate", "ContainerSpec", "Env", NULL};
static const char *const task_env[] = {"Spec", "ContainerSpec", "Env", NULL};
static const char *const tasks_env[] = {EACH, "Spec", "ContainerSpec", "Env", NULL};
static const char *const swarm_worker[] = {"JoinTokens", "Worker", NULL};
static const char *const swarm_manager[] = {"JoinTokens", "Manager", NULL};

static const target kinds[][NTARGETS] = {
    [REDACT_NONE] = {{0}},
    [REDACT_CONTAINER] = {{REDACT_ENV, T_ENV, container_env}},
    [REDACT_SERVICE] = {{REDACT_ENV, T_ENV, service_env}, {REDACT_ENV, T_ENV, service_prev_env}},
    [REDACT_SERVICES] = {{REDACT_ENV, T_ENV, services_env}, {REDACT_ENV, T_ENV, services_prev_env}},
    [REDACT_TASK] = {{REDACT_ENV, T_ENV, task_env}},
    [REDACT_TASKS] = {{REDACT_ENV, T_ENV, tasks_env}},
    [REDACT_SWARM] = {{REDACT_JOIN_TOKENS, T_TOKEN, swarm_worker}, {REDACT_JOIN_TOKENS, T_TOKEN, swarm_manager}},
};

typedef struct scan {
    const unsigned char *in;
    size_t len, pos;
    const target *t; /* the kind's NTARGETS targets */
    char *out;       /* in[0, copied) has been copied (or replaced) to out[0, olen) */
    size_t olen, ocap, copied;
    unsigned replaced;
} scan;

/* One string as scanned: where it is, and what the targets ask of it. */
typedef struct str_info {
    size_t start, end; /* raw: the opening quote, one past the closing one */
    size_t eq;         /* raw offset of the first character that decodes to '=', or NO_EQ */
    size_t klen;       /* decoded length while short and ASCII, else KEY_NONE */
    char key[24];      /* longer than every path step */
} str_info;

static int peek(const scan *s)
{
    return s->pos < s->len ? s->in[s->pos] : -1;
}

static void ws(scan *s)
{
    while (s->pos < s->len &&
           (s->in[s->pos] == ' ' || s->in[s->pos] == '\t' || s->in[s->pos] == '\n' || s->in[s->pos] == '\r'))
        s->pos++;
}

/* ---- output ----------------------------------------------------------------- */

/* Room for `more` bytes and a NUL after them; the buffer doubles when it grows. */
static bool reserve(scan *s, size_t more)
{
    if (more < s->ocap - s->olen)
        return true;
    if (more > SIZE_MAX / 4 - s->olen)
        return false;
    size_t cap = s->olen + more + 1 > s->ocap * 2 ? s->olen + more + 1 : s->ocap * 2;
    char *p = realloc(s->out, cap);
    if (!p)
        return false;
    s->out = p;
    s->ocap = cap;
    return true;
}

/* Copies the input from where the copy stopped up to `upto`, then rep; the
 * copy goes on at `resume` (what lies between is the replaced value). */
static int splice(scan *s, size_t upto, const char *rep, size_t resume)
{
    size_t keep = upto - s->copied, n = strlen(rep);
    if (!reserve(s, keep + n))
        return -1;
    memcpy(s->out + s->olen, s->in + s->copied, keep);
    memcpy(s->out + s->olen + keep, rep, n);
    s->olen += keep + n;
    s->copied = resume;
    return 0;
}

/* ---- strings ------------------------------------------------------------------ */

static int hex4(const unsigned char *p, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], lc = c | 0x20;
        if (c >= '0' && c <= '9')
            *v = *v << 4 | (c - '0');
        else if (lc >= 'a' && lc <= 'f')
            *v = *v << 4 | (lc - 'a' + 10);
        else
            return -1;
    }
    return 0;
}

/* \uXXXX at s->pos, or a surrogate pair \uD8xx\uDCxx; a lone surrogate is an
 * error (Go's encoder never writes one, and readers disagree on its meaning). */
static int str_u(scan *s, uint32_t *cp)
{
    uint32_t hi, lo;
    if (s->len - s->pos < 6 || hex4(s->in + s->pos + 2, &hi) < 0)
        return -1;
    s->pos += 6;
    if (hi < 0xD800 || hi > 0xDFFF) {
        *cp = hi;
        return 1;
    }
    if (hi > 0xDBFF || s->len - s->pos < 6 || s->in[s->pos] != '\\' || s->in[s->pos + 1] != 'u' ||
        hex4(s->in + s->pos + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
        return -1;
    s->pos += 6;
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    return 1;
}

static int str_escape(scan *s, uint32_t *cp)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (s->len - s->pos < 2)
        return -1;
    if (s->in[s->pos + 1] == 'u')
        return str_u(s, cp);
    const char *f = memchr(from, s->in[s->pos + 1], sizeof(from) - 1);
    if (!f)
        return -1;
    *cp = (unsigned char)to[f - from];
    s->pos += 2;
    return 1;
}

/* One UTF-8 sequence (RFC 3629: no overlongs, surrogates or code points past
 * U+10FFFF): the lead byte bounds the second byte, the rest are 80..BF. */
static int str_utf8(scan *s, uint32_t *cp)
{
    const unsigned char *p = s->in + s->pos;
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return -1;
    }
    if (s->len - s->pos < n || p[1] < lo || p[1] > hi)
        return -1;
    *cp = c & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return -1;
        *cp = *cp << 6 | (p[i] & 0x3F);
    }
    s->pos += n;
    return 1;
}

/* One character of a string: 1 with its code point, 0 past the closing
 * quote, -1 on an error (the end of input, a control byte, a bad escape). */
static int str_char(scan *s, uint32_t *cp)
{
    int c = peek(s);
    if (c < 0x20)
        return -1;
    if (c == '"') {
        s->pos++;
        return 0;
    }
    if (c == '\\')
        return str_escape(s, cp);
    if (c >= 0x80)
        return str_utf8(s, cp);
    *cp = (uint32_t)c;
    s->pos++;
    return 1;
}

/* The string at s->pos (its opening quote). */
static int str(scan *s, str_info *si)
{
    si->start = s->pos++;
    si->eq = NO_EQ;
    si->klen = 0;
    for (;;) {
        size_t at = s->pos;
        uint32_t cp;
        int r = str_char(s, &cp);
        if (r <= 0) {
            si->end = s->pos;
            return r;
        }
        if (cp == '=' && si->eq == NO_EQ)
            si->eq = at;
        if (si->klen != KEY_NONE && (cp >= 0x80 || si->klen == sizeof(si->key)))
            si->klen = KEY_NONE;
        else if (si->klen != KEY_NONE)
            si->key[si->klen++] = (char)cp;
    }
}

/* Exact, as dockerd writes its field names (an escaped spelling decodes first). */
static bool key_is(const str_info *k, const char *name)
{
    return k->klen == strlen(name) && memcmp(k->key, name, k->klen) == 0;
}

/* ---- values ------------------------------------------------------------------- */

static int literal(scan *s, const char *word)
{
    size_t n = strlen(word);
    if (s->len - s->pos < n || memcmp(s->in + s->pos, word, n) != 0)
        return -1;
    s->pos += n;
    return 0;
}

static size_t digits(scan *s)
{
    size_t from = s->pos;
    while (s->pos < s->len && s->in[s->pos] >= '0' && s->in[s->pos] <= '9')
        s->pos++;
    return s->pos - from;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?: "01", "1.", ".5", "+1" are errors. */
static int number(scan *s)
{
    if (peek(s) == '-')
        s->pos++;
    if (peek(s) == '0')
        s->pos++;
    else if (!digits(s))
        return -1;
    if (peek(s) == '.') {
        s->pos++;
        if (!digits(s))
            return -1;
    }
    if (peek(s) == 'e' || peek(s) == 'E') {
        s->pos++;
        if (peek(s) == '+' || peek(s) == '-')
            s->pos++;
        if (!digits(s))
            return -1;
    }
    return 0;
}

/* The targets still followed below a member (key) or an element (key NULL)
 * of the object or array at `depth`. */
static unsigned child_live(const scan *s, unsigned depth, unsigned live, const str_info *key)
{
    unsigned child = 0;
    for (unsigned i = 0; i < NTARGETS; i++) {
        const char *step = (live >> i & 1) ? s->t[i].path[depth] : NULL;
        if (step && (key ? step != EACH && key_is(key, step) : step == EACH))
            child |= 1u << i;
    }
    return child;
}

/* Enters the object or array at s->pos: 1 when items follow, 0 when it is
 * empty (and closed), -1 when it nests too deep. */
static int open_items(scan *s, unsigned depth, int close)
{
    if (depth >= DEPTH_MAX)
        return -1;
    s->pos++;
    ws(s);
    if (peek(s) != close)
        return 1;
    s->pos++;
    return 0;
}

/* After an item: 1 at a ',' (another follows), 0 at the closing byte. */
static int next_item(scan *s, int close)
{
    ws(s);
    int c = peek(s);
    if (c != ',' && c != close)
        return -1;
    s->pos++;
    return c == ',';
}

/* "NAME=value" -> "NAME=<marker>": the raw bytes before the first decoded '='
 * stay (a name written with escapes keeps them), then a plain '='. "NAME"
 * alone (no '=': unset, or inherited by a service's task) hides nothing. */
static int env_string(scan *s)
{
    str_info si;
    if (peek(s) != '"' || str(s, &si) < 0)
        return -1;
    if (si.eq == NO_EQ)
        return 0;
    s->replaced++;
    return splice(s, si.eq, "=" REDACT_MARKER_ENV "\"", si.end);
}

static int value(scan *s, unsigned depth, unsigned live);

/* env: the Env array itself, whose elements must all be strings. */
static int array(scan *s, unsigned depth, unsigned live, bool env)
{
    int more = open_items(s, depth, ']');
    unsigned child = child_live(s, depth, live, NULL);
    while (more > 0) {
        ws(s);
        if ((env ? env_string(s) : value(s, depth + 1, child)) < 0)
            return -1;
        more = next_item(s, ']');
    }
    return more;
}

static int object(scan *s, unsigned depth, unsigned live)
{
    int more = open_items(s, depth, '}');
    while (more > 0) {
        str_info key;
        ws(s);
        if (peek(s) != '"' || str(s, &key) < 0)
            return -1;
        ws(s);
        if (peek(s) != ':')
            return -1;
        s->pos++;
        if (value(s, depth + 1, child_live(s, depth, live, &key)) < 0)
            return -1;
        more = next_item(s, '}');
    }
    return more;
}

/* A target's value. null holds nothing; a type the daemon never writes there
 * fails closed rather than passing through unread. */
static int target_value(scan *s, unsigned depth, target_type type)
{
    str_info si;
    if (peek(s) == 'n')
        return literal(s, "null");
    if (type == T_ENV)
        return peek(s) == '[' ? array(s, depth, 0, true) : -1;
    if (peek(s) != '"' || str(s, &si) < 0)
        return -1;
    s->replaced++;
    return splice(s, si.start, "\"" REDACT_MARKER_TOKEN "\"", si.end);
}

static int value(scan *s, unsigned depth, unsigned live)
{
    str_info si;
    ws(s);
    for (unsigned i = 0; i < NTARGETS; i++)
        if ((live >> i & 1) && !s->t[i].path[depth])
            return target_value(s, depth, s->t[i].type);
    int c = peek(s);
    switch (c) {
    case '{':
        return object(s, depth, live);
    case '[':
        return array(s, depth, live, false);
    case '"':
        return str(s, &si);
    case 't':
        return literal(s, "true");
    case 'f':
        return literal(s, "false");
    case 'n':
        return literal(s, "null");
    default:
        return c == '-' || (c >= '0' && c <= '9') ? number(s) : -1;
    }
}

/* ---- the API ------------------------------------------------------------------ */

redact_kind redact_kind_of(const char *method, size_t mlen, const char *path, size_t plen)
{
    if (mlen != 3 || memcmp(method, "GET", 3) != 0)
        return REDACT_NONE;
    if (plen > 1 && path[plen - 1] == '/')
        plen--;
#define IS(lit) (plen == sizeof(lit) - 1 && memcmp(path, lit, plen) == 0)
/* prefix, then one non-empty segment (mux's default {id} pattern [^/]+) */
#define ONE_AFTER(pre)                                                                                     \
    (plen > sizeof(pre) - 1 && memcmp(path, pre, sizeof(pre) - 1) == 0 &&                                  \
     !memchr(path + sizeof(pre) - 1, '/', plen - (sizeof(pre) - 1)))
/* prefix, a non-empty name that may hold slashes, suffix: dockerd routes
 * /containers/{name:.*}/json, and a legacy link's name is "/parent/alias" */
#define AROUND(pre, suf)                                                                                   \
    (plen > sizeof(pre) - 1 + sizeof(suf) - 1 && memcmp(path, pre, sizeof(pre) - 1) == 0 &&            \
     memcmp(path + plen - (sizeof(suf) - 1), suf, sizeof(suf) - 1) == 0)
    redact_kind k = REDACT_NONE;
    if (IS("/swarm"))
        k = REDACT_SWARM;
    else if (IS("/services"))
        k = REDACT_SERVICES;
    else if (IS("/tasks"))
        k = REDACT_TASKS;
    else if (ONE_AFTER("/services/"))
        k = REDACT_SERVICE;
    else if (ONE_AFTER("/tasks/"))
        k = REDACT_TASK;
    else if (AROUND("/containers/", "/json") || AROUND("/libpod/containers/", "/json"))
        k = REDACT_CONTAINER; /* podman's inspect carries Config.Env too */
#undef IS
#undef ONE_AFTER
#undef AROUND
    return k;
}

int redact(redact_kind kind, unsigned what, const char *in, size_t len, char **out, size_t *outlen,
           unsigned *replaced)
{
    *out = NULL;
    *outlen = 0;
    *replaced = 0;
    if ((unsigned)kind >= sizeof(kinds) / sizeof(kinds[0]))
        return -1;
    scan s = {.in = (const unsigned char *)in, .len = len, .t = kinds[kind]};
    unsigned live = 0;
    for (unsigned i = 0; i < NTARGETS; i++)
        if (s.t[i].path && (s.t[i].what & what))
            live |= 1u << i;
    /* the input and room for a few dozen markers: most answers never grow it */
    int r = reserve(&s, len + 2048) ? value(&s, 0, live) : -1;
    ws(&s);
    if (r < 0 || s.pos != len || splice(&s, len, "", len) < 0) {
        free(s.out);
        return -1;
    }
    s.out[s.olen] = '\0';
    *out = s.out;
    *outlen = s.olen;
    *replaced = s.replaced;
    return 0;
}
