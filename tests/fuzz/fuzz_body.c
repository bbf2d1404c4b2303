/* libFuzzer: message bodies (h1_body), every way one is set up. The input is
 * a 5-byte header, then the bytes behind the message head:
 *   data[0]       bits 0-2: how the body is set up (the table below);
 *                 bits 3-4: the no-body response's status (HEAD, 204, 304)
 *   data[1..2]    a Content-Length, little-endian (modes that use one)
 *   data[3..4]    where to cut the bytes in two, little-endian, modulo n + 1
 * Fed whole, in those two reads and a read per byte, the outcome must be the
 * same; every read must keep h1_body_feed's promises, and the outcome must be
 * what the mode says where that is known without a reference (all but
 * chunked; a chunked request body is checked against the same bytes as a
 * response's). */
#include <stdint.h>
#include <string.h>

#include "core/http1.h"

enum {
    REQ_CHUNKED,  /* no extensions, no trailers */
    RES_CHUNKED,  /* extensions and trailers */
    REQ_LENGTH,   /* Content-Length data[1..2] (0: no body) */
    RES_LENGTH,
    TUNNEL,       /* h1_body_close */
    RES_CLOSE,    /* a response without a length */
    REQ_NONE,     /* a request without Content-Length or Transfer-Encoding */
    RES_NONE,     /* HEAD's, 204 or 304, with Content-Length data[1..2] */
};

static void setup(h1_body *b, int mode, uint8_t bits, int64_t length)
{
    h1_request req;
    h1_response res;
    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    req.content_length = res.content_length = -1;
    res.status = 200;
    res.minor = 1;
    switch (mode) {
    case REQ_CHUNKED:
        req.chunked = true;
        /* fall through */
    case REQ_NONE:
        h1_body_request(b, &req);
        break;
    case REQ_LENGTH:
        req.content_length = length;
        h1_body_request(b, &req);
        break;
    case RES_CHUNKED:
        res.chunked = true;
        h1_body_response(b, &res, false);
        break;
    case RES_LENGTH:
        res.content_length = length;
        h1_body_response(b, &res, false);
        break;
    case RES_CLOSE:
        h1_body_response(b, &res, false);
        break;
    case RES_NONE: {
        static const int status[4] = {200, 204, 304, 200};
        res.status = status[(bits >> 3) & 3];
        res.content_length = length;
        h1_body_response(b, &res, res.status == 200);
        break;
    }
    default:
        h1_body_close(b);
        break;
    }
}

typedef struct {
    size_t consumed;
    bool done;
    const char *error;
    size_t dlen;    /* h1_body_decode's data, fed the same reads */
    uint64_t dhash; /* FNV-1a of that data */
} outcome;

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211u;
    return h;
}

/* Feeds p[0..n) in reads ending at cuts[0..ncuts), as the proxy would: stops
 * at a framing error; after the end, the reads left must give nothing. Traps
 * on a broken promise. */
static outcome run(int mode, uint8_t bits, int64_t length, const char *p, const size_t *cuts, size_t ncuts,
                   size_t step)
{
    h1_body b, d;
    setup(&b, mode, bits, length);
    setup(&d, mode, bits, length);
    outcome o = {0, false, NULL, 0, 1469598103934665603u};
    static char out[65536];
    size_t at = 0;
    for (size_t k = 0; k < ncuts; k++) {
        size_t end = cuts ? cuts[k] : (k + 1) * step;
        size_t len = end - at;
        bool done = false, ddone = false;
        ssize_t got = h1_body_feed(&b, p + at, len, &done);
        /* decoding keeps feeding's promises exactly, and never gives more data than it consumed */
        size_t dl;
        ssize_t dgot = h1_body_decode(&d, p + at, len, out, &dl, &ddone);
        if (dgot != got || ddone != done || (got >= 0 && dl > (size_t)got) || (got < 0 && (!d.error || !b.error || strcmp(d.error, b.error) != 0)))
            __builtin_trap();
        if (got > 0 && (b.mode == H1_BODY_LENGTH || b.mode == H1_BODY_CLOSE) && (dl != (size_t)got || memcmp(out, p + at, dl) != 0))
            __builtin_trap();
        if (got > 0) {
            o.dlen += dl;
            o.dhash = fnv(o.dhash, out, dl);
        }
        if (got < 0) {
            if (!b.error || o.done || b.mode != H1_BODY_CHUNKED)
                __builtin_trap();
            o.error = b.error;
            return o;
        }
        if ((size_t)got > len || ((size_t)got < len && !done))
            __builtin_trap();
        if (o.done && (got != 0 || !done))
            __builtin_trap();
        if (done && b.mode == H1_BODY_CLOSE)
            __builtin_trap();
        o.consumed += (size_t)got;
        o.done = done;
        at = end;
    }
    return o;
}

static bool same(const outcome *a, const outcome *b)
{
    if (a->error || b->error)
        return a->error && b->error && strcmp(a->error, b->error) == 0;
    return a->consumed == b->consumed && a->done == b->done && a->dlen == b->dlen && a->dhash == b->dhash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    int mode = data[0] & 7;
    int64_t length = data[1] | data[2] << 8;
    const char *p = (const char *)data + 5;
    size_t n = size - 5;
    size_t split = (size_t)(data[3] | data[4] << 8) % (n + 1);

    size_t whole_cut[1] = {n}, two[2] = {split, n};
    outcome whole = run(mode, data[0], length, p, whole_cut, 1, 0);
    outcome halves = run(mode, data[0], length, p, two, 2, 0);
    outcome bytes = n ? run(mode, data[0], length, p, NULL, n, 1) : whole;
    if (!same(&whole, &halves) || !same(&whole, &bytes))
        __builtin_trap();

    /* What each mode gives, where that is known without a reference. */
    bool none = mode == REQ_NONE || mode == RES_NONE || (length == 0 && (mode == REQ_LENGTH || mode == RES_LENGTH));
    if (none && (whole.error || whole.consumed != 0 || !whole.done))
        __builtin_trap();
    if (!none && (mode == REQ_LENGTH || mode == RES_LENGTH)) {
        size_t want = n < (size_t)length ? n : (size_t)length;
        if (whole.error || whole.consumed != want || whole.done != (n >= (size_t)length))
            __builtin_trap();
    }
    if ((mode == TUNNEL || mode == RES_CLOSE) && (whole.error || whole.consumed != n || whole.done))
        __builtin_trap();
    if (!whole.error && !whole.done && whole.consumed != n)
        __builtin_trap();
    /* A response's chunked body only adds extensions and trailers to a
     * request's: what a request accepts, a response accepts alike. */
    if (mode == REQ_CHUNKED && !whole.error) {
        outcome res = run(RES_CHUNKED, data[0], length, p, whole_cut, 1, 0);
        if (!same(&whole, &res))
            __builtin_trap();
    }
    return 0;
}
