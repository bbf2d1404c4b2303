/* Microbenchmark: the CPU cost of one request head sent one byte per read, as
 * a slow client can: parsed from scratch at every read (h1_parse_request on
 * the growing buffer, the old way) and resumed (h1_parse_request_resume).
 * Heads of 64 KiB (the default SOCKET_PROXY_MAX_HEAD) with one long header
 * value, one long target, or short header lines; resumed only, 256 KiB and
 * 1 MiB (the largest SOCKET_PROXY_MAX_HEAD; from scratch it takes seconds).
 * Prints one line, ms of CPU per head (resumed: the best of a few runs).
 * Not a test: nothing asserts time. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/http1.h"

enum { VALUE, TARGET, LINES };

/* A head of exactly size bytes of the given shape. */
static void build(char *p, size_t size, int shape)
{
    static const char *const prefix[] = {
        "GET / HTTP/1.1\r\nHost: x\r\nX-Long: ", "GET /", "GET / HTTP/1.1\r\nHost: x\r\n",
    };
    static const char *const suffix[] = {"\r\n\r\n", " HTTP/1.1\r\nHost: x\r\n\r\n", "\r\n"};
    size_t pn = strlen(prefix[shape]), sn = strlen(suffix[shape]), at = pn;
    memcpy(p, prefix[shape], pn);
    if (shape == LINES) {
        while (size - at - sn >= 12) {
            memcpy(p + at, "X: y\r\n", 6);
            at += 6;
        }
        /* The last line takes the 6 to 11 bytes left. */
        size_t pad = size - at - sn - 5;
        memcpy(p + at, "X: ", 3);
        memset(p + at + 3, 'y', pad);
        memcpy(p + at + 3 + pad, "\r\n", 2);
        at += 5 + pad;
    } else {
        memset(p + at, 'a', size - at - sn);
        at = size - sn;
    }
    memcpy(p + at, suffix[shape], sn);
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Feeds the head one byte per read until the parser answers; the best of
 * `rounds` runs, in ms of CPU. *answer is the parser's last answer. */
static double feed(const char *head, size_t size, bool resume, int rounds, ssize_t *answer)
{
    double best = -1;
    for (int r = 0; r < rounds; r++) {
        h1_progress prog;
        h1_progress_init(&prog);
        h1_request req;
        ssize_t n = H1_INCOMPLETE;
        double t0 = cpu_ms();
        for (size_t len = 1; len <= size && n == H1_INCOMPLETE; len++)
            n = resume ? h1_parse_request_resume(head, len, size, &req, &prog) : h1_parse_request(head, len, size, &req);
        double t = cpu_ms() - t0;
        if (best < 0 || t < best)
            best = t;
        *answer = n;
    }
    return best;
}

int main(void)
{
    static const char *const name[] = {"long value", "long target", "short lines"};
    size_t big = 1 << 20;
    char *head = malloc(big);
    if (!head)
        return 1;
    char out[600];
    size_t o = (size_t)snprintf(out, sizeof(out), "request head fed one byte per read, ms CPU per head:");
    for (int shape = VALUE; shape <= LINES; shape++) {
        build(head, 65536, shape);
        ssize_t a, b;
        double scratch = feed(head, 65536, false, 1, &a);
        double resumed = feed(head, 65536, true, 5, &b);
        /* Both ways must give the same answer: a full head, or for short
         * lines 431 (too many fields) once the head is complete. */
        if (a != b || (shape != LINES && a != 65536)) {
            fprintf(stderr, "bench_http1: %s: from scratch %zd, resumed %zd\n", name[shape], a, b);
            return 1;
        }
        o += (size_t)snprintf(out + o, sizeof(out) - o, " 64 KiB %s: from scratch %.1f, resumed %.2f;", name[shape],
                              scratch, resumed);
    }
    for (size_t size = 256 << 10; size <= big; size *= 4) {
        double ms[2];
        for (int shape = VALUE; shape <= TARGET; shape++) {
            build(head, size, shape);
            ssize_t n;
            ms[shape] = feed(head, size, true, 3, &n);
            if (n != (ssize_t)size) {
                fprintf(stderr, "bench_http1: %zu KiB %s: resumed %zd\n", size >> 10, name[shape], n);
                return 1;
            }
        }
        o += (size_t)snprintf(out + o, sizeof(out) - o, " resumed %s: long value %.2f, long target %.2f%s",
                              size == big ? "1 MiB" : "256 KiB", ms[VALUE], ms[TARGET], size == big ? "" : ";");
    }
    printf("%s\n", out);
    free(head);
    return 0;
}
