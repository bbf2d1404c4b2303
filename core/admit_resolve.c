/* admit_from: an ALLOW_FROM list on the loop. Its host names are resolved
 * with uv_getaddrinfo (libuv's thread pool) at start, every ADMIT_REFRESH_MS,
 * and when a client's address is in no entry: a container that just started
 * connects before the next refresh would have seen it. The pure part (what
 * a result does to a name, the rate limit's arithmetic) is in admit.c.
 *
 * Resolutions asked for by misses are rate-limited per name: one in flight
 * at a time, the next no sooner than ADMIT_GAP_MS after the last finished.
 * A stranger connecting in a loop thus costs at most one lookup a second per
 * name, and its connections wait (ADMIT_WAIT_MS at the most) rather than
 * being answered at once: the one that came a moment too early for the
 * last resolution is let in by the next. See admit.h. */
#include "admit.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

typedef struct admit_query {
    uv_getaddrinfo_t req;
    admit_from *a;
    unsigned name; /* index into a->set.names */
} admit_query;

/* A check that answered ADMIT_WAIT. */
typedef struct admit_waiter {
    struct admit_waiter *next;
    admit_net addr;
    void (*done)(void *data, bool yes);
    void *data;
    uint64_t deadline; /* uv_now + ADMIT_WAIT_MS: the list is in deadline order */
    bool answer, yes;  /* answered, and how: done is called next */
} admit_waiter;

struct admit_from {
    admit_set set;
    char var[128];
    uv_loop_t *loop;         /* NULL until started */
    uv_timer_t refresh;      /* every ADMIT_REFRESH_MS */
    uv_timer_t soon;         /* the first waiter's deadline or the next wanted name's gap */
    admit_query *queries;    /* one per name */
    admit_waiter *waiters, **tail;
    unsigned pending;        /* resolutions in flight + handles closing */
    bool closing;
};

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res);
static void step(admit_from *a);
static void on_soon(uv_timer_t *t);

admit_from *admit_from_parse(const char *var, const char *spec, char *err, size_t errlen)
{
    admit_from *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, errlen, "%s: out of memory", var);
        return NULL;
    }
    if (admit_set_parse(&a->set, var, spec, err, errlen) < 0) {
        free(a);
        return NULL;
    }
    if (a->set.n_names && !(a->queries = calloc(a->set.n_names, sizeof(*a->queries)))) {
        snprintf(err, errlen, "%s: out of memory", var);
        admit_set_free(&a->set);
        free(a);
        return NULL;
    }
    snprintf(a->var, sizeof(a->var), "%s", var);
    a->tail = &a->waiters;
    return a;
}

size_t admit_from_text(const admit_from *a, char *out, size_t cap) { return admit_set_text(&a->set, out, cap); }

/* ---- resolutions ---- */

/* NXDOMAIN and "no address" are answers about the name; anything else
 * (EAI_AGAIN, EAI_FAIL, EAI_MEMORY, ...) says nothing about it. */
static admit_outcome outcome_of(int status)
{
    if (status == 0)
        return ADMIT_RESOLVED;
    if (status == UV_EAI_NONAME || status == UV_EAI_NODATA || status == UV_EAI_ADDRFAMILY)
        return ADMIT_NO_SUCH;
    return ADMIT_TRANSIENT;
}

/* One line per change of a name's state or addresses, not one per refresh. */
static void log_change(const admit_from *a, const admit_name *n, int status)
{
    char addrs[ADMIT_MAX_ADDRS * 48];
    admit_addrs_text(n, addrs, sizeof(addrs));
    const char *why = status ? uv_strerror(status) : "no IPv4 or IPv6 address";
    if (n->state == ADMIT_NAME_OK)
        log_msg(LOG_INFO, "%s: %s is %s", a->var, n->host, addrs);
    else if (n->state == ADMIT_NAME_KEPT)
        log_msg(LOG_WARNING, "%s: %s could not be resolved (%s): still admitting %s, for at most %ds after its last "
                "resolution", a->var, n->host, why, addrs, ADMIT_KEEP_MS / 1000);
    else
        log_msg(LOG_WARNING, "%s: %s does not resolve (%s): no address is admitted for it until it does", a->var,
                n->host, why);
}

/* Starts resolving name i. A failure to start is a transient failure, and
 * leaves the name neither busy nor wanted: step() answers its waiters. */
static void resolve(admit_from *a, unsigned i)
{
    admit_name *n = &a->set.names[i];
    admit_query *q = &a->queries[i];
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    q->a = a;
    q->name = i;
    q->req.data = q;
    n->wanted = false;
    n->busy = true;
    int rc = uv_getaddrinfo(a->loop, &q->req, on_resolved, n->host, NULL, &hints);
    if (rc == 0) {
        a->pending++;
        return;
    }
    if (admit_name_result(n, ADMIT_TRANSIENT, NULL, 0, uv_now(a->loop)))
        log_change(a, n, rc);
}

/* Starts every wanted name whose gap has passed. */
static void run_wanted(admit_from *a)
{
    uint64_t now = uv_now(a->loop);
    for (unsigned i = 0; i < a->set.n_names; i++)
        if (a->set.names[i].wanted && admit_name_due(&a->set.names[i]) <= now)
            resolve(a, i);
}

/* Every name not already being resolved is to be resolved again. */
static void want_all(admit_from *a)
{
    for (unsigned i = 0; i < a->set.n_names; i++)
        if (!a->set.names[i].busy)
            a->set.names[i].wanted = true;
}

/* No resolution is running or waiting: a waiter's question is answered. */
static bool settled(const admit_from *a)
{
    for (unsigned i = 0; i < a->set.n_names; i++)
        if (a->set.names[i].busy || a->set.names[i].wanted)
            return false;
    return true;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    admit_query *q = req->data;
    admit_from *a = q->a;
    admit_name *n = &a->set.names[q->name];
    a->pending--;
    if (a->closing || status == UV_EAI_CANCELED) {
        n->busy = false;
        uv_freeaddrinfo(res);
        step(a);
        return;
    }
    admit_net addrs[ADMIT_MAX_ADDRS];
    unsigned k = status == 0 ? admit_addrs_from(res, addrs, ADMIT_MAX_ADDRS) : 0;
    uv_freeaddrinfo(res);
    if (admit_name_result(n, outcome_of(status), addrs, k, uv_now(a->loop)))
        log_change(a, n, status);
    step(a);
}

static void on_refresh(uv_timer_t *t)
{
    admit_from *a = t->data;
    want_all(a);
    step(a);
}

void admit_from_start(admit_from *a, uv_loop_t *loop)
{
    a->loop = loop;
    uv_timer_init(loop, &a->refresh);
    uv_timer_init(loop, &a->soon);
    a->refresh.data = a->soon.data = a;
    if (!a->set.n_names)
        return;
    /* Background work: it must not by itself keep the loop running. */
    uv_timer_start(&a->refresh, on_refresh, ADMIT_REFRESH_MS, ADMIT_REFRESH_MS);
    uv_unref((uv_handle_t *)&a->refresh);
    want_all(a);
    run_wanted(a);
}

/* ---- waiting checks ---- */

/* Arms `soon` for what comes next: an answer due now (the names are
 * settled), the first deadline, or the gap of a wanted name. */
static void arm_soon(admit_from *a)
{
    uint64_t now = uv_now(a->loop), at = UINT64_MAX;
    if (a->waiters)
        at = settled(a) ? now : a->waiters->deadline;
    for (unsigned i = 0; i < a->set.n_names; i++)
        if (a->set.names[i].wanted && admit_name_due(&a->set.names[i]) < at)
            at = admit_name_due(&a->set.names[i]);
    if (at == UINT64_MAX)
        uv_timer_stop(&a->soon);
    else
        uv_timer_start(&a->soon, on_soon, at > now ? at - now : 0, 0);
}

/* Takes w out of the list (pp points at the link to it). */
static void unlink_waiter(admit_from *a, admit_waiter **pp)
{
    admit_waiter *w = *pp;
    *pp = w->next;
    if (a->tail == &w->next)
        a->tail = pp;
}

/* Calls done for each answered waiter, one at a time from the head: done
 * may cancel other waiters, check again or close a. */
static void call_answered(admit_from *a)
{
    for (;;) {
        admit_waiter **pp = &a->waiters;
        while (*pp && !(*pp)->answer)
            pp = &(*pp)->next;
        if (!*pp)
            return;
        admit_waiter *w = *pp;
        unlink_waiter(a, pp);
        void (*done)(void *, bool) = w->done;
        void *data = w->data;
        bool yes = w->yes;
        free(w);
        done(data, yes);
    }
}

/* Frees a once closed and nothing of libuv's refers to it. */
static void maybe_free(admit_from *a)
{
    if (!a->closing || a->pending)
        return;
    admit_set_free(&a->set);
    free(a->queries);
    free(a);
}

/* After a resolution or at `soon`: starts what is due, answers whom it can
 * (admitted now, past the deadline, or everything asked is resolved), and
 * arms `soon` for what comes next. */
static void step(admit_from *a)
{
    if (a->closing) {
        maybe_free(a);
        return;
    }
    run_wanted(a);
    uint64_t now = uv_now(a->loop);
    bool all_done = settled(a);
    for (admit_waiter *w = a->waiters; w; w = w->next) {
        w->yes = admit_set_match(&a->set, &w->addr);
        w->answer = w->yes || all_done || w->deadline <= now;
    }
    call_answered(a);
    if (!a->closing)
        arm_soon(a);
}

static void on_soon(uv_timer_t *t) { step(t->data); }

admit_result admit_from_check(admit_from *a, const struct sockaddr *sa, void (*done)(void *data, bool yes), void *data)
{
    admit_net addr;
    if (!admit_addr_of(sa, &addr))
        return ADMIT_NO;
    if (admit_set_match(&a->set, &addr))
        return ADMIT_YES;
    if (!a->set.n_names || !a->loop || a->closing)
        return ADMIT_NO;
    admit_waiter *w = calloc(1, sizeof(*w));
    if (!w)
        return ADMIT_NO;
    w->addr = addr;
    w->done = done;
    w->data = data;
    w->deadline = uv_now(a->loop) + ADMIT_WAIT_MS;
    *a->tail = w;
    a->tail = &w->next;
    want_all(a);
    run_wanted(a);
    arm_soon(a);
    return ADMIT_WAIT;
}

bool admit_from_admits(const admit_from *a, const struct sockaddr *sa)
{
    admit_net addr;
    return admit_addr_of(sa, &addr) && admit_set_match(&a->set, &addr);
}

const char *admit_from_name_of(const admit_from *a, const struct sockaddr *sa)
{
    admit_net addr;
    return admit_addr_of(sa, &addr) ? admit_set_name_of(&a->set, &addr) : NULL;
}

void admit_from_cancel(admit_from *a, void *data)
{
    admit_waiter **pp = &a->waiters;
    while (*pp) {
        if ((*pp)->data == data) {
            admit_waiter *w = *pp;
            unlink_waiter(a, pp);
            free(w);
        } else {
            pp = &(*pp)->next;
        }
    }
}

static void on_closed(uv_handle_t *h)
{
    admit_from *a = h->data;
    a->pending--;
    maybe_free(a);
}

void admit_from_close(admit_from *a)
{
    if (!a || a->closing)
        return;
    a->closing = true;
    for (admit_waiter *w = a->waiters; w; w = w->next)
        w->answer = true, w->yes = false;
    call_answered(a);
    if (a->loop) {
        a->pending += 2;
        uv_close((uv_handle_t *)&a->refresh, on_closed);
        uv_close((uv_handle_t *)&a->soon, on_closed);
        /* Fails harmlessly for a resolution already running: its callback
         * still comes, and is waited for. */
        for (unsigned i = 0; i < a->set.n_names; i++)
            if (a->set.names[i].busy)
                uv_cancel((uv_req_t *)&a->queries[i].req);
    }
    maybe_free(a);
}
