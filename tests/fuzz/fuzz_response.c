/* libFuzzer: the response head parser. */
#include <stdint.h>
#include <string.h>

#include "core/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h1_response res;
    ssize_t n = h1_parse_response((const char *)data, size, 4096, &res);
    if (n > 0 && ((size_t)n > size || res.status < 100 || res.status > 999 || (res.chunked && res.content_length >= 0)))
        __builtin_trap();
    if (n == H1_ERROR && !res.error)
        __builtin_trap();
    return 0;
}
