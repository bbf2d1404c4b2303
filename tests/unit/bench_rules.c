/* Microbenchmark: the cost of one rules decision with every Tecnativa
 * section granted. Prints ns per decision. Not a test: nothing asserts time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/rules.h"

/* Every rules boolean on; ALLOW_BINDS (a list of host paths) and the
 * SCOPE_* variables (labels; scoping is decided past the rules) unset. */
static const char *all_on(const char *name)
{
    if (strncmp(name, "LIBPOD_", 7) == 0 || strcmp(name, "ALLOW_BINDS") == 0 || strncmp(name, "SCOPE_", 6) == 0)
        return NULL;
    return "1";
}

int main(int argc, char **argv)
{
    static const struct {
        const char *m, *t;
    } reqs[] = {
        {"HEAD", "/_ping"},
        {"GET", "/v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22traefik.enable%22%5D%7D"},
        {"GET", "/v1.41/containers/3f2a9c1b7d4e/json"},
        {"GET", "/v1.41/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D"},
        {"GET", "/v1.41/images/registry.local:5000/team/app:1/json"},
        {"POST", "/v1.41/containers/3f2a9c1b7d4e/restart"},
        {"GET", "/v1.41/containers/abc/logs?follow=1&stdout=1"},
        {"GET", "/_ping/../containers/json"},
    };
    rules_set r;
    char err[256];
    if (rules_compile(&r, all_on, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    long iters = argc > 1 ? atol(argv[1]) : 5000000;
    size_t nreq = sizeof(reqs) / sizeof(reqs[0]);
    size_t lens[8];
    for (size_t i = 0; i < nreq; i++)
        lens[i] = strlen(reqs[i].t);
    char buf[256];
    rules_verdict v;
    unsigned long allowed = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < iters; i++) {
        size_t k = (size_t)i % nreq;
        rules_decide(&r, reqs[k].m, strlen(reqs[k].m), reqs[k].t, lens[k], buf, sizeof(buf), &v);
        allowed += v.status == RULES_ALLOW;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)iters;
    printf("rules decision: %.1f ns per decision (%ld decisions over %zu request shapes, %lu allowed)\n", ns, iters,
           nreq, allowed);
    return 0;
}
