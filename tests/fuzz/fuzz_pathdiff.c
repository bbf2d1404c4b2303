/* libFuzzer, differential: path_normalize against an independent reference of
 * how dockerd reads a path, written here from Go's documented rules rather
 * than from our code:
 *   - url.PathUnescape: "%XX" with two hex digits is a byte; any other '%' is
 *     an error (the request is a 400 in Go's server);
 *   - path.Clean on a rooted path: split on '/', drop "" and "." elements,
 *     ".." pops the previous element (never above the root), join;
 *   - gorilla/mux cleanPath: a trailing '/' of the original survives unless
 *     the result is "/";
 * plus the proxy's own stricter rule: decoded control bytes are refused.
 * Any disagreement is a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/path.h"

/* Returns the reference result in out (malloc'd) or NULL for "refused". */
static char *reference(const char *t, size_t n)
{
    if (n == 0 || t[0] != '/')
        return NULL;
    size_t plen = 0;
    while (plen < n && t[plen] != '?')
        plen++;
    char *dec = malloc(plen + 1);
    size_t d = 0;
    for (size_t i = 0; i < plen; i++) {
        if (t[i] == '%') {
            if (i + 2 >= plen) {
                free(dec);
                return NULL;
            }
            char hex[3] = {t[i + 1], t[i + 2], 0};
            char *end;
            if (!strchr("0123456789abcdefABCDEF", hex[0]) || !strchr("0123456789abcdefABCDEF", hex[1]) || !hex[0] ||
                !hex[1]) {
                free(dec);
                return NULL;
            }
            dec[d++] = (char)strtol(hex, &end, 16);
            i += 2;
        } else {
            dec[d++] = t[i];
        }
    }
    for (size_t i = 0; i < d; i++)
        if ((unsigned char)dec[i] < 0x20 || dec[i] == 0x7f) {
            free(dec);
            return NULL;
        }
    /* split into elements; a stack of (start, len) */
    size_t *st = malloc(sizeof(size_t) * 2 * (d + 1)), top = 0;
    size_t i = 0;
    while (i <= d) {
        size_t s = i;
        while (i < d && dec[i] != '/')
            i++;
        size_t len = i - s;
        if (len == 0 || (len == 1 && dec[s] == '.')) {
        } else if (len == 2 && dec[s] == '.' && dec[s + 1] == '.') {
            if (top)
                top--;
        } else {
            st[2 * top] = s;
            st[2 * top + 1] = len;
            top++;
        }
        i++;
    }
    char *out = malloc(d + 3);
    size_t o = 0;
    for (size_t k = 0; k < top; k++) {
        out[o++] = '/';
        memcpy(out + o, dec + st[2 * k], st[2 * k + 1]);
        o += st[2 * k + 1];
    }
    if (o == 0)
        out[o++] = '/';
    if (d > 0 && dec[d - 1] == '/' && !(o == 1 && out[0] == '/'))
        out[o++] = '/';
    out[o] = '\0';
    free(st);
    free(dec);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data;
    char *buf = malloc(size + 1);
    const char *why;
    long n = path_normalize(t, size, buf, size + 1, &why);
    char *ref = reference(t, size);
    if ((n < 0) != (ref == NULL))
        __builtin_trap();
    if (ref && (strlen(ref) != (size_t)n || memcmp(ref, buf, (size_t)n) != 0))
        __builtin_trap();
    free(ref);
    free(buf);
    return 0;
}
