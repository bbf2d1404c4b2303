/* Path normalisation, matching how dockerd reads a request target. */
#include "path.h"

#include <stdbool.h>

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long path_normalize(const char *target, size_t tlen, char *out, size_t cap, const char **why)
{
    size_t n = 0, i = 0;
    if (tlen == 0 || target[0] != '/') {
        *why = "path must start with /";
        return -1;
    }
    /* 1. Decode the path part (up to '?') as Go's URL.Path does. */
    while (i < tlen && target[i] != '?') {
        unsigned char c = (unsigned char)target[i];
        if (c == '%') {
            int hi = i + 2 < tlen ? hexval((unsigned char)target[i + 1]) : -1;
            int lo = i + 2 < tlen ? hexval((unsigned char)target[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "invalid percent-encoding in path";
                return -1;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 3;
        } else {
            i++;
        }
        if (c < 0x20 || c == 0x7f) {
            *why = "control byte in path";
            return -1;
        }
        if (n + 2 > cap) {
            *why = "path too long";
            return -1;
        }
        out[n++] = (char)c;
    }
    bool trailing = n > 1 && out[n - 1] == '/';

    /* 2. Clean in place, as Go's path.Clean on a rooted path: drop empty and
     * "." segments, let ".." remove the segment before it (never the root). */
    size_t r = 1, w = 1;
    while (r < n) {
        if (out[r] == '/') {
            r++;
        } else if (out[r] == '.' && (r + 1 == n || out[r + 1] == '/')) {
            r++;
        } else if (out[r] == '.' && out[r + 1] == '.' && (r + 2 == n || out[r + 2] == '/')) {
            r += 2;
            if (w > 1) {
                w--;
                while (w > 1 && out[w] != '/')
                    w--;
            }
        } else {
            if (w != 1)
                out[w++] = '/';
            while (r < n && out[r] != '/')
                out[w++] = out[r++];
        }
    }
    /* 3. mux's cleanPath puts back a trailing slash that Clean removed. */
    if (trailing && w > 1)
        out[w++] = '/';
    out[w] = '\0';
    return (long)w;
}

size_t path_version_prefix(const char *path, size_t len)
{
    size_t i = 2;
    if (len < 4 || path[0] != '/' || path[1] != 'v')
        return 0;
    while (i < len && ((path[i] >= '0' && path[i] <= '9') || path[i] == '.'))
        i++;
    if (i == 2 || i >= len || path[i] != '/')
        return 0;
    return i;
}
