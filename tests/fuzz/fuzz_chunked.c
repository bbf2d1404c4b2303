/* libFuzzer: the chunked framing machine. Feeding the input whole or split at
 * an input-chosen point must give the same outcome. */
#include <stdint.h>
#include <string.h>

#include "core/http1.h"

static int run(const char *p, size_t n, size_t split, bool trailers, size_t *consumed, bool *done)
{
    h1_chunked c;
    h1_chunked_init(&c, trailers);
    *consumed = 0;
    *done = false;
    size_t parts[2] = {split, n - split};
    const char *at = p;
    for (int i = 0; i < 2 && !*done; i++) {
        ssize_t k = h1_chunked_feed(&c, at, parts[i], done);
        if (k < 0)
            return -1;
        if ((size_t)k > parts[i] || ((size_t)k < parts[i] && !*done))
            __builtin_trap();
        *consumed += (size_t)k;
        at += parts[i];
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    bool trailers = data[0] & 1;
    size_t n = size - 1;
    size_t split = n ? data[0] % (n + 1) : 0;
    const char *p = (const char *)data + 1;
    size_t c1, c2;
    bool d1, d2;
    int r1 = run(p, n, n, trailers, &c1, &d1);
    int r2 = run(p, n, split, trailers, &c2, &d2);
    if (r1 != r2 || (r1 == 0 && (c1 != c2 || d1 != d2)))
        __builtin_trap();
    return 0;
}
