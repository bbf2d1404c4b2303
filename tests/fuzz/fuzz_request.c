/* libFuzzer: the request head parser. Invariants: a parsed head lies within
 * the input, ends in CRLFCRLF, and never has both framings. */
#include <stdint.h>
#include <string.h>

#include "core/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h1_request req;
    ssize_t n = h1_parse_request((const char *)data, size, 4096, &req);
    if (n > 0) {
        if ((size_t)n > size || n < 4 || memcmp(data + n - 4, "\r\n\r\n", 4) != 0)
            __builtin_trap();
        if (req.chunked && req.content_length >= 0)
            __builtin_trap();
        if (req.target.n == 0 || req.target.p[0] != '/' || memchr(req.target.p, ' ', req.target.n))
            __builtin_trap();
    } else if (n == H1_ERROR && (!req.error || req.status < 400)) {
        __builtin_trap();
    }
    return 0;
}
