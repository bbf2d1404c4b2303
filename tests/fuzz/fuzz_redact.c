/* libFuzzer: response redaction (rules/redact.c). The first byte picks the
 * kind (% 7) and what to redact (/ 7 % 4), the rest is the answer. Invariants:
 *  - a refusal leaves nothing: *out NULL, the lengths 0;
 *  - asking for nothing gives back the input byte for byte, and asking for
 *    something never accepts an input that asking for nothing refuses;
 *  - the output redacted again is the same bytes with the same count;
 *  - an accepted input is valid UTF-8 with no control byte but JSON's spaces;
 *  - an accepted input, and the output, are JSON to cJSON too (cJSON is laxer
 *    everywhere but one place: 1.7.15 reads at most 63 bytes of a number);
 *  - read by cJSON, the output is the input node for node except at the
 *    targets, which this file finds on its own (key paths written as dotted
 *    strings, "*" for each element of an array): there an Env string with
 *    an '=' reads as its text up to the first '=', then "=" and the marker; a
 *    token string reads as the marker; a null stays null; anything else is a
 *    type redact should have refused. The count is the number of those
 *    strings. (cJSON ends its strings at a "\u0000": such inputs skip this.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "rules/redact.h"

#define DEEPEST 80 /* past redact's 64 */

static const char *const paths[][2] = {
    [REDACT_CONTAINER] = {"Config.Env"},
    [REDACT_SERVICE] = {"Spec.TaskTemplate.ContainerSpec.Env", "PreviousSpec.TaskTemplate.ContainerSpec.Env"},
    [REDACT_SERVICES] = {"*.Spec.TaskTemplate.ContainerSpec.Env", "*.PreviousSpec.TaskTemplate.ContainerSpec.Env"},
    [REDACT_TASK] = {"Spec.ContainerSpec.Env"},
    [REDACT_TASKS] = {"*.Spec.ContainerSpec.Env"},
    [REDACT_SWARM] = {"JoinTokens.Worker", "JoinTokens.Manager"},
};

typedef struct walk {
    redact_kind kind;
    unsigned what;
    const char *keys[DEEPEST]; /* the key of each level; NULL for an array element */
    unsigned changed;          /* target strings seen */
} walk;

/* Whether the node reached through keys[0, depth) is at the dotted path. */
static int path_is(const walk *w, unsigned depth, const char *dotted)
{
    for (unsigned i = 0; i < depth; i++) {
        size_t n = strcspn(dotted, ".");
        int each = n == 1 && dotted[0] == '*';
        const char *k = w->keys[i];
        if (n == 0 || (each ? k != NULL : (!k || strlen(k) != n || memcmp(k, dotted, n) != 0)))
            return 0;
        dotted += n;
        dotted += *dotted == '.';
    }
    return *dotted == '\0';
}

/* 1 for an Env target, 2 for a token, 0 for none. */
static int target_at(const walk *w, unsigned depth)
{
    int token = w->kind == REDACT_SWARM;
    if (!(w->what & (token ? REDACT_JOIN_TOKENS : REDACT_ENV)))
        return 0;
    for (int i = 0; i < 2; i++)
        if (paths[w->kind][i] && path_is(w, depth, paths[w->kind][i]))
            return token ? 2 : 1;
    return 0;
}

static int env_same(walk *w, const cJSON *a, const cJSON *b)
{
    const cJSON *x = a->child, *y = b->child;
    size_t m = strlen(REDACT_MARKER_ENV);
    for (; x && y; x = x->next, y = y->next) {
        if (!cJSON_IsString(x) || !cJSON_IsString(y))
            return 0;
        const char *eq = strchr(x->valuestring, '=');
        if (!eq) {
            if (strcmp(x->valuestring, y->valuestring) != 0)
                return 0;
            continue;
        }
        size_t k = (size_t)(eq - x->valuestring) + 1;
        w->changed++;
        if (strlen(y->valuestring) != k + m || memcmp(y->valuestring, x->valuestring, k) != 0 ||
            strcmp(y->valuestring + k, REDACT_MARKER_ENV) != 0)
            return 0;
    }
    return !x && !y;
}

static int target_same(walk *w, int type, const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNull(a))
        return cJSON_IsNull(b);
    if (type == 1)
        return cJSON_IsArray(a) && cJSON_IsArray(b) && env_same(w, a, b);
    if (!cJSON_IsString(a))
        return 0;
    w->changed++;
    return cJSON_IsString(b) && strcmp(b->valuestring, REDACT_MARKER_TOKEN) == 0;
}

static int same(walk *w, const cJSON *a, const cJSON *b, unsigned depth)
{
    int type = target_at(w, depth);
    if (type)
        return target_same(w, type, a, b);
    if ((a->type & 0xFF) != (b->type & 0xFF))
        return 0;
    if (cJSON_IsNumber(a))
        return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (!cJSON_IsArray(a) && !cJSON_IsObject(a))
        return 1;
    if (depth >= DEEPEST)
        __builtin_trap(); /* redact accepted more than 64 levels */
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next) {
        if (cJSON_IsObject(a) && strcmp(x->string, y->string) != 0)
            return 0;
        w->keys[depth] = cJSON_IsObject(a) ? x->string : NULL;
        if (!same(w, x, y, depth + 1))
            return 0;
    }
    return !x && !y;
}

/* UTF-8 as RFC 3629 has it, no control bytes but JSON's spaces: cJSON copies
 * string bytes unread, so this says what it cannot. */
static int clean_text(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            if (s[i] < 0x20 && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
                return 0;
            continue;
        }
        size_t more = s[i] >= 0xF0 ? 3 : s[i] >= 0xE0 ? 2 : s[i] >= 0xC0 ? 1 : 0;
        if (!more || more > n - i - 1)
            return 0;
        uint32_t cp = s[i] & (0x3Fu >> more);
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        static const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
        if (cp < least[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += more;
    }
    return 1;
}

/* cJSON 1.7.15 copies at most 63 bytes of a number before strtod. */
static int long_number_run(const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        run = s[i] && strchr("0123456789+-.eE", s[i]) ? run + 1 : 0;
        if (run >= 64)
            return 1;
    }
    return 0;
}

/* cJSON's reading, the whole input one value (require_null_terminated). */
static cJSON *cjson(const char *s, size_t n)
{
    char *z = malloc(n + 1);
    memcpy(z, s, n);
    z[n] = '\0';
    cJSON *j = cJSON_ParseWithLengthOpts(z, n + 1, NULL, 1);
    free(z);
    return j;
}

static void check_cjson(redact_kind kind, unsigned what, const char *in, size_t len, const char *out, size_t olen,
                        unsigned replaced)
{
    if (long_number_run(in, len))
        return;
    cJSON *a = cjson(in, len), *b = cjson(out, olen);
    if (!a || !b)
        __builtin_trap(); /* redact accepted what cJSON does not read, or wrote it */
    walk w = {.kind = kind, .what = what};
    if (!memmem(in, len, "\\u0000", 6) && (!same(&w, a, b, 0) || w.changed != replaced))
        __builtin_trap();
    cJSON_Delete(a);
    cJSON_Delete(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    redact_kind kind = (redact_kind)(data[0] % 7);
    unsigned what = data[0] / 7 % 4;
    const char *in = (const char *)data + 1;
    size_t len = size - 1, olen, plen, alen;
    char *out, *plain, *again;
    unsigned n, pn, an;

    int rc = redact(kind, what, in, len, &out, &olen, &n);
    int prc = redact(kind, 0, in, len, &plain, &plen, &pn);
    if (prc == 0 && (plen != len || memcmp(plain, in, len) != 0 || pn != 0))
        __builtin_trap(); /* nothing asked, something changed */
    if (prc != 0 && (prc != -1 || plain || plen || pn || rc == 0))
        __builtin_trap();
    free(plain);
    if (rc != 0) {
        if (rc != -1 || out || olen || n)
            __builtin_trap();
        return 0;
    }
    if (out[olen] != '\0' || !clean_text((const unsigned char *)in, len))
        __builtin_trap();
    if (redact(kind, what, out, olen, &again, &alen, &an) != 0 || alen != olen || memcmp(again, out, olen) != 0 ||
        an != n)
        __builtin_trap(); /* not idempotent */
    free(again);
    check_cjson(kind, what, in, len, out, olen, n);
    free(out);
    return 0;
}
