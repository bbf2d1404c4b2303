/* libFuzzer: the request head parser. Invariants: a parsed head lies within
 * the input, ends in CRLFCRLF, and never has both framings. And the input fed
 * in reads (their ends derived from the input) to the resumable parser gets,
 * read after read, the answer of a parse from scratch of the same bytes, and
 * in the end the answer of the whole input: where reads end changes nothing. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/http1.h"

#define MAX_READS 64

static void check_head(const uint8_t *data, size_t size, ssize_t n, const h1_request *req)
{
    if (n > 0) {
        if ((size_t)n > size || n < 4 || memcmp(data + n - 4, "\r\n\r\n", 4) != 0)
            __builtin_trap();
        if (req->chunked && req->content_length >= 0)
            __builtin_trap();
        if (req->target.n == 0 || req->target.p[0] != '/' || memchr(req->target.p, ' ', req->target.n))
            __builtin_trap();
    } else if (n == H1_ERROR && (!req->error || req->status < 400)) {
        __builtin_trap();
    }
}

/* Pointers are compared as offsets from their own buffer. */
static bool same_str(h1_str a, const char *abase, h1_str b, const char *bbase)
{
    return a.n == b.n && (a.p && b.p ? a.p - abase == b.p - bbase : a.p == b.p);
}

static bool same_req(const h1_request *a, const char *abase, const h1_request *b, const char *bbase)
{
    return same_str(a->method, abase, b->method, bbase) && same_str(a->target, abase, b->target, bbase) &&
           same_str(a->host, abase, b->host, bbase) && a->minor == b->minor &&
           a->content_length == b->content_length && a->chunked == b->chunked && a->conn_close == b->conn_close &&
           a->status == b->status && (a->error == b->error || (a->error && b->error && !strcmp(a->error, b->error)));
}

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Where the next read ends: one byte, just after the next CR (the CR of a
 * CRLF cut in two), a few bytes, or up to the rest; the last read takes all. */
static size_t next_cut(const char *p, size_t at, size_t size, size_t reads, uint64_t *s)
{
    uint64_t r = next(s);
    if (reads + 1 >= MAX_READS)
        return size;
    switch (r % 4) {
    case 0:
        return at + 1;
    case 1: {
        const char *cr = memchr(p + at, '\r', size - at);
        return cr ? (size_t)(cr - p) + 1 : size;
    }
    case 2:
        return at + 1 + (size_t)(r >> 8) % (size - at < 16 ? size - at : 16);
    default:
        return at + 1 + (size_t)(r >> 8) % (size - at);
    }
}

/* Feeds data in reads, each time in a new place (as after a memmove), and
 * checks every answer; byte by byte when bytewise. */
static void check_reads(const uint8_t *data, size_t size, size_t max_head, bool bytewise, uint64_t seed,
                        ssize_t whole_n, const h1_request *whole)
{
    char *place[2] = {malloc(size), malloc(size)};
    if (!place[0] || !place[1])
        abort();
    h1_progress prog;
    h1_progress_init(&prog);
    size_t at = 0, reads = 0;
    for (;;) {
        at = bytewise ? at + 1 : next_cut((const char *)data, at, size, reads, &seed);
        char *buf = place[reads++ % 2];
        memcpy(buf, data, at);
        h1_request a, b;
        ssize_t n = h1_parse_request_resume(buf, at, max_head, &a, &prog);
        ssize_t m = h1_parse_request(buf, at, max_head, &b);
        if (n != m || !same_req(&a, buf, &b, buf))
            __builtin_trap();
        if (n != H1_INCOMPLETE || at == size) {
            if (n != whole_n || !same_req(&a, buf, whole, (const char *)data))
                __builtin_trap();
            break;
        }
    }
    free(place[0]);
    free(place[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h1_request req;
    ssize_t n = h1_parse_request((const char *)data, size, 4096, &req);
    check_head(data, size, n, &req);
    if (size == 0)
        return 0;

    uint64_t seed = 1469598103934665603ull;  /* FNV-1a of the input */
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 1099511628211ull;
    check_reads(data, size, 4096, false, seed, n, &req);
    if (size <= 256)
        check_reads(data, size, 4096, true, seed, n, &req);

    /* A max_head within the input, so that 431 meets the other errors. */
    size_t max_head = 1 + (size_t)(seed >> 32) % size;
    n = h1_parse_request((const char *)data, size, max_head, &req);
    check_head(data, size, n, &req);
    check_reads(data, size, max_head, false, seed ^ 1, n, &req);
    return 0;
}
