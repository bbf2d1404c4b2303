/* libFuzzer: path normalisation and the decision. Input: one byte choosing a
 * method and a variable set, then the target. Invariants: the decided path is
 * clean (no "//", no "." or ".." segments, no control bytes); under the
 * defaults nothing but /_ping, /version and /events (and libpod's ping and
 * version) is ever allowed; with POST=0 no write method is allowed outside
 * the container actions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/path.h"
#include "rules/rules.h"

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "GET"};

static const char *get_defaults(const char *n) { return NULL; }
static const char *get_all_read(const char *n)
{
    return strcmp(n, "POST") == 0 ? "0" : strncmp(n, "ALLOW_", 6) == 0 ? "0" : "1";
}

static int clean(const char *p, size_t n)
{
    if (n == 0 || p[0] != '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return 0;
        if (p[i] == '/' && i + 1 < n) {
            const char *s = p + i + 1;
            size_t rest = n - i - 1;
            if (s[0] == '/')
                return 0;
            if (s[0] == '.' && (rest == 1 || s[1] == '/'))
                return 0;
            if (rest >= 2 && s[0] == '.' && s[1] == '.' && (rest == 2 || s[2] == '/'))
                return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static rules_set defaults, all_read;
    static int ready;
    char err[256];
    if (!ready) {
        rules_compile(&defaults, get_defaults, err, sizeof(err));
        rules_compile(&all_read, get_all_read, err, sizeof(err));
        ready = 1;
    }
    const char *m = methods[data[0] & 7];
    const rules_set *r = (data[0] & 8) ? &all_read : &defaults;
    const char *t = (const char *)data + 1;
    size_t tl = size - 1;
    char *buf = malloc(tl + 1);
    rules_verdict v;
    rules_decide(r, m, strlen(m), t, tl, buf, tl + 1, &v);
    if (v.status == RULES_BAD) {
        free(buf);
        return 0;
    }
    /* the full normalised path must be clean */
    const char *why;
    long n = path_normalize(t, tl, buf, tl + 1, &why);
    if (n < 0 || !clean(buf, (size_t)n))
        __builtin_trap();
    rules_decide(r, m, strlen(m), t, tl, buf, tl + 1, &v);
    if (v.status == RULES_ALLOW) {
        bool read = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
        if (!read)
            __builtin_trap(); /* POST=0 in both sets, no actions granted */
        if (r == &defaults) {
            static const char *const ok[] = {"/_ping", "/version", "/events", "/libpod/_ping", "/libpod/version"};
            bool found = false;
            for (size_t i = 0; i < 5; i++) {
                size_t l = strlen(ok[i]);
                if (v.path_len >= l && memcmp(v.path, ok[i], l) == 0 && (v.path_len == l || v.path[l] == '/'))
                    found = true;
            }
            if (!found)
                __builtin_trap();
        }
        /* exfiltration (/containers/{name}/export, name non-empty) is never
         * granted in these sets */
        if (v.path_len > 19 && memcmp(v.path + v.path_len - 7, "/export", 7) == 0 &&
            memcmp(v.path, "/containers/", 12) == 0)
            __builtin_trap();
    }
    free(buf);
    return 0;
}
