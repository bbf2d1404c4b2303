/* Microbenchmark: rules decisions across profiles. Compiles 16 profiles'
 * rule sets from prefixed variables (TEST0__ .. TEST15__, each granting a
 * different mix, as rules_compile_source does for SOCKET_PROXY_PROFILES),
 * then decides the same request shapes against one profile at a time, and
 * round-robin across all 16 (a connection's rules are its listener's
 * profile's).
 * Prints ns per decision for both, and the compile time per profile. Not a
 * test: nothing asserts time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/rules.h"

#define NPROF 16

/* TEST<i>__<VAR>: every profile lists and inspects containers; the rest
 * varies with i so that the 16 rule sets differ. */
static const char *get(const char *name)
{
    int i, n = 0;
    if (sscanf(name, "TEST%d__%n", &i, &n) != 1 || n == 0 || i < 0 || i >= NPROF)
        return NULL;
    const char *v = name + n;
    static const struct {
        const char *var;
        int every; /* granted for profiles i with i % every == 0 */
    } grants[] = {
        {"CONTAINERS", 1}, {"IMAGES", 2}, {"POST", 3}, {"INFO", 4}, {"NETWORKS", 5},
        {"ALLOW_EXPORT", 7}, {"EXEC", 8}, {"VOLUMES", 6},
    };
    for (size_t k = 0; k < sizeof(grants) / sizeof(grants[0]); k++)
        if (strcmp(v, grants[k].var) == 0)
            return i % grants[k].every == 0 ? "1" : "0";
    if (strcmp(v, "ALLOW_LOGS") == 0)
        return i % 2 ? "0" : NULL; /* unset follows CONTAINERS */
    return NULL;
}

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

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
    {"POST", "/v1.41/containers/create?name=web"},
    {"GET", "/v1.41/containers/abc/export"},
    {"GET", "/v1.41/info"},
};
#define NREQ (sizeof(reqs) / sizeof(reqs[0]))

/* Decides iters requests, the k-th against profile k % nprof (request shapes
 * in turn); returns ns per decision and counts the allowed ones. */
static double run(const rules_set *sets, int nprof, long iters, unsigned long *allowed)
{
    size_t lens[NREQ], mlens[NREQ];
    for (size_t i = 0; i < NREQ; i++) {
        lens[i] = strlen(reqs[i].t);
        mlens[i] = strlen(reqs[i].m);
    }
    char buf[256];
    rules_verdict v;
    *allowed = 0;
    double a = now_ns();
    for (long i = 0; i < iters; i++) {
        size_t k = (size_t)i % NREQ;
        rules_decide(&sets[i % nprof], reqs[k].m, mlens[k], reqs[k].t, lens[k], buf, sizeof(buf), &v);
        *allowed += v.status == RULES_ALLOW;
    }
    return (now_ns() - a) / (double)iters;
}

int main(int argc, char **argv)
{
    static rules_set sets[NPROF];
    char err[256], prefix[NPROF][16];
    long iters = argc > 1 ? atol(argv[1]) : 4000000;
    const int rounds = 64;
    double a = now_ns();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < NPROF; i++) {
            snprintf(prefix[i], sizeof(prefix[i]), "TEST%d__", i);
            rules_source src = {.get = get, .prefix = prefix[i]};
            if (rules_compile_source(&sets[i], &src, err, sizeof(err)) != 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
        }
    double compile_us = (now_ns() - a) / (rounds * NPROF) / 1e3;
    int distinct = 0;
    for (int i = 0; i < NPROF; i++) {
        int j = 0;
        while (j < i && sets[j].granted != sets[i].granted)
            j++;
        distinct += j == i;
    }
    /* One profile at a time (each in turn, the same verdicts in all) against
     * all of them interleaved: the difference is what switching costs. */
    unsigned long ok1 = 0, ok16, n;
    run(sets, NPROF, iters / 10, &n); /* warm up */
    double one = 0;
    for (int i = 0; i < NPROF; i++) {
        one += run(&sets[i], 1, iters / NPROF, &n) / NPROF;
        ok1 += n;
    }
    double all = run(sets, NPROF, iters, &ok16);
    printf("rules decision, 1 profile at a time: %.1f ns per decision (%ld decisions over %zu request shapes, %lu "
           "allowed)\n", one, iters / NPROF * NPROF, NREQ, ok1);
    printf("rules decision, %d profiles round-robin: %.1f ns per decision (%ld decisions, %lu allowed)\n", NPROF, all,
           iters, ok16);
    printf("profiles: compile %.2f us per profile; decision 1 profile %.1f ns, %d profiles (%d distinct rule sets) "
           "%.1f ns (x%.2f)\n", compile_us, one, NPROF, distinct, all, all / one);
    return 0;
}
