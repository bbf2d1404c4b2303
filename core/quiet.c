/* Quiet logs under faults: see quiet.h. */
#include "quiet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

typedef struct {
    bool active;
    char key[64];
    uint64_t since, window_start; /* loop time, ms */
    uint64_t in_window, total;    /* counted (not logged) in this window, and since the burst began */
} burst;

struct quiet {
    uv_timer_t timer;
    burst b[QUIET_KINDS][QUIET_KEYS]; /* unkeyed kinds use [k][0] */
};

static const struct {
    bool keyed;
    const char *summary; /* %s: the count ("1,234"), then the key for keyed kinds */
} kinds[QUIET_KINDS] = {
    [QUIET_DAEMON] = {false, "daemon unreachable: %s requests answered 502 in the last %d s"},
    [QUIET_LIMIT] = {false, "connection limit: %s connections refused in the last %d s"},
    [QUIET_CLIENT_LIMIT] = {true, "%s connections from %s refused in the last %d s (SOCKET_PROXY_MAX_CLIENT_CONNS)"},
    [QUIET_STRANGER] = {true, "%s connections from %s refused in the last %d s (not admitted)"},
    [QUIET_TLS] = {true, "%s TLS connections from %s refused in the last %d s"},
};

/* 1234567 -> "1,234,567" */
static const char *grouped(uint64_t n, char *out, size_t cap)
{
    char digits[24];
    int len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return out;
}

static void summarize(quiet_kind k, burst *b)
{
    char n[32];
    grouped(b->in_window, n, sizeof(n));
    if (kinds[k].keyed)
        log_msg(LOG_WARNING, kinds[k].summary, n, b->key, QUIET_WINDOW_S);
    else
        log_msg(LOG_WARNING, kinds[k].summary, n, QUIET_WINDOW_S);
    b->in_window = 0;
}

/* Every second: a summary for each burst whose window is over; a burst
 * with nothing in a whole window has ended (the next hit is logged in full). */
static void on_tick(uv_timer_t *t)
{
    quiet *q = t->data;
    uint64_t now = uv_now(t->loop);
    for (int k = 0; k < QUIET_KINDS; k++)
        for (int i = 0; i < QUIET_KEYS; i++) {
            burst *b = &q->b[k][i];
            if (!b->active || now - b->window_start < QUIET_WINDOW_S * 1000u)
                continue;
            if (b->in_window)
                summarize((quiet_kind)k, b);
            else
                b->active = false;
            b->window_start = now;
        }
}

quiet *quiet_new(uv_loop_t *loop)
{
    quiet *q = calloc(1, sizeof(*q));
    if (!q || uv_timer_init(loop, &q->timer) != 0) {
        free(q);
        return NULL;
    }
    q->timer.data = q;
    uv_timer_start(&q->timer, on_tick, 1000, 1000);
    uv_unref((uv_handle_t *)&q->timer);
    return q;
}

static void on_closed(uv_handle_t *h) { free(h->data); }

void quiet_close(quiet *q)
{
    if (!q)
        return;
    for (int k = 0; k < QUIET_KINDS; k++)
        for (int i = 0; i < QUIET_KEYS; i++)
            if (q->b[k][i].active && q->b[k][i].in_window)
                summarize((quiet_kind)k, &q->b[k][i]);
    uv_close((uv_handle_t *)&q->timer, on_closed);
}

/* The slot of (k, key): the active one with that key, else a free one, else
 * the one whose burst began first. *fresh: its burst starts now. */
static burst *slot(quiet *q, quiet_kind k, const char *key, bool *fresh)
{
    burst *row = q->b[k], *oldest = &row[0];
    int n = kinds[k].keyed ? QUIET_KEYS : 1;
    for (int i = 0; i < n; i++)
        if (row[i].active && (!kinds[k].keyed || strcmp(row[i].key, key ? key : "") == 0)) {
            *fresh = false;
            return &row[i];
        }
    *fresh = true;
    for (int i = 0; i < n; i++) {
        if (!row[i].active)
            return &row[i];
        if (row[i].since < oldest->since)
            oldest = &row[i];
    }
    if (oldest->in_window)
        summarize(k, oldest);
    return oldest;
}

bool quiet_hit(quiet *q, quiet_kind kind, const char *key)
{
    if (!q)
        return true;
    bool fresh;
    burst *b = slot(q, kind, key, &fresh);
    if (fresh) {
        uint64_t now = uv_now(q->timer.loop);
        *b = (burst){.active = true, .since = now, .window_start = now, .total = 1};
        snprintf(b->key, sizeof(b->key), "%s", key ? key : "");
        return true;
    }
    b->in_window++;
    b->total++;
    return false;
}

void quiet_over(quiet *q, quiet_kind kind)
{
    if (!q || kinds[kind].keyed || !q->b[kind][0].active)
        return;
    burst *b = &q->b[kind][0];
    char n[32];
    uint64_t secs = (uv_now(q->timer.loop) - b->since) / 1000;
    if (kind == QUIET_DAEMON)
        log_msg(LOG_NOTICE, "daemon reachable again after %llu s (%s requests answered 502 meanwhile)",
                (unsigned long long)secs, grouped(b->total, n, sizeof(n)));
    b->active = false;
}
