/* admit_from on a real libuv loop (core/admit_resolve.c), with no network:
 * the test runs in its own mount namespace where /etc/nsswitch.conf says
 * "hosts: files", so localhost comes from /etc/hosts and
 * no-such-host.invalid fails without a DNS query ever leaving the machine
 * (private_resolver; RES_OPTIONS bounds a resolver all the same). Checks: done is called once and never from within the check,
 * cancel keeps it from being called, a miss waits for the rate limit's gap,
 * the 2 s bound holds when the resolver is stuck (libuv's one thread kept
 * busy), close answers the waiting and frees once libuv is done (ASan's
 * leak check and uv_loop_close say so). */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "core/admit.h"
#include "core/log.h"
#include "peer.h"
#include "unit.h"

#define VAR "SOCKET_PROXY_ALLOW_FROM"

static uv_loop_t loop;

typedef struct {
    int calls;
    bool yes;
    uint64_t at;       /* uv_now when answered */
    admit_from *close; /* closed from within done, when set */
} answer;

static void on_done(void *data, bool yes)
{
    answer *r = data;
    r->calls++;
    r->yes = yes;
    uv_update_time(&loop);
    r->at = uv_now(&loop);
    if (r->close)
        admit_from_close(r->close);
}

static admit_result check(admit_from *a, const char *peer, answer *r)
{
    struct sockaddr_storage ss;
    if (!make_peer(peer, &ss))
        printf("bad test address %s\n", peer);
    return admit_from_check(a, (struct sockaddr *)&ss, on_done, r);
}

static admit_from *parse(const char *spec)
{
    char err[256];
    admit_from *a = admit_from_parse(VAR, spec, err, sizeof(err));
    CHECK(a != NULL, "parse %s: %s", spec, err);
    return a;
}

/* Start, the first resolution, waiting checks answered yes and no, a
 * cancelled one never answered, and the text afterwards. */
static void test_resolve(void)
{
    admit_from *a = parse("10.0.0.0/8, localhost, no-such-host.invalid");
    answer before = {0}, early = {0}, mapped = {0}, stranger = {0}, cancelled = {0};
    CHECK(check(a, "127.0.0.1", &before) == ADMIT_NO, "not started: a name admits nothing");
    CHECK(check(a, "10.1.2.3", &before) == ADMIT_YES, "not started: the CIDR admits");
    admit_from_start(a, &loop);
    CHECK(check(a, "127.0.0.1", &early) == ADMIT_WAIT, "during the first resolution: wait");
    CHECK(check(a, "::ffff:127.0.0.1", &mapped) == ADMIT_WAIT, "mapped: wait");
    CHECK(check(a, "192.0.2.1", &stranger) == ADMIT_WAIT, "a stranger: wait");
    CHECK(check(a, "192.0.2.2", &cancelled) == ADMIT_WAIT, "another stranger: wait");
    CHECK(check(a, "10.1.2.3", &before) == ADMIT_YES, "the CIDR admits at once");
    admit_from_cancel(a, &cancelled);
    admit_from_cancel(a, &cancelled); /* twice: a no-op */
    CHECK(early.calls + mapped.calls + stranger.calls == 0, "done is never called from within the check");
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(early.calls == 1 && early.yes, "localhost admitted: %d %d", early.calls, early.yes);
    CHECK(mapped.calls == 1 && mapped.yes, "::ffff:127.0.0.1 admitted: %d %d", mapped.calls, mapped.yes);
    CHECK(stranger.calls == 1 && !stranger.yes, "stranger refused: %d %d", stranger.calls, stranger.yes);
    CHECK(cancelled.calls == 0 && before.calls == 0, "cancelled: not called");

    char text[512];
    admit_from_text(a, text, sizeof(text));
    CHECK(strncmp(text, "10.0.0.0/8, localhost (127.0.0.1", 32) == 0, "text: %s", text);
    CHECK(strstr(text, ", no-such-host.invalid (unresolved)") != NULL, "text: %s", text);
    CHECK(check(a, "127.0.0.1", &before) == ADMIT_YES, "resolved: at once");
    CHECK(check(a, "::ffff:127.0.0.1", &before) == ADMIT_YES, "resolved, mapped: at once");

    /* A miss right after a resolution waits for the gap; a second miss
     * meanwhile rides on the same resolutions. */
    answer miss1 = {0}, miss2 = {0};
    uv_update_time(&loop);
    uint64_t t0 = uv_now(&loop);
    CHECK(check(a, "192.0.2.3", &miss1) == ADMIT_WAIT, "miss: wait");
    CHECK(check(a, "2001:db8::3", &miss2) == ADMIT_WAIT, "miss: wait");
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(miss1.calls == 1 && !miss1.yes && miss2.calls == 1 && !miss2.yes, "misses refused");
    CHECK(miss1.at - t0 >= ADMIT_GAP_MS - 100 && miss1.at - t0 < ADMIT_WAIT_MS + 100,
          "answered after the gap: %llu ms", (unsigned long long)(miss1.at - t0));
    CHECK(miss2.at - miss1.at < 50, "together: %llu ms apart", (unsigned long long)(miss2.at - miss1.at));
    admit_from_close(a);
    uv_run(&loop, UV_RUN_DEFAULT);
}

static void occupy(uv_work_t *w) { usleep(2600 * 1000); }
static void occupied(uv_work_t *w, int status) {}

/* The resolver stuck (the thread pool's one thread busy for 2.6 s): a miss
 * is answered no at the 2 s bound, and closing from within done cancels the
 * queued resolution and still frees everything. */
static void test_bound(void)
{
    admit_from *a = parse("localhost");
    admit_from_start(a, &loop);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_work_t work;
    uv_queue_work(&loop, &work, occupy, occupied);
    answer r = {.close = a};
    uv_update_time(&loop);
    uint64_t t0 = uv_now(&loop);
    CHECK(check(a, "192.0.2.4", &r) == ADMIT_WAIT, "stuck: wait");
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(r.calls == 1 && !r.yes, "answered no: %d %d", r.calls, r.yes);
    CHECK(r.at - t0 >= ADMIT_WAIT_MS && r.at - t0 < ADMIT_WAIT_MS + 300, "at the bound: %llu ms",
          (unsigned long long)(r.at - t0));
}

/* Close answers every waiting check with no, at once. */
static void test_close_answers(void)
{
    admit_from *a = parse("localhost, no-such-host.invalid");
    admit_from_start(a, &loop);
    answer r1 = {0}, r2 = {0};
    CHECK(check(a, "192.0.2.5", &r1) == ADMIT_WAIT && check(a, "192.0.2.6", &r2) == ADMIT_WAIT, "wait");
    admit_from_close(a);
    CHECK(r1.calls == 1 && !r1.yes && r2.calls == 1 && !r2.yes, "close answers no: %d %d", r1.calls, r2.calls);
    admit_from_close(NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
}

/* No names: nothing to wait for, and nothing on the loop. */
static void test_no_names(void)
{
    admit_from *a = parse("10.0.0.0/8, ::1");
    answer r = {0};
    admit_from_start(a, &loop);
    CHECK(check(a, "192.0.2.7", &r) == ADMIT_NO, "no names: a miss is no at once");
    CHECK(check(a, "::1", &r) == ADMIT_YES, "::1");
    admit_from_close(a);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(r.calls == 0, "done never called");

    a = parse("localhost");
    admit_from_close(a); /* never started: freed at once */

    char err[256];
    CHECK(admit_from_parse(VAR, "10.0.0.0/33", err, sizeof(err)) == NULL &&
              strcmp(err, VAR ": \"10.0.0.0/33\" is not an address, a CIDR or a host name: use e.g. 172.18.0.0/16, "
                          "10.0.0.5, ::1 or traefik") == 0,
          "parse error: %s", err);
}

/* Names are looked up in /etc/hosts only: a mount namespace of our own
 * (as root, else in a user namespace) with a bind-mounted nsswitch.conf.
 * Returns false when neither is possible: then no lookup may leave /etc/hosts. */
static bool private_resolver(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWNS) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        return false;
    if (uid != 0) { /* map ourselves, so that mount is allowed */
        char m[64];
        FILE *f = fopen("/proc/self/setgroups", "w");
        if (f)
            fputs("deny", f), fclose(f);
        snprintf(m, sizeof(m), "%u %u 1", (unsigned)uid, (unsigned)uid);
        if (!(f = fopen("/proc/self/uid_map", "w")) || fputs(m, f) < 0 || fclose(f) != 0)
            return false;
        snprintf(m, sizeof(m), "%u %u 1", (unsigned)gid, (unsigned)gid);
        if (!(f = fopen("/proc/self/gid_map", "w")) || fputs(m, f) < 0 || fclose(f) != 0)
            return false;
    }
    char path[] = "/tmp/admit-nsswitch-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return false;
    bool ok = write(fd, "hosts: files\n", 13) == 13 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
              mount(path, "/etc/nsswitch.conf", NULL, MS_BIND, NULL) == 0;
    close(fd);
    unlink(path); /* the bind mount keeps it */
    return ok;
}

int main(void)
{
    if (!private_resolver()) {
        /* No namespace here: every name these tests use would be asked of
         * the DNS server, which a unit test must never do. */
        printf("test_admit_loop: skipped: no private mount namespace (needs root or user namespaces)\n");
        return 0;
    }
    /* Before libuv's thread pool starts: one thread, so that test_bound can
     * keep it busy; a resolver that does not answer gives up within 1 s. */
    setenv("UV_THREADPOOL_SIZE", "1", 1);
    setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
    alarm(60);
    log_setup(LOG_DEBUG, false);
    uv_loop_init(&loop);
    test_resolve();
    test_bound();
    test_close_answers();
    test_no_names();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0, "every handle closed");
    return unit_summary("test_admit_loop");
}
